//! Refines a saved run record's end point (`x`) on a data file, printing the loss after each
//! iteration with its wall time:
//! `cargo run --release -p gradflow-probes --bin refine_record -- RUN.json DATA.npz SECONDS [refiner] [tr-subproblem] [iterations]`
//! (e.g. a `gradflow recover` student on its queries; `tr-subproblem`: auto, eigen, cholesky).
//! With `START=ode` in the environment it starts from the record's gradient-flow end point
//! (`ode_x`) instead.

use std::path::PathBuf;
use std::time::Instant;

use gradflow::io::{DataSource, read_data};
use gradflow::net::{Loss, NetSpec, Objective};
use gradflow::optim::{RefineConfig, Refiner, TrSubproblem, refine};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let text = std::fs::read_to_string(&args[1]).expect("a run file");
    let run: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let spec: NetSpec = serde_json::from_value(run["network"].clone()).expect("network");
    let from_ode = std::env::var("START").is_ok_and(|s| s == "ode");
    let key = if from_ode { "ode_x" } else { "x" };
    let x0: Vec<f64> = serde_json::from_value(run[key].clone()).expect("x");
    let data = read_data(&DataSource::Npz(PathBuf::from(&args[2]))).expect("data");
    let secs: f64 = args.get(3).map_or(60.0, |s| s.parse().unwrap());
    let refiner = args.get(4).map(|s| s.parse::<Refiner>().unwrap());
    let sub = args
        .get(5)
        .map_or(TrSubproblem::Auto, |s| s.parse::<TrSubproblem>().unwrap());
    let iterations = args.get(6).map_or(usize::MAX, |s| s.parse().unwrap());
    let mut obj = Objective::new(&spec, &data, Loss::Mse).expect("objective");
    let mut c = RefineConfig::default();
    c.maxtime_optim = secs;
    c.maxiterations_optim = iterations;
    c.refiner = refiner;
    c.tr_subproblem = sub;
    let t = Instant::now();
    let r = refine(&mut obj, &x0, &c).expect("refine");
    let wall = t.elapsed().as_secs_f64();
    for p in &r.trajectory {
        println!("{} {:.6e}", p.t, p.loss);
    }
    println!(
        "{} P={} start {:.3e} {:?} {sub:?}: loss {:.3e} stop {:?} iterations {} hessians {} wall {wall:.1} s ({:.2} s/iteration)",
        args[1],
        spec.n_params(),
        run[if from_ode { "ode_loss" } else { "loss" }]
            .as_f64()
            .unwrap_or(f64::NAN),
        r.refiner,
        r.outcome.loss,
        r.outcome.stop,
        r.outcome.counters.iterations,
        r.outcome.counters.hessian_evals,
        wall / r.outcome.counters.iterations.max(1) as f64,
    );
}
