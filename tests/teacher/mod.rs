//! The paper's teachers (SPEC §7).

use gradflow::net::{Activation, Loss, Objective};
use gradflow::teacher::{InputDistribution, TeacherConfig, paper_family, paper_seed, sample_data};

fn output_moments(t: &gradflow::net::Network, seed: u64) -> (f64, f64) {
    let data = sample_data(t, 50_000, InputDistribution::Uniform, seed).unwrap();
    let y = data.y_row_major();
    let n = y.len() as f64;
    let mean = y.iter().sum::<f64>() / n;
    let var = y.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    (mean, var.sqrt())
}

#[test]
fn shallow_teachers_follow_the_construction() {
    for (d, r) in [(2, 8), (4, 4), (8, 2), (16, 8)] {
        for i in 0..3 {
            let t = TeacherConfig::paper(d, r, paper_seed(d, r, i))
                .build()
                .unwrap();
            let lay = &t.spec.layouts()[0];
            let unit = 3f64.sqrt() / 3.0;
            let mut neurons = Vec::new();
            for u in 0..r {
                let w = &t.params[lay.w(u, 0)..lay.w(u, 0) + d];
                let norm = w.iter().map(|v| v * v).sum::<f64>().sqrt();
                assert!((norm - 3.0).abs() < 1e-12, "‖w‖ = {norm}");
                // Before scaling the entries were in {−1, 0, 1}: all non-zero entries share one
                // magnitude.
                let c = w.iter().fold(0.0f64, |m, v| m.max(v.abs()));
                assert!(
                    w.iter()
                        .all(|v| v.abs() < 1e-15 || (v.abs() - c).abs() < 1e-12)
                );
                let b = t.params[lay.bias.as_ref().unwrap().start + u];
                let level = b / (3.0 * unit);
                assert!((level - level.round()).abs() < 1e-9 && level.abs() <= 2.0 + 1e-9);
                let key: Vec<i64> = w
                    .iter()
                    .map(|v| (v / c).round() as i64)
                    .chain([level.round() as i64])
                    .collect();
                neurons.push(key);
            }
            let mut sorted = neurons.clone();
            sorted.sort();
            sorted.dedup();
            assert_eq!(sorted.len(), r, "neurons are distinct");
            let (mean, std) = output_moments(&t, 99);
            assert!(
                mean.abs() < 0.02 && (std - 1.0).abs() < 0.02,
                "mean {mean} std {std}"
            );
        }
    }
}

#[test]
fn symmetric_activations_avoid_sign_flipped_duplicates() {
    for seed in 0..20 {
        let mut cfg = TeacherConfig::paper(2, 8, seed);
        cfg.activation = Activation::Tanh;
        cfg.n_standardise = 2_000;
        let t = cfg.build().unwrap();
        let lay = &t.spec.layouts()[0];
        let keys: Vec<Vec<i64>> = (0..8)
            .map(|u| {
                let mut v: Vec<f64> = t.params[lay.w(u, 0)..lay.w(u, 0) + 2].to_vec();
                v.push(t.params[lay.bias.as_ref().unwrap().start + u]);
                v.iter().map(|x| (x * 1e6).round() as i64).collect()
            })
            .collect();
        for a in 0..8 {
            for b in 0..8 {
                if a != b {
                    let neg: Vec<i64> = keys[b].iter().map(|x| -x).collect();
                    assert!(keys[a] != keys[b] && keys[a] != neg);
                }
            }
        }
    }
}

#[test]
fn family_is_reproducible_from_its_seeds() {
    let fam = paper_family();
    assert_eq!(fam.len(), 150);
    let mut seeds: Vec<u64> = fam.iter().map(|m| m.seed).collect();
    seeds.sort();
    seeds.dedup();
    assert_eq!(seeds.len(), 150);
    for m in fam.iter().step_by(17) {
        let mut cfg = m.config();
        cfg.n_standardise = 5_000;
        let a = cfg.build().unwrap();
        let b = cfg.build().unwrap();
        assert_eq!(a, b);
        assert_eq!(m.seed, paper_seed(m.d, m.r, m.index));
    }
}

#[test]
fn deep_teachers_standardise_every_layer() {
    let cfg = {
        let mut c = TeacherConfig::paper(1, 1, 0);
        c.widths = vec![8, 4, 2, 1];
        c.activation = Activation::G;
        c.seed = 7;
        c.n_standardise = 100_000;
        c
    };
    let t = cfg.build().unwrap();
    let (mean, std) = output_moments(&t, 5);
    assert!(
        mean.abs() < 0.02 && (std - 1.0).abs() < 0.02,
        "mean {mean} std {std}"
    );
    // Inputs to the second hidden layer are standardised: fold check via a fresh sample of the
    // first layer's activations.
    let data = sample_data(&t, 50_000, InputDistribution::Uniform, 11).unwrap();
    let x = data.x_row_major();
    let lay0 = &t.spec.layouts()[0];
    let mut cols = vec![Vec::new(); 4];
    for s in 0..data.n_samples() {
        for (u, col) in cols.iter_mut().enumerate() {
            let w = &t.params[lay0.w(u, 0)..lay0.w(u, 0) + 8];
            let z: f64 = w
                .iter()
                .zip(&x[s * 8..s * 8 + 8])
                .map(|(a, b)| a * b)
                .sum::<f64>()
                + t.params[lay0.bias.as_ref().unwrap().start + u];
            col.push(Activation::G.eval(z));
        }
    }
    let lay1 = &t.spec.layouts()[1];
    for u in 0..2 {
        let w = &t.params[lay1.w(u, 0)..lay1.w(u, 0) + 4];
        // W·diag(1/σ) folded: the effective weights on standardised inputs are ±3/‖w‖-scaled
        // lattice values, so W_ij · σ_j has one common magnitude over non-zero entries.
        let scaled: Vec<f64> = (0..4)
            .map(|j| {
                let c = &cols[j];
                let m = c.iter().sum::<f64>() / c.len() as f64;
                let sd = (c.iter().map(|v| (v - m).powi(2)).sum::<f64>() / c.len() as f64).sqrt();
                w[j] * sd
            })
            .collect();
        let mag = scaled.iter().fold(0.0f64, |a, v| a.max(v.abs()));
        assert!(
            scaled
                .iter()
                .all(|v| v.abs() < 1e-9 || (v.abs() - mag).abs() < 0.02 * mag),
            "{scaled:?}"
        );
    }
    // The teacher is a zero-loss point of its own data.
    let mut obj = Objective::new(&t.spec, &data, Loss::Mse).unwrap();
    assert!(obj.loss(&t.params) < 1e-28);
}

#[test]
fn deep_teachers_have_no_dead_units() {
    // Seed 1 of 8-4-2-1 first draws a second layer that leaves unit 4 of the first without an
    // outgoing weight; the layer is drawn again. Every unit of every hidden layer must feed the
    // next one, for many seeds and shapes.
    for (widths, seeds) in [(vec![8, 4, 2, 1], 0..40), (vec![4, 6, 3, 2, 1], 0..20)] {
        for seed in seeds {
            let t = {
                let mut c = TeacherConfig::paper(1, 1, 0);
                c.widths = widths.clone();
                c.activation = Activation::G;
                c.seed = seed;
                c.n_standardise = 1000;
                c
            }
            .build()
            .unwrap();
            for l in 0..widths.len() - 2 {
                assert!(
                    gradflow::cluster::metrics::dead_neurons(&t, l).is_empty(),
                    "{widths:?} seed {seed} layer {}",
                    l + 1
                );
            }
        }
    }
}

#[test]
fn impossible_teachers_are_refused() {
    let mut cfg = TeacherConfig::paper(1, 8, 0);
    cfg.activation = Activation::Tanh; // only 5 distinct neurons exist for d = 1
    assert!(cfg.build().is_err());
    assert!(
        {
            let mut c = TeacherConfig::paper(3, 1, 0);
            c.widths = vec![3, 0, 1];
            c
        }
        .build()
        .is_err()
    );
}

mod classifier {
    use gradflow::net::{Activation, Dataset};
    use gradflow::observe::Watch;
    use gradflow::rng::Stream;
    use gradflow::teacher::{ClassifierOptions, ClassifierStop, logit_network, train_classifier};

    /// Three Gaussian blobs in 2-D.
    fn blobs(n: usize, seed: u64) -> Dataset {
        let mut s = Stream::new(seed, 0);
        let centres = [(-2.0, 0.0), (2.0, 0.0), (0.0, 2.5)];
        let mut x = Vec::new();
        let mut labels = Vec::new();
        for i in 0..n {
            let c = i % 3;
            x.push(centres[c].0 + 1.5 * s.normal());
            x.push(centres[c].1 + 1.5 * s.normal());
            labels.push(c);
        }
        Dataset::from_labels(&x, 2, &labels, 3).unwrap()
    }

    #[test]
    fn a_classifier_learns_blobs_stops_early_and_gives_its_logits() {
        let data = blobs(300, 1);
        let mut o = ClassifierOptions::default();
        o.hidden = vec![8];
        o.activation = Activation::Tanh;
        o.lr = 1e-2;
        o.patience = 20;
        let (net, rep) = train_classifier(&data, &o, &Watch::silent()).unwrap();
        assert_eq!(net.spec.shape_string(), "2-8-3");
        assert!(
            rep.validation_accuracy > 0.7 && rep.train_accuracy > 0.7,
            "{rep:?}"
        );
        assert_eq!(rep.split, (240, 60));
        assert_eq!(rep.stop, ClassifierStop::EarlyStopping, "{rep:?}");
        assert!(rep.best_epoch + o.patience == rep.epochs);
        // Logits: the softmax of the logit network's outputs is the classifier's output.
        let logits = logit_network(&net);
        assert_eq!(logits.spec.layers[1].activation, Activation::Identity);
        let x = [0.3, -0.2];
        let (p, z) = (net.predict_one(&x), logits.predict_one(&x));
        let sum: f64 = z.iter().map(|v| v.exp()).sum();
        for (p, z) in p.iter().zip(&z) {
            assert!((p - z.exp() / sum).abs() < 1e-14);
        }
        // Deterministic in the seed.
        let (again, _) = train_classifier(&data, &o, &Watch::silent()).unwrap();
        assert_eq!(again.params, net.params);
    }

    #[test]
    fn bad_classifier_options_name_the_field() {
        let data = blobs(30, 2);
        let mut o = ClassifierOptions::default();
        o.lr = 0.0;
        let e = train_classifier(&data, &o, &Watch::silent()).unwrap_err();
        assert!(e.to_string().starts_with("lr"), "{e}");
        let mut o = ClassifierOptions::default();
        o.validation_fraction = 0.01;
        let e = train_classifier(&data, &o, &Watch::silent()).unwrap_err();
        assert!(e.to_string().contains("validation_fraction"), "{e}");
        let one = Dataset::from_row_major(&[1.0, 2.0], 1, &[1.0, 0.0], 1).unwrap();
        let e =
            train_classifier(&one, &ClassifierOptions::default(), &Watch::silent()).unwrap_err();
        assert!(e.to_string().contains("at least 2 classes"), "{e}");
    }
}
