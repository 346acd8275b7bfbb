//! Property tests: gradient and exact Hessian against central finite differences for random
//! small networks — 1 to 3 hidden layers, 1 to 3 outputs, every activation, every bias
//! combination, MSE and NLL, with and without per-sample weights.

use gradflow::net::gauss_newton::GaussNewtonProducts;
use gradflow::net::{Activation, Dataset, LayerSpec, Loss, NetSpec, Objective};
use gradflow::rng::Stream;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};

/// A random network and data set.
#[derive(Debug, Clone)]
pub(crate) struct Case {
    pub(crate) spec: NetSpec,
    pub(crate) loss: Loss,
    pub(crate) n: usize,
    pub(crate) weighted: bool,
    pub(crate) seed: u64,
}

fn activation() -> impl Strategy<Value = Activation> {
    proptest::sample::select(Activation::all_examples())
}

pub(crate) fn case() -> impl Strategy<Value = Case> {
    (
        1usize..=3, // input dim
        proptest::collection::vec(
            (
                1usize..=3,
                activation(),
                proptest::option::of(activation()), // a second activation: a mixed layer
                any::<bool>(),
            ),
            1..=3,
        ), // hidden
        1usize..=3, // outputs
        any::<bool>(), // output bias
        prop_oneof![Just(Loss::Mse), Just(Loss::Nll)],
        prop_oneof![
            Just(Activation::Identity),
            Just(Activation::Tanh),
            Just(Activation::G)
        ],
        3usize..=12,
        any::<bool>(),
        any::<u64>(),
    )
        .prop_map(
            |(d, hidden, k, out_bias, loss, out_act, n, weighted, seed)| {
                let mut layers: Vec<LayerSpec> = hidden
                    .into_iter()
                    .map(|(w, a, second, b)| match second {
                        // Alternating activations, e.g. [a, b, a].
                        Some(s) if w >= 2 => LayerSpec::mixed(
                            (0..w)
                                .map(|u| if u % 2 == 0 { a.clone() } else { s.clone() })
                                .collect(),
                        )
                        .with_bias(b),
                        _ => LayerSpec::new(w, a).with_bias(b),
                    })
                    .collect();
                let (k, out_act) = match loss {
                    Loss::Nll => (k.max(2), Activation::Softmax),
                    Loss::Mse => (k, out_act),
                };
                layers.push(LayerSpec::new(k, out_act).with_bias(out_bias));
                Case {
                    spec: NetSpec::new(d, layers).unwrap(),
                    loss,
                    n,
                    weighted,
                    seed,
                }
            },
        )
}

pub(crate) fn data_for(case: &Case) -> Dataset {
    let mut rng = Stream::new(case.seed, 9);
    let (d, k, n) = (case.spec.input_dim, case.spec.output_dim(), case.n);
    let x: Vec<f64> = (0..n * d).map(|_| rng.normal()).collect();
    let data = match case.loss {
        Loss::Mse => {
            let y: Vec<f64> = (0..n * k).map(|_| rng.normal()).collect();
            Dataset::from_row_major(&x, d, &y, k).unwrap()
        }
        Loss::Nll => {
            // Probability targets (rows sum to 1), not just one-hot.
            let mut y: Vec<f64> = (0..n * k).map(|_| rng.uniform() + 0.05).collect();
            for row in y.chunks_mut(k) {
                let s: f64 = row.iter().sum();
                row.iter_mut().for_each(|v| *v /= s);
            }
            Dataset::from_row_major(&x, d, &y, k).unwrap()
        }
    };
    if case.weighted {
        let w: Vec<f64> = (0..n).map(|_| rng.uniform() * 2.0).collect();
        data.with_weights(w).unwrap()
    } else {
        data
    }
}

pub(crate) fn params_for(case: &Case) -> Vec<f64> {
    let mut rng = Stream::new(case.seed, 10);
    (0..case.spec.n_params())
        .map(|_| 0.6 * rng.normal())
        .collect()
}

pub(crate) fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0.0f64, |m, x| m.max(x.abs()))
}

/// Central differences with step `eps`: `(∇L, ∇²L)` estimated from `L` and the analytic
/// gradient respectively.
fn check(case: &Case, chunk: usize) -> Result<(), TestCaseError> {
    let data = data_for(case);
    let mut obj = Objective::new(&case.spec, &data, case.loss)
        .unwrap()
        .with_chunk(chunk);
    let p = params_for(case);
    let np = p.len();
    let (loss, g, h) = obj.hessian(&p);
    let (loss2, g2) = obj.gradient(&p);
    prop_assert!((loss - loss2).abs() <= 1e-12 * (1.0 + loss.abs()));
    prop_assert!((loss - obj.loss(&p)).abs() <= 1e-12 * (1.0 + loss.abs()));
    for i in 0..np {
        prop_assert!((g[i] - g2[i]).abs() <= 1e-12 * (1.0 + max_abs(&g)));
    }
    let eps = 1e-5;
    let mut fd_g = vec![0.0; np];
    let mut fd_h = vec![0.0; np * np];
    for i in 0..np {
        let mut q = p.clone();
        q[i] = p[i] + eps;
        let (lp, gp) = obj.gradient(&q);
        q[i] = p[i] - eps;
        let (lm, gm) = obj.gradient(&q);
        fd_g[i] = (lp - lm) / (2.0 * eps);
        for j in 0..np {
            fd_h[i * np + j] = (gp[j] - gm[j]) / (2.0 * eps);
        }
    }
    let gscale = 1.0 + max_abs(&g);
    let hscale = 1.0 + max_abs(&h);
    check_gauss_newton(case, &mut obj, &p, &g, &data)?;
    for i in 0..np {
        prop_assert!(
            (g[i] - fd_g[i]).abs() <= 1e-6 * gscale,
            "gradient {i}: {} vs fd {}",
            g[i],
            fd_g[i]
        );
        for j in 0..np {
            let (a, b) = (h[i * np + j], fd_h[i * np + j]);
            prop_assert!((a - b).abs() <= 1e-6 * hscale, "H[{i},{j}]: {a} vs fd {b}");
            prop_assert!(
                (a - h[j * np + i]).abs() <= 1e-14 * hscale,
                "H not symmetric at [{i},{j}]"
            );
        }
    }
    Ok(())
}

/// The Gauss–Newton matrix: same loss and gradient as the Hessian pass, symmetric; for MSE
/// with a linear output layer equal to `2 Σ_i w_i J_iᵀ J_i` with `J_i` the finite-difference
/// Jacobian of the outputs, and positive semidefinite (also for softmax with NLL). The
/// vector–Jacobian product with the outputs against the same Jacobian.
fn check_gauss_newton(
    case: &Case,
    obj: &mut Objective<'_>,
    p: &[f64],
    g: &[f64],
    data: &Dataset,
) -> Result<(), TestCaseError> {
    let np = p.len();
    let mut g_gn = vec![0.0; np];
    let mut gn = vec![0.0; np * np];
    let loss = obj.gauss_newton_into(p, &mut g_gn, &mut gn);
    prop_assert!((loss - obj.loss(p)).abs() <= 1e-12 * (1.0 + loss.abs()));
    for i in 0..np {
        prop_assert!((g[i] - g_gn[i]).abs() <= 1e-12 * (1.0 + max_abs(g)));
    }
    let scale = 1.0 + max_abs(&gn);
    for i in 0..np {
        for j in 0..np {
            prop_assert!((gn[i * np + j] - gn[j * np + i]).abs() <= 1e-14 * scale);
        }
    }
    // Matrix-free products (tangent and backward passes) against the dense matrix.
    let mut products = GaussNewtonProducts::new(obj).unwrap();
    let mut g_lin = vec![0.0; np];
    let l_lin = obj.linearise_into(p, &mut g_lin, &mut products);
    prop_assert!((l_lin - loss).abs() <= 1e-12 * (1.0 + loss.abs()));
    for i in 0..np {
        prop_assert!((g[i] - g_lin[i]).abs() <= 1e-12 * (1.0 + max_abs(g)));
    }
    for shift in 0..2 {
        let v: Vec<f64> = (0..np)
            .map(|i| ((i * 3 + shift) % 7) as f64 - 3.0)
            .collect();
        let mut bv = vec![0.0; np];
        obj.gauss_newton_product_into(&mut products, &v, &mut bv);
        for i in 0..np {
            let dense: f64 = (0..np).map(|j| gn[i * np + j] * v[j]).sum();
            prop_assert!(
                (bv[i] - dense).abs() <= 1e-12 * scale * 3.0 * np as f64,
                "(B v)[{i}]: {} vs dense {dense}",
                bv[i]
            );
        }
    }
    // Per-unit blocks: the dense matrix's blocks for the MSE with an identity output layer.
    let mut blocks = Vec::new();
    obj.gauss_newton_unit_blocks_into(&mut products, &mut blocks);
    let units = gradflow::net::gauss_newton::unit_parameters(&case.spec);
    prop_assert_eq!(units.iter().map(|u| u.len()).sum::<usize>(), np);
    prop_assert_eq!(
        blocks.len(),
        units.iter().map(|u| u.len() * u.len()).sum::<usize>()
    );
    if case.loss == Loss::Mse && case.spec.layers.last().unwrap().activation == Activation::Identity
    {
        let mut offset = 0;
        for idx in &units {
            let dim = idx.len();
            for (c, &pc) in idx.iter().enumerate() {
                for (r, &pr) in idx.iter().enumerate() {
                    let (a, b) = (blocks[offset + c * dim + r], gn[pr * np + pc]);
                    prop_assert!(
                        (a - b).abs() <= 1e-12 * scale * np as f64,
                        "block {a} vs {b}"
                    );
                }
            }
            offset += dim * dim;
        }
    }
    let last = case.spec.layers.last().unwrap().activation.clone();
    let linear_out = case.loss == Loss::Mse && last == Activation::Identity;
    if linear_out {
        let (n, k) = (data.n_samples(), case.spec.output_dim());
        let eps = 1e-6;
        let mut jac = vec![0.0; np * n * k]; // column i: ∂f/∂θ_i over all (sample, output)
        for i in 0..np {
            let mut q = p.to_vec();
            q[i] = p[i] + eps;
            let fp = obj.predict(&q);
            q[i] = p[i] - eps;
            let fm = obj.predict(&q);
            for r in 0..n * k {
                jac[i * n * k + r] = (fp[r] - fm[r]) / (2.0 * eps);
            }
        }
        let w = |s: usize| data.weights().map_or(1.0, |w| w[s]);
        // Vector–Jacobian product with the outputs, and predict_into.
        let u: Vec<f64> = (0..n * k).map(|r| ((r * 7 % 5) as f64) - 1.5).collect();
        let mut vjp = vec![0.0; np];
        obj.output_vjp_into(p, &u, &mut vjp);
        for i in 0..np {
            let fd: f64 = (0..n * k)
                .map(|r| w(r / k) * u[r] * jac[i * n * k + r])
                .sum();
            prop_assert!((vjp[i] - fd).abs() <= 1e-6 * (1.0 + fd.abs()), "vjp[{i}]");
        }
        let mut f = vec![0.0; n * k];
        obj.predict_into(p, &mut f);
        prop_assert!(f == obj.predict(p));
        for i in 0..np {
            for j in 0..np {
                let fd: f64 = (0..n * k)
                    .map(|r| 2.0 * w(r / k) * jac[i * n * k + r] * jac[j * n * k + r])
                    .sum();
                let a = gn[i * np + j];
                prop_assert!(
                    (a - fd).abs() <= 1e-6 * scale,
                    "GN[{i},{j}]: {a} vs fd {fd}"
                );
            }
        }
    }
    if linear_out || case.loss == Loss::Nll {
        let eig = gradflow::net::symmetric_eigenvalues(&gn, np).unwrap();
        prop_assert!(eig[0] >= -1e-10 * scale, "GN not PSD: {}", eig[0]);
    }
    Ok(())
}

pub(crate) fn config(cases: u32) -> Config {
    Config {
        cases,
        rng_seed: RngSeed::Fixed(20_241_121),
        failure_persistence: None,
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(config(160))]

    #[test]
    fn gradient_and_hessian_match_finite_differences(case in case(), chunk in 1usize..=5) {
        check(&case, chunk)?;
    }
}

/// Every activation next to every other in one mixed hidden layer, deterministically.
#[test]
fn every_pair_of_activations_in_a_mixed_layer() {
    let all = Activation::all_examples();
    for (i, a) in all.iter().enumerate() {
        let b = &all[(i + 1) % all.len()];
        let c = &all[(i + 5) % all.len()];
        let spec = NetSpec::new(
            2,
            vec![
                LayerSpec::mixed(vec![a.clone(), b.clone(), a.clone(), c.clone()]),
                LayerSpec::mixed(vec![c.clone(), a.clone()]).with_bias(i % 2 == 0),
                LayerSpec::new(2, Activation::Identity),
            ],
        )
        .unwrap();
        let case = Case {
            spec,
            loss: Loss::Mse,
            n: 6,
            weighted: i % 3 == 0,
            seed: 200 + i as u64,
        };
        check(&case, 4).unwrap();
    }
}

/// Every activation in every hidden position, deterministically (the random search above may
/// miss one).
#[test]
fn every_activation_in_every_position() {
    for (i, act) in Activation::all_examples().into_iter().enumerate() {
        for bias in [true, false] {
            let spec = NetSpec::new(
                2,
                vec![
                    LayerSpec::new(3, act.clone()).with_bias(bias),
                    LayerSpec::new(2, act.clone()).with_bias(!bias),
                    LayerSpec::new(2, Activation::Identity),
                ],
            )
            .unwrap();
            let case = Case {
                spec,
                loss: Loss::Mse,
                n: 7,
                weighted: bias,
                seed: i as u64,
            };
            check(&case, 3).unwrap();
        }
        // As the output activation too.
        let spec = NetSpec::new(
            2,
            vec![
                LayerSpec::new(3, Activation::Tanh),
                LayerSpec::new(2, act.clone()),
            ],
        )
        .unwrap();
        let case = Case {
            spec,
            loss: Loss::Mse,
            n: 6,
            weighted: false,
            seed: 100 + i as u64,
        };
        check(&case, 4).unwrap();
    }
}
