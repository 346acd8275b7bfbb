//! Activation functions with exact first and second derivatives and their symmetry classes.
//!
//! Every activation is evaluated by one fused kernel that returns the value and, on demand, the
//! first and second derivative, sharing the expensive transcendental calls (`g`, `sigmoid(4x)` and
//! `softplus` need one `exp` and one `log1p` between them). The slice kernels run inside a
//! [`pulp`] runtime dispatch so that the branch-free scalar code of [`super::fastmath`] is
//! vectorised for the CPU at hand.

use std::fmt;
use std::str::FromStr;

use pulp::{Arch, Simd, WithSimd};
use serde::{Deserialize, Serialize};

use super::fastmath::{Log1pUnit, exp_nonpositive as exp_neg, log1p_unit};
use crate::error::Error;

/// `1/√2`.
const FRAC_1_SQRT_2: f64 = std::f64::consts::FRAC_1_SQRT_2;
/// `1/√(2π)`, the standard normal density at 0.
const FRAC_1_SQRT_2PI: f64 = 0.398_942_280_401_432_7;
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
    /// `e^x`.
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
            LeakyRelu { alpha } => {
                if x > 0.0 {
                    (x, 1.0, 0.0)
                } else {
                    (alpha * x, *alpha, 0.0)
                }
            }
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
            NormalCdf => {
                let (v, d1, d2) = sigmoid2_3(x);
                (normal_cdf(x, v), 0.5 * d1, 0.5 * d2)
            }
            Exp => {
                let e = x.exp();
                (e, e, e)
            }
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
            Relu => dispatch::<ReluK>(buf, shift, d1, d2),
            Sigmoid => dispatch::<SigmoidK>(buf, shift, d1, d2),
            Softplus => dispatch::<SoftplusK>(buf, shift, d1, d2),
            G => dispatch::<GK>(buf, shift, d1, d2),
            Silu => dispatch::<SiluK>(buf, shift, d1, d2),
            Square => dispatch::<SquareK>(buf, shift, d1, d2),
            Cube => dispatch::<CubeK>(buf, shift, d1, d2),
            _ => {
                if shift != 0.0 {
                    buf.iter_mut().for_each(|x| *x += shift);
                }
                scalar_apply(self, buf, d1, d2)
            }
        }
    }
}

fn fill_opt(d: Option<&mut [f64]>, v: f64) {
    if let Some(d) = d {
        d.fill(v);
    }
}

fn scalar_apply(act: &Activation, buf: &mut [f64], d1: Option<&mut [f64]>, d2: Option<&mut [f64]>) {
    match (d1, d2) {
        (Some(d1), Some(d2)) => {
            for ((x, p), q) in buf.iter_mut().zip(d1.iter_mut()).zip(d2.iter_mut()) {
                (*x, *p, *q) = act.eval3(*x);
            }
        }
        (Some(d1), None) => {
            for (x, p) in buf.iter_mut().zip(d1.iter_mut()) {
                let (v, dv, _) = act.eval3(*x);
                (*x, *p) = (v, dv);
            }
        }
        (None, Some(d2)) => {
            for (x, q) in buf.iter_mut().zip(d2.iter_mut()) {
                let (v, _, ddv) = act.eval3(*x);
                (*x, *q) = (v, ddv);
            }
        }
        (None, None) => {
            for x in buf.iter_mut() {
                *x = act.eval3(*x).0;
            }
        }
    }
}

/// A fused scalar kernel `x ↦ (σ(x), σ'(x), σ''(x))`, statically dispatched so that it is
/// inlined into the target-feature context of the SIMD loop.
trait Fused {
    fn eval(x: f64) -> (f64, f64, f64);
}

macro_rules! fused {
    ($name:ident, $f:expr) => {
        struct $name;
        impl Fused for $name {
            #[inline(always)]
            fn eval(x: f64) -> (f64, f64, f64) {
                $f(x)
            }
        }
    };
}

fused!(ReluK, relu3);
fused!(SigmoidK, sigmoid3);
fused!(SoftplusK, softplus3);
fused!(GK, g3);
fused!(SiluK, silu3);
fused!(SquareK, |x: f64| (0.5 * x * x, x, 1.0));
fused!(CubeK, |x: f64| (x * x * x, 3.0 * x * x, 6.0 * x));

/// A fused elementwise kernel run under runtime SIMD dispatch.
struct Kernel<'a, K> {
    kernel: std::marker::PhantomData<K>,
    shift: f64,
    buf: &'a mut [f64],
    d1: Option<&'a mut [f64]>,
    d2: Option<&'a mut [f64]>,
}

impl<K: Fused> WithSimd for Kernel<'_, K> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, _simd: S) {
        let shift = self.shift;
        let f = |x: f64| K::eval(x + shift);
        match (self.d1, self.d2) {
            (Some(d1), Some(d2)) => {
                let n = self.buf.len().min(d1.len()).min(d2.len());
                let (buf, d1, d2) = (&mut self.buf[..n], &mut d1[..n], &mut d2[..n]);
                for i in 0..n {
                    let (v, p, q) = f(buf[i]);
                    buf[i] = v;
                    d1[i] = p;
                    d2[i] = q;
                }
            }
            (Some(d1), None) => {
                let n = self.buf.len().min(d1.len());
                let (buf, d1) = (&mut self.buf[..n], &mut d1[..n]);
                for i in 0..n {
                    let (v, p, _) = f(buf[i]);
                    buf[i] = v;
                    d1[i] = p;
                }
            }
            (None, Some(d2)) => {
                for (x, q) in self.buf.iter_mut().zip(d2.iter_mut()) {
                    let (v, _, r) = f(*x);
                    *x = v;
                    *q = r;
                }
            }
            (None, None) => {
                for x in self.buf.iter_mut() {
                    *x = f(*x).0;
                }
            }
        }
    }
}

#[inline(always)]
fn dispatch<K: Fused>(buf: &mut [f64], shift: f64, d1: Option<&mut [f64]>, d2: Option<&mut [f64]>) {
    Arch::new().dispatch(Kernel::<K> {
        kernel: std::marker::PhantomData,
        shift,
        buf,
        d1,
        d2,
    });
}

// ---------------------------------------------------------------------------------------------
// Scalar fused kernels. Branches below are simple selects, which vectorise.

#[inline(always)]
fn relu3(x: f64) -> (f64, f64, f64) {
    let pos = x > 0.0;
    (if pos { x } else { 0.0 }, if pos { 1.0 } else { 0.0 }, 0.0)
}

/// Logistic quantities from `e = exp(−|x|)` and `inv = 1/(1 + e)`: returns
/// `(σ(x), σ(x)(1−σ(x)), 1 − 2σ(x))`, all accurate in the tails (no cancellation).
#[inline(always)]
fn logistic(x: f64, e: f64, inv: f64) -> (f64, f64, f64) {
    let pos = x >= 0.0;
    let s = if pos { inv } else { e * inv };
    let t = (e - 1.0) * inv; // = 1 − 2σ for x ≥ 0
    (s, e * inv * inv, if pos { t } else { -t })
}

#[inline(always)]
fn sigmoid3(x: f64) -> (f64, f64, f64) {
    let e = exp_neg(-x.abs());
    let (s, ds, one_minus_2s) = logistic(x, e, 1.0 / (1.0 + e));
    (s, ds, ds * one_minus_2s)
}

#[inline(always)]
fn softplus3(x: f64) -> (f64, f64, f64) {
    let e = exp_neg(-x.abs());
    let (s, ds, _) = logistic(x, e, 1.0 / (1.0 + e));
    (x.max(0.0) + log1p_unit(e), s, ds)
}

#[inline(always)]
fn g3(x: f64) -> (f64, f64, f64) {
    // One exp: e = exp(−|x|), e⁴ = exp(−4|x|).
    let e = exp_neg(-x.abs());
    let e2 = e * e;
    let e4 = e2 * e2;
    let lg = Log1pUnit::reduce(e);
    let (s, ds, _) = logistic(x, e, 1.0 / (1.0 + e));
    let (s4, ds4, one_minus_2s4) = logistic(x, e4, 1.0 / (1.0 + e4));
    let v = s4 + x.max(0.0) + lg.finish(lg.denominator);
    (
        v,
        4.0f64.mul_add(ds4, s),
        (16.0 * ds4).mul_add(one_minus_2s4, ds),
    )
}

#[inline(always)]
fn silu3(x: f64) -> (f64, f64, f64) {
    let e = exp_neg(-x.abs());
    let (s, ds, one_minus_2s) = logistic(x, e, 1.0 / (1.0 + e));
    // (xσ)' = σ + xσ(1−σ); (xσ)'' = 2σ(1−σ) + xσ(1−σ)(1−2σ)
    (x * s, x.mul_add(ds, s), ds * x.mul_add(one_minus_2s, 2.0))
}

#[inline(always)]
fn tanh3(x: f64) -> (f64, f64, f64) {
    let t = x.tanh();
    // 1 − t² loses relative accuracy in the tails; use 4e/(1+e)² with e = exp(−2|x|).
    let e = (-2.0 * x.abs()).exp();
    let d1 = 4.0 * e / ((1.0 + e) * (1.0 + e));
    (t, d1, -2.0 * t * d1)
}

#[inline(always)]
fn selu3(x: f64) -> (f64, f64, f64) {
    if x > 0.0 {
        (SELU_LAMBDA * x, SELU_LAMBDA, 0.0)
    } else {
        let e = x.exp();
        (
            SELU_LAMBDA * SELU_ALPHA * x.exp_m1(),
            SELU_LAMBDA * SELU_ALPHA * e,
            SELU_LAMBDA * SELU_ALPHA * e,
        )
    }
}

/// Standard normal density.
#[inline(always)]
fn normal_pdf(x: f64) -> f64 {
    FRAC_1_SQRT_2PI * (-0.5 * x * x).exp()
}

/// `Φ(x)`, accurate in the lower tail via `erfc`.
#[inline(always)]
fn normal_cdf(x: f64, erf_value: f64) -> f64 {
    if x < -1.0 {
        0.5 * libm::erfc(-x * FRAC_1_SQRT_2)
    } else {
        0.5 * (1.0 + erf_value)
    }
}

#[inline(always)]
fn sigmoid2_3(x: f64) -> (f64, f64, f64) {
    let d1 = 2.0 * normal_pdf(x);
    (libm::erf(x * FRAC_1_SQRT_2), d1, -x * d1)
}

#[inline(always)]
fn gelu3(x: f64) -> (f64, f64, f64) {
    let phi = normal_pdf(x);
    let cdf = normal_cdf(x, libm::erf(x * FRAC_1_SQRT_2));
    (x * cdf, cdf + x * phi, phi * (2.0 - x * x))
}

#[inline(always)]
fn poly3(c: &[f64], x: f64) -> (f64, f64, f64) {
    let (mut v, mut d1, mut d2) = (0.0, 0.0, 0.0);
    for &ck in c.iter().rev() {
        d2 = d2 * x + 2.0 * d1;
        d1 = d1 * x + v;
        v = v * x + ck;
    }
    (v, d1, d2)
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
    /// Serialised as its text form (`"g"`, `"leaky_relu(0.1)"`, `"polynomial([0.0, 1.0])"`).
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
mod tests {
    use super::*;

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * (1.0 + b.abs())
    }

    fn reference(act: &Activation, x: f64) -> f64 {
        use Activation::*;
        let sig = |x: f64| 1.0 / (1.0 + (-x).exp());
        let sp = |x: f64| {
            if x > 30.0 {
                x + (-x).exp()
            } else {
                x.exp().ln_1p()
            }
        };
        match act {
            Identity | Softmax => x,
            Relu => x.max(0.0),
            LeakyRelu { alpha } => {
                if x > 0.0 {
                    x
                } else {
                    alpha * x
                }
            }
            Sigmoid => sig(x),
            Tanh => x.tanh(),
            Softplus => sp(x),
            G => sig(4.0 * x) + sp(x),
            Gelu => x * 0.5 * libm::erfc(-x / 2f64.sqrt()),
            Silu => x * sig(x),
            Selu => {
                if x > 0.0 {
                    SELU_LAMBDA * x
                } else {
                    SELU_LAMBDA * SELU_ALPHA * (x.exp() - 1.0)
                }
            }
            Square => x * x / 2.0,
            Cube => x.powi(3),
            Sigmoid2 => libm::erf(x / 2f64.sqrt()),
            NormalCdf => 0.5 * libm::erfc(-x / 2f64.sqrt()),
            Exp => x.exp(),
            Polynomial { coefficients } => coefficients
                .iter()
                .enumerate()
                .map(|(k, c)| c * x.powi(k as i32))
                .sum(),
        }
    }

    #[test]
    fn values_match_reference_formulas() {
        for act in Activation::all_examples() {
            for i in -400..=400 {
                let x = i as f64 * 0.02;
                let (v, _, _) = act.eval3(x);
                assert!(close(v, reference(&act, x), 1e-14), "{act} at {x}: {v}");
            }
        }
    }

    #[test]
    fn derivatives_match_finite_differences() {
        for act in Activation::all_examples() {
            for i in -60..=60 {
                let x = i as f64 * 0.1 + 0.013;
                let h = 1e-5;
                let (_, d1, d2) = act.eval3(x);
                let fd1 = (act.eval(x + h) - act.eval(x - h)) / (2.0 * h);
                let fd2 = (act.eval3(x + h).1 - act.eval3(x - h).1) / (2.0 * h);
                assert!(close(d1, fd1, 1e-7), "{act}' at {x}: {d1} vs {fd1}");
                assert!(close(d2, fd2, 1e-7), "{act}'' at {x}: {d2} vs {fd2}");
            }
        }
    }

    #[test]
    fn tails_are_finite_and_accurate() {
        for act in Activation::all_examples() {
            for &x in &[-1e3, -700.0, -40.0, 40.0, 700.0, 1e3] {
                let (v, d1, d2) = act.eval3(x);
                if matches!(act, Activation::Exp | Activation::Cube) && x > 700.0 {
                    continue; // genuinely overflows or is huge by definition
                }
                assert!(
                    v.is_finite() && d1.is_finite() && d2.is_finite(),
                    "{act} at {x}"
                );
            }
        }
        // Relative accuracy of derivatives deep in the tails (where 1 − σ would cancel).
        let (_, d1, d2) = Activation::Sigmoid.eval3(-30.0);
        assert!(close(
            d1,
            (-30f64).exp() / (1.0 + (-30f64).exp()).powi(2),
            1e-14
        ));
        assert!(d2 > 0.0);
        let (_, d1, _) = Activation::Sigmoid.eval3(30.0);
        assert!(close(
            d1 / (-30f64).exp(),
            1.0 / (1.0 + (-30f64).exp()).powi(2),
            1e-14
        ));
        let (v, _, _) = Activation::Softplus.eval3(-50.0);
        assert!(close(v / (-50f64).exp(), 1.0, 1e-14));
        let (_, d1, _) = Activation::Tanh.eval3(20.0);
        assert!(close(d1 / (4.0 * (-40f64).exp()), 1.0, 1e-12));
        let (v, _, _) = Activation::Gelu.eval3(-10.0);
        assert!(v < 0.0 && v > -1e-20);
    }

    #[test]
    fn slice_kernel_equals_scalar() {
        for act in Activation::all_examples() {
            let xs: Vec<f64> = (0..257).map(|i| -20.0 + 0.156 * i as f64).collect();
            let mut buf = xs.clone();
            let mut d1 = vec![0.0; xs.len()];
            let mut d2 = vec![0.0; xs.len()];
            act.apply_in_place(&mut buf, Some(&mut d1), Some(&mut d2));
            for (i, &x) in xs.iter().enumerate() {
                let (v, p, q) = act.eval3(x);
                assert!(close(buf[i], v, 0.0) && close(d1[i], p, 0.0) && close(d2[i], q, 0.0));
            }
        }
    }

    #[test]
    fn names_round_trip() {
        for act in Activation::all_examples() {
            let text = act.to_string();
            assert_eq!(text.parse::<Activation>().unwrap(), act);
        }
        assert_eq!("swish".parse::<Activation>().unwrap(), Activation::Silu);
        assert!("wobble".parse::<Activation>().is_err());
        assert!("polynomial()".parse::<Activation>().is_err());
    }

    #[test]
    fn symmetry_classes_hold() {
        for act in Activation::all_examples() {
            for i in 1..50 {
                let x = 0.137 * i as f64;
                let (p, m) = (act.eval(x), act.eval(-x));
                let ok = match act.symmetry() {
                    SymmetryClass::None => true,
                    SymmetryClass::Odd => close(p, -m, 1e-14),
                    SymmetryClass::OddPlusConstant => close(p + m, act.eval(0.0) * 2.0, 1e-14),
                    SymmetryClass::Even => close(p, m, 1e-14),
                    SymmetryClass::EvenPlusLinear
                    | SymmetryClass::EvenPlusLinearPositiveScaling => {
                        // σ(x) − σ(−x) is linear: check against the slope at 0 (ratio constant).
                        let ratio = (p - m) / x;
                        let r1 = (act.eval(0.01) - act.eval(-0.01)) / 0.01;
                        close(ratio, r1, 1e-10)
                    }
                };
                assert!(ok, "{act} fails its symmetry class at {x}");
            }
        }
    }
}
