//! # gradflow
//!
//! Train small multi-layer perceptrons to machine precision and recover unknown networks from
//! their input–output behaviour.
#![deny(clippy::float_cmp)]
#![warn(missing_docs)]

pub mod error;
pub mod eval;
pub mod io;
pub mod net;
pub mod reference;
pub mod rng;
pub mod teacher;

pub use error::{Error, Result};
