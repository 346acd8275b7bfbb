//! An adaptive Rosenbrock integrator for dense autonomous systems `y' = f(y)` with an exact (or,
//! for W-methods, approximate) Jacobian: one Jacobian and one LU factorisation of
//! `W = I/(hγ) − J` per step, one right-hand side and one triangular solve per stage, no
//! Newton iterations (Hairer & Wanner, Solving ODEs II, §IV.7).
//!
//! Step-size control is the standard one for embedded pairs: the local error estimate
//! `Σ e_i K_i` in the weighted RMS norm with weights `atol + rtol·max(|y|, |y₁|)`, and
//! `h ← h·clamp(0.9·err^(−1/(p̂+1)), 0.2, 6)` with `p̂` the embedded order (no growth right after a
//! rejection). The driver allocates once, in [`Rosenbrock::new`]; [`Rosenbrock::step`] does not.

use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::lu::partial_pivoting::{factor, solve};
use faer::perm::PermRef;
use faer::{Mat, Par};

use crate::rosenbrock_tableau::RosenbrockTableau;

/// The system `y' = f(y)`, evaluated by the integrator.
pub trait RosenbrockSystem {
    /// Writes `f(y)` into `f`.
    fn rhs(&mut self, y: &[f64], f: &mut [f64]);
    /// Writes `f(y)` into `f` and the Jacobian `∂f/∂y` (row-major `n × n`) into `jac`.
    fn rhs_jacobian(&mut self, y: &[f64], f: &mut [f64], jac: &mut [f64]);
}

/// Options of [`Rosenbrock`].
///
/// ```
/// use gradflow_solvers::rosenbrock::RosenbrockOptions;
/// let o = RosenbrockOptions::default();
/// assert_eq!((o.rtol, o.atol, o.jacobian_refresh), (1e-6, 1e-6, 1));
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct RosenbrockOptions {
    /// Relative tolerance.
    pub rtol: f64,
    /// Absolute tolerance.
    pub atol: f64,
    /// First step (default: the Hairer–Wanner starting-step heuristic).
    pub h0: Option<f64>,
    /// Refresh the Jacobian at least every this many accepted steps; only W-methods use a
    /// value above 1 (a classical Rosenbrock method needs the exact Jacobian every step).
    pub jacobian_refresh: usize,
    /// Rejections in a row after which a step gives up.
    pub max_rejections: usize,
}

impl Default for RosenbrockOptions {
    fn default() -> Self {
        RosenbrockOptions {
            rtol: 1e-6,
            atol: 1e-6,
            h0: None,
            jacobian_refresh: 1,
            max_rejections: 60,
        }
    }
}

/// Why a step could not be completed.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum RosenbrockError {
    /// The step size fell below the resolution of `t`.
    StepTooSmall {
        /// Time of the failure.
        t: f64,
        /// The step size.
        h: f64,
    },
    /// Too many rejections in a row (the error estimate stayed above 1 or non-finite).
    TooManyRejections {
        /// Time of the failure.
        t: f64,
        /// The last step size tried.
        h: f64,
    },
    /// The right-hand side or the Jacobian at the current point is not finite.
    NonFinite {
        /// Time of the failure.
        t: f64,
    },
}

impl std::fmt::Display for RosenbrockError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RosenbrockError::StepTooSmall { t, h } => {
                write!(f, "step size {h:e} too small at t = {t:e}")
            }
            RosenbrockError::TooManyRejections { t, h } => {
                write!(f, "too many rejected steps at t = {t:e} (last h = {h:e})")
            }
            RosenbrockError::NonFinite { t } => {
                write!(f, "non-finite right-hand side or Jacobian at t = {t:e}")
            }
        }
    }
}

impl std::error::Error for RosenbrockError {}

/// Work counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RosenbrockStats {
    /// Accepted steps.
    pub steps: usize,
    /// Rejected steps.
    pub rejected: usize,
    /// Right-hand-side evaluations (without those that came with a Jacobian).
    pub rhs_evals: usize,
    /// Jacobian evaluations (each with a right-hand side).
    pub jacobian_evals: usize,
    /// LU factorisations.
    pub factorisations: usize,
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
    /// `W` factored in place (`lu_h`: the step it was factored for; NaN when stale).
    w: Mat<f64>,
    lu_h: f64,
    perm: Vec<usize>,
    perm_inv: Vec<usize>,
    mem: MemBuffer,
    k: Vec<Vec<f64>>,
    u: Vec<f64>,
    rhs: Vec<f64>,
    y_prev: Vec<f64>,
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
            .or(solve::solve_in_place_scratch::<usize, f64>(n, 1, Par::Seq));
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
            perm: vec![0; n],
            perm_inv: vec![0; n],
            mem: MemBuffer::new(req),
            k: vec![vec![0.0; n]; s],
            u: vec![0.0; n],
            rhs: vec![0.0; n],
            y_prev: y0.to_vec(),
            h_prev: 0.0,
            tstop: f64::INFINITY,
            just_rejected: false,
            stats: RosenbrockStats::default(),
            tab,
        };
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

    /// Factors `W = I/(hγ) − J` for step `h` (unless already factored for it).
    fn factor(&mut self, h: f64) -> bool {
        if self.lu_h.to_bits() == h.to_bits() {
            return true;
        }
        let n = self.n();
        let d = 1.0 / (h * self.tab.gamma);
        for j in 0..n {
            for i in 0..n {
                self.w[(i, j)] = -self.jac[i * n + j];
            }
            self.w[(j, j)] += d;
        }
        factor::lu_in_place(
            self.w.as_mut(),
            &mut self.perm,
            &mut self.perm_inv,
            Par::Seq,
            MemStack::new(&mut self.mem),
            Default::default(),
        );
        self.stats.factorisations += 1;
        let ok = (0..n).all(|i| {
            let u = self.w[(i, i)];
            u.is_finite() && u != 0.0
        });
        self.lu_h = if ok { h } else { f64::NAN };
        ok
    }

    /// Solves `W x = rhs` in place with the current factorisation.
    fn solve(&mut self, x: &mut [f64]) {
        let n = self.n();
        let perm = PermRef::new_checked(&self.perm, &self.perm_inv, n);
        let rhs = faer::MatMut::from_column_major_slice_mut(x, n, 1);
        solve::solve_in_place(
            self.w.as_ref(),
            self.w.as_ref(),
            perm,
            rhs,
            Par::Seq,
            MemStack::new(&mut self.mem),
        );
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
        let n = self.n();
        // The candidate point lives in `y_prev` (its old value is not needed until the step is
        // accepted, when it takes the old `y`).
        let mut candidate = std::mem::take(&mut self.y_prev);
        candidate.resize(n, 0.0);
        let q = self.tab.embedded_order as f64 + 1.0;
        let mut rejections = 0;
        loop {
            // A classical method needs the Jacobian at y; a W-method keeps it for
            // `jacobian_refresh` steps but retries a rejected step with a fresh one.
            let stale = self.jac_age > 0 && (!self.tab.w_method || rejections > 0);
            let needs_jac =
                !self.jac_valid || stale || self.jac_age >= self.opts.jacobian_refresh.max(1);
            if needs_jac {
                if let Err(e) = self.refresh_jacobian(sys) {
                    self.y_prev = candidate;
                    return Err(e);
                }
            } else if !self.f0_valid {
                sys.rhs(&self.y, &mut self.f0);
                self.stats.rhs_evals += 1;
                self.f0_valid = true;
                if !self.f0.iter().all(|v| v.is_finite()) {
                    self.y_prev = candidate;
                    return Err(RosenbrockError::NonFinite { t: self.t });
                }
            }
            let mut h = self.h;
            let remaining = self.tstop - self.t;
            let last = h >= remaining;
            if last {
                h = remaining;
            }
            if !(h > 4.0 * f64::EPSILON * self.t.abs() && h >= f64::MIN_POSITIVE) {
                self.y_prev = candidate;
                return Err(RosenbrockError::StepTooSmall { t: self.t, h });
            }
            let err = self.attempt(sys, h, &mut candidate);
            if err <= 1.0 {
                let fac = if err == 0.0 {
                    6.0
                } else {
                    (0.9 * err.powf(-1.0 / q)).clamp(0.2, 6.0)
                };
                let fac = if self.just_rejected {
                    fac.min(1.0)
                } else {
                    fac
                };
                self.just_rejected = false;
                // The candidate becomes y; the old y is kept for dense output.
                std::mem::swap(&mut self.y, &mut candidate);
                self.y_prev = candidate;
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
            let fac = if err.is_finite() {
                (0.9 * err.powf(-1.0 / q)).clamp(0.2, 1.0)
            } else {
                0.25
            };
            self.h = h * fac;
            if rejections >= self.opts.max_rejections {
                self.y_prev = candidate;
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
mod tests {
    use super::*;

    /// The unforced Van der Pol oscillator with μ (stiff for large μ).
    struct VanDerPol(f64);

    impl RosenbrockSystem for VanDerPol {
        fn rhs(&mut self, y: &[f64], f: &mut [f64]) {
            f[0] = y[1];
            f[1] = self.0 * (1.0 - y[0] * y[0]) * y[1] - y[0];
        }
        fn rhs_jacobian(&mut self, y: &[f64], f: &mut [f64], jac: &mut [f64]) {
            self.rhs(y, f);
            jac.copy_from_slice(&[
                0.0,
                1.0,
                -2.0 * self.0 * y[0] * y[1] - 1.0,
                self.0 * (1.0 - y[0] * y[0]),
            ]);
        }
    }

    /// Robertson's chemical kinetics (Hairer & Wanner II, §IV.1), a classic stiff test.
    struct Robertson;

    impl RosenbrockSystem for Robertson {
        fn rhs(&mut self, y: &[f64], f: &mut [f64]) {
            f[0] = -0.04 * y[0] + 1e4 * y[1] * y[2];
            f[2] = 3e7 * y[1] * y[1];
            f[1] = -f[0] - f[2];
        }
        fn rhs_jacobian(&mut self, y: &[f64], f: &mut [f64], jac: &mut [f64]) {
            self.rhs(y, f);
            jac.copy_from_slice(&[
                -0.04,
                1e4 * y[2],
                1e4 * y[1],
                0.04,
                -1e4 * y[2] - 6e7 * y[1],
                -1e4 * y[1],
                0.0,
                6e7 * y[1],
                0.0,
            ]);
        }
    }

    fn err(a: &[f64], b: &[f64]) -> f64 {
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f64::max)
    }

    fn observed_orders(tab: &RosenbrockTableau, steps: &[usize]) -> Vec<f64> {
        let y0 = [2.0, 0.0];
        let reference = integrate_fixed(tab, &mut VanDerPol(0.3), &y0, 0.0, 2.0, 4096).unwrap();
        let errors: Vec<f64> = steps
            .iter()
            .map(|&s| {
                err(
                    &integrate_fixed(tab, &mut VanDerPol(0.3), &y0, 0.0, 2.0, s).unwrap(),
                    &reference,
                )
            })
            .collect();
        errors.windows(2).map(|w| (w[0] / w[1]).log2()).collect()
    }

    #[test]
    fn rodas5p_converges_with_order_five() {
        for p in observed_orders(&RosenbrockTableau::rodas5p(), &[16, 32, 64, 128]) {
            assert!(p > 4.6 && p < 5.8, "observed order {p}");
        }
    }

    #[test]
    fn ros34pw2_converges_with_order_three() {
        for p in observed_orders(&RosenbrockTableau::ros34pw2(), &[16, 32, 64, 128]) {
            assert!(p > 2.7 && p < 3.4, "observed order {p}");
        }
    }

    #[test]
    #[allow(clippy::excessive_precision)]
    fn adaptive_steps_solve_robertson_to_the_reference() {
        // Reference y(40) from Hairer & Wanner's test set.
        let reference = [
            0.715_827_068_719_316_5,
            9.185_534_764_557_202e-6,
            0.284_163_745_745_818_6,
        ];
        for tab in [RosenbrockTableau::rodas5p(), RosenbrockTableau::ros34pw2()] {
            let name = tab.name;
            let opts = RosenbrockOptions {
                rtol: 1e-9,
                atol: 1e-13,
                ..Default::default()
            };
            let mut r = Rosenbrock::new(tab, &mut Robertson, &[1.0, 0.0, 0.0], 0.0, opts).unwrap();
            r.set_stop_time(40.0);
            while r.t() < 40.0 {
                r.step(&mut Robertson).unwrap();
            }
            let rel = (0..3)
                .map(|i| ((r.y()[i] - reference[i]) / reference[i]).abs())
                .fold(0.0, f64::max);
            assert!(
                rel < 1e-6,
                "{name}: relative error {rel:e}, {:?}",
                r.stats()
            );
            assert!(r.stats().steps < 3000, "{name}: {:?}", r.stats());
        }
    }

    #[test]
    fn a_stiff_van_der_pol_takes_few_steps_and_stays_on_the_limit_cycle() {
        for tab in [RosenbrockTableau::rodas5p(), RosenbrockTableau::ros34pw2()] {
            let name = tab.name;
            let mut sys = VanDerPol(1e3);
            let mut r = Rosenbrock::new(
                tab,
                &mut sys,
                &[2.0, 0.0],
                0.0,
                RosenbrockOptions::default(),
            )
            .unwrap();
            r.set_stop_time(1000.0);
            while r.t() < 1000.0 {
                r.step(&mut sys).unwrap();
            }
            // An explicit method would need ~10⁶ steps (stiffness ratio μ² = 10⁶ over t = 1000).
            assert!(r.stats().steps < 5000, "{name}: {:?}", r.stats());
            assert!(r.y()[0].abs() < 2.1, "{name}: {:?}", r.y());
            assert!(r.stats().factorisations >= r.stats().steps, "{name}");
        }
    }

    #[test]
    fn the_w_method_keeps_converging_with_a_stale_jacobian() {
        let y0 = [2.0, 0.0];
        let exact = integrate_fixed(
            &RosenbrockTableau::rodas5p(),
            &mut VanDerPol(5.0),
            &y0,
            0.0,
            3.0,
            8192,
        )
        .unwrap();
        let opts = RosenbrockOptions {
            rtol: 1e-8,
            atol: 1e-10,
            jacobian_refresh: 4,
            ..Default::default()
        };
        let mut sys = VanDerPol(5.0);
        let mut r =
            Rosenbrock::new(RosenbrockTableau::ros34pw2(), &mut sys, &y0, 0.0, opts).unwrap();
        r.set_stop_time(3.0);
        while r.t() < 3.0 {
            r.step(&mut sys).unwrap();
        }
        let st = r.stats();
        assert!(err(r.y(), &exact) < 1e-5, "{:e}", err(r.y(), &exact));
        assert!(st.jacobian_evals * 2 < st.steps + st.rejected, "{st:?}");
    }

    #[test]
    fn rodas5p_dense_output_is_accurate_inside_the_step() {
        let y0 = [2.0, 0.0];
        let tab = RosenbrockTableau::rodas5p();
        let mut sys = VanDerPol(0.3);
        let h = 0.1;
        let opts = RosenbrockOptions {
            h0: Some(h),
            rtol: 1e30,
            atol: 1e30,
            ..Default::default()
        };
        let mut r = Rosenbrock::new(tab.clone(), &mut sys, &y0, 0.0, opts).unwrap();
        r.step(&mut sys).unwrap();
        for theta in [0.25, 0.5, 0.75] {
            let mut out = [0.0; 2];
            assert!(r.dense(theta, &mut out));
            let reference =
                integrate_fixed(&tab, &mut VanDerPol(0.3), &y0, 0.0, theta * h, 64).unwrap();
            // Order-4 interpolation on h = 0.1: errors around h⁵ ≈ 1e-5 at most.
            assert!(
                err(&out, &reference) < 1e-6,
                "θ = {theta}: {:e}",
                err(&out, &reference)
            );
        }
        let mut end = [0.0; 2];
        r.dense(1.0, &mut end);
        assert!(err(&end, r.y()) < 1e-14);
        assert!(
            !Rosenbrock::new(
                RosenbrockTableau::ros34pw2(),
                &mut sys,
                &y0,
                0.0,
                RosenbrockOptions::default()
            )
            .unwrap()
            .dense(0.5, &mut end)
        );
    }

    #[test]
    fn a_non_finite_right_hand_side_is_an_error_not_a_panic() {
        struct Bad;
        impl RosenbrockSystem for Bad {
            fn rhs(&mut self, _y: &[f64], f: &mut [f64]) {
                f[0] = f64::NAN;
            }
            fn rhs_jacobian(&mut self, y: &[f64], f: &mut [f64], jac: &mut [f64]) {
                self.rhs(y, f);
                jac[0] = -1.0;
            }
        }
        let r = Rosenbrock::new(
            RosenbrockTableau::rodas5p(),
            &mut Bad,
            &[1.0],
            0.0,
            RosenbrockOptions::default(),
        );
        assert!(matches!(r, Err(RosenbrockError::NonFinite { .. })));
    }
}
