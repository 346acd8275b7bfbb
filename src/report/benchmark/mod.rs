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
mod curves;
mod profile;
mod tables;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

pub use curves::{loss_quartiles, quantile, time_grid};
pub use profile::{Profile, data_profile, performance_profile};
pub use tables::{benchmark_md, methods_csv, targets_csv};

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
        let index: BTreeMap<&ProblemKey, usize> =
            problems.iter().enumerate().map(|(i, k)| (k, i)).collect();
        let mut runs = vec![vec![None; problems.len()]; methods.len()];
        let mut failed = vec![0; methods.len()];
        for ((key, m), run) in found {
            if run.is_none() {
                failed[m] += 1;
            }
            if let Some(&p) = index.get(&key) {
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
