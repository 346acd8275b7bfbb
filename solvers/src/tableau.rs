//! Butcher tableaux of (E)SDIRK methods, in plain arrays (any ODE library can consume them).
//!
//! [`ButcherTableau::kencarp58`] is the implicit part of Kennedy & Carpenter's
//! ARK5(4)8L\[2\]SA₂ additive Runge–Kutta scheme — an 8-stage, 5th-order, L-stable, stiffly
//! accurate ESDIRK with an embedded 4th-order method — from C. A. Kennedy and M. H. Carpenter,
//! "Higher-order additive Runge–Kutta schemes for ordinary differential equations", *Applied
//! Numerical Mathematics* 136 (2019) 183–205, Table/appendix coefficients (rational
//! approximations as published; the same numbers OrdinaryDiffEq.jl uses for `KenCarp58`).

/// A Runge–Kutta method with an embedded error estimator.
#[derive(Clone, Debug, PartialEq)]
pub struct ButcherTableau {
    /// Name for messages and reports.
    pub name: &'static str,
    /// Stage coefficients `a[i][j]` (lower triangular for DIRK methods).
    pub a: Vec<Vec<f64>>,
    /// Weights of the main method.
    pub b: Vec<f64>,
    /// Weights of the embedded method.
    pub b_hat: Vec<f64>,
    /// Nodes `c_i = Σ_j a[i][j]`.
    pub c: Vec<f64>,
    /// Order of the main method.
    pub order: usize,
    /// Order of the embedded method.
    pub embedded_order: usize,
}

/// A rational number `p/q` (the published form of the coefficients).
const fn r(p: i64, q: i64) -> f64 {
    p as f64 / q as f64
}

impl ButcherTableau {
    /// Number of stages.
    pub fn stages(&self) -> usize {
        self.b.len()
    }

    /// `b − b̂`, the weights of the local error estimate.
    pub fn error_weights(&self) -> Vec<f64> {
        self.b.iter().zip(&self.b_hat).map(|(b, h)| b - h).collect()
    }

    /// Whether the last stage equals the step result (`a[s−1][·] = b`).
    pub fn is_stiffly_accurate(&self) -> bool {
        let last = &self.a[self.stages() - 1];
        last.iter()
            .zip(&self.b)
            .all(|(a, b)| (a - b).abs() <= 1e-15)
    }

    /// Kennedy & Carpenter (2019) ESDIRK5(4)8L\[2\]SA (the implicit part of ARK5(4)8L\[2\]SA₂),
    /// `γ = 2/9`.
    pub fn kencarp58() -> Self {
        let g = r(2, 9);
        let a31 = r(2_366_667_076_620, 8_822_750_406_821);
        let a41 = -r(257_962_897_183, 4_451_812_247_028);
        let a43 = r(128_530_224_461, 14_379_561_246_022);
        let a51 = -r(486_229_321_650, 11_227_943_450_093);
        let a53 = -r(225_633_144_460, 6_633_558_740_617);
        let a54 = r(1_741_320_951_451, 6_824_444_397_158);
        let a61 = r(621_307_788_657, 4_714_163_060_173);
        let a63 = -r(125_196_015_625, 3_866_852_212_004);
        let a64 = r(940_440_206_406, 7_593_089_888_465);
        let a65 = r(961_109_811_699, 6_734_810_228_204);
        let a71 = r(2_036_305_566_805, 6_583_108_094_622);
        let a73 = -r(3_039_402_635_899, 4_450_598_839_912);
        let a74 = -r(1_829_510_709_469, 31_102_090_912_115);
        let a75 = -r(286_320_471_013, 6_931_253_422_520);
        let a76 = r(8_651_533_662_697, 9_642_993_110_008);
        let a83 = r(3_517_720_773_327, 20_256_071_687_669);
        let a84 = r(4_569_610_470_461, 17_934_693_873_752);
        let a85 = r(2_819_471_173_109, 11_655_438_449_929);
        let a86 = r(3_296_210_113_763, 10_722_700_128_969);
        let a87 = -r(1_142_099_968_913, 5_710_983_926_999);
        let a = vec![
            vec![0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
            vec![g, g, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
            vec![a31, a31, g, 0.0, 0.0, 0.0, 0.0, 0.0],
            vec![a41, a41, a43, g, 0.0, 0.0, 0.0, 0.0],
            vec![a51, a51, a53, a54, g, 0.0, 0.0, 0.0],
            vec![a61, a61, a63, a64, a65, g, 0.0, 0.0],
            vec![a71, a71, a73, a74, a75, a76, g, 0.0],
            vec![0.0, 0.0, a83, a84, a85, a86, a87, g],
        ];
        let b = a[7].clone();
        let b_hat = vec![
            0.0,
            0.0,
            r(520_639_020_421, 8_300_446_712_847),
            r(4_550_235_134_915, 17_827_758_688_493),
            r(1_482_366_381_361, 6_201_654_941_325),
            r(5_551_607_622_171, 13_911_031_047_899),
            -r(5_266_607_656_330, 36_788_968_843_917),
            r(1_074_053_359_553, 5_740_751_784_926),
        ];
        let c = vec![
            0.0,
            2.0 * g,
            r(6_456_083_330_201, 8_509_243_623_797),
            r(1_632_083_962_415, 14_158_861_528_103),
            r(6_365_430_648_612, 17_842_476_412_687),
            r(18, 25),
            r(191, 200),
            1.0,
        ];
        ButcherTableau {
            name: "kencarp58",
            a,
            b,
            b_hat,
            c,
            order: 5,
            embedded_order: 4,
        }
    }
}

/// Residuals of the Runge–Kutta order conditions up to order 5 for weights `b`
/// (rooted trees: 1 + 1 + 2 + 4 + 9 conditions), in order of the tree order.
pub fn order_condition_residuals(
    t: &ButcherTableau,
    b: &[f64],
    max_order: usize,
) -> Vec<(usize, f64)> {
    let s = t.stages();
    let a = &t.a;
    let c = &t.c;
    let av = |v: &[f64]| -> Vec<f64> {
        (0..s)
            .map(|i| (0..s).map(|j| a[i][j] * v[j]).sum())
            .collect()
    };
    let dot = |u: &[f64]| -> f64 { (0..s).map(|i| b[i] * u[i]).sum() };
    let mul = |u: &[f64], v: &[f64]| -> Vec<f64> { u.iter().zip(v).map(|(x, y)| x * y).collect() };
    let ones = vec![1.0; s];
    let c2 = mul(c, c);
    let c3 = mul(&c2, c);
    let ac = av(c);
    let ac2 = av(&c2);
    let aac = av(&ac);
    let mut out = vec![(1, dot(&ones) - 1.0)];
    if max_order >= 2 {
        out.push((2, dot(c) - 0.5));
    }
    if max_order >= 3 {
        out.push((3, dot(&c2) - 1.0 / 3.0));
        out.push((3, dot(&ac) - 1.0 / 6.0));
    }
    if max_order >= 4 {
        out.push((4, dot(&c3) - 0.25));
        out.push((4, dot(&mul(c, &ac)) - 1.0 / 8.0));
        out.push((4, dot(&ac2) - 1.0 / 12.0));
        out.push((4, dot(&aac) - 1.0 / 24.0));
    }
    if max_order >= 5 {
        out.push((5, dot(&mul(&c3, c)) - 0.2));
        out.push((5, dot(&mul(&c2, &ac)) - 0.1));
        out.push((5, dot(&mul(c, &ac2)) - 1.0 / 15.0));
        out.push((5, dot(&mul(c, &aac)) - 1.0 / 30.0));
        out.push((5, dot(&mul(&ac, &ac)) - 1.0 / 20.0));
        out.push((5, dot(&av(&c3)) - 1.0 / 20.0));
        out.push((5, dot(&av(&mul(c, &ac))) - 1.0 / 40.0));
        out.push((5, dot(&av(&ac2)) - 1.0 / 60.0));
        out.push((5, dot(&av(&aac)) - 1.0 / 120.0));
    }
    out
}

/// The stability function `R(z) = 1 + z bᵀ(I − zA)⁻¹ 1` of a DIRK tableau at real `z`.
pub fn stability_function(t: &ButcherTableau, z: f64) -> f64 {
    let s = t.stages();
    // Solve (I − zA) k = 1 by forward substitution (A lower triangular).
    let mut k = vec![0.0; s];
    for i in 0..s {
        let rhs = 1.0 + (0..i).map(|j| z * t.a[i][j] * k[j]).sum::<f64>();
        k[i] = rhs / (1.0 - z * t.a[i][i]);
    }
    1.0 + z * t.b.iter().zip(&k).map(|(b, k)| b * k).sum::<f64>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_are_row_sums() {
        let t = ButcherTableau::kencarp58();
        for i in 0..t.stages() {
            let sum: f64 = t.a[i].iter().sum();
            assert!((sum - t.c[i]).abs() < 1e-11, "row {i}: {sum} vs {}", t.c[i]);
        }
        assert!(t.is_stiffly_accurate());
        assert!(
            t.a.iter()
                .enumerate()
                .skip(1)
                .all(|(i, row)| (row[i] - 2.0 / 9.0).abs() < 1e-16)
        );
    }

    #[test]
    fn main_method_has_order_five() {
        let t = ButcherTableau::kencarp58();
        for (order, res) in order_condition_residuals(&t, &t.b, 5) {
            assert!(res.abs() < 1e-11, "order-{order} condition residual {res}");
        }
    }

    #[test]
    fn embedded_method_has_order_four_not_five() {
        let t = ButcherTableau::kencarp58();
        let res = order_condition_residuals(&t, &t.b_hat, 5);
        for &(order, r) in &res {
            if order <= 4 {
                assert!(r.abs() < 1e-11, "embedded order-{order} residual {r}");
            }
        }
        assert!(res.iter().any(|&(o, r)| o == 5 && r.abs() > 1e-6));
        let w: f64 = t.error_weights().iter().sum();
        assert!(w.abs() < 1e-11);
    }

    #[test]
    fn l_stable_on_the_negative_real_axis() {
        let t = ButcherTableau::kencarp58();
        for k in 0..200 {
            let z = -(10f64).powf(-3.0 + k as f64 * 0.05);
            assert!(
                stability_function(&t, z).abs() <= 1.0 + 1e-12,
                "|R({z})| > 1"
            );
        }
        assert!(stability_function(&t, -1e12).abs() < 1e-9, "R(−∞) = 0");
    }
}
