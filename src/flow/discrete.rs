//! Fixed-step baselines: classic RK4 on the gradient flow, and gradient descent / Adam on the
//! mean loss (optionally on mini-batches of a once-shuffled copy of the data).

use super::{FlowConfig, Integrator};
use crate::error::{Error, Result};
use crate::monitor::{Monitor, StopReason, inf_norm};
use crate::net::Objective;
use crate::rng::Stream;

/// Runs `method` from `x` at time `t0`; returns the final time and the stop reason.
pub(super) fn run(
    method: Integrator,
    obj: &mut Objective<'_>,
    monitor: &mut Monitor,
    x: &mut [f64],
    t0: f64,
    cfg: &FlowConfig,
) -> Result<(f64, StopReason)> {
    let n = x.len();
    let scale = obj.mean_scale();
    let mut g = vec![0.0; n];
    let eval = |obj: &mut Objective<'_>, monitor: &mut Monitor, x: &[f64], g: &mut [f64]| {
        let l = obj.gradient_into(x, g);
        monitor.record(x, l * scale, inf_norm(g) * scale);
        l * scale
    };
    let mut t = t0;
    match method {
        Integrator::Rk4 => {
            if !(cfg.dt > 0.0 && cfg.dt.is_finite()) {
                return Err(Error::invalid("flow.dt", "must be positive"));
            }
            let h = cfg.dt;
            let tau = cfg.tau;
            let (mut k1, mut k2, mut k3, mut k4) =
                (vec![0.0; n], vec![0.0; n], vec![0.0; n], vec![0.0; n]);
            let mut y = vec![0.0; n];
            loop {
                let l = eval(obj, monitor, x, &mut k1);
                monitor.observe(t, l, inf_norm(&k1) * scale, x);
                for i in 0..n {
                    y[i] = x[i] - 0.5 * h * tau * k1[i];
                }
                eval(obj, monitor, &y, &mut k2);
                for i in 0..n {
                    y[i] = x[i] - 0.5 * h * tau * k2[i];
                }
                eval(obj, monitor, &y, &mut k3);
                for i in 0..n {
                    y[i] = x[i] - h * tau * k3[i];
                }
                eval(obj, monitor, &y, &mut k4);
                for i in 0..n {
                    x[i] -= h * tau * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]) / 6.0;
                }
                t += h;
                monitor.step();
                if !x.iter().all(|v| v.is_finite()) {
                    return Ok((t, StopReason::NoProgress));
                }
                if let Some(stop) = monitor.should_stop(t) {
                    return Ok((t, stop));
                }
            }
        }
        Integrator::Gd | Integrator::Adam => {
            if !(cfg.lr > 0.0 && cfg.lr.is_finite()) {
                return Err(Error::invalid("flow.lr", "must be positive"));
            }
            let total = obj.data().n_samples();
            let batch = cfg.batch_size.unwrap_or(total).clamp(1, total);
            // Mini-batches are windows of a once-shuffled copy of the data.
            let shuffled;
            let mut batch_obj = if batch < total {
                let mut perm: Vec<usize> = (0..total).collect();
                let mut rng = Stream::new(0x5eed, 7);
                for i in (1..total).rev() {
                    perm.swap(i, rng.below(i + 1));
                }
                shuffled = obj.data().select(&perm)?;
                Some(Objective::new(obj.spec(), &shuffled, obj.loss_kind())?)
            } else {
                None
            };
            let (b1, b2, eps) = (0.9, 0.999, 1e-8);
            let (mut m1, mut m2) = (vec![0.0; n], vec![0.0; n]);
            let mut gb = vec![0.0; n];
            let mut offset = 0;
            loop {
                // Full-batch evaluation every epoch (every step without mini-batches).
                if offset == 0 {
                    let l = eval(obj, monitor, x, &mut g);
                    monitor.observe(t, l, inf_norm(&g) * scale, x);
                    if let Some(stop) = monitor.should_stop(t) {
                        return Ok((t, stop));
                    }
                }
                let grad: &[f64] = match batch_obj.as_mut() {
                    Some(bo) => {
                        let end = (offset + batch).min(total);
                        bo.gradient_rows_into(x, &mut gb, offset..end);
                        let s = 1.0 / (end - offset) as f64;
                        gb.iter_mut().for_each(|v| *v *= s);
                        offset = if end == total { 0 } else { end };
                        &gb
                    }
                    None => {
                        g.iter_mut().for_each(|v| *v *= scale);
                        &g
                    }
                };
                monitor.step();
                t += 1.0;
                let k = monitor.counters.iterations as i32;
                for i in 0..n {
                    if method == Integrator::Gd {
                        x[i] -= cfg.lr * grad[i];
                    } else {
                        m1[i] = b1 * m1[i] + (1.0 - b1) * grad[i];
                        m2[i] = b2 * m2[i] + (1.0 - b2) * grad[i] * grad[i];
                        let mh = m1[i] / (1.0 - b1.powi(k));
                        let vh = m2[i] / (1.0 - b2.powi(k));
                        x[i] -= cfg.lr * mh / (vh.sqrt() + eps);
                    }
                }
                if !x.iter().all(|v| v.is_finite()) {
                    return Ok((t, StopReason::NoProgress));
                }
                if let Some(stop) = monitor.should_stop(t) {
                    return Ok((t, stop));
                }
            }
        }
        _ => unreachable!("diffsol methods are integrated elsewhere"),
    }
}
