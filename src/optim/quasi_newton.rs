//! BFGS (dense inverse-Hessian update) and L-BFGS (two-loop recursion) with a backtracking
//! Armijo line search; the curvature update is skipped when `sᵀy ≤ 0`.
//! (Nocedal & Wright, *Numerical Optimization*, Algorithms 6.1 and 7.4.)

use super::{eval_gradient, eval_loss};
use crate::error::Result;
use crate::monitor::{Monitor, StopReason};
use crate::net::Objective;

/// Runs BFGS (`memory = None`) or L-BFGS with the given memory.
pub(super) fn run(
    obj: &mut Objective<'_>,
    monitor: &mut Monitor,
    x0: &[f64],
    memory: Option<usize>,
) -> Result<StopReason> {
    let n = x0.len();
    let mut x = x0.to_vec();
    let mut g = vec![0.0; n];
    let mut g_new = vec![0.0; n];
    let mut dir = vec![0.0; n];
    let mut trial = vec![0.0; n];
    let mut hinv: Vec<f64> = if memory.is_none() {
        (0..n * n)
            .map(|k| if k / n == k % n { 1.0 } else { 0.0 })
            .collect()
    } else {
        Vec::new()
    };
    let mut pairs: std::collections::VecDeque<(Vec<f64>, Vec<f64>, f64)> = Default::default();
    let mut loss = eval_gradient(obj, monitor, &x, &mut g);
    let mut first = true;
    let mut iteration = 0usize;
    loop {
        monitor.observe(iteration as f64 + 1.0, loss, super::inf_norm(&g), &x);
        if let Some(stop) = monitor.should_stop(0.0) {
            return Ok(stop);
        }
        // Direction d = −H⁻¹ g.
        match memory {
            None => {
                for r in 0..n {
                    dir[r] = -(0..n).map(|c| hinv[r * n + c] * g[c]).sum::<f64>();
                }
            }
            Some(_) => {
                let mut q = g.clone();
                let mut alphas = Vec::with_capacity(pairs.len());
                for (s, y, rho) in pairs.iter().rev() {
                    let a = rho * dot(s, &q);
                    axpy(&mut q, -a, y);
                    alphas.push(a);
                }
                let gamma = pairs.back().map_or(1.0, |(s, y, _)| dot(s, y) / dot(y, y));
                q.iter_mut().for_each(|v| *v *= gamma);
                for ((s, y, rho), a) in pairs.iter().zip(alphas.iter().rev()) {
                    let b = rho * dot(y, &q);
                    axpy(&mut q, a - b, s);
                }
                for r in 0..n {
                    dir[r] = -q[r];
                }
            }
        }
        let mut slope = dot(&dir, &g);
        if slope.is_nan() || slope >= 0.0 {
            // Not a descent direction: reset to steepest descent.
            for r in 0..n {
                dir[r] = -g[r];
            }
            slope = -dot(&g, &g);
            pairs.clear();
            if memory.is_none() {
                for (k, h) in hinv.iter_mut().enumerate() {
                    *h = if k / n == k % n { 1.0 } else { 0.0 };
                }
            }
        }
        let mut alpha = if first {
            (1.0 / super::inf_norm(&g).max(1e-300)).min(1.0)
        } else {
            1.0
        };
        first = false;
        let new_loss = loop {
            for r in 0..n {
                trial[r] = x[r] + alpha * dir[r];
            }
            let l = eval_loss(obj, monitor, &trial);
            if l.is_finite() && l <= loss + 1e-4 * alpha * slope && l < loss {
                break l;
            }
            alpha *= 0.5;
            if alpha < 1e-25 {
                return Ok(StopReason::NoProgress);
            }
            if let Some(stop) = monitor.should_stop(0.0) {
                return Ok(stop);
            }
        };
        let _ = new_loss;
        loss = eval_gradient(obj, monitor, &trial, &mut g_new);
        let s: Vec<f64> = (0..n).map(|r| trial[r] - x[r]).collect();
        let y: Vec<f64> = (0..n).map(|r| g_new[r] - g[r]).collect();
        let sy = dot(&s, &y);
        if sy > 1e-300 {
            let rho = 1.0 / sy;
            match memory {
                None => {
                    // H ← (I − ρ s yᵀ) H (I − ρ y sᵀ) + ρ s sᵀ
                    let hy: Vec<f64> = (0..n)
                        .map(|r| (0..n).map(|c| hinv[r * n + c] * y[c]).sum())
                        .collect();
                    let yhy = dot(&y, &hy);
                    for r in 0..n {
                        for c in 0..n {
                            hinv[r * n + c] += -rho * (hy[r] * s[c] + s[r] * hy[c])
                                + (rho * rho * yhy + rho) * s[r] * s[c];
                        }
                    }
                }
                Some(m) => {
                    if pairs.len() == m {
                        pairs.pop_front();
                    }
                    pairs.push_back((s, y, rho));
                }
            }
        }
        x.copy_from_slice(&trial);
        g.copy_from_slice(&g_new);
        iteration += 1;
        monitor.step();
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn axpy(y: &mut [f64], a: f64, x: &[f64]) {
    for (yi, xi) in y.iter_mut().zip(x) {
        *yi += a * xi;
    }
}
