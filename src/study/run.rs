//! Running a study: every unfinished task of a shard, results written atomically one file per
//! task, so that a killed study resumes where it stopped.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use rayon::prelude::*;

use super::config::StudyConfig;
use super::grid::{Group, Shard, StudyTeacher, assign_shards, groups, study_teachers};
use super::log::TaskLog;
use super::method::MethodSpec;
use super::results::{
    RECOVERY_FILE, RecoveryResult, STUDY_FILE, StudentResult, read_result, student_file,
};
use crate::cluster::{
    RecoverOptions, read_saved_students, recover, student_init, student_spec, write_recovery,
};
use crate::error::{Error, Result};
use crate::io::{write_atomic, write_network_with_meta};
use crate::net::{Activation, Dataset, Loss, NetSpec};
use crate::observe::{Event, Watch};
use crate::teacher::{InputDistribution, sample_data};
use crate::train::{RunRecord, TrainOptions, TrainProblem, train};

/// What a study run did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StudyRun {
    /// Tasks of the shard.
    pub tasks: usize,
    /// Tasks found finished and skipped.
    pub skipped: usize,
    /// Tasks run now.
    pub ran: usize,
    /// Tasks run now whose result records a failure.
    pub failed: usize,
    /// Whether the cancellation flag stopped the run (unfinished tasks run when it resumes).
    pub interrupted: bool,
}

/// The shared state of one run.
struct Runner<'a> {
    cfg: &'a StudyConfig,
    out: &'a Path,
    teachers: Vec<StudyTeacher>,
    watch: &'a Watch,
    ran: AtomicUsize,
    failed: AtomicUsize,
}

fn hidden_activation(t: &StudyTeacher) -> Activation {
    t.activation.clone()
}

impl Runner<'_> {
    fn task_name(&self, g: &Group, what: &str) -> String {
        format!("{}_rho{}_{what}", self.teachers[g.teacher].info.id, g.rho)
    }

    fn log(&self, g: &Group, what: &str) -> std::sync::Arc<TaskLog> {
        let path = self
            .out
            .join("logs")
            .join(format!("{}.log", self.task_name(g, what)));
        std::sync::Arc::new(TaskLog::open(&path))
    }

    /// The Expand-and-Cluster configuration of a group; its students are the group's
    /// student tasks.
    fn recover_config(&self, g: &Group) -> RecoverOptions {
        let t = &self.teachers[g.teacher];
        let mut o = self.cfg.recovery.recover_options(
            g.seeds.len(),
            &self.cfg.flow,
            self.cfg.refine_for(g.rho),
        );
        o.activation = hidden_activation(t);
        o.first_seed = self.cfg.first_seed;
        o.layers = Some(t.info.hidden.iter().map(|w| w * g.rho).collect());
        // Shallow: every student is a study task, the recovery only clusters and fine-tunes,
        // on its own thread. Deep: the students of the later layers train on the study's pool.
        o.threads = (t.info.hidden.len() == 1).then_some(1);
        o
    }

    fn student_spec(&self, g: &Group) -> Result<NetSpec> {
        let t = &self.teachers[g.teacher];
        let hidden: Vec<usize> = t.info.hidden.iter().map(|w| w * g.rho).collect();
        student_spec(t.info.d, &hidden, &hidden_activation(t), t.outputs)
    }

    /// Whether the result at `path` exists and reads as a `T`; an unreadable one is reported
    /// and its task runs again.
    fn finished<T: for<'de> serde::Deserialize<'de>>(&self, path: &Path) -> bool {
        match read_result::<T>(path) {
            Ok(r) => r.is_some(),
            Err(e) => {
                self.watch
                    .message(&format!("warning: {e}; the task runs again"));
                false
            }
        }
    }

    /// The result file of the student `seed` of group `g` trained by `method`.
    fn student_path(&self, g: &Group, method: Option<&MethodSpec>, seed: u64) -> PathBuf {
        self.out
            .join(g.method_dir(&self.teachers, method.map(|m| m.name.as_str())))
            .join(student_file(seed))
    }

    /// The students of group `g`, one per (method, seed) of the study.
    fn student_tasks(&self, g: &Group) -> Vec<(Option<&MethodSpec>, u64)> {
        let methods = self.cfg.method_axis();
        methods
            .into_iter()
            .flat_map(|m| g.seeds.iter().map(move |&s| (m, s)))
            .collect()
    }

    /// Trains one student of a group with `method` and writes its result.
    fn student(
        &self,
        g: &Group,
        seed: u64,
        method: Option<&MethodSpec>,
        data: &crate::net::Dataset,
    ) -> Result<()> {
        let t = &self.teachers[g.teacher];
        let spec = self.student_spec(g)?;
        let x0 = student_init(&spec, seed);
        let (flow, refine) = self.cfg.options_for(g.rho, method)?;
        let mut rc = self.recover_config(g);
        (rc.flow, rc.refine) = (flow.clone(), refine.clone());
        let mut config =
            serde_json::to_value(rc).map_err(|e| Error::invalid("study", e.to_string()))?;
        let method_name = method.map(|m| m.name.clone());
        if let (Some(m), Some(obj)) = (method, config.as_object_mut()) {
            obj.insert("method".into(), serde_json::json!(m));
        }
        let log = match &method_name {
            None => self.log(g, &format!("seed{seed}")),
            Some(m) => self.log(g, &format!("{m}_seed{seed}")),
        };
        log.line(&format!(
            "student {} of teacher {} ({}), seed {seed}",
            spec.shape_string(),
            t.info.id,
            t.network
                .as_ref()
                .map_or_else(|| "a data set".to_string(), |n| n.spec.shape_string())
        ));
        let opts = TrainOptions {
            flow,
            refine,
            seed,
            provenance: config,
            on_channel: self.cfg.on_channel,
            regularisers: self.cfg.regularisers.clone(),
            certify: Some(self.cfg.certify.clone()),
            ..TrainOptions::default()
        };
        let popts = crate::net::population::PopulationOptions::default();
        let problem = if let (true, Some(teacher)) = (self.cfg.infinite_data, &t.network) {
            TrainProblem::infinite(&spec, teacher, &popts)
        } else {
            TrainProblem {
                spec: &spec,
                data,
                loss: Loss::Mse,
                frozen: None,
                infinite: None,
            }
        };
        let run = train(&problem, &x0, &opts, &log.watch(self.watch.cancel()));
        // An interrupted run is not a result: the task runs again when the study resumes.
        if run.as_ref().is_ok_and(RunRecord::was_interrupted) {
            log.line("interrupted; the task runs again when the study resumes");
            return Ok(());
        }
        let (record, error) = match run {
            Ok(r) => (Some(r), None),
            Err(e) => (None, Some(e.to_string())),
        };
        let summary = match (&record, &error) {
            (Some(r), _) => format!(
                "loss {:.3e} (ode {:.3e}), stops {}/{}, {:.1} s",
                r.loss, r.ode_loss, r.ode.outcome.stop, r.optim.outcome.stop, r.total_time
            ),
            (None, Some(e)) => format!("failed: {e}"),
            (None, None) => String::new(),
        };
        log.line(&summary);
        if error.is_some() {
            self.failed.fetch_add(1, Ordering::Relaxed);
        }
        let path = self.student_path(g, method, seed);
        let label = match &method_name {
            None => format!("{} ρ={} seed {seed}", t.info.id, g.rho),
            Some(m) => format!("{} ρ={} seed {seed} {m}", t.info.id, g.rho),
        };
        let result = StudentResult {
            teacher: t.info.clone(),
            rho: g.rho,
            seed,
            method: method_name,
            record,
            error,
        };
        write_json(&path, &result)?;
        self.ran.fetch_add(1, Ordering::Relaxed);
        self.watch
            .emit(&Event::TaskDone(&format!("{label}: {summary}")));
        Ok(())
    }

    /// Runs Expand-and-Cluster on a group's finished students and writes its result.
    fn recovery(&self, g: &Group, data: &Dataset) -> Result<()> {
        let t = &self.teachers[g.teacher];
        let dir = self.out.join(g.dir(&self.teachers));
        let rc = self.recover_config(g);
        let log = self.log(g, "recovery");
        log.line(&format!(
            "Expand-and-Cluster on {} students of teacher {}",
            g.seeds.len(),
            t.info.id
        ));
        // The recovery folder, as `gradflow recover` writes it; students of later layers are
        // saved there as they finish, so an interrupted recovery resumes.
        let rdir = dir.join("recovery");
        let mut saved: Vec<RunRecord> = g
            .seeds
            .iter()
            .filter_map(|&s| {
                read_result::<StudentResult>(&dir.join(student_file(s)))
                    .ok()
                    .flatten()?
                    .record
            })
            .collect();
        let from_tasks = saved.len();
        saved.extend(read_saved_students(&rdir));
        let base = log.watch(self.watch.cancel());
        let warn = self.watch.clone();
        let save_dir = rdir.clone();
        let watch = Watch::new(move |e: &Event<'_>| {
            if let Event::RunDone { run, record } = e {
                if let Err(err) = crate::cluster::write_student(&save_dir, *run, record) {
                    warn.message(&format!("warning: {err}"));
                }
            }
            base.emit(e);
        })
        .with_cancel(self.watch.cancel().clone());
        let start = Instant::now();
        let result = match recover(data, t.network.as_ref(), &rc, &saved, &watch) {
            Err(Error::Interrupted) => {
                log.line("interrupted; the recovery runs again when the study resumes");
                return Ok(());
            }
            Ok(rec) => {
                write_recovery(&rdir, &rec)?;
                // Layer-1 students the recovery trained itself (not found among the tasks).
                let retrained = rec
                    .students
                    .iter()
                    .filter(|(run, _)| run.stage == crate::observe::Stage::Layer { layer: 1 })
                    .count()
                    .saturating_sub(from_tasks);
                let r = &rec.report;
                let widths = r.layers.iter().map(|l| l.recovered_width).collect();
                RecoveryResult {
                    teacher: t.info.clone(),
                    rho: g.rho,
                    recovered_widths: widths,
                    loss: Some(r.loss).filter(|v| v.is_finite()),
                    rmse: Some(r.rmse).filter(|v| v.is_finite()),
                    metrics: r.metrics.clone(),
                    students_retrained: retrained,
                    wall_time: start.elapsed().as_secs_f64(),
                    report: Some(rec.report),
                    error: None,
                }
            }
            Err(e) => {
                self.failed.fetch_add(1, Ordering::Relaxed);
                RecoveryResult {
                    teacher: t.info.clone(),
                    rho: g.rho,
                    recovered_widths: Vec::new(),
                    loss: None,
                    rmse: None,
                    metrics: None,
                    students_retrained: 0,
                    wall_time: start.elapsed().as_secs_f64(),
                    report: None,
                    error: Some(e.to_string()),
                }
            }
        };
        let summary = match &result.error {
            None => {
                let effective = result.teacher_effective_widths();
                let dead = if effective == t.info.hidden {
                    String::new()
                } else {
                    format!(", {effective:?} without its dead neurons")
                };
                format!(
                    "recovered {:?} (teacher {:?}{dead}), rmse {:.3e}, {:.1} s",
                    result.recovered_widths,
                    t.info.hidden,
                    result.rmse.unwrap_or(f64::NAN),
                    result.wall_time
                )
            }
            Some(e) => format!("recovery failed: {e}"),
        };
        log.line(&summary);
        write_json(&dir.join(RECOVERY_FILE), &result)?;
        self.ran.fetch_add(1, Ordering::Relaxed);
        self.watch.emit(&Event::TaskDone(&format!(
            "{} ρ={}: {summary}",
            t.info.id, g.rho
        )));
        Ok(())
    }

    /// The data of a group's teacher (its own data stream), or the group's data set.
    fn data(&self, g: &Group) -> Result<std::sync::Arc<Dataset>> {
        let t = &self.teachers[g.teacher];
        match (&t.data, &t.network) {
            (Some(d), _) => Ok(d.clone()),
            (None, Some(teacher)) => Ok(std::sync::Arc::new(sample_data(
                teacher,
                self.cfg.samples,
                InputDistribution::Uniform,
                t.info.data_seed,
            )?)),
            (None, None) => Err(Error::invalid("study", "a problem without data or teacher")),
        }
    }

    /// Every unfinished task of one group: the students (of every method) in parallel, then
    /// the recovery.
    fn group(&self, g: &Group) -> Result<()> {
        let dir = self.out.join(g.dir(&self.teachers));
        let todo: Vec<(Option<&MethodSpec>, u64)> = self
            .student_tasks(g)
            .into_iter()
            .filter(|&(m, s)| !self.finished::<StudentResult>(&self.student_path(g, m, s)))
            .collect();
        let recover =
            self.cfg.recover && !self.finished::<RecoveryResult>(&dir.join(RECOVERY_FILE));
        if todo.is_empty() && !recover {
            return Ok(());
        }
        let data = if self.cfg.infinite_data {
            std::sync::Arc::new(Dataset::from_row_major(&[0.0], 1, &[0.0], 1)?)
        } else {
            self.data(g)?
        };
        todo.par_iter().try_for_each(|&(method, seed)| {
            if self.watch.is_cancelled() {
                return Ok(());
            }
            self.student(g, seed, method, &data)
        })?;
        if recover && !self.watch.is_cancelled() {
            self.recovery(g, &data)?;
        }
        Ok(())
    }
}

fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<()> {
    let text = serde_json::to_string(value)
        .map_err(|e| Error::invalid("result", e.to_string()).in_file(path))?;
    write_atomic(path, text.as_bytes())
}

/// Runs the tasks of `shard` that have no result in `out` yet, `threads` at a time (default:
/// all cores; each task is one thread). The study's configuration is written to
/// `out/study.json`; a folder holding a different study is refused.
pub fn run_study(
    cfg: &StudyConfig,
    out: &Path,
    shard: Shard,
    threads: Option<usize>,
    watch: &Watch,
) -> Result<StudyRun> {
    cfg.check()?;
    let pool = crate::parallel::pool(threads, "threads")?;
    let teachers = study_teachers(cfg)?;
    let study_file = out.join(STUDY_FILE);
    match read_result::<StudyConfig>(&study_file)? {
        Some(existing) if existing != *cfg => {
            return Err(Error::invalid(
                "out",
                format!(
                    "{} holds a different study (its configuration is in {}); use another folder",
                    out.display(),
                    study_file.display()
                ),
            ));
        }
        Some(_) => {}
        None => write_json(&study_file, cfg)?,
    }
    for t in &teachers {
        let path = crate::io::names::study_teacher(out, &t.info.id);
        if let (false, Some(net)) = (path.exists(), &t.network) {
            let meta = serde_json::json!({ "seed": t.info.data_seed, "study_teacher": t.info });
            write_network_with_meta(&path, net, Some(meta))?;
        }
    }
    let runner = Runner {
        cfg,
        out,
        teachers,
        watch,
        ran: AtomicUsize::new(0),
        failed: AtomicUsize::new(0),
    };
    let all = groups(cfg, &runner.teachers);
    let assigned = assign_shards(&all, &runner.teachers, shard.count);
    let mine: Vec<Group> = all
        .into_iter()
        .filter(|g| shard.owns(assigned[g.index]))
        .collect();
    let per_group = |g: &Group| runner.student_tasks(g).len() + usize::from(cfg.recover);
    let tasks: usize = mine.iter().map(per_group).sum();
    let finished: usize = mine
        .iter()
        .map(|g| {
            let dir = out.join(g.dir(&runner.teachers));
            let students = runner
                .student_tasks(g)
                .into_iter()
                .filter(|&(m, s)| runner.student_path(g, m, s).exists())
                .count();
            students + usize::from(cfg.recover && dir.join(RECOVERY_FILE).exists())
        })
        .sum();
    watch.emit(&Event::TasksPlanned { tasks, finished });
    pool.install(|| mine.par_iter().try_for_each(|g| runner.group(g)))?;
    let ran = runner.ran.load(Ordering::Relaxed);
    Ok(StudyRun {
        tasks,
        skipped: finished,
        ran,
        failed: runner.failed.load(Ordering::Relaxed),
        interrupted: watch.is_cancelled(),
    })
}
