//! Expand-and-Cluster: recover the layer sizes and weights of an unknown network from its
//! input–output pairs (Martinelli, Şimşek, Gerstner & Brea, *Expand-and-Cluster: Parameter
//! Recovery of Neural Networks*, ICML 2024; SPEC §8).
//!
//! - [`neuron`]: hidden neurons `[w; b]` and their canonical form per symmetry class;
//! - [`dendrogram`]: average-linkage clustering (kodama) and the cut that maximises the number
//!   of clusters with at least `γN` members;
//! - [`layer`]: one layer's clustering — cut, `β` filter, collapse;
//! - [`metrics`]: comparison with a known teacher (Hungarian matching, cosine distances);
//! - [`recover()`]: the whole pipeline behind `gradflow recover`;
//! - [`figures`]: SVG figures of the similarity matrix and the dendrogram.

pub mod assignment;
pub mod dendrogram;
pub mod figures;
mod input_mask;
pub mod layer;
pub mod metrics;
pub mod neuron;
mod recover;

pub use input_mask::{fold_into_bias, fold_network_inputs, input_means, uninformative_inputs};
pub use layer::{
    ClusterConfig, DropReason, LayerClustering, StudentLayer, cluster_layer, cluster_layer_masked,
};
pub use metrics::{RecoveryMetrics, compare};
pub use neuron::{Neuron, canonicalise, canonicalise_masked, layer_neurons};
pub use recover::{
    BiasDrop, LayerReport, Probe, PruneTrial, RECOVERED_FILE, REPORT_FILE, RecoverOptions,
    RecoverReport, Recovery, STUDENTS_DIR, StudentSummary, read_saved_students, recover,
    student_file, student_init, student_spec, write_recovery, write_student,
};
