//! Exact-Hessian trust-region Newton (Nocedal & Wright, *Numerical Optimization*, Alg. 4.1),
//! with the subproblem solved exactly on the Hessian's eigendecomposition.

use gradflow_solvers::trust_region;

use super::{SecondOrder, eval_loss, second_order_at};
use crate::error::Result;
use crate::monitor::{Monitor, StopReason};
use crate::net::Objective;

/// Runs until a stop rule holds; returns the reason.
pub(super) fn run(
    obj: &mut Objective<'_>,
    monitor: &mut Monitor,
    x0: &[f64],
) -> Result<StopReason> {
    let n = x0.len();
    let mut x = x0.to_vec();
    let (mut g, mut h) = (vec![0.0; n], vec![0.0; n * n]);
    let mut trial = vec![0.0; n];
    let mut ghat = vec![0.0; n];
    let mut step = vec![0.0; n];
    let mut radius = f64::NAN;
    let mut iteration = 0usize;
    loop {
        let (loss, lambda, q) = match second_order_at(obj, monitor, &x, &mut g, &mut h, iteration)?
        {
            SecondOrder::Stop(stop) => return Ok(stop),
            SecondOrder::At { loss, lambda, q } => (loss, lambda, q),
        };
        for i in 0..n {
            ghat[i] = (0..n).map(|r| q[(r, i)] * g[r]).sum();
        }
        if radius.is_nan() {
            // Start with the Newton step length (or the gradient scale when indefinite).
            let newton: f64 = lambda
                .iter()
                .zip(&ghat)
                .map(|(l, gh)| if *l > 0.0 { (gh / l).powi(2) } else { 0.0 })
                .sum::<f64>()
                .sqrt();
            radius = if newton > 0.0 { newton } else { 1.0 };
        }
        // Inner loop: shrink the region until a step decreases the loss.
        loop {
            let sub = trust_region::solve(&lambda, &ghat, radius);
            for r in 0..n {
                step[r] = (0..n).map(|i| q[(r, i)] * sub.step[i]).sum();
                trial[r] = x[r] + step[r];
            }
            let new_loss = eval_loss(obj, monitor, &trial);
            let actual = loss - new_loss;
            let predicted = sub.predicted_reduction;
            let rho = if predicted > 0.0 {
                actual / predicted
            } else {
                0.0
            };
            let snorm = step.iter().map(|v| v * v).sum::<f64>().sqrt();
            if rho < 0.25 {
                radius = 0.25 * snorm.min(radius);
            } else if rho > 0.75 && sub.on_boundary {
                radius = (2.0 * radius).min(1e10);
            }
            if new_loss < loss && new_loss.is_finite() {
                x.copy_from_slice(&trial);
                break;
            }
            if let Some(stop) = monitor.should_stop(0.0) {
                return Ok(stop);
            }
            if radius.is_nan() || radius <= 1e-300 || snorm <= 0.0 {
                // The model cannot find a decrease: we are at round-off level.
                return Ok(StopReason::NoProgress);
            }
        }
        iteration += 1;
        monitor.step();
        if let Some(stop) = monitor.should_stop(0.0) {
            return Ok(stop);
        }
    }
}
