//! The Gaussian moments of one neuron or one pair of neurons by the trapezoidal rule, with
//! its step-doubling error control (see the parent module's docs).

use super::bivariate::{cdf_form, erf_pair};
use super::inner::{Scratch, Table, sinh_sums, uniform_sums};
use super::smoothing::{has_closed_form, smoothing};
use super::{Neuron, PopulationOptions};
use crate::net::activation::Activation;

/// Largest trapezoidal step (the Gaussian alone is integrated to ~e⁻⁷⁹ with it).
const H_MAX: f64 = 0.5;
/// Standard deviations added to `√(2 ln(1/tolerance))` for the half-width of the integration
/// interval (see [`z_max`]).
const Z_MARGIN: f64 = 1.0;
/// Effective singularity distance used for entire activations (erf, gelu, polynomials): their
/// growth off the real axis limits the trapezoidal rule like a singularity at this distance
/// for pairs of unit scale.
const ENTIRE: f64 = 3.0;
/// Moments `M^{pq}` stored as `[p * 5 + q]`.
pub(super) type Moments = [f64; 25];

/// How the nodes of a rule sit on the line.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Map {
    /// `z = t`.
    Uniform,
    /// `z = center + eps·sinh(t)`: nodes packed around a nearby complex singularity at
    /// `center ± i·eps`, which moves to `Im t = ±π/2` (the sinh transformation of Elliott and
    /// Johnston, J. Comput. Appl. Math. 211, 2008; with the Gaussian weight the trapezoidal
    /// rule in `t` then converges like `e^{−π²/(2h)}`, the strip narrowing to `π/4`).
    Sinh { center: f64, eps: f64 },
}

/// A trapezoidal rule in `t` with step `h` on the nodes `t_j = j·h` whose `z(t)` covers
/// `[−z_max, z_max]`, weights `h·z'(t)·φ(z)` (`φ` the standard normal density); the nodes with
/// even `j` form the rule of step `2h`.
pub(super) struct Rule {
    pub(super) z: Vec<f64>,
    pub(super) w: Vec<f64>,
    /// `j` of the first node.
    first: i64,
    /// What the nodes were filled for (`fill` skips refilling the same rule).
    filled: Option<(f64, f64, Map)>,
}

impl Rule {
    pub(super) fn new() -> Self {
        Rule {
            z: Vec::new(),
            w: Vec::new(),
            first: 0,
            filled: None,
        }
    }

    /// One node of weight one (a degenerate direction).
    fn point(&mut self) {
        self.z.clear();
        self.w.clear();
        self.z.push(0.0);
        self.w.push(1.0);
        self.first = 0;
        self.filled = None;
    }

    fn fill(&mut self, h: f64, z_max: f64, map: Map) {
        if self.filled == Some((h, z_max, map)) {
            return;
        }
        self.filled = Some((h, z_max, map));
        self.z.clear();
        self.w.clear();
        let c = h / (2.0 * std::f64::consts::PI).sqrt();
        let (lo, hi) = match map {
            Map::Uniform => (-z_max, z_max),
            Map::Sinh { center, eps } => (
                ((-z_max - center) / eps).asinh(),
                ((z_max - center) / eps).asinh(),
            ),
        };
        let (ja, jb) = ((lo / h).floor() as i64 - 1, (hi / h).ceil() as i64 + 1);
        self.first = ja;
        for j in ja..=jb {
            let t = j as f64 * h;
            let (z, dz) = match map {
                Map::Uniform => (t, 1.0),
                Map::Sinh { center, eps } => {
                    let e = t.exp();
                    let (sh, ch) = (0.5 * (e - 1.0 / e), 0.5 * (e + 1.0 / e));
                    (center + eps * sh, eps * ch)
                }
            };
            self.z.push(z);
            self.w.push(c * dz * (-0.5 * z * z).exp());
        }
    }

    /// Whether node `i` belongs to the rule of twice the step (always, for one node).
    #[inline]
    fn coarse(&self, i: usize) -> bool {
        self.z.len() == 1 || (self.first + i as i64) % 2 == 0
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

/// The first `refine` of a pair rule (see [`Quadrature::pair`]).
const PAIR_START: f64 = 0.5;

/// Sinh maps are used where the singularity is closer than this (in standard deviations) to
/// the real axis; farther ones are integrated as well by the uniform rule.
const SINH_EPS: f64 = 1.0;

/// The map and step for `σ(b + s z)` whose activation has its nearest singularity at distance
/// `dist` (real part 0): the sinh map around `z = −b/s` when that singularity is near, else the
/// uniform rule of [`step`]. `refine` (1, ½, ¼, …) scales the step.
fn rule_for(dist: Option<f64>, b: f64, s: f64, tol: f64, z_max: f64, refine: f64) -> (f64, Map) {
    if let Some(d) = dist {
        let (center, eps) = (-b / s, d / s);
        if s > 0.0 && eps < SINH_EPS && center.abs() < z_max {
            let h = sinh_step(tol).min(H_MAX / (eps * eps + center * center).sqrt());
            return (refine * h, Map::Sinh { center, eps });
        }
    }
    (refine * step(dist, s, tol), Map::Uniform)
}

/// The first and last node of an inner window covering `z₂ ∈ [−z, z]`, `index(z₂)` the
/// (fractional) node index there, with one node to spare on each side.
fn nodes(index: impl Fn(f64) -> f64, z: f64) -> (i64, i64) {
    (index(-z).floor() as i64 - 1, index(z).ceil() as i64 + 1)
}

/// `asinh(x)` to a few ulp for the bounds of node windows (which have a node to spare on
/// each side): `ln(|x| + √(x² + 1))` with the sign of `x`, without the `hypot` and `log1p` of
/// `f64::asinh`, which the windows of every outer node spent a tenth of a pair's time in.
#[inline]
fn asinh_bound(x: f64) -> f64 {
    let a = x.abs();
    let v = if a < 1e150 {
        (a + (a * a + 1.0).sqrt()).ln()
    } else {
        a.ln() + std::f64::consts::LN_2
    };
    v.copysign(x)
}

/// The largest step of a sinh-mapped rule: with the map the trapezoidal rule converges like
/// `e^{−π²/(2h)}`.
fn sinh_step(tol: f64) -> f64 {
    std::f64::consts::PI.powi(2) / (2.0 * (1.0 / tol).ln())
}

/// The quadrature rules and their error bookkeeping.
pub(super) struct Quadrature {
    pub(super) opts: PopulationOptions,
    pub(super) rule1: Rule,
    pub(super) worst: f64,
    /// The outer neuron's arguments on the outer nodes and its derivatives there (five
    /// columns, [`Activation::eval5_columns`]).
    outer_x: Vec<f64>,
    outer_f: Vec<f64>,
    /// The Gauss–Hermite rules of 1 to [`GAUSS_MAX`] nodes, and the inner neuron's arguments
    /// and derivatives on them for every outer node.
    hermite: Vec<(Vec<f64>, Vec<f64>)>,
    inner_x: Vec<f64>,
    inner_f: Vec<f64>,
    /// Whether nearly aligned pairs use the Gauss–Hermite inner rule (the tests turn it off
    /// for a reference).
    pub(super) gauss_inner: bool,
}

impl Quadrature {
    pub(super) fn new(opts: &PopulationOptions) -> Self {
        Quadrature {
            opts: opts.clone(),
            rule1: Rule::new(),
            worst: 0.0,
            outer_x: Vec::new(),
            outer_f: Vec::new(),
            hermite: (1..=GAUSS_MAX)
                .map(|n| crate::net::gauss_hermite::gauss_hermite_rule(n).expect("small rule"))
                .collect(),
            inner_x: Vec::new(),
            inner_f: Vec::new(),
            gauss_inner: true,
        }
    }

    /// `[m⁰, …, m⁴]` of one neuron (`m^p = E[σ⁽ᵖ⁾(w·x + b)]`) up to `order`.
    pub(super) fn mean_of(&mut self, n: &Neuron, order: usize) -> [f64; 5] {
        let s = norm(&n.w);
        if self.opts.closed_forms {
            if let Some(t) = smoothing(&n.act, n.b, s) {
                return t;
            }
        }
        let tol = self.opts.tolerance;
        let z = z_max(&n.act, s, tol);
        let h_min = 2.0 * z / (self.opts.max_points - 1) as f64;
        let dist = n.act.singularity_distance();
        let mut refine = 1.0;
        loop {
            let mut mapped = false;
            if s > 0.0 {
                let (h, map) = rule_for(dist, n.b, s, tol, z, refine);
                mapped = map != Map::Uniform;
                self.rule1.fill(h.max(h_min), z, map);
            } else {
                self.rule1.point();
            }
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
            if rel <= accept(tol, mapped)
                || s == 0.0
                || self.rule1.z.len() * 2 > self.opts.max_points
            {
                self.worst = self.worst.max(rel * rel);
                return fine;
            }
            refine *= 0.5;
        }
    }

    /// The moments `M^{pq}`, `p + q ≤ order`, of neurons `k` and `l` (`same`: one neuron).
    ///
    /// The outer variable `z₁` carries `u_k = b_k + p₁z₁`; for each of its nodes the inner
    /// integral over `z₂` of `σ_l(b_l + q₁z₁ + q₂z₂)` has its own rule (a sinh map around that
    /// node's singular point when it is near), or is exact where `σ_l` has a closed Gaussian
    /// smoothing (`smoothing.rs`; the roles of `k` and `l` are swapped when only `σ_k` has
    /// one).
    pub(super) fn pair(
        &mut self,
        k: &Neuron,
        l: &Neuron,
        same: bool,
        order: usize,
        out: &mut Moments,
    ) {
        let use_closed = self.opts.closed_forms;
        let closed = use_closed && has_closed_form(&l.act);
        if !same && !closed && use_closed && has_closed_form(&k.act) {
            self.pair(l, k, false, order, out);
            *out = transpose(out);
            return;
        }
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
        if use_closed {
            if let (Some(fk), Some(fl)) = (cdf_form(&k.act), cdf_form(&l.act)) {
                erf_pair(fk, fl, k.b, l.b, (p1, q1, q2), out);
                return;
            }
        }
        let (dk, dl) = (k.act.singularity_distance(), l.act.singularity_distance());
        let z1 = z_max(&k.act, p1, tol).max(z_max(&l.act, q1.abs() + q2, tol));
        let z2 = z_max(&l.act, q2, tol);
        let tame =
            |a: &Activation| !matches!(a, Activation::Exp | Activation::Square | Activation::Cube);
        let disc = tame(&k.act) && tame(&l.act);
        // Never more than max_points nodes per dimension.
        let floor = |z: f64| 2.0 * z / (self.opts.max_points - 1) as f64;
        let deg1 = p1 == 0.0 && q1 == 0.0;
        let deg2 = q2 == 0.0;
        // The outer rule: neuron k's singular point, unless l's (seen along z₁ through the
        // inner smoothing of width q₂) is the sharper one; the uniform rule when the sinh map
        // would not resolve the other one.
        let width_l = dl.map(|d| d.hypot(q2) / q1.abs().max(1e-300));
        let width_k = dk.map(|d| d / p1.max(1e-300));
        let outer = |refine: f64| -> (f64, Map) {
            let uniform = (
                refine * step(dk, p1, tol).min(step(dl, q1.abs(), tol)),
                Map::Uniform,
            );
            let (h, map) = match (width_k, width_l) {
                (Some(wk), Some(wl)) if wl < wk => {
                    rule_for(dl.map(|d| d.hypot(q2)), l.b, q1.abs(), tol, z1, refine)
                }
                _ => rule_for(dk, k.b, p1, tol, z1, refine),
            };
            let Map::Sinh { center, eps } = map else {
                return uniform;
            };
            // The other neuron's singular point at distance Δ from the centre needs a local
            // spacing h·√(ε² + Δ²) ≲ its uniform step.
            let other = if matches!((width_k, width_l), (Some(wk), Some(wl)) if wl < wk) {
                (p1 > 0.0).then(|| (-k.b / p1, step(dk, p1, tol)))
            } else {
                (q1 != 0.0).then(|| (-l.b / q1, step(dl.map(|d| d.hypot(q2)), q1.abs(), tol)))
            };
            let h = match other {
                Some((c2, h_other)) => h.min(refine * h_other / eps.hypot(c2 - center)),
                None => h,
            };
            // Whichever needs fewer nodes.
            let t_range = ((z1 - center) / eps).asinh() - ((-z1 - center) / eps).asinh();
            if t_range / h < 2.0 * z1 / uniform.0 {
                (h, map)
            } else {
                uniform
            }
        };
        // The steps of `rule_for` and `step` make the *fine* rule just meet the tolerance, but
        // the test below compares with the rule of twice the step, which at those steps misses
        // `accept` by 10–200× (the poles of the activations' higher derivatives are of higher
        // order): every pair of the d = 8, r = 4, m = 16 `g` probe (1 240 of 1 240) failed its
        // first pass and was integrated again at half the step. So pairs start there.
        let mut refine = PAIR_START;
        // The inner rules' nodes in `u_l` do not depend on the outer node (see `Table`): the
        // activation is evaluated once per node and pair, the outer nodes only move the
        // Gaussian weights. The outer nodes are visited in the order that moves `u_l` up.
        let reverse = q1 < 0.0;
        let h0 = sinh_step(tol);
        // A nearly aligned pair (inner width q₂ far below the inner activation's singularity
        // distance) takes its inner integral from a few Gauss–Hermite nodes; a neuron with
        // itself or an exactly parallel one (`q₂ = 0`) the one-node rule.
        let gauss = if closed || (!self.gauss_inner && !deg2) {
            None
        } else if deg2 {
            Some(1)
        } else {
            gauss_points(q2 / dl.unwrap_or(ENTIRE), tol)
        };
        let mut uniform_tab = Table::default();
        let mut sinh_tabs: Vec<(u32, Table)> = Vec::new();
        let mut scratch = Scratch::default();
        loop {
            let mut mapped = false;
            if deg1 {
                self.rule1.point();
            } else {
                let (h1, map1) = outer(refine);
                mapped = map1 != Map::Uniform;
                self.rule1.fill(h1.max(floor(z1)), z1, map1);
            }
            uniform_tab.reset();
            sinh_tabs.iter_mut().for_each(|(_, t)| t.reset());
            let (mut fine, mut coarse) = ([0.0; 25], [0.0; 25]);
            let mut scale = 0.0;
            let mut widest = 0;
            let n1 = self.rule1.z.len();
            self.outer_x.clear();
            self.outer_x
                .extend(self.rule1.z.iter().map(|&za| k.b + p1 * za));
            self.outer_f.resize(5 * n1, 0.0);
            let smooth = k.act.eval5_columns(&self.outer_x, &mut self.outer_f);
            assert!(smooth, "checked smooth");
            if gauss.is_some() && same {
                // The inner neuron on the one node is the outer one.
                self.inner_f.clone_from(&self.outer_f);
            } else if let Some(n) = gauss {
                let (x, _) = &self.hermite[n - 1];
                self.inner_x.clear();
                for &za in &self.rule1.z {
                    let shift = l.b + q1 * za;
                    self.inner_x.extend(x.iter().map(|&xi| q2 * xi + shift));
                }
                self.inner_f.resize(5 * self.inner_x.len(), 0.0);
                let smooth = l.act.eval5_columns(&self.inner_x, &mut self.inner_f);
                assert!(smooth, "checked smooth");
            }
            for step1 in 0..n1 {
                let i1 = if reverse { n1 - 1 - step1 } else { step1 };
                let (za, wa) = (self.rule1.z[i1], self.rule1.w[i1]);
                let fk: [f64; 5] = std::array::from_fn(|q| self.outer_f[q * n1 + i1]);
                let shift = l.b + q1 * za;
                // The inner window: the disc `z₁² + z₂² ≤ Z²` rather than the square. The
                // standard bivariate mass outside it is `e^{−Z²/2}` (≈ 3e-17 at the default
                // tolerance, ~10× the one-dimensional tail at `Z`, ~1e-4 of the tolerance), so
                // only activations growing at most linearly use it: not `exp` (whose mass moves
                // out), `square` or `cube`.
                let zw = if disc {
                    (z2 * z2 - za * za).max(0.0).sqrt()
                } else {
                    z2
                };
                // inner[q] = Σ w₂ σ_l⁽ᑫ⁾, inner[5 + q] the same on the coarse nodes.
                let mut inner = [0.0; 10];
                let mut abs_inner = 0.0;
                if closed {
                    let t = smoothing(&l.act, shift, q2).expect("closed form");
                    for q in 0..=order {
                        inner[q] = t[q];
                        inner[5 + q] = t[q];
                        abs_inner += t[q].abs();
                    }
                } else if let Some(n) = gauss {
                    let w = &self.hermite[n - 1].1;
                    let total = n1 * n;
                    for q in 0..=order {
                        let f = &self.inner_f[q * total + i1 * n..q * total + (i1 + 1) * n];
                        let v: f64 = w.iter().zip(f).map(|(w, f)| w * f).sum();
                        inner[q] = v;
                        inner[5 + q] = v;
                        abs_inner += v.abs();
                    }
                } else {
                    let (h2, map2) = rule_for(dl, shift, q2, tol, z2, refine);
                    let h2 = h2.max(floor(z2));
                    let sums = if let Map::Sinh { eps, .. } = map2 {
                        // Nodes u = d·sinh(j·h) around the singular point: h is the step
                        // `rule_for` asks for, rounded down to refine·h₀/k for a shared table.
                        mapped = true;
                        let d = eps * q2;
                        let kq = ((refine * h0 / h2).ceil().max(1.0)) as u32;
                        let h = refine * h0 / kq as f64;
                        let index = |z: f64| asinh_bound((z * q2 + shift) / d) / h;
                        let ((a, b), (a_w, b_w)) = (nodes(index, z2), nodes(index, zw));
                        let pos = match sinh_tabs.iter().position(|(kk, _)| *kk == kq) {
                            Some(i) => i,
                            None => {
                                sinh_tabs.push((kq, Table::default()));
                                sinh_tabs.len() - 1
                            }
                        };
                        let win = sinh_tabs[pos].1.slide(a, b, &l.act, order, |j| {
                            let t = j as f64 * h;
                            (d * t.sinh(), d * t.cosh())
                        });
                        widest = widest.max(win.len());
                        sinh_sums(&win.sub(a_w, b_w), shift, q2, h)
                    } else {
                        let h = h2;
                        let dx = q2 * h;
                        let index = |z: f64| (shift + z * q2) / dx;
                        let ((a, b), (a_w, b_w)) = (nodes(index, z2), nodes(index, zw));
                        let win = uniform_tab.slide(a, b, &l.act, order, |j| (j as f64 * dx, q2));
                        widest = widest.max(win.len());
                        uniform_sums(&win.sub(a_w, b_w), shift / q2, h, &mut scratch)
                    };
                    for q in 0..=order {
                        inner[q] = sums.even[q] + sums.odd[q];
                        inner[5 + q] = 2.0 * sums.even[q];
                    }
                    abs_inner = sums.abs;
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
            let full = self.rule1.z.len().max(widest) * 2 > self.opts.max_points;
            if rel <= accept(tol, mapped) || (deg1 && deg2) || full {
                self.worst = self.worst.max(rel * rel);
                *out = fine;
                return;
            }
            refine *= 0.5;
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

/// The most nodes of a Gauss–Hermite inner rule.
const GAUSS_MAX: usize = 16;

/// The fewest Gauss–Hermite nodes (at most [`GAUSS_MAX`]) that integrate
/// `E[σ⁽ᑫ⁾(μ + q₂z)]`, `q ≤ 4`, to `tol/100` relative when `q₂` is `ratio` times the
/// activation's singularity distance `d`. The `n`-node rule's error is
/// `F^{(2n)}(ξ)·n!/(2n)!` for `F(z) = σ⁽ᑫ⁾(μ + q₂z)` (Abramowitz & Stegun 25.4.46, in the
/// probabilists' normalisation), and by Cauchy's estimate `|σ⁽ᵏ⁾| ≲ k!/d^{k+1}`, so relative
/// to `σ⁽ᑫ⁾ ~ q!/d^{q+1}` it is at most `n!·(2n+q)!/((2n)!·q!)·ratio^{2n}
/// ≤ n!·(2n+4)⁴/24·ratio^{2n}`.
fn gauss_points(ratio: f64, tol: f64) -> Option<usize> {
    let mut fact = 1.0;
    for n in 1..=GAUSS_MAX {
        fact *= n as f64;
        let k = (2 * n + 4) as f64;
        if fact * k.powi(4) / 24.0 * ratio.powi(2 * n as i32) <= 0.01 * tol {
            return Some(n);
        }
    }
    None
}

/// The Euclidean norm.
pub(super) fn norm(w: &[f64]) -> f64 {
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

/// Half-width of the integration interval, `Z = √(2 ln(1/tol)) + 1`, where the Gaussian density
/// is `φ(Z) = tol·e^{−√(2 ln(1/tol)) − 1/2}/√(2π)` (8.7 standard deviations at the default
/// 1e-13, `φ(Z) ≈ 1e-4·tol`: the tail beyond, even with an integrand growing like `z²`, stays
/// ~1e-3 of the tolerance). Wider for `exp`, whose growth `e^{sz}` moves the integrand's mass to
/// `z ≈ s`.
fn z_max(act: &Activation, s: f64, tol: f64) -> f64 {
    let z = (2.0 * (1.0 / tol).ln()).sqrt() + Z_MARGIN;
    if matches!(act, Activation::Exp) {
        z + 2.0 * s
    } else {
        z
    }
}

/// The largest accepted difference to the rule of twice the step, relative to the integral's
/// magnitude. Under exponential convergence the error of the finer rule is the square of that
/// difference, so uniform rules accept `√tolerance`; rules with a sinh map converge more
/// slowly than the square (measured against a 100× tighter tolerance in the tests: 1.4e-11
/// with `√tolerance`) and accept `tolerance^(2/3)`.
fn accept(tol: f64, mapped: bool) -> f64 {
    if mapped {
        tol.powf(2.0 / 3.0)
    } else {
        tol.sqrt()
    }
}
