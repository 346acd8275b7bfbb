//! Studies: `study` and `report`.

use super::*;

/// Runs a study (SPEC §10): `config` is a TOML file or a dict of the same keys; results go to
/// `out`, resumable (finished tasks are skipped); `shard=(i, n)` runs shard `i` of `n`
/// (1-based). Returns the counts `{"tasks", "ran", "skipped", "failed"}`.
#[pyfunction]
#[pyo3(signature = (config, out, *, shard = None, threads = None, progress = None))]
pub(crate) fn study<'py>(
    py: Python<'py>,
    config: &Bound<'py, PyAny>,
    out: std::path::PathBuf,
    shard: Option<(usize, usize)>,
    threads: Option<usize>,
    progress: Option<Py<PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let cfg: gradflow::study::StudyConfig = if config.is_instance_of::<PyDict>() {
        let text: String = py
            .import("json")?
            .call_method1("dumps", (config,))?
            .extract()?;
        let cfg: gradflow::study::StudyConfig = serde_json::from_str(&text)
            .map_err(|e| value_err(format!("invalid study configuration: {e}")))?;
        cfg.check().map_err(py_err)?;
        cfg
    } else {
        let path: std::path::PathBuf = config
            .extract()
            .map_err(|_| PyTypeError::new_err("config: expected a TOML path or a dict"))?;
        gradflow::study::read_study_config(&path).map_err(py_err)?
    };
    let shard = match shard {
        None => gradflow::study::Shard::ALL,
        Some((i, n)) => format!("{i}/{n}").parse().map_err(py_err)?,
    };
    let run = cancellable(py, move |cancel| {
        let watch = watch_for(progress.as_ref(), cancel);
        gradflow::study::run_study(&cfg, &out, shard, threads, &watch)
    })?
    .map_err(py_err)?;
    if run.interrupted {
        return Err(PyKeyboardInterrupt::new_err(
            "study interrupted; finished tasks are saved and skipped when it runs again",
        ));
    }
    json_to_py(
        py,
        &serde_json::json!({"tasks": run.tasks, "ran": run.ran, "skipped": run.skipped, "failed": run.failed}),
    )
}

/// Writes the report of one or more study folders (CSV tables, SVG figures, `summary.md`)
/// into `out`; returns the paths written.
#[pyfunction]
pub(crate) fn report(
    dirs: Vec<std::path::PathBuf>,
    out: std::path::PathBuf,
) -> PyResult<Vec<std::path::PathBuf>> {
    let results = gradflow::study::read_results(&dirs).map_err(py_err)?;
    gradflow::report::write_report(&results, &out).map_err(py_err)
}
