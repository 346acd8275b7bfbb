//! Matrix-free products with the generalised Gauss–Newton matrix `B = Σ_i J_iᵀ C_i J_i`
//! (`J_i = ∂z_L/∂θ` of sample `i`, `C_i = ∂²φ_i/∂z_L²` the output curvature of the loss; the
//! same matrix as [`Objective::gauss_newton_into`]) — Schraudolph, "Fast curvature
//! matrix-vector products for second-order gradient descent", Neural Computation 14 (2002).
//!
//! [`Objective::linearise_into`] runs one forward and backward pass at `θ` (loss and gradient)
//! and keeps every sample's activations, activation derivatives and output curvature; each
//! [`Objective::gauss_newton_product_into`] is then a tangent (forward-mode) pass `J v`, the
//! output curvature, and a backward pass `Jᵀ(C J v)`: about two gradients' worth of GEMMs,
//! `O(N·P)`, against `O(N·P²)` for the matrix itself. Truncated conjugate gradients on these
//! products solve Gauss–Newton trust-region steps for students too large to factorise
//! ([`TrSubproblem::Cg`](crate::optim::TrSubproblem::Cg)).
//!
//! ```
//! use gradflow::net::{Activation, Dataset, LayerSpec, Loss, NetSpec, Objective};
//! use gradflow::net::gauss_newton::GaussNewtonProducts;
//! let spec = NetSpec::new(2, vec![
//!     LayerSpec::new(3, Activation::Tanh),
//!     LayerSpec::new(1, Activation::Identity),
//! ])?;
//! let data = Dataset::from_row_major(&[0.1, 0.2, -0.3, 0.4, 0.5, -0.6], 2, &[1.0, 0.0, -1.0], 1)?;
//! let mut obj = Objective::new(&spec, &data, Loss::Mse)?;
//! let theta: Vec<f64> = (0..spec.n_params()).map(|i| 0.1 * i as f64 - 0.5).collect();
//! let p = spec.n_params();
//! // B v for v = e_3 is the fourth column of the dense Gauss–Newton matrix.
//! let mut gn = GaussNewtonProducts::new(&obj)?;
//! let mut grad = vec![0.0; p];
//! obj.linearise_into(&theta, &mut grad, &mut gn);
//! let mut e = vec![0.0; p];
//! e[3] = 1.0;
//! let mut bv = vec![0.0; p];
//! obj.gauss_newton_product_into(&mut gn, &e, &mut bv);
//! let (mut g, mut b) = (vec![0.0; p], vec![0.0; p * p]);
//! obj.gauss_newton_into(&theta, &mut g, &mut b);
//! for r in 0..p {
//!     assert!((bv[r] - b[r * p + 3]).abs() <= 1e-12);
//! }
//! # Ok::<(), gradflow::Error>(())
//! ```

use faer::linalg::matmul::matmul;
use faer::{Accum, MatMut, MatRef, Par};

use super::objective::{Objective, add_layer_gradient, cm, cm_mut};
use super::simd;
use super::spec::LayerLayout;
use crate::error::{Error, Result};

/// The linearisation of an [`Objective`] at one point, for Gauss–Newton products (see the
/// module docs). Holds `O(N · Σ_l k_l)` values.
pub struct GaussNewtonProducts {
    /// Samples.
    n: usize,
    /// The point of the last [`Objective::linearise_into`].
    params: Vec<f64>,
    /// Hidden layers' activations, `N × k_l` column-major.
    a: Vec<Vec<f64>>,
    /// Hidden layers' activation derivatives, `N × k_l`.
    d1: Vec<Vec<f64>>,
    /// Output curvature `∂²φ/∂z_L²` at offset `s + N(o + k·o')`.
    curvature: Vec<f64>,
    /// Tangents `ż_l` (then `ȧ_l`), `N × k_l` for every layer.
    t: Vec<Vec<f64>>,
    /// Backward buffers `∂/∂z_l` of `½ ż_Lᵀ C ż_L`, `N × k_l` for every layer.
    b: Vec<Vec<f64>>,
    /// Whether [`Objective::linearise_into`] has run.
    ready: bool,
}

impl GaussNewtonProducts {
    /// Buffers for `obj`'s architecture and data.
    ///
    /// # Errors
    /// If `obj` is an infinite-data objective (no samples to linearise) or carries
    /// regularisers (their curvature is not part of these products).
    pub fn new(obj: &Objective<'_>) -> Result<Self> {
        if obj.population.is_some() {
            return Err(Error::invalid(
                "objective",
                "matrix-free Gauss–Newton products need a sample objective, not infinite data",
            ));
        }
        if !obj.reg.is_empty() {
            return Err(Error::invalid(
                "objective",
                "matrix-free Gauss–Newton products do not include regularisers",
            ));
        }
        let n = obj.data.n_samples();
        let depth = obj.spec.depth();
        let k = obj.spec.output_dim();
        let per_layer = |layers: usize| -> Vec<Vec<f64>> {
            obj.spec.layers[..layers]
                .iter()
                .map(|l| vec![0.0; n * l.width])
                .collect()
        };
        Ok(GaussNewtonProducts {
            n,
            params: vec![0.0; obj.n_params()],
            a: per_layer(depth - 1),
            d1: per_layer(depth - 1),
            curvature: vec![0.0; n * k * k],
            t: per_layer(depth),
            b: per_layer(depth),
            ready: false,
        })
    }
}

/// One backward step through layer `l > 0`: `b_{l−1} = (b_l W_l) ⊙ σ'(z_{l−1})`.
fn backward_layer(
    b: &mut [Vec<f64>],
    d1: &[Vec<f64>],
    n: usize,
    l: usize,
    lay: &LayerLayout,
    params: &[f64],
) {
    let (k, kin) = (lay.rows, lay.cols);
    let w = MatRef::from_row_major_slice(&params[lay.weight.clone()], k, kin);
    let (lower, upper) = b.split_at_mut(l);
    let prev = &mut lower[l - 1];
    matmul(
        cm_mut(prev, n, kin),
        Accum::Replace,
        cm(&upper[0], n, k),
        w,
        1.0,
        Par::Seq,
    );
    simd::mul_assign(&mut prev[..n * kin], &d1[l - 1][..n * kin]);
}

/// Copies a column-major `n × cols` chunk into rows `i0..i0+n` of a column-major `total × cols`
/// buffer.
fn scatter_rows(chunk: &[f64], n: usize, cols: usize, full: &mut [f64], total: usize, i0: usize) {
    for c in 0..cols {
        full[c * total + i0..c * total + i0 + n].copy_from_slice(&chunk[c * n..(c + 1) * n]);
    }
}

impl Objective<'_> {
    /// Sum loss and gradient at `params` (as [`Objective::gradient_into`]), keeping in `gn`
    /// what [`Objective::gauss_newton_product_into`] needs at this point.
    ///
    /// # Panics
    /// If a buffer has the wrong length or `gn` was made for another objective's shape.
    pub fn linearise_into(
        &mut self,
        params: &[f64],
        grad: &mut [f64],
        gn: &mut GaussNewtonProducts,
    ) -> f64 {
        self.assert_len(params);
        self.assert_len(grad);
        let total_n = self.data.n_samples();
        assert_eq!(gn.n, total_n, "products made for another data set");
        assert_eq!(
            gn.params.len(),
            params.len(),
            "products made for another network"
        );
        let depth = self.spec.depth();
        let k = self.spec.output_dim();
        grad.fill(0.0);
        let mut total = 0.0;
        for (i0, n) in self.chunks() {
            self.forward(params, i0, n, 1);
            total += self.output(i0, n, true);
            for l in 0..depth - 1 {
                let w = self.spec.layers[l].width;
                scatter_rows(&self.ws.a[l], n, w, &mut gn.a[l], total_n, i0);
                scatter_rows(&self.ws.d1[l], n, w, &mut gn.d1[l], total_n, i0);
            }
            scatter_rows(&self.ws.curvature, n, k * k, &mut gn.curvature, total_n, i0);
            self.backward(params, i0, n, grad, false);
        }
        self.mask_gradient(grad);
        gn.params.copy_from_slice(params);
        gn.ready = true;
        total
    }

    /// `out = B v` with the Gauss–Newton matrix `B` of the sum loss at the point of the last
    /// [`Objective::linearise_into`] (the matrix [`Objective::gauss_newton_into`] returns
    /// there). With frozen parameters: the free rows of `B v` for a `v` whose frozen entries
    /// are zero, and zero in the frozen rows (`gauss_newton_into` instead puts a large
    /// diagonal on frozen rows and columns).
    ///
    /// # Panics
    /// If a buffer has the wrong length or `gn` has not been linearised.
    pub fn gauss_newton_product_into(
        &self,
        gn: &mut GaussNewtonProducts,
        v: &[f64],
        out: &mut [f64],
    ) {
        self.assert_len(v);
        self.assert_len(out);
        assert!(gn.ready, "linearise_into must run before products");
        let n = gn.n;
        let depth = self.spec.depth();
        let kout = self.spec.output_dim();
        let params = &gn.params;
        // Tangent pass: ż_l = V_l a_{l−1} + W_l ȧ_{l−1} + v_b, ȧ_l = σ'(z_l) ⊙ ż_l.
        for l in 0..depth {
            let lay = &self.layouts[l];
            let (k, kin) = (lay.rows, lay.cols);
            let vw = MatRef::from_row_major_slice(&v[lay.weight.clone()], k, kin);
            let (before, rest) = gn.t.split_at_mut(l);
            let t = &mut rest[0];
            let input = if l == 0 {
                self.data.x()
            } else {
                cm(&gn.a[l - 1], n, kin)
            };
            matmul(
                cm_mut(t, n, k),
                Accum::Replace,
                input,
                vw.transpose(),
                1.0,
                Par::Seq,
            );
            if l > 0 {
                let w = MatRef::from_row_major_slice(&params[lay.weight.clone()], k, kin);
                matmul(
                    cm_mut(t, n, k),
                    Accum::Add,
                    cm(&before[l - 1], n, kin),
                    w.transpose(),
                    1.0,
                    Par::Seq,
                );
            }
            if let Some(b) = &lay.bias {
                for (u, &vb) in v[b.clone()].iter().enumerate() {
                    t[u * n..(u + 1) * n].iter_mut().for_each(|x| *x += vb);
                }
            }
            if l + 1 < depth {
                simd::mul_assign(&mut t[..n * k], &gn.d1[l][..n * k]);
            }
        }
        // Output curvature: u = C ż_L per sample.
        {
            let (t, u) = (&gn.t[depth - 1], &mut gn.b[depth - 1]);
            u[..n * kout].fill(0.0);
            for o in 0..kout {
                for o2 in 0..kout {
                    let c = &gn.curvature[n * (o + kout * o2)..n * (o + kout * o2) + n];
                    let (uo, to2) = (&mut u[o * n..(o + 1) * n], &t[o2 * n..(o2 + 1) * n]);
                    for s in 0..n {
                        uo[s] += c[s] * to2[s];
                    }
                }
            }
        }
        // Backward pass: Jᵀu.
        out.fill(0.0);
        for l in (0..depth).rev() {
            let lay = &self.layouts[l];
            let kin = lay.cols;
            let input = if l == 0 {
                self.data.x()
            } else {
                cm(&gn.a[l - 1], n, kin)
            };
            add_layer_gradient(lay, &gn.b[l], n, input, out);
            if l == 0 {
                break;
            }
            backward_layer(&mut gn.b, &gn.d1, n, l, lay, params);
        }
        self.mask_gradient(out);
    }

    /// The Gauss–Newton matrix's diagonal blocks of every unit's incoming parameters (its row
    /// of `W_l`, then its bias), at the point of the last [`Objective::linearise_into`]:
    /// `Σ_i (Σ_o |C_i,oo| (∂z_{L,o}/∂z_{l,u})²) ã_i ã_iᵀ` with `ã_i` the unit's input (and 1).
    /// Exact for the MSE with an identity output layer; the curvature's diagonal part
    /// otherwise (a positive approximation, for preconditioning). Units in layer order, blocks
    /// column-major and concatenated; [`unit_parameters`] gives each block's parameters. One
    /// backward pass per output and one weighted Gram matrix per unit.
    ///
    /// # Panics
    /// If `gn` has not been linearised.
    pub fn gauss_newton_unit_blocks_into(&self, gn: &mut GaussNewtonProducts, out: &mut Vec<f64>) {
        assert!(gn.ready, "linearise_into must run before the blocks");
        let n = gn.n;
        let depth = self.spec.depth();
        let kout = self.spec.output_dim();
        let params = &gn.params;
        // s_l (in gn.t[l]): Σ_o |C_oo| δ_l^o², one backward pass per output.
        for l in 0..depth {
            let k = self.layouts[l].rows;
            gn.t[l][..n * k].fill(0.0);
        }
        for o in 0..kout {
            let c = &gn.curvature[n * (o + kout * o)..n * (o + kout * o) + n];
            let last = &mut gn.b[depth - 1];
            last[..n * kout].fill(0.0);
            last[o * n..(o + 1) * n].fill(1.0);
            for l in (0..depth).rev() {
                let k = self.layouts[l].rows;
                {
                    let (delta, t) = (&gn.b[l][..n * k], &mut gn.t[l][..n * k]);
                    for u in 0..k {
                        for s in 0..n {
                            let d = delta[u * n + s];
                            t[u * n + s] += c[s].abs() * d * d;
                        }
                    }
                }
                if l == 0 {
                    break;
                }
                backward_layer(&mut gn.b, &gn.d1, n, l, &self.layouts[l], params);
            }
        }
        out.clear();
        let mut y = Vec::new();
        for l in 0..depth {
            let lay = &self.layouts[l];
            let (k, kin) = (lay.rows, lay.cols);
            let dim = kin + usize::from(lay.bias.is_some());
            y.resize(n * dim, 0.0);
            for u in 0..k {
                // Y = √s_u ⊙ [a_{l−1}, 1], block = YᵀY.
                let su = &gn.t[l][u * n..(u + 1) * n];
                for v in 0..kin {
                    let col = &mut y[v * n..(v + 1) * n];
                    for s in 0..n {
                        let a = if l == 0 {
                            self.data.x()[(s, v)]
                        } else {
                            gn.a[l - 1][v * n + s]
                        };
                        col[s] = su[s].sqrt() * a;
                    }
                }
                if lay.bias.is_some() {
                    for s in 0..n {
                        y[kin * n + s] = su[s].sqrt();
                    }
                }
                let start = out.len();
                out.resize(start + dim * dim, 0.0);
                let ym = cm(&y, n, dim);
                matmul(
                    MatMut::from_column_major_slice_mut(&mut out[start..], dim, dim),
                    Accum::Replace,
                    ym.transpose(),
                    ym,
                    1.0,
                    Par::Seq,
                );
            }
        }
    }
}

/// The parameters of every unit's block in [`Objective::gauss_newton_unit_blocks_into`]: per
/// unit in layer order, its row of `W_l` and then its bias (flat indices of `spec`'s layout).
pub fn unit_parameters(spec: &super::NetSpec) -> Vec<Vec<usize>> {
    let mut units = Vec::new();
    for lay in spec.layouts() {
        for u in 0..lay.rows {
            let mut idx: Vec<usize> = (0..lay.cols).map(|v| lay.w(u, v)).collect();
            if let Some(b) = &lay.bias {
                idx.push(b.start + u);
            }
            units.push(idx);
        }
    }
    units
}
