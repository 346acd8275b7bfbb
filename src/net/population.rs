//! The population (infinite-data) loss of two-layer networks under Gaussian input, with its
//! exact gradient and Hessian — MLPGradientFlow.jl's `NetI`.
//!
//! Teacher `f*(x) = Σ_j a*_j σ*_j(w*_j·x + b*_j) + c*` (`d → r → 1`) and student
//! `f(x) = Σ_i a_i σ_i(w_i·x + b_i) + c` (`d → m → 1`), identity outputs, biases optional in
//! both layers of both networks, any smooth SPEC §2 hidden activation (one per neuron allowed).
//! The objective is the reported mean loss of SPEC §3 with infinite data,
//! `L(θ) = E_{x~N(0,I_d)}[(f(x) − f*(x))²]`.
//!
//! **Reduction.** With `r = f − f* = Σ_k c_k σ_k(u_k) + e` over all student and teacher neurons
//! (`c_k = a_k`, resp. `−a*_k`; `e = c − c*`, `u_k = w_k·x + b_k`),
//! `L = Σ_kl c_k c_l M⁰⁰_kl + 2e Σ_k c_k m⁰_k + e²`, where `M^{pq}_kl = E[σ_k⁽ᵖ⁾(u_k) σ_l⁽ᑫ⁾(u_l)]`
//! are two-dimensional Gaussian integrals (the pair `(u_k, u_l)` is bivariate normal with
//! covariance `[w_k·w_k, w_k·w_l; w_k·w_l, w_l·w_l]`) and `m^p_k = E[σ_k⁽ᵖ⁾(u_k)]` one-dimensional.
//! Every derivative of `L` is again a sum of such moments: the factors `x` and `x xᵀ` that the
//! chain rule brings are removed by Stein's lemma, `E[h(Wᵀx) x] = W E[∇h]` and
//! `E[h(Wᵀx) x xᵀ] = E[h] I + W E[∇²h] Wᵀ` (C. Stein 1981, Ann. Statist. 9), which needs the
//! activations' derivatives up to order 4 ([`Activation::eval5`]) and never divides by the
//! angle between two neurons, so aligned and duplicated neurons — the interesting points of
//! the landscape — are as accurate as any.
//!
//! **Quadrature.** Each moment is computed in the Cholesky frame of its pair,
//! `u_k = b_k + p₁z₁`, `u_l = b_l + q₁z₁ + q₂z₂`, by the trapezoidal rule on `[−Z, Z]²` (`Z = 10`,
//! wider for `exp`): for integrands analytic in a strip of half-width `a` around the real axis
//! it converges like `e^{−2πa/h}` (Trefethen & Weideman, SIAM Review 56, 2014), and Gaussian
//! quadrature gains nothing on activations with complex poles such as `sigmoid(4x)` inside `g`.
//! The step follows from the activation's nearest singularity
//! ([`Activation::singularity_distance`]) and the pair's scale, and is checked against the rule
//! of twice the step (its nodes are every other node): the pair is refined until that
//! difference is below `√tolerance` of the pair's magnitude, which makes the error of the rule
//! used about `tolerance` (the error squares when the step halves).
//!
//! **Precision.** `L` is a sum of terms of order one that cancel at a global minimum, so its
//! absolute round-off is about `1e-16` times their size: losses below ~1e-15 are not resolved
//! (a sample loss, a sum of squared residuals, resolves ~1e-30).

// Index loops mirror the formulas' subscripts (students i, l; coordinates s, t).
#![allow(clippy::needless_range_loop)]

use super::activation::Activation;
use super::network::Network;
use super::spec::{LayerLayout, NetSpec};
use crate::error::{Error, Result};

/// Options of the population objective ([`Population`]).
///
/// ```
/// let o = gradflow::net::population::PopulationOptions::default();
/// assert_eq!(o.tolerance, 1e-13);
/// assert_eq!(o.max_points, 2049);
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct PopulationOptions {
    /// Target relative error of every Gaussian integral (default `1e-13`).
    pub tolerance: f64,
    /// Largest number of quadrature nodes per dimension of one integral (default 2049); an
    /// integral that needs more keeps this many and its error estimate says so
    /// ([`Population::error_estimate`]).
    pub max_points: usize,
}

impl Default for PopulationOptions {
    fn default() -> Self {
        PopulationOptions {
            tolerance: 1e-13,
            max_points: 2049,
        }
    }
}

impl PopulationOptions {
    fn check(&self) -> Result<()> {
        if !(self.tolerance > 0.0 && self.tolerance < 1.0) {
            return Err(Error::invalid("population.tolerance", "must lie in (0, 1)"));
        }
        if self.max_points < 3 {
            return Err(Error::invalid(
                "population.max_points",
                "must be at least 3",
            ));
        }
        Ok(())
    }
}

/// Largest trapezoidal step (the Gaussian alone is integrated to ~e⁻⁷⁹ with it).
const H_MAX: f64 = 0.5;
/// Half-width of the integration interval in standard deviations.
const Z_MAX: f64 = 10.0;
/// Effective singularity distance used for entire activations (erf, gelu, polynomials): their
/// growth off the real axis limits the trapezoidal rule like a singularity at this distance
/// for pairs of unit scale.
const ENTIRE: f64 = 3.0;
/// The student moments are always computed to this order, whatever the call needs: the rule
/// (chosen by the error estimate over every moment) and so the loss are then the same, bit
/// for bit, in `loss`, `gradient_into` and `hessian_into` (the stop rules and the best point
/// compare losses of different calls).
const ALL_ORDERS: usize = 4;
/// Moments `M^{pq}` stored as `[p * 5 + q]`.
type Moments = [f64; 25];

/// One hidden neuron of a two-layer network.
#[derive(Clone, Debug)]
struct Neuron {
    w: Vec<f64>,
    b: f64,
    act: Activation,
}

/// A trapezoidal rule on `[−z, z]` with step `h` (nodes `j·h`, `j = −J..J`, `J` even, so
/// that the even `j` form the rule of step `2h`).
struct Rule {
    z: Vec<f64>,
    w: Vec<f64>,
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

/// The population loss of a student architecture against a fixed teacher (see the module
/// docs): value, exact gradient, exact Hessian and Gauss–Newton matrix of `L(θ)`.
pub struct Population {
    spec: NetSpec,
    layouts: Vec<LayerLayout>,
    teacher: Vec<Neuron>,
    teacher_out: Vec<f64>,
    teacher_bias: f64,
    /// `Σ_jl a*_j a*_l M⁰⁰_jl` (teacher–teacher, fixed).
    tt: f64,
    /// `Σ_j a*_j m⁰_j`.
    teacher_mean: f64,
    quad: Quadrature,
    /// Student–student moments, `m × m` (both orientations).
    ss: Vec<Moments>,
    /// Student–teacher moments, `m × r`.
    st: Vec<Moments>,
    /// One-dimensional moments `m^p_i` of the students.
    mean: Vec<[f64; 5]>,
    students: Vec<Neuron>,
    /// `R^q_i = Σ_l c_l M^{q0}_il + e m^q_i` per student.
    rr: Vec<[f64; 5]>,
    /// `Σ_l c_l M^{p1}_il w_l` for `p = 1, 2, 3`, `3d` values per student.
    v: Vec<f64>,
}

/// The quadrature rules and their error bookkeeping.
struct Quadrature {
    opts: PopulationOptions,
    rule1: Rule,
    rule2: Rule,
    worst: f64,
}

impl Population {
    /// The population objective of `student` (a `d → m → 1` architecture with identity output)
    /// against `teacher` (`d → r → 1`, identity output).
    ///
    /// # Errors
    /// If either network is not of that shape, their input dimensions differ, a hidden
    /// activation is not smooth (`relu`, `leaky_relu`, `selu`), or an option is out of range
    /// (the error names the field).
    pub fn new(student: &NetSpec, teacher: &Network, opts: &PopulationOptions) -> Result<Self> {
        opts.check()?;
        student.validate()?;
        check_shape(student, "student")?;
        check_shape(&teacher.spec, "teacher")?;
        teacher.spec.check_params(&teacher.params)?;
        if teacher.spec.input_dim != student.input_dim {
            return Err(Error::invalid(
                "teacher",
                format!(
                    "has input dimension {}, the student {}",
                    teacher.spec.input_dim, student.input_dim
                ),
            ));
        }
        let tl = teacher.spec.layouts();
        let teacher_neurons = neurons(&teacher.spec, &tl, &teacher.params);
        let teacher_out = teacher.params[tl[1].weight.clone()].to_vec();
        let teacher_bias = tl[1].bias.as_ref().map_or(0.0, |b| teacher.params[b.start]);
        let mut pop = Population {
            layouts: student.layouts(),
            spec: student.clone(),
            teacher: teacher_neurons,
            teacher_out,
            teacher_bias,
            tt: 0.0,
            teacher_mean: 0.0,
            quad: Quadrature {
                opts: opts.clone(),
                rule1: Rule {
                    z: Vec::new(),
                    w: Vec::new(),
                },
                rule2: Rule {
                    z: Vec::new(),
                    w: Vec::new(),
                },
                worst: 0.0,
            },
            ss: Vec::new(),
            st: Vec::new(),
            mean: Vec::new(),
            students: Vec::new(),
            rr: Vec::new(),
            v: Vec::new(),
        };
        let r = pop.teacher.len();
        let (mut tt, mut tm) = (0.0, 0.0);
        let mut mom = [0.0; 25];
        for j in 0..r {
            let aj = pop.teacher_out[j];
            tm += aj * pop.quad.mean_of(&pop.teacher[j], 0)[0];
            for l in j..r {
                pop.quad
                    .pair(&pop.teacher[j], &pop.teacher[l], j == l, 0, &mut mom);
                let f = if l == j { 1.0 } else { 2.0 };
                tt += f * aj * pop.teacher_out[l] * mom[0];
            }
        }
        pop.tt = tt;
        pop.teacher_mean = tm;
        Ok(pop)
    }

    /// The student architecture.
    pub fn spec(&self) -> &NetSpec {
        &self.spec
    }

    /// Largest relative error estimate of the integrals of the last evaluation (the
    /// difference to the rule of twice the step, squared; see the module docs). Above
    /// [`PopulationOptions::tolerance`] only where an integral hit
    /// [`PopulationOptions::max_points`].
    pub fn error_estimate(&self) -> f64 {
        self.quad.worst
    }

    /// `L(θ)`.
    ///
    /// # Panics
    /// If `params` has the wrong length.
    pub fn loss(&mut self, params: &[f64]) -> f64 {
        self.evaluate(params, None, None, false)
    }

    /// `L(θ)`; writes `∇L` into `grad`.
    ///
    /// # Panics
    /// If a buffer has the wrong length.
    pub fn gradient_into(&mut self, params: &[f64], grad: &mut [f64]) -> f64 {
        self.evaluate(params, Some(grad), None, false)
    }

    /// `L(θ)`; writes `∇L` into `grad` and the exact Hessian (`P × P`) into `hess`, or the
    /// Gauss–Newton matrix `2E[∇f ∇fᵀ]` when `gauss_newton`.
    ///
    /// # Panics
    /// If a buffer has the wrong length.
    pub fn hessian_into(
        &mut self,
        params: &[f64],
        grad: &mut [f64],
        hess: &mut [f64],
        gauss_newton: bool,
    ) -> f64 {
        self.evaluate(params, Some(grad), Some(hess), gauss_newton)
    }

    /// The moments of every pair at `params`, then the requested derivatives.
    fn evaluate(
        &mut self,
        params: &[f64],
        grad: Option<&mut [f64]>,
        hess: Option<&mut [f64]>,
        gauss_newton: bool,
    ) -> f64 {
        let p = self.spec.n_params();
        assert_eq!(
            params.len(),
            p,
            "parameter vector length does not match the network"
        );
        self.quad.worst = 0.0;
        neurons_into(&self.spec, &self.layouts, params, &mut self.students);
        let (m, r) = (self.students.len(), self.teacher.len());
        let lay1 = &self.layouts[1];
        let a = &params[lay1.weight.clone()];
        let c = lay1.bias.as_ref().map_or(0.0, |b| params[b.start]);
        let e = c - self.teacher_bias;
        // Moments.
        self.ss.resize(m * m, [0.0; 25]);
        self.st.resize(m * r, [0.0; 25]);
        self.mean.resize(m, [0.0; 5]);
        let mut mom = [0.0; 25];
        for i in 0..m {
            let ni = &self.students[i];
            self.mean[i] = self.quad.mean_of(ni, ALL_ORDERS);
            for j in i..m {
                self.quad
                    .pair(ni, &self.students[j], i == j, ALL_ORDERS, &mut mom);
                self.ss[i * m + j] = mom;
                self.ss[j * m + i] = transpose(&mom);
            }
            for j in 0..r {
                self.quad
                    .pair(ni, &self.teacher[j], false, ALL_ORDERS, &mut mom);
                self.st[i * r + j] = mom;
            }
        }
        // Loss.
        let (mut ss, mut st, mut sm) = (0.0, 0.0, 0.0);
        for i in 0..m {
            sm += a[i] * self.mean[i][0];
            for j in 0..m {
                ss += a[i] * a[j] * self.ss[i * m + j][0];
            }
            for j in 0..r {
                st += a[i] * self.teacher_out[j] * self.st[i * r + j][0];
            }
        }
        let loss = ss - 2.0 * st + self.tt + 2.0 * e * (sm - self.teacher_mean) + e * e;
        let Some(grad) = grad else { return loss };
        assert_eq!(grad.len(), p, "gradient buffer must hold P values");
        grad.fill(0.0);
        let d = self.spec.input_dim;
        let lay0 = self.layouts[0].clone();
        let lay1 = self.layouts[1].clone();
        // R^q_i = Σ_l c_l M^{q0}_il + e m^q_i and the vectors Σ_l c_l M^{p1}_il w_l.
        let qmax = if hess.is_some() { 4 } else { 2 };
        self.rr.resize(m, [0.0; 5]);
        self.v.clear();
        self.v.resize(3 * d * m, 0.0);
        let (rr, v) = (&mut self.rr, &mut self.v);
        for i in 0..m {
            for q in 0..=qmax {
                let mut acc = e * self.mean[i][q];
                for l in 0..m {
                    acc += a[l] * self.ss[i * m + l][q * 5];
                }
                for l in 0..r {
                    acc -= self.teacher_out[l] * self.st[i * r + l][q * 5];
                }
                rr[i][q] = acc;
            }
            for k in 0..(if hess.is_some() { 3 } else { 1 }) {
                let idx = (k + 1) * 5 + 1;
                let vk = &mut v[(3 * i + k) * d..(3 * i + k + 1) * d];
                for l in 0..m {
                    let f = a[l] * self.ss[i * m + l][idx];
                    axpy(vk, f, &self.students[l].w);
                }
                for l in 0..r {
                    let f = -self.teacher_out[l] * self.st[i * r + l][idx];
                    axpy(vk, f, &self.teacher[l].w);
                }
            }
        }
        for i in 0..m {
            let wi = &self.students[i].w;
            grad[lay1.weight.start + i] = 2.0 * rr[i][0];
            if let Some(b) = &lay0.bias {
                grad[b.start + i] = 2.0 * a[i] * rr[i][1];
            }
            for t in 0..d {
                grad[lay0.weight.start + i * d + t] =
                    2.0 * a[i] * (rr[i][2] * wi[t] + v[3 * i * d + t]);
            }
        }
        if let Some(b) = &lay1.bias {
            grad[b.start] = 2.0 * (sm - self.teacher_mean + e);
        }
        let Some(hess) = hess else { return loss };
        assert_eq!(hess.len(), p * p, "Hessian buffer must hold P×P values");
        hess.fill(0.0);
        let idx = Index {
            p,
            d,
            w0: lay0.weight.start,
            b0: lay0.bias.as_ref().map(|b| b.start),
            a: lay1.weight.start,
            c: lay1.bias.as_ref().map(|b| b.start),
        };
        // Gauss–Newton part 2E[∂r ∂rᵀ], one-sided blocks for every ordered student pair.
        for i in 0..m {
            for j in 0..m {
                let mm = &self.ss[i * m + j];
                gn_block(
                    hess,
                    &idx,
                    i,
                    j,
                    &self.students[i].w,
                    &self.students[j].w,
                    a[i],
                    a[j],
                    mm,
                );
            }
            if let Some(cc) = idx.c {
                let wi = &self.students[i].w;
                let mi = &self.mean[i];
                sym_add(hess, p, cc, idx.a + i, 2.0 * mi[0]);
                if let Some(b0) = idx.b0 {
                    sym_add(hess, p, cc, b0 + i, 2.0 * a[i] * mi[1]);
                }
                for t in 0..d {
                    sym_add(hess, p, cc, idx.w0 + i * d + t, 2.0 * a[i] * mi[2] * wi[t]);
                }
            }
        }
        if let Some(cc) = idx.c {
            hess[cc * p + cc] += 2.0;
        }
        if gauss_newton {
            return loss;
        }
        // Residual part 2E[r ∂²r], within each student neuron.
        for i in 0..m {
            let wi = &self.students[i].w;
            let (ai, ri) = (a[i], rr[i]);
            let vi = &v[3 * i * d..3 * (i + 1) * d];
            let (v1, v2, v3) = (&vi[..d], &vi[d..2 * d], &vi[2 * d..]);
            if let Some(b0) = idx.b0 {
                sym_add(hess, p, idx.a + i, b0 + i, 2.0 * ri[1]);
                hess[(b0 + i) * p + b0 + i] += 2.0 * ai * ri[2];
                for t in 0..d {
                    let val = 2.0 * ai * (ri[3] * wi[t] + v2[t]);
                    sym_add(hess, p, b0 + i, idx.w0 + i * d + t, val);
                }
            }
            for t in 0..d {
                sym_add(
                    hess,
                    p,
                    idx.a + i,
                    idx.w0 + i * d + t,
                    2.0 * (ri[2] * wi[t] + v1[t]),
                );
            }
            // 2a_i (R² I + R⁴ w wᵀ + w v3ᵀ + v3 wᵀ + Σ_l c_l M²² w_l w_lᵀ).
            let base = idx.w0 + i * d;
            for s in 0..d {
                for t in 0..d {
                    let mut val = ri[4] * wi[s] * wi[t] + wi[s] * v3[t] + v3[s] * wi[t];
                    if s == t {
                        val += ri[2];
                    }
                    hess[(base + s) * p + base + t] += 2.0 * ai * val;
                }
            }
            let mut add_outer = |f: f64, wl: &[f64]| {
                let f = 2.0 * ai * f;
                for s in 0..d {
                    for t in 0..d {
                        hess[(base + s) * p + base + t] += f * wl[s] * wl[t];
                    }
                }
            };
            for l in 0..m {
                add_outer(a[l] * self.ss[i * m + l][12], &self.students[l].w);
            }
            for l in 0..r {
                add_outer(
                    -self.teacher_out[l] * self.st[i * r + l][12],
                    &self.teacher[l].w,
                );
            }
        }
        loss
    }
}

impl Quadrature {
    /// `[m⁰, …, m⁴]` of one neuron (`m^p = E[σ⁽ᵖ⁾(w·x + b)]`) up to `order`.
    fn mean_of(&mut self, n: &Neuron, order: usize) -> [f64; 5] {
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
    fn pair(&mut self, k: &Neuron, l: &Neuron, same: bool, order: usize, out: &mut Moments) {
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

/// Flat indices of the student's parameters.
struct Index {
    p: usize,
    d: usize,
    w0: usize,
    b0: Option<usize>,
    a: usize,
    c: Option<usize>,
}

/// Adds `v` to `H[x][y]` and, off the diagonal, to `H[y][x]`.
#[inline]
fn sym_add(h: &mut [f64], p: usize, x: usize, y: usize, v: f64) {
    h[x * p + y] += v;
    if x != y {
        h[y * p + x] += v;
    }
}

/// The Gauss–Newton block `2E[∂r/∂θ_i ∂r/∂θ_jᵀ]` of students `i` and `j` (rows: `i`'s
/// parameters, columns: `j`'s), from their moments `M^{pq}_ij`.
#[allow(clippy::too_many_arguments)]
fn gn_block(
    h: &mut [f64],
    ix: &Index,
    i: usize,
    j: usize,
    wi: &[f64],
    wj: &[f64],
    ai: f64,
    aj: f64,
    mm: &Moments,
) {
    let (p, d) = (ix.p, ix.d);
    let mo = |pp: usize, qq: usize| mm[pp * 5 + qq];
    let (ra, ca) = (ix.a + i, ix.a + j);
    let (rw, cw) = (ix.w0 + i * d, ix.w0 + j * d);
    h[ra * p + ca] += 2.0 * mo(0, 0);
    for t in 0..d {
        h[ra * p + cw + t] += 2.0 * aj * (mo(1, 1) * wi[t] + mo(0, 2) * wj[t]);
        h[(rw + t) * p + ca] += 2.0 * ai * (mo(2, 0) * wi[t] + mo(1, 1) * wj[t]);
    }
    if let Some(b0) = ix.b0 {
        let (rb, cb) = (b0 + i, b0 + j);
        h[ra * p + cb] += 2.0 * aj * mo(0, 1);
        h[rb * p + ca] += 2.0 * ai * mo(1, 0);
        h[rb * p + cb] += 2.0 * ai * aj * mo(1, 1);
        for t in 0..d {
            let val = 2.0 * ai * aj * (mo(2, 1) * wi[t] + mo(1, 2) * wj[t]);
            h[rb * p + cw + t] += val;
            h[(rw + t) * p + cb] += val;
        }
    }
    let f = 2.0 * ai * aj;
    let (m11, m31, m22, m13) = (mo(1, 1), mo(3, 1), mo(2, 2), mo(1, 3));
    for s in 0..d {
        let row = (rw + s) * p + cw;
        for t in 0..d {
            let mut val =
                m31 * wi[s] * wi[t] + m22 * (wi[s] * wj[t] + wj[s] * wi[t]) + m13 * wj[s] * wj[t];
            if s == t {
                val += m11;
            }
            h[row + t] += f * val;
        }
    }
}

fn transpose(m: &Moments) -> Moments {
    let mut t = [0.0; 25];
    for p in 0..5 {
        for q in 0..5 {
            t[q * 5 + p] = m[p * 5 + q];
        }
    }
    t
}

fn axpy(y: &mut [f64], a: f64, x: &[f64]) {
    for (y, x) in y.iter_mut().zip(x) {
        *y += a * x;
    }
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

/// The hidden neurons of a two-layer network.
fn neurons(spec: &NetSpec, layouts: &[LayerLayout], params: &[f64]) -> Vec<Neuron> {
    let mut out = Vec::new();
    neurons_into(spec, layouts, params, &mut out);
    out
}

/// [`neurons`] into `out`, reusing its buffers.
fn neurons_into(spec: &NetSpec, layouts: &[LayerLayout], params: &[f64], out: &mut Vec<Neuron>) {
    let (lay, d) = (&layouts[0], spec.input_dim);
    if out.len() != lay.rows {
        out.clear();
        out.extend((0..lay.rows).map(|u| Neuron {
            w: vec![0.0; d],
            b: 0.0,
            act: spec.layers[0].activation_of(u).clone(),
        }));
    }
    for (u, n) in out.iter_mut().enumerate() {
        n.w.copy_from_slice(&params[lay.weight.start + u * d..lay.weight.start + (u + 1) * d]);
        n.b = lay.bias.as_ref().map_or(0.0, |b| params[b.start + u]);
    }
}

/// Checks that `spec` is `d → m → 1` with an identity output and smooth hidden activations.
fn check_shape(spec: &NetSpec, what: &str) -> Result<()> {
    if spec.depth() != 2 || spec.output_dim() != 1 {
        return Err(Error::invalid(
            what,
            "must have one hidden layer and one output for the infinite-data objective",
        ));
    }
    if spec.layers[1].activation != Activation::Identity {
        return Err(Error::invalid(
            what,
            "must have an identity output layer for the infinite-data objective",
        ));
    }
    let layer = &spec.layers[0];
    for u in 0..layer.width {
        let act = layer.activation_of(u);
        if act.eval5(0.5).is_none() {
            return Err(Error::invalid(
                what,
                format!(
                    "hidden activation {act} is not smooth; the infinite-data objective integrates smooth activations (closed forms for relu are not implemented)"
                ),
            ));
        }
    }
    Ok(())
}
