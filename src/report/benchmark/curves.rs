//! The best loss against wall time across runs: quantiles on a log-spaced time grid.

use super::Benchmark;

/// The median of the finite values of `v` (NaN if none).
pub(super) fn median(v: &mut [f64]) -> f64 {
    quantile(v, 0.5)
}

/// The `q`-quantile (linear interpolation between order statistics) of `v`'s values, NaNs left
/// out.
pub fn quantile(v: &mut [f64], q: f64) -> f64 {
    let mut xs: Vec<f64> = v.iter().copied().filter(|x| !x.is_nan()).collect();
    if xs.is_empty() {
        return f64::NAN;
    }
    xs.sort_by(f64::total_cmp);
    let pos = q.clamp(0.0, 1.0) * (xs.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    let f = pos - lo as f64;
    if lo == hi || f == 0.0 {
        xs[lo]
    } else {
        xs[lo] + f * (xs[hi] - xs[lo])
    }
}

/// Log-spaced wall times for the loss-versus-time curves: from the earliest first point to the
/// longest run.
pub fn time_grid(b: &Benchmark, points: usize) -> Vec<f64> {
    let runs = || b.runs.iter().flatten().flatten();
    let first = runs()
        .flat_map(|r| r.progress.iter().map(|p| p.wall))
        .filter(|w| *w > 0.0)
        .fold(f64::INFINITY, f64::min);
    let last = runs().map(|r| r.wall).fold(0.0, f64::max);
    if !(first.is_finite() && last > first) {
        return Vec::new();
    }
    let points = points.max(2);
    let r = (last / first).ln() / (points - 1) as f64;
    (0..points).map(|i| first * (r * i as f64).exp()).collect()
}

/// Per method, the (25 %, 50 %, 75 %) quantiles of the best loss over all its runs at each time
/// of `times`.
pub fn loss_quartiles(b: &Benchmark, times: &[f64]) -> Vec<Vec<[f64; 3]>> {
    b.runs
        .iter()
        .map(|runs| {
            times
                .iter()
                .map(|&t| {
                    let mut v: Vec<f64> = runs.iter().flatten().map(|r| r.loss_at(t)).collect();
                    [
                        quantile(&mut v, 0.25),
                        quantile(&mut v, 0.5),
                        quantile(&mut v, 0.75),
                    ]
                })
                .collect()
        })
        .collect()
}
