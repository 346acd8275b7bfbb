//! # gradflow
//!
//! Train small multi-layer perceptrons to machine precision and recover unknown networks from
//! their input–output behaviour (Expand-and-Cluster; Martinelli, Şimşek, Gerstner & Brea,
//! ICML 2024). The behaviour is specified in the project's `SPEC.md`.
//!
//! ## A tour: teacher → data → loss, gradient, Hessian
//!
//! A paper teacher (SPEC §7) is a network with a known zero-loss point on its own data:
//!
//! ```
//! use gradflow::net::{Activation, Init, Loss, NetSpec, Objective, symmetric_eigenvalues};
//! use gradflow::teacher::{InputDistribution, TeacherConfig, paper_seed, sample_data};
//!
//! // The first d = 4, r = 4 teacher of the paper family (activation g).
//! let teacher = TeacherConfig::paper(4, 4, paper_seed(4, 4, 0)).build()?;
//! // 2 000 samples from the teacher's seeded data stream.
//! let data = sample_data(&teacher, 2_000, InputDistribution::Uniform, paper_seed(4, 4, 0))?;
//!
//! // A student twice as wide, at its Glorot initialisation.
//! let student = NetSpec::shallow(4, 8, Activation::G, 1);
//! let theta = Init::GlorotNormal.draw_seeded(&student, 1);
//!
//! // The objective owns its buffers: `*_into` calls allocate nothing.
//! let mut obj = Objective::new(&student, &data, Loss::Mse)?;
//! let p = student.n_params();
//! let (mut grad, mut hess) = (vec![0.0; p], vec![0.0; p * p]);
//! let loss_sum = obj.hessian_into(&theta, &mut grad, &mut hess);
//! let mean_loss = loss_sum * obj.mean_scale(); // reported loss: L_sum / N
//! assert!(mean_loss > 0.0);
//!
//! // At the teacher's own parameters the loss is zero and the Hessian is positive semidefinite.
//! let mut at_teacher = Objective::new(&teacher.spec, &data, Loss::Mse)?;
//! let (l, _g, h) = at_teacher.hessian(&teacher.params);
//! assert!(l < 1e-28);
//! let spectrum = symmetric_eigenvalues(&h, teacher.spec.n_params())?;
//! assert!(spectrum[0] > -1e-9);
//! # Ok::<(), gradflow::Error>(())
//! ```
//!
//! Gradient flow (phase 1), refinement (phase 2) and Expand-and-Cluster build on this
//! objective; see the issues that track them.
//!
//! ## Modules
//!
//! - [`net`]: activations, architectures and the flat layout, data, losses, the [`net::Objective`].
//! - [`teacher`]: the paper's teachers and data sampling.
//! - [`io`]: network and data files, atomic writes.
//! - [`eval`]: the `gradflow eval` command.
//! - [`reference`](mod@reference): reference problems shared by tests and benchmarks.
//! - [`rng`]: seeded, portable random streams.
#![deny(clippy::float_cmp)]
#![warn(missing_docs)]

pub mod cluster;
pub mod error;
pub mod eval;
pub mod flow;
pub mod io;
pub mod monitor;
pub mod net;
pub mod optim;
pub mod reference;
pub mod rng;
pub mod solve;
pub mod teacher;
pub mod train;

pub use error::{Error, Result};
