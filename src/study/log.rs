//! The per-task log of a study: one file per task, `logs/<task>.log`, with the start, a
//! progress line at most every two seconds, and the end — what a user tails to see how a long
//! study is going.

use std::io::Write;
use std::path::Path;
use std::sync::Mutex;
use std::time::Instant;

use crate::observe::{Event, Watch};

/// A per-task log file, `logs/<task>.log`: start, throttled progress lines, end.
pub(super) struct TaskLog {
    file: Mutex<Option<std::fs::File>>,
    last: Mutex<Instant>,
}

impl TaskLog {
    pub(super) fn open(path: &Path) -> TaskLog {
        let file = path
            .parent()
            .map(std::fs::create_dir_all)
            .and_then(|r| r.ok())
            .and_then(|()| {
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .ok()
            });
        TaskLog {
            file: Mutex::new(file),
            last: Mutex::new(Instant::now()),
        }
    }

    pub(super) fn line(&self, text: &str) {
        if let Ok(mut f) = self.file.lock() {
            if let Some(f) = f.as_mut() {
                let _ = writeln!(f, "{text}");
            }
        }
    }

    /// A watch that logs steps at most every two seconds, and every message, obeying `cancel`.
    pub(super) fn watch(self: &std::sync::Arc<Self>, cancel: &crate::cancel::Cancel) -> Watch {
        let log = self.clone();
        let start = Instant::now();
        Watch::new(move |e: &Event<'_>| {
            let (phase, iters, loss, gnorm) = match e {
                Event::Step {
                    phase,
                    iteration,
                    loss,
                    gnorm,
                    ..
                } => (*phase, *iteration, *loss, *gnorm),
                Event::Message(m) => return log.line(m),
                _ => return,
            };
            let due = log.last.lock().is_ok_and(|mut t| {
                if t.elapsed().as_secs_f64() >= 2.0 {
                    *t = Instant::now();
                    true
                } else {
                    false
                }
            });
            if due {
                // Trial points of line searches and trust regions carry no gradient yet.
                let g = if gnorm.is_nan() {
                    "–".to_string()
                } else {
                    format!("{gnorm:.2e}")
                };
                log.line(&format!(
                    "{:8.1} s  {phase:<6} it {iters:>7}  loss {loss:.3e}  gnorm {g}",
                    start.elapsed().as_secs_f64()
                ));
            }
        })
        .with_cancel(cancel.clone())
    }
}
