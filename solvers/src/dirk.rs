//! A fixed-step diagonally implicit Runge–Kutta integrator for small dense systems, with a full
//! Newton iteration per stage. It exists to verify tableaux on textbook problems (observed order
//! of convergence), not for production integration.

use crate::tableau::ButcherTableau;

/// `y' = f(t, y)` with Jacobian `J(t, y)` (row-major `n × n`).
pub trait System {
    /// Dimension.
    fn dim(&self) -> usize;
    /// Writes `f(t, y)` into `out`.
    fn rhs(&self, t: f64, y: &[f64], out: &mut [f64]);
    /// Writes `∂f/∂y` (row-major) into `out`.
    fn jacobian(&self, t: f64, y: &[f64], out: &mut [f64]);
}

/// Integrates from `t0` to `t1` in `steps` equal steps; returns `y(t1)`.
pub fn integrate(
    tab: &ButcherTableau,
    sys: &impl System,
    y0: &[f64],
    t0: f64,
    t1: f64,
    steps: usize,
) -> Vec<f64> {
    let n = sys.dim();
    let s = tab.stages();
    let h = (t1 - t0) / steps as f64;
    let mut y = y0.to_vec();
    let mut k = vec![vec![0.0; n]; s];
    let mut ys = vec![0.0; n];
    let mut f = vec![0.0; n];
    let mut jac = vec![0.0; n * n];
    for step in 0..steps {
        let t = t0 + step as f64 * h;
        for i in 0..s {
            // Y_i = y + h Σ_{j<i} a_ij k_j + h a_ii k_i,  k_i = f(t + c_i h, Y_i).
            let mut base = y.clone();
            for (j, kj) in k.iter().enumerate().take(i) {
                for (bv, kv) in base.iter_mut().zip(kj) {
                    *bv += h * tab.a[i][j] * kv;
                }
            }
            let ti = t + tab.c[i] * h;
            let aii = tab.a[i][i];
            if aii.abs() < f64::MIN_POSITIVE {
                sys.rhs(ti, &base, &mut k[i]);
                continue;
            }
            ys.copy_from_slice(&base);
            for _ in 0..50 {
                // G(Y) = Y − base − h a_ii f(Y) = 0
                sys.rhs(ti, &ys, &mut f);
                sys.jacobian(ti, &ys, &mut jac);
                let mut g: Vec<f64> = (0..n).map(|r| ys[r] - base[r] - h * aii * f[r]).collect();
                let mut m: Vec<f64> = (0..n * n)
                    .map(|idx| {
                        let (r, cidx) = (idx / n, idx % n);
                        f64::from(u8::from(r == cidx)) - h * aii * jac[idx]
                    })
                    .collect();
                solve_dense(&mut m, &mut g, n);
                let mut delta = 0.0f64;
                for r in 0..n {
                    ys[r] -= g[r];
                    delta = delta.max(g[r].abs() / (1.0 + ys[r].abs()));
                }
                if delta < 1e-15 {
                    break;
                }
            }
            sys.rhs(ti, &ys, &mut k[i]);
        }
        for (i, ki) in k.iter().enumerate() {
            for (yv, kv) in y.iter_mut().zip(ki) {
                *yv += h * tab.b[i] * kv;
            }
        }
    }
    y
}

/// Solves `m x = rhs` in place (Gaussian elimination with partial pivoting).
fn solve_dense(m: &mut [f64], rhs: &mut [f64], n: usize) {
    for col in 0..n {
        let piv = (col..n)
            .max_by(|&a, &b| m[a * n + col].abs().total_cmp(&m[b * n + col].abs()))
            .expect("non-empty");
        if piv != col {
            for j in 0..n {
                m.swap(col * n + j, piv * n + j);
            }
            rhs.swap(col, piv);
        }
        let d = m[col * n + col];
        for r in col + 1..n {
            let factor = m[r * n + col] / d;
            for j in col..n {
                m[r * n + j] -= factor * m[col * n + j];
            }
            rhs[r] -= factor * rhs[col];
        }
    }
    for col in (0..n).rev() {
        let mut v = rhs[col];
        for j in col + 1..n {
            v -= m[col * n + j] * rhs[j];
        }
        rhs[col] = v / m[col * n + col];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A forced Van der Pol oscillator (μ = 0.3): smooth and nonlinear; the reference is a run
    /// with 4096 steps.
    struct Nonlinear;

    impl System for Nonlinear {
        fn dim(&self) -> usize {
            2
        }
        fn rhs(&self, t: f64, y: &[f64], out: &mut [f64]) {
            out[0] = y[1];
            out[1] = -y[0] - 0.3 * (y[0] * y[0] - 1.0) * y[1] + 0.1 * t.cos();
        }
        fn jacobian(&self, _t: f64, y: &[f64], out: &mut [f64]) {
            out[0] = 0.0;
            out[1] = 1.0;
            out[2] = -1.0 - 0.6 * y[0] * y[1];
            out[3] = -0.3 * (y[0] * y[0] - 1.0);
        }
    }

    /// Linear stiff system with exact solution: y' = −diag(1, 50) y.
    struct Linear;

    impl System for Linear {
        fn dim(&self) -> usize {
            2
        }
        fn rhs(&self, _t: f64, y: &[f64], out: &mut [f64]) {
            out[0] = -y[0];
            out[1] = -50.0 * y[1];
        }
        fn jacobian(&self, _t: f64, _y: &[f64], out: &mut [f64]) {
            out.copy_from_slice(&[-1.0, 0.0, 0.0, -50.0]);
        }
    }

    fn err(a: &[f64], b: &[f64]) -> f64 {
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f64::max)
    }

    #[test]
    fn kencarp58_converges_with_order_five() {
        let tab = ButcherTableau::kencarp58();
        let y0 = [2.0, 0.0];
        let reference = integrate(&tab, &Nonlinear, &y0, 0.0, 2.0, 4096);
        let errors: Vec<f64> = [8usize, 16, 32, 64]
            .iter()
            .map(|&s| err(&integrate(&tab, &Nonlinear, &y0, 0.0, 2.0, s), &reference))
            .collect();
        for w in errors.windows(2) {
            let observed = (w[0] / w[1]).log2();
            assert!(
                observed > 4.6 && observed < 5.6,
                "observed order {observed} ({errors:?})"
            );
        }
    }

    #[test]
    fn kencarp58_is_exact_enough_on_a_stiff_linear_system() {
        let tab = ButcherTableau::kencarp58();
        let y = integrate(&tab, &Linear, &[1.0, 1.0], 0.0, 1.0, 40);
        assert!((y[0] - (-1f64).exp()).abs() < 1e-10, "{}", y[0]);
        assert!(y[1].abs() < 1e-10, "{}", y[1]);
    }
}
