//! Time per element of the fused activation kernels (value and first derivative, as in a
//! loss + gradient; and with the second derivative, as in a Hessian), on 480 000 elements
//! (30 000 samples × 16 units).
//!   cargo run --release -p gradflow-probes --bin kernel_speed -- [activation ...]
use gradflow::net::Activation;
use std::time::Instant;

fn main() {
    let names: Vec<String> = std::env::args().skip(1).collect();
    let names = if names.is_empty() {
        vec!["g".to_string()]
    } else {
        names
    };
    let n = 480_000;
    let x: Vec<f64> = (0..n)
        .map(|i| ((i as f64 * 0.618_033_988_75).fract() - 0.5) * 8.0)
        .collect();
    let (mut buf, mut d1, mut d2) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
    for name in names {
        let act: Activation = name.parse().unwrap();
        for second in [false, true] {
            let mut best = f64::INFINITY;
            for _ in 0..200 {
                buf.copy_from_slice(&x);
                let t = Instant::now();
                act.apply_in_place(&mut buf, Some(&mut d1), second.then_some(&mut d2[..]));
                best = best.min(t.elapsed().as_secs_f64());
            }
            println!(
                "{name} {}: {:.3} ns/element (best of 200)",
                if second { "value+d1+d2" } else { "value+d1" },
                best / n as f64 * 1e9
            );
        }
    }
}
