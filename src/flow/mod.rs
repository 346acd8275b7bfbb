//! Phase 1: integrate the gradient flow `dθ/dt = −τ∇L_sum(θ)` (SPEC §4).
//!
//! Implicit methods run on diffsol's SDIRK and BDF machinery with the analytic Hessian as the
//! Jacobian (`equations.rs`); `kencarp58` is Kennedy & Carpenter's 5th-order ESDIRK from
//! [`gradflow_solvers::tableau`]. The Rosenbrock methods `rodas5p` and `ros34pw2` run on
//! gradflow-solvers' own driver ([`gradflow_solvers::rosenbrock`]). Explicit `tsit5` also runs on diffsol; `rk4`, `gd` and `adam`
//! are simple loops here (`discrete.rs`). A solver failure restarts the flow from the best point
//! with a more robust method and is recorded ([`FlowEvent`]).

mod discrete;
pub(crate) mod equations;
mod integrate;
mod rosenbrock;

use serde::{Deserialize, Serialize};

pub use integrate::{run_flow, run_flow_watched};

use crate::monitor::{Limits, TrajectoryPoint};

/// Gradient-flow integrators (SPEC §4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Integrator {
    /// Kennedy–Carpenter 8-stage 5th-order L-stable ESDIRK (the paper's choice).
    #[serde(rename = "kencarp58")]
    KenCarp58,
    /// TR-BDF2 (2nd order ESDIRK).
    TrBdf2,
    /// ESDIRK3(4) of diffsol.
    Esdirk34,
    /// Rodas5P (Steinebach 2023): 8-stage 5th-order stiffly accurate L-stable Rosenbrock
    /// method with the exact Hessian as Jacobian: one Hessian and one factorisation per step,
    /// no Newton iterations.
    #[serde(rename = "rodas5p")]
    Rodas5P,
    /// ROS34PW2 (Rang & Angermann 2005): 4-stage 3rd-order L-stable Rosenbrock W-method
    /// (honours `jacobian_refresh` > 1).
    #[serde(rename = "ros34pw2")]
    Ros34Pw2,
    /// Variable-order BDF.
    Bdf,
    /// Tsitouras 5(4) explicit Runge–Kutta.
    Tsit5,
    /// Classic 4th-order Runge–Kutta with a fixed step `dt`.
    Rk4,
    /// Gradient descent on the mean loss (learning rate `lr`).
    Gd,
    /// Adam on the mean loss (learning rate `lr`).
    Adam,
}

crate::named::named_enum!(Integrator, "integrator", {
    KenCarp58 => "kencarp58", TrBdf2 => "tr-bdf2", Esdirk34 => "esdirk34",
    Rodas5P => "rodas5p", Ros34Pw2 => "ros34pw2", Bdf => "bdf",
    Tsit5 => "tsit5", Rk4 => "rk4", Gd => "gd", Adam => "adam",
});

impl Integrator {
    /// The default for a problem size: `rodas5p` up to [`RODAS5P_PARAMS`] parameters,
    /// `ros34pw2` (its Jacobian on [`FlowConfig::jacobian_samples`] samples) up to
    /// [`FIRST_ORDER_PARAMS`], then the first-order path: `adam` on mini-batches of
    /// [`FIRST_ORDER_BATCH`] samples with the plateau schedule (`lr_patience`, `lr_decay`), as
    /// the Expand-and-Cluster paper trains its large students (no `P × P` matrices; the
    /// refinement after it is `bfgs` up to 10⁴ parameters, `lbfgs` above). Chosen by
    /// measurement: `experiments/integrators/time-to-target.md` for `rodas5p` (the demo);
    /// `experiments/integrators/jacobian-samples.md` for `ros34pw2` (from 289 to 577
    /// parameters as fast or faster to a loss ≤ 1e-10 and ≤ 1e-20, and 1.4–2× faster to the
    /// same ODE time from 321 to 2 177 parameters; `tr-bdf2`, the default from 1 025 before,
    /// 5–10× slower there); `experiments/digits/README.md` at 3 010 and 6 010 (the first-order
    /// path ends 4–5 decades lower than `tr-bdf2` in the same time).
    ///
    /// ```
    /// use gradflow::flow::Integrator;
    /// assert_eq!(Integrator::default_for(193), Integrator::Rodas5P);
    /// assert_eq!(Integrator::default_for(577), Integrator::Ros34Pw2);
    /// assert_eq!(Integrator::default_for(2_000), Integrator::Ros34Pw2);
    /// assert_eq!(Integrator::default_for(3_010), Integrator::Adam);
    /// assert_eq!(Integrator::default_for(95_410), Integrator::Adam);
    /// ```
    pub fn default_for(n_params: usize) -> Self {
        if n_params <= RODAS5P_PARAMS {
            Integrator::Rodas5P
        } else if n_params <= FIRST_ORDER_PARAMS {
            Integrator::Ros34Pw2
        } else {
            Integrator::Adam
        }
    }

    /// Whether the method runs on gradflow-solvers' Rosenbrock driver.
    pub fn is_rosenbrock(self) -> bool {
        matches!(self, Integrator::Rodas5P | Integrator::Ros34Pw2)
    }

    /// Dense `P × P` matrices the method keeps (Hessian, Jacobian, factorisation).
    pub fn dense_matrices(self) -> usize {
        match self {
            // The Jacobian (the Hessian, written in place) and the factored W.
            Integrator::Rodas5P | Integrator::Ros34Pw2 => 2,
            Integrator::KenCarp58 | Integrator::TrBdf2 | Integrator::Esdirk34 | Integrator::Bdf => {
                3
            }
            Integrator::Tsit5 | Integrator::Rk4 | Integrator::Gd | Integrator::Adam => 0,
        }
    }

    /// The method a failed run restarts with.
    pub fn fallback(self) -> Self {
        match self {
            Integrator::Bdf => Integrator::TrBdf2,
            Integrator::KenCarp58 | Integrator::TrBdf2 | Integrator::Esdirk34 => Integrator::Bdf,
            Integrator::Rodas5P | Integrator::Ros34Pw2 => Integrator::KenCarp58,
            Integrator::Tsit5 | Integrator::Rk4 | Integrator::Gd | Integrator::Adam => {
                Integrator::KenCarp58
            }
        }
    }
}

/// Largest parameter count whose default integrator is `rodas5p` ([`Integrator::default_for`]).
pub const RODAS5P_PARAMS: usize = 256;

/// Above this many parameters the default flow is the first-order path (mini-batch Adam).
pub const FIRST_ORDER_PARAMS: usize = 2048;

/// The default of [`FlowConfig::jacobian_samples`] for a problem size: 4 096 samples below 512
/// parameters, 2 048 from there on (where the Hessian on the subset, not the factorisation,
/// dominates a step and the step size control hardly notices the smaller subset). Measured to
/// the same ODE time on 30 000 samples, against 4 096: 1.11–1.14× faster at 577 parameters,
/// 1.3–1.4× at 1 089 and 2 177; 1 024 samples were faster still early in the flow but lost
/// that on a 10× longer stretch (`experiments/integrators/jacobian-samples.md`).
///
/// ```
/// use gradflow::flow::default_jacobian_samples;
/// assert_eq!(default_jacobian_samples(321), 4096);
/// assert_eq!(default_jacobian_samples(577), 2048);
/// ```
pub fn default_jacobian_samples(n_params: usize) -> usize {
    if n_params < 512 { 4096 } else { 2048 }
}

/// Mini-batch size of the first-order path when it is chosen by default (the paper's 640).
pub const FIRST_ORDER_BATCH: usize = 640;

/// Options of the gradient-flow phase.
///
/// ```
/// use gradflow::flow::FlowConfig;
/// let c = FlowConfig::default();
/// assert_eq!((c.abstol, c.reltol, c.tau), (1e-6, 1e-6, 1.0));
/// assert_eq!((c.minloss, c.min_gnorm, c.maxtime_ode), (2e-32, 1e-15, 180.0));
/// assert_eq!(c.jacobian_refresh, 1);
/// assert_eq!(c.jacobian_samples, None); // by size: default_jacobian_samples
/// assert_eq!((c.lr, c.lr_patience, c.lr_decay), (1e-2, 100, 0.5));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct FlowConfig {
    /// Integrator (default: [`Integrator::default_for`] the parameter count — rodas5p up to
    /// 256 parameters, ros34pw2 up to 2048, mini-batch adam above).
    pub integrator: Option<Integrator>,
    /// Absolute tolerance of the integrator.
    pub abstol: f64,
    /// Relative tolerance of the integrator.
    pub reltol: f64,
    /// Time scale τ of dθ/dt = −τ∇L_sum.
    pub tau: f64,
    /// Per-parameter factors of the time scale: `dθ_i/dt = −τ·τ_i ∂L_sum/∂θ_i` (one positive
    /// factor per parameter, in the flat layout of SPEC §2; `None`: all 1). Integrators and
    /// `rk4` use them; `gd` and `adam` scale their learning rate by them.
    /// [`NetSpec::layer_factors`](crate::net::NetSpec::layer_factors) builds one from
    /// per-layer weight and bias factors.
    pub tau_params: Option<Vec<f64>>,
    /// Stop when the mean loss reaches this.
    pub minloss: f64,
    /// Stop when the ∞-norm of the mean gradient reaches this.
    pub min_gnorm: f64,
    /// Stop after this many loss evaluations without improvement.
    pub patience: usize,
    /// Wall-clock budget of the phase (s).
    pub maxtime_ode: f64,
    /// Step budget of the phase.
    pub maxiterations_ode: usize,
    /// ODE time limit (default: none).
    pub max_t: Option<f64>,
    /// Refresh the Hessian (Jacobian) at least every this many steps (every step by default,
    /// chosen by measurement: `experiments/integrators/jacobian-refresh.md`).
    pub jacobian_refresh: usize,
    /// Evaluate the Hessian that the W-method `ros34pw2` uses as its Jacobian on this many
    /// samples — an evenly spaced subset of the data, its sum scaled to the full data's — when
    /// the data has more (`Some(0)`: always all samples, the exact Hessian; `None`, the
    /// default: [`default_jacobian_samples`] for the parameter count). The gradient, hence the
    /// flow and its error control, stays exact: a W-method keeps its order with any Jacobian
    /// approximation (Rang & Angermann 2005), and the step size control absorbs what the
    /// approximation costs. Where the Hessian dominates a step (many parameters, many samples)
    /// steps become several times cheaper: to the same ODE time on 30 000 samples, 1.1× (97
    /// parameters) to 1.7× (577) faster than `rodas5p` and 1.3–3.7× faster than `ros34pw2`
    /// with the exact Hessian (`experiments/integrators/jacobian-samples.md`, which also
    /// measures 2 048 samples). Other integrators always use the exact Hessian; the
    /// infinite-data objective has no samples and ignores this.
    pub jacobian_samples: Option<usize>,
    /// Fixed step of `rk4`.
    pub dt: f64,
    /// Learning rate of `gd` and `adam` (on the mean loss).
    pub lr: f64,
    /// Mini-batch size of `gd` and `adam` (default: full batch; [`FIRST_ORDER_BATCH`] when
    /// `adam` is the default for the size).
    pub batch_size: Option<usize>,
    /// Plateau schedule of `gd` and `adam`: the learning rate is multiplied by `lr_decay` after
    /// this many epochs without a new lowest loss (0: constant learning rate). The paper
    /// lowers it after 100 epochs without progress; the factor 0.5 is our choice.
    pub lr_patience: usize,
    /// Factor of the plateau schedule (in `(0, 1]`).
    pub lr_decay: f64,
    /// Approximate number of trajectory points (log-spaced in t).
    pub trajectory_points: usize,
    /// Keep θ at every trajectory point.
    pub trajectory_x: bool,
    /// Cap (GiB) on the dense `P × P` matrices of the implicit integrators; a method that would
    /// exceed it refuses to start (default: half the machine's memory).
    pub max_memory_gib: Option<f64>,
}

impl Default for FlowConfig {
    fn default() -> Self {
        FlowConfig {
            integrator: None,
            abstol: 1e-6,
            reltol: 1e-6,
            tau: 1.0,
            tau_params: None,
            minloss: 2e-32,
            min_gnorm: 1e-15,
            patience: usize::MAX,
            maxtime_ode: 180.0,
            maxiterations_ode: usize::MAX,
            max_t: None,
            jacobian_refresh: 1,
            jacobian_samples: None,
            dt: 1e-3,
            lr: 1e-2,
            batch_size: None,
            lr_patience: 100,
            lr_decay: 0.5,
            trajectory_points: 100,
            trajectory_x: false,
            max_memory_gib: None,
        }
    }
}

impl FlowConfig {
    /// Checks the options that do not depend on the problem (tolerances, time scale, budget),
    /// as every flow does before it starts; callers that run many flows check once up front.
    ///
    /// # Errors
    /// [`Error::Invalid`](crate::Error::Invalid) naming the field, e.g. `flow.abstol`.
    ///
    /// ```
    /// use gradflow::flow::FlowConfig;
    /// let mut c = FlowConfig::default();
    /// assert!(c.check().is_ok());
    /// c.abstol = 0.0;
    /// assert!(c.check().unwrap_err().to_string().contains("flow.abstol"));
    /// ```
    pub fn check(&self) -> crate::Result<()> {
        integrate::check(self)
    }

    /// [`FlowConfig::jacobian_samples`], or [`default_jacobian_samples`] for `n_params` when
    /// unset.
    ///
    /// ```
    /// use gradflow::flow::FlowConfig;
    /// let mut c = FlowConfig::default();
    /// assert_eq!((c.jacobian_samples_for(100), c.jacobian_samples_for(1_000)), (4096, 2048));
    /// c.jacobian_samples = Some(0);
    /// assert_eq!(c.jacobian_samples_for(1_000), 0);
    /// ```
    pub fn jacobian_samples_for(&self, n_params: usize) -> usize {
        self.jacobian_samples
            .unwrap_or_else(|| default_jacobian_samples(n_params))
    }

    /// The time scale of each of `n` parameters: `τ·τ_i`.
    pub(crate) fn taus(&self, n: usize) -> Vec<f64> {
        match &self.tau_params {
            Some(f) => f.iter().map(|f| self.tau * f).collect(),
            None => vec![self.tau; n],
        }
    }

    /// The stop rules of the phase.
    pub fn limits(&self) -> Limits {
        Limits {
            minloss: self.minloss,
            min_gnorm: self.min_gnorm,
            patience: self.patience,
            maxtime: self.maxtime_ode,
            maxiterations: self.maxiterations_ode,
            max_t: self.max_t.unwrap_or(f64::INFINITY),
        }
    }
}

/// A recorded solver failure and the fallback it triggered.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FlowEvent {
    /// ODE time of the failure.
    #[serde(deserialize_with = "crate::io::non_finite::f64_or_infinity")]
    pub t: f64,
    /// The method that failed.
    pub failed: Integrator,
    /// The method the flow restarted with (from the best point).
    pub restarted_with: Integrator,
    /// The solver's message.
    pub error: String,
}

/// Result of the gradient-flow phase.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FlowResult {
    /// How the phase ended: stop reason, loss and gradient norm at the best point, work
    /// counters, wall time.
    #[serde(flatten)]
    pub outcome: crate::train::PhaseOutcome,
    /// The integrator the phase started with.
    pub integrator: Integrator,
    /// Best parameters ever evaluated (the phase's result).
    pub x: Vec<f64>,
    /// The integrator's state at the end (the ODE solution at `t`).
    pub final_x: Vec<f64>,
    /// ODE time reached.
    #[serde(deserialize_with = "crate::io::non_finite::f64_or_infinity")]
    pub t: f64,
    /// Log-spaced trajectory.
    pub trajectory: Vec<TrajectoryPoint>,
    /// The best loss by level and by wall time ([`crate::monitor::ProgressPoint`]).
    #[serde(default)]
    pub progress: Vec<crate::monitor::ProgressPoint>,
    /// Failures and fallbacks.
    pub events: Vec<FlowEvent>,
}
