//! `gradflow study` and `gradflow report`.

use std::path::PathBuf;

use anyhow::Result;

use gradflow::cancel::Cancel;
use gradflow::observe::{Event, Watch};
use gradflow::study::{Shard, read_study_config, run_study};

fn parse_shard(s: &str) -> std::result::Result<Shard, String> {
    s.parse().map_err(|e: gradflow::Error| e.to_string())
}

/// Options of `gradflow study`.
#[derive(Clone, Debug, clap::Args)]
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

/// Runs `gradflow study`; returns whether it was interrupted.
pub fn study(args: &StudyArgs, cancel: &Cancel) -> Result<bool> {
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
    // The clock keeps moving while a long task (a recovery) runs.
    bar.enable_steady_tick(std::time::Duration::from_secs(1));
    let quiet = args.quiet;
    let b = bar.clone();
    let say = move |m: &str| {
        if quiet {
            eprintln!("{m}");
        } else {
            b.println(m);
        }
    };
    let name = cfg.name.clone();
    let folder = out.display().to_string();
    let b = bar.clone();
    let watch = Watch::new(move |e: &Event<'_>| match e {
        Event::TasksPlanned { tasks, finished } => {
            b.set_length(*tasks as u64);
            b.set_position(*finished as u64);
            b.reset_eta();
            say(&format!(
                "gradflow study `{name}` shard {shard}: {tasks} tasks, {finished} already finished, results in {folder}"
            ));
        }
        Event::TaskDone(line) => {
            b.inc(1);
            say(line);
        }
        Event::Message(m) => say(m),
        _ => {}
    })
    .with_cancel(cancel.clone());
    let run = run_study(&cfg, &out, shard, args.threads, &watch)
        .map_err(|e| crate::cli::flag_error(e, "study"))?;
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
    if run.interrupted {
        eprintln!(
            "gradflow study: interrupted; finished tasks are saved, the others run when the same command runs again"
        );
    }
    Ok(run.interrupted)
}

/// Options of `gradflow report`.
#[derive(Clone, Debug, clap::Args)]
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
