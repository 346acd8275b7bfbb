//! Seeded, portable random streams.
//!
//! Every random draw in gradflow comes from a [`Stream`]: ChaCha12 seeded from a `u64` seed and
//! a `u64` stream number (independent streams for independent purposes, e.g. a teacher's
//! construction, its standardisation sample and its data set). Uniform and Gaussian variates are
//! computed here from the raw 64-bit words with portable arithmetic (`libm` for the
//! transcendental functions), so the same seed gives the same numbers on every machine and with
//! every version of the `rand` crates.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha12Rng;

/// A seeded random stream (see the module docs).
#[derive(Clone, Debug)]
pub struct Stream {
    rng: ChaCha12Rng,
    spare_normal: Option<f64>,
}

impl Stream {
    /// The stream `stream` of seed `seed`.
    pub fn new(seed: u64, stream: u64) -> Self {
        let mut rng = ChaCha12Rng::seed_from_u64(seed);
        rng.set_stream(stream);
        Stream {
            rng,
            spare_normal: None,
        }
    }

    /// A raw 64-bit word.
    pub fn next_u64(&mut self) -> u64 {
        self.rng.next_u64()
    }

    /// Uniform on `[0, 1)` with 53 random bits.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform on `[lo, hi)`.
    pub fn uniform_in(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.uniform()
    }

    /// Uniform integer in `0..n` (unbiased, by rejection). `n` must be positive.
    pub fn below(&mut self, n: usize) -> usize {
        assert!(n > 0, "below(0)");
        let n = n as u64;
        let zone = u64::MAX - (u64::MAX % n);
        loop {
            let v = self.next_u64();
            if v < zone {
                return (v % n) as usize;
            }
        }
    }

    /// A uniformly random permutation of `0..n` (Fisher–Yates).
    pub fn permutation(&mut self, n: usize) -> Vec<usize> {
        let mut p: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            p.swap(i, self.below(i + 1));
        }
        p
    }

    /// Standard normal variate (Box–Muller with `libm`, portable).
    pub fn normal(&mut self) -> f64 {
        if let Some(z) = self.spare_normal.take() {
            return z;
        }
        // u1 in (0, 1] so that ln(u1) is finite.
        let u1 = 1.0 - self.uniform();
        let u2 = self.uniform();
        let r = libm::sqrt(-2.0 * libm::log(u1));
        let (s, c) = libm::sincos(2.0 * std::f64::consts::PI * u2);
        self.spare_normal = Some(r * s);
        r * c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: Vec<u64> = {
            let mut s = Stream::new(7, 0);
            (0..4).map(|_| s.next_u64()).collect()
        };
        let b: Vec<u64> = {
            let mut s = Stream::new(7, 0);
            (0..4).map(|_| s.next_u64()).collect()
        };
        let c: Vec<u64> = {
            let mut s = Stream::new(7, 1);
            (0..4).map(|_| s.next_u64()).collect()
        };
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn moments_are_right() {
        let mut s = Stream::new(1, 0);
        let n = 200_000;
        let xs: Vec<f64> = (0..n).map(|_| s.normal()).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        assert!(mean.abs() < 0.01 && (var - 1.0).abs() < 0.01);
        let us: Vec<f64> = (0..n).map(|_| s.uniform()).collect();
        let mean = us.iter().sum::<f64>() / n as f64;
        assert!((mean - 0.5).abs() < 0.005);
        let mut counts = [0usize; 5];
        for _ in 0..n {
            counts[s.below(5)] += 1;
        }
        assert!(
            counts
                .iter()
                .all(|&c| (c as f64 / n as f64 - 0.2).abs() < 0.01)
        );
    }
}
