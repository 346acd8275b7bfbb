//! The population loss of `relu` networks in closed form, with its exact gradient and Hessian.
//!
//! `relu` has no derivatives beyond the step `σ′ = 1{u > 0}` and the Dirac `σ″ = δ(u)`, so the
//! Stein reduction of the smooth path (which trades each factor `x` for one more derivative)
//! would need `δ′`, `δ″` and products `δ(u)²` of a neuron with itself, which cancel only
//! formally, and `E[δ(u_k)δ(u_l)]`, which grows like `1/sin∠(w_k, w_l)` as two neurons align
//! (they do, at the interesting points of the landscape). Here instead every expectation with
//! factors `x`, `x xᵀ` is computed directly in the orthonormal frame of its pair:
//! `e₁ = w_k/p`, `e₂ ⊥ e₁` in the span of `w_k, w_l`, `u_k = b_k + p z₁`,
//! `u_l = b_l + q z₁ + s z₂`, `x = z₁e₁ + z₂e₂ + x⊥`, so
//! `E[h x] = e₁E[h z₁] + e₂E[h z₂]` and
//! `E[h x xᵀ] = E[h](I − e₁e₁ᵀ − e₂e₂ᵀ) + Σ_ab E[h z_a z_b] e_a e_bᵀ`.
//! Every `E[h z^α]` with `h` a product of `relu`, step or `δ` of the two neurons is a truncated
//! moment of the standard bivariate normal: the orthant probability `Φ₂` (Genz 2004, shared
//! with `bivariate.rs`) and normal densities and CDFs, by Stein's lemma along `z₂` (factor `s`)
//! and along the correlated pair `(z₁, u_l)`; the `δ(u_k)` terms are point evaluations on the
//! hyperplane `z₁ = −b_k/p`. Each quantity stays finite and continuous as `s → 0` (aligned or
//! duplicated neurons); without biases the loss terms reduce to the arc-cosine kernel
//! `E[relu(w·x) relu(v·x)] = ‖w‖‖v‖(sin θ + (π − θ) cos θ)/(2π)` (Cho & Saul, NIPS 2009),
//! which the tests check.
//!
//! The population loss of `relu` networks is twice continuously differentiable wherever no
//! student neuron has `w = 0`; there the Hessian below is exact (a neuron with `w = 0` and
//! `b = 0` exactly gets the one-sided value 0 for its `δ` terms).

use super::bivariate::bivariate_cdf_given;
use super::hessian::Index;
use super::quadrature::norm;
use super::smoothing::{cdf, pdf};
use super::{Neuron, axpy};

/// The frame quantities of an ordered pair `(k, l)` of `relu` neurons (`z` = `(z₁, z₂)` of the
/// pair's frame; `zz` = `[z₁², z₁z₂, z₂²]`).
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct PairTerms {
    /// `E[relu_k relu_l]`.
    pub(super) a: f64,
    /// `E[step_k relu_l]` and `E[step_k relu_l z]`.
    pub(super) b: f64,
    pub(super) bz: [f64; 2],
    /// `E[step_k step_l]`, `E[step_k step_l z]`, `E[step_k step_l z zᵀ]`.
    pub(super) c: f64,
    pub(super) cz: [f64; 2],
    pub(super) czz: [f64; 3],
    /// `E[δ_k relu_l]`, `E[δ_k relu_l z]`, `E[δ_k relu_l z zᵀ]` (zero for `l = k`).
    pub(super) d: f64,
    pub(super) dz: [f64; 2],
    pub(super) dzz: [f64; 3],
}

/// One `relu` neuron alone, in its frame `e₁ = w/‖w‖`.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Single {
    /// `E[relu]`, `E[step]`, `E[step z₁]`.
    pub(super) relu: f64,
    pub(super) step: f64,
    pub(super) step_z: f64,
    /// `E[δ]`, `E[δ z₁]`, `E[δ z₁²]`.
    pub(super) delta: f64,
    pub(super) delta_z: f64,
    pub(super) delta_zz: f64,
}

/// `1{x > 0}`, one half at zero (the symmetric limit of `Φ(x/s)` as `s → 0`).
fn step(x: f64) -> f64 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        0.0
    } else {
        0.5
    }
}

/// `Φ(m/s)`, the step of `m` at `s = 0`.
fn cdf_ratio(m: f64, s: f64) -> f64 {
    if s > 0.0 { cdf(m / s) } else { step(m) }
}

/// `s φ(m/s)` (zero at `s = 0`).
fn scaled_pdf(m: f64, s: f64) -> f64 {
    if s > 0.0 { s * pdf(m / s) } else { 0.0 }
}

/// `E[relu(m + s z)] = mΦ(m/s) + sφ(m/s)`.
fn smoothed_relu(m: f64, s: f64) -> f64 {
    m * cdf_ratio(m, s) + scaled_pdf(m, s)
}

/// The neuron alone; writes its frame vector `e₁` (zero when `w = 0`).
pub(super) fn single(n: &Neuron, e1: &mut [f64]) -> Single {
    let p = norm(&n.w);
    if p == 0.0 {
        e1.fill(0.0);
        return Single {
            relu: n.b.max(0.0),
            step: step(n.b),
            ..Single::default()
        };
    }
    for (e, w) in e1.iter_mut().zip(&n.w) {
        *e = w / p;
    }
    let l = -n.b / p;
    let (tail, dens) = (cdf(-l), pdf(l));
    Single {
        relu: p * (dens - l * tail),
        step: tail,
        step_z: dens,
        delta: dens / p,
        delta_z: l * dens / p,
        delta_zz: l * l * dens / p,
    }
}

/// The terms of the ordered pair `(k, l)` (`same`: one neuron) with `k`'s frame `e1` (from
/// [`single`]); writes the pair's second frame vector `e2` (zero where the pair spans one
/// direction or none).
pub(super) fn pair(k: &Neuron, l: &Neuron, same: bool, e1: &[f64], e2: &mut [f64]) -> PairTerms {
    let p = norm(&k.w);
    e2.fill(0.0);
    if same {
        return self_pair(p, k.b);
    }
    if p == 0.0 {
        // u_k = b_k is constant; l's direction is e₂ (e₁ = 0), u_l = b_l + σ z₂.
        let sigma = norm(&l.w);
        if sigma > 0.0 {
            for (e, w) in e2.iter_mut().zip(&l.w) {
                *e = w / sigma;
            }
        }
        let (c0, c1) = (k.b.max(0.0), step(k.b));
        let (cdf_t, pdf_t) = (cdf_ratio(l.b, sigma), scaled_pdf(l.b, sigma));
        // E[relu(V)], E[step(V) z₂] = φ(t), E[step(V) z₂²] = Φ(t) − tφ(t), t = b_l/σ.
        let r = smoothed_relu(l.b, sigma);
        let (sz, szz) = if sigma > 0.0 {
            (pdf_t / sigma, cdf_t - l.b * pdf_t / (sigma * sigma))
        } else {
            (0.0, cdf_t)
        };
        let c = c1 * cdf_t;
        return PairTerms {
            a: c0 * r,
            b: c1 * r,
            bz: [0.0, c1 * sigma * cdf_t],
            c,
            cz: [0.0, c1 * sz],
            czz: [c, 0.0, c1 * szz],
            ..PairTerms::default()
        };
    }
    let q: f64 = e1.iter().zip(&l.w).map(|(e, w)| e * w).sum();
    for ((e, w), f) in e2.iter_mut().zip(&l.w).zip(e1) {
        *e = w - q * f;
    }
    let s = norm(e2);
    if s > 0.0 {
        e2.iter_mut().for_each(|e| *e /= s);
    }
    let sigma = q.hypot(s);
    let lo = -k.b / p;
    let (tail, dens) = (cdf(-lo), pdf(lo));
    // E[z₁^a 1{z₁ > L}] of the standard normal.
    let u = [tail, dens, tail + lo * dens];
    // On the hyperplane u_k = 0, u_l = m_L + s z₂; τ = m_L/s (±∞ or 0 at s = 0).
    let m_l = l.b + q * lo;
    let tau = if s > 0.0 {
        m_l / s
    } else {
        (step(m_l) - 0.5) * f64::INFINITY
    };
    let tau = if tau.is_nan() { 0.0 } else { tau };
    let cdf_m = cdf(tau);
    let pdf_m = if s > 0.0 { s * pdf(tau) } else { 0.0 };
    // T_a[step] = E[z₁^a 1{z₁>L} 1{u_l>0}], T_a[δ] = E[z₁^a 1{z₁>L} δ(u_l)], a = 0..2, and
    // `bq` = b_l T₀[δ] + q T₁[δ].
    let (ts, td, bq) = if sigma == 0.0 {
        let st = step(l.b);
        ([st * u[0], st * u[1], st * u[2]], [0.0; 3], 0.0)
    } else {
        let kk = -l.b / sigma;
        let rho = q / sigma;
        // 1 − ρ² from the frame, not from ρ (whose rounding would move the angle by ~1e-8).
        let sin2 = (s / sigma) * (s / sigma);
        let t0 = if sin2 > 0.0 {
            bivariate_cdf_given(-lo, -kk, rho, sin2)
        } else if rho > 0.0 {
            cdf(-lo.max(kk))
        } else {
            (cdf(-kk) - cdf(lo)).max(0.0)
        };
        // u_l has density φ(b_l/σ)/σ at 0, where z₁ ~ N(μ, ω²), μ = −q b_l/σ², ω = s/σ;
        // (μ − L)/ω = −(qτ + sL)/σ, computed from τ so that Φ(τ) and this one stay
        // complementary at aligned neurons (whatever the rounding of m_L).
        let dens_l = pdf(l.b / sigma) / sigma;
        let (mu, omega) = (-q * l.b / (sigma * sigma), s / sigma);
        let t = -(q * tau + s * lo) / sigma;
        let (n0, n1) = (cdf(t), pdf(t));
        let n2 = n0 - if t.is_finite() { t * n1 } else { 0.0 };
        let mo = [
            n0,
            mu * n0 + omega * n1,
            mu * mu * n0 + 2.0 * mu * omega * n1 + omega * omega * n2,
        ];
        let td = [dens_l * mo[0], dens_l * mo[1], dens_l * mo[2]];
        let bq = dens_l * (l.b * sin2 * n0 + q * omega * n1);
        // Stein along z₁: T_a = (a − 1)T_{a−2} + L^{a−1}φ(L)Φ(τ) + q T_{a−1}[δ].
        let t1 = dens * cdf_m + q * td[0];
        let t2 = t0 + lo * dens * cdf_m + q * td[1];
        ([t0, t1, t2], td, bq)
    };
    // T_a[relu] = b_l T_a[step] + σ² T_a[δ] + q a T_{a−1}[step] + q L^a φ(L) Φ(m_L/s).
    let s2 = sigma * sigma;
    let tr0 = l.b * ts[0] + s2 * td[0] + q * dens * cdf_m;
    let tr1 = l.b * ts[1] + s2 * td[1] + q * ts[0] + q * lo * dens * cdf_m;
    // E[δ_k F(u_l) z^α] = (φ(L)/p) L^{α₁} E_{z₂}[F(m_L + s z₂) z₂^{α₂}].
    let f = dens / p;
    let r_l = m_l * cdf_m + pdf_m;
    PairTerms {
        a: p * (tr1 - lo * tr0),
        b: tr0,
        bz: [tr1, s * ts[0]],
        c: ts[0],
        cz: [ts[1], s * td[0]],
        // E_{z₂}[1{u_l > 0} z₂²] = Φ(τ) − τφ(τ), τ = m/s, and τφ(τ) = m·(density of u_l at 0
        // given z₁), so E[step_k step_l z₂²] = T₀ − (b_l T₀[δ] + q T₁[δ]).
        czz: [ts[2], s * td[1], ts[0] - bq],
        d: f * r_l,
        dz: [f * lo * r_l, f * s * cdf_m],
        dzz: [f * lo * lo * r_l, f * lo * s * cdf_m, f * (r_l + pdf_m)],
    }
}

/// A neuron with itself: `u = b + p z₁`, `L = −b/p`.
fn self_pair(p: f64, b: f64) -> PairTerms {
    if p == 0.0 {
        let (r, st) = (b.max(0.0), step(b));
        return PairTerms {
            a: r * r,
            b: r,
            c: st,
            czz: [st, 0.0, st],
            ..PairTerms::default()
        };
    }
    let lo = -b / p;
    let (tail, dens) = (cdf(-lo), pdf(lo));
    PairTerms {
        a: p * p * ((1.0 + lo * lo) * tail - lo * dens),
        b: p * (dens - lo * tail),
        bz: [p * tail, 0.0],
        c: tail,
        cz: [dens, 0.0],
        czz: [tail + lo * dens, 0.0, tail],
        ..PairTerms::default()
    }
}

/// `out += f (z₁e₁ + z₂e₂)`.
fn add_vector(out: &mut [f64], f: f64, z: [f64; 2], e1: &[f64], e2: &[f64]) {
    axpy(out, f * z[0], e1);
    axpy(out, f * z[1], e2);
}

/// `out += f (h(I − e₁e₁ᵀ − e₂e₂ᵀ) + Σ zz_ab e_a e_bᵀ)` into rows of stride `stride` starting
/// at `out[0]` (a `d × d` block).
fn add_matrix(
    out: &mut [f64],
    stride: usize,
    f: f64,
    h: f64,
    zz: [f64; 3],
    e1: &[f64],
    e2: &[f64],
) {
    let d = e1.len();
    let (c11, c12, c22) = (f * (zz[0] - h), f * zz[1], f * (zz[2] - h));
    for s in 0..d {
        let row = &mut out[s * stride..s * stride + d];
        let (a1, a2) = (e1[s], e2[s]);
        let (x1, x2) = (c11 * a1 + c12 * a2, c12 * a1 + c22 * a2);
        for (t, o) in row.iter_mut().enumerate() {
            *o += x1 * e1[t] + x2 * e2[t];
        }
        row[s] += f * h;
    }
}

/// The `relu` population objective's state: every student's frame and single-neuron terms,
/// and the terms of every ordered pair (student, any neuron).
pub(super) struct Relu {
    /// `Σ_jl a*_j a*_l E[relu_j relu_l]` and `Σ_j a*_j E[relu_j]` of the teacher.
    pub(super) tt: f64,
    pub(super) teacher_mean: f64,
    singles: Vec<Single>,
    /// `m × d` (student frames `e₁`).
    e1: Vec<f64>,
    /// `m × (m + r)` pairs.
    terms: Vec<PairTerms>,
    /// `m × (m + r) × d` (the pairs' `e₂`).
    e2: Vec<f64>,
    /// Residual sums per student: `E[r relu_i]`, `E[r step_i]`, `E[r δ_i]` (scalars) and
    /// `E[r step_i x]`, `E[r δ_i x]` (`d` each), `E[r δ_i x xᵀ]` (`d × d`).
    res: Vec<[f64; 3]>,
    res_x: Vec<f64>,
    res_xx: Vec<f64>,
    /// Scratch of the Hessian assembly: one `d × d` block and one `d`-vector.
    block: Vec<f64>,
    x: Vec<f64>,
}

impl Relu {
    /// The teacher's constant terms.
    pub(super) fn new(teacher: &[Neuron], teacher_out: &[f64]) -> Self {
        let d = teacher.first().map_or(0, |n| n.w.len());
        let (mut e1, mut e2) = (vec![0.0; d], vec![0.0; d]);
        let (mut tt, mut tm) = (0.0, 0.0);
        for (j, nj) in teacher.iter().enumerate() {
            let sj = single(nj, &mut e1);
            tm += teacher_out[j] * sj.relu;
            for (l, nl) in teacher.iter().enumerate() {
                tt += teacher_out[j] * teacher_out[l] * pair(nj, nl, j == l, &e1, &mut e2).a;
            }
        }
        Relu {
            tt,
            teacher_mean: tm,
            singles: Vec::new(),
            e1: Vec::new(),
            terms: Vec::new(),
            e2: Vec::new(),
            res: Vec::new(),
            res_x: Vec::new(),
            res_xx: Vec::new(),
            block: Vec::new(),
            x: Vec::new(),
        }
    }

    /// The loss; the gradient into `grad` and the Hessian (or Gauss–Newton matrix) into
    /// `hess` when given. `a`: the output weights, `e = c − c*`, `teacher_out`: `a*`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn evaluate(
        &mut self,
        students: &[Neuron],
        teacher: &[Neuron],
        a: &[f64],
        teacher_out: &[f64],
        e: f64,
        idx: &Index,
        grad: Option<&mut [f64]>,
        hess: Option<&mut [f64]>,
        gauss_newton: bool,
    ) -> f64 {
        let (m, r, d) = (students.len(), teacher.len(), idx.d);
        let n = m + r;
        self.singles.resize(m, Single::default());
        self.e1.resize(m * d, 0.0);
        self.terms.resize(m * n, PairTerms::default());
        self.e2.resize(m * n * d, 0.0);
        let partner = |l: usize| if l < m { &students[l] } else { &teacher[l - m] };
        let coef = |l: usize| if l < m { a[l] } else { -teacher_out[l - m] };
        for i in 0..m {
            let e1 = &mut self.e1[i * d..(i + 1) * d];
            self.singles[i] = single(&students[i], e1);
            for l in 0..n {
                let e2 = &mut self.e2[(i * n + l) * d..(i * n + l + 1) * d];
                self.terms[i * n + l] = pair(&students[i], partner(l), l == i, e1, e2);
            }
        }
        // Loss: Σ_kl c_k c_l A_kl + 2e Σ_k c_k E[relu_k] + e².
        let (mut ss, mut st, mut sm) = (0.0, 0.0, 0.0);
        for i in 0..m {
            sm += a[i] * self.singles[i].relu;
            for l in 0..m {
                ss += a[i] * a[l] * self.terms[i * n + l].a;
            }
            for j in 0..r {
                st += a[i] * teacher_out[j] * self.terms[i * n + m + j].a;
            }
        }
        let loss = ss - 2.0 * st + self.tt + 2.0 * e * (sm - self.teacher_mean) + e * e;
        let Some(grad) = grad else { return loss };
        let hessian = hess.is_some();
        // Residual sums.
        self.res.resize(m, [0.0; 3]);
        self.res_x.clear();
        self.res_x.resize(2 * m * d, 0.0);
        self.res_xx.clear();
        if hessian {
            self.res_xx.resize(m * d * d, 0.0);
        }
        for i in 0..m {
            let si = self.singles[i];
            let e1 = &self.e1[i * d..(i + 1) * d];
            let mut res = [e * si.relu, e * si.step, e * si.delta];
            let (rx_step, rx_delta) = self.res_x[2 * i * d..2 * (i + 1) * d].split_at_mut(d);
            axpy(rx_step, e * si.step_z, e1);
            axpy(rx_delta, e * si.delta_z, e1);
            if hessian {
                // e E[δ_i x xᵀ] = e(E[δ_i] I + (E[δ_i z₁²] − E[δ_i]) e₁e₁ᵀ).
                let h = &mut self.res_xx[i * d * d..(i + 1) * d * d];
                let f = e * (si.delta_zz - si.delta);
                for s in 0..d {
                    axpy(&mut h[s * d..(s + 1) * d], f * e1[s], e1);
                    h[s * d + s] += e * si.delta;
                }
            }
            for l in 0..n {
                let (cl, t) = (coef(l), &self.terms[i * n + l]);
                let e2 = &self.e2[(i * n + l) * d..(i * n + l + 1) * d];
                res[0] += cl * t.a;
                res[1] += cl * t.b;
                res[2] += cl * t.d;
                add_vector(rx_step, cl, t.bz, e1, e2);
                add_vector(rx_delta, cl, t.dz, e1, e2);
                if hessian && l != i {
                    let h = &mut self.res_xx[i * d * d..(i + 1) * d * d];
                    add_matrix(h, d, cl, t.d, t.dzz, e1, e2);
                }
            }
            self.res[i] = res;
        }
        let p = idx.p;
        assert_eq!(grad.len(), p, "gradient buffer must hold P values");
        grad.fill(0.0);
        for i in 0..m {
            grad[idx.a + i] = 2.0 * self.res[i][0];
            if let Some(b0) = idx.b0 {
                grad[b0 + i] = 2.0 * a[i] * self.res[i][1];
            }
            let rx = &self.res_x[2 * i * d..(2 * i + 1) * d];
            for t in 0..d {
                grad[idx.w0 + i * d + t] = 2.0 * a[i] * rx[t];
            }
        }
        if let Some(cc) = idx.c {
            grad[cc] = 2.0 * (sm - self.teacher_mean + e);
        }
        let Some(hess) = hess else { return loss };
        assert_eq!(hess.len(), p * p, "Hessian buffer must hold P×P values");
        hess.fill(0.0);
        let (mut block, mut x) = (std::mem::take(&mut self.block), std::mem::take(&mut self.x));
        block.resize(d * d, 0.0);
        x.resize(d, 0.0);
        self.assemble(a, idx, hess, gauss_newton, &mut block, &mut x);
        (self.block, self.x) = (block, x);
        loss
    }

    /// The Hessian from the pair terms and residual sums (`block`: `d × d`, `x`: `d`, scratch).
    fn assemble(
        &self,
        a: &[f64],
        idx: &Index,
        hess: &mut [f64],
        gauss_newton: bool,
        block: &mut [f64],
        x: &mut [f64],
    ) {
        let (p, d) = (idx.p, idx.d);
        let m = a.len();
        let n = self.terms.len() / m.max(1);
        let sym = |h: &mut [f64], r: usize, c: usize, v: f64| {
            h[r * p + c] += v;
            if r != c {
                h[c * p + r] += v;
            }
        };
        for i in 0..m {
            let e1i = &self.e1[i * d..(i + 1) * d];
            let wi = idx.w0 + i * d;
            for j in 0..m {
                // Terms of the ordered pair (j, i): E[step_j relu_i …] in j's frame.
                let tji = &self.terms[j * n + i];
                let e1j = &self.e1[j * d..(j + 1) * d];
                let e2ji = &self.e2[(j * n + i) * d..(j * n + i + 1) * d];
                // (a_i, ·) rows: 2 a_j E[relu_i step_j (1, x)].
                if let Some(b0) = idx.b0 {
                    sym(hess, idx.a + i, b0 + j, 2.0 * a[j] * tji.b);
                }
                x.fill(0.0);
                add_vector(x, 2.0 * a[j], tji.bz, e1j, e2ji);
                for t in 0..d {
                    sym(hess, idx.a + i, idx.w0 + j * d + t, x[t]);
                }
                if j < i {
                    continue;
                }
                // Symmetric quantities from the pair (i, j), i ≤ j.
                let tij = &self.terms[i * n + j];
                let e2ij = &self.e2[(i * n + j) * d..(i * n + j + 1) * d];
                let f = 2.0 * a[i] * a[j];
                sym(hess, idx.a + i, idx.a + j, 2.0 * tij.a);
                x.fill(0.0);
                add_vector(x, f, tij.cz, e1i, e2ij);
                if let Some(b0) = idx.b0 {
                    sym(hess, b0 + i, b0 + j, f * tij.c);
                    for t in 0..d {
                        sym(hess, b0 + i, idx.w0 + j * d + t, x[t]);
                        if i != j {
                            sym(hess, b0 + j, wi + t, x[t]);
                        }
                    }
                }
                block.fill(0.0);
                add_matrix(block, d, f, tij.c, tij.czz, e1i, e2ij);
                let wj = idx.w0 + j * d;
                for s in 0..d {
                    for t in 0..d {
                        let v = block[s * d + t];
                        if i == j {
                            hess[(wi + s) * p + wj + t] += v;
                        } else {
                            hess[(wi + s) * p + wj + t] += v;
                            hess[(wj + t) * p + wi + s] += v;
                        }
                    }
                }
            }
            // The output bias.
            if let Some(cc) = idx.c {
                let si = &self.singles[i];
                sym(hess, cc, idx.a + i, 2.0 * si.relu);
                if let Some(b0) = idx.b0 {
                    sym(hess, cc, b0 + i, 2.0 * a[i] * si.step);
                }
                for t in 0..d {
                    sym(hess, cc, wi + t, 2.0 * a[i] * si.step_z * e1i[t]);
                }
            }
            if gauss_newton {
                continue;
            }
            // The residual part 2E[r ∂²r] within neuron i.
            let res = self.res[i];
            let (rx_step, rx_delta) = self.res_x[2 * i * d..2 * (i + 1) * d].split_at(d);
            if let Some(b0) = idx.b0 {
                sym(hess, idx.a + i, b0 + i, 2.0 * res[1]);
                hess[(b0 + i) * p + b0 + i] += 2.0 * a[i] * res[2];
                for t in 0..d {
                    sym(hess, b0 + i, wi + t, 2.0 * a[i] * rx_delta[t]);
                }
            }
            for t in 0..d {
                sym(hess, idx.a + i, wi + t, 2.0 * rx_step[t]);
            }
            let rxx = &self.res_xx[i * d * d..(i + 1) * d * d];
            for s in 0..d {
                for t in 0..d {
                    hess[(wi + s) * p + wi + t] += 2.0 * a[i] * rxx[s * d + t];
                }
            }
        }
        if let Some(cc) = idx.c {
            hess[cc * p + cc] += 2.0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::simpson_weight;
    use super::*;
    use crate::net::activation::Activation;

    fn neuron(w: &[f64], b: f64) -> Neuron {
        Neuron {
            w: w.to_vec(),
            b,
            act: Activation::Relu,
        }
    }

    /// Every pair term against an independent route: the inner integral over `z₂` by the
    /// elementary truncated moments, the outer over `z₁ > L` by composite Simpson (a smooth
    /// integrand there), in the same frame.
    #[test]
    fn pair_terms_match_an_outer_rule() {
        let cases = [
            (
                neuron(&[1.3, -0.4, 0.2], 0.3),
                neuron(&[0.5, 0.9, -1.1], -0.7),
            ),
            (
                neuron(&[-0.8, 0.1, 0.0], -0.5),
                neuron(&[0.7, 0.2, 0.3], 0.4),
            ),
            (
                neuron(&[2.0, 0.5, -0.3], 1.1),
                neuron(&[1.9, 0.6, -0.1], 1.0),
            ),
            (
                neuron(&[0.6, 0.0, 0.2], 0.0),
                neuron(&[-0.6, 0.05, -0.2], 0.0),
            ),
        ];
        for (ci, (k, l)) in cases.iter().enumerate() {
            let d = k.w.len();
            let (mut e1, mut e2) = (vec![0.0; d], vec![0.0; d]);
            single(k, &mut e1);
            let t = pair(k, l, false, &e1, &mut e2);
            let p = norm(&k.w);
            let q: f64 = e1.iter().zip(&l.w).map(|(a, b)| a * b).sum();
            let s: f64 = e2.iter().zip(&l.w).map(|(a, b)| a * b).sum();
            let lo = -k.b / p;
            // Integrands over z₁ > L: [a, b, bz1, bz2, c, cz1, cz2, czz11, czz12, czz22].
            let f = |z: f64| -> [f64; 10] {
                let m = l.b + q * z;
                let tau = m / s;
                let (cm, pm) = (cdf(tau), pdf(tau));
                let relu = m * cm + s * pm;
                let w = pdf(z);
                [
                    w * p * (z - lo) * relu,
                    w * relu,
                    w * z * relu,
                    w * s * cm,
                    w * cm,
                    w * z * cm,
                    w * pm,
                    w * z * z * cm,
                    w * z * pm,
                    w * (cm - tau * pm),
                ]
            };
            let (n, width) = (200_000, 16.0);
            let h = width / n as f64;
            let mut acc = [0.0; 10];
            for j in 0..=n {
                let wt = simpson_weight(j, n);
                let v = f(lo + j as f64 * h);
                for (a, x) in acc.iter_mut().zip(v) {
                    *a += wt * h / 3.0 * x;
                }
            }
            let got = [
                t.a, t.b, t.bz[0], t.bz[1], t.c, t.cz[0], t.cz[1], t.czz[0], t.czz[1], t.czz[2],
            ];
            for (x, (g, r)) in got.iter().zip(&acc).enumerate() {
                assert!(
                    (g - r).abs() <= 1e-13 * r.abs().max(1.0),
                    "case {ci}, term {x}: {g} vs {r}"
                );
            }
            // The δ terms: a point evaluation on u_k = 0.
            let (m, dens) = (l.b + q * lo, pdf(lo) / p);
            let relu = smoothed_relu(m, s);
            assert!((t.d - dens * relu).abs() <= 1e-15);
            assert!((t.dzz[2] - dens * (m * cdf(m / s) + 2.0 * s * pdf(m / s))).abs() <= 1e-15);
        }
    }

    /// Without biases, `E[relu(w·x) relu(v·x)]` is the arc-cosine kernel of degree one (Cho &
    /// Saul 2009); with itself, `‖w‖²/2`.
    #[test]
    fn bias_free_pairs_are_the_arc_cosine_kernel() {
        let w = [0.9, -0.3, 1.2, 0.4];
        let (mut e1, mut e2) = (vec![0.0; 4], vec![0.0; 4]);
        let k = neuron(&w, 0.0);
        single(&k, &mut e1);
        let nw = norm(&w);
        assert!((pair(&k, &k, true, &e1, &mut e2).a - 0.5 * nw * nw).abs() < 1e-15);
        for v in [
            [0.1, 0.8, -0.5, 1.0],
            [-0.9, 0.3, -1.2, -0.4],
            [1.8, -0.6, 2.4, 0.8],
            [1.8, -0.6, 2.4, 0.8 + 1e-9],
        ] {
            let nv = norm(&v);
            let cos =
                (w.iter().zip(&v).map(|(a, b)| a * b).sum::<f64>() / (nw * nv)).clamp(-1.0, 1.0);
            let th = cos.acos();
            let kernel = nw * nv * (th.sin() + (std::f64::consts::PI - th) * cos)
                / (2.0 * std::f64::consts::PI);
            let got = pair(&k, &neuron(&v, 0.0), false, &e1, &mut e2).a;
            assert!(
                (got - kernel).abs() <= 1e-14 * kernel.abs().max(1.0),
                "{got} vs {kernel}"
            );
        }
    }
}
