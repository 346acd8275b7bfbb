//! Clustering one hidden layer over an ensemble of students: canonicalise, cluster, cut,
//! filter, collapse (SPEC §8 step 3).

use serde::{Deserialize, Serialize};

use super::dendrogram::{Cut, Dendrogram, first_plateau};
use super::neuron::{Neuron, canonicalise_masked, cosine, reference_direction};
use crate::error::{Error, Result};
use crate::net::SymmetryClass;

/// Options of the clustering step.
///
/// ```
/// use gradflow::cluster::ClusterConfig;
/// let c = ClusterConfig::default();
/// assert_eq!(c.gamma, 0.8);
/// assert!((c.beta - std::f64::consts::PI / 24.0).abs() < 1e-15);
/// assert_eq!((c.offbound_distance, c.negligible_outgoing), (20.0, 1e-3));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct ClusterConfig {
    /// A cluster is kept when it has at least `γ·N` members (`N` students).
    pub gamma: f64,
    /// A cluster is dropped when the median angle between its members exceeds `β` (radians).
    pub beta: f64,
    /// Neurons whose kink hyperplane `w·x + b = 0` lies farther than this from the origin
    /// (`|b|/‖w‖`, in input units) are constant or linear over any data of that radius:
    /// they are set aside before clustering (for positive-scaling activations all such neurons
    /// would otherwise share one canonical vector). Only applies to layers with a bias.
    pub offbound_distance: f64,
    /// Neurons whose outgoing weights (∞-norm, canonical form) are below this fraction of the
    /// largest in their student contribute nothing to the output (zero-type): they are set
    /// aside before clustering.
    pub negligible_outgoing: f64,
}

impl ClusterConfig {
    /// Checks the options for an ensemble of `n_students`: `γ ∈ (0, 1]`, `γN ≥ 2` (otherwise
    /// every single neuron would count as a cluster) and `β > 0`.
    pub fn check(&self, n_students: usize) -> Result<()> {
        if !(self.gamma > 0.0 && self.gamma <= 1.0) {
            return Err(Error::invalid(
                "gamma",
                format!("must lie in (0, 1], got {}", self.gamma),
            ));
        }
        let min_size = self.gamma * n_students as f64;
        if min_size < 2.0 {
            return Err(Error::invalid(
                "gamma",
                format!(
                    "γ·N = {}·{n_students} = {min_size:.2} < 2: every single neuron would be a cluster; use more students or a larger γ",
                    self.gamma
                ),
            ));
        }
        if self.offbound_distance.is_nan() || self.offbound_distance <= 0.0 {
            return Err(Error::invalid(
                "offbound distance",
                format!("must be positive, got {}", self.offbound_distance),
            ));
        }
        if !(0.0..1.0).contains(&self.negligible_outgoing) {
            return Err(Error::invalid(
                "negligible outgoing",
                format!("must lie in [0, 1), got {}", self.negligible_outgoing),
            ));
        }
        if self.beta.is_nan() || self.beta <= 0.0 {
            return Err(Error::invalid(
                "beta",
                format!("must be a positive angle in radians, got {}", self.beta),
            ));
        }
        Ok(())
    }
}

impl Default for ClusterConfig {
    fn default() -> Self {
        ClusterConfig {
            gamma: 0.8,
            beta: std::f64::consts::PI / 24.0,
            offbound_distance: 20.0,
            negligible_outgoing: 1e-3,
        }
    }
}

/// The hidden neurons of one layer of one trained student.
#[derive(Clone, Debug, PartialEq)]
pub struct StudentLayer {
    /// The student's identifier (its seed).
    pub id: u64,
    /// The student's final mean loss (the collapse keeps the lowest-loss student's copy).
    pub loss: f64,
    /// Its neurons in that layer.
    pub neurons: Vec<Neuron>,
}

/// Why a cluster was not turned into a neuron.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DropReason {
    /// Members from fewer than `γN` distinct students (copies within one student count once).
    TooSmall,
    /// Median pairwise angle above `β`.
    Unaligned,
}

/// A member of a cluster: which student and which of its neurons.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// Student identifier.
    pub student: u64,
    /// Neuron index within the student's layer.
    pub neuron: usize,
}

/// One cluster at the cut.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Cluster {
    /// Members.
    pub members: Vec<Member>,
    /// Number of distinct students among the members.
    pub students: usize,
    /// Median pairwise angle between the members' canonical vectors (radians; 0 for one
    /// member).
    pub median_angle: f64,
    /// Why it was dropped, if it was.
    pub dropped: Option<DropReason>,
    /// The collapsed neuron (canonical form) of a kept cluster.
    pub neuron: Option<Neuron>,
    /// The student whose copy was kept.
    pub winner: Option<u64>,
    /// Members of the winner that were left out of the collapse because they are not copies
    /// of the cluster's core (see [`cluster_layer`]): e.g. one neuron of a cancelling pair
    /// that the cut put into the cluster of a teacher neuron.
    #[serde(default)]
    pub winner_outliers: Vec<Member>,
    /// Indices of the members in [`LayerClustering::points`].
    #[serde(skip)]
    pub observations: Vec<usize>,
}

/// The result of clustering one layer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LayerClustering {
    /// Symmetry class used for canonicalisation.
    pub symmetry: SymmetryClass,
    /// Number of students.
    pub n_students: usize,
    /// Minimum number of distinct students in a kept cluster (`γN`).
    pub min_size: f64,
    /// The options used.
    pub config: ClusterConfig,
    /// The cut.
    pub cut: Cut,
    /// The dendrogram.
    pub dendrogram: Dendrogram,
    /// Every cluster at the cut: kept ones first (largest first), then dropped ones.
    pub clusters: Vec<Cluster>,
    /// Neurons set aside before clustering because their kink lies beyond
    /// [`ClusterConfig::offbound_distance`] (constant- or linear-type neurons).
    pub offbound: Vec<Member>,
    /// Neurons set aside before clustering because their outgoing weights are negligible
    /// (zero-type, [`ClusterConfig::negligible_outgoing`]).
    pub negligible: Vec<Member>,
    /// Canonical vectors of the clustered neurons, students in order (the rows of the
    /// similarity matrix).
    #[serde(skip)]
    pub points: Vec<Vec<f64>>,
}

impl LayerClustering {
    /// The recovered neurons (canonical form), one per kept cluster.
    pub fn neurons(&self) -> Vec<Neuron> {
        self.clusters
            .iter()
            .filter_map(|c| c.neuron.clone())
            .collect()
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

/// The winner's members of the cluster `idx` (those with `is_winner`) that are copies of the
/// cluster's core, and the others. The core is the medoid — the member with the smallest
/// median distance to the rest — and a copy lies within `3·s + 1e-3·(1 + ‖medoid‖)` of it, `s`
/// the median distance of the members to the medoid. When none does, the winner's member
/// nearest the medoid is its copy. For duplicates, even a split neuron whose parts have not
/// fully merged yet, this is every member of the winner (SPEC §8: average them); it keeps a
/// non-duplicate the cut happened to put into the cluster (e.g. one neuron of a cancelling
/// pair in a retrained deep layer, typically at a tenth of the neuron's norm or more) out of
/// the average.
fn winner_copies(
    points: &[Vec<f64>],
    idx: &[usize],
    is_winner: impl Fn(usize) -> bool,
) -> (Vec<usize>, Vec<usize>) {
    let dist = |i: usize, j: usize| -> f64 {
        points[i]
            .iter()
            .zip(&points[j])
            .map(|(a, b)| (a - b) * (a - b))
            .sum::<f64>()
            .sqrt()
    };
    // Median distance of each member to the others; the medoid has the smallest.
    let spread: Vec<f64> = idx
        .iter()
        .map(|&i| {
            median(
                idx.iter()
                    .filter(|&&j| j != i)
                    .map(|&j| dist(i, j))
                    .collect(),
            )
        })
        .collect();
    let (k, s) = spread
        .iter()
        .copied()
        .enumerate()
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap_or((0, 0.0));
    let medoid = idx[k];
    let norm = points[medoid].iter().map(|v| v * v).sum::<f64>().sqrt();
    let tol = 3.0 * s + 1e-3 * (1.0 + norm);
    let (mut copies, mut outliers): (Vec<usize>, Vec<usize>) = idx
        .iter()
        .copied()
        .filter(|&i| is_winner(i))
        .partition(|&i| dist(i, medoid) <= tol);
    if copies.is_empty() {
        let nearest = outliers
            .iter()
            .enumerate()
            .min_by(|a, b| dist(*a.1, medoid).total_cmp(&dist(*b.1, medoid)))
            .map(|(k, _)| k)
            .unwrap_or(0);
        copies.push(outliers.remove(nearest));
    }
    (copies, outliers)
}

/// Median pairwise angle (radians) between the points `idx`.
fn median_angle(points: &[Vec<f64>], idx: &[usize]) -> f64 {
    let mut angles = Vec::with_capacity(idx.len() * idx.len().saturating_sub(1) / 2);
    for (a, &i) in idx.iter().enumerate() {
        for &j in &idx[a + 1..] {
            angles.push(cosine(&points[i], &points[j]).acos());
        }
    }
    median(angles)
}

/// The end of the first plateau of the large-cluster count (SPEC §8's tie rule), except that
/// the walk along the plateau stops before a merge that absorbs an aligned large cluster
/// (median angle ≤ `β`) into an unaligned one: such a merge keeps the count (the cluster was
/// already large) but would make the `β` filter drop a cluster that was there to keep.
fn plateau_end_keeping_aligned(
    d: &Dendrogram,
    points: &[Vec<f64>],
    groups: &[usize],
    min_size: f64,
    beta: f64,
    first: usize,
    end: usize,
) -> usize {
    let n = d.n;
    let mut members: Vec<Vec<usize>> = (0..n).map(|i| vec![i]).collect();
    let mut aligned: Vec<Option<bool>> = vec![None; n];
    let distinct = |idx: &[usize]| {
        let mut g: Vec<usize> = idx.iter().map(|&i| groups[i]).collect();
        g.sort_unstable();
        g.dedup();
        g.len()
    };
    for (k, m) in d.merges.iter().enumerate().take(end) {
        let a = std::mem::take(&mut members[m.a]);
        let b = std::mem::take(&mut members[m.b]);
        let (al_a, al_b) = (aligned[m.a], aligned[m.b]);
        let mut c = a;
        c.extend(b);
        let large = distinct(&c) as f64 >= min_size;
        let al_c = large.then(|| median_angle(points, &c) <= beta);
        // State k + 1 is the cut after this merge; the plateau is first..=end.
        if k + 1 > first && al_c == Some(false) && (al_a == Some(true) || al_b == Some(true)) {
            return k;
        }
        members.push(c);
        aligned.push(al_c);
    }
    end
}

/// Checks the ensemble: at least two students, `γN ≥ 2`, equal shapes, finite weights.
fn validate(students: &[StudentLayer], cfg: &ClusterConfig) -> Result<()> {
    if students.len() < 2 {
        return Err(Error::invalid(
            "students",
            format!(
                "Expand-and-Cluster needs at least 2 students, got {}",
                students.len()
            ),
        ));
    }
    cfg.check(students.len())?;
    let first = &students[0];
    let shape = |s: &StudentLayer| {
        s.neurons
            .first()
            .map(|n| (n.incoming.len(), n.outgoing.len()))
    };
    for s in students {
        if s.neurons.is_empty() {
            return Err(Error::invalid(
                "students",
                format!("student {} has no neurons in this layer", s.id),
            ));
        }
        for (j, n) in s.neurons.iter().enumerate() {
            if Some((n.incoming.len(), n.outgoing.len())) != shape(first) {
                return Err(Error::invalid(
                    "students",
                    format!(
                        "student {} neuron {j} has {} incoming and {} outgoing weights, student {} has {:?}",
                        s.id,
                        n.incoming.len(),
                        n.outgoing.len(),
                        first.id,
                        shape(first)
                    ),
                ));
            }
            if n.incoming.iter().chain(&n.outgoing).any(|v| !v.is_finite()) {
                return Err(Error::invalid(
                    "students",
                    format!("student {} neuron {j} has a non-finite weight", s.id),
                ));
            }
        }
    }
    Ok(())
}

/// Clusters the neurons of one layer across `students` (SPEC §8 step 3): canonical vectors
/// per `symmetry`, average linkage on L2 distance, the cut maximising the number of clusters
/// with members from ≥ `γN` distinct students (end of the first plateau), the `β` median-angle filter, and the
/// collapse of each kept cluster to the lowest-loss student's member(s) — their incoming
/// vectors averaged, their outgoing weights summed; only the members that are copies of the
/// cluster's core count (a member far from it is reported in
/// [`Cluster::winner_outliers`]). With `has_bias`, the last incoming entry is
/// the bias and off-boundary neurons are set aside first.
///
/// Errors (never panics) for fewer than two students, `γN < 2`, students of different
/// shapes or non-finite weights.
pub fn cluster_layer(
    students: &[StudentLayer],
    symmetry: SymmetryClass,
    has_bias: bool,
    cfg: &ClusterConfig,
) -> Result<LayerClustering> {
    cluster_layer_masked(students, symmetry, has_bias, cfg, &[])
}

/// [`cluster_layer`] with the incoming coordinates `ignore` (uninformative inputs, see
/// [`uninformative_inputs`](super::uninformative_inputs)) left out of the canonical sign and
/// scale, the distances, the angles and the off-boundary test; the collapsed neurons keep
/// every coordinate.
pub fn cluster_layer_masked(
    students: &[StudentLayer],
    symmetry: SymmetryClass,
    has_bias: bool,
    cfg: &ClusterConfig,
    ignore: &[usize],
) -> Result<LayerClustering> {
    validate(students, cfg)?;
    if let Some(&i) = ignore
        .iter()
        .find(|&&i| i >= students[0].neurons[0].incoming.len() - usize::from(has_bias))
    {
        return Err(Error::invalid(
            "input mask",
            format!("input {i} is not an input of the layer"),
        ));
    }
    let obs = observations(students, symmetry, has_bias, cfg, ignore);
    let dendrogram = Dendrogram::average_linkage(&obs.points);
    let min_size = cfg.gamma * students.len() as f64;
    let groups: Vec<usize> = obs.owner.iter().map(|o| o.0).collect();
    let counts = dendrogram.large_cluster_counts(min_size, &groups);
    let (first, end) = first_plateau(&counts);
    let j = plateau_end_keeping_aligned(
        &dendrogram,
        &obs.points,
        &groups,
        min_size,
        cfg.beta,
        first,
        end,
    );
    let cut = dendrogram.cut_at(j, counts);

    // Group the observations by label, in order of first appearance.
    let mut groups: Vec<(usize, Vec<usize>)> = Vec::new();
    for (i, &l) in cut.labels.iter().enumerate() {
        match groups.iter_mut().find(|(lab, _)| *lab == l) {
            Some((_, g)) => g.push(i),
            None => groups.push((l, vec![i])),
        }
    }
    let mut clusters: Vec<Cluster> = groups
        .into_iter()
        .map(|(_, idx)| cluster_of(idx, &obs, students, min_size, cfg))
        .collect();
    clusters.sort_by_key(|c| (c.dropped.is_some(), std::cmp::Reverse(c.members.len())));
    Ok(LayerClustering {
        symmetry,
        n_students: students.len(),
        min_size,
        config: *cfg,
        cut,
        dendrogram,
        clusters,
        offbound: obs.offbound,
        negligible: obs.negligible,
        points: obs.points,
    })
}

/// The neurons of a layer's students prepared for clustering.
struct Observations {
    /// Canonical incoming vectors of the neurons that are clustered.
    points: Vec<Vec<f64>>,
    /// The canonical neurons behind `points`.
    canon: Vec<Neuron>,
    /// `(student index, neuron index)` of each point.
    owner: Vec<(usize, usize)>,
    /// Neurons set aside as constant/linear-type (kink far from the data).
    offbound: Vec<Member>,
    /// Neurons set aside as zero-type (negligible outgoing weights).
    negligible: Vec<Member>,
}

/// Canonicalises every student neuron (SPEC §8) and sets aside the zero-type and
/// constant/linear-type ones.
fn observations(
    students: &[StudentLayer],
    symmetry: SymmetryClass,
    has_bias: bool,
    cfg: &ClusterConfig,
    ignore: &[usize],
) -> Observations {
    let dim = students[0].neurons[0].incoming.len();
    let reference = reference_direction(dim);
    let mut obs = Observations {
        points: Vec::new(),
        canon: Vec::new(),
        owner: Vec::new(),
        offbound: Vec::new(),
        negligible: Vec::new(),
    };
    let out_norm = |n: &Neuron| n.outgoing.iter().fold(0.0f64, |m, a| m.max(a.abs()));
    for (si, s) in students.iter().enumerate() {
        let canonical: Vec<Neuron> = s
            .neurons
            .iter()
            .map(|n| canonicalise_masked(n, symmetry, &reference, ignore).0)
            .collect();
        let largest = canonical.iter().map(out_norm).fold(0.0, f64::max);
        for (j, (n, c)) in s.neurons.iter().zip(canonical).enumerate() {
            let member = Member {
                student: s.id,
                neuron: j,
            };
            if out_norm(&c) < cfg.negligible_outgoing * largest {
                obs.negligible.push(member);
                continue;
            }
            if has_bias {
                let (w, b) = n.incoming.split_at(dim - 1);
                let wn = w
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| !ignore.contains(i))
                    .map(|(_, x)| x * x)
                    .sum::<f64>()
                    .sqrt();
                if b[0].abs() > cfg.offbound_distance * wn {
                    obs.offbound.push(member);
                    continue;
                }
            }
            let mut point = c.incoming.clone();
            for &i in ignore {
                point[i] = 0.0;
            }
            obs.points.push(point);
            obs.canon.push(c);
            obs.owner.push((si, j));
        }
    }
    obs
}

/// One cluster of the cut (observations `idx`): kept or dropped (too few students, or not
/// aligned), and when kept its neuron — the mean incoming and summed outgoing weights of the
/// copies held by the lowest-loss student among its members.
fn cluster_of(
    idx: Vec<usize>,
    obs: &Observations,
    students: &[StudentLayer],
    min_size: f64,
    cfg: &ClusterConfig,
) -> Cluster {
    let (points, owner, canon) = (&obs.points, &obs.owner, &obs.canon);
    let member = |i: usize| Member {
        student: students[owner[i].0].id,
        neuron: owner[i].1,
    };
    let median_angle = median_angle(points, &idx);
    let mut distinct: Vec<usize> = idx.iter().map(|&i| owner[i].0).collect();
    distinct.sort_unstable();
    distinct.dedup();
    let dropped = if (distinct.len() as f64) < min_size {
        Some(DropReason::TooSmall)
    } else if median_angle > cfg.beta {
        Some(DropReason::Unaligned)
    } else {
        None
    };
    let mut winner_outliers = Vec::new();
    let (neuron, winner) = if dropped.is_none() {
        let best = *distinct
            .iter()
            .min_by(|&&a, &&b| students[a].loss.total_cmp(&students[b].loss))
            .unwrap_or(&distinct[0]);
        let (mine, outliers) = winner_copies(points, &idx, |i| owner[i].0 == best);
        winner_outliers = outliers.iter().map(|&i| member(i)).collect();
        let dim = canon[mine[0]].incoming.len();
        let mut incoming = vec![0.0; dim];
        let mut outgoing = vec![0.0; canon[mine[0]].outgoing.len()];
        for &i in &mine {
            for (acc, v) in incoming.iter_mut().zip(&canon[i].incoming) {
                *acc += v / mine.len() as f64;
            }
            for (acc, v) in outgoing.iter_mut().zip(&canon[i].outgoing) {
                *acc += v;
            }
        }
        (Some(Neuron { incoming, outgoing }), Some(students[best].id))
    } else {
        (None, None)
    };
    Cluster {
        members: idx.iter().map(|&i| member(i)).collect(),
        students: distinct.len(),
        median_angle,
        dropped,
        neuron,
        winner,
        winner_outliers,
        observations: idx,
    }
}
