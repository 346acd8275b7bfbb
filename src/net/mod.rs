//! Networks, activations, data, losses and their exact derivatives.
//!
//! - [`NetSpec`]/[`LayerSpec`]: architecture and the flat parameter layout (SPEC §2);
//! - [`Activation`]: every activation with exact first and second derivatives and its
//!   [`SymmetryClass`];
//! - [`Dataset`]: inputs, targets, optional per-sample weights;
//! - [`Objective`]: sum loss, gradient and exact Hessian, chunked and allocation-free;
//! - [`symmetric_eigenvalues`]: the Hessian spectrum.

pub mod activation;
pub mod data;
pub mod fastmath;
pub mod gauss_hermite;
pub mod gauss_newton;
mod hessian;
pub mod init;
mod layer_record;
pub mod loss;
pub mod network;
pub mod objective;
mod pass;
pub mod population;
pub mod regulariser;
mod shallow;
mod simd;
pub mod spec;
pub mod spectrum;
mod workspace;

pub use activation::{Activation, SymmetryClass};
pub use data::Dataset;
pub use hessian::Curvature;
pub use init::Init;
pub use layer_record::LayerRecord;
pub use loss::Loss;
pub use network::Network;
pub use objective::Objective;
pub use regulariser::{Merge, Regularisers};
pub use spec::{LayerLayout, LayerSpec, NetSpec};
pub use spectrum::{lowest_eigenpair, symmetric_eigenvalues};
