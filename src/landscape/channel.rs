//! Channels to infinity (Martinelli et al., "Flat Channels to Infinity in Neural Loss
//! Landscapes", NeurIPS 2025): their detection in a parameter vector, and the jump that moves a
//! run along a channel towards its limit.
//!
//! Along a channel two neurons of one layer become parallel, `w_i − w_j → 0`, while their
//! outgoing weights diverge with opposite signs, `a_i → +∞`, `a_j → −∞`, their sum `a_i + a_j`
//! and the product `(a_i − a_j)(w_i − w_j)` staying finite. Their contribution then tends to
//! `(a_i + a_j)σ(w̄·x) + ½(a_i − a_j)(w_i − w_j)·x σ'(w̄·x)`: a neuron plus a derivative-type
//! neuron. Gradient flow approaches that limit only as a power law of time.

use serde::{Deserialize, Serialize};

use super::end_state::CertifyOptions;
use crate::cluster::neuron::{cosine, layer_neurons, reference_direction};
use crate::error::Result;
use crate::net::{NetSpec, Network, SymmetryClass};

/// A bundle of hidden neurons of one layer on a channel: input vectors (with bias) linked by
/// cosine distances within the threshold (after the activation's sign symmetry), outgoing
/// weights of both signs that largely cancel (see [`find_channels`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChannelBundle {
    /// Hidden layer, 1-based as in SPEC §2.
    pub layer: usize,
    /// Neuron indices within the layer, 0-based, ascending.
    pub neurons: Vec<usize>,
    /// Whether each neuron's incoming vector was negated to compare it (odd and even
    /// activations, whose neurons equal their negatives up to the outgoing sign).
    pub flipped: Vec<bool>,
    /// Largest cosine distance `1 − cos` between two input vectors of the bundle.
    pub cosine_distance: f64,
    /// Euclidean norm of each neuron's outgoing weights.
    pub outgoing_norms: Vec<f64>,
    /// Norm of the bundle's summed outgoing weights (finite along a channel).
    pub summed_outgoing_norm: f64,
    /// Weight `½‖a_i − a_j‖·‖v_i − v_j‖` of the derivative-type neuron the main pair tends to
    /// (finite along a channel).
    #[serde(default)]
    pub derivative_weight: f64,
}

/// Smallest derivative-type weight of a channel's main pair: below it the pair is a dead pair
/// (identical neurons whose outgoing weights cancel exactly), a flat direction, not a channel.
pub const MIN_DERIVATIVE_WEIGHT: f64 = 1e-3;

fn flip_for(class: SymmetryClass) -> bool {
    matches!(
        class,
        SymmetryClass::Odd | SymmetryClass::OddPlusConstant | SymmetryClass::Even
    )
}

/// A neuron as compared: incoming vector, outgoing weights, whether it was negated.
type Comparable = (Vec<f64>, Vec<f64>, bool);

/// One hidden layer's neurons in the form they are compared in: incoming vectors negated (and
/// outgoing weights negated for odd activations) where the reference direction says so.
fn comparable(net: &Network, l: usize) -> Result<Vec<Comparable>> {
    let layer = &net.spec.layers[l];
    let neurons = layer_neurons(net, l)?;
    let reference = reference_direction(neurons.first().map_or(0, |n| n.incoming.len()));
    Ok(neurons
        .into_iter()
        .enumerate()
        .map(|(u, n)| {
            let class = layer.activation_of(u).symmetry();
            let dot: f64 = n.incoming.iter().zip(&reference).map(|(a, b)| a * b).sum();
            let flip = flip_for(class) && dot < 0.0;
            let (mut w, mut a) = (n.incoming, n.outgoing);
            if flip {
                w.iter_mut().for_each(|v| *v = -*v);
                if class != SymmetryClass::Even {
                    a.iter_mut().for_each(|v| *v = -*v);
                }
            }
            (w, a, flip)
        })
        .collect())
}

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// The channel bundles at `x` (see [`ChannelBundle`]): the groups of a hidden layer's neurons
/// whose input vectors are near-parallel (linked by cosine distances below
/// `opts.channel_cosine_distance`), with outgoing weights of both signs that cancel by at least
/// `opts.channel_min_cancellation`: `Σ‖a_k‖ − ‖Σ a_k‖ ≥ channel_min_cancellation` (two neurons
/// with outgoing weights 14 and −15 cancel by 28; a dead pair 0.6 and −0.6 by only 1.2), and
/// whose main pair carries a derivative-type neuron of weight at least
/// [`MIN_DERIVATIVE_WEIGHT`].
///
/// # Errors
/// If `x` does not fit `spec`.
pub fn find_channels(
    spec: &NetSpec,
    x: &[f64],
    opts: &CertifyOptions,
) -> Result<Vec<ChannelBundle>> {
    let net = Network::new(spec.clone(), x.to_vec())?;
    let mut bundles = Vec::new();
    for l in 0..spec.depth() - 1 {
        let ns = comparable(&net, l)?;
        let k = ns.len();
        let mut root: Vec<usize> = (0..k).collect();
        fn find(root: &mut [usize], i: usize) -> usize {
            let mut i = i;
            while root[i] != i {
                root[i] = root[root[i]];
                i = root[i];
            }
            i
        }
        let layer = &spec.layers[l];
        for i in 0..k {
            for j in i + 1..k {
                // Only neurons of one activation form a channel (mixed layers).
                if layer.activation_of(i) == layer.activation_of(j)
                    && 1.0 - cosine(&ns[i].0, &ns[j].0) < opts.channel_cosine_distance
                {
                    let (ri, rj) = (find(&mut root, i), find(&mut root, j));
                    root[ri.max(rj)] = ri.min(rj);
                }
            }
        }
        let mut groups: Vec<Vec<usize>> = Vec::new();
        for i in 0..k {
            let r = find(&mut root, i);
            match groups.iter_mut().find(|g| find(&mut root, g[0]) == r) {
                Some(g) => g.push(i),
                None => groups.push(vec![i]),
            }
        }
        for g in groups.into_iter().filter(|g| g.len() >= 2) {
            let outs = ns[g[0]].1.len();
            let summed: Vec<f64> = (0..outs)
                .map(|o| g.iter().map(|&i| ns[i].1[o]).sum())
                .collect();
            let norms: Vec<f64> = g.iter().map(|&i| norm(&ns[i].1)).collect();
            let cancelled = norms.iter().sum::<f64>() - norm(&summed);
            let lead = g[norms
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map_or(0, |(p, _)| p)];
            // The largest partner pointing the other way, and the weight of the pair's
            // derivative-type neuron ½‖a_i − a_j‖·‖v_i − v_j‖ (none for a dead pair that cancels
            // exactly: identical neurons with opposite outgoing weights).
            let partner = g
                .iter()
                .copied()
                .filter(|&i| dot(&ns[lead].1, &ns[i].1) < 0.0)
                .max_by(|&p, &q| norm(&ns[p].1).total_cmp(&norm(&ns[q].1)));
            let Some(partner) = partner else { continue };
            let diff = |u: &[f64], v: &[f64]| {
                norm(&u.iter().zip(v).map(|(p, q)| p - q).collect::<Vec<f64>>())
            };
            let derivative =
                0.5 * diff(&ns[lead].1, &ns[partner].1) * diff(&ns[lead].0, &ns[partner].0);
            if cancelled < opts.channel_min_cancellation || derivative < MIN_DERIVATIVE_WEIGHT {
                continue;
            }
            let mut worst = 0.0f64;
            for (a, &i) in g.iter().enumerate() {
                for &j in &g[a + 1..] {
                    worst = worst.max(1.0 - cosine(&ns[i].0, &ns[j].0));
                }
            }
            bundles.push(ChannelBundle {
                layer: l + 1,
                flipped: g.iter().map(|&i| ns[i].2).collect(),
                outgoing_norms: norms,
                summed_outgoing_norm: norm(&summed),
                derivative_weight: derivative,
                cosine_distance: worst,
                neurons: g,
            });
        }
    }
    Ok(bundles)
}

/// What the run does when its flow ends in a channel (`on_channel` in the options).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnChannel {
    /// Refine as usual (the default).
    #[default]
    Continue,
    /// Skip the refinement: the run ends at the flow's point, certified `channel`.
    Stop,
    /// Move along the channel towards its limit ([`jump`]), then refine from there.
    Jump,
}

crate::named::named_enum!(OnChannel, "on-channel action", {
    Continue => "continue",
    Stop => "stop",
    Jump => "jump",
});

/// The result of [`jump`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Jump {
    /// The point after the jump (not kept in records: the refinement starts there).
    #[serde(skip)]
    pub x: Vec<f64>,
    /// Mean loss before.
    pub loss_before: f64,
    /// Mean loss after.
    pub loss_after: f64,
    /// Halvings done (0 when no bundle had a pair to move, or the first one raised the loss
    /// beyond the limit).
    pub halvings: usize,
    /// The pairs moved: `(layer, i, j)`, layer 1-based.
    pub pairs: Vec<(usize, usize, usize)>,
}

/// The pair of a bundle to move: the neuron with the largest outgoing weights and, among those
/// pointing the other way, the largest partner.
fn pair_of(b: &ChannelBundle, spec: &NetSpec, x: &[f64]) -> Result<Option<(usize, usize)>> {
    let class = spec.layers[b.layer - 1]
        .activation_of(b.neurons[0])
        .symmetry();
    if class == SymmetryClass::OddPlusConstant && b.flipped.iter().any(|&f| f) {
        // Flipping such a neuron moves a constant into the next bias: not done here.
        return Ok(None);
    }
    let net = Network::new(spec.clone(), x.to_vec())?;
    let ns = comparable(&net, b.layer - 1)?;
    let by_norm = |cands: &mut Vec<usize>| {
        cands.sort_by(|&p, &q| norm(&ns[q].1).total_cmp(&norm(&ns[p].1)));
    };
    let mut all = b.neurons.clone();
    by_norm(&mut all);
    let i = all[0];
    let mut partners: Vec<usize> = all
        .iter()
        .copied()
        .filter(|&j| dot(&ns[i].1, &ns[j].1) < 0.0)
        .collect();
    by_norm(&mut partners);
    Ok(partners.first().map(|&j| (i, j)))
}

/// One halving of the pair `(i, j)` of hidden layer `l` (0-based) in the comparable form:
/// `w_i, w_j → w̄ ± δ/2`, the outgoing sum kept and the difference doubled, so that the sum and
/// the product `(a_i − a_j)(w_i − w_j)` of the channel's limit stay fixed.
fn halve(spec: &NetSpec, x: &mut [f64], l: usize, i: usize, j: usize) {
    let layouts = spec.layouts();
    let (lay, next) = (&layouts[l], &layouts[l + 1]);
    let class = spec.layers[l].activation_of(i).symmetry();
    let net = Network::new(spec.clone(), x.to_vec()).expect("x fits spec");
    let ns = comparable(&net, l).expect("hidden layer");
    let (wi, ai, fi) = &ns[i];
    let (wj, aj, fj) = &ns[j];
    let mut write = |u: usize, w: &[f64], a: &[f64], flipped: bool| {
        let s_in = if flipped { -1.0 } else { 1.0 };
        let s_out = if flipped && class != SymmetryClass::Even {
            -1.0
        } else {
            1.0
        };
        for (c, &wv) in w.iter().enumerate() {
            if let Some(k) = lay.ext(u, c) {
                x[k] = s_in * wv;
            }
        }
        for (o, &av) in a.iter().enumerate() {
            x[next.w(o, u)] = s_out * av;
        }
    };
    let centre: Vec<f64> = wi.iter().zip(wj).map(|(p, q)| 0.5 * (p + q)).collect();
    let half: Vec<f64> = wi.iter().zip(wj).map(|(p, q)| 0.25 * (p - q)).collect();
    let new_i: Vec<f64> = centre.iter().zip(&half).map(|(c, h)| c + h).collect();
    let new_j: Vec<f64> = centre.iter().zip(&half).map(|(c, h)| c - h).collect();
    // a_i' + a_j' = a_i + a_j and a_i' − a_j' = 2(a_i − a_j).
    let out_i: Vec<f64> = ai.iter().zip(aj).map(|(p, q)| 1.5 * p - 0.5 * q).collect();
    let out_j: Vec<f64> = ai.iter().zip(aj).map(|(p, q)| 1.5 * q - 0.5 * p).collect();
    write(i, &new_i, &out_i, *fi);
    write(j, &new_j, &out_j, *fj);
}

/// Moves each bundle's main pair along its channel towards the limit: halves the distance of
/// their input vectors, keeping the sum of their outgoing weights and the product
/// `(a_i − a_j)(w_i − w_j)` (the Flat Channels paper's jump, which keeps the limit network
/// fixed): the largest number of halvings up to `halvings` whose mean loss stays within
/// `max_loss_ratio` times its value before the jump (the rest of the network adapted to the
/// pair's old distance, so the loss right after a jump may rise a little; a jump is followed by
/// refinement).
///
/// # Errors
/// If `x` does not fit the objective's network.
pub fn jump(
    obj: &mut crate::net::Objective<'_>,
    x: &[f64],
    bundles: &[ChannelBundle],
    halvings: usize,
    max_loss_ratio: f64,
) -> Result<Jump> {
    let spec = obj.spec().clone();
    spec.check_params(x)?;
    let mut pairs = Vec::new();
    for b in bundles {
        let fits = b.layer >= 1
            && b.layer < spec.depth()
            && b.neurons.len() >= 2
            && b.flipped.len() == b.neurons.len()
            && b.neurons
                .iter()
                .all(|&u| u < spec.layers[b.layer - 1].width);
        if !fits {
            return Err(crate::error::Error::invalid(
                "bundles",
                format!(
                    "a channel bundle (layer {}, neurons {:?}) does not fit the {} network",
                    b.layer,
                    b.neurons,
                    spec.shape_string()
                ),
            ));
        }
        if let Some((i, j)) = pair_of(b, &spec, x)? {
            pairs.push((b.layer, i, j));
        }
    }
    let scale = obj.mean_scale();
    let loss_before = obj.loss(x) * scale;
    // Every halving count up to `halvings` is evaluated (the loss along a jump need not be
    // monotone); the largest within the loss limit is kept.
    let (mut best, mut loss_after, mut done) = (x.to_vec(), loss_before, 0);
    let mut trial = x.to_vec();
    for k in 1..=if pairs.is_empty() { 0 } else { halvings } {
        for &(layer, i, j) in &pairs {
            halve(&spec, &mut trial, layer - 1, i, j);
        }
        let l = obj.loss(&trial) * scale;
        if l.is_finite() && l <= max_loss_ratio * loss_before {
            best.copy_from_slice(&trial);
            loss_after = l;
            done = k;
        }
    }
    Ok(Jump {
        x: best,
        loss_before,
        loss_after,
        halvings: done,
        pairs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::{Activation, LayerSpec};

    fn pair_net(act: Activation, eps: f64) -> (NetSpec, Vec<f64>) {
        let spec = NetSpec::new(
            2,
            vec![
                LayerSpec::new(3, act),
                LayerSpec::new(1, Activation::Identity),
            ],
        )
        .unwrap();
        (spec, crate::reference::channel_pair(eps))
    }

    #[test]
    fn a_near_parallel_pair_with_large_opposite_outgoing_weights_is_a_bundle() {
        let (spec, x) = pair_net(Activation::G, 0.2);
        let b = find_channels(&spec, &x, &CertifyOptions::default()).unwrap();
        assert_eq!(b.len(), 1, "{b:?}");
        assert_eq!((b[0].layer, b[0].neurons.clone()), (1, vec![0, 1]));
        assert!(b[0].cosine_distance < 1e-2 && b[0].cosine_distance > 0.0);
        assert!((b[0].summed_outgoing_norm - 0.5).abs() < 1e-12);
        // The same pair with outgoing weights of one sign, or small ones, is no channel.
        let mut same = x.clone();
        same[10] = -same[10];
        assert!(
            find_channels(&spec, &same, &CertifyOptions::default())
                .unwrap()
                .is_empty()
        );
        let (_, far) = pair_net(Activation::G, 40.0);
        assert!(
            find_channels(&spec, &far, &CertifyOptions::default())
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn odd_activations_see_a_pair_through_the_sign_symmetry() {
        // tanh: (w, a) and (−w, −a) are the same neuron, so negate neuron 1 entirely.
        let (spec, mut x) = pair_net(Activation::Tanh, 0.2);
        for k in [2, 3, 7, 10] {
            x[k] = -x[k];
        }
        let b = find_channels(&spec, &x, &CertifyOptions::default()).unwrap();
        assert_eq!(b.len(), 1, "{b:?}");
        assert_eq!(b[0].flipped.iter().filter(|&&f| f).count(), 1);
    }

    #[test]
    fn a_jump_keeps_the_sum_and_the_product_and_approaches_the_limit() {
        let p = crate::reference::Problem::channel(0.2).unwrap();
        let (spec, x) = (p.student.clone(), p.start.clone());
        let mut obj = p.objective();
        let bundles = find_channels(&spec, &x, &CertifyOptions::default()).unwrap();
        // From the student, the limit is 2·10⁴ times nearer: ten halvings approach it.
        let j = jump(&mut obj, &x, &bundles, 10, 2.0).unwrap();
        assert_eq!((j.pairs.clone(), j.halvings), (vec![(1, 0, 1)], 10));
        assert!(j.loss_after < 1e-4 * j.loss_before, "{j:?}");
        let sum = |v: &[f64]| v[9] + v[10];
        let product = |v: &[f64]| (v[9] - v[10]) * (v[0] - v[2]);
        assert!((sum(&j.x) - sum(&x)).abs() < 1e-12);
        // w_i − w_j loses digits as the pair closes: relative 1e-16 / distance.
        assert!((product(&j.x) / product(&x) - 1.0).abs() < 1e-9);
        // The unrelated neuron and the output bias are untouched.
        assert_eq!(
            (j.x[4], j.x[8], j.x[11], j.x[12]),
            (x[4], x[8], x[11], x[12])
        );
    }
}
