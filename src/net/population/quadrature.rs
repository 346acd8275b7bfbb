//! The Gaussian moments of one neuron or one pair of neurons by the trapezoidal rule, with
//! its step-doubling error control (see the parent module's docs).

use super::{Neuron, PopulationOptions};
use crate::net::activation::Activation;

/// Largest trapezoidal step (the Gaussian alone is integrated to ~e⁻⁷⁹ with it).
const H_MAX: f64 = 0.5;
/// Half-width of the integration interval in standard deviations.
const Z_MAX: f64 = 10.0;
/// Effective singularity distance used for entire activations (erf, gelu, polynomials): their
/// growth off the real axis limits the trapezoidal rule like a singularity at this distance
/// for pairs of unit scale.
const ENTIRE: f64 = 3.0;
/// Moments `M^{pq}` stored as `[p * 5 + q]`.
pub(super) type Moments = [f64; 25];

/// A trapezoidal rule on `[−z, z]` with step `h` (nodes `j·h`, `j = −J..J`, `J` even, so
/// that the even `j` form the rule of step `2h`).
pub(super) struct Rule {
    pub(super) z: Vec<f64>,
    pub(super) w: Vec<f64>,
}

impl Rule {
    fn fill(&mut self, h: f64, z_max: f64) {
        self.z.clear();
        self.w.clear();
        if h <= 0.0 {
            // A degenerate direction: one node of weight one.
            self.z.push(0.0);
            self.w.push(1.0);
            return;
        }
        let half = 2 * (z_max / (2.0 * h)).ceil() as i64;
        let c = h / (2.0 * std::f64::consts::PI).sqrt();
        for j in -half..=half {
            let z = j as f64 * h;
            self.z.push(z);
            self.w.push(c * (-0.5 * z * z).exp());
        }
    }

    /// Whether node `i` belongs to the rule of twice the step (always, for one node).
    #[inline]
    fn coarse(&self, i: usize) -> bool {
        self.z.len() == 1 || i % 2 == 0
    }

    /// Weight of node `i` in the rule of twice the step.
    #[inline]
    fn coarse_weight(&self, i: usize) -> f64 {
        if self.z.len() == 1 {
            1.0
        } else {
            2.0 * self.w[i]
        }
    }
}

/// The quadrature rules and their error bookkeeping.
pub(super) struct Quadrature {
    pub(super) opts: PopulationOptions,
    pub(super) rule1: Rule,
    pub(super) rule2: Rule,
    pub(super) worst: f64,
}

impl Quadrature {
    /// `[m⁰, …, m⁴]` of one neuron (`m^p = E[σ⁽ᵖ⁾(w·x + b)]`) up to `order`.
    pub(super) fn mean_of(&mut self, n: &Neuron, order: usize) -> [f64; 5] {
        let s = norm(&n.w);
        let tol = self.opts.tolerance;
        let z = z_max(&n.act, s);
        let h_min = 2.0 * z / (self.opts.max_points - 1) as f64;
        let mut h = step(n.act.singularity_distance(), s, tol).max(h_min);
        loop {
            self.rule1.fill(if s > 0.0 { h } else { 0.0 }, z);
            let (mut fine, mut coarse, mut scale) = ([0.0; 5], [0.0; 5], 0.0);
            for (k, (&zk, &wk)) in self.rule1.z.iter().zip(&self.rule1.w).enumerate() {
                let f = n.act.eval5(n.b + s * zk).expect("checked smooth");
                for p in 0..=order {
                    fine[p] += wk * f[p];
                    scale += wk * f[p].abs();
                }
                if self.rule1.coarse(k) {
                    let cw = self.rule1.coarse_weight(k);
                    for p in 0..=order {
                        coarse[p] += cw * f[p];
                    }
                }
            }
            let est = (0..=order)
                .map(|p| (fine[p] - coarse[p]).abs())
                .fold(0.0, f64::max);
            let rel = if scale > 0.0 { est / scale } else { 0.0 };
            if rel <= tol.sqrt() || s == 0.0 || self.rule1.z.len() * 2 > self.opts.max_points {
                self.worst = self.worst.max(rel * rel);
                return fine;
            }
            h = (h * 0.5).max(h_min);
        }
    }

    /// The moments `M^{pq}`, `p + q ≤ order`, of neurons `k` and `l` (`same`: one neuron).
    pub(super) fn pair(
        &mut self,
        k: &Neuron,
        l: &Neuron,
        same: bool,
        order: usize,
        out: &mut Moments,
    ) {
        let tol = self.opts.tolerance;
        let p1 = norm(&k.w);
        let dot: f64 = k.w.iter().zip(&l.w).map(|(x, y)| x * y).sum();
        let nl = norm(&l.w);
        let (q1, q2) = if same {
            (p1, 0.0)
        } else if p1 > 0.0 {
            let q1 = dot / p1;
            (q1, (nl * nl - q1 * q1).max(0.0).sqrt())
        } else {
            (0.0, nl)
        };
        let (dk, dl) = (k.act.singularity_distance(), l.act.singularity_distance());
        let mut h1 = step(dk, p1, tol).min(step(dl, q1.abs(), tol));
        let mut h2 = step(dl, q2, tol);
        let z1 = z_max(&k.act, p1).max(z_max(&l.act, q1.abs() + q2));
        let z2 = z_max(&l.act, q2);
        // Never more than max_points nodes per dimension.
        let floor = |z: f64| 2.0 * z / (self.opts.max_points - 1) as f64;
        h1 = h1.max(floor(z1));
        h2 = h2.max(floor(z2));
        let deg1 = p1 == 0.0 && q1 == 0.0;
        let deg2 = q2 == 0.0;
        loop {
            self.rule1.fill(if deg1 { 0.0 } else { h1 }, z1);
            self.rule2.fill(if deg2 { 0.0 } else { h2 }, z2);
            let (mut fine, mut coarse) = ([0.0; 25], [0.0; 25]);
            let mut scale = 0.0;
            for (i1, (&za, &wa)) in self.rule1.z.iter().zip(&self.rule1.w).enumerate() {
                let fk = k.act.eval5(k.b + p1 * za).expect("checked smooth");
                let shift = l.b + q1 * za;
                // inner[q] = Σ w₂ σ_l⁽ᑫ⁾, inner[5 + q] the same on the coarse nodes.
                let mut inner = [0.0; 10];
                let mut abs_inner = 0.0;
                for (i2, (&zb, &wb)) in self.rule2.z.iter().zip(&self.rule2.w).enumerate() {
                    let fl = l.act.eval5(shift + q2 * zb).expect("checked smooth");
                    let coarse2 = self.rule2.coarse(i2);
                    let cw = self.rule2.coarse_weight(i2);
                    for q in 0..=order {
                        inner[q] += wb * fl[q];
                        abs_inner += wb * fl[q].abs();
                        if coarse2 {
                            inner[5 + q] += cw * fl[q];
                        }
                    }
                }
                let abs_k: f64 = (0..=order).map(|p| fk[p].abs()).sum();
                scale += wa * abs_k * abs_inner;
                let coarse1 = self.rule1.coarse(i1);
                let cw1 = self.rule1.coarse_weight(i1);
                for p in 0..=order {
                    for q in 0..=(order - p) {
                        fine[p * 5 + q] += wa * fk[p] * inner[q];
                        if coarse1 {
                            coarse[p * 5 + q] += cw1 * fk[p] * inner[5 + q];
                        }
                    }
                }
            }
            let mut est = 0.0f64;
            for p in 0..=order {
                for q in 0..=(order - p) {
                    est = est.max((fine[p * 5 + q] - coarse[p * 5 + q]).abs());
                }
            }
            let rel = if scale > 0.0 { est / scale } else { 0.0 };
            let full = self.rule1.z.len().max(self.rule2.z.len()) * 2 > self.opts.max_points;
            if rel <= tol.sqrt() || (deg1 && deg2) || full {
                self.worst = self.worst.max(rel * rel);
                *out = fine;
                return;
            }
            h1 = (h1 * 0.5).max(floor(z1));
            h2 = (h2 * 0.5).max(floor(z2));
        }
    }
}

pub(super) fn transpose(m: &Moments) -> Moments {
    let mut t = [0.0; 25];
    for p in 0..5 {
        for q in 0..5 {
            t[q * 5 + p] = m[p * 5 + q];
        }
    }
    t
}

fn norm(w: &[f64]) -> f64 {
    w.iter().map(|x| x * x).sum::<f64>().sqrt()
}

/// The trapezoidal step for an integrand `σ(b + s z)` whose activation has its nearest
/// singularity at distance `dist` (None: entire): `e^{−2πa/h} = tolerance` with `a = dist/s`.
fn step(dist: Option<f64>, s: f64, tol: f64) -> f64 {
    if s == 0.0 {
        return H_MAX;
    }
    let a = dist.unwrap_or(ENTIRE) / s;
    (2.0 * std::f64::consts::PI * a / (1.0 / tol).ln()).min(H_MAX)
}

/// Half-width of the integration interval: wider for `exp`, whose growth `e^{sz}` moves the
/// integrand's mass to `z ≈ s`.
fn z_max(act: &Activation, s: f64) -> f64 {
    if matches!(act, Activation::Exp) {
        Z_MAX + 2.0 * s
    } else {
        Z_MAX
    }
}
