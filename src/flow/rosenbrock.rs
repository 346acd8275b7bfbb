//! The gradient flow on gradflow-solvers' Rosenbrock driver ([`gradflow_solvers::rosenbrock`]):
//! the exact Hessian is the Jacobian, evaluated with the gradient in one pass at the start of
//! each step, then one gradient per further stage. Every evaluation is recorded in the phase's
//! [`Monitor`] (best point ever evaluated); stop rules apply after every accepted step, as for
//! the diffsol methods.

use gradflow_solvers::RosenbrockTableau;
use gradflow_solvers::rosenbrock::{
    JacobianStructure, Rosenbrock, RosenbrockOptions, RosenbrockSystem,
};

use super::integrate::SegmentEnd;
use super::{FlowConfig, Integrator};
use crate::monitor::{Monitor, inf_norm};
use crate::net::Objective;

/// `dθ/dt = −τ∇L_sum(θ)` with Jacobian `−τH_sum(θ)` (`τ` diagonal: one time scale per
/// parameter), recording every evaluation.
struct GradientFlow<'o, 'd, 's> {
    obj: &'o mut Objective<'d>,
    monitor: &'o mut Monitor,
    /// The time scale of each parameter.
    tau: Vec<f64>,
    scale: f64,
    /// Testing hook: after this many right-hand sides, return NaN.
    poison_after: Option<usize>,
    evals: usize,
    /// The Jacobian's objective on a subset of the samples and the factor that scales its sum
    /// to the full data's (`FlowConfig::jacobian_samples`), with a gradient buffer.
    jacobian: Option<(&'o mut Objective<'s>, f64, Vec<f64>)>,
}

impl GradientFlow<'_, '_, '_> {
    /// Whether the run was cancelled: the equations then freeze (zero right-hand side and
    /// Jacobian), the step in progress completes at once and the stop rule ends the run.
    fn frozen(&self, f: &mut [f64], jac: Option<&mut [f64]>) -> bool {
        if !self.monitor.watch().is_cancelled() {
            return false;
        }
        f.fill(0.0);
        if let Some(j) = jac {
            j.fill(0.0);
        }
        true
    }

    fn finish(&mut self, y: &[f64], loss: f64, f: &mut [f64]) {
        self.evals += 1;
        if self.poison_after.is_some_and(|k| self.evals > k) {
            f.fill(f64::NAN);
            return;
        }
        let gnorm = inf_norm(f) * self.scale;
        self.monitor.record(y, loss * self.scale, gnorm);
        f.iter_mut().zip(&self.tau).for_each(|(v, t)| *v *= -t);
    }
}

impl RosenbrockSystem for GradientFlow<'_, '_, '_> {
    fn rhs(&mut self, y: &[f64], f: &mut [f64]) {
        if self.frozen(f, None) {
            return;
        }
        let loss = self.obj.gradient_into(y, f);
        self.finish(y, loss, f);
    }

    fn rhs_jacobian(&mut self, y: &[f64], f: &mut [f64], jac: &mut [f64]) {
        if self.frozen(f, Some(jac)) {
            return;
        }
        // The subset's Hessian is scaled to the full sum in the same pass as the time scales.
        let (loss, factor) = match self.jacobian.as_mut() {
            Some((sub, factor, g)) => {
                let loss = self.obj.gradient_into(y, f);
                sub.hessian_into(y, g, jac);
                (loss, *factor)
            }
            None => (self.obj.hessian_into(y, f, jac), 1.0),
        };
        self.monitor.record_hessian();
        let n = self.tau.len();
        for (row, t) in jac.chunks_exact_mut(n).zip(&self.tau) {
            let s = -t * factor;
            row.iter_mut().for_each(|v| *v *= s);
        }
        self.finish(y, loss, f);
    }

    /// `−τH` is symmetric when every parameter has the same time scale (the default), and
    /// `diag(τ)` times a symmetric matrix otherwise (`tau_params`): either way `W` is factored
    /// by Cholesky while it (or its symmetric similar) is positive definite.
    fn jacobian_structure(&self) -> JacobianStructure {
        if self
            .tau
            .windows(2)
            .all(|w| w[0].to_bits() == w[1].to_bits())
        {
            JacobianStructure::Symmetric
        } else {
            JacobianStructure::ScaledSymmetric(self.tau.clone())
        }
    }
}

/// The tableau of a Rosenbrock integrator.
fn tableau(method: Integrator) -> Option<RosenbrockTableau> {
    match method {
        Integrator::Rodas5P => Some(RosenbrockTableau::rodas5p()),
        Integrator::Ros34Pw2 => Some(RosenbrockTableau::ros34pw2()),
        _ => None,
    }
}

/// The objective on `k` evenly spaced samples and the factor from its sum to the full one
/// (`None` when there are no more than `k` samples, no samples at all, or the chosen rows
/// weigh nothing).
fn subsample(
    obj: &Objective<'_>,
    k: usize,
) -> crate::error::Result<Option<(Objective<'static>, f64)>> {
    let n = obj.data().n_samples();
    if obj.as_population().is_some() || k >= n {
        return Ok(None);
    }
    // Row ⌊i·n/k⌋ for i < k: k distinct rows spread over the whole data (sorted data too).
    let rows: Vec<usize> = (0..k).map(|i| i * n / k).collect();
    // Weighted data whose chosen rows all weigh nothing: the exact Hessian instead.
    if let Some(w) = obj.data().weights()
        && rows.iter().map(|&i| w[i]).sum::<f64>() <= 0.0
    {
        return Ok(None);
    }
    let sub = obj.on_rows(&rows)?;
    let factor = obj.data().effective_size() / sub.data().effective_size();
    Ok(Some((sub, factor)))
}

/// Integrates the flow from `x` at time `t` with a Rosenbrock method until a stop rule holds
/// or the solver fails (`Err((t, message))`); the state at the end goes to `final_x`.
#[allow(clippy::too_many_arguments)]
pub(super) fn segment(
    method: Integrator,
    obj: &mut Objective<'_>,
    monitor: &mut Monitor,
    x: &[f64],
    t: f64,
    cfg: &FlowConfig,
    poison: Option<usize>,
    final_x: &mut Vec<f64>,
) -> SegmentEnd {
    let Some(tab) = tableau(method) else {
        return Err((t, format!("{method} is not a Rosenbrock method")));
    };
    let scale = obj.mean_scale();
    let mut sub = match cfg.jacobian_samples_for(x.len()) {
        k if k > 0 && method == Integrator::Ros34Pw2 => {
            subsample(obj, k).map_err(|e| (t, format!("flow.jacobian_samples: {e}")))?
        }
        _ => None,
    };
    let mut sys = GradientFlow {
        jacobian: sub.as_mut().map(|(o, f)| (o, *f, vec![0.0; x.len()])),
        obj,
        monitor,
        tau: cfg.taus(x.len()),
        scale,
        poison_after: poison,
        evals: 0,
    };
    let mut opts = RosenbrockOptions::default();
    opts.rtol = cfg.reltol;
    opts.atol = cfg.abstol;
    opts.jacobian_refresh = cfg.jacobian_refresh;
    let mut solver = Rosenbrock::new(tab, &mut sys, x, t, opts).map_err(|e| (t, e.to_string()))?;
    let max_t = cfg.max_t.unwrap_or(f64::INFINITY);
    if max_t.is_finite() {
        solver.set_stop_time(max_t);
    }
    loop {
        let t_now = solver
            .step(&mut sys)
            .map_err(|e| (solver.t(), e.to_string()))?;
        let y = solver.y();
        final_x.clear();
        final_x.extend_from_slice(y);
        // A converged flow's steps grow without bound: once the next step would overflow
        // the ODE time, the time axis is exhausted (as for diffsol's methods, whose time then
        // becomes infinite), and t stays finite in the records.
        let exhausted = t_now >= max_t || !(t_now + solver.h()).is_finite();
        if let Some(stop) = sys.monitor.accept_step(t_now, y, exhausted) {
            return Ok((t_now, stop));
        }
    }
}
