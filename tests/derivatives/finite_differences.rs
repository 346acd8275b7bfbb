use gradflow::net::{Activation, Dataset, Init, LayerSpec, Loss, NetSpec, Objective};
use gradflow::rng::Stream;

fn random_data(spec: &NetSpec, n: usize, seed: u64) -> Dataset {
    let mut rng = Stream::new(seed, 9);
    let d = spec.input_dim;
    let k = spec.output_dim();
    let x: Vec<f64> = (0..n * d).map(|_| rng.normal()).collect();
    let y: Vec<f64> = (0..n * k).map(|_| rng.normal()).collect();
    Dataset::from_row_major(&x, d, &y, k).unwrap()
}

#[test]
fn smoke_fd() {
    for (a1, a2) in [
        (Activation::G, Activation::Tanh),
        (Activation::Tanh, Activation::Identity),
        (Activation::Identity, Activation::Tanh),
    ] {
        eprintln!("{a1} {a2}");
        let spec = NetSpec::new(
            3,
            vec![
                LayerSpec::new(4, a1.clone()),
                LayerSpec::new(3, a2.clone()).with_bias(false),
                LayerSpec::new(2, Activation::Identity),
            ],
        )
        .unwrap();
        let data = random_data(&spec, 37, 1);
        let mut obj = Objective::new(&spec, &data, Loss::Mse)
            .unwrap()
            .with_chunk(8);
        let mut p = Init::GlorotNormal.draw_seeded(&spec, 5);
        for (i, v) in p.iter_mut().enumerate() {
            *v += 0.1 * ((i * 7 % 5) as f64 - 2.0);
        }
        let (l, g, h) = obj.hessian(&p);
        let np = p.len();
        let eps = 1e-5;
        let mut worst_g: f64 = 0.0;
        let mut worst_h: f64 = 0.0;
        for i in 0..np {
            let mut pp = p.clone();
            pp[i] += eps;
            let (lp, gp) = obj.gradient(&pp);
            pp[i] -= 2.0 * eps;
            let (lm, gm) = obj.gradient(&pp);
            let fd = (lp - lm) / (2.0 * eps);
            worst_g = worst_g.max((fd - g[i]).abs() / (1.0 + g[i].abs()));
            for j in 0..np {
                let fdh = (gp[j] - gm[j]) / (2.0 * eps);
                let e = (fdh - h[i * np + j]).abs() / (1.0 + h[i * np + j].abs());
                worst_h = worst_h.max(e);
            }
        }
        eprintln!("loss {l} worst grad {worst_g:e} worst hess {worst_h:e}");
    }
}
