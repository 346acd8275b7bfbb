//! Small elementwise loops of the backward pass, compiled for the CPU at hand through pulp's
//! runtime dispatch (AVX2/FMA where available) instead of the baseline SSE2.

use pulp::Arch;

/// Sum with eight interleaved accumulators (vectorised, deterministic for a given length).
#[inline]
pub(crate) fn sum(v: &[f64]) -> f64 {
    Arch::new().dispatch(
        #[inline(always)]
        || {
            let mut acc = [0.0f64; 8];
            let chunks = v.chunks_exact(8);
            let rest = chunks.remainder();
            for c in chunks {
                for j in 0..8 {
                    acc[j] += c[j];
                }
            }
            let tail: f64 = rest.iter().sum();
            ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7])) + tail
        },
    )
}

/// `out[i] = a[i]·s·b[i]`.
#[inline]
pub(crate) fn scaled_product(out: &mut [f64], a: &[f64], s: f64, b: &[f64]) {
    Arch::new().dispatch(
        #[inline(always)]
        || {
            for ((o, x), y) in out.iter_mut().zip(a).zip(b) {
                *o = x * s * y;
            }
        },
    )
}

/// `out[i] = a[i]·s`.
#[inline]
pub(crate) fn scaled(out: &mut [f64], a: &[f64], s: f64) {
    Arch::new().dispatch(
        #[inline(always)]
        || {
            for (o, x) in out.iter_mut().zip(a) {
                *o = x * s;
            }
        },
    )
}

/// `out[i] *= b[i]`.
#[inline]
pub(crate) fn mul_assign(out: &mut [f64], b: &[f64]) {
    Arch::new().dispatch(
        #[inline(always)]
        || {
            for (o, y) in out.iter_mut().zip(b) {
                *o *= y;
            }
        },
    )
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
        assert!(out.iter().enumerate().all(|(i, o)| (o - a[i] * 2.0 * b[i]).abs() < 1e-12));
        scaled(&mut out, &a, 3.0);
        assert!(out.iter().enumerate().all(|(i, o)| (o - a[i] * 3.0).abs() < 1e-12));
        mul_assign(&mut out, &b);
        assert!(out.iter().enumerate().all(|(i, o)| (o - a[i] * 3.0 * b[i]).abs() < 1e-12));
    }
}
