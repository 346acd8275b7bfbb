//! Every result file name gradflow writes, in one place.
//!
//! | writer | file |
//! |---|---|
//! | `gradflow solve` (`-o DIR`) | `DIR/seed_N.json`, one run record per seed ([`solve_record`]) |
//! | a study (`OUT`) | `OUT/study.json` ([`STUDY_FILE`]), `OUT/teachers/ID.json` ([`study_teacher`]), per group `seedN.json` ([`study_student`]) and `recovery.json` ([`STUDY_RECOVERY`]) |
//! | a recovery folder (`gradflow recover -o DIR`, a study's `<group>/recovery/`) | `recovered.json` ([`RECOVERED_FILE`]), `report.json` ([`REPORT_FILE`]), `layerL_similarity.svg` / `layerL_dendrogram.svg` ([`layer_figure`]), `students/STAGE_seed_N.json` ([`recovery_student`]) |
//!
//! The names differ between writers for compatibility with folders written by earlier versions
//! (a study resumes from its existing `seedN.json` files).

use std::path::{Path, PathBuf};

use crate::observe::RunId;

/// The record of seed `seed` written by `gradflow solve`.
pub fn solve_record(seed: u64) -> String {
    format!("seed_{seed}.json")
}

/// The study's configuration inside its folder.
pub const STUDY_FILE: &str = "study.json";

/// A study's teacher network, by its id (inside the study folder).
pub fn study_teacher(out: &Path, id: &str) -> PathBuf {
    out.join("teachers").join(format!("{id}.json"))
}

/// A study's student result inside its group folder.
pub fn study_student(seed: u64) -> String {
    format!("seed{seed}.json")
}

/// A study's recovery result inside its group folder.
pub const STUDY_RECOVERY: &str = "recovery.json";

/// The recovered network of a recovery folder.
pub const RECOVERED_FILE: &str = "recovered.json";

/// The report of a recovery folder.
pub const REPORT_FILE: &str = "report.json";

/// The folder of the student records inside a recovery folder.
pub const STUDENTS_DIR: &str = "students";

/// The record of student run `run` in the recovery folder `dir`
/// (`students/layer_1_seed_3.json`, `students/probe_w8_seed_1000000.json`, …).
pub fn recovery_student(dir: &Path, run: RunId) -> PathBuf {
    dir.join(STUDENTS_DIR)
        .join(format!("{}_seed_{}.json", run.stage.file_stem(), run.seed))
}

/// A figure of layer `layer` (1-based) in a recovery folder: `kind` is `similarity` or
/// `dendrogram`.
pub fn layer_figure(dir: &Path, layer: usize, kind: &str) -> PathBuf {
    dir.join(format!("layer{layer}_{kind}.svg"))
}
