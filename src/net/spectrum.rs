//! Eigenvalues of a symmetric matrix (the Hessian spectrum), by faer's self-adjoint
//! eigendecomposition (sequential: `dense.rs`).

use faer::MatRef;

use crate::error::{Error, Result};

/// Checks a symmetric `p × p` matrix's length and finiteness.
fn check_symmetric(a: &[f64], p: usize) -> Result<()> {
    if a.len() != p * p {
        return Err(Error::Length {
            what: "symmetric matrix".into(),
            expected: p * p,
            got: a.len(),
        });
    }
    if let Some(i) = a.iter().position(|v| !v.is_finite()) {
        return Err(Error::Numerical {
            routine: "Hessian spectrum".into(),
            reason: format!("non-finite Hessian entry at ({}, {})", i / p, i % p),
        });
    }
    Ok(())
}

fn not_converged() -> Error {
    Error::Numerical {
        routine: "symmetric eigendecomposition".into(),
        reason: "the iteration did not converge".into(),
    }
}

/// Eigenvalues (ascending) of the symmetric `p × p` matrix stored in `a` (row- or
/// column-major: only the lower triangle is read).
pub fn symmetric_eigenvalues(a: &[f64], p: usize) -> Result<Vec<f64>> {
    check_symmetric(a, p)?;
    crate::dense::sym_eigenvalues(MatRef::from_column_major_slice(a, p, p))
        .ok_or_else(not_converged)
}

/// The lowest eigenvalue of the symmetric `p × p` matrix `a`, its unit eigenvector, and the
/// largest eigenvalue (one eigendecomposition).
pub fn lowest_eigenpair(a: &[f64], p: usize) -> Result<(f64, Vec<f64>, f64)> {
    check_symmetric(a, p)?;
    let (s, u) = crate::dense::sym_eigen(MatRef::from_column_major_slice(a, p, p))
        .ok_or_else(not_converged)?;
    Ok((s[0], (0..p).map(|i| u[(i, 0)]).collect(), s[p - 1]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eigenvalues_of_a_known_matrix() {
        // [[2,1],[1,2]] has eigenvalues 1 and 3.
        let ev = symmetric_eigenvalues(&[2.0, 1.0, 1.0, 2.0], 2).unwrap();
        assert!((ev[0] - 1.0).abs() < 1e-14 && (ev[1] - 3.0).abs() < 1e-14);
        let (l, v, top) = lowest_eigenpair(&[2.0, 1.0, 1.0, 2.0], 2).unwrap();
        assert!((l - 1.0).abs() < 1e-14 && (v[0] + v[1]).abs() < 1e-14);
        assert!((top - 3.0).abs() < 1e-14);
    }
}
