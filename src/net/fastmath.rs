//! Branch-free elementary functions that LLVM can vectorise.
//!
//! The activation kernels are bound by the throughput of their transcendental functions. The
//! functions here are written without branches or table look-ups (only selects, integer adds
//! and shifts on the bit pattern, and polynomials), so that inside a [`pulp`]
//! runtime-dispatched loop the compiler emits AVX2/FMA (or AVX-512) code for them, on any
//! x86-64, without `target-cpu=native`.
//!
//! Algorithms (classic Cody–Waite reduction; see J.-M. Muller, *Elementary Functions*, 3rd ed.,
//! ch. 11):
//! - `exp(x) = 2^k · e^r`, `k = round(x / ln 2)`, `r = x − k·ln2_hi − k·ln2_lo`, `|r| ≤ ln2/2`,
//!   `e^r` by a degree-11 polynomial (Chebyshev-economized Taylor series, truncation error
//!   < 3.2e-18 relative). `2^k` is built in the exponent bits. Inputs below −708.3 return 0 (the
//!   true value is subnormal), above 709.7 return +∞; NaN propagates. `exp_expm1_nonpositive`
//!   also returns `e^x − 1` from the same reduction without cancellation near 0 (`tanh`,
//!   `selu`); `exp_sum_nonpositive` takes its argument as an unevaluated sum `hi + lo`.
//! - `log1p(y)` for `y ∈ [0, 1]` (all that the activations need): `log1p(y) = k·ln 2 +
//!   2·atanh(f / (2 + f))` with `f = y, k = 0` for `y ≤ √2 − 1` and `f = (y − 1)/2, k = 1` above,
//!   so that no rounding of `1 + y` is ever taken; `atanh(s)/s` by a degree-7 polynomial in
//!   `z = s²` (`|s| ≤ 0.1716`; economized series, truncation error < 1.2e-18 relative).
//! - The standard normal tail and density (`gelu`, `normal_cdf`, `sigmoid2`):
//!   `normal_tail_pdf` and `erf_scaled_central`, see there.
//!
//! Polynomials are evaluated by Estrin's scheme with fused multiply-adds (`mul_add`), which
//! compile to FMA instructions inside the dispatched kernels.
//!
//! Measured accuracy (tests, 10⁶ points each unless stated): `exp` within 2 ulp and
//! `log1p_unit` within 3 ulp of the standard library's results; `exp_expm1_nonpositive` within
//! 2 ulp of `exp`/`exp_m1`; the normal tail and density within 6 ulp of 50-digit values.

/// High part of ln 2 (fdlibm's split; its low 32 bits are zero, so `k·LN2_HI` is exact).
const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
/// `ln 2 − LN2_HI`.
const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);
const LOG2E: f64 = std::f64::consts::LOG2_E;
/// 1.5·2^52: adding it rounds a double of magnitude < 2^51 to the nearest integer.
const ROUND_SHIFT: f64 = 6_755_399_441_055_744.0;

/// `e^r ≈ Σ_{n=0}^{11} c_n r^n` on `|r| ≤ ln2/2`: the Taylor series economized to degree 11
/// with Chebyshev polynomials (exact rational arithmetic,
/// `experiments/tools/economize_polynomials.py`); truncation error < 3.2e-18 relative.
const EXP_POLY: [f64; 12] = [
    1.0,
    1.0,
    0.500_000_000_000_001_9,
    0.166_666_666_666_667_02,
    0.041_666_666_666_488_08,
    0.008_333_333_333_309_526,
    0.001_388_888_895_231_804_5,
    0.000_198_412_699_092_198_43,
    2.480_148_547_921_643e-5,
    2.755_722_495_611_072e-6,
    2.763_264_067_543_023_5e-7,
    2.511_487_021_949_747_6e-8,
];

/// `(e^r − 1)/r`: [`EXP_POLY`] without its constant term.
const EXPM1_POLY: [f64; 11] = {
    let mut c = [0.0; 11];
    let mut i = 0;
    while i < 11 {
        c[i] = EXP_POLY[i + 1];
        i += 1;
    }
    c
};

/// `atanh(s)/s = Σ_j z^j/(2j+1)`, `z = s² ∈ [0, 0.0295]`, economized to degree 7 in `z` (same
/// script); truncation error < 1.2e-18 relative.
const ATANH_POLY: [f64; 8] = [
    1.0,
    0.333_333_333_333_338_3,
    0.199_999_999_996_452_07,
    0.142_857_143_816_389_53,
    0.111_110_983_904_532_25,
    0.090_918_232_070_023_78,
    0.076_560_698_511_168_19,
    0.074_068_585_873_614_1,
];

/// `Σ_n c_n x^n` by Estrin's scheme: pairs of coefficients are combined with `x`, then pairs
/// of those with `x²`, `x⁴`, … — dependency chains of length `log₂ N` instead of Horner's `N`
/// (the kernels are latency-bound). The loops have constant bounds and unroll completely.
#[inline(always)]
fn estrin<const N: usize>(x: f64, c: &[f64; N]) -> f64 {
    let mut terms = *c;
    let mut len = N;
    let mut power = x;
    while len > 1 {
        let half = len.div_ceil(2);
        for i in 0..half {
            terms[i] = if 2 * i + 1 < len {
                terms[2 * i + 1].mul_add(power, terms[2 * i])
            } else {
                terms[2 * i]
            };
        }
        len = half;
        power *= power;
    }
    terms[0]
}

/// The Cody–Waite reduction `x = k·ln 2 + r`, `|r| ≤ ln2/2`, of `x ∈ [−708.3, 709.7]`:
/// `(r, 2^k)`.
#[inline(always)]
fn reduce(xc: f64) -> (f64, f64) {
    let kf_shifted = xc.mul_add(LOG2E, ROUND_SHIFT);
    let kf = kf_shifted - ROUND_SHIFT;
    let r = (-kf).mul_add(LN2_LO, (-kf).mul_add(LN2_HI, xc));
    // k sits in the low mantissa bits of `kf_shifted`.
    let k_bits = kf_shifted
        .to_bits()
        .wrapping_sub(ROUND_SHIFT.to_bits())
        .wrapping_add(1023);
    (r, f64::from_bits(k_bits << 52))
}

/// `e^x` for `x ∈ [−708.3, 709.7]` (no edge handling).
#[inline(always)]
fn exp_in_range(xc: f64) -> f64 {
    let (r, scale) = reduce(xc);
    estrin(r, &EXP_POLY) * scale
}

/// `e^x`, branch-free (see the module docs for range and accuracy).
#[inline(always)]
pub fn exp(x: f64) -> f64 {
    let v = exp_in_range(x.clamp(-708.3, 709.7));
    let v = if x > 709.7 { f64::INFINITY } else { v };
    if x < -708.3 { 0.0 } else { v }
}

/// `e^x` for `x ≤ 0` (the activations' `exp(−|x|)`): as [`exp`] without the overflow branch.
#[inline(always)]
pub fn exp_nonpositive(x: f64) -> f64 {
    // A select, not `max`: `max` would turn NaN into −708.3.
    let v = exp_in_range(if x < -708.3 { -708.3 } else { x });
    if x < -708.3 { 0.0 } else { v }
}

/// `(e^x, e^x − 1)` for `x ≤ 0`, branch-free, from one reduction: with `e^x = 2^k(1 + r·q(r))`
/// (`q(r) = (e^r − 1)/r`, the exponential's polynomial without its constant term), `e^x − 1 =
/// (2^k − 1) + 2^k·r·q(r)` keeps its relative accuracy near `x = 0`, where `exp(x) − 1` would
/// cancel (`tanh` needs both). Inputs below −708.3 give `(0, −1)`; NaN propagates.
#[inline(always)]
pub fn exp_expm1_nonpositive(x: f64) -> (f64, f64) {
    let (r, s) = reduce(if x < -708.3 { -708.3 } else { x });
    let q = estrin(r, &EXPM1_POLY);
    let srq = s * (r * q);
    // k = 0 (s = 1): e^x − 1 is r·q itself, which keeps the sign of x = −0.0.
    let em1 = if s.to_bits() == 1f64.to_bits() {
        srq
    } else {
        (s - 1.0) + srq
    };
    let e = s + srq;
    if x < -708.3 { (0.0, -1.0) } else { (e, em1) }
}

/// `e^(hi + lo)` for `hi ≤ 0` and `|lo| ≪ 1`: the argument as an unevaluated sum, so that a
/// large `hi` (its rounding error alone is `|hi|·1.1e-16`) can carry its low part; `lo` joins
/// the reduced argument. Below −708.3, 0.
#[inline(always)]
fn exp_sum_nonpositive(hi: f64, lo: f64) -> f64 {
    let (r, scale) = reduce(if hi < -708.3 { -708.3 } else { hi });
    let v = estrin(r + lo, &EXP_POLY) * scale;
    if hi < -708.3 { 0.0 } else { v }
}

/// Chebyshev coefficients of `h(t) = erfcx(z)/t`, `t = 2/(2 + z)`, in `u = 2t − 1`
/// (`experiments/tools/normal_tail_chebyshev.py`; the tail beyond 28 terms is below 3e-18,
/// `h ≥ 0.28`).
const NORMAL_TAIL_CHEB: [f64; 28] = [
    0.5770337386164697,
    0.3554369212704985,
    0.06509515882878653,
    0.003671142395836639,
    -0.0011128447433526325,
    -0.0001607582991537808,
    3.278031574173137e-05,
    5.442441645505016e-06,
    -1.5154665553171482e-06,
    -1.4297608181169865e-07,
    8.234608827419493e-08,
    -1.2962846852306563e-09,
    -4.154721631015199e-09,
    6.347058278362811e-10,
    1.4320822712256225e-10,
    -6.160390105204585e-11,
    2.0612138554721698e-12,
    3.5714931488477042e-12,
    -8.586422843251796e-13,
    -6.14560021379063e-14,
    7.418725748596617e-14,
    -1.2895042755032325e-14,
    -2.358726385710632e-15,
    1.5729349381685912e-15,
    -2.2782966239546465e-16,
    -6.31233045075643e-17,
    3.5916763531814925e-17,
    -5.049809149847729e-18,
];

/// `erf(x/√2) = √(2/π)·x·Σ_n c_n x^{2n}`, `c_n = (−1)^n/(2^n n!(2n+1))` (same script); 14 terms
/// leave less than 3e-17 relative for `|x| ≤ 1`.
const ERF_SERIES: [f64; 14] = [
    1.0,
    -0.16666666666666666,
    0.025,
    -0.002976190476190476,
    0.00028935185185185184,
    -2.3674242424242424e-05,
    1.6693376068376068e-06,
    -1.033399470899471e-07,
    5.698894140989729e-09,
    -2.832783637334076e-10,
    1.2814973597463678e-11,
    -5.318467303295202e-13,
    2.038745799596494e-14,
    -7.260490739303754e-16,
];

/// `√(2/π)`.
const SQRT_2_OVER_PI: f64 = 0.7978845608028654;
/// `1/√(2π)`.
pub(crate) const FRAC_1_SQRT_2PI: f64 = 0.398_942_280_401_432_7;

/// `Σ_k c_k T_k(u)` by Clenshaw's recurrence.
#[inline(always)]
fn clenshaw<const N: usize>(u: f64, c: &[f64; N]) -> f64 {
    let (mut b1, mut b2) = (0.0, 0.0);
    let u2 = 2.0 * u;
    for k in (1..N).rev() {
        let b0 = u2.mul_add(b1, c[k] - b2);
        b2 = b1;
        b1 = b0;
    }
    u.mul_add(b1, c[0] - b2)
}

/// `−x²/2` as an unevaluated sum `hi + lo` (exact: `x·x` and its FMA error, halved).
#[inline(always)]
fn minus_half_square(x: f64) -> (f64, f64) {
    let p = x * x;
    (-0.5 * p, -0.5 * x.mul_add(x, -p))
}

/// The standard normal upper tail `Q(|x|) = P(Z > |x|) = erfc(|x|/√2)/2` and density
/// `φ(x) = e^(−x²/2)/√(2π)`, branch-free, both to a few ulp relative down to their underflow
/// (`|x|` ≈ 37.5): one exponential `E = e^(−x²/2)` (its argument carried exactly, so large `|x|`
/// lose nothing to its rounding), `φ = E/√(2π)` and `Q = (t/2)·E·h(t)` with `t = 2/(2 + |x|/√2)`
/// and `h` a Chebyshev series. `Φ(x)` is `Q` for `x < 0` and `1 − Q` otherwise.
#[inline(always)]
pub fn normal_tail_pdf(x: f64) -> (f64, f64) {
    let a = x.abs();
    let t = 2.0 / (2.0 + a * std::f64::consts::FRAC_1_SQRT_2);
    let h = clenshaw(2.0 * t - 1.0, &NORMAL_TAIL_CHEB);
    let (hi, lo) = minus_half_square(a);
    let e = exp_sum_nonpositive(hi, lo);
    let (q, pdf) = (0.5 * t * e * h, FRAC_1_SQRT_2PI * e);
    if a > 40.0 { (0.0, 0.0) } else { (q, pdf) }
}

/// `erf(x/√2)` for `|x| ≤ 1` by its Taylor series (relative accuracy near 0).
#[inline(always)]
pub fn erf_scaled_central(x: f64) -> f64 {
    SQRT_2_OVER_PI * x * estrin(x * x, &ERF_SERIES)
}

/// `ln(1 + y)` for `y ∈ [0, 1]`, branch-free (see the module docs).
///
/// Outside `[0, 1]` the result is unspecified (but finite for finite input).
#[inline(always)]
pub fn log1p_unit(y: f64) -> f64 {
    let r = Log1pUnit::reduce(y);
    r.finish(r.denominator)
}

/// `ln(1 + y)` split into range reduction and evaluation:
/// `Log1pUnit::reduce(y).finish(denominator)`.
#[derive(Clone, Copy, Debug)]
pub struct Log1pUnit {
    f: f64,
    k: f64,
    /// The denominator `2 + f` of `s = f/(2 + f)`.
    pub denominator: f64,
}

impl Log1pUnit {
    /// Range reduction of `y ∈ [0, 1]`.
    #[inline(always)]
    pub fn reduce(y: f64) -> Self {
        let big = y > std::f64::consts::SQRT_2 - 1.0;
        let f = if big { (y - 1.0) * 0.5 } else { y };
        let k: f64 = if big { 1.0 } else { 0.0 };
        Log1pUnit {
            f,
            k,
            denominator: 2.0 + f,
        }
    }

    /// The logarithm, given the denominator (or a value equal to it).
    #[inline(always)]
    pub fn finish(self, denominator: f64) -> f64 {
        let s = self.f / denominator;
        let z = s * s;
        // 2·atanh(s) = 2s·(1 + z/3 + z²/5 + …)
        let p = estrin(z, &ATANH_POLY);
        self.k
            .mul_add(LN2_HI, (2.0 * s).mul_add(p, self.k * LN2_LO))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ulps(a: f64, b: f64) -> f64 {
        if a.to_bits() == b.to_bits() {
            return 0.0;
        }
        let scale = b.abs().max(f64::MIN_POSITIVE);
        (a - b).abs() / (scale * f64::EPSILON)
    }

    #[test]
    fn exp_matches_std_within_two_ulp() {
        let mut worst: f64 = 0.0;
        let n = 1_000_000;
        for i in 0..=n {
            let x = -708.0 + 1417.0 * (i as f64) / (n as f64);
            worst = worst.max(ulps(exp(x), x.exp()));
        }
        assert!(worst <= 2.0, "worst {worst} ulp");
    }

    #[test]
    fn exp_nonpositive_agrees_with_exp() {
        for i in 0..=100_000 {
            let x = -750.0 * i as f64 / 100_000.0;
            assert!(ulps(exp_nonpositive(x), exp(x)) < 0.5, "{x}");
        }
    }

    #[test]
    fn nan_propagates() {
        assert!(exp(f64::NAN).is_nan());
        assert!(exp_nonpositive(f64::NAN).is_nan());
        assert!(log1p_unit(f64::NAN).is_nan());
    }

    #[test]
    fn exp_edges() {
        assert!(exp(-1000.0).abs() < f64::MIN_POSITIVE);
        assert!(exp(-708.3 - 1e-9).abs() < f64::MIN_POSITIVE);
        assert!(exp(710.0).is_infinite());
        assert!(exp(f64::NAN).is_nan());
        assert!((exp(0.0) - 1.0).abs() < f64::EPSILON);
        assert!(ulps(exp(1e-300), 1.0) < 1.0);
    }

    #[test]
    fn exp_expm1_match_std() {
        let (mut worst_e, mut worst_m): (f64, f64) = (0.0, 0.0);
        let n = 1_000_000;
        let mut check = |x: f64| {
            let (e, m) = exp_expm1_nonpositive(x);
            worst_e = worst_e.max(ulps(e, x.exp()));
            worst_m = worst_m.max(ulps(m, x.exp_m1()));
        };
        for i in 0..=n {
            check(-708.0 * (i as f64) / (n as f64));
        }
        for e in 1..1074 {
            check(-(2f64.powi(-e)));
        }
        assert!(
            worst_e <= 2.0 && worst_m <= 2.0,
            "{worst_e} / {worst_m} ulp"
        );
        assert_eq!(exp_expm1_nonpositive(-1e3), (0.0, -1.0));
        assert_eq!(exp_expm1_nonpositive(f64::NEG_INFINITY), (0.0, -1.0));
        assert_eq!(exp_expm1_nonpositive(0.0), (1.0, 0.0));
        assert!(exp_expm1_nonpositive(-0.0).1.is_sign_negative());
        let (e, m) = exp_expm1_nonpositive(f64::NAN);
        assert!(e.is_nan() && m.is_nan());
    }

    /// `(a, erfc(a/√2)/2, e^(−a²/2)/√(2π))` at the double `a`, to 50 digits (mpmath 1.3).
    const MPMATH_NORMAL: [(f64, f64, f64); 12] = [
        (0.25, 0.4012936743170763, 0.3866681168028492),
        (0.5, 0.3085375387259869, 0.35206532676429947),
        (1.0, 0.15865525393145705, 0.24197072451914334),
        (1.5, 0.06680720126885807, 0.12951759566589172),
        (2.5, 0.006209665325776135, 0.017528300493568537),
        (4.0, 3.1671241833119924e-05, 0.00013383022576488534),
        (7.5, 3.1908916729108963e-14, 2.4343205330290096e-13),
        (12.0, 1.776482112077679e-33, 2.1463837356630605e-32),
        (20.0, 2.7536241186062337e-89, 5.520948362159764e-88),
        (27.5, 8.778170556878084e-167, 2.41718057861955e-165),
        (33.3, 1.93050550592784e-243, 6.434370239339347e-242),
        (36.9, 2.3105244811406173e-298, 8.532087755636343e-297),
    ];

    #[test]
    fn normal_tail_density_and_central_erf_match_libm() {
        // Q(a) = erfc(a/√2)/2 against libm, whose own argument a/√2 is rounded: at large a
        // that rounding moves erfc by ~a²·1.1e-16 relative, so the bound grows with a².
        let mut worst: [f64; 3] = [0.0; 3];
        // Up to 37, where both are still normal numbers.
        for i in 0..=370_000 {
            let a = i as f64 * 1e-4;
            let z = a * std::f64::consts::FRAC_1_SQRT_2;
            let slack = 1.0 + a * a;
            let (q, pdf) = normal_tail_pdf(a);
            worst[0] = worst[0].max(ulps(q, 0.5 * libm::erfc(z)) / slack);
            assert_eq!(normal_tail_pdf(-a), (q, pdf));
            let reference = (-0.5 * a * a).exp() / (2.0 * std::f64::consts::PI).sqrt();
            worst[1] = worst[1].max(ulps(pdf, reference) / slack);
            if a <= 1.0 {
                worst[2] = worst[2].max(ulps(erf_scaled_central(a), libm::erf(z)));
                worst[2] = worst[2].max(ulps(erf_scaled_central(-a), -libm::erf(z)));
            }
        }
        for e in 1..1000 {
            let a = 2f64.powi(-e);
            let z = a * std::f64::consts::FRAC_1_SQRT_2;
            worst[2] = worst[2].max(ulps(erf_scaled_central(a), libm::erf(z)));
        }
        assert!(
            worst[0] <= 8.0 && worst[1] <= 4.0 && worst[2] <= 4.0,
            "{worst:?} ulp"
        );
        // Against 50-digit values (mpmath: erfc(a/√2)/2 and e^(−a²/2)/√(2π)), where libm's
        // rounded argument would hide an error of the exactly carried exponent at large a.
        for (a, q, pdf) in MPMATH_NORMAL {
            let (got_q, got_pdf) = normal_tail_pdf(a);
            assert!(ulps(got_q, q) <= 6.0, "Q({a}): {got_q:e} vs {q:e}");
            assert!(ulps(got_pdf, pdf) <= 6.0, "φ({a}): {got_pdf:e} vs {pdf:e}");
        }
        assert_eq!(normal_tail_pdf(f64::INFINITY), (0.0, 0.0));
        assert_eq!(normal_tail_pdf(-45.0), (0.0, 0.0));
        let (q, pdf) = normal_tail_pdf(f64::NAN);
        assert!(q.is_nan() && pdf.is_nan());
        assert!((normal_tail_pdf(0.0).0 - 0.5).abs() < 1e-16);
    }

    #[test]
    fn log1p_matches_std_within_two_ulp() {
        let mut worst: f64 = 0.0;
        let n = 1_000_000;
        for i in 0..=n {
            let y = (i as f64) / (n as f64);
            worst = worst.max(ulps(log1p_unit(y), y.ln_1p()));
        }
        for e in 0..1074 {
            let y = 2f64.powi(-e);
            worst = worst.max(ulps(log1p_unit(y), y.ln_1p()));
        }
        assert!(worst <= 3.0, "worst {worst} ulp");
    }
}
