//! Issue 18: MLPGradientFlow.jl's documentation problem for infinite data ("normal.md"): a
//! 2-5-1 `sigmoid2` teacher with hidden biases and no output bias, a 2-4-1 student of the same
//! kind, trained on the infinite-data objective and on 5 000 Gaussian samples.
//!
//! `cargo run --release -p gradflow-probes --bin infinite_doc_problem -- [seeds] [ode_s] [optim_s] [generic]`
//!
//! `generic` turns the closed Gaussian smoothings off (`PopulationOptions::closed_forms`): every
//! pair is then a two-dimensional rule, as before they existed.
//!
//! The Julia teacher comes from Julia's RNG; ours has N(0, 1) weights from `Stream(12, 0)`
//! (documented, not the same numbers). For each student seed (Glorot): the infinite-data run
//! (loss, gnorm, seconds to its end), the loss of its end point on 10⁶ fresh Gaussian samples
//! with its standard error, and the 5 000-sample run from the same start (seconds, sample loss,
//! gnorm, and its end point's infinite-data loss).

use gradflow::net::population::PopulationOptions;
use gradflow::net::{Activation, Dataset, LayerSpec, NetSpec, Network, Objective};
use gradflow::observe::Watch;
use gradflow::rng::Stream;
use gradflow::train::{TrainOptions, TrainProblem, train_seeds};

fn spec(width: usize) -> NetSpec {
    let mut out = LayerSpec::new(1, Activation::Identity);
    out.bias = false;
    NetSpec::new(2, vec![LayerSpec::new(width, Activation::Sigmoid2), out]).expect("spec")
}

fn gaussian(n: usize, teacher: &Network, seed: u64) -> Dataset {
    let mut rng = Stream::new(seed, 1);
    let x: Vec<f64> = (0..2 * n).map(|_| rng.normal()).collect();
    let y = teacher.predict(&x).expect("labels");
    Dataset::from_row_major(&x, 2, &y, 1).expect("data")
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let seeds: u64 = args.get(1).map_or(5, |s| s.parse().expect("seeds"));
    let ode: f64 = args.get(2).map_or(20.0, |s| s.parse().expect("ode s"));
    let optim: f64 = args.get(3).map_or(20.0, |s| s.parse().expect("optim s"));
    let ts = spec(5);
    let mut rng = Stream::new(12, 0);
    let teacher = Network {
        params: (0..ts.n_params()).map(|_| rng.normal()).collect(),
        spec: ts,
    };
    let student = spec(4);
    let mut popts = PopulationOptions::default();
    popts.closed_forms = args.get(4).map(String::as_str) != Some("generic");
    let mut opts = TrainOptions::default();
    opts.flow.maxtime_ode = ode;
    opts.refine.maxtime_optim = optim;
    let seeds: Vec<u64> = (0..seeds).collect();
    let silent = Watch::silent();
    let inf = train_seeds(
        &TrainProblem::infinite(&student, &teacher, &popts),
        &seeds,
        &opts,
        Some(1),
        &silent,
    )
    .expect("infinite runs");
    let small = gaussian(5_000, &teacher, 1);
    let fin = train_seeds(
        &TrainProblem::new(&student, &small),
        &seeds,
        &opts,
        Some(1),
        &silent,
    )
    .expect("sample runs");
    let big = gaussian(1_000_000, &teacher, 2);
    let mut pop = Objective::population(&student, &teacher, &popts).expect("population");
    println!(
        "seed,inf_loss,inf_gnorm,inf_s,inf_end,mc_loss,mc_se,n5000_loss,n5000_gnorm,n5000_s,n5000_inf_loss"
    );
    for ((seed, a), (_, b)) in inf.iter().zip(&fin) {
        let (a, b) = (a.as_ref().expect("run"), b.as_ref().expect("run"));
        let net = Network::new(student.clone(), a.x.clone()).expect("net");
        let ys = net.predict(&big.x_row_major()).expect("outputs");
        let yt = big.y_row_major();
        let sq: Vec<f64> = ys.iter().zip(&yt).map(|(p, q)| (p - q) * (p - q)).collect();
        let n = sq.len() as f64;
        let mean = sq.iter().sum::<f64>() / n;
        let var = sq.iter().map(|s| (s - mean) * (s - mean)).sum::<f64>() / (n - 1.0);
        println!(
            "{seed},{:.6e},{:.1e},{:.3},{},{:.6e},{:.1e},{:.6e},{:.1e},{:.3},{:.6e}",
            a.loss,
            a.gnorm,
            a.total_time,
            a.end_state
                .as_ref()
                .map_or("-", |e| gradflow::named::Named::name(e.kind)),
            mean,
            (var / n).sqrt(),
            b.loss,
            b.gnorm,
            b.total_time,
            pop.loss(&b.x)
        );
    }
}
