//! Cancellation: one flag shared by every loop of a call — integrators, refiners, the students
//! of a recovery, the tasks of a study. A cancelled run stops at its next step with
//! [`StopReason::Interrupted`](crate::monitor::StopReason::Interrupted) and returns its best
//! point; runs not yet started are not started.
//!
//! ```
//! use gradflow::cancel::Cancel;
//! let c = Cancel::new();
//! let shared = c.clone(); // e.g. moved into a Ctrl-C handler
//! assert!(!c.is_cancelled());
//! shared.cancel();
//! assert!(c.is_cancelled());
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// A cancellation flag; clones share it.
#[derive(Clone, Debug, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    /// A flag that is not set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the flag: every run sharing it stops at its next step.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether the flag is set.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}
