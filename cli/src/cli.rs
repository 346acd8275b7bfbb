//! Argument definitions and dispatch.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

use gradflow::cancel::Cancel;
use gradflow::eval::{EvalOptions, evaluate};
use gradflow::io::{
    DataSource, read_data, read_network, read_network_record, write_atomic, write_data,
    write_network_with_meta,
};
use gradflow::net::{Activation, Loss};
use gradflow::teacher::command::{TeacherConfigArgs, run_teacher};
use gradflow::teacher::{InputDistribution, sample_data};

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
    /// The end-state certificate (zero_loss, minimum, saddle, channel, unconverged) of saved
    /// run records, recomputed on the data their configuration names.
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
        Command::Certify { args } => {
            crate::certify_cmd::certify_cmd(&args)?;
            false
        }
        Command::Landscape { args } => {
            crate::landscape_cmd::landscape_cmd(&args)?;
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

#[cfg(test)]
mod tests;
