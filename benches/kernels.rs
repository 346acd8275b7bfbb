//! Benchmarks of the hot kernels: fused activations, loss+gradient and the full Hessian on the
//! networks of the performance targets (activation `g`, biases, N = 30 000).
//!
//! Run with `cargo bench --bench kernels` (add `-- <filter>` to select).

use gradflow::net::Activation;
use gradflow::reference::{BENCHMARK_SHAPES, Problem};

fn main() {
    divan::main();
}

const N: usize = 30_000;

/// 30 000 × 16 activations in cache-sized chunks as the objective evaluates them (512 samples
/// × 16 neurons), with the first (and optionally second) derivative.
fn activation_pass(bencher: divan::Bencher, name: &str, second: bool) {
    let act: Activation = name.parse().unwrap();
    let chunk = 512 * 16;
    let xs: Vec<f64> = (0..chunk)
        .map(|i| ((i * 7919) % 2000) as f64 / 200.0 - 5.0)
        .collect();
    let mut buf = xs.clone();
    let mut d1 = vec![0.0; chunk];
    let mut d2 = vec![0.0; chunk];
    bencher.bench_local(|| {
        for _ in 0..N.div_ceil(512) {
            buf.copy_from_slice(&xs);
            act.apply_in_place(&mut buf, Some(&mut d1), second.then_some(&mut d2[..]));
        }
    });
}

#[divan::bench(args = ["g", "tanh", "softplus", "sigmoid", "gelu"])]
fn activation_value_d1_d2(bencher: divan::Bencher, name: &str) {
    activation_pass(bencher, name, true);
}

#[divan::bench(args = ["g", "tanh", "softplus", "sigmoid", "gelu"])]
fn activation_value_d1(bencher: divan::Bencher, name: &str) {
    activation_pass(bencher, name, false);
}

#[divan::bench(args = BENCHMARK_SHAPES)]
fn loss_gradient(bencher: divan::Bencher, shape: &str) {
    let p = Problem::benchmark(shape, N).unwrap();
    let mut obj = p.objective();
    let mut g = vec![0.0; p.start.len()];
    bencher.bench_local(|| obj.gradient_into(&p.start, &mut g));
}

#[divan::bench(args = BENCHMARK_SHAPES, sample_count = 10, sample_size = 1)]
fn hessian(bencher: divan::Bencher, shape: &str) {
    let p = Problem::benchmark(shape, N).unwrap();
    let mut obj = p.objective();
    let np = p.start.len();
    let mut g = vec![0.0; np];
    let mut h = vec![0.0; np * np];
    bencher.bench_local(|| obj.hessian_into(&p.start, &mut g, &mut h));
}
