//! Expand-and-Cluster end to end (SPEC §8): expansion, students, layer-by-layer clustering,
//! output reconstruction, fine-tuning and metrics — the library side of `gradflow recover`.

mod config;
mod expand;
mod files;
mod output;
mod prune;
mod report;
mod students;

pub use config::RecoverOptions;
pub use files::{
    RECOVERED_FILE, REPORT_FILE, STUDENTS_DIR, read_saved_students, student_file, write_recovery,
    write_student,
};
pub use report::{BiasDrop, LayerReport, Probe, PruneTrial, RecoverReport, StudentSummary};
pub use students::{student_init, student_spec};

use super::layer::cluster_layer_masked;
use super::metrics::compare;
use crate::error::{Error, Result};
use crate::net::{Dataset, Loss, Network, Objective};
use crate::observe::{RunId, Stage, Watch};
use crate::train::{RunRecord, TrainOptions, TrainProblem, train};
use expand::expand;
use output::{frozen_from, reconstruct_output};
use students::{Frozen, Trainer, Workers, student_layers, usable};

/// A recovered network with its report and the students it was clustered from.
#[derive(Clone, Debug)]
pub struct Recovery {
    /// The recovered network.
    pub network: Network,
    /// The report.
    pub report: RecoverReport,
    /// Every student run (trained now or reused), with its stage, in the order they finished.
    pub students: Vec<(RunId, RunRecord)>,
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
    retain_undropped(&mut frozen.rows, drops);
    retain_undropped(&mut frozen.bias, drops);
    for s in students {
        for n in &mut s.neurons {
            let bias = n.incoming.pop();
            retain_undropped(&mut n.incoming, drops);
            n.incoming.extend(bias);
        }
    }
}

/// Removes the entries of `v` at the `drops`' neuron indices.
fn retain_undropped<T>(v: &mut Vec<T>, drops: &[BiasDrop]) {
    let mut j = 0;
    v.retain(|_| {
        j += 1;
        !drops.iter().any(|d| d.neuron == j - 1)
    });
}

fn std_dev(v: &[f64]) -> f64 {
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    (v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n).sqrt()
}

/// [`Error::Interrupted`] once the watch's flag is cancelled.
fn interrupted(watch: &Watch) -> Result<()> {
    if watch.is_cancelled() {
        Err(Error::Interrupted)
    } else {
        Ok(())
    }
}

/// Runs Expand-and-Cluster on `data` (SPEC §8): students, layer-by-layer clustering, the
/// output layer, fine-tuning, and — when the `teacher` that produced the data is given —
/// metrics against it.
///
/// `saved` are student records of an earlier, interrupted recovery (any order): a run whose
/// [`RunKey`](crate::train::RunKey) matches, that was not interrupted and whose loss its
/// parameters reproduce on `data` is reused instead of trained again. Every finished student
/// is reported to `watch` as it finishes ([`Event::RunDone`](crate::observe::Event::RunDone)),
/// with its [`RunId`]; when the flag is cancelled, the running students end at their best
/// points and the call returns [`Error::Interrupted`].
pub fn recover(
    data: &Dataset,
    teacher: Option<&Network>,
    cfg: &RecoverOptions,
    saved: &[RunRecord],
    watch: &Watch,
) -> Result<Recovery> {
    let start = std::time::Instant::now();
    cfg.check()?;
    if let Some(t) = teacher {
        check_teacher(t, data)?;
    }
    // One thread: the calling thread trains the students one after the other. No thread count
    // and already on a rayon worker (a study task): that pool. Otherwise a pool of our own.
    let pool = match cfg.threads {
        Some(1) => Workers::Sequential,
        None if rayon::current_thread_index().is_some() => Workers::Current,
        t => Workers::Own(crate::parallel::pool(t, "threads")?),
    };
    let config = serde_json::to_value(cfg).map_err(|e| Error::invalid("config", e.to_string()))?;
    let mut trainer = Trainer {
        data,
        activation: cfg.activation.clone(),
        flow: cfg.flow.clone(),
        refine: cfg.refine.clone(),
        pool,
        config,
        runs: std::sync::Mutex::new(Vec::new()),
    };

    // Inputs to leave out are settled (and a bad mask refused) before any student trains.
    let masked = match (&cfg.input_mask, cfg.input_mask_std) {
        (Some(m), _) => {
            if let Some(&i) = m.iter().find(|&&i| i >= data.input_dim()) {
                return Err(Error::invalid(
                    "input_mask",
                    format!(
                        "input {i} is not an input of the data ({} inputs)",
                        data.input_dim()
                    ),
                ));
            }
            let mut m = m.clone();
            m.sort_unstable();
            m.dedup();
            m
        }
        (None, Some(r)) => super::uninformative_inputs(data, r),
        (None, None) => Vec::new(),
    };
    if masked.len() == data.input_dim() {
        return Err(Error::invalid(
            "input_mask_std",
            "every input is masked as uninformative: nothing to recover",
        ));
    }
    if !masked.is_empty() {
        let rule = match (&cfg.input_mask, cfg.input_mask_std) {
            (Some(_), _) => "given".to_string(),
            (None, r) => format!("std ≤ {} × the largest", r.unwrap_or(0.0)),
        };
        watch.message(&format!(
            "{} of {} inputs are uninformative ({rule}): left out of the clustering and the metrics",
            masked.len(),
            data.input_dim(),
        ));
    }

    let mut expansion = Vec::new();
    let widths = student_widths(cfg, teacher, &mut trainer, saved, watch, &mut expansion)?;
    if widths.is_empty() || widths.contains(&0) {
        return Err(Error::invalid("student widths", "must be positive"));
    }

    let seeds: Vec<u64> = (0..cfg.students as u64)
        .map(|i| cfg.first_seed + i)
        .collect();
    let mut frozen: Vec<Frozen> = Vec::new();
    let mut layers: Vec<LayerReport> = Vec::new();
    for l in 0..widths.len() {
        let layer = recover_layer(
            l,
            &widths,
            &seeds,
            &mut trainer,
            &mut frozen,
            &mut layers,
            cfg,
            if l == 0 { &masked } else { &[] },
            saved,
            watch,
        )?;
        layers.push(layer);
    }

    let (net, n_linear) = reconstruct_output(data, &cfg.activation, frozen)?;
    if let Some(last) = layers.last_mut() {
        last.linear_neurons = n_linear;
    }
    let mut obj = Objective::new(&net.spec, data, Loss::Mse)?;
    let reconstructed_loss = obj.loss(&net.params) * obj.mean_scale();
    watch.message(&format!(
        "reconstructed {} (loss {reconstructed_loss:.3e}); fine-tuning",
        net.spec.shape_string()
    ));
    let finetune = fine_tune(&net, data, cfg, &trainer.config, watch)?;
    // A fine-tuning cut short is not a result: the call reports the interruption, so that a
    // study does not record (and a resume skip) a network that was never fine-tuned.
    interrupted(watch)?;
    let mut network = Network::new(net.spec.clone(), finetune.x.clone())?;
    let (mut loss, mut rmse) = (finetune.loss, finetune.rmse);
    if let Some(last) = layers.last_mut()
        && cfg.prune_support > 0.0
    {
        let p = prune::prune_spare(
            &prune::PruneStart {
                network: &network,
                loss,
                rmse,
                support: &last.support,
                students: last.clustering.n_students,
            },
            data,
            cfg,
            watch,
        )?;
        interrupted(watch)?;
        last.recovered_width -= p.trials.iter().filter(|t| t.removed).count();
        last.pruned = p.trials;
        (network, loss, rmse) = (p.network, p.loss, p.rmse);
    }
    let metrics = match teacher {
        Some(t) => {
            let lin: Vec<usize> = layers.iter().map(|l| l.linear_neurons).collect();
            Some(compare(t, &network, data, &lin, &masked)?)
        }
        None => None,
    };
    let report = RecoverReport {
        gradflow_version: env!("CARGO_PKG_VERSION").to_string(),
        data: format!(
            "{} samples, {} inputs, {} outputs",
            data.n_samples(),
            data.input_dim(),
            data.output_dim()
        ),
        expansion,
        masked_inputs: masked,
        student_widths: widths,
        layers,
        recovered_shape: network.spec.shape_string(),
        reconstructed_loss,
        loss,
        rmse: rmse.unwrap_or(f64::NAN),
        finetune,
        metrics,
        wall_time: start.elapsed().as_secs_f64(),
        config: cfg.clone(),
    };
    let students = trainer.runs.into_inner().expect("runs");
    Ok(Recovery {
        network,
        report,
        students,
    })
}

/// Checks that the teacher fits the data.
fn check_teacher(t: &Network, data: &Dataset) -> Result<()> {
    if t.spec.input_dim != data.input_dim() || t.spec.output_dim() != data.output_dim() {
        return Err(Error::invalid(
            "teacher",
            format!(
                "teacher {} does not fit the data ({} inputs, {} outputs)",
                t.spec.shape_string(),
                data.input_dim(),
                data.output_dim()
            ),
        ));
    }
    Ok(())
}

/// The students' hidden widths: given (`layers`, `width`), relative to the teacher (`rho`), or
/// chosen by the expansion phase (whose probes go to `expansion`).
fn student_widths(
    cfg: &RecoverOptions,
    teacher: Option<&Network>,
    trainer: &mut Trainer<'_>,
    saved: &[RunRecord],
    watch: &Watch,
    expansion: &mut Vec<Probe>,
) -> Result<Vec<usize>> {
    Ok(match (&cfg.layers, cfg.width, cfg.rho) {
        (Some(l), _, _) => l.clone(),
        (None, Some(w), _) => vec![w],
        (None, None, Some(rho)) => {
            let t = teacher.ok_or_else(|| {
                Error::invalid(
                    "rho",
                    "needs the teacher (or give a width or hidden layers)",
                )
            })?;
            (1..t.spec.depth()).map(|l| rho * t.spec.width(l)).collect()
        }
        (None, None, None) => {
            if cfg.expand_factor == 0 {
                return Err(Error::invalid("expand_factor", "must be at least 1"));
            }
            let w = expand(cfg, trainer, saved, watch, expansion)?;
            trainer.flow = cfg.flow.clone();
            trainer.refine = cfg.refine.clone();
            watch.message(&format!(
                "expansion: students of width {} (expand_factor {} × {w})",
                w * cfg.expand_factor,
                cfg.expand_factor
            ));
            vec![w * cfg.expand_factor]
        }
    })
}

/// Layer `l` of the layer-by-layer recovery: trains the students with the layers recovered so
/// far frozen (`frozen`), drops reconstructed neurons of the previous layer whose retrained
/// bias varies (updating its report in `layers`), clusters the students' layer `l` and freezes
/// the neurons found. Returns the layer's report.
#[allow(clippy::too_many_arguments)]
fn recover_layer(
    l: usize,
    widths: &[usize],
    seeds: &[u64],
    trainer: &mut Trainer<'_>,
    frozen: &mut Vec<Frozen>,
    layers: &mut [LayerReport],
    cfg: &RecoverOptions,
    ignore_inputs: &[usize],
    saved: &[RunRecord],
    watch: &Watch,
) -> Result<LayerReport> {
    watch.message(&format!(
        "layer {}: training {} students {}",
        l + 1,
        seeds.len(),
        trainer.spec(frozen, &widths[l..])?.shape_string()
    ));
    let (spec, runs) = trainer.students(
        frozen,
        &widths[l..],
        seeds,
        Stage::Layer { layer: l + 1 },
        saved,
        watch,
    )?;
    let (runs, students) = usable(runs, cfg.student_loss_ratio, cfg.gamma)?;
    let mut students_layers = student_layers(&spec, &runs, l)?;
    if l == 0 && !ignore_inputs.is_empty() {
        // Only the sum of a constant input's weight and the bias is determined: fold the
        // weights on uninformative inputs into the bias at their means (SPEC §8, input masks).
        let means = super::input_means(trainer.data);
        for s in &mut students_layers {
            for n in &mut s.neurons {
                super::fold_into_bias(&mut n.incoming, ignore_inputs, &means);
            }
        }
    }
    if l > 0 {
        let drops = retrained_biases(&spec, &runs, frozen, cfg.bias_std_max);
        drop_neurons(&mut frozen[l - 1], &mut students_layers, &drops);
        if !drops.is_empty() {
            watch.message(&format!(
                "layer {l}: dropped {} reconstructed neuron(s) whose retrained bias varies",
                drops.len()
            ));
        }
        layers[l - 1].recovered_width = frozen[l - 1].rows.len();
        retain_undropped(&mut layers[l - 1].support, &drops);
        layers[l - 1].dropped_after_retraining = drops;
    }
    interrupted(watch)?;
    // Clustering many students' neurons takes seconds to minutes: say it has started.
    watch.message(&format!(
        "layer {}: clustering {} neurons of {} students",
        l + 1,
        students_layers
            .iter()
            .map(|s| s.neurons.len())
            .sum::<usize>(),
        students_layers.len()
    ));
    let clustering = cluster_layer_masked(
        &students_layers,
        cfg.activation.symmetry(),
        true,
        &cfg.cluster(),
        ignore_inputs,
    )?;
    let (neurons, merged, home) = merge_aligned(clustering.neurons(), cfg.beta, ignore_inputs);
    // Distinct students behind each recovered neuron (its kept clusters, merged ones included).
    let mut sets = vec![std::collections::BTreeSet::new(); neurons.len()];
    for (c, &h) in clustering
        .clusters
        .iter()
        .filter(|c| c.neuron.is_some())
        .zip(&home)
    {
        sets[h].extend(c.members.iter().map(|m| m.student));
    }
    let support: Vec<usize> = sets.iter().map(|s| s.len()).collect();
    watch.message(&format!(
        "layer {}: {} of {} clusters kept (cut at height {:.3e}){}",
        l + 1,
        neurons.len() + merged.len(),
        clustering.clusters.len(),
        clustering.cut.height,
        if merged.is_empty() {
            String::new()
        } else {
            format!("; {} merged into aligned ones", merged.len())
        }
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
    Ok(LayerReport {
        layer: l + 1,
        student_width: widths[l],
        clustered: neurons.len() + merged.len(),
        merged_aligned: merged,
        dropped_after_retraining: Vec::new(),
        recovered_width: neurons.len(),
        support,
        linear_neurons: 0,
        pruned: Vec::new(),
        clustering,
        students,
    })
}

/// Merges kept clusters whose neurons (canonical incoming `[w; b]`, the `ignore`d inputs left
/// out) are aligned within `beta` into the earlier — larger — one, summing the outgoing
/// weights: the cut may split the copies of one teacher neuron into several clusters that each
/// pass `γN`. Returns the neurons left, the indices (in kept order) of those merged, and for
/// every input neuron the index of the neuron left that it became part of.
fn merge_aligned(
    neurons: Vec<super::Neuron>,
    beta: f64,
    ignore: &[usize],
) -> (Vec<super::Neuron>, Vec<usize>, Vec<usize>) {
    let masked = |n: &super::Neuron| -> Vec<f64> {
        let mut v = n.incoming.clone();
        for &i in ignore {
            if let Some(x) = v.get_mut(i) {
                *x = 0.0;
            }
        }
        v
    };
    let mut kept: Vec<super::Neuron> = Vec::new();
    let mut merged = Vec::new();
    let mut home = Vec::with_capacity(neurons.len());
    for (k, n) in neurons.into_iter().enumerate() {
        let v = masked(&n);
        let into = kept.iter().position(|m| {
            let c = super::neuron::cosine(&masked(m), &v).clamp(-1.0, 1.0);
            c.acos() <= beta
        });
        match into {
            Some(j) => {
                for (a, b) in kept[j].outgoing.iter_mut().zip(&n.outgoing) {
                    *a += b;
                }
                merged.push(k);
                home.push(j);
            }
            None => {
                home.push(kept.len());
                kept.push(n);
            }
        }
    }
    (kept, merged, home)
}

/// Fine-tunes the reconstructed network on the data (both phases, `finetune_time` each).
fn fine_tune(
    net: &Network,
    data: &Dataset,
    cfg: &RecoverOptions,
    provenance: &serde_json::Value,
    watch: &Watch,
) -> Result<RunRecord> {
    let mut flow = cfg.flow.clone();
    flow.maxtime_ode = cfg.finetune_time;
    let mut refine = cfg.refine.clone();
    refine.maxtime_optim = cfg.finetune_time;
    train(
        &TrainProblem {
            spec: &net.spec,
            data,
            loss: Loss::Mse,
            frozen: None,
            infinite: None,
        },
        &net.params,
        &TrainOptions {
            flow,
            refine,
            provenance: provenance.clone(),
            ..TrainOptions::default()
        },
        &watch.for_run(RunId {
            stage: Stage::FineTune,
            seed: 0,
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::{Neuron, StudentLayer};

    #[test]
    fn aligned_clusters_merge_and_distinct_ones_stay() {
        let n = |incoming: Vec<f64>, a: f64| Neuron {
            incoming,
            outgoing: vec![a],
        };
        let neurons = vec![
            n(vec![1.0, 0.0, 0.2], 1.0),
            n(vec![0.0, 1.0, 0.0], 2.0),
            // 0.05 rad from the first, and an arbitrary masked input 1.
            n(vec![1.0, 0.05, 0.2], 0.5),
        ];
        let (kept, merged, home) = merge_aligned(neurons.clone(), 0.1, &[]);
        assert_eq!((kept.len(), merged, home), (2, vec![2], vec![0, 1, 0]));
        assert!((kept[0].outgoing[0] - 1.5).abs() < 1e-15);
        let (kept, _, _) = merge_aligned(neurons.clone(), 0.01, &[]);
        assert_eq!(kept.len(), 3);
        let mut far = neurons;
        far[2].incoming[1] = 5.0;
        assert_eq!(merge_aligned(far.clone(), 0.1, &[]).0.len(), 3);
        assert_eq!(merge_aligned(far, 0.1, &[1]).0.len(), 2);
    }

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
