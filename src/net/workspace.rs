//! The buffers of an [`Objective`](super::Objective): per-layer chunk buffers of the loss and
//! gradient, and the accumulators of the Hessian (both allocated once per objective), with the
//! column-major views the kernels use.

use faer::{MatMut, MatRef};

use super::spec::{LayerLayout, NetSpec};

/// A zeroed `f64` buffer whose first value is 64-byte aligned (a cache line, one AVX-512
/// vector), so that the SIMD loads of its columns do not split cache lines when the chunk is
/// a multiple of 8.
pub(crate) struct Aligned {
    data: Vec<f64>,
    start: usize,
    len: usize,
}

impl Aligned {
    pub(crate) fn zeros(len: usize) -> Self {
        let data = vec![0.0; len + 8];
        let start = data.as_ptr().align_offset(64).min(8);
        Aligned { data, start, len }
    }
}

impl std::ops::Deref for Aligned {
    type Target = [f64];
    #[inline]
    fn deref(&self) -> &[f64] {
        &self.data[self.start..self.start + self.len]
    }
}

impl std::ops::DerefMut for Aligned {
    #[inline]
    fn deref_mut(&mut self) -> &mut [f64] {
        &mut self.data[self.start..self.start + self.len]
    }
}

/// Per-layer chunk buffers (column-major `chunk × k_l`).
pub(crate) struct Workspace {
    /// Activations (pre-activations during the forward GEMM).
    pub a: Vec<Aligned>,
    /// First derivatives of the activations.
    pub d1: Vec<Aligned>,
    /// Second derivatives of the activations.
    pub d2: Vec<Aligned>,
    /// `∂ℓ/∂z_l`.
    pub g: Vec<Aligned>,
    /// `W_{l+1}ᵀ g_{l+1}` (`∂ℓ/∂a_l`), kept for the Hessian.
    pub h: Vec<Aligned>,
    /// Output curvature `∂²φ/∂z_L²` (`chunk × k_L²`).
    pub curvature: Vec<f64>,
}

impl Workspace {
    pub(super) fn new(spec: &NetSpec, chunk: usize) -> Self {
        let per_layer = || -> Vec<Aligned> {
            spec.layers
                .iter()
                .map(|l| Aligned::zeros(chunk * l.width))
                .collect()
        };
        let k = spec.output_dim();
        Workspace {
            a: per_layer(),
            d1: per_layer(),
            d2: per_layer(),
            g: per_layer(),
            h: per_layer(),
            curvature: vec![0.0; chunk * k * k],
        }
    }
}

/// Column-major view of the first `rows × cols` values of a buffer.
#[inline]
pub(crate) fn cm(buf: &[f64], rows: usize, cols: usize) -> MatRef<'_, f64> {
    MatRef::from_column_major_slice(&buf[..rows * cols], rows, cols)
}

/// Mutable column-major view of the first `rows × cols` values of a buffer.
#[inline]
pub(crate) fn cm_mut(buf: &mut [f64], rows: usize, cols: usize) -> MatMut<'_, f64> {
    MatMut::from_column_major_slice_mut(&mut buf[..rows * cols], rows, cols)
}

/// Accumulators and scratch of the Hessian (allocated once per objective).
pub(crate) struct HessianWorkspace {
    /// `S_ll`, one per layer: `pairs(k_l) × pairs(e_l)`.
    pub(super) diag: Vec<Vec<f64>>,
    /// `S1_lm` for `m < l` at index `l·L + m`: `(k_l k_m) × (e_l e_m)`.
    pub(super) cross: Vec<Vec<f64>>,
    /// `S2_lm` for `m < l`: `k_l × (k_{l−1}·k_m·e_m)` (`k_l × (k_{l−1}·e_m)` for `m = l−1`).
    pub(super) cross2: Vec<Vec<f64>>,
    /// `M_l` per layer: `chunk × k_l²`.
    pub(super) m: Vec<Vec<f64>>,
    /// `C_{l,m}` at index `l·L + m`: `chunk × k_l·k_m`.
    pub(super) c: Vec<Vec<f64>>,
    /// GEMM operands (`chunk × cols`), sized for the largest block.
    pub(super) x: Aligned,
    pub(super) y: Aligned,
    /// Scratch for the `M` recursion and `C` products.
    pub(super) t: Aligned,
    /// The `e × e` Gram matrix of a one-unit layer's diagonal block.
    pub(super) gram: Vec<f64>,
}

impl HessianWorkspace {
    pub(super) fn new(layouts: &[LayerLayout], chunk: usize) -> Self {
        let depth = layouts.len();
        let npairs = |k: usize| k * (k + 1) / 2;
        let diag = layouts
            .iter()
            .map(|l| vec![0.0; npairs(l.rows) * npairs(l.ext_cols())])
            .collect();
        let mut cross = vec![Vec::new(); depth * depth];
        let mut cross2 = vec![Vec::new(); depth * depth];
        let mut c = vec![Vec::new(); depth * depth];
        let mut max_x = 0usize;
        let mut max_y = 0usize;
        let mut max_t = 0usize;
        let mut max_e = 0usize;
        for (l, ll) in layouts.iter().enumerate() {
            max_x = max_x.max(npairs(ll.rows));
            // Pair columns, or the Gram operands of a one-unit layer (2e columns).
            max_y = max_y.max(npairs(ll.ext_cols())).max(2 * ll.ext_cols());
            max_e = max_e.max(ll.ext_cols());
            if l + 1 < depth {
                // …and the two per-unit vectors of the outer-product case (k_{l+1} = 1).
                max_t = max_t.max(layouts[l + 1].rows * ll.rows).max(2 * ll.rows);
            }
            for (m, lm) in layouts.iter().enumerate().take(l) {
                cross[l * depth + m] = vec![0.0; ll.rows * lm.rows * ll.ext_cols() * lm.ext_cols()];
                let inner = if m + 1 == l { 1 } else { lm.rows };
                cross2[l * depth + m] = vec![0.0; ll.rows * ll.cols * inner * lm.ext_cols()];
                c[l * depth + m] = vec![0.0; chunk * ll.rows * lm.rows];
                max_x = max_x.max(ll.rows * lm.rows);
                max_y = max_y
                    .max(ll.ext_cols() * lm.ext_cols())
                    .max(ll.cols * inner * lm.ext_cols())
                    .max(ll.cols + lm.ext_cols());
                max_t = max_t.max(ll.cols);
            }
        }
        HessianWorkspace {
            diag,
            cross,
            cross2,
            m: layouts
                .iter()
                .map(|l| vec![0.0; chunk * l.rows * l.rows])
                .collect(),
            c,
            x: Aligned::zeros(chunk * max_x),
            y: Aligned::zeros(chunk * max_y),
            t: Aligned::zeros(chunk * max_t.max(1)),
            gram: vec![0.0; max_e * max_e],
        }
    }

    /// Adds another workspace's accumulators (the same layouts) into these.
    pub(super) fn add(&mut self, other: &HessianWorkspace) {
        let mine = self
            .diag
            .iter_mut()
            .chain(&mut self.cross)
            .chain(&mut self.cross2);
        let theirs = other.diag.iter().chain(&other.cross).chain(&other.cross2);
        for (a, b) in mine.zip(theirs) {
            a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
        }
    }

    pub(super) fn clear(&mut self) {
        for v in self
            .diag
            .iter_mut()
            .chain(&mut self.cross)
            .chain(&mut self.cross2)
        {
            v.fill(0.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Aligned;

    #[test]
    fn aligned_buffers_start_a_cache_line_and_hold_zeros() {
        for len in [0, 1, 7, 8, 513, 4096] {
            let mut b = Aligned::zeros(len);
            assert_eq!(b.len(), len);
            assert!(b.iter().all(|&v| v == 0.0));
            if len > 0 {
                assert_eq!(b.as_ptr() as usize % 64, 0, "len {len}");
            }
            b.iter_mut().for_each(|v| *v = 1.0);
            assert!(b.iter().all(|&v| v.to_bits() == 1f64.to_bits()));
        }
    }
}
