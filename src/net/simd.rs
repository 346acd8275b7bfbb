//! Elementwise loops compiled for the CPU at hand through pulp's runtime dispatch (AVX2/FMA
//! where available) instead of the baseline SSE2.
//!
//! The work is done in a `WithSimd::with_simd` marked `#[inline(always)]` (closures are not
//! reliably inlined into the target-feature context, plain method calls are).

use pulp::{Arch, Simd, WithSimd};

/// Runs `op` under runtime SIMD dispatch.
#[inline(always)]
pub(crate) fn dispatch<Op: WithSimd>(op: Op) -> Op::Output {
    Arch::new().dispatch(op)
}

struct Sum<'a>(&'a [f64]);

impl WithSimd for Sum<'_> {
    type Output = f64;
    #[inline(always)]
    fn with_simd<S: Simd>(self, _: S) -> f64 {
        let mut acc = [0.0f64; 8];
        let chunks = self.0.chunks_exact(8);
        let rest = chunks.remainder();
        for c in chunks {
            for j in 0..8 {
                acc[j] += c[j];
            }
        }
        let tail: f64 = rest.iter().sum();
        ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7])) + tail
    }
}

/// Sum with eight interleaved accumulators (vectorised, deterministic for a given length).
#[inline]
pub(crate) fn sum(v: &[f64]) -> f64 {
    dispatch(Sum(v))
}

struct ScaledProduct<'a> {
    out: &'a mut [f64],
    a: &'a [f64],
    s: f64,
    b: Option<&'a [f64]>,
}

impl WithSimd for ScaledProduct<'_> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: Simd>(self, _: S) {
        let s = self.s;
        match self.b {
            Some(b) => {
                for ((o, x), y) in self.out.iter_mut().zip(self.a).zip(b) {
                    *o = x * s * y;
                }
            }
            None => {
                for (o, x) in self.out.iter_mut().zip(self.a) {
                    *o = x * s;
                }
            }
        }
    }
}

/// `out[i] = a[i]·s·b[i]`.
#[inline]
pub(crate) fn scaled_product(out: &mut [f64], a: &[f64], s: f64, b: &[f64]) {
    dispatch(ScaledProduct {
        out,
        a,
        s,
        b: Some(b),
    });
}

/// `out[i] = a[i]·s`.
#[inline]
pub(crate) fn scaled(out: &mut [f64], a: &[f64], s: f64) {
    dispatch(ScaledProduct { out, a, s, b: None });
}

struct MulAssign<'a>(&'a mut [f64], &'a [f64]);

impl WithSimd for MulAssign<'_> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: Simd>(self, _: S) {
        for (o, y) in self.0.iter_mut().zip(self.1) {
            *o *= y;
        }
    }
}

/// `out[i] *= b[i]`.
#[inline]
pub(crate) fn mul_assign(out: &mut [f64], b: &[f64]) {
    dispatch(MulAssign(out, b));
}

/// `out = a·s ⊙ b` (`a = None`: `out *= b`), returning `Σ out` summed as [`sum`] does.
struct ProductSum<'a> {
    out: &'a mut [f64],
    a: Option<(&'a [f64], f64)>,
    b: &'a [f64],
}

impl WithSimd for ProductSum<'_> {
    type Output = f64;
    #[inline(always)]
    fn with_simd<S: Simd>(self, _: S) -> f64 {
        let n = self.out.len();
        let mut acc = [0.0f64; 8];
        let full = n - n % 8;
        let b = &self.b[..n];
        match self.a {
            Some((a, s)) => {
                let a = &a[..n];
                for ((o, x), y) in self.out[..full]
                    .chunks_exact_mut(8)
                    .zip(a.chunks_exact(8))
                    .zip(b.chunks_exact(8))
                {
                    for j in 0..8 {
                        o[j] = x[j] * s * y[j];
                        acc[j] += o[j];
                    }
                }
                for ((o, x), y) in self.out[full..].iter_mut().zip(&a[full..]).zip(&b[full..]) {
                    *o = x * s * y;
                }
            }
            None => {
                for (o, y) in self.out[..full].chunks_exact_mut(8).zip(b.chunks_exact(8)) {
                    for j in 0..8 {
                        o[j] *= y[j];
                        acc[j] += o[j];
                    }
                }
                for (o, y) in self.out[full..].iter_mut().zip(&b[full..]) {
                    *o *= y;
                }
            }
        }
        let tail: f64 = self.out[full..].iter().sum();
        ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7])) + tail
    }
}

/// [`scaled_product`] returning `Σ out` (as [`sum`] of it would, to the last bit).
#[inline]
pub(crate) fn scaled_product_sum(out: &mut [f64], a: &[f64], s: f64, b: &[f64]) -> f64 {
    dispatch(ProductSum {
        out,
        a: Some((a, s)),
        b,
    })
}

/// [`mul_assign`] returning `Σ out` (as [`sum`] of it would, to the last bit).
#[inline]
pub(crate) fn mul_assign_sum(out: &mut [f64], b: &[f64]) -> f64 {
    dispatch(ProductSum { out, a: None, b })
}

struct Product<'a> {
    out: &'a mut [f64],
    a: &'a [f64],
    b: &'a [f64],
    add: bool,
}

impl WithSimd for Product<'_> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: Simd>(self, _: S) {
        let it = self.out.iter_mut().zip(self.a).zip(self.b);
        if self.add {
            for ((o, x), y) in it {
                *o += x * y;
            }
        } else {
            for ((o, x), y) in it {
                *o = x * y;
            }
        }
    }
}

struct Triple<'a> {
    out: &'a mut [f64],
    a: &'a [f64],
    b: &'a [f64],
    c: &'a [f64],
}

impl WithSimd for Triple<'_> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: Simd>(self, _: S) {
        for (((o, x), y), z) in self.out.iter_mut().zip(self.a).zip(self.b).zip(self.c) {
            *o = x * y * z;
        }
    }
}

/// `out[i] = a[i]·b[i]·c[i]`.
#[inline]
pub(crate) fn triple_product(out: &mut [f64], a: &[f64], b: &[f64], c: &[f64]) {
    dispatch(Triple { out, a, b, c });
}

/// `out[i] = a[i]·b[i]`.
#[inline]
pub(crate) fn product(out: &mut [f64], a: &[f64], b: &[f64]) {
    dispatch(Product {
        out,
        a,
        b,
        add: false,
    });
}

/// `out[i] += a[i]·b[i]`.
#[inline]
pub(crate) fn add_product(out: &mut [f64], a: &[f64], b: &[f64]) {
    dispatch(Product {
        out,
        a,
        b,
        add: true,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers_compute_what_they_say() {
        let a: Vec<f64> = (0..37).map(|i| i as f64 * 0.5).collect();
        let b: Vec<f64> = (0..37).map(|i| 1.0 + i as f64).collect();
        assert!((sum(&a) - a.iter().sum::<f64>()).abs() < 1e-12);
        let mut out = vec![0.0; 37];
        scaled_product(&mut out, &a, 2.0, &b);
        assert!(
            out.iter()
                .enumerate()
                .all(|(i, o)| (o - a[i] * 2.0 * b[i]).abs() < 1e-12)
        );
        scaled(&mut out, &a, 3.0);
        assert!(
            out.iter()
                .enumerate()
                .all(|(i, o)| (o - a[i] * 3.0).abs() < 1e-12)
        );
        mul_assign(&mut out, &b);
        assert!(
            out.iter()
                .enumerate()
                .all(|(i, o)| (o - a[i] * 3.0 * b[i]).abs() < 1e-12)
        );
        product(&mut out, &a, &b);
        assert!(
            out.iter()
                .enumerate()
                .all(|(i, o)| (o - a[i] * b[i]).abs() < 1e-12)
        );
        add_product(&mut out, &a, &b);
        assert!(
            out.iter()
                .enumerate()
                .all(|(i, o)| (o - 2.0 * a[i] * b[i]).abs() < 1e-12)
        );
        triple_product(&mut out, &a, &b, &a);
        assert!(
            out.iter()
                .enumerate()
                .all(|(i, o)| o.to_bits() == (a[i] * b[i] * a[i]).to_bits())
        );
    }

    #[test]
    fn fused_sums_equal_the_separate_passes_to_the_last_bit() {
        for n in (0..=20).chain([513]) {
            let a: Vec<f64> = (0..n).map(|i| (i as f64 * 0.37).sin()).collect();
            let b: Vec<f64> = (0..n).map(|i| 1.0 + (i as f64 * 0.11).cos()).collect();
            let (mut fused, mut plain) = (vec![0.0; n], vec![0.0; n]);
            let s = scaled_product_sum(&mut fused, &a, -1.7, &b);
            scaled_product(&mut plain, &a, -1.7, &b);
            assert_eq!(fused, plain, "n = {n}");
            assert_eq!(s.to_bits(), sum(&plain).to_bits(), "n = {n}");
            let s = mul_assign_sum(&mut fused, &a);
            mul_assign(&mut plain, &a);
            assert_eq!(fused, plain, "n = {n}");
            assert_eq!(s.to_bits(), sum(&plain).to_bits(), "n = {n}");
        }
    }
}
