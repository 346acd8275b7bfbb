//! Issue 18, the "≤ 1e-20" column of the Fig. 5A analogue: the population objective sums terms
//! of order one that cancel at a global minimum, so its losses below ~1e-15 are round-off. This
//! probe measures the end points of infinite-data runs without that cancellation, as a weighted
//! sum of squared residuals on a tensor Gauss–Hermite grid (`gauss_hermite_dataset`), refines
//! the near-zero ones on that grid (the default refiner, stopping at 1e-30), and checks the
//! refined points on a second, finer grid (the quadrature's own error shows as the difference).
//!
//! `cargo run --release -p gradflow-probes --bin population_polish -- TEACHER.json RUN_DIR POINTS SECONDS CHECK_POINTS [PRUNE]`
//!
//! `PRUNE` (default 0) leaves out the refinement grid's nodes lighter than that fraction of the
//! largest (`gauss_hermite_dataset`); the check grid keeps every node.
//!
//! `SECONDS = 0` only measures (no refinement). One CSV row per run record `RUN_DIR/seed_*.json`: the expanded-form loss, the grid loss
//! before and after the refinement, the finer grid's loss after, the refiner's stop reason and
//! time.

use std::path::Path;

use gradflow::io::network_file::{NetworkRecord, read_network};
use gradflow::net::gauss_hermite::gauss_hermite_dataset;
use gradflow::net::population::PopulationOptions;
use gradflow::net::{Dataset, Loss, NetSpec, Network, Objective};
use gradflow::optim::{RefineConfig, refine};

/// `Σ_n w_n (f(x_n) − y_n)²` (the weights sum to one): no cancellation.
fn grid_loss(spec: &NetSpec, x: &[f64], data: &Dataset) -> f64 {
    let net = Network::new(spec.clone(), x.to_vec()).expect("network");
    let out = net.predict(&data.x_row_major()).expect("outputs");
    let w = data.weights().expect("weighted grid");
    out.iter()
        .zip(data.y_row_major())
        .zip(w)
        .map(|((f, y), w)| w * (f - y) * (f - y))
        .sum()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let teacher = read_network(Path::new(&args[1])).expect("teacher");
    let dir = Path::new(&args[2]);
    let points: usize = args[3].parse().expect("points");
    let secs: f64 = args[4].parse().expect("seconds");
    let check: usize = args[5].parse().expect("check points");
    let prune: f64 = args.get(6).map_or(0.0, |s| s.parse().expect("prune"));
    let grid = gauss_hermite_dataset(&teacher, points, prune).expect("grid");
    eprintln!("refinement grid: {} nodes", grid.n_samples());
    let fine = gauss_hermite_dataset(&teacher, check, 0.0).expect("check grid");
    let mut runs: Vec<_> = std::fs::read_dir(dir)
        .expect("run folder")
        .filter_map(|e| {
            let p = e.ok()?.path();
            let name = p.file_name()?.to_str()?.to_string();
            let seed: u64 = name
                .strip_prefix("seed_")?
                .strip_suffix(".json")?
                .parse()
                .ok()?;
            Some((seed, p))
        })
        .collect();
    runs.sort();
    println!("seed,population_loss,grid_before,grid_after,check_after,stop,refine_s");
    for (seed, path) in runs {
        let text = std::fs::read_to_string(&path).expect("run record");
        let run: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        let x: Vec<f64> = run["x"]
            .as_array()
            .expect("x")
            .iter()
            .map(|v| v.as_f64().expect("number"))
            .collect();
        let spec = serde_json::from_value::<NetworkRecord>(run["network"].clone())
            .expect("the record's network")
            .spec()
            .expect("spec");
        let mut pop = Objective::population(&spec, &teacher, &PopulationOptions::default())
            .expect("population");
        let lp = pop.loss(&x);
        let before = grid_loss(&spec, &x, &grid);
        if lp > 1e-10 {
            println!("{seed},{lp:.3e},{before:.3e},,,,");
            continue;
        }
        if secs <= 0.0 {
            // Measurement only: the end point on the check grid.
            let chk = grid_loss(&spec, &x, &fine);
            println!("{seed},{lp:.3e},{before:.3e},{before:.3e},{chk:.3e},None,0");
            continue;
        }
        let mut obj = Objective::new(&spec, &grid, Loss::Mse).expect("grid objective");
        let mut cfg = RefineConfig::default();
        cfg.maxtime_optim = secs;
        cfg.minloss = 1e-30;
        let r = refine(&mut obj, &x, &cfg).expect("refine");
        let after = grid_loss(&spec, &r.x, &grid);
        let chk = grid_loss(&spec, &r.x, &fine);
        println!(
            "{seed},{lp:.3e},{before:.3e},{after:.3e},{chk:.3e},{:?},{:.1}",
            r.outcome.stop, r.outcome.wall
        );
    }
}
