//! The population (infinite-data) loss of two-layer networks under Gaussian input, with its
//! exact gradient and Hessian — MLPGradientFlow.jl's `NetI`.
//!
//! Teacher `f*(x) = Σ_j a*_j σ*_j(w*_j·x + b*_j) + c*` (`d → r → 1`) and student
//! `f(x) = Σ_i a_i σ_i(w_i·x + b_i) + c` (`d → m → 1`), identity outputs, biases optional in
//! both layers of both networks, any smooth SPEC §2 hidden activation (one per neuron allowed),
//! or `relu` throughout.
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
//! **Mehler's series** (`mehler.rs`). Most pairs need no two-dimensional rule: with
//! `ρ = w_k·w_l/(‖w_k‖‖w_l‖)`, `M^{pq}_kl = Σ_n ρⁿ A^p_{k,n} A^q_{l,n}` (Mehler 1866), where
//! `A^p_{k,n} = E[σ_k⁽ᵖ⁾(b_k + ‖w_k‖z) h_n(z)]` are one-dimensional Hermite coefficients computed
//! once per neuron and evaluation (the teacher's once), and `ln(tolerance)/ln|ρ|` terms bound the
//! rest of the series by the tolerance times the norms. A pair then costs `15N` multiply–adds
//! (`N` ≤ 300 terms, ~50 for typical correlations). Pairs with `|ρ|` above about 0.9 —
//! aligned and duplicated neurons, where the series converges slowly — keep the rules below;
//! so do the closed bivariate `normal_cdf` / `sigmoid2` pairs, and `exp`.
//! [`PopulationOptions::mehler`] turns the series off.
//!
//! **Quadrature** (`quadrature.rs`). Each moment is computed in the Cholesky frame of its pair,
//! `u_k = b_k + p₁z₁`, `u_l = b_l + q₁z₁ + q₂z₂`, by trapezoidal rules on `[−Z, Z]` (`Z = √(2
//! ln(1/tolerance)) + 1`, 8.7 at the default, wider for `exp`): for integrands analytic in a strip
//! of half-width `a` around the real axis they converge like `e^{−2πa/h}` (Trefethen & Weideman,
//! SIAM Review 56, 2014); Gaussian quadrature gains nothing on activations with complex poles such
//! as `sigmoid(4x)` inside `g` (`π/4` from the real axis, `Activation::singularity_distance`).
//! Where such a singularity comes within one standard deviation of the real axis (large weights),
//! the nodes are packed around it by a sinh map (outer rule: around the sharper neuron's point;
//! inner rule: around the point of each outer node); elsewhere they are uniform with the step the
//! strip allows. The inner nodes, seen in `u_l`, do not move with the outer node (only the Gaussian
//! weight does), so each inner activation is evaluated once per pair, and the weights come from a
//! vectorised `exp`. A nearly aligned pair, whose inner width `q₂` is far below the inner
//! activation's singularity distance, takes its inner integral from 1 to 16 Gauss–Hermite nodes
//! (the count from the rule's error term, which stands for its error: it is not checked like
//! the others) instead. Every other integral is checked against the rule of twice the step
//! (every other node) and refined until that difference is below `√tolerance` (uniform rules) or
//! `tolerance^{2/3}` (sinh maps, which converge more slowly) of the integral's magnitude, which
//! leaves the finer rule's error near `tolerance` (it squares when the step halves; measured,
//! `tests/derivatives/population.rs`).
//!
//! **Closed smoothings** (`smoothing.rs`). For `normal_cdf`, `sigmoid2`, `gelu`, `exp` and the
//! polynomials the inner integral `E_{z₂}[σ_l⁽ᑫ⁾(μ + q₂z₂)]` is a closed form (for the erf
//! family `Φ(μ/√(1 + q₂²))` and its derivatives), so a pair with such a neuron costs one
//! one-dimensional rule over `z₁` (the neuron without a closed form, if any, carries `z₁`), and
//! the one-dimensional moments of such a neuron are exact. A pair of two `normal_cdf` /
//! `sigmoid2` neurons needs no rule at all (`bivariate.rs`: derivatives of the bivariate normal
//! CDF). Timings are in `experiments/infinite/README.md`;
//! [`PopulationOptions::closed_forms`] turns both off for cross-checks.
//!
//! **`relu`** (`relu.rs`). When every hidden neuron of both networks is `relu`, the loss, the
//! gradient and the Hessian are closed forms (bivariate normal orthant moments, Genz's `Φ₂`),
//! assembled without the Stein reduction (whose `δ(u)²` terms `relu` would need): in the
//! orthonormal frame of each pair, finite and continuous at aligned and duplicated neurons.
//!
//! **Precision.** `L` is a sum of terms of order one that cancel at a global minimum, so its
//! absolute round-off is about `1e-16` times their size: losses below ~1e-15 are not resolved
//! (a sample loss, a sum of squared residuals, resolves ~1e-30).

// Index loops mirror the formulas' subscripts (students i, l; coordinates s, t).
#![allow(clippy::needless_range_loop)]

mod bivariate;
mod hessian;
mod inner;
mod mehler;
mod quadrature;
mod relu;
mod smoothing;

use super::activation::Activation;
use super::network::Network;
use super::spec::{LayerLayout, NetSpec};
use crate::error::{Error, Result};
use hessian::Index;
use mehler::Hermite;
use quadrature::{Moments, Quadrature, transpose};

/// Options of the population objective ([`Population`]).
///
/// ```
/// let o = gradflow::net::population::PopulationOptions::default();
/// assert_eq!(o.tolerance, 1e-13);
/// assert_eq!(o.max_points, 2049);
/// assert!(o.closed_forms);
/// assert!(o.mehler);
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
    /// Use the closed Gaussian smoothings of `normal_cdf`, `sigmoid2`, `gelu`, `exp` and the
    /// polynomials (default `true`): the inner integral of every pair with such a neuron is
    /// then exact and the pair costs a one-dimensional rule. `false` integrates every
    /// activation by the generic two-dimensional rules (a cross-check). Networks of `relu`
    /// neurons always use their closed forms (`relu` has no generic rule). Pairs that
    /// [`PopulationOptions::mehler`] takes (`gelu`, the polynomials) do not need them.
    pub closed_forms: bool,
    /// Compute the pairs of neurons whose correlation is not too close to ±1 by Mehler's
    /// series from Hermite coefficients computed once per neuron (default `true`; `mehler.rs`
    /// in the source), which is much cheaper than a two-dimensional rule. `false`
    /// integrates every pair by the two-dimensional rules (a cross-check).
    pub mehler: bool,
}

impl Default for PopulationOptions {
    fn default() -> Self {
        PopulationOptions {
            tolerance: 1e-13,
            max_points: 2049,
            closed_forms: true,
            mehler: true,
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

/// The student moments are always computed to this order, whatever the call needs: the rule
/// (chosen by the error estimate over every moment) and so the loss are then the same, bit
/// for bit, in `loss`, `gradient_into` and `hessian_into` (the stop rules and the best point
/// compare losses of different calls).
const ALL_ORDERS: usize = 4;
/// One hidden neuron of a two-layer network.
#[derive(Clone, Debug)]
struct Neuron {
    w: Vec<f64>,
    b: f64,
    act: Activation,
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
    /// The closed forms of `relu` networks (every hidden neuron of both networks `relu`),
    /// which replace the moments above (`relu.rs`).
    relu: Option<relu::Relu>,
    /// The rules of the threads beyond the caller's ([`Population::set_threads`]).
    workers: Vec<Quadrature>,
    /// The pairs of one evaluation and their moments (kept: no allocation per call).
    tasks: Vec<(usize, usize)>,
    out: Vec<Moments>,
    /// Hermite coefficients of the teacher's neurons (fixed; empty where not eligible) and
    /// of the students, and the number of series terms and the correlation of each task (0
    /// terms: a rule).
    herm_t: Vec<Hermite>,
    herm_s: Vec<Hermite>,
    herm_need: Vec<usize>,
    /// One work space per thread.
    herm_scratch: Vec<mehler::Scratch>,
    plan: Vec<(usize, f64)>,
}

impl Population {
    /// The population objective of `student` (a `d → m → 1` architecture with identity output)
    /// against `teacher` (`d → r → 1`, identity output).
    ///
    /// # Errors
    /// If either network is not of that shape, their input dimensions differ, a hidden
    /// activation is not smooth (`leaky_relu`, `selu`; `relu` mixed with other activations:
    /// `relu` is integrated in closed form when every hidden neuron of both networks is
    /// `relu`), or an option is out of range (the error names the field).
    pub fn new(student: &NetSpec, teacher: &Network, opts: &PopulationOptions) -> Result<Self> {
        opts.check()?;
        student.validate()?;
        let relu = all_relu(student) && all_relu(&teacher.spec);
        check_shape(student, "student", relu)?;
        check_shape(&teacher.spec, "teacher", relu)?;
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
            quad: Quadrature::new(opts),
            ss: Vec::new(),
            st: Vec::new(),
            mean: Vec::new(),
            students: Vec::new(),
            rr: Vec::new(),
            v: Vec::new(),
            relu: None,
            workers: Vec::new(),
            tasks: Vec::new(),
            out: Vec::new(),
            herm_t: Vec::new(),
            herm_s: Vec::new(),
            herm_need: Vec::new(),
            herm_scratch: vec![mehler::Scratch::default()],
            plan: Vec::new(),
        };
        if relu {
            pop.relu = Some(relu::Relu::new(&pop.teacher, &pop.teacher_out));
            return Ok(pop);
        }
        let r = pop.teacher.len();
        let (mut tt, mut tm) = (0.0, 0.0);
        let mut mom = [0.0; 25];
        for j in 0..r {
            let aj = pop.teacher_out[j];
            tm += aj * pop.quad.mean_of(&pop.teacher[j], ALL_ORDERS)[0];
            for l in j..r {
                pop.quad.pair(
                    &pop.teacher[j],
                    &pop.teacher[l],
                    j == l,
                    ALL_ORDERS,
                    &mut mom,
                );
                let f = if l == j { 1.0 } else { 2.0 };
                tt += f * aj * pop.teacher_out[l] * mom[0];
            }
        }
        pop.tt = tt;
        pop.teacher_mean = tm;
        let o = &pop.quad.opts;
        for n in &pop.teacher {
            let mut h = Hermite::default();
            if o.mehler {
                h.set_neuron(n, o.closed_forms);
            }
            if h.is_eligible()
                && !h.fill(
                    n,
                    mehler::MAX_TERMS,
                    o.tolerance,
                    o.max_points,
                    &mut pop.herm_scratch[0],
                )
            {
                // Its pairs keep their rules (no student computes coefficients for them).
                h = Hermite::default();
            }
            pop.herm_t.push(h);
        }
        Ok(pop)
    }

    /// The student architecture.
    pub fn spec(&self) -> &NetSpec {
        &self.spec
    }

    /// The smallest loss this objective resolves: `L` is the sum `Σ c_k c_l M_kl + …` of terms
    /// of the size of the teacher's second moment `E[f*²]` (minus its bias) that cancel at a
    /// global minimum, each integral accurate to [`PopulationOptions::tolerance`] relative
    /// (`relu`: closed forms, to round-off, `64ε`), so losses below
    /// `4·E[f*²]·tolerance` cannot be told from zero (measured floor: ~1e-15 on the paper
    /// teachers, `experiments/infinite/README.md`). For `relu` teachers `E[f*²]` is bounded by
    /// `(Σ_j |a*_j| (b_j² + ‖w_j‖²)^{1/2})²`. [`crate::landscape::certify`] calls a run
    /// `zero_loss` at or below it.
    pub fn loss_resolution(&self) -> f64 {
        if self.relu.is_some() {
            let s: f64 = self
                .teacher
                .iter()
                .zip(&self.teacher_out)
                .map(|(n, a)| a.abs() * (n.b * n.b + n.w.iter().map(|v| v * v).sum::<f64>()).sqrt())
                .sum();
            4.0 * s * s * 64.0 * f64::EPSILON
        } else {
            4.0 * self.tt.abs() * self.quad.opts.tolerance
        }
    }

    /// Largest relative error estimate of the integrals of the last evaluation (the
    /// difference to the rule of twice the step, squared: the error model of exponential
    /// convergence; for pairs by Mehler's series, the bound `|ρ|^N` on the terms left out,
    /// relative to the norms, which is at most the tolerance; see the module docs). Above
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
        let lay1 = &self.layouts[1];
        let a = &params[lay1.weight.clone()];
        let c = lay1.bias.as_ref().map_or(0.0, |b| params[b.start]);
        let e = c - self.teacher_bias;
        if let Some(relu) = self.relu.as_mut() {
            neurons_into(&self.spec, &self.layouts, params, &mut self.students);
            let idx = Index::new(&self.layouts, self.spec.input_dim);
            return relu.evaluate(
                &self.students,
                &self.teacher,
                a,
                &self.teacher_out,
                e,
                &idx,
                grad,
                hess,
                gauss_newton,
            );
        }
        self.moments(params);
        let (m, r) = (self.students.len(), self.teacher.len());
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
        self.residual_moments(a, e, hess.is_some());
        let idx = Index::new(&self.layouts, self.spec.input_dim);
        let d = idx.d;
        grad.fill(0.0);
        for i in 0..m {
            let (wi, ri) = (&self.students[i].w, &self.rr[i]);
            grad[idx.a + i] = 2.0 * ri[0];
            if let Some(b0) = idx.b0 {
                grad[b0 + i] = 2.0 * a[i] * ri[1];
            }
            for t in 0..d {
                grad[idx.w0 + i * d + t] = 2.0 * a[i] * (ri[2] * wi[t] + self.v[3 * i * d + t]);
            }
        }
        if let Some(cc) = idx.c {
            grad[cc] = 2.0 * (sm - self.teacher_mean + e);
        }
        let Some(hess) = hess else { return loss };
        assert_eq!(hess.len(), p * p, "Hessian buffer must hold P×P values");
        hess.fill(0.0);
        self.add_gauss_newton(a, &idx, hess);
        if !gauss_newton {
            self.add_residual_curvature(a, &idx, hess);
        }
        loss
    }

    /// The moments of every student–student and student–teacher pair and of every student;
    /// the pairs on [`Population::set_threads`] threads (each pair's rule depends on the pair
    /// alone, so the moments are the same, bit for bit, on any number of threads).
    fn moments(&mut self, params: &[f64]) {
        self.quad.worst = 0.0;
        neurons_into(&self.spec, &self.layouts, params, &mut self.students);
        let (m, r) = (self.students.len(), self.teacher.len());
        self.ss.resize(m * m, [0.0; 25]);
        self.st.resize(m * r, [0.0; 25]);
        self.mean.resize(m, [0.0; 5]);
        // Pair `(i, j)`: student–student for `j < m` (`j ≥ i`), student–teacher `j − m` above.
        self.tasks.clear();
        for i in 0..m {
            self.tasks.extend((i..m + r).map(|j| (i, j)));
        }
        self.out.resize(self.tasks.len(), [0.0; 25]);
        self.plan_series();
        // The one-dimensional moments: from the coefficients where computed (`h₀ = 1`).
        for i in 0..m {
            self.mean[i] = match self.herm_s[i].means() {
                Some(mean) => mean,
                None => self.quad.mean_of(&self.students[i], ALL_ORDERS),
            };
        }
        let (students, teacher) = (&self.students, &self.teacher);
        let (herm_s, herm_t, plan) = (&self.herm_s, &self.herm_t, &self.plan);
        let run = |q: &mut Quadrature, lo: usize, out: &mut [Moments]| {
            let tasks = &self.tasks[lo..lo + out.len()];
            for ((&(i, j), o), &(terms, rho)) in tasks.iter().zip(out.iter_mut()).zip(&plan[lo..]) {
                let (k, l) = if j < m {
                    (&students[i], &students[j])
                } else {
                    (&students[i], &teacher[j - m])
                };
                if terms > 0 {
                    let hl = mehler::hermite(herm_s, herm_t, j);
                    let err = mehler::pair(&herm_s[i], hl, rho, terms, ALL_ORDERS, o);
                    q.worst = q.worst.max(err);
                } else {
                    q.pair(k, l, i == j, ALL_ORDERS, o);
                }
            }
        };
        let n = self.tasks.len();
        let t = (self.workers.len() + 1).min(n.max(1));
        if t <= 1 {
            run(&mut self.quad, 0, &mut self.out);
        } else {
            let (quad, workers) = (&mut self.quad, &mut self.workers[..t - 1]);
            // Block b: pairs b·n/t .. (b+1)·n/t; the first stays on this thread.
            let first = n / t;
            let (first_out, mut rest) = self.out.split_at_mut(first);
            rayon::scope(|s| {
                for (b, q) in workers.iter_mut().enumerate() {
                    let (lo, hi) = ((b + 1) * n / t, (b + 2) * n / t);
                    let (out, tail) = std::mem::take(&mut rest).split_at_mut(hi - lo);
                    rest = tail;
                    q.worst = 0.0;
                    let run = &run;
                    s.spawn(move |_| run(q, lo, out));
                }
                run(quad, 0, first_out);
            });
            for q in workers.iter() {
                self.quad.worst = self.quad.worst.max(q.worst);
            }
        }
        for (&(i, j), mom) in self.tasks.iter().zip(&self.out) {
            if j < m {
                self.ss[i * m + j] = *mom;
                self.ss[j * m + i] = transpose(mom);
            } else {
                self.st[i * r + j - m] = *mom;
            }
        }
    }

    /// Computes the pair integrals of each evaluation on `threads` threads (tasks of the
    /// current rayon pool; default 1; `relu` networks, whose closed forms are cheap, stay on
    /// one). Results do not depend on it.
    pub fn set_threads(&mut self, threads: usize) {
        let t = threads.max(1);
        let opts = self.quad.opts.clone();
        self.workers = (1..t).map(|_| Quadrature::new(&opts)).collect();
        self.herm_scratch.resize_with(t, mehler::Scratch::default);
    }

    /// Every neuron `l` of the residual seen from student `i`: its coefficient `c_l` (`a_l`
    /// for students, `−a*_l` for the teacher's), the moments `M_il` and its weights `w_l`.
    fn partners<'s>(
        &'s self,
        i: usize,
        a: &'s [f64],
    ) -> impl Iterator<Item = (f64, &'s Moments, &'s [f64])> + 's {
        let (m, r) = (self.students.len(), self.teacher.len());
        let students = (0..m).map(move |l| (a[l], &self.ss[i * m + l], &self.students[l].w[..]));
        let teacher = (0..r).map(move |l| {
            (
                -self.teacher_out[l],
                &self.st[i * r + l],
                &self.teacher[l].w[..],
            )
        });
        students.chain(teacher)
    }

    /// `R^q_i = Σ_l c_l M^{q0}_il + e m^q_i` (`q ≤ 2`, or 4 for the Hessian) and the vectors
    /// `Σ_l c_l M^{k1}_il w_l` (`k = 1`, or 1..3 for the Hessian) of every student.
    fn residual_moments(&mut self, a: &[f64], e: f64, hessian: bool) {
        let (m, d) = (self.students.len(), self.spec.input_dim);
        let (qmax, kmax) = if hessian { (4, 3) } else { (2, 1) };
        let mut rr = std::mem::take(&mut self.rr);
        let mut v = std::mem::take(&mut self.v);
        rr.resize(m, [0.0; 5]);
        v.clear();
        v.resize(3 * d * m, 0.0);
        for i in 0..m {
            for q in 0..=qmax {
                rr[i][q] = e * self.mean[i][q];
            }
            for (cl, mom, wl) in self.partners(i, a) {
                for q in 0..=qmax {
                    rr[i][q] += cl * mom[q * 5];
                }
                for k in 0..kmax {
                    let vk = &mut v[(3 * i + k) * d..(3 * i + k + 1) * d];
                    axpy(vk, cl * mom[(k + 1) * 5 + 1], wl);
                }
            }
        }
        self.rr = rr;
        self.v = v;
    }
}

/// The weight (times `3/h`) of node `j` of composite Simpson's rule on `n + 1` nodes (`n`
/// even): the tests' brute-force references.
#[cfg(test)]
fn simpson_weight(j: usize, n: usize) -> f64 {
    if j == 0 || j == n {
        1.0
    } else if j % 2 == 1 {
        4.0
    } else {
        2.0
    }
}

fn axpy(y: &mut [f64], a: f64, x: &[f64]) {
    for (y, x) in y.iter_mut().zip(x) {
        *y += a * x;
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

/// Whether every hidden neuron of the (two-layer) `spec` is `relu`.
fn all_relu(spec: &NetSpec) -> bool {
    spec.depth() == 2
        && (0..spec.layers[0].width).all(|u| *spec.layers[0].activation_of(u) == Activation::Relu)
}

/// Checks that `spec` is `d → m → 1` with an identity output and smooth hidden activations
/// (or only `relu` ones, when `relu`: both networks are all-`relu`).
fn check_shape(spec: &NetSpec, what: &str, relu: bool) -> Result<()> {
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
        if act.eval5(0.5).is_none() && !relu {
            return Err(Error::invalid(
                what,
                format!(
                    "hidden activation {act} is not smooth; the infinite-data objective integrates smooth activations, and relu (in closed form) only when every hidden neuron of both networks is relu"
                ),
            ));
        }
    }
    Ok(())
}
