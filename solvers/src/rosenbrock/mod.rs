//! An adaptive Rosenbrock integrator for dense autonomous systems `y' = f(y)` with an exact (or,
//! for W-methods, approximate) Jacobian: one Jacobian and one factorisation of
//! `W = I/(hγ) − J` per step (LU, or Cholesky for a symmetric Jacobian while `W` is positive
//! definite: [`JacobianStructure`]), one right-hand side and one triangular solve per stage, no
//! Newton iterations (Hairer & Wanner, Solving ODEs II, §IV.7).
//!
//! Step-size control is the standard one for embedded pairs: the local error estimate
//! `Σ e_i K_i` in the weighted RMS norm with weights `atol + rtol·max(|y|, |y₁|)`, and
//! `h ← h·clamp(0.9·err^(−1/(p̂+1)), 0.2, 6)` with `p̂` the embedded order (no growth right after a
//! rejection). The driver allocates once, in [`Rosenbrock::new`]; [`Rosenbrock::step`] does not.

use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::cholesky::llt;
use faer::linalg::lu::partial_pivoting::{factor, solve};
use faer::perm::PermRef;
use faer::{Mat, Par};

use crate::rosenbrock_tableau::RosenbrockTableau;

mod options;

pub use options::{
    JacobianStructure, RosenbrockError, RosenbrockOptions, RosenbrockStats, RosenbrockSystem,
};

/// Jacobians for which a failed Cholesky keeps steps at least as long on LU.
const LLT_RETRY: usize = 8;

/// How `w` holds the current factorisation of `W`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Factored {
    /// `W = P⁻¹LU` (faer's partial pivoting LU, in place).
    Lu,
    /// `W = LLᵀ`, `L` in the lower triangle.
    Cholesky,
}

/// The integrator's state.
pub struct Rosenbrock {
    tab: RosenbrockTableau,
    opts: RosenbrockOptions,
    t: f64,
    h: f64,
    y: Vec<f64>,
    /// `f(y)` at the current `y` (valid when `f0_valid`).
    f0: Vec<f64>,
    f0_valid: bool,
    /// The Jacobian (row-major), its age in accepted steps, and whether it is at `y`.
    jac: Vec<f64>,
    jac_age: usize,
    jac_valid: bool,
    /// `W` factored in place (`lu_h`: the step it was factored for; NaN when stale), how, and
    /// whether the Jacobian is symmetric; `llt_fail_h`: the shortest step whose Cholesky
    /// failed (∞: none), kept for [`LLT_RETRY`] Jacobians (`llt_fail_age` of them so far).
    w: Mat<f64>,
    lu_h: f64,
    factored: Factored,
    symmetric: bool,
    /// `√D_i` of a `ScaledSymmetric` Jacobian (empty otherwise): `w` then holds `M`.
    sqrt_scale: Vec<f64>,
    llt_fail_h: f64,
    llt_fail_age: usize,
    perm: Vec<usize>,
    perm_inv: Vec<usize>,
    mem: MemBuffer,
    k: Vec<Vec<f64>>,
    u: Vec<f64>,
    rhs: Vec<f64>,
    /// The state before the last accepted step (dense output) and the candidate buffer.
    y_prev: Vec<f64>,
    y_new: Vec<f64>,
    h_prev: f64,
    tstop: f64,
    /// No step growth right after a rejection.
    just_rejected: bool,
    stats: RosenbrockStats,
}

impl Rosenbrock {
    /// A solver at `(t0, y0)`; evaluates `f(y0)` and the Jacobian.
    pub fn new(
        tab: RosenbrockTableau,
        sys: &mut impl RosenbrockSystem,
        y0: &[f64],
        t0: f64,
        opts: RosenbrockOptions,
    ) -> Result<Self, RosenbrockError> {
        let n = y0.len();
        let s = tab.stages();
        let req = factor::lu_in_place_scratch::<usize, f64>(n, n, Par::Seq, Default::default())
            .or(solve::solve_in_place_scratch::<usize, f64>(n, 1, Par::Seq))
            .or(llt::factor::cholesky_in_place_scratch::<f64>(
                n,
                Par::Seq,
                Default::default(),
            ))
            .or(llt::solve::solve_in_place_scratch::<f64>(n, 1, Par::Seq));
        let mut me = Rosenbrock {
            opts,
            t: t0,
            h: 0.0,
            y: y0.to_vec(),
            f0: vec![0.0; n],
            f0_valid: false,
            jac: vec![0.0; n * n],
            jac_age: 0,
            jac_valid: false,
            w: Mat::zeros(n, n),
            lu_h: f64::NAN,
            factored: Factored::Lu,
            symmetric: false,
            sqrt_scale: Vec::new(),
            llt_fail_h: f64::INFINITY,
            llt_fail_age: 0,
            perm: vec![0; n],
            perm_inv: vec![0; n],
            mem: MemBuffer::new(req),
            k: vec![vec![0.0; n]; s],
            u: vec![0.0; n],
            rhs: vec![0.0; n],
            y_prev: y0.to_vec(),
            y_new: vec![0.0; n],
            h_prev: 0.0,
            tstop: f64::INFINITY,
            just_rejected: false,
            stats: RosenbrockStats::default(),
            tab,
        };
        match sys.jacobian_structure() {
            JacobianStructure::General => {}
            JacobianStructure::Symmetric => me.symmetric = true,
            JacobianStructure::ScaledSymmetric(d) => {
                // A scaling that is not a positive finite diagonal of the right length: the
                // general path (never wrong, only slower).
                if d.len() == n && d.iter().all(|v| v.is_finite() && *v > 0.0) {
                    me.symmetric = true;
                    me.sqrt_scale = d.iter().map(|v| v.sqrt()).collect();
                }
            }
        }
        me.refresh_jacobian(sys)?;
        me.h = match me.opts.h0 {
            Some(h) => h,
            None => me.starting_step(sys),
        };
        Ok(me)
    }

    /// Current time.
    pub fn t(&self) -> f64 {
        self.t
    }

    /// Current state.
    pub fn y(&self) -> &[f64] {
        &self.y
    }

    /// The step size the next step will try.
    pub fn h(&self) -> f64 {
        self.h
    }

    /// The size of the last accepted step.
    pub fn last_step(&self) -> f64 {
        self.h_prev
    }

    /// Work counters.
    pub fn stats(&self) -> RosenbrockStats {
        self.stats
    }

    /// The method.
    pub fn tableau(&self) -> &RosenbrockTableau {
        &self.tab
    }

    /// Steps never pass `tstop` (the step that reaches it ends exactly there).
    pub fn set_stop_time(&mut self, tstop: f64) {
        self.tstop = tstop;
    }

    fn n(&self) -> usize {
        self.y.len()
    }

    fn refresh_jacobian(&mut self, sys: &mut impl RosenbrockSystem) -> Result<(), RosenbrockError> {
        sys.rhs_jacobian(&self.y, &mut self.f0, &mut self.jac);
        self.stats.jacobian_evals += 1;
        self.f0_valid = true;
        self.jac_valid = true;
        self.jac_age = 0;
        self.lu_h = f64::NAN;
        // Indefiniteness persists over neighbouring Jacobians (a saddle's negative curvature):
        // steps at least as long as a failed one skip Cholesky for a few more Jacobians.
        if self.llt_fail_h.is_finite() {
            self.llt_fail_age += 1;
            if self.llt_fail_age >= LLT_RETRY {
                self.llt_fail_h = f64::INFINITY;
            }
        }
        if self.f0.iter().chain(&self.jac).all(|v| v.is_finite()) {
            Ok(())
        } else {
            Err(RosenbrockError::NonFinite { t: self.t })
        }
    }

    /// Weighted RMS norm of `v` with weights `atol + rtol·max(|a|, |b|)`.
    fn wrms(&self, v: &[f64], a: &[f64], b: &[f64]) -> f64 {
        let (atol, rtol) = (self.opts.atol, self.opts.rtol);
        let s: f64 = v
            .iter()
            .zip(a.iter().zip(b))
            .map(|(v, (a, b))| {
                let w = atol + rtol * a.abs().max(b.abs());
                (v / w).powi(2)
            })
            .sum();
        (s / v.len().max(1) as f64).sqrt()
    }

    /// Hairer & Wanner I, §II.4's starting step (one extra right-hand side).
    fn starting_step(&mut self, sys: &mut impl RosenbrockSystem) -> f64 {
        let n = self.n();
        let d0 = self.wrms(&self.y, &self.y, &self.y);
        let d1 = self.wrms(&self.f0, &self.y, &self.y);
        let h0 = if d0 < 1e-5 || d1 < 1e-5 {
            1e-6
        } else {
            0.01 * d0 / d1
        };
        for i in 0..n {
            self.u[i] = self.y[i] + h0 * self.f0[i];
        }
        sys.rhs(&self.u, &mut self.rhs);
        self.stats.rhs_evals += 1;
        for i in 0..n {
            self.rhs[i] -= self.f0[i];
        }
        let d2 = self.wrms(&self.rhs, &self.y, &self.y) / h0;
        let p = self.tab.order as f64;
        let h1 = if d1.max(d2) <= 1e-15 {
            (h0 * 1e-3).max(1e-6)
        } else {
            (0.01 / d1.max(d2)).powf(1.0 / (p + 1.0))
        };
        let h = (100.0 * h0).min(h1);
        if h.is_finite() && h > 0.0 { h } else { 1e-6 }
    }

    /// Factors `W = I/(hγ) − J` for step `h` (unless already factored for it): by Cholesky when
    /// the Jacobian is symmetric and `W` turns out positive definite, else by LU.
    fn factor(&mut self, h: f64) -> bool {
        if self.lu_h.to_bits() == h.to_bits() {
            return true;
        }
        let n = self.n();
        let d = 1.0 / (h * self.tab.gamma);
        self.stats.factorisations += 1;
        if self.symmetric && h < self.llt_fail_h {
            self.fill_w(d, true);
            let info = llt::factor::cholesky_in_place(
                self.w.as_mut(),
                Default::default(),
                Par::Seq,
                MemStack::new(&mut self.mem),
                Default::default(),
            );
            let finite = (0..n).all(|i| self.w[(i, i)].is_finite());
            if info.is_ok() && finite {
                self.stats.cholesky += 1;
                self.factored = Factored::Cholesky;
                self.lu_h = h;
                return true;
            }
            self.stats.cholesky_failures += 1;
            self.llt_fail_h = h;
            self.llt_fail_age = 0;
        }
        self.fill_w(d, false);
        factor::lu_in_place(
            self.w.as_mut(),
            &mut self.perm,
            &mut self.perm_inv,
            Par::Seq,
            MemStack::new(&mut self.mem),
            Default::default(),
        );
        self.factored = Factored::Lu;
        let ok = (0..n).all(|i| {
            let u = self.w[(i, i)];
            u.is_finite() && u != 0.0
        });
        self.lu_h = if ok { h } else { f64::NAN };
        ok
    }

    /// Writes `W = dI − J` into `w` (for a scaled symmetric Jacobian its symmetric similar
    /// `M`, `M_ij = dδ_ij − J_ji·√D_i/√D_j`): the lower triangle only (for Cholesky) or all of
    /// it. A symmetric Jacobian's column `j` is read as its row `j` (contiguous).
    fn fill_w(&mut self, d: f64, lower_only: bool) {
        let n = self.n();
        for j in 0..n {
            let col = self
                .w
                .col_mut(j)
                .try_as_col_major_mut()
                .unwrap()
                .as_slice_mut();
            let start = if lower_only { j } else { 0 };
            let row = &self.jac[j * n..(j + 1) * n];
            if !self.symmetric {
                for (i, w) in col.iter_mut().enumerate() {
                    *w = -self.jac[i * n + j];
                }
            } else if self.sqrt_scale.is_empty() {
                for i in start..n {
                    col[i] = -row[i];
                }
            } else {
                let inv_j = 1.0 / self.sqrt_scale[j];
                for i in start..n {
                    col[i] = -row[i] * (self.sqrt_scale[i] * inv_j);
                }
            }
            col[j] += d;
        }
    }

    /// Solves `W x = rhs` in place with the current factorisation (for a scaled symmetric
    /// Jacobian, `x = D^{1/2} M⁻¹ D^{−1/2} rhs`).
    fn solve(&mut self, x: &mut [f64]) {
        let scaled = !self.sqrt_scale.is_empty();
        if scaled {
            x.iter_mut()
                .zip(&self.sqrt_scale)
                .for_each(|(v, s)| *v /= s);
        }
        self.solve_factored(x);
        if scaled {
            x.iter_mut()
                .zip(&self.sqrt_scale)
                .for_each(|(v, s)| *v *= s);
        }
    }

    /// Solves with the factorisation held in `w` (of `W`, or of `M` when scaled).
    fn solve_factored(&mut self, x: &mut [f64]) {
        let n = self.n();
        let rhs = faer::MatMut::from_column_major_slice_mut(x, n, 1);
        match self.factored {
            Factored::Cholesky => llt::solve::solve_in_place(
                self.w.as_ref(),
                rhs,
                Par::Seq,
                MemStack::new(&mut self.mem),
            ),
            Factored::Lu => solve::solve_in_place(
                self.w.as_ref(),
                self.w.as_ref(),
                PermRef::new_checked(&self.perm, &self.perm_inv, n),
                rhs,
                Par::Seq,
                MemStack::new(&mut self.mem),
            ),
        }
    }

    /// The stages and the new point of a step of size `h` from `y`; returns the error norm
    /// (infinite when the step produced non-finite values or `W` is singular).
    fn attempt(&mut self, sys: &mut impl RosenbrockSystem, h: f64, y_new: &mut [f64]) -> f64 {
        if !self.factor(h) {
            return f64::INFINITY;
        }
        let n = self.n();
        let s = self.tab.stages();
        for i in 0..s {
            let mut rhs = std::mem::take(&mut self.rhs);
            if i == 0 {
                rhs.copy_from_slice(&self.f0);
            } else {
                self.u.copy_from_slice(&self.y);
                for (j, a) in self.tab.a[i].iter().enumerate() {
                    if *a != 0.0 {
                        for (u, k) in self.u.iter_mut().zip(&self.k[j]) {
                            *u += a * k;
                        }
                    }
                }
                sys.rhs(&self.u, &mut rhs);
                self.stats.rhs_evals += 1;
                for (j, c) in self.tab.c[i].iter().enumerate() {
                    let c = c / h;
                    for (r, k) in rhs.iter_mut().zip(&self.k[j]) {
                        *r += c * k;
                    }
                }
            }
            self.solve(&mut rhs);
            self.k[i].copy_from_slice(&rhs);
            self.rhs = rhs;
        }
        y_new.copy_from_slice(&self.y);
        let mut err = std::mem::take(&mut self.rhs);
        err.fill(0.0);
        for i in 0..s {
            let (m, e) = (self.tab.m[i], self.tab.e[i]);
            for r in 0..n {
                y_new[r] += m * self.k[i][r];
                err[r] += e * self.k[i][r];
            }
        }
        let norm = self.wrms(&err, &self.y, y_new);
        self.rhs = err;
        if norm.is_finite() && y_new.iter().all(|v| v.is_finite()) {
            norm
        } else {
            f64::INFINITY
        }
    }

    /// Takes one accepted step (retrying with smaller steps after rejections); returns the new
    /// time.
    pub fn step(&mut self, sys: &mut impl RosenbrockSystem) -> Result<f64, RosenbrockError> {
        let mut candidate = std::mem::take(&mut self.y_new);
        let result = self.step_into(sys, &mut candidate);
        self.y_new = candidate;
        result
    }

    /// [`Rosenbrock::step`] with the candidate point in `candidate`; on acceptance the buffers
    /// rotate (`y_prev` ← `y` ← candidate) and `candidate` holds the stale one.
    fn step_into(
        &mut self,
        sys: &mut impl RosenbrockSystem,
        candidate: &mut Vec<f64>,
    ) -> Result<f64, RosenbrockError> {
        let q = self.tab.embedded_order as f64 + 1.0;
        let mut rejections = 0;
        loop {
            // A classical method needs the Jacobian at y; a W-method keeps it for
            // `jacobian_refresh` steps but retries a rejected step with a fresh one.
            let stale = self.jac_age > 0 && (!self.tab.w_method || rejections > 0);
            if !self.jac_valid || stale || self.jac_age >= self.opts.jacobian_refresh.max(1) {
                self.refresh_jacobian(sys)?;
            } else if !self.f0_valid {
                sys.rhs(&self.y, &mut self.f0);
                self.stats.rhs_evals += 1;
                self.f0_valid = true;
                if !self.f0.iter().all(|v| v.is_finite()) {
                    return Err(RosenbrockError::NonFinite { t: self.t });
                }
            }
            let remaining = self.tstop - self.t;
            let last = self.h >= remaining;
            let h = if last { remaining } else { self.h };
            if !(h > 4.0 * f64::EPSILON * self.t.abs() && h >= f64::MIN_POSITIVE) {
                return Err(RosenbrockError::StepTooSmall { t: self.t, h });
            }
            let err = self.attempt(sys, h, candidate);
            // h ← h·clamp(0.9·err^(−1/q), 0.2, 6), no growth after a rejection; a non-finite
            // step shrinks by 4.
            let raw = if err.is_finite() {
                0.9 * err.powf(-1.0 / q)
            } else {
                0.25
            };
            if err <= 1.0 {
                let fac = raw.clamp(0.2, if self.just_rejected { 1.0 } else { 6.0 });
                self.just_rejected = false;
                std::mem::swap(&mut self.y_prev, &mut self.y);
                std::mem::swap(&mut self.y, candidate);
                self.h_prev = h;
                self.t = if last { self.tstop } else { self.t + h };
                self.h = if last { self.h.max(h) } else { h * fac };
                self.f0_valid = false;
                self.jac_valid = self.tab.w_method;
                self.jac_age += 1;
                self.stats.steps += 1;
                return Ok(self.t);
            }
            self.stats.rejected += 1;
            rejections += 1;
            self.just_rejected = true;
            self.h = h * raw.clamp(0.2, 1.0);
            if rejections >= self.opts.max_rejections {
                return Err(RosenbrockError::TooManyRejections {
                    t: self.t,
                    h: self.h,
                });
            }
        }
    }

    /// The dense output of the last accepted step at `t_prev + θ·h` (`θ ∈ [0, 1]`), written into
    /// `out`; `false` (and `out` untouched) when the method has no dense output or no step was
    /// taken. Rodas-type interpolant: `(1−θ)y₀ + θ(y₁ + (1−θ)(d₁ + θ(d₂ + θ d₃)))` with
    /// `d_r = Σ_j h_rj K_j`.
    pub fn dense(&self, theta: f64, out: &mut [f64]) -> bool {
        if self.tab.dense.len() != 3 || self.stats.steps == 0 {
            return false;
        }
        let n = self.n();
        let th1 = 1.0 - theta;
        let hd = &self.tab.dense;
        for r in 0..n {
            let mut d = [0.0; 3];
            for (j, k) in self.k.iter().enumerate() {
                for (dv, row) in d.iter_mut().zip(hd) {
                    *dv += row[j] * k[r];
                }
            }
            out[r] = th1 * self.y_prev[r]
                + theta * (self.y[r] + th1 * (d[0] + theta * (d[1] + theta * d[2])));
        }
        true
    }
}

/// Integrates from `t0` to `t1` in `steps` equal steps (no error control; for order tests);
/// returns `y(t1)`.
pub fn integrate_fixed(
    tab: &RosenbrockTableau,
    sys: &mut impl RosenbrockSystem,
    y0: &[f64],
    t0: f64,
    t1: f64,
    steps: usize,
) -> Result<Vec<f64>, RosenbrockError> {
    let h = (t1 - t0) / steps as f64;
    let opts = RosenbrockOptions {
        h0: Some(h),
        // No rejections: the tolerance is huge.
        rtol: 1e30,
        atol: 1e30,
        ..RosenbrockOptions::default()
    };
    let mut r = Rosenbrock::new(tab.clone(), sys, y0, t0, opts)?;
    for _ in 0..steps {
        r.h = h;
        r.just_rejected = false;
        r.step(sys)?;
    }
    Ok(r.y.clone())
}

#[cfg(test)]
mod tests;
