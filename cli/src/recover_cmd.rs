//! `gradflow recover`: its flags (overlays on [`RecoverOptions`]) and the command.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use gradflow::cancel::Cancel;
use gradflow::cluster::{
    RecoverOptions, read_saved_students, recover, write_recovery, write_student,
};
use gradflow::io::{DataSource, ProblemSource};
use gradflow::net::Activation;
use gradflow::observe::{Event, Watch};

use crate::args::{FlowArgs, RefineArgs, activation, d, overlay, overlay_opt};
use crate::cli::flag_error;
use crate::progress::Bars;

/// Flags of `gradflow recover`: where the data come from, then overlays on [`RecoverOptions`].
#[derive(clap::Args, Clone, Debug, Default)]
pub struct RecoverArgs {
    /// Data set queried from the unknown network (`.npz`, `X.npy,Y.npy`, `.csv`).
    #[arg(long)]
    pub data: Option<String>,
    /// The true network, if known: used only for the metrics (and to sample data when `--data`
    /// is not given).
    #[arg(long)]
    pub teacher: Option<PathBuf>,
    #[arg(long, help = d("Samples drawn from the teacher when --data is not given", 30_000))]
    pub samples: Option<usize>,
    #[arg(
        long,
        help = "Seed of the teacher's data stream [default: the teacher's recorded seed]"
    )]
    pub data_seed: Option<u64>,
    #[arg(long, value_parser = activation, help = d("Hidden activation of the unknown network", "g"))]
    pub activation: Option<Activation>,
    #[arg(long, help = d("Number of students N", RecoverOptions::default().students))]
    pub students: Option<usize>,
    #[arg(long, help = d("Seed of the first student (students use consecutive seeds)", RecoverOptions::default().first_seed))]
    pub first_seed: Option<u64>,
    #[arg(long, conflicts_with_all = ["layers", "rho"], help = "Hidden width of the (one-hidden-layer) students [default: chosen by the expansion phase]")]
    pub width: Option<usize>,
    #[arg(
        long,
        value_delimiter = ',',
        conflicts_with = "rho",
        help = "Hidden widths of deep students, e.g. 16,8 (layer-by-layer recovery)"
    )]
    pub layers: Option<Vec<usize>>,
    #[arg(
        long,
        help = "Student widths as a multiple of the teacher's hidden widths (needs --teacher)"
    )]
    pub rho: Option<usize>,
    #[arg(long, help = d("A cluster is kept when its members come from at least this fraction of the students used (γ)", RecoverOptions::default().gamma))]
    pub gamma: Option<f64>,
    #[arg(long, help = d("Largest median angle (radians) within a kept cluster (β)", RecoverOptions::default().beta))]
    pub beta: Option<f64>,
    #[arg(long, help = d("Neurons whose kink lies farther than this from the origin are set aside as constant/linear-type", RecoverOptions::default().offbound_distance))]
    pub offbound_distance: Option<f64>,
    #[arg(long, help = d("Neurons whose outgoing weights are below this fraction of the largest in their student are set aside as zero-type", RecoverOptions::default().negligible_outgoing))]
    pub negligible_outgoing: Option<f64>,
    #[arg(long, help = d("Deep networks: a reconstructed neuron is dropped when its retrained bias has a larger standard deviation across students", RecoverOptions::default().bias_std_max))]
    pub bias_std_max: Option<f64>,
    #[arg(long, help = d("Students whose final loss exceeds the best student's by more than this factor are left out of the clustering", RecoverOptions::default().student_loss_ratio))]
    pub student_loss_ratio: Option<f64>,
    #[arg(
        long,
        value_name = "FRACTION|none",
        value_parser = mask_std,
        help = d("Inputs whose standard deviation over the data is at most this fraction of the largest input's are left out of the clustering and the metrics ('none': no input)", RecoverOptions::default().input_mask_std.map_or("none".into(), |v| v.to_string()))
    )]
    pub input_mask_std: Option<MaskStd>,
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "I,J,…",
        help = "The uninformative inputs given explicitly (0-based, e.g. from Boruta) instead of the --input-mask-std rule"
    )]
    pub input_mask: Option<Vec<usize>>,
    #[arg(
        long,
        help = "Worker threads (one student per thread) [default: all cores]"
    )]
    pub threads: Option<usize>,
    #[arg(long, value_delimiter = ',', help = d("Expansion phase: the widths probed, in order", "2,4,8,16,32,64"))]
    pub probe_widths: Option<Vec<usize>>,
    #[arg(long, help = d("Expansion phase: students per probed width", RecoverOptions::default().probe_students))]
    pub probe_students: Option<usize>,
    #[arg(long, help = d("Expansion phase: seconds per probe run (split evenly between the two phases)", RecoverOptions::default().probe_time))]
    pub probe_time: Option<f64>,
    #[arg(long, help = d("Expansion phase: the first width whose best probe reaches this mean loss is chosen", RecoverOptions::default().probe_loss))]
    pub probe_loss: Option<f64>,
    #[arg(long, help = d("Expansion phase, when no probe reaches --probe-loss: the smallest width within this factor of the best probe", RecoverOptions::default().probe_ratio))]
    pub probe_ratio: Option<f64>,
    #[arg(long, help = d("Expansion phase: the students are this many times wider than the width it chooses", RecoverOptions::default().expand_factor))]
    pub expand_factor: Option<usize>,
    #[arg(long, help = d("Seconds per phase of the final fine-tuning of the recovered network", RecoverOptions::default().finetune_time))]
    pub finetune_time: Option<f64>,
    #[arg(long, help = d("After fine-tuning, neurons whose clusters have members from fewer than this fraction of the students are removed when the network fits as well without them (0: no pruning)", RecoverOptions::default().prune_support))]
    pub prune_support: Option<f64>,
    #[arg(long, help = d("Seconds of refinement per pruning trial", RecoverOptions::default().prune_time))]
    pub prune_time: Option<f64>,
    #[arg(long, help = d("A pruned neuron stays removed when the loss without it is at most this factor above the fine-tuned loss", RecoverOptions::default().prune_loss_ratio))]
    pub prune_loss_ratio: Option<f64>,
    #[command(flatten)]
    pub flow: FlowArgs,
    #[command(flatten)]
    pub refine: RefineArgs,
}

impl RecoverArgs {
    /// The library options: the defaults, then the flags.
    pub fn options(&self) -> RecoverOptions {
        let mut o = RecoverOptions::default();
        overlay!(
            self,
            o,
            [
                activation,
                students,
                first_seed,
                gamma,
                beta,
                offbound_distance,
                negligible_outgoing,
                bias_std_max,
                student_loss_ratio,
                probe_widths,
                probe_students,
                probe_time,
                probe_loss,
                probe_ratio,
                expand_factor,
                finetune_time,
                prune_support,
                prune_time,
                prune_loss_ratio
            ]
        );
        overlay_opt!(self, o, [width, layers, rho, threads, input_mask]);
        if let Some(MaskStd(m)) = self.input_mask_std {
            o.input_mask_std = m;
        }
        self.flow.apply(&mut o.flow);
        self.refine.apply(&mut o.refine);
        o
    }

    /// Where the data come from.
    fn source(&self) -> Result<ProblemSource> {
        let samples = self.samples.unwrap_or(30_000);
        Ok(match (&self.data, &self.teacher) {
            (Some(text), teacher) => ProblemSource::Data {
                data: DataSource::parse(text)?,
                teacher: teacher.clone(),
            },
            (None, Some(path)) => ProblemSource::Teacher {
                path: path.clone(),
                samples,
                data_seed: self.data_seed,
            },
            (None, None) => bail!(
                "recover: give the data (--data F) or a teacher to sample them from (--teacher F)"
            ),
        })
    }
}

pub fn recover_cmd(
    args: &RecoverArgs,
    output: &Path,
    quiet: bool,
    cancel: &Cancel,
) -> Result<bool> {
    let opts = args.options();
    // Options first: no data are read for a command that cannot run.
    opts.check().map_err(|e| flag_error(e, "recover"))?;
    let source = args.source()?;
    let loaded = source.load()?;
    std::fs::create_dir_all(output)
        .with_context(|| format!("{}: cannot create folder", output.display()))?;
    let bars = Bars::new(quiet, 18);
    // Records of an interrupted run in the same folder are reused when they are the same run.
    let saved = read_saved_students(output);
    let b = bars.clone();
    let dir = output.to_path_buf();
    let watch = Watch::new(move |e: &Event<'_>| match e {
        Event::Message(m) => b.println(&format!("gradflow recover: {m}")),
        Event::RunDone { run, record } => {
            if let Err(err) = write_student(&dir, *run, record) {
                b.println(&format!(
                    "gradflow recover: could not save {}: {err}",
                    run.stage
                ));
            }
            b.finish(*run, format!("done: loss {:.3e}", record.loss));
        }
        other => b.observe(other),
    })
    .with_cancel(cancel.clone());
    let result = recover(&loaded.data, loaded.teacher.as_ref(), &opts, &saved, &watch);
    bars.clear();
    let mut result = match result {
        Err(gradflow::Error::Interrupted) => {
            eprintln!(
                "gradflow recover: interrupted; the finished students are saved in {} and are reused when the same command runs again",
                output.join(gradflow::cluster::STUDENTS_DIR).display()
            );
            return Ok(true);
        }
        other => other.map_err(|e| flag_error(e, "recover"))?,
    };
    result.report.data = loaded.description.clone();
    let (net_path, report_path) = write_recovery(output, &result)?;
    print_recovery(&result.report);
    println!(
        "wrote {}, {} and figures",
        net_path.display(),
        report_path.display()
    );
    Ok(false)
}

/// The recovery's summary on standard output: shape, loss, clusters per layer and, with a
/// teacher, the metrics.
fn print_recovery(r: &gradflow::cluster::RecoverReport) {
    println!(
        "recovered {} (hidden widths {:?}); loss {:.3e}, rmse {:.3e}; {:.1}s",
        r.recovered_shape,
        r.layers
            .iter()
            .map(|l| l.recovered_width)
            .collect::<Vec<_>>(),
        r.loss,
        r.rmse,
        r.wall_time
    );
    for l in &r.layers {
        let dropped = l
            .clustering
            .clusters
            .iter()
            .filter(|c| c.dropped.is_some())
            .count();
        println!(
            "  layer {}: {} clusters kept, {} dropped (cut height {:.3e}){}{}{}{}",
            l.layer,
            l.clustered,
            dropped,
            l.clustering.cut.height,
            if l.merged_aligned.is_empty() {
                String::new()
            } else {
                format!(", {} merged into aligned clusters", l.merged_aligned.len())
            },
            if l.dropped_after_retraining.is_empty() {
                String::new()
            } else {
                format!(
                    ", {} dropped after retraining",
                    l.dropped_after_retraining.len()
                )
            },
            if l.pruned.is_empty() {
                String::new()
            } else {
                format!(
                    ", {} of {} weakly supported neurons pruned",
                    l.pruned.iter().filter(|p| p.removed).count(),
                    l.pruned.len()
                )
            },
            if l.linear_neurons > 0 {
                format!(", +{} linear neurons", l.linear_neurons)
            } else {
                String::new()
            }
        );
    }
    if let Some(m) = &r.metrics {
        for l in &m.layers {
            let dead = if l.teacher_dead.is_empty() {
                String::new()
            } else {
                format!(
                    " (teacher neurons {:?} have no outgoing weight: {} determined by the data)",
                    l.teacher_dead, l.teacher_effective_width
                )
            };
            // The distances are over the matched teacher neurons only: say how many those are.
            let cosines = if l.matched == 0 {
                "no teacher neuron matched".to_string()
            } else {
                let of = if l.matched < l.teacher_effective_width {
                    format!(
                        " (over the {} of {} teacher neurons matched)",
                        l.matched, l.teacher_effective_width
                    )
                } else {
                    String::new()
                };
                format!(
                    "cosine distance mean {:.3e} max {:.3e}{of}",
                    l.input_cosine_mean, l.input_cosine_max
                )
            };
            println!(
                "  vs teacher, layer {}: m̂/r = {}/{}{dead}, {cosines}",
                l.layer, l.recovered_width, l.teacher_width
            );
        }
        println!(
            "  output weights: cosine distance {:.3e}; success (rmse ≤ {:e}): {}",
            m.output_cosine_distance,
            gradflow::cluster::metrics::SUCCESS_RMSE,
            m.success
        );
    }
}

/// The value of `--input-mask-std`: a fraction, or `none` (a newtype: clap reads
/// `Option<Option<_>>` as a flag with an optional value).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MaskStd(pub Option<f64>);

/// `--input-mask-std`: a fraction, or `none`.
fn mask_std(s: &str) -> Result<MaskStd, String> {
    if s.eq_ignore_ascii_case("none") {
        return Ok(MaskStd(None));
    }
    s.parse::<f64>()
        .map(|v| MaskStd(Some(v)))
        .map_err(|_| format!("`{s}`: give a fraction such as 0.01, or none"))
}
