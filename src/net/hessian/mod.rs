//! The exact full Hessian of the sum loss, for any depth and any number of outputs.
//!
//! Notation (per sample): `z_l = W_l ã_{l−1}` with `ã_{l−1} = [a_{l−1}; 1]` (the 1 when layer
//! `l` has a bias), `a_l = σ_l(z_l)`, `g_l = ∂ℓ/∂z_l`, `h_l = W_{l+1}ᵀ g_{l+1}`, and
//! `θ_l = [W_l b_l]` row by row. Two per-sample matrices carry all second-order information:
//!
//! - `M_l = ∂²ℓ/∂z_l²`, by the backward recursion `M_L = ∂²φ/∂z_L²`,
//!   `M_l = D'_l W_{l+1}ᵀ M_{l+1} W_{l+1} D'_l + diag(σ''_l ⊙ h_l)` with `D'_l = diag(σ'_l)`;
//! - `C_{l,m} = ∂z_l/∂z_m` (`m < l`): `C_{l,l−1} = W_l D'_{l−1}`,
//!   `C_{l,m} = W_l D'_{l−1} C_{l−1,m}`.
//!
//! Then, since `z_l` is linear in `θ_l` and `θ_m` enters only through `z_m`,
//!
//! - diagonal blocks: `H[(u,v),(u',v')]_{ll} = Σ_i M_l[u,u'] ã_{l−1,v} ã_{l−1,v'}`;
//! - off-diagonal blocks (`m < l`):
//!   `H[(u,v),(u',v')]_{lm} = Σ_i (M_l C_{l,m})[u,u'] ã_{l−1,v} ã_{m−1,v'}
//!   + Σ_i g_{l,u} σ'_{l−1,v} C_{l−1,m}[v,u'] ã_{m−1,v'}` (`C_{m,m} = I`; the second term only
//!   for real units `v`, the bias input has no derivative).
//!
//! Every sum over samples is a matrix product over the sample axis, done chunk by chunk with
//! faer's GEMM (a few thin ones as fused dot-product passes, [`blocks`]); the diagonal blocks use the symmetric pairs `u ≤ u'`, `v ≤ v'` only (a quarter
//! of the work). The exact Hessian is thus obtained at the cost of the Gauss–Newton
//! approximation, and memory is `O(P² + chunk·(k_l² + ...))`, independent of `N`.
//! (Reference: C. Bishop, "Exact calculation of the Hessian matrix for the multilayer
//! perceptron", Neural Computation 4, 1992, for the per-sample recursions.)

mod blocks;

use super::objective::Objective;
use super::pass::{Pass, RowBlocks, Worker, fan_out};
use super::workspace::{HessianWorkspace, Workspace};

/// Which second-order matrix [`Objective::curvature_into`] computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Curvature {
    /// The exact Hessian.
    Exact,
    /// The generalised Gauss–Newton matrix `Σ_i J_iᵀ (∂²φ/∂z_L²) J_i`.
    GaussNewton,
}

/// Samples per chunk of the Hessian of one-hidden-layer networks (at most the objective's
/// chunk): 1.1× faster than 512 at 4-16-1 and 8-32-1, while deeper networks are 5 % slower
/// with it (measured, `experiments/integrators/kernels.md`).
const SHALLOW_HESSIAN_CHUNK: usize = 256;

/// The same for the networks of the fused pass ([`Pass::is_shallow`]: one hidden layer, one
/// linear output, squared error): 128 is 1.1–1.2× faster than 256 at 8-32-1 and 16-32-1 and
/// equal at 4-16-1, 16-16-1 and 32-64-1 (measured, `experiments/integrators/kernels.md`).
const FUSED_HESSIAN_CHUNK: usize = 128;

/// Index of the pair `u ≤ u'` in the row-major upper triangle of a `k × k` matrix.
#[inline]
fn pair(u: usize, u2: usize, k: usize) -> usize {
    // rows 0..u contribute k, k−1, …, k−u+1 entries
    u * (2 * k - u + 1) / 2 + (u2 - u)
}

impl Pass<'_> {
    /// The sum loss of the samples in `rows` in chunks of `chunk`; adds their gradient into
    /// `grad` and their curvature into the accumulators of `hw`.
    #[allow(clippy::too_many_arguments)]
    fn curvature_block(
        &self,
        ws: &mut Workspace,
        hw: &mut HessianWorkspace,
        params: &[f64],
        rows: std::ops::Range<usize>,
        chunk: usize,
        grad: &mut [f64],
        kind: Curvature,
    ) -> f64 {
        let mut total = 0.0;
        let mut i0 = rows.start;
        while i0 < rows.end {
            let n = chunk.min(rows.end - i0);
            self.forward(ws, params, i0, n, 2);
            total += self.output(ws, i0, n, true);
            self.backward(ws, params, i0, n, grad, true);
            self.accumulate_chunk(ws, hw, params, i0, n, kind);
            i0 += n;
        }
        total
    }
}

impl Objective<'_> {
    /// Sum loss at `params`; writes its gradient into `grad` and its exact Hessian into `hess`
    /// (`P × P`, symmetric, so row- and column-major agree).
    ///
    /// # Panics
    /// If a buffer has the wrong length.
    pub fn hessian_into(&mut self, params: &[f64], grad: &mut [f64], hess: &mut [f64]) -> f64 {
        self.curvature_into(params, grad, hess, Curvature::Exact)
    }

    /// Sum loss at `params`; writes its gradient into `grad` and the (generalised) Gauss–Newton
    /// matrix `Σ_i J_iᵀ (∂²φ/∂z_L²) J_i` into `gn` — the Hessian without the terms carrying
    /// second derivatives of the network (positive semidefinite; equal to the Hessian at a
    /// zero-residual point of the MSE). Same cost as [`Objective::hessian_into`].
    ///
    /// # Panics
    /// If a buffer has the wrong length.
    pub fn gauss_newton_into(&mut self, params: &[f64], grad: &mut [f64], gn: &mut [f64]) -> f64 {
        self.curvature_into(params, grad, gn, Curvature::GaussNewton)
    }

    /// [`Objective::hessian_into`] or [`Objective::gauss_newton_into`], as `kind` says.
    ///
    /// # Panics
    /// If a buffer has the wrong length.
    pub fn curvature_into(
        &mut self,
        params: &[f64],
        grad: &mut [f64],
        hess: &mut [f64],
        kind: Curvature,
    ) -> f64 {
        self.assert_len(params);
        self.assert_len(grad);
        let p = self.n_params();
        assert_eq!(hess.len(), p * p, "Hessian buffer must hold P×P values");
        if let Some(pop) = self.population.as_mut() {
            let l = pop.hessian_into(params, grad, hess, kind == Curvature::GaussNewton);
            let total = l + self.add_regularisers(params, 1.0, Some(grad), Some(hess));
            if !self.frozen.is_empty() {
                self.mask_gradient(grad);
                self.mask_hessian(hess);
            }
            return total;
        }
        let mut hw = self
            .hess
            .take()
            .unwrap_or_else(|| HessianWorkspace::new(&self.layouts, self.chunk));
        hw.clear();
        grad.fill(0.0);
        let c = if self.pass_ws().0.is_shallow() {
            self.chunk.min(FUSED_HESSIAN_CHUNK)
        } else if self.spec.depth() <= 2 {
            self.chunk.min(SHALLOW_HESSIAN_CHUNK)
        } else {
            self.chunk
        };
        let blocks = RowBlocks::new(0..self.data.n_samples(), c, self.threads());
        let chunk = self.chunk;
        let (pass, ws, workers) = self.parts();
        let work = |w: &mut Worker, r| {
            let whw = w
                .hess
                .get_or_insert_with(|| HessianWorkspace::new(pass.layouts, chunk));
            whw.clear();
            w.grad.fill(0.0);
            w.loss = pass.curvature_block(&mut w.ws, whw, params, r, c, &mut w.grad, kind);
        };
        let main = |r| pass.curvature_block(ws, &mut hw, params, r, c, grad, kind);
        let (mut total, done) = fan_out(&blocks, workers, work, main);
        for w in done {
            total += w.loss;
            grad.iter_mut().zip(&w.grad).for_each(|(g, v)| *g += v);
            hw.add(w.hess.as_ref().expect("filled by its block"));
        }
        self.scatter(&hw, hess);
        self.hess = Some(hw);
        total += self.add_regularisers(params, 1.0, Some(grad), Some(hess));
        if !self.frozen.is_empty() {
            self.mask_gradient(grad);
            self.mask_hessian(hess);
        }
        total
    }

    /// Zeroes the frozen rows and columns and puts the largest free diagonal entry on their
    /// diagonal (see [`Objective::with_frozen`]).
    fn mask_hessian(&self, hess: &mut [f64]) {
        let p = self.n_params();
        let is_frozen = &self.frozen_mask;
        let diag = (0..p)
            .filter(|&i| !is_frozen[i])
            .map(|i| hess[i * p + i].abs())
            .fold(0.0, f64::max);
        let diag = if diag > 0.0 { diag } else { 1.0 };
        for &i in &self.frozen {
            for j in 0..p {
                hess[i * p + j] = 0.0;
                hess[j * p + i] = 0.0;
            }
            hess[i * p + i] = diag;
        }
    }

    /// Allocating twin of [`Objective::hessian_into`]: `(sum loss, gradient, Hessian)`.
    pub fn hessian(&mut self, params: &[f64]) -> (f64, Vec<f64>, Vec<f64>) {
        let p = self.n_params();
        let (mut g, mut h) = (vec![0.0; p], vec![0.0; p * p]);
        let l = self.hessian_into(params, &mut g, &mut h);
        (l, g, h)
    }

    /// Writes the accumulated blocks into the full symmetric `P × P` matrix.
    #[allow(clippy::needless_range_loop)]
    fn scatter(&self, hw: &HessianWorkspace, hess: &mut [f64]) {
        let p = self.n_params();
        let lays = &self.layouts;
        let depth = lays.len();
        let mut put = |i: usize, j: usize, v: f64| {
            hess[i * p + j] = v;
            hess[j * p + i] = v;
        };
        for (l, lay) in lays.iter().enumerate() {
            let (k, e) = (lay.rows, lay.ext_cols());
            let pk = k * (k + 1) / 2;
            let s = &hw.diag[l];
            for u in 0..k {
                for u2 in u..k {
                    for v in 0..e {
                        for v2 in 0..e {
                            let (a, b) = if v <= v2 { (v, v2) } else { (v2, v) };
                            let val = s[pair(u, u2, k) + pk * pair(a, b, e)];
                            let (i, j) = (lay.ext(u, v), lay.ext(u2, v2));
                            if let (Some(i), Some(j)) = (i, j) {
                                put(i, j, val);
                            }
                        }
                    }
                }
            }
        }
        for l in 1..depth {
            let (ll, k, kin, el) = (&lays[l], lays[l].rows, lays[l].cols, lays[l].ext_cols());
            for m in 0..l {
                let (lm, km, em) = (&lays[m], lays[m].rows, lays[m].ext_cols());
                let s1 = &hw.cross[l * depth + m];
                let s2 = &hw.cross2[l * depth + m];
                let rows1 = k * km;
                let inner = if m + 1 == l { 1 } else { km };
                for u in 0..k {
                    for v in 0..el {
                        let Some(i) = ll.ext(u, v) else { continue };
                        for u2 in 0..km {
                            for v2 in 0..em {
                                let Some(j) = lm.ext(u2, v2) else { continue };
                                let mut val = s1[(u * km + u2) + rows1 * (v * em + v2)];
                                if v < kin {
                                    if m + 1 == l {
                                        if u2 == v {
                                            val += s2[u + k * (v * em + v2)];
                                        }
                                    } else {
                                        val += s2[u + k * ((v * inner + u2) * em + v2)];
                                    }
                                }
                                put(i, j, val);
                            }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pair_enumerates_the_upper_triangle() {
        for k in 1..7 {
            let mut idx = 0;
            for u in 0..k {
                for u2 in u..k {
                    assert_eq!(pair(u, u2, k), idx);
                    idx += 1;
                }
            }
        }
    }
}
