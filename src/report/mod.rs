//! Reports of studies (`gradflow report`): CSV tables, SVG figures (plotters) and Markdown.
//!
//! Everything except `timing.csv` and `timing.md` — and, in a study with methods, the
//! benchmark's files, which measure wall times ([`benchmark`]) — is a pure function of the task
//! results, so a study that was interrupted and resumed, or run in shards, gives byte-identical
//! files.

pub mod benchmark;
pub mod plots;
pub mod profiles;
pub mod summary;
pub mod tables;

use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::io::write_atomic;
use crate::study::StudyResults;

/// Writes the report of `results` into the folder `out`; returns the files written.
pub fn write_report(results: &StudyResults, out: &Path) -> Result<Vec<PathBuf>> {
    let files: Vec<(&str, String)> = vec![
        ("students.csv", tables::students_csv(&results.students)),
        (
            "recoveries.csv",
            tables::recoveries_csv(&results.recoveries),
        ),
        ("cells.csv", tables::cells_csv(results)),
        ("headline.csv", tables::headline_csv(results)),
        ("end_states.csv", tables::end_states_csv(results)),
        ("timing.csv", tables::timing_csv(results)),
        ("student_losses.svg", plots::student_losses_svg(results)?),
        ("recovery_losses.svg", plots::recovery_losses_svg(results)?),
        ("summary.md", summary::summary_md(results)),
        ("timing.md", summary::timing_md(results)),
    ];
    let mut files: Vec<(String, String)> =
        files.into_iter().map(|(n, t)| (n.to_string(), t)).collect();
    // A study with several methods (or peers' runs) is a benchmark: time-to-target tables,
    // profiles and loss curves.
    if let Some(b) = benchmark::Benchmark::of(results) {
        let figures = profiles::benchmark_figures(&b)?;
        let names: Vec<String> = figures.iter().map(|(n, _)| n.clone()).collect();
        files.push(("targets.csv".into(), benchmark::targets_csv(&b)));
        files.push(("methods.csv".into(), benchmark::methods_csv(&b)));
        files.push(("benchmark.md".into(), benchmark::benchmark_md(&b, &names)));
        files.extend(figures);
    }
    let mut written = Vec::new();
    for (name, text) in files {
        let path = out.join(name);
        write_atomic(&path, text.as_bytes())?;
        written.push(path);
    }
    Ok(written)
}
