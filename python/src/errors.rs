//! Library errors as Python exceptions, and cancellable calls.

use super::*;

/// The Python exception for a library error: files → `OSError`, numerical failures →
/// `RuntimeError`, interruption → `KeyboardInterrupt`, everything else (bad shapes, values,
/// names, options) → `ValueError`. The message is the library's one line.
pub(crate) fn py_err(e: gradflow::Error) -> PyErr {
    let msg = e.to_string();
    match &e {
        gradflow::Error::Io { .. } => PyOSError::new_err(msg),
        gradflow::Error::InFile { source, .. }
            if matches!(**source, gradflow::Error::Io { .. }) =>
        {
            PyOSError::new_err(msg)
        }
        gradflow::Error::Numerical { .. } => PyRuntimeError::new_err(msg),
        gradflow::Error::Interrupted => PyKeyboardInterrupt::new_err(msg),
        _ => PyValueError::new_err(msg),
    }
}

pub(crate) fn value_err(msg: impl Into<String>) -> PyErr {
    PyValueError::new_err(msg.into())
}

/// Runs `work` on a worker thread with the GIL released, checking for signals every 20 ms on
/// the calling thread; a signal (Ctrl-C) cancels `work` through its flag and is raised once
/// `work` has returned. A panic in `work` becomes a `RuntimeError`, never a crash.
pub(crate) fn cancellable<T: Send>(
    py: Python<'_>,
    work: impl FnOnce(&Cancel) -> T + Send,
) -> PyResult<T> {
    cancellable_keeping(py, work, |_, _| Ok(None))
}

/// [`cancellable`] for work whose interrupted result is still worth having (runs stopped at
/// their best points): on a signal, `keep` turns what `work` returned into a Python object,
/// attached to the raised exception as its `result` attribute.
pub(crate) fn cancellable_keeping<T: Send>(
    py: Python<'_>,
    work: impl FnOnce(&Cancel) -> T + Send,
    keep: impl FnOnce(Python<'_>, T) -> PyResult<Option<Py<PyAny>>>,
) -> PyResult<T> {
    let cancel = Cancel::new();
    let (out, signal) = py.detach(|| {
        std::thread::scope(|s| {
            let handle = s.spawn(|| work(&cancel));
            let mut signal: Option<PyErr> = None;
            while !handle.is_finished() {
                std::thread::sleep(Duration::from_millis(20));
                if signal.is_none() {
                    if let Err(e) = Python::attach(|py| py.check_signals()) {
                        cancel.cancel();
                        signal = Some(e);
                    }
                }
            }
            (handle.join(), signal)
        })
    });
    if let Some(e) = signal {
        if let Ok(t) = out
            && let Some(obj) = keep(py, t)?
        {
            e.value(py).setattr("result", obj)?;
        }
        return Err(e);
    }
    out.map_err(|p| {
        let what = p
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        PyRuntimeError::new_err(format!("gradflow internal error: {what}"))
    })
}
