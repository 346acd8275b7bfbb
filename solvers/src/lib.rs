//! # gradflow-solvers
//!
//! Problem-agnostic numerics that gradflow's dependencies lack: Runge–Kutta tableaux for
//! diffsol's SDIRK machinery (Kennedy–Carpenter ESDIRK schemes) and exact trust-region
//! subproblem solvers. The crate never depends on `gradflow` and is tested on textbook
//! problems only.
//!
//! It is empty until the training engine lands (the integrators and refiners that need it).
#![deny(clippy::float_cmp)]
