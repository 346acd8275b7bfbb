//! Exact-Hessian trust-region Newton (Nocedal & Wright, *Numerical Optimization*, Alg. 4.1),
//! with the subproblem solved exactly on the Hessian's eigendecomposition, or — for large `P`,
//! see [`TrSubproblem`] — by Cholesky factorisations of `B + μI` (Moré & Sorensen 1983). With
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
use gradflow_solvers::trust_region_cholesky::{CholeskyTrustRegion, Outcome};

use super::execute::Iterate;
use super::matrix_free::MatrixFree;
use super::{eigen, eval_loss, model_at, step_to};
use crate::error::{Error, Result};
use crate::monitor::{Monitor, StopReason};
use crate::net::{Curvature, Loss, Objective};
use crate::optim::{TrModel, TrSubproblem};

/// Relative finite-difference step of the second directional derivative.
const ACCEL_H: f64 = 0.1;
/// Largest accepted ratio `2‖a‖/‖v‖`.
const ACCEL_ALPHA: f64 = 0.75;
/// With Cholesky subproblems, the first radius comes from one eigendecomposition up to this
/// many parameters (the Newton step's length over the positive eigenvalues, as on the eigen
/// path; ≲ 1 s), and is 1 above (decomposing 9 010 parameters takes over a minute on one core).
const FIRST_RADIUS_EIGEN_UP_TO: usize = 2048;

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
    /// The correction `a` (parameter coordinates).
    a: Vec<f64>,
    /// Scratch in eigen coordinates.
    a_eig: Vec<f64>,
    probe: Vec<f64>,
}

/// The solved subproblem the acceleration's correction uses: `(B + μI)⁻¹` from the
/// eigendecomposition (directions with `λ + μ ≤ 0` dropped) or from the held factorisation.
enum Shifted<'a> {
    Eigen {
        lambda: &'a [f64],
        q: &'a faer::Mat<f64>,
    },
    Factored(&'a mut CholeskyTrustRegion),
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
            a: vec![0.0; n],
            a_eig: vec![0.0; n],
            probe: vec![0.0; n],
        })
    }

    /// Computes the correction `a` (parameter coordinates, in `a`) for the step `v` at `x`
    /// with the multiplier `mu`; whether it passes the acceptance rule. `f0` must hold the
    /// outputs at `x`.
    fn correction(
        &mut self,
        obj: &mut Objective<'_>,
        monitor: &mut Monitor,
        x: &[f64],
        step: &[f64],
        shifted: Shifted<'_>,
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
        let scale = 2.0 * obj.mean_scale();
        match shifted {
            Shifted::Eigen { lambda, q } => {
                to_eigen(q, &self.b, &mut self.a_eig);
                for (a, l) in self.a_eig.iter_mut().zip(lambda) {
                    let d = l + mu;
                    *a = if d > 0.0 { -*a * scale / d } else { 0.0 };
                }
                from_eigen(q, &self.a_eig, &mut self.a);
            }
            Shifted::Factored(chol) => {
                self.a.copy_from_slice(&self.b);
                chol.solve_in_place(&mut self.a);
                self.a.iter_mut().for_each(|a| *a *= -scale);
            }
        }
        let anorm = self.a.iter().map(|a| a * a).sum::<f64>();
        let vnorm = step.iter().map(|v| v * v).sum::<f64>();
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
    subproblem: TrSubproblem,
    kind: Curvature,
    adaptive: bool,
    accel: Option<Acceleration>,
    /// The factorising subproblem solver, when [`TrSubproblem::factorises`].
    cholesky: Option<CholeskyTrustRegion>,
    /// Truncated CG and the Gauss–Newton products, with [`TrSubproblem::Cg`].
    matrix_free: Option<MatrixFree>,
    /// The last factorised subproblem's multiplier (the next one's start).
    mu_hint: f64,
    radius: f64,
    loss: f64,
    g: Vec<f64>,
    h: Vec<f64>,
    trial: Vec<f64>,
    ghat: Vec<f64>,
    step: Vec<f64>,
}

/// One trust-region subproblem's solution (the step itself is in `NewtonTr::step`).
struct Solved {
    mu: f64,
    norm: f64,
    on_boundary: bool,
    predicted_reduction: f64,
    /// Whether the eigendecomposition solved it (else the held factorisation did).
    by_eigen: bool,
}

impl NewtonTr {
    pub(super) fn new(model: TrModel, subproblem: TrSubproblem) -> Self {
        NewtonTr {
            model,
            subproblem,
            kind: match model {
                TrModel::GaussNewton => Curvature::GaussNewton,
                TrModel::Exact | TrModel::Adaptive => Curvature::Exact,
            },
            adaptive: false,
            accel: None,
            cholesky: None,
            matrix_free: None,
            mu_hint: 0.0,
            radius: f64::NAN,
            loss: f64::NAN,
            g: Vec::new(),
            h: Vec::new(),
            trial: Vec::new(),
            ghat: Vec::new(),
            step: Vec::new(),
        }
    }

    /// Solves the subproblem of radius `self.radius` into `self.step`: by factorisation when
    /// this solver factorises and it resolves the subproblem, otherwise on the
    /// eigendecomposition (computed once per outer iteration, into `eig`).
    fn subproblem(&mut self, eig: &mut Option<(Vec<f64>, faer::Mat<f64>)>) -> Result<Solved> {
        let n = self.g.len();
        if eig.is_none()
            && let Some(chol) = self.cholesky.as_mut()
        {
            let h = faer::MatRef::from_column_major_slice(&self.h, n, n);
            if let Outcome::Step(r) =
                chol.solve(h, &self.g, self.radius, self.mu_hint, &mut self.step)
            {
                self.mu_hint = r.mu;
                return Ok(Solved {
                    mu: r.mu,
                    norm: r.norm,
                    on_boundary: r.on_boundary,
                    predicted_reduction: r.predicted_reduction,
                    by_eigen: false,
                });
            }
        }
        if eig.is_none() {
            let (lambda, q) = eigen(&self.h, n)?;
            to_eigen(&q, &self.g, &mut self.ghat);
            *eig = Some((lambda, q));
        }
        let (lambda, q) = eig.as_ref().expect("decomposed above");
        let sub = trust_region::solve(lambda, &self.ghat, self.radius);
        from_eigen(q, &sub.step, &mut self.step);
        self.mu_hint = sub.mu;
        Ok(Solved {
            mu: sub.mu,
            norm: sub.step.iter().map(|v| v * v).sum::<f64>().sqrt(),
            on_boundary: sub.on_boundary,
            predicted_reduction: sub.predicted_reduction,
            by_eigen: true,
        })
    }

    /// The first trust radius: the Newton step's length over the positive eigenvalues (1 when
    /// there are none).
    fn initial_radius(&self, lambda: &[f64]) -> f64 {
        let newton = lambda
            .iter()
            .zip(&self.ghat)
            .map(|(l, gh)| if *l > 0.0 { (gh / l).powi(2) } else { 0.0 })
            .sum::<f64>()
            .sqrt();
        if newton > 0.0 && newton.is_finite() {
            newton
        } else {
            1.0
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
        let n = x.len();
        let loss = match model_at(
            obj,
            monitor,
            x,
            &mut self.g,
            &mut self.h,
            iteration,
            self.kind,
        ) {
            Err(stop) => return Ok(Some(stop)),
            Ok(loss) => loss,
        };
        self.loss = loss;
        let mut eig = None;
        // Decomposed every iteration without a factorising solver, and once with one up to
        // FIRST_RADIUS_EIGEN_UP_TO parameters: its first radius is then the same as without.
        let first = self.radius.is_nan() && n <= FIRST_RADIUS_EIGEN_UP_TO;
        if self.cholesky.is_none() || first {
            let (lambda, q) = eigen(&self.h, n)?;
            to_eigen(&q, &self.g, &mut self.ghat);
            eig = Some((lambda, q));
        }
        if let Some(acc) = self.accel.as_mut() {
            obj.predict_into(x, &mut acc.f0);
            monitor.counters.loss_evals += 1;
        }
        if self.radius.is_nan() {
            self.radius = match &eig {
                Some((lambda, _)) => self.initial_radius(lambda),
                None => 1.0,
            };
        }
        // Shrink the region until a step decreases the loss.
        loop {
            let sub = self.subproblem(&mut eig)?;
            if let Some(acc) = self.accel.as_mut() {
                let shifted = if sub.by_eigen {
                    let (lambda, q) = eig.as_ref().expect("solved by the eigendecomposition");
                    Shifted::Eigen { lambda, q }
                } else {
                    Shifted::Factored(self.cholesky.as_mut().expect("solved by factorisation"))
                };
                if acc.correction(obj, monitor, x, &self.step, shifted, sub.mu) {
                    // δ = v + ½a.
                    for (v, a) in self.step.iter_mut().zip(&acc.a) {
                        *v += 0.5 * a;
                    }
                }
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
            let snorm = sub.norm;
            self.radius = next_radius(self.radius, rho, snorm, sub.on_boundary);
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

    /// [`Self::outer`] with matrix-free Gauss–Newton products and truncated CG: one CG solve
    /// per iteration; a rejected step is cut back along the CG path (`SteihaugCg::truncate`)
    /// without new products. The first radius is the length of the first (unconstrained) CG
    /// step (in the scaled variables of [`MatrixFree`]). No geodesic acceleration here.
    fn outer_cg(
        &mut self,
        obj: &mut Objective<'_>,
        monitor: &mut Monitor,
        x: &mut [f64],
        iteration: usize,
    ) -> Result<Option<StopReason>> {
        let mf = self.matrix_free.as_mut().expect("started with cg");
        let loss = match mf.linearise(obj, monitor, x, &mut self.g, iteration) {
            Err(stop) => return Ok(Some(stop)),
            Ok(loss) => loss,
        };
        self.loss = loss;
        let first = self.radius.is_nan();
        let delta = if first { 1e10 } else { self.radius };
        let mut sub = mf.solve(obj, monitor, delta, &mut self.step);
        if first {
            self.radius = if sub.norm > 0.0 && sub.norm.is_finite() {
                sub.norm
            } else {
                1.0
            };
        }
        loop {
            step_to(&mut self.trial, x, 1.0, &self.step);
            let new_loss = eval_loss(obj, monitor, &self.trial);
            let actual = loss - new_loss;
            let rho = if sub.predicted_reduction > 0.0 {
                actual / sub.predicted_reduction
            } else {
                0.0
            };
            self.radius = next_radius(self.radius, rho, sub.norm, sub.on_boundary);
            if new_loss < loss && new_loss.is_finite() {
                x.copy_from_slice(&self.trial);
                self.loss = new_loss;
                break;
            }
            if let Some(stop) = monitor.should_stop(0.0) {
                return Ok(Some(stop));
            }
            if self.radius.is_nan() || self.radius <= 1e-300 || sub.norm <= 0.0 {
                return Ok(Some(StopReason::NoProgress));
            }
            // Cut back along the CG path (a new solve only where it does not reach out).
            let mf = self.matrix_free.as_mut().expect("started with cg");
            sub = mf.shrink(obj, monitor, self.radius, &mut self.step);
        }
        monitor.step();
        Ok(monitor.should_stop(0.0))
    }
}

/// The trust radius after a trial step of length `snorm` with ratio `rho` of actual to
/// predicted reduction (Nocedal & Wright Alg. 4.1, with the shrink to a quarter of the step).
fn next_radius(radius: f64, rho: f64, snorm: f64, on_boundary: bool) -> f64 {
    // A NaN ratio (non-finite trial loss) shrinks like a bad one.
    if rho.is_nan() || rho < 0.25 {
        0.25 * snorm.min(radius)
    } else if rho > 0.75 && on_boundary {
        (2.0 * radius).min(1e10)
    } else {
        radius
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
        if self.subproblem == TrSubproblem::Cg {
            if self.model != TrModel::GaussNewton {
                return Err(Error::invalid(
                    "refine.tr_subproblem",
                    "cg needs the Gauss–Newton model of the lm refiner",
                ));
            }
            self.matrix_free = Some(MatrixFree::new(obj).map_err(|e| {
                Error::invalid("refine.tr_subproblem", format!("cg is not available: {e}"))
            })?);
            self.accel = None;
            self.adaptive = false;
            self.g = vec![0.0; n];
            self.trial = vec![0.0; n];
            self.step = vec![0.0; n];
            return Ok(None);
        }
        self.accel = Acceleration::new(obj);
        self.adaptive = self.model == TrModel::Adaptive && self.accel.is_some();
        self.g = vec![0.0; n];
        self.h = vec![0.0; n * n];
        self.trial = vec![0.0; n];
        self.ghat = vec![0.0; n];
        self.step = vec![0.0; n];
        self.cholesky = self
            .subproblem
            .factorises(n)
            .then(|| CholeskyTrustRegion::new(n));
        self.mu_hint = 0.0;
        Ok(None)
    }

    fn iterate(
        &mut self,
        obj: &mut Objective<'_>,
        monitor: &mut Monitor,
        x: &mut Vec<f64>,
        iteration: usize,
    ) -> Result<Option<StopReason>> {
        if self.matrix_free.is_some() {
            self.outer_cg(obj, monitor, x, iteration)
        } else {
            self.outer(obj, monitor, x, iteration)
        }
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
            acc.correction(
                &mut obj,
                &mut monitor,
                &x,
                &v,
                Shifted::Eigen {
                    lambda: &lambda,
                    q: &q
                },
                mu
            ),
            "small steps pass the acceptance rule"
        );
        let a = acc.a.clone();
        // The factorised path gives the same correction at the same μ.
        let mut chol = CholeskyTrustRegion::new(p);
        let hm = faer::MatRef::from_column_major_slice(&h, p, p);
        let gs: Vec<f64> = g.iter().map(|v| v * s).collect();
        let mut scratch = vec![0.0; p];
        let Outcome::Step(r) = chol.solve(hm, &gs, 1e-3, 0.0, &mut scratch) else {
            panic!("unresolved subproblem")
        };
        assert!(r.mu > 0.0);
        let mut other = Acceleration::new(&obj).expect("MSE with a linear output");
        other.f0.copy_from_slice(&acc.f0);
        let factored = Shifted::Factored(&mut chol);
        other.correction(&mut obj, &mut monitor, &x, &v, factored, r.mu);
        let factored = other.a.clone();
        let eigen = Shifted::Eigen {
            lambda: &lambda,
            q: &q,
        };
        other.correction(&mut obj, &mut monitor, &x, &v, eigen, r.mu);
        let amax = factored.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        assert!(amax > 0.0);
        for (f, e) in factored.iter().zip(&other.a) {
            assert!((f - e).abs() <= 1e-9 * amax, "{f} vs {e}");
        }
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
