//! The report's Markdown: `summary.md` (a pure function of the results) and `timing.md`
//! (task wall times, which differ from run to run).

use std::fmt::Write;

use super::tables::{cells, end_state_counts, headline_rows, tally};
use crate::landscape::EndKind;
use crate::named::Named;
use crate::study::{StudyConfig, StudyResults};

fn budget(cfg: &StudyConfig) -> String {
    let lim = |t: f64, it: usize| {
        let mut parts = Vec::new();
        if t.is_finite() {
            parts.push(format!("{t} s"));
        }
        if it != usize::MAX {
            parts.push(format!("{it} steps"));
        }
        parts.join(" or ")
    };
    let method = |m: Option<String>| m.unwrap_or_else(|| "default".into());
    let name = |v: serde_json::Value| v.as_str().map(str::to_string);
    let mut s = format!(
        "gradient flow {} ({}), refinement {} ({})",
        method(cfg.flow.integrator.and_then(|i| name(serde_json::json!(i)))),
        lim(cfg.flow.maxtime_ode, cfg.flow.maxiterations_ode),
        method(cfg.refine.refiner.and_then(|r| name(serde_json::json!(r)))),
        lim(cfg.refine.maxtime_optim, cfg.refine.maxiterations_optim),
    );
    for (rho, r) in &cfg.refine_by_rho {
        let _ = write!(
            s,
            "; at ρ = {rho} refinement {} ({})",
            method(r.refiner.and_then(|m| name(serde_json::json!(m)))),
            lim(r.maxtime_optim, r.maxiterations_optim)
        );
    }
    s
}

fn frac(a: usize, b: usize) -> String {
    if b == 0 {
        "–".into()
    } else {
        format!("{a}/{b}")
    }
}

/// `summary.md`.
pub fn summary_md(results: &StudyResults) -> String {
    let cfg = &results.config;
    let mut md = format!("# Study report: {}\n\n", cfg.name);
    if !cfg.methods.is_empty() {
        let names: Vec<&str> = cfg.methods.iter().map(|m| m.name.as_str()).collect();
        let _ = writeln!(
            md,
            "This study compares {} methods ({}): every student below is one method's run, and \
             the tables pool the methods (each group holds students × methods runs; the budgets \
             are each method's own). `benchmark.md` compares the methods.\n",
            names.len(),
            names.join(", ")
        );
    }
    let _ = writeln!(
        md,
        "Teachers: {} ({}); ρ ∈ {:?}; {} students per group{}; {} samples; {}.\n",
        results.teacher_order.len(),
        teacher_sources(cfg),
        cfg.rhos,
        cfg.students,
        {
            let present: Vec<String> = cfg
                .students_by_width
                .iter()
                .filter(|(w, _)| {
                    results
                        .students
                        .iter()
                        .any(|s| s.teacher.r.to_string() == **w)
                })
                .map(|(w, n)| format!("{n} for r = {w}"))
                .collect();
            if present.is_empty() {
                String::new()
            } else {
                format!(" ({})", present.join(", "))
            }
        },
        cfg.samples,
        budget(cfg)
    );
    let _ = writeln!(
        md,
        "Results found: {} of {} student tasks, {} of {} recoveries.{}\n",
        results.students.len(),
        results.expected_students,
        results.recoveries.len(),
        results.expected_recoveries,
        if results.students.len() < results.expected_students
            || results.recoveries.len() < results.expected_recoveries
        {
            " **The study is incomplete**: the figures below cover the finished tasks only."
        } else {
            ""
        }
    );
    md.push_str(
        "A teacher is *identified* when the network Expand-and-Cluster recovers from its \
         students has rmse ≤ 1e-14 on the data (the paper's criterion); a student *succeeds* \
         when its own rmse is ≤ 1e-14.\n\n## Headline\n\n\
         | teachers | ρ | identified | of which m̂ = r | students succeeding | teachers with a succeeding student | paper |\n\
         |---|---|---|---|---|---|---|\n",
    );
    for h in headline_rows(results) {
        let t = &h.tally;
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} |",
            h.subset,
            h.rho,
            frac(t.identified, t.recoveries),
            t.identified_exact_width,
            frac(t.students_success, t.students),
            frac(t.teachers_with_success, t.teachers),
            h.paper.as_deref().unwrap_or("–")
        );
    }
    md.push_str(
        "\n## Per cell\n\nIdentified teachers (E&C) and succeeding students per (d, r) cell.\n\n| d | r |",
    );
    for rho in &cfg.rhos {
        let _ = write!(md, " ρ = {rho}: identified | ρ = {rho}: students |");
    }
    md.push_str("\n|---|---|");
    md.push_str(&"---|---|".repeat(cfg.rhos.len()));
    md.push('\n');
    for (d, w) in cells(results) {
        let w_str: Vec<String> = w.iter().map(usize::to_string).collect();
        let _ = write!(md, "| {d} | {} |", w_str.join("-"));
        for &rho in &cfg.rhos {
            let t = tally(results, rho, &|t| t.d == d && t.hidden == w);
            let _ = write!(
                md,
                " {} | {} |",
                frac(t.identified, t.recoveries),
                frac(t.students_success, t.students)
            );
        }
        md.push('\n');
    }
    md.push_str(&end_states_md(results));
    let failed: Vec<String> = results
        .recoveries
        .iter()
        .filter_map(|r| {
            r.error
                .as_ref()
                .map(|e| format!("- {} ρ = {}: {e}", r.teacher.id, r.rho))
        })
        .collect();
    if !failed.is_empty() {
        let _ = write!(
            md,
            "\n## Recoveries that stopped with an error\n\n{}\n",
            failed.join("\n")
        );
    }
    md.push_str(
        "\n## Files\n\n\
         - `student_losses.svg`: final loss of every student, one row per teacher, one panel per ρ (paper Fig. 4B/C).\n\
         - `recovery_losses.svg`: loss after Expand-and-Cluster per teacher and ρ (paper Fig. 5B).\n\
         - `students.csv`, `recoveries.csv`, `cells.csv`, `headline.csv`, `end_states.csv`: the tables. \
         In `recoveries.csv`, `input_cosine_mean` and `input_cosine_max` are the worst hidden layer's \
         mean and maximum cosine distance over its matched teacher neurons (`metrics.json` of each \
         recovery has every layer and the number matched).\n\
         - `timing.csv`, `timing.md`: wall time of every task (the only files that differ between repeated runs).\n",
    );
    md
}

/// The `## End states` section: what the students ended at, per ρ (paper Fig. 5's question:
/// why students fail).
fn end_states_md(results: &StudyResults) -> String {
    let mut md = String::from(
        "\n## End states\n\nWhat each student ended at (its certificate: `zero_loss` ≤ the loss \
         floor; `minimum`/`saddle`: stationary, by the Hessian's extreme eigenvalues; `channel`: \
         near-parallel neurons with diverging opposite outgoing weights and a power-law loss; \
         `stationary`: stationary, spectrum not computed (too many parameters, a failed \
         eigendecomposition or an interrupted run); `unconverged`: still moving).\n\n| ρ |",
    );
    for k in EndKind::ALL {
        let _ = write!(md, " {} |", k.name());
    }
    md.push_str(" uncertified |\n|---|");
    md.push_str(&"---|".repeat(EndKind::ALL.len() + 1));
    md.push('\n');
    for (rho, counts, none) in end_state_counts(results) {
        let total = counts.iter().sum::<usize>() + none;
        let _ = write!(md, "| {rho} |");
        for c in counts.iter().chain([&none]) {
            let _ = write!(md, " {} |", frac(*c, total));
        }
        md.push('\n');
    }
    md
}

fn teacher_sources(cfg: &StudyConfig) -> String {
    let mut parts = Vec::new();
    if let Some(f) = &cfg.family {
        parts.push(format!(
            "paper family, d ∈ {:?}, r ∈ {:?}, {} per cell, activation {}",
            f.dims, f.widths, f.teachers, f.activation
        ));
    }
    for t in &cfg.deep {
        let w: Vec<String> = t.widths.iter().map(usize::to_string).collect();
        parts.push(format!("deep {} (seed {})", w.join("-"), t.seed));
    }
    if !cfg.teacher_files.is_empty() {
        parts.push(format!("{} teacher files", cfg.teacher_files.len()));
    }
    parts.join("; ")
}

fn stats(v: &mut [f64]) -> Option<(f64, f64, f64, f64)> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let median = if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    };
    let sum: f64 = v.iter().sum();
    Some((median, sum / n as f64, v[n - 1], sum))
}

/// `timing.md`: per-task wall times by kind and ρ.
pub fn timing_md(results: &StudyResults) -> String {
    let mut md = format!(
        "# Task times: {}\n\nWall time per task. A student task runs on one thread; a recovery of a \
         deep teacher trains its students on the study's threads, so its core time can exceed its \
         wall time.\n\n\
         | task | ρ | tasks | median s | mean s | max s | total wall-hours |\n|---|---|---|---|---|---|---|\n",
        results.config.name
    );
    for &rho in &results.config.rhos {
        let mut students: Vec<f64> = results
            .students
            .iter()
            .filter(|s| s.rho == rho)
            .filter_map(|s| s.record.as_ref().map(|r| r.total_time))
            .collect();
        let mut recoveries: Vec<f64> = results
            .recoveries
            .iter()
            .filter(|r| r.rho == rho)
            .map(|r| r.wall_time)
            .collect();
        for (kind, v) in [("student", &mut students), ("recovery", &mut recoveries)] {
            if let Some((med, mean, max, sum)) = stats(v) {
                let _ = writeln!(
                    md,
                    "| {kind} | {rho} | {} | {med:.1} | {mean:.1} | {max:.1} | {:.2} |",
                    v.len(),
                    sum / 3600.0
                );
            }
        }
    }
    md
}
