//! BFGS (dense inverse-Hessian update) and L-BFGS (two-loop recursion) with a backtracking
//! Armijo line search; the curvature update is skipped when `sᵀy ≤ 0`.
//! (Nocedal & Wright, *Numerical Optimization*, Algorithms 6.1 and 7.4.)

use std::collections::VecDeque;

use super::execute::Iterate;
use super::{eval_gradient, eval_loss, inf_norm, step_to};
use crate::error::Result;
use crate::monitor::{Monitor, StopReason};
use crate::net::Objective;

/// The curvature information of a quasi-Newton method.
enum Curvature {
    /// BFGS: the dense inverse-Hessian approximation (row-major, `n × n`).
    Dense(Vec<f64>),
    /// L-BFGS: the last `memory` pairs `(s, y, 1/sᵀy)`, and the multipliers of the two-loop
    /// recursion.
    Limited {
        memory: usize,
        pairs: VecDeque<(Vec<f64>, Vec<f64>, f64)>,
        alphas: Vec<f64>,
    },
}

impl Curvature {
    /// `dir = −H⁻¹ g`.
    fn direction(&mut self, g: &[f64], dir: &mut [f64]) {
        let n = g.len();
        match self {
            Curvature::Dense(hinv) => {
                for (r, d) in dir.iter_mut().enumerate() {
                    *d = -dot(&hinv[r * n..(r + 1) * n], g);
                }
            }
            Curvature::Limited { pairs, alphas, .. } => {
                dir.copy_from_slice(g);
                alphas.clear();
                for (s, y, rho) in pairs.iter().rev() {
                    let a = rho * dot(s, dir);
                    axpy(dir, -a, y);
                    alphas.push(a);
                }
                let gamma = pairs.back().map_or(1.0, |(s, y, _)| dot(s, y) / dot(y, y));
                dir.iter_mut().for_each(|v| *v *= gamma);
                for ((s, y, rho), a) in pairs.iter().zip(alphas.iter().rev()) {
                    let b = rho * dot(y, dir);
                    axpy(dir, a - b, s);
                }
                dir.iter_mut().for_each(|v| *v = -*v);
            }
        }
    }

    /// Forgets everything (the next direction is steepest descent).
    fn reset(&mut self) {
        match self {
            Curvature::Dense(hinv) => identity(hinv),
            Curvature::Limited { pairs, .. } => pairs.clear(),
        }
    }

    /// The update with the step `s = x⁺ − x` and `y = g⁺ − g` (skipped when `sᵀy ≤ 0`).
    fn update(&mut self, x_new: &[f64], x: &[f64], g_new: &[f64], g: &[f64], hy: &mut [f64]) {
        let n = x.len();
        let sy: f64 = (0..n).map(|r| (x_new[r] - x[r]) * (g_new[r] - g[r])).sum();
        if sy <= 1e-300 {
            return;
        }
        let rho = 1.0 / sy;
        match self {
            Curvature::Dense(hinv) => {
                // H ← (I − ρ s yᵀ) H (I − ρ y sᵀ) + ρ s sᵀ
                let y = |c: usize| g_new[c] - g[c];
                let s = |c: usize| x_new[c] - x[c];
                for (r, v) in hy.iter_mut().enumerate() {
                    *v = (0..n).map(|c| hinv[r * n + c] * y(c)).sum();
                }
                let yhy: f64 = (0..n).map(|r| y(r) * hy[r]).sum();
                for r in 0..n {
                    for c in 0..n {
                        hinv[r * n + c] += -rho * (hy[r] * s(c) + s(r) * hy[c])
                            + (rho * rho * yhy + rho) * s(r) * s(c);
                    }
                }
            }
            Curvature::Limited { memory, pairs, .. } => {
                // Recycle the oldest pair's vectors once the memory is full.
                let (mut s, mut y) = if pairs.len() == *memory {
                    let (s, y, _) = pairs.pop_front().expect("memory ≥ 1");
                    (s, y)
                } else {
                    (vec![0.0; n], vec![0.0; n])
                };
                for r in 0..n {
                    s[r] = x_new[r] - x[r];
                    y[r] = g_new[r] - g[r];
                }
                pairs.push_back((s, y, rho));
            }
        }
    }
}

/// BFGS (`memory = None`) or L-BFGS as an argmin solver (one accepted step per `next_iter`).
pub(super) struct QuasiNewton {
    memory: Option<usize>,
    curvature: Curvature,
    loss: f64,
    g: Vec<f64>,
    g_new: Vec<f64>,
    dir: Vec<f64>,
    trial: Vec<f64>,
    hy: Vec<f64>,
    first: bool,
}

impl QuasiNewton {
    /// BFGS when `memory` is `None`, L-BFGS with that memory otherwise.
    pub(super) fn new(memory: Option<usize>) -> Self {
        QuasiNewton {
            memory,
            curvature: Curvature::Dense(Vec::new()),
            loss: f64::NAN,
            g: Vec::new(),
            g_new: Vec::new(),
            dir: Vec::new(),
            trial: Vec::new(),
            hy: Vec::new(),
            first: true,
        }
    }

    /// One accepted step from `x` (updated in place); the stop rule that holds, if any.
    fn step(
        &mut self,
        obj: &mut Objective<'_>,
        monitor: &mut Monitor,
        x: &mut [f64],
        iteration: usize,
    ) -> Option<StopReason> {
        let n = x.len();
        monitor.observe(iteration as f64 + 1.0, self.loss, inf_norm(&self.g), x);
        if let Some(stop) = monitor.should_stop(0.0) {
            return Some(stop);
        }
        self.curvature.direction(&self.g, &mut self.dir);
        let mut slope = dot(&self.dir, &self.g);
        if slope.is_nan() || slope >= 0.0 {
            // Not a descent direction: reset to steepest descent.
            for r in 0..n {
                self.dir[r] = -self.g[r];
            }
            slope = -dot(&self.g, &self.g);
            self.curvature.reset();
        }
        let mut alpha = if self.first {
            (1.0 / inf_norm(&self.g).max(1e-300)).min(1.0)
        } else {
            1.0
        };
        self.first = false;
        loop {
            step_to(&mut self.trial, x, alpha, &self.dir);
            let l = eval_loss(obj, monitor, &self.trial);
            if l.is_finite() && l <= self.loss + 1e-4 * alpha * slope && l < self.loss {
                break;
            }
            alpha *= 0.5;
            if alpha < 1e-25 {
                return Some(StopReason::NoProgress);
            }
            if let Some(stop) = monitor.should_stop(0.0) {
                return Some(stop);
            }
        }
        self.loss = eval_gradient(obj, monitor, &self.trial, &mut self.g_new);
        self.curvature
            .update(&self.trial, x, &self.g_new, &self.g, &mut self.hy);
        x.copy_from_slice(&self.trial);
        std::mem::swap(&mut self.g, &mut self.g_new);
        monitor.step();
        None
    }
}

impl Iterate for QuasiNewton {
    fn name(&self) -> &'static str {
        if self.memory.is_some() {
            "lbfgs"
        } else {
            "bfgs"
        }
    }

    fn start(
        &mut self,
        obj: &mut Objective<'_>,
        monitor: &mut Monitor,
        x: &[f64],
    ) -> Result<Option<f64>> {
        let n = obj.n_params();
        self.curvature = match self.memory {
            None => {
                let mut hinv = vec![0.0; n * n];
                identity(&mut hinv);
                self.hy = vec![0.0; n];
                Curvature::Dense(hinv)
            }
            Some(memory) => Curvature::Limited {
                memory: memory.max(1),
                pairs: VecDeque::with_capacity(memory.max(1)),
                alphas: Vec::with_capacity(memory.max(1)),
            },
        };
        self.g = vec![0.0; n];
        self.g_new = vec![0.0; n];
        self.dir = vec![0.0; n];
        self.trial = vec![0.0; n];
        self.loss = eval_gradient(obj, monitor, x, &mut self.g);
        Ok(Some(self.loss))
    }

    fn iterate(
        &mut self,
        obj: &mut Objective<'_>,
        monitor: &mut Monitor,
        x: &mut Vec<f64>,
        iteration: usize,
    ) -> Result<Option<StopReason>> {
        Ok(self.step(obj, monitor, x, iteration))
    }

    fn cost(&self) -> f64 {
        self.loss
    }
}

fn identity(m: &mut [f64]) {
    let n = (m.len() as f64).sqrt() as usize;
    for (k, v) in m.iter_mut().enumerate() {
        *v = if k / n == k % n { 1.0 } else { 0.0 };
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn axpy(y: &mut [f64], a: f64, x: &[f64]) {
    for (yi, xi) in y.iter_mut().zip(x) {
        *yi += a * xi;
    }
}
