//! Minimum-cost one-to-one assignment (Hungarian method with potentials, Kuhn 1955 /
//! Munkres 1957; the O(n²m) shortest-augmenting-path form of Jonker & Volgenant).

/// For a cost matrix with `rows` rows and `cols` columns (row-major), returns for every row its
/// column in a minimum-total-cost matching that matches `min(rows, cols)` pairs; rows left
/// unmatched (when `rows > cols`) get `None`.
pub fn min_cost_assignment(cost: &[f64], rows: usize, cols: usize) -> Vec<Option<usize>> {
    assert_eq!(cost.len(), rows * cols, "cost matrix shape");
    if rows == 0 || cols == 0 {
        return vec![None; rows];
    }
    if rows > cols {
        // Solve the transpose and invert the matching.
        let t: Vec<f64> = (0..cols)
            .flat_map(|c| (0..rows).map(move |r| cost[r * cols + c]))
            .collect();
        let col_to_row = min_cost_assignment(&t, cols, rows);
        let mut out = vec![None; rows];
        for (c, r) in col_to_row.into_iter().enumerate() {
            if let Some(r) = r {
                out[r] = Some(c);
            }
        }
        return out;
    }
    // rows ≤ cols: 1-based potentials u (rows), v (cols); p[j] = row matched to column j.
    let (n, m) = (rows, cols);
    let mut u = vec![0.0; n + 1];
    let mut v = vec![0.0; m + 1];
    let mut p = vec![0usize; m + 1];
    let mut way = vec![0usize; m + 1];
    for i in 1..=n {
        p[0] = i;
        let mut j0 = 0usize;
        let mut minv = vec![f64::INFINITY; m + 1];
        let mut used = vec![false; m + 1];
        loop {
            used[j0] = true;
            let i0 = p[j0];
            let mut delta = f64::INFINITY;
            let mut j1 = 0usize;
            for j in 1..=m {
                if !used[j] {
                    let cur = cost[(i0 - 1) * m + (j - 1)] - u[i0] - v[j];
                    if cur < minv[j] {
                        minv[j] = cur;
                        way[j] = j0;
                    }
                    if minv[j] < delta {
                        delta = minv[j];
                        j1 = j;
                    }
                }
            }
            for j in 0..=m {
                if used[j] {
                    u[p[j]] += delta;
                    v[j] -= delta;
                } else {
                    minv[j] -= delta;
                }
            }
            j0 = j1;
            if p[j0] == 0 {
                break;
            }
        }
        loop {
            let j1 = way[j0];
            p[j0] = p[j1];
            j0 = j1;
            if j0 == 0 {
                break;
            }
        }
    }
    let mut out = vec![None; n];
    for j in 1..=m {
        if p[j] != 0 {
            out[p[j] - 1] = Some(j - 1);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn total(cost: &[f64], cols: usize, a: &[Option<usize>]) -> f64 {
        a.iter()
            .enumerate()
            .filter_map(|(r, c)| c.map(|c| cost[r * cols + c]))
            .sum()
    }

    fn brute(cost: &[f64], rows: usize, cols: usize) -> f64 {
        // Best over all injective maps rows → cols (rows ≤ cols, small).
        fn rec(cost: &[f64], rows: usize, cols: usize, r: usize, used: &mut Vec<bool>) -> f64 {
            if r == rows {
                return 0.0;
            }
            let mut best = f64::INFINITY;
            for c in 0..cols {
                if !used[c] {
                    used[c] = true;
                    best = best.min(cost[r * cols + c] + rec(cost, rows, cols, r + 1, used));
                    used[c] = false;
                }
            }
            best
        }
        rec(cost, rows, cols, 0, &mut vec![false; cols])
    }

    #[test]
    fn matches_brute_force_on_random_rectangles() {
        let mut s = crate::rng::Stream::new(5, 0);
        for (rows, cols) in [(1, 1), (3, 3), (3, 5), (5, 3), (6, 6), (4, 7)] {
            for _ in 0..20 {
                let cost: Vec<f64> = (0..rows * cols).map(|_| s.uniform()).collect();
                let a = min_cost_assignment(&cost, rows, cols);
                assert_eq!(a.iter().flatten().count(), rows.min(cols));
                let mut seen: Vec<usize> = a.iter().flatten().copied().collect();
                seen.sort_unstable();
                seen.dedup();
                assert_eq!(seen.len(), rows.min(cols));
                let best = if rows <= cols {
                    brute(&cost, rows, cols)
                } else {
                    let cost = &cost;
                    let t: Vec<f64> = (0..cols)
                        .flat_map(|c| (0..rows).map(move |r| cost[r * cols + c]))
                        .collect();
                    brute(&t, cols, rows)
                };
                assert!((total(&cost, cols, &a) - best).abs() < 1e-12);
            }
        }
    }
}
