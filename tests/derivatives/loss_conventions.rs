//! Loss conventions of SPEC §3: sums, means, weights, labels.

use gradflow::net::{Activation, Dataset, Init, LayerSpec, Loss, NetSpec, Network, Objective};
use gradflow::rng::Stream;

fn inputs(n: usize, d: usize, seed: u64) -> Vec<f64> {
    let mut rng = Stream::new(seed, 3);
    (0..n * d).map(|_| rng.normal()).collect()
}

#[test]
fn loss_equals_a_plain_sum_for_every_n() {
    let spec = NetSpec::new(
        3,
        vec![
            LayerSpec::new(5, Activation::G),
            LayerSpec::new(4, Activation::Softplus).with_bias(false),
            LayerSpec::new(2, Activation::Identity),
        ],
    )
    .unwrap();
    let params = Init::GlorotNormal.draw_seeded(&spec, 11);
    let net = Network::new(spec.clone(), params.clone()).unwrap();
    for n in 60..=80 {
        let x = inputs(n, 3, n as u64);
        let mut rng = Stream::new(n as u64, 4);
        let y: Vec<f64> = (0..n * 2).map(|_| rng.normal()).collect();
        let data = Dataset::from_row_major(&x, 3, &y, 2).unwrap();
        let mut plain = 0.0;
        for i in 0..n {
            let out = net.predict_one(&x[i * 3..i * 3 + 3]);
            for o in 0..2 {
                plain += (out[o] - y[i * 2 + o]).powi(2);
            }
        }
        for chunk in [1, 7, 16, 64, 512] {
            let mut obj = Objective::new(&spec, &data, Loss::Mse)
                .unwrap()
                .with_chunk(chunk);
            let l = obj.loss(&params);
            assert!(
                (l - plain).abs() <= 1e-12 * plain,
                "N = {n}, chunk {chunk}: {l} vs {plain}"
            );
            let mean = l * obj.mean_scale();
            assert!((mean - plain / n as f64).abs() <= 1e-12 * mean);
            let rmse = obj.rmse_of(l).unwrap();
            assert!((rmse - (plain / (2 * n) as f64).sqrt()).abs() <= 1e-12 * rmse);
        }
    }
}

#[test]
fn zero_one_weights_give_the_subset_loss() {
    let spec = NetSpec::shallow(2, 4, Activation::Tanh, 1);
    let params = Init::GlorotNormal.draw_seeded(&spec, 2);
    let n = 50;
    let x = inputs(n, 2, 1);
    let y: Vec<f64> = (0..n).map(|i| (i as f64 * 0.37).sin()).collect();
    let full = Dataset::from_row_major(&x, 2, &y, 1).unwrap();
    let keep: Vec<usize> = (0..n).filter(|i| i % 3 != 0).collect();
    let w: Vec<f64> = (0..n).map(|i| if i % 3 != 0 { 1.0 } else { 0.0 }).collect();
    let weighted = full.clone().with_weights(w).unwrap();
    let subset = full.select(&keep).unwrap();
    let mut a = Objective::new(&spec, &weighted, Loss::Mse)
        .unwrap()
        .with_chunk(8);
    let mut b = Objective::new(&spec, &subset, Loss::Mse)
        .unwrap()
        .with_chunk(8);
    let (la, ga, ha) = a.hessian(&params);
    let (lb, gb, hb) = b.hessian(&params);
    assert!((la * a.mean_scale() - lb * b.mean_scale()).abs() < 1e-14);
    for (p, q) in ga.iter().zip(&gb).chain(ha.iter().zip(&hb)) {
        assert!((p - q).abs() < 1e-12 * (1.0 + q.abs()));
    }
}

#[test]
fn nll_with_labels_and_one_hot_targets_agree() {
    let spec = NetSpec::new(
        3,
        vec![
            LayerSpec::new(4, Activation::Gelu),
            LayerSpec::new(3, Activation::Softmax),
        ],
    )
    .unwrap();
    let params = Init::GlorotNormal.draw_seeded(&spec, 8);
    let n = 40;
    let x = inputs(n, 3, 5);
    let labels: Vec<usize> = (0..n).map(|i| (i * 7) % 3).collect();
    let mut one_hot = vec![0.0; n * 3];
    for (i, &l) in labels.iter().enumerate() {
        one_hot[i * 3 + l] = 1.0;
    }
    let a = Dataset::from_labels(&x, 3, &labels, 3).unwrap();
    let b = Dataset::from_row_major(&x, 3, &one_hot, 3).unwrap();
    let mut oa = Objective::new(&spec, &a, Loss::Nll).unwrap();
    let mut ob = Objective::new(&spec, &b, Loss::Nll).unwrap();
    let (la, ga, ha) = oa.hessian(&params);
    let (lb, gb, hb) = ob.hessian(&params);
    assert!((la - lb).abs() < 1e-12 * la);
    assert!(ga.iter().zip(&gb).all(|(p, q)| (p - q).abs() < 1e-12));
    assert!(ha.iter().zip(&hb).all(|(p, q)| (p - q).abs() < 1e-12));
    // And against the textbook formula −Σ log softmax.
    let net = Network::new(spec, params).unwrap();
    let plain: f64 = (0..n)
        .map(|i| -net.predict_one(&x[i * 3..i * 3 + 3])[labels[i]].ln())
        .sum();
    assert!((la - plain).abs() < 1e-12 * plain);
    assert!(Dataset::from_labels(&x, 3, &[3; 40], 3).is_err());
}

#[test]
fn mismatched_loss_and_output_layer_are_rejected() {
    let data = Dataset::from_row_major(&[0.0, 1.0], 1, &[1.0, 0.0, 0.0, 1.0], 2).unwrap();
    let soft = NetSpec::new(1, vec![LayerSpec::new(2, Activation::Softmax)]).unwrap();
    let lin = NetSpec::new(1, vec![LayerSpec::new(2, Activation::Identity)]).unwrap();
    assert!(Objective::new(&soft, &data, Loss::Mse).is_err());
    assert!(Objective::new(&lin, &data, Loss::Nll).is_err());
    let wrong_d = NetSpec::shallow(3, 2, Activation::Tanh, 2);
    assert!(Objective::new(&wrong_d, &data, Loss::Mse).is_err());
}

#[test]
fn a_nan_parameter_gives_a_nan_loss_for_every_activation() {
    // A diverged optimiser's NaN weight must show in the loss, also where an activation is
    // flat (relu's zero side used to turn the NaN pre-activation into 0).
    let n = 20;
    let x = inputs(n, 2, 5);
    let y: Vec<f64> = (0..n).map(|i| (i as f64 * 0.37).sin()).collect();
    let data = Dataset::from_row_major(&x, 2, &y, 1).unwrap();
    for act in Activation::all_examples() {
        let spec = NetSpec::shallow(2, 3, act.clone(), 1);
        let mut params = Init::GlorotNormal.draw_seeded(&spec, 3);
        params[0] = f64::NAN;
        let mut obj = Objective::new(&spec, &data, Loss::Mse).unwrap();
        let mut grad = vec![0.0; params.len()];
        assert!(obj.loss(&params).is_nan(), "{act}: loss");
        assert!(
            obj.gradient_into(&params, &mut grad).is_nan(),
            "{act}: loss with gradient"
        );
    }
}
