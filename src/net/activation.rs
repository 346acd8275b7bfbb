//! Activation functions with exact first and second derivatives and their symmetry classes.
//!
//! Every activation is evaluated by one fused kernel that returns the value and, on demand, the
//! first and second derivative, sharing the expensive transcendental calls (`g`, `sigmoid(4x)` and
//! `softplus` need one `exp` and one `log1p` between them). The slice kernels run inside a
//! [`pulp`] runtime dispatch so that the branch-free scalar code of [`super::fastmath`] is
//! vectorised for the CPU at hand.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::net::fastmath::FRAC_1_SQRT_2PI;

mod higher;
mod kernels;

use kernels::*;

/// `1/√2`.
const FRAC_1_SQRT_2: f64 = std::f64::consts::FRAC_1_SQRT_2;
/// SELU scale λ (Klambauer et al. 2017).
pub const SELU_LAMBDA: f64 = 1.050_700_987_355_480_5;
/// SELU α (Klambauer et al. 2017).
pub const SELU_ALPHA: f64 = 1.673_263_242_354_377_2;
/// Default slope of `leaky_relu` for negative inputs.
pub const LEAKY_RELU_DEFAULT_ALPHA: f64 = 0.01;

/// The symmetry class of an activation, used by Expand-and-Cluster to decide which neuron
/// parameterisations are equivalent (SPEC §2, §8).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SymmetryClass {
    /// No symmetry (`g`, `selu`, `exp`, polynomials): a neuron is identified with its sign.
    None,
    /// `σ(−x) = −σ(x)` (`tanh`, `identity`, `sigmoid2`, `cube`).
    Odd,
    /// `σ(−x) = c − σ(x)` (`sigmoid`, `normal_cdf`).
    OddPlusConstant,
    /// `σ(−x) = σ(x)` (`square`).
    Even,
    /// `σ(x) − σ(−x)` linear (`softplus`, `gelu`, `silu`).
    EvenPlusLinear,
    /// Even plus linear and positively homogeneous (`relu`, `leaky_relu`).
    EvenPlusLinearPositiveScaling,
}

/// An activation function (SPEC §2).
///
/// Names in files and on the command line are the snake-case names below (`g`, `tanh`,
/// `leaky_relu`, `sigmoid2`, …); `swish` is accepted for `silu` and `poly` for `polynomial`.
#[derive(Clone, Debug, PartialEq)]
pub enum Activation {
    /// `x`.
    Identity,
    /// `max(x, 0)`; derivative at 0 taken as 0.
    Relu,
    /// `x` for `x > 0`, `αx` otherwise.
    LeakyRelu {
        /// Slope for negative inputs (default [`LEAKY_RELU_DEFAULT_ALPHA`]).
        alpha: f64,
    },
    /// `1/(1 + e^{−x})`.
    Sigmoid,
    /// `tanh(x)`.
    Tanh,
    /// `ln(1 + e^x)`.
    Softplus,
    /// `sigmoid(4x) + softplus(x)`, the paper's asymmetric activation.
    G,
    /// Exact `x·Φ(x)` with `Φ` the standard normal CDF.
    Gelu,
    /// `x·sigmoid(x)` (also called swish).
    Silu,
    /// `λx` for `x > 0`, `λα(e^x − 1)` otherwise.
    Selu,
    /// `x²/2`.
    Square,
    /// `x³`.
    Cube,
    /// `erf(x/√2)`.
    Sigmoid2,
    /// `Φ(x) = (1 + erf(x/√2))/2`.
    NormalCdf,
    /// `e^x` (the vectorised exponential: 0 below −708.3, where the true value is subnormal,
    /// and +∞ above 709.7).
    Exp,
    /// Softmax over the layer (output layer only, with the NLL loss).
    Softmax,
    /// `Σ_k c_k x^k` with the given coefficients, constant term first.
    Polynomial {
        /// Coefficients `c_0, c_1, …`.
        coefficients: Vec<f64>,
    },
}

impl Activation {
    /// Every named activation (parameterised ones with their defaults), for tests and help texts.
    pub fn all_examples() -> Vec<Activation> {
        use Activation::*;
        vec![
            Identity,
            Relu,
            LeakyRelu {
                alpha: LEAKY_RELU_DEFAULT_ALPHA,
            },
            Sigmoid,
            Tanh,
            Softplus,
            G,
            Gelu,
            Silu,
            Selu,
            Square,
            Cube,
            Sigmoid2,
            NormalCdf,
            Exp,
            Polynomial {
                coefficients: vec![0.3, -1.0, 0.5, 0.2],
            },
        ]
    }

    /// The canonical name used in files.
    pub fn name(&self) -> &'static str {
        use Activation::*;
        match self {
            Identity => "identity",
            Relu => "relu",
            LeakyRelu { .. } => "leaky_relu",
            Sigmoid => "sigmoid",
            Tanh => "tanh",
            Softplus => "softplus",
            G => "g",
            Gelu => "gelu",
            Silu => "silu",
            Selu => "selu",
            Square => "square",
            Cube => "cube",
            Sigmoid2 => "sigmoid2",
            NormalCdf => "normal_cdf",
            Exp => "exp",
            Softmax => "softmax",
            Polynomial { .. } => "polynomial",
        }
    }

    /// The symmetry class (SPEC §2).
    pub fn symmetry(&self) -> SymmetryClass {
        use Activation::*;
        use SymmetryClass as S;
        match self {
            G | Selu | Exp | Polynomial { .. } | Softmax => S::None,
            Tanh | Identity | Sigmoid2 | Cube => S::Odd,
            Sigmoid | NormalCdf => S::OddPlusConstant,
            Square => S::Even,
            Softplus | Gelu | Silu => S::EvenPlusLinear,
            Relu | LeakyRelu { .. } => S::EvenPlusLinearPositiveScaling,
        }
    }

    /// Whether the activation acts on the whole layer (softmax) rather than elementwise.
    pub fn is_softmax(&self) -> bool {
        matches!(self, Activation::Softmax)
    }

    /// Value, first and second derivative at `x` (elementwise activations; softmax is handled
    /// by the loss and returns the identity here).
    #[inline(always)]
    pub fn eval3(&self, x: f64) -> (f64, f64, f64) {
        use Activation::*;
        match self {
            Identity | Softmax => (x, 1.0, 0.0),
            Relu => relu3(x),
            LeakyRelu { alpha } => LeakyReluK(*alpha).eval(x),
            Sigmoid => sigmoid3(x),
            Tanh => tanh3(x),
            Softplus => softplus3(x),
            G => g3(x),
            Gelu => gelu3(x),
            Silu => silu3(x),
            Selu => selu3(x),
            Square => (0.5 * x * x, x, 1.0),
            Cube => (x * x * x, 3.0 * x * x, 6.0 * x),
            Sigmoid2 => sigmoid2_3(x),
            NormalCdf => normal_cdf3(x),
            Exp => ExpK.eval(x),
            Polynomial { coefficients } => poly3(coefficients, x),
        }
    }

    /// Value at `x`.
    #[inline]
    pub fn eval(&self, x: f64) -> f64 {
        self.eval3(x).0
    }

    /// Applies the activation in place: `buf` holds pre-activations on entry and activations on
    /// exit; `d1`/`d2` (same length, when given) receive the first/second derivatives.
    ///
    /// Softmax is not elementwise: this leaves its input unchanged (the loss applies it).
    pub fn apply_in_place(&self, buf: &mut [f64], d1: Option<&mut [f64]>, d2: Option<&mut [f64]>) {
        self.apply_shifted_in_place(buf, 0.0, d1, d2);
    }

    /// As [`Activation::apply_in_place`] on `buf + shift` (the bias add fused into the same
    /// pass over memory).
    pub fn apply_shifted_in_place(
        &self,
        buf: &mut [f64],
        shift: f64,
        d1: Option<&mut [f64]>,
        d2: Option<&mut [f64]>,
    ) {
        use Activation::*;
        match self {
            Identity | Softmax => {
                if shift != 0.0 {
                    buf.iter_mut().for_each(|x| *x += shift);
                }
                fill_opt(d1, 1.0);
                fill_opt(d2, 0.0);
            }
            Relu => dispatch(ReluK, buf, shift, d1, d2),
            LeakyRelu { alpha } => dispatch(LeakyReluK(*alpha), buf, shift, d1, d2),
            Sigmoid => dispatch(SigmoidK, buf, shift, d1, d2),
            Softplus => dispatch(SoftplusK, buf, shift, d1, d2),
            G => dispatch(GK, buf, shift, d1, d2),
            Silu => dispatch(SiluK, buf, shift, d1, d2),
            Tanh => dispatch(TanhK, buf, shift, d1, d2),
            Selu => dispatch(SeluK, buf, shift, d1, d2),
            Gelu => dispatch(GeluK, buf, shift, d1, d2),
            NormalCdf => dispatch(NormalCdfK, buf, shift, d1, d2),
            Sigmoid2 => dispatch(Sigmoid2K, buf, shift, d1, d2),
            Exp => dispatch(ExpK, buf, shift, d1, d2),
            Square => dispatch(SquareK, buf, shift, d1, d2),
            Cube => dispatch(CubeK, buf, shift, d1, d2),
            _ => {
                if shift != 0.0 {
                    buf.iter_mut().for_each(|x| *x += shift);
                }
                scalar_apply(self, buf, d1, d2)
            }
        }
    }
}

impl fmt::Display for Activation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Activation::LeakyRelu { alpha } => write!(f, "leaky_relu({alpha})"),
            Activation::Polynomial { coefficients } => {
                let list: Vec<String> = coefficients.iter().map(|c| format!("{c:?}")).collect();
                write!(f, "polynomial({})", list.join(","))
            }
            other => f.write_str(other.name()),
        }
    }
}

impl FromStr for Activation {
    type Err = Error;

    /// Parses a plain name (`"tanh"`), `leaky_relu(0.1)` or `polynomial(0,1,0.5)`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        use Activation::*;
        let s = s.trim();
        let (name, args) = match s.find('(') {
            Some(i) if s.ends_with(')') => (&s[..i], Some(&s[i + 1..s.len() - 1])),
            _ => (s, None),
        };
        let parse_args = |args: &str| -> Result<Vec<f64>, Error> {
            args.split(',')
                .filter(|t| !t.trim().is_empty())
                .map(|t| {
                    t.trim()
                        .parse::<f64>()
                        .map_err(|_| Error::UnknownActivation {
                            name: s.to_string(),
                        })
                })
                .collect()
        };
        let act = match (name.trim().to_ascii_lowercase().as_str(), args) {
            ("identity" | "linear", None) => Identity,
            ("relu", None) => Relu,
            ("leaky_relu", None) => LeakyRelu {
                alpha: LEAKY_RELU_DEFAULT_ALPHA,
            },
            ("leaky_relu", Some(a)) => match parse_args(a)?.as_slice() {
                [alpha] => LeakyRelu { alpha: *alpha },
                _ => {
                    return Err(Error::UnknownActivation {
                        name: s.to_string(),
                    });
                }
            },
            ("sigmoid", None) => Sigmoid,
            ("tanh", None) => Tanh,
            ("softplus", None) => Softplus,
            ("g", None) => G,
            ("gelu", None) => Gelu,
            ("silu" | "swish", None) => Silu,
            ("selu", None) => Selu,
            ("square", None) => Square,
            ("cube", None) => Cube,
            ("sigmoid2", None) => Sigmoid2,
            ("normal_cdf", None) => NormalCdf,
            ("exp", None) => Exp,
            ("softmax", None) => Softmax,
            ("polynomial" | "poly", Some(a)) => Polynomial {
                coefficients: parse_args(a)?,
            },
            _ => {
                return Err(Error::UnknownActivation {
                    name: s.to_string(),
                });
            }
        };
        if let Polynomial { coefficients } = &act
            && coefficients.is_empty()
        {
            return Err(Error::UnknownActivation {
                name: s.to_string(),
            });
        }
        Ok(act)
    }
}

impl Serialize for Activation {
    /// Serialised as its text form (`"g"`, `"leaky_relu(0.1)"`, `"polynomial(0.0,1.0)"`), which
    /// [`FromStr`] reads back.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Activation::Polynomial { coefficients } => {
                let list: Vec<String> = coefficients.iter().map(|c| format!("{c:?}")).collect();
                s.serialize_str(&format!("polynomial({})", list.join(",")))
            }
            other => s.serialize_str(&other.to_string()),
        }
    }
}

impl<'de> Deserialize<'de> for Activation {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests;
