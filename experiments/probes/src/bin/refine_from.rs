//! Refines a saved run's gradient-flow end point on the demo problem:
//! `cargo run --release -p gradflow-probes --bin refine_from -- RUN.json SECONDS [refiner] [tr-model]`
//! (the run must come from `gradflow solve` on the built-in demo).

use gradflow::optim::{RefineConfig, Refiner, TrModel, refine};
use gradflow::reference::Problem;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let text = std::fs::read_to_string(&args[1]).expect("a run file");
    let run: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let seed = run["seed"].as_u64().expect("seed");
    let x0: Vec<f64> = run["ode_x"]
        .as_array()
        .expect("ode_x")
        .iter()
        .map(|v| v.as_f64().expect("number"))
        .collect();
    let secs: f64 = args.get(2).map_or(60.0, |s| s.parse().unwrap());
    let refiner = args.get(3).map(|s| s.parse::<Refiner>().unwrap());
    let tr_model = args
        .get(4)
        .map_or(TrModel::Adaptive, |s| s.parse::<TrModel>().unwrap());
    let p = Problem::demo(seed).unwrap();
    let mut obj = p.objective();
    let r = refine(&mut obj, &x0, &{
        let mut c = RefineConfig::default();
        c.maxtime_optim = secs;
        c.refiner = refiner;
        c.tr_model = tr_model;
        c
    })
    .unwrap();
    println!(
        "seed {seed} start {:.3e} refine {:?} ({tr_model:?}): loss {:.3e} gnorm {:.3e} stop {:?} iters {} evals {}/{}/{} wall {:.1}",
        run["ode_loss"].as_f64().unwrap_or(f64::NAN),
        r.refiner,
        r.outcome.loss,
        r.outcome.gnorm,
        r.outcome.stop,
        r.outcome.counters.iterations,
        r.outcome.counters.loss_evals,
        r.outcome.counters.gradient_evals,
        r.outcome.counters.hessian_evals,
        r.outcome.wall
    );
}
