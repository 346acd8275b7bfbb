//! Newton's method with a backtracking Armijo line search; where the Hessian is not positive
//! definite the direction is taken with the eigenvalues' absolute values (a saddle-free Newton
//! direction), which is always a descent direction.

use super::{SecondOrder, eval_loss, second_order_at};
use crate::error::Result;
use crate::monitor::{Monitor, StopReason};
use crate::net::{Curvature, Objective};

/// Runs until a stop rule holds; returns the reason.
pub(super) fn run(
    obj: &mut Objective<'_>,
    monitor: &mut Monitor,
    x0: &[f64],
) -> Result<StopReason> {
    let n = x0.len();
    let mut x = x0.to_vec();
    let (mut g, mut h) = (vec![0.0; n], vec![0.0; n * n]);
    let mut dir = vec![0.0; n];
    let mut trial = vec![0.0; n];
    let mut iteration = 0usize;
    loop {
        let (loss, lambda, q) = match second_order_at(
            obj,
            monitor,
            &x,
            &mut g,
            &mut h,
            iteration,
            Curvature::Exact,
        )? {
            SecondOrder::Stop(stop) => return Ok(stop),
            SecondOrder::At { loss, lambda, q } => (loss, lambda, q),
        };
        let lmax = lambda.iter().fold(0.0f64, |m, l| m.max(l.abs()));
        let floor = (lmax * 1e-14).max(f64::MIN_POSITIVE);
        // dir = −Q |Λ|⁻¹ Qᵀ g
        dir.fill(0.0);
        for i in 0..n {
            let gi: f64 = (0..n).map(|r| q[(r, i)] * g[r]).sum();
            let c = -gi / lambda[i].abs().max(floor);
            for r in 0..n {
                dir[r] += c * q[(r, i)];
            }
        }
        let slope: f64 = dir.iter().zip(&g).map(|(d, gi)| d * gi).sum();
        let mut alpha = 1.0;
        loop {
            for r in 0..n {
                trial[r] = x[r] + alpha * dir[r];
            }
            let new_loss = eval_loss(obj, monitor, &trial);
            if new_loss.is_finite() && new_loss <= loss + 1e-4 * alpha * slope && new_loss < loss {
                x.copy_from_slice(&trial);
                break;
            }
            alpha *= 0.5;
            if alpha < 1e-20 {
                return Ok(StopReason::NoProgress);
            }
            if let Some(stop) = monitor.should_stop(0.0) {
                return Ok(stop);
            }
        }
        iteration += 1;
        monitor.step();
        if let Some(stop) = monitor.should_stop(0.0) {
            return Ok(stop);
        }
    }
}
