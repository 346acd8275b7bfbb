//! Runs the gradient flow on the demo problem and prints the phase record summary.
//! `cargo run --release -p gradflow-probes --bin flow_demo -- [integrator] [maxtime] [refresh]`

use gradflow::flow::{FlowConfig, Integrator, run_flow};
use gradflow::reference::Problem;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let integrator = args
        .get(1)
        .map(|s| s.parse::<Integrator>().expect("integrator"));
    let maxtime: f64 = args.get(2).map_or(20.0, |s| s.parse().unwrap());
    let refresh: usize = args.get(3).map_or(1, |s| s.parse().unwrap());
    let seed: u64 = args.get(4).map_or(0, |s| s.parse().unwrap());
    let p = Problem::demo(seed).unwrap();
    let cfg = {
        let mut c = FlowConfig::default();
        c.integrator = integrator;
        c.maxtime_ode = maxtime;
        c.jacobian_refresh = refresh;
        c
    };
    let r = run_flow(p.objective(), &p.start, &cfg).unwrap();
    println!(
        "{:?}: loss {:.3e} gnorm {:.3e} stop {:?} t {:.3e} steps {} f {} h {} wall {:.1}s events {}",
        r.integrator,
        r.outcome.loss,
        r.outcome.gnorm,
        r.outcome.stop,
        r.t,
        r.outcome.counters.iterations,
        r.outcome.counters.gradient_evals,
        r.outcome.counters.hessian_evals,
        r.outcome.wall,
        r.events.len()
    );
    for e in &r.events {
        println!("  event: {e:?}");
    }
    for tp in r.trajectory.iter().step_by(10) {
        println!("  t {:.3e} loss {:.3e} wall {:.2}", tp.t, tp.loss, tp.wall);
    }
}
