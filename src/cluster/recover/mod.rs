//! Expand-and-Cluster end to end (SPEC §8): expansion, students, layer-by-layer clustering,
//! output reconstruction, fine-tuning and metrics — the library side of `gradflow recover`.

mod config;
mod expand;
mod output;
mod report;
mod students;

pub use config::RecoverConfig;
pub use report::{BiasDrop, LayerReport, Probe, RecoverReport, StudentSummary};
pub use students::{student_init, student_spec};

use super::layer::{ClusterConfig, cluster_layer};
use super::metrics::compare;
use crate::error::{Error, Result};
use crate::monitor::ProgressFn;
use crate::net::{Loss, Network, Objective};
use crate::solve::{SolveConfig, resolve_problem};
use crate::train::{RunRecord, train_frozen};
use expand::expand;
use output::{frozen_from, reconstruct_output};
use students::{Frozen, Trainer, Workers, student_layers, usable};

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

/// After retraining on a frozen prefix: takes the frozen layers' biases from the lowest-loss
/// run (`runs` is sorted by loss) and returns the neurons of the last frozen layer whose
/// retrained bias varies across runs by more than `max_std` (SPEC §8 step 5). If every neuron
/// varies, none is dropped.
fn retrained_biases(
    spec: &crate::net::NetSpec,
    runs: &[RunRecord],
    frozen: &mut [Frozen],
    max_std: f64,
) -> Vec<BiasDrop> {
    let layouts = spec.layouts();
    for (l, f) in frozen.iter_mut().enumerate() {
        if let Some(b) = &layouts[l].bias {
            f.bias.copy_from_slice(&runs[0].x[b.clone()]);
        }
    }
    let lay = &layouts[frozen.len() - 1];
    let Some(b) = &lay.bias else {
        return Vec::new();
    };
    let drops: Vec<BiasDrop> = (0..lay.rows)
        .filter_map(|j| {
            let v: Vec<f64> = runs.iter().map(|r| r.x[b.start + j]).collect();
            let s = std_dev(&v);
            (s > max_std).then_some(BiasDrop {
                neuron: j,
                bias_std: s,
            })
        })
        .collect();
    if drops.len() == lay.rows {
        Vec::new()
    } else {
        drops
    }
}

/// Removes the `drops` from a frozen layer and the matching inputs of the next layer's
/// student neurons (their incoming vectors end with the bias).
fn drop_neurons(
    frozen: &mut Frozen,
    students: &mut [super::layer::StudentLayer],
    drops: &[BiasDrop],
) {
    if drops.is_empty() {
        return;
    }
    let keep = |j: usize| !drops.iter().any(|d| d.neuron == j);
    let retain = |v: &mut Vec<f64>| {
        let mut j = 0;
        v.retain(|_| {
            j += 1;
            keep(j - 1)
        });
    };
    let mut j = 0;
    frozen.rows.retain(|_| {
        j += 1;
        keep(j - 1)
    });
    retain(&mut frozen.bias);
    for s in students {
        for n in &mut s.neurons {
            let bias = n.incoming.pop();
            retain(&mut n.incoming);
            n.incoming.extend(bias);
        }
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
    // One thread: the calling thread trains the students one after the other. No thread count
    // and already on a rayon worker (a study task): that pool. Otherwise a pool of our own.
    let pool = match cfg.threads {
        Some(1) => Workers::Sequential,
        None if rayon::current_thread_index().is_some() => Workers::Current,
        t => Workers::Own(
            rayon::ThreadPoolBuilder::new()
                .num_threads(t.unwrap_or(0))
                .build()
                .map_err(|e| Error::invalid("--threads", e.to_string()))?,
        ),
    };
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
            let drops = retrained_biases(&spec, &runs, &mut frozen, cfg.bias_std_max);
            drop_neurons(&mut frozen[l - 1], &mut students_layers, &drops);
            if !drops.is_empty() {
                (hooks.message)(&format!(
                    "layer {l}: dropped {} reconstructed neuron(s) whose retrained bias varies",
                    drops.len()
                ));
            }
            layers[l - 1].recovered_width = frozen[l - 1].rows.len();
            layers[l - 1].dropped_after_retraining = drops;
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
                    "layer {}: no cluster has members from γN = {} of the {} students used with median angle ≤ β; the students did not agree (train longer, use more students or a smaller γ)",
                    l + 1,
                    clustering.min_size.ceil(),
                    students_layers.len()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::{Neuron, StudentLayer};

    #[test]
    fn a_dropped_neuron_leaves_the_frozen_layer_and_the_next_layers_inputs() {
        let mut frozen = Frozen {
            rows: vec![vec![1.0, 2.0], vec![3.0, 4.0], vec![5.0, 6.0]],
            bias: vec![0.1, 0.2, 0.3],
        };
        let mut students = vec![StudentLayer {
            id: 0,
            loss: 0.0,
            neurons: vec![Neuron {
                incoming: vec![7.0, 8.0, 9.0, -1.0],
                outgoing: vec![1.0],
            }],
        }];
        let drops = [BiasDrop {
            neuron: 1,
            bias_std: 0.5,
        }];
        drop_neurons(&mut frozen, &mut students, &drops);
        assert_eq!(frozen.rows, vec![vec![1.0, 2.0], vec![5.0, 6.0]]);
        assert_eq!(frozen.bias, vec![0.1, 0.3]);
        assert_eq!(students[0].neurons[0].incoming, vec![7.0, 9.0, -1.0]);
    }
}
