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
    /// Per-neuron activations of a mixed hidden layer, one name per neuron (parameters in the
    /// name: `leaky_relu(0.1)`); `activation` is then the first of them. Absent in files of
    /// uniform layers, so older readers see them unchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activations: Option<Vec<String>>,
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
            activations: l
                .neurons
                .as_ref()
                .map(|n| n.iter().map(|a| a.to_string()).collect()),
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
        let neurons = match &r.activations {
            None => None,
            Some(names) => {
                let acts = names
                    .iter()
                    .map(|n| n.parse::<Activation>())
                    .collect::<Result<Vec<_>>>()?;
                if acts.len() != r.width {
                    return Err(Error::format(format!(
                        "\"activations\" lists {} activations for a layer of width {}",
                        acts.len(),
                        r.width
                    )));
                }
                if acts.first() != Some(&activation) {
                    return Err(Error::format(
                        "\"activation\" must be the first of the per-neuron \"activations\"",
                    ));
                }
                let uniform = acts.iter().all(|a| *a == activation);
                (!uniform).then_some(acts)
            }
        };
        Ok(LayerSpec {
            width: r.width,
            activation,
            bias: r.bias,
            neurons,
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::net::{Activation, LayerSpec, NetSpec};

    #[test]
    fn mixed_layers_round_trip_and_uniform_layers_keep_the_old_format() {
        let spec = NetSpec::new(
            2,
            vec![
                LayerSpec::mixed(vec![
                    Activation::G,
                    Activation::LeakyRelu { alpha: 0.1 },
                    Activation::G,
                ]),
                LayerSpec::new(1, Activation::Identity),
            ],
        )
        .unwrap();
        let json = serde_json::to_string(&spec).unwrap();
        assert!(
            json.contains(r#""activations":["g","leaky_relu(0.1)","g"]"#),
            "{json}"
        );
        assert_eq!(serde_json::from_str::<NetSpec>(&json).unwrap(), spec);
        let uniform = NetSpec::shallow(2, 3, Activation::Tanh, 1);
        assert!(
            !serde_json::to_string(&uniform)
                .unwrap()
                .contains("activations")
        );
        // A list that disagrees with the width, or with the layer's activation, is refused.
        for bad in [
            r#"{"input_dim":2,"layers":[{"width":3,"activation":"g","activations":["g","tanh"]},{"width":1,"activation":"identity"}]}"#,
            r#"{"input_dim":2,"layers":[{"width":2,"activation":"g","activations":["tanh","g"]},{"width":1,"activation":"identity"}]}"#,
        ] {
            assert!(serde_json::from_str::<NetSpec>(bad).is_err(), "{bad}");
        }
        // Per-neuron activations are for hidden layers.
        let out = NetSpec::new(
            2,
            vec![LayerSpec::mixed(vec![
                Activation::Identity,
                Activation::Tanh,
            ])],
        );
        assert!(out.is_err());
    }
}
