//! `Objective::with_threads`: a parallel evaluation over blocks of samples agrees with one
//! thread (to round-off: the blocks' sums are added in another order) on every random network
//! of the finite-difference cases, every chunk size, weights, both losses, mini-batches.

use gradflow::net::{Curvature, Objective};
use proptest::prelude::*;

use super::finite_differences::{case, config, data_for, max_abs, params_for};

fn close(a: &[f64], b: &[f64]) -> bool {
    let scale = 1.0 + max_abs(a);
    a.iter().zip(b).all(|(x, y)| (x - y).abs() <= 1e-12 * scale)
}

proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn threads_agree_with_one_thread(
        case in case(),
        chunk in 1usize..=5,
        threads in 2usize..=4,
    ) {
        let data = data_for(&case);
        let p = params_for(&case);
        let np = p.len();
        let mut one = Objective::new(&case.spec, &data, case.loss).unwrap().with_chunk(chunk);
        let mut par = Objective::new(&case.spec, &data, case.loss)
            .unwrap()
            .with_chunk(chunk)
            .with_threads(threads)
            .unwrap();
        prop_assert_eq!(par.threads(), threads);
        let (l1, g1, h1) = one.hessian(&p);
        // Twice: the second call reuses the workers' buffers.
        for _ in 0..2 {
            let (l2, g2, h2) = par.hessian(&p);
            prop_assert!((l1 - l2).abs() <= 1e-12 * (1.0 + l1.abs()), "{} vs {}", l1, l2);
            prop_assert!(close(&g1, &g2));
            prop_assert!(close(&h1, &h2));
            let (l3, g3) = par.gradient(&p);
            prop_assert!((l1 - l3).abs() <= 1e-12 * (1.0 + l1.abs()));
            prop_assert!(close(&g1, &g3));
            prop_assert!((l1 - par.loss(&p)).abs() <= 1e-12 * (1.0 + l1.abs()));
        }
        let (mut gn1, mut gn2) = (vec![0.0; np * np], vec![0.0; np * np]);
        let (mut ga, mut gb) = (vec![0.0; np], vec![0.0; np]);
        one.curvature_into(&p, &mut ga, &mut gn1, Curvature::GaussNewton);
        par.curvature_into(&p, &mut gb, &mut gn2, Curvature::GaussNewton);
        prop_assert!(close(&gn1, &gn2));
        // A mini-batch in the middle of the data.
        let rows = case.n / 4..case.n - case.n / 5;
        let la = one.gradient_rows_into(&p, &mut ga, rows.clone());
        let lb = par.gradient_rows_into(&p, &mut gb, rows);
        prop_assert!((la - lb).abs() <= 1e-12 * (1.0 + la.abs()));
        prop_assert!(close(&ga, &gb));
    }
}

#[test]
fn zero_threads_are_rejected_by_name() {
    let p = gradflow::reference::Problem::benchmark("4-16-1", 100).unwrap();
    let err = Objective::new(&p.student, &p.data, gradflow::net::Loss::Mse)
        .unwrap()
        .with_threads(0)
        .err()
        .expect("0 threads");
    assert!(err.to_string().contains("threads"), "{err}");
}

/// Regularisers and frozen parameters are applied once, after the blocks are summed.
#[test]
fn threads_with_regularisers_and_frozen_parameters() {
    let p = gradflow::reference::Problem::benchmark("4-16-1", 2000).unwrap();
    let np = p.start.len();
    let norm = p.start.iter().map(|v| v * v).sum::<f64>().sqrt();
    let mut reg = gradflow::net::Regularisers::default();
    reg.maxnorm = Some(0.5 * norm);
    let frozen: Vec<bool> = (0..np).map(|i| i % 7 == 3).collect();
    let build = |threads: usize| {
        Objective::new(&p.student, &p.data, gradflow::net::Loss::Mse)
            .unwrap()
            .with_chunk(100)
            .with_regularisers(&reg)
            .unwrap()
            .with_frozen(&frozen)
            .unwrap()
            .with_threads(threads)
            .unwrap()
    };
    let (mut one, mut three) = (build(1), build(3));
    let (l1, g1, h1) = one.hessian(&p.start);
    let (l3, g3, h3) = three.hessian(&p.start);
    assert!((l1 - l3).abs() <= 1e-12 * l1.abs());
    assert!(close(&g1, &g3) && close(&h1, &h3));
    assert!(frozen.iter().zip(&g3).all(|(&f, &g)| !f || g == 0.0));
    let (mut ga, mut gb) = (vec![0.0; np], vec![0.0; np]);
    let la = one.gradient_rows_into(&p.start, &mut ga, 150..650);
    let lb = three.gradient_rows_into(&p.start, &mut gb, 150..650);
    assert!((la - lb).abs() <= 1e-12 * la.abs());
    assert!(close(&ga, &gb));
}
