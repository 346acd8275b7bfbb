//! The paper's teacher construction (SPEC §7; Martinelli, Şimşek, Gerstner & Brea, ICML 2024,
//! Appendix A), shallow and deep.
//!
//! For every hidden layer, neurons are drawn one at a time from the layer's stream:
//! `w ∈ {−1, 0, 1}^{k_in}` uniformly per entry (redrawn if `w = 0`), then
//! `b ∈ {−2√3/3, −√3/3, 0, √3/3, 2√3/3}` uniformly. A neuron whose `(w, b)` equals an earlier
//! neuron's of the same layer — or, for activations with a symmetry, its `(−w, −b)` — is
//! redrawn. Then `w ← 3w/‖w‖`, `b ← 3b`. Output weights are drawn from `{−1, 1}` (one per
//! output and last hidden unit).
//!
//! In a deep teacher, a hidden layer is drawn again (from the same stream) while some unit of
//! the layer below would get no outgoing weight: such a unit is dead, and the teacher's real
//! widths would be smaller than its nominal ones. (Teachers built before this rule whose
//! layers had no such unit are unchanged.)
//!
//! Deep teachers fold a batch-norm of each hidden layer's output over the standardisation
//! sample into the next hidden layer (`W ← W·diag(1/σ)`, `b ← b − W·μ/σ`), so every hidden unit
//! receives standardised inputs. Finally every output is standardised over the same sample:
//! `a ← a/std(y)`, `b_out = −mean(y)/std(y)` (population standard deviation).
//!
//! Streams of a teacher seed `s`: stream 0 draws the neurons, stream 1 the standardisation
//! sample (`n_standardise` inputs, default 10⁵, from `U[−√3, √3]^d`), and stream 2 is reserved
//! for the data set ([`super::sample_data`]).

use serde::{Deserialize, Serialize};

use super::inputs::InputDistribution;
use crate::error::{Error, Result};
use crate::net::{Activation, LayerSpec, NetSpec, Network, SymmetryClass};
use crate::rng::Stream;

/// Stream used to draw a teacher's neurons.
pub const STREAM_NEURONS: u64 = 0;
/// Stream of the standardisation sample.
pub const STREAM_STANDARDISE: u64 = 1;
/// Stream of a data set drawn for a teacher.
pub const STREAM_DATA: u64 = 2;

/// Default size of the standardisation sample.
pub const DEFAULT_STANDARDISE_SAMPLES: usize = 100_000;

/// Everything that determines a synthetic teacher.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TeacherConfig {
    /// Layer widths `[d, k_1, …, k_L]`: input dimension, hidden widths, outputs.
    pub widths: Vec<usize>,
    /// Activation of the hidden layers (the output layer is linear).
    pub activation: Activation,
    /// Teacher seed.
    pub seed: u64,
    /// Size of the standardisation sample.
    pub n_standardise: usize,
}

impl TeacherConfig {
    /// A shallow paper teacher `d → r → 1` with activation `g`.
    pub fn paper(d: usize, r: usize, seed: u64) -> Self {
        TeacherConfig {
            widths: vec![d, r, 1],
            activation: Activation::G,
            seed,
            n_standardise: DEFAULT_STANDARDISE_SAMPLES,
        }
    }

    /// Builds the teacher network.
    pub fn build(&self) -> Result<Network> {
        build_teacher(self)
    }
}

const BIAS_LEVELS: [f64; 5] = [-2.0, -1.0, 0.0, 1.0, 2.0];

/// Draws the neurons `(w, b)` (unscaled, integer lattice; `b` in units of `√3/3`) of a layer.
fn draw_layer(
    rng: &mut Stream,
    k_in: usize,
    width: usize,
    symmetric: bool,
    layer_no: usize,
) -> Result<Vec<(Vec<i8>, i8)>> {
    let mut neurons: Vec<(Vec<i8>, i8)> = Vec::with_capacity(width);
    let max_attempts = 100_000;
    let mut attempts = 0;
    while neurons.len() < width {
        attempts += 1;
        if attempts > max_attempts {
            return Err(Error::invalid(
                "teacher",
                format!(
                    "layer {layer_no}: cannot draw {width} distinct neurons with {k_in} inputs \
                     (only {} distinct ones exist)",
                    distinct_neurons(k_in, symmetric)
                ),
            ));
        }
        let w: Vec<i8> = (0..k_in).map(|_| rng.below(3) as i8 - 1).collect();
        if w.iter().all(|&v| v == 0) {
            continue;
        }
        let b = BIAS_LEVELS[rng.below(5)] as i8;
        let neg_w: Vec<i8> = w.iter().map(|v| -v).collect();
        let clash = neurons
            .iter()
            .any(|(w2, b2)| (*w2 == w && *b2 == b) || (symmetric && *w2 == neg_w && *b2 == -b));
        if !clash {
            neurons.push((w, b));
        }
    }
    Ok(neurons)
}

/// Number of distinct neurons the lattice offers.
fn distinct_neurons(k_in: usize, symmetric: bool) -> usize {
    let total = (3usize.saturating_pow(k_in as u32) - 1) * 5;
    if symmetric { total / 2 } else { total }
}

fn build_teacher(cfg: &TeacherConfig) -> Result<Network> {
    if cfg.widths.len() < 3 {
        return Err(Error::invalid(
            "teacher widths",
            "need at least input, one hidden layer and output (e.g. 4,4,1)",
        ));
    }
    if cfg.widths.contains(&0) {
        return Err(Error::invalid(
            "teacher widths",
            "every width must be positive",
        ));
    }
    if cfg.activation.is_softmax() {
        return Err(Error::invalid(
            "teacher activation",
            "softmax is not a hidden activation",
        ));
    }
    if cfg.n_standardise < 2 {
        return Err(Error::invalid("n_standardise", "needs at least 2 samples"));
    }
    let d = cfg.widths[0];
    let n_layers = cfg.widths.len() - 1;
    let mut layers: Vec<LayerSpec> = (1..n_layers)
        .map(|l| LayerSpec::new(cfg.widths[l], cfg.activation.clone()))
        .collect();
    layers.push(LayerSpec::new(cfg.widths[n_layers], Activation::Identity));
    let spec = NetSpec::new(d, layers)?;
    let layouts = spec.layouts();
    let mut params = vec![0.0; spec.n_params()];

    let mut rng = Stream::new(cfg.seed, STREAM_NEURONS);
    let symmetric = cfg.activation.symmetry() != SymmetryClass::None;
    let unit_b = 3f64.sqrt() / 3.0;
    for (l, lay) in layouts.iter().enumerate().take(n_layers - 1) {
        let mut neurons = draw_layer(&mut rng, lay.cols, lay.rows, symmetric, l + 1)?;
        // Deeper layers: redraw while a unit of the layer below has no outgoing weight (it
        // would be dead — invisible in the data, so the teacher would not have the widths it
        // claims).
        let mut redraws = 0;
        while l > 0 && (0..lay.cols).any(|v| neurons.iter().all(|(w, _)| w[v] == 0)) {
            redraws += 1;
            if redraws > 10_000 {
                return Err(Error::invalid(
                    "teacher",
                    format!(
                        "layer {}: cannot draw {} neurons that use all {} units below",
                        l + 1,
                        lay.rows,
                        lay.cols
                    ),
                ));
            }
            neurons = draw_layer(&mut rng, lay.cols, lay.rows, symmetric, l + 1)?;
        }
        for (u, (w, b)) in neurons.iter().enumerate() {
            let norm = (w.iter().map(|&v| f64::from(v * v)).sum::<f64>()).sqrt();
            for (v, &wv) in w.iter().enumerate() {
                params[lay.w(u, v)] = 3.0 * f64::from(wv) / norm;
            }
            params[lay.bias.as_ref().expect("hidden layers have biases").start + u] =
                3.0 * f64::from(*b) * unit_b;
        }
    }
    let out = &layouts[n_layers - 1];
    for u in 0..out.rows {
        for v in 0..out.cols {
            params[out.w(u, v)] = if rng.below(2) == 0 { -1.0 } else { 1.0 };
        }
    }

    // Standardisation sample, propagated layer by layer with folding.
    let n = cfg.n_standardise;
    let mut srng = Stream::new(cfg.seed, STREAM_STANDARDISE);
    let mut acts: Vec<f64> = InputDistribution::Uniform.sample(&mut srng, n, d); // row-major n × k
    for (l, lay) in layouts.iter().enumerate() {
        let (k, kin) = (lay.rows, lay.cols);
        if l >= 1 && l + 1 < n_layers {
            fold_standardisation(&mut params, lay, &acts, n);
        }
        if l + 1 == n_layers {
            // Output layer: standardise every output.
            let y = affine(&params, lay, &acts, n);
            for u in 0..k {
                let col: Vec<f64> = (0..n).map(|s| y[s * k + u]).collect();
                let (mean, std) = mean_std(&col);
                if std <= 1e-300 {
                    return Err(Error::invalid(
                        "teacher",
                        format!("output {u} is constant on the standardisation sample"),
                    ));
                }
                for v in 0..kin {
                    params[lay.w(u, v)] /= std;
                }
                let b = lay.bias.as_ref().expect("output has bias").start + u;
                params[b] = (params[b] - mean) / std;
            }
            break;
        }
        let mut z = affine(&params, lay, &acts, n);
        let act = &spec.layers[l].activation;
        for v in &mut z {
            *v = act.eval(*v);
        }
        acts = z;
    }
    Network::new(spec, params)
}

/// `W a + b` for every sample (row-major `n × k`).
fn affine(params: &[f64], lay: &crate::net::LayerLayout, acts: &[f64], n: usize) -> Vec<f64> {
    let (k, kin) = (lay.rows, lay.cols);
    let mut out = vec![0.0; n * k];
    for s in 0..n {
        let a = &acts[s * kin..(s + 1) * kin];
        for u in 0..k {
            let w = &params[lay.w(u, 0)..lay.w(u, 0) + kin];
            let b = lay.bias.as_ref().map_or(0.0, |b| params[b.start + u]);
            out[s * k + u] = w.iter().zip(a).map(|(w, a)| w * a).sum::<f64>() + b;
        }
    }
    out
}

/// Folds the standardisation of this layer's inputs into its weights and biases.
fn fold_standardisation(params: &mut [f64], lay: &crate::net::LayerLayout, acts: &[f64], n: usize) {
    let kin = lay.cols;
    let stats: Vec<(f64, f64)> = (0..kin)
        .map(|v| {
            let col: Vec<f64> = (0..n).map(|s| acts[s * kin + v]).collect();
            let (m, sd) = mean_std(&col);
            (m, if sd > 1e-300 { sd } else { 1.0 })
        })
        .collect();
    for u in 0..lay.rows {
        let mut shift = 0.0;
        for (v, &(m, sd)) in stats.iter().enumerate() {
            let w = params[lay.w(u, v)];
            shift += w * m / sd;
            params[lay.w(u, v)] = w / sd;
        }
        if let Some(b) = &lay.bias {
            params[b.start + u] -= shift;
        }
    }
}

/// Mean and population standard deviation.
pub(crate) fn mean_std(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n;
    (mean, var.sqrt())
}
