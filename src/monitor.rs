//! Run monitoring shared by both training phases: the best point ever evaluated, work counters,
//! the stop rules of SPEC §4–§5 and a log-spaced trajectory.
//!
//! Every loss/gradient evaluation goes through [`Monitor::record`], so the best point is the
//! lowest loss **ever evaluated** (also inside rejected steps or line searches), not just the
//! last accepted state.

use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::observe::{Event, Phase, Watch};

/// ∞-norm of a vector.
pub fn inf_norm(v: &[f64]) -> f64 {
    v.iter().fold(0.0f64, |m, x| m.max(x.abs()))
}

/// Mean loss and mean gradient (into `g`) at `x`, recorded in `monitor`; returns the mean loss.
pub fn eval_gradient(
    obj: &mut crate::net::Objective<'_>,
    monitor: &mut Monitor,
    x: &[f64],
    g: &mut [f64],
) -> f64 {
    let scale = obj.mean_scale();
    let l = obj.gradient_into(x, g) * scale;
    g.iter_mut().for_each(|v| *v *= scale);
    monitor.record(x, l, inf_norm(g));
    l
}

/// Mean loss at `x`, recorded without gradient.
pub fn eval_loss(obj: &mut crate::net::Objective<'_>, monitor: &mut Monitor, x: &[f64]) -> f64 {
    let l = obj.loss(x) * obj.mean_scale();
    monitor.record(x, l, f64::NAN);
    l
}

/// If the best point was found by a loss-only evaluation, evaluates its gradient so that the
/// phase's record has a gradient norm.
pub fn fill_best_gnorm(obj: &mut crate::net::Objective<'_>, monitor: &mut Monitor) {
    if monitor.best_gnorm.is_nan() && monitor.best_loss.is_finite() {
        let x = monitor.best_x.clone();
        let mut g = vec![0.0; x.len()];
        eval_gradient(obj, monitor, &x, &mut g);
    }
}

/// Why a phase stopped (SPEC §4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// Mean loss ≤ `minloss`.
    MinLoss,
    /// ∞-norm of the mean gradient ≤ `min_gnorm`.
    MinGradNorm,
    /// No improvement of the best loss for `patience` evaluations.
    Patience,
    /// Wall-clock budget exhausted.
    MaxTime,
    /// Iteration (step) budget exhausted.
    MaxIterations,
    /// ODE time beyond `maxT`.
    MaxT,
    /// The method cannot make progress (e.g. repeated solver failures after every fallback, or
    /// a trust region that collapsed).
    NoProgress,
    /// The phase was not run (zero budget).
    Skipped,
    /// The run was cancelled through its [`Cancel`](crate::cancel::Cancel) flag (Ctrl-C on the
    /// command line); its result is the best point evaluated until then.
    Interrupted,
}

crate::named::named_enum!(StopReason, "stop reason", {
    MinLoss => "min_loss", MinGradNorm => "min_grad_norm", Patience => "patience",
    MaxTime => "max_time", MaxIterations => "max_iterations", MaxT => "max_t",
    NoProgress => "no_progress", Skipped => "skipped", Interrupted => "interrupted",
});

/// How a phase ended: the fields every phase result shares (flow, refinement, the record).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct PhaseOutcome {
    /// Why the phase stopped.
    pub stop: StopReason,
    /// Mean loss at the end of the phase (best point).
    #[serde(deserialize_with = "crate::io::non_finite::f64_or_nan")]
    pub loss: f64,
    /// Gradient ∞-norm at that point.
    #[serde(deserialize_with = "crate::io::non_finite::f64_or_nan")]
    pub gnorm: f64,
    /// Work counters.
    pub counters: Counters,
    /// Wall time (s).
    pub wall: f64,
}

/// Budgets and tolerances of one phase.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Limits {
    /// Stop when the mean loss is at or below this.
    pub minloss: f64,
    /// Stop when the ∞-norm of the mean gradient is at or below this.
    pub min_gnorm: f64,
    /// Stop after this many evaluations without improvement of the best loss.
    pub patience: usize,
    /// Wall-clock budget in seconds.
    pub maxtime: f64,
    /// Step budget.
    pub maxiterations: usize,
    /// ODE time limit (gradient flow only).
    pub max_t: f64,
}

/// Work counters of a phase.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    /// Accepted steps / iterations.
    pub iterations: usize,
    /// Loss evaluations (every gradient evaluation includes one).
    pub loss_evals: usize,
    /// Gradient evaluations.
    pub gradient_evals: usize,
    /// Hessian evaluations.
    pub hessian_evals: usize,
}

/// One trajectory point.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrajectoryPoint {
    /// ODE time (gradient flow) or iteration number (refinement).
    #[serde(deserialize_with = "crate::io::non_finite::f64_or_infinity")]
    pub t: f64,
    /// Mean loss at the point.
    #[serde(deserialize_with = "crate::io::non_finite::f64_or_nan")]
    pub loss: f64,
    /// ∞-norm of the mean gradient at the point.
    #[serde(deserialize_with = "crate::io::non_finite::f64_or_nan")]
    pub gnorm: f64,
    /// Wall time since the phase started (s).
    pub wall: f64,
    /// Parameters, when requested.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub x: Option<Vec<f64>>,
    /// Euclidean norm of the parameters at the point (absent in records written before
    /// gradflow kept it); the end-state certificate reads the norm's growth from it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub norm: Option<f64>,
}

/// Resolution of the progress curve in loss: a point every time the best loss falls below a
/// new level `10^(−k/LEVELS_PER_DECADE)`, so a target's time is read to within a fifth of a
/// decade (exactly at whole decades).
pub const LEVELS_PER_DECADE: f64 = 5.0;

/// Resolution of the progress curve in time: a point when the best loss improves and the wall
/// time has grown by this factor, and by at least [`WALL_GAP`], since the last point.
pub const WALL_FACTOR: f64 = 1.25;

/// Least wall time (s) between two points taken by time.
pub const WALL_GAP: f64 = 0.01;

/// One point of a run's progress curve ([`Monitor::progress`]): the best loss so far, when it
/// was reached and the work spent until then. Points are taken by loss level
/// ([`LEVELS_PER_DECADE`]) and by wall time ([`WALL_FACTOR`]), so the curve resolves every
/// target from the first loss down to 1e-30 and below, at tens to a few hundred points per run.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProgressPoint {
    /// The phase.
    pub phase: crate::observe::Phase,
    /// Wall time (s): since the phase started in a phase's curve, since the run started in a
    /// run record's.
    pub wall: f64,
    /// Best mean loss evaluated so far.
    #[serde(deserialize_with = "crate::io::non_finite::f64_or_nan")]
    pub loss: f64,
    /// Loss evaluations so far (every gradient evaluation includes one).
    pub loss_evals: usize,
    /// Gradient evaluations so far.
    pub gradient_evals: usize,
    /// Hessian (or Gauss–Newton) evaluations so far.
    pub hessian_evals: usize,
}

/// The largest loss level `10^(−k/LEVELS_PER_DECADE)` strictly below `loss`.
fn level_below(loss: f64) -> f64 {
    if loss.is_nan() {
        return f64::INFINITY;
    }
    if loss <= 0.0 || loss.is_infinite() {
        return loss.min(0.0);
    }
    let mut k = (loss.log10() * LEVELS_PER_DECADE).floor();
    let mut level = 10f64.powf(k / LEVELS_PER_DECADE);
    while level >= loss {
        k -= 1.0;
        level = 10f64.powf(k / LEVELS_PER_DECADE);
    }
    level
}

/// Tracks one phase (see the module docs).
#[derive(Clone)]
pub struct Monitor {
    watch: Watch,
    phase: Phase,
    limits: Limits,
    start: Instant,
    /// Best parameters evaluated so far.
    pub best_x: Vec<f64>,
    /// Best mean loss evaluated so far.
    pub best_loss: f64,
    /// ∞-norm of the mean gradient at the best point (NaN if never evaluated).
    pub best_gnorm: f64,
    /// Work counters.
    pub counters: Counters,
    since_improvement: usize,
    /// Recorded trajectory.
    pub trajectory: Vec<TrajectoryPoint>,
    /// The progress curve: the best loss by level and by wall time, with the work counters.
    pub progress: Vec<ProgressPoint>,
    next_level: f64,
    next_wall: f64,
    keep_x: bool,
    next_t: f64,
    t_factor: f64,
}

impl Monitor {
    /// Starts monitoring from `x0`, recording about `points` trajectory points log-spaced in
    /// `t` between `t_first` and `t_last`.
    pub fn new(
        limits: Limits,
        x0: &[f64],
        points: usize,
        t_first: f64,
        t_last: f64,
        keep_x: bool,
    ) -> Self {
        let points = points.max(2);
        let span = (t_last.max(t_first * 10.0) / t_first).max(10.0);
        Monitor {
            watch: Watch::silent(),
            phase: Phase::Flow,
            limits,
            start: Instant::now(),
            best_x: x0.to_vec(),
            best_loss: f64::INFINITY,
            best_gnorm: f64::NAN,
            counters: Counters::default(),
            since_improvement: 0,
            trajectory: Vec::new(),
            progress: Vec::new(),
            next_level: f64::INFINITY,
            next_wall: 0.0,
            keep_x,
            next_t: t_first,
            t_factor: span.powf(1.0 / (points - 1) as f64),
        }
    }

    /// Reports every accepted step of `phase` to `watch`'s observer, and stops when its
    /// flag is cancelled.
    pub fn watched(mut self, phase: Phase, watch: &Watch) -> Self {
        self.phase = phase;
        self.watch = watch.clone();
        self
    }

    /// The watch of the run.
    pub fn watch(&self) -> &Watch {
        &self.watch
    }

    /// The limits.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// How the phase ended, with stop reason `stop`: the best point's loss and gradient norm,
    /// the counters and the wall time so far.
    pub fn outcome(&self, stop: StopReason) -> PhaseOutcome {
        PhaseOutcome {
            stop,
            loss: self.best_loss,
            gnorm: self.best_gnorm,
            counters: self.counters,
            wall: self.elapsed(),
        }
    }

    /// Seconds since the phase started.
    pub fn elapsed(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }

    /// Records an evaluation at `x` with mean loss `loss` and gradient ∞-norm `gnorm`
    /// (`NaN` if the gradient was not evaluated). Non-finite losses never become the best.
    pub fn record(&mut self, x: &[f64], loss: f64, gnorm: f64) {
        self.counters.loss_evals += 1;
        if !gnorm.is_nan() {
            self.counters.gradient_evals += 1;
        }
        if loss.is_finite() && loss < self.best_loss {
            self.best_loss = loss;
            self.best_gnorm = gnorm;
            self.best_x.copy_from_slice(x);
            self.since_improvement = 0;
            if loss <= self.next_level {
                self.progress_point();
            } else {
                let wall = self.elapsed();
                if wall >= self.next_wall {
                    self.progress_point_at(wall);
                }
            }
        } else {
            // A gradient evaluated later at the best point itself fills in its norm.
            if self.best_gnorm.is_nan()
                && !gnorm.is_nan()
                && loss.to_bits() == self.best_loss.to_bits()
                && x == self.best_x
            {
                self.best_gnorm = gnorm;
            }
            self.since_improvement += 1;
        }
    }

    fn progress_point(&mut self) {
        let wall = self.elapsed();
        self.progress_point_at(wall);
    }

    fn progress_point_at(&mut self, wall: f64) {
        self.progress.push(ProgressPoint {
            phase: self.phase,
            wall,
            loss: self.best_loss,
            loss_evals: self.counters.loss_evals,
            gradient_evals: self.counters.gradient_evals,
            hessian_evals: self.counters.hessian_evals,
        });
        self.next_level = level_below(self.best_loss);
        self.next_wall = wall * WALL_FACTOR + WALL_GAP;
    }

    /// The progress curve with a last point at the phase's end (its best loss, counters and
    /// wall time), taken out of the monitor.
    pub fn take_progress(&mut self) -> Vec<ProgressPoint> {
        if self.best_loss.is_finite() {
            let wall = self.elapsed();
            self.progress_point_at(wall);
        }
        std::mem::take(&mut self.progress)
    }

    /// Counts a Hessian evaluation.
    pub fn record_hessian(&mut self) {
        self.counters.hessian_evals += 1;
    }

    /// Counts an accepted step (and reports progress).
    pub fn step(&mut self) {
        self.counters.iterations += 1;
        self.watch.emit(&Event::Step {
            run: self.watch.run(),
            phase: self.phase,
            iteration: self.counters.iterations,
            wall: self.elapsed(),
            loss: self.best_loss,
            gnorm: self.best_gnorm,
        });
    }

    /// Adds a trajectory point if `t` passed the next log-spaced mark (always the first one).
    pub fn observe(&mut self, t: f64, loss: f64, gnorm: f64, x: &[f64]) {
        if self.trajectory.is_empty() || (t >= self.next_t && self.next_t.is_finite()) {
            self.trajectory.push(TrajectoryPoint {
                t,
                loss,
                gnorm,
                wall: self.elapsed(),
                x: self.keep_x.then(|| x.to_vec()),
                norm: Some(x.iter().map(|v| v * v).sum::<f64>().sqrt()),
            });
            // Next log-spaced mark above t (t may be huge, or infinite once a flow has converged).
            if t.is_finite() && self.next_t > 0.0 {
                let k = ((t / self.next_t).ln() / self.t_factor.ln())
                    .floor()
                    .max(0.0)
                    + 1.0;
                self.next_t *= self.t_factor.powf(k);
                while self.next_t <= t && self.next_t.is_finite() {
                    self.next_t *= self.t_factor;
                }
            } else {
                self.next_t = f64::INFINITY;
            }
        }
    }

    /// After an accepted step of an adaptive integrator at ODE time `t` with state `x`: counts
    /// the step, adds the trajectory point, and returns the stop rule that holds —
    /// [`StopReason::MaxT`] when the integrator's time axis is exhausted (`time_exhausted`).
    pub fn accept_step(&mut self, t: f64, x: &[f64], time_exhausted: bool) -> Option<StopReason> {
        self.step();
        let (best, gnorm) = (self.best_loss, self.best_gnorm);
        self.observe(t, best, gnorm, x);
        if time_exhausted {
            Some(StopReason::MaxT)
        } else {
            self.should_stop(t)
        }
    }

    /// The first stop rule that holds, checked after an accepted step at ODE time `t`.
    pub fn should_stop(&self, t: f64) -> Option<StopReason> {
        let l = &self.limits;
        if self.watch.is_cancelled() {
            Some(StopReason::Interrupted)
        } else if self.best_loss <= l.minloss {
            Some(StopReason::MinLoss)
        } else if self.best_gnorm <= l.min_gnorm {
            Some(StopReason::MinGradNorm)
        } else if self.since_improvement >= l.patience {
            Some(StopReason::Patience)
        } else if self.elapsed() > l.maxtime {
            Some(StopReason::MaxTime)
        } else if self.counters.iterations >= l.maxiterations {
            Some(StopReason::MaxIterations)
        } else if t > l.max_t || t.is_infinite() {
            Some(StopReason::MaxT)
        } else {
            None
        }
    }
}

impl std::fmt::Debug for Monitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Monitor")
            .field("best_loss", &self.best_loss)
            .field("best_gnorm", &self.best_gnorm)
            .field("counters", &self.counters)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits {
            minloss: 1e-10,
            min_gnorm: 1e-12,
            patience: 3,
            maxtime: 100.0,
            maxiterations: 5,
            max_t: 1e3,
        }
    }

    #[test]
    fn best_point_and_stop_rules() {
        let mut m = Monitor::new(limits(), &[0.0], 10, 1e-2, 1e2, false);
        m.record(&[1.0], 2.0, 0.5);
        m.record(&[2.0], 1.0, 0.4);
        m.record(&[3.0], f64::NAN, 0.1);
        assert_eq!(m.best_x, vec![2.0]);
        assert!(m.should_stop(0.0).is_none());
        m.record(&[4.0], 3.0, 0.3);
        m.record(&[5.0], 3.0, 0.3);
        assert_eq!(m.should_stop(0.0), Some(StopReason::Patience));
        m.record(&[6.0], 1e-11, 0.1);
        assert_eq!(m.should_stop(0.0), Some(StopReason::MinLoss));
        let mut m = Monitor::new(limits(), &[0.0], 10, 1e-2, 1e2, false);
        m.record(&[1.0], 1.0, 1e-13);
        assert_eq!(m.should_stop(0.0), Some(StopReason::MinGradNorm));
        let mut m = Monitor::new(limits(), &[0.0], 10, 1e-2, 1e2, false);
        m.record(&[1.0], 1.0, 1.0);
        assert_eq!(m.should_stop(2e3), Some(StopReason::MaxT));
        (0..5).for_each(|_| m.step());
        assert_eq!(m.should_stop(0.0), Some(StopReason::MaxIterations));
    }

    #[test]
    fn the_progress_curve_has_a_point_at_every_level_the_best_loss_passes() {
        let mut m = Monitor::new(limits(), &[0.0], 10, 1e-2, 1e2, false);
        // Losses 1, 0.9, …: a geometric fall by 10^(−1/10) per evaluation, 30 decades.
        for k in 0..=300 {
            m.record(&[k as f64], 10f64.powf(-(k as f64) / 10.0), 1.0);
        }
        m.record_hessian();
        let p = m.take_progress();
        // The first evaluation, then every other (one level per fifth of a decade), then the end.
        assert_eq!(p.len(), 1 + 150 + 1, "{}", p.len());
        assert!(
            p.windows(2)
                .all(|w| w[1].loss <= w[0].loss && w[1].wall >= w[0].wall)
        );
        for target in [1e-5, 1e-10, 1e-20, 1e-30] {
            // The first point at or below a whole decade is that decade's evaluation.
            let first = p.iter().find(|q| q.loss <= target).unwrap();
            assert!(
                (first.loss / target - 1.0).abs() < 1e-12,
                "{target}: {}",
                first.loss
            );
            assert_eq!(first.gradient_evals, first.loss_evals);
        }
        assert_eq!(p.last().unwrap().hessian_evals, 1);
        assert_eq!(p.last().unwrap().gradient_evals, 301);
        assert!(level_below(1e-5) < 1e-5 && level_below(1e-5) > 6e-6);
        assert!(level_below(0.0) <= 0.0);
    }

    #[test]
    fn huge_and_infinite_times_terminate() {
        let mut m = Monitor::new(limits(), &[0.0], 100, 1e-3, 1e9, false);
        m.observe(1e300, 1.0, 1.0, &[0.0]);
        m.observe(f64::MAX, 1.0, 1.0, &[0.0]);
        m.observe(f64::INFINITY, 1.0, 1.0, &[0.0]);
        m.observe(f64::INFINITY, 1.0, 1.0, &[0.0]);
        assert!(m.trajectory.len() <= 3);
        m.record(&[1.0], 1.0, 1.0);
        assert_eq!(m.should_stop(f64::INFINITY), Some(StopReason::MaxT));
    }

    #[test]
    fn trajectory_is_log_spaced() {
        let mut m = Monitor::new(limits(), &[0.0], 5, 1.0, 1e4, true);
        for k in 0..100_000 {
            let t = k as f64 * 0.1;
            m.observe(t, 1.0, 1.0, &[t]);
        }
        assert!(m.trajectory.len() <= 7, "{}", m.trajectory.len());
        assert!(m.trajectory.windows(2).all(|w| w[1].t > w[0].t));
        assert!(m.trajectory[1].x.is_some());
    }
}
