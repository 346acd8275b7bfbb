//! The phase driver: builds the diffsol problem (or hands over to the Rosenbrock driver),
//! steps the chosen method, applies the stop rules after every accepted step, and restarts
//! from the best point on solver failures.

use diffsol::{
    FaerLU, OdeBuilder, OdeSolverMethod, OdeSolverProblem, Tableau, TableauMat, TableauVec, Vector,
};
use gradflow_solvers::ButcherTableau;

use super::equations::{FlowEquations, M};
use super::{FlowConfig, FlowEvent, FlowResult, Integrator, discrete};
use crate::error::{Error, Result};
use crate::monitor::{Monitor, StopReason, fill_best_gnorm};
use crate::named::Named;
use crate::net::Objective;
use crate::observe::{Event, Phase, Watch};

/// Failures tolerated before the phase gives up with [`StopReason::NoProgress`].
const MAX_FALLBACKS: usize = 10;

/// The KenCarp58 tableau in diffsol's form.
fn kencarp58_tableau() -> Tableau<f64> {
    let t = ButcherTableau::kencarp58();
    let s = t.stages();
    // TableauMat::from_slice takes column-major data.
    let mut a = Vec::with_capacity(s * s);
    for j in 0..s {
        for i in 0..s {
            a.push(t.a[i][j]);
        }
    }
    Tableau::new(
        TableauMat::from_slice(s, s, &a),
        TableauVec::from_slice(&t.b),
        TableauVec::from_slice(&t.c),
        TableauVec::from_slice(&t.error_weights()),
        t.order,
        None,
    )
}

pub(super) fn check(cfg: &FlowConfig) -> Result<()> {
    let pos = |name: &str, v: f64| {
        if v > 0.0 && !v.is_nan() {
            Ok(())
        } else {
            Err(Error::invalid(name, format!("must be positive, got {v}")))
        }
    };
    pos("flow.abstol", cfg.abstol)?;
    pos("flow.reltol", cfg.reltol)?;
    pos("flow.tau", cfg.tau)?;
    if let Some(f) = &cfg.tau_params
        && let Some(v) = f.iter().find(|v| !(v.is_finite() && **v > 0.0))
    {
        return Err(Error::invalid(
            "flow.tau_params",
            format!("every factor must be positive and finite, got {v}"),
        ));
    }
    pos("flow.maxtime_ode", cfg.maxtime_ode)?;
    if cfg.jacobian_refresh == 0 {
        return Err(Error::invalid(
            "flow.jacobian_refresh",
            "must be at least 1",
        ));
    }
    Ok(())
}

/// Steps a diffsol solver until a stop rule holds or the solver fails.
fn drive<'a, 'd: 'a, S: OdeSolverMethod<'a, FlowEquations<'d>>>(
    mut solver: S,
    max_t: f64,
    last_y: &mut Vec<f64>,
) -> std::result::Result<(f64, StopReason), (f64, String)> {
    if max_t.is_finite() {
        solver
            .set_stop_time(max_t)
            .map_err(|e| (solver.state().t, e.to_string()))?;
    }
    loop {
        let reached = match solver.step() {
            Err(e) => return Err((solver.state().t, e.to_string())),
            Ok(reason) => matches!(reason, diffsol::OdeSolverStopReason::TstopReached),
        };
        let (t, y) = {
            let st = solver.state();
            (st.t, st.y)
        };
        last_y.clear();
        last_y.extend((0..y.len()).map(|i| y[i]));
        let eqn = &solver.problem().eqn;
        if let Some(stop) = eqn
            .state
            .borrow_mut()
            .monitor
            .accept_step(t, last_y, reached)
        {
            return Ok((t, stop));
        }
        if !(0..y.len()).all(|i| y[i].is_finite()) {
            return Err((t, "the state became non-finite".into()));
        }
    }
}

/// Integrates the gradient flow of `obj` from `x0` (SPEC §4) and returns the best point ever
/// evaluated with the phase's record.
pub fn run_flow(obj: Objective<'_>, x0: &[f64], cfg: &FlowConfig) -> Result<FlowResult> {
    run_flow_watched(obj, x0, cfg, &Watch::silent())
}

/// [`run_flow`] reporting every accepted step and solver fallback to `watch`, and ending with
/// [`StopReason::Interrupted`] at the best point when its flag is cancelled.
pub fn run_flow_watched(
    obj: Objective<'_>,
    x0: &[f64],
    cfg: &FlowConfig,
    watch: &Watch,
) -> Result<FlowResult> {
    flow_with_failure(obj, x0, cfg, watch, None)
}

/// The flow; `poison`: a testing hook that makes the right-hand side non-finite after this many
/// evaluations of the first integrator (exercises the failure fallback).
fn flow_with_failure(
    obj: Objective<'_>,
    x0: &[f64],
    cfg: &FlowConfig,
    watch: &Watch,
    mut poison: Option<usize>,
) -> Result<FlowResult> {
    check(cfg)?;
    obj.spec().check_params(x0)?;
    let n = x0.len();
    if let Some(f) = &cfg.tau_params
        && f.len() != n
    {
        return Err(Error::Length {
            what: "flow.tau_params".into(),
            expected: n,
            got: f.len(),
        });
    }
    let tau_max = cfg.taus(n).into_iter().fold(0.0, f64::max);
    let first = cfg.integrator.unwrap_or_else(|| Integrator::default_for(n));
    let mut monitor = Monitor::new(
        cfg.limits(),
        x0,
        cfg.trajectory_points,
        1e-3 / tau_max,
        1e9 / tau_max,
        cfg.trajectory_x,
    )
    .watched(Phase::Flow, watch);
    let mut obj = obj;
    let mut x = x0.to_vec();
    let mut t = 0.0;
    let mut method = first;
    let mut events = Vec::new();
    let mut final_x = x0.to_vec();
    // A step budget of 0 skips the phase (a method without a flow, e.g. a refiner alone).
    let skipped = cfg.maxiterations_ode == 0;
    if skipped {
        let mut g = vec![0.0; n];
        crate::monitor::eval_gradient(&mut obj, &mut monitor, x0, &mut g);
    }
    let stop = loop {
        if skipped {
            break StopReason::Skipped;
        }
        if matches!(method, Integrator::Rk4 | Integrator::Gd | Integrator::Adam) {
            let auto_batch;
            let cfg = if cfg.integrator.is_none()
                && method == Integrator::Adam
                && cfg.batch_size.is_none()
            {
                // The first-order path chosen by size: the paper's mini-batches.
                let mut c = cfg.clone();
                c.batch_size = Some(super::FIRST_ORDER_BATCH);
                auto_batch = c;
                &auto_batch
            } else {
                cfg
            };
            let (t_end, stop) = discrete::run(method, &mut obj, &mut monitor, &mut x, t, cfg)?;
            t = t_end;
            final_x.copy_from_slice(&x);
            break stop;
        }
        crate::memory::check_dense(
            method.name(),
            method.dense_matrices(),
            n,
            cfg.max_memory_gib,
            "flow.max_memory_gib",
            "tsit5",
        )?;
        let outcome = if method.is_rosenbrock() {
            super::rosenbrock::segment(
                method,
                &mut obj,
                &mut monitor,
                &x,
                t,
                cfg,
                poison.take(),
                &mut final_x,
            )
        } else {
            let (o, m, outcome) = diffsol_segment(
                method,
                obj,
                monitor,
                &x,
                t,
                cfg,
                poison.take(),
                &mut final_x,
            )?;
            (obj, monitor) = (o, m);
            outcome
        };
        match outcome {
            Ok((t_end, stop)) => {
                t = t_end;
                break stop;
            }
            Err((t_fail, error)) => {
                let next = method.fallback();
                let event = FlowEvent {
                    t: t_fail,
                    failed: method,
                    restarted_with: next,
                    error,
                };
                watch.emit(&Event::Fallback {
                    run: watch.run(),
                    event: &event,
                });
                events.push(event);
                if events.len() >= MAX_FALLBACKS {
                    t = t_fail;
                    break StopReason::NoProgress;
                }
                // Time and budgets carry on; the flow restarts from the best point.
                x.copy_from_slice(&monitor.best_x);
                t = t_fail;
                method = next;
                if let Some(stop) = monitor.should_stop(t) {
                    break stop;
                }
            }
        }
    };
    fill_best_gnorm(&mut obj, &mut monitor);
    Ok(FlowResult {
        integrator: first,
        x: monitor.best_x.clone(),
        final_x,
        outcome: monitor.outcome(stop),
        t,
        trajectory: std::mem::take(&mut monitor.trajectory),
        progress: monitor.take_progress(),
        events,
    })
}

/// How a diffsol segment of the flow ended: at `(t, stop)`, or failed at `t` with the error.
pub(super) type SegmentEnd = std::result::Result<(f64, StopReason), (f64, String)>;

/// Integrates the flow from `x` at time `t` with the diffsol method `method` until a stop rule
/// holds or the solver fails; returns the objective and monitor back with how it ended.
/// `poison`: the testing hook of [`flow_with_failure`].
#[allow(clippy::too_many_arguments)]
fn diffsol_segment<'d>(
    method: Integrator,
    obj: Objective<'d>,
    monitor: Monitor,
    x: &[f64],
    t: f64,
    cfg: &FlowConfig,
    poison: Option<usize>,
    final_x: &mut Vec<f64>,
) -> Result<(Objective<'d>, Monitor, SegmentEnd)> {
    let n = x.len();
    let mut eqn = FlowEquations::new(obj, monitor, x, cfg.taus(n));
    eqn.state.get_mut().poison_after = poison;
    let mut problem: OdeSolverProblem<FlowEquations<'_>> = OdeBuilder::<M>::new()
        .rtol(cfg.reltol)
        .atol(vec![cfg.abstol; n])
        .t0(t)
        .build_from_eqn(eqn)
        .map_err(|e| Error::Numerical {
            routine: "gradient flow setup".into(),
            reason: e.to_string(),
        })?;
    // diffsol caps the *cumulative* number of Newton failures over a solver's life (default
    // 50): a long gradient flow meets that many isolated, harmless failures (each one just
    // shrinks the step), so the cap would abort healthy runs. Our stop rules bound the run.
    problem.ode_options.max_nonlinear_solver_failures = usize::MAX / 2;
    problem.ode_options.update_jacobian_after_steps = cfg.jacobian_refresh;
    problem.ode_options.update_rhs_jacobian_after_steps = cfg.jacobian_refresh;
    let outcome = {
        let setup = |e: diffsol::DiffsolError| (t, e.to_string());
        let max_t = cfg.max_t.unwrap_or(f64::INFINITY);
        let fx = final_x;
        match method {
            Integrator::KenCarp58 => {
                let tab = kencarp58_tableau();
                problem
                    .rk_state(&tab)
                    .and_then(|state| problem.sdirk_solver::<FaerLU<f64>, M>(state, tab))
                    .map_err(setup)
                    .and_then(|s| drive(s, max_t, fx))
            }
            Integrator::TrBdf2 => problem
                .tr_bdf2::<FaerLU<f64>>()
                .map_err(setup)
                .and_then(|s| drive(s, max_t, fx)),
            Integrator::Esdirk34 => problem
                .esdirk34::<FaerLU<f64>>()
                .map_err(setup)
                .and_then(|s| drive(s, max_t, fx)),
            Integrator::Bdf => problem
                .bdf::<FaerLU<f64>>()
                .map_err(setup)
                .and_then(|s| drive(s, max_t, fx)),
            Integrator::Tsit5 => problem
                .tsit45()
                .map_err(setup)
                .and_then(|s| drive(s, max_t, fx)),
            Integrator::Rk4
            | Integrator::Gd
            | Integrator::Adam
            | Integrator::Rodas5P
            | Integrator::Ros34Pw2 => Err((t, format!("{method} is not a diffsol method"))),
        }
    };
    let state = problem.eqn.into_state();
    Ok((state.obj, state.monitor, outcome))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reference::Problem;

    #[test]
    fn an_injected_solver_failure_falls_back_and_is_recorded() {
        let p = Problem::teacher_student(2, 3, 3, 400, 11, 0).unwrap();
        let mut rng = crate::rng::Stream::new(5, 0);
        let t = &p.teacher.as_ref().unwrap().params;
        let x0: Vec<f64> = t.iter().map(|v| v + 0.3 * rng.normal()).collect();
        let cfg = FlowConfig {
            integrator: Some(Integrator::KenCarp58),
            maxiterations_ode: 60,
            maxtime_ode: 30.0,
            ..FlowConfig::default()
        };
        let r = flow_with_failure(p.objective(), &x0, &cfg, &Watch::silent(), Some(30)).unwrap();
        assert!(!r.events.is_empty(), "the failure was not recorded");
        assert_eq!(r.events[0].failed, Integrator::KenCarp58);
        assert_eq!(r.events[0].restarted_with, Integrator::Bdf);
        assert!(r.outcome.loss.is_finite() && r.x.iter().all(|v| v.is_finite()));
        assert_ne!(r.outcome.stop, StopReason::NoProgress);
    }

    #[test]
    fn a_failed_rosenbrock_flow_falls_back_to_kencarp58_from_the_best_point() {
        let p = Problem::teacher_student(2, 3, 3, 400, 11, 0).unwrap();
        let mut rng = crate::rng::Stream::new(5, 0);
        let t = &p.teacher.as_ref().unwrap().params;
        let x0: Vec<f64> = t.iter().map(|v| v + 0.3 * rng.normal()).collect();
        let cfg = FlowConfig {
            integrator: Some(Integrator::Rodas5P),
            maxiterations_ode: 80,
            ..FlowConfig::default()
        };
        let r = flow_with_failure(p.objective(), &x0, &cfg, &Watch::silent(), Some(40)).unwrap();
        assert_eq!(r.events.len(), 1, "{:?}", r.events);
        assert_eq!(r.events[0].failed, Integrator::Rodas5P);
        assert_eq!(r.events[0].restarted_with, Integrator::KenCarp58);
        assert!(r.outcome.loss.is_finite() && r.x.iter().all(|v| v.is_finite()));
        // The fallback runs to the iteration cap, or reaches the gradient target first on
        // machines whose SIMD kernels round differently (seen on a CPU without AVX-512).
        let o = &r.outcome;
        match o.stop {
            StopReason::MaxIterations => {}
            StopReason::MinGradNorm => assert!(
                o.gnorm <= cfg.min_gnorm && o.counters.iterations < cfg.maxiterations_ode,
                "{o:?}"
            ),
            other => panic!("the fallback ended with {other:?}"),
        }
        // Without the failure, the run evaluates one Hessian per step (the first at the start).
        let clean = run_flow(p.objective(), &x0, &cfg).unwrap();
        let c = clean.outcome.counters;
        assert!(
            c.hessian_evals >= c.iterations && c.hessian_evals <= c.iterations + 1,
            "{c:?}"
        );
    }

    #[test]
    fn a_converged_rosenbrock_flow_ends_with_max_t_at_a_finite_time() {
        // At the teacher the gradient vanishes to round-off, the error estimate with it, and
        // the steps grow ×6 each until the ODE time would overflow.
        let p = Problem::teacher_student(2, 3, 3, 400, 11, 0).unwrap();
        let x0 = p.teacher.as_ref().unwrap().params.clone();
        let cfg = FlowConfig {
            integrator: Some(Integrator::Rodas5P),
            // Only the time axis ends this run (the loss at the teacher is exactly 0).
            minloss: -1.0,
            min_gnorm: -1.0,
            maxtime_ode: 30.0,
            ..FlowConfig::default()
        };
        let r = run_flow(p.objective(), &x0, &cfg).unwrap();
        assert_eq!(r.outcome.stop, StopReason::MaxT);
        assert!(r.t.is_finite() && r.t > 1e300, "t = {:e}", r.t);
        assert!(r.trajectory.iter().all(|q| q.t.is_finite()));
        assert!(r.events.is_empty(), "{:?}", r.events);
        // Records written before this rule may hold an infinite time (JSON null): it reads back.
        let q: crate::monitor::TrajectoryPoint =
            serde_json::from_str(r#"{"t":null,"loss":0.5,"gnorm":null,"wall":1.0}"#).unwrap();
        assert!(q.t.is_infinite() && q.gnorm.is_nan());
    }
}
