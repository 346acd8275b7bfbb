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
