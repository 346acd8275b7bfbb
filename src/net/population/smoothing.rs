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
    use Activation::*;
    matches!(
        act,
        NormalCdf | Sigmoid2 | Gelu | Exp | Identity | Square | Cube | Polynomial { .. }
    )
}

/// `[T⁰, …, T⁴](μ; s)`, `T^q = E[σ⁽ᑫ⁾(μ + s z)]`, or `None` when `act` has no closed form.
pub(super) fn smoothing(act: &Activation, mu: f64, s: f64) -> Option<[f64; 5]> {
    use Activation::*;
    let r = s.mul_add(s, 1.0).sqrt();
    let a = mu / r;
    let phi = (-0.5 * a * a).exp() / (2.0 * PI).sqrt();
    // ∂^q_μ Φ(μ/r) for q = 1..4.
    let cdf_derivatives = || {
        let r2 = r * r;
        [
            phi / r,
            -a * phi / r2,
            (a * a - 1.0) * phi / (r2 * r),
            -a * (a * a - 3.0) * phi / (r2 * r2),
        ]
    };
    Some(match act {
        NormalCdf => {
            let d = cdf_derivatives();
            [0.5 * libm::erfc(-a * FRAC_1_SQRT_2), d[0], d[1], d[2], d[3]]
        }
        Sigmoid2 => {
            let d = cdf_derivatives();
            [
                libm::erf(a * FRAC_1_SQRT_2),
                2.0 * d[0],
                2.0 * d[1],
                2.0 * d[2],
                2.0 * d[3],
            ]
        }
        Gelu => {
            // With F(a) = Φ(a) + aφ(a)/r², T¹ = F(a) and T^{q+1} = F⁽ᑫ⁾(a)/r^q.
            let (r2, a2) = (r * r, a * a);
            let cdf = 0.5 * libm::erfc(-a * FRAC_1_SQRT_2);
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

/// `[T⁰, …, T⁴]` of `P(x) = Σ_k c_k x^k`: `T^q = Σ_j P^{(q+2j)}(μ) s^{2j}/(2^j j!)`.
fn polynomial(c: &[f64], mu: f64, s: f64) -> [f64; 5] {
    // derivative[k] = P⁽ᵏ⁾(μ) by repeated synthetic division (Horner), k ≤ degree.
    let n = c.len();
    let mut b = c.to_vec();
    let mut derivative = vec![0.0; n];
    let mut factorial = 1.0;
    for k in 0..n {
        // b holds the coefficients of P⁽ᵏ⁾/k! shifted; evaluate and deflate.
        let mut acc = 0.0;
        for i in (k..n).rev() {
            acc = acc * mu + b[i];
            b[i] = acc;
        }
        derivative[k] = b[k] * factorial;
        factorial *= (k + 1) as f64;
    }
    let mut out = [0.0; 5];
    for (q, t) in out.iter_mut().enumerate() {
        // s^{2j}/(2^j j!) accumulated term by term.
        let (mut weight, mut j) = (1.0, 0);
        while q + 2 * j < n {
            *t += derivative[q + 2 * j] * weight;
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
