//! Gradient and Hessian against central finite differences.

mod finite_differences;
mod loss_conventions;
mod population;
mod regularisers;
mod threads;
