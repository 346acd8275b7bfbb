//! Fully closed pair moments of two erf-family neurons (`normal_cdf`, `sigmoid2`): no
//! quadrature at all.
//!
//! In the frame of `Quadrature::pair` (`u_k = b_k + p₁z₁`, `u_l = b_l + q₁z₁ + q₂z₂`) the inner
//! smoothing of `Φ` leaves `E_{z₁}[Φ⁽ᵖ⁾(a₀ + a₁z₁) Φ⁽ᑫ⁾(c₀ + c₁z₁)]` with `a₀ = b_k`, `a₁ = p₁`,
//! `c₀ = b_l/r`, `c₁ = q₁/r`, `r = √(1 + q₂²)`. Every such moment is a partial derivative
//! `∂^p_{a₀} ∂^q_{c₀} H` of `H(a₀, c₀) = E[Φ(a₀ + a₁z)Φ(c₀ + c₁z)] = Φ₂(h, k; ρ)`, the
//! bivariate normal CDF at `h = a₀/√(1 + a₁²)`, `k = c₀/√(1 + c₁²)` with correlation
//! `ρ = a₁c₁/√((1 + a₁²)(1 + c₁²))`. Its first derivatives are
//! `∂_h Φ₂ = φ(h) Φ((k − ρh)/√(1 − ρ²))` (and symmetrically in `k`), whose higher derivatives
//! are taken exactly by truncated Taylor arithmetic in `(a₀, c₀)` ([`Jet`]). `Φ₂` itself is
//! Genz's method (A. Genz, "Numerical computation of rectangular bivariate and trivariate
//! normal and t probabilities", Statistics and Computing 14, 2004, after Drezner and
//! Wesolowsky 1990): a 20-point Gauss–Legendre rule of Sheppard's arcsine formula for
//! `|ρ| < 0.925`, otherwise of the expansion around `|ρ| = 1`; ~1e-15 absolute.

use std::f64::consts::PI;
use std::sync::OnceLock;

use super::quadrature::Moments;
use super::smoothing::{cdf, cdf_derivatives, pdf};
use crate::net::activation::Activation;

/// `σ = αΦ + β` for the erf family, else `None`.
pub(super) fn cdf_form(act: &Activation) -> Option<(f64, f64)> {
    match act {
        Activation::NormalCdf => Some((1.0, 0.0)),
        Activation::Sigmoid2 => Some((2.0, -1.0)),
        _ => None,
    }
}

/// Number of monomials `δa^i δc^j`, `i + j ≤ 3`.
const N: usize = 10;

/// Index of the monomial `δa^i δc^j` (`i + j ≤ 3`).
const fn at(i: usize, j: usize) -> usize {
    let deg = i + j;
    deg * (deg + 1) / 2 + j
}

/// A function of `(a₀ + δa, c₀ + δc)` as its Taylor polynomial of total degree 3.
#[derive(Clone, Copy, Debug)]
struct Jet([f64; N]);

impl Jet {
    /// `x₀ + ga·δa + gc·δc`.
    fn linear(x0: f64, ga: f64, gc: f64) -> Jet {
        let mut c = [0.0; N];
        c[at(0, 0)] = x0;
        c[at(1, 0)] = ga;
        c[at(0, 1)] = gc;
        Jet(c)
    }

    fn mul(&self, o: &Jet) -> Jet {
        let mut c = [0.0; N];
        for i1 in 0..=3 {
            for j1 in 0..=(3 - i1) {
                let x = self.0[at(i1, j1)];
                if x == 0.0 {
                    continue;
                }
                for i2 in 0..=(3 - i1 - j1) {
                    for j2 in 0..=(3 - i1 - j1 - i2) {
                        c[at(i1 + i2, j1 + j2)] += x * o.0[at(i2, j2)];
                    }
                }
            }
        }
        Jet(c)
    }

    /// `f(self)` from `t[j] = f⁽ʲ⁾(x₀)/j!` at the constant term `x₀`.
    fn compose(&self, t: [f64; 4]) -> Jet {
        let mut d = *self;
        d.0[0] = 0.0;
        let d2 = d.mul(&d);
        let d3 = d2.mul(&d);
        let mut c = [0.0; N];
        for m in 0..N {
            c[m] = t[1] * d.0[m] + t[2] * d2.0[m] + t[3] * d3.0[m];
        }
        c[0] = t[0];
        Jet(c)
    }

    fn pdf(&self) -> Jet {
        let x = self.0[0];
        let f = pdf(x);
        self.compose([
            f,
            -x * f,
            0.5 * (x * x - 1.0) * f,
            -x * (x * x - 3.0) * f / 6.0,
        ])
    }

    fn cdf(&self) -> Jet {
        let x = self.0[0];
        let f = pdf(x);
        self.compose([cdf(x), f, -0.5 * x * f, (x * x - 1.0) * f / 6.0])
    }

    /// `∂^i_a ∂^j_c` at the expansion point.
    fn derivative(&self, i: usize, j: usize) -> f64 {
        self.0[at(i, j)] * factorial(i) * factorial(j)
    }
}

fn factorial(n: usize) -> f64 {
    (1..=n).map(|k| k as f64).product()
}

/// The 20-point Gauss–Legendre rule on `[−1, 1]`: its 10 positive nodes and their weights
/// (Newton's method on the Legendre polynomial, once).
fn gauss_legendre_20() -> &'static [(f64, f64); 10] {
    static RULE: OnceLock<[(f64, f64); 10]> = OnceLock::new();
    RULE.get_or_init(|| {
        let n = 20;
        let mut out = [(0.0, 0.0); 10];
        for (i, o) in out.iter_mut().enumerate() {
            let mut x = (PI * (i as f64 + 0.75) / (n as f64 + 0.5)).cos();
            let mut dp = 1.0;
            for _ in 0..100 {
                let (mut p0, mut p1) = (1.0, x);
                for k in 2..=n {
                    let kf = k as f64;
                    let p2 = ((2.0 * kf - 1.0) * x * p1 - (kf - 1.0) * p0) / kf;
                    p0 = p1;
                    p1 = p2;
                }
                dp = n as f64 * (x * p1 - p0) / (x * x - 1.0);
                let dx = p1 / dp;
                x -= dx;
                if dx.abs() < 1e-16 {
                    break;
                }
            }
            *o = (x, 2.0 / ((1.0 - x * x) * dp * dp));
        }
        out
    })
}

/// `Φ₂(h, k; ρ) = P(X ≤ h, Y ≤ k)` for standard normals of correlation `ρ`, `|ρ| < 1`
/// (Genz 2004, see the module docs).
pub(super) fn bivariate_cdf(h: f64, k: f64, rho: f64) -> f64 {
    bivariate_cdf_given(h, k, rho, (1.0 - rho) * (1.0 + rho))
}

/// [`bivariate_cdf`] with `1 − ρ²` given (`one_minus_rho2`, exact where the caller knows the
/// angle: near `|ρ| = 1` the rounding of `ρ` alone moves the angle by `√ε`).
pub(super) fn bivariate_cdf_given(h: f64, k: f64, rho: f64, one_minus_rho2: f64) -> f64 {
    // Genz's BVND computes P(X > dh, Y > dk).
    let (h, mut k) = (-h, -k);
    let rule = gauss_legendre_20();
    let mut hk = h * k;
    if rho.abs() < 0.925 {
        let hs = 0.5 * (h * h + k * k);
        let asr = rho.asin();
        let mut sum = 0.0;
        for &(x, w) in rule {
            for sign in [-1.0, 1.0] {
                let sn = (0.5 * asr * (sign * x + 1.0)).sin();
                sum += w * ((sn * hk - hs) / (1.0 - sn * sn)).exp();
            }
        }
        return sum * asr / (4.0 * PI) + cdf(-h) * cdf(-k);
    }
    if rho < 0.0 {
        k = -k;
        hk = -hk;
    }
    let mut bvn = 0.0;
    let a2 = one_minus_rho2;
    let a = a2.sqrt();
    let bs = (h - k) * (h - k);
    let c = (4.0 - hk) / 8.0;
    let d = (12.0 - hk) / 16.0;
    let asr = -0.5 * (bs / a2 + hk);
    if asr > -100.0 {
        bvn = a
            * asr.exp()
            * (1.0 - c * (bs - a2) * (1.0 - d * bs / 5.0) / 3.0 + c * d * a2 * a2 / 5.0);
    }
    if -hk < 100.0 {
        let b = bs.sqrt();
        bvn -= (-0.5 * hk).exp()
            * (2.0 * PI).sqrt()
            * cdf(-b / a)
            * b
            * (1.0 - c * bs * (1.0 - d * bs / 5.0) / 3.0);
    }
    let half = 0.5 * a;
    for &(x, w) in rule {
        for sign in [-1.0, 1.0] {
            let xs = (half * (sign * x + 1.0)).powi(2);
            let rs = (1.0 - xs).sqrt();
            let asr = -0.5 * (bs / xs + hk);
            if asr > -100.0 {
                bvn += half
                    * w
                    * asr.exp()
                    * ((-hk * (1.0 - rs) / (2.0 * (1.0 + rs))).exp() / rs
                        - (1.0 + c * xs * (1.0 + d * xs)));
            }
        }
    }
    bvn = -bvn / (2.0 * PI);
    if rho > 0.0 {
        bvn + cdf(-h.max(k))
    } else {
        let mut out = -bvn;
        if k > h {
            out += cdf(k) - cdf(h);
        }
        out
    }
}

/// `M^{pq}` (`p + q ≤ 4`) of `σ_k(b_k + p₁z₁)` and `σ_l(b_l + q₁z₁ + q₂z₂)`, both of the erf
/// family ([`cdf_form`]).
pub(super) fn erf_pair(
    form_k: (f64, f64),
    form_l: (f64, f64),
    bk: f64,
    bl: f64,
    (p1, q1, q2): (f64, f64, f64),
    out: &mut Moments,
) {
    let ((ak, bek), (al, bel)) = (form_k, form_l);
    let r = q2.mul_add(q2, 1.0).sqrt();
    let (a0, a1, c0, c1) = (bk, p1, bl / r, q1 / r);
    let (ra, rc) = (a1.mul_add(a1, 1.0).sqrt(), c1.mul_add(c1, 1.0).sqrt());
    let (h0, k0) = (a0 / ra, c0 / rc);
    let rho = a1 * c1 / (ra * rc);
    let s = ((1.0 - rho) * (1.0 + rho)).sqrt();
    let h = Jet::linear(h0, 1.0 / ra, 0.0);
    let k = Jet::linear(k0, 0.0, 1.0 / rc);
    let scaled = |x: &Jet, y: &Jet| {
        let mut c = [0.0; N];
        for m in 0..N {
            c[m] = (x.0[m] - rho * y.0[m]) / s;
        }
        Jet(c)
    };
    // ∂_{a₀}H = φ(h)Φ((k − ρh)/s)/ra and ∂_{c₀}H = φ(k)Φ((h − ρk)/s)/rc.
    let da = h.pdf().mul(&scaled(&k, &h).cdf());
    let dc = k.pdf().mul(&scaled(&h, &k).cdf());
    let mean_k = cdf_derivatives(h0);
    let mean_l = cdf_derivatives(k0);
    for p in 0..=4 {
        for q in 0..=(4 - p) {
            let d = match (p, q) {
                (0, 0) => bivariate_cdf(h0, k0, rho),
                (0, q) => dc.derivative(0, q - 1) / rc,
                (p, q) => da.derivative(p - 1, q) / ra,
            };
            // Φ⁽ᑫ⁾(c₀ + c₁z) is ∂^q_{c₀}; T_l⁽ᑫ⁾ carries r^{−q} from its argument (b_l + …)/r.
            let mut m = ak * al * d / r.powi(q as i32);
            if q == 0 {
                // β_l: E[σ_k⁽ᵖ⁾(a₀ + a₁z)] = Φ⁽ᵖ⁾(h₀)/ra^p, plus β_k for p = 0.
                m += bel
                    * if p == 0 {
                        ak * mean_k[0] + bek
                    } else {
                        ak * mean_k[p] / ra.powi(p as i32)
                    };
            }
            if p == 0 {
                // β_k: E[T_l⁽ᑫ⁾] = α_l Φ⁽ᑫ⁾(k₀)/(r·rc)^q (q ≥ 1; q = 0 is above).
                m += bek * al * mean_l[q] / (r * rc).powi(q as i32);
            }
            out[p * 5 + q] = m;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::simpson_weight;
    use super::*;

    /// `Φ₂` against `∫_{−∞}^{k} φ(y) Φ((h − ρy)/√(1 − ρ²)) dy` (a smooth integrand) by
    /// Simpson's rule with a tiny step on `[−40, k]`, in both of Genz's branches and both signs
    /// of `ρ`.
    #[test]
    fn bivariate_cdf_matches_a_fine_rule() {
        for &(h, k, rho) in &[
            (0.3f64, -0.2f64, 0.1f64),
            (1.5, 0.7, -0.6),
            (-2.0, 1.0, 0.8),
            (0.4, 0.4, 0.95),
            (-0.3, 2.5, -0.97),
            (1.2, -1.1, 0.999),
            (-1.7, -0.4, -0.5),
            (3.0, 3.0, 0.0),
        ] {
            let s = ((1.0 - rho) * (1.0 + rho)).sqrt();
            let n = 200_000;
            let (lo, hi) = (-40.0f64, k);
            let step = (hi - lo) / n as f64;
            let mut sum = 0.0;
            for i in 0..=n {
                let y = lo + i as f64 * step;
                let w = simpson_weight(i, n);
                sum += w * pdf(y) * cdf((h - rho * y) / s);
            }
            let reference = sum * step / 3.0;
            let got = bivariate_cdf(h, k, rho);
            assert!(
                (got - reference).abs() < 1e-14,
                "Φ₂({h}, {k}; {rho}) = {got}, reference {reference}"
            );
        }
    }

    /// Without biases the `sigmoid2` pair has the arcsine form of C. K. I. Williams
    /// ("Computing with infinite networks", NIPS 1996):
    /// `E[erf(u/√2) erf(v/√2)] = (2/π) asin(Σ_uv/√((1 + Σ_uu)(1 + Σ_vv)))`, and
    /// `E[σ′(u)σ′(v)] = 4 E[φ(u)φ(v)] = (2/π)/√det(I + Σ)`.
    #[test]
    fn bias_free_sigmoid2_pairs_match_the_arcsine_formula() {
        for &(p1, q1, q2) in &[
            (0.7f64, 0.3f64, 1.1f64),
            (3.0, -2.5, 0.4),
            (1.0, 1.0, 0.0),
            (2.0, 0.0, 2.0),
        ] {
            let mut m = [0.0; 25];
            erf_pair((2.0, -1.0), (2.0, -1.0), 0.0, 0.0, (p1, q1, q2), &mut m);
            let (suu, svv, suv) = (p1 * p1, q1 * q1 + q2 * q2, p1 * q1);
            let arcsine = 2.0 / PI * (suv / ((1.0 + suu) * (1.0 + svv)).sqrt()).asin();
            assert!(
                (m[0] - arcsine).abs() < 1e-15,
                "{p1} {q1} {q2}: {} vs {arcsine}",
                m[0]
            );
            let det = (1.0 + suu) * (1.0 + svv) - suv * suv;
            let m11 = 2.0 / PI / det.sqrt();
            assert!(
                (m[6] - m11).abs() < 1e-15,
                "{p1} {q1} {q2}: {} vs {m11}",
                m[6]
            );
        }
    }
}
