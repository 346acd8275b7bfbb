//! The objective: loss, gradient and Hessian of a network on a data set.
//!
//! An [`Objective`] owns the architecture, borrows the data and owns every buffer it needs, so
//! repeated evaluations allocate nothing: the `*_into` methods do the work, the allocating twins
//! wrap them. Samples are processed in chunks (forward GEMMs, fused activation kernels, backward
//! GEMMs), so memory grows with the chunk, never with `N·P`. One evaluation runs on one thread
//! unless [`Objective::with_threads`] asks for more (each extra thread then holds its own chunk
//! buffers and, for Hessians, its own `P²`-sized accumulators); many runs are parallelised by the
//! caller, over seeds.
//!
//! Conventions (SPEC §3): the methods return and differentiate the **sum** loss
//! `L_sum = Σ_i w_i φ_i` (plus the regularisers, [`Objective::with_regularisers`]);
//! [`Objective::mean_scale`] converts to the reported mean loss.

use std::borrow::Cow;

use super::data::Dataset;
use super::loss::Loss;
use super::network::Network;
pub(crate) use super::pass::add_layer_gradient;
use super::pass::{Pass, RowBlocks, Worker, fan_out};
use super::population::{Population, PopulationOptions};
use super::regulariser::Regularisers;
use super::spec::{LayerLayout, NetSpec};
use super::workspace::{HessianWorkspace, Workspace};
pub(crate) use super::workspace::{cm, cm_mut};
use crate::error::{Error, Result};

/// Default number of samples per chunk for loss and gradient.
pub const DEFAULT_CHUNK: usize = 512;

/// Loss, gradient and Hessian of one architecture on one data set (see the module docs).
pub struct Objective<'a> {
    pub(crate) spec: NetSpec,
    pub(crate) layouts: Vec<LayerLayout>,
    pub(crate) data: Cow<'a, Dataset>,
    /// The infinite-data objective, when this is one ([`Objective::population`]); `data` is then
    /// a one-point placeholder.
    pub(crate) population: Option<Box<Population>>,
    pub(crate) loss: Loss,
    pub(crate) chunk: usize,
    pub(crate) ws: Workspace,
    pub(crate) hess: Option<HessianWorkspace>,
    /// Indices of frozen parameters (their gradient entries are zero, see
    /// [`Objective::with_frozen`]).
    pub(crate) frozen: Vec<usize>,
    /// `true` for frozen parameters (empty when none is).
    pub(crate) frozen_mask: Vec<bool>,
    /// Regularisers added to the sum loss (see [`Objective::with_regularisers`]).
    pub(crate) reg: Regularisers,
    /// The buffers of the threads beyond the caller's ([`Objective::with_threads`]).
    pub(crate) workers: Vec<Worker>,
}

impl<'a> Objective<'a> {
    /// An objective for `spec` on `data` with the given loss.
    ///
    /// Fails if the data's dimensions do not match the network, or the loss does not fit the
    /// output layer (NLL needs a softmax output layer; softmax is only supported with NLL).
    pub fn new(spec: &NetSpec, data: &'a Dataset, loss: Loss) -> Result<Self> {
        Self::with_data(spec, Cow::Borrowed(data), loss)
    }

    /// [`Objective::new`] on borrowed or owned data.
    fn with_data(spec: &NetSpec, data: Cow<'a, Dataset>, loss: Loss) -> Result<Self> {
        spec.validate()?;
        if data.input_dim() != spec.input_dim {
            return Err(Error::Shape {
                what: "x".into(),
                expected: format!("N × {} (the network's input dimension)", spec.input_dim),
                got: format!("{} × {}", data.n_samples(), data.input_dim()),
            });
        }
        if data.output_dim() != spec.output_dim() {
            return Err(Error::Shape {
                what: "y".into(),
                expected: format!("N × {} (the network's output dimension)", spec.output_dim()),
                got: format!("{} × {}", data.n_samples(), data.output_dim()),
            });
        }
        let softmax = spec
            .layers
            .last()
            .is_some_and(|l| l.activation.is_softmax());
        match (loss, softmax) {
            (Loss::Nll, false) => {
                return Err(Error::invalid("loss nll", "needs a softmax output layer"));
            }
            (Loss::Mse, true) => {
                return Err(Error::invalid(
                    "softmax output layer",
                    "is only supported with the nll loss",
                ));
            }
            _ => {}
        }
        let chunk = DEFAULT_CHUNK.min(data.n_samples()).max(1);
        Ok(Objective {
            layouts: spec.layouts(),
            ws: Workspace::new(spec, chunk),
            spec: spec.clone(),
            data,
            population: None,
            loss,
            chunk,
            hess: None,
            frozen: Vec::new(),
            frozen_mask: Vec::new(),
            reg: Regularisers::default(),
            workers: Vec::new(),
        })
    }

    /// The infinite-data objective of `spec` against `teacher` under `x ~ N(0, I_d)`:
    /// `L(θ) = E[(f_θ(x) − f*(x))²]`, the mean loss of SPEC §3 with infinite data, with its
    /// exact gradient and Hessian ([`Population`]; both networks `d → k → 1` with identity
    /// outputs and smooth hidden activations). Its sum loss *is* the mean loss
    /// ([`Objective::mean_scale`] is 1), so flows run on the time axis of sample losses
    /// (`dθ/dt = −∇L`, the mean; MLPGradientFlow.jl's `τ⁻¹ = 1/N`). Regularisers and frozen
    /// parameters apply as for samples; there are no samples to predict, so
    /// [`Objective::has_linear_output`] is `false` (no geodesic acceleration in `newton-tr`).
    ///
    /// ```
    /// use gradflow::net::{Init, Objective, population::PopulationOptions};
    /// use gradflow::teacher::TeacherConfig;
    /// let teacher = TeacherConfig::paper(2, 2, 0).build()?;
    /// let mut obj = Objective::population(&teacher.spec, &teacher, &PopulationOptions::default())?;
    /// // zero up to the round-off of the expanded form (module docs of `population`)
    /// assert!(obj.loss(&teacher.params).abs() < 1e-12);
    /// # Ok::<(), gradflow::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`Population::new`].
    pub fn population(
        spec: &NetSpec,
        teacher: &Network,
        opts: &PopulationOptions,
    ) -> Result<Objective<'static>> {
        let pop = Population::new(spec, teacher, opts)?;
        let d = spec.input_dim;
        let placeholder = Dataset::from_row_major(&vec![0.0; d], d, &[0.0], 1)?;
        Ok(Objective {
            layouts: spec.layouts(),
            ws: Workspace::new(spec, 1),
            spec: spec.clone(),
            data: Cow::Owned(placeholder),
            population: Some(Box::new(pop)),
            loss: Loss::Mse,
            chunk: 1,
            hess: None,
            frozen: Vec::new(),
            frozen_mask: Vec::new(),
            reg: Regularisers::default(),
            workers: Vec::new(),
        })
    }

    /// The smallest mean loss the objective resolves: 0 for sample losses (a sum of squares
    /// resolves ~1e-30), [`Population::loss_resolution`] for the infinite-data loss (a
    /// difference of terms that cancel at a global minimum).
    pub fn loss_resolution(&self) -> f64 {
        self.population
            .as_ref()
            .map_or(0.0, |p| p.loss_resolution())
    }

    /// The infinite-data objective inside, if this is one ([`Objective::population`]).
    pub fn as_population(&self) -> Option<&Population> {
        self.population.as_deref()
    }

    /// Adds regularisers to the objective: every loss, gradient and Hessian (and Gauss–Newton
    /// matrix) includes them, exactly (see [`Regularisers`]).
    ///
    /// # Errors
    /// If they do not fit the network (the error names the field).
    pub fn with_regularisers(mut self, reg: &Regularisers) -> Result<Self> {
        reg.check(&self.spec)?;
        self.reg = reg.clone();
        Ok(self)
    }

    /// The regularisers.
    pub fn regularisers(&self) -> &Regularisers {
        &self.reg
    }

    /// Adds the regularisers' value (returned), gradient and Hessian, scaled by `fraction` of
    /// the data (1 for the full sum loss, the batch's share for a mini-batch).
    pub(crate) fn add_regularisers(
        &self,
        params: &[f64],
        fraction: f64,
        grad: Option<&mut [f64]>,
        hess: Option<&mut [f64]>,
    ) -> f64 {
        if self.reg.is_empty() {
            return 0.0;
        }
        let n = self.data.effective_size() * fraction;
        self.reg.add(&self.layouts, n, params, grad, hess)
    }

    /// Freezes the parameters whose `mask` entry is `true`: their gradient entries are zero and
    /// their Hessian rows and columns are zero except the diagonal, which is set to the largest
    /// diagonal entry of the free block (so that no second-order method ever picks a frozen
    /// direction as a direction of low curvature). Gradient flows and refiners then leave those
    /// parameters exactly where they start. Used by deep Expand-and-Cluster to freeze a
    /// reconstructed layer.
    ///
    /// # Errors
    /// If `mask` does not have one entry per parameter.
    pub fn with_frozen(mut self, mask: &[bool]) -> Result<Self> {
        if mask.len() != self.spec.n_params() {
            return Err(Error::Length {
                what: "frozen-parameter mask".into(),
                expected: self.spec.n_params(),
                got: mask.len(),
            });
        }
        self.frozen = mask
            .iter()
            .enumerate()
            .filter_map(|(i, &f)| f.then_some(i))
            .collect();
        self.frozen_mask = mask.to_vec();
        Ok(self)
    }

    /// The same objective — loss, regularisers, frozen parameters, threads, chunk size — on the samples
    /// `rows` of its data (a copy it owns, in that order; sample weights follow their rows).
    /// Its sum loss covers only those rows: multiply by
    /// `self.data().effective_size() / sub.data().effective_size()` to estimate the full sum
    /// (the regularisers, scaled by the data size, follow the same factor).
    ///
    /// ```
    /// use gradflow::net::{Loss, Objective};
    /// let p = gradflow::reference::Problem::benchmark("4-16-1", 100)?;
    /// let full = Objective::new(&p.student, &p.data, Loss::Mse)?;
    /// let mut sub = full.on_rows(&[0, 2, 4])?;
    /// assert_eq!(sub.data().n_samples(), 3);
    /// assert!(sub.loss(&p.start).is_finite());
    /// # Ok::<(), gradflow::Error>(())
    /// ```
    ///
    /// # Errors
    /// For the infinite-data objective (it has no samples), an empty `rows`, or a row out of
    /// range.
    pub fn on_rows(&self, rows: &[usize]) -> Result<Objective<'static>> {
        if self.population.is_some() {
            return Err(Error::invalid(
                "rows",
                "the infinite-data objective has no samples to select",
            ));
        }
        let n = self.data.n_samples();
        if rows.is_empty() {
            return Err(Error::invalid("rows", "must not be empty"));
        }
        if let Some(r) = rows.iter().find(|&&r| r >= n) {
            return Err(Error::invalid(
                "rows",
                format!("row {r} is out of range for {n} samples"),
            ));
        }
        let data = self.data.select(rows)?;
        let sub = Objective::with_data(&self.spec, Cow::Owned(data), self.loss)?
            .with_chunk(self.chunk)
            .with_regularisers(&self.reg)?
            .with_threads(self.threads())?;
        if self.frozen_mask.is_empty() {
            Ok(sub)
        } else {
            sub.with_frozen(&self.frozen_mask)
        }
    }

    /// Zeroes the frozen entries of a gradient.
    #[inline]
    pub(crate) fn mask_gradient(&self, grad: &mut [f64]) {
        for &i in &self.frozen {
            grad[i] = 0.0;
        }
    }

    /// Sets the number of samples per chunk (results agree to round-off for any chunk size).
    pub fn with_chunk(mut self, chunk: usize) -> Self {
        self.chunk = chunk.clamp(1, self.data.n_samples().max(1));
        self.ws = Workspace::new(&self.spec, self.chunk);
        self.hess = None;
        self.workers = Worker::for_threads(&self.spec, self.chunk, self.threads());
        self
    }

    /// Evaluates the sample loss, its gradient and its Hessian (and Gauss–Newton matrix) on
    /// `threads` threads (default 1): the samples (or a mini-batch's rows) are cut into
    /// `threads` contiguous blocks of equal size, each evaluated chunk by chunk with its own
    /// buffers, and the blocks' sums are added in block order, so results are deterministic
    /// for a given thread count (and agree with one thread to round-off). The threads are tasks
    /// of the current [`rayon`] pool (the caller's pool when called inside one, e.g.
    /// [`crate::train::train_seeds`]); a range too short for blocks of 64 samples (or of one
    /// chunk, if smaller) each uses fewer. The infinite-data objective ([`Objective::population`])
    /// spreads its pair integrals over the threads instead (the same bits on any number of
    /// threads, [`Population::set_threads`]). Worth it for one large run (many samples, wide
    /// layers); many small runs are better parallelised over seeds. Each extra thread holds its
    /// own chunk buffers and, once a Hessian is asked for, its own `P²`-sized accumulators.
    /// Sequential still: [`Objective::predict`], [`Objective::output_vjp_into`] and the
    /// matrix-free Gauss–Newton products (`gauss_newton`), which the `lm`/`newton-tr` refiners
    /// use for geodesic acceleration and truncated CG.
    ///
    /// ```
    /// use gradflow::net::{Objective, Loss};
    /// let p = gradflow::reference::Problem::benchmark("4-16-1", 3000)?;
    /// let mut one = Objective::new(&p.student, &p.data, Loss::Mse)?;
    /// let mut two = Objective::new(&p.student, &p.data, Loss::Mse)?.with_threads(2)?;
    /// let ((l1, g1), (l2, g2)) = (one.gradient(&p.start), two.gradient(&p.start));
    /// assert!((l1 - l2).abs() <= 1e-12 * l1);
    /// assert!(g1.iter().zip(&g2).all(|(a, b)| (a - b).abs() <= 1e-12 * (1.0 + a.abs())));
    /// # Ok::<(), gradflow::Error>(())
    /// ```
    ///
    /// # Errors
    /// If `threads` is 0.
    pub fn with_threads(mut self, threads: usize) -> Result<Self> {
        if threads == 0 {
            return Err(Error::invalid("threads", "must be at least 1"));
        }
        self.workers = Worker::for_threads(&self.spec, self.chunk, threads);
        if let Some(pop) = self.population.as_mut() {
            pop.set_threads(threads);
        }
        Ok(self)
    }

    /// The number of threads of one evaluation ([`Objective::with_threads`]).
    pub fn threads(&self) -> usize {
        self.workers.len() + 1
    }

    /// The shared part of a pass and the caller's own buffers.
    pub(crate) fn pass_ws(&mut self) -> (Pass<'_>, &mut Workspace) {
        let (pass, ws, _) = self.parts();
        (pass, ws)
    }

    /// The shared part of a pass, the caller's own buffers and the other threads'.
    pub(crate) fn parts(&mut self) -> (Pass<'_>, &mut Workspace, &mut [Worker]) {
        (
            Pass {
                spec: &self.spec,
                layouts: &self.layouts,
                data: &self.data,
                loss: self.loss,
            },
            &mut self.ws,
            &mut self.workers,
        )
    }

    /// The architecture.
    pub fn spec(&self) -> &NetSpec {
        &self.spec
    }

    /// The data.
    pub fn data(&self) -> &Dataset {
        &self.data
    }

    /// The loss function.
    pub fn loss_kind(&self) -> Loss {
        self.loss
    }

    /// Number of parameters.
    pub fn n_params(&self) -> usize {
        self.spec.n_params()
    }

    /// `1 / N_eff`: multiply the sum loss (and its derivatives) by this to get the reported mean.
    pub fn mean_scale(&self) -> f64 {
        1.0 / self.data.effective_size()
    }

    /// Root-mean-square error `sqrt(L_sum / (N_eff·k))` of a sum loss (MSE only).
    pub fn rmse_of(&self, loss_sum: f64) -> Option<f64> {
        (self.loss == Loss::Mse).then(|| {
            (loss_sum.max(0.0) / (self.data.effective_size() * self.spec.output_dim() as f64))
                .sqrt()
        })
    }

    pub(crate) fn chunks(&self) -> impl Iterator<Item = (usize, usize)> + use<> {
        let (n, c) = (self.data.n_samples(), self.chunk);
        (0..n.div_ceil(c)).map(move |i| (i * c, c.min(n - i * c)))
    }

    /// Sum loss at `params`.
    ///
    /// # Panics
    /// If `params` has the wrong length (check with [`NetSpec::check_params`]).
    pub fn loss(&mut self, params: &[f64]) -> f64 {
        self.assert_len(params);
        if let Some(pop) = self.population.as_mut() {
            let l = pop.loss(params);
            return l + self.add_regularisers(params, 1.0, None, None);
        }
        let total = self.sum_blocks(params, 0..self.data.n_samples(), None);
        total + self.add_regularisers(params, 1.0, None, None)
    }

    /// The sum loss over `rows`, and its gradient added into `grad` when given, on
    /// [`Objective::threads`] threads.
    fn sum_blocks(
        &mut self,
        params: &[f64],
        rows: std::ops::Range<usize>,
        grad: Option<&mut [f64]>,
    ) -> f64 {
        let blocks = RowBlocks::new(rows, self.chunk, self.threads());
        let chunk = self.chunk;
        let (pass, ws, workers) = self.parts();
        let want_grad = grad.is_some();
        let work = |w: &mut Worker, r| {
            w.grad.fill(0.0);
            let g = want_grad.then_some(&mut w.grad[..]);
            w.loss = pass.block(&mut w.ws, params, r, chunk, g);
        };
        let mut grad = grad;
        let main = |r| pass.block(ws, params, r, chunk, grad.as_deref_mut());
        let (mut total, done) = fan_out(&blocks, workers, work, main);
        for w in done {
            total += w.loss;
            if let Some(g) = grad.as_deref_mut() {
                g.iter_mut().zip(&w.grad).for_each(|(a, b)| *a += b);
            }
        }
        total
    }

    /// Sum loss at `params`; writes its gradient into `grad`.
    ///
    /// # Panics
    /// If `params` or `grad` have the wrong length.
    pub fn gradient_into(&mut self, params: &[f64], grad: &mut [f64]) -> f64 {
        self.gradient_rows_into(params, grad, 0..self.data.n_samples())
    }

    /// Sum loss over the samples in `rows` (a mini-batch); writes its gradient into `grad`.
    ///
    /// # Panics
    /// If `params` or `grad` have the wrong length or `rows` is out of range.
    pub fn gradient_rows_into(
        &mut self,
        params: &[f64],
        grad: &mut [f64],
        rows: std::ops::Range<usize>,
    ) -> f64 {
        self.assert_len(params);
        self.assert_len(grad);
        assert!(rows.end <= self.data.n_samples(), "rows out of range");
        if let Some(pop) = self.population.as_mut() {
            // No samples: every batch is the population.
            let l = pop.gradient_into(params, grad);
            let total = l + self.add_regularisers(params, 1.0, Some(grad), None);
            self.mask_gradient(grad);
            return total;
        }
        grad.fill(0.0);
        let mut total = self.sum_blocks(params, rows.clone(), Some(grad));
        let fraction = rows.len() as f64 / self.data.n_samples() as f64;
        total += self.add_regularisers(params, fraction, Some(grad), None);
        self.mask_gradient(grad);
        total
    }

    /// Allocating twin of [`Objective::gradient_into`]: `(sum loss, gradient)`.
    pub fn gradient(&mut self, params: &[f64]) -> (f64, Vec<f64>) {
        let mut g = vec![0.0; self.n_params()];
        let l = self.gradient_into(params, &mut g);
        (l, g)
    }

    pub(crate) fn assert_len(&self, v: &[f64]) {
        assert_eq!(
            v.len(),
            self.spec.n_params(),
            "parameter vector length does not match the network"
        );
    }

    /// Forward pass over samples `i0..i0+n` with the objective's own buffers
    /// ([`Pass::forward`]).
    pub(crate) fn forward(&mut self, params: &[f64], i0: usize, n: usize, order: u8) {
        let (pass, ws) = self.pass_ws();
        pass.forward(ws, params, i0, n, order);
    }

    /// Loss of the chunk ([`Pass::output`]).
    pub(crate) fn output(&mut self, i0: usize, n: usize, curvature: bool) -> f64 {
        let (pass, ws) = self.pass_ws();
        pass.output(ws, i0, n, curvature)
    }

    /// Backward pass of the chunk ([`Pass::backward`]).
    pub(crate) fn backward(
        &mut self,
        params: &[f64],
        i0: usize,
        n: usize,
        grad: &mut [f64],
        keep_h: bool,
    ) {
        let (pass, ws) = self.pass_ws();
        pass.backward(ws, params, i0, n, grad, keep_h);
    }

    /// Network outputs for every sample (`N × k`, row-major), e.g. to write data sets.
    pub fn predict(&mut self, params: &[f64]) -> Vec<f64> {
        let mut out = vec![0.0; self.data.n_samples() * self.spec.output_dim()];
        self.predict_into(params, &mut out);
        out
    }

    /// [`Objective::predict`] into `out` (`N × k`, row-major).
    ///
    /// # Panics
    /// If `params` or `out` has the wrong length.
    pub fn predict_into(&mut self, params: &[f64], out: &mut [f64]) {
        self.assert_len(params);
        let k = self.spec.output_dim();
        assert_eq!(
            out.len(),
            self.data.n_samples() * k,
            "output buffer must hold N×k"
        );
        let last = self.spec.depth() - 1;
        for (i0, n) in self.chunks() {
            self.forward(params, i0, n, 0);
            let act = &self.spec.layers[last].activation;
            let z = &mut self.ws.a[last][..n * k];
            if act.is_softmax() {
                for s in 0..n {
                    let row = &mut out[(i0 + s) * k..(i0 + s + 1) * k];
                    for o in 0..k {
                        row[o] = z[s + n * o];
                    }
                    super::network::softmax_in_place(row);
                }
            } else {
                act.apply_in_place(z, None, None);
                for s in 0..n {
                    for o in 0..k {
                        out[(i0 + s) * k + o] = z[s + n * o];
                    }
                }
            }
        }
    }

    /// Whether [`Objective::output_vjp_into`] applies: the output layer is linear (identity).
    pub fn has_linear_output(&self) -> bool {
        self.population.is_none()
            && self.spec.layers[self.spec.depth() - 1].activation == super::Activation::Identity
    }

    /// Vector–Jacobian product with the network outputs: writes `Σ_i w_i Σ_o u_io ∂f_io/∂θ`
    /// into `grad` (`u` is `N × k`, row-major; `w_i` the per-sample weights, 1 without).
    /// Frozen parameters get zero. Requires a linear output layer
    /// ([`Objective::has_linear_output`]).
    ///
    /// # Panics
    /// If a buffer has the wrong length or the output layer is not linear.
    pub fn output_vjp_into(&mut self, params: &[f64], u: &[f64], grad: &mut [f64]) {
        self.assert_len(params);
        self.assert_len(grad);
        let k = self.spec.output_dim();
        assert_eq!(u.len(), self.data.n_samples() * k, "u must hold N×k values");
        assert!(
            self.has_linear_output(),
            "output_vjp_into needs a linear output layer"
        );
        let last = self.spec.depth() - 1;
        grad.fill(0.0);
        for (i0, n) in self.chunks() {
            self.forward(params, i0, n, 1);
            let w = self.data.weights().map(|w| &w[i0..i0 + n]);
            let g = &mut self.ws.g[last][..n * k];
            for s in 0..n {
                let ws = w.map_or(1.0, |w| w[s]);
                for o in 0..k {
                    g[s + n * o] = ws * u[(i0 + s) * k + o];
                }
            }
            self.backward(params, i0, n, grad, false);
        }
        self.mask_gradient(grad);
    }
}
