//! Explicit parallelism: the thread pools of the many-run calls (seeds, students, study tasks).

use crate::error::{Error, Result};

/// A rayon pool of `threads` workers (`None`: one per core). `field` names the option in the
/// error for `Some(0)`.
pub(crate) fn pool(threads: Option<usize>, field: &str) -> Result<rayon::ThreadPool> {
    if threads == Some(0) {
        return Err(Error::invalid(field, "must be at least 1"));
    }
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads.unwrap_or(0))
        .build()
        .map_err(|e| Error::invalid(field, e.to_string()))
}
