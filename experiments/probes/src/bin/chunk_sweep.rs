//! Times loss+gradient and the Hessian for several chunk sizes (issue 15's kernel tuning).
//!   cargo run --release -p gradflow-probes --bin chunk_sweep
use std::time::Instant;

use gradflow::reference::Problem;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    for (d, m) in [(4usize, 16usize), (8, 32)] {
        let p = Problem::teacher_student(d, 4, m, 30_000, 1, 2).unwrap();
        let x = p.start.clone();
        let n = x.len();
        for chunk in [128usize, 256, 512, 1024, 2048, 4096] {
            let mut obj = p.objective().with_chunk(chunk);
            let mut g = vec![0.0; n];
            let mut h = vec![0.0; n * n];
            obj.gradient_into(&x, &mut g);
            let tg = median(
                (0..30)
                    .map(|_| {
                        let t = Instant::now();
                        obj.gradient_into(&x, &mut g);
                        t.elapsed().as_secs_f64()
                    })
                    .collect(),
            );
            obj.hessian_into(&x, &mut g, &mut h);
            let th = median(
                (0..10)
                    .map(|_| {
                        let t = Instant::now();
                        obj.hessian_into(&x, &mut g, &mut h);
                        t.elapsed().as_secs_f64()
                    })
                    .collect(),
            );
            println!("{d}-{m}-1 chunk {chunk:5}: gradient {tg:.3e} s, hessian {th:.3e} s");
        }
    }
}
