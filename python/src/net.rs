//! `Net`: the architecture, its parameters, loss, derivatives and predictions.

use super::*;

/// A multi-layer perceptron architecture (SPEC §2); parameters are flat float64 vectors.
#[pyclass(module = "gradflow._gradflow", name = "Net", frozen)]
#[derive(Clone)]
pub(crate) struct Net {
    pub(crate) spec: NetSpec,
}

pub(crate) fn activation_of(name: &str) -> PyResult<Activation> {
    name.parse::<Activation>().map_err(py_err)
}

pub(crate) fn loss_of(name: Option<&str>, spec: &NetSpec) -> PyResult<Loss> {
    match name {
        None => Ok(Loss::for_spec(spec)),
        Some(n) => n.parse::<Loss>().map_err(py_err),
    }
}

impl Net {
    /// The arguments of `loss`, `gradient` and `hessian`: the parameters, the data set and the
    /// loss, checked against the architecture.
    pub(crate) fn arguments(
        &self,
        py: Python<'_>,
        theta: &Bound<'_, PyAny>,
        data: DataArgs<'_, '_>,
    ) -> PyResult<(Vec<f64>, Source, Loss)> {
        let t = theta_of(py, &self.spec, theta, "theta")?;
        let source = source_of(py, &self.spec, data)?;
        Ok((t, source, loss_of(data.loss, &self.spec)?))
    }
}

/// The data arguments of the `Net` methods and `train`: samples `(x, y)` with optional
/// `weights`, or `infinite_data` (a teacher).
#[derive(Clone, Copy)]
pub(crate) struct DataArgs<'a, 'py> {
    pub(crate) x: Option<&'a Bound<'py, PyAny>>,
    pub(crate) y: Option<&'a Bound<'py, PyAny>>,
    pub(crate) weights: Option<&'a Bound<'py, PyAny>>,
    pub(crate) loss: Option<&'a str>,
    pub(crate) infinite_data: Option<&'a Bound<'py, PyAny>>,
}

/// Where a loss comes from: samples, or the population loss against a teacher under
/// `x ~ N(0, I)`.
pub(crate) enum Source {
    Samples(Dataset),
    Infinite(Network, PopulationOptions),
}

impl Source {
    /// The objective of `spec` on this source.
    pub(crate) fn objective<'d>(
        &'d self,
        spec: &NetSpec,
        loss: Loss,
    ) -> gradflow::Result<Objective<'d>> {
        match self {
            Source::Samples(data) => Objective::new(spec, data, loss),
            Source::Infinite(teacher, opts) => Objective::population(spec, teacher, opts),
        }
    }

    /// The training problem of `spec` on this source.
    pub(crate) fn problem<'d>(&'d self, spec: &'d NetSpec, loss: Loss) -> TrainProblem<'d> {
        match self {
            Source::Samples(data) => {
                let mut p = TrainProblem::new(spec, data);
                p.loss = loss;
                p
            }
            Source::Infinite(teacher, opts) => TrainProblem::infinite(spec, teacher, opts),
        }
    }
}

/// Reads the data arguments: `(x, y)` or `infinite_data`, not both.
pub(crate) fn source_of<'a, 'py>(
    py: Python<'py>,
    spec: &NetSpec,
    a: DataArgs<'a, 'py>,
) -> PyResult<Source> {
    fn given<'a, 'py>(o: Option<&'a Bound<'py, PyAny>>) -> Option<&'a Bound<'py, PyAny>> {
        o.filter(|v| !v.is_none())
    }
    match (given(a.x), given(a.y), given(a.infinite_data)) {
        (Some(x), Some(y), None) => Ok(Source::Samples(dataset_of(py, spec, x, y, a.weights)?)),
        (None, None, Some(t)) => {
            if given(a.weights).is_some() {
                return Err(value_err("weights: not used with infinite_data"));
            }
            if a.loss.is_some_and(|l| l != "mse") {
                return Err(value_err(
                    "loss: the infinite-data objective is the mean squared error",
                ));
            }
            Ok(Source::Infinite(
                network_of(py, t, "infinite_data")?,
                PopulationOptions::default(),
            ))
        }
        (_, _, Some(_)) => Err(value_err(
            "give either samples (x, y) or infinite_data (a teacher), not both",
        )),
        _ => Err(PyTypeError::new_err(
            "expected samples x and y, or infinite_data=teacher",
        )),
    }
}

#[pymethods]
impl Net {
    /// `Net(input_dim, layers)`: `layers` is a list of `(width, activation, bias)` tuples, e.g.
    /// `[(16, "g", True), (1, "identity", True)]`; activation names as in network files. A
    /// hidden layer may give one activation per neuron: `(3, ["g", "tanh", "tanh"], True)`.
    #[new]
    fn new(input_dim: usize, layers: Vec<(usize, Bound<'_, PyAny>, bool)>) -> PyResult<Self> {
        let layers = layers
            .into_iter()
            .map(|(w, a, b)| {
                let layer = if let Ok(name) = a.extract::<String>() {
                    LayerSpec::new(w, activation_of(&name)?)
                } else {
                    let names: Vec<String> = a.extract().map_err(|_| {
                        PyTypeError::new_err(
                            "a layer's activation is a name or a list of names (one per neuron)",
                        )
                    })?;
                    if names.len() != w || names.is_empty() {
                        return Err(value_err(format!(
                            "{} per-neuron activations for a layer of width {w}",
                            names.len()
                        )));
                    }
                    LayerSpec::mixed(
                        names
                            .iter()
                            .map(|n| activation_of(n))
                            .collect::<PyResult<Vec<_>>>()?,
                    )
                };
                Ok(layer.with_bias(b))
            })
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

    /// The same architecture with a softmax output layer replaced by the identity: the
    /// classifier's logits (the same parameters apply). Other nets are returned unchanged.
    fn logit_net(&self) -> Net {
        let net = Network {
            spec: self.spec.clone(),
            params: vec![0.0; self.spec.n_params()],
        };
        Net {
            spec: gradflow::teacher::logit_network(&net).spec,
        }
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

    /// The layers as `(width, activation, bias)` tuples (`activation` a list of names for a
    /// mixed layer).
    #[getter]
    fn layers<'py>(&self, py: Python<'py>) -> PyResult<Vec<(usize, Bound<'py, PyAny>, bool)>> {
        self.spec
            .layers
            .iter()
            .map(|l| {
                let act = match &l.neurons {
                    Some(n) => n
                        .iter()
                        .map(|a| a.to_string())
                        .collect::<Vec<_>>()
                        .into_pyobject(py)?
                        .into_any(),
                    None => l.activation.to_string().into_pyobject(py)?.into_any(),
                };
                Ok((l.width, act, l.bias))
            })
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
                let act = match &l.neurons {
                    Some(n) => {
                        let names: Vec<String> = n.iter().map(|a| format!("'{a}'")).collect();
                        format!("[{}]", names.join(", "))
                    }
                    None => format!("'{}'", l.activation),
                };
                format!(
                    "({}, {act}, {})",
                    l.width,
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
    /// softmax output, else mse); `weights`: optional per-sample weights. With
    /// `infinite_data=teacher` (a `Teacher` or a `(Net, theta)` pair) instead of `(x, y)`: the
    /// population loss `E[(f − f*)²]` under `x ~ N(0, I)`, exactly (one hidden layer, one
    /// output, smooth activations, or relu throughout). `threads`: threads of the evaluation
    /// (blocks of samples, or the population's pair integrals; the GIL is released).
    #[pyo3(signature = (theta, x = None, y = None, *, loss = None, weights = None, infinite_data = None, threads = 1))]
    fn loss(
        &self,
        py: Python<'_>,
        theta: &Bound<'_, PyAny>,
        x: Option<&Bound<'_, PyAny>>,
        y: Option<&Bound<'_, PyAny>>,
        loss: Option<&str>,
        weights: Option<&Bound<'_, PyAny>>,
        infinite_data: Option<&Bound<'_, PyAny>>,
        threads: usize,
    ) -> PyResult<f64> {
        let args = DataArgs {
            x,
            y,
            weights,
            loss,
            infinite_data,
        };
        let (t, source, kind) = self.arguments(py, theta, args)?;
        let spec = &self.spec;
        py.detach(|| {
            let mut obj = source
                .objective(spec, kind)
                .and_then(|o| o.with_threads(threads))
                .map_err(py_err)?;
            Ok(obj.loss(&t) * obj.mean_scale())
        })
    }

    /// Gradient of the mean loss (flat, SPEC §2 layout); same arguments as `loss`.
    #[pyo3(signature = (theta, x = None, y = None, *, loss = None, weights = None, infinite_data = None, threads = 1))]
    fn gradient<'py>(
        &self,
        py: Python<'py>,
        theta: &Bound<'py, PyAny>,
        x: Option<&Bound<'py, PyAny>>,
        y: Option<&Bound<'py, PyAny>>,
        loss: Option<&str>,
        weights: Option<&Bound<'py, PyAny>>,
        infinite_data: Option<&Bound<'py, PyAny>>,
        threads: usize,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let args = DataArgs {
            x,
            y,
            weights,
            loss,
            infinite_data,
        };
        let (t, source, kind) = self.arguments(py, theta, args)?;
        let spec = &self.spec;
        let g = py.detach(|| -> PyResult<Vec<f64>> {
            let mut obj = source
                .objective(spec, kind)
                .and_then(|o| o.with_threads(threads))
                .map_err(py_err)?;
            let mut g = vec![0.0; t.len()];
            obj.gradient_into(&t, &mut g);
            let s = obj.mean_scale();
            g.iter_mut().for_each(|v| *v *= s);
            Ok(g)
        })?;
        Ok(array1(py, g))
    }

    /// Exact Hessian of the mean loss (`P × P`); same arguments as `loss`.
    #[pyo3(signature = (theta, x = None, y = None, *, loss = None, weights = None, infinite_data = None, threads = 1))]
    fn hessian<'py>(
        &self,
        py: Python<'py>,
        theta: &Bound<'py, PyAny>,
        x: Option<&Bound<'py, PyAny>>,
        y: Option<&Bound<'py, PyAny>>,
        loss: Option<&str>,
        weights: Option<&Bound<'py, PyAny>>,
        infinite_data: Option<&Bound<'py, PyAny>>,
        threads: usize,
    ) -> PyResult<Bound<'py, PyAny>> {
        let p = self.spec.n_params();
        let args = DataArgs {
            x,
            y,
            weights,
            loss,
            infinite_data,
        };
        let h = self.hessian_of(py, theta, args, threads)?;
        array2(py, h, p, p)
    }

    /// Eigenvalues of the Hessian of the mean loss, ascending; same arguments as `loss`.
    #[pyo3(signature = (theta, x = None, y = None, *, loss = None, weights = None, infinite_data = None, threads = 1))]
    fn hessian_spectrum<'py>(
        &self,
        py: Python<'py>,
        theta: &Bound<'py, PyAny>,
        x: Option<&Bound<'py, PyAny>>,
        y: Option<&Bound<'py, PyAny>>,
        loss: Option<&str>,
        weights: Option<&Bound<'py, PyAny>>,
        infinite_data: Option<&Bound<'py, PyAny>>,
        threads: usize,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let p = self.spec.n_params();
        let args = DataArgs {
            x,
            y,
            weights,
            loss,
            infinite_data,
        };
        let h = self.hessian_of(py, theta, args, threads)?;
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
        args: DataArgs<'_, '_>,
        threads: usize,
    ) -> PyResult<Vec<f64>> {
        let (t, source, kind) = self.arguments(py, theta, args)?;
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
            let mut obj = source
                .objective(spec, kind)
                .and_then(|o| o.with_threads(threads))
                .map_err(py_err)?;
            let p = t.len();
            let (mut g, mut h) = (vec![0.0; p], vec![0.0; p * p]);
            obj.hessian_into(&t, &mut g, &mut h);
            let s = obj.mean_scale();
            h.iter_mut().for_each(|v| *v *= s);
            Ok(h)
        })
    }
}
