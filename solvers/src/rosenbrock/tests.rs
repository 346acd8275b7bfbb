//! Tests of the Rosenbrock driver on textbook problems.
use super::*;

/// The unforced Van der Pol oscillator with μ (stiff for large μ).
struct VanDerPol(f64);

impl RosenbrockSystem for VanDerPol {
    fn rhs(&mut self, y: &[f64], f: &mut [f64]) {
        f[0] = y[1];
        f[1] = self.0 * (1.0 - y[0] * y[0]) * y[1] - y[0];
    }
    fn rhs_jacobian(&mut self, y: &[f64], f: &mut [f64], jac: &mut [f64]) {
        self.rhs(y, f);
        jac.copy_from_slice(&[
            0.0,
            1.0,
            -2.0 * self.0 * y[0] * y[1] - 1.0,
            self.0 * (1.0 - y[0] * y[0]),
        ]);
    }
}

/// Robertson's chemical kinetics (Hairer & Wanner II, §IV.1), a classic stiff test.
struct Robertson;

impl RosenbrockSystem for Robertson {
    fn rhs(&mut self, y: &[f64], f: &mut [f64]) {
        f[0] = -0.04 * y[0] + 1e4 * y[1] * y[2];
        f[2] = 3e7 * y[1] * y[1];
        f[1] = -f[0] - f[2];
    }
    fn rhs_jacobian(&mut self, y: &[f64], f: &mut [f64], jac: &mut [f64]) {
        self.rhs(y, f);
        jac.copy_from_slice(&[
            -0.04,
            1e4 * y[2],
            1e4 * y[1],
            0.04,
            -1e4 * y[2] - 6e7 * y[1],
            -1e4 * y[1],
            0.0,
            6e7 * y[1],
            0.0,
        ]);
    }
}

fn err(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

fn observed_orders(tab: &RosenbrockTableau, steps: &[usize]) -> Vec<f64> {
    let y0 = [2.0, 0.0];
    let reference = integrate_fixed(tab, &mut VanDerPol(0.3), &y0, 0.0, 2.0, 4096).unwrap();
    let errors: Vec<f64> = steps
        .iter()
        .map(|&s| {
            err(
                &integrate_fixed(tab, &mut VanDerPol(0.3), &y0, 0.0, 2.0, s).unwrap(),
                &reference,
            )
        })
        .collect();
    errors.windows(2).map(|w| (w[0] / w[1]).log2()).collect()
}

#[test]
fn rodas5p_converges_with_order_five() {
    for p in observed_orders(&RosenbrockTableau::rodas5p(), &[16, 32, 64, 128]) {
        assert!(p > 4.6 && p < 5.8, "observed order {p}");
    }
}

#[test]
fn ros34pw2_converges_with_order_three() {
    for p in observed_orders(&RosenbrockTableau::ros34pw2(), &[16, 32, 64, 128]) {
        assert!(p > 2.7 && p < 3.4, "observed order {p}");
    }
}

#[test]
#[allow(clippy::excessive_precision)]
fn adaptive_steps_solve_robertson_to_the_reference() {
    // Reference y(40) from Hairer & Wanner's test set.
    let reference = [
        0.715_827_068_719_316_5,
        9.185_534_764_557_202e-6,
        0.284_163_745_745_818_6,
    ];
    for tab in [RosenbrockTableau::rodas5p(), RosenbrockTableau::ros34pw2()] {
        let name = tab.name;
        let opts = RosenbrockOptions {
            rtol: 1e-9,
            atol: 1e-13,
            ..Default::default()
        };
        let mut r = Rosenbrock::new(tab, &mut Robertson, &[1.0, 0.0, 0.0], 0.0, opts).unwrap();
        r.set_stop_time(40.0);
        while r.t() < 40.0 {
            r.step(&mut Robertson).unwrap();
        }
        let rel = (0..3)
            .map(|i| ((r.y()[i] - reference[i]) / reference[i]).abs())
            .fold(0.0, f64::max);
        assert!(
            rel < 1e-6,
            "{name}: relative error {rel:e}, {:?}",
            r.stats()
        );
        assert!(r.stats().steps < 3000, "{name}: {:?}", r.stats());
    }
}

#[test]
fn a_stiff_van_der_pol_takes_few_steps_and_stays_on_the_limit_cycle() {
    for tab in [RosenbrockTableau::rodas5p(), RosenbrockTableau::ros34pw2()] {
        let name = tab.name;
        let mut sys = VanDerPol(1e3);
        let mut r = Rosenbrock::new(
            tab,
            &mut sys,
            &[2.0, 0.0],
            0.0,
            RosenbrockOptions::default(),
        )
        .unwrap();
        r.set_stop_time(1000.0);
        while r.t() < 1000.0 {
            r.step(&mut sys).unwrap();
        }
        // An explicit method would need ~10⁶ steps (stiffness ratio μ² = 10⁶ over t = 1000).
        assert!(r.stats().steps < 5000, "{name}: {:?}", r.stats());
        assert!(r.y()[0].abs() < 2.1, "{name}: {:?}", r.y());
        assert!(r.stats().factorisations >= r.stats().steps, "{name}");
    }
}

#[test]
fn the_w_method_keeps_converging_with_a_stale_jacobian() {
    let y0 = [2.0, 0.0];
    let exact = integrate_fixed(
        &RosenbrockTableau::rodas5p(),
        &mut VanDerPol(5.0),
        &y0,
        0.0,
        3.0,
        8192,
    )
    .unwrap();
    let opts = RosenbrockOptions {
        rtol: 1e-8,
        atol: 1e-10,
        jacobian_refresh: 4,
        ..Default::default()
    };
    let mut sys = VanDerPol(5.0);
    let mut r = Rosenbrock::new(RosenbrockTableau::ros34pw2(), &mut sys, &y0, 0.0, opts).unwrap();
    r.set_stop_time(3.0);
    while r.t() < 3.0 {
        r.step(&mut sys).unwrap();
    }
    let st = r.stats();
    assert!(err(r.y(), &exact) < 1e-5, "{:e}", err(r.y(), &exact));
    assert!(st.jacobian_evals * 2 < st.steps + st.rejected, "{st:?}");
}

#[test]
fn rodas5p_dense_output_is_accurate_inside_the_step() {
    let y0 = [2.0, 0.0];
    let tab = RosenbrockTableau::rodas5p();
    let mut sys = VanDerPol(0.3);
    let h = 0.1;
    let opts = RosenbrockOptions {
        h0: Some(h),
        rtol: 1e30,
        atol: 1e30,
        ..Default::default()
    };
    let mut r = Rosenbrock::new(tab.clone(), &mut sys, &y0, 0.0, opts).unwrap();
    r.step(&mut sys).unwrap();
    for theta in [0.25, 0.5, 0.75] {
        let mut out = [0.0; 2];
        assert!(r.dense(theta, &mut out));
        let reference =
            integrate_fixed(&tab, &mut VanDerPol(0.3), &y0, 0.0, theta * h, 64).unwrap();
        // Order-4 interpolation on h = 0.1: errors around h⁵ ≈ 1e-5 at most.
        assert!(
            err(&out, &reference) < 1e-6,
            "θ = {theta}: {:e}",
            err(&out, &reference)
        );
    }
    let mut end = [0.0; 2];
    r.dense(1.0, &mut end);
    assert!(err(&end, r.y()) < 1e-14);
    assert!(
        !Rosenbrock::new(
            RosenbrockTableau::ros34pw2(),
            &mut sys,
            &y0,
            0.0,
            RosenbrockOptions::default()
        )
        .unwrap()
        .dense(0.5, &mut end)
    );
}

#[test]
fn a_non_finite_right_hand_side_is_an_error_not_a_panic() {
    struct Bad;
    impl RosenbrockSystem for Bad {
        fn rhs(&mut self, _y: &[f64], f: &mut [f64]) {
            f[0] = f64::NAN;
        }
        fn rhs_jacobian(&mut self, y: &[f64], f: &mut [f64], jac: &mut [f64]) {
            self.rhs(y, f);
            jac[0] = -1.0;
        }
    }
    let r = Rosenbrock::new(
        RosenbrockTableau::rodas5p(),
        &mut Bad,
        &[1.0],
        0.0,
        RosenbrockOptions::default(),
    );
    assert!(matches!(r, Err(RosenbrockError::NonFinite { .. })));
}

/// The gradient flow `y' = −∇f` of `f(y) = ½yᵀAy + ¼cΣy_i⁴` (`A` symmetric): its Jacobian
/// `−(A + 3c diag(y²))` is symmetric, and `W` is indefinite for long steps where the Hessian
/// has a negative eigenvalue. `structure` is what the system declares.
struct Quartic {
    a: [[f64; 3]; 3],
    c: f64,
    /// A positive diagonal `D` (the flow `y' = −D∇f`, Jacobian `−D∇²f`).
    d: [f64; 3],
    structure: JacobianStructure,
}

impl RosenbrockSystem for Quartic {
    fn rhs(&mut self, y: &[f64], f: &mut [f64]) {
        for i in 0..3 {
            f[i] = -self.d[i]
                * ((0..3).map(|j| self.a[i][j] * y[j]).sum::<f64>() + self.c * y[i].powi(3));
        }
    }
    fn rhs_jacobian(&mut self, y: &[f64], f: &mut [f64], jac: &mut [f64]) {
        self.rhs(y, f);
        for i in 0..3 {
            for j in 0..3 {
                let diagonal = if i == j {
                    3.0 * self.c * y[i] * y[i]
                } else {
                    0.0
                };
                jac[3 * i + j] = -self.d[i] * (self.a[i][j] + diagonal);
            }
        }
    }
    fn jacobian_structure(&self) -> JacobianStructure {
        self.structure.clone()
    }
}

/// Runs `steps` steps of `tab` on the quartic flow (adaptive from `h0 = None`, else fixed
/// steps of `h0`), declared with `structure`.
fn quartic_run(
    tab: &RosenbrockTableau,
    (a, c): ([[f64; 3]; 3], f64),
    structure: JacobianStructure,
    h0: Option<f64>,
    t_end: f64,
) -> (Vec<f64>, RosenbrockStats) {
    let d = match &structure {
        JacobianStructure::ScaledSymmetric(d) => [d[0], d[1], d[2]],
        _ => [1.0; 3],
    };
    quartic_run_scaled(tab, (a, c), d, structure, h0, t_end)
}

/// [`quartic_run`] of the flow `y' = −D∇f`, whatever `structure` declares.
fn quartic_run_scaled(
    tab: &RosenbrockTableau,
    (a, c): ([[f64; 3]; 3], f64),
    d: [f64; 3],
    structure: JacobianStructure,
    h0: Option<f64>,
    t_end: f64,
) -> (Vec<f64>, RosenbrockStats) {
    let mut sys = Quartic { a, c, d, structure };
    let opts = match h0 {
        Some(h) => RosenbrockOptions {
            h0: Some(h),
            rtol: 1e30,
            atol: 1e30,
            ..Default::default()
        },
        None => RosenbrockOptions {
            rtol: 1e-9,
            atol: 1e-12,
            ..Default::default()
        },
    };
    let mut r = Rosenbrock::new(tab.clone(), &mut sys, &[0.4, -0.3, 0.2], 0.0, opts).unwrap();
    r.set_stop_time(t_end);
    while r.t() < t_end {
        if let Some(h) = h0 {
            r.h = h;
            r.just_rejected = false;
        }
        r.step(&mut sys).unwrap();
    }
    (r.y().to_vec(), r.stats())
}

#[test]
fn a_symmetric_jacobian_is_factored_by_cholesky_with_the_same_result() {
    // Positive definite and stiff (eigenvalues ~1000.1, ~2.12, ~0.78): every W is too.
    let a = (
        [[1000.0, 10.0, 0.0], [10.0, 2.0, 0.5], [0.0, 0.5, 1.0]],
        1.0,
    );
    for tab in [RosenbrockTableau::rodas5p(), RosenbrockTableau::ros34pw2()] {
        let (y_sym, st_sym) = quartic_run(&tab, a, JacobianStructure::Symmetric, None, 20.0);
        let (y_gen, st_gen) = quartic_run(&tab, a, JacobianStructure::General, None, 20.0);
        assert_eq!(st_sym.cholesky, st_sym.factorisations, "{st_sym:?}");
        assert_eq!(st_sym.cholesky_failures, 0);
        assert_eq!((st_gen.cholesky, st_gen.cholesky_failures), (0, 0));
        assert!(st_sym.steps > 5, "{st_sym:?}");
        // Round-off apart, the same steps and the same solution.
        assert!(
            st_sym.steps.abs_diff(st_gen.steps) <= 1,
            "{st_sym:?} {st_gen:?}"
        );
        assert!(err(&y_sym, &y_gen) < 1e-10, "{:e}", err(&y_sym, &y_gen));
    }
}

#[test]
fn an_indefinite_w_falls_back_to_lu() {
    // The linear flow y' = −Ay with one eigenvalue of A near −5.1: W = I/(hγ) + A is
    // indefinite for steps h > 1/(5.1γ) ≈ 0.9 (γ ≈ 0.21), positive definite for short ones;
    // fixed steps of 1.5 (every W indefinite: Cholesky is tried at the first step and again
    // after eight Jacobians, LU does the rest) and of 0.01.
    let a = ([[-5.0, 1.0, 0.0], [1.0, 3.0, 0.0], [0.0, 0.0, 100.0]], 0.0);
    let tab = RosenbrockTableau::rodas5p();
    for (h, indefinite) in [(1.5, true), (0.01, false)] {
        let t_end = if indefinite { 15.0 } else { 3.0 };
        let (y_sym, st_sym) = quartic_run(&tab, a, JacobianStructure::Symmetric, Some(h), t_end);
        let (y_gen, st_gen) = quartic_run(&tab, a, JacobianStructure::General, Some(h), t_end);
        assert_eq!(st_sym.factorisations, st_gen.factorisations);
        if indefinite {
            assert_eq!(st_sym.steps, 10);
            assert_eq!(st_sym.cholesky_failures, 2, "{st_sym:?}");
            assert_eq!(st_sym.cholesky, 0, "{st_sym:?}");
        } else {
            assert_eq!(st_sym.cholesky_failures, 0, "{st_sym:?}");
            assert_eq!(st_sym.cholesky, st_sym.factorisations, "{st_sym:?}");
        }
        let scale = y_gen.iter().fold(1.0f64, |m, v| m.max(v.abs()));
        assert!(
            err(&y_sym, &y_gen) < 1e-12 * scale,
            "h = {h}: {y_sym:?} {y_gen:?}"
        );
    }
}

#[test]
fn a_scaled_symmetric_jacobian_is_factored_by_cholesky_with_the_same_result() {
    // y' = −D∇f with D = diag(0.5, 1, 2): J = −D∇²f is not symmetric, D^{−1/2}WD^{1/2} is.
    let a = (
        [[1000.0, 10.0, 0.0], [10.0, 2.0, 0.5], [0.0, 0.5, 1.0]],
        1.0,
    );
    let d = [0.5, 1.0, 2.0];
    for tab in [RosenbrockTableau::rodas5p(), RosenbrockTableau::ros34pw2()] {
        let scaled = JacobianStructure::ScaledSymmetric(d.to_vec());
        // To t = 3, while y is far above the absolute tolerance (near it, the step control
        // chatters and round-off changes the step count).
        let (y_sym, st_sym) = quartic_run_scaled(&tab, a, d, scaled, None, 3.0);
        let (y_gen, st_gen) = quartic_run_scaled(&tab, a, d, JacobianStructure::General, None, 3.0);
        assert_eq!(st_sym.cholesky, st_sym.factorisations, "{st_sym:?}");
        assert_eq!(st_gen.cholesky, 0);
        assert!(
            st_sym.steps > 5 && st_sym.steps.abs_diff(st_gen.steps) <= 1,
            "{st_sym:?} {st_gen:?}"
        );
        assert!(err(&y_sym, &y_gen) < 1e-10, "{:e}", err(&y_sym, &y_gen));
    }
    // Indefinite (fixed long steps on the linear flow with a negative eigenvalue): LU on M,
    // the same result as LU on W.
    let a = ([[-5.0, 1.0, 0.0], [1.0, 3.0, 0.0], [0.0, 0.0, 100.0]], 0.0);
    let tab = RosenbrockTableau::rodas5p();
    let scaled = JacobianStructure::ScaledSymmetric(vec![2.0, 0.5, 1.0]);
    let (y_sym, st_sym) = quartic_run_scaled(&tab, a, [2.0, 0.5, 1.0], scaled, Some(1.5), 6.0);
    let (y_gen, _) = quartic_run_scaled(
        &tab,
        a,
        [2.0, 0.5, 1.0],
        JacobianStructure::General,
        Some(1.5),
        6.0,
    );
    assert!(
        st_sym.cholesky_failures > 0 && st_sym.cholesky == 0,
        "{st_sym:?}"
    );
    let scale = y_gen.iter().fold(1.0f64, |m, v| m.max(v.abs()));
    assert!(err(&y_sym, &y_gen) < 1e-12 * scale, "{y_sym:?} {y_gen:?}");
    // A scaling that is not a positive diagonal: the general path.
    let bad = JacobianStructure::ScaledSymmetric(vec![1.0, -1.0, 1.0]);
    let (_, st) = quartic_run_scaled(&tab, a, [1.0; 3], bad, Some(0.01), 0.05);
    assert_eq!((st.cholesky, st.cholesky_failures), (0, 0));
}
