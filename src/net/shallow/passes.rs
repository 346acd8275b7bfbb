//! The SIMD passes of the fused one-hidden-layer pass ([`super`]): multi-column
//! combinations, the residual, and the backward dot products with `t = s·r ⊙ σ'` formed in
//! registers.

use faer::MatRef;
use pulp::{Simd, WithSimd};

use super::super::simd::dispatch;
use super::BLOCK;

/// `t = s·r ⊙ t` in place; returns `Σ t`.
pub(super) struct ScaleInPlace<'a> {
    pub(super) t: &'a mut [f64],
    pub(super) r: &'a [f64],
    pub(super) s: f64,
}

impl WithSimd for ScaleInPlace<'_> {
    type Output = f64;
    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) -> f64 {
        let n = self.t.len();
        let (tv, tt) = S::as_mut_simd_f64s(self.t);
        let (rv, rt) = S::as_simd_f64s(&self.r[..n]);
        let s = self.s;
        let sv = simd.splat_f64s(s);
        let mut acc = simd.splat_f64s(0.0);
        for (t, &r) in tv.iter_mut().zip(rv) {
            *t = simd.mul_f64s(simd.mul_f64s(sv, r), *t);
            acc = simd.add_f64s(acc, *t);
        }
        let mut tail = 0.0;
        for (t, &r) in tt.iter_mut().zip(rt) {
            *t *= s * r;
            tail += *t;
        }
        simd.reduce_sum_f64s(acc) + tail
    }
}

/// Column `j` of a chunk of the inputs.
#[inline]
pub(super) fn column(x: MatRef<'_, f64>, j: usize) -> &[f64] {
    x.col(j)
        .try_as_col_major()
        .expect("data columns are contiguous")
        .as_slice()
}

/// `z = Σ_j w_j·x_j` over the columns `x(j)`, `j < w.len()` (`add`: `z +=`), in passes of
/// [`BLOCK`] columns.
pub(super) fn combine<'c>(z: &mut [f64], add: bool, w: &[f64], x: impl Fn(usize) -> &'c [f64]) {
    let mut j = 0;
    let mut add = add;
    while j < w.len() {
        let m = BLOCK.min(w.len() - j);
        macro_rules! pass {
            ($m:literal) => {
                dispatch(Combine::<$m> {
                    z: &mut *z,
                    x: std::array::from_fn(|q| x(j + q)),
                    w: std::array::from_fn(|q| w[j + q]),
                    add,
                })
            };
        }
        with_width!(m, pass);
        add = true;
        j += m;
    }
}

/// `out[j] += t·x(j)` for `j < m` with `t = s·r ⊙ σ'` (`scale = Some((s, σ'))`) or `t = r`,
/// in passes of [`BLOCK`] columns; returns `Σ t` (from the first pass; `m ≥ 1`: a layer has at
/// least one unit and one input).
pub(crate) fn dots_scaled<'c>(
    r: &[f64],
    scale: Option<(f64, &[f64])>,
    m: usize,
    x: impl Fn(usize) -> &'c [f64],
    out: &mut [f64],
) -> f64 {
    let mut total = 0.0;
    let mut j = 0;
    while j < m {
        let b = BLOCK.min(m - j);
        macro_rules! pass {
            ($m:literal) => {{
                let (s, sum) = dispatch(Dots::<$m> {
                    r,
                    scale,
                    x: std::array::from_fn(|q| x(j + q)),
                    sum: j == 0,
                });
                total += sum;
                for (o, v) in out[j..j + $m].iter_mut().zip(s) {
                    *o += v;
                }
            }};
        }
        with_width!(b, pass);
        j += b;
    }
    total
}

/// [`dots_scaled`] for two units at once: `out[i][j] += t_i·x(j)` with `t_i = s_i·r ⊙ σ'_i`,
/// returning `[Σ t_0, Σ t_1]`; each input column is loaded once for both.
pub(super) fn dots_scaled2<'c>(
    r: &[f64],
    scale: [(f64, &[f64]); 2],
    m: usize,
    x: impl Fn(usize) -> &'c [f64],
    out: [&mut [f64]; 2],
) -> [f64; 2] {
    // One pass: it serves the fused first layer, at most FUSED_INPUTS = BLOCK inputs.
    debug_assert!((1..=BLOCK).contains(&m));
    macro_rules! pass {
        ($m:literal) => {{
            let (s, sums) = dispatch(Dots2::<$m> {
                r,
                scale,
                x: std::array::from_fn(|q| x(q)),
            });
            for (o, s) in out.into_iter().zip(s) {
                for (o, v) in o[..$m].iter_mut().zip(s) {
                    *o += v;
                }
            }
            sums
        }};
    }
    with_width!(m, pass)
}

struct Dots2<'a, const M: usize> {
    r: &'a [f64],
    scale: [(f64, &'a [f64]); 2],
    x: [&'a [f64]; M],
}

impl<const M: usize> WithSimd for Dots2<'_, M> {
    type Output = ([[f64; M]; 2], [f64; 2]);
    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) -> Self::Output {
        let n = self.r.len();
        let (rv, rt) = S::as_simd_f64s(self.r);
        let xs: [(&[S::f64s], &[f64]); M] =
            std::array::from_fn(|q| S::as_simd_f64s(&self.x[q][..n]));
        let xv: [&[S::f64s]; M] = std::array::from_fn(|q| &xs[q].0[..rv.len()]);
        let [(s0, d0), (s1, d1)] = self.scale;
        let (d0v, d0t) = S::as_simd_f64s(&d0[..n]);
        let (d1v, d1t) = S::as_simd_f64s(&d1[..n]);
        let (d0v, d1v) = (&d0v[..rv.len()], &d1v[..rv.len()]);
        let (sv0, sv1) = (simd.splat_f64s(s0), simd.splat_f64s(s1));
        let mut acc = [[simd.splat_f64s(0.0); M]; 2];
        let mut acc_t = [simd.splat_f64s(0.0); 2];
        for (i, &r) in rv.iter().enumerate() {
            let t0 = simd.mul_f64s(simd.mul_f64s(sv0, r), d0v[i]);
            let t1 = simd.mul_f64s(simd.mul_f64s(sv1, r), d1v[i]);
            for q in 0..M {
                let xq = xv[q][i];
                acc[0][q] = simd.mul_add_f64s(t0, xq, acc[0][q]);
                acc[1][q] = simd.mul_add_f64s(t1, xq, acc[1][q]);
            }
            acc_t[0] = simd.add_f64s(acc_t[0], t0);
            acc_t[1] = simd.add_f64s(acc_t[1], t1);
        }
        let mut tail = [[0.0; M]; 2];
        let mut sum_tail = [0.0; 2];
        for (i, &r) in rt.iter().enumerate() {
            let t = [s0 * r * d0t[i], s1 * r * d1t[i]];
            for (u, &tu) in t.iter().enumerate() {
                for q in 0..M {
                    tail[u][q] += tu * xs[q].1[i];
                }
                sum_tail[u] += tu;
            }
        }
        (
            std::array::from_fn(|u| {
                std::array::from_fn(|q| simd.reduce_sum_f64s(acc[u][q]) + tail[u][q])
            }),
            std::array::from_fn(|u| simd.reduce_sum_f64s(acc_t[u]) + sum_tail[u]),
        )
    }
}

struct Combine<'a, const M: usize> {
    z: &'a mut [f64],
    x: [&'a [f64]; M],
    w: [f64; M],
    add: bool,
}

impl<const M: usize> WithSimd for Combine<'_, M> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: Simd>(self, _: S) {
        let n = self.z.len();
        let x: [&[f64]; M] = std::array::from_fn(|q| &self.x[q][..n]);
        let w = self.w;
        let z = self.z;
        if self.add {
            for i in 0..n {
                let mut acc = z[i];
                for q in 0..M {
                    acc = x[q][i].mul_add(w[q], acc);
                }
                z[i] = acc;
            }
        } else {
            for i in 0..n {
                let mut acc = x[0][i] * w[0];
                for q in 1..M {
                    acc = x[q][i].mul_add(w[q], acc);
                }
                z[i] = acc;
            }
        }
    }
}

struct Dots<'a, const M: usize> {
    r: &'a [f64],
    scale: Option<(f64, &'a [f64])>,
    x: [&'a [f64]; M],
    /// Also sum `t`.
    sum: bool,
}

impl<const M: usize> WithSimd for Dots<'_, M> {
    type Output = ([f64; M], f64);
    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) -> ([f64; M], f64) {
        let n = self.r.len();
        let (rv, rt) = S::as_simd_f64s(self.r);
        let xs: [(&[S::f64s], &[f64]); M] =
            std::array::from_fn(|q| S::as_simd_f64s(&self.x[q][..n]));
        let xv: [&[S::f64s]; M] = std::array::from_fn(|q| &xs[q].0[..rv.len()]);
        let mut acc = [simd.splat_f64s(0.0); M];
        let mut acc_t = simd.splat_f64s(0.0);
        let mut t_tail = [0.0; M];
        let mut sum_tail = 0.0;
        match self.scale {
            None => {
                for (i, &t) in rv.iter().enumerate() {
                    for q in 0..M {
                        acc[q] = simd.mul_add_f64s(t, xv[q][i], acc[q]);
                    }
                    if self.sum {
                        acc_t = simd.add_f64s(acc_t, t);
                    }
                }
                for (i, &t) in rt.iter().enumerate() {
                    for q in 0..M {
                        t_tail[q] += t * xs[q].1[i];
                    }
                    sum_tail += t;
                }
            }
            Some((s, d1)) => {
                let (dv, dt) = S::as_simd_f64s(&d1[..n]);
                let dv = &dv[..rv.len()];
                let sv = simd.splat_f64s(s);
                for (i, &r) in rv.iter().enumerate() {
                    let t = simd.mul_f64s(simd.mul_f64s(sv, r), dv[i]);
                    for q in 0..M {
                        acc[q] = simd.mul_add_f64s(t, xv[q][i], acc[q]);
                    }
                    if self.sum {
                        acc_t = simd.add_f64s(acc_t, t);
                    }
                }
                for (i, &r) in rt.iter().enumerate() {
                    let t = s * r * dt[i];
                    for q in 0..M {
                        t_tail[q] += t * xs[q].1[i];
                    }
                    sum_tail += t;
                }
            }
        }
        (
            std::array::from_fn(|q| simd.reduce_sum_f64s(acc[q]) + t_tail[q]),
            if self.sum {
                simd.reduce_sum_f64s(acc_t) + sum_tail
            } else {
                0.0
            },
        )
    }
}

/// `r = 2ω(f − y)`; returns `Σ ω(f − y)²`.
pub(super) struct Residual<'a> {
    pub(super) r: &'a mut [f64],
    pub(super) f: &'a [f64],
    pub(super) y: &'a [f64],
    pub(super) w: Option<&'a [f64]>,
}

impl WithSimd for Residual<'_> {
    type Output = f64;
    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) -> f64 {
        let n = self.r.len();
        let (rv, rt) = S::as_mut_simd_f64s(self.r);
        let (fv, ft) = S::as_simd_f64s(&self.f[..n]);
        let (yv, yt) = S::as_simd_f64s(&self.y[..n]);
        let two = simd.splat_f64s(2.0);
        let mut acc = simd.splat_f64s(0.0);
        let mut tail = 0.0;
        match self.w {
            None => {
                for ((r, &f), &y) in rv.iter_mut().zip(fv).zip(yv) {
                    let e = simd.sub_f64s(f, y);
                    acc = simd.mul_add_f64s(e, e, acc);
                    *r = simd.mul_f64s(two, e);
                }
                for ((r, &f), &y) in rt.iter_mut().zip(ft).zip(yt) {
                    let e = f - y;
                    tail += e * e;
                    *r = 2.0 * e;
                }
            }
            Some(w) => {
                let (wv, wt) = S::as_simd_f64s(&w[..n]);
                for (((r, &f), &y), &w) in rv.iter_mut().zip(fv).zip(yv).zip(wv) {
                    let e = simd.sub_f64s(f, y);
                    let we = simd.mul_f64s(w, e);
                    acc = simd.mul_add_f64s(we, e, acc);
                    *r = simd.mul_f64s(two, we);
                }
                for (((r, &f), &y), &w) in rt.iter_mut().zip(ft).zip(yt).zip(wt) {
                    let e = f - y;
                    tail += w * e * e;
                    *r = 2.0 * w * e;
                }
            }
        }
        simd.reduce_sum_f64s(acc) + tail
    }
}
