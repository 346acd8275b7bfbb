//! Hidden neurons as clustering sees them, and their canonical form per symmetry class
//! (SPEC §2, §8 step 3).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::net::{Network, SymmetryClass};

/// One hidden neuron: its incoming vector `[w; b]` (the bias is omitted for bias-free layers)
/// and its outgoing weights (one per unit of the next layer).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Neuron {
    /// Incoming weights followed by the bias.
    pub incoming: Vec<f64>,
    /// Weights from this neuron to each unit of the next layer.
    pub outgoing: Vec<f64>,
}

/// The hidden neurons of layer `l` (0-based, not the output layer) of a network.
pub fn layer_neurons(net: &Network, l: usize) -> Result<Vec<Neuron>> {
    if l + 1 >= net.spec.depth() {
        return Err(Error::invalid(
            "layer",
            format!(
                "layer {} is not a hidden layer of {}",
                l + 1,
                net.spec.shape_string()
            ),
        ));
    }
    let w = net.weight(l);
    let next = net.weight(l + 1);
    let bias = net.bias(l);
    Ok((0..w.nrows())
        .map(|j| {
            let mut incoming: Vec<f64> = (0..w.ncols()).map(|i| w[(j, i)]).collect();
            if let Some(b) = bias {
                incoming.push(b[j]);
            }
            let outgoing = (0..next.nrows()).map(|o| next[(o, j)]).collect();
            Neuron { incoming, outgoing }
        })
        .collect())
}

/// The fixed reference direction `u ∝ (√2, √3, √5, √7, …)` (square roots of the first `n`
/// primes) that decides a neuron's canonical sign: `v` is flipped when `u·v < 0`.
///
/// Square roots of distinct primes are linearly independent over the rationals, so `u` is never
/// orthogonal to a neuron with rational-pattern weights such as the paper's teachers; two nearby
/// duplicates therefore always receive the same sign (a fixed *coordinate*, the other reading
/// of SPEC §8, would be ambiguous whenever that coordinate is zero).
pub fn reference_direction(n: usize) -> Vec<f64> {
    let mut primes = Vec::with_capacity(n);
    let mut c = 2u64;
    while primes.len() < n {
        if primes.iter().all(|&p: &u64| c % p != 0) {
            primes.push(c);
        }
        c += 1;
    }
    let v: Vec<f64> = primes.iter().map(|&p| (p as f64).sqrt()).collect();
    let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
    v.into_iter().map(|x| x / norm).collect()
}

/// What canonicalisation did to a neuron.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Canonical {
    /// Whether the incoming vector was negated.
    pub flipped: bool,
    /// The factor the incoming vector was divided by (1 unless positive scaling applies).
    pub scale: f64,
}

/// Canonical form of `neuron` for an activation of class `class`:
///
/// - `None`: unchanged (the sign is identifiable);
/// - symmetric classes: the incoming vector is negated when `u·v < 0` ([`reference_direction`]);
///   the outgoing weights follow the activation's identity: negated for `Odd`
///   (`σ(−z) = −σ(z)`) and `OddPlusConstant` (`σ(−z) = c − σ(z)`, the constant goes to the next
///   bias), kept for `Even` and the even-plus-linear classes (`σ(z) = σ(−z) + z`, the linear
///   part goes to the affine correction);
/// - `EvenPlusLinearPositiveScaling`: first `v ← v/‖v‖` and `a ← a‖v‖`, so that L2 distance
///   between canonical vectors is a function of their angle.
pub fn canonicalise(
    neuron: &Neuron,
    class: SymmetryClass,
    reference: &[f64],
) -> (Neuron, Canonical) {
    let mut n = neuron.clone();
    let mut info = Canonical {
        flipped: false,
        scale: 1.0,
    };
    if class == SymmetryClass::EvenPlusLinearPositiveScaling {
        let norm = n.incoming.iter().map(|x| x * x).sum::<f64>().sqrt();
        if norm > 0.0 && norm.is_finite() {
            n.incoming.iter_mut().for_each(|x| *x /= norm);
            n.outgoing.iter_mut().for_each(|a| *a *= norm);
            info.scale = norm;
        }
    }
    if class != SymmetryClass::None {
        let dot: f64 = n.incoming.iter().zip(reference).map(|(a, b)| a * b).sum();
        if dot < 0.0 {
            info.flipped = true;
            n.incoming.iter_mut().for_each(|x| *x = -*x);
            if matches!(class, SymmetryClass::Odd | SymmetryClass::OddPlusConstant) {
                n.outgoing.iter_mut().for_each(|a| *a = -*a);
            }
        }
    }
    (n, info)
}

/// [`canonicalise`] decided on the incoming vector without the coordinates `ignore` (inputs
/// that carry no information, whose weights are arbitrary), applied to the whole neuron: the
/// sign and the scale come from the informative coordinates only. Returns the canonical
/// neuron (all coordinates) and what was done.
pub fn canonicalise_masked(
    neuron: &Neuron,
    class: SymmetryClass,
    reference: &[f64],
    ignore: &[usize],
) -> (Neuron, Canonical) {
    if ignore.is_empty() {
        return canonicalise(neuron, class, reference);
    }
    let mut masked = neuron.clone();
    for &i in ignore {
        if let Some(v) = masked.incoming.get_mut(i) {
            *v = 0.0;
        }
    }
    let (_, info) = canonicalise(&masked, class, reference);
    let mut n = neuron.clone();
    let sign = if info.flipped { -1.0 } else { 1.0 };
    n.incoming.iter_mut().for_each(|x| *x *= sign / info.scale);
    let out_sign =
        if info.flipped && matches!(class, SymmetryClass::Odd | SymmetryClass::OddPlusConstant) {
            -1.0
        } else {
            1.0
        };
    n.outgoing
        .iter_mut()
        .for_each(|a| *a *= out_sign * info.scale);
    (n, info)
}

/// Euclidean distance.
pub fn distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y) * (x - y))
        .sum::<f64>()
        .sqrt()
}

/// Cosine of the angle between two vectors (0 if either is zero).
pub fn cosine(a: &[f64], b: &[f64]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na = a.iter().map(|x| x * x).sum::<f64>().sqrt();
    let nb = b.iter().map(|x| x * x).sum::<f64>().sqrt();
    if na > 0.0 && nb > 0.0 {
        (dot / (na * nb)).clamp(-1.0, 1.0)
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_direction_is_unit_and_positive() {
        let u = reference_direction(7);
        assert!((u.iter().map(|x| x * x).sum::<f64>() - 1.0).abs() < 1e-15);
        assert!(u.iter().all(|&x| x > 0.0));
        assert!(u[0] < u[6]);
    }

    #[test]
    fn odd_flip_negates_outgoing_and_even_linear_keeps_it() {
        let u = reference_direction(3);
        let n = Neuron {
            incoming: vec![-1.0, -2.0, 0.5],
            outgoing: vec![3.0],
        };
        let (c, info) = canonicalise(&n, SymmetryClass::Odd, &u);
        assert!(info.flipped);
        assert_eq!(c.incoming, vec![1.0, 2.0, -0.5]);
        assert_eq!(c.outgoing, vec![-3.0]);
        let (c, _) = canonicalise(&n, SymmetryClass::EvenPlusLinear, &u);
        assert_eq!(c.outgoing, vec![3.0]);
        let (c, _) = canonicalise(&n, SymmetryClass::None, &u);
        assert_eq!(c, n);
    }

    #[test]
    fn positive_scaling_moves_the_norm_out() {
        let u = reference_direction(2);
        let n = Neuron {
            incoming: vec![3.0, 4.0],
            outgoing: vec![2.0],
        };
        let (c, info) = canonicalise(&n, SymmetryClass::EvenPlusLinearPositiveScaling, &u);
        assert!((info.scale - 5.0).abs() < 1e-15);
        assert!((c.incoming[0] - 0.6).abs() < 1e-15);
        assert!((c.outgoing[0] - 10.0).abs() < 1e-14);
    }
}
