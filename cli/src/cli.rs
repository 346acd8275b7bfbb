//! Argument definitions and dispatch.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

use gradflow::cancel::Cancel;
use gradflow::cluster::{
    RecoverOptions, read_saved_students, recover, write_recovery, write_student,
};
use gradflow::eval::{EvalOptions, evaluate};
use gradflow::io::{
    DataSource, ProblemSource, read_data, read_network, read_network_record, write_atomic,
    write_data, write_network_with_meta,
};
use gradflow::net::{Activation, Loss};
use gradflow::observe::{Event, Watch};
use gradflow::teacher::command::{TeacherConfigArgs, run_teacher};
use gradflow::teacher::{InputDistribution, sample_data};

use crate::args::{FlowArgs, RefineArgs, activation, d, named, overlay, overlay_opt};
use crate::progress::Bars;
use crate::solve::{SolveArgs, solve};

/// Train small MLPs to machine precision and recover unknown networks.
#[derive(Parser, Debug)]
#[command(name = "gradflow", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Train students to machine precision: gradient flow, then refinement (many seeds in
    /// parallel). Without arguments: the built-in demo (paper teacher d=4, r=4, ρ=4 students,
    /// seeds 0..4, 25 s + 25 s per seed: about two minutes on 2 cores).
    Solve {
        #[command(flatten)]
        args: Box<SolveArgs>,
        /// Output folder for one JSON record per seed (written as each run finishes).
        #[arg(short, long, default_value = "gradflow-results")]
        output: PathBuf,
        /// No progress bars.
        #[arg(long)]
        quiet: bool,
        /// Configuration file (TOML, or a run record); flags given on the command line override it.
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Recover an unknown network's layer sizes and weights from input–output data
    /// (Expand-and-Cluster).
    Recover {
        #[command(flatten)]
        args: Box<RecoverArgs>,
        /// Output folder: recovered.json, report.json, SVG figures per layer, students/.
        #[arg(short, long, default_value = "gradflow-recovery")]
        output: PathBuf,
        /// No progress bars.
        #[arg(long)]
        quiet: bool,
    },
    /// Write a synthetic teacher network (the paper's construction), or the whole family.
    Teacher {
        #[command(flatten)]
        args: TeacherArgs,
        /// Output file (default: standard output); a folder with --family.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Sample a data set from a network.
    Data {
        #[command(flatten)]
        args: DataArgs,
        /// Output: `file.npz`, `X.npy,Y.npy` or `file.csv`.
        #[arg(short, long)]
        output: String,
    },
    /// Run a study: a grid of teachers × ρ × student seeds, optionally with Expand-and-Cluster
    /// on every (teacher, ρ) group. Resumable (finished tasks are skipped) and shardable.
    Study {
        #[command(flatten)]
        args: crate::study_cmd::StudyArgs,
    },
    /// Tables (CSV), figures (SVG) and a Markdown summary of one or more study folders.
    Report {
        #[command(flatten)]
        args: crate::study_cmd::ReportArgs,
    },
    /// Loss, gradient, Hessian and spectrum of a network on data.
    Eval {
        #[command(flatten)]
        args: EvalArgs,
        /// Output JSON file (default: standard output).
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
}

/// The flag of a library option field (`flow.maxtime_ode` → `--maxtime-ode`).
fn flag_of(field: &str) -> String {
    let (table, name) = field.rsplit_once('.').unwrap_or(("", field));
    let mut flag = name.replace('_', "-");
    if name == "max_memory_gib" {
        flag = "max-memory".into();
    }
    if table == "refine"
        && matches!(
            name,
            "minloss" | "min_gnorm" | "patience" | "max_memory_gib"
        )
    {
        flag.push_str("-optim");
    }
    if table == "flow" && name == "max_memory_gib" {
        flag.push_str("-ode");
    }
    format!("--{flag}")
}

/// Names the flag of a library error about an option field.
pub fn flag_error(e: gradflow::Error, _command: &str) -> anyhow::Error {
    match e {
        gradflow::Error::Invalid { what, reason }
            if what
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == '_' || c == '.') =>
        {
            anyhow::anyhow!("{} ({what}): {reason}", flag_of(&what))
        }
        other => other.into(),
    }
}

/// Runs the command line; returns the exit code (130 when interrupted).
pub fn run(cancel: &Cancel) -> Result<u8> {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            // Help and version go to stdout with success; usage errors exit 2.
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    let interrupted = match cli.command {
        Command::Solve {
            args,
            output,
            quiet,
            config,
        } => solve(&args.resolve(config.as_deref())?, &output, quiet, cancel)?,
        Command::Recover {
            args,
            output,
            quiet,
        } => recover_cmd(&args, &output, quiet, cancel)?,
        Command::Teacher { args, output } => {
            teacher(&args.resolve(), output)?;
            false
        }
        Command::Data { args, output } => {
            data(&args, &output)?;
            false
        }
        Command::Eval { args, output } => {
            eval(&args, output)?;
            false
        }
        Command::Study { args } => crate::study_cmd::study(&args, cancel)?,
        Command::Report { args } => {
            crate::study_cmd::report(&args)?;
            false
        }
    };
    Ok(if interrupted { 130 } else { 0 })
}

/// Flags of `gradflow teacher` (overlays on [`TeacherConfigArgs`]).
#[derive(clap::Args, Clone, Debug, Default)]
pub struct TeacherArgs {
    #[arg(long, help = d("Input dimension of a shallow paper teacher", TeacherConfigArgs::default().d))]
    pub d: Option<usize>,
    #[arg(long, help = d("Hidden width of a shallow paper teacher", TeacherConfigArgs::default().r))]
    pub r: Option<usize>,
    #[arg(
        long,
        value_delimiter = ',',
        help = "Widths d,k1,…,kL of a deep teacher (overrides --d/--r), e.g. 8,4,2,1"
    )]
    pub widths: Option<Vec<usize>>,
    #[arg(long, value_parser = activation, help = d("Hidden activation", TeacherConfigArgs::default().activation.name()))]
    pub activation: Option<Activation>,
    #[arg(
        long,
        help = "Teacher seed [default: the paper seed of (d, r, index): 10000·d + 100·r + index]"
    )]
    pub seed: Option<u64>,
    #[arg(long, help = d("Index of the teacher within its (d, r) cell, used for the default seed", TeacherConfigArgs::default().index))]
    pub index: Option<usize>,
    #[arg(
        long,
        help = "Write the whole 150-teacher paper family into the output folder"
    )]
    pub family: bool,
    #[arg(long, help = d("Size of the standardisation sample", TeacherConfigArgs::default().n_standardise))]
    pub n_standardise: Option<usize>,
}

impl TeacherArgs {
    fn resolve(&self) -> TeacherConfigArgs {
        let mut c = TeacherConfigArgs::default();
        overlay!(self, c, [d, r, activation, index, n_standardise]);
        overlay_opt!(self, c, [widths, seed]);
        c.family = self.family;
        c
    }
}

/// Flags of `gradflow data`.
#[derive(clap::Args, Clone, Debug)]
pub struct DataArgs {
    /// Network that labels the inputs.
    #[arg(long)]
    pub net: PathBuf,
    #[arg(short = 'n', long, help = d("Number of samples", gradflow::teacher::PAPER_SAMPLES))]
    pub samples: Option<usize>,
    #[arg(
        long,
        help = "Seed of the data stream [default: the teacher seed recorded in the network file, else 0]"
    )]
    pub seed: Option<u64>,
    #[arg(long, value_parser = named::<InputDistribution>(), help = d("Input distribution", InputDistribution::default()))]
    pub inputs: Option<InputDistribution>,
}

/// Flags of `gradflow eval` (overlays on [`EvalOptions`]).
#[derive(clap::Args, Clone, Debug, Default)]
pub struct EvalArgs {
    /// Network file (JSON). Without `--net` and `--data`, the built-in demo is evaluated: a
    /// width-16 student (Glorot, seed 0) on 30 000 samples of the paper teacher d = 4, r = 4
    /// (seed 40400).
    #[arg(long, requires = "data")]
    pub net: Option<PathBuf>,
    /// Data: `file.npz`, `X.npy,Y.npy` or `file.csv`.
    #[arg(long, requires = "net")]
    pub data: Option<String>,
    #[arg(long, value_parser = named::<Loss>(), help = "Loss [default: nll for a softmax output layer, else mse]")]
    pub loss: Option<Loss>,
    /// Include the gradient.
    #[arg(long)]
    pub gradient: bool,
    /// Include the full Hessian.
    #[arg(long)]
    pub hessian: bool,
    /// Include the Hessian spectrum (eigenvalues, ascending).
    #[arg(long)]
    pub spectrum: bool,
    /// Time K repeated evaluations and report the median seconds of one.
    #[arg(long, value_name = "K")]
    pub repeat: Option<usize>,
    #[arg(long, help = d("Samples per chunk", EvalOptions::default().chunk))]
    pub chunk: Option<usize>,
}

impl EvalArgs {
    fn options(&self) -> EvalOptions {
        let mut o = EvalOptions::default();
        o.loss = self.loss;
        o.gradient = self.gradient;
        o.hessian = self.hessian;
        o.spectrum = self.spectrum;
        o.repeat = self.repeat;
        overlay!(self, o, [chunk]);
        o
    }
}

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
                finetune_time
            ]
        );
        overlay_opt!(self, o, [width, layers, rho, threads]);
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

fn teacher(args: &TeacherConfigArgs, output: Option<PathBuf>) -> Result<()> {
    let built = run_teacher(args)?;
    if args.family {
        let Some(dir) = output else {
            bail!("--family writes 150 files: give the output folder with -o DIR");
        };
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("{}: cannot create folder", dir.display()))?;
        let mut index = Vec::new();
        for t in &built {
            let m = t.member.as_ref().expect("family members");
            let path = dir.join(format!("{}.json", m.stem()));
            write_network_with_meta(&path, &t.network, Some(t.meta()))?;
            index.push(serde_json::json!({
                "file": path.file_name().map(|f| f.to_string_lossy().into_owned()),
                "d": m.d, "r": m.r, "index": m.index, "seed": m.seed,
            }));
        }
        let text = serde_json::to_string_pretty(&index)?;
        write_atomic(&dir.join("family.json"), text.as_bytes())?;
        eprintln!(
            "wrote {} teachers and family.json to {}",
            built.len(),
            dir.display()
        );
        return Ok(());
    }
    let t = &built[0];
    match output {
        Some(path) => {
            write_network_with_meta(&path, &t.network, Some(t.meta()))?;
            eprintln!(
                "wrote teacher {} (seed {}) to {}",
                t.network.spec.shape_string(),
                t.config.seed,
                path.display()
            );
        }
        None => {
            let mut rec = gradflow::io::network_file::NetworkRecord::from_network(&t.network);
            rec.meta = Some(t.meta());
            println!("{}", serde_json::to_string_pretty(&rec)?);
        }
    }
    Ok(())
}

fn data(args: &DataArgs, output: &str) -> Result<()> {
    let dest = DataSource::parse(output)?;
    let samples = args.samples.unwrap_or(gradflow::teacher::PAPER_SAMPLES);
    if samples == 0 {
        bail!("--samples: must be at least 1");
    }
    let record = read_network_record(&args.net)?;
    let net = record.to_network().map_err(|e| e.in_file(&args.net))?;
    let seed = args.seed.unwrap_or_else(|| record.data_seed());
    let ds = sample_data(&net, samples, args.inputs.unwrap_or_default(), seed)?;
    write_data(&dest, &ds)?;
    eprintln!(
        "wrote {} samples (d = {}, k = {}, seed {seed}) to {dest}",
        ds.n_samples(),
        ds.input_dim(),
        ds.output_dim()
    );
    Ok(())
}

fn eval(args: &EvalArgs, output: Option<PathBuf>) -> Result<()> {
    let opts = args.options();
    let report = match (&args.net, &args.data) {
        (Some(net_path), Some(text)) => {
            let net = read_network(net_path)?;
            let source = DataSource::parse(text)?;
            let data = read_data(&source)?;
            evaluate(&net, &data, &opts).map_err(|e| match e {
                e @ (gradflow::Error::Shape { .. } | gradflow::Error::Invalid { .. }) => {
                    flag_error(e.in_file(source.path()), "eval")
                }
                other => flag_error(other, "eval"),
            })?
        }
        _ => {
            let p = gradflow::reference::Problem::demo(0)?;
            let net = gradflow::net::Network::new(p.student.clone(), p.start.clone())?;
            evaluate(&net, &p.data, &opts).map_err(|e| flag_error(e, "eval"))?
        }
    };
    let text = serde_json::to_string(&report)?;
    match output {
        Some(path) => write_atomic(&path, text.as_bytes())?,
        None => {
            let mut out = std::io::stdout().lock();
            writeln!(out, "{text}")?;
        }
    }
    Ok(())
}

fn recover_cmd(args: &RecoverArgs, output: &Path, quiet: bool, cancel: &Cancel) -> Result<bool> {
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
            "  layer {}: {} clusters kept, {} dropped (cut height {:.3e}){}{}",
            l.layer,
            l.clustered,
            dropped,
            l.clustering.cut.height,
            if l.dropped_after_retraining.is_empty() {
                String::new()
            } else {
                format!(
                    ", {} dropped after retraining",
                    l.dropped_after_retraining.len()
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
            println!(
                "  vs teacher, layer {}: m̂/r = {}/{}{dead}, cosine distance mean {:.3e} max {:.3e}",
                l.layer,
                l.recovered_width,
                l.teacher_width,
                l.input_cosine_mean,
                l.input_cosine_max
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

#[cfg(test)]
mod tests {
    //! Default parity: each command parsed without option flags resolves to the library's
    //! defaults exactly (the CLI has no defaults of its own, except the demo's budgets).
    use super::*;
    use gradflow::flow::FlowConfig;
    use gradflow::optim::RefineConfig;
    use gradflow::train::TrainOptions;

    fn parse(args: &[&str]) -> Command {
        let mut all = vec!["gradflow"];
        all.extend_from_slice(args);
        Cli::try_parse_from(all).expect("parses").command
    }

    #[test]
    fn solve_without_flags_is_the_library_default() {
        let Command::Solve { args, config, .. } = parse(&["solve", "--teacher", "t.json"]) else {
            panic!("solve")
        };
        let c = args.resolve(config.as_deref()).unwrap();
        let expect = crate::solve::SolveConfig {
            teacher: Some("t.json".into()),
            ..Default::default()
        };
        assert_eq!(c, expect);
        let t = TrainOptions::default();
        assert_eq!((c.flow, c.refine, c.init), (t.flow, t.refine, t.init));
        // With no problem at all: the demo, whose only difference is its budgets.
        let Command::Solve { args, config, .. } = parse(&["solve"]) else {
            panic!("solve")
        };
        let demo = args.resolve(config.as_deref()).unwrap();
        assert_eq!(demo, crate::solve::SolveConfig::demo());
        let flow = {
            let mut c = FlowConfig::default();
            c.maxtime_ode = crate::solve::DEMO_MAXTIME;
            c
        };
        let refine = {
            let mut c = RefineConfig::default();
            c.maxtime_optim = crate::solve::DEMO_MAXTIME;
            c
        };
        assert_eq!((demo.flow, demo.refine), (flow, refine));
    }

    #[test]
    fn recover_without_flags_is_the_library_default() {
        let Command::Recover { args, .. } = parse(&["recover"]) else {
            panic!("recover")
        };
        assert_eq!(args.options(), RecoverOptions::default());
    }

    #[test]
    fn eval_without_flags_is_the_library_default() {
        let Command::Eval { args, .. } = parse(&["eval"]) else {
            panic!("eval")
        };
        assert_eq!(args.options(), EvalOptions::default());
    }

    #[test]
    fn teacher_without_flags_is_the_library_default() {
        let Command::Teacher { args, .. } = parse(&["teacher"]) else {
            panic!("teacher")
        };
        assert_eq!(args.resolve(), TeacherConfigArgs::default());
    }

    #[test]
    fn a_study_without_flow_or_refine_tables_uses_the_library_defaults() {
        let cfg: gradflow::study::StudyConfig =
            toml::from_str("name = \"s\"\nrhos = [2]\n[family]\ndims = [2]\nwidths = [2]\n")
                .unwrap();
        assert_eq!(cfg.flow, FlowConfig::default());
        assert_eq!(cfg.refine, RefineConfig::default());
    }

    #[test]
    fn flags_override_and_errors_name_flag_and_field() {
        let Command::Solve { args, config, .. } = parse(&[
            "solve",
            "--maxtime-ode",
            "3",
            "--optim",
            "lm",
            "--max-memory-optim",
            "2",
            "--minloss-optim",
            "1e-20",
            "--patience-optim",
            "7",
            "--min-gnorm",
            "1e-9",
        ]) else {
            panic!("solve")
        };
        let c = args.resolve(config.as_deref()).unwrap();
        assert_eq!(c.flow.maxtime_ode.to_bits(), 3.0f64.to_bits());
        assert_eq!(c.refine.refiner, Some(gradflow::optim::Refiner::Lm));
        assert_eq!(c.refine.max_memory_gib, Some(2.0));
        assert_eq!(c.flow.max_memory_gib, None);
        assert_eq!((c.refine.minloss, c.refine.patience), (1e-20, 7));
        assert_eq!((c.flow.minloss, c.flow.patience), (2e-32, usize::MAX));
        assert_eq!((c.flow.min_gnorm, c.refine.min_gnorm), (1e-9, 1e-15));
        let e = flag_error(
            gradflow::Error::invalid("refine.max_memory_gib", "too small"),
            "solve",
        );
        assert_eq!(
            e.to_string(),
            "--max-memory-optim (refine.max_memory_gib): too small"
        );
        let e = flag_error(
            gradflow::Error::invalid("flow.max_memory_gib", "x"),
            "solve",
        );
        assert!(e.to_string().starts_with("--max-memory-ode "), "{e}");
    }
}
