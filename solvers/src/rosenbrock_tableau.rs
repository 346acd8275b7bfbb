//! Rosenbrock (linearly implicit Runge–Kutta) methods for autonomous systems `y' = f(y)`.
//!
//! A method is stored in the *transformed* form of Hairer & Wanner (Solving ODEs II, §IV.7,
//! eq. (7.4)), the form codes such as RODAS use: with `W = I/(hγ) − J`,
//!
//! ```text
//! W K_i = f(y + Σ_{j<i} a_ij K_j) + Σ_{j<i} (c_ij / h) K_j,     y₁ = y + Σ m_i K_i,
//! ```
//!
//! and the local error estimate `Σ e_i K_i` (`e = m − m̂`). The classical form
//! `k_i = h f(y + Σ α_ij k_j) + h J Σ_{j≤i} γ_ij k_j`, `y₁ = y + Σ b_j k_j` follows from
//! `Γ = (diag(1/γ) − C)⁻¹`, `α = A Γ`, `b = m Γ` ([`RosenbrockTableau::classical`]); the order
//! conditions are checked there ([`rosenbrock_order_residuals`]).
//!
//! Methods:
//! - [`RosenbrockTableau::rodas5p`]: Rodas5P of G. Steinebach, "Construction of
//!   Rosenbrock–Wanner method Rodas5P and numerical benchmarks within the Julia Differential
//!   Equations package", *BIT Numerical Mathematics* 63, 27 (2023): 8 stages, order 5 with an
//!   embedded order-4 method, stiffly accurate, L-stable, a dense output of order 4. The
//!   coefficients are the published double-precision values (as OrdinaryDiffEq.jl's
//!   `Rodas5PTableau` lists them).
//! - [`RosenbrockTableau::ros34pw2`]: ROS34PW2 of J. Rang and L. Angermann, "New
//!   Rosenbrock W-methods of order 3 for partial differential algebraic equations of index 1",
//!   *BIT Numerical Mathematics* 45 (2005) 761–787: 4 stages, order 3 with an embedded order-2
//!   method, stiffly accurate, L-stable, and a W-method (order 3 also with an approximate or
//!   stale Jacobian), from the published classical coefficients (α, γ, b, b̂).

/// A Rosenbrock method in transformed form.
#[derive(Clone, Debug, PartialEq)]
pub struct RosenbrockTableau {
    /// Name for messages and reports.
    pub name: &'static str,
    /// The diagonal coefficient γ.
    pub gamma: f64,
    /// Stage-point coefficients `a[i][j]`, `j < i` (row `i` has `i` entries).
    pub a: Vec<Vec<f64>>,
    /// Stage-coupling coefficients `c[i][j]`, `j < i` (row `i` has `i` entries).
    pub c: Vec<Vec<f64>>,
    /// Solution weights.
    pub m: Vec<f64>,
    /// Error weights `m − m̂`.
    pub e: Vec<f64>,
    /// Dense-output coefficient rows `h[r][j]` (empty when the method has none); see
    /// [`crate::rosenbrock::Rosenbrock::dense`].
    pub dense: Vec<Vec<f64>>,
    /// Order of the main method.
    pub order: usize,
    /// Order of the embedded method.
    pub embedded_order: usize,
    /// Whether the method keeps its order with an inexact Jacobian (a W-method).
    pub w_method: bool,
}

/// The classical form `(α, Γ, b, b̂)` of a Rosenbrock method (full lower-triangular `s × s`
/// matrices, `Γ` with γ on its diagonal).
#[derive(Clone, Debug, PartialEq)]
pub struct ClassicalRosenbrock {
    /// `α` (strictly lower triangular).
    pub alpha: Vec<Vec<f64>>,
    /// `Γ` (lower triangular, diagonal γ).
    pub gamma: Vec<Vec<f64>>,
    /// Weights of the main method.
    pub b: Vec<f64>,
    /// Weights of the embedded method.
    pub b_hat: Vec<f64>,
}

/// Inverse of a lower-triangular matrix (forward substitution, column by column).
fn lower_inverse(l: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let s = l.len();
    let mut inv = vec![vec![0.0; s]; s];
    for col in 0..s {
        for i in col..s {
            let mut v = if i == col { 1.0 } else { 0.0 };
            for (k, inv_k) in inv.iter().enumerate().take(i).skip(col) {
                v -= l[i][k] * inv_k[col];
            }
            inv[i][col] = v / l[i][i];
        }
    }
    inv
}

/// `x · M` for a row vector `x` and a square `M`.
fn row_times(x: &[f64], m: &[Vec<f64>]) -> Vec<f64> {
    (0..m.len())
        .map(|j| x.iter().zip(m).map(|(xi, row)| xi * row[j]).sum())
        .collect()
}

impl RosenbrockTableau {
    /// Number of stages.
    pub fn stages(&self) -> usize {
        self.m.len()
    }

    /// Builds the transformed form from the classical coefficients (Hairer & Wanner II,
    /// (7.4)–(7.5)): `A = α Γ⁻¹`, `C = diag(1/γ) − Γ⁻¹`, `m = b Γ⁻¹`, `m̂ = b̂ Γ⁻¹`.
    #[allow(clippy::too_many_arguments)]
    pub fn from_classical(
        name: &'static str,
        classical: &ClassicalRosenbrock,
        order: usize,
        embedded_order: usize,
        w_method: bool,
    ) -> Self {
        let s = classical.b.len();
        let gamma = classical.gamma[0][0];
        let ginv = lower_inverse(&classical.gamma);
        let a_full: Vec<Vec<f64>> = classical
            .alpha
            .iter()
            .map(|row| row_times(row, &ginv))
            .collect();
        let a = (0..s).map(|i| a_full[i][..i].to_vec()).collect();
        let c = (0..s)
            .map(|i| (0..i).map(|j| -ginv[i][j]).collect())
            .collect();
        let m = row_times(&classical.b, &ginv);
        let m_hat = row_times(&classical.b_hat, &ginv);
        let e = m.iter().zip(&m_hat).map(|(x, y)| x - y).collect();
        RosenbrockTableau {
            name,
            gamma,
            a,
            c,
            m,
            e,
            dense: Vec::new(),
            order,
            embedded_order,
            w_method,
        }
    }

    /// The classical form (inverse of [`RosenbrockTableau::from_classical`]).
    pub fn classical(&self) -> ClassicalRosenbrock {
        let s = self.stages();
        // Γ⁻¹ = diag(1/γ) − C.
        let mut ginv = vec![vec![0.0; s]; s];
        for (i, row) in ginv.iter_mut().enumerate() {
            row[i] = 1.0 / self.gamma;
            for (g, c) in row.iter_mut().zip(&self.c[i]) {
                *g = -c;
            }
        }
        let g = lower_inverse(&ginv);
        let mut a_full = vec![vec![0.0; s]; s];
        for i in 0..s {
            a_full[i][..i].copy_from_slice(&self.a[i]);
        }
        let alpha = a_full.iter().map(|row| row_times(row, &g)).collect();
        let b = row_times(&self.m, &g);
        let m_hat: Vec<f64> = self.m.iter().zip(&self.e).map(|(m, e)| m - e).collect();
        let b_hat = row_times(&m_hat, &g);
        ClassicalRosenbrock {
            alpha,
            gamma: g,
            b,
            b_hat,
        }
    }

    /// Rodas5P (Steinebach 2023), γ = 0.21193756319429014.
    pub fn rodas5p() -> Self {
        let a2 = vec![3.0];
        let a3 = vec![2.849394379747939, 0.45842242204463923];
        let a4 = vec![-6.954028509809101, 2.489845061869568, -10.358996098473584];
        let a5 = vec![
            2.8029986275628964,
            0.5072464736228206,
            -0.3988312541770524,
            -0.04721187230404641,
        ];
        let a6 = vec![
            -7.502846399306121,
            2.561846144803919,
            -11.627539656261098,
            -0.18268767659942256,
            0.030198172008377946,
        ];
        // Stiffly accurate: the last stages advance from stage 6 by whole increments,
        // U₇ = U₆ + K₆, U₈ = U₇ + K₇, y₁ = U₈ + K₈, and the error estimate is K₈.
        let with = |row: &[f64], extra: usize| {
            let mut r = row.to_vec();
            r.extend(std::iter::repeat_n(1.0, extra));
            r
        };
        let a7 = with(&a6, 1);
        let a8 = with(&a6, 2);
        let m = with(&a6, 3);
        let c = vec![
            vec![],
            vec![-14.155112264123755],
            vec![-17.97296035885952, -2.859693295451294],
            vec![147.12150275711716, -1.41221402718213, 71.68940251302358],
            vec![
                165.43517024871676,
                -0.4592823456491126,
                42.90938336958603,
                -5.961986721573306,
            ],
            vec![
                24.854864614690072,
                -3.0009227002832186,
                47.4931110020768,
                5.5814197821558125,
                -0.6610691825249471,
            ],
            vec![
                30.91273214028599,
                -3.1208243349937974,
                77.79954646070892,
                34.28646028294783,
                -19.097331116725623,
                -28.087943162872662,
            ],
            vec![
                37.80277123390563,
                -3.2571969029072276,
                112.26918849496327,
                66.9347231244047,
                -40.06618937091002,
                -54.66780262877968,
                -9.48861652309627,
            ],
        ];
        let dense = vec![
            vec![
                25.948786856663858,
                -2.5579724845846235,
                10.433815404888879,
                -2.3679251022685204,
                0.524948541321073,
                1.1241088310450404,
                0.4272876194431874,
                -0.17202221070155493,
            ],
            vec![
                -9.91568850695171,
                -0.9689944594115154,
                3.0438037242978453,
                -24.495224566215796,
                20.176138334709044,
                15.98066361424651,
                -6.789040303419874,
                -6.710236069923372,
            ],
            vec![
                11.419903575922262,
                2.8879645146136994,
                72.92137995996029,
                80.12511834622643,
                -52.072871366152654,
                -59.78993625266729,
                -0.15582684282751913,
                4.883087185713722,
            ],
        ];
        let mut e = vec![0.0; 8];
        e[7] = 1.0;
        RosenbrockTableau {
            name: "rodas5p",
            gamma: 0.21193756319429014,
            a: vec![vec![], a2, a3, a4, a5, a6, a7, a8],
            c,
            m,
            e,
            dense,
            order: 5,
            embedded_order: 4,
            w_method: false,
        }
    }

    /// ROS34PW2 (Rang & Angermann 2005), γ = 0.435866521508459, from its classical form (the
    /// published digits, kept as printed).
    #[allow(clippy::excessive_precision)]
    pub fn ros34pw2() -> Self {
        let g = 4.358_665_215_084_590e-1;
        let classical = ClassicalRosenbrock {
            alpha: vec![
                vec![0.0; 4],
                vec![8.717_330_430_169_180_1e-1, 0.0, 0.0, 0.0],
                vec![
                    8.445_706_001_536_942_3e-1,
                    -1.129_906_423_648_418_5e-1,
                    0.0,
                    0.0,
                ],
                vec![0.0, 0.0, 1.0, 0.0],
            ],
            gamma: vec![
                vec![g, 0.0, 0.0, 0.0],
                vec![-8.717_330_430_169_180_1e-1, g, 0.0, 0.0],
                vec![
                    -9.033_805_701_304_408_2e-1,
                    5.418_067_238_809_532_6e-2,
                    g,
                    0.0,
                ],
                vec![
                    2.421_238_070_609_534_6e-1,
                    -1.223_250_583_904_514_7,
                    5.452_602_553_351_021_4e-1,
                    g,
                ],
            ],
            b: vec![
                2.421_238_070_609_534_6e-1,
                -1.223_250_583_904_514_7,
                1.545_260_255_335_102_0,
                4.358_665_215_084_590e-1,
            ],
            b_hat: vec![
                3.781_090_314_581_936_9e-1,
                -9.604_229_221_242_317_8e-2,
                0.5,
                2.179_332_607_542_295e-1,
            ],
        };
        Self::from_classical("ros34pw2", &classical, 3, 2, true)
    }
}

/// Residuals of the Rosenbrock order conditions up to order `p ≤ 4` (Hairer & Wanner II,
/// Table 7.1) for the weights `b` of `cl` (main method) or `b̂` (`embedded`): each entry is
/// `lhs − rhs` of one condition; all vanish when the method has order `p`.
pub fn rosenbrock_order_residuals(cl: &ClassicalRosenbrock, p: usize, embedded: bool) -> Vec<f64> {
    let s = cl.b.len();
    let b = if embedded { &cl.b_hat } else { &cl.b };
    let g = cl.gamma[0][0];
    // β_ij = α_ij + γ_ij (j < i); α_i = Σ_j α_ij; β'_i = Σ_{j<i} β_ij.
    let beta = |i: usize, j: usize| cl.alpha[i][j] + if j < i { cl.gamma[i][j] } else { 0.0 };
    let alpha_sum: Vec<f64> = (0..s).map(|i| cl.alpha[i].iter().sum()).collect();
    let beta_sum: Vec<f64> = (0..s).map(|i| (0..i).map(|j| beta(i, j)).sum()).collect();
    let sum = |f: &dyn Fn(usize) -> f64| (0..s).map(|i| b[i] * f(i)).sum::<f64>();
    let mut out = vec![b.iter().sum::<f64>() - 1.0];
    if p >= 2 {
        out.push(sum(&|i| beta_sum[i]) - (0.5 - g));
    }
    if p >= 3 {
        out.push(sum(&|i| alpha_sum[i].powi(2)) - 1.0 / 3.0);
        out.push(
            sum(&|i| (0..i).map(|k| beta(i, k) * beta_sum[k]).sum()) - (1.0 / 6.0 - g + g * g),
        );
    }
    if p >= 4 {
        out.push(sum(&|i| alpha_sum[i].powi(3)) - 0.25);
        out.push(
            sum(&|i| alpha_sum[i] * (0..i).map(|k| cl.alpha[i][k] * beta_sum[k]).sum::<f64>())
                - (0.125 - g / 3.0),
        );
        out.push(
            sum(&|i| (0..i).map(|k| beta(i, k) * alpha_sum[k].powi(2)).sum())
                - (1.0 / 12.0 - g / 3.0),
        );
        out.push(
            sum(&|i| {
                (0..i)
                    .map(|k| beta(i, k) * (0..k).map(|l| beta(k, l) * beta_sum[l]).sum::<f64>())
                    .sum()
            }) - (1.0 / 24.0 - g / 2.0 + 1.5 * g * g - g * g * g),
        );
    }
    out
}

/// The stability function `R(z)` of the method at a complex `z = re + i·im` (one step of
/// `y' = λy` with `hλ = z` from `y = 1`), as `(Re R, Im R)`.
pub fn rosenbrock_stability(t: &RosenbrockTableau, re: f64, im: f64) -> (f64, f64) {
    // Complex arithmetic on pairs. With J = λ, h·W = 1/γ − z, and the transformed stage
    // equation times h reads (1/γ − z) K_i = z (1 + Σ a_ij K_j) + Σ c_ij K_j.
    type C = (f64, f64);
    let mul = |a: C, b: C| (a.0 * b.0 - a.1 * b.1, a.0 * b.1 + a.1 * b.0);
    let div = |a: C, b: C| {
        let d = b.0 * b.0 + b.1 * b.1;
        ((a.0 * b.0 + a.1 * b.1) / d, (a.1 * b.0 - a.0 * b.1) / d)
    };
    let z = (re, im);
    let w = (1.0 / t.gamma - re, -im);
    let s = t.stages();
    let mut k: Vec<C> = Vec::with_capacity(s);
    for i in 0..s {
        let mut u = (1.0, 0.0);
        let mut rhs = (0.0, 0.0);
        for ((a, c), kj) in t.a[i].iter().zip(&t.c[i]).zip(&k) {
            u.0 += a * kj.0;
            u.1 += a * kj.1;
            rhs.0 += c * kj.0;
            rhs.1 += c * kj.1;
        }
        let fz = mul(z, u);
        k.push(div((fz.0 + rhs.0, fz.1 + rhs.1), w));
    }
    let mut y = (1.0, 0.0);
    for (mi, ki) in t.m.iter().zip(&k) {
        y.0 += mi * ki.0;
        y.1 += mi * ki.1;
    }
    y
}

#[cfg(test)]
mod tests {
    use super::*;

    fn max_abs(v: &[f64]) -> f64 {
        v.iter().fold(0.0, |m, x| m.max(x.abs()))
    }

    #[test]
    fn classical_and_transformed_forms_round_trip() {
        let t = RosenbrockTableau::ros34pw2();
        let back = RosenbrockTableau::from_classical("x", &t.classical(), 3, 2, true);
        for (r1, r2) in t.a.iter().chain(&t.c).zip(back.a.iter().chain(&back.c)) {
            for (x, y) in r1.iter().zip(r2) {
                assert!((x - y).abs() < 1e-12 * (1.0 + x.abs()), "{x} vs {y}");
            }
        }
        assert!(
            max_abs(
                &t.m.iter()
                    .zip(&back.m)
                    .map(|(x, y)| x - y)
                    .collect::<Vec<_>>()
            ) < 1e-12
        );
    }

    #[test]
    fn rodas5p_satisfies_the_order_conditions_to_four_and_its_embedded_method_too() {
        let cl = RosenbrockTableau::rodas5p().classical();
        let main = rosenbrock_order_residuals(&cl, 4, false);
        assert!(max_abs(&main) < 1e-11, "{main:?}");
        let emb = rosenbrock_order_residuals(&cl, 4, true);
        assert!(max_abs(&emb) < 1e-11, "{emb:?}");
    }

    #[test]
    fn ros34pw2_has_order_three_not_four_and_embedded_order_two() {
        let cl = RosenbrockTableau::ros34pw2().classical();
        let main = rosenbrock_order_residuals(&cl, 3, false);
        assert!(max_abs(&main) < 1e-13, "{main:?}");
        let four = rosenbrock_order_residuals(&cl, 4, false);
        assert!(max_abs(&four[4..]) > 1e-4, "order 4 would hold: {four:?}");
        let emb = rosenbrock_order_residuals(&cl, 2, true);
        assert!(max_abs(&emb) < 1e-13, "{emb:?}");
        let emb3 = rosenbrock_order_residuals(&cl, 3, true);
        assert!(
            max_abs(&emb3[2..]) > 1e-4,
            "embedded order 3 would hold: {emb3:?}"
        );
    }

    #[test]
    fn both_methods_are_l_stable() {
        for t in [RosenbrockTableau::rodas5p(), RosenbrockTableau::ros34pw2()] {
            // A-stable: |R| ≤ 1 on the imaginary axis (the poles 1/γ lie in the right
            // half-plane) and on the negative real axis; L-stable: R(−∞) = 0.
            for k in 0..400 {
                let y = 10f64.powf(-3.0 + 9.0 * k as f64 / 400.0);
                let (re, im) = rosenbrock_stability(&t, 0.0, y);
                assert!(re.hypot(im) <= 1.0 + 1e-12, "{}: |R({y}i)| > 1", t.name);
                let (re, im) = rosenbrock_stability(&t, -y, 0.0);
                assert!(re.hypot(im) <= 1.0 + 1e-12, "{}: |R(−{y})| > 1", t.name);
            }
            let (re, im) = rosenbrock_stability(&t, -1e12, 0.0);
            assert!(re.hypot(im) < 1e-9, "{}: R(−∞) = {re}", t.name);
            // Consistency: R(z) ≈ e^z for small z.
            let (re, _) = rosenbrock_stability(&t, -1e-2, 0.0);
            assert!((re - (-1e-2f64).exp()).abs() < 1e-9, "{}", t.name);
        }
    }
}
