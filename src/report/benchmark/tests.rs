//! Times to target, profiles and tables of small benchmarks computed by hand.

use super::*;
use crate::observe::Phase;

fn point(wall: f64, loss: f64, grads: usize, hessians: usize) -> ProgressPoint {
    ProgressPoint {
        phase: Phase::Flow,
        wall,
        loss,
        loss_evals: grads,
        gradient_evals: grads,
        hessian_evals: hessians,
    }
}

fn run(points: Vec<ProgressPoint>) -> BenchRun {
    let last = points.last().copied().unwrap();
    BenchRun {
        n_params: 10,
        loss: last.loss,
        wall: last.wall,
        progress: points,
    }
}

/// Three methods on four problems with hand-computed times to target.
fn bench() -> Benchmark {
    let a = vec![
        Some(run(vec![
            point(0.0, 1.0, 1, 0),
            point(1.0, 1e-6, 10, 0),
            point(2.0, 2e-11, 20, 0),
        ])),
        Some(run(vec![point(0.0, 1.0, 1, 0), point(4.0, 3e-11, 40, 0)])),
        Some(run(vec![point(0.0, 1.0, 1, 0), point(1.0, 1e-3, 10, 0)])),
        None,
    ];
    let b = vec![
        Some(run(vec![point(0.0, 1.0, 1, 1), point(0.5, 1e-12, 5, 2)])),
        Some(run(vec![point(0.0, 1.0, 1, 1), point(8.0, 1e-12, 5, 3)])),
        Some(run(vec![point(0.0, 1.0, 1, 1), point(3.0, 1e-4, 5, 2)])),
        Some(run(vec![point(0.0, 1.0, 1, 1), point(1.0, 1e-21, 5, 2)])),
    ];
    let c = vec![
        Some(run(vec![point(0.0, 1.0, 1, 0), point(2.0, 1e-10, 100, 0)])),
        Some(run(vec![point(0.0, 1.0, 1, 0)])),
        Some(run(vec![point(0.0, 1.0, 1, 0), point(2.0, 1e-9, 100, 0)])),
        Some(run(vec![point(0.0, 1.0, 1, 0), point(3.0, 2e-20, 100, 0)])),
    ];
    let problems = (0..4)
        .map(|i| ProblemKey {
            teacher_rank: i,
            teacher: format!("t{i}"),
            rho: 2,
            seed: 0,
        })
        .collect();
    Benchmark {
        methods: vec!["a".into(), "b".into(), "c".into()],
        is_peer: vec![false, false, true],
        problems,
        runs: vec![a, b, c],
        failed: vec![0; 3],
    }
}

#[test]
fn times_to_target_and_profiles_match_a_hand_computation() {
    let b = bench();
    // Target 1e-10: a hits problems 0, 1 at 2 s, 4 s; b hits 0, 1 at 0.5 s, 8 s; c hits
    // problem 0 at 2 s (1e-10 ≤ 1e-10) and 3 at 3 s (2e-20).
    let hits = b.hits(Target::Loss(1e-10));
    let t = wall_costs(&hits);
    assert_eq!(t[0], vec![Some(2.0), Some(4.0), None, None]);
    assert_eq!(t[1], vec![Some(0.5), Some(8.0), None, Some(1.0)]);
    assert_eq!(t[2], vec![Some(2.0), None, None, Some(3.0)]);
    // Fastest per problem: 0.5, 4, —, 1. Ratios: a {4, 1}; b {1, 2, 1}; c {4, 3}.
    let p = performance_profile(&t);
    let at = |m: usize, x: f64| p[m].at(x);
    assert_eq!((at(0, 1.0), at(0, 3.9), at(0, 4.0)), (0.25, 0.25, 0.5));
    assert_eq!((at(1, 1.0), at(1, 2.0)), (0.5, 0.75));
    assert_eq!((at(2, 2.9), at(2, 3.0), at(2, 4.0)), (0.0, 0.25, 0.5));
    // Work: b's Hessians count P = 10 gradients each: 5 + 2·10 = 25 at problem 0.
    let w = work_costs(&hits);
    assert_eq!(w[1][0], Some(25.0));
    assert_eq!(w[1][1], Some(35.0));
    assert_eq!(w[0][0], Some(20.0));
    let d = data_profile(&w);
    assert_eq!(
        (d[0].at(19.0), d[0].at(20.0), d[0].at(40.0)),
        (0.0, 0.25, 0.5)
    );
    // 10 × best: best losses 1e-12, 1e-12, 1e-9, 1e-21; problem 2's best is c's 1e-9 (a's
    // 1e-3 and b's 1e-4 are above it), so its target is 1e-8, reached by c alone at 2 s.
    let best = b.best_losses();
    assert_eq!(best, vec![1e-12, 1e-12, 1e-9, 1e-21]);
    let h = wall_costs(&b.hits(Target::TimesBest(10.0)));
    assert_eq!(h[0], vec![None, None, None, None]);
    assert_eq!(h[1], vec![Some(0.5), Some(8.0), None, Some(1.0)]);
    assert_eq!(h[2], vec![None, None, Some(2.0), None]);
    // The CSV has one row per (method, problem with a run, target).
    let csv = targets_csv(&b);
    assert_eq!(csv.lines().count(), 1 + (3 + 4 + 4) * TARGETS.len());
    assert!(csv.starts_with("method,"));
    assert!(csv.contains("b,false,t3,2,0,10,1e-20,1.000000e-20,true,1.000000e0,2.500000e1,"));
    let md = benchmark_md(&b, &[]);
    assert!(
        md.contains("| a | 2/4, 2.50 s | 2/4, 3.00 s | 0/4 |"),
        "{md}"
    );
}

#[test]
fn loss_at_time_is_a_step_function_of_the_curve() {
    let r = run(vec![
        point(0.1, 1.0, 1, 0),
        point(1.0, 1e-3, 2, 0),
        point(2.0, 1e-6, 3, 0),
    ]);
    // Values copied from the curve, compared bit for bit.
    let same = |a: f64, b: f64| a.to_bits() == b.to_bits();
    assert!(same(r.loss_at(0.0), 1.0) && same(r.loss_at(0.99), 1.0));
    assert!(same(r.loss_at(1.0), 1e-3) && same(r.loss_at(50.0), 1e-6));
    let mut v = vec![3.0, 1.0, f64::NAN, 2.0, 4.0];
    assert!(same(quantile(&mut v, 0.5), 2.5));
    assert!(same(quantile(&mut v, 0.0), 1.0) && same(quantile(&mut v, 1.0), 4.0));
    let b = bench();
    let times = time_grid(&b, 5);
    assert_eq!(times.len(), 5);
    let q = loss_quartiles(&b, &times);
    assert_eq!(q.len(), 3);
    assert!(
        q.iter()
            .all(|m| m.windows(2).all(|w| w[1][1].is_nan() || w[1][1] <= w[0][1]))
    );
}
