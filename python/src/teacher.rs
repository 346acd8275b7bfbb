//! The paper's teachers.

use super::*;

/// A teacher network of the paper's construction (SPEC §7).
#[pyclass(module = "gradflow._gradflow", name = "Teacher", frozen)]
pub(crate) struct Teacher {
    pub(crate) network: Network,
    pub(crate) seed: u64,
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
pub(crate) fn paper_teacher(
    d: usize,
    r: usize,
    index: usize,
    activation: &str,
) -> PyResult<Teacher> {
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
pub(crate) fn deep_teacher(widths: Vec<usize>, seed: u64, activation: &str) -> PyResult<Teacher> {
    let mut cfg = TeacherConfig::paper(2, 2, seed);
    cfg.widths = widths;
    cfg.activation = activation_of(activation)?;
    Ok(Teacher {
        network: cfg.build().map_err(py_err)?,
        seed,
    })
}

/// A softmax classifier trained on `(x, labels)` (integer labels `(N,)` or one-hot `(N, k)`):
/// mini-batch Adam on the cross-entropy, early stopping on a held-out split (the best epoch's
/// weights). Returns `(net, theta, report)`; `net.logit_net()` gives the logits (the
/// pre-softmax outputs Expand-and-Cluster queries).
#[pyfunction]
#[pyo3(signature = (x, labels, *, hidden = vec![20], activation = "g", epochs = None, batch_size = None, lr = None, validation_fraction = None, patience = None, seed = 0, progress = None))]
pub(crate) fn train_classifier<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    labels: &Bound<'py, PyAny>,
    hidden: Vec<usize>,
    activation: &str,
    epochs: Option<usize>,
    batch_size: Option<usize>,
    lr: Option<f64>,
    validation_fraction: Option<f64>,
    patience: Option<usize>,
    seed: u64,
    progress: Option<Py<PyAny>>,
) -> PyResult<(Net, Bound<'py, PyArray1<f64>>, Bound<'py, PyAny>)> {
    let xa = as_f64(py, x, "x")?;
    let shape = xa.shape().to_vec();
    if shape.len() != 2 {
        return Err(value_err(format!(
            "x: expected shape (N, d), got {shape:?}"
        )));
    }
    let (n, d) = (shape[0], shape[1]);
    let xs = xa
        .as_slice()
        .map_err(|e| value_err(e.to_string()))?
        .to_vec();
    let la = as_f64(py, labels, "labels")?;
    let data = match la.shape() {
        [m] if *m == n => {
            let v = la.as_slice().map_err(|e| value_err(e.to_string()))?;
            let ints: Vec<usize> = v
                .iter()
                .enumerate()
                .map(|(i, &l)| {
                    if l >= 0.0 && l.fract() == 0.0 {
                        Ok(l as usize)
                    } else {
                        Err(value_err(format!(
                            "labels: {l} at index {i} is not a class index"
                        )))
                    }
                })
                .collect::<PyResult<_>>()?;
            let classes = ints.iter().max().map_or(1, |m| m + 1);
            Dataset::from_labels(&xs, d, &ints, classes).map_err(py_err)?
        }
        [m, k] if *m == n => {
            let v = la.as_slice().map_err(|e| value_err(e.to_string()))?;
            Dataset::from_row_major(&xs, d, v, *k).map_err(py_err)?
        }
        s => {
            return Err(value_err(format!(
                "labels: expected shape ({n},) or ({n}, k), got {s:?}"
            )));
        }
    };
    let mut o = gradflow::teacher::ClassifierOptions::default();
    o.hidden = hidden;
    o.activation = activation_of(activation)?;
    o.seed = seed;
    if let Some(v) = epochs {
        o.epochs = v;
    }
    if let Some(v) = batch_size {
        o.batch_size = v;
    }
    if let Some(v) = lr {
        o.lr = v;
    }
    if let Some(v) = validation_fraction {
        o.validation_fraction = v;
    }
    if let Some(v) = patience {
        o.patience = v;
    }
    let (net, report) = cancellable(py, move |cancel| {
        let watch = watch_for(progress.as_ref(), cancel);
        gradflow::teacher::train_classifier(&data, &o, &watch)
    })?
    .map_err(py_err)?;
    let report = serde_json::to_value(&report).map_err(|e| value_err(e.to_string()))?;
    Ok((
        Net {
            spec: net.spec.clone(),
        },
        array1(py, net.params),
        json_to_py(py, &report)?,
    ))
}

/// Reads a data file in any format gradflow reads (`.npz`, `X.npy,Y.npy`, CSV, IDX
/// `images[,labels]`, CIFAR-10 `.bin` batches): `(x, y)` as float64 arrays (`y`: one-hot
/// labels for IDX and CIFAR-10; one zero column for IDX images without labels).
#[pyfunction]
pub(crate) fn read_data<'py>(
    py: Python<'py>,
    path: &str,
) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
    let source = gradflow::io::DataSource::parse(path).map_err(py_err)?;
    let data = py
        .detach(|| gradflow::io::read_data(&source))
        .map_err(py_err)?;
    let (n, d, k) = (data.n_samples(), data.input_dim(), data.output_dim());
    Ok((
        array2(py, data.x_row_major(), n, d)?,
        array2(py, data.y_row_major(), n, k)?,
    ))
}
