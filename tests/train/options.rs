//! Options checked before any work: once per batch of runs, and dense matrices sized first.

use gradflow::net::{Activation, Dataset, LayerSpec, NetSpec};
use gradflow::observe::Watch;
use gradflow::train::{TrainOptions, TrainProblem};

use super::quadratic_problem;

#[test]
fn options_wrong_for_every_seed_fail_train_seeds_once_and_dense_hessians_are_sized_first() {
    // train_seeds checks the options before any run (one error, not one per seed).
    let (spec, data) = quadratic_problem();
    let problem = TrainProblem::new(&spec, &data);
    let mut opts = TrainOptions::default();
    opts.flow.abstol = 0.0;
    let e = gradflow::train::train_seeds(&problem, &[0, 1, 2], &opts, Some(1), &Watch::silent())
        .unwrap_err()
        .to_string();
    assert!(e.contains("flow.abstol"), "{e}");
    // An exact Hessian of 1 002 001 parameters (two 8 TB matrices) is refused with its size,
    // before anything is allocated.
    let big = NetSpec::new(
        1000,
        vec![
            LayerSpec::new(1000, Activation::Tanh),
            LayerSpec::new(1, Activation::Identity),
        ],
    )
    .unwrap();
    let x = vec![0.1; 2 * 1000];
    let d = Dataset::from_row_major(&x, 1000, &[0.0, 1.0], 1).unwrap();
    let net = gradflow::net::Network::new(big.clone(), vec![0.01; big.n_params()]).unwrap();
    let mut o = gradflow::eval::EvalOptions::default();
    o.hessian = true;
    let e = gradflow::eval::evaluate(&net, &d, &o)
        .unwrap_err()
        .to_string();
    assert!(e.contains("1002001×1002001"), "{e}");
}
