//! One pass over samples, chunk by chunk (forward, output loss, backward), and the blocks of
//! an evaluation spread over threads ([`crate::net::Objective::with_threads`]): the samples
//! are cut into contiguous blocks of equal size, each evaluated with its own buffers (a
//! [`Worker`]) and summed in block order, so a given thread count always gives the same bits.

use std::ops::Range;

use faer::linalg::matmul::matmul;
use faer::{Accum, MatMut, MatRef, Par};

use super::data::Dataset;
use super::loss::{Loss, OutputChunk};
use super::simd;
use super::spec::{LayerLayout, NetSpec};
use super::workspace::{HessianWorkspace, Workspace, cm, cm_mut};

/// `grad += ∂/∂θ_l` of layer `l` (`lay`) from `g = ∂ℓ/∂z_l` (`n × k_l`, column-major) and the
/// layer's `input` (`n × k_{l−1}`): `G_W += gᵀ input`, `g_b +=` the column sums of `g`.
pub(crate) fn add_layer_gradient(
    lay: &LayerLayout,
    g: &[f64],
    n: usize,
    input: MatRef<'_, f64>,
    grad: &mut [f64],
) {
    add_weight_gradient(lay, g, n, input, grad);
    if let Some(b) = &lay.bias {
        for (u, gb) in grad[b.clone()].iter_mut().enumerate() {
            *gb += simd::sum(&g[u * n..(u + 1) * n]);
        }
    }
}

/// The weight part of [`add_layer_gradient`]: `G_W += gᵀ input`.
fn add_weight_gradient(
    lay: &LayerLayout,
    g: &[f64],
    n: usize,
    input: MatRef<'_, f64>,
    grad: &mut [f64],
) {
    let (k, kin) = (lay.rows, lay.cols);
    let gw = MatMut::from_row_major_slice_mut(&mut grad[lay.weight.clone()], k, kin);
    matmul(
        gw,
        Accum::Add,
        cm(g, n, k).transpose(),
        input,
        1.0,
        Par::Seq,
    );
}

/// The read-only part of a pass over samples, borrowed from an [`Objective`]: what every thread
/// of a parallel evaluation shares (each brings its own [`Workspace`]).
#[derive(Clone, Copy)]
pub(crate) struct Pass<'s> {
    pub(crate) spec: &'s NetSpec,
    pub(crate) layouts: &'s [LayerLayout],
    pub(crate) data: &'s Dataset,
    pub(crate) loss: Loss,
}

/// The buffers of one extra thread of a parallel evaluation: its chunk workspace, its Hessian
/// accumulators (created on first use), its share of the gradient and of the loss.
pub(crate) struct Worker {
    pub(crate) ws: Workspace,
    pub(crate) hess: Option<HessianWorkspace>,
    pub(crate) grad: Vec<f64>,
    pub(crate) loss: f64,
}

impl Worker {
    /// The buffers of the `threads − 1` threads beyond the caller's.
    pub(crate) fn for_threads(spec: &NetSpec, chunk: usize, threads: usize) -> Vec<Worker> {
        (1..threads).map(|_| Worker::new(spec, chunk)).collect()
    }

    fn new(spec: &NetSpec, chunk: usize) -> Self {
        Worker {
            ws: Workspace::new(spec, chunk),
            hess: None,
            grad: vec![0.0; spec.n_params()],
            loss: 0.0,
        }
    }
}

/// The blocks of a parallel evaluation: `rows` cut into at most `threads` contiguous blocks
/// of equal size (±1), in order, none smaller than `min(chunk, MIN_BLOCK)` samples (a block
/// is evaluated in chunks of its own). Computed on the fly: no allocation per evaluation.
#[derive(Clone, Debug)]
pub(crate) struct RowBlocks {
    start: usize,
    rows: usize,
    count: usize,
}

/// The smallest block worth a thread (with the default chunk).
pub(crate) const MIN_BLOCK: usize = 64;

impl RowBlocks {
    pub(crate) fn new(rows: Range<usize>, chunk: usize, threads: usize) -> Self {
        let len = rows.len();
        let smallest = chunk.clamp(1, MIN_BLOCK);
        RowBlocks {
            start: rows.start,
            rows: len,
            count: threads.min(len / smallest).max(1),
        }
    }

    /// Number of blocks (at least 1; one empty block for an empty range).
    pub(crate) fn count(&self) -> usize {
        self.count
    }

    /// Block `b` (`b < count()`).
    pub(crate) fn get(&self, b: usize) -> Range<usize> {
        let (n, t) = (self.rows, self.count);
        self.start + b * n / t..self.start + (b + 1) * n / t
    }
}

/// Runs one evaluation over `blocks`: block 0 by `main` on this thread, every other block by
/// `work` with its own worker, as tasks of the current rayon pool (the global pool is not
/// touched when there is one block). Returns `main`'s result and the workers that ran, whose
/// sums the caller adds in block order.
pub(crate) fn fan_out<'w, R: Send>(
    blocks: &RowBlocks,
    workers: &'w mut [Worker],
    work: impl Fn(&mut Worker, Range<usize>) + Sync,
    main: impl FnOnce(Range<usize>) -> R + Send,
) -> (R, &'w [Worker]) {
    let used = &mut workers[..blocks.count() - 1];
    if used.is_empty() {
        return (main(blocks.get(0)), used);
    }
    let work = &work;
    let out = rayon::scope(|s| {
        for (b, w) in used.iter_mut().enumerate() {
            let r = blocks.get(b + 1);
            s.spawn(move |_| work(w, r));
        }
        main(blocks.get(0))
    });
    (out, used)
}

impl Pass<'_> {
    /// The sum loss of the samples in `rows`, chunk by chunk, with the gradient added into
    /// `grad` when given: fused for one-hidden-layer networks with one linear output under the
    /// squared error ([`Pass::shallow_block`]), by layers otherwise.
    pub(crate) fn block(
        &self,
        ws: &mut Workspace,
        params: &[f64],
        rows: Range<usize>,
        chunk: usize,
        grad: Option<&mut [f64]>,
    ) -> f64 {
        if self.is_shallow() {
            self.shallow_block(ws, params, rows, chunk, grad)
        } else {
            self.layered_block(ws, params, rows, chunk, grad)
        }
    }

    /// [`Pass::block`] layer by layer (its forward pass is [`Pass::forward`], fused for the
    /// networks of [`Pass::is_shallow`]), for any network.
    pub(crate) fn layered_block(
        &self,
        ws: &mut Workspace,
        params: &[f64],
        rows: Range<usize>,
        chunk: usize,
        mut grad: Option<&mut [f64]>,
    ) -> f64 {
        let mut total = 0.0;
        let mut i0 = rows.start;
        while i0 < rows.end {
            let n = chunk.min(rows.end - i0);
            self.forward(ws, params, i0, n, 1);
            total += self.output(ws, i0, n, false);
            if let Some(g) = grad.as_deref_mut() {
                self.backward(ws, params, i0, n, g, false);
            }
            i0 += n;
        }
        total
    }

    /// Forward pass over samples `i0..i0+n`. `order` 1 stores first derivatives of hidden
    /// activations, 2 also second derivatives. The output layer keeps its pre-activations.
    /// Fused for the networks of [`Pass::shallow_block`] ([`Pass::shallow_forward`]).
    pub(crate) fn forward(
        &self,
        ws: &mut Workspace,
        params: &[f64],
        i0: usize,
        n: usize,
        order: u8,
    ) {
        if self.is_shallow() {
            self.shallow_forward(ws, params, i0, n, order);
        } else {
            self.layered_forward(ws, params, i0, n, order);
        }
    }

    /// [`Pass::forward`] layer by layer (a GEMM per layer), for any network.
    pub(crate) fn layered_forward(
        &self,
        ws: &mut Workspace,
        params: &[f64],
        i0: usize,
        n: usize,
        order: u8,
    ) {
        let depth = self.spec.depth();
        let x = self.data.x().subrows(i0, n);
        for l in 0..depth {
            let lay = &self.layouts[l];
            let (k, kin) = (lay.rows, lay.cols);
            let w = MatRef::from_row_major_slice(&params[lay.weight.clone()], k, kin);
            let (before, rest) = ws.a.split_at_mut(l);
            let out = &mut rest[0];
            {
                let input = if l == 0 {
                    x
                } else {
                    cm(&before[l - 1], n, kin)
                };
                matmul(
                    cm_mut(out, n, k),
                    Accum::Replace,
                    input,
                    w.transpose(),
                    1.0,
                    Par::Seq,
                );
            }
            let bias = lay.bias.as_ref().map(|b| &params[b.clone()]);
            if l + 1 < depth {
                // Bias add fused with the activation, column by column (each neuron's own
                // activation in a mixed layer).
                let layer = &self.spec.layers[l];
                for u in 0..k {
                    let act = layer.activation_of(u);
                    let col = u * n..(u + 1) * n;
                    let shift = bias.map_or(0.0, |b| b[u]);
                    let d1 = (order >= 1).then(|| &mut ws.d1[l][col.clone()]);
                    let d2 = (order >= 2).then(|| &mut ws.d2[l][col.clone()]);
                    act.apply_shifted_in_place(&mut out[col], shift, d1, d2);
                }
            } else if let Some(b) = bias {
                for (u, &bu) in b.iter().enumerate() {
                    for v in &mut out[u * n..(u + 1) * n] {
                        *v += bu;
                    }
                }
            }
        }
    }

    /// Loss of the chunk; fills `g_L` (and the output curvature when `curvature`).
    pub(crate) fn output(&self, ws: &mut Workspace, i0: usize, n: usize, curvature: bool) -> f64 {
        let last = self.spec.depth() - 1;
        let k = self.spec.output_dim();
        let y = self.data.y().subrows(i0, n);
        let w = self.data.weights().map(|w| &w[i0..i0 + n]);
        self.loss.eval_chunk(
            &self.spec.layers[last].activation,
            n,
            k,
            y,
            w,
            OutputChunk {
                z: &mut ws.a[last],
                d1: &mut ws.d1[last],
                d2: &mut ws.d2[last],
                g: &mut ws.g[last],
                curvature: curvature.then_some(&mut ws.curvature[..]),
            },
        )
    }

    /// Backward pass: accumulates the chunk's gradient into `grad`; fills `g_l` for every layer
    /// and, when `keep_h`, `h_l = W_{l+1}ᵀ g_{l+1}`.
    pub(crate) fn backward(
        &self,
        ws: &mut Workspace,
        params: &[f64],
        i0: usize,
        n: usize,
        grad: &mut [f64],
        keep_h: bool,
    ) {
        let depth = self.spec.depth();
        let x = self.data.x().subrows(i0, n);
        for l in (0..depth).rev() {
            let lay = &self.layouts[l];
            let (k, kin) = (lay.rows, lay.cols);
            {
                let input = if l == 0 { x } else { cm(&ws.a[l - 1], n, kin) };
                if l + 1 == depth {
                    add_layer_gradient(lay, &ws.g[l], n, input, grad);
                } else {
                    // The bias part came with g_l, below.
                    add_weight_gradient(lay, &ws.g[l], n, input, grad);
                }
            }
            if l == 0 {
                break;
            }
            let w = MatRef::from_row_major_slice(&params[lay.weight.clone()], k, kin);
            let (lower, upper) = ws.g.split_at_mut(l);
            let g_prev = &mut lower[l - 1];
            let d1 = &ws.d1[l - 1];
            // g_{l−1} = h ⊙ σ' column by column, each column's sum (the bias gradient of layer
            // l − 1) taken in the same pass.
            let prev_bias = self.layouts[l - 1].bias.as_ref().map(|b| b.start);
            let mut add_bias = |v: usize, s: f64| {
                if let Some(b) = prev_bias {
                    grad[b + v] += s;
                }
            };
            if k == 1 {
                // h = g wᵀ is an outer product: fuse it with the multiplication by σ'.
                let g = &upper[0][..n];
                for v in 0..kin {
                    let wv = w[(0, v)];
                    let col = v * n..(v + 1) * n;
                    if keep_h {
                        simd::scaled(&mut ws.h[l - 1][col.clone()], g, wv);
                    }
                    add_bias(
                        v,
                        simd::scaled_product_sum(&mut g_prev[col.clone()], g, wv, &d1[col]),
                    );
                }
            } else {
                matmul(
                    cm_mut(g_prev, n, kin),
                    Accum::Replace,
                    cm(&upper[0], n, k),
                    w,
                    1.0,
                    Par::Seq,
                );
                if keep_h {
                    ws.h[l - 1][..n * kin].copy_from_slice(&g_prev[..n * kin]);
                }
                for v in 0..kin {
                    let col = v * n..(v + 1) * n;
                    add_bias(v, simd::mul_assign_sum(&mut g_prev[col.clone()], &d1[col]));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{MIN_BLOCK, RowBlocks};

    /// The blocks cover the range in order without gaps, from a non-zero start, in equal
    /// sizes (±1) of at least `min(chunk, MIN_BLOCK)` samples, as many as the threads when
    /// the range allows.
    #[test]
    fn row_blocks_tile_the_range() {
        for start in [0, 3, 1000] {
            for len in [0, 1, 7, 63, 64, 200, 511, 512, 513, 640, 3000, 30_000] {
                for chunk in [1, 5, 256, 512] {
                    for threads in 1..=5 {
                        let b = RowBlocks::new(start..start + len, chunk, threads);
                        assert!(b.count() >= 1 && b.count() <= threads);
                        let sizes: Vec<usize> = (0..b.count()).map(|i| b.get(i).len()).collect();
                        let mut at = start;
                        for i in 0..b.count() {
                            let r = b.get(i);
                            assert_eq!(r.start, at, "{start} {len} {chunk} {threads}");
                            at = r.end;
                            if b.count() > 1 {
                                assert!(r.len() >= chunk.min(MIN_BLOCK));
                            }
                        }
                        assert_eq!(at, start + len);
                        let (lo, hi) = (sizes.iter().min(), sizes.iter().max());
                        assert!(hi.unwrap() - lo.unwrap() <= 1);
                        if len >= chunk.min(MIN_BLOCK) * threads {
                            assert_eq!(b.count(), threads);
                        }
                    }
                }
            }
        }
        // A mini-batch of 640 with chunks of 512 splits evenly.
        let b = RowBlocks::new(0..640, 512, 2);
        assert_eq!((b.get(0), b.get(1)), (0..320, 320..640));
    }
}
