//! Exact-Hessian trust-region Newton (Nocedal & Wright, *Numerical Optimization*, Alg. 4.1),
//! with the subproblem solved exactly on the Hessian's eigendecomposition. With
//! [`Curvature::GaussNewton`] the model matrix is the Gauss–Newton matrix instead: that is
//! Levenberg–Marquardt in Moré's trust-region form. Both models take geodesic acceleration
//! steps for the MSE with a linear output layer.
//!
//! **Geodesic acceleration** (Transtrum & Sethna, "Improvements to the Levenberg–Marquardt
//! algorithm for nonlinear least-squares minimization", arXiv:1201.5885, 2012): the step `v`
//! is followed to second order along the curved valley of the residuals, `δ = v + ½a` with
//! `(B + μI) a = −2 Jᵀ W r_vv` (`B` the model matrix, `μ` the step's multiplier) and `r_vv`
//! the second directional derivative of the outputs along `v`, from a central difference with
//! step `h = 0.1`. The correction is used only when `2‖a‖ ≤ α‖v‖` (`α = 0.75`, their
//! acceptance rule), otherwise the plain step is tried. It costs two forward passes and one
//! backward pass per trial — a tenth of a Gauss–Newton matrix for the paper's students.
//! Overparameterised students whose loss decreases along a long curved path (neurons drifting
//! towards infinity, or a group of nearly-constant neurons shrinking to zero) take many short
//! steps without it.
//!
//! With the exact Hessian as `B` the formula is the same: the acceleration term comes from the
//! outputs' curvature along the step, and near a zero-loss minimum (where the refiner spends
//! its time) the exact Hessian and the Gauss–Newton matrix agree up to the residuals. The
//! measurements behind both choices are in `experiments/training/newton-tr-notes.md`.
//!
//! **Adaptive model** ([`TrModel::Adaptive`], the default of `newton-tr`; Dennis, Gay & Welsch,
//! "An adaptive nonlinear least-squares algorithm", ACM TOMS 7, 1981 — NL2SOL's rule): after
//! each accepted step the model that predicted its loss reduction better — the exact Hessian or
//! the Gauss–Newton matrix — is used for the next iteration. Both predictions cost nothing
//! extra: they differ by `½ vᵀ(H − B_GN)v = s Σ_i w_i r_i·r_vv,i`, from the residuals and the
//! second difference the acceleration computes anyway. The exact Hessian wins at minima with
//! non-zero loss (where Gauss–Newton converges only linearly); Gauss–Newton wins in the flat
//! curved valleys of overparameterised students near zero loss, where the residual term of the
//! Hessian is indefinite noise.

use gradflow_solvers::trust_region;

use super::execute::Iterate;
use super::{SecondOrder, eval_loss, second_order_at, step_to};
use crate::error::Result;
use crate::monitor::{Monitor, StopReason};
use crate::net::{Curvature, Loss, Objective};
use crate::optim::TrModel;

/// Relative finite-difference step of the second directional derivative.
const ACCEL_H: f64 = 0.1;
/// Largest accepted ratio `2‖a‖/‖v‖`.
const ACCEL_ALPHA: f64 = 0.75;

/// `out = Qᵀ v` (into the eigenbasis).
fn to_eigen(q: &faer::Mat<f64>, v: &[f64], out: &mut [f64]) {
    for (i, o) in out.iter_mut().enumerate() {
        *o = (0..v.len()).map(|r| q[(r, i)] * v[r]).sum();
    }
}

/// `out = Q v̂` (out of the eigenbasis).
fn from_eigen(q: &faer::Mat<f64>, v: &[f64], out: &mut [f64]) {
    for (r, o) in out.iter_mut().enumerate() {
        *o = (0..v.len()).map(|i| q[(r, i)] * v[i]).sum();
    }
}

/// Buffers of the geodesic acceleration (outputs at `x` and `x ± h v`, the second difference,
/// the correction in parameter and eigen coordinates).
struct Acceleration {
    f0: Vec<f64>,
    fp: Vec<f64>,
    fm: Vec<f64>,
    b: Vec<f64>,
    a_eig: Vec<f64>,
    probe: Vec<f64>,
}

impl Acceleration {
    fn new(obj: &Objective<'_>) -> Option<Self> {
        if obj.loss_kind() != Loss::Mse || !obj.has_linear_output() {
            return None;
        }
        let m = obj.data().n_samples() * obj.spec().output_dim();
        let n = obj.n_params();
        Some(Acceleration {
            f0: vec![0.0; m],
            fp: vec![0.0; m],
            fm: vec![0.0; m],
            b: vec![0.0; n],
            a_eig: vec![0.0; n],
            probe: vec![0.0; n],
        })
    }

    /// Computes the correction `a` (eigen coordinates, in `a_eig`) for the step `v = Q v̂` at
    /// `x`; whether it passes the acceptance rule. `f0` must hold the outputs at `x`.
    #[allow(clippy::too_many_arguments)]
    fn correction(
        &mut self,
        obj: &mut Objective<'_>,
        monitor: &mut Monitor,
        x: &[f64],
        step: &[f64],
        v_eig: &[f64],
        lambda: &[f64],
        q: &faer::Mat<f64>,
        mu: f64,
    ) -> bool {
        let n = x.len();
        let mut outputs_at = |sign: f64, f: &mut [f64]| {
            for i in 0..n {
                self.probe[i] = x[i] + sign * ACCEL_H * step[i];
            }
            obj.predict_into(&self.probe, f);
        };
        outputs_at(1.0, &mut self.fp);
        outputs_at(-1.0, &mut self.fm);
        monitor.counters.loss_evals += 2;
        let h2 = ACCEL_H * ACCEL_H;
        for ((p, m), f) in self.fp.iter_mut().zip(&self.fm).zip(&self.f0) {
            *p = (*p - 2.0 * f + m) / h2;
        }
        obj.output_vjp_into(x, &self.fp, &mut self.b);
        monitor.counters.gradient_evals += 1;
        to_eigen(q, &self.b, &mut self.a_eig);
        let scale = 2.0 * obj.mean_scale();
        for (a, l) in self.a_eig.iter_mut().zip(lambda) {
            let d = l + mu;
            *a = if d > 0.0 { -*a * scale / d } else { 0.0 };
        }
        let anorm = self.a_eig.iter().map(|a| a * a).sum::<f64>();
        let vnorm = v_eig.iter().map(|v| v * v).sum::<f64>();
        anorm.is_finite() && 2.0 * anorm.sqrt() <= ACCEL_ALPHA * vnorm.sqrt()
    }

    /// `vᵀ(H − B_GN)v` of the mean loss along the step of the last [`Self::correction`]:
    /// `2s Σ_i w_i Σ_o r_io (r_vv)_io` (`fp` holds `r_vv`, `f0` the outputs at `x`).
    fn residual_curvature(&self, obj: &Objective<'_>) -> f64 {
        let y = obj.data().y();
        let k = y.ncols();
        let weights = obj.data().weights();
        let mut total = 0.0;
        for (i, (f, rvv)) in self.f0.chunks(k).zip(self.fp.chunks(k)).enumerate() {
            let r: f64 = (0..k).map(|o| (f[o] - y[(i, o)]) * rvv[o]).sum();
            total += weights.map_or(1.0, |w| w[i]) * r;
        }
        2.0 * obj.mean_scale() * total
    }
}

/// The trust-region refiner as an argmin solver (one outer iteration per `next_iter`).
/// `model`: the model matrix — [`TrModel::Adaptive`] switches between the exact Hessian and
/// Gauss–Newton where geodesic acceleration applies, and uses the exact Hessian elsewhere.
pub(super) struct NewtonTr {
    model: TrModel,
    kind: Curvature,
    adaptive: bool,
    accel: Option<Acceleration>,
    radius: f64,
    loss: f64,
    g: Vec<f64>,
    h: Vec<f64>,
    trial: Vec<f64>,
    ghat: Vec<f64>,
    step: Vec<f64>,
    accelerated: Vec<f64>,
}

impl NewtonTr {
    pub(super) fn new(model: TrModel) -> Self {
        NewtonTr {
            model,
            kind: match model {
                TrModel::GaussNewton => Curvature::GaussNewton,
                TrModel::Exact | TrModel::Adaptive => Curvature::Exact,
            },
            adaptive: false,
            accel: None,
            radius: f64::NAN,
            loss: f64::NAN,
            g: Vec::new(),
            h: Vec::new(),
            trial: Vec::new(),
            ghat: Vec::new(),
            step: Vec::new(),
            accelerated: Vec::new(),
        }
    }

    /// One outer iteration from `x` (updated in place on acceptance): the model at `x`, then
    /// trial steps in a shrinking region until one decreases the loss. Returns the stop rule
    /// that holds afterwards, if any.
    fn outer(
        &mut self,
        obj: &mut Objective<'_>,
        monitor: &mut Monitor,
        x: &mut [f64],
        iteration: usize,
    ) -> Result<Option<StopReason>> {
        let (loss, lambda, q) = match second_order_at(
            obj,
            monitor,
            x,
            &mut self.g,
            &mut self.h,
            iteration,
            self.kind,
        )? {
            SecondOrder::Stop(stop) => return Ok(Some(stop)),
            SecondOrder::At { loss, lambda, q } => (loss, lambda, q),
        };
        self.loss = loss;
        to_eigen(&q, &self.g, &mut self.ghat);
        if let Some(acc) = self.accel.as_mut() {
            obj.predict_into(x, &mut acc.f0);
            monitor.counters.loss_evals += 1;
        }
        if self.radius.is_nan() {
            // Start with the Newton step length (or the gradient scale when indefinite).
            let newton: f64 = lambda
                .iter()
                .zip(&self.ghat)
                .map(|(l, gh)| if *l > 0.0 { (gh / l).powi(2) } else { 0.0 })
                .sum::<f64>()
                .sqrt();
            self.radius = if newton > 0.0 { newton } else { 1.0 };
        }
        // Shrink the region until a step decreases the loss.
        loop {
            let sub = trust_region::solve(&lambda, &self.ghat, self.radius);
            from_eigen(&q, &sub.step, &mut self.step);
            if let Some(acc) = self.accel.as_mut()
                && acc.correction(obj, monitor, x, &self.step, &sub.step, &lambda, &q, sub.mu)
            {
                // δ = Q (v̂ + ½ â).
                for ((w, v), a) in self.accelerated.iter_mut().zip(&sub.step).zip(&acc.a_eig) {
                    *w = v + 0.5 * a;
                }
                from_eigen(&q, &self.accelerated, &mut self.step);
            }
            step_to(&mut self.trial, x, 1.0, &self.step);
            let new_loss = eval_loss(obj, monitor, &self.trial);
            let actual = loss - new_loss;
            let predicted = sub.predicted_reduction;
            let rho = if predicted > 0.0 {
                actual / predicted
            } else {
                0.0
            };
            let snorm = sub.step.iter().map(|v| v * v).sum::<f64>().sqrt();
            if rho < 0.25 {
                self.radius = 0.25 * snorm.min(self.radius);
            } else if rho > 0.75 && sub.on_boundary {
                self.radius = (2.0 * self.radius).min(1e10);
            }
            if new_loss < loss && new_loss.is_finite() {
                if self.adaptive
                    && let Some(acc) = self.accel.as_ref()
                {
                    // The other model's predicted reduction differs by ½ vᵀ(H − B_GN)v (from
                    // this step's second difference). Both predictions are for the plain step
                    // `v`, judged against the same actual reduction.
                    let d = acc.residual_curvature(obj);
                    let (other, other_kind) = match self.kind {
                        Curvature::Exact => (predicted + 0.5 * d, Curvature::GaussNewton),
                        Curvature::GaussNewton => (predicted - 0.5 * d, Curvature::Exact),
                    };
                    if (actual - other).abs() < (actual - predicted).abs() {
                        self.kind = other_kind;
                    }
                }
                x.copy_from_slice(&self.trial);
                self.loss = new_loss;
                break;
            }
            if let Some(stop) = monitor.should_stop(0.0) {
                return Ok(Some(stop));
            }
            if self.radius.is_nan() || self.radius <= 1e-300 || snorm <= 0.0 {
                // The model cannot find a decrease: we are at round-off level.
                return Ok(Some(StopReason::NoProgress));
            }
        }
        monitor.step();
        Ok(monitor.should_stop(0.0))
    }
}

impl Iterate for NewtonTr {
    fn name(&self) -> &'static str {
        match self.model {
            TrModel::GaussNewton => "lm",
            TrModel::Exact | TrModel::Adaptive => "newton-tr",
        }
    }

    fn start(
        &mut self,
        obj: &mut Objective<'_>,
        _: &mut Monitor,
        _: &[f64],
    ) -> Result<Option<f64>> {
        let n = obj.n_params();
        self.accel = Acceleration::new(obj);
        self.adaptive = self.model == TrModel::Adaptive && self.accel.is_some();
        self.g = vec![0.0; n];
        self.h = vec![0.0; n * n];
        self.trial = vec![0.0; n];
        self.ghat = vec![0.0; n];
        self.step = vec![0.0; n];
        self.accelerated = vec![0.0; n];
        Ok(None)
    }

    fn iterate(
        &mut self,
        obj: &mut Objective<'_>,
        monitor: &mut Monitor,
        x: &mut Vec<f64>,
        iteration: usize,
    ) -> Result<Option<StopReason>> {
        self.outer(obj, monitor, x, iteration)
    }

    fn cost(&self) -> f64 {
        self.loss
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::{Activation, Dataset, LayerSpec, NetSpec};

    /// With linear activations the outputs are quadratic in the parameters, so the central
    /// differences are exact; the correction must then solve the damped normal equations
    /// `2s·JᵀW(J a + r_vv) + μ a = 0` (`s` = 1/N), checked with independent directional
    /// derivatives and vector–Jacobian products.
    #[test]
    fn geodesic_correction_solves_the_damped_normal_equations() {
        let spec = NetSpec::new(
            2,
            vec![
                LayerSpec::new(3, Activation::Identity),
                LayerSpec::new(1, Activation::Identity),
            ],
        )
        .unwrap();
        let mut rng = crate::rng::Stream::new(3, 0);
        let n_samples = 6;
        let xs: Vec<f64> = (0..2 * n_samples).map(|_| rng.normal()).collect();
        let ys: Vec<f64> = (0..n_samples).map(|_| rng.normal()).collect();
        let data = Dataset::from_row_major(&xs, 2, &ys, 1).unwrap();
        let mut obj = Objective::new(&spec, &data, Loss::Mse).unwrap();
        let p = spec.n_params();
        let x: Vec<f64> = (0..p).map(|_| rng.normal()).collect();
        let v: Vec<f64> = (0..p).map(|_| 1e-2 * rng.normal()).collect();
        let (mut g, mut h) = (vec![0.0; p], vec![0.0; p * p]);
        obj.gauss_newton_into(&x, &mut g, &mut h);
        let s = obj.mean_scale();
        h.iter_mut().for_each(|v| *v *= s);
        let eig = faer::MatRef::from_column_major_slice(&h, p, p)
            .self_adjoint_eigen(faer::Side::Lower)
            .unwrap();
        let lambda: Vec<f64> = (0..p).map(|i| eig.S()[i]).collect();
        let q = eig.U().to_owned();
        let v_eig: Vec<f64> = (0..p)
            .map(|i| (0..p).map(|r| q[(r, i)] * v[r]).sum())
            .collect();
        let mu = 1e-3;
        let mut monitor = Monitor::new(
            crate::optim::RefineConfig::default().limits(),
            &x,
            10,
            1.0,
            1e6,
            false,
        );
        let mut acc = Acceleration::new(&obj).expect("MSE with a linear output");
        obj.predict_into(&x, &mut acc.f0);
        assert!(
            acc.correction(&mut obj, &mut monitor, &x, &v, &v_eig, &lambda, &q, mu),
            "small steps pass the acceptance rule"
        );
        let a_eig = acc.a_eig.clone();
        let a: Vec<f64> = (0..p)
            .map(|r| (0..p).map(|i| q[(r, i)] * a_eig[i]).sum())
            .collect();
        // r_vv = f(x+v) + f(x−v) − 2f(x) and J a = (f(x+a) − f(x−a))/2, exact for quadratics.
        let at = |obj: &mut Objective<'_>, d: &[f64], c: f64| {
            let y: Vec<f64> = x.iter().zip(d).map(|(x, d)| x + c * d).collect();
            obj.predict(&y)
        };
        let f0 = obj.predict(&x);
        let (fvp, fvm) = (at(&mut obj, &v, 1.0), at(&mut obj, &v, -1.0));
        let (fap, fam) = (at(&mut obj, &a, 1.0), at(&mut obj, &a, -1.0));
        let u: Vec<f64> = (0..n_samples)
            .map(|i| 0.5 * (fap[i] - fam[i]) + (fvp[i] + fvm[i] - 2.0 * f0[i]))
            .collect();
        let mut jtu = vec![0.0; p];
        obj.output_vjp_into(&x, &u, &mut jtu);
        let scale: f64 = a.iter().fold(0.0f64, |m, v| m.max(v.abs())) * (mu + lambda[p - 1]);
        for r in 0..p {
            let res = 2.0 * s * jtu[r] + mu * a[r];
            assert!(res.abs() <= 1e-9 * scale, "residual {res} (scale {scale})");
        }
        assert!(a.iter().any(|v| v.abs() > 0.0));

        // The adaptive model's two predictions differ by ½ vᵀ(H − B_GN)v: check the cheap
        // formula against the two matrices (exact here, the outputs being quadratic).
        let mut hess = vec![0.0; p * p];
        obj.hessian_into(&x, &mut g, &mut hess);
        let mut gn = vec![0.0; p * p];
        obj.gauss_newton_into(&x, &mut g, &mut gn);
        let quad: f64 = (0..p)
            .flat_map(|r| (0..p).map(move |c| (r, c)))
            .map(|(r, c)| v[r] * (hess[r * p + c] - gn[r * p + c]) * v[c])
            .sum::<f64>()
            * s;
        let cheap = acc.residual_curvature(&obj);
        assert!(
            quad.abs() > 1e-8,
            "the residual term must matter here: {quad}"
        );
        assert!(
            (cheap - quad).abs() <= 1e-9 * quad.abs(),
            "vᵀ(H − B_GN)v: {cheap} from residuals, {quad} from the matrices"
        );
    }
}
