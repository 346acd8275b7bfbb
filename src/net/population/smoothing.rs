//! Closed forms of the Gaussian smoothing `T⁽ᑫ⁾(μ; s) = E_z[σ⁽ᑫ⁾(μ + s z)]`, `z ~ N(0, 1)`, of
//! the activations that have one: the erf family (`normal_cdf`, `sigmoid2`, `gelu`), `exp`
//! and the polynomials (`identity`, `square`, `cube`, `polynomial`).
//!
//! With them the inner integral of a pair moment is exact and each pair costs a
//! one-dimensional rule instead of a two-dimensional one (see `Quadrature::pair`), and the
//! one-dimensional moments of such a neuron need no rule at all.
//!
//! Formulas (`r = √(1 + s²)`, `a = μ/r`, `φ` and `Φ` the standard normal density and CDF):
//! - `E[Φ(μ + s z)] = Φ(a)` (the CDF of `N(0, 1)` at `μ + s z` is `P(ζ − s z ≤ μ)` with
//!   `ζ − s z ~ N(0, r²)`), and `∂^q_μ` of it are `Φ⁽ᑫ⁾(a)/r^q` with
//!   `Φ⁽ᑫ⁾ = He_{q−1}(a)·(−1)^{q−1}·φ(a)` (Hermite polynomials; Owen 1980, "A table of normal
//!   integrals", Commun. Statist. B9, formula 10,010.8);
//! - `erf(x/√2) = 2Φ(x) − 1`;
//! - `gelu(x) = xΦ(x)`: `E[(μ + s z)Φ(μ + s z)] = μΦ(a) + (s²/r)φ(a)` by Stein's lemma
//!   `E[z h(μ + s z)] = s E[h′(μ + s z)]`; its derivatives follow by differentiating in `μ`;
//! - `E[e^{μ + s z}] = e^{μ + s²/2}` (every derivative the same);
//! - polynomials: `E[P(μ + s z)] = Σ_j P⁽²ʲ⁾(μ) s^{2j}/(2^j j!)` (the Gaussian moments
//!   `E[z^{2j}] = (2j − 1)!!`).

use crate::net::activation::Activation;
use std::f64::consts::{FRAC_1_SQRT_2, PI};

/// Whether [`smoothing`] has a closed form for `act`.
pub(super) fn has_closed_form(act: &Activation) -> bool {
    smoothing(act, 0.0, 0.0).is_some()
}

/// The standard normal CDF `Φ(x)`.
pub(super) fn cdf(x: f64) -> f64 {
    0.5 * libm::erfc(-x * FRAC_1_SQRT_2)
}

/// The standard normal density `φ(x)`.
pub(super) fn pdf(x: f64) -> f64 {
    (-0.5 * x * x).exp() / (2.0 * PI).sqrt()
}

/// `Φ⁽ʲ⁾(x)` for `j = 0..=4`.
pub(super) fn cdf_derivatives(x: f64) -> [f64; 5] {
    let f = pdf(x);
    [cdf(x), f, -x * f, (x * x - 1.0) * f, -x * (x * x - 3.0) * f]
}

/// `[T⁰, …, T⁴](μ; s)`, `T^q = E[σ⁽ᑫ⁾(μ + s z)]`, or `None` when `act` has no closed form.
pub(super) fn smoothing(act: &Activation, mu: f64, s: f64) -> Option<[f64; 5]> {
    use Activation::*;
    let r = s.mul_add(s, 1.0).sqrt();
    let a = mu / r;
    // ∂^q_μ Φ(μ/r) = Φ⁽ᑫ⁾(a)/r^q.
    let cdf_smoothed = || {
        let d = cdf_derivatives(a);
        [
            d[0],
            d[1] / r,
            d[2] / (r * r),
            d[3] / (r * r * r),
            d[4] / (r * r * r * r),
        ]
    };
    Some(match act {
        NormalCdf => cdf_smoothed(),
        Sigmoid2 => {
            let d = cdf_smoothed();
            [
                libm::erf(a * FRAC_1_SQRT_2),
                2.0 * d[1],
                2.0 * d[2],
                2.0 * d[3],
                2.0 * d[4],
            ]
        }
        Gelu => {
            // With F(a) = Φ(a) + aφ(a)/r², T¹ = F(a) and T^{q+1} = F⁽ᑫ⁾(a)/r^q.
            let (r2, a2) = (r * r, a * a);
            let (cdf, phi) = (cdf(a), pdf(a));
            let f1 = phi * (1.0 + (1.0 - a2) / r2);
            let f2 = -a * phi * (1.0 + (3.0 - a2) / r2);
            let f3 = phi * ((a2 - 1.0) * (1.0 + (3.0 - a2) / r2) + 2.0 * a2 / r2);
            [
                mu * cdf + s * s / r * phi,
                cdf + a * phi / r2,
                f1 / r,
                f2 / r2,
                f3 / (r2 * r),
            ]
        }
        Exp => [(mu + 0.5 * s * s).exp(); 5],
        Identity => polynomial(&[0.0, 1.0], mu, s),
        Square => polynomial(&[0.0, 0.0, 0.5], mu, s),
        Cube => polynomial(&[0.0, 0.0, 0.0, 1.0], mu, s),
        Polynomial { coefficients } => polynomial(coefficients, mu, s),
        _ => return None,
    })
}

/// `[T⁰, …, T⁴]` of `P(x) = Σ_k c_k x^k`: `T^q = Σ_j P^{(q+2j)}(μ) s^{2j}/(2^j j!)`, with
/// `P⁽ᵏ⁾(μ) = Σ_{n≥k} c_n n!/(n−k)! μ^{n−k}` (no allocation: this runs per quadrature node).
fn polynomial(c: &[f64], mu: f64, s: f64) -> [f64; 5] {
    let derivative = |k: usize| -> f64 {
        let mut acc = 0.0;
        for n in (k..c.len()).rev() {
            let falling: f64 = ((n - k + 1)..=n).map(|i| i as f64).product();
            acc = acc * mu + c[n] * falling;
        }
        acc
    };
    let mut out = [0.0; 5];
    for (q, t) in out.iter_mut().enumerate() {
        // s^{2j}/(2^j j!) accumulated term by term.
        let (mut weight, mut j) = (1.0, 0);
        while q + 2 * j < c.len() {
            *t += derivative(q + 2 * j) * weight;
            j += 1;
            weight *= s * s / (2.0 * j as f64);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each closed form against Gauss–Hermite-free brute force: a fine trapezoidal rule in
    /// `z` of `σ⁽ᑫ⁾(μ + s z)φ(z)` (entire integrands, so the rule is exact to round-off), and
    /// at `s = 0` against the activation itself.
    #[test]
    fn closed_forms_match_a_fine_rule_and_the_activation() {
        let acts = Activation::all_examples()
            .into_iter()
            .filter(has_closed_form)
            .collect::<Vec<_>>();
        assert_eq!(
            acts.len(),
            8,
            "every activation with a closed form is tested"
        );
        for act in &acts {
            for &(mu, s) in &[
                (0.3, 0.0),
                (-1.7, 0.4),
                (0.9, 2.5),
                (2.2, 0.05),
                (-0.4, 6.0),
            ] {
                let t = smoothing(act, mu, s).unwrap();
                let h = 1e-3;
                let mut brute = [0.0; 5];
                for j in -20_000..=20_000 {
                    let z = f64::from(j) * h;
                    let w = h * (-0.5 * z * z).exp() / (2.0 * PI).sqrt();
                    let f = act.eval5(mu + s * z).unwrap();
                    for q in 0..5 {
                        brute[q] += w * f[q];
                    }
                }
                for q in 0..5 {
                    let scale = brute[q].abs().max(1.0);
                    assert!(
                        (t[q] - brute[q]).abs() <= 1e-13 * scale,
                        "{act} mu={mu} s={s} q={q}: {} vs {}",
                        t[q],
                        brute[q]
                    );
                }
            }
        }
    }
}
