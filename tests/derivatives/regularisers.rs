//! Property tests of the regularisers (`maxnorm` barrier, `merge` pair): their value, exact
//! gradient and exact Hessian inside the objective against central finite differences, over
//! the random networks of `finite_differences` (every activation, biases or not, 1–3 hidden
//! layers, 1–3 outputs, MSE and NLL).

use gradflow::net::{Merge, Objective, Regularisers};
use proptest::prelude::*;

use super::finite_differences::{Case, case, config, data_for, max_abs, params_for};

fn regularisers(case: &Case, inside: bool, pick: usize, lambda: f64) -> Regularisers {
    let p = params_for(case);
    let norm = p.iter().map(|v| v * v).sum::<f64>().sqrt();
    let mut r = Regularisers::default();
    // Inside the barrier's ball it is zero; outside it acts.
    r.maxnorm = Some(if inside { 2.0 * norm } else { 0.5 * norm });
    let hidden: Vec<usize> = (0..case.spec.depth() - 1)
        .filter(|&l| case.spec.layers[l].width >= 2)
        .collect();
    if !hidden.is_empty() {
        let l = hidden[pick % hidden.len()];
        let w = case.spec.layers[l].width;
        let i = pick % w;
        r.merge = Some(Merge {
            layer: l + 1,
            i,
            j: (i + 1 + pick / 7 % (w - 1)) % w,
            lambda,
        });
    }
    r
}

fn check(case: &Case, reg: &Regularisers) -> Result<(), TestCaseError> {
    let data = data_for(case);
    let mut plain = Objective::new(&case.spec, &data, case.loss).unwrap();
    let mut obj = Objective::new(&case.spec, &data, case.loss)
        .unwrap()
        .with_regularisers(reg)
        .unwrap();
    let p = params_for(case);
    let np = p.len();
    // The value: data loss plus N·R(θ) by its formula.
    let n = data.effective_size();
    let norm = p.iter().map(|v| v * v).sum::<f64>().sqrt();
    let m = reg.maxnorm.unwrap();
    let mut expected = if norm > m {
        n * (norm - m).powi(3) / 3.0
    } else {
        0.0
    };
    if let Some(mg) = reg.merge {
        let lay = &case.spec.layouts()[mg.layer - 1];
        for c in 0..lay.ext_cols() {
            if let (Some(a), Some(b)) = (lay.ext(mg.i, c), lay.ext(mg.j, c)) {
                expected += 0.5 * n * mg.lambda * (p[a] - p[b]).powi(2);
            }
        }
    }
    let (loss, g, h) = obj.hessian(&p);
    let data_loss = plain.loss(&p);
    prop_assert!(
        (loss - data_loss - expected).abs() <= 1e-10 * (1.0 + loss.abs()),
        "value {loss} vs {data_loss} + {expected}"
    );
    prop_assert!((obj.loss(&p) - loss).abs() <= 1e-12 * (1.0 + loss.abs()));
    let (_, g2) = obj.gradient(&p);
    let eps = 1e-5;
    let (gscale, hscale) = (1.0 + max_abs(&g), 1.0 + max_abs(&h));
    for i in 0..np {
        prop_assert!((g[i] - g2[i]).abs() <= 1e-12 * gscale);
        let mut q = p.clone();
        q[i] = p[i] + eps;
        let (lp, gp) = obj.gradient(&q);
        q[i] = p[i] - eps;
        let (lm, gm) = obj.gradient(&q);
        let fd = (lp - lm) / (2.0 * eps);
        prop_assert!(
            (g[i] - fd).abs() <= 1e-6 * gscale,
            "gradient {i}: {} vs {fd}",
            g[i]
        );
        for j in 0..np {
            let fd = (gp[j] - gm[j]) / (2.0 * eps);
            let a = h[i * np + j];
            prop_assert!(
                (a - fd).abs() <= 1e-6 * hscale,
                "H[{i},{j}]: {a} vs fd {fd}"
            );
            prop_assert!((a - h[j * np + i]).abs() <= 1e-13 * hscale);
        }
    }
    // The Gauss–Newton matrix gains the regularisers' (positive semidefinite) Hessian.
    let (mut gg, mut gn, mut gg0, mut gn0) = (
        vec![0.0; np],
        vec![0.0; np * np],
        vec![0.0; np],
        vec![0.0; np * np],
    );
    obj.gauss_newton_into(&p, &mut gg, &mut gn);
    plain.gauss_newton_into(&p, &mut gg0, &mut gn0);
    let (_, _, h0) = plain.hessian(&p);
    for k in 0..np * np {
        prop_assert!(((gn[k] - gn0[k]) - (h[k] - h0[k])).abs() <= 1e-10 * hscale);
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(96))]

    #[test]
    fn regularised_gradient_and_hessian_match_finite_differences(
        case in case(),
        inside in any::<bool>(),
        pick in 0usize..1000,
        lambda in 0.0f64..3.0,
    ) {
        check(&case, &regularisers(&case, inside, pick, lambda))?;
    }
}

#[test]
fn bad_regularisers_name_their_field() {
    let spec = gradflow::net::NetSpec::shallow(2, 3, gradflow::net::Activation::G, 1);
    let data = gradflow::net::Dataset::from_row_major(&[0.0, 1.0], 2, &[1.0], 1).unwrap();
    let mut r = Regularisers::default();
    r.maxnorm = Some(-1.0);
    let e = Objective::new(&spec, &data, gradflow::net::Loss::Mse)
        .unwrap()
        .with_regularisers(&r)
        .err()
        .unwrap();
    assert!(e.to_string().contains("regularisers.maxnorm"), "{e}");
    r.maxnorm = None;
    r.merge = Some(Merge {
        layer: 2,
        i: 0,
        j: 1,
        lambda: 1.0,
    });
    let e = Objective::new(&spec, &data, gradflow::net::Loss::Mse)
        .unwrap()
        .with_regularisers(&r)
        .err()
        .unwrap();
    assert!(e.to_string().contains("not a hidden layer"), "{e}");
}
