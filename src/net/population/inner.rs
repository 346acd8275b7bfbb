//! The inner integrals of a pair rule: one neuron's activation tabulated on the nodes of an
//! inner rule ([`Table`]) and the Gaussian-weighted sums over a window of them, computed by one
//! fused vectorised kernel ([`uniform_sums`], [`sinh_sums`]).

use crate::net::activation::Activation;
use crate::net::fastmath::exp_nonpositive;
use crate::net::simd::dispatch;
use pulp::{Simd, WithSimd};

/// Weighted sums of a [`Table`] window: over the nodes of even and of odd global index (the
/// even ones form the rule of twice the step), and of `Σ|σ⁽ᑫ⁾|` over all.
pub(super) struct Sums {
    pub(super) even: [f64; 5],
    pub(super) odd: [f64; 5],
    pub(super) abs: f64,
}

/// A window of a [`Table`]: the nodes `u`, `du/dt` and the columns `σ, σ′, σ″, σ‴, σ⁗,
/// Σ|σ⁽ᑫ⁾|` (the ones above the table's order are zero).
pub(super) struct Window<'a> {
    pub(super) a: i64,
    u: &'a [f64],
    du: &'a [f64],
    f: [&'a [f64]; 6],
}

impl Window<'_> {
    pub(super) fn len(&self) -> usize {
        self.u.len()
    }

    /// The nodes `a..=b` of this window (clamped to it).
    pub(super) fn sub(&self, a: i64, b: i64) -> Window<'_> {
        let n = self.len() as i64;
        let s = (a - self.a).clamp(0, n) as usize;
        let e = ((b - self.a + 1).clamp(0, n) as usize).max(s);
        Window {
            a: self.a + s as i64,
            u: &self.u[s..e],
            du: &self.du[s..e],
            f: std::array::from_fn(|q| &self.f[q][s..e]),
        }
    }
}

/// The values `u, du/dt, σ, σ′, σ″, σ‴, σ⁗, Σ|σ⁽ᑫ⁾|` of one neuron's activation on the nodes `j`
/// of an inner rule, as columns, over a window of `j` that only moves up.
///
/// In the pair frame the inner variable enters as `u_l = shift + q₂z₂`. A uniform rule in
/// `z₂` is a uniform grid in `u_l` (`u = j·q₂h`), and the sinh rule around the singular point
/// (`Re u = 0`, `Im u = ±d`) is `u = d·sinh(j·h)`: neither depends on the outer node, whose
/// `shift` only moves the Gaussian weight `φ((u − shift)/q₂)` over the nodes. So each node's
/// activation (an `exp` and a `log1p` for `g`) is computed once per pair instead of once per
/// outer node. Moving a uniform grid relative to the Gaussian's centre leaves the trapezoidal
/// rule's exponential accuracy unchanged (the rule integrates over the whole line).
#[derive(Default)]
pub(super) struct Table {
    /// `j` of the entries at `start`.
    lo: i64,
    start: usize,
    /// `u`, `du/dt`, the five derivatives, `Σ|σ⁽ᑫ⁾|`.
    cols: [Vec<f64>; 8],
    /// The activations of the nodes being added (five columns).
    f: Vec<f64>,
}

impl Table {
    pub(super) fn reset(&mut self) {
        self.cols.iter_mut().for_each(Vec::clear);
        self.start = 0;
    }

    fn held(&self) -> usize {
        self.cols[0].len() - self.start
    }

    /// The entries of nodes `a..=b`, `node(j) = (u, du/dt)`. Windows must not move down
    /// (a window below the held one, or not touching it, starts the table afresh).
    pub(super) fn slide(
        &mut self,
        a: i64,
        b: i64,
        act: &Activation,
        order: usize,
        node: impl Fn(i64) -> (f64, f64),
    ) -> Window<'_> {
        let held = self.held() as i64;
        if held == 0 || a < self.lo || a > self.lo + held {
            self.reset();
            self.lo = a;
        } else {
            self.start += (a - self.lo) as usize;
            self.lo = a;
            if self.start > 256 && 2 * self.start > self.cols[0].len() {
                let s = self.start;
                self.cols.iter_mut().for_each(|c| {
                    c.drain(..s);
                });
                self.start = 0;
            }
        }
        let next = self.lo + self.held() as i64;
        if next <= b {
            // The new nodes' activations in one vectorised call.
            let old = self.cols[0].len();
            for j in next..=b {
                let (u, du) = node(j);
                self.cols[0].push(u);
                self.cols[1].push(du);
            }
            let n = self.cols[0].len() - old;
            self.f.resize(5 * n, 0.0);
            let smooth = act.eval5_columns(&self.cols[0][old..], &mut self.f);
            assert!(smooth, "checked smooth");
            for q in 0..5 {
                let col = &self.f[q * n..(q + 1) * n];
                if q <= order {
                    self.cols[2 + q].extend_from_slice(col);
                } else {
                    self.cols[2 + q].resize(old + n, 0.0);
                }
            }
            for i in 0..n {
                let abs: f64 = (0..=order).map(|q| self.f[q * n + i].abs()).sum();
                self.cols[7].push(abs);
            }
        }
        let (s, e) = (self.start, self.start + (b - a + 1) as usize);
        let c = &self.cols;
        Window {
            a,
            u: &c[0][s..e],
            du: &c[1][s..e],
            f: std::array::from_fn(|q| &c[2 + q][s..e]),
        }
    }
}

/// `0, 1, 2, …` and ones, as long as the widest window so far (the uniform rules' kernel
/// arguments; kept across outer nodes: no allocation per node).
#[derive(Default)]
pub(super) struct Scratch {
    iota: Vec<f64>,
    ones: Vec<f64>,
}

impl Scratch {
    fn grow(&mut self, n: usize) {
        while self.iota.len() < n {
            self.iota.push(self.iota.len() as f64);
            self.ones.push(1.0);
        }
    }
}

/// The inner rule on the uniform grid `u_j = j·q₂h` (the window's nodes) for the Gaussian
/// centred at `z = s` (`s = shift/q₂`): weights `h·φ(z_j)`, `z_j = j·h − s`.
///
/// `z_j` is taken as `(i − i₀)·h + z₀` with `i` the position in the window, `i₀` that of the
/// node nearest the centre and `z₀` its offset: `s` may be large (nearly aligned neurons: `q₂`
/// small), and `j·h − s` would lose the digits that the weights need.
pub(super) fn uniform_sums(win: &Window<'_>, s: f64, h: f64, scratch: &mut Scratch) -> Sums {
    let n = win.len();
    scratch.grow(n);
    let j0 = (s / h).round() as i64;
    let i0 = (j0 - win.a).clamp(0, n as i64 - 1);
    let z0 = -(s - (win.a + i0) as f64 * h);
    let base = h / (2.0 * std::f64::consts::PI).sqrt();
    let sums = gauss_sums(
        &scratch.iota[..n],
        i0 as f64 - z0 / h,
        h,
        &scratch.ones[..n],
        win.f,
    );
    finish(sums, base, win.a)
}

/// The inner rule on the sinh-mapped nodes of a window for the Gaussian `φ((u − shift)/q₂)`:
/// weights `h·(du/dt)·φ(z)/q₂`. (Used only for `q₂ > d`, so `(u − shift)/q₂` loses no digits
/// that matter.)
pub(super) fn sinh_sums(win: &Window<'_>, shift: f64, q2: f64, h: f64) -> Sums {
    let base = h / ((2.0 * std::f64::consts::PI).sqrt() * q2);
    let sums = gauss_sums(win.u, shift, 1.0 / q2, win.du, win.f);
    finish(sums, base, win.a)
}

/// The kernel's sums over the window's even and odd positions, scaled by `base` and assigned
/// to even and odd global indices (the window starts at global index `a`).
fn finish(sums: [[f64; 6]; 2], base: f64, a: i64) -> Sums {
    let (even, odd) = if a.rem_euclid(2) == 0 {
        (sums[0], sums[1])
    } else {
        (sums[1], sums[0])
    };
    Sums {
        even: std::array::from_fn(|q| base * even[q]),
        odd: std::array::from_fn(|q| base * odd[q]),
        abs: base * (even[5] + odd[5]),
    }
}

/// `Σ_i c_i·e^{−z_i²/2}·f_q[i]`, `z_i = (x_i − a)·b`, over the even and over the odd positions
/// `i`, for the six columns `f_q`: the Gaussian weights and the weighted sums in one vectorised
/// pass (four nodes at a time, the weights by [`crate::net::fastmath`]'s `exp`).
fn gauss_sums(x: &[f64], a: f64, b: f64, c: &[f64], f: [&[f64]; 6]) -> [[f64; 6]; 2] {
    dispatch(GaussSums { x, a, b, c, f })
}

struct GaussSums<'a> {
    x: &'a [f64],
    a: f64,
    b: f64,
    c: &'a [f64],
    f: [&'a [f64]; 6],
}

impl WithSimd for GaussSums<'_> {
    type Output = [[f64; 6]; 2];
    #[inline(always)]
    fn with_simd<S: Simd>(self, _: S) -> [[f64; 6]; 2] {
        // Blocks of B nodes: the weights by an elementwise loop (which the compiler
        // vectorises; the same loop with the sums in it is not), then the six sums with four lanes each (lanes 0
        // and 2 hold even positions, 1 and 3 odd ones; B is even).
        const B: usize = 64;
        const L: usize = 4;
        let (a, b) = (self.a, self.b);
        let mut acc = [[0.0f64; L]; 6];
        let mut tail = [[0.0f64; 6]; 2];
        let mut w = [0.0f64; B];
        let mut i0 = 0;
        while i0 < self.x.len() {
            let n = (self.x.len() - i0).min(B);
            let (x, c) = (&self.x[i0..i0 + n], &self.c[i0..i0 + n]);
            for ((wi, &xi), &ci) in w[..n].iter_mut().zip(x).zip(c) {
                let z = (xi - a) * b;
                *wi = ci * exp_nonpositive(-0.5 * z * z);
            }
            let full = n - n % L;
            for q in 0..6 {
                let f = &self.f[q][i0..i0 + n];
                let acc = &mut acc[q];
                for (wl, fl) in w[..full].chunks_exact(L).zip(f[..full].chunks_exact(L)) {
                    for l in 0..L {
                        acc[l] = wl[l].mul_add(fl[l], acc[l]);
                    }
                }
                for i in full..n {
                    tail[i % 2][q] = w[i].mul_add(f[i], tail[i % 2][q]);
                }
            }
            i0 += n;
        }
        let mut out = tail;
        for q in 0..6 {
            out[0][q] += acc[q][0] + acc[q][2];
            out[1][q] += acc[q][1] + acc[q][3];
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gauss_sums_match_a_plain_loop() {
        for n in [0usize, 1, 3, 4, 5, 8, 13, 37, 63, 64, 65, 67, 130, 131] {
            let x: Vec<f64> = (0..n).map(|i| -3.0 + 0.31 * i as f64).collect();
            let c: Vec<f64> = (0..n).map(|i| 1.0 + 0.1 * i as f64).collect();
            let cols: Vec<Vec<f64>> = (0..6)
                .map(|q| (0..n).map(|i| ((i * (q + 2)) as f64).sin()).collect())
                .collect();
            let f: [&[f64]; 6] = std::array::from_fn(|q| cols[q].as_slice());
            let (a, b) = (0.4, 1.3);
            let got = gauss_sums(&x, a, b, &c, f);
            let mut want = [[0.0; 6]; 2];
            for i in 0..n {
                let z = (x[i] - a) * b;
                let w = c[i] * (-0.5 * z * z).exp();
                for q in 0..6 {
                    want[i % 2][q] += w * cols[q][i];
                }
            }
            for p in 0..2 {
                for q in 0..6 {
                    assert!(
                        (got[p][q] - want[p][q]).abs() <= 1e-14 * (1.0 + want[p][q].abs()),
                        "n {n} parity {p} column {q}: {} vs {}",
                        got[p][q],
                        want[p][q]
                    );
                }
            }
        }
    }
}
