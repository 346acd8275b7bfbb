//! Training the students: frozen prefixes, reuse of saved runs, and which runs the clustering
//! uses.

use rayon::prelude::*;

use super::super::layer::StudentLayer;
use super::super::neuron::layer_neurons;
use super::StudentSummary;
use crate::error::{Error, Result};
use crate::flow::FlowConfig;
use crate::net::{Activation, Dataset, Init, LayerSpec, Loss, NetSpec, Network, Objective};
use crate::observe::{Event, RunId, Stage, Watch};
use crate::optim::RefineConfig;
use crate::rng::Stream;
use crate::train::{RunKey, RunRecord, TrainOptions, TrainProblem, train};

/// A frozen prefix of reconstructed hidden layers: incoming weight rows and biases.
#[derive(Clone, Debug)]
pub(super) struct Frozen {
    pub(super) rows: Vec<Vec<f64>>,
    pub(super) bias: Vec<f64>,
}

/// The architecture of an Expand-and-Cluster student: `hidden` widths with `activation`, a
/// linear output layer of `outputs` units, biases everywhere.
pub fn student_spec(
    input_dim: usize,
    hidden: &[usize],
    activation: &Activation,
    outputs: usize,
) -> Result<NetSpec> {
    let mut layers: Vec<LayerSpec> = hidden
        .iter()
        .map(|&w| LayerSpec::new(w, activation.clone()))
        .collect();
    layers.push(LayerSpec::new(outputs, Activation::Identity));
    NetSpec::new(input_dim, layers)
}

/// The initial point of the student with `seed` (Glorot normal, stream 0 of the seed). A saved
/// run is reused by [`super::recover`] only if it started exactly here.
pub fn student_init(spec: &NetSpec, seed: u64) -> Vec<f64> {
    Init::GlorotNormal.draw(spec, &mut Stream::new(seed, 0))
}

/// Where students train.
pub(super) enum Workers {
    /// One after the other on the calling thread.
    Sequential,
    /// In parallel on the rayon pool the caller runs on.
    Current,
    /// In parallel on a pool of the recovery's own.
    Own(rayon::ThreadPool),
}

/// Trains students of one architecture family on the data.
pub(super) struct Trainer<'a> {
    pub(super) data: &'a Dataset,
    pub(super) activation: Activation,
    pub(super) flow: FlowConfig,
    pub(super) refine: RefineConfig,
    /// Where the students train.
    pub(super) pool: Workers,
    pub(super) config: serde_json::Value,
    /// Every run trained or reused, in order.
    pub(super) runs: std::sync::Mutex<Vec<(RunId, RunRecord)>>,
}

impl Trainer<'_> {
    /// Whether a saved record is the run this trainer would do now: the same [`RunKey`]
    /// (architecture, initial point, seed, flow and refinement options — not the clustering
    /// options, the number of students or the folder), not interrupted, and its loss reproduced
    /// on these data.
    fn is_same_run(&self, rec: &RunRecord, key: &RunKey) -> bool {
        rec.key().as_ref() == Some(key) && !rec.was_interrupted() && self.reproduces_loss(rec)
    }

    /// Whether the record's loss is the loss of its parameters on these data (the data were
    /// the same ones).
    fn reproduces_loss(&self, rec: &RunRecord) -> bool {
        let Ok(mut obj) = Objective::new(&rec.network, self.data, Loss::Mse) else {
            return false;
        };
        let loss = obj.loss(&rec.x) * obj.mean_scale();
        (loss.is_nan() && rec.loss.is_nan())
            || (loss - rec.loss).abs() <= 1e-8 * rec.loss.abs() + f64::MIN_POSITIVE
    }

    pub(super) fn spec(&self, frozen: &[Frozen], widths: &[usize]) -> Result<NetSpec> {
        let hidden: Vec<usize> = frozen
            .iter()
            .map(|f| f.rows.len())
            .chain(widths.iter().copied())
            .collect();
        student_spec(
            self.data.input_dim(),
            &hidden,
            &self.activation,
            self.data.output_dim(),
        )
    }

    /// Trains one student per seed: the frozen layers' weights fixed (biases free, starting at
    /// the reconstruction), the rest from a Glorot draw of the seed.
    pub(super) fn students(
        &self,
        frozen: &[Frozen],
        widths: &[usize],
        seeds: &[u64],
        stage: Stage,
        saved: &[RunRecord],
        watch: &Watch,
    ) -> Result<(NetSpec, Vec<Result<RunRecord>>)> {
        let spec = self.spec(frozen, widths)?;
        let layouts = spec.layouts();
        let mut mask = vec![false; spec.n_params()];
        for (l, _) in frozen.iter().enumerate() {
            mask[layouts[l].weight.clone()].fill(true);
        }
        let one = |&seed: &u64| -> Result<RunRecord> {
            let mut x0 = student_init(&spec, seed);
            for (l, f) in frozen.iter().enumerate() {
                let lay = &layouts[l];
                for (j, r) in f.rows.iter().enumerate() {
                    x0[lay.w(j, 0)..lay.w(j, 0) + lay.cols].copy_from_slice(r);
                }
                if let Some(b) = &lay.bias {
                    x0[b.clone()].copy_from_slice(&f.bias);
                }
            }
            let key = RunKey::new(&spec, &x0, seed, &self.flow, &self.refine);
            let run = RunId { stage, seed };
            if let Some(rec) = saved.iter().find(|rec| self.is_same_run(rec, &key)) {
                watch.message(&format!("{stage} seed {seed}: reusing the saved run"));
                self.runs.lock().expect("runs").push((run, rec.clone()));
                return Ok(rec.clone());
            }
            if watch.is_cancelled() {
                return Err(Error::Interrupted);
            }
            let w = watch.for_run(run);
            let problem = TrainProblem {
                spec: &spec,
                data: self.data,
                loss: Loss::Mse,
                frozen: (!frozen.is_empty()).then_some(&mask[..]),
                infinite: None,
            };
            let opts = TrainOptions {
                flow: self.flow.clone(),
                refine: self.refine.clone(),
                seed,
                provenance: self.config.clone(),
                ..TrainOptions::default()
            };
            let r = train(&problem, &x0, &opts, &w);
            match &r {
                Ok(record) => {
                    w.emit(&Event::RunDone { run, record });
                    self.runs.lock().expect("runs").push((run, record.clone()));
                }
                Err(error) => w.emit(&Event::RunFailed { run, error }),
            }
            r
        };
        let runs = match &self.pool {
            Workers::Own(pool) => pool.install(|| seeds.par_iter().map(one).collect()),
            Workers::Current => seeds.par_iter().map(one).collect(),
            Workers::Sequential => seeds.iter().map(one).collect(),
        };
        if watch.is_cancelled() {
            return Err(Error::Interrupted);
        }
        Ok((spec, runs))
    }
}

fn summary(r: &RunRecord, used: bool) -> StudentSummary {
    StudentSummary {
        seed: r.seed,
        shape: r.shape.clone(),
        loss: r.loss,
        gnorm: r.gnorm,
        stop: (r.ode.outcome.stop, r.optim.outcome.stop),
        time: r.total_time,
        used,
    }
}

/// The runs used for clustering: finite loss and parameters, and a final loss within `ratio`
/// of the best one — but always at least the lowest-loss half of the finite runs and enough
/// runs for `γN ≥ 2` (students
/// stuck far above the others have not found the teacher's function and only add noise).
/// Errors if fewer than two remain.
pub(super) fn usable(
    runs: Vec<Result<RunRecord>>,
    ratio: f64,
    gamma: f64,
) -> Result<(Vec<RunRecord>, Vec<StudentSummary>)> {
    let mut finite: Vec<RunRecord> = Vec::new();
    let mut summaries = Vec::new();
    for r in runs {
        let r = r?;
        let good = r.loss.is_finite() && r.x.iter().all(|v| v.is_finite());
        summaries.push(summary(&r, good));
        if good {
            finite.push(r);
        }
    }
    finite.sort_by(|a, b| a.loss.total_cmp(&b.loss));
    let best = finite.first().map_or(f64::NAN, |r| r.loss);
    // At least half of them, and enough for γ·N ≥ 2.
    let floor = finite
        .len()
        .div_ceil(2)
        .max((2.0 / gamma).ceil() as usize)
        .min(finite.len());
    let keep = finite
        .iter()
        .enumerate()
        .take_while(|(i, r)| *i < floor || r.loss <= best.max(f64::MIN_POSITIVE) * ratio)
        .count();
    finite.truncate(keep);
    for s in &mut summaries {
        s.used = finite.iter().any(|r| r.seed == s.seed);
    }
    if finite.len() < 2 {
        return Err(Error::invalid(
            "students",
            format!(
                "only {} of {} students trained to a finite loss; Expand-and-Cluster needs at least 2",
                finite.len(),
                summaries.len()
            ),
        ));
    }
    Ok((finite, summaries))
}

pub(super) fn student_layers(
    spec: &NetSpec,
    runs: &[RunRecord],
    l: usize,
) -> Result<Vec<StudentLayer>> {
    runs.iter()
        .map(|r| {
            let net = Network::new(spec.clone(), r.x.clone())?;
            Ok(StudentLayer {
                id: r.seed,
                loss: r.loss,
                neurons: layer_neurons(&net, l)?,
            })
        })
        .collect()
}
