//! One training run — gradient flow, then refinement — and its record (SPEC §6).

use serde::{Deserialize, Serialize};

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::flow::{FlowConfig, FlowEvent, FlowResult, Integrator, run_flow_watched};
use crate::landscape::{CertifyOptions, EndState, Jump, OnChannel, certify, detect_channel, jump};
use crate::monitor::{ProgressPoint, StopReason, TrajectoryPoint};
use crate::net::{
    Activation, Dataset, Init, LayerSpec, Loss, NetSpec, Network, Objective, Regularisers,
    population::PopulationOptions,
};
use crate::observe::{Event, RunId, Stage, Watch};
use crate::optim::{RefineConfig, RefineResult, Refiner, refine_watched};
use crate::rng::Stream;

pub use crate::monitor::PhaseOutcome;

/// The method of a phase: an integrator (phase 1) or a refiner (phase 2), written by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Method {
    /// A gradient-flow integrator.
    Flow(Integrator),
    /// A refinement method.
    Refine(Refiner),
}

/// Per-phase summary in the record: the method and how the phase ended (one flat JSON object:
/// `{"method": "rodas5p", "stop": …, "loss": …, "gnorm": …, "counters": …, "wall": …}`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PhaseRecord {
    /// The method.
    pub method: Method,
    /// How it ended.
    #[serde(flatten)]
    pub outcome: PhaseOutcome,
}

/// The record of one training run (SPEC §6); written as JSON, one file per seed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// gradflow version that produced the record.
    pub gradflow_version: String,
    /// Student seed.
    pub seed: u64,
    /// Student architecture.
    pub network: NetSpec,
    /// Architecture as `d-k1-…-kL`.
    pub shape: String,
    /// Loss function.
    pub loss_kind: Loss,
    /// Initial parameters.
    pub init: Vec<f64>,
    /// Best parameters of the gradient flow.
    pub ode_x: Vec<f64>,
    /// Best parameters overall.
    pub x: Vec<f64>,
    /// Final mean loss.
    #[serde(deserialize_with = "crate::io::non_finite::f64_or_nan")]
    pub loss: f64,
    /// Mean loss after the gradient flow.
    #[serde(deserialize_with = "crate::io::non_finite::f64_or_nan")]
    pub ode_loss: f64,
    /// ODE time the gradient flow reached (infinite once a converged flow's steps overflow the
    /// time axis; NaN, and not written, for records from before this field).
    #[serde(
        default = "crate::io::non_finite::nan",
        deserialize_with = "crate::io::non_finite::f64_or_infinity",
        skip_serializing_if = "crate::io::non_finite::is_nan"
    )]
    pub ode_t: f64,
    /// ∞-norm of the mean gradient at `x`.
    #[serde(deserialize_with = "crate::io::non_finite::f64_or_nan")]
    pub gnorm: f64,
    /// Root-mean-square error at `x` (MSE only).
    pub rmse: Option<f64>,
    /// Gradient-flow phase.
    pub ode: PhaseRecord,
    /// Refinement phase.
    pub optim: PhaseRecord,
    /// Total wall time (s).
    pub total_time: f64,
    /// Gradient-flow trajectory (log-spaced in ODE time).
    pub trajectory: Vec<TrajectoryPoint>,
    /// Loss curve of the refinement.
    pub loss_curve: Vec<TrajectoryPoint>,
    /// The run's progress curve: the best loss of the run so far against the wall time since
    /// the run started and the work counters of both phases added up, with points by loss level
    /// and by time ([`ProgressPoint`]); benchmarks read time-to-target from it. Empty in
    /// records written before gradflow kept it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub progress: Vec<ProgressPoint>,
    /// Solver failures and fallbacks of the gradient flow.
    pub events: Vec<FlowEvent>,
    /// The gradient-flow options of the run (absent in records written before gradflow
    /// recorded them: then read from `config.flow`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flow: Option<FlowConfig>,
    /// The refinement options of the run (as `flow`, else `config.refine`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refine: Option<RefineConfig>,
    /// The regularisers of the objective, when there were any (the losses above then include
    /// them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regularisers: Option<Regularisers>,
    /// Mean loss of the data alone at `x`, when there were regularisers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_loss: Option<f64>,
    /// The jump along a channel at the flow's end (`on_channel = jump`, when one was found).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_jump: Option<Jump>,
    /// What the run ended at, with the evidence (absent in records written before gradflow
    /// certified end states, and when [`TrainOptions::certify`] is `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_state: Option<EndState>,
    /// The full configuration that produced the run (provenance).
    pub config: serde_json::Value,
}

impl RunRecord {
    /// The run's identity, by which a saved run is recognised and reused: `None` when the
    /// record holds no readable flow and refinement options.
    pub fn key(&self) -> Option<RunKey> {
        fn sub<T: serde::de::DeserializeOwned>(config: &serde_json::Value, k: &str) -> Option<T> {
            serde_json::from_value(config.get(k)?.clone()).ok()
        }
        let mut flow: FlowConfig = self.flow.clone().or_else(|| sub(&self.config, "flow"))?;
        let mut refine: RefineConfig = self
            .refine
            .clone()
            .or_else(|| sub(&self.config, "refine"))?;
        // Methods chosen by size: the ones the run started with (defaults change between
        // versions; a run of another method is another run).
        if let (None, Method::Flow(i)) = (flow.integrator, self.ode.method) {
            flow.integrator = Some(i);
        }
        if let (None, Method::Refine(r)) = (refine.refiner, self.optim.method) {
            refine.refiner = Some(r);
        }
        flow.jacobian_samples = Some(flow.jacobian_samples_for(self.init.len()));
        Some(RunKey {
            network: self.network.clone(),
            init_bits: self.init.iter().map(|v| v.to_bits()).collect(),
            seed: self.seed,
            flow,
            refine,
        })
    }

    /// Whether either phase ended through the cancellation flag.
    pub fn was_interrupted(&self) -> bool {
        self.ode.outcome.stop == StopReason::Interrupted
            || self.optim.outcome.stop == StopReason::Interrupted
    }
}

/// What makes two training runs the same run: architecture, initial point (bit for bit), seed,
/// and the options of both phases.
#[derive(Clone, Debug, PartialEq)]
pub struct RunKey {
    /// The architecture.
    pub network: NetSpec,
    /// The initial point's bits.
    pub init_bits: Vec<u64>,
    /// The seed.
    pub seed: u64,
    /// Gradient-flow options.
    pub flow: FlowConfig,
    /// Refinement options.
    pub refine: RefineConfig,
}

impl RunKey {
    /// The key of a run from `x0` with these options.
    pub fn new(
        network: &NetSpec,
        x0: &[f64],
        seed: u64,
        flow: &FlowConfig,
        refine: &RefineConfig,
    ) -> Self {
        // Methods left to the size default are keyed by the method they resolve to.
        let (integrator, refiner) = resolved_methods(flow, refine, x0.len());
        let (mut flow, mut refine) = (flow.clone(), refine.clone());
        flow.integrator = Some(integrator);
        flow.jacobian_samples = Some(flow.jacobian_samples_for(x0.len()));
        refine.refiner = Some(refiner);
        RunKey {
            network: network.clone(),
            init_bits: x0.iter().map(|v| v.to_bits()).collect(),
            seed,
            flow,
            refine,
        }
    }
}

/// The training problem: an architecture, data, a loss and, optionally, a mask of parameters
/// held at their initial values (`true` = frozen, see [`Objective::with_frozen`]).
#[derive(Clone, Copy, Debug)]
pub struct TrainProblem<'a> {
    /// The student architecture.
    pub spec: &'a NetSpec,
    /// The data.
    pub data: &'a Dataset,
    /// The loss.
    pub loss: Loss,
    /// Frozen parameters, if any.
    pub frozen: Option<&'a [bool]>,
    /// The infinite-data objective against this teacher instead of the data
    /// ([`Objective::population`]; `data` is then unused). Build with
    /// [`TrainProblem::infinite`].
    pub infinite: Option<(&'a Network, &'a PopulationOptions)>,
}

/// The data of an infinite-data problem: never read.
static NO_DATA: std::sync::LazyLock<Dataset> = std::sync::LazyLock::new(|| {
    Dataset::from_row_major(&[0.0], 1, &[0.0], 1).expect("a one-point data set")
});

impl<'a> TrainProblem<'a> {
    /// A problem with the loss that fits the output layer ([`Loss::for_spec`]) and nothing
    /// frozen.
    pub fn new(spec: &'a NetSpec, data: &'a Dataset) -> Self {
        TrainProblem {
            spec,
            data,
            loss: Loss::for_spec(spec),
            frozen: None,
            infinite: None,
        }
    }

    /// The infinite-data problem of `spec` against `teacher` under `x ~ N(0, I_d)`
    /// ([`Objective::population`]): flows, refiners, certificates and records work as on data;
    /// the flow's time axis is that of the mean loss.
    ///
    /// ```
    /// use gradflow::net::{LayerSpec, NetSpec, Activation, population::PopulationOptions};
    /// use gradflow::train::{TrainOptions, TrainProblem, train_seeds};
    /// let teacher = gradflow::teacher::TeacherConfig::paper(2, 1, 0).build()?;
    /// let opts = PopulationOptions::default();
    /// let problem = TrainProblem::infinite(&teacher.spec, &teacher, &opts);
    /// let mut o = TrainOptions::default();
    /// (o.flow.maxtime_ode, o.refine.maxtime_optim) = (5.0, 5.0);
    /// let runs = train_seeds(&problem, &[0], &o, Some(1), &gradflow::observe::Watch::silent())?;
    /// let rec = runs[0].1.as_ref().unwrap();
    /// assert!(rec.gnorm < 1e-8, "{}", rec.gnorm);
    /// # Ok::<(), gradflow::Error>(())
    /// ```
    pub fn infinite(spec: &'a NetSpec, teacher: &'a Network, opts: &'a PopulationOptions) -> Self {
        TrainProblem {
            spec,
            data: &NO_DATA,
            loss: Loss::Mse,
            frozen: None,
            infinite: Some((teacher, opts)),
        }
    }

    fn objective(&self, reg: &Regularisers, threads: usize) -> Result<Objective<'a>> {
        let o = match self.infinite {
            Some((teacher, popts)) => Objective::population(self.spec, teacher, popts)?,
            None => Objective::new(self.spec, self.data, self.loss)?,
        }
        .with_regularisers(reg)?
        .with_threads(threads)?;
        match self.frozen {
            Some(m) => o.with_frozen(m),
            None => Ok(o),
        }
    }
}

/// The options of a training run: both phases, the initialisation and seed, and what the
/// record keeps.
///
/// ```
/// use gradflow::train::TrainOptions;
/// let o = TrainOptions::default();
/// assert_eq!((o.flow.maxtime_ode, o.refine.maxtime_optim), (180.0, 120.0));
/// assert_eq!((o.seed, o.init), (0, gradflow::net::Init::GlorotNormal));
/// assert!(o.provenance.is_null());
/// assert_eq!(o.certify, Some(gradflow::landscape::CertifyOptions::default()));
/// assert_eq!(o.eval_threads, 1);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct TrainOptions {
    /// Phase 1, the gradient flow.
    pub flow: FlowConfig,
    /// Phase 2, the refinement.
    pub refine: RefineConfig,
    /// The initialisation of [`train_seeds`] (each seed draws from its own stream).
    pub init: Init,
    /// The seed stored in the record of [`train`] (an explicit initial point is given there).
    pub seed: u64,
    /// Stored verbatim in the record's `config`, e.g. the command line's whole configuration.
    pub provenance: serde_json::Value,
    /// The end-state certificate's thresholds (`None`: no certificate in the record; channels
    /// are then detected with the default thresholds).
    pub certify: Option<CertifyOptions>,
    /// What to do when the flow ends in a channel to infinity (checked once, at the flow's
    /// end, with [`detect_channel`]).
    pub on_channel: OnChannel,
    /// Regularisers added to the objective of both phases (and the certificate).
    pub regularisers: Regularisers,
    /// Threads of each loss, gradient and Hessian evaluation ([`Objective::with_threads`]:
    /// blocks of samples, or the pair integrals of the infinite-data objective; default 1).
    /// For one large run: many runs are better spread over [`train_seeds`]' `threads`, one
    /// run each. Inside `train_seeds` the blocks are tasks of its pool, so `threads` bounds
    /// the cores used either way. Results agree with one thread to round-off (a long flow may
    /// still end elsewhere).
    pub eval_threads: usize,
}

/// Most halvings of the pair distance in one [`jump`] at the flow's end (a factor 2¹⁰ ≈ 10³
/// nearer the channel's limit).
pub const JUMP_HALVINGS: usize = 10;

/// A jump keeps the most halvings whose loss stays within this multiple of the loss at the
/// flow's end (measured on the demo's channel seeds: ten unconditional halvings raised it up
/// to 10⁷-fold, and the refinement did not recover in the same budget; on
/// `Problem::channel` ten halvings raise it 2.3-fold and the refinement then gains 10⁵).
pub const JUMP_MAX_LOSS_RATIO: f64 = 10.0;

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            flow: FlowConfig::default(),
            refine: RefineConfig::default(),
            init: Init::default(),
            seed: 0,
            provenance: serde_json::Value::Null,
            certify: Some(CertifyOptions::default()),
            on_channel: OnChannel::Continue,
            regularisers: Regularisers::default(),
            eval_threads: 1,
        }
    }
}

impl TrainOptions {
    /// Checks the options for `problem` before any work: the flow's tolerances and budget,
    /// the refiner against the problem's size (and memory), the certificate's thresholds and
    /// `eval_threads`. [`train`] and [`train_seeds`] call it first.
    ///
    /// # Errors
    /// [`Error::Invalid`] naming the field, e.g. `flow.maxtime_ode`.
    pub fn check(&self, problem: &TrainProblem<'_>) -> Result<()> {
        self.flow.check()?;
        self.refine
            .check_problem(problem.spec, problem.data.n_samples())?;
        if let Some(c) = &self.certify {
            c.check()?;
        }
        if self.eval_threads == 0 {
            return Err(Error::invalid("eval_threads", "must be at least 1"));
        }
        Ok(())
    }
}

/// Whether `rec` is the finished run that [`train`] would do now from `x0` with `opts` on
/// `problem`: the same [`RunKey`] (architecture, initial point, seed, both phases' options)
/// and regularisers, not interrupted, and its loss reproduced by its parameters on the
/// problem's objective (so the data are the same too). A caller resuming a batch of runs
/// reuses such records instead of training again.
pub fn reproduces(
    rec: &RunRecord,
    problem: &TrainProblem<'_>,
    x0: &[f64],
    opts: &TrainOptions,
) -> bool {
    let same_key = |refine: &RefineConfig| {
        rec.key().as_ref()
            == Some(&RunKey::new(
                problem.spec,
                x0,
                opts.seed,
                &opts.flow,
                refine,
            ))
    };
    // `on_channel = stop` records the refinement it ran: budget 0 when a channel stopped it.
    let skipped = RefineConfig {
        maxtime_optim: 0.0,
        ..opts.refine.clone()
    };
    let key_matches =
        same_key(&opts.refine) || (opts.on_channel == OnChannel::Stop && same_key(&skipped));
    if !key_matches
        || rec.was_interrupted()
        || rec.regularisers.clone().unwrap_or_default() != opts.regularisers
    {
        return false;
    }
    // A certificate cut short by a late interruption (no spectrum although the run is small
    // enough for one) is not a finished record either.
    if let (Some(c), Some(e)) = (&opts.certify, &rec.end_state)
        && e.kind == crate::landscape::EndKind::Stationary
        && e.lambda_min.is_none()
        && rec.x.len() <= c.spectrum_max_params
    {
        return false;
    }
    let Ok(mut obj) = problem.objective(&opts.regularisers, 1) else {
        return false;
    };
    if rec.x.len() != obj.n_params() {
        return false;
    }
    let loss = obj.loss(&rec.x) * obj.mean_scale();
    // Relative agreement, with an absolute slack far below any loss that matters but above
    // the last-bit differences of a loss at round-off (~1e-30).
    (loss.is_nan() && rec.loss.is_nan()) || (loss - rec.loss).abs() <= 1e-8 * rec.loss.abs() + 1e-24
}

fn phase_of_flow(f: &FlowResult) -> PhaseRecord {
    PhaseRecord {
        method: Method::Flow(f.integrator),
        outcome: f.outcome,
    }
}

fn phase_of_refine(r: &RefineResult) -> PhaseRecord {
    PhaseRecord {
        method: Method::Refine(r.refiner),
        outcome: r.outcome,
    }
}

/// The run's progress curve from its phases' curves (started `flow_start` and `refine_start`
/// seconds into the run): run wall time, counters of both phases added up, and the best loss
/// of the run so far (a jump along a channel can start the refinement above the flow's best).
fn run_progress(
    f: &FlowResult,
    flow_start: f64,
    r: &RefineResult,
    refine_start: f64,
) -> Vec<ProgressPoint> {
    let c = f.outcome.counters;
    let flow = f.progress.iter().map(|p| ProgressPoint {
        wall: p.wall + flow_start,
        ..*p
    });
    let refine = r.progress.iter().map(|p| ProgressPoint {
        wall: p.wall + refine_start,
        loss_evals: p.loss_evals + c.loss_evals,
        gradient_evals: p.gradient_evals + c.gradient_evals,
        hessian_evals: p.hessian_evals + c.hessian_evals,
        ..*p
    });
    let mut best = f64::INFINITY;
    let mut out: Vec<ProgressPoint> = Vec::with_capacity(f.progress.len() + r.progress.len());
    for mut p in flow.chain(refine) {
        if p.loss.is_nan() || p.loss > best {
            p.loss = best;
        }
        best = p.loss;
        out.push(p);
    }
    out
}

/// Runs both phases from `x0` (SPEC §4–§6): the gradient flow, then the refinement from the
/// flow's best point. Every step is reported to `watch`; when its flag is cancelled the
/// running phase ends at its best point with
/// [`StopReason::Interrupted`] and the refinement is
/// skipped, so an interrupted run still returns its record.
pub fn train(
    problem: &TrainProblem<'_>,
    x0: &[f64],
    opts: &TrainOptions,
    watch: &Watch,
) -> Result<RunRecord> {
    let start = std::time::Instant::now();
    // Refinement options are checked before the flow spends its budget.
    opts.check(problem)?;
    let reg = &opts.regularisers;
    let flow_start = start.elapsed().as_secs_f64();
    let f = run_flow_watched(
        problem.objective(reg, opts.eval_threads)?,
        x0,
        &opts.flow,
        watch,
    )?;
    let mut obj = problem.objective(reg, opts.eval_threads)?;
    let mut refine_cfg = opts.refine.clone();
    let mut from = f.x.clone();
    let mut channel_jump = None;
    if opts.on_channel != OnChannel::Continue && !watch.is_cancelled() {
        let thresholds = opts.certify.clone().unwrap_or_default();
        if let Some(bundles) = detect_channel(&obj, &f.x, &f.trajectory, &thresholds)? {
            if opts.on_channel == OnChannel::Stop {
                refine_cfg.maxtime_optim = 0.0;
            } else {
                let j = jump(&mut obj, &f.x, &bundles, JUMP_HALVINGS, JUMP_MAX_LOSS_RATIO)?;
                from.copy_from_slice(&j.x);
                channel_jump = Some(j);
            }
        }
    }
    let refine_start = start.elapsed().as_secs_f64();
    let r = refine_watched(&mut obj, &from, &refine_cfg, watch)?;
    let progress = run_progress(&f, flow_start, &r, refine_start);
    // The refinement starts at the flow's best point, so its best is never worse — unless a
    // jump moved its start: then the better of the two is the run's result.
    let (x_best, loss_best, gnorm_best) = if r.outcome.loss <= f.outcome.loss {
        (&r.x, r.outcome.loss, r.outcome.gnorm)
    } else {
        (&f.x, f.outcome.loss, f.outcome.gnorm)
    };
    let scale = obj.mean_scale();
    let mut loss_sum = loss_best / scale;
    let mut data_loss = None;
    if !reg.is_empty() {
        // The record's loss is the regularised objective; the rmse is of the data alone.
        loss_sum = problem
            .objective(&Regularisers::default(), opts.eval_threads)?
            .loss(x_best);
        data_loss = Some(loss_sum * scale);
    }
    let spec = problem.spec;
    let end_state = match &opts.certify {
        Some(c) if !x_best.is_empty() => {
            // An interrupted run returns at once: its certificate skips the spectrum.
            let mut c = c.clone();
            if watch.is_cancelled() {
                c.spectrum_max_params = 0;
            }
            Some(certify(&mut obj, x_best, &f.trajectory, &c)?)
        }
        _ => None,
    };
    Ok(RunRecord {
        gradflow_version: env!("CARGO_PKG_VERSION").to_string(),
        seed: opts.seed,
        network: spec.clone(),
        shape: spec.shape_string(),
        loss_kind: problem.loss,
        init: x0.to_vec(),
        ode_x: f.x.clone(),
        x: x_best.clone(),
        loss: loss_best,
        ode_loss: f.outcome.loss,
        ode_t: f.t,
        gnorm: gnorm_best,
        rmse: obj.rmse_of(loss_sum),
        ode: phase_of_flow(&f),
        optim: phase_of_refine(&r),
        total_time: start.elapsed().as_secs_f64(),
        trajectory: f.trajectory,
        loss_curve: r.trajectory,
        progress,
        events: f.events,
        // The flow's options, with the Jacobian subset the size rule chose when unset.
        flow: Some(FlowConfig {
            jacobian_samples: Some(opts.flow.jacobian_samples_for(x0.len())),
            ..opts.flow.clone()
        }),
        // What ran: `on_channel = stop` skips the refinement (budget 0).
        refine: Some(refine_cfg.clone()),
        channel_jump,
        regularisers: (!reg.is_empty()).then(|| reg.clone()),
        data_loss,
        end_state,
        config: opts.provenance.clone(),
    })
}

/// Trains one run per seed, each from `opts.init` drawn on the seed's own stream, on `threads`
/// worker threads (`None`: all cores; one run per thread). Each finished run is reported to
/// `watch` as [`Event::RunDone`] (or [`Event::RunFailed`]) as soon as it exists; runs not yet
/// started when the flag is cancelled are not started (and are missing from the result).
pub fn train_seeds(
    problem: &TrainProblem<'_>,
    seeds: &[u64],
    opts: &TrainOptions,
    threads: Option<usize>,
    watch: &Watch,
) -> Result<Vec<(u64, Result<RunRecord>)>> {
    // Options wrong for every seed fail the call once, not each run.
    opts.check(problem)?;
    let pool = crate::parallel::pool(threads, "threads")?;
    let results = pool.install(|| {
        seeds
            .par_iter()
            .filter_map(|&seed| {
                if watch.is_cancelled() {
                    return None;
                }
                let run = RunId {
                    stage: Stage::Solve,
                    seed,
                };
                let w = watch.for_run(run);
                let x0 = opts.init.draw(problem.spec, &mut Stream::new(seed, 0));
                let o = TrainOptions {
                    seed,
                    ..opts.clone()
                };
                let r = train(problem, &x0, &o, &w);
                match &r {
                    Ok(record) => w.emit(&Event::RunDone { run, record }),
                    Err(error) => w.emit(&Event::RunFailed { run, error }),
                }
                Some((seed, r))
            })
            .collect()
    });
    Ok(results)
}

/// The student architecture for `data`: hidden widths `layers`, or one hidden layer of
/// `width`, or `rho` times the teacher's first hidden width (default ρ = 4), all with the
/// hidden activation `activation` and an identity output layer.
pub fn student_for(
    data: &Dataset,
    teacher: Option<&Network>,
    layers: Option<&[usize]>,
    width: Option<usize>,
    rho: Option<usize>,
    activation: &Activation,
) -> Result<NetSpec> {
    let teacher_hidden = teacher
        .filter(|t| t.spec.depth() >= 2)
        .map(|t| t.spec.layers[0].width);
    let hidden: Vec<usize> = match (layers, width, rho) {
        (Some(l), _, _) => l.to_vec(),
        (None, Some(w), _) => vec![w],
        (None, None, rho) => {
            let r = teacher_hidden.ok_or_else(|| {
                Error::invalid(
                    "student",
                    "give a width or hidden layers (ρ needs a teacher)",
                )
            })?;
            vec![r * rho.unwrap_or(4)]
        }
    };
    if hidden.is_empty() || hidden.contains(&0) {
        return Err(Error::invalid("student", "hidden widths must be positive"));
    }
    if activation.is_softmax() {
        return Err(Error::invalid(
            "activation",
            "softmax is not a hidden activation",
        ));
    }
    let mut specs: Vec<LayerSpec> = hidden
        .iter()
        .map(|&w| LayerSpec::new(w, activation.clone()))
        .collect();
    specs.push(LayerSpec::new(data.output_dim(), Activation::Identity));
    NetSpec::new(data.input_dim(), specs)
}

/// The methods a configuration resolves to for `n` parameters.
pub fn resolved_methods(
    flow: &FlowConfig,
    refine_cfg: &RefineConfig,
    n: usize,
) -> (Integrator, Refiner) {
    (
        flow.integrator
            .unwrap_or_else(|| Integrator::default_for(n)),
        refine_cfg
            .refiner
            .unwrap_or_else(|| Refiner::default_for(n)),
    )
}
