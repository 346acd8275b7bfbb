//! Arrays and values between NumPy/Python and the engine.

use super::*;

/// A float64, C-contiguous view of any array-like (converted by NumPy only when needed).
pub(crate) fn as_f64<'py>(
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
pub(crate) fn theta_of(
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
pub(crate) fn inputs_of(
    py: Python<'_>,
    d: usize,
    obj: &Bound<'_, PyAny>,
) -> PyResult<(Vec<f64>, usize)> {
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
/// A network given as a `Teacher` or a `(Net, theta)` pair (`what` names the argument).
pub(crate) fn network_of(py: Python<'_>, obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Network> {
    if let Ok(t) = obj.cast::<Teacher>() {
        return Ok(t.get().network.clone());
    }
    let (n, th): (Bound<'_, Net>, Bound<'_, PyAny>) = obj.extract().map_err(|_| {
        PyTypeError::new_err(format!("{what}: expected a Teacher or a (Net, theta) pair"))
    })?;
    let spec = n.get().spec.clone();
    let theta = theta_of(py, &spec, &th, &format!("{what} theta"))?;
    Network::new(spec, theta).map_err(py_err)
}

pub(crate) fn dataset_of(
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

pub(crate) fn array1<'py>(py: Python<'py>, v: Vec<f64>) -> Bound<'py, PyArray1<f64>> {
    PyArray1::from_vec(py, v)
}

pub(crate) fn array2<'py>(
    py: Python<'py>,
    v: Vec<f64>,
    rows: usize,
    cols: usize,
) -> PyResult<Bound<'py, PyAny>> {
    Ok(PyArray1::from_vec(py, v).reshape([rows, cols])?.into_any())
}

/// A JSON value as a Python object (through the `json` module).
pub(crate) fn json_to_py<'py>(
    py: Python<'py>,
    v: &serde_json::Value,
) -> PyResult<Bound<'py, PyAny>> {
    py.import("json")?.call_method1("loads", (v.to_string(),))
}

/// A Python scalar, string, list or `None` as JSON (option values).
pub(crate) fn py_to_json(name: &str, v: &Bound<'_, PyAny>) -> PyResult<serde_json::Value> {
    if v.is_none() {
        Ok(serde_json::Value::Null)
    } else if v.is_instance_of::<PyBool>() {
        Ok(serde_json::Value::Bool(v.extract()?))
    } else if let Ok(i) = v.extract::<i64>() {
        Ok(serde_json::json!(i))
    } else if let Ok(f) = v.extract::<f64>() {
        // JSON has no NaN or infinity. +∞ means "no limit" for the limits that are optional
        // (`None`); elsewhere a non-finite value would arrive as a confusing `null`.
        if f == f64::INFINITY && matches!(name, "max_t" | "max_memory_ode" | "max_memory_optim") {
            return Ok(serde_json::Value::Null);
        }
        if !f.is_finite() {
            return Err(PyValueError::new_err(format!(
                "option {name}: must be a finite number, got {f} (for no limit, give a large one)"
            )));
        }
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
