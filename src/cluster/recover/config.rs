//! The options of Expand-and-Cluster (`gradflow recover`).

use serde::{Deserialize, Serialize};

use super::super::layer::ClusterConfig;
use crate::flow::FlowConfig;
use crate::net::Activation;
use crate::optim::RefineConfig;

fn default_probe_widths() -> Vec<usize> {
    vec![2, 4, 8, 16, 32, 64]
}

/// Options of [`recover`](super::recover()): students, clustering, expansion, fine-tuning.
///
/// ```
/// use gradflow::cluster::RecoverOptions;
/// let c = RecoverOptions::default();
/// assert_eq!((c.students, c.gamma, c.bias_std_max), (10, 0.8, 0.1));
/// assert!((c.beta - std::f64::consts::PI / 24.0).abs() < 1e-15);
/// assert_eq!(c.probe_widths, vec![2, 4, 8, 16, 32, 64]);
/// assert_eq!((c.probe_students, c.probe_time, c.probe_loss), (2, 10.0, 1e-10));
/// assert_eq!((c.probe_ratio, c.expand_factor), (100.0, 2));
/// assert_eq!((c.finetune_time, c.student_loss_ratio), (60.0, 1e6));
/// assert_eq!(c.input_mask_std, Some(1e-2));
/// assert_eq!((c.prune_support, c.prune_time, c.prune_loss_ratio), (0.0, 30.0, 10.0));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct RecoverOptions {
    /// Hidden activation of the unknown network.
    pub activation: Activation,
    /// Number of students `N`.
    pub students: usize,
    /// Seed of the first student (students use consecutive seeds).
    pub first_seed: u64,
    /// Hidden width of the (one-hidden-layer) students; without it the expansion phase
    /// chooses.
    pub width: Option<usize>,
    /// Hidden widths of deep students, e.g. `16,8` (layer-by-layer recovery).
    pub layers: Option<Vec<usize>>,
    /// Student widths as a multiple of the teacher's hidden widths (needs `--teacher`).
    pub rho: Option<usize>,
    /// A cluster is kept when its members come from at least this fraction of the students used.
    pub gamma: f64,
    /// Largest median angle (radians) within a kept cluster.
    pub beta: f64,
    /// Neurons whose kink `w·x + b = 0` lies farther than this from the origin (in units of the
    /// layer's inputs) are set aside as constant/linear-type before clustering.
    pub offbound_distance: f64,
    /// Neurons whose outgoing weights are below this fraction of the largest in their student
    /// are set aside as zero-type before clustering.
    pub negligible_outgoing: f64,
    /// Deep networks: a reconstructed neuron is dropped when its retrained bias has a larger
    /// standard deviation across students.
    pub bias_std_max: f64,
    /// Students whose final loss exceeds the best student's by more than this factor are
    /// left out of the clustering as not converged (never more than half of them); `γN`
    /// counts the students used.
    pub student_loss_ratio: f64,
    /// Inputs whose standard deviation over the data is at most this fraction of the largest
    /// input's are uninformative ([`uninformative_inputs`](crate::cluster::uninformative_inputs)):
    /// left out of the first layer's clustering distances and of the metrics (their weights
    /// are still trained and kept). `None`: no input is left out.
    pub input_mask_std: Option<f64>,
    /// The uninformative inputs given explicitly (0-based; e.g. from Boruta), instead of the
    /// `input_mask_std` rule.
    pub input_mask: Option<Vec<usize>>,
    /// Worker threads (one student per thread; default: all cores).
    pub threads: Option<usize>,
    /// Expansion phase: the widths probed, in order.
    #[serde(default = "default_probe_widths")]
    pub probe_widths: Vec<usize>,
    /// Expansion phase: students per probed width.
    pub probe_students: usize,
    /// Expansion phase: seconds per probe run (split evenly between the two phases).
    pub probe_time: f64,
    /// Expansion phase: the first width whose best probe reaches this mean loss is chosen.
    pub probe_loss: f64,
    /// Expansion phase, when no probe reaches `--probe-loss`: the smallest width whose best
    /// probe is within this factor of the best probe overall is chosen.
    pub probe_ratio: f64,
    /// Expansion phase: the students are this many times wider than the width it chooses
    /// (students just at the threshold width often stall; the paper's ρ = 4 runs are twice
    /// the typical threshold).
    pub expand_factor: usize,
    /// Seconds per phase of the final fine-tuning of the recovered network.
    pub finetune_time: f64,
    /// Pruning of spare neurons after fine-tuning (0: off). Each neuron of the last hidden
    /// layer whose cluster has members from fewer than this fraction of the students used is
    /// tried for removal, the weakest supported first (ties: the smallest outgoing weights):
    /// the network without it gets its output layer by least squares and `prune_time` seconds
    /// of the refiner, and the removal stands when its loss is at most `prune_loss_ratio`
    /// times the fine-tuned network's loss. With a
    /// permissive `γ` (e.g. 0.5 for students that end far above round-off) spare neurons of
    /// about half of the students can settle on shared directions and pass `γN`; a neuron the
    /// data need cannot be removed without raising the loss by orders of magnitude.
    pub prune_support: f64,
    /// Seconds of refinement per pruning trial.
    pub prune_time: f64,
    /// A pruning trial's removal stands when its loss is at most this factor above the
    /// fine-tuned loss.
    pub prune_loss_ratio: f64,
    /// Gradient-flow options of the students.
    pub flow: FlowConfig,
    /// Refinement options of the students.
    pub refine: RefineConfig,
}

impl Default for RecoverOptions {
    fn default() -> Self {
        let c = ClusterConfig::default();
        RecoverOptions {
            activation: Activation::G,
            students: 10,
            first_seed: 0,
            width: None,
            layers: None,
            rho: None,
            gamma: c.gamma,
            beta: c.beta,
            offbound_distance: c.offbound_distance,
            negligible_outgoing: c.negligible_outgoing,
            bias_std_max: 0.1,
            student_loss_ratio: 1e6,
            input_mask_std: Some(1e-2),
            input_mask: None,
            threads: None,
            probe_widths: default_probe_widths(),
            probe_students: 2,
            probe_time: 10.0,
            probe_loss: 1e-10,
            probe_ratio: 100.0,
            expand_factor: 2,
            finetune_time: 60.0,
            prune_support: 0.0,
            prune_time: 30.0,
            prune_loss_ratio: 10.0,
            flow: FlowConfig::default(),
            refine: RefineConfig::default(),
        }
    }
}

impl RecoverOptions {
    /// The clustering options.
    pub fn cluster(&self) -> ClusterConfig {
        ClusterConfig {
            gamma: self.gamma,
            beta: self.beta,
            offbound_distance: self.offbound_distance,
            negligible_outgoing: self.negligible_outgoing,
        }
    }

    /// Checks the options that can be checked before any data or training (the number of
    /// students, γ and β, the fine-tuning time, the activation).
    pub fn check(&self) -> crate::Result<()> {
        use crate::Error;
        if self.students < 2 {
            return Err(Error::invalid(
                "students",
                format!(
                    "Expand-and-Cluster needs at least 2 students, got {}",
                    self.students
                ),
            ));
        }
        if self.activation.is_softmax() {
            return Err(Error::invalid(
                "activation",
                "softmax is not a hidden activation",
            ));
        }
        if self
            .input_mask_std
            .is_some_and(|r| !(0.0..1.0).contains(&r))
        {
            return Err(Error::invalid(
                "input_mask_std",
                "must lie in [0, 1) (a fraction of the largest input standard deviation)",
            ));
        }
        // Budgets are checked here, before any student trains, not by the phase that uses them.
        // The probes run only when no width is given (the expansion phase).
        let expands = self.width.is_none() && self.layers.is_none() && self.rho.is_none();
        let mut budgets = vec![("finetune_time", self.finetune_time)];
        if expands {
            budgets.push(("probe_time", self.probe_time));
        }
        for (name, v) in budgets {
            if v.is_nan() || v <= 0.0 {
                return Err(Error::invalid(
                    name,
                    format!("must be a positive number of seconds, got {v}"),
                ));
            }
        }
        self.flow.check()?;
        if !(0.0..=1.0).contains(&self.prune_support) {
            return Err(Error::invalid(
                "prune_support",
                format!(
                    "must lie in [0, 1] (a fraction of the students; 0: no pruning), got {}",
                    self.prune_support
                ),
            ));
        }
        if self.prune_time.is_nan() || self.prune_time < 0.0 {
            return Err(Error::invalid(
                "prune_time",
                "must be a non-negative number of seconds",
            ));
        }
        if !(self.prune_loss_ratio.is_finite() && self.prune_loss_ratio >= 1.0) {
            return Err(Error::invalid(
                "prune_loss_ratio",
                format!(
                    "must be a finite number of at least 1, got {}",
                    self.prune_loss_ratio
                ),
            ));
        }
        self.cluster().check(self.students)
    }
}
