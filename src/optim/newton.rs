//! Newton's method with a backtracking Armijo line search; where the Hessian is not positive
//! definite the direction is taken with the eigenvalues' absolute values (a saddle-free Newton
//! direction), which is always a descent direction.

use faer::{MatRef, Side};

use super::{eval_loss, inf_norm};
use crate::error::{Error, Result};
use crate::monitor::{Monitor, StopReason};
use crate::net::Objective;

/// Runs until a stop rule holds; returns the reason.
pub(super) fn run(
    obj: &mut Objective<'_>,
    monitor: &mut Monitor,
    x0: &[f64],
) -> Result<StopReason> {
    let n = x0.len();
    let scale = obj.mean_scale();
    let mut x = x0.to_vec();
    let (mut g, mut h) = (vec![0.0; n], vec![0.0; n * n]);
    let mut dir = vec![0.0; n];
    let mut trial = vec![0.0; n];
    let mut iteration = 0usize;
    loop {
        let loss = obj.hessian_into(&x, &mut g, &mut h) * scale;
        g.iter_mut().for_each(|v| *v *= scale);
        h.iter_mut().for_each(|v| *v *= scale);
        monitor.record(&x, loss, inf_norm(&g));
        monitor.record_hessian();
        monitor.observe(iteration as f64 + 1.0, loss, inf_norm(&g), &x);
        if let Some(stop) = monitor.should_stop(0.0) {
            return Ok(stop);
        }
        let eig = MatRef::from_column_major_slice(&h, n, n)
            .self_adjoint_eigen(Side::Lower)
            .map_err(|e| Error::Numerical {
                routine: "Hessian eigendecomposition".into(),
                reason: format!("{e:?}"),
            })?;
        let q = eig.U();
        let lmax = (0..n).map(|i| eig.S()[i].abs()).fold(0.0f64, f64::max);
        let floor = (lmax * 1e-14).max(f64::MIN_POSITIVE);
        // dir = −Q |Λ|⁻¹ Qᵀ g
        dir.fill(0.0);
        for i in 0..n {
            let gi: f64 = (0..n).map(|r| q[(r, i)] * g[r]).sum();
            let c = -gi / eig.S()[i].abs().max(floor);
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
