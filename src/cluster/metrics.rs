//! Recovery metrics against a known teacher (SPEC §8): rmse, `m̂/r`, and per layer a
//! one-to-one matching of teacher and recovered neurons with cosine distances.

use serde::{Deserialize, Serialize};

use super::assignment::min_cost_assignment;
use super::neuron::{canonicalise_masked, cosine, reference_direction};
use crate::error::Result;
use crate::net::{Dataset, Loss, Network, Objective, SymmetryClass};

/// A network counts as reaching the teacher's function when its rmse on the data is at most
/// this (the paper's success criterion, SPEC §8); the one definition every report uses.
pub const SUCCESS_RMSE: f64 = 1e-14;

/// Metrics of one hidden layer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LayerMetrics {
    /// Hidden layer (1-based).
    pub layer: usize,
    /// Teacher width `r`.
    pub teacher_width: usize,
    /// Teacher neurons (0-based) whose outgoing weights are all zero: they do not affect the
    /// output, so no method can recover them from input–output data; they are left out of
    /// the matching (`null` in `per_teacher_neuron`).
    #[serde(default)]
    pub teacher_dead: Vec<usize>,
    /// `r` minus the dead neurons: the width the data determine.
    #[serde(default)]
    pub teacher_effective_width: usize,
    /// Recovered width `m̂` (not counting the linear neurons).
    pub recovered_width: usize,
    /// Neurons of the recovered layer that represent its affine part (even+linear
    /// activations; see `LayerReport::linear_neurons`).
    pub linear_neurons: usize,
    /// `m̂ / r`.
    pub width_ratio: f64,
    /// How teacher and recovered neurons are paired.
    pub matching: String,
    /// Whether the sign of a neuron is identifiable (otherwise `1 − |cos|` is used).
    pub sign_identifiable: bool,
    /// Number of matched pairs (`min(r, m̂)`).
    pub matched: usize,
    /// Mean cosine distance of the matched incoming vectors `[w; b]`.
    pub input_cosine_mean: f64,
    /// Largest such distance.
    pub input_cosine_max: f64,
    /// Cosine distance of each teacher neuron to its match (`null` when unmatched).
    pub per_teacher_neuron: Vec<Option<f64>>,
}

/// All metrics of a recovery against a teacher.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecoveryMetrics {
    /// Root-mean-square error of the recovered network on the data.
    pub rmse: f64,
    /// Mean loss `L_sum / N` (SPEC §3).
    pub loss: f64,
    /// Whether `rmse ≤` [`SUCCESS_RMSE`] (the paper's success criterion).
    pub success: bool,
    /// Per hidden layer.
    pub layers: Vec<LayerMetrics>,
    /// Cosine distance between the teacher's and the recovered output weights of matched
    /// neurons of the last hidden layer (all outputs concatenated; canonical signs).
    pub output_cosine_distance: f64,
    /// Largest relative error among those output weights.
    pub output_max_relative_error: f64,
}

/// The network with every hidden neuron in canonical form (incoming row negated/normalised,
/// the matching column of the next layer adjusted as [`canonicalise`](crate::cluster::neuron::canonicalise) adjusts outgoing
/// weights). For comparison only: for odd+constant and even+linear classes the function
/// changes by a constant or a linear term.
pub fn canonical_network(net: &Network) -> Network {
    canonical_network_masked(net, &[])
}

/// [`canonical_network`] with the first layer's signs and scales decided without the inputs
/// `ignore` ([`canonicalise_masked`]).
pub fn canonical_network_masked(net: &Network, ignore: &[usize]) -> Network {
    let mut out = net.clone();
    let layouts = net.spec.layouts();
    for l in 0..net.spec.depth().saturating_sub(1) {
        let class = net.spec.layers[l].activation.symmetry();
        let lay = &layouts[l];
        let next = &layouts[l + 1];
        let dim = lay.cols + usize::from(lay.bias.is_some());
        let reference = reference_direction(dim);
        for j in 0..lay.rows {
            let mut incoming: Vec<f64> = out.params[lay.w(j, 0)..lay.w(j, 0) + lay.cols].to_vec();
            if let Some(b) = &lay.bias {
                incoming.push(out.params[b.start + j]);
            }
            let outgoing: Vec<f64> = (0..next.rows).map(|o| out.params[next.w(o, j)]).collect();
            let (c, _) = canonicalise_masked(
                &super::neuron::Neuron { incoming, outgoing },
                class,
                &reference,
                if l == 0 { ignore } else { &[] },
            );
            out.params[lay.w(j, 0)..lay.w(j, 0) + lay.cols]
                .copy_from_slice(&c.incoming[..lay.cols]);
            if let Some(b) = &lay.bias {
                out.params[b.start + j] = c.incoming[lay.cols];
            }
            for (o, a) in c.outgoing.iter().enumerate() {
                out.params[next.w(o, j)] = *a;
            }
        }
    }
    out
}

/// Neurons of hidden layer `l` (0-based) whose outgoing weights are all zero.
pub fn dead_neurons(net: &Network, l: usize) -> Vec<usize> {
    let layouts = net.spec.layouts();
    let (Some(lay), Some(next)) = (layouts.get(l), layouts.get(l + 1)) else {
        return Vec::new();
    };
    (0..lay.rows)
        .filter(|&j| (0..next.rows).all(|o| net.params[next.w(o, j)].abs() < f64::MIN_POSITIVE))
        .collect()
}

fn row(net: &Network, l: usize, j: usize, cols: &[usize]) -> Vec<f64> {
    let lay = &net.spec.layouts()[l];
    let mut v: Vec<f64> = cols.iter().map(|&c| net.params[lay.w(j, c)]).collect();
    if let Some(b) = &lay.bias {
        v.push(net.params[b.start + j]);
    }
    v
}

/// Compares a recovered network with the teacher on `data`: rmse, and for every hidden layer
/// present in both an optimal one-to-one matching (Hungarian method on the cosine-distance
/// matrix) of canonical incoming vectors, restricted to the inputs matched in the layer below.
///
/// `linear_neurons[l]` neurons of hidden layer `l` represent an affine term: they take part in
/// the matching but are not counted in `m̂`. The inputs `ignore_inputs` (uninformative ones,
/// [`uninformative_inputs`](super::uninformative_inputs)) are left out of the first layer's
/// vectors, their weights folded into the bias at their mean over `data`
/// ([`fold_network_inputs`](super::fold_network_inputs)).
pub fn compare(
    teacher: &Network,
    recovered: &Network,
    data: &Dataset,
    linear_neurons: &[usize],
    ignore_inputs: &[usize],
) -> Result<RecoveryMetrics> {
    let mut obj = Objective::new(&recovered.spec, data, Loss::Mse)?;
    let loss_sum = obj.loss(&recovered.params);
    let loss = loss_sum * obj.mean_scale();
    let rmse = obj.rmse_of(loss_sum).unwrap_or(f64::NAN);
    // Weights on uninformative inputs folded into the bias at the inputs' means: only their
    // sum with the bias is determined by the data.
    let means = super::input_means(data);
    let t = canonical_network_masked(
        &super::fold_network_inputs(teacher, ignore_inputs, &means),
        ignore_inputs,
    );
    let s = canonical_network_masked(
        &super::fold_network_inputs(recovered, ignore_inputs, &means),
        ignore_inputs,
    );
    let hidden = teacher.spec.depth().min(recovered.spec.depth()) - 1;
    // Input coordinates matched so far: (teacher index, recovered index).
    let mut pairs: Vec<(usize, usize)> = (0..teacher.spec.input_dim)
        .map(|i| (i, i))
        .filter(|&(i, _)| i < recovered.spec.input_dim && !ignore_inputs.contains(&i))
        .collect();
    let mut layers = Vec::new();
    for l in 0..hidden {
        let class = teacher.spec.layers[l].activation.symmetry();
        let sign_identifiable = class == SymmetryClass::None;
        let (r, m) = (teacher.spec.width(l + 1), recovered.spec.width(l + 1));
        let tcols: Vec<usize> = pairs.iter().map(|p| p.0).collect();
        let scols: Vec<usize> = pairs.iter().map(|p| p.1).collect();
        let dead = dead_neurons(teacher, l);
        let live: Vec<usize> = (0..r).filter(|j| !dead.contains(j)).collect();
        let trows: Vec<Vec<f64>> = live.iter().map(|&j| row(&t, l, j, &tcols)).collect();
        let srows: Vec<Vec<f64>> = (0..m).map(|j| row(&s, l, j, &scols)).collect();
        let dist = |a: &[f64], b: &[f64]| {
            let c = cosine(a, b);
            1.0 - if sign_identifiable { c } else { c.abs() }
        };
        let cost: Vec<f64> = trows
            .iter()
            .flat_map(|a| srows.iter().map(move |b| dist(a, b)))
            .collect();
        let assign_live = min_cost_assignment(&cost, live.len(), m);
        // Back to teacher indices: dead neurons unmatched.
        let mut assign: Vec<Option<usize>> = vec![None; r];
        let mut per: Vec<Option<f64>> = vec![None; r];
        for (k, c) in assign_live.iter().enumerate() {
            assign[live[k]] = *c;
            per[live[k]] = c.map(|c| cost[k * m + c]);
        }
        let matched: Vec<f64> = per.iter().flatten().copied().collect();
        let lin = linear_neurons.get(l).copied().unwrap_or(0).min(m);
        let m = m - lin;
        layers.push(LayerMetrics {
            layer: l + 1,
            teacher_width: r,
            teacher_effective_width: r - dead.len(),
            teacher_dead: dead,
            recovered_width: m,
            linear_neurons: lin,
            width_ratio: m as f64 / r as f64,
            matching: "optimal one-to-one (Hungarian) on cosine distance of canonical [w; b]"
                .to_string(),
            sign_identifiable,
            matched: matched.len(),
            input_cosine_mean: matched.iter().sum::<f64>() / matched.len().max(1) as f64,
            input_cosine_max: matched.iter().copied().fold(0.0, f64::max),
            per_teacher_neuron: per,
        });
        pairs = assign
            .iter()
            .enumerate()
            .filter_map(|(i, c)| c.map(|c| (i, c)))
            .collect();
    }
    // Output weights of the matched neurons of the last compared hidden layer.
    let (mut ta, mut sa) = (Vec::new(), Vec::new());
    if hidden > 0 && teacher.spec.depth() == recovered.spec.depth() {
        let l = hidden;
        let (lt, ls) = (&t.spec.layouts()[l], &s.spec.layouts()[l]);
        for o in 0..lt.rows.min(ls.rows) {
            for &(i, j) in &pairs {
                ta.push(t.params[lt.w(o, i)]);
                sa.push(s.params[ls.w(o, j)]);
            }
        }
    }
    let output_cosine_distance = if ta.is_empty() {
        f64::NAN
    } else {
        1.0 - cosine(&ta, &sa)
    };
    let output_max_relative_error = ta
        .iter()
        .zip(&sa)
        .map(|(a, b)| (a - b).abs() / a.abs().max(f64::MIN_POSITIVE))
        .fold(0.0, f64::max);
    Ok(RecoveryMetrics {
        rmse,
        loss,
        success: rmse <= SUCCESS_RMSE,
        layers,
        output_cosine_distance,
        output_max_relative_error,
    })
}
