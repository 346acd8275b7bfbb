//! Flags as overlays on the library's options: every flag is an `Option`, `None` when not
//! given, so the library's `impl Default` (or a configuration file) is the only source of
//! defaults; the help text shows the library default.

use clap::builder::{PossibleValuesParser, TypedValueParser};
use gradflow::flow::{FlowConfig, Integrator};
use gradflow::named::Named;
use gradflow::net::Activation;
use gradflow::optim::{RefineConfig, Refiner, TrModel, TrSubproblem};

/// A value parser for a closed set of library choices, listing the names.
pub fn named<T: Named + Send + Sync + Clone>() -> impl TypedValueParser<Value = T> {
    PossibleValuesParser::new(T::ALL.iter().map(|v| v.name()))
        .map(|s| T::from_name(&s).expect("a listed name"))
}

/// Parses an activation name.
pub fn activation(s: &str) -> Result<Activation, String> {
    s.parse::<Activation>().map_err(|e| e.to_string())
}

/// `text [default: value]`.
pub fn d(text: &str, value: impl std::fmt::Display) -> String {
    format!("{text} [default: {}]", help_value(&value.to_string()))
}

/// A default as a user would type it: small numbers in exponent form (`2e-32`, not 32 zeros).
fn help_value(s: &str) -> String {
    match s.parse::<f64>() {
        Ok(v) if v != 0.0 && v.abs() < 1e-3 => format!("{v:e}"),
        _ => s.to_string(),
    }
}

/// `usize::MAX` reads as "none" in help.
pub fn count(v: usize) -> String {
    if v == usize::MAX {
        "none".into()
    } else {
        v.to_string()
    }
}

fn flow() -> FlowConfig {
    FlowConfig::default()
}

fn refine() -> RefineConfig {
    RefineConfig::default()
}

/// Sets `dst` to the given flag value.
macro_rules! overlay {
    ($src:expr, $dst:expr, [$($f:ident),* $(,)?]) => {
        $( if let Some(v) = &$src.$f { $dst.$f = v.clone(); } )*
    };
}
pub(crate) use overlay;

/// Copies each `Option` field that is `Some` in `$src` into the same `Option` field of `$dst`
/// (options whose library default is `None`).
macro_rules! overlay_opt {
    ($src:expr, $dst:expr, [$($f:ident),* $(,)?]) => {
        $( if $src.$f.is_some() { $dst.$f = $src.$f.clone(); } )*
    };
}
pub(crate) use overlay_opt;

/// Gradient-flow flags (overlays on [`FlowConfig`]).
#[derive(clap::Args, Clone, Debug, Default)]
pub struct FlowArgs {
    #[arg(long = "ode", value_parser = named::<Integrator>(),
        help = "Integrator [default: rodas5p up to 256 parameters, ros34pw2 up to 2048, mini-batch adam above]")]
    pub integrator: Option<Integrator>,
    #[arg(long, help = d("Absolute tolerance of the integrator", flow().abstol))]
    pub abstol: Option<f64>,
    #[arg(long, help = d("Relative tolerance of the integrator", flow().reltol))]
    pub reltol: Option<f64>,
    #[arg(long, help = d("Time scale τ of dθ/dt = −τ∇L_sum", flow().tau))]
    pub tau: Option<f64>,
    #[arg(long, help = d("Stop the flow when the mean loss reaches this", flow().minloss))]
    pub minloss: Option<f64>,
    #[arg(long, help = d("Stop the flow when the ∞-norm of the mean gradient reaches this", flow().min_gnorm))]
    pub min_gnorm: Option<f64>,
    #[arg(long, help = d("Stop the flow after this many evaluations without improvement", count(flow().patience)))]
    pub patience: Option<usize>,
    #[arg(long, help = d("Wall-clock budget of the flow (s)", flow().maxtime_ode))]
    pub maxtime_ode: Option<f64>,
    #[arg(long, help = d("Step budget of the flow", count(flow().maxiterations_ode)))]
    pub maxiterations_ode: Option<usize>,
    #[arg(long = "max-t", help = "ODE time limit [default: none]")]
    pub max_t: Option<f64>,
    #[arg(long, help = d("Refresh the Hessian (Jacobian) at least every this many steps", flow().jacobian_refresh))]
    pub jacobian_refresh: Option<usize>,
    #[arg(
        long,
        help = "Evaluate the Jacobian (Hessian) of the W-method ros34pw2 on this many evenly spaced samples, scaled to the full sum (0: all samples) [default: 4096 below 512 parameters, 2048 from 512]"
    )]
    pub jacobian_samples: Option<usize>,
    #[arg(long, help = d("Fixed step of rk4", flow().dt))]
    pub dt: Option<f64>,
    #[arg(long, help = d("Learning rate of gd and adam (on the mean loss)", flow().lr))]
    pub lr: Option<f64>,
    #[arg(
        long,
        help = "Mini-batch size of gd and adam [default: full batch; 640 when adam is the default for the size]"
    )]
    pub batch_size: Option<usize>,
    #[arg(long, help = d("Plateau schedule of gd and adam: lower the learning rate after this many epochs without a new lowest loss (0: never)", flow().lr_patience))]
    pub lr_patience: Option<usize>,
    #[arg(long, help = d("Factor of the plateau schedule", flow().lr_decay))]
    pub lr_decay: Option<f64>,
    #[arg(long, help = d("Approximate number of trajectory points (log-spaced in t)", flow().trajectory_points))]
    pub trajectory_points: Option<usize>,
    #[arg(long, help = "Keep θ at every trajectory point")]
    pub trajectory_x: bool,
    #[arg(
        long = "max-memory-ode",
        id = "max_memory_ode",
        value_name = "GIB",
        help = "Cap (GiB) on the dense P×P matrices of implicit integrators [default: half the machine's memory]"
    )]
    pub max_memory_gib: Option<f64>,
}

impl FlowArgs {
    /// Overrides the options given as flags.
    pub fn apply(&self, c: &mut FlowConfig) {
        overlay_opt!(
            self,
            c,
            [
                integrator,
                max_t,
                batch_size,
                max_memory_gib,
                jacobian_samples
            ]
        );
        if self.trajectory_x {
            c.trajectory_x = true;
        }
        overlay!(
            self,
            c,
            [
                abstol,
                reltol,
                tau,
                minloss,
                min_gnorm,
                patience,
                maxtime_ode,
                maxiterations_ode,
                jacobian_refresh,
                dt,
                lr,
                lr_patience,
                lr_decay,
                trajectory_points
            ]
        );
    }
}

/// Refinement flags (overlays on [`RefineConfig`]).
#[derive(clap::Args, Clone, Debug, Default)]
pub struct RefineArgs {
    #[arg(long = "optim", value_parser = named::<Refiner>(),
        help = "Refinement method [default: by size, see the README: newton-tr up to 1024 parameters, bfgs up to 10⁴, lbfgs above]")]
    pub refiner: Option<Refiner>,
    #[arg(long, help = d("Wall-clock budget of the refinement (s)", refine().maxtime_optim))]
    pub maxtime_optim: Option<f64>,
    #[arg(long, help = d("Iteration budget of the refinement", count(refine().maxiterations_optim)))]
    pub maxiterations_optim: Option<usize>,
    #[arg(long = "minloss-optim", id = "minloss_optim", help = d("Stop the refinement when the mean loss reaches this", refine().minloss))]
    pub minloss: Option<f64>,
    #[arg(long = "min-gnorm-optim", id = "min_gnorm_optim", help = d("Stop the refinement when the ∞-norm of the mean gradient reaches this", refine().min_gnorm))]
    pub min_gnorm: Option<f64>,
    #[arg(long = "patience-optim", id = "patience_optim", help = d("Stop the refinement after this many evaluations without improvement", refine().patience))]
    pub patience: Option<usize>,
    #[arg(long, value_parser = named::<TrModel>(),
        help = d("Model matrix of newton-tr", refine().tr_model))]
    pub tr_model: Option<TrModel>,
    #[arg(long, value_parser = named::<TrSubproblem>(),
        help = d("Subproblem solver of newton-tr and lm: auto (eigendecomposition below 512 parameters, Cholesky factorisations from there on), eigen, cholesky, or cg (matrix-free truncated conjugate gradients on Gauss–Newton products; lm only, for students too large to factorise)", refine().tr_subproblem))]
    pub tr_subproblem: Option<TrSubproblem>,
    #[arg(
        long = "max-memory-optim",
        id = "max_memory_optim",
        value_name = "GIB",
        help = "Cap (GiB) on the dense P×P matrices of the refiner [default: half the machine's memory]"
    )]
    pub max_memory_gib: Option<f64>,
}

impl RefineArgs {
    /// Overrides the options given as flags.
    pub fn apply(&self, c: &mut RefineConfig) {
        overlay_opt!(self, c, [refiner, max_memory_gib]);
        overlay!(
            self,
            c,
            [
                maxtime_optim,
                maxiterations_optim,
                minloss,
                min_gnorm,
                patience,
                tr_model,
                tr_subproblem
            ]
        );
    }
}

#[cfg(test)]
mod tests {
    use super::d;

    #[test]
    fn help_shows_small_defaults_in_exponent_form() {
        assert_eq!(d("t", 2e-32), "t [default: 2e-32]");
        assert_eq!(d("t", 1e-6), "t [default: 1e-6]");
        assert_eq!(d("t", 0.001), "t [default: 0.001]");
        assert_eq!(d("t", 0.0), "t [default: 0]");
        assert_eq!(d("t", 30_000), "t [default: 30000]");
        assert_eq!(d("t", "rodas5p"), "t [default: rodas5p]");
    }
}
