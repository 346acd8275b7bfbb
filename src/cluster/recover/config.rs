//! The options of `gradflow recover`.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::super::layer::ClusterConfig;
use crate::flow::FlowConfig;
use crate::net::Activation;
use crate::optim::RefineConfig;
use crate::teacher::command::parse_activation;

fn default_probe_widths() -> Vec<usize> {
    vec![2, 4, 8, 16, 32, 64]
}

/// Options of `gradflow recover`.
///
/// ```
/// use gradflow::cluster::RecoverConfig;
/// let c = RecoverConfig::default();
/// assert_eq!((c.students, c.gamma, c.bias_std_max), (10, 0.8, 0.1));
/// assert!((c.beta - std::f64::consts::PI / 24.0).abs() < 1e-15);
/// assert_eq!(c.probe_widths, vec![2, 4, 8, 16, 32, 64]);
/// assert_eq!((c.probe_students, c.probe_time, c.probe_loss), (2, 10.0, 1e-10));
/// assert_eq!((c.probe_ratio, c.expand_factor), (100.0, 2));
/// assert_eq!((c.finetune_time, c.student_loss_ratio), (60.0, 1e6));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, clap::Args)]
#[serde(default)]
pub struct RecoverConfig {
    /// Data set queried from the unknown network (`.npz`, `X.npy,Y.npy`, `.csv`).
    #[arg(long)]
    pub data: Option<String>,
    /// The true network, if known: used only for the metrics (and to sample data when `--data`
    /// is not given).
    #[arg(long)]
    pub teacher: Option<PathBuf>,
    /// Samples drawn from the teacher when `--data` is not given.
    #[arg(long, default_value_t = 30_000)]
    pub samples: usize,
    /// Seed of the teacher's data stream (default: the teacher's recorded seed).
    #[arg(long)]
    pub data_seed: Option<u64>,
    /// Hidden activation of the unknown network.
    #[arg(long, default_value = "g", value_parser = parse_activation)]
    pub activation: Activation,
    /// Number of students `N`.
    #[arg(long, default_value_t = 10)]
    pub students: usize,
    /// Seed of the first student (students use consecutive seeds).
    #[arg(long, default_value_t = 0)]
    pub first_seed: u64,
    /// Hidden width of the (one-hidden-layer) students; without it the expansion phase
    /// chooses.
    #[arg(long, conflicts_with_all = ["layers", "rho"])]
    pub width: Option<usize>,
    /// Hidden widths of deep students, e.g. `16,8` (layer-by-layer recovery).
    #[arg(long, value_delimiter = ',', conflicts_with = "rho")]
    pub layers: Option<Vec<usize>>,
    /// Student widths as a multiple of the teacher's hidden widths (needs `--teacher`).
    #[arg(long)]
    pub rho: Option<usize>,
    /// A cluster is kept when its members come from at least this fraction of the students used.
    #[arg(long, default_value_t = 0.8)]
    pub gamma: f64,
    /// Largest median angle (radians) within a kept cluster.
    #[arg(long, default_value_t = std::f64::consts::PI / 24.0)]
    pub beta: f64,
    /// Neurons whose kink `w·x + b = 0` lies farther than this from the origin (in units of the
    /// layer's inputs) are set aside as constant/linear-type before clustering.
    #[arg(long, default_value_t = 20.0)]
    pub offbound_distance: f64,
    /// Neurons whose outgoing weights are below this fraction of the largest in their student
    /// are set aside as zero-type before clustering.
    #[arg(long, default_value_t = 1e-3)]
    pub negligible_outgoing: f64,
    /// Deep networks: a reconstructed neuron is dropped when its retrained bias has a larger
    /// standard deviation across students.
    #[arg(long, default_value_t = 0.1)]
    pub bias_std_max: f64,
    /// Students whose final loss exceeds the best student's by more than this factor are
    /// left out of the clustering as not converged (never more than half of them); `γN`
    /// counts the students used.
    #[arg(long, default_value_t = 1e6)]
    pub student_loss_ratio: f64,
    /// Worker threads (one student per thread; default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Expansion phase: the widths probed, in order.
    #[arg(long, value_delimiter = ',', default_value = "2,4,8,16,32,64")]
    #[serde(default = "default_probe_widths")]
    pub probe_widths: Vec<usize>,
    /// Expansion phase: students per probed width.
    #[arg(long, default_value_t = 2)]
    pub probe_students: usize,
    /// Expansion phase: seconds per probe run (split evenly between the two phases).
    #[arg(long, default_value_t = 10.0)]
    pub probe_time: f64,
    /// Expansion phase: the first width whose best probe reaches this mean loss is chosen.
    #[arg(long, default_value_t = 1e-10)]
    pub probe_loss: f64,
    /// Expansion phase, when no probe reaches `--probe-loss`: the smallest width whose best
    /// probe is within this factor of the best probe overall is chosen.
    #[arg(long, default_value_t = 100.0)]
    pub probe_ratio: f64,
    /// Expansion phase: the students are this many times wider than the width it chooses
    /// (students just at the threshold width often stall; the paper's ρ = 4 runs are twice
    /// the typical threshold).
    #[arg(long, default_value_t = 2)]
    pub expand_factor: usize,
    /// Seconds per phase of the final fine-tuning of the recovered network.
    #[arg(long, default_value_t = 60.0)]
    pub finetune_time: f64,
    /// Gradient-flow options of the students.
    #[command(flatten)]
    pub flow: FlowConfig,
    /// Refinement options of the students.
    #[command(flatten)]
    pub refine: RefineConfig,
}

impl Default for RecoverConfig {
    fn default() -> Self {
        let c = ClusterConfig::default();
        RecoverConfig {
            data: None,
            teacher: None,
            samples: 30_000,
            data_seed: None,
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
            threads: None,
            probe_widths: default_probe_widths(),
            probe_students: 2,
            probe_time: 10.0,
            probe_loss: 1e-10,
            probe_ratio: 100.0,
            expand_factor: 2,
            finetune_time: 60.0,
            flow: FlowConfig::default(),
            refine: RefineConfig::default(),
        }
    }
}
