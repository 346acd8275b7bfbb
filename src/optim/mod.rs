//! Phase 2: second-order refinement from the gradient flow's best point (SPEC §5).
//!
//! - [`Refiner::NewtonTr`]: exact-Hessian trust region; the subproblem is solved exactly on the
//!   Hessian's eigendecomposition (faer) by [`gradflow_solvers::trust_region`], so indefinite
//!   Hessians are handled (Moré–Sorensen, hard case included). For the MSE with a linear
//!   output layer it takes geodesic acceleration steps and, by default ([`TrModel::Adaptive`]),
//!   uses per iteration the exact Hessian or the Gauss–Newton matrix, whichever predicted the
//!   last step better (NL2SOL's rule); `--tr-model exact` keeps the exact Hessian throughout;
//! - [`Refiner::Lm`]: Levenberg–Marquardt in its trust-region form (Moré, "The
//!   Levenberg–Marquardt algorithm: implementation and theory", Lecture Notes in Mathematics
//!   630, 1978): the same trust region on the Gauss–Newton model
//!   ([`Objective::gauss_newton_into`](crate::net::Objective::gauss_newton_into)), which is
//!   convex and — on zero-residual (teacher–student) problems — a better model than the exact
//!   Hessian in the degenerate valleys of overparameterised students; with geodesic
//!   acceleration (Transtrum & Sethna 2012) for the MSE with a linear output layer. At a
//!   minimum with non-zero loss (a ρ = 1 student stuck at 1e-3, say) it converges only
//!   linearly, because the model lacks the residuals' curvature: `newton-tr` is the method
//!   there;
//! - [`Refiner::Newton`]: Newton's method with a backtracking (Armijo) line search; where the
//!   Hessian is indefinite the direction uses the eigenvalues' absolute values (saddle-free
//!   Newton), which is always a descent direction;
//! - [`Refiner::Bfgs`], [`Refiner::Lbfgs`]: quasi-Newton methods with a backtracking line search;
//! - [`Refiner::Slsqp`]: SLSQP of the `slsqp` crate (the paper's fine-tuning method).
//!
//! Every refiner is an [argmin](https://docs.rs/argmin) `Solver` run by argmin's `Executor` on
//! [`MeanLoss`] (argmin's `CostFunction`, `Gradient` and `Hessian`): the stop rules are checked
//! through `Solver::terminate`, the iteration budget and loss target sit in argmin's state, and
//! argmin's observer reports iterations to the [`Watch`].
//!
//! No method has a built-in tolerance that could stop it early: only the stop rules of the
//! [`Monitor`] end a run (a library that stops at `|Δf| < ε` or
//! `‖g‖ < √ε` would never reach 1e-30).

pub(crate) mod adam;
mod execute;
mod matrix_free;
mod newton;
mod newton_tr;
mod problem;
mod quasi_newton;
mod slsqp;

pub use execute::RefineState;
pub use problem::MeanLoss;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::monitor::{Limits, Monitor, StopReason, TrajectoryPoint, fill_best_gnorm};
pub(crate) use crate::monitor::{eval_gradient, eval_loss, inf_norm};
use crate::named::Named;
use crate::net::{Curvature, Objective};
use crate::observe::{Phase, Watch};

/// Refinement methods (SPEC §5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Refiner {
    /// Exact-Hessian trust region; for the MSE with a linear output layer with geodesic
    /// acceleration and the adaptive choice of [`TrModel`].
    NewtonTr,
    /// Levenberg–Marquardt: the exact trust region on the Gauss–Newton model, with geodesic
    /// acceleration (MSE, linear output layer).
    Lm,
    /// Newton with a backtracking line search.
    Newton,
    /// BFGS with a backtracking line search.
    Bfgs,
    /// Limited-memory BFGS (memory 10).
    Lbfgs,
    /// Sequential least-squares quadratic programming (NLopt's SLSQP, unconstrained).
    Slsqp,
}

/// The model matrix of the trust region of [`Refiner::NewtonTr`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TrModel {
    /// Per iteration the exact Hessian or the Gauss–Newton matrix, whichever predicted the last
    /// accepted step's loss reduction better (Dennis, Gay & Welsch 1981). For the MSE with a
    /// linear output layer; otherwise the exact Hessian.
    #[default]
    Adaptive,
    /// Always the exact Hessian (the classical Newton trust region).
    Exact,
    /// Always the Gauss–Newton matrix (the same as [`Refiner::Lm`]).
    GaussNewton,
}

/// How [`Refiner::NewtonTr`] and [`Refiner::Lm`] solve their trust-region subproblems.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TrSubproblem {
    /// [`TrSubproblem::Eigen`] below [`TrSubproblem::CHOLESKY_FROM`] parameters,
    /// [`TrSubproblem::Cholesky`] from there on.
    #[default]
    Auto,
    /// One eigendecomposition of the model matrix per iteration; every subproblem of the
    /// iteration is then solved exactly in its eigenbasis (`gradflow_solvers::trust_region`).
    Eigen,
    /// Cholesky factorisations of `B + μI` (Moré–Sorensen; `gradflow_solvers::trust_region_cholesky`),
    /// typically one to three per subproblem, each `P³/3` multiply-adds against `≈ 4P³` and more
    /// for the eigendecomposition; the rare hard case falls back to the eigendecomposition.
    Cholesky,
    /// Truncated conjugate gradients (Steihaug 1983; `gradflow_solvers::steihaug`) on
    /// matrix-free Gauss–Newton products ([`crate::net::gauss_newton`]), preconditioned by the
    /// Gauss–Newton blocks of every unit's incoming parameters: no `P × P` matrix at all, each
    /// product `O(N·P)` like two gradients, so students of tens of thousands of parameters can
    /// take Gauss–Newton steps. An
    /// approximate subproblem solution: at most [`TrSubproblem::CG_MAX_PRODUCTS`] products per
    /// step, relative residual [`TrSubproblem::CG_TOLERANCE`]. No geodesic acceleration. Only
    /// for the Gauss–Newton model ([`Refiner::Lm`]) of a sample objective without
    /// regularisers.
    Cg,
}

impl TrSubproblem {
    /// Parameter count from which [`TrSubproblem::Auto`] factorises instead of decomposing
    /// (measured: `experiments/training/tr-subproblem.md`).
    pub const CHOLESKY_FROM: usize = 512;

    /// Whether subproblems of a problem with `n_params` parameters are factorised.
    ///
    /// ```
    /// use gradflow::optim::TrSubproblem;
    /// assert!(!TrSubproblem::Auto.factorises(193));
    /// assert!(TrSubproblem::Auto.factorises(3_010));
    /// assert!(TrSubproblem::Cholesky.factorises(10));
    /// ```
    pub fn factorises(self, n_params: usize) -> bool {
        match self {
            TrSubproblem::Auto => n_params >= Self::CHOLESKY_FROM,
            TrSubproblem::Eigen | TrSubproblem::Cg => false,
            TrSubproblem::Cholesky => true,
        }
    }

    /// Most Gauss–Newton products per [`TrSubproblem::Cg`] subproblem. Measured on a digits
    /// student of 9 010 parameters (`experiments/training/tr-subproblem.md`): 250 left the
    /// loss 8× higher after 120 s than 1 000 (4.2e-6 against 5.3e-7); 3 000 gained little
    /// more (4.1e-7).
    pub const CG_MAX_PRODUCTS: usize = 1000;
    /// Relative residual `‖g + Bs‖/‖g‖` at which a [`TrSubproblem::Cg`] subproblem counts as
    /// solved. Looser forcing (`min(0.5, √‖g‖)`, Nocedal & Wright eq. 7.3) took many short
    /// steps on the same student; 1e-2…1e-4 ended within 1.6× of each other.
    pub const CG_TOLERANCE: f64 = 1e-3;
}

crate::named::named_enum!(TrSubproblem, "trust-region subproblem solver", {
    Auto => "auto", Eigen => "eigen", Cholesky => "cholesky", Cg => "cg",
});

crate::named::named_enum!(Refiner, "refiner", {
    NewtonTr => "newton-tr", Lm => "lm", Newton => "newton", Bfgs => "bfgs", Lbfgs => "lbfgs",
    Slsqp => "slsqp",
});
crate::named::named_enum!(TrModel, "trust-region model", {
    Adaptive => "adaptive", Exact => "exact", GaussNewton => "gauss-newton",
});

impl Refiner {
    /// Dense `P × P` matrices the method keeps (Hessian and eigenvectors, the inverse-Hessian
    /// approximation, SLSQP's least-squares matrices).
    pub fn dense_matrices(self) -> usize {
        match self {
            Refiner::NewtonTr | Refiner::Lm | Refiner::Newton => 3,
            Refiner::Slsqp => 2,
            Refiner::Bfgs => 1,
            Refiner::Lbfgs => 0,
        }
    }

    /// The default for a problem size, chosen by measurement (README, "Default methods";
    /// `experiments/training/default-refiner/`): `newton-tr` (adaptive model) up to 1024
    /// parameters, where the exact Hessian and its eigendecomposition pay; dense `bfgs` up to
    /// 10⁴ (one `P × P` matrix, 0.8 GB at 10⁴); `lbfgs` above (no `P × P` matrix).
    ///
    /// ```
    /// use gradflow::optim::Refiner;
    /// assert_eq!(Refiner::default_for(193), Refiner::NewtonTr);
    /// assert_eq!(Refiner::default_for(5_000), Refiner::Bfgs);
    /// assert_eq!(Refiner::default_for(100_000), Refiner::Lbfgs);
    /// ```
    pub fn default_for(n_params: usize) -> Self {
        if n_params <= 1024 {
            Refiner::NewtonTr
        } else if n_params <= 10_000 {
            Refiner::Bfgs
        } else {
            Refiner::Lbfgs
        }
    }
}

/// Options of the refinement phase.
///
/// ```
/// use gradflow::optim::{RefineConfig, TrModel};
/// let c = RefineConfig::default();
/// assert_eq!((c.maxtime_optim, c.minloss, c.min_gnorm), (120.0, 2e-32, 1e-15));
/// assert_eq!(c.tr_model, TrModel::Adaptive);
/// assert_eq!(c.tr_subproblem, gradflow::optim::TrSubproblem::Auto);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct RefineConfig {
    /// Refinement method (default: [`Refiner::default_for`] the parameter count — newton-tr up
    /// to 1024 parameters, bfgs up to 10⁴, lbfgs above).
    pub refiner: Option<Refiner>,
    /// Wall-clock budget of the phase (s).
    pub maxtime_optim: f64,
    /// Iteration budget of the phase.
    pub maxiterations_optim: usize,
    /// Stop when the mean loss reaches this.
    pub minloss: f64,
    /// Stop when the ∞-norm of the mean gradient reaches this.
    pub min_gnorm: f64,
    /// Stop after this many evaluations without improvement.
    pub patience: usize,
    /// Model matrix of `newton-tr`: `adaptive` (exact Hessian or Gauss–Newton, whichever
    /// predicted the last step better) or `exact`.
    pub tr_model: TrModel,
    /// Subproblem solver of `newton-tr` and `lm`: `auto` (eigendecomposition below
    /// [`TrSubproblem::CHOLESKY_FROM`] parameters, Cholesky factorisations from there on),
    /// `eigen`, `cholesky`, or `cg` (matrix-free truncated conjugate gradients; `lm` only).
    pub tr_subproblem: TrSubproblem,
    /// Cap (GiB) on the dense `P × P` matrices of the refiner; a method that would exceed it
    /// refuses to start (default: half the machine's memory).
    pub max_memory_gib: Option<f64>,
}

impl Default for RefineConfig {
    fn default() -> Self {
        RefineConfig {
            refiner: None,
            maxtime_optim: 120.0,
            maxiterations_optim: usize::MAX,
            minloss: 2e-32,
            min_gnorm: 1e-15,
            patience: 10_000,
            tr_model: TrModel::Adaptive,
            tr_subproblem: TrSubproblem::Auto,
            max_memory_gib: None,
        }
    }
}

impl RefineConfig {
    /// Checks the options for a problem with `n_params` parameters: a non-negative budget, and
    /// the method's dense matrices within `max_memory_gib`.
    pub fn check(&self, n_params: usize) -> Result<()> {
        if self.maxtime_optim.is_nan() || self.maxtime_optim < 0.0 {
            return Err(Error::invalid(
                "refine.maxtime_optim",
                "must be non-negative",
            ));
        }
        let refiner = self
            .refiner
            .unwrap_or_else(|| Refiner::default_for(n_params));
        let matrix_free = self.tr_subproblem == TrSubproblem::Cg;
        if matrix_free && refiner != Refiner::Lm {
            return Err(Error::invalid(
                "refine.tr_subproblem",
                format!(
                    "cg needs the Gauss–Newton model of the lm refiner, not {}",
                    refiner.name()
                ),
            ));
        }
        crate::memory::check_dense(
            refiner.name(),
            if matrix_free {
                0
            } else {
                refiner.dense_matrices()
            },
            n_params,
            self.max_memory_gib,
            "refine.max_memory_gib",
            "lbfgs",
        )
    }

    /// [`RefineConfig::check`] for the problem at hand: with `tr_subproblem = cg` also the
    /// matrix-free buffers (per-unit Gauss–Newton blocks, the linearisation on `n_samples`
    /// samples) within `max_memory_gib` — about 1.45 GiB for a 784-120-10 student on 60 000
    /// samples.
    pub fn check_problem(&self, spec: &crate::net::NetSpec, n_samples: usize) -> Result<()> {
        self.check(spec.n_params())?;
        if self.tr_subproblem == TrSubproblem::Cg {
            crate::memory::check_need(
                "lm with tr_subproblem cg",
                matrix_free::matrix_free_gib(spec, n_samples),
                "Gauss–Newton blocks and linearisation buffers",
                self.max_memory_gib,
                "refine.max_memory_gib",
                "lbfgs",
            )?;
        }
        Ok(())
    }

    /// The stop rules of the phase (no ODE time limit).
    pub fn limits(&self) -> Limits {
        Limits {
            minloss: self.minloss,
            min_gnorm: self.min_gnorm,
            patience: self.patience,
            maxtime: self.maxtime_optim,
            maxiterations: self.maxiterations_optim,
            max_t: f64::INFINITY,
        }
    }
}

/// Result of the refinement phase.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RefineResult {
    /// How the phase ended: stop reason, loss and gradient norm at the best point, work
    /// counters, wall time.
    #[serde(flatten)]
    pub outcome: crate::train::PhaseOutcome,
    /// The method.
    pub refiner: Refiner,
    /// Best parameters ever evaluated.
    pub x: Vec<f64>,
    /// Loss curve (iteration, loss).
    pub trajectory: Vec<TrajectoryPoint>,
    /// The best loss by level and by wall time ([`crate::monitor::ProgressPoint`]).
    #[serde(default)]
    pub progress: Vec<crate::monitor::ProgressPoint>,
}

/// `out = x + alpha·d` (a trial point).
pub(crate) fn step_to(out: &mut [f64], x: &[f64], alpha: f64, d: &[f64]) {
    for ((o, x), d) in out.iter_mut().zip(x).zip(d) {
        *o = x + alpha * d;
    }
}

/// Evaluates loss, gradient and model matrix (`kind`) of the mean loss at `x` (into `g`, `h`)
/// and records them; the mean loss, or the stop rule that now holds.
pub(crate) fn model_at(
    obj: &mut Objective<'_>,
    monitor: &mut Monitor,
    x: &[f64],
    g: &mut [f64],
    h: &mut [f64],
    iteration: usize,
    kind: Curvature,
) -> std::result::Result<f64, StopReason> {
    let scale = obj.mean_scale();
    let loss = obj.curvature_into(x, g, h, kind) * scale;
    h.iter_mut().for_each(|v| *v *= scale);
    monitor.record_hessian();
    recorded(monitor, x, loss, g, scale, iteration)
}

/// Evaluates loss and gradient of the mean loss at `x` (into `g`) and linearises the objective
/// there for Gauss–Newton products (of the **sum** loss: scale them by
/// [`Objective::mean_scale`]); records them like [`model_at`].
pub(crate) fn linearised_at(
    obj: &mut Objective<'_>,
    monitor: &mut Monitor,
    x: &[f64],
    g: &mut [f64],
    products: &mut crate::net::gauss_newton::GaussNewtonProducts,
    iteration: usize,
) -> std::result::Result<f64, StopReason> {
    let scale = obj.mean_scale();
    let loss = obj.linearise_into(x, g, products) * scale;
    recorded(monitor, x, loss, g, scale, iteration)
}

/// Scales the sum-loss gradient `g` to the mean loss, records the point and checks the stop
/// rules (shared by [`model_at`] and [`linearised_at`]).
fn recorded(
    monitor: &mut Monitor,
    x: &[f64],
    loss: f64,
    g: &mut [f64],
    scale: f64,
    iteration: usize,
) -> std::result::Result<f64, StopReason> {
    g.iter_mut().for_each(|v| *v *= scale);
    monitor.record(x, loss, inf_norm(g));
    monitor.observe(iteration as f64 + 1.0, loss, inf_norm(g), x);
    if let Some(stop) = monitor.should_stop(0.0) {
        return Err(stop);
    }
    if !loss.is_finite() || g.iter().any(|v| !v.is_finite()) {
        return Err(StopReason::NoProgress);
    }
    Ok(loss)
}

/// Eigenvalues (ascending) and eigenvectors of the symmetric `n × n` matrix `h` (column-major).
pub(crate) fn eigen(h: &[f64], n: usize) -> Result<(Vec<f64>, faer::Mat<f64>)> {
    crate::dense::sym_eigen(faer::MatRef::from_column_major_slice(h, n, n)).ok_or_else(|| {
        Error::Numerical {
            routine: "Hessian eigendecomposition".into(),
            reason: "the iteration did not converge".into(),
        }
    })
}

/// Refines `x0` on `obj` (SPEC §5); returns the best point ever evaluated.
pub fn refine(obj: &mut Objective<'_>, x0: &[f64], cfg: &RefineConfig) -> Result<RefineResult> {
    refine_watched(obj, x0, cfg, &Watch::silent())
}

/// [`refine`] reporting every accepted iteration to `watch`, and ending with
/// [`StopReason::Interrupted`] at the best point when its flag is cancelled.
pub fn refine_watched(
    obj: &mut Objective<'_>,
    x0: &[f64],
    cfg: &RefineConfig,
    watch: &Watch,
) -> Result<RefineResult> {
    obj.spec().check_params(x0)?;
    let n = x0.len();
    cfg.check(n)?;
    let refiner = cfg.refiner.unwrap_or_else(|| Refiner::default_for(n));
    // The monitor obeys the cancellation flag; iterations are reported by argmin's observer.
    let quiet = Watch::silent().with_cancel(watch.cancel().clone());
    let mut monitor =
        Monitor::new(cfg.limits(), x0, 100, 1.0, 1e6, false).watched(Phase::Refine, &quiet);
    let skip = if watch.is_cancelled() {
        Some(StopReason::Interrupted)
    } else if cfg.maxtime_optim <= 0.0 || cfg.maxiterations_optim == 0 {
        Some(StopReason::Skipped)
    } else {
        None
    };
    let stop = if let Some(stop) = skip {
        let mut g = vec![0.0; n];
        eval_gradient(obj, &mut monitor, x0, &mut g);
        stop
    } else {
        let problem = MeanLoss::with_monitor(obj, monitor);
        let (iters, target) = (cfg.maxiterations_optim, cfg.minloss);
        let (problem, stop) = match refiner {
            Refiner::NewtonTr => {
                let solver = newton_tr::NewtonTr::new(cfg.tr_model, cfg.tr_subproblem);
                execute::execute(problem, solver, x0, iters, target, watch)?
            }
            Refiner::Lm => {
                let solver = newton_tr::NewtonTr::new(TrModel::GaussNewton, cfg.tr_subproblem);
                execute::execute(problem, solver, x0, iters, target, watch)?
            }
            Refiner::Newton => {
                let solver = newton::Newton::default();
                execute::execute(problem, solver, x0, iters, target, watch)?
            }
            Refiner::Bfgs => {
                let solver = quasi_newton::QuasiNewton::new(None);
                execute::execute(problem, solver, x0, iters, target, watch)?
            }
            Refiner::Lbfgs => {
                let solver = quasi_newton::QuasiNewton::new(Some(10));
                execute::execute(problem, solver, x0, iters, target, watch)?
            }
            Refiner::Slsqp => {
                let solver = slsqp::Slsqp::default();
                execute::execute(problem, solver, x0, iters, target, watch)?
            }
        };
        monitor = problem.into_monitor();
        stop
    };
    fill_best_gnorm(obj, &mut monitor);
    Ok(RefineResult {
        refiner,
        x: monitor.best_x.clone(),
        outcome: monitor.outcome(stop),
        trajectory: std::mem::take(&mut monitor.trajectory),
        progress: monitor.take_progress(),
    })
}
