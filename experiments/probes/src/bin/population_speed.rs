//! Issue 18: loss + gradient + Hessian of the infinite-data objective against the same on
//! N = 30 000 Gaussian samples, and its accuracy against a high-order reference.
//!
//! `cargo run --release -p gradflow-probes --bin population_speed -- [d] [r] [m] [repeats] [activation] [threads]`
//!
//! Teacher: the paper teacher (d, r, index 0) with the activation (default `g`). Students (the
//! same activation, width m): Glorot at seed 0 (the start of a flow), and the teacher's neurons
//! duplicated to width m with their outgoing weights split and their incoming ones perturbed by
//! 0.3 ("middle": students correlated ~0.93–0.96 with their teacher neuron and each other, where
//! neither Mehler's series nor the Gauss–Hermite inner rule applies) or 1e-3 ("late": the end
//! of a flow). For each: the
//! median seconds of one loss+gradient+Hessian (population with the default tolerance 1e-13,
//! and on the samples), the ratio, and the largest relative deviation of loss, gradient and
//! Hessian from a reference with tolerance 1e-16 and the node limit raised. Standard error gets
//! both losses to 17 digits. With `threads` > 1 (default 1) both the population and the sample
//! objective evaluate on that many threads (`Objective::with_threads`), and the last column says
//! whether the population's loss, gradient and Hessian equal one thread's bit for bit.

use gradflow::eval::median_seconds;
use gradflow::net::population::PopulationOptions;
use gradflow::net::{Dataset, Init, LayerSpec, Loss, NetSpec, Objective};
use gradflow::rng::Stream;
use gradflow::teacher::TeacherConfig;

fn max_rel(a: &[f64], b: &[f64]) -> f64 {
    let scale = b.iter().fold(0.0f64, |m, x| m.max(x.abs())).max(1e-300);
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs() / scale)
        .fold(0.0, f64::max)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |i: usize, def: usize| args.get(i).map_or(def, |s| s.parse().expect("integer"));
    let (d, r, m, repeats) = (arg(1, 8), arg(2, 4), arg(3, 16), arg(4, 5));
    let act: gradflow::net::Activation = args
        .get(5)
        .map_or("g", String::as_str)
        .parse()
        .expect("activation");
    let threads = arg(6, 1);
    let mut config = TeacherConfig::paper(d, r, 0);
    config.activation = act.clone();
    let teacher = config.build().expect("teacher");
    let spec = NetSpec::new(
        d,
        vec![
            LayerSpec::new(m, act.clone()),
            LayerSpec::new(1, gradflow::net::Activation::Identity),
        ],
    )
    .expect("spec");
    // Samples: N(0, I) inputs labelled by the teacher.
    let n = 30_000;
    let mut rng = Stream::new(1, 9);
    let x: Vec<f64> = (0..n * d).map(|_| rng.normal()).collect();
    let y = teacher.predict(&x).expect("labels");
    let data = Dataset::from_row_major(&x, d, &y, 1).expect("data");
    // Students.
    let glorot = Init::GlorotNormal.draw_seeded(&spec, 0);
    // The teacher's neurons duplicated to width m, outgoing weights split, `noise` added to
    // the incoming ones.
    let near_teacher = |noise: f64| {
        let tl = teacher.spec.layouts();
        let sl = spec.layouts();
        let mut p = vec![0.0; spec.n_params()];
        let mut rng = Stream::new(2, 9);
        for i in 0..m {
            let j = i % r;
            let copies = (m / r + usize::from(j < m % r)) as f64;
            for t in 0..d {
                p[sl[0].w(i, t)] = teacher.params[tl[0].w(j, t)] + noise * rng.normal();
            }
            p[sl[0].bias.as_ref().unwrap().start + i] =
                teacher.params[tl[0].bias.as_ref().unwrap().start + j];
            p[sl[1].weight.start + i] = teacher.params[tl[1].weight.start + j] / copies;
        }
        p[sl[1].bias.as_ref().unwrap().start] = teacher.params[tl[1].bias.as_ref().unwrap().start];
        p
    };
    let middle = near_teacher(0.3);
    let late = near_teacher(1e-3);
    let mut reference = PopulationOptions::default();
    reference.tolerance = 1e-16;
    reference.max_points = 8193;
    // The reference integrates every activation by the generic two-dimensional rules, so it
    // checks the closed forms independently.
    reference.closed_forms = false;
    // ... and every pair by the two-dimensional rules, so it checks Mehler's series as well.
    reference.mehler = false;
    println!(
        "point,activation,d,r,m,P,population_s,samples_s,ratio,generic_s,generic_ratio,loss_rel_err,grad_rel_err,hess_rel_err,error_estimate,threads,same_as_one_thread"
    );
    for (name, theta) in [("glorot", &glorot), ("middle", &middle), ("late", &late)] {
        let mut pop = Objective::population(&spec, &teacher, &PopulationOptions::default())
            .expect("population")
            .with_threads(threads)
            .expect("threads");
        let mut one = Objective::population(&spec, &teacher, &PopulationOptions::default())
            .expect("population");
        let mut refo = Objective::population(&spec, &teacher, &reference).expect("reference");
        let mut sam = Objective::new(&spec, &data, Loss::Mse)
            .expect("samples")
            .with_threads(threads)
            .expect("threads");
        let p = spec.n_params();
        let (mut g, mut h) = (vec![0.0; p], vec![0.0; p * p]);
        let tp = median_seconds(repeats, || {
            pop.hessian_into(theta, &mut g, &mut h);
        });
        let ts = median_seconds(repeats, || {
            sam.hessian_into(theta, &mut g, &mut h);
        });
        let mut generic_opts = PopulationOptions::default();
        generic_opts.closed_forms = false;
        let mut generic = Objective::population(&spec, &teacher, &generic_opts)
            .expect("population")
            .with_threads(threads)
            .expect("threads");
        let tg = median_seconds(repeats, || {
            generic.hessian_into(theta, &mut g, &mut h);
        });
        let (l, gp, hp) = pop.hessian(theta);
        let (lr, gr, hr) = refo.hessian(theta);
        let (l1, g1, h1) = one.hessian(theta);
        let same = l1.to_bits() == l.to_bits() && g1 == gp && h1 == hp;
        let gmax = gr.iter().fold(0.0f64, |m, x| m.max(x.abs()));
        let gerr = gp
            .iter()
            .zip(&gr)
            .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()));
        eprintln!(
            "{name}: loss {l:.17e}, reference {lr:.17e}; gradient: largest {gmax:.2e}, largest error {gerr:.2e}"
        );
        println!(
            "{name},{act},{d},{r},{m},{p},{tp:.4e},{ts:.4e},{:.2},{tg:.4e},{:.2},{:.2e},{:.2e},{:.2e},{:.1e},{threads},{same}",
            ts / tp,
            ts / tg,
            (l - lr).abs() / lr.abs(),
            max_rel(&gp, &gr),
            max_rel(&hp, &hr),
            pop.as_population().unwrap().error_estimate()
        );
    }
}
