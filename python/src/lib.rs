//! `gradflow._gradflow`: the compiled core of the Python package (see `python/README.md` and
//! the package's `__init__.py`, which adds the pure-Python conveniences).
//!
//! Every call converts its arrays once (float64, C-contiguous arrays are read in place),
//! releases the GIL for the work and maps library errors onto Python exceptions
//! (`ValueError`, `OSError`, `RuntimeError`). Long calls run on a worker thread while the
//! calling thread checks for signals every 20 ms: Ctrl-C cancels the library's flag and
//! raises `KeyboardInterrupt` once the run has stopped at its best point.

// PyO3's macros expand to code that trips these lints.
#![allow(clippy::useless_conversion, clippy::too_many_arguments)]

use std::time::Duration;

use numpy::{PyArray1, PyArrayMethods, PyReadonlyArrayDyn, PyUntypedArrayMethods};
use pyo3::exceptions::{PyKeyboardInterrupt, PyOSError, PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyList, PyTuple};

use gradflow::cancel::Cancel;
use gradflow::cluster::{RecoverOptions, Recovery};
use gradflow::flow::FlowConfig;
use gradflow::named::Named;
use gradflow::net::{
    Activation, Dataset, Init, LayerSpec, Loss, NetSpec, Network, Objective, symmetric_eigenvalues,
};
use gradflow::observe::Watch;
use gradflow::optim::RefineConfig;
use gradflow::teacher::{InputDistribution, TeacherConfig, paper_seed, sample_data};
use gradflow::train::{RunRecord, TrainOptions, TrainProblem};

// ---------------------------------------------------------------------------------------
// Errors

/// The Python exception for a library error: files → `OSError`, numerical failures →
/// `RuntimeError`, interruption → `KeyboardInterrupt`, everything else (bad shapes, values,
/// names, options) → `ValueError`. The message is the library's one line.
fn py_err(e: gradflow::Error) -> PyErr {
    let msg = e.to_string();
    match &e {
        gradflow::Error::Io { .. } => PyOSError::new_err(msg),
        gradflow::Error::InFile { source, .. }
            if matches!(**source, gradflow::Error::Io { .. }) =>
        {
            PyOSError::new_err(msg)
        }
        gradflow::Error::Numerical { .. } => PyRuntimeError::new_err(msg),
        gradflow::Error::Interrupted => PyKeyboardInterrupt::new_err(msg),
        _ => PyValueError::new_err(msg),
    }
}

fn value_err(msg: impl Into<String>) -> PyErr {
    PyValueError::new_err(msg.into())
}

/// Runs `work` on a worker thread with the GIL released, checking for signals every 20 ms on
/// the calling thread; a signal (Ctrl-C) cancels `work` through its flag and is raised once
/// `work` has returned. A panic in `work` becomes a `RuntimeError`, never a crash.
fn cancellable<T: Send>(py: Python<'_>, work: impl FnOnce(&Cancel) -> T + Send) -> PyResult<T> {
    let cancel = Cancel::new();
    let (out, signal) = py.detach(|| {
        std::thread::scope(|s| {
            let handle = s.spawn(|| work(&cancel));
            let mut signal: Option<PyErr> = None;
            while !handle.is_finished() {
                std::thread::sleep(Duration::from_millis(20));
                if signal.is_none() {
                    if let Err(e) = Python::attach(|py| py.check_signals()) {
                        cancel.cancel();
                        signal = Some(e);
                    }
                }
            }
            (handle.join(), signal)
        })
    });
    if let Some(e) = signal {
        return Err(e);
    }
    out.map_err(|p| {
        let what = p
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        PyRuntimeError::new_err(format!("gradflow internal error: {what}"))
    })
}

// ---------------------------------------------------------------------------------------
// Arrays

/// A float64, C-contiguous view of any array-like (converted by NumPy only when needed).
fn as_f64<'py>(
    py: Python<'py>,
    obj: &Bound<'py, PyAny>,
    what: &str,
) -> PyResult<PyReadonlyArrayDyn<'py, f64>> {
    let np = py.import("numpy")?;
    let kwargs = PyDict::new(py);
    kwargs.set_item("dtype", "float64")?;
    let arr = np
        .call_method("ascontiguousarray", (obj,), Some(&kwargs))
        .map_err(|e| value_err(format!("{what}: not a numeric array ({e})")))?;
    arr.extract::<PyReadonlyArrayDyn<'py, f64>>()
        .map_err(|e| value_err(format!("{what}: not a float64 array ({e})")))
}

/// A flat parameter vector of `spec`.
fn theta_of(
    py: Python<'_>,
    spec: &NetSpec,
    obj: &Bound<'_, PyAny>,
    what: &str,
) -> PyResult<Vec<f64>> {
    let a = as_f64(py, obj, what)?;
    if a.ndim() != 1 {
        return Err(value_err(format!(
            "{what}: expected a flat vector of {} parameters, got an array of shape {:?}",
            spec.n_params(),
            a.shape()
        )));
    }
    let v = a.as_slice().map_err(|e| value_err(e.to_string()))?.to_vec();
    spec.check_params(&v).map_err(py_err)?;
    if let Some(i) = v.iter().position(|t| !t.is_finite()) {
        return Err(value_err(format!(
            "{what} has a non-finite value ({}) at index {i}",
            v[i]
        )));
    }
    Ok(v)
}

/// Inputs `x` (`N × d`, or `N` when `d = 1`) as row-major values and `N`.
fn inputs_of(py: Python<'_>, d: usize, obj: &Bound<'_, PyAny>) -> PyResult<(Vec<f64>, usize)> {
    let a = as_f64(py, obj, "x")?;
    let shape = a.shape().to_vec();
    let n = match (shape.len(), shape.first(), shape.get(1)) {
        (2, Some(&n), Some(&c)) if c == d => n,
        (1, Some(&n), None) if d == 1 => n,
        _ => {
            return Err(value_err(format!(
                "x: expected shape (N, {d}), got {shape:?}"
            )));
        }
    };
    Ok((
        a.as_slice().map_err(|e| value_err(e.to_string()))?.to_vec(),
        n,
    ))
}

/// A data set from `x` (`N × d`), `y` (`N × k` or `N` when `k = 1`) and optional weights.
fn dataset_of(
    py: Python<'_>,
    spec: &NetSpec,
    x: &Bound<'_, PyAny>,
    y: &Bound<'_, PyAny>,
    weights: Option<&Bound<'_, PyAny>>,
) -> PyResult<Dataset> {
    let (d, k) = (spec.input_dim, spec.output_dim());
    let (xs, n) = inputs_of(py, d, x)?;
    let ya = as_f64(py, y, "y")?;
    let shape = ya.shape().to_vec();
    let ok = match shape.len() {
        2 => shape[0] == n && shape[1] == k,
        1 => shape[0] == n && k == 1,
        _ => false,
    };
    if !ok {
        return Err(value_err(format!(
            "y: expected shape ({n}, {k}){}, got {shape:?}",
            if k == 1 {
                format!(" or ({n},)")
            } else {
                String::new()
            }
        )));
    }
    let ys = ya.as_slice().map_err(|e| value_err(e.to_string()))?;
    let mut data = Dataset::from_row_major(&xs, d, ys, k).map_err(py_err)?;
    if let Some(w) = weights.filter(|w| !w.is_none()) {
        let wa = as_f64(py, w, "weights")?;
        if wa.shape() != [n] {
            return Err(value_err(format!(
                "weights: expected shape ({n},), got {:?}",
                wa.shape()
            )));
        }
        let wv = wa
            .as_slice()
            .map_err(|e| value_err(e.to_string()))?
            .to_vec();
        data = data.with_weights(wv).map_err(py_err)?;
    }
    Ok(data)
}

fn array1<'py>(py: Python<'py>, v: Vec<f64>) -> Bound<'py, PyArray1<f64>> {
    PyArray1::from_vec(py, v)
}

fn array2<'py>(
    py: Python<'py>,
    v: Vec<f64>,
    rows: usize,
    cols: usize,
) -> PyResult<Bound<'py, PyAny>> {
    Ok(PyArray1::from_vec(py, v).reshape([rows, cols])?.into_any())
}

/// A JSON value as a Python object (through the `json` module).
fn json_to_py<'py>(py: Python<'py>, v: &serde_json::Value) -> PyResult<Bound<'py, PyAny>> {
    py.import("json")?.call_method1("loads", (v.to_string(),))
}

/// A Python scalar, string, list or `None` as JSON (option values).
fn py_to_json(name: &str, v: &Bound<'_, PyAny>) -> PyResult<serde_json::Value> {
    if v.is_none() {
        Ok(serde_json::Value::Null)
    } else if v.is_instance_of::<PyBool>() {
        Ok(serde_json::Value::Bool(v.extract()?))
    } else if let Ok(i) = v.extract::<i64>() {
        Ok(serde_json::json!(i))
    } else if let Ok(f) = v.extract::<f64>() {
        Ok(serde_json::json!(f))
    } else if let Ok(s) = v.extract::<String>() {
        Ok(serde_json::Value::String(s))
    } else if let Ok(list) = v.extract::<Vec<Bound<'_, PyAny>>>() {
        list.iter()
            .map(|x| py_to_json(name, x))
            .collect::<PyResult<Vec<_>>>()
            .map(serde_json::Value::Array)
    } else {
        Err(PyTypeError::new_err(format!(
            "option {name}: unsupported value {v}"
        )))
    }
}

// ---------------------------------------------------------------------------------------
// Options

/// Which options struct an option belongs to.
#[derive(Clone, Copy)]
enum Table {
    Flow,
    Refine,
    Train,
}

/// The training options: the Python keyword (the CLI flag with underscores), its table and
/// field, and its help. Defaults are read from the library's `Default` impls.
const OPTIONS: &[(&str, Table, &str, &str)] = &[
    (
        "ode",
        Table::Flow,
        "integrator",
        "integrator (default: by size: kencarp58 up to 1024 parameters, tr-bdf2 up to 1e4, tsit5 above)",
    ),
    (
        "abstol",
        Table::Flow,
        "abstol",
        "absolute tolerance of the integrator",
    ),
    (
        "reltol",
        Table::Flow,
        "reltol",
        "relative tolerance of the integrator",
    ),
    ("tau", Table::Flow, "tau", "time scale of dθ/dt = −τ∇L_sum"),
    (
        "minloss",
        Table::Flow,
        "minloss",
        "stop the flow when the mean loss reaches this",
    ),
    (
        "min_gnorm",
        Table::Flow,
        "min_gnorm",
        "stop the flow when the ∞-norm of the mean gradient reaches this",
    ),
    (
        "patience",
        Table::Flow,
        "patience",
        "stop the flow after this many evaluations without improvement",
    ),
    (
        "maxtime_ode",
        Table::Flow,
        "maxtime_ode",
        "wall-clock budget of the flow (s)",
    ),
    (
        "maxiterations_ode",
        Table::Flow,
        "maxiterations_ode",
        "step budget of the flow",
    ),
    ("max_t", Table::Flow, "max_t", "ODE time limit (None: none)"),
    (
        "jacobian_refresh",
        Table::Flow,
        "jacobian_refresh",
        "refresh the Hessian at least every this many steps",
    ),
    ("dt", Table::Flow, "dt", "fixed step of rk4"),
    ("lr", Table::Flow, "lr", "learning rate of gd and adam"),
    (
        "batch_size",
        Table::Flow,
        "batch_size",
        "mini-batch size of gd and adam (None: full batch)",
    ),
    (
        "trajectory_points",
        Table::Flow,
        "trajectory_points",
        "approximate number of trajectory points",
    ),
    (
        "trajectory_x",
        Table::Flow,
        "trajectory_x",
        "keep θ at every trajectory point",
    ),
    (
        "max_memory_ode",
        Table::Flow,
        "max_memory_gib",
        "cap (GiB) on the dense P×P matrices of the flow (None: half the machine's memory)",
    ),
    (
        "optim",
        Table::Refine,
        "refiner",
        "refinement method (default: newton-tr up to 1024 parameters, bfgs up to 1e4, lbfgs above)",
    ),
    (
        "maxtime_optim",
        Table::Refine,
        "maxtime_optim",
        "wall-clock budget of the refinement (s)",
    ),
    (
        "maxiterations_optim",
        Table::Refine,
        "maxiterations_optim",
        "iteration budget of the refinement",
    ),
    (
        "minloss_optim",
        Table::Refine,
        "minloss",
        "stop the refinement when the mean loss reaches this",
    ),
    (
        "min_gnorm_optim",
        Table::Refine,
        "min_gnorm",
        "stop the refinement when the gradient ∞-norm reaches this",
    ),
    (
        "patience_optim",
        Table::Refine,
        "patience",
        "stop the refinement after this many evaluations without improvement",
    ),
    (
        "tr_model",
        Table::Refine,
        "tr_model",
        "model matrix of newton-tr: adaptive, exact or gauss-newton",
    ),
    (
        "max_memory_optim",
        Table::Refine,
        "max_memory_gib",
        "cap (GiB) on the dense P×P matrices of the refiner (None: half the machine's memory)",
    ),
    (
        "init",
        Table::Train,
        "init",
        "initialisation of train_seeds: glorot_normal or glorot_uniform",
    ),
];

fn table_json(t: Table) -> serde_json::Value {
    let o = TrainOptions::default();
    match t {
        Table::Flow => serde_json::to_value(&o.flow),
        Table::Refine => serde_json::to_value(&o.refine),
        Table::Train => Ok(serde_json::json!({ "init": o.init })),
    }
    .unwrap_or_default()
}

/// The training options from keyword arguments (unknown names raise `TypeError`; values that
/// do not fit raise `ValueError` naming the option). `skip` lists keywords the caller handles.
fn train_options(kwargs: Option<&Bound<'_, PyDict>>, skip: &[String]) -> PyResult<TrainOptions> {
    let mut flow = table_json(Table::Flow);
    let mut refine = table_json(Table::Refine);
    let mut init = TrainOptions::default().init;
    if let Some(kw) = kwargs {
        for (k, v) in kw.iter() {
            let name: String = k.extract()?;
            if skip.contains(&name) {
                continue;
            }
            let Some(&(_, table, field, _)) = OPTIONS.iter().find(|o| o.0 == name) else {
                return Err(PyTypeError::new_err(format!(
                    "unknown option `{name}` (known: {})",
                    OPTIONS.iter().map(|o| o.0).collect::<Vec<_>>().join(", ")
                )));
            };
            let value = py_to_json(&name, &v)?;
            match table {
                Table::Flow => flow[field] = value,
                Table::Refine => refine[field] = value,
                Table::Train => {
                    let s: String = v
                        .extract()
                        .map_err(|_| value_err(format!("option {name}: expected a string")))?;
                    init = s
                        .parse::<Init>()
                        .map_err(|e| value_err(format!("option {name}: {e}")))?;
                }
            }
        }
    }
    let bad =
        |name: &'static str| move |e: serde_json::Error| value_err(format!("option {name}: {e}"));
    let mut o = TrainOptions::default();
    o.flow = serde_json::from_value::<FlowConfig>(flow).map_err(bad("of the flow"))?;
    o.refine = serde_json::from_value::<RefineConfig>(refine).map_err(bad("of the refinement"))?;
    o.init = init;
    Ok(o)
}

/// Every training option with its default and help, for the docstrings (`help(gradflow.train)`).
#[pyfunction]
fn option_defaults(py: Python<'_>) -> PyResult<Bound<'_, PyList>> {
    let list = PyList::empty(py);
    for &(name, table, field, help) in OPTIONS {
        let default = table_json(table)[field].clone();
        list.append((name, json_to_py(py, &default)?, help))?;
    }
    Ok(list)
}

// ---------------------------------------------------------------------------------------
// Progress

/// The watch of a call: cancelled by `cancel`, and, when `progress` is a callable, reporting
/// events to it as dicts (steps at most ten times a second per call; finished runs, fallbacks,
/// messages and study tasks always). Exceptions raised by the callable are printed and ignored.
fn watch_for(progress: Option<&Py<PyAny>>, cancel: &Cancel) -> Watch {
    use gradflow::observe::Event;
    let Some(cb) = progress else {
        return Watch::silent().with_cancel(cancel.clone());
    };
    let cb = Python::attach(|py| cb.clone_ref(py));
    let last = std::sync::Mutex::new(std::time::Instant::now() - Duration::from_secs(1));
    Watch::new(move |e: &Event<'_>| {
        let v = match e {
            Event::Step { run, phase, iteration, wall, loss, gnorm } => {
                let mut l = last.lock().unwrap_or_else(|p| p.into_inner());
                if l.elapsed() < Duration::from_millis(100) {
                    return;
                }
                *l = std::time::Instant::now();
                serde_json::json!({"event": "step", "stage": run.stage.to_string(), "seed": run.seed,
                    "phase": phase.name(), "iteration": iteration, "wall": wall, "loss": loss, "gnorm": gnorm})
            }
            Event::RunDone { run, record } => serde_json::json!({"event": "run_done",
                "stage": run.stage.to_string(), "seed": run.seed, "loss": record.loss,
                "ode_stop": record.ode.outcome.stop.name(), "optim_stop": record.optim.outcome.stop.name()}),
            Event::RunFailed { run, error } => serde_json::json!({"event": "run_failed",
                "stage": run.stage.to_string(), "seed": run.seed, "error": error.to_string()}),
            Event::Fallback { run, event } => serde_json::json!({"event": "fallback",
                "seed": run.seed, "failed": event.failed.name(), "restarted_with": event.restarted_with.name()}),
            Event::Message(m) => serde_json::json!({"event": "message", "text": m}),
            Event::TasksPlanned { tasks, finished } => serde_json::json!({"event": "tasks_planned",
                "tasks": tasks, "finished": finished}),
            Event::TaskDone(line) => serde_json::json!({"event": "task_done", "text": line}),
            _ => return,
        };
        Python::attach(|py| {
            let r = json_to_py(py, &v).and_then(|d| cb.call1(py, (d,)));
            if let Err(err) = r {
                err.print(py);
            }
        });
    })
    .with_cancel(cancel.clone())
}

// ---------------------------------------------------------------------------------------
// Net

/// A multi-layer perceptron architecture (SPEC §2); parameters are flat float64 vectors.
#[pyclass(module = "gradflow._gradflow", name = "Net", frozen)]
#[derive(Clone)]
struct Net {
    spec: NetSpec,
}

fn activation_of(name: &str) -> PyResult<Activation> {
    name.parse::<Activation>().map_err(py_err)
}

fn loss_of(name: Option<&str>, spec: &NetSpec) -> PyResult<Loss> {
    match name {
        None => Ok(Loss::for_spec(spec)),
        Some(n) => n.parse::<Loss>().map_err(py_err),
    }
}

impl Net {
    fn objective_data(
        &self,
        py: Python<'_>,
        x: &Bound<'_, PyAny>,
        y: &Bound<'_, PyAny>,
        weights: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Dataset> {
        dataset_of(py, &self.spec, x, y, weights)
    }
}

#[pymethods]
impl Net {
    /// `Net(input_dim, layers)`: `layers` is a list of `(width, activation, bias)` tuples, e.g.
    /// `[(16, "g", True), (1, "identity", True)]`; activation names as in network files.
    #[new]
    fn new(input_dim: usize, layers: Vec<(usize, String, bool)>) -> PyResult<Self> {
        let layers = layers
            .into_iter()
            .map(|(w, a, b)| Ok(LayerSpec::new(w, activation_of(&a)?).with_bias(b)))
            .collect::<PyResult<Vec<_>>>()?;
        Ok(Net {
            spec: NetSpec::new(input_dim, layers).map_err(py_err)?,
        })
    }

    /// Reads a network JSON file: `(net, theta)` (`theta` is None for an architecture-only file).
    #[staticmethod]
    fn load<'py>(py: Python<'py>, path: std::path::PathBuf) -> PyResult<(Net, Bound<'py, PyAny>)> {
        let rec = gradflow::io::read_network_record(&path).map_err(py_err)?;
        let net = gradflow::io::read_network(&path).ok();
        let spec = match &net {
            Some(n) => n.spec.clone(),
            None => gradflow::io::read_spec(&path).map_err(py_err)?,
        };
        let _ = rec;
        let theta = match net {
            Some(n) => array1(py, n.params).into_any(),
            None => py.None().into_bound(py),
        };
        Ok((Net { spec }, theta))
    }

    /// Writes the network with parameters `theta` as a network JSON file.
    fn save(
        &self,
        py: Python<'_>,
        path: std::path::PathBuf,
        theta: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let t = theta_of(py, &self.spec, theta, "theta")?;
        let net = Network::new(self.spec.clone(), t).map_err(py_err)?;
        gradflow::io::write_network(&path, &net).map_err(py_err)
    }

    /// Number of parameters.
    #[getter]
    fn n_params(&self) -> usize {
        self.spec.n_params()
    }

    /// Input dimension `d`.
    #[getter]
    fn input_dim(&self) -> usize {
        self.spec.input_dim
    }

    /// Output dimension `k`.
    #[getter]
    fn output_dim(&self) -> usize {
        self.spec.output_dim()
    }

    /// The layers as `(width, activation, bias)` tuples.
    #[getter]
    fn layers(&self) -> Vec<(usize, String, bool)> {
        self.spec
            .layers
            .iter()
            .map(|l| (l.width, l.activation.to_string(), l.bias))
            .collect()
    }

    /// The architecture as `d-k1-…-kL`.
    #[getter]
    fn shape(&self) -> String {
        self.spec.shape_string()
    }

    fn __repr__(&self) -> String {
        let layers: Vec<String> = self
            .spec
            .layers
            .iter()
            .map(|l| {
                format!(
                    "({}, '{}', {})",
                    l.width,
                    l.activation,
                    if l.bias { "True" } else { "False" }
                )
            })
            .collect();
        format!("Net({}, [{}])", self.spec.input_dim, layers.join(", "))
    }

    /// Initial parameters drawn from `seed` (`kind`: "glorot_normal" or "glorot_uniform"), in
    /// the flat layout of SPEC §2.
    #[pyo3(signature = (seed, kind = "glorot_normal"))]
    fn init<'py>(
        &self,
        py: Python<'py>,
        seed: u64,
        kind: &str,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let init: Init = kind.parse().map_err(py_err)?;
        Ok(array1(py, init.draw_seeded(&self.spec, seed)))
    }

    /// The flat vector as a list of `(W, b)` per layer (`W` is `k_l × k_{l−1}`, `b` None for a
    /// layer without bias).
    fn unflatten<'py>(
        &self,
        py: Python<'py>,
        theta: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyList>> {
        let t = theta_of(py, &self.spec, theta, "theta")?;
        let out = PyList::empty(py);
        for lay in self.spec.layouts() {
            let wb = array2(py, t[lay.weight.clone()].to_vec(), lay.rows, lay.cols)?;
            let b = match &lay.bias {
                Some(r) => array1(py, t[r.clone()].to_vec()).into_any(),
                None => py.None().into_bound(py),
            };
            out.append(PyTuple::new(py, [wb, b])?)?;
        }
        Ok(out)
    }

    /// The flat vector of a list of `(W, b)` per layer (the inverse of `unflatten`).
    fn flatten<'py>(
        &self,
        py: Python<'py>,
        params: Vec<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let layouts = self.spec.layouts();
        if params.len() != layouts.len() {
            return Err(value_err(format!(
                "params: expected {} layers, got {}",
                layouts.len(),
                params.len()
            )));
        }
        let mut flat = Vec::with_capacity(self.spec.n_params());
        for (l, (lay, p)) in layouts.iter().zip(&params).enumerate() {
            let (w, b): (Bound<'py, PyAny>, Bound<'py, PyAny>) = p
                .extract()
                .map_err(|_| value_err(format!("params[{l}]: expected a (W, b) pair")))?;
            let wa = as_f64(py, &w, "W")?;
            if wa.shape() != [lay.rows, lay.cols] {
                return Err(value_err(format!(
                    "params[{l}]: W must have shape ({}, {}), got {:?}",
                    lay.rows,
                    lay.cols,
                    wa.shape()
                )));
            }
            flat.extend_from_slice(wa.as_slice().map_err(|e| value_err(e.to_string()))?);
            match (lay.bias.is_some(), b.is_none()) {
                (true, false) => {
                    let ba = as_f64(py, &b, "b")?;
                    if ba.shape() != [lay.rows] {
                        return Err(value_err(format!(
                            "params[{l}]: b must have shape ({},), got {:?}",
                            lay.rows,
                            ba.shape()
                        )));
                    }
                    flat.extend_from_slice(ba.as_slice().map_err(|e| value_err(e.to_string()))?);
                }
                (false, true) => {}
                (true, true) => {
                    return Err(value_err(format!(
                        "params[{l}]: the layer has a bias, got None"
                    )));
                }
                (false, false) => {
                    return Err(value_err(format!(
                        "params[{l}]: the layer has no bias, got one"
                    )));
                }
            }
        }
        Ok(array1(py, flat))
    }

    /// Mean loss (SPEC §3) of `theta` on `(x, y)`; `loss`: "mse" or "nll" (default: nll for a
    /// softmax output, else mse); `weights`: optional per-sample weights.
    #[pyo3(signature = (theta, x, y, *, loss = None, weights = None))]
    fn loss(
        &self,
        py: Python<'_>,
        theta: &Bound<'_, PyAny>,
        x: &Bound<'_, PyAny>,
        y: &Bound<'_, PyAny>,
        loss: Option<&str>,
        weights: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<f64> {
        let t = theta_of(py, &self.spec, theta, "theta")?;
        let data = self.objective_data(py, x, y, weights)?;
        let kind = loss_of(loss, &self.spec)?;
        let spec = &self.spec;
        py.detach(|| {
            let mut obj = Objective::new(spec, &data, kind).map_err(py_err)?;
            Ok(obj.loss(&t) * obj.mean_scale())
        })
    }

    /// Gradient of the mean loss (flat, SPEC §2 layout); same arguments as `loss`.
    #[pyo3(signature = (theta, x, y, *, loss = None, weights = None))]
    fn gradient<'py>(
        &self,
        py: Python<'py>,
        theta: &Bound<'py, PyAny>,
        x: &Bound<'py, PyAny>,
        y: &Bound<'py, PyAny>,
        loss: Option<&str>,
        weights: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let t = theta_of(py, &self.spec, theta, "theta")?;
        let data = self.objective_data(py, x, y, weights)?;
        let kind = loss_of(loss, &self.spec)?;
        let spec = &self.spec;
        let g = py.detach(|| -> PyResult<Vec<f64>> {
            let mut obj = Objective::new(spec, &data, kind).map_err(py_err)?;
            let mut g = vec![0.0; t.len()];
            obj.gradient_into(&t, &mut g);
            let s = obj.mean_scale();
            g.iter_mut().for_each(|v| *v *= s);
            Ok(g)
        })?;
        Ok(array1(py, g))
    }

    /// Exact Hessian of the mean loss (`P × P`); same arguments as `loss`.
    #[pyo3(signature = (theta, x, y, *, loss = None, weights = None))]
    fn hessian<'py>(
        &self,
        py: Python<'py>,
        theta: &Bound<'py, PyAny>,
        x: &Bound<'py, PyAny>,
        y: &Bound<'py, PyAny>,
        loss: Option<&str>,
        weights: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let p = self.spec.n_params();
        let h = self.hessian_of(py, theta, x, y, loss, weights)?;
        array2(py, h, p, p)
    }

    /// Eigenvalues of the Hessian of the mean loss, ascending; same arguments as `loss`.
    #[pyo3(signature = (theta, x, y, *, loss = None, weights = None))]
    fn hessian_spectrum<'py>(
        &self,
        py: Python<'py>,
        theta: &Bound<'py, PyAny>,
        x: &Bound<'py, PyAny>,
        y: &Bound<'py, PyAny>,
        loss: Option<&str>,
        weights: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let p = self.spec.n_params();
        let h = self.hessian_of(py, theta, x, y, loss, weights)?;
        let ev = py.detach(|| symmetric_eigenvalues(&h, p)).map_err(py_err)?;
        Ok(array1(py, ev))
    }

    /// Outputs of the network at `theta` for inputs `x` (`N × d`): an `N × k` array.
    fn predict<'py>(
        &self,
        py: Python<'py>,
        theta: &Bound<'py, PyAny>,
        x: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let t = theta_of(py, &self.spec, theta, "theta")?;
        let (xs, n) = inputs_of(py, self.spec.input_dim, x)?;
        let k = self.spec.output_dim();
        let net = Network::new(self.spec.clone(), t).map_err(py_err)?;
        let out = py.detach(|| net.predict(&xs)).map_err(py_err)?;
        array2(py, out, n, k)
    }

    fn __eq__(&self, other: &Net) -> bool {
        self.spec == other.spec
    }
}

impl Net {
    fn hessian_of(
        &self,
        py: Python<'_>,
        theta: &Bound<'_, PyAny>,
        x: &Bound<'_, PyAny>,
        y: &Bound<'_, PyAny>,
        loss: Option<&str>,
        weights: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Vec<f64>> {
        let t = theta_of(py, &self.spec, theta, "theta")?;
        let data = self.objective_data(py, x, y, weights)?;
        let kind = loss_of(loss, &self.spec)?;
        let spec = &self.spec;
        gradflow::memory::check_dense(
            "hessian",
            2,
            t.len(),
            None,
            "hessian",
            "hessian_spectrum on a smaller net",
        )
        .map_err(py_err)?;
        py.detach(|| -> PyResult<Vec<f64>> {
            let mut obj = Objective::new(spec, &data, kind).map_err(py_err)?;
            let p = t.len();
            let (mut g, mut h) = (vec![0.0; p], vec![0.0; p * p]);
            obj.hessian_into(&t, &mut g, &mut h);
            let s = obj.mean_scale();
            h.iter_mut().for_each(|v| *v *= s);
            Ok(h)
        })
    }
}

// ---------------------------------------------------------------------------------------
// Training

/// The record of one training run (SPEC §6).
#[pyclass(module = "gradflow._gradflow", name = "TrainResult", frozen)]
struct TrainResult {
    record: RunRecord,
}

fn points<'py>(
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
    /// Gradient-flow trajectory: columns t, loss, gnorm, wall.
    #[getter]
    fn trajectory<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        points(py, &self.record.trajectory)
    }
    /// Refinement loss curve: columns iteration, loss, gnorm, wall.
    #[getter]
    fn loss_curve<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        points(py, &self.record.loss_curve)
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
            "TrainResult(seed={}, loss={:.3e}, ode_loss={:.3e}, stops={}/{}, time={:.1}s)",
            self.record.seed,
            self.record.loss,
            self.record.ode_loss,
            self.ode_stop(),
            self.optim_stop(),
            self.record.total_time
        )
    }
}

/// Trains `net` from `theta0` on `(x, y)`: the gradient flow, then refinement (SPEC §4–§5).
/// Options are the CLI's flags with underscores (see `gradflow.train`'s docstring).
#[pyfunction]
#[pyo3(signature = (net, theta0, x, y, *, loss = None, weights = None, seed = 0, progress = None, **options))]
fn train(
    py: Python<'_>,
    net: &Net,
    theta0: &Bound<'_, PyAny>,
    x: &Bound<'_, PyAny>,
    y: &Bound<'_, PyAny>,
    loss: Option<&str>,
    weights: Option<&Bound<'_, PyAny>>,
    seed: u64,
    progress: Option<Py<PyAny>>,
    options: Option<&Bound<'_, PyDict>>,
) -> PyResult<TrainResult> {
    let mut opts = train_options(options, &[])?;
    opts.seed = seed;
    let t = theta_of(py, &net.spec, theta0, "theta0")?;
    let data = dataset_of(py, &net.spec, x, y, weights)?;
    let kind = loss_of(loss, &net.spec)?;
    let spec = net.spec.clone();
    let record = cancellable(py, move |cancel| {
        let mut problem = TrainProblem::new(&spec, &data);
        problem.loss = kind;
        let watch = watch_for(progress.as_ref(), cancel);
        gradflow::train::train(&problem, &t, &opts, &watch)
    })?
    .map_err(py_err)?;
    Ok(TrainResult { record })
}

/// Trains one student per seed in parallel (initial points drawn from the seeds with
/// `init`), `threads` workers (default: all cores), the GIL released.
#[pyfunction]
#[pyo3(signature = (net, x, y, seeds, *, threads = None, loss = None, weights = None, progress = None, **options))]
fn train_seeds(
    py: Python<'_>,
    net: &Net,
    x: &Bound<'_, PyAny>,
    y: &Bound<'_, PyAny>,
    seeds: Vec<u64>,
    threads: Option<usize>,
    loss: Option<&str>,
    weights: Option<&Bound<'_, PyAny>>,
    progress: Option<Py<PyAny>>,
    options: Option<&Bound<'_, PyDict>>,
) -> PyResult<Vec<TrainResult>> {
    let opts = train_options(options, &[])?;
    let data = dataset_of(py, &net.spec, x, y, weights)?;
    let kind = loss_of(loss, &net.spec)?;
    let spec = net.spec.clone();
    let results = cancellable(py, move |cancel| {
        let mut problem = TrainProblem::new(&spec, &data);
        problem.loss = kind;
        let watch = watch_for(progress.as_ref(), cancel);
        gradflow::train::train_seeds(&problem, &seeds, &opts, threads, &watch)
    })?
    .map_err(py_err)?;
    results
        .into_iter()
        .map(|(_, r)| r.map(|record| TrainResult { record }).map_err(py_err))
        .collect()
}

// ---------------------------------------------------------------------------------------
// Teachers

/// A teacher network of the paper's construction (SPEC §7).
#[pyclass(module = "gradflow._gradflow", name = "Teacher", frozen)]
struct Teacher {
    network: Network,
    seed: u64,
}

#[pymethods]
impl Teacher {
    /// The architecture.
    #[getter]
    fn net(&self) -> Net {
        Net {
            spec: self.network.spec.clone(),
        }
    }
    /// The parameters.
    #[getter]
    fn theta<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        array1(py, self.network.params.clone())
    }
    /// The teacher's seed (also the default seed of its data stream).
    #[getter]
    fn seed(&self) -> u64 {
        self.seed
    }
    /// `n` samples `(x, y)` from the teacher (inputs "uniform" on [−√3, √3]^d or "gaussian"),
    /// from the data stream of `seed` (default: the teacher's seed).
    #[pyo3(signature = (n, seed = None, inputs = "uniform"))]
    fn sample<'py>(
        &self,
        py: Python<'py>,
        n: usize,
        seed: Option<u64>,
        inputs: &str,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
        let dist: InputDistribution = inputs.parse().map_err(py_err)?;
        let data =
            sample_data(&self.network, n, dist, seed.unwrap_or(self.seed)).map_err(py_err)?;
        let (d, k) = (data.input_dim(), data.output_dim());
        Ok((
            array2(py, data.x_row_major(), n, d)?,
            array2(py, data.y_row_major(), n, k)?,
        ))
    }
    fn __repr__(&self) -> String {
        format!(
            "Teacher({}, seed={})",
            self.network.spec.shape_string(),
            self.seed
        )
    }
}

/// The paper's teacher `d → r → 1` number `index` of its (d, r) cell (activation `g` by
/// default), seeded as in the paper family.
#[pyfunction]
#[pyo3(signature = (d, r, index = 0, activation = "g"))]
fn paper_teacher(d: usize, r: usize, index: usize, activation: &str) -> PyResult<Teacher> {
    let seed = paper_seed(d, r, index);
    let mut cfg = TeacherConfig::paper(d, r, seed);
    cfg.activation = activation_of(activation)?;
    Ok(Teacher {
        network: cfg.build().map_err(py_err)?,
        seed,
    })
}

/// A deep teacher with hidden widths `widths` (`[d, k1, …, 1]`, activation `g`) from `seed`.
#[pyfunction]
#[pyo3(signature = (widths, seed, activation = "g"))]
fn deep_teacher(widths: Vec<usize>, seed: u64, activation: &str) -> PyResult<Teacher> {
    let mut cfg = TeacherConfig::paper(2, 2, seed);
    cfg.widths = widths;
    cfg.activation = activation_of(activation)?;
    Ok(Teacher {
        network: cfg.build().map_err(py_err)?,
        seed,
    })
}

// ---------------------------------------------------------------------------------------
// Recovery

/// The result of Expand-and-Cluster.
#[pyclass(module = "gradflow._gradflow", name = "Recovery", frozen)]
struct PyRecovery {
    inner: Recovery,
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
/// are keywords.
#[pyfunction]
#[pyo3(signature = (x, y, *, activation = "g", students = None, width = None, rho = None, layers = None, teacher = None, threads = None, progress = None, **options))]
fn recover(
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
            let (n, th): (Bound<'_, Net>, Bound<'_, PyAny>) = t
                .extract()
                .map_err(|_| PyTypeError::new_err("teacher: expected a (Net, theta) pair"))?;
            let spec = n.get().spec.clone();
            let theta = theta_of(py, &spec, &th, "teacher theta")?;
            (
                Some(Network::new(spec.clone(), theta).map_err(py_err)?),
                Some(spec),
            )
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
    let inner = cancellable(py, move |cancel| {
        let watch = watch_for(progress.as_ref(), cancel);
        gradflow::cluster::recover(&data, tnet.as_ref(), &o, &[], &watch)
    })?
    .map_err(py_err)?;
    Ok(PyRecovery { inner })
}

// ---------------------------------------------------------------------------------------
// Studies

/// Runs a study (SPEC §10): `config` is a TOML file or a dict of the same keys; results go to
/// `out`, resumable (finished tasks are skipped); `shard=(i, n)` runs shard `i` of `n`
/// (1-based). Returns the counts `{"tasks", "ran", "skipped", "failed"}`.
#[pyfunction]
#[pyo3(signature = (config, out, *, shard = None, threads = None, progress = None))]
fn study<'py>(
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
fn report(
    dirs: Vec<std::path::PathBuf>,
    out: std::path::PathBuf,
) -> PyResult<Vec<std::path::PathBuf>> {
    let results = gradflow::study::read_results(&dirs).map_err(py_err)?;
    gradflow::report::write_report(&results, &out).map_err(py_err)
}

#[pymodule]
fn _gradflow(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<Net>()?;
    m.add_class::<TrainResult>()?;
    m.add_class::<Teacher>()?;
    m.add_class::<PyRecovery>()?;
    m.add_function(wrap_pyfunction!(train, m)?)?;
    m.add_function(wrap_pyfunction!(train_seeds, m)?)?;
    m.add_function(wrap_pyfunction!(paper_teacher, m)?)?;
    m.add_function(wrap_pyfunction!(deep_teacher, m)?)?;
    m.add_function(wrap_pyfunction!(recover, m)?)?;
    m.add_function(wrap_pyfunction!(option_defaults, m)?)?;
    m.add_function(wrap_pyfunction!(study, m)?)?;
    m.add_function(wrap_pyfunction!(report, m)?)?;
    Ok(())
}
