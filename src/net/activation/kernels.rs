//! Fused elementwise kernels: `x ↦ (σ(x), σ'(x), σ''(x))` sharing transcendental calls, and the
//! runtime-dispatched SIMD loop that applies them to slices.

use pulp::{Arch, Simd, WithSimd};

use super::{Activation, SELU_ALPHA, SELU_LAMBDA};
use crate::net::fastmath::{
    Log1pUnit, erf_scaled_central, exp as fast_exp, exp_expm1_nonpositive as exp_expm1_neg,
    exp_nonpositive as exp_neg, log1p_unit, normal_tail_pdf,
};

pub(super) fn fill_opt(d: Option<&mut [f64]>, v: f64) {
    if let Some(d) = d {
        d.fill(v);
    }
}

pub(super) fn scalar_apply(
    act: &Activation,
    buf: &mut [f64],
    d1: Option<&mut [f64]>,
    d2: Option<&mut [f64]>,
) {
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
pub(super) trait Fused {
    fn eval(&self, x: f64) -> (f64, f64, f64);
}

macro_rules! fused {
    ($name:ident, $f:expr) => {
        pub(super) struct $name;
        impl Fused for $name {
            #[inline(always)]
            fn eval(&self, x: f64) -> (f64, f64, f64) {
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
fused!(TanhK, tanh3);
fused!(SeluK, selu3);
fused!(GeluK, gelu3);
fused!(NormalCdfK, normal_cdf3);
fused!(Sigmoid2K, sigmoid2_3);
fused!(ExpK, |x: f64| {
    let e = fast_exp(x);
    (e, e, e)
});
fused!(SquareK, |x: f64| (0.5 * x * x, x, 1.0));
fused!(CubeK, |x: f64| (x * x * x, 3.0 * x * x, 6.0 * x));

/// `leaky_relu(α)`: the only kernel with a parameter.
pub(super) struct LeakyReluK(pub(super) f64);

impl Fused for LeakyReluK {
    #[inline(always)]
    fn eval(&self, x: f64) -> (f64, f64, f64) {
        // NaN propagates, as in `relu3`.
        let (pos, nan) = (x > 0.0, x.is_nan());
        (
            if pos { x } else { self.0 * x },
            if pos {
                1.0
            } else if nan {
                x
            } else {
                self.0
            },
            if nan { x } else { 0.0 },
        )
    }
}

/// A fused elementwise kernel run under runtime SIMD dispatch.
struct Kernel<'a, K> {
    kernel: K,
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
        let kernel = self.kernel;
        let f = |x: f64| kernel.eval(x + shift);
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
pub(super) fn dispatch<K: Fused>(
    kernel: K,
    buf: &mut [f64],
    shift: f64,
    d1: Option<&mut [f64]>,
    d2: Option<&mut [f64]>,
) {
    Arch::new().dispatch(Kernel {
        kernel,
        shift,
        buf,
        d1,
        d2,
    });
}

// ---------------------------------------------------------------------------------------------
// Scalar fused kernels. Branches below are simple selects, which vectorise.

#[inline(always)]
pub(super) fn relu3(x: f64) -> (f64, f64, f64) {
    // NaN propagates (a NaN weight must not give a finite loss): selects that keep `x` for it.
    let nan = x.is_nan();
    (
        if x <= 0.0 { 0.0 } else { x },
        if x > 0.0 {
            1.0
        } else if nan {
            x
        } else {
            0.0
        },
        if nan { x } else { 0.0 },
    )
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
pub(super) fn sigmoid3(x: f64) -> (f64, f64, f64) {
    let e = exp_neg(-x.abs());
    let (s, ds, one_minus_2s) = logistic(x, e, 1.0 / (1.0 + e));
    (s, ds, ds * one_minus_2s)
}

#[inline(always)]
pub(super) fn softplus3(x: f64) -> (f64, f64, f64) {
    let e = exp_neg(-x.abs());
    let (s, ds, _) = logistic(x, e, 1.0 / (1.0 + e));
    (x.max(0.0) + log1p_unit(e), s, ds)
}

#[inline(always)]
pub(super) fn g3(x: f64) -> (f64, f64, f64) {
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
pub(super) fn silu3(x: f64) -> (f64, f64, f64) {
    let e = exp_neg(-x.abs());
    let (s, ds, one_minus_2s) = logistic(x, e, 1.0 / (1.0 + e));
    // (xσ)' = σ + xσ(1−σ); (xσ)'' = 2σ(1−σ) + xσ(1−σ)(1−2σ); products with a vanishing σ or
    // σ(1−σ) are 0 at ±∞, not NaN.
    (
        times_or_zero(x, s),
        s + times_or_zero(x, ds),
        times_or_zero(x.mul_add(one_minus_2s, 2.0), ds),
    )
}

#[inline(always)]
pub(super) fn tanh3(x: f64) -> (f64, f64, f64) {
    // With e = exp(−2|x|) and u = e − 1 (without cancellation near 0): tanh|x| = −u/(2 + u),
    // and 1 − tanh² = 4e/(1 + e)², which keeps its relative accuracy in the tails (1 − t²
    // does not). One exponential, one division, vectorisable.
    let (e, u) = exp_expm1_neg(-2.0 * x.abs());
    let inv = 1.0 / (2.0 + u);
    let t = (-u * inv).copysign(x);
    let d1 = 4.0 * e * inv * inv;
    (t, d1, -2.0 * t * d1)
}

#[inline(always)]
pub(super) fn selu3(x: f64) -> (f64, f64, f64) {
    // Branch-free (both sides computed, then selected) so that the kernel vectorises; NaN
    // takes the negative side and propagates.
    let (e, em1) = exp_expm1_neg(if x > 0.0 { 0.0 } else { x });
    let la = SELU_LAMBDA * SELU_ALPHA;
    if x > 0.0 {
        (SELU_LAMBDA * x, SELU_LAMBDA, 0.0)
    } else {
        (la * em1, la * e, la * e)
    }
}

/// `erf(x/√2)` from `Q(|x|)`, branch-free: the Taylor series for `|x| ≤ 1` (relative accuracy
/// near 0), `sign(x)·(1 − 2Q)` beyond.
#[inline(always)]
fn erf_from_tail(x: f64, q: f64) -> f64 {
    let outer = (1.0 - 2.0 * q).copysign(x);
    let central = erf_scaled_central(x);
    if x.abs() <= 1.0 { central } else { outer }
}

/// `Φ(x)` from `Q(|x|)`: `Q` below 0 (relative accuracy in the lower tail), `1 − Q` above.
#[inline(always)]
fn cdf_from_tail(x: f64, q: f64) -> f64 {
    if x < 0.0 { q } else { 1.0 - q }
}

/// `v·w`, but 0 where `w` is 0: the products `xΦ(x)`, `xφ(x)`, `x²φ(x)` at ±∞ and beyond the
/// underflow of `Φ` or `φ` (|x| > 37.6) are 0, not NaN.
#[inline(always)]
fn times_or_zero(v: f64, w: f64) -> f64 {
    if w != 0.0 { v * w } else { 0.0 }
}

#[inline(always)]
pub(super) fn sigmoid2_3(x: f64) -> (f64, f64, f64) {
    let (q, pdf) = normal_tail_pdf(x);
    let d1 = 2.0 * pdf;
    (erf_from_tail(x, q), d1, times_or_zero(-2.0 * x, pdf))
}

#[inline(always)]
pub(super) fn normal_cdf3(x: f64) -> (f64, f64, f64) {
    let (q, phi) = normal_tail_pdf(x);
    (cdf_from_tail(x, q), phi, times_or_zero(-x, phi))
}

#[inline(always)]
pub(super) fn gelu3(x: f64) -> (f64, f64, f64) {
    // (xΦ)' = Φ + xφ, (xΦ)'' = φ(2 − x²).
    let (q, phi) = normal_tail_pdf(x);
    let cdf = cdf_from_tail(x, q);
    (
        times_or_zero(x, cdf),
        cdf + times_or_zero(x, phi),
        times_or_zero(x.mul_add(-x, 2.0), phi),
    )
}

#[inline(always)]
pub(super) fn poly3(c: &[f64], x: f64) -> (f64, f64, f64) {
    let (mut v, mut d1, mut d2) = (0.0, 0.0, 0.0);
    for &ck in c.iter().rev() {
        d2 = d2 * x + 2.0 * d1;
        d1 = d1 * x + v;
        v = v * x + ck;
    }
    (v, d1, d2)
}
