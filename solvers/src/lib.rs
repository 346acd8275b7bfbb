//! # gradflow-solvers
//!
//! Problem-agnostic numerics that gradflow's dependencies lack:
//!
//! - [`tableau`]: Butcher tableaux for diffsol's SDIRK machinery, starting with Kennedy &
//!   Carpenter's 5th-order ESDIRK of `KenCarp58`, with the order conditions and the stability
//!   function to check them;
//! - [`dirk`]: a fixed-step DIRK integrator with Newton stage solves, used to verify tableaux
//!   on textbook problems (observed order of convergence);
//! - [`rosenbrock_tableau`] and [`rosenbrock`]: Rosenbrock methods (Rodas5P, ROS34PW2) with
//!   their order conditions and stability function, and an adaptive dense-matrix driver (one
//!   Jacobian and one LU factorisation per step, no Newton iterations);
//! - [`trust_region`]: the exact trust-region subproblem (Moré–Sorensen) on an
//!   eigendecomposition, for Newton trust-region refinement with indefinite Hessians;
//! - [`trust_region_cholesky`]: the same subproblem by Cholesky factorisations of `H + μI`, for
//!   Hessians too large to decompose every iteration;
//! - [`steihaug`]: the subproblem approximately, by truncated conjugate gradients on products
//!   `v ↦ Bv` only (Steihaug 1983), for models too large to factorise.
//!
//! The crate never depends on `gradflow` and is tested on textbook problems only.
#![deny(clippy::float_cmp)]
#![warn(missing_docs)]

pub mod dirk;
pub mod rosenbrock;
pub mod rosenbrock_tableau;
pub mod steihaug;
pub mod tableau;
pub mod trust_region;
pub mod trust_region_cholesky;

pub use rosenbrock_tableau::RosenbrockTableau;
pub use tableau::ButcherTableau;
