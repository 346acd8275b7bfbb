//! Activation tests: values, derivatives, tails, kernels, names, symmetry classes.
use super::*;

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * (1.0 + b.abs())
}

fn reference(act: &Activation, x: f64) -> f64 {
    use Activation::*;
    let sig = |x: f64| 1.0 / (1.0 + (-x).exp());
    let sp = |x: f64| {
        if x > 30.0 {
            x + (-x).exp()
        } else {
            x.exp().ln_1p()
        }
    };
    match act {
        Identity | Softmax => x,
        Relu => x.max(0.0),
        LeakyRelu { alpha } => {
            if x > 0.0 {
                x
            } else {
                alpha * x
            }
        }
        Sigmoid => sig(x),
        Tanh => x.tanh(),
        Softplus => sp(x),
        G => sig(4.0 * x) + sp(x),
        Gelu => x * 0.5 * libm::erfc(-x / 2f64.sqrt()),
        Silu => x * sig(x),
        Selu => {
            if x > 0.0 {
                SELU_LAMBDA * x
            } else {
                SELU_LAMBDA * SELU_ALPHA * (x.exp() - 1.0)
            }
        }
        Square => x * x / 2.0,
        Cube => x.powi(3),
        Sigmoid2 => libm::erf(x / 2f64.sqrt()),
        NormalCdf => 0.5 * libm::erfc(-x / 2f64.sqrt()),
        Exp => x.exp(),
        Polynomial { coefficients } => coefficients
            .iter()
            .enumerate()
            .map(|(k, c)| c * x.powi(k as i32))
            .sum(),
    }
}

#[test]
fn values_match_reference_formulas() {
    for act in Activation::all_examples() {
        for i in -400..=400 {
            let x = i as f64 * 0.02;
            let (v, _, _) = act.eval3(x);
            assert!(close(v, reference(&act, x), 1e-14), "{act} at {x}: {v}");
        }
    }
}

#[test]
fn derivatives_match_finite_differences() {
    for act in Activation::all_examples() {
        for i in -60..=60 {
            let x = i as f64 * 0.1 + 0.013;
            let h = 1e-5;
            let (_, d1, d2) = act.eval3(x);
            let fd1 = (act.eval(x + h) - act.eval(x - h)) / (2.0 * h);
            let fd2 = (act.eval3(x + h).1 - act.eval3(x - h).1) / (2.0 * h);
            assert!(close(d1, fd1, 1e-7), "{act}' at {x}: {d1} vs {fd1}");
            assert!(close(d2, fd2, 1e-7), "{act}'' at {x}: {d2} vs {fd2}");
        }
    }
}

#[test]
fn tails_are_finite_and_accurate() {
    for act in Activation::all_examples() {
        for &x in &[-1e3, -700.0, -40.0, 40.0, 700.0, 1e3] {
            let (v, d1, d2) = act.eval3(x);
            if matches!(act, Activation::Exp | Activation::Cube) && x > 700.0 {
                continue; // genuinely overflows or is huge by definition
            }
            assert!(
                v.is_finite() && d1.is_finite() && d2.is_finite(),
                "{act} at {x}"
            );
        }
    }
    // Relative accuracy of derivatives deep in the tails (where 1 − σ would cancel).
    let (_, d1, d2) = Activation::Sigmoid.eval3(-30.0);
    assert!(close(
        d1,
        (-30f64).exp() / (1.0 + (-30f64).exp()).powi(2),
        1e-14
    ));
    assert!(d2 > 0.0);
    let (_, d1, _) = Activation::Sigmoid.eval3(30.0);
    assert!(close(
        d1 / (-30f64).exp(),
        1.0 / (1.0 + (-30f64).exp()).powi(2),
        1e-14
    ));
    let (v, _, _) = Activation::Softplus.eval3(-50.0);
    assert!(close(v / (-50f64).exp(), 1.0, 1e-14));
    let (_, d1, _) = Activation::Tanh.eval3(20.0);
    assert!(close(d1 / (4.0 * (-40f64).exp()), 1.0, 1e-12));
    let (v, _, _) = Activation::Gelu.eval3(-10.0);
    assert!(v < 0.0 && v > -1e-20);
}

#[test]
fn slice_kernel_equals_scalar() {
    // Bitwise, except that ±0 are alike (the kernel adds the shift 0.0: −0.0 + 0.0 = +0.0).
    let same = |a: f64, b: f64| {
        a.to_bits() == b.to_bits() || (a == 0.0 && b == 0.0) || (a.is_nan() && b.is_nan())
    };
    for act in Activation::all_examples() {
        let mut xs: Vec<f64> = (0..257).map(|i| -20.0 + 0.156 * i as f64).collect();
        xs.extend([
            0.0,
            -0.0,
            1e-300,
            -1e-300,
            39.0,
            -39.0,
            1e300,
            -1e300,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
        ]);
        let mut buf = xs.clone();
        let mut d1 = vec![0.0; xs.len()];
        let mut d2 = vec![0.0; xs.len()];
        act.apply_in_place(&mut buf, Some(&mut d1), Some(&mut d2));
        for (i, &x) in xs.iter().enumerate() {
            let (v, p, q) = act.eval3(x);
            assert!(
                same(buf[i], v) && same(d1[i], p) && same(d2[i], q),
                "{act} at {x}: kernel ({}, {}, {}), scalar ({v}, {p}, {q})",
                buf[i],
                d1[i],
                d2[i]
            );
        }
    }
}

#[test]
fn normal_family_edges() {
    use Activation::*;
    // No NaN at ±∞ or huge |x| (limits, not `∞·0`), for every activation but the polynomials
    // (whose value there is `∞ − ∞` in Horner's scheme).
    for act in Activation::all_examples()
        .into_iter()
        .filter(|a| !matches!(a, Polynomial { .. }))
    {
        for x in [
            f64::INFINITY,
            f64::NEG_INFINITY,
            1e300,
            -1e300,
            1e160,
            -1e160,
        ] {
            let (v, d1, d2) = act.eval3(x);
            assert!(!v.is_nan() && !d1.is_nan() && !d2.is_nan(), "{act} at {x}");
        }
    }
    // NaN propagates, through the piecewise-linear ones too (a NaN weight must not give a
    // finite loss).
    for act in [
        Gelu,
        NormalCdf,
        Sigmoid2,
        Tanh,
        Selu,
        Silu,
        G,
        Sigmoid,
        Softplus,
        Relu,
        LeakyRelu { alpha: 0.1 },
    ] {
        let mut buf = [1.0, f64::NAN, -1.0];
        let (mut d1, mut d2) = ([0.0; 3], [0.0; 3]);
        act.apply_in_place(&mut buf, Some(&mut d1), Some(&mut d2));
        assert!(
            buf[1].is_nan() && d1[1].is_nan() && d2[1].is_nan(),
            "{act} kernel at NaN"
        );
        assert!(
            !buf[0].is_nan() && !buf[2].is_nan(),
            "{act} kernel next to a NaN"
        );
        let (v, d1, d2) = act.eval3(f64::NAN);
        assert!(v.is_nan() && d1.is_nan() && d2.is_nan(), "{act} at NaN");
    }
    assert_eq!(Gelu.eval3(f64::INFINITY), (f64::INFINITY, 1.0, 0.0));
    assert!(Gelu.eval3(f64::NEG_INFINITY).1 == 0.0);
    assert_eq!(NormalCdf.eval3(f64::NEG_INFINITY), (0.0, 0.0, 0.0));
    assert_eq!(Sigmoid2.eval3(f64::INFINITY), (1.0, 0.0, 0.0));
    // Signs of zero and the lower tail's relative accuracy (Φ(−37) ≈ 5.7e-300).
    assert!(Sigmoid2.eval3(-0.0).0.is_sign_negative() && Selu.eval3(-0.0).0.is_sign_negative());
    assert!((NormalCdf.eval3(-0.0).0 - 0.5).abs() < 1e-16);
    let lower = NormalCdf.eval3(-37.0).0;
    assert!(
        (lower / 5.725571222524e-300 - 1.0).abs() < 1e-12,
        "{lower:e}"
    );
}

#[test]
fn names_round_trip() {
    for act in Activation::all_examples() {
        let text = act.to_string();
        assert_eq!(text.parse::<Activation>().unwrap(), act);
    }
    assert_eq!("swish".parse::<Activation>().unwrap(), Activation::Silu);
    assert!("wobble".parse::<Activation>().is_err());
    assert!("polynomial()".parse::<Activation>().is_err());
}

#[test]
fn symmetry_classes_hold() {
    for act in Activation::all_examples() {
        for i in 1..50 {
            let x = 0.137 * i as f64;
            let (p, m) = (act.eval(x), act.eval(-x));
            let ok = match act.symmetry() {
                SymmetryClass::None => true,
                SymmetryClass::Odd => close(p, -m, 1e-14),
                SymmetryClass::OddPlusConstant => close(p + m, act.eval(0.0) * 2.0, 1e-14),
                SymmetryClass::Even => close(p, m, 1e-14),
                SymmetryClass::EvenPlusLinear | SymmetryClass::EvenPlusLinearPositiveScaling => {
                    // σ(x) − σ(−x) is linear: check against the slope at 0 (ratio constant).
                    let ratio = (p - m) / x;
                    let r1 = (act.eval(0.01) - act.eval(-0.01)) / 0.01;
                    close(ratio, r1, 1e-10)
                }
            };
            assert!(ok, "{act} fails its symmetry class at {x}");
        }
    }
}

#[test]
fn tanh_keeps_its_relative_accuracy_everywhere() {
    // Value against std's tanh and the derivative against 1/cosh² in units of the result's own
    // size (the kernel's e − 1 without cancellation near 0, 4e/(1+e)² in the tails).
    let rel = |a: f64, b: f64| (a - b).abs() / b.abs().max(f64::MIN_POSITIVE);
    let (mut worst_v, mut worst_d): (f64, f64) = (0.0, 0.0);
    let mut xs: Vec<f64> = (-3000..=3000).map(|i| i as f64 * 0.01).collect();
    xs.extend((1..300).flat_map(|e| [2f64.powi(-e), -(2f64.powi(-e))]));
    for &x in &xs {
        let (v, d1, d2) = Activation::Tanh.eval3(x);
        worst_v = worst_v.max(rel(v, x.tanh()));
        worst_d = worst_d.max(rel(d1, 1.0 / x.cosh().powi(2)));
        assert_eq!(v.is_sign_negative(), x.is_sign_negative(), "{x}");
        assert!(
            rel(d2, -2.0 * x.tanh() / x.cosh().powi(2)) < 1e-14 || x == 0.0,
            "{x}"
        );
    }
    assert!(
        worst_v < 5e-16 && worst_d < 1e-15,
        "{worst_v:e} / {worst_d:e}"
    );
    // The vectorised kernel computes the same values as the scalar function.
    let mut buf = xs.clone();
    let (mut d1, mut d2) = (vec![0.0; xs.len()], vec![0.0; xs.len()]);
    Activation::Tanh.apply_in_place(&mut buf, Some(&mut d1), Some(&mut d2));
    for (i, &x) in xs.iter().enumerate() {
        assert_eq!((buf[i], d1[i], d2[i]), Activation::Tanh.eval3(x), "{x}");
    }
    let (v, d1, d2) = Activation::Tanh.eval3(f64::NAN);
    assert!(v.is_nan() && d1.is_nan() && d2.is_nan());
    assert_eq!(Activation::Tanh.eval3(f64::INFINITY), (1.0, 0.0, -0.0));
}

#[test]
fn selu_keeps_its_relative_accuracy_near_zero() {
    let la = SELU_LAMBDA * SELU_ALPHA;
    for e in 1..1000 {
        let x = -(2f64.powi(-e));
        let (v, d1, d2) = Activation::Selu.eval3(x);
        assert!((v / (la * x.exp_m1()) - 1.0).abs() < 5e-16, "{x}: {v}");
        assert!((d1 / (la * x.exp()) - 1.0).abs() < 5e-16, "{x}");
        assert_eq!(d1.to_bits(), d2.to_bits(), "{x}");
    }
    let (v, d1, d2) = Activation::Selu.eval3(f64::NAN);
    assert!(v.is_nan() && d1.is_nan() && d2.is_nan());
    assert_eq!(Activation::Selu.eval3(f64::NEG_INFINITY), (-la, 0.0, 0.0));
}
