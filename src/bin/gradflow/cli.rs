//! Argument definitions and dispatch.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

use gradflow::cluster::{Hooks, RecoverConfig, recover};
use gradflow::eval::{EvalConfig, run_eval};
use gradflow::io::{DataSource, write_atomic, write_data, write_network_with_meta};
use gradflow::solve::{SolveConfig, resolve_problem, run_solve};
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
    /// Train students to machine precision: gradient flow, then refinement (many seeds in
    /// parallel). Without arguments: the built-in demo (paper teacher d=4, r=4, ρ=4 students).
    Solve {
        #[command(flatten)]
        args: Box<SolveConfig>,
        /// Output folder for one JSON record per seed (written as each run finishes).
        #[arg(short, long, default_value = "gradflow-results")]
        output: PathBuf,
        /// No progress bars.
        #[arg(long)]
        quiet: bool,
        /// Configuration file (TOML); flags given on the command line override it.
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Recover an unknown network's layer sizes and weights from input–output data
    /// (Expand-and-Cluster).
    Recover {
        #[command(flatten)]
        args: Box<RecoverConfig>,
        /// Output folder: recovered.json, report.json and SVG figures per layer.
        #[arg(short, long, default_value = "gradflow-recovery")]
        output: PathBuf,
        /// No progress bars.
        #[arg(long)]
        quiet: bool,
    },
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
        args: EvalConfig,
        /// Output JSON file (default: standard output).
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
}

pub fn run() -> Result<()> {
    use clap::{CommandFactory, FromArgMatches};
    let parsed = Cli::command()
        .try_get_matches()
        .and_then(|m| Cli::from_arg_matches(&m).map(|c| (c, m)));
    let (cli, matches) = match parsed {
        Ok(c) => c,
        Err(e) => {
            // Help and version go to stdout with success; usage errors exit 2.
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    match cli.command {
        Command::Solve {
            args,
            output,
            quiet,
            config,
        } => {
            let args = match config {
                Some(path) => {
                    // Flags given on the command line override the file.
                    let sub = matches.subcommand_matches("solve").expect("solve matches");
                    let explicit: Vec<String> = sub
                        .ids()
                        .filter(|id| {
                            sub.value_source(id.as_str())
                                == Some(clap::parser::ValueSource::CommandLine)
                        })
                        .map(|id| id.as_str().to_string())
                        .collect();
                    let file = gradflow::solve::read_config(&path)?;
                    Box::new(gradflow::solve::merge_explicit(&file, &args, &explicit)?)
                }
                None => args,
            };
            solve(&args, &output, quiet)
        }
        Command::Recover {
            args,
            output,
            quiet,
        } => recover_cmd(&args, &output, quiet),
        Command::Teacher { args, output } => teacher(&args, output),
        Command::Data { args, output } => data(&args, &output),
        Command::Eval { args, output } => eval(&args, output),
        Command::Study { args } => crate::study_cmd::study(&args),
        Command::Report { args } => crate::study_cmd::report(&args),
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

fn solve(args: &SolveConfig, output: &std::path::Path, quiet: bool) -> Result<()> {
    use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

    let problem = resolve_problem(args)?;
    std::fs::create_dir_all(output)
        .with_context(|| format!("{}: cannot create folder", output.display()))?;
    eprintln!(
        "gradflow solve: {}; student {} ({} parameters); seeds {:?}",
        problem.description,
        problem.student.shape_string(),
        problem.student.n_params(),
        args.seeds.0
    );
    let multi = MultiProgress::new();
    if quiet {
        multi.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let style = ProgressStyle::with_template("{prefix:>8} {spinner} {elapsed:>4} {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner());
    let bars: Vec<(u64, ProgressBar)> = args
        .seeds
        .0
        .iter()
        .map(|&s| {
            let b = multi.add(ProgressBar::new_spinner());
            b.set_style(style.clone());
            b.set_prefix(format!("seed {s}"));
            b.set_message("waiting");
            (s, b)
        })
        .collect();
    let bar_of = |seed: u64| {
        bars.iter()
            .find(|(s, _)| *s == seed)
            .map(|(_, b)| b.clone())
    };
    let results = run_solve(
        args,
        &problem,
        |seed| Some(bar_progress(bar_of(seed)?)),
        |r, seed| {
            let bar = bar_of(seed);
            match r {
                Ok(rec) => {
                    let path = output.join(format!("seed_{seed}.json"));
                    let written = serde_json::to_vec(rec)
                        .map_err(anyhow::Error::from)
                        .and_then(|bytes| write_atomic(&path, &bytes).map_err(anyhow::Error::from));
                    if let Some(b) = bar {
                        match written {
                            Ok(()) => b.finish_with_message(format!(
                                "done: loss {:.3e} gnorm {:.3e} ({:.1}s) -> {}",
                                rec.loss,
                                rec.gnorm,
                                rec.total_time,
                                path.display()
                            )),
                            Err(e) => b.finish_with_message(format!(
                                "could not write {}: {e}",
                                path.display()
                            )),
                        }
                    }
                }
                Err(e) => {
                    if let Some(b) = bar {
                        b.finish_with_message(format!("failed: {e}"));
                    }
                }
            }
        },
    )?;
    println!(
        "{:>6} {:>12} {:>10} {:>10} {:>15} {:>15} {:>8}",
        "seed", "loss", "gnorm", "ode_loss", "stop_ode", "stop_optim", "time_s"
    );
    let mut failures = 0;
    for (seed, r) in &results {
        match r {
            Ok(rec) => println!(
                "{:>6} {:>12.3e} {:>10.2e} {:>10.2e} {:>15} {:>15} {:>8.1}",
                seed,
                rec.loss,
                rec.gnorm,
                rec.ode_loss,
                format!("{:?}", rec.ode.stop),
                format!("{:?}", rec.optim.stop),
                rec.total_time
            ),
            Err(e) => {
                failures += 1;
                println!("{seed:>6} failed: {e}");
            }
        }
    }
    if failures > 0 {
        bail!("{failures} of {} runs failed", results.len());
    }
    Ok(())
}

fn recover_cmd(args: &RecoverConfig, output: &std::path::Path, quiet: bool) -> Result<()> {
    use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

    std::fs::create_dir_all(output)
        .with_context(|| format!("{}: cannot create folder", output.display()))?;
    let multi = MultiProgress::new();
    if quiet {
        multi.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let style = ProgressStyle::with_template("{prefix:>18} {spinner} {elapsed:>4} {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner());
    let progress = |stage: &str, seed: u64| {
        let bar = multi.add(ProgressBar::new_spinner());
        bar.set_style(style.clone());
        bar.set_prefix(format!("{stage} seed {seed}"));
        Some(bar_progress(bar))
    };
    let message = |m: &str| {
        if quiet {
            eprintln!("gradflow recover: {m}");
        } else {
            let _ = multi.println(format!("gradflow recover: {m}"));
        }
    };
    let students_dir = output.join("students");
    std::fs::create_dir_all(&students_dir)
        .with_context(|| format!("{}: cannot create folder", students_dir.display()))?;
    let done = |stage: &str, rec: &gradflow::train::RunRecord| {
        let path = students_dir.join(format!(
            "{}_seed_{}.json",
            stage.replace(' ', "_"),
            rec.seed
        ));
        let written = serde_json::to_vec(rec)
            .map_err(anyhow::Error::from)
            .and_then(|b| write_atomic(&path, &b).map_err(anyhow::Error::from));
        if let Err(e) = written {
            message(&format!("could not write {}: {e}", path.display()));
        }
    };
    // Records of an interrupted run in the same folder are reused when they match exactly.
    let cached = |stage: &str, seed: u64| {
        let path = students_dir.join(format!("{}_seed_{seed}.json", stage.replace(' ', "_")));
        let bytes = std::fs::read(&path).ok()?;
        serde_json::from_slice::<gradflow::train::RunRecord>(&bytes).ok()
    };
    let result = recover(
        args,
        &Hooks {
            progress: &progress,
            message: &message,
            done: &done,
            cached: &cached,
        },
    )?;
    multi.clear().ok();
    let net_path = output.join("recovered.json");
    write_network_with_meta(
        &net_path,
        &result.network,
        Some(serde_json::json!({
            "recovered_by": "gradflow recover",
            "loss": result.report.loss,
            "rmse": result.report.rmse,
        })),
    )?;
    for l in &result.report.layers {
        let c = &l.clustering;
        let title = format!(
            "layer {}: {} student neurons, {} recovered",
            l.layer,
            c.points.len(),
            l.clustered
        );
        write_atomic(
            &output.join(format!("layer{}_similarity.svg", l.layer)),
            gradflow::cluster::figures::similarity_svg(c, &title).as_bytes(),
        )?;
        write_atomic(
            &output.join(format!("layer{}_dendrogram.svg", l.layer)),
            gradflow::cluster::figures::dendrogram_svg(c, &title).as_bytes(),
        )?;
    }
    let report_path = output.join("report.json");
    write_atomic(&report_path, &serde_json::to_vec_pretty(&result.report)?)?;
    let r = &result.report;
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
            "  output weights: cosine distance {:.3e}; success (rmse ≤ 1e-14): {}",
            m.output_cosine_distance, m.success
        );
    }
    println!(
        "wrote {}, {} and figures",
        net_path.display(),
        report_path.display()
    );
    Ok(())
}

/// A training-progress callback that shows the phase, step, loss and gradient norm on `bar`.
fn bar_progress(bar: indicatif::ProgressBar) -> gradflow::monitor::ProgressFn {
    std::sync::Arc::new(move |phase, it, loss, gnorm| {
        if it % 5 == 0 {
            // Trial points of line searches and trust regions carry no gradient yet.
            let g = if gnorm.is_nan() {
                "–".to_string()
            } else {
                format!("{gnorm:.3e}")
            };
            bar.set_message(format!("{phase} step {it}: loss {loss:.3e} gnorm {g}"));
            bar.tick();
        }
    })
}
