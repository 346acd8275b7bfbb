//! Expand-and-Cluster end to end (SPEC §8): expansion, students, layer-by-layer clustering,
//! output reconstruction, fine-tuning and metrics — the library side of `gradflow recover`.

use std::path::PathBuf;

use faer::Mat;
use faer::linalg::solvers::SolveLstsq;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::layer::{ClusterConfig, LayerClustering, StudentLayer, cluster_layer};
use super::metrics::{RecoveryMetrics, compare};
use super::neuron::{Neuron, layer_neurons};
use crate::error::{Error, Result};
use crate::flow::FlowConfig;
use crate::monitor::{ProgressFn, StopReason};
use crate::net::{
    Activation, Dataset, Init, LayerSpec, Loss, NetSpec, Network, Objective, SymmetryClass,
};
use crate::optim::RefineConfig;
use crate::rng::Stream;
use crate::solve::{SolveConfig, resolve_problem};
use crate::teacher::command::parse_activation;
use crate::train::{RunRecord, train_frozen};

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

/// The report of one hidden layer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LayerReport {
    /// Hidden layer (1-based).
    pub layer: usize,
    /// Width of the students' layer.
    pub student_width: usize,
    /// Neurons recovered by clustering.
    pub clustered: usize,
    /// Neurons dropped after retraining the next layers (deep networks).
    pub dropped_after_retraining: Vec<BiasDrop>,
    /// Final recovered width `m̂` (clustered minus dropped).
    pub recovered_width: usize,
    /// Extra neurons representing the affine part `Θx` (even+linear activations, last hidden
    /// layer only): `σ(θ·x) − σ(−θ·x) = θ·x`, two per output.
    pub linear_neurons: usize,
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
    /// Final mean loss.
    pub loss: f64,
    /// Final rmse.
    pub rmse: f64,
    /// Metrics against the teacher, when one was given.
    pub metrics: Option<RecoveryMetrics>,
    /// Total wall time (s).
    pub wall_time: f64,
    /// The configuration.
    pub config: RecoverConfig,
}

/// A recovered network with its report.
pub struct Recovery {
    /// The recovered network.
    pub network: Network,
    /// The report.
    pub report: RecoverReport,
}

/// Callbacks of a recovery: a progress callback per student run (`stage`, seed) and one-line
/// messages about the stages.
pub struct Hooks<'a> {
    /// Progress callback factory.
    pub progress: &'a (dyn Fn(&str, u64) -> Option<ProgressFn> + Sync),
    /// Stage messages.
    pub message: &'a (dyn Fn(&str) + Sync),
    /// Called with every finished student run (stage, record), e.g. to save it at once.
    pub done: &'a (dyn Fn(&str, &RunRecord) + Sync),
    /// A record saved by an earlier, interrupted recovery for (stage, seed), if any. It is
    /// reused instead of training again only when it is the same run: same architecture,
    /// initial point, seed and configuration (the thread count aside).
    pub cached: &'a (dyn Fn(&str, u64) -> Option<RunRecord> + Sync),
}

impl Hooks<'_> {
    /// Hooks that report nothing.
    pub fn silent() -> Hooks<'static> {
        Hooks {
            progress: &|_, _| None,
            message: &|_| {},
            done: &|_, _| {},
            cached: &|_, _| None,
        }
    }
}

/// A frozen prefix of reconstructed hidden layers: incoming weight rows and biases.
#[derive(Clone, Debug)]
struct Frozen {
    rows: Vec<Vec<f64>>,
    bias: Vec<f64>,
}

struct Trainer<'a> {
    data: &'a Dataset,
    activation: Activation,
    flow: FlowConfig,
    refine: RefineConfig,
    pool: rayon::ThreadPool,
    config: serde_json::Value,
}

impl Trainer<'_> {
    /// Whether a saved record is the run this trainer would do now.
    fn is_same_run(&self, rec: &RunRecord, spec: &NetSpec, x0: &[f64], seed: u64) -> bool {
        let strip = |v: &serde_json::Value| {
            let mut v = v.clone();
            if let Some(o) = v.as_object_mut() {
                o.remove("threads");
            }
            v
        };
        rec.seed == seed
            && rec.network == *spec
            && rec.init.len() == x0.len()
            && rec
                .init
                .iter()
                .zip(x0)
                .all(|(a, b)| a.to_bits() == b.to_bits())
            && strip(&rec.config) == strip(&self.config)
            && rec.x.len() == x0.len()
    }

    fn spec(&self, frozen: &[Frozen], widths: &[usize]) -> Result<NetSpec> {
        let mut layers: Vec<LayerSpec> = frozen
            .iter()
            .map(|f| f.rows.len())
            .chain(widths.iter().copied())
            .map(|w| LayerSpec::new(w, self.activation.clone()))
            .collect();
        layers.push(LayerSpec::new(self.data.output_dim(), Activation::Identity));
        NetSpec::new(self.data.input_dim(), layers)
    }

    /// Trains one student per seed: the frozen layers' weights fixed (biases free, starting at
    /// the reconstruction), the rest from a Glorot draw of the seed.
    fn students(
        &self,
        frozen: &[Frozen],
        widths: &[usize],
        seeds: &[u64],
        stage: &str,
        hooks: &Hooks<'_>,
    ) -> Result<(NetSpec, Vec<Result<RunRecord>>)> {
        let spec = self.spec(frozen, widths)?;
        let layouts = spec.layouts();
        let mut mask = vec![false; spec.n_params()];
        for (l, _) in frozen.iter().enumerate() {
            mask[layouts[l].weight.clone()].fill(true);
        }
        let runs = self.pool.install(|| {
            seeds
                .par_iter()
                .map(|&seed| {
                    let mut x0 = Init::GlorotNormal.draw(&spec, &mut Stream::new(seed, 0));
                    for (l, f) in frozen.iter().enumerate() {
                        let lay = &layouts[l];
                        for (j, r) in f.rows.iter().enumerate() {
                            x0[lay.w(j, 0)..lay.w(j, 0) + lay.cols].copy_from_slice(r);
                        }
                        if let Some(b) = &lay.bias {
                            x0[b.clone()].copy_from_slice(&f.bias);
                        }
                    }
                    if let Some(rec) = (hooks.cached)(stage, seed)
                        .filter(|rec| self.is_same_run(rec, &spec, &x0, seed))
                    {
                        (hooks.message)(&format!("{stage} seed {seed}: reusing the saved run"));
                        return Ok(rec);
                    }
                    let r = train_frozen(
                        &spec,
                        self.data,
                        Loss::Mse,
                        &x0,
                        seed,
                        &self.flow,
                        &self.refine,
                        self.config.clone(),
                        (hooks.progress)(stage, seed),
                        (!frozen.is_empty()).then_some(&mask[..]),
                    );
                    if let Ok(rec) = &r {
                        (hooks.done)(stage, rec);
                    }
                    r
                })
                .collect()
        });
        Ok((spec, runs))
    }
}

fn summary(r: &RunRecord, used: bool) -> StudentSummary {
    StudentSummary {
        seed: r.seed,
        shape: r.shape.clone(),
        loss: r.loss,
        gnorm: r.gnorm,
        stop: (r.ode.stop, r.optim.stop),
        time: r.total_time,
        used,
    }
}

/// The runs used for clustering: finite loss and parameters, and a final loss within `ratio`
/// of the best one — but always at least the lowest-loss half of the finite runs and enough
/// runs for `γN ≥ 2` (students
/// stuck far above the others have not found the teacher's function and only add noise).
/// Errors if fewer than two remain.
fn usable(
    runs: Vec<Result<RunRecord>>,
    ratio: f64,
    gamma: f64,
) -> Result<(Vec<RunRecord>, Vec<StudentSummary>)> {
    let mut finite: Vec<RunRecord> = Vec::new();
    let mut summaries = Vec::new();
    for r in runs {
        let r = r?;
        let good = r.loss.is_finite() && r.x.iter().all(|v| v.is_finite());
        summaries.push(summary(&r, good));
        if good {
            finite.push(r);
        }
    }
    finite.sort_by(|a, b| a.loss.total_cmp(&b.loss));
    let best = finite.first().map_or(f64::NAN, |r| r.loss);
    // At least half of them, and enough for γ·N ≥ 2.
    let floor = finite
        .len()
        .div_ceil(2)
        .max((2.0 / gamma).ceil() as usize)
        .min(finite.len());
    let keep = finite
        .iter()
        .enumerate()
        .take_while(|(i, r)| *i < floor || r.loss <= best.max(f64::MIN_POSITIVE) * ratio)
        .count();
    finite.truncate(keep);
    for s in &mut summaries {
        s.used = finite.iter().any(|r| r.seed == s.seed);
    }
    if finite.len() < 2 {
        return Err(Error::invalid(
            "students",
            format!(
                "only {} of {} students trained to a finite loss; Expand-and-Cluster needs at least 2",
                finite.len(),
                summaries.len()
            ),
        ));
    }
    Ok((finite, summaries))
}

fn student_layers(spec: &NetSpec, runs: &[RunRecord], l: usize) -> Result<Vec<StudentLayer>> {
    runs.iter()
        .map(|r| {
            let net = Network::new(spec.clone(), r.x.clone())?;
            Ok(StudentLayer {
                id: r.seed,
                loss: r.loss,
                neurons: layer_neurons(&net, l)?,
            })
        })
        .collect()
}

/// Activations of the last frozen layer (`N × k`, row-major) for every sample.
fn hidden_features(data: &Dataset, activation: &Activation, frozen: &[Frozen]) -> Vec<Vec<f64>> {
    let x = data.x();
    (0..data.n_samples())
        .map(|i| {
            let mut a: Vec<f64> = (0..data.input_dim()).map(|c| x[(i, c)]).collect();
            for f in frozen {
                a = f
                    .rows
                    .iter()
                    .zip(&f.bias)
                    .map(|(w, b)| {
                        activation.eval(w.iter().zip(&a).map(|(w, a)| w * a).sum::<f64>() + b)
                    })
                    .collect();
            }
            a
        })
        .collect()
}

/// The output layer by (weighted) least squares on the reconstructed hidden stack, with the
/// affine correction `Θ·input` of the last hidden layer for even+linear activations
/// (SPEC §8 step 4) represented by linear neuron pairs. Returns the full network and the
/// number of linear neurons added.
fn reconstruct_output(
    data: &Dataset,
    activation: &Activation,
    mut frozen: Vec<Frozen>,
) -> Result<(Network, usize)> {
    let n = data.n_samples();
    let k = data.output_dim();
    let last = frozen.len() - 1;
    let inputs = hidden_features(data, activation, &frozen[..last]);
    let hidden = hidden_features(data, activation, &frozen);
    let m = frozen[last].rows.len();
    let din = frozen[last].rows.first().map_or(0, Vec::len);
    let linear = matches!(
        activation.symmetry(),
        SymmetryClass::EvenPlusLinear | SymmetryClass::EvenPlusLinearPositiveScaling
    );
    let cols = m + 1 + if linear { din } else { 0 };
    let sw: Vec<f64> = match data.weights() {
        Some(w) => w.iter().map(|w| w.sqrt()).collect(),
        None => vec![1.0; n],
    };
    let a = Mat::from_fn(n, cols, |i, c| {
        sw[i]
            * if c < m {
                hidden[i][c]
            } else if c == m {
                1.0
            } else {
                inputs[i][c - m - 1]
            }
    });
    let y = data.y();
    let rhs = Mat::from_fn(n, k, |i, o| sw[i] * y[(i, o)]);
    let sol = a.col_piv_qr().solve_lstsq(&rhs);
    if (0..cols).any(|c| (0..k).any(|o| !sol[(c, o)].is_finite())) {
        return Err(Error::Numerical {
            routine: "output-layer least squares".into(),
            reason: "non-finite solution".into(),
        });
    }
    // Linear pairs: σ(θ·u) − σ(−θ·u) = (1 + α)·θ·u for the even+linear classes.
    let gain = match activation {
        Activation::LeakyRelu { alpha } => 1.0 + alpha,
        _ => 1.0,
    };
    let mut out_rows: Vec<Vec<f64>> = (0..k)
        .map(|o| (0..m).map(|c| sol[(c, o)]).collect())
        .collect();
    let mut n_linear = 0;
    if linear {
        for o in 0..k {
            let theta: Vec<f64> = (0..din).map(|c| sol[(m + 1 + c, o)]).collect();
            if theta.iter().all(|t| t.abs() < 1e-12) {
                continue;
            }
            let neg: Vec<f64> = theta.iter().map(|t| -t).collect();
            frozen[last].rows.push(theta);
            frozen[last].rows.push(neg);
            frozen[last].bias.extend([0.0, 0.0]);
            for (oo, row) in out_rows.iter_mut().enumerate() {
                let v = if oo == o { 1.0 / gain } else { 0.0 };
                row.extend([v, -v]);
            }
            n_linear += 2;
        }
    }
    let out_bias: Vec<f64> = (0..k).map(|o| sol[(m, o)]).collect();
    let mut layers: Vec<LayerSpec> = frozen
        .iter()
        .map(|f| LayerSpec::new(f.rows.len(), activation.clone()))
        .collect();
    layers.push(LayerSpec::new(k, Activation::Identity));
    let spec = NetSpec::new(data.input_dim(), layers)?;
    let mut params = Vec::with_capacity(spec.n_params());
    for f in &frozen {
        for r in &f.rows {
            params.extend_from_slice(r);
        }
        params.extend_from_slice(&f.bias);
    }
    for r in &out_rows {
        params.extend_from_slice(r);
    }
    params.extend_from_slice(&out_bias);
    Ok((Network::new(spec, params)?, n_linear))
}

fn frozen_from(neurons: &[Neuron]) -> Frozen {
    let dim = neurons.first().map_or(0, |n| n.incoming.len() - 1);
    Frozen {
        rows: neurons.iter().map(|n| n.incoming[..dim].to_vec()).collect(),
        bias: neurons.iter().map(|n| n.incoming[dim]).collect(),
    }
}

fn std_dev(v: &[f64]) -> f64 {
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    (v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n).sqrt()
}

/// Runs Expand-and-Cluster on the data of `cfg` (SPEC §8).
pub fn recover(cfg: &RecoverConfig, hooks: &Hooks<'_>) -> Result<Recovery> {
    let start = std::time::Instant::now();
    if cfg.threads == Some(0) {
        return Err(Error::invalid("--threads", "must be at least 1"));
    }
    if cfg.students < 2 {
        return Err(Error::invalid(
            "--students",
            format!(
                "Expand-and-Cluster needs at least 2 students, got {}",
                cfg.students
            ),
        ));
    }
    if cfg.activation.is_softmax() {
        return Err(Error::invalid(
            "--activation",
            "softmax is not a hidden activation",
        ));
    }
    if cfg.finetune_time.is_nan() || cfg.finetune_time < 0.0 {
        return Err(Error::invalid(
            "--finetune-time",
            "must be a non-negative number of seconds",
        ));
    }
    let cluster_cfg = ClusterConfig {
        gamma: cfg.gamma,
        beta: cfg.beta,
        offbound_distance: cfg.offbound_distance,
        negligible_outgoing: cfg.negligible_outgoing,
    };
    // Validate γ/β before spending any training time.
    cluster_cfg.check(cfg.students)?;
    if cfg.data.is_none() && cfg.teacher.is_none() {
        return Err(Error::invalid(
            "recover",
            "give the data (--data F) or a teacher to sample them from (--teacher F)",
        ));
    }
    // Data (and teacher) through the same resolution as `solve`.
    let problem = resolve_problem(&SolveConfig {
        width: Some(1),
        teacher: if cfg.data.is_some() {
            None
        } else {
            cfg.teacher.clone()
        },
        data: cfg.data.clone(),
        samples: cfg.samples,
        data_seed: cfg.data_seed,
        activation: cfg.activation.clone(),
        ..SolveConfig::default()
    })?;
    let teacher = match (&problem.teacher, &cfg.teacher) {
        (Some(t), _) => Some(t.clone()),
        (None, Some(path)) => Some(crate::io::read_network(path)?),
        (None, None) => None,
    };
    if let Some(t) = &teacher {
        if t.spec.input_dim != problem.data.input_dim()
            || t.spec.output_dim() != problem.data.output_dim()
        {
            return Err(Error::invalid(
                "--teacher",
                format!(
                    "teacher {} does not fit the data ({} inputs, {} outputs)",
                    t.spec.shape_string(),
                    problem.data.input_dim(),
                    problem.data.output_dim()
                ),
            ));
        }
    }
    let data = &problem.data;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(cfg.threads.unwrap_or(0))
        .build()
        .map_err(|e| Error::invalid("--threads", e.to_string()))?;
    let config = serde_json::to_value(cfg).map_err(|e| Error::invalid("config", e.to_string()))?;
    let mut trainer = Trainer {
        data,
        activation: cfg.activation.clone(),
        flow: cfg.flow.clone(),
        refine: cfg.refine.clone(),
        pool,
        config,
    };

    // Student widths: given, relative to the teacher, or chosen by the expansion phase.
    let mut expansion = Vec::new();
    let widths: Vec<usize> = match (&cfg.layers, cfg.width, cfg.rho) {
        (Some(l), _, _) => l.clone(),
        (None, Some(w), _) => vec![w],
        (None, None, Some(rho)) => {
            let t = teacher.as_ref().ok_or_else(|| {
                Error::invalid("--rho", "needs --teacher (or give --width/--layers)")
            })?;
            (1..t.spec.depth()).map(|l| rho * t.spec.width(l)).collect()
        }
        (None, None, None) => {
            if cfg.expand_factor == 0 {
                return Err(Error::invalid("--expand-factor", "must be at least 1"));
            }
            let w = expand(cfg, &mut trainer, hooks, &mut expansion)?;
            trainer.flow = cfg.flow.clone();
            trainer.refine = cfg.refine.clone();
            (hooks.message)(&format!(
                "expansion: students of width {} (--expand-factor {} × {w})",
                w * cfg.expand_factor,
                cfg.expand_factor
            ));
            vec![w * cfg.expand_factor]
        }
    };
    if widths.is_empty() || widths.contains(&0) {
        return Err(Error::invalid("student widths", "must be positive"));
    }

    let seeds: Vec<u64> = (0..cfg.students as u64)
        .map(|i| cfg.first_seed + i)
        .collect();
    let mut frozen: Vec<Frozen> = Vec::new();
    let mut layers: Vec<LayerReport> = Vec::new();
    for l in 0..widths.len() {
        (hooks.message)(&format!(
            "layer {}: training {} students {}",
            l + 1,
            seeds.len(),
            trainer.spec(&frozen, &widths[l..])?.shape_string()
        ));
        let (spec, runs) = trainer.students(
            &frozen,
            &widths[l..],
            &seeds,
            &format!("layer {}", l + 1),
            hooks,
        )?;
        let (runs, students) = usable(runs, cfg.student_loss_ratio, cfg.gamma)?;
        let mut students_layers = student_layers(&spec, &runs, l)?;
        if l > 0 {
            // Drop reconstructed neurons of the layer below whose retrained bias varies.
            let lay = &spec.layouts()[l - 1];
            let mut drops = Vec::new();
            if let Some(b) = &lay.bias {
                for j in 0..lay.rows {
                    let v: Vec<f64> = runs.iter().map(|r| r.x[b.start + j]).collect();
                    let s = std_dev(&v);
                    if s > cfg.bias_std_max {
                        drops.push(BiasDrop {
                            neuron: j,
                            bias_std: s,
                        });
                    }
                }
            }
            // Keep the lowest-loss student's biases for the frozen layers.
            let best = runs
                .iter()
                .min_by(|a, b| a.loss.total_cmp(&b.loss))
                .expect("at least two runs");
            for (ll, f) in frozen.iter_mut().enumerate() {
                if let Some(b) = &spec.layouts()[ll].bias {
                    f.bias.copy_from_slice(&best.x[b.clone()]);
                }
            }
            if drops.len() < lay.rows {
                let keep: Vec<bool> = (0..lay.rows)
                    .map(|j| !drops.iter().any(|d| d.neuron == j))
                    .collect();
                let f = &mut frozen[l - 1];
                let mut it = keep.iter();
                f.rows.retain(|_| *it.next().unwrap_or(&true));
                let mut it = keep.iter();
                f.bias.retain(|_| *it.next().unwrap_or(&true));
                for s in &mut students_layers {
                    for n in &mut s.neurons {
                        let bias = n.incoming.pop();
                        let mut it = keep.iter();
                        n.incoming.retain(|_| *it.next().unwrap_or(&true));
                        n.incoming.extend(bias);
                    }
                }
                if !drops.is_empty() {
                    (hooks.message)(&format!(
                        "layer {}: dropped {} reconstructed neuron(s) whose retrained bias varies",
                        l,
                        drops.len()
                    ));
                }
                layers[l - 1].recovered_width = keep.iter().filter(|&&k| k).count();
                layers[l - 1].dropped_after_retraining = drops;
            }
        }
        let clustering = cluster_layer(
            &students_layers,
            cfg.activation.symmetry(),
            true,
            &cluster_cfg,
        )?;
        let neurons = clustering.neurons();
        (hooks.message)(&format!(
            "layer {}: {} of {} clusters kept (cut at height {:.3e})",
            l + 1,
            neurons.len(),
            clustering.clusters.len(),
            clustering.cut.height
        ));
        if neurons.is_empty() {
            return Err(Error::Numerical {
                routine: "Expand-and-Cluster".into(),
                reason: format!(
                    "layer {}: no cluster has γN = {} members with median angle ≤ β; the students did not agree (train longer, use more students or a smaller γ)",
                    l + 1,
                    clustering.min_size
                ),
            });
        }
        frozen.push(frozen_from(&neurons));
        layers.push(LayerReport {
            layer: l + 1,
            student_width: widths[l],
            clustered: neurons.len(),
            dropped_after_retraining: Vec::new(),
            recovered_width: neurons.len(),
            linear_neurons: 0,
            clustering,
            students,
        });
    }

    let (net, n_linear) = reconstruct_output(data, &cfg.activation, frozen)?;
    if let Some(last) = layers.last_mut() {
        last.linear_neurons = n_linear;
    }
    let mut obj = Objective::new(&net.spec, data, Loss::Mse)?;
    let reconstructed_loss = obj.loss(&net.params) * obj.mean_scale();
    (hooks.message)(&format!(
        "reconstructed {} (loss {reconstructed_loss:.3e}); fine-tuning",
        net.spec.shape_string()
    ));
    let mut flow = cfg.flow.clone();
    flow.maxtime_ode = cfg.finetune_time;
    let mut refine = cfg.refine.clone();
    refine.maxtime_optim = cfg.finetune_time;
    let finetune = train_frozen(
        &net.spec,
        data,
        Loss::Mse,
        &net.params,
        0,
        &flow,
        &refine,
        trainer.config.clone(),
        (hooks.progress)("fine-tune", 0),
        None,
    )?;
    let network = Network::new(net.spec.clone(), finetune.x.clone())?;
    let metrics = match &teacher {
        Some(t) => {
            let lin: Vec<usize> = layers.iter().map(|l| l.linear_neurons).collect();
            Some(compare(t, &network, data, &lin)?)
        }
        None => None,
    };
    let report = RecoverReport {
        gradflow_version: env!("CARGO_PKG_VERSION").to_string(),
        data: problem.description.clone(),
        expansion,
        student_widths: widths,
        layers,
        recovered_shape: network.spec.shape_string(),
        reconstructed_loss,
        loss: finetune.loss,
        rmse: finetune.rmse.unwrap_or(f64::NAN),
        finetune,
        metrics,
        wall_time: start.elapsed().as_secs_f64(),
        config: cfg.clone(),
    };
    Ok(Recovery { network, report })
}

/// The expansion phase: probe widths in order with short runs; the first whose best probe
/// reaches `probe_loss` is chosen. If none does, the smallest width whose best probe is within
/// `probe_ratio` of the best probe overall (the knee of the loss-versus-width curve, paper
/// Fig. A.2B).
fn expand(
    cfg: &RecoverConfig,
    trainer: &mut Trainer<'_>,
    hooks: &Hooks<'_>,
    probes: &mut Vec<Probe>,
) -> Result<usize> {
    if cfg.probe_widths.is_empty() || cfg.probe_widths.contains(&0) || cfg.probe_students == 0 {
        return Err(Error::invalid(
            "expansion",
            "--probe-widths must be positive widths and --probe-students at least 1",
        ));
    }
    trainer.flow.maxtime_ode = cfg.probe_time / 2.0;
    trainer.refine.maxtime_optim = cfg.probe_time / 2.0;
    let seeds: Vec<u64> = (0..cfg.probe_students as u64)
        .map(|i| cfg.first_seed + 1_000_000 + i)
        .collect();
    for &w in &cfg.probe_widths {
        (hooks.message)(&format!("expansion: probing width {w}"));
        let (_, runs) = trainer.students(&[], &[w], &seeds, &format!("probe {w}"), hooks)?;
        let losses: Vec<f64> = runs
            .into_iter()
            .map(|r| r.map(|r| r.loss))
            .collect::<Result<_>>()?;
        let best_loss = losses.iter().copied().fold(f64::INFINITY, f64::min);
        probes.push(Probe {
            width: w,
            best_loss,
            losses,
        });
        if best_loss <= cfg.probe_loss {
            (hooks.message)(&format!(
                "expansion: width {w} reaches {best_loss:.3e} ≤ {:.1e}",
                cfg.probe_loss
            ));
            return Ok(w);
        }
    }
    // No probe reached near-zero loss within its budget: take the knee of the loss-versus-width
    // curve, the smallest width within `probe_ratio` of the best probe.
    let best = probes
        .iter()
        .map(|p| p.best_loss)
        .fold(f64::INFINITY, f64::min);
    let w = probes
        .iter()
        .find(|p| p.best_loss <= best * cfg.probe_ratio)
        .map_or(*cfg.probe_widths.last().expect("non-empty"), |p| p.width);
    (hooks.message)(&format!(
        "expansion: no probed width reached {:.1e}; width {w} is the smallest within {:.0e}× of the best probe ({best:.3e})",
        cfg.probe_loss, cfg.probe_ratio
    ));
    Ok(w)
}
