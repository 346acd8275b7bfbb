//! `gradflow eval`: loss, gradient, Hessian and spectrum of a network on a data set (SPEC §9).
//!
//! All reported derivatives are those of the **reported mean loss** (`L_sum / N_eff`).
//!
//! ```
//! use gradflow::eval::EvalOptions;
//! let cfg = EvalOptions::default();
//! assert!(!cfg.gradient && !cfg.hessian && !cfg.spectrum);
//! assert_eq!(cfg.repeat, None);
//! assert_eq!(cfg.chunk, gradflow::net::objective::DEFAULT_CHUNK);
//! assert_eq!(cfg.threads, 1);
//! ```

use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::net::population::PopulationOptions;
use crate::net::{Dataset, Loss, Network, Objective, symmetric_eigenvalues};

/// Options of [`evaluate`]: what to compute besides the loss.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct EvalOptions {
    /// Loss (default: `nll` for a softmax output layer, else `mse`).
    pub loss: Option<Loss>,
    /// Include the gradient.
    pub gradient: bool,
    /// Include the full Hessian.
    pub hessian: bool,
    /// Include the Hessian spectrum (eigenvalues, ascending).
    pub spectrum: bool,
    /// Time K repeated evaluations and report the median seconds of one.
    pub repeat: Option<usize>,
    /// Samples per chunk.
    pub chunk: usize,
    /// Threads of one evaluation ([`Objective::with_threads`]; default 1, so that timings
    /// compare with single-threaded tools).
    pub threads: usize,
}

impl Default for EvalOptions {
    fn default() -> Self {
        EvalOptions {
            loss: None,
            gradient: false,
            hessian: false,
            spectrum: false,
            repeat: None,
            chunk: crate::net::objective::DEFAULT_CHUNK,
            threads: 1,
        }
    }
}

/// Median timings (seconds per evaluation).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Timing {
    /// Loss and gradient together.
    pub loss_gradient_s: f64,
    /// Loss, gradient and full Hessian together (when the Hessian was requested).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hessian_s: Option<f64>,
    /// Number of repeats.
    pub repeats: usize,
    /// Threads of each evaluation ([`EvalOptions::threads`]).
    #[serde(default = "one")]
    pub threads: usize,
}

fn one() -> usize {
    1
}

/// The JSON written by `gradflow eval`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EvalReport {
    /// Architecture, e.g. `4-16-1`.
    pub network: String,
    /// Number of parameters.
    pub n_params: usize,
    /// Number of samples (left out of the JSON for the infinite-data objective).
    #[serde(skip_serializing_if = "is_zero", default)]
    pub n_samples: usize,
    /// Whether this is the infinite-data (population) objective under `x ~ N(0, I)`.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub infinite_data: bool,
    /// The quadrature's largest relative error estimate (infinite data only).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub quadrature_error: Option<f64>,
    /// Loss function used.
    pub loss_kind: Loss,
    /// Reported (mean) loss.
    pub loss: f64,
    /// Root-mean-square error (MSE only).
    pub rmse: Option<f64>,
    /// ∞-norm of the mean gradient.
    pub gnorm: f64,
    /// Mean gradient (flat order).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gradient: Option<Vec<f64>>,
    /// Hessian of the mean loss, rows in flat order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hessian: Option<Vec<Vec<f64>>>,
    /// Hessian eigenvalues, ascending.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spectrum: Option<Vec<f64>>,
    /// Median timings with `--repeat`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timing: Option<Timing>,
}

/// Converts a one-column target of integer class labels into one-hot targets.
pub fn labels_to_one_hot(data: &Dataset, classes: usize) -> Result<Dataset> {
    let y = data.y();
    let labels = (0..data.n_samples())
        .map(|i| {
            let v = y[(i, 0)];
            if v >= 0.0 && v.fract().abs() < f64::EPSILON && (v as usize) < classes {
                Ok(v as usize)
            } else {
                Err(Error::invalid(
                    "y",
                    format!("row {i}: {v} is not a class label in 0..{classes}"),
                ))
            }
        })
        .collect::<Result<Vec<usize>>>()?;
    let out = Dataset::from_labels(&data.x_row_major(), data.input_dim(), &labels, classes)?;
    match data.weights() {
        Some(w) => out.with_weights(w.to_vec()),
        None => Ok(out),
    }
}

/// Evaluates a network on data (the library core of `gradflow eval`). The loss is
/// `cfg.loss`, by default the one that fits the output layer ([`Loss::for_spec`]); for the NLL
/// a one-column target of integer class labels is read as one-hot targets.
pub fn evaluate(net: &Network, data: &Dataset, cfg: &EvalOptions) -> Result<EvalReport> {
    if cfg.chunk == 0 {
        return Err(Error::invalid("chunk", "must be at least 1"));
    }
    let loss = cfg.loss.unwrap_or_else(|| Loss::for_spec(&net.spec));
    let converted;
    let data = if loss == Loss::Nll && data.output_dim() == 1 && net.spec.output_dim() > 1 {
        converted = labels_to_one_hot(data, net.spec.output_dim())?;
        &converted
    } else {
        data
    };
    let mut obj = Objective::new(&net.spec, data, loss)?
        .with_chunk(cfg.chunk)
        .with_threads(cfg.threads)?;
    evaluate_objective(&mut obj, net, cfg)
}

/// [`evaluate`] on the infinite-data objective of `net` against `teacher` under
/// `x ~ N(0, I_d)` ([`Objective::population`]; `cfg.loss` must be MSE or unset, `cfg.chunk`
/// is unused).
///
/// ```
/// use gradflow::eval::{EvalOptions, evaluate_infinite};
/// use gradflow::net::population::PopulationOptions;
/// let t = gradflow::teacher::TeacherConfig::paper(2, 2, 0).build()?;
/// let r = evaluate_infinite(&t, &t, &EvalOptions::default(), &PopulationOptions::default())?;
/// assert!(r.infinite_data && r.loss.abs() < 1e-12);
/// # Ok::<(), gradflow::Error>(())
/// ```
///
/// # Errors
/// As [`Objective::population`], or if `cfg.loss` is NLL.
pub fn evaluate_infinite(
    net: &Network,
    teacher: &Network,
    cfg: &EvalOptions,
    pop: &PopulationOptions,
) -> Result<EvalReport> {
    if cfg.loss == Some(Loss::Nll) {
        return Err(Error::invalid(
            "loss",
            "the infinite-data objective is the mean squared error",
        ));
    }
    let mut obj = Objective::population(&net.spec, teacher, pop)?.with_threads(cfg.threads)?;
    let mut report = evaluate_objective(&mut obj, net, cfg)?;
    report.n_samples = 0;
    report.infinite_data = true;
    report.quadrature_error = obj.as_population().map(|p| p.error_estimate());
    Ok(report)
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// The body of [`evaluate`] on a built objective.
fn evaluate_objective(
    obj: &mut Objective<'_>,
    net: &Network,
    cfg: &EvalOptions,
) -> Result<EvalReport> {
    if cfg.repeat == Some(0) {
        return Err(Error::invalid("repeat", "must be at least 1"));
    }
    net.spec.check_params(&net.params)?;
    let loss = obj.loss_kind();
    let p = net.params.as_slice();
    let np = obj.n_params();
    let scale = obj.mean_scale();
    let mut grad = vec![0.0; np];
    let want_hessian = cfg.hessian || cfg.spectrum;
    if want_hessian {
        // The Hessian, one more per extra thread, and the spectrum's copy: refused with the
        // size named, rather than an allocation that aborts the process.
        crate::memory::check_dense(
            "hessian",
            2 + cfg.threads.saturating_sub(1),
            np,
            None,
            "hessian",
            "the loss and gradient only",
        )?;
    }
    let mut hess = if want_hessian {
        vec![0.0; np * np]
    } else {
        Vec::new()
    };
    let loss_sum = if want_hessian {
        obj.hessian_into(p, &mut grad, &mut hess)
    } else {
        obj.gradient_into(p, &mut grad)
    };
    let timing = cfg.repeat.map(|k| {
        let loss_gradient_s = median_seconds(k, || {
            obj.gradient_into(p, &mut grad);
        });
        let hessian_s = want_hessian.then(|| {
            median_seconds(k, || {
                obj.hessian_into(p, &mut grad, &mut hess);
            })
        });
        Timing {
            loss_gradient_s,
            hessian_s,
            repeats: k,
            threads: obj.threads(),
        }
    });
    grad.iter_mut().for_each(|g| *g *= scale);
    hess.iter_mut().for_each(|h| *h *= scale);
    let spectrum = if cfg.spectrum {
        Some(symmetric_eigenvalues(&hess, np)?)
    } else {
        None
    };
    let gnorm = grad.iter().fold(0.0f64, |m, g| m.max(g.abs()));
    let loss_mean = loss_sum * scale;
    if !loss_mean.is_finite() {
        return Err(Error::Numerical {
            routine: "loss".into(),
            reason: format!("the loss is {loss_mean} (overflow in the network's outputs)"),
        });
    }
    Ok(EvalReport {
        network: net.spec.shape_string(),
        n_params: np,
        n_samples: obj.data().n_samples(),
        infinite_data: false,
        quadrature_error: None,
        loss_kind: loss,
        loss: loss_mean,
        rmse: obj.rmse_of(loss_sum),
        gnorm,
        gradient: cfg.gradient.then(|| grad.clone()),
        hessian: cfg
            .hessian
            .then(|| hess.chunks(np).map(<[f64]>::to_vec).collect()),
        spectrum,
        timing,
    })
}

/// Median wall time in seconds of `k ≥ 1` runs of `f` (also used by the measurement probes).
pub fn median_seconds(k: usize, mut f: impl FnMut()) -> f64 {
    let mut times: Vec<f64> = (0..k)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    if k % 2 == 1 {
        times[k / 2]
    } else {
        0.5 * (times[k / 2 - 1] + times[k / 2])
    }
}
