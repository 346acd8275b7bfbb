//! Dense decompositions that do not depend on the calling thread pool.
//!
//! faer's high-level `thin_svd`, `self_adjoint_eigen`, `llt` and matrix products run with its
//! *global* parallelism, by default every thread of the rayon pool the call happens to run on.
//! Blocked algorithms split their work by the thread count, so the last bits of a result would
//! depend on where it is computed: a student trained inside a one-thread study task and the same
//! student trained by `recover` on the main thread (the global pool) would differ. Every
//! decomposition whose result feeds a run goes through these sequential twins instead, so a run
//! is reproducible bit for bit whatever pool it runs in. (The kernels of [`crate::net`] and the
//! factorisations of `gradflow-solvers` already pass `Par::Seq`.)

use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::{evd, matmul, svd};
use faer::{Accum, Mat, MatRef, Par};

/// Eigenvalues (ascending) and eigenvectors (columns) of the symmetric matrix `a`; only its
/// lower triangle is read. `None` when the iteration does not converge.
pub(crate) fn sym_eigen(a: MatRef<'_, f64>) -> Option<(Vec<f64>, Mat<f64>)> {
    let n = a.nrows();
    let mut u = Mat::zeros(n, n);
    let s = sym_evd(a, Some(&mut u))?;
    Some((s, u))
}

/// Eigenvalues (ascending) of the symmetric matrix `a` (lower triangle read).
pub(crate) fn sym_eigenvalues(a: MatRef<'_, f64>) -> Option<Vec<f64>> {
    sym_evd(a, None)
}

fn sym_evd(a: MatRef<'_, f64>, u: Option<&mut Mat<f64>>) -> Option<Vec<f64>> {
    let n = a.nrows();
    debug_assert_eq!(n, a.ncols());
    let compute = if u.is_some() {
        evd::ComputeEigenvectors::Yes
    } else {
        evd::ComputeEigenvectors::No
    };
    let mut s = faer::diag::Diag::<f64>::zeros(n);
    let mut mem = MemBuffer::new(evd::self_adjoint_evd_scratch::<f64>(
        n,
        compute,
        Par::Seq,
        Default::default(),
    ));
    evd::self_adjoint_evd(
        a,
        s.as_mut(),
        u.map(|u| u.as_mut()),
        Par::Seq,
        MemStack::new(&mut mem),
        Default::default(),
    )
    .ok()?;
    Some((0..n).map(|i| s[i]).collect())
}

/// The thin SVD `a = U·diag(s)·Vᵀ`: `(U, s, V)` with `min(rows, cols)` columns, `s` descending.
/// `None` when the iteration does not converge.
pub(crate) fn thin_svd(a: MatRef<'_, f64>) -> Option<(Mat<f64>, Vec<f64>, Mat<f64>)> {
    let (m, n) = a.shape();
    let k = m.min(n);
    let (mut u, mut v) = (Mat::zeros(m, k), Mat::zeros(n, k));
    let mut s = faer::diag::Diag::<f64>::zeros(k);
    let mut mem = MemBuffer::new(svd::svd_scratch::<f64>(
        m,
        n,
        svd::ComputeSvdVectors::Thin,
        svd::ComputeSvdVectors::Thin,
        Par::Seq,
        Default::default(),
    ));
    svd::svd(
        a,
        s.as_mut(),
        Some(u.as_mut()),
        Some(v.as_mut()),
        Par::Seq,
        MemStack::new(&mut mem),
        Default::default(),
    )
    .ok()?;
    Some((u, (0..k).map(|i| s[i]).collect(), v))
}

/// The lower Cholesky factor `L` of the symmetric matrix `a` (lower triangle read; the strict
/// upper triangle of the result is zero). `None` when `a` is not numerically positive definite.
pub(crate) fn cholesky_lower(a: MatRef<'_, f64>) -> Option<Mat<f64>> {
    use faer::linalg::cholesky::llt::factor;
    let n = a.nrows();
    let mut l = Mat::from_fn(n, n, |i, j| if i >= j { a[(i, j)] } else { 0.0 });
    let mut mem = MemBuffer::new(factor::cholesky_in_place_scratch::<f64>(
        n,
        Par::Seq,
        Default::default(),
    ));
    factor::cholesky_in_place(
        l.as_mut(),
        Default::default(),
        Par::Seq,
        MemStack::new(&mut mem),
        Default::default(),
    )
    .ok()?;
    // The factorisation may leave workspace values above the diagonal.
    for j in 1..n {
        for i in 0..j {
            l[(i, j)] = 0.0;
        }
    }
    Some(l)
}

/// The product `a·b`, computed sequentially.
pub(crate) fn mul(a: MatRef<'_, f64>, b: MatRef<'_, f64>) -> Mat<f64> {
    let mut c = Mat::zeros(a.nrows(), b.ncols());
    matmul::matmul(c.as_mut(), Accum::Replace, a, b, 1.0, Par::Seq);
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A symmetric positive definite test matrix with known structure.
    fn spd(n: usize) -> Mat<f64> {
        let b = Mat::from_fn(n, n, |i, j| ((i * 7 + j * 3) % 11) as f64 / 11.0 - 0.4);
        let mut a = mul(b.as_ref(), b.transpose());
        for i in 0..n {
            a[(i, i)] += 1.0;
        }
        a
    }

    fn max_abs(a: &Mat<f64>) -> f64 {
        let mut m = 0.0_f64;
        for j in 0..a.ncols() {
            for i in 0..a.nrows() {
                m = m.max(a[(i, j)].abs());
            }
        }
        m
    }

    #[test]
    fn the_decompositions_reconstruct_their_matrix() {
        let a = spd(9);
        let (s, u) = sym_eigen(a.as_ref()).unwrap();
        assert!(s.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(sym_eigenvalues(a.as_ref()).unwrap(), s);
        let d = Mat::from_fn(9, 9, |i, j| if i == j { s[i] } else { 0.0 });
        let back = mul(mul(u.as_ref(), d.as_ref()).as_ref(), u.transpose());
        assert!(max_abs(&(&back - &a)) < 1e-12);

        let l = cholesky_lower(a.as_ref()).unwrap();
        assert!(max_abs(&(&mul(l.as_ref(), l.transpose()) - &a)) < 1e-12);
        let mut neg = a.clone();
        neg[(3, 3)] = -5.0;
        assert!(cholesky_lower(neg.as_ref()).is_none());

        let r = Mat::from_fn(12, 5, |i, j| {
            ((i * 5 + j * 2) % 7) as f64 - 3.0 + 0.1 * j as f64
        });
        let (u, s, v) = thin_svd(r.as_ref()).unwrap();
        assert_eq!((u.ncols(), s.len(), v.ncols()), (5, 5, 5));
        let d = Mat::from_fn(5, 5, |i, j| if i == j { s[i] } else { 0.0 });
        let back = mul(mul(u.as_ref(), d.as_ref()).as_ref(), v.transpose());
        assert!(max_abs(&(&back - &r)) < 1e-12);
    }

    /// The point of the module: the same bits inside a one-thread pool and a four-thread pool
    /// (faer's high-level calls differ in the last bits here: the product below and the tall SVD
    /// of the output-layer least squares).
    #[test]
    fn results_do_not_depend_on_the_calling_pool() {
        let a = spd(150);
        let tall = Mat::from_fn(3000, 6, |i, j| {
            ((i * 13 + j * 7) % 17) as f64 / 17.0 + (i as f64).sin()
        });
        let rhs = Mat::from_fn(3000, 1, |i, _| (i as f64 * 0.37).cos());
        let run = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| {
                    let (s, u) = sym_eigen(a.as_ref()).unwrap();
                    let (tu, sv, tv) = thin_svd(tall.as_ref()).unwrap();
                    let l = cholesky_lower(a.as_ref()).unwrap();
                    let p = mul(tall.transpose(), rhs.as_ref());
                    let mut bits: Vec<u64> = s.iter().chain(&sv).map(|x| x.to_bits()).collect();
                    for m in [&u, &tu, &tv, &l, &p] {
                        for j in 0..m.ncols() {
                            bits.extend((0..m.nrows()).map(|i| m[(i, j)].to_bits()));
                        }
                    }
                    bits
                })
        };
        assert_eq!(run(1), run(4));
    }
}
