//! The benchmark's tables: `targets.csv`, `methods.csv` and `benchmark.md`.

use std::fmt::Write as _;

use super::curves::median;
use super::profile::{Profile, performance_profile};
use super::{Benchmark, Hit, TARGETS, Target, wall_costs};

fn fmt_opt(v: Option<f64>) -> String {
    v.map_or_else(String::new, |v| format!("{v:.6e}"))
}

/// `targets.csv`: one row per (method, problem, target) with the time and work to reach it
/// (empty when not reached, or when the method has no run on the problem).
pub fn targets_csv(b: &Benchmark) -> String {
    let best = b.best_losses();
    let mut out = String::from(
        "method,peer,teacher,rho,seed,n_params,target,target_loss,reached,time_s,gradient_equivalents,final_loss,run_time_s\n",
    );
    let per_target: Vec<(Target, Vec<Vec<Option<Hit>>>)> =
        TARGETS.iter().map(|&t| (t, b.hits(t))).collect();
    for (m, name) in b.methods.iter().enumerate() {
        for (p, key) in b.problems.iter().enumerate() {
            let Some(run) = &b.runs[m][p] else {
                continue;
            };
            for (target, hits) in &per_target {
                let hit = hits[m][p];
                let _ = writeln!(
                    out,
                    "{name},{},{},{},{},{},{},{:.6e},{},{},{},{:.6e},{:.3}",
                    b.is_peer[m],
                    key.teacher,
                    key.rho,
                    key.seed,
                    run.n_params,
                    target.label(),
                    target.loss(best[p]),
                    hit.is_some(),
                    fmt_opt(hit.map(|h| h.wall)),
                    fmt_opt(hit.map(|h| h.work)),
                    run.loss,
                    run.wall
                );
            }
        }
    }
    out
}

/// `methods.csv`: per method and target, runs, successes and the median time and work of the
/// successful runs.
pub fn methods_csv(b: &Benchmark) -> String {
    let mut out = String::from(
        "method,peer,target,problems,runs,failed,reached,median_time_s,median_gradient_equivalents\n",
    );
    for target in TARGETS {
        let hits = b.hits(target);
        for (m, name) in b.methods.iter().enumerate() {
            let runs = b.runs[m].iter().flatten().count();
            let mut t: Vec<f64> = hits[m].iter().flatten().map(|h| h.wall).collect();
            let mut w: Vec<f64> = hits[m].iter().flatten().map(|h| h.work).collect();
            let _ = writeln!(
                out,
                "{name},{},{},{},{runs},{},{},{},{}",
                b.is_peer[m],
                target.label(),
                b.problems.len(),
                b.failed[m],
                t.len(),
                fmt_opt(Some(median(&mut t)).filter(|v| v.is_finite())),
                fmt_opt(Some(median(&mut w)).filter(|v| v.is_finite())),
            );
        }
    }
    out
}

/// `benchmark.md`: success counts and median times per method and target, the final losses,
/// and the profile figures.
pub fn benchmark_md(b: &Benchmark, figures: &[String]) -> String {
    let mut out = String::from("# Optimiser benchmark\n\n");
    let own = b.is_peer.iter().filter(|p| !**p).count();
    let _ = writeln!(
        out,
        "{} problems (teacher, ρ, student seed), {} methods ({} of the study, {} peers); every \
         method starts a problem from the same initial point. A target is reached at the first \
         point of the run's progress curve at or below it; `10xbest` is 10 × the best loss any \
         method reached on the problem. Work is in gradient-evaluation equivalents (a Hessian \
         counts as P gradients, a loss alone as ½).\n",
        b.problems.len(),
        b.methods.len(),
        own,
        b.methods.len() - own
    );
    out.push_str(
        "## Problems on which the target was reached, and the median time to it\n\n\
         A method without a run on a problem (failed, or not run) counts as not reaching it.\n\n",
    );
    out.push_str("| method |");
    for t in TARGETS {
        let _ = write!(out, " {} |", t.label());
    }
    out.push_str(" median final loss | runs | failed |\n|---|");
    out.push_str(&"---|".repeat(TARGETS.len() + 3));
    out.push('\n');
    let hits: Vec<Vec<Vec<Option<Hit>>>> = TARGETS.iter().map(|&t| b.hits(t)).collect();
    for (m, name) in b.methods.iter().enumerate() {
        let runs = b.runs[m].iter().flatten().count();
        let n = b.problems.len();
        let peer = if b.is_peer[m] && !name.ends_with("(peer)") {
            " (peer)"
        } else {
            ""
        };
        let _ = write!(out, "| {name}{peer} |");
        for h in &hits {
            let mut t: Vec<f64> = h[m].iter().flatten().map(|h| h.wall).collect();
            let reached = t.len();
            let med = median(&mut t);
            if reached == 0 {
                let _ = write!(out, " 0/{n} |");
            } else {
                let _ = write!(out, " {reached}/{n}, {med:.2} s |");
            }
        }
        let mut fin: Vec<f64> = b.runs[m].iter().flatten().map(|r| r.loss).collect();
        let _ = writeln!(
            out,
            " {:.2e} | {runs} | {} |",
            median(&mut fin),
            b.failed[m]
        );
    }
    out.push_str("\n## Performance profiles at ratio 1 and 10 (wall time)\n\n");
    out.push_str(
        "ρ(1): the fraction of problems on which the method was the fastest to the target; \
         ρ(10): within 10× the fastest.\n\n| method |",
    );
    for t in TARGETS {
        let _ = write!(out, " {} |", t.label());
    }
    out.push_str("\n|---|");
    out.push_str(&"---|".repeat(TARGETS.len()));
    out.push('\n');
    let profiles: Vec<Vec<Profile>> = hits
        .iter()
        .map(|h| performance_profile(&wall_costs(h)))
        .collect();
    for (m, name) in b.methods.iter().enumerate() {
        let _ = write!(out, "| {name} |");
        for p in &profiles {
            let _ = write!(out, " {:.2} / {:.2} |", p[m].at(1.0), p[m].at(10.0));
        }
        out.push('\n');
    }
    if !figures.is_empty() {
        out.push_str("\n## Figures\n\n");
        for f in figures {
            let _ = writeln!(out, "- [{f}]({f})");
        }
    }
    out
}
