//! `gradflow._gradflow`: the compiled core of the Python package (see `python/README.md` and
//! the package's `__init__.py`, which adds the pure-Python conveniences).
//!
//! Every call copies its arrays once into the engine (float64 C-contiguous arrays without a
//! NumPy conversion first), releases the GIL for the work and maps library errors onto Python
//! exceptions (`ValueError`, `TypeError`, `OSError`, `RuntimeError`). Long calls run on a
//! worker thread while the calling thread checks for signals every 20 ms: Ctrl-C cancels the
//! library's flag and raises `KeyboardInterrupt` once the run has stopped at its best point.

// PyO3's macros expand to code that trips these lints.
#![allow(clippy::useless_conversion, clippy::too_many_arguments)]

use std::time::Duration;

use numpy::{PyArray1, PyArrayMethods, PyReadonlyArrayDyn, PyUntypedArrayMethods};
use pyo3::exceptions::{PyKeyboardInterrupt, PyOSError, PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyList, PyTuple};

use gradflow::cancel::Cancel;
use gradflow::cluster::{RecoverOptions, Recovery};
use gradflow::named::Named;
use gradflow::net::population::PopulationOptions;
use gradflow::net::{
    Activation, Dataset, Init, LayerSpec, Loss, NetSpec, Network, Objective, symmetric_eigenvalues,
};
use gradflow::observe::Watch;
use gradflow::teacher::{InputDistribution, TeacherConfig, paper_seed, sample_data};
use gradflow::train::{RunRecord, TrainOptions, TrainProblem};

mod convert;
mod errors;
mod landscape;
mod net;
mod options;
mod progress;
mod recovery;
mod studies;
mod teacher;
mod training;

use convert::*;
use errors::*;
use landscape::*;
use net::*;
use options::*;
use progress::*;
use recovery::*;
use studies::*;
use teacher::*;
use training::*;

#[pymodule]
fn _gradflow(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<Net>()?;
    m.add_class::<TrainResult>()?;
    m.add_class::<Teacher>()?;
    m.add_class::<PyRecovery>()?;
    m.add_function(wrap_pyfunction!(train, m)?)?;
    m.add_function(wrap_pyfunction!(train_seeds, m)?)?;
    m.add_function(wrap_pyfunction!(paper_teacher, m)?)?;
    m.add_function(wrap_pyfunction!(deep_teacher, m)?)?;
    m.add_function(wrap_pyfunction!(recover, m)?)?;
    m.add_function(wrap_pyfunction!(option_defaults, m)?)?;
    m.add_function(wrap_pyfunction!(study, m)?)?;
    m.add_function(wrap_pyfunction!(report, m)?)?;
    m.add_function(wrap_pyfunction!(certify, m)?)?;
    m.add_function(wrap_pyfunction!(split_neuron, m)?)?;
    m.add_function(wrap_pyfunction!(add_neuron, m)?)?;
    m.add_function(wrap_pyfunction!(remove_neuron, m)?)?;
    m.add_function(wrap_pyfunction!(prune, m)?)?;
    m.add_function(wrap_pyfunction!(embed_teacher, m)?)?;
    m.add_function(wrap_pyfunction!(trajectory_distance, m)?)?;
    m.add_function(wrap_pyfunction!(loss_slice, m)?)?;
    m.add_function(wrap_pyfunction!(train_classifier, m)?)?;
    m.add_function(wrap_pyfunction!(read_data, m)?)?;
    Ok(())
}
