//! Two-dimensional loss slices: the mean loss on the plane `θ₀ + α v₁ + β v₂` over a grid,
//! optionally minimised over the orthogonal complement of the plane (the *subspace minimum*
//! of MLPGradientFlow.jl's `LinearSubspace`/`subspace_minloss`), with a CSV table and an SVG
//! heat map with contours.

use std::fmt::Write;

use plotters::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::net::Objective;
use crate::observe::Watch;

/// The grid of a slice.
///
/// ```
/// use gradflow::landscape::SliceOptions;
/// let o = SliceOptions::default();
/// assert_eq!((o.alpha, o.beta, o.points), ((-0.5, 1.5), (-1.0, 1.0), (41, 41)));
/// assert_eq!(o.minimise_steps, 0);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct SliceOptions {
    /// Range of `α` (along `v₁`).
    pub alpha: (f64, f64),
    /// Range of `β` (along `v₂`).
    pub beta: (f64, f64),
    /// Grid points along `α` and `β` (at least 2 each).
    pub points: (usize, usize),
    /// Damped Newton steps minimising over the plane's orthogonal complement at each grid
    /// point (0: the plain slice). Each step costs one Hessian.
    pub minimise_steps: usize,
}

impl Default for SliceOptions {
    fn default() -> Self {
        SliceOptions {
            alpha: (-0.5, 1.5),
            beta: (-1.0, 1.0),
            points: (41, 41),
            minimise_steps: 0,
        }
    }
}

/// A computed slice.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LossSlice {
    /// Grid values of `α`.
    pub alpha: Vec<f64>,
    /// Grid values of `β`.
    pub beta: Vec<f64>,
    /// Mean loss at `(alpha[a], beta[b])`, stored at `b * alpha.len() + a`.
    pub loss: Vec<f64>,
    /// Whether each value is minimised over the orthogonal complement.
    pub minimised: bool,
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// An orthonormal basis of `span(v₁, v₂)` (Gram–Schmidt).
fn basis(v1: &[f64], v2: &[f64]) -> Result<[Vec<f64>; 2]> {
    let n1 = dot(v1, v1).sqrt();
    if !(n1 > 0.0 && n1.is_finite()) {
        return Err(Error::invalid("v1", "must be a non-zero finite direction"));
    }
    let q1: Vec<f64> = v1.iter().map(|v| v / n1).collect();
    let c = dot(&q1, v2);
    let r: Vec<f64> = v2.iter().zip(&q1).map(|(v, q)| v - c * q).collect();
    let n2 = dot(&r, &r).sqrt();
    if !(n2 > 1e-12 * dot(v2, v2).sqrt() && n2.is_finite()) {
        return Err(Error::invalid("v2", "must not be parallel to v1"));
    }
    Ok([q1, r.iter().map(|v| v / n2).collect()])
}

/// `v ← v − Q Qᵀ v`.
fn project(v: &mut [f64], q: &[Vec<f64>; 2]) {
    for qk in q {
        let c = dot(qk, v);
        v.iter_mut().zip(qk).for_each(|(v, q)| *v -= c * q);
    }
}

/// Minimises the mean loss over `θ = base + z`, `z ⊥ span(Q)`, from `z` (updated in place) by
/// `steps` saddle-free damped Newton steps (`δ = −Σ_k q_k q_kᵀ ∇ / (|λ_k| + μ)` in the projected
/// Hessian's eigenbasis, `μ` adapted by success); returns the mean loss at the result.
fn minimise_complement(
    obj: &mut Objective<'_>,
    base: &[f64],
    q: &[Vec<f64>; 2],
    z: &mut [f64],
    steps: usize,
    watch: &Watch,
) -> Result<f64> {
    let p = base.len();
    let scale = obj.mean_scale();
    let at = |z: &[f64]| -> Vec<f64> { base.iter().zip(z).map(|(b, z)| b + z).collect() };
    let (mut g, mut h) = (vec![0.0; p], vec![0.0; p * p]);
    // Warm start from the neighbour's complement, unless the plane's own point is lower.
    let mut theta = at(z);
    let mut loss = obj.loss(&theta) * scale;
    let plain = obj.loss(base) * scale;
    if loss.is_nan() || loss > plain {
        z.fill(0.0);
        theta.copy_from_slice(base);
        loss = plain;
    }
    if !loss.is_finite() {
        // Nothing to minimise from (an overflowing point): report it as it is.
        z.fill(0.0);
        return Ok(loss);
    }
    let mut mu = 1e-3;
    for _ in 0..steps {
        if watch.is_cancelled() {
            return Err(Error::Interrupted);
        }
        obj.hessian_into(&theta, &mut g, &mut h);
        project(&mut g, q);
        // P H P, column by column then row by row (H symmetric).
        for c in 0..p {
            project(&mut h[c * p..(c + 1) * p], q);
        }
        let mut col = vec![0.0; p];
        for r in 0..p {
            for c in 0..p {
                col[c] = h[c * p + r];
            }
            project(&mut col, q);
            for c in 0..p {
                h[c * p + r] = col[c];
            }
        }
        let (s, u) = crate::dense::sym_eigen(faer::MatRef::from_column_major_slice(&h, p, p))
            .ok_or_else(|| Error::Numerical {
                routine: "subspace minimum".into(),
                reason: "the eigendecomposition did not converge".into(),
            })?;
        let lmax = (0..p).map(|k| s[k].abs()).fold(0.0, f64::max).max(1e-300);
        let mut improved = false;
        for _ in 0..8 {
            let mut step = vec![0.0; p];
            for k in 0..p {
                let coef: f64 =
                    (0..p).map(|i| u[(i, k)] * g[i]).sum::<f64>() / (s[k].abs() + mu * lmax);
                for i in 0..p {
                    step[i] -= coef * u[(i, k)];
                }
            }
            project(&mut step, q);
            let trial_z: Vec<f64> = z.iter().zip(&step).map(|(z, d)| z + d).collect();
            let trial = at(&trial_z);
            let l = obj.loss(&trial) * scale;
            if l < loss {
                z.copy_from_slice(&trial_z);
                theta = trial;
                loss = l;
                mu = (mu / 3.0).max(1e-12);
                improved = true;
                break;
            }
            mu *= 8.0;
        }
        if !improved {
            break;
        }
    }
    Ok(loss)
}

/// The mean loss of `obj` on the plane through `theta0` spanned by `v1` and `v2` (not
/// necessarily orthogonal or normalised: `α = 1, β = 0` is `theta0 + v1`), on `opts`'s grid.
/// With `minimise_steps > 0` every value is minimised over the plane's orthogonal complement,
/// warm-started from the neighbouring grid point (rows in alternating directions).
///
/// # Errors
/// Vectors of the wrong length, `v1` zero, `v2` parallel to it, or fewer than 2 points.
pub fn loss_slice(
    obj: &mut Objective<'_>,
    theta0: &[f64],
    v1: &[f64],
    v2: &[f64],
    opts: &SliceOptions,
) -> Result<LossSlice> {
    loss_slice_watched(obj, theta0, v1, v2, opts, &Watch::silent())
}

/// [`loss_slice`] that reports each finished row of the grid to `watch` (a message; a slice
/// with minimisation can take minutes) and stops with [`Error::Interrupted`] once its flag
/// is cancelled (checked at every grid point and minimisation step).
///
/// # Errors
/// As [`loss_slice`], and [`Error::Interrupted`].
pub fn loss_slice_watched(
    obj: &mut Objective<'_>,
    theta0: &[f64],
    v1: &[f64],
    v2: &[f64],
    opts: &SliceOptions,
    watch: &Watch,
) -> Result<LossSlice> {
    obj.spec().check_params(theta0)?;
    obj.spec().check_params(v1)?;
    obj.spec().check_params(v2)?;
    let (na, nb) = opts.points;
    if na < 2 || nb < 2 {
        return Err(Error::invalid("slice.points", "needs at least 2 × 2"));
    }
    if opts.minimise_steps > 0 {
        // Each minimisation step factorises a dense Hessian.
        crate::memory::check_dense(
            "the subspace minimum",
            2,
            theta0.len(),
            None,
            "slice.minimise_steps",
            "a slice without minimisation (minimise_steps = 0)",
        )?;
    }
    let grid = |(lo, hi): (f64, f64), n: usize| -> Vec<f64> {
        (0..n)
            .map(|i| lo + (hi - lo) * i as f64 / (n - 1) as f64)
            .collect()
    };
    let (alpha, beta) = (grid(opts.alpha, na), grid(opts.beta, nb));
    let q = basis(v1, v2)?;
    let scale = obj.mean_scale();
    let p = theta0.len();
    let mut loss = vec![f64::NAN; na * nb];
    let mut z = vec![0.0; p];
    let mut base = vec![0.0; p];
    for (b, &bv) in beta.iter().enumerate() {
        let cols: Vec<usize> = if b % 2 == 0 {
            (0..na).collect()
        } else {
            (0..na).rev().collect()
        };
        for a in cols {
            if watch.is_cancelled() {
                return Err(Error::Interrupted);
            }
            let av = alpha[a];
            for i in 0..p {
                base[i] = theta0[i] + av * v1[i] + bv * v2[i];
            }
            loss[b * na + a] = if opts.minimise_steps > 0 {
                minimise_complement(obj, &base, &q, &mut z, opts.minimise_steps, watch)?
            } else {
                obj.loss(&base) * scale
            };
        }
        if opts.minimise_steps > 0 {
            watch.message(&format!("slice: row {} of {nb} minimised", b + 1));
        }
    }
    Ok(LossSlice {
        alpha,
        beta,
        loss,
        minimised: opts.minimise_steps > 0,
    })
}

impl LossSlice {
    /// `alpha,beta,loss` rows.
    pub fn csv(&self) -> String {
        let mut out = String::from("alpha,beta,loss\n");
        let na = self.alpha.len();
        for (b, bv) in self.beta.iter().enumerate() {
            for (a, av) in self.alpha.iter().enumerate() {
                let _ = writeln!(out, "{av},{bv},{:e}", self.loss[b * na + a]);
            }
        }
        out
    }

    /// An SVG heat map of `log10(loss)` with contours at every integer decade, and labelled
    /// markers at `(α, β)` points (e.g. `(0, 0, "θ₀")`).
    pub fn svg(&self, title: &str, marks: &[(f64, f64, &str)]) -> Result<String> {
        let (na, nb) = (self.alpha.len(), self.beta.len());
        let floor = -34.0;
        let logs: Vec<f64> = self
            .loss
            .iter()
            .map(|&l| {
                if l.is_nan() {
                    f64::NAN
                } else if l > 0.0 {
                    l.log10().max(floor)
                } else {
                    floor
                }
            })
            .collect();
        let finite = logs.iter().copied().filter(|v| v.is_finite());
        let lo = finite.clone().fold(f64::INFINITY, f64::min);
        let hi = finite.fold(f64::NEG_INFINITY, f64::max);
        let span = (hi - lo).max(1e-12);
        let mut svg = String::new();
        {
            let area = SVGBackend::with_string(&mut svg, (760, 640)).into_drawing_area();
            let fail = |e: String| Error::Numerical {
                routine: "loss-slice figure".into(),
                reason: e,
            };
            area.fill(&WHITE).map_err(|e| fail(e.to_string()))?;
            let (a0, a1) = (self.alpha[0], self.alpha[na - 1]);
            let (b0, b1) = (self.beta[0], self.beta[nb - 1]);
            let mut chart = ChartBuilder::on(&area)
                .caption(title, ("sans-serif", 18))
                .margin(12)
                .x_label_area_size(40)
                .y_label_area_size(50)
                .right_y_label_area_size(10)
                .build_cartesian_2d(a0..a1, b0..b1)
                .map_err(|e| fail(e.to_string()))?;
            chart
                .configure_mesh()
                .disable_mesh()
                .x_desc("α (along v₁)")
                .y_desc("β (along v₂)")
                .draw()
                .map_err(|e| fail(e.to_string()))?;
            let (da, db) = ((a1 - a0) / (na - 1) as f64, (b1 - b0) / (nb - 1) as f64);
            let cells = (0..nb).flat_map(|b| (0..na).map(move |a| (a, b)));
            chart
                .draw_series(cells.map(|(a, b)| {
                    let (x, y) = (self.alpha[a], self.beta[b]);
                    let v = logs[b * na + a];
                    let c = if v.is_finite() {
                        crate::report::plots::viridis((v - lo) / span)
                    } else {
                        RGBColor(200, 200, 200)
                    };
                    Rectangle::new(
                        [(x - da / 2.0, y - db / 2.0), (x + da / 2.0, y + db / 2.0)],
                        c.filled(),
                    )
                }))
                .map_err(|e| fail(e.to_string()))?;
            for level in (lo.ceil() as i64)..=(hi.floor() as i64) {
                let segs = contour(&self.alpha, &self.beta, &logs, level as f64);
                let thick = if level % 5 == 0 { 2 } else { 1 };
                chart
                    .draw_series(segs.into_iter().map(|s| {
                        PathElement::new(vec![s.0, s.1], WHITE.mix(0.8).stroke_width(thick))
                    }))
                    .map_err(|e| fail(e.to_string()))?;
            }
            for &(x, y, label) in marks {
                chart
                    .draw_series(std::iter::once(Circle::new((x, y), 5, RED.filled())))
                    .map_err(|e| fail(e.to_string()))?;
                chart
                    .draw_series(std::iter::once(Text::new(
                        label.to_string(),
                        (x + da, y + db),
                        ("sans-serif", 14).into_font().color(&RED),
                    )))
                    .map_err(|e| fail(e.to_string()))?;
            }
            area.draw(&Text::new(
                format!(
                    "log10 mean loss{}: {lo:.1} (dark) … {hi:.1} (light); contours every decade",
                    if self.minimised {
                        ", minimised over the complement"
                    } else {
                        ""
                    }
                ),
                (60, 620),
                ("sans-serif", 13),
            ))
            .map_err(|e| fail(e.to_string()))?;
            area.present().map_err(|e| fail(e.to_string()))?;
        }
        Ok(svg)
    }
}

type Segment = ((f64, f64), (f64, f64));

/// Marching squares: the segments of the level set `v = level` of the grid values `v`
/// (`v[b * na + a]` at `(x[a], y[b])`), linearly interpolated along cell edges.
fn contour(x: &[f64], y: &[f64], v: &[f64], level: f64) -> Vec<Segment> {
    let na = x.len();
    let mut out = Vec::new();
    for b in 0..y.len() - 1 {
        for a in 0..na - 1 {
            // Corners counter-clockwise from (a, b).
            let corners = [
                (x[a], y[b], v[b * na + a]),
                (x[a + 1], y[b], v[b * na + a + 1]),
                (x[a + 1], y[b + 1], v[(b + 1) * na + a + 1]),
                (x[a], y[b + 1], v[(b + 1) * na + a]),
            ];
            if corners.iter().any(|c| !c.2.is_finite()) {
                continue;
            }
            let mut hits = Vec::with_capacity(4);
            for e in 0..4 {
                let (p, q) = (corners[e], corners[(e + 1) % 4]);
                if (p.2 < level) != (q.2 < level) {
                    let t = (level - p.2) / (q.2 - p.2);
                    hits.push((p.0 + t * (q.0 - p.0), p.1 + t * (q.1 - p.1)));
                }
            }
            // Two crossings: one segment; four (a saddle cell): two, paired in order.
            for pair in hits.chunks_exact(2) {
                out.push((pair[0], pair[1]));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reference::Problem;

    #[test]
    fn a_slice_through_the_teacher_and_a_start_has_zero_at_the_teacher() {
        let p = Problem::teacher_student(2, 2, 2, 200, 9, 1).unwrap();
        let t = p.teacher.as_ref().unwrap();
        let mut obj = Objective::new(&t.spec, &p.data, crate::net::Loss::Mse).unwrap();
        let v1: Vec<f64> = t.params.iter().zip(&p.start).map(|(a, b)| a - b).collect();
        let v2: Vec<f64> = (0..v1.len()).map(|i| ((i * 7 % 5) as f64) - 2.0).collect();
        let opts = SliceOptions {
            alpha: (0.0, 1.0),
            beta: (-0.5, 0.5),
            points: (5, 3),
            minimise_steps: 0,
        };
        let s = loss_slice(&mut obj, &p.start, &v1, &v2, &opts).unwrap();
        assert_eq!((s.alpha.len(), s.beta.len(), s.loss.len()), (5, 3, 15));
        // (α, β) = (1, 0) is the teacher; (0, 0) the start.
        assert!(s.loss[5 + 4] < 1e-28, "{}", s.loss[9]);
        assert!((s.loss[5] - obj.loss(&p.start) * obj.mean_scale()).abs() < 1e-15);
        assert!(s.csv().lines().count() == 16);
        let svg = s
            .svg("test", &[(0.0, 0.0, "start"), (1.0, 0.0, "teacher")])
            .unwrap();
        assert!(svg.contains("<svg") && svg.contains("teacher"));
        // Minimised over the complement the slice can only be lower.
        let m = loss_slice(
            &mut obj,
            &p.start,
            &v1,
            &v2,
            &SliceOptions {
                minimise_steps: 3,
                ..opts
            },
        )
        .unwrap();
        for (a, b) in m.loss.iter().zip(&s.loss) {
            assert!(a <= b, "{a} > {b}");
        }
        assert!(m.loss[0] < s.loss[0]);
        // Watched: a message per minimised row, and a cancelled flag stops it.
        let rows = std::sync::Arc::new(std::sync::Mutex::new(0));
        let seen = rows.clone();
        let watch = Watch::new(move |e: &crate::observe::Event<'_>| {
            if let crate::observe::Event::Message(m) = e
                && m.starts_with("slice: row")
            {
                *seen.lock().unwrap() += 1;
            }
        });
        let minimised = SliceOptions {
            minimise_steps: 3,
            ..opts
        };
        let w = loss_slice_watched(&mut obj, &p.start, &v1, &v2, &minimised, &watch).unwrap();
        assert_eq!((w.loss, *rows.lock().unwrap()), (m.loss, 3));
        let cancel = crate::cancel::Cancel::new();
        cancel.cancel();
        let stopped = loss_slice_watched(
            &mut obj,
            &p.start,
            &v1,
            &v2,
            &minimised,
            &Watch::silent().with_cancel(cancel),
        );
        assert!(matches!(stopped, Err(Error::Interrupted)));
    }

    #[test]
    fn contours_of_a_plane_are_straight_segments_at_the_level() {
        let x = [0.0, 1.0, 2.0];
        let y = [0.0, 1.0];
        // v = x: the level 0.5 crosses each row's first cell at x = 0.5.
        let v = [0.0, 1.0, 2.0, 0.0, 1.0, 2.0];
        let segs = contour(&x, &y, &v, 0.5);
        assert_eq!(segs.len(), 1);
        let ((x0, _), (x1, _)) = segs[0];
        assert!((x0 - 0.5).abs() < 1e-15 && (x1 - 0.5).abs() < 1e-15);
    }
}
