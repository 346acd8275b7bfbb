//! Progress bars: one spinner per run, driven by the library's observer events.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use gradflow::observe::{Event, RunId};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Spinners keyed by run; runs without one get one on their first step.
#[derive(Clone)]
pub struct Bars {
    multi: MultiProgress,
    bars: Arc<Mutex<HashMap<RunId, ProgressBar>>>,
    /// Runs that have taken a step: a spinner's clock restarts at its run's first step, so that
    /// it shows the run's time, not the time it waited for a thread.
    started: Arc<Mutex<HashSet<RunId>>>,
    style: ProgressStyle,
    quiet: bool,
}

impl Bars {
    /// Bars drawn on standard error (hidden with `quiet`), prefixes `width` wide.
    pub fn new(quiet: bool, width: usize) -> Bars {
        let multi = MultiProgress::new();
        if quiet {
            multi.set_draw_target(ProgressDrawTarget::hidden());
        }
        let template = format!("{{prefix:>{width}}} {{spinner}} {{elapsed:>4}} {{msg}}");
        Bars {
            multi,
            bars: Arc::new(Mutex::new(HashMap::new())),
            started: Arc::new(Mutex::new(HashSet::new())),
            style: ProgressStyle::with_template(&template)
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            quiet,
        }
    }

    /// Adds a waiting spinner for `run`.
    pub fn add(&self, run: RunId, prefix: String) -> ProgressBar {
        let b = self.multi.add(ProgressBar::new_spinner());
        b.set_style(self.style.clone());
        b.set_prefix(prefix);
        b.set_message("waiting");
        self.bars.lock().expect("bars").insert(run, b.clone());
        b
    }

    fn bar(&self, run: RunId) -> ProgressBar {
        let found = self.bars.lock().expect("bars").get(&run).cloned();
        found.unwrap_or_else(|| self.add(run, format!("{} seed {}", run.stage, run.seed)))
    }

    /// Ends `run`'s spinner with `message`.
    pub fn finish(&self, run: RunId, message: String) {
        self.bar(run).finish_with_message(message);
    }

    /// A line above the bars (or on standard error when quiet or not drawn: a log file or a
    /// pipe gets every line too).
    pub fn println(&self, line: &str) {
        if self.quiet || self.multi.is_hidden() {
            eprintln!("{line}");
        } else {
            let _ = self.multi.println(line);
        }
    }

    /// Shows a step or a fallback on its run's spinner.
    pub fn observe(&self, e: &Event<'_>) {
        if let Event::Step { run, .. } = e
            && self.started.lock().expect("started").insert(*run)
        {
            self.bar(*run).reset_elapsed();
        }
        match e {
            Event::Step {
                run,
                phase,
                iteration,
                loss,
                gnorm,
                ..
            } if iteration % 5 == 0 => {
                // Trial points of line searches and trust regions carry no gradient yet.
                let g = if gnorm.is_nan() {
                    "–".to_string()
                } else {
                    format!("{gnorm:.3e}")
                };
                let b = self.bar(*run);
                b.set_message(format!(
                    "{phase} step {iteration}: loss {loss:.3e} gnorm {g}"
                ));
                b.tick();
            }
            Event::Fallback { run, event } => self.println(&format!(
                "{} seed {}: {} failed at t = {:.3e} ({}); restarted with {}",
                run.stage, run.seed, event.failed, event.t, event.error, event.restarted_with
            )),
            _ => {}
        }
    }

    /// Removes the bars.
    pub fn clear(&self) {
        let _ = self.multi.clear();
    }
}
