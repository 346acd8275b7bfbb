//! The landscape toolkit: certificates, neuron surgery and loss slices.

use super::*;
use gradflow::landscape::{self as ls, CertifyOptions, SliceOptions};

fn to_py<'py>(
    py: Python<'py>,
    v: serde_json::Result<serde_json::Value>,
) -> PyResult<Bound<'py, PyAny>> {
    json_to_py(py, &v.map_err(|e| value_err(e.to_string()))?)
}

fn vec_of(py: Python<'_>, obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Vec<f64>> {
    let a = as_f64(py, obj, what)?;
    Ok(a.as_slice().map_err(|e| value_err(e.to_string()))?.to_vec())
}

/// The end-state certificate of `theta` on `(x, y)` (see `TrainResult.end_state`): a dict
/// with `kind` and the evidence. Thresholds as keywords (`loss_floor`, `gnorm_tol`,
/// `eig_rel_tol`, `channel_cosine_distance`, `channel_min_cancellation`). Without a
/// trajectory the channel's power law cannot be fitted, so a channel needs `trajectory`: the
/// `TrainResult.trajectory` array (columns t, loss, gnorm, wall). `infinite_data=teacher`
/// instead of `(x, y)` certifies on the population loss, as for the `Net` methods (a run
/// trained with `infinite_data` must be certified on it: its zero loss is then judged at the
/// objective's resolution, the dict's `loss_resolution`).
#[pyfunction]
#[pyo3(signature = (net, theta, x = None, y = None, *, trajectory = None, loss = None, weights = None, infinite_data = None, **thresholds))]
pub(crate) fn certify<'py>(
    py: Python<'py>,
    net: &Net,
    theta: &Bound<'py, PyAny>,
    x: Option<&Bound<'py, PyAny>>,
    y: Option<&Bound<'py, PyAny>>,
    trajectory: Option<&Bound<'py, PyAny>>,
    loss: Option<&str>,
    weights: Option<&Bound<'py, PyAny>>,
    infinite_data: Option<&Bound<'py, PyAny>>,
    thresholds: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyAny>> {
    let args = DataArgs {
        x,
        y,
        weights,
        loss,
        infinite_data,
    };
    let (t, source, kind) = net.arguments(py, theta, args)?;
    let mut opts = serde_json::to_value(CertifyOptions::default()).unwrap_or_default();
    if let Some(kw) = thresholds {
        for (k, v) in kw.iter() {
            let name: String = k.extract()?;
            if opts.get(&name).is_none() {
                return Err(PyTypeError::new_err(format!("unknown threshold `{name}`")));
            }
            opts[&name] = py_to_json(&name, &v)?;
        }
    }
    let opts: CertifyOptions =
        serde_json::from_value(opts).map_err(|e| value_err(format!("thresholds: {e}")))?;
    let points: Vec<gradflow::monitor::TrajectoryPoint> = match trajectory {
        Some(tr) if !tr.is_none() => {
            let a = as_f64(py, tr, "trajectory")?;
            if a.ndim() != 2 || a.shape()[1] != 4 {
                return Err(value_err(
                    "trajectory: expected an (n, 4) array (t, loss, gnorm, wall)",
                ));
            }
            let v = a.as_slice().map_err(|e| value_err(e.to_string()))?;
            v.chunks_exact(4)
                .map(|r| {
                    serde_json::from_value(serde_json::json!({
                        "t": r[0], "loss": r[1], "gnorm": r[2], "wall": r[3]
                    }))
                    .map_err(|e| value_err(e.to_string()))
                })
                .collect::<PyResult<_>>()?
        }
        _ => Vec::new(),
    };
    let spec = &net.spec;
    let state = py
        .detach(|| {
            let mut obj = source.objective(spec, kind)?;
            ls::certify(&mut obj, &t, &points, &opts)
        })
        .map_err(py_err)?;
    to_py(py, serde_json::to_value(&state))
}

fn surgery<'py>(
    py: Python<'py>,
    r: gradflow::Result<(NetSpec, Vec<f64>)>,
) -> PyResult<(Net, Bound<'py, PyArray1<f64>>)> {
    let (spec, x) = r.map_err(py_err)?;
    Ok((Net { spec }, array1(py, x)))
}

/// Splits neuron `neuron` of hidden layer `layer` (1-based) into two copies with outgoing
/// weights `gamma·a` and `(1 − gamma)·a` (the copy is the layer's new last neuron); the
/// function is unchanged. Returns `(net, theta)`.
#[pyfunction]
#[pyo3(signature = (net, theta, layer, neuron, gamma = 0.5))]
pub(crate) fn split_neuron<'py>(
    py: Python<'py>,
    net: &Net,
    theta: &Bound<'py, PyAny>,
    layer: usize,
    neuron: usize,
    gamma: f64,
) -> PyResult<(Net, Bound<'py, PyArray1<f64>>)> {
    let t = theta_of(py, &net.spec, theta, "theta")?;
    surgery(py, ls::split_neuron(&net.spec, &t, layer, neuron, gamma))
}

/// Adds a neuron at the end of hidden layer `layer` (1-based) with incoming weights
/// `incoming`, bias `bias` and outgoing weights `outgoing` (default zeros: the function is
/// unchanged). Returns `(net, theta)`.
#[pyfunction]
#[pyo3(signature = (net, theta, layer, incoming, bias = 0.0, outgoing = None))]
pub(crate) fn add_neuron<'py>(
    py: Python<'py>,
    net: &Net,
    theta: &Bound<'py, PyAny>,
    layer: usize,
    incoming: &Bound<'py, PyAny>,
    bias: f64,
    outgoing: Option<&Bound<'py, PyAny>>,
) -> PyResult<(Net, Bound<'py, PyArray1<f64>>)> {
    let t = theta_of(py, &net.spec, theta, "theta")?;
    let inc = vec_of(py, incoming, "incoming")?;
    let next = net.spec.layers.get(layer).map_or(0, |l| l.width);
    let out = match outgoing {
        Some(o) if !o.is_none() => vec_of(py, o, "outgoing")?,
        _ => vec![0.0; next],
    };
    surgery(py, ls::add_neuron(&net.spec, &t, layer, &inc, bias, &out))
}

/// Removes neuron `neuron` of hidden layer `layer` (1-based). Returns `(net, theta)`.
#[pyfunction]
pub(crate) fn remove_neuron<'py>(
    py: Python<'py>,
    net: &Net,
    theta: &Bound<'py, PyAny>,
    layer: usize,
    neuron: usize,
) -> PyResult<(Net, Bound<'py, PyArray1<f64>>)> {
    let t = theta_of(py, &net.spec, theta, "theta")?;
    surgery(py, ls::remove_neuron(&net.spec, &t, layer, neuron))
}

/// A trajectory's parameter points: a `TrainResult` (its flow trajectory, kept with
/// `trajectory_x=True`) or an `(n, P)` array.
fn trajectory_of(
    py: Python<'_>,
    obj: &Bound<'_, PyAny>,
    what: &str,
) -> PyResult<Vec<gradflow::monitor::TrajectoryPoint>> {
    let point = |x: Vec<f64>| gradflow::monitor::TrajectoryPoint {
        t: 0.0,
        loss: f64::NAN,
        gnorm: f64::NAN,
        wall: 0.0,
        norm: None,
        x: Some(x),
    };
    if let Ok(r) = obj.cast::<TrainResult>() {
        // The library names a trajectory that kept no parameters.
        return Ok(r.get().record.trajectory.clone());
    }
    let a = as_f64(py, obj, what)?;
    if a.ndim() != 2 {
        return Err(value_err(format!(
            "{what}: expected a TrainResult or an (n, P) array of parameter points, got an \
             array of shape {:?}",
            a.shape()
        )));
    }
    let p = a.shape()[1];
    let v = a.as_slice().map_err(|e| value_err(e.to_string()))?;
    if let Some(i) = v.iter().position(|t| !t.is_finite()) {
        return Err(value_err(format!(
            "{what} has a non-finite value ({}) at row {}, column {}",
            v[i],
            i / p.max(1),
            i % p.max(1)
        )));
    }
    Ok(if p == 0 {
        Vec::new()
    } else {
        v.chunks(p).map(|c| point(c.to_vec())).collect()
    })
}

/// The distance between two trajectories in parameter space, each a `TrainResult` trained with
/// `trajectory_x=True` or an `(n, P)` array of points: a dict with `hausdorff` (the largest
/// distance from a point of either to the other's nearest point), `mean` (over the first's
/// points, to the second's nearest) and `end` (between the last points).
#[pyfunction]
pub(crate) fn trajectory_distance<'py>(
    py: Python<'py>,
    a: &Bound<'py, PyAny>,
    b: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let (ta, tb) = (trajectory_of(py, a, "a")?, trajectory_of(py, b, "b")?);
    let d = ls::trajectory_distance(&ta, &tb).map_err(py_err)?;
    to_py(py, serde_json::to_value(d))
}

/// Removes dead neurons (all outgoing weights within `tol` of zero) and merges duplicates
/// (incoming vectors within `tol`), adding their outgoing weights. Returns
/// `(net, theta, actions)`, `actions` a list of dicts.
#[pyfunction]
#[pyo3(signature = (net, theta, tol = 0.0))]
pub(crate) fn prune<'py>(
    py: Python<'py>,
    net: &Net,
    theta: &Bound<'py, PyAny>,
    tol: f64,
) -> PyResult<(Net, Bound<'py, PyArray1<f64>>, Bound<'py, PyAny>)> {
    let t = theta_of(py, &net.spec, theta, "theta")?;
    let (spec, x, done) = ls::prune(&net.spec, &t, tol).map_err(py_err)?;
    Ok((
        Net { spec },
        array1(py, x),
        to_py(py, serde_json::to_value(&done))?,
    ))
}

/// A zero-loss point of the wider one-hidden-layer student `net` near `theta`: the teacher's
/// neurons replace the most aligned student neurons, the others get zero outgoing weights.
#[pyfunction]
pub(crate) fn embed_teacher<'py>(
    py: Python<'py>,
    net: &Net,
    theta: &Bound<'py, PyAny>,
    teacher: &Net,
    teacher_theta: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let t = theta_of(py, &net.spec, theta, "theta")?;
    let tt = theta_of(py, &teacher.spec, teacher_theta, "teacher_theta")?;
    let tn = Network::new(teacher.spec.clone(), tt).map_err(py_err)?;
    Ok(array1(
        py,
        ls::embed_teacher(&net.spec, &t, &tn).map_err(py_err)?,
    ))
}

/// The mean loss on the plane `theta0 + α v1 + β v2` over a grid (`points = (nα, nβ)`),
/// minimised over the plane's orthogonal complement with `minimise_steps > 0` damped Newton
/// steps per point. Returns a dict: `alpha` (nα), `beta` (nβ), `loss` (nβ × nα array).
/// `infinite_data=teacher` instead of `(x, y)`: the population loss.
#[pyfunction]
#[pyo3(signature = (net, theta0, v1, v2, x = None, y = None, *, alpha = (-0.5, 1.5), beta = (-1.0, 1.0), points = (41, 41), minimise_steps = 0, loss = None, weights = None, infinite_data = None))]
pub(crate) fn loss_slice<'py>(
    py: Python<'py>,
    net: &Net,
    theta0: &Bound<'py, PyAny>,
    v1: &Bound<'py, PyAny>,
    v2: &Bound<'py, PyAny>,
    x: Option<&Bound<'py, PyAny>>,
    y: Option<&Bound<'py, PyAny>>,
    alpha: (f64, f64),
    beta: (f64, f64),
    points: (usize, usize),
    minimise_steps: usize,
    loss: Option<&str>,
    weights: Option<&Bound<'py, PyAny>>,
    infinite_data: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let spec = &net.spec;
    let t0 = theta_of(py, spec, theta0, "theta0")?;
    let a = theta_of(py, spec, v1, "v1")?;
    let b = theta_of(py, spec, v2, "v2")?;
    let args = DataArgs {
        x,
        y,
        weights,
        loss,
        infinite_data,
    };
    let source = source_of(py, spec, args)?;
    let kind = loss_of(loss, spec)?;
    let mut opts = SliceOptions::default();
    opts.alpha = alpha;
    opts.beta = beta;
    opts.points = points;
    opts.minimise_steps = minimise_steps;
    // Ctrl-C stops the slice (at the next grid point or minimisation step).
    let s = cancellable(py, |cancel| {
        let mut obj = source.objective(spec, kind)?;
        let watch = gradflow::observe::Watch::silent().with_cancel(cancel.clone());
        ls::loss_slice_watched(&mut obj, &t0, &a, &b, &opts, &watch)
    })?
    .map_err(py_err)?;
    let out = PyDict::new(py);
    let (na, nb) = (s.alpha.len(), s.beta.len());
    out.set_item("alpha", array1(py, s.alpha))?;
    out.set_item("beta", array1(py, s.beta))?;
    out.set_item("loss", array2(py, s.loss, nb, na)?)?;
    out.set_item("minimised", s.minimised)?;
    Ok(out)
}
