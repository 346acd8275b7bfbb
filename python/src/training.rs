//! `train`, `train_seeds` and their `TrainResult`.

use super::*;

/// The record of one training run (SPEC §6).
#[pyclass(module = "gradflow._gradflow", name = "TrainResult", frozen)]
pub(crate) struct TrainResult {
    pub(crate) record: RunRecord,
}

pub(crate) fn points<'py>(
    py: Python<'py>,
    pts: &[gradflow::monitor::TrajectoryPoint],
) -> PyResult<Bound<'py, PyAny>> {
    let v: Vec<f64> = pts
        .iter()
        .flat_map(|p| [p.t, p.loss, p.gnorm, p.wall])
        .collect();
    array2(py, v, pts.len(), 4)
}

#[pymethods]
impl TrainResult {
    /// Best parameters overall.
    #[getter]
    fn x<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        array1(py, self.record.x.clone())
    }
    /// Final mean loss.
    #[getter]
    fn loss(&self) -> f64 {
        self.record.loss
    }
    /// Best parameters of the gradient flow.
    #[getter]
    fn ode_x<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        array1(py, self.record.ode_x.clone())
    }
    /// Mean loss after the gradient flow.
    #[getter]
    fn ode_loss(&self) -> f64 {
        self.record.ode_loss
    }
    /// ∞-norm of the mean gradient at `x`.
    #[getter]
    fn gnorm(&self) -> f64 {
        self.record.gnorm
    }
    /// Root-mean-square error at `x` (MSE only; None otherwise).
    #[getter]
    fn rmse(&self) -> Option<f64> {
        self.record.rmse
    }
    /// The initial parameters.
    #[getter]
    fn init<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        array1(py, self.record.init.clone())
    }
    /// The seed.
    #[getter]
    fn seed(&self) -> u64 {
        self.record.seed
    }
    /// Why the gradient flow stopped (e.g. "max_time", "min_loss").
    #[getter]
    fn ode_stop(&self) -> &'static str {
        self.record.ode.outcome.stop.name()
    }
    /// Why the refinement stopped.
    #[getter]
    fn optim_stop(&self) -> &'static str {
        self.record.optim.outcome.stop.name()
    }
    /// ODE time the gradient flow reached (inf once a converged flow's steps overflow it).
    #[getter]
    fn ode_t(&self) -> f64 {
        self.record.ode_t
    }
    /// Wall time of the flow (s).
    #[getter]
    fn ode_time(&self) -> f64 {
        self.record.ode.outcome.wall
    }
    /// Wall time of the refinement (s).
    #[getter]
    fn optim_time(&self) -> f64 {
        self.record.optim.outcome.wall
    }
    /// Total wall time (s).
    #[getter]
    fn total_time(&self) -> f64 {
        self.record.total_time
    }
    /// Work counters of both phases: `{"ode": {...}, "optim": {...}}`.
    #[getter]
    fn counters<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let v = serde_json::json!({
            "ode": self.record.ode.outcome.counters,
            "optim": self.record.optim.outcome.counters,
        });
        json_to_py(py, &v)
    }
    /// What the run ended at, with the evidence: a dict with `kind` (`zero_loss`, `minimum`,
    /// `saddle`, `channel`, `stationary` or `unconverged`), `loss`, `gnorm`, `lambda_min`,
    /// `lambda_max`, `param_norm`, `norm_growth`, `power_law`, and for channels `channels`
    /// (neurons, cosine distance, outgoing norms), for saddles `descent_support`.
    /// None when the run was trained without a certificate.
    #[getter]
    fn end_state<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let v =
            serde_json::to_value(&self.record.end_state).map_err(|e| value_err(e.to_string()))?;
        json_to_py(py, &v)
    }
    /// The end state's kind (`end_state["kind"]`), or None.
    #[getter]
    fn end_kind(&self) -> Option<&'static str> {
        use gradflow::named::Named;
        self.record.end_state.as_ref().map(|e| e.kind.name())
    }
    /// The jump along a channel at the flow's end (`on_channel="jump"`), or None: `loss_before`,
    /// `loss_after`, `halvings`, `pairs`.
    #[getter]
    fn channel_jump<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let v = serde_json::to_value(&self.record.channel_jump)
            .map_err(|e| value_err(e.to_string()))?;
        json_to_py(py, &v)
    }
    /// Gradient-flow trajectory: columns t, loss, gnorm, wall.
    #[getter]
    fn trajectory<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        points(py, &self.record.trajectory)
    }
    /// The parameters at the trajectory's points (rows of `trajectory`), an `(n, P)` array, or
    /// None when the run did not keep them (`trajectory_x=True` keeps them).
    #[getter]
    fn trajectory_x<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        let pts = &self.record.trajectory;
        let Some(p) = pts.first().and_then(|q| q.x.as_ref()).map(Vec::len) else {
            return Ok(None);
        };
        let mut v = Vec::with_capacity(pts.len() * p);
        for q in pts {
            match &q.x {
                Some(x) if x.len() == p => v.extend_from_slice(x),
                _ => return Ok(None),
            }
        }
        array2(py, v, pts.len(), p).map(Some)
    }
    /// Refinement loss curve: columns iteration, loss, gnorm, wall.
    #[getter]
    fn loss_curve<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        points(py, &self.record.loss_curve)
    }
    /// Progress curve of the run: columns wall (s since the run started), best loss so far,
    /// loss evaluations, gradient evaluations, Hessian evaluations; a row each time the best
    /// loss passes a level 10^(-k/5), or improves after the time grew 1.25×, and at each phase's
    /// end (benchmarks read time to target from it).
    #[getter]
    fn progress<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let p = &self.record.progress;
        let v: Vec<f64> = p
            .iter()
            .flat_map(|q| {
                [
                    q.wall,
                    q.loss,
                    q.loss_evals as f64,
                    q.gradient_evals as f64,
                    q.hessian_evals as f64,
                ]
            })
            .collect();
        array2(py, v, p.len(), 5)
    }
    /// The whole record as a dict (the JSON `gradflow solve` writes).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let v = serde_json::to_value(&self.record).map_err(|e| value_err(e.to_string()))?;
        json_to_py(py, &v)
    }
    /// Writes the record as `gradflow solve` does (JSON).
    fn save(&self, path: std::path::PathBuf) -> PyResult<()> {
        let bytes = serde_json::to_vec(&self.record).map_err(|e| value_err(e.to_string()))?;
        gradflow::io::write_atomic(&path, &bytes).map_err(py_err)
    }
    fn __repr__(&self) -> String {
        format!(
            "TrainResult(seed={}, loss={:.3e}, ode_loss={:.3e}, stops={}/{}, end={}, time={:.1}s)",
            self.record.seed,
            self.record.loss,
            self.record.ode_loss,
            self.ode_stop(),
            self.optim_stop(),
            self.end_kind().unwrap_or("-"),
            self.record.total_time
        )
    }
}

/// Trains `net` from `theta0` on `(x, y)`: the gradient flow, then refinement (SPEC §4–§5).
/// Options are the CLI's flags with underscores (see `gradflow.train`'s docstring).
#[pyfunction]
#[pyo3(signature = (net, theta0, x = None, y = None, *, loss = None, weights = None, infinite_data = None, seed = 0, eval_threads = 1, progress = None, **options))]
pub(crate) fn train(
    py: Python<'_>,
    net: &Net,
    theta0: &Bound<'_, PyAny>,
    x: Option<&Bound<'_, PyAny>>,
    y: Option<&Bound<'_, PyAny>>,
    loss: Option<&str>,
    weights: Option<&Bound<'_, PyAny>>,
    infinite_data: Option<&Bound<'_, PyAny>>,
    seed: u64,
    eval_threads: usize,
    progress: Option<Py<PyAny>>,
    options: Option<&Bound<'_, PyDict>>,
) -> PyResult<TrainResult> {
    let mut opts = train_options(options, &[])?;
    opts.seed = seed;
    opts.eval_threads = eval_threads;
    let t = theta_of(py, &net.spec, theta0, "theta0")?;
    let args = DataArgs {
        x,
        y,
        weights,
        loss,
        infinite_data,
    };
    let source = source_of(py, &net.spec, args)?;
    let kind = loss_of(loss, &net.spec)?;
    let spec = net.spec.clone();
    // Interrupted: the run stopped at its best point, and its TrainResult rides on the
    // KeyboardInterrupt as `result`.
    let record = cancellable_keeping(
        py,
        move |cancel| {
            let problem = source.problem(&spec, kind);
            let watch = watch_for(progress.as_ref(), cancel);
            gradflow::train::train(&problem, &t, &opts, &watch)
        },
        |py, out| match out {
            Ok(record) => Ok(Some(Py::new(py, TrainResult { record })?.into_any())),
            Err(_) => Ok(None),
        },
    )?
    .map_err(py_err)?;
    Ok(TrainResult { record })
}

/// Trains one student per seed in parallel (initial points drawn from the seeds with
/// `init`), `threads` workers (default: all cores), the GIL released.
#[pyfunction]
#[pyo3(signature = (net, x = None, y = None, seeds = vec![0], *, threads = None, eval_threads = 1, loss = None, weights = None, infinite_data = None, progress = None, **options))]
pub(crate) fn train_seeds(
    py: Python<'_>,
    net: &Net,
    x: Option<&Bound<'_, PyAny>>,
    y: Option<&Bound<'_, PyAny>>,
    seeds: Vec<u64>,
    threads: Option<usize>,
    eval_threads: usize,
    loss: Option<&str>,
    weights: Option<&Bound<'_, PyAny>>,
    infinite_data: Option<&Bound<'_, PyAny>>,
    progress: Option<Py<PyAny>>,
    options: Option<&Bound<'_, PyDict>>,
) -> PyResult<Vec<TrainResult>> {
    let mut opts = train_options(options, &[])?;
    opts.eval_threads = eval_threads;
    let args = DataArgs {
        x,
        y,
        weights,
        loss,
        infinite_data,
    };
    let source = source_of(py, &net.spec, args)?;
    let kind = loss_of(loss, &net.spec)?;
    let spec = net.spec.clone();
    // Interrupted: the runs that ended (at their best points) ride on the KeyboardInterrupt as
    // its `result`, a list of TrainResult.
    let results = cancellable_keeping(
        py,
        move |cancel| {
            let problem = source.problem(&spec, kind);
            let watch = watch_for(progress.as_ref(), cancel);
            gradflow::train::train_seeds(&problem, &seeds, &opts, threads, &watch)
        },
        |py, out| {
            let Ok(results) = out else { return Ok(None) };
            let done: Vec<TrainResult> = results
                .into_iter()
                .filter_map(|(_, r)| r.ok().map(|record| TrainResult { record }))
                .collect();
            Ok(Some(done.into_pyobject(py)?.into_any().unbind()))
        },
    )?
    .map_err(py_err)?;
    results
        .into_iter()
        .map(|(_, r)| r.map(|record| TrainResult { record }).map_err(py_err))
        .collect()
}
