//! argmin's own BFGS and L-BFGS against gradflow's, from the same gradient-flow end points
//! (issue 13: "use argmin's BFGS/L-BFGS where they reach the same losses as ours").
//!
//! `cargo run --release -p gradflow-probes --bin argmin_quasi_newton -- [seeds] [ode_s] [optim_s]`
//!
//! For each demo seed: the default gradient flow for `ode_s` seconds, then four refinements of
//! `optim_s` seconds each from its best point — gradflow's `bfgs` and `lbfgs` (backtracking
//! Armijo line search, memory 10) and argmin's `BFGS` and `LBFGS` (memory 10) with argmin's
//! Moré–Thuente line search, their own tolerances set to zero so that only the time budget
//! ends them. Prints one CSV line per (seed, method): the best mean loss ever evaluated,
//! gradient evaluations and wall time.

use argmin::core::{CostFunction, Executor, Gradient};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::{BFGS, LBFGS};
use gradflow::flow::{FlowConfig, run_flow};
use gradflow::optim::{MeanLoss, RefineConfig, Refiner, refine};
use gradflow::reference::Problem;
use rayon::prelude::*;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let seeds: u64 = args.get(1).map_or(10, |s| s.parse().expect("seeds"));
    let ode: f64 = args
        .get(2)
        .map_or(10.0, |s| s.parse().expect("ode seconds"));
    let optim: f64 = args
        .get(3)
        .map_or(10.0, |s| s.parse().expect("optim seconds"));
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .expect("thread pool");
    println!("seed,method,loss,gradient_evals,wall_s,argmin_stop");
    let lines: Vec<String> = pool.install(|| {
        (0..seeds)
            .into_par_iter()
            .map(|seed| one_seed(seed, ode, optim))
            .collect()
    });
    for l in lines {
        print!("{l}");
    }
}

fn one_seed(seed: u64, ode: f64, optim: f64) -> String {
    let p = Problem::demo(seed).expect("demo problem");
    let flow = {
        let mut c = FlowConfig::default();
        c.maxtime_ode = ode;
        c
    };
    let f = run_flow(p.objective(), &p.start, &flow).expect("flow");
    let mut out = format!(
        "{seed},ode,{:e},{},{:.2},\n",
        f.outcome.loss, f.outcome.counters.gradient_evals, f.outcome.wall
    );
    for refiner in [Refiner::Bfgs, Refiner::Lbfgs] {
        let mut obj = p.objective();
        let cfg = {
            let mut c = RefineConfig::default();
            c.refiner = Some(refiner);
            c.maxtime_optim = optim;
            c
        };
        let r = refine(&mut obj, &f.x, &cfg).expect("refine");
        out += &format!(
            "{seed},gradflow-{refiner},{:e},{},{:.2},\n",
            r.outcome.loss, r.outcome.counters.gradient_evals, r.outcome.wall
        );
    }
    let timeout = std::time::Duration::from_secs_f64(optim);
    let n = f.x.len();
    for name in ["argmin-bfgs", "argmin-lbfgs"] {
        let mut obj = p.objective();
        let loss = MeanLoss::new(&mut obj);
        let start = std::time::Instant::now();
        let problem = Shared(&loss, start + timeout);
        let ls = MoreThuenteLineSearch::new();
        let best = if name == "argmin-bfgs" {
            let identity: Vec<Vec<f64>> = (0..n)
                .map(|r| (0..n).map(|c| f64::from(u8::from(r == c))).collect())
                .collect();
            let solver = BFGS::new(ls)
                .with_tolerance_grad(0.0)
                .and_then(|s| s.with_tolerance_cost(0.0))
                .expect("tolerances");
            let res = Executor::new(problem, solver)
                .configure(|s| s.param(f.x.clone()).inv_hessian(identity))
                .timeout(timeout)
                .run();
            res.err()
        } else {
            let solver = LBFGS::new(ls, 10)
                .with_tolerance_grad(0.0)
                .and_then(|s| s.with_tolerance_cost(0.0))
                .expect("tolerances");
            let res = Executor::new(problem, solver)
                .configure(|s| s.param(f.x.clone()))
                .timeout(timeout)
                .run();
            res.err()
        };
        let stopped = best.map_or("time".to_string(), |e| e.to_string().replace(',', ";"));
        out += &format!(
            "{seed},{name},{:e},{},{:.2},{stopped}\n",
            loss.best().1,
            loss.counters().gradient_evals,
            start.elapsed().as_secs_f64()
        );
    }
    out
}

/// A borrowed [`MeanLoss`], so that its best point survives an argmin error (its line
/// searches fail once no decrease is representable).
/// Evaluations after `deadline` fail: argmin checks its own timeout only between outer
/// iterations, and its line search can spin for minutes near round-off.
struct Shared<'r, 'a, 'o>(&'r MeanLoss<'a, 'o>, std::time::Instant);

impl Shared<'_, '_, '_> {
    fn check(&self) -> Result<(), argmin::core::Error> {
        if std::time::Instant::now() > self.1 {
            return Err(argmin::core::Error::msg("deadline"));
        }
        Ok(())
    }
}

impl CostFunction for Shared<'_, '_, '_> {
    type Param = Vec<f64>;
    type Output = f64;
    fn cost(&self, x: &Vec<f64>) -> Result<f64, argmin::core::Error> {
        self.check()?;
        self.0.cost(x)
    }
}

impl Gradient for Shared<'_, '_, '_> {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;
    fn gradient(&self, x: &Vec<f64>) -> Result<Vec<f64>, argmin::core::Error> {
        self.check()?;
        self.0.gradient(x)
    }
}
