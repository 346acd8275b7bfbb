//! Network architecture and the flat parameter layout (SPEC §2).
//!
//! For layers `l = 1..L` in order, the flat vector holds the weight matrix `W_l`
//! (`k_l × k_{l−1}`, `k_0 = d`) in row-major order — neuron by neuron, each neuron's incoming
//! weights contiguous — followed by the bias `b_l` when the layer has one.

use std::ops::Range;

use serde::{Deserialize, Serialize};

use super::activation::Activation;
use crate::error::{Error, Result};

/// One layer: its width, activation (one for the layer, or one per neuron) and whether it has
/// a bias.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(into = "super::layer_record::LayerRecord")]
#[serde(try_from = "super::layer_record::LayerRecord")]
pub struct LayerSpec {
    /// Number of neurons `k_l`.
    pub width: usize,
    /// Activation applied to every neuron of the layer (the first neuron's when `neurons`
    /// gives one per neuron).
    pub activation: Activation,
    /// Whether the layer has a bias vector.
    pub bias: bool,
    /// Per-neuron activations of a mixed hidden layer (one per neuron), as MLPGradientFlow.jl
    /// v0.3 allows; `None`: every neuron has `activation`. Build with [`LayerSpec::mixed`].
    pub neurons: Option<Vec<Activation>>,
}

impl LayerSpec {
    /// A layer with the given width and activation, with a bias.
    pub fn new(width: usize, activation: Activation) -> Self {
        LayerSpec {
            width,
            activation,
            bias: true,
            neurons: None,
        }
    }

    /// A hidden layer with one activation per neuron (a layer of equal activations when they
    /// all agree).
    ///
    /// ```
    /// use gradflow::net::{Activation, LayerSpec};
    /// let l = LayerSpec::mixed(vec![Activation::G, Activation::Tanh, Activation::Tanh]);
    /// assert_eq!((l.width, l.activation_of(2)), (3, &Activation::Tanh));
    /// assert!(l.is_mixed() && !LayerSpec::mixed(vec![Activation::G; 2]).is_mixed());
    /// ```
    ///
    /// # Panics
    /// If `activations` is empty.
    pub fn mixed(activations: Vec<Activation>) -> Self {
        assert!(!activations.is_empty(), "a layer needs at least one neuron");
        let first = activations[0].clone();
        let uniform = activations.iter().all(|a| *a == first);
        LayerSpec {
            width: activations.len(),
            activation: first,
            bias: true,
            neurons: (!uniform).then_some(activations),
        }
    }

    /// The activation of neuron `u`.
    #[inline]
    pub fn activation_of(&self, u: usize) -> &Activation {
        self.neurons.as_ref().map_or(&self.activation, |n| &n[u])
    }

    /// Whether the neurons have different activations.
    pub fn is_mixed(&self) -> bool {
        self.neurons.is_some()
    }

    /// The same layer with or without bias.
    pub fn with_bias(mut self, bias: bool) -> Self {
        self.bias = bias;
        self
    }
}

/// Where one layer's parameters live in the flat vector.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayerLayout {
    /// Range of the row-major weight matrix.
    pub weight: Range<usize>,
    /// Range of the bias vector, if any.
    pub bias: Option<Range<usize>>,
    /// Number of rows of `W` (this layer's width).
    pub rows: usize,
    /// Number of columns of `W` (the previous layer's width).
    pub cols: usize,
}

impl LayerLayout {
    /// Flat index of `W[u, v]`.
    #[inline]
    pub fn w(&self, u: usize, v: usize) -> usize {
        self.weight.start + u * self.cols + v
    }

    /// Flat index of the "extended" weight `[W b][u, v]`: `v == cols` is the bias.
    /// Returns `None` for the bias column of a layer without bias.
    #[inline]
    pub fn ext(&self, u: usize, v: usize) -> Option<usize> {
        if v < self.cols {
            Some(self.w(u, v))
        } else {
            self.bias.as_ref().map(|b| b.start + u)
        }
    }

    /// Number of extended columns (`cols + 1` with bias).
    #[inline]
    pub fn ext_cols(&self) -> usize {
        self.cols + usize::from(self.bias.is_some())
    }

    /// Parameters of this layer.
    #[inline]
    pub fn len(&self) -> usize {
        self.rows * self.ext_cols()
    }

    /// Whether the layer has no parameters.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn check_activation(act: &Activation, l: usize, depth: usize) -> Result<()> {
    let bad = |reason: String| Err(Error::InvalidNetwork { reason });
    if act.is_softmax() && l + 1 != depth {
        return bad(format!(
            "layer {}: softmax is only allowed on the output layer",
            l + 1
        ));
    }
    if let Activation::LeakyRelu { alpha } = act
        && !alpha.is_finite()
    {
        return bad(format!("layer {}: leaky_relu alpha must be finite", l + 1));
    }
    if let Activation::Polynomial { coefficients } = act
        && (coefficients.is_empty() || coefficients.iter().any(|c| !c.is_finite()))
    {
        return bad(format!(
            "layer {}: polynomial needs finite coefficients",
            l + 1
        ));
    }
    Ok(())
}

/// A multi-layer perceptron architecture: input dimension and layers (SPEC §2).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NetSpec {
    /// Input dimension `d`.
    pub input_dim: usize,
    /// Layers `1..L`; the last is the output layer.
    pub layers: Vec<LayerSpec>,
}

impl NetSpec {
    /// Builds and validates a specification.
    pub fn new(input_dim: usize, layers: Vec<LayerSpec>) -> Result<Self> {
        let spec = NetSpec { input_dim, layers };
        spec.validate()?;
        Ok(spec)
    }

    /// A one-hidden-layer network `d → width (activation, bias) → outputs (identity, bias)`.
    pub fn shallow(input_dim: usize, width: usize, activation: Activation, outputs: usize) -> Self {
        NetSpec {
            input_dim,
            layers: vec![
                LayerSpec::new(width, activation),
                LayerSpec::new(outputs, Activation::Identity),
            ],
        }
    }

    /// Checks that the specification describes a network gradflow can evaluate.
    pub fn validate(&self) -> Result<()> {
        let bad = |reason: String| Err(Error::InvalidNetwork { reason });
        if self.input_dim == 0 {
            return bad("input_dim must be at least 1".into());
        }
        if self.layers.is_empty() {
            return bad("a network needs at least one layer".into());
        }
        for (l, layer) in self.layers.iter().enumerate() {
            if layer.width == 0 {
                return bad(format!("layer {} has width 0", l + 1));
            }
            if let Some(n) = &layer.neurons {
                if n.len() != layer.width {
                    return bad(format!(
                        "layer {}: {} per-neuron activations for {} neurons",
                        l + 1,
                        n.len(),
                        layer.width
                    ));
                }
                if l + 1 == self.layers.len() {
                    return bad(format!(
                        "layer {}: per-neuron activations are for hidden layers",
                        l + 1
                    ));
                }
                if n.first() != Some(&layer.activation) {
                    return bad(format!(
                        "layer {}: `activation` must be the first neuron's activation",
                        l + 1
                    ));
                }
            }
            for act in (0..layer.width).map(|u| layer.activation_of(u)) {
                check_activation(act, l, self.layers.len())?;
            }
        }
        Ok(())
    }

    /// Number of layers `L`.
    pub fn depth(&self) -> usize {
        self.layers.len()
    }

    /// Output dimension `k_L`.
    pub fn output_dim(&self) -> usize {
        self.layers.last().map_or(0, |l| l.width)
    }

    /// Width of layer `l` counting the input as layer 0.
    pub fn width(&self, l: usize) -> usize {
        if l == 0 {
            self.input_dim
        } else {
            self.layers[l - 1].width
        }
    }

    /// Number of parameters `Σ k_l·k_{l−1} + Σ_{bias} k_l`.
    pub fn n_params(&self) -> usize {
        self.layouts()
            .last()
            .map_or(0, |l| l.bias.as_ref().map_or(l.weight.end, |b| b.end))
    }

    /// The position of every layer's parameters in the flat vector.
    pub fn layouts(&self) -> Vec<LayerLayout> {
        let mut offset = 0;
        let mut prev = self.input_dim;
        self.layers
            .iter()
            .map(|layer| {
                let weight = offset..offset + layer.width * prev;
                offset = weight.end;
                let bias = layer.bias.then(|| {
                    let b = offset..offset + layer.width;
                    offset = b.end;
                    b
                });
                let out = LayerLayout {
                    weight,
                    bias,
                    rows: layer.width,
                    cols: prev,
                };
                prev = layer.width;
                out
            })
            .collect()
    }

    /// A per-parameter vector (e.g. [`FlowConfig::tau_params`](crate::flow::FlowConfig)) from
    /// one factor per layer for its weights and one for its biases.
    ///
    /// ```
    /// use gradflow::net::{Activation, NetSpec};
    /// let spec = NetSpec::shallow(2, 3, Activation::G, 1); // W1 (6), b1 (3), W2 (3), b2 (1)
    /// let v = spec.layer_factors(&[1.0, 0.5], &[2.0, 1.0]).unwrap();
    /// assert_eq!(v, [[1.0; 6].as_slice(), &[2.0; 3], &[0.5; 3], &[1.0]].concat());
    /// ```
    ///
    /// # Errors
    /// If either list does not have one factor per layer.
    pub fn layer_factors(&self, weights: &[f64], biases: &[f64]) -> Result<Vec<f64>> {
        for (what, v) in [("weight", weights), ("bias", biases)] {
            if v.len() != self.depth() {
                return Err(Error::Length {
                    what: format!(
                        "per-layer {what} factors of the {} network",
                        self.shape_string()
                    ),
                    expected: self.depth(),
                    got: v.len(),
                });
            }
        }
        let mut out = vec![0.0; self.n_params()];
        for (l, lay) in self.layouts().iter().enumerate() {
            out[lay.weight.clone()].fill(weights[l]);
            if let Some(b) = &lay.bias {
                out[b.clone()].fill(biases[l]);
            }
        }
        Ok(out)
    }

    /// Architecture as `d-k1-…-kL`, e.g. `4-16-1`.
    pub fn shape_string(&self) -> String {
        std::iter::once(self.input_dim)
            .chain(self.layers.iter().map(|l| l.width))
            .map(|k| k.to_string())
            .collect::<Vec<_>>()
            .join("-")
    }

    /// Checks a flat parameter vector's length.
    pub fn check_params(&self, params: &[f64]) -> Result<()> {
        if params.len() != self.n_params() {
            return Err(Error::Length {
                what: format!("parameters of the {} network", self.shape_string()),
                expected: self.n_params(),
                got: params.len(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_follows_the_spec() {
        let spec = NetSpec {
            input_dim: 3,
            layers: vec![
                LayerSpec::new(2, Activation::Tanh),
                LayerSpec::new(4, Activation::G).with_bias(false),
                LayerSpec::new(1, Activation::Identity),
            ],
        };
        let l = spec.layouts();
        assert_eq!(l[0].weight, 0..6);
        assert_eq!(l[0].bias, Some(6..8));
        assert_eq!(l[1].weight, 8..16);
        assert_eq!(l[1].bias, None);
        assert_eq!(l[2].weight, 16..20);
        assert_eq!(l[2].bias, Some(20..21));
        assert_eq!(spec.n_params(), 3 * 2 + 2 + 2 * 4 + 4 + 1);
        assert_eq!(l[0].w(1, 2), 5);
        assert_eq!(l[0].ext(1, 3), Some(7));
        assert_eq!(l[1].ext(0, 2), None);
        assert_eq!(spec.shape_string(), "3-2-4-1");
    }

    #[test]
    fn softmax_only_at_output() {
        let spec = NetSpec {
            input_dim: 2,
            layers: vec![
                LayerSpec::new(2, Activation::Softmax),
                LayerSpec::new(1, Activation::Identity),
            ],
        };
        assert!(spec.validate().is_err());
    }
}
