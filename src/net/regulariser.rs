//! Regularisers added to the objective with their exact gradient and Hessian, so that flows,
//! refiners and certificates all see them (MLPGradientFlow.jl's `maxnorm` and `merge`).
//!
//! Both are written on the **sum** loss like the data term (SPEC §3), scaled by the effective
//! sample size `N`, so that the reported mean loss gains `R(θ)/N`:
//!
//! - `maxnorm` barrier: `R(θ) = N·⅓(‖θ‖ − M)³` where `‖θ‖ > M`, zero inside the ball (twice
//!   continuously differentiable). It stops a run that drifts to infinity (a channel) at the
//!   norm `M`.
//! - `merge` pair regulariser: `R(θ) = N·λ/2·‖v_i − v_j‖²` for the incoming vectors (weights and
//!   bias) of neurons `i` and `j` of one hidden layer: pulls two neurons together, e.g. to
//!   follow a channel to its limit or to merge duplicates.

use serde::{Deserialize, Serialize};

use super::spec::{LayerLayout, NetSpec};
use crate::error::{Error, Result};

/// The `merge` regulariser's pair.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Merge {
    /// Hidden layer, 1-based as in SPEC §2.
    pub layer: usize,
    /// First neuron, 0-based.
    pub i: usize,
    /// Second neuron, 0-based.
    pub j: usize,
    /// Strength `λ` (on the mean loss).
    pub lambda: f64,
}

/// The regularisers of an objective (none by default).
///
/// ```
/// use gradflow::net::Regularisers;
/// let r = Regularisers::default();
/// assert!(r.is_empty() && r.maxnorm.is_none() && r.merge.is_none());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Regularisers {
    /// Radius `M` of the `maxnorm` barrier.
    pub maxnorm: Option<f64>,
    /// The `merge` pair.
    pub merge: Option<Merge>,
}

impl Regularisers {
    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.maxnorm.is_none() && self.merge.is_none()
    }

    /// Checks the regularisers against `spec` (errors name the field).
    pub fn check(&self, spec: &NetSpec) -> Result<()> {
        if let Some(m) = self.maxnorm
            && !(m.is_finite() && m > 0.0)
        {
            return Err(Error::invalid(
                "regularisers.maxnorm",
                "must be a positive radius",
            ));
        }
        if let Some(m) = self.merge {
            let hidden = spec.depth() - 1;
            if m.layer == 0 || m.layer > hidden {
                return Err(Error::invalid(
                    "regularisers.merge",
                    format!(
                        "layer {} is not a hidden layer of {} (1..={hidden})",
                        m.layer,
                        spec.shape_string()
                    ),
                ));
            }
            let width = spec.layers[m.layer - 1].width;
            if m.i >= width || m.j >= width || m.i == m.j {
                return Err(Error::invalid(
                    "regularisers.merge",
                    format!(
                        "neurons {} and {} must be two different neurons of layer {} (0..{width})",
                        m.i, m.j, m.layer
                    ),
                ));
            }
            if !(m.lambda.is_finite() && m.lambda >= 0.0) {
                return Err(Error::invalid(
                    "regularisers.merge",
                    "lambda must be a non-negative number",
                ));
            }
        }
        Ok(())
    }

    /// Adds `R(θ)` to the sum loss's value, and its gradient and Hessian (`P × P`) to `grad`
    /// and `hess` where given; `n` is the effective sample size. Returns `R(θ)`.
    pub(crate) fn add(
        &self,
        layouts: &[LayerLayout],
        n: f64,
        theta: &[f64],
        mut grad: Option<&mut [f64]>,
        mut hess: Option<&mut [f64]>,
    ) -> f64 {
        let p = theta.len();
        let mut value = 0.0;
        if let Some(m) = self.maxnorm {
            let r = theta.iter().map(|v| v * v).sum::<f64>().sqrt();
            if r > m {
                let e = r - m;
                value += n * e * e * e / 3.0;
                if let Some(g) = grad.as_deref_mut() {
                    let c = n * e * e / r;
                    g.iter_mut().zip(theta).for_each(|(g, t)| *g += c * t);
                }
                if let Some(h) = hess.as_deref_mut() {
                    // ∇² = N[(2e/r² − e²/r³) θθᵀ + (e²/r) I].
                    let outer = n * (2.0 * e / (r * r) - e * e / (r * r * r));
                    let diag = n * e * e / r;
                    for i in 0..p {
                        let row = &mut h[i * p..(i + 1) * p];
                        let ci = outer * theta[i];
                        row.iter_mut().zip(theta).for_each(|(h, t)| *h += ci * t);
                        row[i] += diag;
                    }
                }
            }
        }
        if let Some(m) = self.merge {
            let lay = &layouts[m.layer - 1];
            let c = n * m.lambda;
            for col in 0..lay.ext_cols() {
                let (Some(a), Some(b)) = (lay.ext(m.i, col), lay.ext(m.j, col)) else {
                    continue;
                };
                let d = theta[a] - theta[b];
                value += 0.5 * c * d * d;
                if let Some(g) = grad.as_deref_mut() {
                    g[a] += c * d;
                    g[b] -= c * d;
                }
                if let Some(h) = hess.as_deref_mut() {
                    h[a * p + a] += c;
                    h[b * p + b] += c;
                    h[a * p + b] -= c;
                    h[b * p + a] -= c;
                }
            }
        }
        value
    }
}
