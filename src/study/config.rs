//! The configuration of a study: which teachers, which student widths, how many students,
//! the training budgets, and whether to run Expand-and-Cluster on every group.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::cluster::RecoverOptions;
use crate::error::{Error, Result};
use crate::flow::FlowConfig;
use crate::net::Activation;
use crate::optim::RefineConfig;
use crate::teacher::family::{PAPER_DIMS, PAPER_TEACHERS_PER_CELL, PAPER_WIDTHS};

/// A block of the paper's shallow family (SPEC §7.4): every `d` in `dims`, every `r` in
/// `widths`, the first `teachers` members of each cell (seeds [`crate::teacher::paper_seed`]).
///
/// ```
/// use gradflow::study::FamilyGrid;
/// let f = FamilyGrid::default(); // the whole family of 150
/// assert_eq!((f.dims.len(), f.widths.len(), f.teachers), (5, 3, 10));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FamilyGrid {
    /// Input dimensions `d`.
    pub dims: Vec<usize>,
    /// Teacher widths `r`.
    pub widths: Vec<usize>,
    /// Teachers per `(d, r)` cell: members `0..teachers`.
    pub teachers: usize,
    /// Hidden activation (the paper's is `g`).
    pub activation: Activation,
}

impl Default for FamilyGrid {
    fn default() -> Self {
        FamilyGrid {
            dims: PAPER_DIMS.to_vec(),
            widths: PAPER_WIDTHS.to_vec(),
            teachers: PAPER_TEACHERS_PER_CELL,
            activation: Activation::G,
        }
    }
}

/// A deep synthetic teacher (SPEC §7.5), e.g. `widths = [8, 4, 2, 1]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeepTeacher {
    /// Layer widths `[d, k_1, …, k_L]` (input dimension first, outputs last).
    pub widths: Vec<usize>,
    /// Teacher seed (also the seed of its data stream).
    pub seed: u64,
    /// Hidden activation.
    #[serde(default = "default_activation")]
    pub activation: Activation,
}

fn default_activation() -> Activation {
    Activation::G
}

/// A data set as a study's problem (no teacher): students `d → ρ·hidden → k` with a linear
/// output layer, trained on the file's inputs and targets by mean squared error — e.g.
/// the logits a classifier gives, or any regression data. Its id in the study is `name`, or
/// the file's stem.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataProblem {
    /// The data file (any format `gradflow solve --data` reads; relative paths are relative to
    /// the configuration file).
    pub path: PathBuf,
    /// The reference hidden widths that ρ multiplies.
    pub hidden: Vec<usize>,
    /// Hidden activation of the students.
    #[serde(default = "default_activation")]
    pub activation: Activation,
    /// The problem's id (default: the file's stem).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// Expand-and-Cluster options of a study (see [`RecoverOptions`] for each).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct RecoveryOptions {
    /// Minimum fraction of students in a kept cluster (γ).
    pub gamma: f64,
    /// Largest median angle in a kept cluster (β, radians).
    pub beta: f64,
    /// Off-boundary distance of set-aside neurons.
    pub offbound_distance: f64,
    /// Relative outgoing weight below which a neuron is set aside as zero-type.
    pub negligible_outgoing: f64,
    /// Deep networks: bias standard deviation above which a neuron is dropped.
    pub bias_std_max: f64,
    /// Students above this factor of the best loss are left out of the clustering.
    pub student_loss_ratio: f64,
    /// Seconds per phase of the fine-tuning.
    pub finetune_time: f64,
}

impl RecoveryOptions {
    /// The Expand-and-Cluster options of a group of `students` trained with `flow` and
    /// `refine`: these clustering and fine-tuning options, the rest at their defaults.
    pub fn recover_options(
        &self,
        students: usize,
        flow: &FlowConfig,
        refine: &RefineConfig,
    ) -> RecoverOptions {
        RecoverOptions {
            students,
            gamma: self.gamma,
            beta: self.beta,
            offbound_distance: self.offbound_distance,
            negligible_outgoing: self.negligible_outgoing,
            bias_std_max: self.bias_std_max,
            student_loss_ratio: self.student_loss_ratio,
            finetune_time: self.finetune_time,
            flow: flow.clone(),
            refine: refine.clone(),
            ..RecoverOptions::default()
        }
    }
}

impl Default for RecoveryOptions {
    fn default() -> Self {
        let r = RecoverOptions::default();
        RecoveryOptions {
            gamma: r.gamma,
            beta: r.beta,
            offbound_distance: r.offbound_distance,
            negligible_outgoing: r.negligible_outgoing,
            bias_std_max: r.bias_std_max,
            student_loss_ratio: r.student_loss_ratio,
            finetune_time: r.finetune_time,
        }
    }
}

/// A study (`gradflow study --config F.toml`): teachers × ρ × student seeds, optionally with
/// Expand-and-Cluster on the students of every (teacher, ρ) group.
///
/// Every key is optional in the TOML file; missing ones keep these defaults — the paper's
/// grid layout (ρ ∈ {1, 2, 4, 8}, 20 students for r ∈ {2, 4} and 10 for r = 8, 30 000
/// samples) with gradflow's default budgets, no recovery. Teachers must be named: an empty
/// `[family]` table is the paper's whole family of 150, `[[deep]]` entries add deep teachers,
/// `teacher_files` adds network files.
///
/// ```
/// use gradflow::study::StudyConfig;
/// let c = StudyConfig::default();
/// assert_eq!(c.rhos, vec![1, 2, 4, 8]);
/// assert_eq!((c.students, c.students_for(8), c.students_for(4)), (20, 10, 20));
/// assert_eq!((c.samples, c.first_seed, c.recover), (30_000, 0, false));
/// assert!(c.family.is_none() && c.deep.is_empty() && c.teacher_files.is_empty());
/// assert!(c.check().is_err()); // no teachers
///
/// let paper: StudyConfig = toml::from_str("[family]")?;
/// assert_eq!(paper.family.unwrap().teachers, 10); // all 150
///
/// let quick: StudyConfig = toml::from_str(r#"
///     name = "tiny"
///     rhos = [1, 4]
///     students = 5
///     recover = true
///     [family]
///     dims = [2]
///     widths = [2]
///     teachers = 1
///     [flow]
///     maxtime_ode = 5.0
///     [refine_by_rho.1]
///     refiner = "newton-tr"
/// "#)?;
/// assert_eq!(quick.students_for(2), 5);
/// assert_eq!(quick.family.unwrap().teachers, 1);
/// # Ok::<(), toml::de::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct StudyConfig {
    /// Name shown in the report.
    pub name: String,
    /// Teachers from the paper's family (`None`, the default: none from the family; an empty
    /// `[family]` table: all 150).
    pub family: Option<FamilyGrid>,
    /// Deep synthetic teachers.
    pub deep: Vec<DeepTeacher>,
    /// Teacher network files (relative paths are relative to the configuration file); their
    /// data come from the seed recorded in the file (`meta.seed`, else 0).
    pub teacher_files: Vec<PathBuf>,
    /// Data sets as problems without a teacher (`[[datasets]] path = "digits.npz", hidden =
    /// [20]`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub datasets: Vec<DataProblem>,
    /// Student widths relative to the teacher's hidden widths.
    pub rhos: Vec<usize>,
    /// Students per (teacher, ρ) group.
    pub students: usize,
    /// Students per group for teachers of a given first hidden width, overriding `students`
    /// (keys are widths as strings, e.g. `{ "8" = 10 }`).
    pub students_by_width: BTreeMap<String, usize>,
    /// Seed of the first student of every group (students use consecutive seeds).
    pub first_seed: u64,
    /// Samples per data set.
    pub samples: usize,
    /// Run Expand-and-Cluster on every group's students.
    pub recover: bool,
    /// Gradient-flow options of the students.
    pub flow: FlowConfig,
    /// Refinement options of the students.
    pub refine: RefineConfig,
    /// Refinement options for particular ρ, replacing `refine` (keys are ρ as strings).
    pub refine_by_rho: BTreeMap<String, RefineConfig>,
    /// Expand-and-Cluster options.
    pub recovery: RecoveryOptions,
    /// What a student does when its flow ends in a channel (`continue`, `stop`, `jump`).
    pub on_channel: crate::landscape::OnChannel,
    /// Regularisers of every student's objective (`[regularisers] maxnorm = 50.0`).
    pub regularisers: crate::net::Regularisers,
    /// Thresholds of the students' end-state certificates.
    pub certify: crate::landscape::CertifyOptions,
    /// Named training pipelines, each run on every (teacher, ρ, seed) from the same initial
    /// point (empty, the default: one pipeline, `[flow]` and `[refine]`); the report then
    /// compares them. A study with methods does not recover.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub methods: Vec<super::MethodSpec>,
    /// Train on the infinite-data (population) loss under `x ~ N(0, I_d)` against each
    /// teacher instead of on samples ([`crate::train::TrainProblem::infinite`]; shallow
    /// teachers with one output; `samples` is then unused).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub infinite_data: bool,
}

impl Default for StudyConfig {
    fn default() -> Self {
        StudyConfig {
            name: "study".into(),
            family: None,
            deep: Vec::new(),
            teacher_files: Vec::new(),
            datasets: Vec::new(),
            rhos: vec![1, 2, 4, 8],
            students: 20,
            students_by_width: BTreeMap::from([("8".to_string(), 10)]),
            first_seed: 0,
            samples: 30_000,
            recover: false,
            flow: FlowConfig::default(),
            refine: RefineConfig::default(),
            refine_by_rho: BTreeMap::new(),
            recovery: RecoveryOptions::default(),
            on_channel: crate::landscape::OnChannel::Continue,
            regularisers: crate::net::Regularisers::default(),
            certify: crate::landscape::CertifyOptions::default(),
            methods: Vec::new(),
            infinite_data: false,
        }
    }
}

impl StudyConfig {
    /// Students per group for a teacher whose first hidden layer has `r` neurons.
    pub fn students_for(&self, r: usize) -> usize {
        self.students_by_width
            .get(&r.to_string())
            .copied()
            .unwrap_or(self.students)
    }

    /// The methods of the study: its `methods`, or the one pipeline of `[flow]` and
    /// `[refine]` (`None`) when it has none.
    pub fn method_axis(&self) -> Vec<Option<&super::MethodSpec>> {
        if self.methods.is_empty() {
            vec![None]
        } else {
            self.methods.iter().map(Some).collect()
        }
    }

    /// Flow and refinement options of a student of width ratio `rho` trained by `method`.
    pub fn options_for(
        &self,
        rho: usize,
        method: Option<&super::MethodSpec>,
    ) -> Result<(FlowConfig, RefineConfig)> {
        let refine = self.refine_for(rho);
        match method {
            None => Ok((self.flow.clone(), refine.clone())),
            Some(m) => m.apply(&self.flow, refine),
        }
    }

    /// Refinement options of the students of width ratio `rho`.
    pub fn refine_for(&self, rho: usize) -> &RefineConfig {
        self.refine_by_rho
            .get(&rho.to_string())
            .unwrap_or(&self.refine)
    }

    /// Checks the options that training would otherwise reject late.
    pub fn check(&self) -> Result<()> {
        let bad = |what: &str, why: &str| Err(Error::invalid(format!("study: {what}"), why));
        if self.rhos.is_empty() || self.rhos.contains(&0) {
            return bad("rhos", "give at least one positive ρ");
        }
        if self.family.is_none()
            && self.deep.is_empty()
            && self.teacher_files.is_empty()
            && self.datasets.is_empty()
        {
            return bad(
                "teachers",
                "no teachers: give [family], [[deep]], teacher_files or [[datasets]]",
            );
        }
        for d in &self.datasets {
            if d.hidden.is_empty() || d.hidden.contains(&0) {
                return bad("datasets.hidden", "give at least one positive width");
            }
            if d.activation.is_softmax() {
                return bad("datasets.activation", "softmax is not a hidden activation");
            }
        }
        if self.infinite_data && !self.datasets.is_empty() {
            return bad(
                "infinite_data",
                "the infinite-data loss needs teachers; remove [[datasets]]",
            );
        }
        for k in self.students_by_width.keys() {
            if k.parse::<usize>().is_err() {
                return bad("students_by_width", &format!("key `{k}` is not a width"));
            }
        }
        for k in self.refine_by_rho.keys() {
            if k.parse::<usize>().is_err() {
                return bad("refine_by_rho", &format!("key `{k}` is not a ρ"));
            }
        }
        self.certify.check()?;
        if !self.methods.is_empty() {
            if self.recover {
                return bad(
                    "methods",
                    "a study with methods compares them and does not recover (recover = false)",
                );
            }
            super::method::check_methods(&self.methods, &self.flow, &self.refine)?;
            for r in self.refine_by_rho.values() {
                super::method::check_methods(&self.methods, &self.flow, r)?;
            }
        }
        if self.infinite_data && self.recover {
            return bad(
                "infinite_data",
                "Expand-and-Cluster needs data; the infinite-data loss has none (recover = false)",
            );
        }
        if self.infinite_data && !self.deep.is_empty() {
            return bad(
                "infinite_data",
                "the infinite-data loss is for shallow teachers; remove [[deep]]",
            );
        }
        if let Some(m) = self.regularisers.maxnorm
            && !(m.is_finite() && m > 0.0)
        {
            return bad("regularisers.maxnorm", "must be a positive radius");
        }
        let min_students = if self.recover { 2 } else { 1 };
        let widths: Vec<usize> = self
            .students_by_width
            .keys()
            .filter_map(|k| k.parse().ok())
            .collect();
        if self.students < min_students
            || widths.iter().any(|&w| self.students_for(w) < min_students)
        {
            return bad(
                "students",
                &format!("need at least {min_students} student(s) per group"),
            );
        }
        if self.samples == 0 {
            return bad("samples", "must be positive");
        }
        // Options every task would reject are rejected here, before a task records a failure
        // (a failed task counts as finished, so a resume would not retry it).
        self.flow.check()?;
        if self.recover {
            let counts =
                std::iter::once(self.students).chain(widths.iter().map(|&w| self.students_for(w)));
            for students in counts {
                let r = self
                    .recovery
                    .recover_options(students, &self.flow, &self.refine);
                r.check().map_err(|e| match e {
                    Error::Invalid { what, reason } => {
                        Error::invalid(format!("study: recovery.{what}"), reason)
                    }
                    e => e,
                })?;
            }
        }
        for t in &self.deep {
            if t.widths.len() < 3 || t.widths.contains(&0) {
                return bad(
                    "deep",
                    "widths are [d, k_1, …, k_L] with at least one hidden layer, all positive",
                );
            }
        }
        Ok(())
    }

    /// Makes relative teacher-file paths relative to `base` (the configuration's folder).
    pub fn resolve_paths(&mut self, base: &Path) {
        for p in self
            .teacher_files
            .iter_mut()
            .chain(self.datasets.iter_mut().map(|d| &mut d.path))
        {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
    }
}

/// Reads a study configuration (TOML; `.json` files are read as JSON, e.g. the `study.json`
/// a study writes into its output folder), checks it and resolves its relative paths.
pub fn read_study_config(path: &Path) -> Result<StudyConfig> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::from(e).in_file(path))?;
    let is_json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    let mut cfg: StudyConfig = if is_json {
        serde_json::from_str(&text)
            .map_err(|e| Error::format(format!("invalid study configuration: {e}")).in_file(path))?
    } else {
        toml::from_str(&text).map_err(|e| {
            Error::format(format!(
                "invalid study configuration: {}",
                e.to_string().replace('\n', " ")
            ))
            .in_file(path)
        })?
    };
    cfg.check().map_err(|e| e.in_file(path))?;
    if !is_json {
        cfg.resolve_paths(path.parent().unwrap_or(Path::new(".")));
    }
    Ok(cfg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn landscape_options_parse_and_default() {
        let c: StudyConfig = toml::from_str(
            r#"
            on_channel = "jump"
            [family]
            [regularisers]
            maxnorm = 50.0
            [certify]
            loss_floor = 1e-18
            "#,
        )
        .unwrap();
        assert_eq!(c.on_channel, crate::landscape::OnChannel::Jump);
        assert_eq!(c.regularisers.maxnorm, Some(50.0));
        assert!((c.certify.loss_floor - 1e-18).abs() < 1e-30);
        c.check().unwrap();
        // A configuration written before these fields existed reads back equal to the defaults.
        let old: StudyConfig = toml::from_str("[family]").unwrap();
        assert_eq!(old.on_channel, crate::landscape::OnChannel::Continue);
        assert!(old.regularisers.is_empty());
        let mut bad = old.clone();
        bad.regularisers.maxnorm = Some(0.0);
        assert!(bad.check().unwrap_err().to_string().contains("maxnorm"));
    }
}
