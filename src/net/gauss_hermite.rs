//! Gauss–Hermite quadrature for the standard normal, and the quadrature grid as a weighted
//! data set (MLPGradientFlow.jl's `gauss_hermite_net`): a sample loss on it approximates the
//! population loss under `x ~ N(0, I_d)` for any network, deep ones included, in low `d`.

use faer::Mat;

use super::data::Dataset;
use super::network::Network;
use crate::error::{Error, Result};

/// Largest grid [`gauss_hermite_dataset`] builds (points after pruning).
pub const MAX_GRID_POINTS: usize = 20_000_000;

/// The most nodes of a one-dimensional rule (its Jacobi matrix is dense, `n × n`).
pub const MAX_RULE_POINTS: usize = 1_000;

/// The most multi-indices a pruned grid enumerates (a pruned grid is still walked in full).
pub const MAX_ENUMERATED: f64 = 1e9;

/// Nodes and weights of the `n`-point Gauss–Hermite rule for the standard normal density
/// (probabilists' Hermite polynomials; the weights sum to one), exact for polynomials of
/// degree `2n − 1`. Computed by the Golub–Welsch algorithm (Math. Comp. 23, 1969): the nodes
/// are the eigenvalues of the Jacobi matrix of the recurrence `x Heₖ = Heₖ₊₁ + k Heₖ₋₁`, the
/// weights the squared first components of its unit eigenvectors.
///
/// ```
/// let (x, w) = gradflow::net::gauss_hermite::gauss_hermite_rule(5).unwrap();
/// let var: f64 = x.iter().zip(&w).map(|(x, w)| w * x * x).sum();
/// assert!((var - 1.0).abs() < 1e-14);
/// ```
///
/// # Errors
/// If `n` is 0 or the eigendecomposition fails.
pub fn gauss_hermite_rule(n: usize) -> Result<(Vec<f64>, Vec<f64>)> {
    if n == 0 {
        return Err(Error::invalid("points", "must be at least 1"));
    }
    if n > MAX_RULE_POINTS {
        return Err(Error::invalid(
            "points",
            format!("{n} nodes per dimension exceed the limit of {MAX_RULE_POINTS}"),
        ));
    }
    let mut j = Mat::<f64>::zeros(n, n);
    for k in 1..n {
        let b = (k as f64).sqrt();
        j[(k, k - 1)] = b;
        j[(k - 1, k)] = b;
    }
    let (s, u) = crate::dense::sym_eigen(j.as_ref()).ok_or_else(|| Error::Numerical {
        routine: "Gauss–Hermite eigendecomposition".into(),
        reason: "the iteration did not converge".into(),
    })?;
    let mut x: Vec<f64> = (0..n).map(|i| s[i]).collect();
    let mut w: Vec<f64> = (0..n).map(|i| u[(0, i)] * u[(0, i)]).collect();
    // Symmetrise (the rule is symmetric; the eigensolver's round-off is not).
    for i in 0..n / 2 {
        let (xa, xb) = (x[i], x[n - 1 - i]);
        x[i] = 0.5 * (xa - xb);
        x[n - 1 - i] = -x[i];
        let wm = 0.5 * (w[i] + w[n - 1 - i]);
        w[i] = wm;
        w[n - 1 - i] = wm;
    }
    if n % 2 == 1 {
        x[n / 2] = 0.0;
    }
    let total: f64 = w.iter().sum();
    w.iter_mut().for_each(|v| *v /= total);
    Ok((x, w))
}

/// The tensor-product Gauss–Hermite grid in `d = teacher.spec.input_dim` dimensions with
/// `points` nodes per dimension as a weighted data set labelled by `teacher` (weights sum to
/// one, so its mean loss approximates `E_{x~N(0,I)}[(f − f*)²]`). Nodes whose weight is below
/// `prune` times the largest are left out (MLPGradientFlow.jl prunes at the smallest
/// one-dimensional weight ratio; `0` keeps every node).
///
/// # Errors
/// If the grid would hold more than [`MAX_GRID_POINTS`] points, `points` is 0 or `prune` is
/// not in `[0, 1)`.
pub fn gauss_hermite_dataset(teacher: &Network, points: usize, prune: f64) -> Result<Dataset> {
    if !(0.0..1.0).contains(&prune) {
        return Err(Error::invalid("prune", "must lie in [0, 1)"));
    }
    let d = teacher.spec.input_dim;
    let total = (points as f64).powi(d as i32);
    if prune == 0.0 && total > MAX_GRID_POINTS as f64 {
        return Err(Error::invalid(
            "points",
            format!("{points}^{d} grid points exceed the limit of {MAX_GRID_POINTS}"),
        ));
    }
    if total > MAX_ENUMERATED {
        return Err(Error::invalid(
            "points",
            format!(
                "{points}^{d} = {total:.1e} grid nodes are too many to walk even when pruned \
                 (limit {MAX_ENUMERATED:.0e}); use fewer points or the exact infinite-data loss"
            ),
        ));
    }
    let (x1, w1) = gauss_hermite_rule(points)?;
    let wmax = w1.iter().copied().fold(0.0, f64::max).powi(d as i32);
    let mut xs = Vec::new();
    let mut ws = Vec::new();
    let mut idx = vec![0usize; d];
    loop {
        let w: f64 = idx.iter().map(|&i| w1[i]).product();
        if w >= prune * wmax {
            if ws.len() >= MAX_GRID_POINTS {
                return Err(Error::invalid(
                    "points",
                    format!("the pruned grid exceeds the limit of {MAX_GRID_POINTS} points"),
                ));
            }
            xs.extend(idx.iter().map(|&i| x1[i]));
            ws.push(w);
        }
        // Next multi-index.
        let mut k = 0;
        while k < d {
            idx[k] += 1;
            if idx[k] < points {
                break;
            }
            idx[k] = 0;
            k += 1;
        }
        if k == d {
            break;
        }
    }
    let total: f64 = ws.iter().sum();
    ws.iter_mut().for_each(|w| *w /= total);
    let y = teacher.predict(&xs)?;
    Dataset::from_row_major(&xs, d, &y, teacher.spec.output_dim())?.with_weights(ws)
}
