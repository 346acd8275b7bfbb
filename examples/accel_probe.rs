//! Scratch: deterministic flow (fixed steps) then newton-tr for fixed iterations.
use gradflow::flow::{FlowConfig, run_flow};
use gradflow::optim::{RefineConfig, Refiner, TrModel, refine};
use gradflow::reference::Problem;

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let n: usize = a[1].parse().unwrap();
    let seed: u64 = a[2].parse().unwrap();
    let steps: usize = a[3].parse().unwrap();
    let iters: usize = a[4].parse().unwrap();
    let m: usize = a[5].parse().unwrap();
    let p =
        Problem::teacher_student(4, 4, m, n, gradflow::teacher::paper_seed(4, 4, 0), seed).unwrap();
    let f = run_flow(
        p.objective(),
        &p.start,
        &FlowConfig {
            maxiterations_ode: steps,
            maxtime_ode: 1e9,
            ..Default::default()
        },
    )
    .unwrap();
    for (name, refiner, tr_model) in [
        ("exact", Refiner::NewtonTr, TrModel::Exact),
        ("adapt", Refiner::NewtonTr, TrModel::Adaptive),
        ("lm", Refiner::Lm, TrModel::Adaptive),
    ] {
        let mut obj = p.objective();
        let r = refine(
            &mut obj,
            &f.x,
            &RefineConfig {
                maxiterations_optim: iters,
                maxtime_optim: 1e9,
                refiner: Some(refiner),
                tr_model,
                ..Default::default()
            },
        )
        .unwrap();
        println!(
            "m {m} n {n} seed {seed} flow {:.3e} | {name}: {:.6e} gnorm {:.2e} {:?} iters {} wall {:.2}",
            f.loss, r.loss, r.gnorm, r.stop, r.counters.iterations, r.wall
        );
    }
}
