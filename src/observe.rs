//! One observer for every long call: training runs, recoveries and studies report typed
//! [`Event`]s to an [`Observer`], and obey one [`Cancel`] flag. A [`Watch`] carries both, with
//! the identity of the run it watches.
//!
//! ```
//! use std::sync::{Arc, Mutex};
//! use gradflow::observe::{Event, Watch};
//!
//! let steps = Arc::new(Mutex::new(0usize));
//! let counter = steps.clone();
//! let watch = Watch::new(move |e: &Event<'_>| {
//!     if let Event::Step { .. } = e {
//!         *counter.lock().unwrap() += 1;
//!     }
//! });
//! # let _ = watch;
//! ```

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::cancel::Cancel;
use crate::error::Error;
use crate::flow::FlowEvent;
use crate::train::RunRecord;

/// The stage of a pipeline a training run belongs to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "stage")]
#[non_exhaustive]
pub enum Stage {
    /// A plain run (`gradflow solve`, a study's student).
    #[default]
    Solve,
    /// A probe run of the expansion phase of Expand-and-Cluster, at this hidden width.
    Probe {
        /// The probed width.
        width: usize,
    },
    /// A student of Expand-and-Cluster training layers `layer..` (1-based) on the frozen
    /// layers below.
    Layer {
        /// The first trained layer (1-based).
        layer: usize,
    },
    /// The fine-tuning of a recovered network.
    FineTune,
}

impl Stage {
    /// The stem of this stage's result files (`layer_1`, `probe_w8`, `finetune`, `run`).
    pub fn file_stem(self) -> String {
        match self {
            Stage::Solve => "run".into(),
            Stage::Probe { width } => format!("probe_w{width}"),
            Stage::Layer { layer } => format!("layer_{layer}"),
            Stage::FineTune => "finetune".into(),
        }
    }
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stage::Solve => f.write_str("run"),
            Stage::Probe { width } => write!(f, "probe w={width}"),
            Stage::Layer { layer } => write!(f, "layer {layer}"),
            Stage::FineTune => f.write_str("fine-tune"),
        }
    }
}

/// Which run an event is about: its stage and student seed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RunId {
    /// The stage.
    pub stage: Stage,
    /// The student seed.
    pub seed: u64,
}

/// The phase of a training run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Phase 1, the gradient flow.
    Flow,
    /// Phase 2, the refinement.
    Refine,
}

crate::named::named_enum!(Phase, "phase", { Flow => "ode", Refine => "optim" });

/// What a long call reports.
#[derive(Debug)]
#[non_exhaustive]
pub enum Event<'a> {
    /// An accepted step (flow) or iteration (refinement).
    Step {
        /// The run.
        run: RunId,
        /// The phase.
        phase: Phase,
        /// Accepted steps so far in the phase.
        iteration: usize,
        /// Seconds since the phase started.
        wall: f64,
        /// Best mean loss so far.
        loss: f64,
        /// ∞-norm of the mean gradient at the best point (NaN when not evaluated there).
        gnorm: f64,
    },
    /// A solver failure of the flow and the method it restarted with.
    Fallback {
        /// The run.
        run: RunId,
        /// The failure.
        event: &'a FlowEvent,
    },
    /// A finished run (also an interrupted one, with its best point).
    RunDone {
        /// The run.
        run: RunId,
        /// Its record.
        record: &'a RunRecord,
    },
    /// A run that failed with an error.
    RunFailed {
        /// The run.
        run: RunId,
        /// Why.
        error: &'a Error,
    },
    /// A one-line message about the stages of a recovery or a study (warnings start with
    /// `warning:`).
    Message(&'a str),
    /// A study's shard is planned: `tasks` in all, `finished` of them found done.
    TasksPlanned {
        /// Tasks of the shard.
        tasks: usize,
        /// Tasks already finished.
        finished: usize,
    },
    /// A study task finished, with a one-line summary.
    TaskDone(&'a str),
}

/// Receives the [`Event`]s of long calls, possibly from several threads at once.
pub trait Observer: Send + Sync {
    /// Called with each event.
    fn observe(&self, event: &Event<'_>);
}

impl<F: Fn(&Event<'_>) + Send + Sync> Observer for F {
    fn observe(&self, event: &Event<'_>) {
        self(event)
    }
}

/// The observer and cancellation flag of a call, and the run they watch. The default watches
/// nothing and is never cancelled.
#[derive(Clone, Default)]
pub struct Watch {
    observer: Option<Arc<dyn Observer>>,
    cancel: Cancel,
    run: RunId,
}

impl Watch {
    /// Reports to `observer`.
    pub fn new(observer: impl Observer + 'static) -> Self {
        Watch {
            observer: Some(Arc::new(observer)),
            ..Watch::default()
        }
    }

    /// No observer, never cancelled.
    pub fn silent() -> Self {
        Watch::default()
    }

    /// The same, obeying `cancel`.
    pub fn with_cancel(mut self, cancel: Cancel) -> Self {
        self.cancel = cancel;
        self
    }

    /// The same observer and flag, watching `run`.
    pub fn for_run(&self, run: RunId) -> Self {
        Watch {
            run,
            ..self.clone()
        }
    }

    /// The run watched.
    pub fn run(&self) -> RunId {
        self.run
    }

    /// The cancellation flag.
    pub fn cancel(&self) -> &Cancel {
        &self.cancel
    }

    /// Whether the call was cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// Reports `event`.
    pub fn emit(&self, event: &Event<'_>) {
        if let Some(o) = &self.observer {
            o.observe(event);
        }
    }

    /// Reports a message.
    pub fn message(&self, text: &str) {
        self.emit(&Event::Message(text));
    }
}

impl std::fmt::Debug for Watch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watch")
            .field("observer", &self.observer.is_some())
            .field("cancelled", &self.cancel.is_cancelled())
            .field("run", &self.run)
            .finish()
    }
}
