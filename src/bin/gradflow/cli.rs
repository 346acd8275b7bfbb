//! Argument definitions and dispatch.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

use gradflow::eval::{EvalConfig, run_eval};
use gradflow::io::{DataSource, write_atomic, write_data, write_network_with_meta};
use gradflow::teacher::command::{DataConfig, TeacherConfigArgs, run_data, run_teacher};

/// Train small MLPs to machine precision and recover unknown networks.
#[derive(Parser, Debug)]
#[command(name = "gradflow", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Write a synthetic teacher network (the paper's construction), or the whole family.
    Teacher {
        #[command(flatten)]
        args: TeacherConfigArgs,
        /// Output file (default: standard output); a folder with --family.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Sample a data set from a network.
    Data {
        #[command(flatten)]
        args: DataConfig,
        /// Output: `file.npz`, `X.npy,Y.npy` or `file.csv`.
        #[arg(short, long)]
        output: String,
    },
    /// Loss, gradient, Hessian and spectrum of a network on data.
    Eval {
        #[command(flatten)]
        args: EvalConfig,
        /// Output JSON file (default: standard output).
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
}

pub fn run() -> Result<()> {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            // Help and version go to stdout with success; usage errors exit 2.
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    match cli.command {
        Command::Teacher { args, output } => teacher(&args, output),
        Command::Data { args, output } => data(&args, &output),
        Command::Eval { args, output } => eval(&args, output),
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

fn data(args: &DataConfig, output: &str) -> Result<()> {
    let dest = DataSource::parse(output)?;
    let (ds, seed) = run_data(args)?;
    write_data(&dest, &ds)?;
    eprintln!(
        "wrote {} samples (d = {}, k = {}, seed {seed}) to {dest}",
        ds.n_samples(),
        ds.input_dim(),
        ds.output_dim()
    );
    Ok(())
}

fn eval(args: &EvalConfig, output: Option<PathBuf>) -> Result<()> {
    let report = run_eval(args)?;
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
