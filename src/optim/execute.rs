//! Running a refiner through argmin's [`Executor`]: the iteration state, the mapping of
//! argmin's termination reasons onto [`StopReason`], and the observer that reports iterations
//! to a [`Watch`].
//!
//! gradflow's stop rules live in the phase's [`Monitor`], which sees every evaluation: a
//! refiner records the first rule that holds and reports it through
//! [`Solver::terminate`](argmin::core::Solver::terminate). The iteration budget and the loss
//! target are also given to argmin's state (`max_iters`, `target_cost`), so argmin's own
//! solvers obey them.

use std::time::Instant;

use argmin::core::observers::{Observe, ObserverMode};
use argmin::core::{Executor, IterState, KV, Solver, State, TerminationReason, TerminationStatus};

use super::problem::MeanLoss;
use crate::error::{Error, Result};
use crate::monitor::{Monitor, StopReason};
use crate::net::Objective;
use crate::observe::{Event, Phase, Watch};

/// The iteration state of gradflow's refiners: parameters and gradients as `Vec<f64>`, no
/// Jacobian or Hessian kept in the state (the solvers hold their own factorisations).
pub type RefineState = IterState<Vec<f64>, Vec<f64>, (), (), (), f64>;

/// The key under which refiners report the gradient norm at the best point in their `KV`.
pub(crate) const GNORM: &str = "gnorm";
/// The `KV` key of the best mean loss so far (the point whose gradient norm [`GNORM`] is).
pub(crate) const BEST_LOSS: &str = "best_loss";

/// One of gradflow's refiners, run as an argmin solver by [`Stepper`].
pub(crate) trait Iterate {
    /// The method's name.
    fn name(&self) -> &'static str;

    /// Prepares for a run from `x` (buffers; some methods evaluate there); returns the cost
    /// at `x` when it was evaluated.
    fn start(
        &mut self,
        obj: &mut Objective<'_>,
        monitor: &mut Monitor,
        x: &[f64],
    ) -> Result<Option<f64>>;

    /// One iteration from `x` (updated in place); the stop rule that holds afterwards, if any.
    fn iterate(
        &mut self,
        obj: &mut Objective<'_>,
        monitor: &mut Monitor,
        x: &mut Vec<f64>,
        iteration: usize,
    ) -> Result<Option<StopReason>>;

    /// The mean loss at `x` after the last iteration.
    fn cost(&self) -> f64;
}

/// An [`Iterate`] as an argmin [`Solver`]: one `next_iter` per iteration, terminated through
/// [`Solver::terminate`] once one of gradflow's stop rules holds (kept typed for the result).
pub(crate) struct Stepper<S> {
    inner: S,
    stop: Option<StopReason>,
}

impl<'a, 'o: 'a, S: Iterate> Solver<MeanLoss<'a, 'o>, RefineState> for Stepper<S> {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn init(
        &mut self,
        problem: &mut argmin::core::Problem<MeanLoss<'a, 'o>>,
        mut state: RefineState,
    ) -> std::result::Result<(RefineState, Option<KV>), argmin::core::Error> {
        let (obj, monitor) = problem_of(problem)?.parts();
        let x = param_of(&mut state)?;
        let cost = self.inner.start(obj, monitor, &x)?;
        let state = state.param(x);
        Ok((cost.map_or(state.clone(), |c| state.cost(c)), None))
    }

    fn next_iter(
        &mut self,
        problem: &mut argmin::core::Problem<MeanLoss<'a, 'o>>,
        mut state: RefineState,
    ) -> std::result::Result<(RefineState, Option<KV>), argmin::core::Error> {
        let (obj, monitor) = problem_of(problem)?.parts();
        let mut x = param_of(&mut state)?;
        self.stop = self
            .inner
            .iterate(obj, monitor, &mut x, state.get_iter() as usize)?;
        let kv = report(monitor.best_loss, monitor.best_gnorm);
        Ok((state.param(x).cost(self.inner.cost()), kv))
    }

    fn terminate(&mut self, _state: &RefineState) -> TerminationStatus {
        termination(self.stop)
    }
}

/// What [`Solver::terminate`] returns for a refiner whose stop rule is `stop`.
fn termination(stop: Option<StopReason>) -> TerminationStatus {
    match stop {
        Some(stop) => TerminationStatus::Terminated(TerminationReason::SolverExit(
            crate::named::Named::name(stop).to_string(),
        )),
        None => TerminationStatus::NotTerminated,
    }
}

/// The `KV` of an iteration: the best mean loss evaluated so far (trial points included) and
/// the gradient ∞-norm at that point, so that a progress line shows one point's two numbers.
fn report(best_loss: f64, gnorm: f64) -> Option<KV> {
    Some(argmin::kv!(BEST_LOSS => best_loss; GNORM => gnorm;))
}

/// The parameters of the state (argmin errors when absent, never a panic).
fn param_of(state: &mut RefineState) -> Result<Vec<f64>, argmin::core::Error> {
    state
        .take_param()
        .ok_or_else(|| argmin::core::Error::msg("the refinement state has no parameters"))
}

/// The problem inside argmin's wrapper.
fn problem_of<'p, 'a, 'o>(
    problem: &'p mut argmin::core::Problem<MeanLoss<'a, 'o>>,
) -> Result<&'p mut MeanLoss<'a, 'o>, argmin::core::Error> {
    problem
        .problem
        .as_mut()
        .ok_or_else(|| argmin::core::Error::msg("the refinement problem is missing"))
}

/// Reports each iteration as an [`Event::Step`] of the refinement phase.
struct WatchObserver {
    watch: Watch,
    start: Instant,
}

impl<I: State<Float = f64>> Observe<I> for WatchObserver {
    fn observe_iter(&mut self, state: &I, kv: &KV) -> Result<(), argmin::core::Error> {
        let get = |key| kv.get(key).and_then(|v| v.get_float());
        let gnorm = get(GNORM).unwrap_or(f64::NAN);
        self.watch.emit(&Event::Step {
            run: self.watch.run(),
            phase: Phase::Refine,
            iteration: state.get_iter() as usize + 1,
            wall: self.start.elapsed().as_secs_f64(),
            loss: get(BEST_LOSS).unwrap_or_else(|| state.get_best_cost()),
            gnorm,
        });
        Ok(())
    }
}

/// Runs `solver` on `problem` from `x0` with argmin's executor; returns the problem (with its
/// monitor) and why the run stopped.
pub(crate) fn execute<'a, 'o: 'a, S: Iterate>(
    problem: MeanLoss<'a, 'o>,
    solver: S,
    x0: &[f64],
    max_iters: usize,
    target: f64,
    watch: &Watch,
) -> Result<(MeanLoss<'a, 'o>, StopReason)> {
    let name = solver.name().to_string();
    let solver = Stepper {
        inner: solver,
        stop: None,
    };
    let observer = WatchObserver {
        watch: watch.clone(),
        start: Instant::now(),
    };
    let mut res = Executor::new(problem, solver)
        .configure(|s| {
            s.param(x0.to_vec())
                .max_iters(max_iters as u64)
                .target_cost(target)
        })
        .add_observer(observer, ObserverMode::Always)
        .run()
        .map_err(|e| match e.downcast::<Error>() {
            Ok(ours) => ours,
            Err(e) => Error::Numerical {
                routine: name.clone(),
                reason: e.to_string(),
            },
        })?;
    let stop = res
        .solver
        .stop
        .unwrap_or_else(|| match res.state.get_termination_reason() {
            Some(TerminationReason::MaxItersReached) => StopReason::MaxIterations,
            Some(TerminationReason::TargetCostReached) => StopReason::MinLoss,
            Some(TerminationReason::Interrupt) => StopReason::Interrupted,
            Some(TerminationReason::Timeout) => StopReason::MaxTime,
            _ => StopReason::NoProgress,
        });
    let problem = res.problem.problem.take().ok_or_else(|| Error::Numerical {
        routine: name,
        reason: "argmin did not return the problem".into(),
    })?;
    Ok((problem, stop))
}
