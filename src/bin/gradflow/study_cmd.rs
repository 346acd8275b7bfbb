//! `gradflow study` and `gradflow report`.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::Result;

use gradflow::study::{Shard, StudyHooks, read_study_config, run_study};

fn parse_shard(s: &str) -> std::result::Result<Shard, String> {
    s.parse().map_err(|e: gradflow::Error| e.to_string())
}

/// Options of `gradflow study`.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize, clap::Args)]
pub struct StudyArgs {
    /// Study configuration (TOML; see `experiments/synthetic150/`).
    #[arg(long)]
    pub config: PathBuf,
    /// Run only shard `i` of `n` (1-based), e.g. `--shard 3/100` for a Slurm array task;
    /// the shards cover the grid exactly once.
    #[arg(long, value_parser = parse_shard)]
    pub shard: Option<Shard>,
    /// Study folder (default: `results/<name>` next to the configuration file). Finished
    /// tasks found there are skipped.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Worker threads, one task each (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// No progress bar (finished tasks are still listed).
    #[arg(long)]
    pub quiet: bool,
}

/// Testing aid: abort the process (as a kill would) after this many finished tasks.
const ABORT_AFTER: &str = "GRADFLOW_TEST_ABORT_AFTER_TASKS";

pub fn study(args: &StudyArgs) -> Result<()> {
    use indicatif::{ProgressBar, ProgressStyle};

    let cfg = read_study_config(&args.config)?;
    let out = args.out.clone().unwrap_or_else(|| {
        args.config
            .parent()
            .unwrap_or(std::path::Path::new("."))
            .join("results")
            .join(&cfg.name)
    });
    let shard = args.shard.unwrap_or(Shard::ALL);
    let abort_after: Option<usize> = std::env::var(ABORT_AFTER).ok().and_then(|v| v.parse().ok());
    let bar = if args.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(0)
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{elapsed_precise} [{bar:30}] {pos}/{len} tasks, ETA {eta} {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    let done = AtomicUsize::new(0);
    let say = |m: &str| {
        if args.quiet {
            eprintln!("{m}");
        } else {
            bar.println(m);
        }
    };
    let start = |tasks: usize, finished: usize| {
        bar.set_length(tasks as u64);
        bar.set_position(finished as u64);
        bar.reset_eta();
        say(&format!(
            "gradflow study `{}` shard {shard}: {tasks} tasks, {finished} already finished, results in {}",
            cfg.name,
            out.display()
        ));
    };
    let finished = |line: &str| {
        bar.inc(1);
        say(line);
        let n = done.fetch_add(1, Ordering::SeqCst) + 1;
        if abort_after.is_some_and(|a| n >= a) {
            std::process::abort();
        }
    };
    let warn = |m: &str| say(&format!("warning: {m}"));
    let run = run_study(
        &cfg,
        &out,
        shard,
        args.threads,
        &StudyHooks {
            start: &start,
            finished: &finished,
            warn: &warn,
        },
    )?;
    bar.finish_and_clear();
    println!(
        "study `{}` shard {shard}: {} tasks, {} run now ({} recorded a failure), {} were already finished; results in {}",
        cfg.name,
        run.tasks,
        run.ran,
        run.failed,
        run.skipped,
        out.display()
    );
    Ok(())
}

/// Options of `gradflow report`.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize, clap::Args)]
pub struct ReportArgs {
    /// Study folders (one, or one per shard).
    #[arg(required = true)]
    pub dirs: Vec<PathBuf>,
    /// Output folder for the CSV tables, SVG figures and `summary.md`.
    #[arg(short, long)]
    pub output: PathBuf,
}

pub fn report(args: &ReportArgs) -> Result<()> {
    let results = gradflow::study::read_results(&args.dirs)?;
    let written = gradflow::report::write_report(&results, &args.output)?;
    println!(
        "report of `{}`: {} student results, {} recoveries; wrote {}",
        results.config.name,
        results.students.len(),
        results.recoveries.len(),
        written
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(())
}
