//! End-state certificates: what a finished run ended at, with the evidence that shows it.
//!
//! A run ends at one of [`EndKind`]'s states. The classification follows the criteria of the
//! Flat Channels paper (Martinelli, van Meegen, Şimşek, Gerstner, Brea, NeurIPS 2025, §4): a
//! zero-loss point, a minimum or a saddle by the gradient and the Hessian's extreme eigenvalues,
//! or a *channel to infinity*: two (or more) hidden neurons with near-parallel input vectors
//! (cosine distance below a threshold: the paper's 10⁻³, here 10⁻² by default, see
//! [`CertifyOptions`]) and large outgoing weights of opposite signs, the parameter norm
//! growing and the loss falling as a power law of time. Channels are checked before the
//! gradient and curvature tests, since a slow run along a channel has a small gradient too.

use serde::{Deserialize, Serialize};

use super::channel::{ChannelBundle, find_channels};
use crate::error::{Error, Result};
use crate::monitor::{TrajectoryPoint, inf_norm};
use crate::net::{Objective, lowest_eigenpair};

/// The state a run ended at (`end_state.kind` in records).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndKind {
    /// Mean loss at or below the floor ([`CertifyOptions::loss_floor`]) or, when larger, the
    /// objective's resolution ([`crate::net::Objective::loss_resolution`]: the infinite-data
    /// loss cannot resolve losses below ~1e-15).
    ZeroLoss,
    /// Loss above the floor, gradient below the tolerance, `λ_min ≥ −tol·λ_max`.
    Minimum,
    /// Gradient below the tolerance and `λ_min < −tol·λ_max`: a direction of descent remains.
    Saddle,
    /// The Flat Channels signature (see the module docs).
    Channel,
    /// Gradient below the tolerance, but the network has more parameters than
    /// [`CertifyOptions::spectrum_max_params`], so minimum and saddle were not told apart.
    Stationary,
    /// None of the above: the run stopped while still moving.
    Unconverged,
}

crate::named::named_enum!(EndKind, "end state", {
    ZeroLoss => "zero_loss",
    Minimum => "minimum",
    Saddle => "saddle",
    Channel => "channel",
    Stationary => "stationary",
    Unconverged => "unconverged",
});

/// The thresholds of the certificate.
///
/// ```
/// use gradflow::landscape::CertifyOptions;
/// let o = CertifyOptions::default();
/// assert_eq!((o.loss_floor, o.gnorm_tol, o.eig_rel_tol), (1e-20, 1e-10, 1e-9));
/// assert_eq!((o.channel_cosine_distance, o.channel_min_cancellation), (1e-2, 2.0));
/// assert_eq!((o.channel_min_exponent, o.channel_min_norm_growth), (0.05, 1.0));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct CertifyOptions {
    /// Mean loss at or below which a run is at `zero_loss`.
    pub loss_floor: f64,
    /// ∞-norm of the mean gradient at or below which a point is stationary.
    pub gnorm_tol: f64,
    /// A stationary point is a minimum when `λ_min ≥ −eig_rel_tol·λ_max`.
    pub eig_rel_tol: f64,
    /// Largest cosine distance `1 − cos` between the input vectors (with bias) of a channel's
    /// neurons. The Flat Channels paper used 10⁻³ after long runs (‖θ‖ > 10³); at minutes of
    /// training the demo's channels are younger (pairs at 5·10⁻³ with outgoing weights ≈ 13 and
    /// still growing), hence 10⁻².
    pub channel_cosine_distance: f64,
    /// Smallest cancellation `Σ‖a_k‖ − ‖Σ a_k‖` of a channel bundle's outgoing weights (see
    /// [`find_channels`]).
    pub channel_min_cancellation: f64,
    /// Smallest power-law exponent `α` of the loss, `L ∝ t^−α`, over the last two decades of
    /// the flow's time.
    pub channel_min_exponent: f64,
    /// The parameter norm at the end over the norm at the start of that window must exceed
    /// this.
    pub channel_min_norm_growth: f64,
    /// Largest parameter count whose Hessian spectrum is computed (one `P × P` Hessian and
    /// its eigendecomposition, about 15 s at 4096 parameters); above it stationary points stay
    /// `stationary`.
    pub spectrum_max_params: usize,
}

impl Default for CertifyOptions {
    fn default() -> Self {
        CertifyOptions {
            loss_floor: 1e-20,
            gnorm_tol: 1e-10,
            eig_rel_tol: 1e-9,
            channel_cosine_distance: 1e-2,
            channel_min_cancellation: 2.0,
            channel_min_exponent: 0.05,
            channel_min_norm_growth: 1.0,
            spectrum_max_params: 4096,
        }
    }
}

impl CertifyOptions {
    /// Checks the thresholds (each error names the field).
    pub fn check(&self) -> Result<()> {
        let positive = [
            ("certify.loss_floor", self.loss_floor),
            ("certify.gnorm_tol", self.gnorm_tol),
            ("certify.eig_rel_tol", self.eig_rel_tol),
            (
                "certify.channel_cosine_distance",
                self.channel_cosine_distance,
            ),
            (
                "certify.channel_min_cancellation",
                self.channel_min_cancellation,
            ),
        ];
        for (field, v) in positive {
            if !(v.is_finite() && v > 0.0) {
                return Err(Error::invalid(field, "must be a positive number"));
            }
        }
        if !self.channel_min_exponent.is_finite() || !self.channel_min_norm_growth.is_finite() {
            return Err(Error::invalid(
                "certify.channel_min_exponent",
                "the channel thresholds must be finite",
            ));
        }
        Ok(())
    }
}

/// The share of an eigenvector carried by one hidden neuron (its incoming weights and bias and
/// its outgoing weights).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NeuronShare {
    /// Hidden layer, 1-based as in SPEC §2.
    pub layer: usize,
    /// Neuron index within the layer, 0-based.
    pub neuron: usize,
    /// `Σ v_i²` over the neuron's parameters (the eigenvector has unit norm).
    pub share: f64,
}

/// The power-law fit of the loss over the end of the flow: `L ≈ c·t^−exponent`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct PowerLaw {
    /// The exponent `α` (positive: falling).
    pub exponent: f64,
    /// Coefficient of determination of the log–log fit.
    pub r2: f64,
    /// First and last ODE time of the window.
    pub t_start: f64,
    /// Last ODE time of the window.
    pub t_end: f64,
    /// Trajectory points in the window.
    pub points: usize,
}

/// What a run ended at, and why we say so (`end_state` in records).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EndState {
    /// The state.
    pub kind: EndKind,
    /// Mean loss at the point (recomputed).
    pub loss: f64,
    /// ∞-norm of the mean gradient at the point (recomputed).
    pub gnorm: f64,
    /// Smallest Hessian eigenvalue of the mean loss (absent when the spectrum was not computed).
    pub lambda_min: Option<f64>,
    /// Largest Hessian eigenvalue.
    pub lambda_max: Option<f64>,
    /// Euclidean norm of the parameters.
    pub param_norm: f64,
    /// The norm at the end over the norm at the start of the power-law window (1 when a
    /// `maxnorm` barrier holds the norm at its radius).
    pub norm_growth: Option<f64>,
    /// The loss's power law over the end of the flow, where the trajectory has one.
    pub power_law: Option<PowerLaw>,
    /// Bundles of near-parallel neurons with large opposite outgoing weights (the channel
    /// candidates; the kind is `channel` only when the rest of the signature holds too).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub channels: Vec<ChannelBundle>,
    /// For saddles: the neurons carrying the eigenvector of `λ_min`, largest share first, until
    /// 90 % of it (at most 8).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub descent_support: Vec<NeuronShare>,
    /// The objective's loss resolution when it is above `loss_floor` (the infinite-data loss,
    /// [`crate::net::Objective::loss_resolution`]): the zero-loss threshold actually used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss_resolution: Option<f64>,
}

impl EndState {
    /// One line on the state and its evidence, e.g. `channel: layer 1 neurons 3,7 (cosine
    /// distance 2.1e-5, outgoing 41.2/39.8), loss ∝ t^-0.93, norm ×1.8`.
    pub fn summary(&self) -> String {
        let lambda = match (self.lambda_min, self.lambda_max) {
            (Some(a), Some(b)) => format!("λ_min {a:.2e}, λ_max {b:.2e}"),
            _ => "spectrum not computed".into(),
        };
        match self.kind {
            EndKind::ZeroLoss => match self.loss_resolution {
                Some(r) => format!(
                    "zero_loss: loss {:.2e}, at or below the objective's resolution {r:.1e}",
                    self.loss
                ),
                None => format!("zero_loss: loss {:.2e}", self.loss),
            },
            EndKind::Minimum => format!(
                "minimum: loss {:.2e}, gnorm {:.1e}, {lambda}",
                self.loss, self.gnorm
            ),
            EndKind::Saddle => {
                let who: Vec<String> = self
                    .descent_support
                    .iter()
                    .map(|s| format!("{}:{}", s.layer, s.neuron))
                    .collect();
                format!(
                    "saddle: loss {:.2e}, {lambda}, descent on neurons {}",
                    self.loss,
                    who.join(",")
                )
            }
            EndKind::Channel => {
                let bundles: Vec<String> = self
                    .channels
                    .iter()
                    .map(|b| {
                        let ids: Vec<String> = b.neurons.iter().map(usize::to_string).collect();
                        let outs: Vec<String> =
                            b.outgoing_norms.iter().map(|a| format!("{a:.1}")).collect();
                        format!(
                            "layer {} neurons {} (cosine distance {:.1e}, outgoing {})",
                            b.layer,
                            ids.join(","),
                            b.cosine_distance,
                            outs.join("/")
                        )
                    })
                    .collect();
                format!("channel: {}{}", bundles.join("; "), self.trend("loss"))
            }
            EndKind::Stationary => format!(
                "stationary: loss {:.2e}, gnorm {:.1e}, {lambda}",
                self.loss, self.gnorm
            ),
            EndKind::Unconverged if !(self.loss.is_finite() && self.gnorm.is_finite()) => {
                format!(
                    "unconverged: the loss or gradient is not finite (loss {:.2e}, gnorm {:.2e})",
                    self.loss, self.gnorm
                )
            }
            EndKind::Unconverged => format!(
                "unconverged: loss {:.2e}, gnorm {:.2e} above the tolerance{}",
                self.loss,
                self.gnorm,
                self.trend("flow's loss")
            ),
        }
    }

    /// `, <what> ∝ t^-α, norm ×g` for the parts of the trend that were measured.
    fn trend(&self, what: &str) -> String {
        let law = self
            .power_law
            .map(|l| format!(", {what} ∝ t^-{:.2}", l.exponent))
            .unwrap_or_default();
        let growth = self
            .norm_growth
            .map(|g| format!(", norm ×{g:.2}"))
            .unwrap_or_default();
        format!("{law}{growth}")
    }
}

/// Fits `ln L = ln c − α ln t` by least squares over the trajectory points with
/// `t ≥ t_last / 100` (the last two decades of time); `None` with fewer than 4 usable points.
pub fn power_law(trajectory: &[TrajectoryPoint]) -> Option<PowerLaw> {
    let usable: Vec<&TrajectoryPoint> = trajectory
        .iter()
        .filter(|p| p.t.is_finite() && p.t > 0.0 && p.loss.is_finite() && p.loss > 0.0)
        .collect();
    let t_last = usable.last()?.t;
    let window: Vec<(f64, f64)> = usable
        .iter()
        .filter(|p| p.t >= t_last / 100.0)
        .map(|p| (p.t.ln(), p.loss.ln()))
        .collect();
    let n = window.len();
    if n < 4 {
        return None;
    }
    let mx = window.iter().map(|p| p.0).sum::<f64>() / n as f64;
    let my = window.iter().map(|p| p.1).sum::<f64>() / n as f64;
    let sxx: f64 = window.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = window.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let syy: f64 = window.iter().map(|p| (p.1 - my).powi(2)).sum();
    if sxx <= 0.0 {
        return None;
    }
    let slope = sxy / sxx;
    let r2 = if syy > 0.0 {
        (sxy * sxy / (sxx * syy)).clamp(0.0, 1.0)
    } else {
        1.0
    };
    Some(PowerLaw {
        exponent: -slope,
        r2,
        t_start: usable
            .iter()
            .find(|p| p.t >= t_last / 100.0)
            .map_or(t_last, |p| p.t),
        t_end: t_last,
        points: n,
    })
}

/// The norm at the end of `trajectory`'s power-law window over the norm at its start.
fn norm_growth(trajectory: &[TrajectoryPoint], end_norm: f64, law: &PowerLaw) -> Option<f64> {
    let start = trajectory
        .iter()
        .find(|p| p.t >= law.t_start && p.norm.is_some())?
        .norm?;
    (start > 0.0).then(|| end_norm / start)
}

/// The neurons carrying most of the unit vector `v`: largest share first, until 90 % of it
/// (at most 8).
fn support(obj: &Objective<'_>, v: &[f64]) -> Vec<NeuronShare> {
    let spec = obj.spec();
    let layouts = spec.layouts();
    let mut shares = Vec::new();
    for l in 0..spec.depth() - 1 {
        let (lay, next) = (&layouts[l], &layouts[l + 1]);
        for u in 0..lay.rows {
            let incoming: f64 = (0..lay.ext_cols())
                .filter_map(|c| lay.ext(u, c))
                .map(|i| v[i] * v[i])
                .sum();
            let outgoing: f64 = (0..next.rows).map(|o| v[next.w(o, u)].powi(2)).sum();
            shares.push(NeuronShare {
                layer: l + 1,
                neuron: u,
                share: incoming + outgoing,
            });
        }
    }
    shares.sort_by(|a, b| b.share.total_cmp(&a.share));
    let mut out = Vec::new();
    let mut covered = 0.0;
    for s in shares {
        if covered >= 0.9 || out.len() == 8 {
            break;
        }
        covered += s.share;
        out.push(s);
    }
    out
}

/// Whether the channel signature holds: a bundle, the loss falling as a power law with
/// exponent at least `channel_min_exponent`, and the norm growing (not required when the
/// trajectory has no norms, as in records written before gradflow kept them).
fn is_channel(
    bundles: &[ChannelBundle],
    law: Option<PowerLaw>,
    growth: Option<f64>,
    opts: &CertifyOptions,
) -> bool {
    let falling = law.is_some_and(|l| l.exponent >= opts.channel_min_exponent);
    let growing = growth.is_none_or(|r| r > opts.channel_min_norm_growth);
    !bundles.is_empty() && falling && growing
}

/// The norm growth over the power-law window, 1 when the objective's `maxnorm` barrier holds
/// the norm at its radius (a run at the barrier no longer drifts to infinity).
fn growth_of(
    obj: &Objective<'_>,
    trajectory: &[TrajectoryPoint],
    end_norm: f64,
    law: Option<&PowerLaw>,
) -> Option<f64> {
    if let Some(m) = obj.regularisers().maxnorm
        && end_norm >= 0.99 * m
    {
        return Some(1.0);
    }
    law.and_then(|l| norm_growth(trajectory, end_norm, l))
}

/// The channel bundles at `x` when the whole channel signature holds there on `obj`, given the
/// flow's `trajectory` that led to it (`None` otherwise). Cheaper than [`certify`]: no Hessian.
///
/// # Errors
/// If `x` does not fit the objective's network.
pub fn detect_channel(
    obj: &Objective<'_>,
    x: &[f64],
    trajectory: &[TrajectoryPoint],
    opts: &CertifyOptions,
) -> Result<Option<Vec<ChannelBundle>>> {
    let bundles = find_channels(obj.spec(), x, opts)?;
    let law = power_law(trajectory);
    let end_norm = x.iter().map(|v| v * v).sum::<f64>().sqrt();
    let growth = growth_of(obj, trajectory, end_norm, law.as_ref());
    Ok(is_channel(&bundles, law, growth, opts).then_some(bundles))
}

/// Certifies the end state of a run at `x` on `obj` (the objective the run minimised), from
/// the point itself and the flow's `trajectory` (for the channel's power law and norm growth).
///
/// Loss and gradient are recomputed at `x`; the spectrum (one exact Hessian of the mean loss
/// and its eigendecomposition) is computed for every kind when `P ≤ spectrum_max_params`.
///
/// # Errors
/// Invalid options, a parameter vector of the wrong length, or a failed eigendecomposition.
pub fn certify(
    obj: &mut Objective<'_>,
    x: &[f64],
    trajectory: &[TrajectoryPoint],
    opts: &CertifyOptions,
) -> Result<EndState> {
    opts.check()?;
    obj.spec().check_params(x)?;
    let p = x.len();
    let scale = obj.mean_scale();
    let mut g = vec![0.0; p];
    let loss = obj.gradient_into(x, &mut g) * scale;
    let gnorm = inf_norm(&g) * scale;
    let param_norm = x.iter().map(|v| v * v).sum::<f64>().sqrt();
    let law = power_law(trajectory);
    let growth = growth_of(obj, trajectory, param_norm, law.as_ref());
    let channels = find_channels(obj.spec(), x, opts)?;
    let mut state = EndState {
        kind: EndKind::Unconverged,
        loss,
        gnorm,
        lambda_min: None,
        lambda_max: None,
        param_norm,
        norm_growth: growth,
        power_law: law,
        channels,
        descent_support: Vec::new(),
        loss_resolution: None,
    };
    if !(loss.is_finite() && gnorm.is_finite()) {
        return Ok(state);
    }
    // A Hessian that overflows (or a failed decomposition) leaves the spectrum out: the
    // certificate then says `stationary` rather than failing the run.
    let min_eigenvector = if p <= opts.spectrum_max_params {
        let mut h = vec![0.0; p * p];
        obj.hessian_into(x, &mut g, &mut h);
        h.iter_mut().for_each(|v| *v *= scale);
        lowest_eigenpair(&h, p).ok().map(|(lmin, v, lmax)| {
            state.lambda_min = Some(lmin);
            state.lambda_max = Some(lmax);
            v
        })
    } else {
        None
    };
    // Below the objective's resolution (the infinite-data loss: ~1e-15 and above) a loss is
    // round-off, and so is the sign that would otherwise decide `zero_loss` against `minimum`.
    let resolution = obj.loss_resolution();
    if resolution > opts.loss_floor {
        state.loss_resolution = Some(resolution);
    }
    state.kind = if loss <= opts.loss_floor.max(resolution) {
        EndKind::ZeroLoss
    } else if is_channel(&state.channels, law, growth, opts) {
        EndKind::Channel
    } else if gnorm > opts.gnorm_tol {
        EndKind::Unconverged
    } else {
        match (state.lambda_min, state.lambda_max, &min_eigenvector) {
            (Some(lmin), Some(lmax), Some(v)) => {
                if lmin >= -opts.eig_rel_tol * lmax.abs() {
                    EndKind::Minimum
                } else {
                    state.descent_support = support(obj, v);
                    EndKind::Saddle
                }
            }
            _ => EndKind::Stationary,
        }
    };
    Ok(state)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::{RefineConfig, Refiner, refine};
    use crate::reference::Problem;

    fn point(t: f64, loss: f64, norm: f64) -> TrajectoryPoint {
        TrajectoryPoint {
            t,
            loss,
            gnorm: f64::NAN,
            wall: 0.0,
            x: None,
            norm: Some(norm),
        }
    }

    #[test]
    fn the_power_law_fit_recovers_a_known_exponent_over_the_last_two_decades() {
        // Exponential decay first, then L = 3 t^-0.7 over t ∈ [10, 10⁴].
        let mut tr: Vec<TrajectoryPoint> = (0..5)
            .map(|k| point(0.1 * k as f64, (-(k as f64)).exp(), 1.0))
            .collect();
        tr.extend((4..=16).map(|k| {
            let t = 10f64.powf(k as f64 / 4.0);
            point(t, 3.0 * t.powf(-0.7), 1.0)
        }));
        let law = power_law(&tr).unwrap();
        assert!(
            (law.exponent - 0.7).abs() < 1e-12 && law.r2 > 1.0 - 1e-12,
            "{law:?}"
        );
        assert_eq!((law.t_start, law.t_end, law.points), (100.0, 1e4, 9));
        assert!(power_law(&tr[..3]).is_none());
    }

    fn narrow_minimum() -> (Problem, Vec<f64>) {
        // One neuron for a teacher of two: the best single neuron is a minimum.
        let p = Problem::teacher_student(2, 2, 1, 400, 777, 5).unwrap();
        let cfg = RefineConfig {
            refiner: Some(Refiner::NewtonTr),
            maxtime_optim: 20.0,
            ..Default::default()
        };
        let r = refine(&mut p.objective(), &p.start, &cfg).unwrap();
        (p, r.x)
    }

    #[test]
    fn certificates_of_a_teacher_a_minimum_and_a_start() {
        let opts = CertifyOptions::default();
        let p = Problem::teacher_student(2, 2, 2, 400, 777, 5).unwrap();
        let t = p.teacher.as_ref().unwrap();
        let mut obj = Objective::new(&t.spec, &p.data, crate::net::Loss::Mse).unwrap();
        let at_teacher = certify(&mut obj, &t.params, &[], &opts).unwrap();
        assert_eq!(at_teacher.kind, EndKind::ZeroLoss, "{at_teacher:?}");
        assert!(at_teacher.lambda_min.unwrap() > -1e-12);

        let (p, x) = narrow_minimum();
        let min = certify(&mut p.objective(), &x, &[], &opts).unwrap();
        assert_eq!(min.kind, EndKind::Minimum, "{}", min.summary());
        assert!(min.loss > 1e-6 && min.gnorm <= opts.gnorm_tol);
        assert!(min.lambda_min.unwrap() >= -opts.eig_rel_tol * min.lambda_max.unwrap());

        let start = certify(&mut p.objective(), &p.start, &[], &opts).unwrap();
        assert_eq!(start.kind, EndKind::Unconverged);
        assert!(start.gnorm > opts.gnorm_tol);
    }

    /// On the infinite-data loss a loss at the round-off floor (either sign) is `zero_loss`,
    /// with the resolution used in the record and the summary; sample losses keep the floor.
    #[test]
    fn the_population_loss_is_zero_at_its_resolution() {
        use crate::net::population::PopulationOptions;
        let opts = CertifyOptions::default();
        let t = crate::teacher::TeacherConfig::paper(4, 3, 0)
            .build()
            .unwrap();
        let mut obj = Objective::population(&t.spec, &t, &PopulationOptions::default()).unwrap();
        let r = obj.loss_resolution();
        assert!(r > 1e-15 && r < 1e-10, "{r}");
        // The teacher (loss at the round-off floor, either sign) and a point 3e-7 from it (a
        // true loss ~1e-14: far above `loss_floor`, below the resolution).
        let mut x = t.params.clone();
        for tiny in [0.0, 3e-7] {
            x[0] = t.params[0] + tiny;
            let s = certify(&mut obj, &x, &[], &opts).unwrap();
            assert!(s.loss.abs() <= r, "{s:?}");
            assert!(tiny == 0.0 || s.loss > 1e3 * opts.loss_floor, "{s:?}");
            assert_eq!(s.kind, EndKind::ZeroLoss, "{}", s.summary());
            assert_eq!(s.loss_resolution, Some(r));
            assert!(s.summary().contains("resolution"), "{}", s.summary());
        }
        // Clearly above it: not zero_loss.
        x[0] = t.params[0] + 1e-3;
        let s = certify(&mut obj, &x, &[], &opts).unwrap();
        assert!(s.loss > 1e3 * r && s.kind != EndKind::ZeroLoss, "{s:?}");
        // Sample losses resolve ~1e-30: no resolution recorded.
        let p = Problem::teacher_student(2, 2, 2, 400, 777, 5).unwrap();
        let tt = p.teacher.as_ref().unwrap();
        let mut sam = Objective::new(&tt.spec, &p.data, crate::net::Loss::Mse).unwrap();
        assert!(sam.loss_resolution() <= 0.0);
        assert_eq!(
            certify(&mut sam, &tt.params, &[], &opts)
                .unwrap()
                .loss_resolution,
            None
        );
    }

    #[test]
    fn a_split_minimum_is_a_saddle_on_one_side_of_the_split_with_its_descent_on_the_pair() {
        // Splitting the narrow minimum's neuron (outgoing γa, (1 − γ)a) gives stationary points
        // of the wider network; by Fukumizu & Amari (2000) they are saddles for γ inside (0, 1)
        // or outside it (or both), depending on the sign of one curvature matrix.
        let (p, x) = narrow_minimum();
        let spec = crate::net::NetSpec::shallow(2, 2, crate::net::Activation::G, 1);
        let mut obj = Objective::new(&spec, &p.data, crate::net::Loss::Mse).unwrap();
        let mut saddles = 0;
        for gamma in [0.3, 1.5] {
            // 2-1-1 layout: W (2), b (1), a (1), c (1) → 2-2-1: W (4), b (2), a (2), c (1).
            let a = x[3];
            let split = [
                x[0],
                x[1],
                x[0],
                x[1],
                x[2],
                x[2],
                gamma * a,
                (1.0 - gamma) * a,
                x[4],
            ];
            let s = certify(&mut obj, &split, &[], &CertifyOptions::default()).unwrap();
            assert!(s.gnorm < 1e-12, "{}", s.summary());
            match s.kind {
                EndKind::Saddle => {
                    saddles += 1;
                    // Descent separates the pair; the output bias carries none of it.
                    let share: f64 = s.descent_support.iter().map(|n| n.share).sum();
                    assert!(share > 0.9, "{:?}", s.descent_support);
                    assert!(s.lambda_min.unwrap() < -1e-6 * s.lambda_max.unwrap());
                }
                EndKind::Minimum => assert!(s.lambda_min.unwrap() > -1e-12),
                other => panic!("{other}: {}", s.summary()),
            }
        }
        assert!(saddles >= 1);
    }
}
