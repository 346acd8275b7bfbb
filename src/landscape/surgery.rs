//! Neuron surgery — split, add, remove and prune hidden neurons while keeping (or exactly
//! controlling) the network function — and the distance between two trajectories
//! (MLPGradientFlow.jl's `split_neuron`, `grow_net`/`shrink_net`, `trajectory_distance`).
//!
//! Splitting neuron `i` with outgoing weights `a` into two copies with outgoing `γa` and
//! `(1 − γ)a` keeps the function, and maps a critical point of the narrower network to a line
//! of critical points of the wider one: the symmetry-induced saddles of Fukumizu & Amari
//! (Neural Networks 13, 2000) and Şimşek et al. (ICML 2021).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::monitor::TrajectoryPoint;
use crate::net::{Activation, LayerSpec, NetSpec};

/// One layer unpacked: the incoming weights of each unit (rows) and its biases.
struct Unpacked {
    rows: Vec<Vec<f64>>,
    bias: Option<Vec<f64>>,
    /// Each unit's activation (mixed layers keep theirs through surgery).
    acts: Vec<Activation>,
}

fn unpack(spec: &NetSpec, x: &[f64]) -> Result<Vec<Unpacked>> {
    spec.check_params(x)?;
    Ok(spec
        .layouts()
        .iter()
        .zip(&spec.layers)
        .map(|(lay, layer)| Unpacked {
            rows: (0..lay.rows)
                .map(|u| x[lay.w(u, 0)..lay.w(u, 0) + lay.cols].to_vec())
                .collect(),
            bias: lay.bias.as_ref().map(|b| x[b.clone()].to_vec()),
            acts: (0..lay.rows)
                .map(|u| layer.activation_of(u).clone())
                .collect(),
        })
        .collect())
}

fn pack(input_dim: usize, old: &NetSpec, layers: &[Unpacked]) -> Result<(NetSpec, Vec<f64>)> {
    let specs: Vec<LayerSpec> = old
        .layers
        .iter()
        .zip(layers)
        .map(|(l, u)| {
            let mut s = l.clone();
            s.width = u.rows.len();
            s.activation = u.acts[0].clone();
            s.neurons = (!u.acts.iter().all(|a| *a == u.acts[0])).then(|| u.acts.clone());
            s
        })
        .collect();
    let spec = NetSpec::new(input_dim, specs)?;
    let mut x = Vec::with_capacity(spec.n_params());
    for u in layers {
        for r in &u.rows {
            x.extend_from_slice(r);
        }
        if let Some(b) = &u.bias {
            x.extend_from_slice(b);
        }
    }
    spec.check_params(&x)?;
    Ok((spec, x))
}

/// The 0-based index of hidden layer `layer` (1-based), checked.
fn hidden(spec: &NetSpec, layer: usize) -> Result<usize> {
    if layer == 0 || layer >= spec.depth() {
        return Err(Error::invalid(
            "layer",
            format!(
                "{layer} is not a hidden layer of {} (1..={})",
                spec.shape_string(),
                spec.depth() - 1
            ),
        ));
    }
    Ok(layer - 1)
}

fn neuron(spec: &NetSpec, l: usize, i: usize) -> Result<()> {
    if i >= spec.layers[l].width {
        return Err(Error::invalid(
            "neuron",
            format!(
                "{i} is not a neuron of hidden layer {} (0..{})",
                l + 1,
                spec.layers[l].width
            ),
        ));
    }
    Ok(())
}

/// Splits neuron `i` of hidden layer `layer` (1-based) into two copies with outgoing weights
/// `γ·a` (neuron `i`) and `(1 − γ)·a` (a new last neuron of the layer). The function is
/// unchanged.
///
/// # Errors
/// A layer or neuron that does not exist, or a parameter vector that does not fit.
pub fn split_neuron(
    spec: &NetSpec,
    x: &[f64],
    layer: usize,
    i: usize,
    gamma: f64,
) -> Result<(NetSpec, Vec<f64>)> {
    let l = hidden(spec, layer)?;
    neuron(spec, l, i)?;
    let mut ls = unpack(spec, x)?;
    let row = ls[l].rows[i].clone();
    ls[l].rows.push(row);
    let act = ls[l].acts[i].clone();
    ls[l].acts.push(act);
    if let Some(b) = &mut ls[l].bias {
        b.push(b[i]);
    }
    for r in &mut ls[l + 1].rows {
        let a = r[i];
        r[i] = gamma * a;
        r.push((1.0 - gamma) * a);
    }
    pack(spec.input_dim, spec, &ls)
}

/// Adds a neuron at the end of hidden layer `layer` with incoming weights `incoming` (one per
/// input of the layer), bias `bias` (ignored for a bias-free layer) and outgoing weights
/// `outgoing` (one per unit of the next layer; zeros keep the function). It gets the layer's
/// activation (the first neuron's in a mixed layer).
///
/// # Errors
/// A layer that does not exist or vectors of the wrong length.
pub fn add_neuron(
    spec: &NetSpec,
    x: &[f64],
    layer: usize,
    incoming: &[f64],
    bias: f64,
    outgoing: &[f64],
) -> Result<(NetSpec, Vec<f64>)> {
    let l = hidden(spec, layer)?;
    let mut ls = unpack(spec, x)?;
    let cols = if l == 0 {
        spec.input_dim
    } else {
        spec.layers[l - 1].width
    };
    let next = spec.layers[l + 1].width;
    for (what, v, n) in [("incoming", incoming, cols), ("outgoing", outgoing, next)] {
        if v.len() != n {
            return Err(Error::Length {
                what: format!("{what} weights of the new neuron"),
                expected: n,
                got: v.len(),
            });
        }
    }
    ls[l].rows.push(incoming.to_vec());
    let act = spec.layers[l].activation.clone();
    ls[l].acts.push(act);
    if let Some(b) = &mut ls[l].bias {
        b.push(bias);
    }
    for (r, &a) in ls[l + 1].rows.iter_mut().zip(outgoing) {
        r.push(a);
    }
    pack(spec.input_dim, spec, &ls)
}

/// Removes neuron `i` of hidden layer `layer` (the function loses its contribution).
///
/// # Errors
/// A layer or neuron that does not exist, or the layer's last neuron.
pub fn remove_neuron(
    spec: &NetSpec,
    x: &[f64],
    layer: usize,
    i: usize,
) -> Result<(NetSpec, Vec<f64>)> {
    let l = hidden(spec, layer)?;
    neuron(spec, l, i)?;
    if spec.layers[l].width == 1 {
        return Err(Error::invalid(
            "neuron",
            format!("hidden layer {layer} has only one neuron"),
        ));
    }
    let mut ls = unpack(spec, x)?;
    ls[l].rows.remove(i);
    ls[l].acts.remove(i);
    if let Some(b) = &mut ls[l].bias {
        b.remove(i);
    }
    for r in &mut ls[l + 1].rows {
        r.remove(i);
    }
    pack(spec.input_dim, spec, &ls)
}

/// What [`prune`] did to one neuron.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "action")]
pub enum Pruned {
    /// A neuron whose outgoing weights were all within the tolerance of zero was removed.
    Dead {
        /// Hidden layer, 1-based.
        layer: usize,
        /// Its index before removal.
        neuron: usize,
    },
    /// A duplicate of `into` (incoming vectors within the tolerance) was merged into it: its
    /// outgoing weights were added to `into`'s.
    Duplicate {
        /// Hidden layer, 1-based.
        layer: usize,
        /// Its index before removal.
        neuron: usize,
        /// The neuron it was merged into (index before removal).
        into: usize,
    },
}

/// Removes dead neurons (every outgoing weight `≤ tol` in magnitude) and merges duplicates
/// (incoming weights and bias within `tol` of each other, max-norm) by adding their outgoing
/// weights, layer by layer, until none is left; every layer keeps at least one neuron. Merging
/// exact duplicates keeps the function; removing a dead neuron changes it by at most `tol`
/// times its activation.
///
/// # Errors
/// A parameter vector that does not fit, or a negative tolerance.
pub fn prune(spec: &NetSpec, x: &[f64], tol: f64) -> Result<(NetSpec, Vec<f64>, Vec<Pruned>)> {
    if !(tol >= 0.0 && tol.is_finite()) {
        return Err(Error::invalid("tol", "must be a non-negative number"));
    }
    let (mut spec, mut x) = (spec.clone(), x.to_vec());
    let mut done = Vec::new();
    'again: loop {
        let ls = unpack(&spec, &x)?;
        for l in 0..spec.depth() - 1 {
            let width = ls[l].rows.len();
            if width == 1 {
                continue;
            }
            let incoming = |u: usize| {
                let mut v = ls[l].rows[u].clone();
                if let Some(b) = &ls[l].bias {
                    v.push(b[u]);
                }
                v
            };
            for u in 0..width {
                if ls[l + 1].rows.iter().all(|r| r[u].abs() <= tol) {
                    (spec, x) = remove_neuron(&spec, &x, l + 1, u)?;
                    done.push(Pruned::Dead {
                        layer: l + 1,
                        neuron: u,
                    });
                    continue 'again;
                }
            }
            for u in 0..width {
                for v in u + 1..width {
                    let (a, b) = (incoming(u), incoming(v));
                    let same_activation = ls[l].acts[u] == ls[l].acts[v];
                    if same_activation && a.iter().zip(&b).all(|(p, q)| (p - q).abs() <= tol) {
                        let layouts = spec.layouts();
                        let next = &layouts[l + 1];
                        for o in 0..next.rows {
                            let (iu, iv) = (next.w(o, u), next.w(o, v));
                            x[iu] += x[iv];
                        }
                        (spec, x) = remove_neuron(&spec, &x, l + 1, v)?;
                        done.push(Pruned::Duplicate {
                            layer: l + 1,
                            neuron: v,
                            into: u,
                        });
                        continue 'again;
                    }
                }
            }
        }
        return Ok((spec, x, done));
    }
}

/// A zero-loss point of a wider one-hidden-layer student near `x`: each teacher neuron replaces
/// the student neuron most aligned with it (largest cosine of the incoming vectors, each
/// student neuron used once), the other student neurons keep their incoming weights and get
/// zero outgoing weights, and the output bias is the teacher's. The student then computes the
/// teacher's function exactly (the "expanded teacher" of Şimşek et al. 2021).
///
/// # Errors
/// If the networks are not both one-hidden-layer with the same input and output sizes,
/// activations and biases, or the student is narrower than the teacher.
pub fn embed_teacher(spec: &NetSpec, x: &[f64], teacher: &crate::net::Network) -> Result<Vec<f64>> {
    let t = &teacher.spec;
    let same = spec.depth() == 2
        && t.depth() == 2
        && spec.input_dim == t.input_dim
        && spec.output_dim() == t.output_dim()
        && spec.layers[0].activation == t.layers[0].activation
        && spec.layers[1].activation == t.layers[1].activation
        && spec.layers[0].bias == t.layers[0].bias
        && spec.layers[1].bias == t.layers[1].bias
        && !spec.layers[0].is_mixed()
        && !t.layers[0].is_mixed();
    if !same || spec.layers[0].width < t.layers[0].width {
        return Err(Error::invalid(
            "teacher",
            format!(
                "cannot embed the {} teacher into the {} student (one hidden layer each, the same \
                 activations, not mixed, and biases, the student at least as wide)",
                t.shape_string(),
                spec.shape_string()
            ),
        ));
    }
    let mut ls = unpack(spec, x)?;
    let tl = unpack(t, &teacher.params)?;
    let vec_of = |u: &Unpacked, i: usize| {
        let mut v = u.rows[i].clone();
        if let Some(b) = &u.bias {
            v.push(b[i]);
        }
        v
    };
    let mut used = vec![false; ls[0].rows.len()];
    let mut assigned = Vec::new();
    for j in 0..tl[0].rows.len() {
        let tv = vec_of(&tl[0], j);
        let best = (0..used.len())
            .filter(|&i| !used[i])
            .max_by(|&p, &q| {
                let c = |i: usize| crate::cluster::neuron::cosine(&vec_of(&ls[0], i), &tv);
                c(p).total_cmp(&c(q))
            })
            .expect("the student is at least as wide");
        used[best] = true;
        assigned.push((best, j));
    }
    for r in &mut ls[1].rows {
        r.iter_mut().for_each(|a| *a = 0.0);
    }
    for (i, j) in assigned {
        ls[0].rows[i] = tl[0].rows[j].clone();
        if let (Some(b), Some(tb)) = (&mut ls[0].bias, &tl[0].bias) {
            b[i] = tb[j];
        }
        for (o, r) in ls[1].rows.iter_mut().enumerate() {
            r[i] = tl[1].rows[o][j];
        }
    }
    ls[1].bias = tl[1].bias.clone();
    Ok(pack(spec.input_dim, spec, &ls)?.1)
}

/// The distance between two trajectories kept with their parameters
/// ([`FlowConfig::trajectory_x`](crate::flow::FlowConfig)).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrajectoryDistance {
    /// Hausdorff distance: the largest distance from a point of either trajectory to the
    /// other trajectory's nearest point.
    pub hausdorff: f64,
    /// Mean over the points of the first trajectory of the distance to the second's nearest
    /// point.
    pub mean: f64,
    /// Distance between the last points.
    pub end: f64,
}

fn points(tr: &[TrajectoryPoint], which: &str) -> Result<Vec<Vec<f64>>> {
    let xs: Vec<Vec<f64>> = tr.iter().filter_map(|p| p.x.clone()).collect();
    if xs.is_empty() {
        return Err(Error::invalid(
            "flow.trajectory_x",
            format!("the {which} trajectory kept no parameters: run it with trajectory_x"),
        ));
    }
    Ok(xs)
}

/// The distance between trajectories `a` and `b` (Euclidean in parameter space, between the
/// recorded points).
///
/// # Errors
/// If either trajectory kept no parameters, or their lengths differ.
pub fn trajectory_distance(
    a: &[TrajectoryPoint],
    b: &[TrajectoryPoint],
) -> Result<TrajectoryDistance> {
    let (pa, pb) = (points(a, "first")?, points(b, "second")?);
    if pa[0].len() != pb[0].len() {
        return Err(Error::Length {
            what: "parameters of the second trajectory".into(),
            expected: pa[0].len(),
            got: pb[0].len(),
        });
    }
    let dist = |u: &[f64], v: &[f64]| {
        u.iter()
            .zip(v)
            .map(|(p, q)| (p - q) * (p - q))
            .sum::<f64>()
            .sqrt()
    };
    let nearest =
        |u: &[f64], set: &[Vec<f64>]| set.iter().map(|v| dist(u, v)).fold(f64::INFINITY, f64::min);
    let ab: Vec<f64> = pa.iter().map(|u| nearest(u, &pb)).collect();
    let ba = pb.iter().map(|v| nearest(v, &pa)).fold(0.0, f64::max);
    Ok(TrajectoryDistance {
        hausdorff: ab.iter().copied().fold(ba, f64::max),
        mean: ab.iter().sum::<f64>() / ab.len() as f64,
        end: dist(pa.last().expect("non-empty"), pb.last().expect("non-empty")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::{Activation, Network};
    use crate::rng::Stream;

    fn deep() -> (NetSpec, Vec<f64>) {
        let spec = NetSpec::new(
            3,
            vec![
                LayerSpec::new(4, Activation::Tanh),
                LayerSpec::new(3, Activation::G).with_bias(false),
                LayerSpec::new(2, Activation::Identity),
            ],
        )
        .unwrap();
        let mut rng = Stream::new(5, 0);
        let x = (0..spec.n_params()).map(|_| rng.normal()).collect();
        (spec, x)
    }

    fn outputs(spec: &NetSpec, x: &[f64]) -> Vec<f64> {
        let net = Network::new(spec.clone(), x.to_vec()).unwrap();
        let inputs: Vec<f64> = (0..30).map(|i| (i as f64 * 0.37).sin()).collect();
        net.predict(&inputs).unwrap()
    }

    fn close(a: &[f64], b: &[f64]) -> bool {
        a.iter().zip(b).all(|(p, q)| (p - q).abs() < 1e-13)
    }

    #[test]
    fn splitting_adding_and_merging_back_keep_the_function() {
        let (spec, x) = deep();
        let f = outputs(&spec, &x);
        for layer in [1, 2] {
            let (s2, x2) = split_neuron(&spec, &x, layer, 1, 0.3).unwrap();
            assert_eq!(s2.layers[layer - 1].width, spec.layers[layer - 1].width + 1);
            assert!(close(&outputs(&s2, &x2), &f));
            // Pruning merges the copies back: the original network, exactly.
            let (s3, x3, done) = prune(&s2, &x2, 0.0).unwrap();
            assert_eq!(s3, spec);
            assert!(matches!(done[..], [Pruned::Duplicate { into: 1, .. }]));
            assert!(close(&x3, &x));
        }
        let cols = spec.layers[0].width;
        let (s4, x4) = add_neuron(&spec, &x, 2, &vec![0.5; cols], 0.1, &[0.0, 0.0]).unwrap();
        assert!(close(&outputs(&s4, &x4), &f));
        let (s5, x5, done) = prune(&s4, &x4, 0.0).unwrap();
        assert_eq!((s5, done.len()), (spec.clone(), 1));
        assert!(close(&x5, &x));
        // Mixed layers keep each neuron's activation through a split and its undoing.
        let mixed = NetSpec::new(
            3,
            vec![
                LayerSpec::mixed(vec![Activation::Tanh, Activation::G, Activation::Tanh]),
                LayerSpec::new(1, Activation::Identity),
            ],
        )
        .unwrap();
        let mut rng = Stream::new(9, 0);
        let xm: Vec<f64> = (0..mixed.n_params()).map(|_| rng.normal()).collect();
        let (sm, xs) = split_neuron(&mixed, &xm, 1, 1, 0.4).unwrap();
        assert_eq!(sm.layers[0].activation_of(3), &Activation::G);
        assert!(close(&outputs(&sm, &xs), &outputs(&mixed, &xm)));
        let (back, xb, _) = prune(&sm, &xs, 0.0).unwrap();
        assert_eq!(back, mixed);
        assert!(close(&xb, &xm));
        let p = crate::reference::Problem::teacher_student(2, 2, 5, 50, 3, 1).unwrap();
        let t = p.teacher.as_ref().unwrap();
        let z = embed_teacher(&p.student, &p.start, t).unwrap();
        assert!(p.objective().loss(&z) < 1e-26);
        assert!(embed_teacher(&spec, &x, t).is_err());
        let (s6, _) = remove_neuron(&spec, &x, 1, 0).unwrap();
        assert_eq!(s6.layers[0].width, 3);
        assert!(split_neuron(&spec, &x, 3, 0, 0.5).is_err());
        assert!(remove_neuron(&spec, &x, 1, 9).is_err());
    }

    #[test]
    fn trajectory_distances() {
        let pt = |x: Vec<f64>| TrajectoryPoint {
            t: 0.0,
            loss: 0.0,
            gnorm: 0.0,
            wall: 0.0,
            x: Some(x),
            norm: None,
        };
        let a = vec![pt(vec![0.0, 0.0]), pt(vec![1.0, 0.0])];
        let b = vec![pt(vec![0.0, 1.0]), pt(vec![1.0, 1.0]), pt(vec![3.0, 1.0])];
        let d = trajectory_distance(&a, &b).unwrap();
        assert_eq!((d.mean, d.end), (1.0, 5f64.sqrt()));
        assert!((d.hausdorff - 5f64.sqrt()).abs() < 1e-15);
        let mut bare = a.clone();
        bare.iter_mut().for_each(|p| p.x = None);
        let e = trajectory_distance(&bare, &b).unwrap_err();
        assert!(e.to_string().contains("trajectory_x"));
    }
}
