//! What the Rosenbrock driver is given and reports: the system it integrates, its options,
//! its errors and its work counters.

/// The system `y' = f(y)`, evaluated by the integrator.
pub trait RosenbrockSystem {
    /// Writes `f(y)` into `f`.
    fn rhs(&mut self, y: &[f64], f: &mut [f64]);
    /// Writes `f(y)` into `f` and the Jacobian `∂f/∂y` (row-major `n × n`) into `jac`.
    fn rhs_jacobian(&mut self, y: &[f64], f: &mut [f64], jac: &mut [f64]);
    /// What the driver may assume about every Jacobian `rhs_jacobian` writes (asked once, when
    /// the driver is built). Default: nothing.
    fn jacobian_structure(&self) -> JacobianStructure {
        JacobianStructure::General
    }
}

/// The structure of a system's Jacobian, which decides how `W = I/(hγ) − J` is factored.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub enum JacobianStructure {
    /// No structure: LU with partial pivoting.
    #[default]
    General,
    /// `J` is symmetric (e.g. `−∇²f` of a gradient flow `y' = −∇f(y)`), so `W` is too: it is
    /// factored by Cholesky (`n³/3` flops instead of LU's `2n³/3`) whenever it is positive
    /// definite, and by LU otherwise. The driver reads one triangle of `J` (its upper one, row
    /// by row), so a Jacobian symmetric up to rounding is fine. After a failed Cholesky, steps
    /// at least as long go straight to LU for the next eight Jacobians.
    Symmetric,
    /// `J = D·S` with `D` the given positive diagonal and `S` symmetric (e.g. `−D∇²f` of a
    /// preconditioned gradient flow `y' = −D∇f(y)`): `W` is similar to the symmetric
    /// `M = I/(hγ) − D^{1/2} S D^{1/2} = D^{−1/2} W D^{1/2}`, which is factored as for
    /// `Symmetric`; solves scale by `D^{∓1/2}` around it.
    ScaledSymmetric(Vec<f64>),
}

/// Options of [`Rosenbrock`](super::Rosenbrock).
///
/// ```
/// use gradflow_solvers::rosenbrock::RosenbrockOptions;
/// let o = RosenbrockOptions::default();
/// assert_eq!((o.rtol, o.atol, o.jacobian_refresh), (1e-6, 1e-6, 1));
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct RosenbrockOptions {
    /// Relative tolerance.
    pub rtol: f64,
    /// Absolute tolerance.
    pub atol: f64,
    /// First step (default: the Hairer–Wanner starting-step heuristic).
    pub h0: Option<f64>,
    /// Refresh the Jacobian at least every this many accepted steps; only W-methods use a
    /// value above 1 (a classical Rosenbrock method needs the exact Jacobian every step).
    pub jacobian_refresh: usize,
    /// Rejections in a row after which a step gives up.
    pub max_rejections: usize,
}

impl Default for RosenbrockOptions {
    fn default() -> Self {
        RosenbrockOptions {
            rtol: 1e-6,
            atol: 1e-6,
            h0: None,
            jacobian_refresh: 1,
            max_rejections: 60,
        }
    }
}

/// Why a step could not be completed.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum RosenbrockError {
    /// The step size fell below the resolution of `t`.
    StepTooSmall {
        /// Time of the failure.
        t: f64,
        /// The step size.
        h: f64,
    },
    /// Too many rejections in a row (the error estimate stayed above 1 or non-finite).
    TooManyRejections {
        /// Time of the failure.
        t: f64,
        /// The last step size tried.
        h: f64,
    },
    /// The right-hand side or the Jacobian at the current point is not finite.
    NonFinite {
        /// Time of the failure.
        t: f64,
    },
}

impl std::fmt::Display for RosenbrockError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RosenbrockError::StepTooSmall { t, h } => {
                write!(f, "step size {h:e} too small at t = {t:e}")
            }
            RosenbrockError::TooManyRejections { t, h } => {
                write!(f, "too many rejected steps at t = {t:e} (last h = {h:e})")
            }
            RosenbrockError::NonFinite { t } => {
                write!(f, "non-finite right-hand side or Jacobian at t = {t:e}")
            }
        }
    }
}

impl std::error::Error for RosenbrockError {}

/// Work counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RosenbrockStats {
    /// Accepted steps.
    pub steps: usize,
    /// Rejected steps.
    pub rejected: usize,
    /// Right-hand-side evaluations (without those that came with a Jacobian).
    pub rhs_evals: usize,
    /// Jacobian evaluations (each with a right-hand side).
    pub jacobian_evals: usize,
    /// Factorisations of `W` (Cholesky or LU).
    pub factorisations: usize,
    /// Of those, Cholesky factorisations (symmetric Jacobians only).
    pub cholesky: usize,
    /// Cholesky attempts that found `W` not positive definite (then factored by LU, counted
    /// in `factorisations`).
    pub cholesky_failures: usize,
}
