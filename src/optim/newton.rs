//! Newton's method with a backtracking Armijo line search; where the Hessian is not positive
//! definite the direction is taken with the eigenvalues' absolute values (a saddle-free Newton
//! direction), which is always a descent direction.

use super::execute::Iterate;
use super::{eigen, eval_loss, model_at, step_to};
use crate::error::Result;
use crate::monitor::{Monitor, StopReason};
use crate::net::{Curvature, Objective};

/// Newton with a line search as an argmin solver (one accepted step per `next_iter`).
#[derive(Default)]
pub(super) struct Newton {
    loss: f64,
    g: Vec<f64>,
    h: Vec<f64>,
    dir: Vec<f64>,
    trial: Vec<f64>,
}

impl Newton {
    /// One step from `x` (updated in place); the stop rule that holds afterwards, if any.
    fn step(
        &mut self,
        obj: &mut Objective<'_>,
        monitor: &mut Monitor,
        x: &mut [f64],
        iteration: usize,
    ) -> Result<Option<StopReason>> {
        let n = x.len();
        let loss = match model_at(
            obj,
            monitor,
            x,
            &mut self.g,
            &mut self.h,
            iteration,
            Curvature::Exact,
        ) {
            Err(stop) => return Ok(Some(stop)),
            Ok(loss) => loss,
        };
        let (lambda, q) = eigen(&self.h, n)?;
        self.loss = loss;
        let lmax = lambda.iter().fold(0.0f64, |m, l| m.max(l.abs()));
        let floor = (lmax * 1e-14).max(f64::MIN_POSITIVE);
        // dir = −Q |Λ|⁻¹ Qᵀ g
        self.dir.fill(0.0);
        for i in 0..n {
            let gi: f64 = (0..n).map(|r| q[(r, i)] * self.g[r]).sum();
            let c = -gi / lambda[i].abs().max(floor);
            for r in 0..n {
                self.dir[r] += c * q[(r, i)];
            }
        }
        let slope: f64 = self.dir.iter().zip(&self.g).map(|(d, gi)| d * gi).sum();
        let mut alpha = 1.0;
        loop {
            step_to(&mut self.trial, x, alpha, &self.dir);
            let new_loss = eval_loss(obj, monitor, &self.trial);
            if new_loss.is_finite() && new_loss <= loss + 1e-4 * alpha * slope && new_loss < loss {
                x.copy_from_slice(&self.trial);
                self.loss = new_loss;
                break;
            }
            alpha *= 0.5;
            if alpha < 1e-20 {
                return Ok(Some(StopReason::NoProgress));
            }
            if let Some(stop) = monitor.should_stop(0.0) {
                return Ok(Some(stop));
            }
        }
        monitor.step();
        Ok(monitor.should_stop(0.0))
    }
}

impl Iterate for Newton {
    fn name(&self) -> &'static str {
        "newton"
    }

    fn start(
        &mut self,
        obj: &mut Objective<'_>,
        _: &mut Monitor,
        _: &[f64],
    ) -> Result<Option<f64>> {
        let n = obj.n_params();
        self.g = vec![0.0; n];
        self.h = vec![0.0; n * n];
        self.dir = vec![0.0; n];
        self.trial = vec![0.0; n];
        Ok(None)
    }

    fn iterate(
        &mut self,
        obj: &mut Objective<'_>,
        monitor: &mut Monitor,
        x: &mut Vec<f64>,
        iteration: usize,
    ) -> Result<Option<StopReason>> {
        self.step(obj, monitor, x, iteration)
    }

    fn cost(&self) -> f64 {
        self.loss
    }
}
