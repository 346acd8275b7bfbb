//! Loss functions on the output layer (SPEC §3).
//!
//! The internal objective is the **sum** over samples (no ½); the reported loss divides by the
//! number of samples (or the sum of the per-sample weights).
//!
//! The output layer's activation is folded into the loss: for [`Loss::Mse`] with an elementwise
//! output activation σ, `φ(z, y) = w·Σ_o (σ(z_o) − y_o)²`; for [`Loss::Nll`] with a softmax
//! output layer, `φ(z, y) = −w·Σ_o y_o log softmax(z)_o`, computed from the logits with the
//! log-sum-exp shift. The kernels return `φ`, its gradient `∂φ/∂z` and (for Hessians) the
//! `k × k` curvature `∂²φ/∂z²` per sample.

use faer::MatRef;
use serde::{Deserialize, Serialize};

use super::activation::Activation;

/// The training objective.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Loss {
    /// Mean squared error: `Σ_i w_i Σ_o (f(x_i)_o − y_io)²`.
    #[default]
    Mse,
    /// Negative log-likelihood of a softmax output layer; targets are probability vectors (or
    /// one-hot labels).
    Nll,
}

crate::named::named_enum!(Loss, "loss", { Mse => "mse", Nll => "nll" });

impl Loss {
    /// The loss that fits an architecture's output layer: NLL for softmax, MSE otherwise.
    pub fn for_spec(spec: &super::NetSpec) -> Loss {
        if spec
            .layers
            .last()
            .is_some_and(|l| l.activation.is_softmax())
        {
            Loss::Nll
        } else {
            Loss::Mse
        }
    }
}

/// Output-layer buffers of one chunk of `n` samples and `k` outputs, all column-major.
pub(crate) struct OutputChunk<'a> {
    /// On entry `z_L` (`n × k`); on exit the network output (activations/probabilities).
    pub z: &'a mut [f64],
    /// First derivative of the output activation (`n × k`; MSE only).
    pub d1: &'a mut [f64],
    /// Second derivative of the output activation (`n × k`; MSE Hessians only).
    pub d2: &'a mut [f64],
    /// Receives `∂φ/∂z` (`n × k`).
    pub g: &'a mut [f64],
    /// Receives `∂²φ/∂z²` at offset `s + n·(o + k·o')` (`n × k²`), when wanted.
    pub curvature: Option<&'a mut [f64]>,
}

impl Loss {
    /// Evaluates the loss of one chunk and fills its output gradient (and curvature). Returns
    /// the chunk's weighted loss sum.
    pub(crate) fn eval_chunk(
        self,
        act: &Activation,
        n: usize,
        k: usize,
        y: MatRef<'_, f64>,
        w: Option<&[f64]>,
        out: OutputChunk<'_>,
    ) -> f64 {
        match self {
            Loss::Mse => mse_chunk(act, n, k, y, w, out),
            Loss::Nll => nll_chunk(n, k, y, w, out),
        }
    }
}

fn mse_chunk(
    act: &Activation,
    n: usize,
    k: usize,
    y: MatRef<'_, f64>,
    w: Option<&[f64]>,
    out: OutputChunk<'_>,
) -> f64 {
    let OutputChunk {
        z,
        d1,
        d2,
        g,
        curvature,
    } = out;
    let len = n * k;
    let want_curv = curvature.is_some();
    act.apply_in_place(
        &mut z[..len],
        Some(&mut d1[..len]),
        if want_curv {
            Some(&mut d2[..len])
        } else {
            None
        },
    );
    let mut total = 0.0;
    let mut curvature = curvature;
    if let Some(c) = curvature.as_deref_mut() {
        c[..n * k * k].fill(0.0);
    }
    for o in 0..k {
        let yc = y.col(o);
        let col = o * n..(o + 1) * n;
        let (zc, pc, gc) = (&z[col.clone()], &d1[col.clone()], &mut g[col.clone()]);
        let mut sum = 0.0;
        for s in 0..n {
            let ws = w.map_or(1.0, |w| w[s]);
            let r = zc[s] - yc[s];
            sum += ws * r * r;
            gc[s] = 2.0 * ws * r * pc[s];
        }
        total += sum;
        if let Some(c) = curvature.as_deref_mut() {
            let qc = &d2[col];
            let cc = &mut c[n * (o + k * o)..n * (o + k * o) + n];
            for s in 0..n {
                let ws = w.map_or(1.0, |w| w[s]);
                let r = zc[s] - yc[s];
                cc[s] = 2.0 * ws * (pc[s] * pc[s] + r * qc[s]);
            }
        }
    }
    total
}

fn nll_chunk(
    n: usize,
    k: usize,
    y: MatRef<'_, f64>,
    w: Option<&[f64]>,
    out: OutputChunk<'_>,
) -> f64 {
    let OutputChunk {
        z, g, curvature, ..
    } = out;
    let mut curvature = curvature;
    let mut total = 0.0;
    for s in 0..n {
        let ws = w.map_or(1.0, |w| w[s]);
        let mut m = f64::NEG_INFINITY;
        for o in 0..k {
            m = m.max(z[s + n * o]);
        }
        let mut sum_exp = 0.0;
        for o in 0..k {
            sum_exp += (z[s + n * o] - m).exp();
        }
        let lse = m + sum_exp.ln();
        let mut mass = 0.0;
        let mut nll = 0.0;
        for o in 0..k {
            let yo = y[(s, o)];
            let log_p = z[s + n * o] - lse;
            if yo.abs() > 0.0 {
                nll -= yo * log_p;
            }
            mass += yo;
            z[s + n * o] = log_p.exp();
        }
        total += ws * nll;
        for o in 0..k {
            g[s + n * o] = ws * (mass * z[s + n * o] - y[(s, o)]);
        }
        if let Some(c) = curvature.as_deref_mut() {
            for o in 0..k {
                let po = z[s + n * o];
                for o2 in 0..k {
                    let p2 = z[s + n * o2];
                    let diag = if o == o2 { po } else { 0.0 };
                    c[s + n * (o + k * o2)] = ws * mass * (diag - po * p2);
                }
            }
        }
    }
    total
}
