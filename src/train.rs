//! One training run — gradient flow, then refinement — and its record (SPEC §6).

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::flow::{FlowConfig, FlowEvent, FlowResult, Integrator, run_flow_with_progress};
use crate::monitor::{Counters, ProgressFn, StopReason, TrajectoryPoint};
use crate::net::{Dataset, Loss, NetSpec, Objective};
use crate::optim::{RefineConfig, RefineResult, Refiner, refine_with_progress};

/// Per-phase summary in the record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PhaseRecord {
    /// The method.
    pub method: String,
    /// Why the phase stopped.
    pub stop: StopReason,
    /// Mean loss at the end of the phase (best point).
    #[serde(deserialize_with = "crate::io::non_finite::f64_or_nan")]
    pub loss: f64,
    /// Gradient ∞-norm at that point.
    #[serde(deserialize_with = "crate::io::non_finite::f64_or_nan")]
    pub gnorm: f64,
    /// Work counters.
    pub counters: Counters,
    /// Wall time (s).
    pub wall: f64,
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
    /// Solver failures and fallbacks of the gradient flow.
    pub events: Vec<FlowEvent>,
    /// The full configuration that produced the run.
    pub config: serde_json::Value,
}

/// The file name of a method enum (its serde name).
fn method_name(m: impl Serialize) -> String {
    serde_json::to_value(m)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn phase_of_flow(f: &FlowResult) -> PhaseRecord {
    PhaseRecord {
        method: method_name(f.integrator),
        stop: f.stop,
        loss: f.loss,
        gnorm: f.gnorm,
        counters: f.counters,
        wall: f.wall,
    }
}

fn phase_of_refine(r: &RefineResult) -> PhaseRecord {
    PhaseRecord {
        method: method_name(r.refiner),
        stop: r.stop,
        loss: r.loss,
        gnorm: r.gnorm,
        counters: r.counters,
        wall: r.wall,
    }
}

/// Runs both phases from `x0`; `config` is stored verbatim in the record.
#[allow(clippy::too_many_arguments)]
pub fn train(
    spec: &NetSpec,
    data: &Dataset,
    loss: Loss,
    x0: &[f64],
    seed: u64,
    flow: &FlowConfig,
    refine_cfg: &RefineConfig,
    config: serde_json::Value,
    progress: Option<ProgressFn>,
) -> Result<RunRecord> {
    train_frozen(
        spec, data, loss, x0, seed, flow, refine_cfg, config, progress, None,
    )
}

/// As [`train`], with the parameters whose `frozen` entry is `true` held at their values in
/// `x0` (see [`Objective::with_frozen`]).
#[allow(clippy::too_many_arguments)]
pub fn train_frozen(
    spec: &NetSpec,
    data: &Dataset,
    loss: Loss,
    x0: &[f64],
    seed: u64,
    flow: &FlowConfig,
    refine_cfg: &RefineConfig,
    config: serde_json::Value,
    progress: Option<ProgressFn>,
    frozen: Option<&[bool]>,
) -> Result<RunRecord> {
    let objective = || -> Result<Objective<'_>> {
        let o = Objective::new(spec, data, loss)?;
        match frozen {
            Some(m) => o.with_frozen(m),
            None => Ok(o),
        }
    };
    let start = std::time::Instant::now();
    let f = run_flow_with_progress(objective()?, x0, flow, progress.clone())?;
    let mut obj = objective()?;
    let r = refine_with_progress(&mut obj, &f.x, refine_cfg, progress)?;
    // The refinement starts at the flow's best point, so its best is never worse.
    let scale = obj.mean_scale();
    let loss_sum = r.loss / scale;
    Ok(RunRecord {
        gradflow_version: env!("CARGO_PKG_VERSION").to_string(),
        seed,
        network: spec.clone(),
        shape: spec.shape_string(),
        loss_kind: loss,
        init: x0.to_vec(),
        ode_x: f.x.clone(),
        x: r.x.clone(),
        loss: r.loss,
        ode_loss: f.loss,
        gnorm: r.gnorm,
        rmse: obj.rmse_of(loss_sum),
        ode: phase_of_flow(&f),
        optim: phase_of_refine(&r),
        total_time: start.elapsed().as_secs_f64(),
        trajectory: f.trajectory,
        loss_curve: r.trajectory,
        events: f.events,
        config,
    })
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
