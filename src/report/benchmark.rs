//! Benchmarking optimisers: a study's methods (and the peers' runs) compared by time to target.
//!
//! A *problem* is one (teacher, ρ, student seed) of the study's grid: every method starts it
//! from the same initial point. For each run and target loss, the time to target is the wall
//! time of the first point of the run's progress curve
//! ([`RunRecord::progress`](crate::train::RunRecord::progress)) at or below the target, and its
//! work the gradient-evaluation equivalents spent until then ([`work`]). The targets are
//! `1e-5`, `1e-10`, `1e-20`, `1e-30` and 10 × the best loss any method reached on the problem
//! ([`Target`]).
//!
//! From these the report draws
//! - Dolan–Moré performance profiles (Dolan & Moré, *Benchmarking optimization software with
//!   performance profiles*, Math. Program. 91, 2002): `ρ_s(τ)`, the fraction of problems that
//!   method `s` solves within `τ` times the cost of the fastest method on that problem
//!   ([`performance_profile`]), by wall time and by work;
//! - Moré–Wild data profiles (Moré & Wild, *Benchmarking derivative-free optimization
//!   algorithms*, SIAM J. Optim. 20, 2009): `d_s(κ)`, the fraction of problems solved within a
//!   budget `κ` ([`data_profile`]); the budget unit here is one gradient-evaluation
//!   equivalent (the role of Moré–Wild's simplex gradient) or one second;
//! - the median and quartiles of the best loss against wall time per method.
//!
//! ```
//! use gradflow::report::benchmark::{data_profile, performance_profile};
//! // Two methods, three problems: A solves problems 0 and 1 in 1 s and 2 s, B all three in
//! // 2 s, 1 s and 4 s.
//! let cost = vec![vec![Some(1.0), Some(2.0), None], vec![Some(2.0), Some(1.0), Some(4.0)]];
//! let p = performance_profile(&cost);
//! assert_eq!((p[0].at(1.0), p[0].at(2.0), p[0].at(1e9)), (1.0 / 3.0, 2.0 / 3.0, 2.0 / 3.0));
//! assert_eq!((p[1].at(1.0), p[1].at(2.0)), (2.0 / 3.0, 1.0));
//! let d = data_profile(&cost);
//! assert_eq!((d[1].at(1.5), d[1].at(3.9), d[1].at(4.0)), (1.0 / 3.0, 2.0 / 3.0, 1.0));
//! ```

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::monitor::ProgressPoint;
use crate::study::StudyResults;

/// A loss target.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Target {
    /// A fixed mean loss.
    Loss(f64),
    /// This multiple of the best loss any method reached on the problem.
    TimesBest(f64),
}

/// The report's targets: 1e-5, 1e-10, 1e-20, 1e-30 and 10 × the best.
pub const TARGETS: [Target; 5] = [
    Target::Loss(1e-5),
    Target::Loss(1e-10),
    Target::Loss(1e-20),
    Target::Loss(1e-30),
    Target::TimesBest(10.0),
];

impl Target {
    /// The target's name in tables and file names (`1e-10`, `10xbest`).
    pub fn label(&self) -> String {
        match self {
            Target::Loss(v) => format!("{v:e}"),
            Target::TimesBest(f) => format!("{f}xbest"),
        }
    }

    /// The loss to reach on a problem whose best loss over all methods is `best`.
    pub fn loss(&self, best: f64) -> f64 {
        match self {
            Target::Loss(v) => *v,
            Target::TimesBest(f) => f * best.max(0.0),
        }
    }
}

/// A Hessian evaluation counts as this many gradient evaluations per parameter: `P` gradients
/// for a `P × P` Hessian, what forming it from `P` directional derivatives of the gradient
/// costs (the usual convention for derivative work; gradflow's exact Hessian costs less, so
/// read the work profiles together with the wall-time ones).
pub const HESSIAN_GRADIENTS_PER_PARAM: f64 = 1.0;

/// A loss evaluation without gradient counts as this many gradient evaluations (reverse mode
/// costs about two forward passes).
pub const LOSS_EVAL_GRADIENTS: f64 = 0.5;

/// Gradient-evaluation equivalents of the work at a progress point of a run with `n_params`
/// parameters: gradients + [`LOSS_EVAL_GRADIENTS`] × loss-only evaluations +
/// [`HESSIAN_GRADIENTS_PER_PARAM`] × `P` × Hessians.
pub fn work(p: &ProgressPoint, n_params: usize) -> f64 {
    let loss_only = p.loss_evals.saturating_sub(p.gradient_evals) as f64;
    p.gradient_evals as f64
        + LOSS_EVAL_GRADIENTS * loss_only
        + HESSIAN_GRADIENTS_PER_PARAM * n_params as f64 * p.hessian_evals as f64
}

/// One run of a method on a problem.
#[derive(Clone, Debug, PartialEq)]
pub struct BenchRun {
    /// Parameters of the student.
    pub n_params: usize,
    /// Best loss of the run.
    pub loss: f64,
    /// Wall time of the run (s).
    pub wall: f64,
    /// The progress curve (run wall time, best loss so far, work counters).
    pub progress: Vec<ProgressPoint>,
}

/// When a run first reached a target.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Hit {
    /// Wall time since the run started (s).
    pub wall: f64,
    /// Gradient-evaluation equivalents spent until then ([`work`]).
    pub work: f64,
}

impl BenchRun {
    /// The first point of the progress curve at or below `target`.
    pub fn hit(&self, target: f64) -> Option<Hit> {
        self.progress
            .iter()
            .find(|p| p.loss <= target)
            .map(|p| Hit {
                wall: p.wall,
                work: work(p, self.n_params),
            })
    }

    /// The best loss at wall time `t` (the first point's loss before it; NaN without points).
    pub fn loss_at(&self, t: f64) -> f64 {
        let i = self.progress.partition_point(|p| p.wall <= t);
        match (i, self.progress.first()) {
            (0, Some(p)) => p.loss,
            (0, None) => f64::NAN,
            (i, _) => self.progress[i - 1].loss,
        }
    }
}

/// A problem of the benchmark: a teacher, ρ and student seed.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ProblemKey {
    /// Position of the teacher in the grid.
    pub teacher_rank: usize,
    /// The teacher's id.
    pub teacher: String,
    /// Width ratio.
    pub rho: usize,
    /// Student seed.
    pub seed: u64,
}

/// Every method's runs on every problem.
#[derive(Clone, Debug, Default)]
pub struct Benchmark {
    /// Method names: the study's methods in configuration order, then the peers' by name.
    pub methods: Vec<String>,
    /// Which methods are other tools' (from `peers/`).
    pub is_peer: Vec<bool>,
    /// The problems, in grid order.
    pub problems: Vec<ProblemKey>,
    /// `runs[method][problem]`: the run, when it exists and did not fail.
    pub runs: Vec<Vec<Option<BenchRun>>>,
    /// Runs of each method that failed (an error instead of a record).
    pub failed: Vec<usize>,
}

/// The method name of the students of a study without a methods axis, compared with peers.
pub const STUDY_METHOD: &str = "gradflow";

impl Benchmark {
    /// The benchmark of a study's results: its methods' students and its peers' records.
    /// `None` when there is nothing to compare (fewer than two methods).
    pub fn of(results: &StudyResults) -> Option<Benchmark> {
        // The study's methods; a study without a methods axis is one method, "gradflow".
        let mut methods: Vec<String> = if results.config.methods.is_empty() {
            // (Only when it has students: a folder of peers' records alone compares them.)
            if results.students.is_empty() {
                Vec::new()
            } else {
                vec![STUDY_METHOD.to_string()]
            }
        } else {
            results
                .config
                .methods
                .iter()
                .map(|m| m.name.clone())
                .collect()
        };
        let n_own = methods.len();
        // A peer named like one of the study's methods keeps its own row.
        let peer_name = |m: &str| {
            if methods[..n_own].iter().any(|n| n == m) {
                format!("{m} (peer)")
            } else {
                m.to_string()
            }
        };
        let peer_names: Vec<String> = results.peers.iter().map(|p| peer_name(&p.method)).collect();
        for n in &peer_names {
            if !methods.contains(n) {
                methods.push(n.clone());
            }
        }
        if methods.len() < 2 {
            return None;
        }
        let rank = |id: &str| results.teacher_order.iter().position(|t| t == id);
        let key_of = |t: usize, teacher: &str, rho: usize, seed: u64| ProblemKey {
            teacher_rank: t,
            teacher: teacher.to_string(),
            rho,
            seed,
        };
        // Every problem of a task of the grid, also those whose runs failed.
        let mut problems: Vec<ProblemKey> = Vec::new();
        let mut found: BTreeMap<(ProblemKey, usize), Option<BenchRun>> = BTreeMap::new();
        for s in &results.students {
            let m = match &s.method {
                None if results.config.methods.is_empty() => Some(0),
                None => None,
                Some(name) => methods[..n_own].iter().position(|n| n == name),
            };
            let (Some(m), Some(t)) = (m, rank(&s.teacher.id)) else {
                continue;
            };
            let key = key_of(t, &s.teacher.id, s.rho, s.seed);
            problems.push(key.clone());
            let run = s.record.as_ref().map(|r| BenchRun {
                n_params: r.init.len(),
                loss: r.loss,
                wall: r.total_time,
                progress: r.progress.clone(),
            });
            found.insert((key, m), run);
        }
        for (p, name) in results.peers.iter().zip(&peer_names) {
            let (Some(m), Some(t)) = (methods.iter().position(|n| n == name), rank(&p.teacher))
            else {
                continue;
            };
            let key = key_of(t, &p.teacher, p.rho, p.seed);
            problems.push(key.clone());
            let run = BenchRun {
                n_params: p.n_params,
                loss: p.loss,
                wall: p.total_time,
                progress: p.progress.clone(),
            };
            found.insert((key, m), Some(run));
        }
        problems.sort_by_key(|k| {
            let rho = results.config.rhos.iter().position(|&r| r == k.rho);
            (k.teacher_rank, rho, k.seed)
        });
        problems.dedup();
        let mut runs = vec![vec![None; problems.len()]; methods.len()];
        let mut failed = vec![0; methods.len()];
        for ((key, m), run) in found {
            if run.is_none() {
                failed[m] += 1;
            }
            if let Some(p) = problems.iter().position(|k| *k == key) {
                runs[m][p] = run;
            }
        }
        let is_peer = (0..methods.len()).map(|i| i >= n_own).collect();
        Some(Benchmark {
            methods,
            is_peer,
            problems,
            runs,
            failed,
        })
    }

    /// The best loss any method reached on each problem.
    pub fn best_losses(&self) -> Vec<f64> {
        (0..self.problems.len())
            .map(|p| {
                self.runs
                    .iter()
                    .filter_map(|r| r[p].as_ref())
                    .flat_map(|r| r.progress.iter().map(|q| q.loss).chain([r.loss]))
                    .filter(|l| l.is_finite())
                    .fold(f64::INFINITY, f64::min)
            })
            .collect()
    }

    /// `hits[method][problem]` for `target`.
    pub fn hits(&self, target: Target) -> Vec<Vec<Option<Hit>>> {
        let best = self.best_losses();
        self.runs
            .iter()
            .map(|runs| {
                runs.iter()
                    .zip(&best)
                    .map(|(r, &b)| {
                        let goal = target.loss(b);
                        r.as_ref().and_then(|r| r.hit(goal))
                    })
                    .collect()
            })
            .collect()
    }
}

/// A profile: a non-decreasing step function of a cost variable, the fraction of problems
/// solved.
#[derive(Clone, Debug, PartialEq)]
pub struct Profile {
    /// The costs (ratios or budgets) at which a problem is solved, ascending.
    pub steps: Vec<f64>,
    /// Number of problems.
    pub problems: usize,
}

impl Profile {
    /// The fraction of problems solved at cost `x`.
    pub fn at(&self, x: f64) -> f64 {
        if self.problems == 0 {
            return 0.0;
        }
        self.steps.partition_point(|&s| s <= x) as f64 / self.problems as f64
    }
}

/// Dolan–Moré performance profiles of `cost[method][problem]` (`None`: not solved): the ratio of
/// each method's cost to the least cost on the problem. A problem no method solves counts in
/// the denominator and is solved by none.
pub fn performance_profile(cost: &[Vec<Option<f64>>]) -> Vec<Profile> {
    let n = cost.first().map_or(0, Vec::len);
    let least: Vec<Option<f64>> = (0..n)
        .map(|p| {
            cost.iter()
                .filter_map(|c| c.get(p).copied().flatten())
                .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.min(v))))
        })
        .collect();
    cost.iter()
        .map(|c| {
            let mut steps: Vec<f64> = c
                .iter()
                .zip(&least)
                .filter_map(|(v, l)| {
                    let (v, l) = ((*v)?, (*l)?);
                    if !v.is_finite() || !l.is_finite() {
                        return None;
                    }
                    // Equal costs (also both zero) are ratio 1; a positive cost against a
                    // least cost of zero is not counted (an infinite ratio).
                    let r = if v <= l { 1.0 } else { v / l };
                    r.is_finite().then_some(r)
                })
                .collect();
            steps.sort_by(f64::total_cmp);
            Profile { steps, problems: n }
        })
        .collect()
}

/// Moré–Wild data profiles of `cost[method][problem]`: the fraction of problems solved within a
/// budget.
pub fn data_profile(cost: &[Vec<Option<f64>>]) -> Vec<Profile> {
    let n = cost.first().map_or(0, Vec::len);
    cost.iter()
        .map(|c| {
            let mut steps: Vec<f64> = c.iter().flatten().copied().collect();
            steps.sort_by(f64::total_cmp);
            Profile { steps, problems: n }
        })
        .collect()
}

/// The median of the finite values of `v` (NaN if none).
fn median(v: &mut [f64]) -> f64 {
    quantile(v, 0.5)
}

/// The `q`-quantile (linear interpolation between order statistics) of `v`'s values, NaNs left
/// out.
pub fn quantile(v: &mut [f64], q: f64) -> f64 {
    let mut xs: Vec<f64> = v.iter().copied().filter(|x| !x.is_nan()).collect();
    if xs.is_empty() {
        return f64::NAN;
    }
    xs.sort_by(f64::total_cmp);
    let pos = q.clamp(0.0, 1.0) * (xs.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    let f = pos - lo as f64;
    if lo == hi || f == 0.0 {
        xs[lo]
    } else {
        xs[lo] + f * (xs[hi] - xs[lo])
    }
}

/// Log-spaced wall times for the loss-versus-time curves: from the earliest first point to the
/// longest run.
pub fn time_grid(b: &Benchmark, points: usize) -> Vec<f64> {
    let runs = || b.runs.iter().flatten().flatten();
    let first = runs()
        .flat_map(|r| r.progress.iter().map(|p| p.wall))
        .filter(|w| *w > 0.0)
        .fold(f64::INFINITY, f64::min);
    let last = runs().map(|r| r.wall).fold(0.0, f64::max);
    if !(first.is_finite() && last > first) {
        return Vec::new();
    }
    let points = points.max(2);
    let r = (last / first).ln() / (points - 1) as f64;
    (0..points).map(|i| first * (r * i as f64).exp()).collect()
}

/// Per method, the (25 %, 50 %, 75 %) quantiles of the best loss over all its runs at each time
/// of `times`.
pub fn loss_quartiles(b: &Benchmark, times: &[f64]) -> Vec<Vec<[f64; 3]>> {
    b.runs
        .iter()
        .map(|runs| {
            times
                .iter()
                .map(|&t| {
                    let mut v: Vec<f64> = runs.iter().flatten().map(|r| r.loss_at(t)).collect();
                    [
                        quantile(&mut v, 0.25),
                        quantile(&mut v, 0.5),
                        quantile(&mut v, 0.75),
                    ]
                })
                .collect()
        })
        .collect()
}

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

/// Wall times of hits, as the cost matrix of a profile.
pub fn wall_costs(hits: &[Vec<Option<Hit>>]) -> Vec<Vec<Option<f64>>> {
    hits.iter()
        .map(|h| h.iter().map(|h| h.map(|h| h.wall)).collect())
        .collect()
}

/// Work of hits, as the cost matrix of a profile.
pub fn work_costs(hits: &[Vec<Option<Hit>>]) -> Vec<Vec<Option<f64>>> {
    hits.iter()
        .map(|h| h.iter().map(|h| h.map(|h| h.work)).collect())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::Phase;

    fn point(wall: f64, loss: f64, grads: usize, hessians: usize) -> ProgressPoint {
        ProgressPoint {
            phase: Phase::Flow,
            wall,
            loss,
            loss_evals: grads,
            gradient_evals: grads,
            hessian_evals: hessians,
        }
    }

    fn run(points: Vec<ProgressPoint>) -> BenchRun {
        let last = points.last().copied().unwrap();
        BenchRun {
            n_params: 10,
            loss: last.loss,
            wall: last.wall,
            progress: points,
        }
    }

    /// Three methods on four problems with hand-computed times to target.
    fn bench() -> Benchmark {
        let a = vec![
            Some(run(vec![
                point(0.0, 1.0, 1, 0),
                point(1.0, 1e-6, 10, 0),
                point(2.0, 2e-11, 20, 0),
            ])),
            Some(run(vec![point(0.0, 1.0, 1, 0), point(4.0, 3e-11, 40, 0)])),
            Some(run(vec![point(0.0, 1.0, 1, 0), point(1.0, 1e-3, 10, 0)])),
            None,
        ];
        let b = vec![
            Some(run(vec![point(0.0, 1.0, 1, 1), point(0.5, 1e-12, 5, 2)])),
            Some(run(vec![point(0.0, 1.0, 1, 1), point(8.0, 1e-12, 5, 3)])),
            Some(run(vec![point(0.0, 1.0, 1, 1), point(3.0, 1e-4, 5, 2)])),
            Some(run(vec![point(0.0, 1.0, 1, 1), point(1.0, 1e-21, 5, 2)])),
        ];
        let c = vec![
            Some(run(vec![point(0.0, 1.0, 1, 0), point(2.0, 1e-10, 100, 0)])),
            Some(run(vec![point(0.0, 1.0, 1, 0)])),
            Some(run(vec![point(0.0, 1.0, 1, 0), point(2.0, 1e-9, 100, 0)])),
            Some(run(vec![point(0.0, 1.0, 1, 0), point(3.0, 2e-20, 100, 0)])),
        ];
        let problems = (0..4)
            .map(|i| ProblemKey {
                teacher_rank: i,
                teacher: format!("t{i}"),
                rho: 2,
                seed: 0,
            })
            .collect();
        Benchmark {
            methods: vec!["a".into(), "b".into(), "c".into()],
            is_peer: vec![false, false, true],
            problems,
            runs: vec![a, b, c],
            failed: vec![0; 3],
        }
    }

    #[test]
    fn times_to_target_and_profiles_match_a_hand_computation() {
        let b = bench();
        // Target 1e-10: a hits problems 0, 1 at 2 s, 4 s; b hits 0, 1 at 0.5 s, 8 s; c hits
        // problem 0 at 2 s (1e-10 ≤ 1e-10) and 3 at 3 s (2e-20).
        let hits = b.hits(Target::Loss(1e-10));
        let t = wall_costs(&hits);
        assert_eq!(t[0], vec![Some(2.0), Some(4.0), None, None]);
        assert_eq!(t[1], vec![Some(0.5), Some(8.0), None, Some(1.0)]);
        assert_eq!(t[2], vec![Some(2.0), None, None, Some(3.0)]);
        // Fastest per problem: 0.5, 4, —, 1. Ratios: a {4, 1}; b {1, 2, 1}; c {4, 3}.
        let p = performance_profile(&t);
        let at = |m: usize, x: f64| p[m].at(x);
        assert_eq!((at(0, 1.0), at(0, 3.9), at(0, 4.0)), (0.25, 0.25, 0.5));
        assert_eq!((at(1, 1.0), at(1, 2.0)), (0.5, 0.75));
        assert_eq!((at(2, 2.9), at(2, 3.0), at(2, 4.0)), (0.0, 0.25, 0.5));
        // Work: b's Hessians count P = 10 gradients each: 5 + 2·10 = 25 at problem 0.
        let w = work_costs(&hits);
        assert_eq!(w[1][0], Some(25.0));
        assert_eq!(w[1][1], Some(35.0));
        assert_eq!(w[0][0], Some(20.0));
        let d = data_profile(&w);
        assert_eq!(
            (d[0].at(19.0), d[0].at(20.0), d[0].at(40.0)),
            (0.0, 0.25, 0.5)
        );
        // 10 × best: best losses 1e-12, 1e-12, 1e-9, 1e-21; problem 2's best is c's 1e-9 (a's
        // 1e-3 and b's 1e-4 are above it), so its target is 1e-8, reached by c alone at 2 s.
        let best = b.best_losses();
        assert_eq!(best, vec![1e-12, 1e-12, 1e-9, 1e-21]);
        let h = wall_costs(&b.hits(Target::TimesBest(10.0)));
        assert_eq!(h[0], vec![None, None, None, None]);
        assert_eq!(h[1], vec![Some(0.5), Some(8.0), None, Some(1.0)]);
        assert_eq!(h[2], vec![None, None, Some(2.0), None]);
        // The CSV has one row per (method, problem with a run, target).
        let csv = targets_csv(&b);
        assert_eq!(csv.lines().count(), 1 + (3 + 4 + 4) * TARGETS.len());
        assert!(csv.starts_with("method,"));
        assert!(csv.contains("b,false,t3,2,0,10,1e-20,1.000000e-20,true,1.000000e0,2.500000e1,"));
        let md = benchmark_md(&b, &[]);
        assert!(
            md.contains("| a | 2/4, 2.50 s | 2/4, 3.00 s | 0/4 |"),
            "{md}"
        );
    }

    #[test]
    fn loss_at_time_is_a_step_function_of_the_curve() {
        let r = run(vec![
            point(0.1, 1.0, 1, 0),
            point(1.0, 1e-3, 2, 0),
            point(2.0, 1e-6, 3, 0),
        ]);
        // Values copied from the curve, compared bit for bit.
        let same = |a: f64, b: f64| a.to_bits() == b.to_bits();
        assert!(same(r.loss_at(0.0), 1.0) && same(r.loss_at(0.99), 1.0));
        assert!(same(r.loss_at(1.0), 1e-3) && same(r.loss_at(50.0), 1e-6));
        let mut v = vec![3.0, 1.0, f64::NAN, 2.0, 4.0];
        assert!(same(quantile(&mut v, 0.5), 2.5));
        assert!(same(quantile(&mut v, 0.0), 1.0) && same(quantile(&mut v, 1.0), 4.0));
        let b = bench();
        let times = time_grid(&b, 5);
        assert_eq!(times.len(), 5);
        let q = loss_quartiles(&b, &times);
        assert_eq!(q.len(), 3);
        assert!(
            q.iter()
                .all(|m| m.windows(2).all(|w| w[1][1].is_nan() || w[1][1] <= w[0][1]))
        );
    }
}
