//! The report of a recovery (`report.json`).

use serde::{Deserialize, Serialize};

use super::super::layer::LayerClustering;
use super::super::metrics::RecoveryMetrics;
use super::RecoverOptions;
use crate::monitor::StopReason;
use crate::train::RunRecord;

/// One trained student, as summarised in the report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StudentSummary {
    /// Seed.
    pub seed: u64,
    /// Architecture.
    pub shape: String,
    /// Final mean loss.
    pub loss: f64,
    /// Gradient ∞-norm.
    pub gnorm: f64,
    /// Stop reasons of the two phases.
    pub stop: (StopReason, StopReason),
    /// Wall time (s).
    pub time: f64,
    /// Used for clustering (finite loss and weights, loss close enough to the best).
    pub used: bool,
}

/// One probe of the expansion phase.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Probe {
    /// Hidden width probed.
    pub width: usize,
    /// Best final loss over the probe students.
    pub best_loss: f64,
    /// All probe losses.
    pub losses: Vec<f64>,
}

/// A reconstructed neuron dropped after retraining because its bias varied across students.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BiasDrop {
    /// Neuron index in the reconstructed layer (before dropping).
    pub neuron: usize,
    /// Standard deviation of its retrained bias across students.
    pub bias_std: f64,
}

/// One removal trial of a weakly supported recovered neuron
/// ([`RecoverOptions::prune_support`](super::RecoverOptions::prune_support)).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PruneTrial {
    /// The neuron's index in the recovered layer before any removal.
    pub neuron: usize,
    /// Distinct students behind it ([`LayerReport::support`]).
    pub support: usize,
    /// Mean loss of the network without it, after the output least squares and the refiner
    /// (NaN when the trial failed numerically).
    #[serde(deserialize_with = "crate::io::non_finite::f64_or_nan")]
    pub loss: f64,
    /// The largest loss at which the removal stands.
    #[serde(deserialize_with = "crate::io::non_finite::f64_or_nan")]
    pub threshold: f64,
    /// Whether the neuron was removed.
    pub removed: bool,
    /// Wall time of the trial (s).
    pub time: f64,
}

/// The report of one hidden layer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LayerReport {
    /// Hidden layer (1-based).
    pub layer: usize,
    /// Width of the students' layer.
    pub student_width: usize,
    /// Neurons recovered by clustering.
    pub clustered: usize,
    /// Kept clusters merged into an earlier (larger) one because their neurons are aligned
    /// within `β`: one teacher neuron whose copies the cut split into several clusters.
    #[serde(default)]
    pub merged_aligned: Vec<usize>,
    /// Neurons dropped after retraining the next layers (deep networks).
    pub dropped_after_retraining: Vec<BiasDrop>,
    /// Final recovered width `m̂` (clustered minus merged minus dropped minus pruned).
    pub recovered_width: usize,
    /// For each recovered neuron (in the layer's order, before pruning): the number of
    /// distinct students whose neurons formed its cluster (merged aligned clusters: the union).
    #[serde(default)]
    pub support: Vec<usize>,
    /// Extra neurons representing the affine part `Θx` (even+linear activations, last hidden
    /// layer only): `σ(θ·x) − σ(−θ·x) = θ·x`, two per output.
    pub linear_neurons: usize,
    /// Removal trials of the weakly supported neurons (last hidden layer, when
    /// `RecoverOptions::prune_support` is set), in the order they were made.
    #[serde(default)]
    pub pruned: Vec<PruneTrial>,
    /// The clustering: cut, clusters (kept and dropped, with reasons), dendrogram.
    pub clustering: LayerClustering,
    /// Students that produced it.
    pub students: Vec<StudentSummary>,
}

/// The report of a recovery (written as `report.json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecoverReport {
    /// gradflow version.
    pub gradflow_version: String,
    /// Where the data came from.
    pub data: String,
    /// Expansion-phase probes (empty when the width was given).
    pub expansion: Vec<Probe>,
    /// Inputs left out of the clustering and the metrics as uninformative
    /// (`RecoverOptions::input_mask_std`; 0-based).
    #[serde(default)]
    pub masked_inputs: Vec<usize>,
    /// Student hidden widths used.
    pub student_widths: Vec<usize>,
    /// Per hidden layer.
    pub layers: Vec<LayerReport>,
    /// Architecture of the recovered network.
    pub recovered_shape: String,
    /// Mean loss of the reconstruction before fine-tuning.
    pub reconstructed_loss: f64,
    /// Fine-tuning run (both phases).
    pub finetune: RunRecord,
    /// Final mean loss (after fine-tuning and pruning).
    pub loss: f64,
    /// Final rmse.
    #[serde(deserialize_with = "crate::io::non_finite::f64_or_nan")]
    pub rmse: f64,
    /// Metrics against the teacher, when one was given.
    pub metrics: Option<RecoveryMetrics>,
    /// Total wall time (s).
    pub wall_time: f64,
    /// The configuration.
    pub config: RecoverOptions,
}
