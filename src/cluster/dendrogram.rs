//! Average-linkage hierarchical clustering (kodama) and the dendrogram cut of SPEC §8.

use serde::{Deserialize, Serialize};

use super::neuron::distance;

/// One merge of the dendrogram (kodama's convention: the observations are clusters
/// `0..n`, merge `i` creates cluster `n + i`).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Merge {
    /// First merged cluster.
    pub a: usize,
    /// Second merged cluster.
    pub b: usize,
    /// Average-linkage distance between them.
    pub height: f64,
    /// Observations in the new cluster.
    pub size: usize,
}

/// A dendrogram over `n` observations: `n − 1` merges in order of increasing height.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Dendrogram {
    /// Number of observations.
    pub n: usize,
    /// The merges.
    pub merges: Vec<Merge>,
}

/// Condensed pairwise L2 distances (upper triangle, row by row), as kodama and SciPy use.
pub fn condensed_distances(points: &[Vec<f64>]) -> Vec<f64> {
    let n = points.len();
    let mut d = Vec::with_capacity(n * n.saturating_sub(1) / 2);
    for i in 0..n {
        for j in i + 1..n {
            d.push(distance(&points[i], &points[j]));
        }
    }
    d
}

/// Index of the pair `(i, j)`, `i < j`, in a condensed matrix over `n` observations.
pub fn condensed_index(n: usize, i: usize, j: usize) -> usize {
    debug_assert!(i < j && j < n);
    n * i - i * (i + 1) / 2 + (j - i - 1)
}

impl Dendrogram {
    /// Average linkage (UPGMA) on the L2 distances of `points` (at least one point, all
    /// finite).
    pub fn average_linkage(points: &[Vec<f64>]) -> Self {
        let n = points.len();
        if n < 2 {
            return Dendrogram {
                n,
                merges: Vec::new(),
            };
        }
        let mut condensed = condensed_distances(points);
        let d = kodama::linkage(&mut condensed, n, kodama::Method::Average);
        let mut merges: Vec<Merge> = d
            .steps()
            .iter()
            .map(|s| Merge {
                a: s.cluster1,
                b: s.cluster2,
                height: s.dissimilarity,
                size: s.size,
            })
            .collect();
        // Average linkage is monotone; kodama returns its steps sorted, keep it explicit.
        debug_assert!(merges.windows(2).all(|w| w[0].height <= w[1].height));
        merges.truncate(n - 1);
        Dendrogram { n, merges }
    }

    /// Number of clusters with members from at least `min_size` distinct groups after each
    /// number of merges `0..n` (entry `j`: after the first `j` merges). `group[i]` is the group
    /// (student) of observation `i`; with every observation in its own group this counts
    /// members.
    pub fn large_cluster_counts(&self, min_size: f64, group: &[usize]) -> Vec<usize> {
        assert_eq!(group.len(), self.n, "one group per observation");
        // Distinct groups per cluster, as sorted vectors (clusters are small).
        let mut sets: Vec<Vec<usize>> = group.iter().map(|&g| vec![g]).collect();
        let big = |s: usize| usize::from(s as f64 >= min_size);
        let mut count = self.n * big(1);
        let mut out = Vec::with_capacity(self.n);
        out.push(count);
        for m in &self.merges {
            let (a, b) = (
                std::mem::take(&mut sets[m.a]),
                std::mem::take(&mut sets[m.b]),
            );
            let mut u: Vec<usize> = a.iter().chain(&b).copied().collect();
            u.sort_unstable();
            u.dedup();
            count = count + big(u.len()) - big(a.len()) - big(b.len());
            sets.push(u);
            out.push(count);
        }
        out
    }

    /// The cut of SPEC §8: after the number of merges that maximises the number of clusters
    /// with members from at least `min_size` distinct groups (students); among ties, the last
    /// cut of the first plateau of that maximum (the coarsest cut before the count first
    /// drops).
    pub fn best_cut(&self, min_size: f64, group: &[usize]) -> Cut {
        let counts = self.large_cluster_counts(min_size, group);
        let (_, end) = first_plateau(&counts);
        self.cut_at(end, counts)
    }

    /// The cut after the first `j` merges; `counts` is [`Dendrogram::large_cluster_counts`].
    pub fn cut_at(&self, j: usize, counts: Vec<usize>) -> Cut {
        let height = if j == 0 {
            0.0
        } else {
            self.merges[j - 1].height
        };
        let next_height = self.merges.get(j).map(|m| m.height);
        Cut {
            merges: j,
            height,
            next_height,
            large_clusters: counts.get(j).copied().unwrap_or(0),
            labels: self.labels_after(j),
            counts,
        }
    }

    /// Cluster label of every observation after the first `j` merges (labels are kodama's
    /// cluster ids: `i < n` for a singleton, `n + k` for the cluster made by merge `k`).
    pub fn labels_after(&self, j: usize) -> Vec<usize> {
        let mut parent: Vec<usize> = (0..self.n + j).collect();
        for (k, m) in self.merges.iter().take(j).enumerate() {
            parent[m.a] = self.n + k;
            parent[m.b] = self.n + k;
        }
        (0..self.n)
            .map(|mut i| {
                while parent[i] != i {
                    i = parent[i];
                }
                i
            })
            .collect()
    }

    /// Leaf order of the dendrogram (for plotting): observations in the order a depth-first
    /// walk from the root visits them.
    pub fn leaf_order(&self) -> Vec<usize> {
        if self.n < 2 {
            return (0..self.n).collect();
        }
        let mut out = Vec::with_capacity(self.n);
        let mut stack = vec![self.n + self.merges.len() - 1];
        while let Some(c) = stack.pop() {
            if c < self.n {
                out.push(c);
            } else {
                let m = self.merges[c - self.n];
                stack.push(m.b);
                stack.push(m.a);
            }
        }
        out
    }
}

/// The first and last index of the first run of the maximum of `counts`.
pub fn first_plateau(counts: &[usize]) -> (usize, usize) {
    let best = counts.iter().copied().max().unwrap_or(0);
    let first = counts.iter().position(|&c| c == best).unwrap_or(0);
    let mut j = first;
    while j + 1 < counts.len() && counts[j + 1] == best {
        j += 1;
    }
    (first, j)
}

/// Where the dendrogram is cut.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Cut {
    /// Merges performed below the cut.
    pub merges: usize,
    /// Height of the last merge below the cut (0 when none).
    pub height: f64,
    /// Height of the first merge above the cut, if any: the cut lies in
    /// `[height, next_height)`.
    pub next_height: Option<f64>,
    /// Number of clusters with members from at least `γN` students at the cut.
    pub large_clusters: usize,
    /// Cluster label of each observation at the cut.
    #[serde(skip)]
    pub labels: Vec<usize>,
    /// Number of large clusters after each number of merges (the curve the cut maximises).
    #[serde(skip)]
    pub counts: Vec<usize>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn condensed_index_matches_the_loop_order() {
        let n = 6;
        let mut k = 0;
        for i in 0..n {
            for j in i + 1..n {
                assert_eq!(condensed_index(n, i, j), k);
                k += 1;
            }
        }
    }

    #[test]
    fn three_tight_groups_are_found_and_the_plateau_end_is_taken() {
        // Groups of 3 around 0, 10 and 20 on a line, plus one outlier at 100.
        let pts: Vec<Vec<f64>> = [0.0, 0.1, 0.2, 10.0, 10.1, 10.2, 20.0, 20.1, 20.2, 100.0]
            .iter()
            .map(|&x| vec![x])
            .collect();
        let d = Dendrogram::average_linkage(&pts);
        assert_eq!(d.merges.len(), 9);
        let cut = d.best_cut(3.0, &(0..10).collect::<Vec<_>>());
        assert_eq!(cut.large_clusters, 3);
        // 6 merges make the three groups; the 7th (at ~10) would join two of them.
        assert_eq!(cut.merges, 6);
        assert!(cut.height < 0.25 && cut.next_height.unwrap() > 9.0);
        let l = &cut.labels;
        assert!(l[0] == l[1] && l[1] == l[2] && l[3] == l[5] && l[6] == l[8]);
        assert!(l[0] != l[3] && l[3] != l[6] && l[9] != l[0]);
        // Counting groups, not members: the first group only counts once.
        let groups = [0, 0, 0, 1, 2, 3, 4, 5, 6, 7];
        assert_eq!(d.best_cut(3.0, &groups).large_clusters, 2);
        let mut order = d.leaf_order();
        order.sort_unstable();
        assert_eq!(order, (0..10).collect::<Vec<_>>());
    }
}
