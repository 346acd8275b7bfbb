//! SLSQP (Kraft 1988; the NLopt variant the paper used for fine-tuning) through the pure-Rust
//! `slsqp` crate, unconstrained. Its own tolerances are all disabled; the monitor's stop rules
//! end the run (see [`Slsqp`]): once one holds, the objective reports NaN, which makes SLSQP return at once
//! (the crate has no time limit of its own), and the best point ever evaluated is kept.

use std::cell::RefCell;

use super::execute::Iterate;
use super::inf_norm;
use crate::error::Result;
use crate::monitor::{Monitor, StopReason};
use crate::net::Objective;

/// The (absent) constraint type of an unconstrained SLSQP call.
type NoConstraint = fn(&[f64], Option<&mut [f64]>, &mut ()) -> f64;

/// Evaluations per SLSQP call; the call is repeated from the best point until a stop rule holds.
const EVALS_PER_CALL: usize = 100_000;

/// SLSQP as an argmin solver: one `next_iter` is one SLSQP call (up to [`EVALS_PER_CALL`]
/// evaluations) from the best point so far; a call that returns by itself without progress
/// means round-off level.
#[derive(Default)]
pub(super) struct Slsqp {
    loss: f64,
}

impl Slsqp {
    fn call(obj: &mut Objective<'_>, monitor: &mut Monitor, start: &[f64]) -> Option<StopReason> {
        let n = start.len();
        let scale = obj.mean_scale();
        let state = RefCell::new((obj, monitor, vec![0.0; n], None::<StopReason>));
        let bounds = vec![(f64::NEG_INFINITY, f64::INFINITY); n];
        let no_constraints: &[NoConstraint] = &[];
        let f = |x: &[f64], grad: Option<&mut [f64]>, _: &mut ()| -> f64 {
            let mut st = state.borrow_mut();
            let (obj, monitor, g, stopped) = &mut *st;
            if stopped.is_some() {
                if let Some(grad) = grad {
                    grad.fill(f64::NAN);
                }
                return f64::NAN;
            }
            let l = obj.gradient_into(x, g) * scale;
            g.iter_mut().for_each(|v| *v *= scale);
            monitor.record(x, l, inf_norm(g));
            if let Some(grad) = grad {
                grad.copy_from_slice(g);
            }
            monitor.step();
            *stopped = monitor.should_stop(0.0);
            l
        };
        let before = state.borrow().1.best_loss;
        let _ = slsqp::minimize(f, start, &bounds, no_constraints, (), EVALS_PER_CALL, None);
        let (_, monitor, _, stopped) = state.into_inner();
        if stopped.is_some() {
            return stopped;
        }
        if let Some(stop) = monitor.should_stop(0.0) {
            return Some(stop);
        }
        // SLSQP returned by itself (converged to its own satisfaction): the next call restarts
        // from the best point if this one made progress, otherwise we are at round-off level.
        if monitor.best_loss.partial_cmp(&before) != Some(std::cmp::Ordering::Less) {
            return Some(StopReason::NoProgress);
        }
        None
    }
}

impl Iterate for Slsqp {
    fn name(&self) -> &'static str {
        "slsqp"
    }

    fn start(&mut self, _: &mut Objective<'_>, _: &mut Monitor, _: &[f64]) -> Result<Option<f64>> {
        Ok(None)
    }

    /// One SLSQP call from `x`; `x` becomes the best point evaluated.
    fn iterate(
        &mut self,
        obj: &mut Objective<'_>,
        monitor: &mut Monitor,
        x: &mut Vec<f64>,
        _iteration: usize,
    ) -> Result<Option<StopReason>> {
        let stop = Self::call(obj, monitor, x);
        x.copy_from_slice(&monitor.best_x);
        self.loss = monitor.best_loss;
        Ok(stop)
    }

    fn cost(&self) -> f64 {
        self.loss
    }
}
