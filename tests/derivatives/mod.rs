//! Gradient and Hessian against central finite differences.

mod finite_differences;
