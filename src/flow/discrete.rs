//! Fixed-step baselines: classic RK4 on the gradient flow, and gradient descent / Adam on the
//! mean loss (optionally on mini-batches of a once-shuffled copy of the data).

use super::{FlowConfig, Integrator};
use crate::error::{Error, Result};
use crate::monitor::{Monitor, StopReason, inf_norm};
use crate::net::Objective;
use crate::rng::Stream;

/// Mean loss and mean gradient (into `g`) at `x`, recorded; returns the mean loss. `g` holds
/// the gradient of the *sum* (the flow's right-hand side up to `τ`).
fn eval(obj: &mut Objective<'_>, monitor: &mut Monitor, x: &[f64], g: &mut [f64]) -> f64 {
    let scale = obj.mean_scale();
    let l = obj.gradient_into(x, g);
    monitor.record(x, l * scale, inf_norm(g) * scale);
    l * scale
}

/// Runs `method` from `x` at time `t0`; returns the final time and the stop reason.
pub(super) fn run(
    method: Integrator,
    obj: &mut Objective<'_>,
    monitor: &mut Monitor,
    x: &mut [f64],
    t0: f64,
    cfg: &FlowConfig,
) -> Result<(f64, StopReason)> {
    match method {
        Integrator::Rk4 => rk4(obj, monitor, x, t0, cfg),
        Integrator::Gd => first_order(Update::Gd, obj, monitor, x, t0, cfg),
        Integrator::Adam => first_order(Update::adam(x.len()), obj, monitor, x, t0, cfg),
        other => Err(Error::invalid(
            "flow.integrator",
            format!("{other} is not a fixed-step method"),
        )),
    }
}

/// Classic RK4 with the fixed step `flow.dt` on `dθ/dt = −τ∇L_sum`.
fn rk4(
    obj: &mut Objective<'_>,
    monitor: &mut Monitor,
    x: &mut [f64],
    t0: f64,
    cfg: &FlowConfig,
) -> Result<(f64, StopReason)> {
    if !(cfg.dt > 0.0 && cfg.dt.is_finite()) {
        return Err(Error::invalid("flow.dt", "must be positive"));
    }
    let n = x.len();
    let scale = obj.mean_scale();
    let (h, tau) = (cfg.dt, cfg.taus(n));
    let (mut k1, mut k2, mut k3, mut k4) = (vec![0.0; n], vec![0.0; n], vec![0.0; n], vec![0.0; n]);
    let mut y = vec![0.0; n];
    let stage = |y: &mut [f64], x: &[f64], c: f64, k: &[f64]| {
        for (((y, x), k), t) in y.iter_mut().zip(x).zip(k).zip(&tau) {
            *y = x - c * h * t * k;
        }
    };
    let mut t = t0;
    loop {
        let l = eval(obj, monitor, x, &mut k1);
        monitor.observe(t, l, inf_norm(&k1) * scale, x);
        stage(&mut y, x, 0.5, &k1);
        eval(obj, monitor, &y, &mut k2);
        stage(&mut y, x, 0.5, &k2);
        eval(obj, monitor, &y, &mut k3);
        stage(&mut y, x, 1.0, &k3);
        eval(obj, monitor, &y, &mut k4);
        for i in 0..n {
            x[i] -= h * tau[i] * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]) / 6.0;
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

/// The update rule of a first-order method.
enum Update {
    /// `θ ← θ − η g`.
    Gd,
    /// Adam ([`crate::optim::adam`]).
    Adam(crate::optim::adam::Adam),
}

impl Update {
    fn adam(n: usize) -> Self {
        Update::Adam(crate::optim::adam::Adam::new(n))
    }

    /// Applies one step with gradient `grad` and per-parameter learning rates `lr` scaled by
    /// `factor` (the plateau schedule's).
    fn apply(&mut self, x: &mut [f64], grad: &[f64], lr: &[f64], factor: f64) {
        match self {
            Update::Gd => {
                for ((x, g), r) in x.iter_mut().zip(grad).zip(lr) {
                    *x -= factor * r * g;
                }
            }
            Update::Adam(a) => a.step(x, grad, |i| factor * lr[i]),
        }
    }
}

/// Epochs between full evaluations of mini-batch runs.
const EVAL_EPOCHS: usize = 10;

/// The plateau schedule: the learning-rate factor halves (`decay`) after `patience` epochs
/// without a new lowest loss.
pub(crate) struct Plateau {
    patience: usize,
    decay: f64,
    best: f64,
    stale: usize,
    /// The current factor of the learning rate.
    pub(crate) factor: f64,
}

impl Plateau {
    pub(crate) fn new(patience: usize, decay: f64) -> Self {
        Plateau {
            patience,
            decay,
            best: f64::INFINITY,
            stale: 0,
            factor: 1.0,
        }
    }

    /// Records the loss after `epochs` more epochs.
    pub(crate) fn epoch(&mut self, loss: f64, epochs: usize) {
        if loss < self.best {
            self.best = loss;
            self.stale = 0;
        } else if self.patience > 0 {
            self.stale += epochs;
            if self.stale >= self.patience {
                self.factor *= self.decay;
                self.stale = 0;
            }
        }
    }
}

/// Gradient descent or Adam on the mean loss, one step per unit of "time", on mini-batches of
/// `flow.batch_size` samples (full batch by default); on mini-batches the full loss and
/// gradient are evaluated (the best point kept, the stop rules and the plateau schedule
/// checked) every 10 epochs, the wall-clock and step budgets after every step.
fn first_order(
    mut update: Update,
    obj: &mut Objective<'_>,
    monitor: &mut Monitor,
    x: &mut [f64],
    t0: f64,
    cfg: &FlowConfig,
) -> Result<(f64, StopReason)> {
    if !(cfg.lr > 0.0 && cfg.lr.is_finite()) {
        return Err(Error::invalid("flow.lr", "must be positive"));
    }
    if !(cfg.lr_decay > 0.0 && cfg.lr_decay <= 1.0) {
        return Err(Error::invalid("flow.lr_decay", "must lie in (0, 1]"));
    }
    let mut schedule = Plateau::new(cfg.lr_patience, cfg.lr_decay);
    let n = x.len();
    let scale = obj.mean_scale();
    let total = obj.data().n_samples();
    let batch = cfg.batch_size.unwrap_or(total).clamp(1, total);
    // The same objective on a copy of the data in a seeded random order, whose windows are
    // the mini-batches (regularisers and frozen parameters too).
    let mut batch_obj = if batch < total {
        Some(obj.on_rows(&Stream::new(0x5eed, 7).permutation(total))?)
    } else {
        None
    };
    let rates: Vec<f64> = match &cfg.tau_params {
        Some(f) => f.iter().map(|f| cfg.lr * f).collect(),
        None => vec![cfg.lr; n],
    };
    let (mut g, mut gb) = (vec![0.0; n], vec![0.0; n]);
    let mut offset = 0;
    let mut t = t0;
    // Mini-batches: the full loss and gradient (the monitor's best point and stop rules, the
    // schedule) every EVAL_EPOCHS epochs, so that they cost a tenth of the training.
    let every = if batch < total { EVAL_EPOCHS } else { 1 };
    let mut epoch = 0usize;
    loop {
        if offset == 0 && epoch % every == 0 {
            let l = eval(obj, monitor, x, &mut g);
            schedule.epoch(l, every);
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
                offset = if end == total {
                    epoch += 1;
                    // The work counters count a pass of mini-batch gradients over the data as
                    // one gradient evaluation (the full evaluations above count on their own).
                    monitor.counters.loss_evals += 1;
                    monitor.counters.gradient_evals += 1;
                    0
                } else {
                    end
                };
                &gb
            }
            None => {
                g.iter_mut().for_each(|v| *v *= scale);
                &g
            }
        };
        monitor.step();
        t += 1.0;
        update.apply(x, grad, &rates, schedule.factor);
        if !x.iter().all(|v| v.is_finite()) {
            return Ok((t, StopReason::NoProgress));
        }
        if let Some(stop) = monitor.should_stop(t) {
            if every > 1 {
                // The steps since the last full evaluation count too.
                eval(obj, monitor, x, &mut g);
            }
            return Ok((t, stop));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Plateau;

    #[test]
    fn the_plateau_schedule_halves_after_patience_epochs_without_progress() {
        let mut p = Plateau::new(20, 0.5);
        p.epoch(1.0, 10);
        p.epoch(1.0, 10);
        assert!((p.factor - 1.0).abs() < 1e-15, "10 stale epochs of 20");
        p.epoch(1.0, 10);
        assert!((p.factor - 0.5).abs() < 1e-15, "20 stale epochs");
        p.epoch(0.5, 10);
        p.epoch(0.6, 10);
        assert!((p.factor - 0.5).abs() < 1e-15, "progress resets the count");
        let mut off = Plateau::new(0, 0.5);
        (0..100).for_each(|_| off.epoch(1.0, 10));
        assert!(
            (off.factor - 1.0).abs() < 1e-15,
            "patience 0: constant rate"
        );
    }
}
