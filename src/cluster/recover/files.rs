//! The files of a recovery folder, written the same way by `gradflow recover` and by a study:
//! `recovered.json`, `report.json`, two SVG figures per layer and `students/` with one record
//! per student run.

use std::path::{Path, PathBuf};

use super::Recovery;
use crate::error::{Error, Result};
use crate::io::{write_atomic, write_network_with_meta};
use crate::observe::RunId;
use crate::train::RunRecord;

pub use crate::io::names::{
    RECOVERED_FILE, REPORT_FILE, STUDENTS_DIR, recovery_student as student_file,
};

/// Writes one student record (atomically), creating `students/` if needed.
pub fn write_student(dir: &Path, run: RunId, record: &RunRecord) -> Result<()> {
    let path = student_file(dir, run);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| Error::from(e).in_file(parent))?;
    }
    let bytes = serde_json::to_vec(record).map_err(|e| Error::format(e.to_string()))?;
    write_atomic(&path, &bytes)
}

/// Every readable student record in `dir/students` (none when the folder does not exist);
/// unreadable files are skipped, since a saved run is only a shortcut.
pub fn read_saved_students(dir: &Path) -> Vec<RunRecord> {
    let Ok(entries) = std::fs::read_dir(dir.join(STUDENTS_DIR)) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    paths
        .iter()
        .filter_map(|p| serde_json::from_slice(&std::fs::read(p).ok()?).ok())
        .collect()
}

/// Writes the recovery folder `dir`: the network, the report, the figures of every layer and
/// every student record. Returns the paths of the network and the report.
pub fn write_recovery(dir: &Path, rec: &Recovery) -> Result<(PathBuf, PathBuf)> {
    std::fs::create_dir_all(dir).map_err(|e| Error::from(e).in_file(dir))?;
    let net_path = dir.join(RECOVERED_FILE);
    write_network_with_meta(
        &net_path,
        &rec.network,
        Some(serde_json::json!({
            "recovered_by": "gradflow recover",
            "loss": rec.report.loss,
            "rmse": rec.report.rmse,
        })),
    )?;
    for l in &rec.report.layers {
        let c = &l.clustering;
        let title = format!(
            "layer {}: {} student neurons, {} clusters kept, {} recovered",
            l.layer,
            c.points.len(),
            l.clustered,
            l.recovered_width
        );
        write_atomic(
            &crate::io::names::layer_figure(dir, l.layer, "similarity"),
            crate::cluster::figures::similarity_svg(c, &title).as_bytes(),
        )?;
        write_atomic(
            &crate::io::names::layer_figure(dir, l.layer, "dendrogram"),
            crate::cluster::figures::dendrogram_svg(c, &title).as_bytes(),
        )?;
    }
    for (run, record) in &rec.students {
        write_student(dir, *run, record)?;
    }
    let report_path = dir.join(REPORT_FILE);
    let bytes = serde_json::to_vec_pretty(&rec.report).map_err(|e| Error::format(e.to_string()))?;
    write_atomic(&report_path, &bytes)?;
    Ok((net_path, report_path))
}
