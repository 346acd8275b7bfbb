//! From clustered neurons to a network: frozen layers, the output layer by least squares and
//! the affine correction (SPEC §8 step 4).

use faer::Mat;

use super::super::neuron::Neuron;
use super::students::Frozen;
use crate::error::{Error, Result};
use crate::net::{Activation, Dataset, LayerSpec, NetSpec, Network, SymmetryClass};

/// Activations of the last frozen layer (`N × k`, row-major) for every sample.
fn hidden_features(data: &Dataset, activation: &Activation, frozen: &[Frozen]) -> Vec<Vec<f64>> {
    let x = data.x();
    (0..data.n_samples())
        .map(|i| {
            let mut a: Vec<f64> = (0..data.input_dim()).map(|c| x[(i, c)]).collect();
            for f in frozen {
                a = f
                    .rows
                    .iter()
                    .zip(&f.bias)
                    .map(|(w, b)| {
                        activation.eval(w.iter().zip(&a).map(|(w, a)| w * a).sum::<f64>() + b)
                    })
                    .collect();
            }
            a
        })
        .collect()
}

/// The output layer by (weighted) least squares on the reconstructed hidden stack, with the
/// affine correction `Θ·input` of the last hidden layer for even+linear activations
/// (SPEC §8 step 4) represented by linear neuron pairs. Returns the full network and the
/// number of linear neurons added.
pub(super) fn reconstruct_output(
    data: &Dataset,
    activation: &Activation,
    mut frozen: Vec<Frozen>,
) -> Result<(Network, usize)> {
    let k = data.output_dim();
    let last = frozen.len() - 1;
    let inputs = hidden_features(data, activation, &frozen[..last]);
    let hidden = hidden_features(data, activation, &frozen);
    let m = frozen[last].rows.len();
    let din = frozen[last].rows.first().map_or(0, Vec::len);
    let linear = matches!(
        activation.symmetry(),
        SymmetryClass::EvenPlusLinear | SymmetryClass::EvenPlusLinearPositiveScaling
    );
    let cols = m + 1 + if linear { din } else { 0 };
    let sol = weighted_lstsq(data, cols, |i, c| {
        if c < m {
            hidden[i][c]
        } else if c == m {
            1.0
        } else {
            inputs[i][c - m - 1]
        }
    })?;
    // Linear pairs: σ(θ·u) − σ(−θ·u) = (1 + α)·θ·u for the even+linear classes.
    let gain = match activation {
        Activation::LeakyRelu { alpha } => 1.0 + alpha,
        _ => 1.0,
    };
    let mut out_rows: Vec<Vec<f64>> = (0..k)
        .map(|o| (0..m).map(|c| sol[(c, o)]).collect())
        .collect();
    let mut n_linear = 0;
    if linear {
        for o in 0..k {
            let theta: Vec<f64> = (0..din).map(|c| sol[(m + 1 + c, o)]).collect();
            if theta.iter().all(|t| t.abs() < 1e-12) {
                continue;
            }
            let neg: Vec<f64> = theta.iter().map(|t| -t).collect();
            frozen[last].rows.push(theta);
            frozen[last].rows.push(neg);
            frozen[last].bias.extend([0.0, 0.0]);
            for (oo, row) in out_rows.iter_mut().enumerate() {
                let v = if oo == o { 1.0 / gain } else { 0.0 };
                row.extend([v, -v]);
            }
            n_linear += 2;
        }
    }
    let out_bias: Vec<f64> = (0..k).map(|o| sol[(m, o)]).collect();
    let mut layers: Vec<LayerSpec> = frozen
        .iter()
        .map(|f| LayerSpec::new(f.rows.len(), activation.clone()))
        .collect();
    layers.push(LayerSpec::new(k, Activation::Identity));
    let spec = NetSpec::new(data.input_dim(), layers)?;
    let mut params = Vec::with_capacity(spec.n_params());
    for f in &frozen {
        for r in &f.rows {
            params.extend_from_slice(r);
        }
        params.extend_from_slice(&f.bias);
    }
    for r in &out_rows {
        params.extend_from_slice(r);
    }
    params.extend_from_slice(&out_bias);
    Ok((Network::new(spec, params)?, n_linear))
}

/// The minimum-norm solution of the (sample-weighted) least squares `A·X ≈ Y` over `data`,
/// `A[i, c] = cell(i, c)` with `cols` columns and `Y` the data's targets.
fn weighted_lstsq(
    data: &Dataset,
    cols: usize,
    cell: impl Fn(usize, usize) -> f64,
) -> Result<Mat<f64>> {
    let n = data.n_samples();
    let sw: Vec<f64> = match data.weights() {
        Some(w) => w.iter().map(|w| w.sqrt()).collect(),
        None => vec![1.0; n],
    };
    let a = Mat::from_fn(n, cols, |i, c| sw[i] * cell(i, c));
    let y = data.y();
    let rhs = Mat::from_fn(n, data.output_dim(), |i, o| sw[i] * y[(i, o)]);
    min_norm_lstsq(&a, &rhs)
}

/// The minimum-norm least-squares solution of `a·x = rhs` through the thin SVD, singular
/// values below `1e-12·σ_max` treated as zero: the columns may be dependent (an input constant
/// over the data in the affine term, two reconstructed neurons alike), where a pivoted QR
/// divides by zero.
fn min_norm_lstsq(a: &Mat<f64>, rhs: &Mat<f64>) -> Result<Mat<f64>> {
    let failed = |reason: String| Error::Numerical {
        routine: "output-layer least squares".into(),
        reason,
    };
    let (u, sv, v) = crate::dense::thin_svd(a.as_ref())
        .ok_or_else(|| failed("the SVD did not converge".into()))?;
    let smax = sv.iter().copied().fold(0.0, f64::max);
    let utb = crate::dense::mul(u.transpose(), rhs.as_ref());
    let scaled = Mat::from_fn(utb.nrows(), utb.ncols(), |i, o| {
        if sv[i] > 1e-12 * smax {
            utb[(i, o)] / sv[i]
        } else {
            0.0
        }
    });
    let sol = crate::dense::mul(v.as_ref(), scaled.as_ref());
    if (0..sol.nrows()).any(|c| (0..sol.ncols()).any(|o| !sol[(c, o)].is_finite())) {
        return Err(failed("non-finite solution".into()));
    }
    Ok(sol)
}

/// `net` with its output layer (weights and bias) replaced by the (weighted) least-squares fit
/// on its last hidden layer's activations; every hidden layer uses `activation`.
pub(super) fn refit_output(
    data: &Dataset,
    activation: &Activation,
    net: &Network,
) -> Result<Network> {
    let lays = net.spec.layouts();
    let (out, hidden_lays) = lays
        .split_last()
        .ok_or_else(|| Error::invalid("network", "has no layers"))?;
    let frozen: Vec<Frozen> = hidden_lays
        .iter()
        .map(|l| Frozen {
            rows: (0..l.rows)
                .map(|u| net.params[l.w(u, 0)..l.w(u, 0) + l.cols].to_vec())
                .collect(),
            bias: l
                .bias
                .as_ref()
                .map_or_else(|| vec![0.0; l.rows], |b| net.params[b.clone()].to_vec()),
        })
        .collect();
    let hidden = hidden_features(data, activation, &frozen);
    let m = out.cols;
    let cols = m + usize::from(out.bias.is_some());
    let sol = weighted_lstsq(data, cols, |i, c| if c < m { hidden[i][c] } else { 1.0 })?;
    let mut params = net.params.clone();
    for o in 0..out.rows {
        for c in 0..m {
            params[out.w(o, c)] = sol[(c, o)];
        }
        if let Some(b) = &out.bias {
            params[b.start + o] = sol[(m, o)];
        }
    }
    Network::new(net.spec.clone(), params)
}

pub(super) fn frozen_from(neurons: &[Neuron]) -> Frozen {
    let dim = neurons.first().map_or(0, |n| n.incoming.len() - 1);
    Frozen {
        rows: neurons.iter().map(|n| n.incoming[..dim].to_vec()).collect(),
        bias: neurons.iter().map(|n| n.incoming[dim]).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::{Loss, Objective};

    /// A relu teacher 3 → 2 → 2 whose first neuron is given flipped (`−w, −b`, as the
    /// canonical form may hold it): the least squares needs the affine term `w·x + b` in both
    /// outputs, which the linear pairs provide, and the fit is exact.
    #[test]
    fn flipped_relu_neurons_are_corrected_by_linear_pairs_for_every_output() {
        let w = [[1.0, -0.5, 0.3], [-0.8, 0.2, 1.1]];
        let b = [0.2, -0.4];
        let a = [[1.5, -0.7], [0.4, 0.9]];
        let c = [0.1, -0.3];
        let mut s = crate::rng::Stream::new(3, 0);
        let n = 200;
        let x: Vec<f64> = (0..n * 3).map(|_| s.normal()).collect();
        let y: Vec<f64> = (0..n)
            .flat_map(|i| {
                let h: Vec<f64> = (0..2)
                    .map(|j| {
                        (w[j]
                            .iter()
                            .zip(&x[3 * i..3 * i + 3])
                            .map(|(w, x)| w * x)
                            .sum::<f64>()
                            + b[j])
                            .max(0.0)
                    })
                    .collect();
                (0..2).map(move |o| a[o][0] * h[0] + a[o][1] * h[1] + c[o])
            })
            .collect();
        let data = Dataset::from_row_major(&x, 3, &y, 2).unwrap();
        let frozen = vec![Frozen {
            rows: vec![w[0].iter().map(|v| -v).collect(), w[1].to_vec()],
            bias: vec![-b[0], b[1]],
        }];
        let (net, linear) = reconstruct_output(&data, &Activation::Relu, frozen).unwrap();
        assert_eq!(linear, 4, "a linear pair per output");
        assert_eq!(net.spec.shape_string(), "3-6-2");
        let mut obj = Objective::new(&net.spec, &data, Loss::Mse).unwrap();
        let loss = obj.loss(&net.params) * obj.mean_scale();
        assert!(loss < 1e-24, "{loss}");
    }
}
