//! Time to target per integrator (issue 15, "defaults by measurement"): the default pipeline
//! (flow, then the default refiner) with each integrator on paper teacher–student problems;
//! records the wall time at which the best loss first reached 1e-10 and 1e-20, and when phase 1
//! ended. Runs stop at 1e-20 (both phases' minloss).
//!   cargo run --release -p gradflow-probes --bin time_to_target -- OUT.csv [ode_s] [optim_s] [seeds] [problems] [methods] [max_t|-] [jacobian_samples]
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use gradflow::flow::Integrator;
use gradflow::observe::{Event, Watch};
use gradflow::reference::Problem;
use gradflow::train::{TrainOptions, TrainProblem, train};

/// First wall times (s since the run started) at which the best loss was ≤ 1e-10, ≤ 1e-20.
#[derive(Default, Clone, Copy)]
struct Hits {
    t10: Option<f64>,
    t20: Option<f64>,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let out = args
        .get(1)
        .expect("usage: time_to_target OUT.csv [ode_s] [optim_s] [seeds]");
    let ode: f64 = args.get(2).map_or(30.0, |s| s.parse().unwrap());
    let opt: f64 = args.get(3).map_or(30.0, |s| s.parse().unwrap());
    let seeds: u64 = args.get(4).map_or(1, |s| s.parse().unwrap());
    // Which problems (indices into `problems`, comma-separated; default all).
    let only: Option<Vec<usize>> = args
        .get(5)
        .map(|s| s.split(',').map(|t| t.parse().unwrap()).collect());
    // (d, r, ρ): the demo (4-4, ρ = 4) and a d = 8 and a d = 16 paper teacher at ρ = 4 and 8.
    let problems = [
        (4usize, 4usize, 4usize),
        (8, 4, 4),
        (8, 4, 8),
        (16, 4, 4),
        (16, 4, 8),
        // Larger cells of the study's grid, only when asked for by index (5, 6).
        (32, 8, 4),
        (32, 8, 8),
        // Small cells of the grid (d = 2), only when asked for by index (7, 8).
        (2, 2, 4),
        (2, 4, 4),
        // Small cells with wide inputs (16-8-1, 32-4-1), only when asked for by index (9, 10).
        (16, 4, 2),
        (32, 2, 2),
    ];
    // (integrator, Jacobian refresh): the W-method also with a Hessian every 4 steps.
    let methods = [
        (Integrator::Rodas5P, 1),
        (Integrator::Ros34Pw2, 1),
        (Integrator::Ros34Pw2, 4),
        (Integrator::KenCarp58, 1),
        (Integrator::Esdirk34, 1),
        (Integrator::TrBdf2, 1),
        (Integrator::Bdf, 1),
        (Integrator::Tsit5, 1),
    ];
    // Which methods (indices into `methods`, comma-separated; default all).
    let only_methods: Option<Vec<usize>> = args
        .get(6)
        .map(|s| s.split(',').map(|t| t.parse().unwrap()).collect());
    // An ODE time limit (flows then compare the wall time to reach it) and
    // `flow.jacobian_samples` (for ros34pw2; default: the flow's default, 0: all samples).
    let max_t: Option<f64> = args.get(7).and_then(|s| s.parse().ok());
    let jacobian_samples: Option<usize> = args.get(8).and_then(|s| s.parse().ok());
    let mut f = std::fs::File::create(out).unwrap();
    writeln!(
        f,
        "problem,params,seed,integrator,jacobian_refresh,t_1e-10,t_1e-20,t_phase1,ode_t,loss,ode_loss,ode_stop,optim_stop,ode_steps,ode_gradients,ode_hessians"
    )
    .unwrap();
    for (pi, &(d, r, rho)) in problems.iter().enumerate() {
        if only.as_ref().map_or(pi >= 5, |o| !o.contains(&pi)) {
            continue;
        }
        for seed in 0..seeds {
            let p = Problem::teacher_student(
                d,
                r,
                r * rho,
                30_000,
                gradflow::teacher::paper_seed(d, r, 0),
                seed,
            )
            .unwrap();
            for (mi, &(method, refresh)) in methods.iter().enumerate() {
                if only_methods.as_ref().is_some_and(|o| !o.contains(&mi)) {
                    continue;
                }
                let hits = Arc::new(Mutex::new(Hits::default()));
                let start = Instant::now();
                let h = hits.clone();
                let watch = Watch::new(move |e: &Event<'_>| {
                    if let Event::Step { loss, .. } = e {
                        let mut h = h.lock().unwrap();
                        let now = start.elapsed().as_secs_f64();
                        if *loss <= 1e-10 && h.t10.is_none() {
                            h.t10 = Some(now);
                        }
                        if *loss <= 1e-20 && h.t20.is_none() {
                            h.t20 = Some(now);
                        }
                    }
                });
                let mut o = TrainOptions::default();
                o.flow.integrator = Some(method);
                o.flow.jacobian_refresh = refresh;
                o.flow.maxtime_ode = ode;
                o.flow.max_t = max_t;
                if jacobian_samples.is_some() {
                    o.flow.jacobian_samples = jacobian_samples;
                }
                o.flow.minloss = 1e-20;
                o.refine.maxtime_optim = opt;
                o.refine.minloss = 1e-20;
                let rec = train(
                    &TrainProblem::new(&p.student, &p.data),
                    &p.start,
                    &o,
                    &watch,
                )
                .unwrap();
                let h = *hits.lock().unwrap();
                let fmt = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v:.2}"));
                let c = rec.ode.outcome.counters;
                let line = format!(
                    "{d}-{r}-rho{rho},{},{seed},{method},{refresh},{},{},{:.2},{:.4e},{:.3e},{:.3e},{},{},{},{},{}",
                    p.start.len(),
                    fmt(h.t10),
                    fmt(h.t20),
                    rec.ode.outcome.wall,
                    rec.ode_t,
                    rec.loss,
                    rec.ode_loss,
                    rec.ode.outcome.stop,
                    rec.optim.outcome.stop,
                    c.iterations,
                    c.gradient_evals,
                    c.hessian_evals
                );
                println!("{line}");
                writeln!(f, "{line}").unwrap();
            }
        }
    }
}
