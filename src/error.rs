//! The library's error type.
//!
//! Every variant carries the structured facts of the failure; its `Display` is one line that a
//! user can act on. Errors about a file are wrapped in [`Error::InFile`], which prefixes the path.

use std::path::PathBuf;

/// Everything that can go wrong in gradflow's library.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A name outside a closed set of choices (integrators, refiners, losses, …).
    #[error("unknown {kind} `{name}` (known: {known})")]
    UnknownName {
        /// What the name should name (`integrator`, `refiner`, …).
        kind: &'static str,
        /// The name as given.
        name: String,
        /// The known names.
        known: String,
    },
    /// An activation name that gradflow does not know.
    #[error(
        "unknown activation `{name}` (known: identity, relu, leaky_relu, leaky_relu(α), sigmoid, tanh, softplus, g, gelu, silu, selu, square, cube, sigmoid2, normal_cdf, exp, softmax, polynomial(c0,c1,…))"
    )]
    UnknownActivation {
        /// The name as given.
        name: String,
    },
    /// A network specification that cannot describe a network.
    #[error("invalid network: {reason}")]
    InvalidNetwork {
        /// What is wrong.
        reason: String,
    },
    /// A parameter vector or array whose length does not match the network.
    #[error("{what}: expected {expected} values, got {got}")]
    Length {
        /// Which array.
        what: String,
        /// Expected length.
        expected: usize,
        /// Actual length.
        got: usize,
    },
    /// Data whose shape does not fit (the network, or the other array).
    #[error("{what}: expected shape {expected}, got {got}")]
    Shape {
        /// Which array.
        what: String,
        /// Expected shape, human readable.
        expected: String,
        /// Actual shape, human readable.
        got: String,
    },
    /// A NaN or infinite value where finite numbers are required.
    #[error("{what} has a non-finite value ({value}) at row {row}, column {col}")]
    NonFinite {
        /// Which array.
        what: String,
        /// Row (sample) index.
        row: usize,
        /// Column index.
        col: usize,
        /// The offending value.
        value: f64,
    },
    /// A data set without samples.
    #[error("the data set has no samples")]
    EmptyData,
    /// A combination of options or inputs that gradflow does not support.
    #[error("{what}: {reason}")]
    Invalid {
        /// The option or input.
        what: String,
        /// Why it is rejected.
        reason: String,
    },
    /// A file that does not parse as the expected format.
    #[error("{reason}")]
    Format {
        /// What is wrong with the content.
        reason: String,
    },
    /// An operating-system error on a file.
    #[error("{source}")]
    Io {
        /// The underlying error.
        #[from]
        source: std::io::Error,
    },
    /// A numerical routine that did not converge.
    #[error("{routine} failed: {reason}")]
    Numerical {
        /// Which routine.
        routine: String,
        /// Why.
        reason: String,
    },
    /// A recovery or study stopped through its cancellation flag before it had a result; the
    /// runs finished until then were reported (and can be reused).
    #[error("interrupted")]
    Interrupted,
    /// Any of the above, about a named file.
    #[error("{}: {source}", path.display())]
    InFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        source: Box<Error>,
    },
}

impl Error {
    /// Attaches a file path to this error (idempotent for errors that already name a file).
    pub fn in_file(self, path: impl Into<PathBuf>) -> Error {
        match self {
            Error::InFile { .. } => self,
            other => Error::InFile {
                path: path.into(),
                source: Box::new(other),
            },
        }
    }

    /// Shorthand for [`Error::Format`].
    pub fn format(reason: impl Into<String>) -> Error {
        Error::Format {
            reason: reason.into(),
        }
    }

    /// Shorthand for [`Error::Invalid`].
    pub fn invalid(what: impl Into<String>, reason: impl Into<String>) -> Error {
        Error::Invalid {
            what: what.into(),
            reason: reason.into(),
        }
    }
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
