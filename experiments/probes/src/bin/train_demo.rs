//! Runs both phases on the demo problem: `cargo run --release -p gradflow-probes --bin train_demo -- [seed] [ode_s] [optim_s] [refiner]`

use gradflow::flow::{FlowConfig, run_flow};
use gradflow::optim::{RefineConfig, Refiner, refine};
use gradflow::reference::Problem;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let seed: u64 = args.get(1).map_or(0, |s| s.parse().unwrap());
    let ode: f64 = args.get(2).map_or(30.0, |s| s.parse().unwrap());
    let opt: f64 = args.get(3).map_or(30.0, |s| s.parse().unwrap());
    let refiner = args.get(4).map(|s| s.parse::<Refiner>().unwrap());
    let p = Problem::demo(seed).unwrap();
    let f = run_flow(p.objective(), &p.start, &{
        let mut c = FlowConfig::default();
        c.maxtime_ode = ode;
        c
    })
    .unwrap();
    println!(
        "flow: loss {:.3e} gnorm {:.3e} stop {:?} t {:.3e} steps {} wall {:.1} events {}",
        f.outcome.loss,
        f.outcome.gnorm,
        f.outcome.stop,
        f.t,
        f.outcome.counters.iterations,
        f.outcome.wall,
        f.events.len()
    );
    let mut obj = p.objective();
    let r = refine(&mut obj, &f.x, &{
        let mut c = RefineConfig::default();
        c.maxtime_optim = opt;
        c.refiner = refiner;
        c
    })
    .unwrap();
    println!(
        "refine {:?}: loss {:.3e} gnorm {:.3e} stop {:?} iters {} wall {:.1}",
        r.refiner,
        r.outcome.loss,
        r.outcome.gnorm,
        r.outcome.stop,
        r.outcome.counters.iterations,
        r.outcome.wall
    );
}
