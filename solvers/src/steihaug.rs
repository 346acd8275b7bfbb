//! The trust-region subproblem by truncated conjugate gradients, matrix-free.
//!
//! Approximately minimise `m(s) = gᵀs + ½ sᵀBs` subject to `‖s‖ ≤ Δ` using only products
//! `v ↦ Bv`: conjugate gradients on `Bs = −g` from `s = 0`, stopped when the residual
//! `‖g + Bs‖` falls below a tolerance, when an iterate leaves the region (the step is then cut
//! at the boundary), or when a direction of non-positive curvature appears (the step then
//! follows it to the boundary) — Steihaug, "The conjugate gradient method and trust regions in
//! large scale optimization", SIAM J. Numer. Anal. 20 (1983); Toint (1981); Nocedal & Wright,
//! *Numerical Optimization*, 2nd ed., Alg. 7.2. Each iteration costs one product and a few
//! vector operations, against a factorisation of `B` for the exact subproblem.
//!
//! The norms of the CG iterates increase monotonically (Steihaug's Theorem 2.1; N&W Thm. 7.3),
//! so the iterates form a path whose intersection with any smaller sphere is unique.
//! [`SteihaugCg`] keeps that path: after a rejected step, the step for a smaller radius is
//! read off it ([`SteihaugCg::truncate`]) without any new product.

use crate::trust_region::norm;

/// Why the conjugate gradients stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CgEnd {
    /// The residual fell below the tolerance inside the region.
    Converged,
    /// An iterate left the region; the step is cut at the boundary.
    Boundary,
    /// A direction of non-positive curvature was followed to the boundary.
    NegativeCurvature,
    /// The iteration limit was reached inside the region.
    IterationLimit,
}

/// One solved subproblem (the step itself is written to the caller's buffer).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CgStep {
    /// `‖s‖`.
    pub norm: f64,
    /// Whether `‖s‖ = Δ` (up to rounding).
    pub on_boundary: bool,
    /// `−m(s)`, the model's predicted reduction (non-negative).
    pub predicted_reduction: f64,
    /// Products `Bv` this solve took (0 for [`SteihaugCg::truncate`]).
    pub products: usize,
    /// Why it stopped.
    pub end: CgEnd,
}

/// One segment of the CG path, from the stored point `j` along `d` (to point `j + 1`).
#[derive(Clone, Copy, Debug)]
struct Segment {
    /// `m` at the segment's start.
    m0: f64,
    /// `∇m(start)ᵀd`.
    slope: f64,
    /// `dᵀBd`.
    curvature: f64,
    /// `‖start‖`, `‖end‖`.
    start_norm: f64,
    end_norm: f64,
}

/// Truncated conjugate gradients with the path kept for smaller radii (see the module docs).
/// Buffers are allocated once, for a problem of `n` unknowns.
pub struct SteihaugCg {
    n: usize,
    r: Vec<f64>,
    p: Vec<f64>,
    bp: Vec<f64>,
    /// Points of the path, `n` values each: `s_0 = 0`, then one per segment end.
    points: Vec<f64>,
    segments: Vec<Segment>,
    max_points: usize,
}

impl SteihaugCg {
    /// Buffers for problems with `n` unknowns, keeping at most `max_points` points of the
    /// path (each `n` values; [`Self::truncate`] answers `None` beyond them).
    pub fn new(n: usize, max_points: usize) -> Self {
        SteihaugCg {
            n,
            max_points: max_points.max(1),
            r: vec![0.0; n],
            p: vec![0.0; n],
            bp: vec![0.0; n],
            points: Vec::new(),
            segments: Vec::new(),
        }
    }

    /// Solves the subproblem of radius `delta` into `step`. `apply(v, out)` must write `Bv`
    /// into `out` (`B` symmetric). The iteration stops when `‖g + Bs‖ ≤ tolerance · ‖g‖`, at
    /// the boundary, on non-positive curvature, or after `max_products` products.
    ///
    /// # Panics
    /// If a length differs from `n` or `delta` is not positive and finite.
    pub fn solve(
        &mut self,
        mut apply: impl FnMut(&[f64], &mut [f64]),
        g: &[f64],
        delta: f64,
        tolerance: f64,
        max_products: usize,
        step: &mut [f64],
    ) -> CgStep {
        let n = self.n;
        assert!(g.len() == n && step.len() == n, "length differs from n");
        assert!(
            delta > 0.0 && delta.is_finite(),
            "trust radius must be positive"
        );
        self.points.clear();
        self.segments.clear();
        self.points.resize(n, 0.0);
        step.fill(0.0);
        self.r.copy_from_slice(g);
        for (p, r) in self.p.iter_mut().zip(&self.r) {
            *p = -r;
        }
        let gnorm = norm(g);
        let target = tolerance * gnorm;
        let mut rr = gnorm * gnorm;
        let (mut m, mut snorm) = (0.0, 0.0);
        let mut products = 0;
        let end = loop {
            if rr.sqrt() <= target || gnorm == 0.0 {
                break CgEnd::Converged;
            }
            if products >= max_products {
                break CgEnd::IterationLimit;
            }
            apply(&self.p, &mut self.bp);
            products += 1;
            let kappa = dot(&self.p, &self.bp);
            let rp = dot(&self.r, &self.p);
            let alpha = if kappa > 0.0 { rr / kappa } else { f64::NAN };
            let pnorm2 = dot(&self.p, &self.p);
            let reach = snorm + alpha * pnorm2.sqrt();
            // A NaN curvature counts as non-positive.
            let curved = kappa > 0.0;
            let leaves = !curved || {
                // ‖s + αp‖ ≥ Δ (checked exactly, `reach` is only a cheap upper bound).
                reach >= delta && {
                    let sp = dot(step, &self.p);
                    snorm * snorm + 2.0 * alpha * sp + alpha * alpha * pnorm2 >= delta * delta
                }
            };
            if leaves {
                // τ ≥ 0 with ‖s + τp‖ = Δ.
                let sp = dot(step, &self.p);
                let c = snorm * snorm - delta * delta;
                let disc = (sp * sp - pnorm2 * c).max(0.0);
                let tau = (-sp + disc.sqrt()) / pnorm2;
                self.push_segment(step, tau, m, rp, kappa, snorm, delta);
                m += tau * rp + 0.5 * tau * tau * kappa;
                snorm = delta;
                break if curved {
                    CgEnd::Boundary
                } else {
                    CgEnd::NegativeCurvature
                };
            }
            let new_norm = {
                let sp = dot(step, &self.p);
                (snorm * snorm + 2.0 * alpha * sp + alpha * alpha * pnorm2)
                    .max(0.0)
                    .sqrt()
            };
            self.push_segment(step, alpha, m, rp, kappa, snorm, new_norm);
            m += alpha * rp + 0.5 * alpha * alpha * kappa;
            snorm = new_norm;
            for (r, bp) in self.r.iter_mut().zip(&self.bp) {
                *r += alpha * bp;
            }
            let rr_new = dot(&self.r, &self.r);
            let beta = rr_new / rr;
            rr = rr_new;
            for (p, r) in self.p.iter_mut().zip(&self.r) {
                *p = -r + beta * *p;
            }
        };
        CgStep {
            norm: snorm,
            on_boundary: matches!(end, CgEnd::Boundary | CgEnd::NegativeCurvature),
            predicted_reduction: (-m).max(0.0),
            products,
            end,
        }
    }

    /// Appends the segment `s → s + t·p` (and moves `step` to its end).
    #[allow(clippy::too_many_arguments)]
    fn push_segment(
        &mut self,
        step: &mut [f64],
        t: f64,
        m0: f64,
        rp: f64,
        kappa: f64,
        start_norm: f64,
        end_norm: f64,
    ) {
        for (s, p) in step.iter_mut().zip(&self.p) {
            *s += t * p;
        }
        if self.segments.len() + 1 >= self.max_points {
            return;
        }
        self.points.extend_from_slice(step);
        self.segments.push(Segment {
            m0,
            slope: t * rp,
            curvature: t * t * kappa,
            start_norm,
            end_norm,
        });
    }

    /// The step of the last [`Self::solve`]'s path for a smaller radius `delta` (written to
    /// `step`, no product needed); `None` when there is no path or `delta` is not smaller than
    /// the path's end.
    ///
    /// # Panics
    /// If `step` does not have `n` values.
    pub fn truncate(&self, delta: f64, step: &mut [f64]) -> Option<CgStep> {
        let n = self.n;
        assert_eq!(step.len(), n, "length differs from n");
        let last = self.segments.last()?;
        if !(delta > 0.0 && delta < last.end_norm) {
            return None;
        }
        let j = self
            .segments
            .iter()
            .position(|s| s.end_norm > delta)
            .expect("the last segment ends beyond delta");
        let seg = self.segments[j];
        let (a, b) = (
            &self.points[j * n..(j + 1) * n],
            &self.points[(j + 1) * n..(j + 2) * n],
        );
        // ‖a + t(b − a)‖ = Δ for t in (0, 1].
        let (mut dd, mut ad) = (0.0, 0.0);
        for (x, y) in a.iter().zip(b) {
            let d = y - x;
            dd += d * d;
            ad += x * d;
        }
        let c = seg.start_norm * seg.start_norm - delta * delta;
        let t = ((-ad + (ad * ad - dd * c).max(0.0).sqrt()) / dd).clamp(0.0, 1.0);
        for ((s, x), y) in step.iter_mut().zip(a).zip(b) {
            *s = x + t * (y - x);
        }
        let m = seg.m0 + t * seg.slope + 0.5 * t * t * seg.curvature;
        Some(CgStep {
            norm: delta,
            on_boundary: true,
            predicted_reduction: (-m).max(0.0),
            products: 0,
            end: CgEnd::Boundary,
        })
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trust_region;

    /// The Householder vector `u` of `Q = I − 2uuᵀ/uᵀu` (symmetric, orthogonal) for `seed`.
    fn householder(n: usize, seed: u64) -> Vec<f64> {
        let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..n)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
            })
            .collect()
    }

    /// `Qv` (= `Qᵀv`) for the Householder `Q` of `seed`.
    fn reflect(v: &[f64], seed: u64) -> Vec<f64> {
        let u = householder(v.len(), seed);
        let (uu, uv) = (dot(&u, &u), dot(&u, v));
        v.iter()
            .zip(&u)
            .map(|(v, u)| v - 2.0 * u * uv / uu)
            .collect()
    }

    /// The symmetric matrix `Q diag(λ) Qᵀ` (row-major) for the Householder `Q` of `seed`.
    fn matrix(lambda: &[f64], seed: u64) -> Vec<f64> {
        let n = lambda.len();
        let mut b = vec![0.0; n * n];
        for j in 0..n {
            let mut e = vec![0.0; n];
            e[j] = 1.0;
            let qe = reflect(&e, seed);
            let scaled: Vec<f64> = qe.iter().zip(lambda).map(|(q, l)| q * l).collect();
            let col = reflect(&scaled, seed);
            for i in 0..n {
                b[i * n + j] = col[i];
            }
        }
        b
    }

    fn apply(b: &[f64], n: usize) -> impl FnMut(&[f64], &mut [f64]) + '_ {
        move |v, out| {
            for (i, o) in out.iter_mut().enumerate() {
                *o = (0..n).map(|j| b[i * n + j] * v[j]).sum();
            }
        }
    }

    fn model(b: &[f64], g: &[f64], s: &[f64]) -> f64 {
        let n = g.len();
        let mut bs = vec![0.0; n];
        apply(b, n)(s, &mut bs);
        dot(g, s) + 0.5 * dot(s, &bs)
    }

    /// Inside a large region on a positive definite matrix, CG converges to the Newton step
    /// (n products at most) and its predicted reduction is the model's.
    #[test]
    fn interior_newton_step() {
        let n = 12;
        let lambda: Vec<f64> = (0..n).map(|i| 0.5 + i as f64).collect();
        let b = matrix(&lambda, 1);
        let g: Vec<f64> = (0..n).map(|i| (i as f64 * 0.7).sin()).collect();
        let mut cg = SteihaugCg::new(n, 1000);
        let mut s = vec![0.0; n];
        let r = cg.solve(apply(&b, n), &g, 1e3, 1e-12, 100, &mut s);
        assert_eq!(r.end, CgEnd::Converged);
        assert!(r.products <= n + 2, "{} products", r.products);
        let mut bs = vec![0.0; n];
        apply(&b, n)(&s, &mut bs);
        for (bs, g) in bs.iter().zip(&g) {
            assert!((bs + g).abs() <= 1e-10, "residual {}", bs + g);
        }
        assert!((r.predicted_reduction + model(&b, &g, &s)).abs() <= 1e-12);
        assert!(!r.on_boundary);
    }

    /// On the boundary the step has norm Δ, never increases the model above the Cauchy
    /// point's value, and is no worse than the exact subproblem's reduction by more than the
    /// known factor ½ (Yuan 2000: Steihaug's step reaches at least half the optimal reduction
    /// for positive definite `B`). Truncating the path to a smaller radius gives a point on
    /// that sphere whose predicted reduction is the model's.
    #[test]
    fn boundary_steps_and_truncation() {
        let n = 20;
        for seed in 0..30u64 {
            let lambda: Vec<f64> = (0..n)
                .map(|i| 10f64.powf(-6.0 + 6.0 * i as f64 / (n - 1) as f64))
                .collect();
            let b = matrix(&lambda, seed + 2);
            let g: Vec<f64> = (0..n).map(|i| ((i as u64 + seed) as f64).cos()).collect();
            let mut cg = SteihaugCg::new(n, 1000);
            let mut s = vec![0.0; n];
            let delta = 0.5;
            let r = cg.solve(apply(&b, n), &g, delta, 1e-10, 200, &mut s);
            assert_eq!(r.end, CgEnd::Boundary, "seed {seed}");
            assert!((norm(&s) - delta).abs() <= 1e-12);
            let m = model(&b, &g, &s);
            assert!((r.predicted_reduction + m).abs() <= 1e-10 * m.abs());
            // The exact subproblem (eigenbasis: B = Q Λ Qᵀ with our Q, so solve directly).
            let g_eig = reflect(&g, seed + 2);
            let exact = trust_region::solve(&lambda, &g_eig, delta);
            assert!(
                r.predicted_reduction >= 0.5 * exact.predicted_reduction,
                "seed {seed}: {} vs exact {}",
                r.predicted_reduction,
                exact.predicted_reduction
            );
            assert!(r.predicted_reduction <= exact.predicted_reduction * (1.0 + 1e-10));
            for frac in [0.9, 0.3, 0.01] {
                let mut t = vec![0.0; n];
                let tr = cg.truncate(frac * delta, &mut t).expect("inside the path");
                assert!((norm(&t) - frac * delta).abs() <= 1e-12);
                let mt = model(&b, &g, &t);
                assert!(
                    (tr.predicted_reduction + mt).abs() <= 1e-10 * mt.abs().max(1e-300),
                    "{} vs {}",
                    tr.predicted_reduction,
                    -mt
                );
                assert!(tr.predicted_reduction > 0.0);
            }
            assert!(cg.truncate(2.0 * delta, &mut s).is_none());
            // With two stored points, only the first segment can be cut back.
            let mut short = SteihaugCg::new(n, 2);
            let again = short.solve(apply(&b, n), &g, delta, 1e-10, 200, &mut s);
            assert_eq!(again, r);
            let first_end = short.segments[0].end_norm;
            let mut t = vec![0.0; n];
            assert!(short.truncate(0.5 * first_end, &mut t).is_some());
            if r.products > 1 {
                assert!(short.truncate(0.5 * (first_end + delta), &mut t).is_none());
            }
        }
    }

    /// An indefinite matrix: the first direction of negative curvature is followed to the
    /// boundary, with a reduction of the model.
    #[test]
    fn negative_curvature_goes_to_the_boundary() {
        let n = 8;
        let lambda: Vec<f64> = (0..n).map(|i| i as f64 - 3.0).collect();
        let b = matrix(&lambda, 7);
        let g: Vec<f64> = (0..n).map(|i| 1.0 + i as f64).collect();
        let mut cg = SteihaugCg::new(n, 1000);
        let mut s = vec![0.0; n];
        let r = cg.solve(apply(&b, n), &g, 2.0, 1e-12, 100, &mut s);
        assert!(r.on_boundary);
        assert!((norm(&s) - 2.0).abs() <= 1e-12);
        assert!(r.predicted_reduction > 0.0);
        assert!((r.predicted_reduction + model(&b, &g, &s)).abs() <= 1e-10);
    }

    /// A zero gradient gives the zero step without any product; the iteration limit stops CG
    /// inside the region with the model reduced.
    #[test]
    fn zero_gradient_and_iteration_limit() {
        let n = 10;
        let lambda: Vec<f64> = (0..n).map(|i| 1.0 + 10.0 * i as f64).collect();
        let b = matrix(&lambda, 3);
        let mut cg = SteihaugCg::new(n, 1000);
        let mut s = vec![1.0; n];
        let r = cg.solve(apply(&b, n), &vec![0.0; n], 1.0, 1e-8, 10, &mut s);
        assert_eq!((r.products, r.end), (0, CgEnd::Converged));
        assert!(s.iter().all(|v| *v == 0.0));
        let g: Vec<f64> = (0..n).map(|i| (i as f64).sin() + 0.1).collect();
        let r = cg.solve(apply(&b, n), &g, 1e6, 1e-14, 3, &mut s);
        assert_eq!((r.products, r.end), (3, CgEnd::IterationLimit));
        assert!(r.predicted_reduction > 0.0);
        assert!((r.predicted_reduction + model(&b, &g, &s)).abs() <= 1e-10);
    }
}
