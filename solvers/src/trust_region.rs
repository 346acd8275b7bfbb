//! The exact trust-region subproblem, for possibly indefinite Hessians.
//!
//! Minimise `m(s) = gᵀs + ½ sᵀHs` subject to `‖s‖ ≤ Δ`, given the eigendecomposition
//! `H = Q diag(λ) Qᵀ` (eigenvalues ascending) and `ĝ = Qᵀg`. The solution satisfies
//! `(H + μI)s = −g`, `H + μI ⪰ 0`, `μ(Δ − ‖s‖) = 0` (Moré & Sorensen, "Computing a trust region
//! step", SIAM J. Sci. Stat. Comput. 4, 1983; Nocedal & Wright, *Numerical Optimization*,
//! 2nd ed., §4.3). With the eigendecomposition at hand, `‖s(μ)‖² = Σ ĝ_i²/(λ_i + μ)²` is explicit
//! and the secular equation `1/‖s(μ)‖ = 1/Δ` is solved by safeguarded Newton iterations; the
//! "hard case" (`ĝ` orthogonal to the lowest eigenspace) is handled by moving along the lowest
//! eigenvector to the boundary.

/// A trust-region step in the eigenbasis.
#[derive(Clone, Debug, PartialEq)]
pub struct TrustRegionStep {
    /// Step coefficients `Qᵀs` in the eigenbasis.
    pub step: Vec<f64>,
    /// The multiplier `μ ≥ 0`.
    pub mu: f64,
    /// Whether the step lies on the boundary `‖s‖ = Δ`.
    pub on_boundary: bool,
    /// Whether the hard case occurred.
    pub hard_case: bool,
    /// Predicted reduction `−m(s) ≥ 0`.
    pub predicted_reduction: f64,
}

/// The Euclidean norm.
pub fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

/// Solves the subproblem (see the module docs). `eigenvalues` must be ascending and finite,
/// `g_eig` the gradient in the eigenbasis, `delta > 0`.
pub fn solve(eigenvalues: &[f64], g_eig: &[f64], delta: f64) -> TrustRegionStep {
    let n = eigenvalues.len();
    assert_eq!(g_eig.len(), n, "gradient and eigenvalues differ in length");
    assert!(
        delta > 0.0 && delta.is_finite(),
        "trust radius must be positive"
    );
    let lmin = eigenvalues.first().copied().unwrap_or(0.0);
    let lmax = eigenvalues.last().copied().unwrap_or(0.0);
    let gnorm = norm(g_eig);
    let step_at = |mu: f64| -> Vec<f64> {
        eigenvalues
            .iter()
            .zip(g_eig)
            .map(|(l, g)| if g.abs() > 0.0 { -g / (l + mu) } else { 0.0 })
            .collect()
    };
    let finish = |step: Vec<f64>, mu: f64, on_boundary: bool, hard_case: bool| {
        let m: f64 = step
            .iter()
            .zip(g_eig)
            .zip(eigenvalues)
            .map(|((s, g), l)| g * s + 0.5 * l * s * s)
            .sum();
        TrustRegionStep {
            step,
            mu,
            on_boundary,
            hard_case,
            predicted_reduction: -m,
        }
    };

    // Interior Newton step.
    if lmin > 0.0 {
        let s = step_at(0.0);
        if norm(&s) <= delta {
            return finish(s, 0.0, false, false);
        }
    }

    // Hard case: ĝ (numerically) orthogonal to the lowest eigenspace.
    let scale = lmax.abs().max(lmin.abs()).max(f64::MIN_POSITIVE);
    let tol_eig = 1e-12 * scale;
    let low: Vec<bool> = eigenvalues.iter().map(|l| *l <= lmin + tol_eig).collect();
    let g_low = norm(
        &g_eig
            .iter()
            .zip(&low)
            .filter(|(_, is_low)| **is_low)
            .map(|(g, _)| *g)
            .collect::<Vec<_>>(),
    );
    let mu_floor = (-lmin).max(0.0);
    let stationary = gnorm <= 0.0;
    if stationary && lmin >= 0.0 {
        // Stationary point of a convex model: no step.
        return finish(vec![0.0; n], 0.0, false, false);
    }
    if lmin < 0.0 && g_low <= 1e-14 * gnorm.max(f64::MIN_POSITIVE) {
        // Step with the low components removed, at μ = −λ_min; if it is inside the region,
        // complete it along the lowest eigenvector to the boundary.
        let mut s: Vec<f64> = eigenvalues
            .iter()
            .zip(g_eig)
            .zip(&low)
            .map(|((l, g), is_low)| if *is_low { 0.0 } else { -g / (l + mu_floor) })
            .collect();
        let sn = norm(&s);
        if sn <= delta {
            let first_low = low.iter().position(|b| *b).expect("λ_min is low");
            s[first_low] = (delta * delta - sn * sn).max(0.0).sqrt();
            return finish(s, mu_floor, true, true);
        }
    }

    // Boundary solution: μ > μ_floor with ‖s(μ)‖ = Δ.
    let mut lo = mu_floor;
    let mut hi = mu_floor + gnorm / delta + lmax.abs() + 1.0;
    let mut mu = (mu_floor + 1e-12 * scale).max(f64::MIN_POSITIVE);
    // Start from a point where s is finite and the secular function is decreasing.
    if !norm(&step_at(mu)).is_finite() {
        mu = 0.5 * (lo + hi);
    }
    for _ in 0..200 {
        let s = step_at(mu);
        let sn = norm(&s);
        if (sn - delta).abs() <= 1e-13 * delta {
            break;
        }
        if sn > delta {
            lo = mu;
        } else {
            hi = mu;
        }
        // Newton on φ(μ) = 1/‖s‖ − 1/Δ: φ' = (Σ ĝ²/(λ+μ)³)/‖s‖³.
        let d: f64 = eigenvalues
            .iter()
            .zip(g_eig)
            .map(|(l, g)| g * g / (l + mu).powi(3))
            .sum();
        let next = mu + (sn * sn / d) * ((sn - delta) / delta);
        mu = if next > lo && next < hi && next.is_finite() {
            next
        } else {
            0.5 * (lo + hi)
        };
    }
    let mut s = step_at(mu);
    // Guard against the last iterate lying a few ulps outside the region.
    let sn = norm(&s);
    if sn > delta {
        s.iter_mut().for_each(|v| *v *= delta / sn);
    }
    finish(s, mu, true, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(eigs: &[f64], g: &[f64], s: &[f64]) -> f64 {
        (0..eigs.len())
            .map(|i| g[i] * s[i] + 0.5 * eigs[i] * s[i] * s[i])
            .sum()
    }

    /// Brute force in 2-D: the minimum over the disc (interior stationary point or a fine
    /// boundary scan).
    fn brute_2d(eigs: &[f64], g: &[f64], delta: f64) -> f64 {
        let mut best = f64::INFINITY;
        let m = 200_000;
        for k in 0..m {
            let th = 2.0 * std::f64::consts::PI * k as f64 / m as f64;
            let s = [delta * th.cos(), delta * th.sin()];
            best = best.min(model(eigs, g, &s));
        }
        if eigs.iter().all(|l| *l > 0.0) {
            let s: Vec<f64> = (0..2).map(|i| -g[i] / eigs[i]).collect();
            if norm(&s) <= delta {
                best = best.min(model(eigs, g, &s));
            }
        }
        best
    }

    fn check_kkt(eigs: &[f64], g: &[f64], delta: f64, r: &TrustRegionStep) {
        let sn = norm(&r.step);
        assert!(sn <= delta * (1.0 + 1e-10), "‖s‖ = {sn} > Δ = {delta}");
        assert!(r.mu >= 0.0 && eigs[0] + r.mu >= -1e-10);
        assert!(r.mu * (delta - sn) <= 1e-8 * (1.0 + r.mu * delta));
        for i in 0..eigs.len() {
            let res = (eigs[i] + r.mu) * r.step[i] + g[i];
            assert!(
                res.abs() <= 1e-8 * (1.0 + g[i].abs()),
                "stationarity residual {res}"
            );
        }
        assert!(r.predicted_reduction >= -1e-14);
    }

    #[test]
    fn interior_newton_step() {
        let r = solve(&[1.0, 2.0], &[1.0, 1.0], 10.0);
        assert!(!r.on_boundary && r.mu.abs() < 1e-300);
        assert!((r.step[0] + 1.0).abs() < 1e-15 && (r.step[1] + 0.5).abs() < 1e-15);
    }

    #[test]
    fn matches_brute_force_on_textbook_cases() {
        let cases: &[(&[f64], &[f64], f64)] = &[
            (&[1.0, 2.0], &[1.0, 1.0], 0.3),
            (&[-1.0, 2.0], &[0.5, 1.0], 1.0),
            (&[-3.0, -1.0], &[0.2, -0.4], 0.7),
            (&[-1.0, 1.0], &[0.0, 1.0], 2.0), // hard case
            (&[-1.0, 1.0], &[0.0, 1.0], 0.2), // not hard: boundary reached before μ = 1
            (&[0.0, 3.0], &[0.0, 0.0], 1.0),  // stationary, convex
            (&[-2.0, 3.0], &[0.0, 0.0], 1.0), // stationary saddle
            (&[1e-8, 1e4], &[1e-3, 1.0], 5.0),
        ];
        for &(eigs, g, delta) in cases {
            let r = solve(eigs, g, delta);
            check_kkt(eigs, g, delta, &r);
            let m = model(eigs, g, &r.step);
            let best = brute_2d(eigs, g, delta);
            assert!(
                m <= best + 1e-7 * (1.0 + best.abs()),
                "{eigs:?} {g:?} {delta}: {m} vs {best}"
            );
        }
        assert!(solve(&[-1.0, 1.0], &[0.0, 1.0], 2.0).hard_case);
    }

    #[test]
    fn random_problems_satisfy_the_optimality_conditions() {
        let mut state = 12345u64;
        let mut rnd = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
        };
        for _ in 0..2000 {
            let n = 1 + (rnd().abs() * 6.0) as usize;
            let mut eigs: Vec<f64> = (0..n)
                .map(|_| 10f64.powf(3.0 * rnd()) * rnd().signum())
                .collect();
            eigs.sort_by(f64::total_cmp);
            let g: Vec<f64> = (0..n).map(|_| rnd() * 10f64.powf(2.0 * rnd())).collect();
            let delta = 10f64.powf(2.0 * rnd());
            let r = solve(&eigs, &g, delta);
            check_kkt(&eigs, &g, delta, &r);
        }
    }
}
