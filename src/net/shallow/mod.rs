//! The loss and gradient of a one-hidden-layer network with one linear output under the
//! squared error — the paper's teachers and students — fused per chunk of samples.
//!
//! The layer-wise pass ([`Pass::layered_block`]) runs a GEMM per layer and direction and a
//! dozen elementwise passes over the chunk (bias sums, `g·w_u·σ'_u` per unit, the output's
//! derivative of 1, the residual), each through memory. For a `d → K → 1` network most of that
//! is thin — a matrix–vector product to the single output, and for small `d` an `n × d` by
//! `d × K` product — and the activation kernel is the only real arithmetic. Here each unit's
//! column is built by fused multiply–adds over the input columns, activated in place and
//! folded into the output at once; the backward pass is one residual pass and, per unit, the
//! dot products of `t_u = w_u r ⊙ σ'_u` (formed in registers) with the input columns:
//!
//! `∂L/∂w_u = Σ_i r_i a_u(x_i)`, `∂L/∂W_uj = Σ_i t_ui x_ij`, `r_i = 2ω_i(f(x_i) − y_i)`.
//!
//! Above [`FUSED_INPUTS`] inputs the first layer's two products are GEMMs again (`T` replaces
//! `σ'` in place), where they run faster than column passes. Results agree with the
//! layer-wise pass to round-off (the summation order differs).

use std::ops::Range;

use faer::linalg::matmul::matmul;
use faer::{Accum, MatMut, MatRef, Par};

use super::activation::Activation;
use super::loss::Loss;
use super::pass::Pass;
use super::simd::dispatch;
use super::workspace::{Workspace, cm, cm_mut};

/// Runs the local macro `$pass!(w)` with the literal `w` equal to `$m` (1 to [`BLOCK`]): the
/// multi-column passes are monomorphised per width.
macro_rules! with_width {
    ($m:expr, $pass:ident) => {
        match $m {
            1 => $pass!(1),
            2 => $pass!(2),
            3 => $pass!(3),
            4 => $pass!(4),
            5 => $pass!(5),
            6 => $pass!(6),
            7 => $pass!(7),
            _ => $pass!(8),
        }
    };
}

/// Columns per multi-column pass: eight accumulators or summands, each a SIMD register.
const BLOCK: usize = 8;

mod passes;
pub(crate) use passes::dots_scaled;
use passes::{Residual, ScaleInPlace, column, combine, dots_scaled2};

impl Pass<'_> {
    /// Whether the fused pass applies: one hidden layer, one output with the identity
    /// activation, the squared error.
    pub(crate) fn is_shallow(&self) -> bool {
        let l = &self.spec.layers;
        l.len() == 2
            && self.loss == Loss::Mse
            && l[1].width == 1
            && !l[1].is_mixed()
            && l[1].activation == Activation::Identity
    }

    /// [`Pass::forward`] for a network where [`Pass::is_shallow`] holds: the hidden layer's
    /// activations (and derivatives up to `order`) and the output in `ws.a[1]`. Every
    /// evaluation of such a network (loss, gradient, Hessian, products, predictions) runs this
    /// forward pass, so they all see the same outputs to the last bit — up to [`FUSED_INPUTS`]
    /// inputs, where each sample's value does not depend on the chunk; above, as far as faer's
    /// GEMM gives each entry the same bits for chunks of different lengths (the Hessian's
    /// chunks are shorter). The sums over samples are SIMD reductions: their last bits depend
    /// on the CPU's vector width, as the GEMMs' do.
    pub(crate) fn shallow_forward(
        &self,
        ws: &mut Workspace,
        params: &[f64],
        i0: usize,
        n: usize,
        order: u8,
    ) {
        let (hid, out) = (&self.layouts[0], &self.layouts[1]);
        let (k, d) = (hid.rows, hid.cols);
        let layer = &self.spec.layers[0];
        let w1 = &params[hid.weight.clone()];
        let b1 = hid.bias.as_ref().map(|b| &params[b.clone()]);
        let w2 = &params[out.weight.clone()];
        let b2 = out.bias.as_ref().map_or(0.0, |b| params[b.start]);
        let x = self.data.x().subrows(i0, n);
        let xcol = move |j: usize| column(x, j);
        let (hidden, output) = ws.a.split_at_mut(1);
        let (a, f) = (&mut hidden[0][..n * k], &mut output[0][..n]);
        let d1 = &mut ws.d1[0][..n * k];
        let d2 = &mut ws.d2[0][..n * k];
        f.fill(b2);
        // z_u = X w_u, σ_u(z_u + b_u) in place (σ', σ'' as asked), and f += w_u a_u for each
        // block of units as soon as it is ready.
        let wide = d > FUSED_INPUTS;
        if wide {
            matmul(
                cm_mut(a, n, k),
                Accum::Replace,
                x,
                MatRef::from_row_major_slice(w1, k, d).transpose(),
                1.0,
                Par::Seq,
            );
        }
        let mut u0 = 0;
        while u0 < k {
            let m = BLOCK.min(k - u0);
            for u in u0..u0 + m {
                let cols = u * n..(u + 1) * n;
                let col = &mut a[cols.clone()];
                if !wide {
                    combine(col, false, &w1[u * d..(u + 1) * d], xcol);
                }
                let d1u = (order >= 1).then(|| &mut d1[cols.clone()]);
                let d2u = (order >= 2).then(|| &mut d2[cols]);
                let shift = b1.map_or(0.0, |b| b[u]);
                layer
                    .activation_of(u)
                    .apply_shifted_in_place(col, shift, d1u, d2u);
            }
            let a_ref: &[f64] = a;
            combine(f, true, &w2[u0..u0 + m], |j| {
                &a_ref[(u0 + j) * n..(u0 + j + 1) * n]
            });
            u0 += m;
        }
    }

    /// [`Pass::block`] for a network where [`Pass::is_shallow`] holds.
    pub(crate) fn shallow_block(
        &self,
        ws: &mut Workspace,
        params: &[f64],
        rows: Range<usize>,
        chunk: usize,
        mut grad: Option<&mut [f64]>,
    ) -> f64 {
        let (hid, out) = (&self.layouts[0], &self.layouts[1]);
        let (k, d) = (hid.rows, hid.cols);
        let w2 = &params[out.weight.clone()];
        let wide = d > FUSED_INPUTS;
        let mut total = 0.0;
        let mut i0 = rows.start;
        while i0 < rows.end {
            let n = chunk.min(rows.end - i0);
            self.shallow_forward(ws, params, i0, n, u8::from(grad.is_some()));
            let x = self.data.x().subrows(i0, n);
            let xcol = move |j: usize| column(x, j);
            let y = self.data.y().col(0).subrows(i0, n);
            let y = y.try_as_col_major().expect("targets are contiguous");
            let weights = self.data.weights().map(|w| &w[i0..i0 + n]);
            let a = &ws.a[0][..n * k];
            let f = &ws.a[1][..n];
            let d1 = &mut ws.d1[0][..n * k];
            let r = &mut ws.g[1][..n];
            // r = 2ω(f − y), the loss Σ ω (f − y)².
            total += dispatch(Residual {
                r,
                f,
                y: y.as_slice(),
                w: weights,
            });
            if let Some(g) = grad.as_deref_mut() {
                let r: &[f64] = r;
                // Output layer: ∂/∂w_u = r·a_u, ∂/∂b = Σ r.
                let sr = dots_scaled(
                    r,
                    None,
                    k,
                    |u| &a[u * n..(u + 1) * n],
                    &mut g[out.weight.clone()],
                );
                if let Some(b) = &out.bias {
                    g[b.start] += sr;
                }
                // Hidden layer: t_u = w_u r ⊙ σ'_u, ∂/∂W_u = t_u·X, ∂/∂b_u = Σ t_u: for few
                // inputs t_u is formed in registers, once per pass over the input columns; for
                // many, T replaces σ' and ∂/∂W = Tᵀ X is one GEMM.
                let mut u = 0;
                while u < k {
                    if !wide && u + 1 < k {
                        // Two units per pass: the input columns are loaded once for both.
                        let (d1u, d1v) = d1[u * n..(u + 2) * n].split_at(n);
                        let rows = hid.weight.start + u * d..hid.weight.start + (u + 2) * d;
                        let (gu, gv) = g[rows].split_at_mut(d);
                        let st =
                            dots_scaled2(r, [(w2[u], d1u), (w2[u + 1], d1v)], d, xcol, [gu, gv]);
                        if let Some(b) = &hid.bias {
                            g[b.start + u] += st[0];
                            g[b.start + u + 1] += st[1];
                        }
                        u += 2;
                        continue;
                    }
                    let d1u = &mut d1[u * n..(u + 1) * n];
                    let st = if wide {
                        dispatch(ScaleInPlace {
                            t: d1u,
                            r,
                            s: w2[u],
                        })
                    } else {
                        let row = hid.weight.start + u * d..hid.weight.start + (u + 1) * d;
                        dots_scaled(r, Some((w2[u], d1u)), d, xcol, &mut g[row])
                    };
                    if let Some(b) = &hid.bias {
                        g[b.start + u] += st;
                    }
                    u += 1;
                }
                if wide {
                    matmul(
                        MatMut::from_row_major_slice_mut(&mut g[hid.weight.clone()], k, d),
                        Accum::Add,
                        cm(d1, n, k).transpose(),
                        x,
                        1.0,
                        Par::Seq,
                    );
                }
            }
            i0 += n;
        }
        total
    }
}

/// Input widths up to which the first layer's products are fused passes over the input
/// columns; above it they are GEMMs (measured: `experiments/integrators/kernels.md`).
const FUSED_INPUTS: usize = 8;

#[cfg(test)]
mod tests {
    use crate::net::{Activation, Dataset, LayerSpec, Loss, NetSpec, Objective};
    use crate::rng::Stream;

    /// The fused pass equals the layer-wise one to round-off: input widths on both sides of
    /// `FUSED_INPUTS` (fused passes up to 8, GEMMs at 9), widths across the unit blocks, with
    /// and without biases, mixed layers, sample weights, chunks that leave vector tails; and it
    /// declines what it does not cover.
    #[test]
    fn fused_pass_equals_the_layered_one() {
        let acts = Activation::all_examples();
        let mut rng = Stream::new(7, 0);
        for case in 0..120 {
            let d = 1 + case % 9;
            let k = 1 + (case / 9) % 9;
            let a = acts[rng.below(acts.len())].clone();
            let hidden = if case % 5 == 4 && k >= 2 {
                let b = acts[rng.below(acts.len())].clone();
                LayerSpec::mixed(
                    (0..k)
                        .map(|u| if u % 2 == 0 { a.clone() } else { b.clone() })
                        .collect(),
                )
            } else {
                LayerSpec::new(k, a)
            };
            let hidden = hidden.with_bias(case % 3 != 1);
            let out = LayerSpec::new(1, Activation::Identity).with_bias(case % 4 != 2);
            let spec = NetSpec::new(d, vec![hidden, out]).unwrap();
            let n = [1, 7, 8, 9, 31, 64, 100, 533][case % 8];
            let x: Vec<f64> = (0..n * d).map(|_| rng.normal()).collect();
            let y: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
            let mut data = Dataset::from_row_major(&x, d, &y, 1).unwrap();
            if case % 2 == 1 {
                data = data
                    .with_weights((0..n).map(|_| 2.0 * rng.uniform()).collect())
                    .unwrap();
            }
            let theta: Vec<f64> = (0..spec.n_params()).map(|_| 0.7 * rng.normal()).collect();
            let chunk = [3, 16, 512][case % 3];
            let mut obj = Objective::new(&spec, &data, Loss::Mse)
                .unwrap()
                .with_chunk(chunk);
            let (pass, ws, _) = obj.parts();
            assert!(pass.is_shallow());
            let p = theta.len();
            let (mut g1, mut g2) = (vec![0.0; p], vec![0.0; p]);
            let l1 = pass.shallow_block(ws, &theta, 0..n, chunk, Some(&mut g1));
            // The forward pass with second derivatives (the Hessian's) against the layers'.
            let m = chunk.min(n);
            let k = spec.layers[0].width;
            pass.shallow_forward(ws, &theta, 0, m, 2);
            let fused: Vec<Vec<f64>> = [&ws.a[0], &ws.d1[0], &ws.d2[0]]
                .iter()
                .map(|b| b[..m * k].to_vec())
                .chain(std::iter::once(ws.a[1][..m].to_vec()))
                .collect();
            pass.layered_forward(ws, &theta, 0, m, 2);
            let layered = [
                &ws.a[0][..m * k],
                &ws.d1[0][..m * k],
                &ws.d2[0][..m * k],
                &ws.a[1][..m],
            ];
            for (f, l) in fused.iter().zip(layered) {
                let scale = l.iter().fold(1.0f64, |s, v| s.max(v.abs()));
                for (a, b) in f.iter().zip(l) {
                    assert!(
                        (a - b).abs() <= 1e-13 * scale,
                        "case {case}: forward {a} vs {b}"
                    );
                }
            }
            // The layer-wise reference: GEMM forward, loss kernel, backward.
            let mut l2 = 0.0;
            for i0 in (0..n).step_by(chunk) {
                let m = chunk.min(n - i0);
                pass.layered_forward(ws, &theta, i0, m, 1);
                l2 += pass.output(ws, i0, m, false);
                pass.backward(ws, &theta, i0, m, &mut g2, false);
            }
            let l0 = pass.shallow_block(ws, &theta, 0..n, chunk, None);
            assert_eq!(
                l0.to_bits(),
                l1.to_bits(),
                "case {case}: the loss without the gradient"
            );
            let scale = l2.abs().max(1.0);
            assert!(
                (l1 - l2).abs() <= 1e-13 * scale,
                "case {case}: loss {l1} vs {l2}"
            );
            let gscale = g2.iter().fold(1.0f64, |m, v| m.max(v.abs()));
            for (i, (a, b)) in g1.iter().zip(&g2).enumerate() {
                assert!(
                    (a - b).abs() <= 1e-13 * gscale,
                    "case {case} ({spec:?}): ∂θ{i} {a} vs {b}"
                );
            }
        }
        // Not covered: two outputs, a non-linear output, NLL, two hidden layers.
        let data =
            Dataset::from_row_major(&[0.1, 0.2, 0.3, 0.4], 2, &[1.0, 0.0, 0.0, 1.0], 2).unwrap();
        let softmax = NetSpec::new(
            2,
            vec![
                LayerSpec::new(3, Activation::Tanh),
                LayerSpec::new(2, Activation::Softmax),
            ],
        )
        .unwrap();
        let declined = [
            (NetSpec::shallow(2, 3, Activation::Tanh, 2), Loss::Mse),
            (softmax, Loss::Nll),
        ];
        for (spec, loss) in declined {
            let mut obj = Objective::new(&spec, &data, loss).unwrap();
            assert!(!obj.parts().0.is_shallow());
        }
        let data1 = Dataset::from_row_major(&[0.1, 0.2, 0.3, 0.4], 2, &[1.0, 0.0], 1).unwrap();
        let tanh_out = NetSpec::new(
            2,
            vec![
                LayerSpec::new(3, Activation::G),
                LayerSpec::new(1, Activation::Tanh),
            ],
        )
        .unwrap();
        let deep = NetSpec::new(
            2,
            vec![
                LayerSpec::new(3, Activation::G),
                LayerSpec::new(2, Activation::G),
                LayerSpec::new(1, Activation::Identity),
            ],
        )
        .unwrap();
        for spec in [tanh_out, deep] {
            let mut obj = Objective::new(&spec, &data1, Loss::Mse).unwrap();
            assert!(!obj.parts().0.is_shallow());
        }
    }
}
