//! The infinite-data objective (`Objective::population`): against the sample objective on a
//! Gauss–Hermite grid (an independent path: back-propagation on weighted samples), against
//! Monte Carlo, against central differences of itself, and at the teacher.

use gradflow::net::gauss_hermite::{gauss_hermite_dataset, gauss_hermite_rule};
use gradflow::net::population::PopulationOptions;
use gradflow::net::{Activation, LayerSpec, Loss, NetSpec, Network, Objective};
use gradflow::rng::Stream;
use gradflow::teacher::TeacherConfig;

/// The smooth activations the population objective integrates.
fn smooth() -> Vec<Activation> {
    Activation::all_examples()
        .into_iter()
        .filter(|a| a.eval5(0.1).is_some())
        .collect()
}

/// A random `d → k → 1` network with normal weights of standard deviation `scale`.
fn net(
    d: usize,
    k: usize,
    acts: &[Activation],
    bias: (bool, bool),
    scale: f64,
    seed: u64,
) -> Network {
    let mut hidden = LayerSpec::mixed(acts.iter().cycle().take(k).cloned().collect());
    hidden.bias = bias.0;
    let mut out = LayerSpec::new(1, Activation::Identity);
    out.bias = bias.1;
    let spec = NetSpec::new(d, vec![hidden, out]).unwrap();
    let mut rng = Stream::new(seed, 3);
    let params = (0..spec.n_params()).map(|_| scale * rng.normal()).collect();
    Network { spec, params }
}

fn rel(a: f64, b: f64, scale: f64) -> f64 {
    (a - b).abs() / scale.max(1e-300)
}

fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0.0, |m, x| m.max(x.abs()))
}

/// Loss, gradient and Hessian equal those of the sample objective on a 64³-point
/// Gauss–Hermite grid (accurate to ~1e-13 for these small weights), for every smooth activation,
/// mixed layers, every bias combination, `d = 3` (so the orthogonal complement of a pair
/// of neurons is not empty).
#[test]
fn population_matches_the_quadrature_grid() {
    let opts = PopulationOptions::default();
    let acts = smooth();
    let mut checked = 0;
    for (n, act) in acts.iter().enumerate() {
        for (bi, bias) in [(true, true), (false, false), (true, false), (false, true)]
            .into_iter()
            .enumerate()
        {
            let seed = 100 * n as u64 + bi as u64;
            // A second activation makes the teacher's layer mixed.
            let other = &acts[(n + 3) % acts.len()];
            let teacher = net(3, 2, &[act.clone(), other.clone()], bias, 0.25, seed);
            let student = net(
                3,
                3,
                std::slice::from_ref(act),
                (bias.1, bias.0),
                0.25,
                seed + 7,
            );
            let grid = gauss_hermite_dataset(&teacher, 64, 0.0).unwrap();
            let mut sample = Objective::new(&student.spec, &grid, Loss::Mse).unwrap();
            let mut pop = Objective::population(&student.spec, &teacher, &opts).unwrap();
            let (ls, gs, hs) = sample.hessian(&student.params);
            let (lp, gp, hp) = pop.hessian(&student.params);
            // The grid's sum loss is its mean (weights sum to one).
            assert!(
                rel(ls, lp, ls.abs()) < 1e-10,
                "{act} {bias:?}: loss {ls} vs {lp}"
            );
            let gscale = max_abs(&gs).max(1e-3);
            for (a, b) in gs.iter().zip(&gp) {
                assert!(
                    rel(*a, *b, gscale) < 1e-9,
                    "{act} {bias:?}: gradient {a} vs {b}"
                );
            }
            let hscale = max_abs(&hs);
            for (i, (a, b)) in hs.iter().zip(&hp).enumerate() {
                assert!(
                    rel(*a, *b, hscale) < 1e-9,
                    "{act} {bias:?}: Hessian[{i}] {a} vs {b}"
                );
            }
            // The Gauss–Newton matrix too.
            let p = student.spec.n_params();
            let (mut g1, mut g2) = (vec![0.0; p], vec![0.0; p]);
            let (mut n1, mut n2) = (vec![0.0; p * p], vec![0.0; p * p]);
            sample.gauss_newton_into(&student.params, &mut g1, &mut n1);
            pop.gauss_newton_into(&student.params, &mut g2, &mut n2);
            let nscale = max_abs(&n1);
            for (a, b) in n1.iter().zip(&n2) {
                assert!(
                    rel(*a, *b, nscale) < 1e-9,
                    "{act} {bias:?}: Gauss–Newton {a} vs {b}"
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 40, "only {checked} cases");
}

/// Gradient `g` and Hessian `h` of `pop` at `x` against central differences (step `step`) of
/// its loss and gradient, relative to their largest entries, within `bound`; the Hessian
/// symmetric to 1e-13.
fn check_differences(
    pop: &mut Objective,
    x: &[f64],
    (g, h): (&[f64], &[f64]),
    step: f64,
    bound: f64,
    label: &str,
) {
    let p = x.len();
    let (gscale, hscale) = (max_abs(g).max(1e-2), max_abs(h).max(1e-2));
    for i in 0..p {
        let (mut xp, mut xm) = (x.to_vec(), x.to_vec());
        xp[i] += step;
        xm[i] -= step;
        let fd = (pop.loss(&xp) - pop.loss(&xm)) / (2.0 * step);
        assert!(
            rel(fd, g[i], gscale) < bound,
            "{label} g[{i}]: {fd} vs {}",
            g[i]
        );
        let (_, gp) = pop.gradient(&xp);
        let (_, gm) = pop.gradient(&xm);
        for j in 0..p {
            let fd = (gp[j] - gm[j]) / (2.0 * step);
            let hv = h[i * p + j];
            assert!(
                rel(fd, hv, hscale) < bound,
                "{label} H[{i},{j}]: {fd} vs {hv}"
            );
            assert!(
                (hv - h[j * p + i]).abs() <= 1e-13 * hscale,
                "{label}: symmetry"
            );
        }
    }
}

/// Gradient and Hessian against central differences of the population loss and gradient, at
/// the paper's weight scale (‖w‖ = 3), every smooth activation, with and without biases.
#[test]
fn population_derivatives_match_differences() {
    let opts = PopulationOptions::default();
    for (n, act) in smooth().iter().enumerate() {
        for bias in [(true, true), (false, false)] {
            let teacher = net(4, 2, std::slice::from_ref(act), bias, 1.5, 7 + n as u64);
            let student = net(4, 3, std::slice::from_ref(act), bias, 1.0, 70 + n as u64);
            let mut pop = Objective::population(&student.spec, &teacher, &opts).unwrap();
            let x = student.params.clone();
            let (_, g, h) = pop.hessian(&x);
            check_differences(
                &mut pop,
                &x,
                (&g, &h),
                1e-5,
                1e-6,
                &format!("{act} {bias:?}"),
            );
        }
    }
}

/// Monte Carlo estimate of `E[(f − f*)²]` on `chunks` × 10⁶ Gaussian inputs: the mean and
/// its standard error (Welford's running mean and variance of the squared residuals).
fn monte_carlo(student: &Network, teacher: &Network, chunks: usize, mut rng: Stream) -> (f64, f64) {
    let d = student.spec.input_dim;
    let (mut count, mut mean, mut m2) = (0.0, 0.0, 0.0);
    let mut x = vec![0.0; 1_000_000 * d];
    for _ in 0..chunks {
        x.iter_mut().for_each(|v| *v = rng.normal());
        let ys = student.predict(&x).unwrap();
        let yt = teacher.predict(&x).unwrap();
        for (a, b) in ys.iter().zip(&yt) {
            let sq = (a - b) * (a - b);
            count += 1.0;
            let delta = sq - mean;
            mean += delta / count;
            m2 += delta * (sq - mean);
        }
    }
    (mean, (m2 / (count - 1.0) / count).sqrt())
}

/// The loss agrees with a Monte Carlo estimate on 10⁷ Gaussian inputs (in chunks of 10⁶)
/// within five standard errors, on a paper teacher (`g`, ‖w‖ = 3) with a random student, and on
/// a `sigmoid2` teacher (closed smoothings) with a mixed student.
#[test]
fn population_loss_matches_monte_carlo() {
    let mut sig = TeacherConfig::paper(4, 3, 1);
    sig.activation = Activation::Sigmoid2;
    let cases = [
        (
            TeacherConfig::paper(4, 3, 0).build().unwrap(),
            net(4, 5, &[Activation::G], (true, true), 1.0, 11),
        ),
        (
            sig.build().unwrap(),
            net(
                4,
                5,
                &[Activation::Sigmoid2, Activation::Tanh, Activation::Gelu],
                (true, true),
                1.0,
                12,
            ),
        ),
    ];
    for (c, (teacher, student)) in cases.iter().enumerate() {
        let mut pop =
            Objective::population(&student.spec, teacher, &PopulationOptions::default()).unwrap();
        let l = pop.loss(&student.params);
        let (mean, se) = monte_carlo(student, teacher, 10, Stream::new(5, c as u64));
        assert!(
            (l - mean).abs() < 5.0 * se,
            "case {c}: population {l} vs Monte Carlo {mean} ± {se}"
        );
    }
}

/// The closed Gaussian smoothings (`PopulationOptions::closed_forms`: one-dimensional rules,
/// and no rule at all for two erf-family neurons) agree with the generic two-dimensional rules at the paper's weight scale, for every
/// activation that has one, alone and mixed with one that has none (both orientations of the
/// pair), with and without biases.
#[test]
fn closed_forms_match_the_generic_rules() {
    let closed = [
        Activation::NormalCdf,
        Activation::Sigmoid2,
        Activation::Gelu,
        Activation::Exp,
        Activation::Identity,
        Activation::Square,
        Activation::Cube,
        Activation::Polynomial {
            coefficients: vec![0.3, -1.0, 0.5, 0.2],
        },
    ];
    let mut generic = PopulationOptions::default();
    generic.closed_forms = false;
    for (n, act) in closed.iter().enumerate() {
        // Growing activations at smaller weights, so the loss stays of order one.
        let scale = match act {
            Activation::Exp | Activation::Cube | Activation::Polynomial { .. } => 0.4,
            _ => 1.5,
        };
        for bias in [(true, true), (false, false)] {
            let seed = 300 + 10 * n as u64;
            // Erf-family partners too: their pairs with each other are fully closed.
            let teacher = net(
                4,
                3,
                &[act.clone(), Activation::G, Activation::NormalCdf],
                bias,
                scale,
                seed,
            );
            let student = net(
                4,
                3,
                &[Activation::Tanh, act.clone(), Activation::Sigmoid2],
                bias,
                scale,
                seed + 1,
            );
            let mut fast =
                Objective::population(&student.spec, &teacher, &PopulationOptions::default())
                    .unwrap();
            let mut slow = Objective::population(&student.spec, &teacher, &generic).unwrap();
            let (lf, gf, hf) = fast.hessian(&student.params);
            let (ls, gs, hs) = slow.hessian(&student.params);
            assert!(
                rel(lf, ls, ls.abs()) < 1e-11,
                "{act} {bias:?}: loss {lf} vs {ls}"
            );
            let gscale = max_abs(&gs);
            for (a, b) in gf.iter().zip(&gs) {
                assert!(
                    rel(*a, *b, gscale) < 1e-11,
                    "{act} {bias:?}: gradient {a} vs {b}"
                );
            }
            let hscale = max_abs(&hs);
            for (a, b) in hf.iter().zip(&hs) {
                assert!(
                    rel(*a, *b, hscale) < 1e-11,
                    "{act} {bias:?}: Hessian {a} vs {b}"
                );
            }
        }
    }
}

/// At the teacher the loss and gradient vanish (to round-off of the O(1) terms) and the
/// Hessian, equal to the Gauss–Newton matrix there, is positive semidefinite.
#[test]
fn population_at_the_teacher() {
    let teacher = TeacherConfig::paper(4, 4, 2).build().unwrap();
    let mut pop =
        Objective::population(&teacher.spec, &teacher, &PopulationOptions::default()).unwrap();
    let (l, g, h) = pop.hessian(&teacher.params);
    // The expanded form cancels terms of order 10-100 here: its round-off floor.
    assert!(l.abs() < 1e-12, "loss {l}");
    assert!(max_abs(&g) < 1e-12, "gradient {}", max_abs(&g));
    let p = teacher.params.len();
    let eig = gradflow::net::symmetric_eigenvalues(&h, p).unwrap();
    assert!(eig[0] > -1e-12 * eig[p - 1], "lowest eigenvalue {}", eig[0]);
}

/// The default tolerance gives integrals within ~1e-12 of a reference with a 100× tighter
/// tolerance and twice the nodes, at the paper's scale, for `g` and `tanh`.
#[test]
fn population_accuracy_control() {
    for act in [Activation::G, Activation::Tanh] {
        let mut cfg = TeacherConfig::paper(3, 3, 1);
        cfg.activation = act.clone();
        let teacher = cfg.build().unwrap();
        let student = net(3, 4, std::slice::from_ref(&act), (true, true), 2.0, 3);
        let mut fine = PopulationOptions::default();
        fine.tolerance = 1e-15;
        let mut a =
            Objective::population(&student.spec, &teacher, &PopulationOptions::default()).unwrap();
        let mut b = Objective::population(&student.spec, &teacher, &fine).unwrap();
        let (la, ga, ha) = a.hessian(&student.params);
        let (lb, gb, hb) = b.hessian(&student.params);
        assert!(rel(la, lb, lb.abs()) < 1e-12, "{act}: loss {la} vs {lb}");
        let gs = max_abs(&gb);
        assert!(
            ga.iter().zip(&gb).all(|(x, y)| rel(*x, *y, gs) < 1e-11),
            "{act}: gradient"
        );
        let hs = max_abs(&hb);
        let worst = ha
            .iter()
            .zip(&hb)
            .map(|(x, y)| rel(*x, *y, hs))
            .fold(0.0, f64::max);
        assert!(worst < 1e-11, "{act}: Hessian {worst:e}");
        assert!(a.as_population().unwrap().error_estimate() <= 1e-13);
    }
}

/// The Gauss–Hermite rule integrates polynomials of degree 2n − 1 exactly.
#[test]
fn gauss_hermite_rule_moments() {
    let (x, w) = gauss_hermite_rule(12).unwrap();
    let moment = |k: i32| x.iter().zip(&w).map(|(x, w)| w * x.powi(k)).sum::<f64>();
    // E[z^{2j}] = (2j − 1)!!
    let mut dfact = 1.0;
    for j in 0..12 {
        if j > 0 {
            dfact *= (2 * j - 1) as f64;
        }
        assert!(
            (moment(2 * j) - dfact).abs() < 1e-12 * dfact,
            "degree {}",
            2 * j
        );
        assert!(
            moment(2 * j + 1).abs() < 1e-10 * dfact,
            "degree {}",
            2 * j + 1
        );
    }
}

/// Shapes the objective cannot integrate are refused, naming the network.
#[test]
fn population_refuses_what_it_cannot_integrate() {
    let teacher = net(2, 2, &[Activation::G], (true, true), 1.0, 1);
    let relu = net(2, 2, &[Activation::Relu], (true, true), 1.0, 1);
    let e = Objective::population(&relu.spec, &teacher, &PopulationOptions::default())
        .err()
        .unwrap();
    assert!(
        e.to_string().contains("student") && e.to_string().contains("relu"),
        "{e}"
    );
    let deep = NetSpec::new(
        2,
        vec![
            LayerSpec::new(2, Activation::G),
            LayerSpec::new(2, Activation::G),
            LayerSpec::new(1, Activation::Identity),
        ],
    )
    .unwrap();
    assert!(Objective::population(&deep, &teacher, &PopulationOptions::default()).is_err());
    let wide = net(3, 2, &[Activation::G], (true, true), 1.0, 1);
    let e = Objective::population(&wide.spec, &teacher, &PopulationOptions::default())
        .err()
        .unwrap();
    assert!(e.to_string().contains("input dimension"), "{e}");
    let mut bad = PopulationOptions::default();
    bad.tolerance = 0.0;
    let e = Objective::population(&teacher.spec, &teacher, &bad)
        .err()
        .unwrap();
    assert!(e.to_string().contains("population.tolerance"), "{e}");
}

/// `loss`, `gradient` and `hessian` return the same loss bit for bit (stop rules and the best
/// point compare losses from different calls).
#[test]
fn population_loss_is_the_same_in_every_call() {
    let teacher = TeacherConfig::paper(3, 2, 0).build().unwrap();
    let student = net(3, 4, &[Activation::G], (true, true), 1.0, 5);
    let mut pop =
        Objective::population(&student.spec, &teacher, &PopulationOptions::default()).unwrap();
    let l0 = pop.loss(&student.params);
    let (l1, _) = pop.gradient(&student.params);
    let (l2, _, _) = pop.hessian(&student.params);
    assert_eq!((l0.to_bits(), l0.to_bits()), (l1.to_bits(), l2.to_bits()));
}

#[test]
fn population_threads_give_the_same_bits() {
    let teacher = TeacherConfig::paper(3, 2, 0).build().unwrap();
    let acts = [Activation::G, Activation::Tanh, Activation::NormalCdf];
    let student = net(3, 5, &acts, (true, true), 1.0, 6);
    let opts = PopulationOptions::default();
    let mut one = Objective::population(&student.spec, &teacher, &opts).unwrap();
    let (l1, g1, h1) = one.hessian(&student.params);
    for threads in [2, 3, 40] {
        let mut par = Objective::population(&student.spec, &teacher, &opts)
            .unwrap()
            .with_threads(threads)
            .unwrap();
        for _ in 0..2 {
            let (l, g, h) = par.hessian(&student.params);
            assert_eq!(l.to_bits(), l1.to_bits(), "{threads} threads");
            assert!(g == g1 && h == h1, "{threads} threads");
        }
    }
}

/// A `relu` student with the hard configurations of the landscape: a neuron equal to a
/// teacher neuron, one parallel to another student (same hyperplane, twice the weights), one
/// antiparallel, and one nearly aligned (`1e-7`).
fn relu_student(teacher: &Network, student: &mut Network, bias: bool) {
    let d = student.spec.input_dim;
    let (tl, sl) = (teacher.spec.layouts(), student.spec.layouts());
    let (tw, sw) = (tl[0].weight.start, sl[0].weight.start);
    for t in 0..d {
        student.params[sw + t] = teacher.params[tw + t];
        let w2 = student.params[sw + 2 * d + t];
        student.params[sw + d + t] = 2.0 * w2;
        student.params[sw + 3 * d + t] = -w2;
        student.params[sw + 4 * d + t] = w2 * (1.0 + 1e-7 * t as f64);
    }
    if bias {
        let (tb, sb) = (tl[0].bias.clone().unwrap(), sl[0].bias.clone().unwrap());
        student.params[sb.start] = teacher.params[tb.start];
        student.params[sb.start + 1] = 2.0 * student.params[sb.start + 2];
        student.params[sb.start + 3] = -student.params[sb.start + 2];
    }
}

/// `relu` in closed form (every neuron of both networks `relu`): gradient and Hessian against
/// central differences, at random points and at the degenerate ones of [`relu_student`], with
/// and without biases, and the Hessian symmetric. The loss is `C²` but not `C³` at aligned
/// neurons, so there the differences are only first-order accurate (step 1e-6, bound 1e-5).
#[test]
fn relu_population_derivatives_match_differences() {
    let opts = PopulationOptions::default();
    let relu = [Activation::Relu];
    for bias in [(true, true), (false, false), (true, false)] {
        for degenerate in [false, true] {
            let teacher = net(3, 3, &relu, bias, 1.5, 17);
            let mut student = net(3, 6, &relu, bias, 1.0, 71);
            if degenerate {
                relu_student(&teacher, &mut student, bias.0);
            }
            let mut pop = Objective::population(&student.spec, &teacher, &opts).unwrap();
            let x = student.params.clone();
            let (l, g, h) = pop.hessian(&x);
            assert!(l.is_finite() && l > 0.0);
            let (step, bound) = if degenerate {
                (1e-6, 1e-5)
            } else {
                (1e-5, 1e-7)
            };
            let label = format!("relu {bias:?} degenerate {degenerate}");
            check_differences(&mut pop, &x, (&g, &h), step, bound, &label);
        }
    }
}

/// The `relu` loss against Monte Carlo on 4·10⁶ Gaussian inputs (within five standard
/// errors), with biases; at the teacher it vanishes with its gradient, and the Hessian equals
/// the Gauss–Newton matrix and is positive semidefinite.
#[test]
fn relu_population_against_monte_carlo_and_at_the_teacher() {
    let relu = [Activation::Relu];
    let teacher = net(4, 3, &relu, (true, true), 1.5, 23);
    let student = net(4, 5, &relu, (true, true), 1.0, 24);
    let opts = PopulationOptions::default();
    let mut pop = Objective::population(&student.spec, &teacher, &opts).unwrap();
    let l = pop.loss(&student.params);
    let (mean, se) = monte_carlo(&student, &teacher, 4, Stream::new(9, 0));
    assert!(
        (l - mean).abs() < 5.0 * se,
        "population {l} vs Monte Carlo {mean} ± {se}"
    );
    let mut at = Objective::population(&teacher.spec, &teacher, &opts).unwrap();
    let (l, g, h) = at.hessian(&teacher.params);
    assert!(l.abs() < 1e-13, "loss {l}");
    assert!(max_abs(&g) < 1e-13, "gradient {}", max_abs(&g));
    let p = teacher.params.len();
    let (mut g2, mut gn) = (vec![0.0; p], vec![0.0; p * p]);
    at.gauss_newton_into(&teacher.params, &mut g2, &mut gn);
    let hs = max_abs(&h);
    assert!(h.iter().zip(&gn).all(|(a, b)| (a - b).abs() < 1e-13 * hs));
    let eig = gradflow::net::symmetric_eigenvalues(&h, p).unwrap();
    assert!(eig[0] > -1e-12 * eig[p - 1], "lowest eigenvalue {}", eig[0]);
}

/// Mehler's series (the default) against the two-dimensional rules everywhere at a 100×
/// tighter tolerance: loss, gradient and Hessian of random students and teachers with mixed
/// activations, biases or not, small to paper-scale weights, including a student with
/// duplicated neurons (pairs at ρ = 1 and near it, which keep their rules) — to 1e-11 of each
/// quantity's largest entry.
#[test]
fn mehler_series_matches_the_rules() {
    let acts = [
        Activation::G,
        Activation::Tanh,
        Activation::Softplus,
        Activation::Gelu,
        Activation::Silu,
        Activation::Sigmoid,
    ];
    let mut reference = PopulationOptions::default();
    reference.tolerance = 1e-15;
    reference.max_points = 8193;
    reference.mehler = false;
    let mut checked = 0;
    for (case, (d, k, scale, bias)) in [
        (3, 5, 0.5, (true, true)),
        (5, 7, 1.0, (false, true)),
        (4, 6, 2.0, (true, false)),
        (6, 4, 3.0, (true, true)),
    ]
    .into_iter()
    .enumerate()
    {
        let rotated: Vec<Activation> = acts.iter().cycle().skip(case).take(3).cloned().collect();
        let teacher = net(d, 3, &rotated, bias, scale, 100 + case as u64);
        let mut student = net(d, k, &rotated, bias, scale, 200 + case as u64);
        // Duplicate the first hidden neuron into the second (same activation at k ≥ 4 with
        // three activations cycling: neurons 0 and 3), exactly and with a small offset.
        let lay = student.spec.layouts();
        for t in 0..d {
            let w = student.params[lay[0].w(0, t)];
            student.params[lay[0].w(3, t)] = w + if case % 2 == 0 { 0.0 } else { 1e-4 };
        }
        let mut fast =
            Objective::population(&student.spec, &teacher, &PopulationOptions::default()).unwrap();
        let mut slow = Objective::population(&student.spec, &teacher, &reference).unwrap();
        let (la, ga, ha) = fast.hessian(&student.params);
        let (lb, gb, hb) = slow.hessian(&student.params);
        assert!(
            rel(la, lb, lb.abs().max(1e-3)) < 1e-11,
            "case {case}: loss {la} vs {lb}"
        );
        let (gs, hs) = (max_abs(&gb), max_abs(&hb));
        let ge = ga
            .iter()
            .zip(&gb)
            .map(|(x, y)| rel(*x, *y, gs))
            .fold(0.0, f64::max);
        let he = ha
            .iter()
            .zip(&hb)
            .map(|(x, y)| rel(*x, *y, hs))
            .fold(0.0, f64::max);
        assert!(ge < 1e-11, "case {case}: gradient {ge:e}");
        assert!(he < 1e-11, "case {case}: Hessian {he:e}");
        checked += 1;
    }
    assert_eq!(checked, 4);
}
