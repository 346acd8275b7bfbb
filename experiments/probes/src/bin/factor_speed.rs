//! Factorisation speed of `W = dI + H` (symmetric): LU with partial pivoting (what the Rosenbrock
//! driver does) against Cholesky and Bunch–Kaufman, at the study's large sizes.
//!   cargo run --release -p gradflow-probes --bin factor_speed -- [n ...]
use faer::{Mat, Side};
use std::time::Instant;

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .map(|s| s.parse().unwrap())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![577, 1089, 2177]
    } else {
        sizes
    };
    faer::set_global_parallelism(faer::Par::Seq);
    for n in sizes {
        // A symmetric positive definite matrix with a spread spectrum: B Bᵀ / n + 1e-3 I.
        let mut s = 12345u64;
        let mut rnd = || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        };
        let b = Mat::<f64>::from_fn(n, n, |_, _| rnd());
        let mut a = &b * b.transpose();
        for i in 0..n {
            a[(i, i)] += 1e-3 * n as f64;
        }
        let reps = if n > 1500 { 3 } else { 10 };
        let time = |f: &dyn Fn() -> f64| {
            let mut best = f64::INFINITY;
            let mut sink = 0.0;
            for _ in 0..reps {
                let t = Instant::now();
                sink += f();
                best = best.min(t.elapsed().as_secs_f64());
            }
            (best, sink)
        };
        let (lu, _) = time(&|| a.partial_piv_lu().L()[(n - 1, 0)]);
        let (llt, _) = time(&|| a.llt(Side::Lower).unwrap().L()[(n - 1, 0)]);
        let (ldlt, _) = time(&|| a.ldlt(Side::Lower).unwrap().L()[(n - 1, 0)]);
        let (lblt, _) = time(&|| a.lblt(Side::Lower).L()[(n - 1, 0)]);
        println!(
            "n = {n}: lu {:.1} ms, llt {:.1} ms ({:.2}x), ldlt {:.1} ms ({:.2}x), lblt {:.1} ms ({:.2}x)",
            lu * 1e3,
            llt * 1e3,
            lu / llt,
            ldlt * 1e3,
            lu / ldlt,
            lblt * 1e3,
            lu / lblt
        );
    }
}
