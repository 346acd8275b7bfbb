//! The result files of a study — one per task, written atomically — and reading them back.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::config::StudyConfig;
use super::grid::TeacherInfo;
use crate::cluster::{RecoverReport, RecoveryMetrics};
use crate::error::{Error, Result};
use crate::train::RunRecord;

pub use crate::io::names::STUDY_FILE;

/// The result of one student task.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StudentResult {
    /// The teacher.
    pub teacher: TeacherInfo,
    /// Width ratio.
    pub rho: usize,
    /// Student seed.
    pub seed: u64,
    /// The method of the study's `methods` axis that trained it (`None` in a study without
    /// methods).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// The training run, unless it failed.
    pub record: Option<RunRecord>,
    /// Why the run failed, if it did.
    pub error: Option<String>,
}

/// The result of one recovery task (Expand-and-Cluster on a group's students).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecoveryResult {
    /// The teacher.
    pub teacher: TeacherInfo,
    /// Width ratio of the students.
    pub rho: usize,
    /// Recovered hidden widths (not counting linear neurons), empty when it failed.
    pub recovered_widths: Vec<usize>,
    /// Mean loss of the recovered network after fine-tuning (`None` when it failed).
    pub loss: Option<f64>,
    /// Its rmse on the data (`None` when it failed).
    pub rmse: Option<f64>,
    /// Metrics against the teacher.
    pub metrics: Option<RecoveryMetrics>,
    /// Student runs the recovery had to train itself (0 when every student task had finished;
    /// deep recoveries also retrain students layer by layer, which are not counted here).
    pub students_retrained: usize,
    /// Wall time of the recovery (s).
    pub wall_time: f64,
    /// The full report, unless it failed.
    pub report: Option<RecoverReport>,
    /// Why it failed, if it did.
    pub error: Option<String>,
}

impl RecoveryResult {
    /// `m̂ = r` in every layer (linear neurons not counted), `r` counting only the teacher
    /// neurons that affect the output (see [`Self::teacher_effective_widths`]).
    pub fn widths_match(&self) -> bool {
        self.recovered_widths == self.teacher_effective_widths()
    }

    /// The teacher's hidden widths without its dead neurons (all outgoing weights zero), as
    /// the metrics found them; the nominal widths when there are no metrics.
    pub fn teacher_effective_widths(&self) -> Vec<usize> {
        match &self.metrics {
            Some(m) if m.layers.len() == self.teacher.hidden.len() => m
                .layers
                .iter()
                .map(|l| l.teacher_width - l.teacher_dead.len())
                .collect(),
            _ => self.teacher.hidden.clone(),
        }
    }

    /// The paper's success criterion: rmse ≤ 1e-14.
    pub fn identified(&self) -> bool {
        self.rmse
            .is_some_and(|r| r <= crate::cluster::metrics::SUCCESS_RMSE)
    }
}

pub use crate::io::names::{STUDY_RECOVERY as RECOVERY_FILE, study_student as student_file};

/// The folder of a study that holds the runs of other tools ([`PeerRecord`]s, any file name
/// ending in `.json`, in any subfolder).
pub const PEERS_DIR: &str = "peers";

/// A training run of another tool (scipy, PyTorch, …) on a study's problem — a teacher, ρ and
/// student seed of its grid, from the same initial point — in the form the report compares with
/// the study's methods. `experiments/peers/bench_peers.py` writes them.
///
/// ```
/// let text = r#"{"method": "torch-adam", "tool": "torch 2.5", "teacher": "d2_r2_i0", "rho": 2,
///   "seed": 0, "n_params": 13, "loss": 1e-9, "total_time": 5.0,
///   "progress": [{"phase": "flow", "wall": 0.01, "loss": 0.3, "loss_evals": 1,
///                 "gradient_evals": 1, "hessian_evals": 0}]}"#;
/// let p: gradflow::study::results::PeerRecord = serde_json::from_str(text)?;
/// assert_eq!(p.progress[0].gradient_evals, 1);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PeerRecord {
    /// The method's name in the report (e.g. `scipy-bdf+trust-exact`).
    pub method: String,
    /// The tool and its version.
    #[serde(default)]
    pub tool: String,
    /// The teacher's id in the study.
    pub teacher: String,
    /// Width ratio of the student.
    pub rho: usize,
    /// Student seed (the initial point is the study's for this seed).
    pub seed: u64,
    /// Parameters of the student.
    pub n_params: usize,
    /// Best mean loss of the run.
    #[serde(deserialize_with = "crate::io::non_finite::f64_or_nan")]
    pub loss: f64,
    /// Wall time of the run (s).
    pub total_time: f64,
    /// The best loss against wall time since the run started, with the work counters (as in
    /// [`crate::train::RunRecord::progress`]).
    pub progress: Vec<crate::monitor::ProgressPoint>,
}

/// Reads a JSON result, `None` if the file does not exist. A file that exists but does not
/// parse is reported (it cannot come from gradflow's atomic writes).
pub fn read_result<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Option<T>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::from(e).in_file(path)),
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| Error::format(format!("not a study result: {e}")).in_file(path))
}

/// Everything found in one or more study folders.
#[derive(Clone, Debug, Default)]
pub struct StudyResults {
    /// The configuration (identical in every folder).
    pub config: StudyConfig,
    /// Student results, sorted by teacher order, ρ, seed; one per task.
    pub students: Vec<StudentResult>,
    /// Recovery results, sorted by teacher order, ρ; one per group.
    pub recoveries: Vec<RecoveryResult>,
    /// Teacher ids in grid order.
    pub teacher_order: Vec<String>,
    /// Runs of other tools (`peers/` inside a study folder), compared with the study's methods
    /// by the report; sorted by method, teacher order, ρ, seed.
    pub peers: Vec<PeerRecord>,
    /// Student tasks of the whole grid.
    pub expected_students: usize,
    /// Recovery tasks of the whole grid.
    pub expected_recoveries: usize,
}

fn files_named(dir: &Path, keep: &dyn Fn(&str) -> bool, out: &mut Vec<PathBuf>) -> Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::from(e).in_file(dir)),
    };
    for entry in entries {
        let entry = entry.map_err(|e| Error::from(e).in_file(dir))?;
        let path = entry.path();
        if path.is_dir() {
            files_named(&path, keep, out)?;
        } else if path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| !n.starts_with('.') && keep(n))
        {
            out.push(path);
        }
    }
    Ok(())
}

/// Reads the results of the study folders `dirs` (e.g. one per shard, or one shared folder).
/// They must hold the same study configuration; a task found in several folders is counted
/// once.
pub fn read_results(dirs: &[PathBuf]) -> Result<StudyResults> {
    let mut config: Option<(StudyConfig, PathBuf)> = None;
    for dir in dirs {
        let path = dir.join(STUDY_FILE);
        let cfg: StudyConfig = read_result(&path)?.ok_or_else(|| {
            Error::invalid(
                "report",
                format!("{} is not a study folder (no {STUDY_FILE})", dir.display()),
            )
        })?;
        match &config {
            None => config = Some((cfg, path)),
            Some((c, first)) if *c != cfg => {
                return Err(Error::invalid(
                    "report",
                    format!(
                        "{} and {} hold different studies",
                        first.display(),
                        path.display()
                    ),
                ));
            }
            Some(_) => {}
        }
    }
    let (config, _) = config.ok_or_else(|| Error::invalid("report", "no study folder given"))?;
    let teachers = super::grid::study_teachers(&config)?;
    let grid = super::grid::groups(&config, &teachers);
    let n_methods = config.method_axis().len();
    let expected_students = grid.iter().map(|g| g.seeds.len()).sum::<usize>() * n_methods;
    let expected_recoveries = if config.recover { grid.len() } else { 0 };
    let teacher_order: Vec<String> = teachers.into_iter().map(|t| t.info.id).collect();
    let rank = |id: &str| teacher_order.iter().position(|t| t == id);
    let rho_rank = |rho: usize| config.rhos.iter().position(|&r| r == rho);
    let method_rank = |m: &Option<String>| {
        config
            .method_axis()
            .iter()
            .position(|c| c.map(|c| &c.name) == m.as_ref())
    };
    let mut peers: Vec<PeerRecord> = Vec::new();
    let mut students: Vec<StudentResult> = Vec::new();
    let mut recoveries: Vec<RecoveryResult> = Vec::new();
    for dir in dirs {
        let mut files = Vec::new();
        let is_seed = |n: &str| n.starts_with("seed") && n.ends_with(".json");
        files_named(&dir.join("tasks"), &is_seed, &mut files)?;
        for f in files {
            if let Some(r) = read_result::<StudentResult>(&f)? {
                students.push(r);
            }
        }
        let mut files = Vec::new();
        files_named(&dir.join(PEERS_DIR), &|n| n.ends_with(".json"), &mut files)?;
        for f in files {
            if let Some(r) = read_result::<PeerRecord>(&f)? {
                peers.push(r);
            }
        }
        let mut files = Vec::new();
        files_named(&dir.join("tasks"), &|n| n == RECOVERY_FILE, &mut files)?;
        for f in files {
            if let Some(r) = read_result::<RecoveryResult>(&f)? {
                recoveries.push(r);
            }
        }
    }
    // Keep only tasks of this grid, in grid order, each once.
    students.retain(|s| {
        rank(&s.teacher.id).is_some()
            && rho_rank(s.rho).is_some()
            && method_rank(&s.method).is_some()
    });
    students.sort_by_key(|s| {
        (
            rank(&s.teacher.id),
            rho_rank(s.rho),
            s.seed,
            method_rank(&s.method),
        )
    });
    students.dedup_by(|a, b| {
        a.teacher.id == b.teacher.id && a.rho == b.rho && a.seed == b.seed && a.method == b.method
    });
    peers.retain(|p| rank(&p.teacher).is_some() && rho_rank(p.rho).is_some());
    peers.sort_by(|a, b| {
        (&a.method, rank(&a.teacher), rho_rank(a.rho), a.seed).cmp(&(
            &b.method,
            rank(&b.teacher),
            rho_rank(b.rho),
            b.seed,
        ))
    });
    peers.dedup_by(|a, b| {
        a.method == b.method && a.teacher == b.teacher && a.rho == b.rho && a.seed == b.seed
    });
    recoveries.retain(|s| rank(&s.teacher.id).is_some() && rho_rank(s.rho).is_some());
    recoveries.sort_by_key(|s| (rank(&s.teacher.id), rho_rank(s.rho)));
    recoveries.dedup_by(|a, b| a.teacher.id == b.teacher.id && a.rho == b.rho);
    Ok(StudyResults {
        config,
        students,
        recoveries,
        peers,
        teacher_order,
        expected_students,
        expected_recoveries,
    })
}
