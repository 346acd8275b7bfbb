//! A layer as written in network files (SPEC §9): the serde form of [`LayerSpec`], kept in
//! `net` so that the architecture types do not depend on `io`.

use serde::{Deserialize, Serialize};

use super::activation::Activation;
use super::spec::LayerSpec;
use crate::error::{Error, Result};

/// A layer as written in files.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayerRecord {
    /// Number of neurons.
    pub width: usize,
    /// Activation name.
    pub activation: String,
    /// Whether the layer has a bias (default true).
    #[serde(default = "yes")]
    pub bias: bool,
    /// Negative slope of `leaky_relu`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alpha: Option<f64>,
    /// Coefficients of `polynomial`, constant term first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coefficients: Option<Vec<f64>>,
}

fn yes() -> bool {
    true
}

impl From<LayerSpec> for LayerRecord {
    fn from(l: LayerSpec) -> Self {
        let (alpha, coefficients) = match &l.activation {
            Activation::LeakyRelu { alpha } => (Some(*alpha), None),
            Activation::Polynomial { coefficients } => (None, Some(coefficients.clone())),
            _ => (None, None),
        };
        LayerRecord {
            width: l.width,
            activation: l.activation.name().to_string(),
            bias: l.bias,
            alpha,
            coefficients,
        }
    }
}

impl TryFrom<LayerRecord> for LayerSpec {
    type Error = Error;

    fn try_from(r: LayerRecord) -> Result<Self> {
        let mut activation: Activation = match (&r.activation[..], &r.coefficients) {
            ("polynomial" | "poly", Some(c)) => Activation::Polynomial {
                coefficients: c.clone(),
            },
            ("polynomial" | "poly", None) => {
                return Err(Error::format(
                    "activation `polynomial` needs a \"coefficients\" list",
                ));
            }
            (name, _) => name.parse()?,
        };
        if let Some(a) = r.alpha {
            match &mut activation {
                Activation::LeakyRelu { alpha } => *alpha = a,
                other => {
                    return Err(Error::format(format!(
                        "\"alpha\" is only meaningful for leaky_relu, not {other}"
                    )));
                }
            }
        }
        Ok(LayerSpec {
            width: r.width,
            activation,
            bias: r.bias,
        })
    }
}
