//! The blocks of the Hessian accumulated per chunk: the diagonal block of every layer, the
//! `M_l` recursion, `C_{l,m}`, and the two terms of the off-diagonal blocks (formulas in
//! [`super`]).

use faer::linalg::matmul::matmul;
use faer::{Accum, MatMut, MatRef, Par};

use super::super::pass::Pass;
use super::super::shallow::dots_scaled;
use super::super::simd;
use super::super::spec::LayerLayout;
use super::super::workspace::{Aligned, HessianWorkspace, Workspace, cm, cm_mut};
use super::{Curvature, pair};

/// The input of layer `layer` for the chunk: the data for the first layer, else the previous
/// layer's activations (`n × cols`).
fn layer_input<'b>(
    layer: usize,
    acts: &'b [Aligned],
    x: MatRef<'b, f64>,
    n: usize,
    lay: &LayerLayout,
) -> MatRef<'b, f64> {
    if layer == 0 {
        x
    } else {
        cm(&acts[layer - 1], n, lay.cols)
    }
}

/// Column `v` of the extended input `ã` as a contiguous slice, `None` for the bias column
/// (whose value is 1).
#[inline(always)]
fn ext_col(input: MatRef<'_, f64>, v: usize) -> Option<&[f64]> {
    (v < input.ncols()).then(|| {
        input
            .col(v)
            .try_as_col_major()
            .expect("chunk columns are contiguous")
            .as_slice()
    })
}

impl Pass<'_> {
    #[allow(clippy::needless_range_loop)] // index arithmetic mirrors the formulas
    #[allow(clippy::too_many_arguments)]
    pub(super) fn accumulate_chunk(
        &self,
        ws: &Workspace,
        hw: &mut HessianWorkspace,
        params: &[f64],
        i0: usize,
        n: usize,
        kind: Curvature,
    ) {
        let exact = kind == Curvature::Exact;
        let depth = self.spec.depth();
        let lays = self.layouts;
        let x = self.data.x().subrows(i0, n);

        // M_l from the output backwards; each layer's diagonal block is accumulated as soon as
        // its M is known, from the symmetric pairs written straight into the GEMM operand.
        for l in (0..depth).rev() {
            let lay = &lays[l];
            let (k, e) = (lay.rows, lay.ext_cols());
            let (pk, pe) = (k * (k + 1) / 2, e * (e + 1) / 2);
            // M_l is kept in full only where later steps need it (l ≥ 1: the recursion to
            // l − 1 and the off-diagonal blocks).
            let keep = l >= 1;
            if l + 1 == depth {
                let curv = &ws.curvature;
                for u in 0..k {
                    for u2 in u..k {
                        let src = &curv[n * (u + k * u2)..n * (u + k * u2) + n];
                        let dst = pair(u, u2, k);
                        hw.x[dst * n..dst * n + n].copy_from_slice(src);
                    }
                }
                hw.m[l][..n * k * k].copy_from_slice(&curv[..n * k * k]);
            } else {
                let knext = lays[l + 1].rows;
                let w = MatRef::from_row_major_slice(&params[lays[l + 1].weight.clone()], knext, k);
                let (lo, hi) = hw.m.split_at_mut(l + 1);
                let (m_l, m_next) = (&mut lo[l], &hi[0]);
                let (d1, d2, h) = (&ws.d1[l], &ws.d2[l], &ws.h[l]);
                if knext > 1 {
                    // Q_s = Wᵀ M_{l+1,s} W for every sample: T = R(M_{l+1}) W, then one GEMM
                    // per column of Q.
                    matmul(
                        cm_mut(&mut hw.t, n * knext, k),
                        Accum::Replace,
                        cm(m_next, n * knext, knext),
                        w,
                        1.0,
                        Par::Seq,
                    );
                    for u2 in 0..k {
                        matmul(
                            cm_mut(&mut m_l[n * k * u2..], n, k),
                            Accum::Replace,
                            cm(&hw.t[n * knext * u2..], n, knext),
                            w,
                            1.0,
                            Par::Seq,
                        );
                    }
                }
                let m1 = &m_next[..n];
                // Outer-product case (k_{l+1} = 1): Q_s[u, u'] = W[0,u] W[0,u'] M_{l+1,s}, so
                // each pair column is A_u ⊙ B_u' with A_u = W[0,u] M_{l+1} σ'_u and
                // B_u = W[0,u] σ'_u, one product per entry.
                let (sa, sb) = hw.t.split_at_mut(n * k);
                if knext == 1 {
                    for u in 0..k {
                        let (wu, du) = (w[(0, u)], &d1[u * n..u * n + n]);
                        simd::scaled_product(&mut sa[u * n..u * n + n], m1, wu, du);
                        simd::scaled(&mut sb[u * n..u * n + n], du, wu);
                    }
                }
                for u in 0..k {
                    for u2 in u..k {
                        let (p1, p2) = (&d1[u * n..u * n + n], &d1[u2 * n..u2 * n + n]);
                        let dst = pair(u, u2, k);
                        let xcol = &mut hw.x[dst * n..dst * n + n];
                        if knext > 1 {
                            let q = &m_l[n * (u + k * u2)..n * (u + k * u2) + n];
                            simd::product(xcol, q, p1);
                            simd::mul_assign(xcol, p2);
                        } else {
                            simd::product(xcol, &sa[u * n..u * n + n], &sb[u2 * n..u2 * n + n]);
                        }
                        if exact && u == u2 {
                            let (q, hh) = (&d2[u * n..u * n + n], &h[u * n..u * n + n]);
                            simd::add_product(xcol, q, hh);
                        }
                        if keep {
                            m_l[n * (u + k * u2)..n * (u + k * u2) + n].copy_from_slice(xcol);
                            m_l[n * (u2 + k * u)..n * (u2 + k * u) + n].copy_from_slice(xcol);
                        }
                    }
                }
            }
            let input = layer_input(l, &ws.a, x, n, lay);
            if k == 1 {
                // One unit (the output layer of a single-output network): the block is the
                // Gram matrix Σ_s M_s ã_v ã_v' of the inputs, one GEMM of e columns by e
                // instead of a product over e(e+1)/2 filled pair columns.
                let (scaled, plain) = hw.y[..2 * n * e].split_at_mut(n * e);
                let mcol = &hw.x[..n];
                for v in 0..e {
                    let (ys, yp) = (&mut scaled[v * n..v * n + n], &mut plain[v * n..v * n + n]);
                    match ext_col(input, v) {
                        Some(a) => {
                            simd::product(ys, mcol, &a[..n]);
                            yp.copy_from_slice(&a[..n]);
                        }
                        None => {
                            ys.copy_from_slice(mcol);
                            yp.fill(1.0);
                        }
                    }
                }
                matmul(
                    MatMut::from_column_major_slice_mut(&mut hw.gram[..e * e], e, e),
                    Accum::Replace,
                    cm(scaled, n, e).transpose(),
                    cm(plain, n, e),
                    1.0,
                    Par::Seq,
                );
                let diag = &mut hw.diag[l];
                for v in 0..e {
                    for v2 in v..e {
                        diag[pair(v, v2, e)] += hw.gram[v + e * v2];
                    }
                }
            } else {
                fill_products(&mut hw.y, input, e, input, e, n, true);
                matmul(
                    MatMut::from_column_major_slice_mut(&mut hw.diag[l][..pk * pe], pk, pe),
                    Accum::Add,
                    cm(&hw.x, n, pk).transpose(),
                    cm(&hw.y, n, pe),
                    1.0,
                    Par::Seq,
                );
            }
        }

        // C_{l,m} = ∂z_l/∂z_m for m < l.
        for l in 1..depth {
            let (k, kin) = (lays[l].rows, lays[l].cols);
            let w = MatRef::from_row_major_slice(&params[lays[l].weight.clone()], k, kin);
            let d1 = &ws.d1[l - 1];
            for m in 0..l {
                let km = lays[m].rows;
                let (lo, hi) = hw.c.split_at_mut(l * depth);
                let out = &mut hi[m];
                if m + 1 == l {
                    for v in 0..kin {
                        for u in 0..k {
                            let wuv = w[(u, v)];
                            let col = &mut out[n * (u + k * v)..n * (u + k * v) + n];
                            for (c, d) in col.iter_mut().zip(&d1[v * n..v * n + n]) {
                                *c = wuv * d;
                            }
                        }
                    }
                } else {
                    let prev = &lo[(l - 1) * depth + m];
                    for v in 0..km {
                        let e = &mut hw.t[..n * kin];
                        for wi in 0..kin {
                            let src = &prev[n * (wi + kin * v)..n * (wi + kin * v) + n];
                            let dd = &d1[wi * n..wi * n + n];
                            simd::product(&mut e[wi * n..wi * n + n], dd, src);
                        }
                        matmul(
                            cm_mut(&mut out[n * k * v..], n, k),
                            Accum::Replace,
                            cm(e, n, kin),
                            w.transpose(),
                            1.0,
                            Par::Seq,
                        );
                    }
                }
            }
        }

        // Off-diagonal blocks.
        for l in 1..depth {
            let (ll, k, kin, el) = (&lays[l], lays[l].rows, lays[l].cols, lays[l].ext_cols());
            let input_l = layer_input(l, &ws.a, x, n, ll);
            for m in 0..l {
                let (lm, km, em) = (&lays[m], lays[m].rows, lays[m].ext_cols());
                let input_m = layer_input(m, &ws.a, x, n, lm);
                // Term 1: X = M_l C_{l,m} (n × k·km), Y = ã_{l−1} ⊗ ã_{m−1}.
                let c_lm = &hw.c[l * depth + m];
                let m_l = &hw.m[l];
                let xk = k * km;
                let col = |u: usize| u * n..u * n + n;
                if l + 1 < depth && lays[l + 1].rows == 1 {
                    // Next layer of one unit: M_l = A Bᵀ + diag(σ''_l ⊙ h_l) per sample, with
                    // A_u = w_u M_{l+1} σ'_u and B_u = w_u σ'_u (the outer-product case above),
                    // so (M_l C)[u, u'] = A_u γ_u' + σ''_u h_u C[u, u'] with γ_u' = Σ_w B_w C[w, u']:
                    // 3·k·km column products instead of k²·km. (A and B are formed again: the
                    // diagonal pass's copies in `hw.t` were overwritten by the recursion below.)
                    let w = &params[lays[l + 1].weight.clone()];
                    let m1 = &hw.m[l + 1][..n];
                    let (d1, d2, h) = (&ws.d1[l], &ws.d2[l], &ws.h[l]);
                    let (sa, sb) = hw.t[..2 * n * k].split_at_mut(n * k);
                    for u in 0..k {
                        simd::scaled_product(&mut sa[col(u)], m1, w[u], &d1[col(u)]);
                        simd::scaled(&mut sb[col(u)], &d1[col(u)], w[u]);
                    }
                    let gamma = &mut hw.y[..n * km];
                    gamma.fill(0.0);
                    for u2 in 0..km {
                        for wi in 0..k {
                            let c = &c_lm[n * (wi + k * u2)..n * (wi + k * u2) + n];
                            simd::add_product(&mut gamma[col(u2)], &sb[col(wi)], c);
                        }
                    }
                    for u in 0..k {
                        for u2 in 0..km {
                            let dst = &mut hw.x[col(u * km + u2)];
                            if exact {
                                let c = &c_lm[n * (u + k * u2)..n * (u + k * u2) + n];
                                simd::triple_product(dst, &d2[col(u)], &h[col(u)], c);
                                simd::add_product(dst, &sa[col(u)], &gamma[col(u2)]);
                            } else {
                                simd::product(dst, &sa[col(u)], &gamma[col(u2)]);
                            }
                        }
                    }
                } else {
                    hw.x[..n * xk].fill(0.0);
                    for u in 0..k {
                        for u2 in 0..km {
                            let dst = &mut hw.x[col(u * km + u2)];
                            for wi in 0..k {
                                let a = &m_l[n * (u + k * wi)..n * (u + k * wi) + n];
                                let b = &c_lm[n * (wi + k * u2)..n * (wi + k * u2) + n];
                                simd::add_product(dst, a, b);
                            }
                        }
                    }
                }
                fill_products(&mut hw.y, input_l, el, input_m, em, n, false);
                matmul(
                    MatMut::from_column_major_slice_mut(
                        &mut hw.cross[l * depth + m][..xk * el * em],
                        xk,
                        el * em,
                    ),
                    Accum::Add,
                    cm(&hw.x, n, xk).transpose(),
                    cm(&hw.y, n, el * em),
                    1.0,
                    Par::Seq,
                );
                // Term 2: X = g_l, Y[s, (v,u',v')] = σ'_{l−1,v} C_{l−1,m}[v,u'] ã_{m−1,v'}.
                // (Absent from the Gauss–Newton matrix.)
                if !exact {
                    continue;
                }
                let d1 = &ws.d1[l - 1];
                if k == 1 && m + 1 == l {
                    // One unit: S2[(v, v')] = Σ_s g_s σ'_v(s) ã_{m−1,v'}(s) is the product of
                    // the kin columns g ⊙ σ'_v with the em input columns, not a product over
                    // kin·em filled columns.
                    let (gd, inp) = hw.y[..n * (kin + em)].split_at_mut(n * kin);
                    let g = &ws.g[l][..n];
                    for v in 0..kin {
                        simd::product(&mut gd[v * n..v * n + n], g, &d1[v * n..v * n + n]);
                    }
                    for v2 in 0..em {
                        let dst = &mut inp[v2 * n..v2 * n + n];
                        match ext_col(input_m, v2) {
                            Some(a) => dst.copy_from_slice(&a[..n]),
                            None => dst.fill(1.0),
                        }
                    }
                    // S2 is 1 × (kin·em) with column v·em + v', i.e. the em × kin matrix
                    // (column-major) of inputᵀ·gd.
                    matmul(
                        MatMut::from_column_major_slice_mut(
                            &mut hw.cross2[l * depth + m][..kin * em],
                            em,
                            kin,
                        ),
                        Accum::Add,
                        cm(inp, n, em).transpose(),
                        cm(gd, n, kin),
                        1.0,
                        Par::Seq,
                    );
                    continue;
                }
                let inner = if m + 1 == l { 1 } else { km };
                if k == 1 {
                    // One unit, m < l − 1: S2[(v, j, v')] = Σ_s (g σ'_v C_{l−1,m}[v, j]) ã_{m−1,v'},
                    // per (v, j) one pass forming that product in registers with its dot
                    // products against the inputs (and its sum for the bias input), not
                    // kin·km·em stored columns and a matrix–vector product.
                    let g = &ws.g[l][..n];
                    let gd = &mut hw.t[..n * kin];
                    for v in 0..kin {
                        simd::product(&mut gd[col(v)], g, &d1[col(v)]);
                    }
                    let gd = &*gd;
                    let cprev = &hw.c[(l - 1) * depth + m];
                    let real = input_m.ncols();
                    let out = &mut hw.cross2[l * depth + m];
                    for v in 0..kin {
                        for j in 0..inner {
                            let cc = &cprev[n * (v + kin * j)..n * (v + kin * j) + n];
                            let o = &mut out[(v * inner + j) * em..(v * inner + j + 1) * em];
                            let st = dots_scaled(
                                &gd[col(v)],
                                Some((1.0, cc)),
                                real,
                                |v2| ext_col(input_m, v2).expect("a real input column"),
                                &mut o[..real],
                            );
                            if em > real {
                                o[real] += st;
                            }
                        }
                    }
                    continue;
                }
                let cols = kin * inner * em;
                for v in 0..kin {
                    let dv = &d1[v * n..v * n + n];
                    for j in 0..inner {
                        for v2 in 0..em {
                            let dst_col = (v * inner + j) * em + v2;
                            let dst = &mut hw.y[n * dst_col..n * dst_col + n];
                            let a_col = ext_col(input_m, v2);
                            if m + 1 == l {
                                match a_col {
                                    Some(a) => simd::product(dst, dv, &a[..n]),
                                    None => dst.copy_from_slice(dv),
                                }
                            } else {
                                let cprev = &hw.c[(l - 1) * depth + m];
                                let cc = &cprev[n * (v + kin * j)..n * (v + kin * j) + n];
                                match a_col {
                                    Some(a) => simd::triple_product(dst, dv, cc, &a[..n]),
                                    None => simd::product(dst, dv, cc),
                                }
                            }
                        }
                    }
                }
                matmul(
                    MatMut::from_column_major_slice_mut(
                        &mut hw.cross2[l * depth + m][..k * cols],
                        k,
                        cols,
                    ),
                    Accum::Add,
                    cm(&ws.g[l], n, k).transpose(),
                    cm(&hw.y, n, cols),
                    1.0,
                    Par::Seq,
                );
            }
        }
    }
}

/// Fills `y` (`n × cols`, column-major) with products of extended inputs: for the symmetric
/// case the pairs `v ≤ v'` of `a` (`pairs(ea)` columns), otherwise all `(v, v')` with column
/// index `v·eb + v'`.
#[allow(clippy::needless_range_loop)]
fn fill_products(
    y: &mut [f64],
    a: MatRef<'_, f64>,
    ea: usize,
    b: MatRef<'_, f64>,
    eb: usize,
    n: usize,
    symmetric: bool,
) {
    for v in 0..ea {
        let start = if symmetric { v } else { 0 };
        for v2 in start..eb {
            let col = if symmetric {
                pair(v, v2, ea)
            } else {
                v * eb + v2
            };
            let dst = &mut y[n * col..n * col + n];
            match (ext_col(a, v), ext_col(b, v2)) {
                (Some(p), Some(q)) => simd::product(dst, &p[..n], &q[..n]),
                (Some(p), None) => dst.copy_from_slice(&p[..n]),
                (None, Some(q)) => dst.copy_from_slice(&q[..n]),
                (None, None) => dst.fill(1.0),
            }
        }
    }
}
