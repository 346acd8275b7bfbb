//! Expand-and-Cluster: `recover` and its `Recovery`.

use super::*;

/// The result of Expand-and-Cluster.
#[pyclass(module = "gradflow._gradflow", name = "Recovery", frozen)]
pub(crate) struct PyRecovery {
    pub(crate) inner: Recovery,
}

#[pymethods]
impl PyRecovery {
    /// The recovered architecture.
    #[getter]
    fn net(&self) -> Net {
        Net {
            spec: self.inner.network.spec.clone(),
        }
    }
    /// The recovered parameters.
    #[getter]
    fn theta<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        array1(py, self.inner.network.params.clone())
    }
    /// Recovered hidden widths.
    #[getter]
    fn widths(&self) -> Vec<usize> {
        self.inner
            .report
            .layers
            .iter()
            .map(|l| l.recovered_width)
            .collect()
    }
    /// The report (what `report.json` holds).
    #[getter]
    fn report<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let v = serde_json::to_value(&self.inner.report).map_err(|e| value_err(e.to_string()))?;
        json_to_py(py, &v)
    }
    /// The comparison with the teacher (None without one).
    #[getter]
    fn metrics<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let v = serde_json::to_value(&self.inner.report.metrics)
            .map_err(|e| value_err(e.to_string()))?;
        json_to_py(py, &v)
    }
    /// Writes what `gradflow recover` writes into `dir` (recovered.json, report.json,
    /// figures, students/).
    fn write(&self, dir: std::path::PathBuf) -> PyResult<()> {
        gradflow::cluster::write_recovery(&dir, &self.inner)
            .map(|_| ())
            .map_err(py_err)
    }
    fn __repr__(&self) -> String {
        format!(
            "Recovery({}, loss={:.3e})",
            self.inner.report.recovered_shape, self.inner.report.loss
        )
    }
}

/// Expand-and-Cluster on `(x, y)` (SPEC §8): trains `students` students, clusters their
/// neurons, reconstructs and fine-tunes. `teacher` (`(net, theta)`) only adds metrics.
/// Recovery options (`gamma`, `beta`, `probe_widths`, …) and training options (as `train`)
/// are keywords. With `out` (a folder), every finished student is saved there as it finishes
/// and the result is written there as `gradflow recover` writes it; the same call after a
/// Ctrl-C reuses the saved students that are the same runs.
#[pyfunction]
#[pyo3(signature = (x, y, *, activation = "g", students = None, width = None, rho = None, layers = None, teacher = None, threads = None, progress = None, out = None, **options))]
pub(crate) fn recover(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    y: &Bound<'_, PyAny>,
    activation: &str,
    students: Option<usize>,
    width: Option<usize>,
    rho: Option<usize>,
    layers: Option<Vec<usize>>,
    teacher: Option<&Bound<'_, PyAny>>,
    threads: Option<usize>,
    progress: Option<Py<PyAny>>,
    out: Option<std::path::PathBuf>,
    options: Option<&Bound<'_, PyDict>>,
) -> PyResult<PyRecovery> {
    let mut o = RecoverOptions::default();
    o.activation = activation_of(activation)?;
    if let Some(s) = students {
        o.students = s;
    }
    o.width = width;
    o.rho = rho;
    o.layers = layers;
    o.threads = threads;
    // Recovery options by name (through serde, so that each keeps its library default).
    let mut rest = Vec::new();
    let mut rj = serde_json::to_value(&o).map_err(|e| value_err(e.to_string()))?;
    if let Some(kw) = options {
        for (k, v) in kw.iter() {
            let name: String = k.extract()?;
            let is_recover = rj.get(&name).is_some()
                && !matches!(
                    name.as_str(),
                    "flow"
                        | "refine"
                        | "activation"
                        | "students"
                        | "width"
                        | "rho"
                        | "layers"
                        | "threads"
                );
            if is_recover {
                rj[&name] = py_to_json(&name, &v)?;
            } else {
                rest.push(name);
            }
        }
    }
    let mut o: RecoverOptions =
        serde_json::from_value(rj).map_err(|e| value_err(format!("recover option: {e}")))?;
    let skip: Vec<String> = match options {
        Some(kw) => kw
            .keys()
            .iter()
            .filter_map(|k| k.extract::<String>().ok())
            .filter(|k| !rest.contains(k))
            .collect(),
        None => Vec::new(),
    };
    let t = train_options(options, &skip)?;
    o.flow = t.flow;
    o.refine = t.refine;
    o.check().map_err(py_err)?;
    let (tnet, tspec) = match teacher.filter(|t| !t.is_none()) {
        Some(t) => {
            let net = network_of(py, t, "teacher")?;
            let spec = net.spec.clone();
            (Some(net), Some(spec))
        }
        None => (None, None),
    };
    let k = tspec.as_ref().map_or_else(
        || as_f64(py, y, "y").map(|a| if a.ndim() == 2 { a.shape()[1] } else { 1 }),
        |s| Ok(s.output_dim()),
    )?;
    let d = {
        let a = as_f64(py, x, "x")?;
        if a.ndim() == 2 { a.shape()[1] } else { 1 }
    };
    let probe = NetSpec::new(d, vec![LayerSpec::new(k, Activation::Identity)]).map_err(py_err)?;
    let data = dataset_of(py, &probe, x, y, None)?;
    if let Some(dir) = &out {
        std::fs::create_dir_all(dir).map_err(|e| py_err(gradflow::Error::from(e).in_file(dir)))?;
    }
    let saved = out
        .as_deref()
        .map(gradflow::cluster::read_saved_students)
        .unwrap_or_default();
    let dir = out.clone();
    let out_keep = out.clone();
    let inner = cancellable_keeping(
        py,
        move |cancel| {
            let user = watch_for(progress.as_ref(), cancel);
            // With `out`, each finished student is saved at once (a failed save is reported, the
            // recovery goes on).
            let watch = Watch::new(move |e: &gradflow::observe::Event<'_>| {
                if let (Some(dir), gradflow::observe::Event::RunDone { run, record }) = (&dir, e)
                    && let Err(err) = gradflow::cluster::write_student(dir, *run, record)
                {
                    user.message(&format!("could not save {}: {err}", run.stage));
                }
                user.emit(e);
            })
            .with_cancel(cancel.clone());
            gradflow::cluster::recover(&data, tnet.as_ref(), &o, &saved, &watch)
        },
        // A recovery that finished as Ctrl-C arrived is still a result: written to `out` and
        // attached to the KeyboardInterrupt.
        |py, r| match r {
            Ok(inner) => {
                if let Some(dir) = &out_keep {
                    gradflow::cluster::write_recovery(dir, &inner).map_err(py_err)?;
                }
                Ok(Some(Py::new(py, PyRecovery { inner })?.into_any()))
            }
            Err(_) => Ok(None),
        },
    )?
    .map_err(py_err)?;
    if let Some(dir) = &out {
        gradflow::cluster::write_recovery(dir, &inner).map_err(py_err)?;
    }
    Ok(PyRecovery { inner })
}
