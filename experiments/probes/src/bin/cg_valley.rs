//! `lm` with each trust-region subproblem solver on the curved valley of the integration tests
//! (paper teacher 4-4-1, student of width 16, 3 000 samples, 100 KenCarp58 steps, seed 5):
//! `cargo run --release -p gradflow-probes --bin cg_valley -- [iterations] [solvers…]` (`SECONDS`
//! in the environment: a time budget per run, default 600).

use gradflow::flow::{FlowConfig, Integrator, run_flow};
use gradflow::optim::{RefineConfig, Refiner, TrSubproblem, refine};
use gradflow::reference::Problem;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let iterations: usize = args.get(1).map_or(300, |s| s.parse().unwrap());
    let solvers: Vec<TrSubproblem> = if args.len() > 2 {
        args[2..].iter().map(|s| s.parse().unwrap()).collect()
    } else {
        vec![TrSubproblem::Eigen, TrSubproblem::Cg]
    };
    let p = Problem::teacher_student(4, 4, 16, 3000, gradflow::teacher::paper_seed(4, 4, 0), 5)
        .unwrap();
    let mut flow = FlowConfig::default();
    flow.integrator = Some(Integrator::KenCarp58);
    flow.maxiterations_ode = 100;
    let f = run_flow(p.objective(), &p.start, &flow).unwrap();
    for sub in solvers {
        let mut c = RefineConfig::default();
        c.refiner = Some(Refiner::Lm);
        c.tr_subproblem = sub;
        c.maxiterations_optim = iterations;
        c.maxtime_optim = std::env::var("SECONDS").map_or(600.0, |s| s.parse().unwrap());
        let t = std::time::Instant::now();
        let r = refine(&mut p.objective(), &f.x, &c).unwrap();
        println!(
            "{sub:?}: loss {:.3e} from {:.3e}, {} iterations, {} gradients, {} Hessians, {:.2} s",
            r.outcome.loss,
            f.outcome.loss,
            r.outcome.counters.iterations,
            r.outcome.counters.gradient_evals,
            r.outcome.counters.hessian_evals,
            t.elapsed().as_secs_f64()
        );
    }
}
