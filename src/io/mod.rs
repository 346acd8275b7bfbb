//! Files: networks (JSON), data sets (`.npz`, `.npy` pairs, CSV, IDX, CIFAR-10), atomic writes.
//!
//! Every reader validates what it reads and reports problems as one-line errors that name the
//! file ([`crate::Error::InFile`]); every writer writes atomically.

pub mod atomic;
pub mod data_file;
pub mod image_data;
pub mod names;
pub mod network_file;
pub mod non_finite;
pub mod source;

pub use atomic::{write_atomic, write_atomic_with};
pub use data_file::{DataSource, read_data, read_inputs, write_data};
pub use network_file::{
    network_from_json, network_to_json, read_network, read_network_record, read_spec,
    write_network, write_network_with_meta,
};
pub use source::{LoadedProblem, ProblemSource, demo_teacher};
