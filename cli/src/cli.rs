//! Argument definitions and dispatch.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

use gradflow::cancel::Cancel;
use gradflow::eval::{EvalOptions, evaluate};
use gradflow::io::{
    DataSource, read_data, read_inputs, read_network, read_network_record, write_atomic,
    write_data, write_network_with_meta,
};
use gradflow::named::Named;
use gradflow::net::population::PopulationOptions;
use gradflow::net::{Activation, Loss};
use gradflow::teacher::command::{TeacherConfigArgs, run_teacher};
use gradflow::teacher::{
    ClassifierOptions, InputDistribution, logit_network, sample_data, train_classifier,
};

use crate::args::{activation, d, named, overlay, overlay_opt};
use crate::recover_cmd::{RecoverArgs, recover_cmd};
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
    /// Write a synthetic teacher network (the paper's construction), the whole family, or a
    /// classifier trained on labelled data (`--train`).
    Teacher {
        #[command(flatten)]
        args: TeacherArgs,
        /// Output file (default: standard output); a folder with --family.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Label inputs with a network: sampled ones (`--inputs gaussian|uniform`) or a file's
    /// (`--inputs FILE`); the outputs are the network's or a classifier's logits.
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
    /// The end-state certificate (zero_loss, minimum, saddle, channel, stationary, unconverged)
    /// of saved run records, recomputed on the data their configuration names.
    Certify {
        #[command(flatten)]
        args: crate::certify_cmd::CertifyArgs,
    },
    /// A 2-D loss slice through a saved run's end point (CSV, SVG heat map with contours),
    /// optionally minimised over the plane's orthogonal complement.
    Landscape {
        #[command(flatten)]
        args: crate::landscape_cmd::LandscapeArgs,
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

/// The flag that sets a library field in `command`, where it is not the field's own name;
/// `None` for a field no flag sets.
fn command_flag(command: &str, field: &str) -> Option<String> {
    match (command, field) {
        ("teacher", "hidden") => Some("--widths".into()),
        ("teacher", "data") => Some("--train".into()),
        ("eval", "student") => Some("--net".into()),
        ("landscape", "slice.minimise_steps") => Some("--minimise".into()),
        (_, "expansion") => None,
        // A study's options are its configuration file's keys, not flags.
        ("study", f) if f != "threads" => None,
        _ => Some(flag_of(field)),
    }
}

/// Names the flag of a library error about an option field.
pub fn flag_error(e: gradflow::Error, command: &str) -> anyhow::Error {
    match e {
        gradflow::Error::Invalid { what, reason }
            if what
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == '_' || c == '.') =>
        {
            match command_flag(command, &what) {
                Some(flag) => anyhow::anyhow!("{flag} ({what}): {reason}"),
                None => anyhow::anyhow!("{what}: {reason}"),
            }
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
            if args.train.is_some() {
                train_teacher(&args, output, cancel)?
            } else {
                teacher(&args.resolve(), output)?;
                false
            }
        }
        Command::Data { args, output } => {
            data(&args, &output)?;
            false
        }
        Command::Eval { args, output } => {
            eval(&args, output)?;
            false
        }
        Command::Certify { args } => crate::certify_cmd::certify_cmd(&args, cancel)?,
        Command::Landscape { args } => crate::landscape_cmd::landscape_cmd(&args, cancel)?,
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
    /// Train a softmax classifier on labelled data instead (`.npz` with one-hot `y`, IDX
    /// images,labels, CIFAR-10 .bin): `--widths d,h…,classes`, Adam with early stopping.
    #[arg(long, value_name = "DATA")]
    pub train: Option<String>,
    #[arg(long, help = d("--train: largest number of epochs", ClassifierOptions::default().epochs))]
    pub epochs: Option<usize>,
    #[arg(long, help = d("--train: Adam's learning rate", ClassifierOptions::default().lr))]
    pub lr: Option<f64>,
    #[arg(long, help = d("--train: mini-batch size", ClassifierOptions::default().batch_size))]
    pub batch_size: Option<usize>,
    #[arg(long, help = d("--train: stop after this many epochs without a lower held-out loss", ClassifierOptions::default().patience))]
    pub patience: Option<usize>,
    #[arg(long, help = d("--train: fraction of the samples held out for early stopping", ClassifierOptions::default().validation_fraction))]
    pub validation_fraction: Option<f64>,
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
    /// Network that labels the inputs (a network file, or a run record of `solve`).
    #[arg(long)]
    pub net: PathBuf,
    #[arg(short = 'n', long, help = d("Number of samples", gradflow::teacher::PAPER_SAMPLES))]
    pub samples: Option<usize>,
    #[arg(
        long,
        help = "Seed of the data stream [default: the teacher seed recorded in the network file, else 0]"
    )]
    pub seed: Option<u64>,
    /// Inputs: a distribution (gaussian, uniform) sampled `--samples` times, or a data file
    /// whose inputs are labelled (`.npz`, `X.npy,Y.npy`, CSV, IDX images, CIFAR-10 .bin)
    /// [default: uniform].
    #[arg(long, value_name = "DIST|FILE")]
    pub inputs: Option<String>,
    /// Inputs: the tensor-product Gauss–Hermite grid with this many nodes per dimension, as
    /// weighted samples (weights summing to one, so the mean loss on them approximates the
    /// loss under x ~ N(0, I) without the round-off of `--infinite-data`'s expanded form);
    /// instead of `--inputs`, `--samples`, `--seed`.
    #[arg(long, value_name = "POINTS", conflicts_with_all = ["inputs", "samples", "seed"])]
    pub gauss_hermite: Option<usize>,
    /// With `--gauss-hermite`: leave out the nodes whose weight is below this fraction of the
    /// largest one [default: 0, every node].
    #[arg(long, requires = "gauss_hermite")]
    pub prune: Option<f64>,
    /// Outputs: the network's own (`network`; probabilities for a softmax output layer) or
    /// a classifier's `logits` (pre-softmax, the paper's queries).
    #[arg(long, value_enum, default_value_t = Outputs::Network)]
    pub outputs: Outputs,
}

/// What `gradflow data` writes as targets.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outputs {
    /// The network's outputs.
    Network,
    /// The pre-softmax outputs of a softmax classifier.
    Logits,
}

/// Flags of `gradflow eval` (overlays on [`EvalOptions`]).
#[derive(clap::Args, Clone, Debug, Default)]
pub struct EvalArgs {
    /// Network file (JSON), or a run record of `solve` (its end point). Without `--net` and
    /// `--data`, the built-in demo is evaluated: a
    /// width-16 student (Glorot, seed 0) on 30 000 samples of the paper teacher d = 4, r = 4
    /// (seed 40400).
    #[arg(long)]
    pub net: Option<PathBuf>,
    /// Data: `file.npz`, `X.npy,Y.npy` or `file.csv`.
    #[arg(long, requires = "net")]
    pub data: Option<String>,
    /// Teacher network file, for `--infinite-data`.
    #[arg(long, requires = "infinite_data")]
    pub teacher: Option<PathBuf>,
    /// Evaluate the infinite-data (population) loss of `--net` against `--teacher` under
    /// x ~ N(0, I) instead of a data set: exact Gaussian integrals, one-hidden-layer networks
    /// with smooth activations (or relu throughout, in closed form).
    #[arg(long, requires_all = ["net", "teacher"], conflicts_with = "data")]
    pub infinite_data: bool,
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
    /// Threads of one evaluation: blocks of samples summed in order (results agree with one
    /// thread to round-off), or the pair integrals of `--infinite-data` [default: 1].
    #[arg(long)]
    pub threads: Option<usize>,
}

impl EvalArgs {
    fn options(&self) -> EvalOptions {
        let mut o = EvalOptions::default();
        o.loss = self.loss;
        o.gradient = self.gradient;
        o.hessian = self.hessian;
        o.spectrum = self.spectrum;
        o.repeat = self.repeat;
        overlay!(self, o, [chunk, threads]);
        o
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
    let record = read_network_record(&args.net)?;
    let mut net = record.to_network().map_err(|e| e.in_file(&args.net))?;
    if args.outputs == Outputs::Logits {
        if !net
            .spec
            .layers
            .last()
            .is_some_and(|l| l.activation.is_softmax())
        {
            bail!(
                "--outputs logits: {} has no softmax output layer (its outputs are already what it computes)",
                args.net.display()
            );
        }
        net = logit_network(&net);
    }
    if let Some(points) = args.gauss_hermite {
        let prune = args.prune.unwrap_or(0.0);
        let ds = gradflow::net::gauss_hermite::gauss_hermite_dataset(&net, points, prune)
            .map_err(|e| anyhow::anyhow!("--gauss-hermite {points} --prune {prune}: {e}"))?;
        write_data(&dest, &ds)?;
        eprintln!(
            "wrote {} weighted samples (d = {}, k = {}, Gauss–Hermite grid of {points} nodes per dimension) to {dest}",
            ds.n_samples(),
            ds.input_dim(),
            ds.output_dim()
        );
        return Ok(());
    }
    let dist = match args.inputs.as_deref() {
        None => Some(InputDistribution::default()),
        Some(text) => InputDistribution::from_name(text).ok(),
    };
    let (ds, what) = match dist {
        Some(dist) => {
            let samples = args.samples.unwrap_or(gradflow::teacher::PAPER_SAMPLES);
            if samples == 0 {
                bail!("--samples: must be at least 1");
            }
            let seed = args.seed.unwrap_or_else(|| record.data_seed());
            (
                sample_data(&net, samples, dist, seed)?,
                format!("seed {seed}"),
            )
        }
        None => {
            let source =
                DataSource::parse(args.inputs.as_deref().unwrap_or_default()).map_err(|e| {
                    anyhow::anyhow!(
                        "--inputs: neither an input distribution (gaussian, uniform) nor a data file ({e})"
                    )
                })?;
            if args.samples.is_some() || args.seed.is_some() {
                bail!(
                    "--samples and --seed sample inputs from a distribution; --inputs names a file"
                );
            }
            let inputs = read_inputs(&source)?;
            if inputs.input_dim() != net.spec.input_dim {
                bail!(
                    "--inputs {source}: {} inputs per sample, the network {} takes {}",
                    inputs.input_dim(),
                    net.spec.shape_string(),
                    net.spec.input_dim
                );
            }
            let y = net.predict(&inputs.x_row_major())?;
            let ds = gradflow::net::Dataset::from_row_major(
                &inputs.x_row_major(),
                inputs.input_dim(),
                &y,
                net.spec.output_dim(),
            )?;
            (ds, format!("inputs of {source}"))
        }
    };
    write_data(&dest, &ds)?;
    eprintln!(
        "wrote {} samples (d = {}, k = {}, {what}) to {dest}",
        ds.n_samples(),
        ds.input_dim(),
        ds.output_dim()
    );
    Ok(())
}

/// `gradflow teacher --train DATA`: a softmax classifier trained with Adam and early stopping.
fn train_teacher(args: &TeacherArgs, output: Option<PathBuf>, cancel: &Cancel) -> Result<bool> {
    let text = args.train.as_deref().unwrap_or_default();
    let source = DataSource::parse(text).map_err(|e| anyhow::anyhow!("--train: {e}"))?;
    let mut data = read_data(&source)?;
    // One column of integer labels 0, 1, …: one-hot, as `eval` and Python read them.
    if data.output_dim() == 1 {
        let y = data.y();
        let labels: Option<Vec<f64>> = (0..data.n_samples())
            .map(|i| y[(i, 0)])
            .map(|v| (v >= 0.0 && v.fract() == 0.0 && v < 10_000.0).then_some(v))
            .collect();
        if let Some(classes) = labels
            .and_then(|l| l.into_iter().reduce(f64::max))
            .map(|m| m as usize + 1)
            .filter(|&c| c >= 2)
        {
            data = gradflow::eval::labels_to_one_hot(&data, classes)?;
            eprintln!("{source}: one column of integer labels, read as {classes} classes");
        }
    }
    let Some(widths) = &args.widths else {
        bail!(
            "--train needs --widths d,h…,classes (the data have {} inputs and {} classes), e.g. --widths {},20,{}",
            data.input_dim(),
            data.output_dim(),
            data.input_dim(),
            data.output_dim()
        );
    };
    if widths.len() < 3
        || widths[0] != data.input_dim()
        || widths[widths.len() - 1] != data.output_dim()
    {
        bail!(
            "--widths {}: give d,h…,classes with d = {} inputs and {} classes of {source} and at least one hidden layer",
            widths
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(","),
            data.input_dim(),
            data.output_dim()
        );
    }
    let mut o = ClassifierOptions::default();
    o.hidden = widths[1..widths.len() - 1].to_vec();
    overlay!(
        args,
        o,
        [
            activation,
            epochs,
            lr,
            batch_size,
            patience,
            validation_fraction
        ]
    );
    if let Some(s) = args.seed {
        o.seed = s;
    }
    let watch = gradflow::observe::Watch::new(|e: &gradflow::observe::Event<'_>| {
        if let gradflow::observe::Event::Message(m) = e {
            eprintln!("{m}");
        }
    })
    .with_cancel(cancel.clone());
    let (net, report) =
        train_classifier(&data, &o, &watch).map_err(|e| flag_error(e, "teacher"))?;
    let meta = serde_json::json!({
        "trained_on": source.to_string(),
        "options": o,
        "training": report,
    });
    // Without a held-out split (--validation-fraction 0) there is no held-out score to show.
    let scores = if report.validation_accuracy.is_nan() {
        format!(
            "accuracy {:.4} train (nothing held out); cross-entropy {:.4e}",
            report.train_accuracy, report.train_loss
        )
    } else {
        format!(
            "accuracy {:.4} train, {:.4} held out; cross-entropy {:.4e} / {:.4e}",
            report.train_accuracy,
            report.validation_accuracy,
            report.train_loss,
            report.validation_loss
        )
    };
    eprintln!(
        "trained {} ({}) for {} epochs ({:?}; best epoch {}): {scores}; {:.1} s",
        net.spec.shape_string(),
        o.activation.name(),
        report.epochs,
        report.stop,
        report.best_epoch,
        report.time
    );
    match output {
        Some(path) => {
            write_network_with_meta(&path, &net, Some(meta))?;
            eprintln!("wrote {}", path.display());
        }
        None => {
            let mut rec = gradflow::io::network_file::NetworkRecord::from_network(&net);
            rec.meta = Some(meta);
            println!("{}", serde_json::to_string_pretty(&rec)?);
        }
    }
    Ok(report.stop == gradflow::teacher::ClassifierStop::Interrupted)
}

fn eval(args: &EvalArgs, output: Option<PathBuf>) -> Result<()> {
    let opts = args.options();
    let report = match (&args.net, &args.data) {
        (Some(net_path), None) if args.infinite_data => {
            let net = read_network(net_path)?;
            let teacher_path = args
                .teacher
                .as_ref()
                .context("--infinite-data needs --teacher")?;
            let teacher = read_network(teacher_path)?;
            gradflow::eval::evaluate_infinite(&net, &teacher, &opts, &PopulationOptions::default())
                .map_err(|e| flag_error(e, "eval"))?
        }
        (Some(_), None) => bail!("--net needs --data (or --teacher with --infinite-data)"),
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

#[cfg(test)]
mod tests;
