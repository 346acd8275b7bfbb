//! Constructed ensembles: every student holds the teacher's neurons in a random equivalent form
//! (sign flips per symmetry class, positive rescaling, splits into duplicates), plus zero-,
//! constant-, linear- and off-boundary-type neurons and noise. The cut, the filters and the
//! merge must return the teacher's neurons in canonical form.

use gradflow::cluster::neuron::reference_direction;
use gradflow::cluster::{
    ClusterConfig, DropReason, Neuron, StudentLayer, canonicalise, cluster_layer,
};
use gradflow::net::SymmetryClass;
use gradflow::rng::Stream;

const D: usize = 4;

/// Three teacher neurons `[w; b]` (paper-like patterns) with outgoing weights.
fn teacher() -> Vec<Neuron> {
    let s = 3.0 / 2f64.sqrt();
    vec![
        Neuron {
            incoming: vec![s, 0.0, s, 0.0, 1.7],
            outgoing: vec![0.8],
        },
        Neuron {
            incoming: vec![-3.0, 0.0, 0.0, 0.0, -1.7],
            outgoing: vec![-0.5],
        },
        Neuron {
            incoming: vec![0.0, s, 0.0, -s, 0.0],
            outgoing: vec![1.3],
        },
    ]
}

/// `n` in an equivalent random form for `class`: flipped (outgoing per the class identity),
/// rescaled (positive scaling), split into two duplicates (outgoing weights summing to the
/// original), with noise of size `noise`.
fn disguise(n: &Neuron, class: SymmetryClass, s: &mut Stream, noise: f64) -> Vec<Neuron> {
    let mut v = n.clone();
    if class != SymmetryClass::None && s.uniform() < 0.5 {
        v.incoming.iter_mut().for_each(|x| *x = -*x);
        if matches!(class, SymmetryClass::Odd | SymmetryClass::OddPlusConstant) {
            v.outgoing.iter_mut().for_each(|a| *a = -*a);
        }
    }
    if class == SymmetryClass::EvenPlusLinearPositiveScaling {
        let c = s.uniform_in(0.3, 3.0);
        v.incoming.iter_mut().for_each(|x| *x *= c);
        v.outgoing.iter_mut().for_each(|a| *a /= c);
    }
    for x in &mut v.incoming {
        *x += noise * s.normal();
    }
    if s.uniform() < 0.5 {
        let t = s.uniform_in(0.2, 0.8);
        let mut a = v.clone();
        let mut b = v;
        a.outgoing.iter_mut().for_each(|o| *o *= t);
        b.outgoing.iter_mut().for_each(|o| *o *= 1.0 - t);
        vec![a, b]
    } else {
        vec![v]
    }
}

/// Neurons that carry no teacher information, different in every student.
fn junk(s: &mut Stream) -> Vec<Neuron> {
    let rand_vec =
        |s: &mut Stream, scale: f64| -> Vec<f64> { (0..=D).map(|_| scale * s.normal()).collect() };
    // Zero-type: any direction, no outgoing weight.
    let zero = Neuron {
        incoming: rand_vec(s, 1.0),
        outgoing: vec![0.0],
    };
    // Constant-type: huge bias, tiny weights.
    let mut c = rand_vec(s, 0.01);
    c[D] = 20.0 + 5.0 * s.uniform();
    let constant = Neuron {
        incoming: c,
        outgoing: vec![s.normal()],
    };
    // Linear-type: tiny incoming weights, huge outgoing weight.
    let linear = Neuron {
        incoming: rand_vec(s, 0.02),
        outgoing: vec![10.0 * s.normal()],
    };
    // Off-boundary-type: kink far outside the input box.
    let mut o = rand_vec(s, 0.2);
    o[D] = -30.0 - 10.0 * s.uniform();
    let offbound = Neuron {
        incoming: o,
        outgoing: vec![s.normal()],
    };
    vec![zero, constant, linear, offbound]
}

fn ensemble(class: SymmetryClass, n_students: usize, noise: f64, seed: u64) -> Vec<StudentLayer> {
    let mut s = Stream::new(seed, 0);
    (0..n_students as u64)
        .map(|id| {
            let mut neurons: Vec<Neuron> = teacher()
                .iter()
                .flat_map(|n| disguise(n, class, &mut s, noise))
                .collect();
            neurons.extend(junk(&mut s));
            // Shuffle (Fisher–Yates) so that positions carry no information.
            for i in (1..neurons.len()).rev() {
                let j = s.below(i + 1);
                neurons.swap(i, j);
            }
            StudentLayer {
                id: 100 + id,
                loss: 1e-20 * (1.0 + id as f64),
                neurons,
            }
        })
        .collect()
}

fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

/// The default clustering of an ensemble of `g`-like (no symmetry) students.
fn cluster_none(students: &[StudentLayer]) -> gradflow::cluster::LayerClustering {
    cluster_layer(
        students,
        SymmetryClass::None,
        true,
        &ClusterConfig::default(),
    )
    .unwrap()
}

/// The cluster holding the last neuron of the first student (id 100): the neuron a test
/// appended to every student.
fn cluster_of_last<'c>(
    c: &'c gradflow::cluster::LayerClustering,
    students: &[StudentLayer],
) -> &'c gradflow::cluster::layer::Cluster {
    let last = students[0].neurons.len() - 1;
    c.clusters
        .iter()
        .find(|cl| {
            cl.members
                .iter()
                .any(|m| m.student == 100 && m.neuron == last)
        })
        .unwrap()
}

const CLASSES: [SymmetryClass; 6] = [
    SymmetryClass::None,
    SymmetryClass::Odd,
    SymmetryClass::OddPlusConstant,
    SymmetryClass::Even,
    SymmetryClass::EvenPlusLinear,
    SymmetryClass::EvenPlusLinearPositiveScaling,
];

#[test]
fn every_symmetry_class_recovers_the_teacher_neurons() {
    for (k, class) in CLASSES.into_iter().enumerate() {
        let students = ensemble(class, 10, 1e-7, 7 + k as u64);
        let c = cluster_layer(&students, class, true, &ClusterConfig::default()).unwrap();
        let got = c.neurons();
        assert_eq!(
            got.len(),
            3,
            "{class:?}: {:?}",
            c.clusters
                .iter()
                .map(|c| (c.members.len(), c.median_angle, c.dropped, c.neuron.clone()))
                .collect::<Vec<_>>()
        );
        assert!(c.cut.large_clusters >= 3, "{class:?}");
        let u = reference_direction(D + 1);
        for t in teacher() {
            let (want, _) = canonicalise(&t, class, &u);
            let best = got
                .iter()
                .min_by(|a, b| {
                    max_abs_diff(&a.incoming, &want.incoming)
                        .total_cmp(&max_abs_diff(&b.incoming, &want.incoming))
                })
                .unwrap();
            assert!(
                max_abs_diff(&best.incoming, &want.incoming) < 1e-5,
                "{class:?}: {:?} vs {:?}",
                best.incoming,
                want.incoming
            );
            // Summed outgoing weights of the winner's duplicates = the teacher's.
            assert!(
                max_abs_diff(&best.outgoing, &want.outgoing) < 1e-5,
                "{class:?}: outgoing {:?} vs {:?}",
                best.outgoing,
                want.outgoing
            );
        }
        // Kept clusters contain copies from every student; the winner is the lowest-loss one.
        for cl in c.clusters.iter().filter(|c| c.neuron.is_some()) {
            assert_eq!(cl.students, 10);
            assert_eq!(cl.winner, Some(100));
            assert!(cl.median_angle < 1e-5);
        }
        // The junk neurons are all reported: constant- and off-boundary-type set aside, zero-type
        // set aside as negligible, the others in clusters too small to keep.
        // (A constant-type neuron may also count as negligible: its outgoing weight is random.)
        assert_eq!(c.offbound.len() + c.negligible.len(), 3 * 10, "{class:?}");
        assert!(c.negligible.len() >= 10, "{class:?}");
        let dropped: Vec<_> = c.clusters.iter().filter(|c| c.dropped.is_some()).collect();
        assert!(!dropped.is_empty());
        // Linear-type neurons sit near the origin in every direction: close in L2, they can
        // form a large cluster, which the β filter rejects.
        assert!(
            dropped
                .iter()
                .all(|c| c.dropped == Some(DropReason::TooSmall)
                    || (c.dropped == Some(DropReason::Unaligned) && c.median_angle > 0.5)),
            "{class:?}"
        );
        let members: usize = c.clusters.iter().map(|c| c.members.len()).sum();
        assert_eq!(
            members + c.offbound.len() + c.negligible.len(),
            students.iter().map(|s| s.neurons.len()).sum::<usize>()
        );
    }
}

#[test]
fn a_satellite_in_a_teacher_cluster_is_left_out_of_the_collapse() {
    // Every student also has a neuron 0.3 away from the first teacher neuron, in a direction
    // of its own (as one neuron of a cancelling pair in a retrained deep layer): the cut puts
    // these satellites into that neuron's cluster. The collapse must average only the winner's
    // copies of the core, not its satellite.
    let mut students = ensemble(SymmetryClass::None, 10, 1e-7, 5);
    let mut s = Stream::new(17, 0);
    let t0 = teacher()[0].clone();
    for st in &mut students {
        let dir: Vec<f64> = (0..=D).map(|_| s.normal()).collect();
        let n = dir.iter().map(|v| v * v).sum::<f64>().sqrt();
        st.neurons.push(Neuron {
            incoming: t0
                .incoming
                .iter()
                .zip(&dir)
                .map(|(w, v)| w + 0.3 * v / n)
                .collect(),
            outgoing: vec![0.1],
        });
    }
    let c = cluster_none(&students);
    let last = students[0].neurons.len() - 1;
    let cl = cluster_of_last(&c, &students);
    // The satellites did join the teacher neuron's cluster, which is kept …
    assert!(cl.members.len() >= 15, "{:?}", cl.members.len());
    assert_eq!(cl.winner, Some(100));
    assert_eq!(
        cl.winner_outliers,
        vec![gradflow::cluster::layer::Member {
            student: 100,
            neuron: last
        }]
    );
    // … and its neuron is the teacher's, with the teacher's summed outgoing weight.
    let got = cl.neuron.as_ref().unwrap();
    assert!(
        max_abs_diff(&got.incoming, &t0.incoming) < 1e-5,
        "{:?} vs {:?}",
        got.incoming,
        t0.incoming
    );
    assert!(max_abs_diff(&got.outgoing, &t0.outgoing) < 1e-5);
    assert_eq!(c.neurons().len(), 3);
}

#[test]
fn a_large_but_loose_cluster_is_dropped_as_unaligned() {
    // Every student also has one neuron scattered ~20° around a fourth direction away from the
    // teacher's: together they form a cluster of N members, which the β filter rejects.
    let mut students = ensemble(SymmetryClass::None, 10, 1e-7, 3);
    let mut s = Stream::new(99, 0);
    for st in &mut students {
        let mut v = vec![0.0, 0.0, 0.0, 6.0, 0.0];
        for i in [0, 1, 2, 4] {
            v[i] += 1.0 * s.normal();
        }
        st.neurons.push(Neuron {
            incoming: v,
            outgoing: vec![1.0],
        });
    }
    let c = cluster_none(&students);
    assert_eq!(c.neurons().len(), 3);
    let loose = cluster_of_last(&c, &students);
    assert_eq!(loose.dropped, Some(DropReason::Unaligned));
    assert!(loose.members.len() >= 8);
    assert!(loose.median_angle > std::f64::consts::PI / 24.0);
}

#[test]
fn degenerate_ensembles_give_errors_or_documented_results() {
    let cfg = ClusterConfig::default();
    let one = ensemble(SymmetryClass::None, 1, 0.0, 1);
    let e = cluster_layer(&one, SymmetryClass::None, true, &cfg).unwrap_err();
    assert!(e.to_string().contains("at least 2 students"), "{e}");

    // γN < 2.
    let two = ensemble(SymmetryClass::None, 2, 0.0, 1);
    let e = cluster_layer(&two, SymmetryClass::None, true, &cfg).unwrap_err();
    assert!(e.to_string().contains("< 2"), "{e}");
    let bad = {
        let mut c = cfg;
        c.gamma = 1.5;
        c
    };
    assert!(cluster_layer(&two, SymmetryClass::None, true, &bad).is_err());
    let bad = {
        let mut c = cfg;
        c.beta = -1.0;
        c
    };
    assert!(
        cluster_layer(
            &ensemble(SymmetryClass::None, 5, 0.0, 1),
            SymmetryClass::None,
            true,
            &bad
        )
        .is_err()
    );

    // All neurons identical: one cluster holding everything, collapsed to one neuron whose
    // outgoing weight is the sum over the winner's copies (documented result).
    let same: Vec<StudentLayer> = (0..5)
        .map(|id| StudentLayer {
            id,
            loss: 1.0,
            neurons: vec![
                Neuron {
                    incoming: vec![1.0, 2.0],
                    outgoing: vec![0.5],
                };
                3
            ],
        })
        .collect();
    let c = cluster_layer(&same, SymmetryClass::Odd, true, &cfg).unwrap();
    let n = c.neurons();
    assert_eq!(n.len(), 1);
    assert!((n[0].outgoing[0] - 1.5).abs() < 1e-15);

    // NaN weights.
    let mut nan = ensemble(SymmetryClass::Odd, 5, 0.0, 2);
    nan[3].neurons[1].incoming[0] = f64::NAN;
    let e = cluster_layer(&nan, SymmetryClass::Odd, true, &cfg).unwrap_err();
    assert!(e.to_string().contains("student 103 neuron 1"), "{e}");

    // Mismatched shapes.
    let mut shapes = ensemble(SymmetryClass::Odd, 5, 0.0, 2);
    shapes[2].neurons[0].incoming.push(1.0);
    let e = cluster_layer(&shapes, SymmetryClass::Odd, true, &cfg).unwrap_err();
    assert!(e.to_string().contains("student 102"), "{e}");
    let mut empty = ensemble(SymmetryClass::Odd, 5, 0.0, 2);
    empty[4].neurons.clear();
    assert!(cluster_layer(&empty, SymmetryClass::Odd, true, &cfg).is_err());
}

#[test]
fn the_plateau_walk_does_not_absorb_a_found_neuron_into_junk() {
    // Four students share two neurons; student 0 also has a cancelling pair 2.6 away from the
    // first.
    // Absorbing it keeps the number of large clusters (the cluster already had every student),
    // so the end of the plateau lies beyond that merge — but the merged cluster is unaligned.
    let shared = [vec![0.0, -3.0, 3.464], vec![2.121, 2.121, -1.732]];
    let students: Vec<StudentLayer> = (0..4)
        .map(|id| {
            let mut neurons: Vec<Neuron> = shared
                .iter()
                .map(|v| Neuron {
                    incoming: v.clone(),
                    outgoing: vec![0.8],
                })
                .collect();
            if id == 0 {
                // A cancelling pair: p and −p with equal outgoing weights (tanh is odd).
                neurons.push(Neuron {
                    incoming: vec![0.004, -1.536, 1.295],
                    outgoing: vec![0.8],
                });
                neurons.push(Neuron {
                    incoming: vec![-0.004, 1.536, -1.295],
                    outgoing: vec![0.8],
                });
            }
            StudentLayer {
                id,
                loss: 1e-30,
                neurons,
            }
        })
        .collect();
    let c = cluster_layer(
        &students,
        SymmetryClass::Odd,
        true,
        &ClusterConfig::default(),
    )
    .unwrap();
    assert_eq!(c.neurons().len(), 2, "{:?}", c.clusters);
}

#[test]
fn metrics_of_a_permuted_sign_flipped_teacher_are_perfect_and_a_missing_neuron_shows() {
    use gradflow::cluster::compare;
    use gradflow::net::{Activation, LayerSpec, NetSpec, Network};
    use gradflow::teacher::{InputDistribution, TeacherConfig, sample_data};
    let mut tc = TeacherConfig::paper(3, 3, 21);
    tc.activation = Activation::Tanh;
    let t = tc.build().unwrap();
    let data = sample_data(&t, 500, InputDistribution::Uniform, 21).unwrap();
    // Same function: neurons in reverse order, the middle one negated (tanh is odd).
    let w = t.weight(0);
    let b = t.bias(0).unwrap();
    let a = t.weight(1);
    let c = t.bias(1).unwrap()[0];
    let order = [2usize, 1, 0];
    let sign = [1.0, -1.0, 1.0];
    let mut p = Vec::new();
    for (k, &j) in order.iter().enumerate() {
        p.extend((0..3).map(|i| sign[k] * w[(j, i)]));
    }
    p.extend(order.iter().enumerate().map(|(k, &j)| sign[k] * b[j]));
    p.extend(order.iter().enumerate().map(|(k, &j)| sign[k] * a[(0, j)]));
    p.push(c);
    let same = Network::new(t.spec.clone(), p).unwrap();
    let m = compare(&t, &same, &data, &[0], &[]).unwrap();
    assert!(m.rmse < 1e-15 && m.success);
    let l = &m.layers[0];
    assert_eq!((l.teacher_width, l.recovered_width, l.matched), (3, 3, 3));
    assert!(l.input_cosine_max < 1e-15);
    assert!(m.output_cosine_distance.abs() < 1e-15);
    // Drop the last neuron: two matched, one teacher neuron unmatched, rmse > 0.
    let spec = NetSpec::new(
        3,
        vec![
            LayerSpec::new(2, Activation::Tanh),
            LayerSpec::new(1, Activation::Identity),
        ],
    )
    .unwrap();
    let mut q = Vec::new();
    q.extend_from_slice(&t.params[0..6]);
    q.extend_from_slice(&b[..2]);
    q.extend((0..2).map(|j| a[(0, j)]));
    q.push(c);
    let fewer = Network::new(spec, q).unwrap();
    let m = compare(&t, &fewer, &data, &[0], &[]).unwrap();
    assert!(!m.success && m.rmse > 1e-3);
    let l = &m.layers[0];
    assert_eq!((l.recovered_width, l.matched), (2, 2));
    assert_eq!(
        l.per_teacher_neuron.iter().filter(|d| d.is_none()).count(),
        1
    );
    assert!(l.input_cosine_max < 1e-15);
}

#[test]
fn a_dead_teacher_neuron_is_reported_and_left_out_of_the_matching() {
    use gradflow::cluster::compare;
    use gradflow::net::{Activation, LayerSpec, NetSpec, Network};
    use gradflow::teacher::{InputDistribution, TeacherConfig, sample_data};
    let mut t = TeacherConfig::paper(3, 3, 23).build().unwrap();
    // Silence the middle neuron: no outgoing weight (as a deep teacher's layer-2 draw can do).
    let a_mid = t.spec.layouts()[1].w(0, 1);
    t.params[a_mid] = 0.0;
    let data = sample_data(&t, 500, InputDistribution::Uniform, 23).unwrap();
    // The same function without the dead neuron.
    let spec = NetSpec::new(
        3,
        vec![
            LayerSpec::new(2, Activation::G),
            LayerSpec::new(1, Activation::Identity),
        ],
    )
    .unwrap();
    let (w, b, a) = (t.weight(0), t.bias(0).unwrap(), t.weight(1));
    let mut q = Vec::new();
    for j in [0, 2] {
        q.extend((0..3).map(|i| w[(j, i)]));
    }
    q.extend([b[0], b[2]]);
    q.extend([a[(0, 0)], a[(0, 2)]]);
    q.push(t.bias(1).unwrap()[0]);
    let live = Network::new(spec, q).unwrap();
    let m = compare(&t, &live, &data, &[0], &[]).unwrap();
    assert!(m.success, "rmse {}", m.rmse);
    let l = &m.layers[0];
    assert_eq!(l.teacher_dead, vec![1]);
    assert_eq!(
        (
            l.teacher_width,
            l.teacher_effective_width,
            l.recovered_width
        ),
        (3, 2, 2)
    );
    assert_eq!(l.per_teacher_neuron[1], None);
    assert_eq!(l.matched, 2);
    assert!(l.input_cosine_max < 1e-15);
    assert!(m.output_cosine_distance.abs() < 1e-15);
}

/// Students whose weights on an uninformative input (inserted as input `D`, before the bias)
/// are arbitrary: left out, the clustering finds the teacher's neurons; counted, it does not.
#[test]
fn masked_inputs_leave_the_distances_but_stay_in_the_neurons() {
    for class in CLASSES {
        let mut students = ensemble(class, 10, 1e-7, 31);
        let mut s = Stream::new(5, 5);
        for st in &mut students {
            for n in &mut st.neurons {
                let b = n.incoming.pop().unwrap();
                n.incoming.push(3.0 * s.normal());
                n.incoming.push(b);
            }
        }
        let cfg = ClusterConfig::default();
        let masked =
            gradflow::cluster::cluster_layer_masked(&students, class, true, &cfg, &[D]).unwrap();
        let got = masked.neurons();
        assert_eq!(got.len(), 3, "{class:?}");
        assert!(got.iter().all(|n| n.incoming.len() == D + 2));
        let plain = cluster_layer(&students, class, true, &cfg).unwrap();
        assert!(
            plain.neurons().len() < 3,
            "{class:?}: the arbitrary weights should split clusters"
        );
        // Teacher neurons match after dropping the masked coordinate.
        for t in teacher() {
            let (tc, _) = canonicalise(&t, class, &reference_direction(D + 1));
            let close = got.iter().any(|n| {
                let mut v = n.incoming.clone();
                v.remove(D);
                let (c, _) = canonicalise(
                    &Neuron {
                        incoming: v,
                        outgoing: n.outgoing.clone(),
                    },
                    class,
                    &reference_direction(D + 1),
                );
                gradflow::cluster::neuron::cosine(&c.incoming, &tc.incoming).abs() > 1.0 - 1e-6
            });
            assert!(close, "{class:?}: {t:?} not among {got:?}");
        }
    }
    let bad = ensemble(SymmetryClass::None, 4, 0.0, 1);
    let e = gradflow::cluster::cluster_layer_masked(
        &bad,
        SymmetryClass::None,
        true,
        &ClusterConfig::default(),
        &[D],
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("input 4 is not an input"), "{e}");
}
