//! Assembly of the exact Hessian (and Gauss–Newton matrix) of the population loss from the
//! pair moments (formulas in the parent module's docs: Stein's lemma on `E[∂r ∂rᵀ]` and
//! `E[r ∂²r]`).

use super::Population;
use super::quadrature::Moments;
use crate::net::spec::LayerLayout;

/// Flat indices of the student's parameters.
pub(super) struct Index {
    pub(super) p: usize,
    pub(super) d: usize,
    pub(super) w0: usize,
    pub(super) b0: Option<usize>,
    pub(super) a: usize,
    pub(super) c: Option<usize>,
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

impl Index {
    pub(super) fn new(layouts: &[LayerLayout], d: usize) -> Self {
        let (l0, l1) = (&layouts[0], &layouts[1]);
        Index {
            p: l1.bias.as_ref().map_or(l1.weight.end, |b| b.end),
            d,
            w0: l0.weight.start,
            b0: l0.bias.as_ref().map(|b| b.start),
            a: l1.weight.start,
            c: l1.bias.as_ref().map(|b| b.start),
        }
    }
}

impl Population {
    /// Adds the Gauss–Newton part `2E[∂r ∂rᵀ]`: one-sided blocks for every ordered student
    /// pair, and the output bias's row and column.
    pub(super) fn add_gauss_newton(&self, a: &[f64], idx: &Index, hess: &mut [f64]) {
        let (m, p, d) = (self.students.len(), idx.p, idx.d);
        for i in 0..m {
            for j in 0..m {
                let (wi, wj) = (&self.students[i].w, &self.students[j].w);
                gn_block(hess, idx, i, j, wi, wj, a[i], a[j], &self.ss[i * m + j]);
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
    }

    /// Adds the residual part `2E[r ∂²r]`, within each student neuron (needs
    /// `residual_moments` for the Hessian).
    pub(super) fn add_residual_curvature(&self, a: &[f64], idx: &Index, hess: &mut [f64]) {
        let (m, p, d) = (self.students.len(), idx.p, idx.d);
        for i in 0..m {
            let wi = &self.students[i].w;
            let (ai, ri) = (a[i], self.rr[i]);
            let vi = &self.v[3 * i * d..3 * (i + 1) * d];
            let (v1, v2, v3) = (&vi[..d], &vi[d..2 * d], &vi[2 * d..]);
            if let Some(b0) = idx.b0 {
                sym_add(hess, p, idx.a + i, b0 + i, 2.0 * ri[1]);
                hess[(b0 + i) * p + b0 + i] += 2.0 * ai * ri[2];
                for t in 0..d {
                    let val = 2.0 * ai * (ri[3] * wi[t] + v2[t]);
                    sym_add(hess, p, b0 + i, idx.w0 + i * d + t, val);
                }
            }
            let base = idx.w0 + i * d;
            for t in 0..d {
                sym_add(hess, p, idx.a + i, base + t, 2.0 * (ri[2] * wi[t] + v1[t]));
            }
            // 2a_i (R² I + R⁴ w wᵀ + w v3ᵀ + v3 wᵀ + Σ_l c_l M²²_il w_l w_lᵀ).
            for (cl, mom, wl) in self.partners(i, a) {
                let f = 2.0 * ai * cl * mom[12];
                for s in 0..d {
                    let row = &mut hess[(base + s) * p + base..(base + s) * p + base + d];
                    for (t, h) in row.iter_mut().enumerate() {
                        *h += f * wl[s] * wl[t];
                    }
                }
            }
            for s in 0..d {
                for t in 0..d {
                    let mut val = ri[4] * wi[s] * wi[t] + wi[s] * v3[t] + v3[s] * wi[t];
                    if s == t {
                        val += ri[2];
                    }
                    hess[(base + s) * p + base + t] += 2.0 * ai * val;
                }
            }
        }
    }
}
