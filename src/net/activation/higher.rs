//! Value and derivatives up to order 4 of the smooth activations, for the population
//! objective ([`crate::net::population`]): its exact Hessian uses Stein's lemma twice, which
//! moves two derivatives from the Gaussian input onto the activations.

use pulp::{Arch, Simd, WithSimd};

use super::{Activation, FRAC_1_SQRT_2, FRAC_1_SQRT_2PI};
use crate::net::fastmath::{exp_nonpositive, log1p_unit};

/// `[σ, σ', σ'', σ''', σ'''']` of the logistic sigmoid, accurate in both tails.
#[inline]
fn sigmoid5(x: f64) -> [f64; 5] {
    sigmoid5_of(x, (-x.abs()).exp())
}

/// [`sigmoid5`] at `x` given `e = exp(−|x|)` (shared by `g`, `softplus`, `silu`).
#[inline]
fn sigmoid5_of(x: f64, e: f64) -> [f64; 5] {
    let s = if x >= 0.0 {
        1.0 / (1.0 + e)
    } else {
        e / (1.0 + e)
    };
    // s(1 − s) without cancellation; 1 − 2s = tanh(−x/2).
    let s1 = e / ((1.0 + e) * (1.0 + e));
    let t = if x >= 0.0 {
        -(1.0 - e) / (1.0 + e)
    } else {
        (1.0 - e) / (1.0 + e)
    };
    // σ''' = σ'(1 − 6σ + 6σ²) = σ'(1 − 6σ') ; σ'''' = σ'(1 − 2σ)(1 − 12σ').
    [
        s,
        s1,
        s1 * t,
        s1 * (1.0 - 6.0 * s1),
        s1 * t * (1.0 - 12.0 * s1),
    ]
}

/// `ln(1 + eˣ)` without overflow, given `e = exp(−|x|)`.
#[inline]
fn softplus_of(x: f64, e: f64) -> f64 {
    x.max(0.0) + e.ln_1p()
}

/// [`sigmoid5_of`] without branches (selects only) and with one division, for the SIMD loop
/// of [`Activation::eval5_columns`].
#[inline(always)]
fn sigmoid5_select(x: f64, e: f64) -> [f64; 5] {
    let inv = 1.0 / (1.0 + e);
    let pos = x >= 0.0;
    let s = if pos { inv } else { e * inv };
    let s1 = e * inv * inv;
    let t0 = (1.0 - e) * inv;
    let t = if pos { -t0 } else { t0 };
    [
        s,
        s1,
        s1 * t,
        s1 * (1.0 - 6.0 * s1),
        s1 * t * (1.0 - 12.0 * s1),
    ]
}

/// The activations with a vectorised [`Activation::eval5_columns`].
#[derive(Clone, Copy)]
enum Fast {
    G,
    Sigmoid,
    Softplus,
    Silu,
}

impl Fast {
    #[inline(always)]
    fn eval(self, x: f64) -> [f64; 5] {
        let e = exp_nonpositive(-x.abs());
        match self {
            Fast::G => {
                let e2 = e * e;
                let s4 = sigmoid5_select(4.0 * x, e2 * e2);
                let s = sigmoid5_select(x, e);
                [
                    s4[0] + (x.max(0.0) + log1p_unit(e)),
                    4.0 * s4[1] + s[0],
                    16.0 * s4[2] + s[1],
                    64.0 * s4[3] + s[2],
                    256.0 * s4[4] + s[3],
                ]
            }
            Fast::Sigmoid => sigmoid5_select(x, e),
            Fast::Softplus => {
                let s = sigmoid5_select(x, e);
                [x.max(0.0) + log1p_unit(e), s[0], s[1], s[2], s[3]]
            }
            Fast::Silu => {
                let s = sigmoid5_select(x, e);
                [
                    x * s[0],
                    x * s[1] + s[0],
                    x * s[2] + 2.0 * s[1],
                    x * s[3] + 3.0 * s[2],
                    x * s[4] + 4.0 * s[3],
                ]
            }
        }
    }
}

/// The SIMD loop of [`Activation::eval5_columns`], one monomorphised body per activation.
struct Columns<'a, const K: u8> {
    xs: &'a [f64],
    out: &'a mut [f64],
}

impl<const K: u8> WithSimd for Columns<'_, K> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, _simd: S) {
        let fast = match K {
            0 => Fast::G,
            1 => Fast::Sigmoid,
            2 => Fast::Softplus,
            _ => Fast::Silu,
        };
        let n = self.xs.len();
        let (c0, rest) = self.out[..5 * n].split_at_mut(n);
        let (c1, rest) = rest.split_at_mut(n);
        let (c2, rest) = rest.split_at_mut(n);
        let (c3, c4) = rest.split_at_mut(n);
        for i in 0..n {
            let f = fast.eval(self.xs[i]);
            c0[i] = f[0];
            c1[i] = f[1];
            c2[i] = f[2];
            c3[i] = f[3];
            c4[i] = f[4];
        }
    }
}

impl Activation {
    /// [`Activation::eval5`] at every `x` of `xs`, by columns: `out[q·n + i]` holds
    /// `σ⁽ᑫ⁾(xs[i])` (`n = xs.len()`, `out` at least `5n` long). Vectorised for `g`,
    /// `sigmoid`, `softplus` and `silu` (the fused kernels' branch-free `exp` and `log1p`, one
    /// division per logistic: within a few ulp of [`Activation::eval5`]). Returns `false`
    /// (and leaves `out` unspecified) for the activations that are not smooth.
    pub(crate) fn eval5_columns(&self, xs: &[f64], out: &mut [f64]) -> bool {
        let n = xs.len();
        assert!(out.len() >= 5 * n, "eval5_columns needs 5·n outputs");
        let arch = Arch::new();
        match self {
            Activation::G => arch.dispatch(Columns::<0> { xs, out }),
            Activation::Sigmoid => arch.dispatch(Columns::<1> { xs, out }),
            Activation::Softplus => arch.dispatch(Columns::<2> { xs, out }),
            Activation::Silu => arch.dispatch(Columns::<3> { xs, out }),
            _ => {
                for (i, &x) in xs.iter().enumerate() {
                    let Some(f) = self.eval5(x) else { return false };
                    for q in 0..5 {
                        out[q * n + i] = f[q];
                    }
                }
            }
        }
        true
    }
}

impl Activation {
    /// `[σ, σ', σ'', σ''', σ'''']` at `x` for the activations that are smooth on the real
    /// line; `None` for `relu`, `leaky_relu`, `selu` (kinks) and `softmax` (not elementwise).
    pub fn eval5(&self, x: f64) -> Option<[f64; 5]> {
        use Activation::*;
        Some(match self {
            Identity => [x, 1.0, 0.0, 0.0, 0.0],
            Sigmoid => sigmoid5(x),
            Tanh => {
                // tanh x = 2σ(2x) − 1, so tanh⁽ⁿ⁾(x) = 2ⁿ⁺¹ σ⁽ⁿ⁾(2x).
                let s = sigmoid5(2.0 * x);
                [x.tanh(), 4.0 * s[1], 8.0 * s[2], 16.0 * s[3], 32.0 * s[4]]
            }
            Softplus => {
                let e = (-x.abs()).exp();
                let s = sigmoid5_of(x, e);
                [softplus_of(x, e), s[0], s[1], s[2], s[3]]
            }
            G => {
                // One exp for both parts: exp(−4|x|) = exp(−|x|)⁴.
                let e = (-x.abs()).exp();
                let e2 = e * e;
                let s4 = sigmoid5_of(4.0 * x, e2 * e2);
                let s = sigmoid5_of(x, e);
                [
                    s4[0] + softplus_of(x, e),
                    4.0 * s4[1] + s[0],
                    16.0 * s4[2] + s[1],
                    64.0 * s4[3] + s[2],
                    256.0 * s4[4] + s[3],
                ]
            }
            Gelu => {
                let p = FRAC_1_SQRT_2PI * (-0.5 * x * x).exp();
                let cdf = 0.5 * libm::erfc(-x * FRAC_1_SQRT_2);
                let x2 = x * x;
                [
                    x * cdf,
                    cdf + x * p,
                    (2.0 - x2) * p,
                    (x2 - 4.0) * x * p,
                    (-x2 * x2 + 7.0 * x2 - 4.0) * p,
                ]
            }
            Silu => {
                // (x s)⁽ⁿ⁾ = x s⁽ⁿ⁾ + n s⁽ⁿ⁻¹⁾.
                let s = sigmoid5(x);
                [
                    x * s[0],
                    x * s[1] + s[0],
                    x * s[2] + 2.0 * s[1],
                    x * s[3] + 3.0 * s[2],
                    x * s[4] + 4.0 * s[3],
                ]
            }
            Square => [0.5 * x * x, x, 1.0, 0.0, 0.0],
            Cube => [x * x * x, 3.0 * x * x, 6.0 * x, 6.0, 0.0],
            Sigmoid2 | NormalCdf => {
                let p = FRAC_1_SQRT_2PI * (-0.5 * x * x).exp();
                let (v, c) = if matches!(self, Sigmoid2) {
                    (libm::erf(x * FRAC_1_SQRT_2), 2.0)
                } else {
                    (0.5 * libm::erfc(-x * FRAC_1_SQRT_2), 1.0)
                };
                let x2 = x * x;
                [
                    v,
                    c * p,
                    -c * x * p,
                    c * (x2 - 1.0) * p,
                    c * (3.0 - x2) * x * p,
                ]
            }
            Exp => {
                let e = x.exp();
                [e; 5]
            }
            Polynomial { coefficients } => {
                let mut out = [0.0; 5];
                for (order, slot) in out.iter_mut().enumerate() {
                    // Horner on the order-th derivative's coefficients.
                    let mut acc = 0.0;
                    for k in (order..coefficients.len()).rev() {
                        let falling: f64 = (0..order).map(|j| (k - j) as f64).product();
                        acc = acc * x + falling * coefficients[k];
                    }
                    *slot = acc;
                }
                out
            }
            Relu | LeakyRelu { .. } | Selu | Softmax => return None,
        })
    }

    /// Distance from the real axis of the activation's nearest complex singularity (`π/4` for
    /// `g`, from `sigmoid(4x)`; `π/2` for `tanh`; `π` for `sigmoid`, `softplus`, `silu`), or
    /// `None` for entire functions. Sets the quadrature step of the population objective.
    pub(crate) fn singularity_distance(&self) -> Option<f64> {
        use Activation::*;
        use std::f64::consts::PI;
        match self {
            G => Some(PI / 4.0),
            Tanh => Some(PI / 2.0),
            Sigmoid | Softplus | Silu => Some(PI),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The vectorised columns agree with the scalar `eval5` to a few ulp of each value (of
    /// each order's scale where the value passes zero), in both tails, at zero, beyond the
    /// range of `exp`, at ±∞ and NaN.
    #[test]
    fn eval5_columns_match_eval5() {
        let mut xs: Vec<f64> = (0..=4000).map(|i| -60.0 + 0.03 * i as f64).collect();
        xs.extend([-800.0, 800.0, f64::INFINITY, f64::NEG_INFINITY, f64::NAN]);
        let n = xs.len();
        let mut out = vec![0.0; 5 * n];
        for act in Activation::all_examples() {
            if act.eval5(0.3).is_none() {
                assert!(!act.eval5_columns(&xs, &mut out), "{act}");
                continue;
            }
            assert!(act.eval5_columns(&xs, &mut out), "{act}");
            // Each order's largest magnitude near the origin (cancellation inside the
            // derivatives' polynomials in σ' costs relative digits where they pass zero).
            let mut scale = [0.0f64; 5];
            for x in [-2.0, -1.0, 0.0, 1.0, 2.0] {
                let f = act.eval5(x).unwrap();
                for q in 0..5 {
                    scale[q] = scale[q].max(f[q].abs());
                }
            }
            for (i, &x) in xs.iter().enumerate() {
                let f = act.eval5(x).unwrap();
                for q in 0..5 {
                    let (a, b) = (out[q * n + i], f[q]);
                    if b.is_nan() || b.is_infinite() {
                        assert!(
                            a.is_nan() == b.is_nan() && (b.is_nan() || a.to_bits() == b.to_bits()),
                            "{act} {x}"
                        );
                        continue;
                    }
                    assert!(
                        (a - b).abs() <= 1e-14 * b.abs() + 1e-15 * scale[q] + 1e-300,
                        "{act} order {q} at {x}: {a} vs {b}"
                    );
                }
            }
        }
    }

    /// Central differences of each derivative reproduce the next one, and the first three agree
    /// with the sample kernels' `eval3`.
    #[test]
    fn derivatives_match_differences_and_eval3() {
        let h = 1e-5;
        for act in Activation::all_examples() {
            let Some(_) = act.eval5(0.3) else { continue };
            for &x in &[-7.0, -2.3, -0.4, 0.0, 0.7, 1.9, 6.5] {
                let d = act.eval5(x).unwrap();
                let (v, d1, d2) = act.eval3(x);
                for (a, b) in [(d[0], v), (d[1], d1), (d[2], d2)] {
                    assert!((a - b).abs() <= 1e-12 * (1.0 + b.abs()), "{act} at {x}");
                }
                let (p, m) = (act.eval5(x + h).unwrap(), act.eval5(x - h).unwrap());
                for o in 0..4 {
                    let fd = (p[o] - m[o]) / (2.0 * h);
                    let tol = 1e-6 * (1.0 + d[o + 1].abs() + d[o].abs());
                    assert!(
                        (fd - d[o + 1]).abs() <= tol,
                        "{act} order {o} at {x}: {fd} vs {}",
                        d[o + 1]
                    );
                }
            }
        }
    }
}
