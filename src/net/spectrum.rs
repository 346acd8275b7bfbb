//! Eigenvalues of a symmetric matrix (the Hessian spectrum), by faer's self-adjoint
//! eigendecomposition.

use faer::{MatRef, Side};

use crate::error::{Error, Result};

/// Eigenvalues (ascending) of the symmetric `p × p` matrix stored in `a` (row- or
/// column-major: only the lower triangle is read).
pub fn symmetric_eigenvalues(a: &[f64], p: usize) -> Result<Vec<f64>> {
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
    let m = MatRef::from_column_major_slice(a, p, p);
    m.self_adjoint_eigenvalues(Side::Lower)
        .map_err(|e| Error::Numerical {
            routine: "symmetric eigendecomposition".into(),
            reason: format!("{e:?}"),
        })
}

/// The lowest eigenvalue of the symmetric `p × p` matrix `a` and its unit eigenvector.
pub fn lowest_eigenpair(a: &[f64], p: usize) -> Result<(f64, Vec<f64>)> {
    symmetric_eigenvalues(a, p)?; // the checks
    let eig = MatRef::from_column_major_slice(a, p, p)
        .self_adjoint_eigen(Side::Lower)
        .map_err(|e| Error::Numerical {
            routine: "symmetric eigendecomposition".into(),
            reason: format!("{e:?}"),
        })?;
    Ok((eig.S()[0], (0..p).map(|i| eig.U()[(i, 0)]).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eigenvalues_of_a_known_matrix() {
        // [[2,1],[1,2]] has eigenvalues 1 and 3.
        let ev = symmetric_eigenvalues(&[2.0, 1.0, 1.0, 2.0], 2).unwrap();
        assert!((ev[0] - 1.0).abs() < 1e-14 && (ev[1] - 3.0).abs() < 1e-14);
        let (l, v) = lowest_eigenpair(&[2.0, 1.0, 1.0, 2.0], 2).unwrap();
        assert!((l - 1.0).abs() < 1e-14 && (v[0] + v[1]).abs() < 1e-14);
    }
}
