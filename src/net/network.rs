//! A network: architecture plus a flat parameter vector.

use faer::MatRef;

use super::activation::Activation;
use super::spec::NetSpec;
use crate::error::Result;

/// An MLP with concrete parameters in the flat layout of SPEC §2.
#[derive(Clone, Debug, PartialEq)]
pub struct Network {
    /// The architecture.
    pub spec: NetSpec,
    /// Flat parameters (`spec.n_params()` values).
    pub params: Vec<f64>,
}

impl Network {
    /// Pairs a specification with parameters, checking both.
    pub fn new(spec: NetSpec, params: Vec<f64>) -> Result<Self> {
        spec.validate()?;
        spec.check_params(&params)?;
        Ok(Network { spec, params })
    }

    /// Weight matrix of layer `l` (0-based), `k_l × k_{l−1}`.
    pub fn weight(&self, l: usize) -> MatRef<'_, f64> {
        let lay = &self.spec.layouts()[l];
        MatRef::from_row_major_slice(&self.params[lay.weight.clone()], lay.rows, lay.cols)
    }

    /// Bias of layer `l` (0-based), if the layer has one.
    pub fn bias(&self, l: usize) -> Option<&[f64]> {
        let lay = &self.spec.layouts()[l];
        lay.bias.clone().map(|b| &self.params[b])
    }

    /// The outputs for `n` inputs given row-major in `x` (`n × d`), row-major (`n × k`),
    /// evaluated in chunks by the [`super::Objective`].
    ///
    /// ```
    /// use gradflow::teacher::TeacherConfig;
    /// let t = TeacherConfig::paper(2, 3, 1).build()?;
    /// let x = [0.1, -0.2, 0.5, 0.7];
    /// let y = t.predict(&x)?;
    /// assert_eq!(y.len(), 2);
    /// assert!((y[1] - t.predict_one(&x[2..])[0]).abs() < 1e-14);
    /// # Ok::<(), gradflow::Error>(())
    /// ```
    pub fn predict(&self, x: &[f64]) -> crate::error::Result<Vec<f64>> {
        let (d, k) = (self.spec.input_dim, self.spec.output_dim());
        if x.len() % d.max(1) != 0 {
            return Err(crate::error::Error::Length {
                what: format!("inputs ({d} values per sample)"),
                expected: (x.len() / d.max(1) + 1) * d,
                got: x.len(),
            });
        }
        let n = x.len() / d.max(1);
        if n == 0 {
            return Ok(Vec::new());
        }
        let data = super::Dataset::from_row_major(x, d, &vec![0.0; n * k], k)?;
        let mut obj = super::Objective::new(&self.spec, &data, super::Loss::for_spec(&self.spec))?;
        Ok(obj.predict(&self.params))
    }

    /// Evaluates the network on one input (allocating; for tests and small jobs — the
    /// [`super::Objective`] evaluates data sets in chunks without allocation).
    pub fn predict_one(&self, x: &[f64]) -> Vec<f64> {
        let mut a = x.to_vec();
        for (layer, lay) in self.spec.layers.iter().zip(self.spec.layouts()) {
            let mut z: Vec<f64> = (0..lay.rows)
                .map(|u| {
                    let w = &self.params[lay.w(u, 0)..lay.w(u, 0) + lay.cols];
                    let b = lay.bias.as_ref().map_or(0.0, |b| self.params[b.start + u]);
                    w.iter().zip(&a).map(|(w, a)| w * a).sum::<f64>() + b
                })
                .collect();
            if layer.activation == Activation::Softmax {
                softmax_in_place(&mut z);
            } else {
                for (u, v) in z.iter_mut().enumerate() {
                    *v = layer.activation_of(u).eval(*v);
                }
            }
            a = z;
        }
        a
    }
}

/// Numerically stable softmax of a small vector.
pub(crate) fn softmax_in_place(z: &mut [f64]) {
    let m = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut s = 0.0;
    for v in z.iter_mut() {
        *v = (*v - m).exp();
        s += *v;
    }
    for v in z.iter_mut() {
        *v /= s;
    }
}
