//! Progress events for a Python callable.

use super::*;

/// The watch of a call: cancelled by `cancel`, and, when `progress` is a callable, reporting
/// events to it as dicts (steps at most ten times a second per call; finished runs, fallbacks,
/// messages and study tasks always). Exceptions raised by the callable are printed and ignored.
pub(crate) fn watch_for(progress: Option<&Py<PyAny>>, cancel: &Cancel) -> Watch {
    use gradflow::observe::Event;
    let Some(cb) = progress else {
        return Watch::silent().with_cancel(cancel.clone());
    };
    let cb = Python::attach(|py| cb.clone_ref(py));
    let last = std::sync::Mutex::new(std::time::Instant::now() - Duration::from_secs(1));
    Watch::new(move |e: &Event<'_>| {
        let v = match e {
            Event::Step { run, phase, iteration, wall, loss, gnorm } => {
                let mut l = last.lock().unwrap_or_else(|p| p.into_inner());
                if l.elapsed() < Duration::from_millis(100) {
                    return;
                }
                *l = std::time::Instant::now();
                serde_json::json!({"event": "step", "stage": run.stage.to_string(), "seed": run.seed,
                    "phase": phase.name(), "iteration": iteration, "wall": wall, "loss": loss, "gnorm": gnorm})
            }
            Event::RunDone { run, record } => serde_json::json!({"event": "run_done",
                "stage": run.stage.to_string(), "seed": run.seed, "loss": record.loss,
                "ode_stop": record.ode.outcome.stop.name(), "optim_stop": record.optim.outcome.stop.name()}),
            Event::RunFailed { run, error } => serde_json::json!({"event": "run_failed",
                "stage": run.stage.to_string(), "seed": run.seed, "error": error.to_string()}),
            Event::Fallback { run, event } => serde_json::json!({"event": "fallback",
                "seed": run.seed, "failed": event.failed.name(), "restarted_with": event.restarted_with.name()}),
            Event::Message(m) => serde_json::json!({"event": "message", "text": m}),
            Event::TasksPlanned { tasks, finished } => serde_json::json!({"event": "tasks_planned",
                "tasks": tasks, "finished": finished}),
            Event::TaskDone(line) => serde_json::json!({"event": "task_done", "text": line}),
            _ => return,
        };
        Python::attach(|py| {
            let r = json_to_py(py, &v).and_then(|d| cb.call1(py, (d,)));
            if let Err(err) = r {
                err.print(py);
            }
        });
    })
    .with_cancel(cancel.clone())
}
