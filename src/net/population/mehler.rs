//! Pairs of neurons by Mehler's formula: the moments of a pair as a series in the correlation
//! of its two neurons, from Hermite coefficients computed once per neuron.
//!
//! With `u_k = b_k + s_k z₁`, `u_l = b_l + s_l z₂` (`s = ‖w‖`) the pair `(z₁, z₂)` is standard
//! bivariate normal with correlation `ρ = w_k·w_l / (s_k s_l)`, and Mehler's formula
//! (F. G. Mehler, J. reine angew. Math. 66, 1866; in this form e.g. O'Donnell, *Analysis of
//! Boolean Functions*, 2014, §11.2) gives
//! `M^{pq}_kl = E[σ_k⁽ᵖ⁾(u_k) σ_l⁽ᑫ⁾(u_l)] = Σ_n ρⁿ A^p_{k,n} A^q_{l,n}`, where
//! `A^p_{k,n} = E[σ_k⁽ᵖ⁾(b_k + s_k z) h_n(z)]` and `h_n = He_n/√n!` are the orthonormal
//! Hermite polynomials. By Cauchy–Schwarz the terms from `n = N` on sum to at most
//! `|ρ|^N ‖σ_k⁽ᵖ⁾‖ ‖σ_l⁽ᑫ⁾‖` (norms in `L²` of the Gaussian), so `N = ln(tolerance)/ln|ρ|`
//! terms give the pair to the tolerance relative to those norms. A pair then costs `15N`
//! multiply–adds instead of a two-dimensional rule; each neuron's coefficients cost one
//! one-dimensional rule with `N` Hermite functions on its nodes, shared by all its pairs (the
//! teacher's once). Pairs whose correlation is too close to ±1 (aligned or duplicated
//! neurons, where the series converges slowly) keep the two-dimensional rules of
//! `quadrature.rs`.
//!
//! The coefficients are integrals `∫ σ⁽ᵖ⁾(b + s z) h_n(z) φ(z) dz`, computed by the trapezoidal
//! rule on `[−Z, Z]` with `Z = √(4 ln(1/tolerance)) + 1` (the Hermite functions
//! `h_n √φ` are bounded, so `h_n φ ≲ √φ`, which is below the tolerance there), with the
//! Hermite functions by their three-term recurrence (no overflow: `|h_n √φ| ≤ 1`). The step
//! starts from the strip of analyticity `a = dist/s` of the activation's nearest complex
//! singularity (`dist`, `Activation::singularity_distance`), the pole order of the fourth
//! derivative and the spectrum of the Hermite functions (see `step`). The rule of twice the
//! step checks it, as the other rules are checked (halved until the difference is below
//! `√tolerance` of the norm), on the low-order coefficients that the coarser rule still
//! resolves; on the higher ones the coarser rule aliases the Hermite functions, and the step
//! model alone stands for the error.

use super::Neuron;
use super::quadrature::{Moments, norm};
use crate::net::activation::Activation;
use crate::net::fastmath::exp_nonpositive;
use crate::net::simd::dispatch;
use pulp::{Simd, WithSimd};

/// The most terms of a pair's series; pairs that would need more (|ρ| above ~0.9 at the
/// default tolerance) use the two-dimensional rules.
pub(super) const MAX_TERMS: usize = 300;
/// The largest trapezoidal step for the coefficients.
const H_MAX: f64 = 0.25;
/// Effective singularity distance for entire activations (as in `quadrature.rs`).
const ENTIRE: f64 = 3.0;

/// The Hermite coefficients `A^p_n` (`p ≤ 4`, `n < len`) of one neuron and their norms.
#[derive(Clone, Debug, Default)]
pub(super) struct Hermite {
    /// `a[p·len + n]`.
    a: Vec<f64>,
    len: usize,
    /// `‖σ⁽ᵖ⁾(b + s z)‖₂`.
    norm: [f64; 5],
    /// Estimated relative error of the coefficients (the squared difference to the rule of
    /// twice the step, relative to the norms).
    pub(super) err: f64,
    /// `w / ‖w‖`.
    dir: Vec<f64>,
}

/// Work space of [`Hermite::fill`].
#[derive(Default)]
pub(super) struct Scratch {
    z: Vec<f64>,
    x: Vec<f64>,
    f: Vec<f64>,
    g: Vec<f64>,
    v: Vec<f64>,
    prev: Vec<f64>,
}

/// Whether a neuron's pairs may use the series: a smooth activation and a nonzero weight
/// vector, but not `normal_cdf` or `sigmoid2` with the closed forms on (two of them make a
/// closed bivariate form, cheaper still) and not `exp` (whose integrand's mass moves to
/// `z ≈ s`, outside the coefficients' interval for large weights). `gelu` and the
/// polynomials have closed smoothings too, but their one-dimensional rules cost more than the
/// series (measured: `population_speed 8 4 16 3 gelu`, 1.7× as long).
fn eligible(n: &Neuron, closed_forms: bool) -> bool {
    let cdf = closed_forms && super::bivariate::cdf_form(&n.act).is_some();
    !cdf && !matches!(n.act, Activation::Exp)
        && n.act.eval5(0.0).is_some()
        && n.w.iter().any(|&v| v != 0.0)
}

/// The number of terms a pair of correlation `rho` needs at `tol`, if at most [`MAX_TERMS`].
pub(super) fn terms(rho: f64, tol: f64) -> Option<usize> {
    let r = rho.abs();
    if r == 0.0 {
        return Some(1);
    }
    if r.is_nan() || r >= 1.0 {
        return None;
    }
    let n = (tol.ln() / r.ln()).ceil().max(1.0);
    (n <= MAX_TERMS as f64).then_some(n as usize)
}

impl Hermite {
    /// `E[σ⁽ᵖ⁾(b + s z)]`, `p ≤ 4` (the coefficients of `h₀ = 1`), once computed.
    pub(super) fn means(&self) -> Option<[f64; 5]> {
        (self.len > 0).then(|| std::array::from_fn(|p| self.a[p * self.len]))
    }

    /// The number of coefficients held.
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// The correlation of two neurons' directions.
    pub(super) fn correlation(&self, other: &Hermite) -> f64 {
        let r: f64 = self.dir.iter().zip(&other.dir).map(|(x, y)| x * y).sum();
        r.clamp(-1.0, 1.0)
    }

    /// Takes the direction of neuron `n` (for [`Hermite::correlation`] before the
    /// coefficients) if it is [`eligible`], and drops the coefficients.
    pub(super) fn set_neuron(&mut self, n: &Neuron, closed_forms: bool) {
        self.dir.clear();
        self.len = 0;
        if eligible(n, closed_forms) {
            let s = norm(&n.w);
            self.dir.extend(n.w.iter().map(|v| v / s));
        }
    }

    /// Whether the neuron may use the series (see [`eligible`]).
    pub(super) fn is_eligible(&self) -> bool {
        !self.dir.is_empty()
    }

    /// Computes `len` coefficients of neuron `n` (an [`eligible`] one; its direction set by
    /// [`Hermite::set_neuron`]). Returns `false`, leaving no coefficients, when the rule
    /// would need more than `max_points` nodes (very large weights).
    pub(super) fn fill(
        &mut self,
        n: &Neuron,
        len: usize,
        tol: f64,
        max_points: usize,
        scratch: &mut Scratch,
    ) -> bool {
        self.len = 0;
        let s = norm(&n.w);
        if !(s.is_finite() && s > 0.0 && n.b.is_finite()) {
            return false;
        }
        let a = n.act.singularity_distance().unwrap_or(ENTIRE) / s;
        let ln = (1.0 / tol).ln();
        let z_max = (4.0 * ln).sqrt() + 1.0;
        let mut h = step(a, len, ln);
        loop {
            if !h.is_finite() || h <= 0.0 || z_max / h > max_points as f64 {
                return false;
            }
            // Nodes j·h, j = −J..=J. The rule is symmetric and `h_n(−z) = (−1)ⁿh_n(z)`, so
            // the sums run over j = 0..=J with the even and odd parts of the integrand.
            let half = (z_max / h).ceil() as usize;
            let count = 2 * half + 1;
            if count > max_points {
                return false;
            }
            let padded = (half + 1).next_multiple_of(LANES);
            let sc = &mut *scratch;
            sc.x.clear();
            sc.x.extend((0..=half).map(|j| n.b + s * (j as f64 * h)));
            sc.x.extend((1..=half).map(|j| n.b - s * (j as f64 * h)));
            sc.f.resize(5 * count, 0.0);
            let smooth = n.act.eval5_columns(&sc.x, &mut sc.f);
            debug_assert!(smooth, "eligible neurons are smooth");
            sc.z.clear();
            sc.z.extend((0..padded).map(|j| j as f64 * h));
            // v = √φ(z) = h₀√φ; g = h·√φ(z)·(σ⁽ᵖ⁾(b + sz) ± σ⁽ᵖ⁾(b − sz)), even parts in
            // columns 0..5, odd ones in 5..10 (zero beyond J).
            let c = (2.0 * std::f64::consts::PI).powf(-0.25);
            sc.v.clear();
            sc.v.extend(sc.z.iter().map(|&z| c * exp_nonpositive(-0.25 * z * z)));
            sc.g.clear();
            sc.g.resize(10 * padded, 0.0);
            let mut nrm = [0.0; 5];
            for p in 0..5 {
                let f = &sc.f[p * count..(p + 1) * count];
                for j in 0..=half {
                    let (plus, minus) = if j == 0 {
                        (f[0], f[0])
                    } else {
                        (f[j], f[half + j])
                    };
                    let wv = h * sc.v[j];
                    let (even, odd) = if j == 0 {
                        (plus, 0.0)
                    } else {
                        (plus + minus, plus - minus)
                    };
                    sc.g[p * padded + j] = wv * even;
                    sc.g[(5 + p) * padded + j] = wv * odd;
                    let sq = if j == 0 {
                        plus * plus
                    } else {
                        plus * plus + minus * minus
                    };
                    nrm[p] += h * sc.v[j] * sc.v[j] * sq;
                }
                nrm[p] = nrm[p].sqrt();
            }
            sc.prev.clear();
            sc.prev.resize(padded, 0.0);
            self.a.resize(5 * len, 0.0);
            let diff = dispatch(Coefficients {
                z: &sc.z,
                g: &sc.g,
                v: &mut sc.v,
                prev: &mut sc.prev,
                len,
                checked: checked(a, h, ln).min(len),
                a: &mut self.a,
            });
            if !(nrm.iter().chain(&diff).all(|v| v.is_finite())) {
                return false;
            }
            let rel = (0..5)
                .map(|p| if nrm[p] > 0.0 { diff[p] / nrm[p] } else { 0.0 })
                .fold(0.0, f64::max);
            if rel <= tol.sqrt() {
                self.len = len;
                self.norm = nrm;
                self.err = rel * rel;
                return true;
            }
            h *= 0.5;
        }
    }
}

/// The trapezoidal step for the coefficients `n < len` of an activation analytic in the strip
/// `|Im z| < a`: the rule's error is the integrand's Fourier transform at `2π/h`, which for
/// `σ⁽ᵖ⁾(b + s z) h_n(z) φ(z)` is about `(2π/h)^p e^{−a(2π/h − √n)}` (the transform of
/// `h_n φ`, `∝ ωⁿ e^{−ω²/2}`, peaks at `ω = √n`; the pole of order `p + 1` of `σ⁽ᵖ⁾` brings
/// `ω^p`); `p = 4`, set to `e^{−ln(1/tol)}` (`ln` = `ln(1/tol)`).
fn step(a: f64, len: usize, ln: f64) -> f64 {
    let tau = 2.0 * std::f64::consts::PI;
    let mut h = H_MAX;
    for _ in 0..3 {
        let w = tau / h;
        h = tau * a / (ln + a * (len as f64).sqrt() + 4.0 * w.ln().max(0.0));
    }
    h.min(H_MAX)
}

/// How many coefficients the rule of twice the step `2h` still integrates to `√tolerance` by
/// the model of [`step`] (at least one): the ones whose difference to it measures the finer
/// rule's error (the higher ones oscillate too fast for the coarser rule, so their
/// difference says nothing about the finer one; the model covers them).
fn checked(a: f64, h: f64, ln: f64) -> usize {
    let w = std::f64::consts::PI / h;
    let root = w - (0.5 * ln + 4.0 * w.ln().max(0.0)) / a;
    if root <= 1.0 {
        1
    } else {
        (root * root) as usize
    }
}

/// Lanes of the coefficient kernel (lanes 0 and 2 hold even positions, 1 and 3 odd ones).
const LANES: usize = 4;

/// For `n < len`: `a[p·len + n] = Σ_i g_p[i] v_n[i]` (`g` the even columns for even `n`,
/// the odd ones for odd `n`) with the Hermite functions
/// `v_{n+1} = (z v_n − √n v_{n−1})/√(n+1)` advanced in place (`v` holds `v₀`, `prev` zeros);
/// returns, per `p`, the largest difference between the sums over odd and even positions
/// (the fine rule minus the rule of twice the step).
struct Coefficients<'a> {
    z: &'a [f64],
    g: &'a [f64],
    v: &'a mut [f64],
    prev: &'a mut [f64],
    len: usize,
    /// The coefficients `n < checked` enter the returned differences.
    checked: usize,
    a: &'a mut [f64],
}

impl WithSimd for Coefficients<'_> {
    type Output = [f64; 5];
    #[inline(always)]
    fn with_simd<S: Simd>(self, _: S) -> [f64; 5] {
        let n = self.z.len();
        let len = self.len;
        let cols: [&[f64]; 10] = std::array::from_fn(|p| &self.g[p * n..(p + 1) * n]);
        let (mut v, mut prev) = (self.v, self.prev);
        let mut diff = [0.0f64; 5];
        for k in 0..len {
            let g = if k % 2 == 0 { &cols[..5] } else { &cols[5..] };
            let mut acc = [[0.0f64; LANES]; 5];
            for i0 in (0..n).step_by(LANES) {
                let vl: [f64; LANES] = std::array::from_fn(|l| v[i0 + l]);
                for p in 0..5 {
                    for l in 0..LANES {
                        acc[p][l] = g[p][i0 + l].mul_add(vl[l], acc[p][l]);
                    }
                }
            }
            for p in 0..5 {
                let even = acc[p][0] + acc[p][2];
                let odd = acc[p][1] + acc[p][3];
                self.a[p * len + k] = even + odd;
                if k < self.checked {
                    diff[p] = diff[p].max((odd - even).abs());
                }
            }
            // v_{k+1} into prev, then swap.
            let (c1, c2) = ((k as f64).sqrt(), 1.0 / ((k + 1) as f64).sqrt());
            for i in 0..n {
                prev[i] = self.z[i].mul_add(v[i], -c1 * prev[i]) * c2;
            }
            std::mem::swap(&mut v, &mut prev);
        }
        diff
    }
}

/// The moments `M^{pq}`, `p + q ≤ order`, of a pair from its neurons' coefficients and
/// correlation with `terms` terms (both hold at least that many); returns the pair's
/// estimated relative error (truncation and coefficients).
pub(super) fn pair(
    k: &Hermite,
    l: &Hermite,
    rho: f64,
    terms: usize,
    order: usize,
    out: &mut Moments,
) -> f64 {
    debug_assert!(terms <= k.len && terms <= l.len);
    let mut m = [0.0; 25];
    let mut pw = 1.0;
    for n in 0..terms {
        let bl: [f64; 5] = std::array::from_fn(|q| l.a[q * l.len + n]);
        for p in 0..=order {
            let ap = pw * k.a[p * k.len + n];
            for q in 0..=(order - p) {
                m[p * 5 + q] += ap * bl[q];
            }
        }
        pw *= rho;
    }
    *out = m;
    pw.abs().max(k.err).max(l.err)
}

/// The coefficients of neuron `j` of a task `(i, j)`: student `j` below `m =
/// students.len()`, teacher neuron `j − m` above.
pub(super) fn hermite<'a>(
    students: &'a [Hermite],
    teacher: &'a [Hermite],
    j: usize,
) -> &'a Hermite {
    match j.checked_sub(students.len()) {
        Some(t) => &teacher[t],
        None => &students[j],
    }
}

impl super::Population {
    /// The series terms and the correlation of each task of the evaluation (0 terms: the
    /// pair keeps its rule) and the students' coefficients, as many as their pairs need.
    pub(super) fn plan_series(&mut self) {
        let m = self.students.len();
        let opts = &self.quad.opts;
        self.plan.clear();
        self.herm_s.resize_with(m, Hermite::default);
        self.herm_need.clear();
        self.herm_need.resize(m, 0);
        if !opts.mehler {
            self.plan.resize(self.tasks.len(), (0, 0.0));
            return;
        }
        let tol = opts.tolerance;
        for (n, h) in self.students.iter().zip(&mut self.herm_s) {
            h.set_neuron(n, opts.closed_forms);
        }
        for &(i, j) in &self.tasks {
            let (hk, hl) = (&self.herm_s[i], hermite(&self.herm_s, &self.herm_t, j));
            let rho = hk.correlation(hl);
            let t = if i != j && hk.is_eligible() && hl.is_eligible() {
                terms(rho, tol).unwrap_or(0)
            } else {
                0
            };
            if t > 0 {
                self.herm_need[i] = self.herm_need[i].max(t);
                if j < m {
                    self.herm_need[j] = self.herm_need[j].max(t);
                }
            }
            self.plan.push((t, rho));
        }
        // The students' coefficients, in contiguous blocks on the evaluation's threads (each
        // neuron's depend on it alone: the same bits on any number).
        let threads = self.herm_scratch.len().clamp(1, m.max(1));
        let block = m.div_ceil(threads).max(1);
        let max_points = opts.max_points;
        let jobs = self
            .herm_s
            .chunks_mut(block)
            .zip(self.students.chunks(block))
            .zip(self.herm_need.chunks(block))
            .zip(self.herm_scratch.iter_mut());
        let fill = |((herm, students), need): ((&mut [Hermite], &[Neuron]), &[usize]),
                    scratch: &mut Scratch| {
            for ((h, n), &need) in herm.iter_mut().zip(students).zip(need) {
                if need > 0 {
                    h.fill(n, need, tol, max_points, scratch);
                }
            }
        };
        if threads == 1 {
            jobs.for_each(|(job, scratch)| fill(job, scratch));
        } else {
            rayon::scope(|sc| {
                for (job, scratch) in jobs {
                    let fill = &fill;
                    sc.spawn(move |_| fill(job, scratch));
                }
            });
        }
        for (&(i, j), (t, _)) in self.tasks.iter().zip(&mut self.plan) {
            let hl = hermite(&self.herm_s, &self.herm_t, j);
            if *t > self.herm_s[i].len() || *t > hl.len() {
                *t = 0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::quadrature::Quadrature;
    use super::super::{Neuron, PopulationOptions};
    use super::*;

    fn neuron(act: &Activation, s: f64, b: f64, dir: [f64; 2]) -> Neuron {
        Neuron {
            w: vec![s * dir[0], s * dir[1]],
            b,
            act: act.clone(),
        }
    }

    /// The largest difference of two pairs' moments relative to the norms of their neurons'
    /// derivatives; fails above 1e-12.
    fn compare(got: &Moments, want: &Moments, hk: &Hermite, hl: &Hermite, what: &str) -> f64 {
        let mut worst = 0.0f64;
        for p in 0..=4 {
            for q in 0..=(4 - p) {
                let scale = hk.norm[p] * hl.norm[q];
                let e = (got[p * 5 + q] - want[p * 5 + q]).abs() / scale.max(1e-300);
                worst = worst.max(e);
                assert!(
                    e <= 1e-12,
                    "{what}: M{p}{q} {} vs {} ({e:e} of the norms)",
                    got[p * 5 + q],
                    want[p * 5 + q]
                );
            }
        }
        worst
    }

    /// Every eligible activation, small to large weights, biases, correlations up to the
    /// series' limit and negative ones: the series agrees with the two-dimensional rules at a
    /// 100× tighter tolerance to 1e-12 of the norms, every moment up to order 4.
    #[test]
    fn the_series_matches_the_two_dimensional_rules() {
        let tol = 1e-13;
        let reference = PopulationOptions {
            tolerance: 1e-15,
            max_points: 8193,
            ..PopulationOptions::default()
        };
        let mut quad = Quadrature::new(&reference);
        let mut scratch = Scratch::default();
        let mut checked = 0;
        let mut worst = 0.0f64;
        for act in Activation::all_examples() {
            let probe = neuron(&act, 1.0, 0.0, [1.0, 0.0]);
            if !eligible(&probe, true) {
                continue;
            }
            for (sk, sl, bk, bl, rho) in [
                (0.1, 0.3, 0.2, -0.1, 0.5),
                (0.7, 1.1, -0.4, 0.9, 0.3),
                (1.0, 1.0, 0.0, 0.0, -0.8),
                (2.0, 0.5, 1.5, -0.3, 0.88),
                (3.0, 3.0, 0.3, -2.0, -0.6),
                (4.0, 1.5, -3.0, 0.5, 0.1),
            ] {
                let k = neuron(&act, sk, bk, [1.0, 0.0]);
                let l = neuron(&act, sl, bl, [rho, (1.0 - rho * rho).sqrt()]);
                let (mut hk, mut hl) = (Hermite::default(), Hermite::default());
                hk.set_neuron(&k, true);
                hl.set_neuron(&l, true);
                let r = hk.correlation(&hl);
                let n = terms(r, tol).expect("within the series' range");
                assert!(hk.fill(&k, n, tol, 2049, &mut scratch), "{act} {sk}");
                assert!(hl.fill(&l, n, tol, 2049, &mut scratch), "{act} {sl}");
                let mut got = [0.0; 25];
                let err = pair(&hk, &hl, r, n, 4, &mut got);
                assert!(err <= tol, "{act}: error estimate {err:e}");
                let mut want = [0.0; 25];
                quad.pair(&k, &l, false, 4, &mut want);
                let what = format!("{act} s {sk}/{sl} b {bk}/{bl} ρ {rho}");
                worst = worst.max(compare(&got, &want, &hk, &hl, &what));
                checked += 1;
            }
        }
        eprintln!("worst {worst:e} over {checked} pairs");
        assert!(checked >= 30, "{checked} pairs checked");
    }

    /// Nearly aligned pairs (the inner width `q₂` from 0 to a tenth of the singularity
    /// distance), whose inner integrals take a few Gauss–Hermite nodes in `quadrature.rs`,
    /// match the trapezoidal inner rules at a 100× tighter tolerance to 1e-12 of the norms.
    #[test]
    fn nearly_aligned_pairs_match_the_trapezoidal_inner_rules() {
        let fast = PopulationOptions::default();
        let reference = PopulationOptions {
            tolerance: 1e-15,
            max_points: 8193,
            ..PopulationOptions::default()
        };
        let mut quad = Quadrature::new(&fast);
        let mut slow = Quadrature::new(&reference);
        slow.gauss_inner = false;
        let mut scratch = Scratch::default();
        let (mut checked, mut worst) = (0, 0.0f64);
        for act in Activation::all_examples() {
            let probe = neuron(&act, 1.0, 0.0, [1.0, 0.0]);
            if !eligible(&probe, true) {
                continue;
            }
            for (s, bk, bl) in [(0.5, 0.3, -0.2), (3.0, 0.1, 0.4), (1.2, -1.0, -1.3)] {
                for angle in [0.0, 1e-9, 1e-6, 1e-4, 1e-3, 1e-2, 0.05] {
                    let (sin, cos) = f64::sin_cos(angle);
                    let k = neuron(&act, s, bk, [1.0, 0.0]);
                    let l = neuron(&act, 1.1 * s, bl, [cos, sin]);
                    let (mut hk, mut hl) = (Hermite::default(), Hermite::default());
                    hk.set_neuron(&k, true);
                    hl.set_neuron(&l, true);
                    assert!(hk.fill(&k, 1, 1e-13, 8193, &mut scratch));
                    assert!(hl.fill(&l, 1, 1e-13, 8193, &mut scratch));
                    let (mut got, mut want) = ([0.0; 25], [0.0; 25]);
                    quad.pair(&k, &l, false, 4, &mut got);
                    slow.pair(&k, &l, false, 4, &mut want);
                    let what = format!("{act} s {s} angle {angle}");
                    worst = worst.max(compare(&got, &want, &hk, &hl, &what));
                    checked += 1;
                }
            }
        }
        eprintln!("worst {worst:e} over {checked} pairs");
        assert!(checked >= 100, "{checked} pairs checked");
    }

    #[test]
    fn terms_follow_the_correlation() {
        assert_eq!(terms(0.0, 1e-13), Some(1));
        assert_eq!(terms(0.1, 1e-13), Some(14));
        assert_eq!(terms(-0.5, 1e-13), Some(44));
        assert_eq!(terms(0.95, 1e-13), None);
        assert_eq!(terms(1.0, 1e-13), None);
    }
}
