//! The matrix-free subproblems of [`TrSubproblem::Cg`](super::TrSubproblem::Cg): truncated
//! conjugate gradients ([`gradflow_solvers::steihaug`]) on Gauss–Newton products
//! ([`crate::net::gauss_newton`]), preconditioned by the Gauss–Newton matrix's diagonal blocks
//! of every unit's incoming parameters, `M = blockdiag(M_u)`
//! ([`Objective::gauss_newton_unit_blocks_into`]; the blocks of K-FAC's and of layer-wise
//! Gauss–Newton methods, here exact and per unit). With `M_u = L_u L_uᵀ` CG runs on
//! `L⁻¹ B L⁻ᵀ` in the variables `ŝ = Lᵀs`, so the trust region is the ellipsoid
//! `‖Lᵀs‖ = (sᵀMs)^{1/2} ≤ Δ` (Steihaug's preconditioned form). The blocks remove the
//! correlations of each unit's inputs (the digits' pixel Gram matrix has condition number
//! 7e6, 3e3 after a diagonal scaling), which a diagonal scaling leaves to CG.
//!
//! Measured on a digits student of 9 010 parameters (`experiments/training/tr-subproblem.md`):
//! after 120 s from its Adam end point, unpreconditioned CG ended at 1.7e-6, CG scaled by the
//! Gauss–Newton diagonal (MINPACK's scaling, Moré 1978) at 3.6e-7–4.2e-7, with the blocks at
//! 3.4e-8. Geodesic acceleration (its correction by a second, shifted CG solve) lost on the
//! same student and is not used. On the 97-parameter curved valley of the integration tests
//! the order is reversed (unpreconditioned best); the factorising paths serve that size.

use gradflow_solvers::steihaug::{CgStep, SteihaugCg};

use super::TrSubproblem;
use crate::error::Result;
use crate::monitor::{Monitor, StopReason};
use crate::net::Objective;
use crate::net::gauss_newton::{GaussNewtonProducts, unit_parameters};

/// Values of the stored CG path (64 MiB): steps cut back beyond it take a new solve.
const PATH_VALUES: usize = 1 << 23;

/// Smallest block scale relative to the largest (units without curvature, e.g. dead neurons,
/// would otherwise get unbounded steps), and the relative ridge of every block.
const SCALE_FLOOR: f64 = 1e-8;
const RIDGE: f64 = 1e-10;

/// GiB the matrix-free subproblems hold for `spec` on `n_samples` samples: the per-unit
/// blocks and their factors (`2·Σ_u dim_u²`), the linearisation (activations, derivatives,
/// tangents and backward buffers, `≈ 4·N·Σ_l k_l`, and the output curvature `N·k_L²`), the CG
/// path and a few parameter vectors. What [`RefineConfig::check_problem`](super::RefineConfig::check_problem)
/// holds against `refine.max_memory_gib`.
pub(crate) fn matrix_free_gib(spec: &crate::net::NetSpec, n_samples: usize) -> f64 {
    let blocks: usize = unit_parameters(spec)
        .iter()
        .map(|u| u.len() * u.len())
        .sum();
    let units: usize = (1..=spec.depth()).map(|l| spec.width(l)).sum();
    let k = spec.output_dim();
    let n = spec.n_params();
    let values = 2.0 * blocks as f64
        + n_samples as f64 * (4.0 * units as f64 + (k * k) as f64)
        + PATH_VALUES.min(n.saturating_mul(TrSubproblem::CG_MAX_PRODUCTS + 1)) as f64
        + 8.0 * n as f64;
    8.0 * values / crate::memory::GIB
}

/// Buffers of the matrix-free subproblems (see the module docs).
pub(super) struct MatrixFree {
    /// The step's CG, with its path kept for cut-backs.
    cg: SteihaugCg,
    products: GaussNewtonProducts,
    blocks: UnitBlocks,
    /// Preconditioned gradient `ĝ = L⁻¹g` and step `ŝ`.
    g_hat: Vec<f64>,
    s_hat: Vec<f64>,
}

impl MatrixFree {
    pub(super) fn new(obj: &Objective<'_>) -> Result<Self> {
        let n = obj.n_params();
        Ok(MatrixFree {
            cg: SteihaugCg::new(n, PATH_VALUES / n.max(1)),
            products: GaussNewtonProducts::new(obj)?,
            blocks: UnitBlocks::new(obj.spec()),
            g_hat: vec![0.0; n],
            s_hat: vec![0.0; n],
        })
    }

    /// Loss and gradient of the mean loss at `x` (into `g`), the linearisation and the
    /// preconditioner there; recorded like [`super::model_at`].
    pub(super) fn linearise(
        &mut self,
        obj: &mut Objective<'_>,
        monitor: &mut Monitor,
        x: &[f64],
        g: &mut [f64],
        iteration: usize,
    ) -> std::result::Result<f64, StopReason> {
        let loss = super::linearised_at(obj, monitor, x, g, &mut self.products, iteration)?;
        self.blocks.factor(obj, &mut self.products);
        self.blocks.inv_l(g, &mut self.g_hat);
        Ok(loss)
    }

    /// The subproblem of (preconditioned) radius `delta` into `step`; the products taken are
    /// counted as gradient evaluations.
    pub(super) fn solve(
        &mut self,
        obj: &Objective<'_>,
        monitor: &mut Monitor,
        delta: f64,
        step: &mut [f64],
    ) -> CgStep {
        let MatrixFree {
            cg,
            products,
            blocks,
            g_hat,
            s_hat,
        } = self;
        let r = cg.solve(
            |v, out| blocks.product(obj, products, v, out),
            g_hat,
            delta,
            TrSubproblem::CG_TOLERANCE,
            TrSubproblem::CG_MAX_PRODUCTS,
            s_hat,
        );
        monitor.counters.gradient_evals += r.products;
        self.blocks.inv_lt(&self.s_hat, step);
        r
    }

    /// The last solve's step cut back to the (preconditioned) radius `delta` along its CG
    /// path, or a new solve where the path does not reach that far.
    pub(super) fn shrink(
        &mut self,
        obj: &Objective<'_>,
        monitor: &mut Monitor,
        delta: f64,
        step: &mut [f64],
    ) -> CgStep {
        match self.cg.truncate(delta, &mut self.s_hat) {
            Some(cut) => {
                self.blocks.inv_lt(&self.s_hat, step);
                cut
            }
            None => self.solve(obj, monitor, delta, step),
        }
    }
}

/// Per-unit diagonal blocks of the Gauss–Newton matrix, factorised `M_u = L_u L_uᵀ`
/// ([`Objective::gauss_newton_unit_blocks_into`]): the preconditioner `M = blockdiag(M_u)`.
/// Frozen parameters get identity rows and columns, so `L⁻ᵀ` never moves them.
struct UnitBlocks {
    units: Vec<Vec<usize>>,
    /// The blocks (scaled to the mean loss), then their factors (column-major, concatenated).
    raw: Vec<f64>,
    factors: Vec<f64>,
    /// Scratch: a parameter vector and one unit's values.
    x: Vec<f64>,
    tmp: Vec<f64>,
}

impl UnitBlocks {
    fn new(spec: &crate::net::NetSpec) -> Self {
        UnitBlocks {
            units: unit_parameters(spec),
            raw: Vec::new(),
            factors: Vec::new(),
            x: vec![0.0; spec.n_params()],
            tmp: Vec::new(),
        }
    }

    fn factor(&mut self, obj: &Objective<'_>, products: &mut GaussNewtonProducts) {
        obj.gauss_newton_unit_blocks_into(products, &mut self.raw);
        let frozen = &obj.frozen_mask;
        let scale = obj.mean_scale();
        let mut offset = 0;
        let mut largest = 0.0f64;
        for idx in &self.units {
            let dim = idx.len();
            let tr: f64 = (0..dim).map(|i| self.raw[offset + i * dim + i]).sum();
            largest = largest.max(tr * scale / dim as f64);
            offset += dim * dim;
        }
        let floor = SCALE_FLOOR * largest;
        self.factors.resize(self.raw.len(), 0.0);
        let mut offset = 0;
        for idx in &self.units {
            let dim = idx.len();
            let blk = &mut self.raw[offset..offset + dim * dim];
            blk.iter_mut().for_each(|v| *v *= scale);
            for (i, &p) in idx.iter().enumerate() {
                if frozen.get(p).copied().unwrap_or(false) {
                    for j in 0..dim {
                        blk[i * dim + j] = 0.0;
                        blk[j * dim + i] = 0.0;
                    }
                    blk[i * dim + i] = 1.0;
                }
            }
            let tr: f64 = (0..dim).map(|i| blk[i * dim + i]).sum::<f64>() / dim as f64;
            let mut ridge = RIDGE * tr + floor.max(f64::MIN_POSITIVE);
            if !blk.iter().all(|v| v.is_finite()) || !ridge.is_finite() {
                // Non-finite curvature (the refiner stops on the loss): no preconditioning.
                blk.fill(0.0);
                ridge = 1.0;
            }
            loop {
                let mut m = faer::Mat::<f64>::from_fn(dim, dim, |r, c| blk[c * dim + r]);
                for i in 0..dim {
                    m[(i, i)] += ridge;
                }
                if let Some(l) = crate::dense::cholesky_lower(m.as_ref()) {
                    // `l` is lower triangular (its upper triangle zero).
                    for c in 0..dim {
                        for r in 0..dim {
                            self.factors[offset + c * dim + r] = l[(r, c)];
                        }
                    }
                    break;
                }
                // Rounding can leave a semidefinite block indefinite: more ridge (the
                // identity-scaled block is positive definite at the latest by ridge ≥ ‖block‖).
                ridge *= 100.0;
            }
            offset += dim * dim;
        }
    }

    /// `out = L⁻¹ v` per unit.
    fn inv_l(&mut self, v: &[f64], out: &mut [f64]) {
        let mut offset = 0;
        for idx in &self.units {
            let dim = idx.len();
            let l = &self.factors[offset..offset + dim * dim];
            self.tmp.clear();
            self.tmp.extend(idx.iter().map(|&p| v[p]));
            for i in 0..dim {
                let mut t = self.tmp[i];
                for j in 0..i {
                    t -= l[j * dim + i] * self.tmp[j];
                }
                self.tmp[i] = t / l[i * dim + i];
            }
            for (k, &p) in idx.iter().enumerate() {
                out[p] = self.tmp[k];
            }
            offset += dim * dim;
        }
    }

    /// `out = L⁻ᵀ v` per unit.
    fn inv_lt(&mut self, v: &[f64], out: &mut [f64]) {
        let mut offset = 0;
        let tmp = &mut self.tmp;
        for idx in &self.units {
            let dim = idx.len();
            let l = &self.factors[offset..offset + dim * dim];
            tmp.clear();
            tmp.extend(idx.iter().map(|&p| v[p]));
            for i in (0..dim).rev() {
                let mut t = tmp[i];
                for j in i + 1..dim {
                    t -= l[i * dim + j] * tmp[j];
                }
                tmp[i] = t / l[i * dim + i];
            }
            for (k, &p) in idx.iter().enumerate() {
                out[p] = tmp[k];
            }
            offset += dim * dim;
        }
    }

    /// `out = L⁻¹ B L⁻ᵀ v` for the mean loss.
    fn product(
        &mut self,
        obj: &Objective<'_>,
        products: &mut GaussNewtonProducts,
        v: &[f64],
        out: &mut [f64],
    ) {
        let mut x = std::mem::take(&mut self.x);
        self.inv_lt(v, &mut x);
        obj.gauss_newton_product_into(products, &x, out);
        let scale = obj.mean_scale();
        out.iter_mut().for_each(|o| *o *= scale);
        x.copy_from_slice(out);
        self.inv_l(&x, out);
        self.x = x;
    }
}
