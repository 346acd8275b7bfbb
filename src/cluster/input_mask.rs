//! Inputs that carry no information for the clustering: constant or nearly constant over the
//! query set (the corners of handwritten digits and MNIST).
//!
//! A student's weights on such an input are not determined by the data (on an exactly
//! constant input only the sum with the bias is), so they differ from student to student and
//! would dominate the distances between copies of one teacher neuron; the teacher's weights on
//! them cannot be recovered either. The paper masks MNIST's uninformative pixels with Boruta
//! (Kursa & Rudnicki 2010); gradflow uses the simpler rule below, compared with Boruta in
//! `experiments/digits/`.

use crate::net::Dataset;

/// The inputs whose standard deviation over `data` is at most `max_relative_std` times the
/// largest input standard deviation (0: exactly constant inputs only), in increasing order.
///
/// ```
/// use gradflow::net::Dataset;
/// use gradflow::cluster::uninformative_inputs;
/// // Input 0 varies, input 1 is constant, input 2 barely varies.
/// let x = [0.0, 5.0, 0.0, 1.0, 5.0, 0.0, 2.0, 5.0, 1e-4];
/// let data = Dataset::from_row_major(&x, 3, &[0.0; 3], 1).unwrap();
/// assert_eq!(uninformative_inputs(&data, 0.0), vec![1]);
/// assert_eq!(uninformative_inputs(&data, 1e-2), vec![1, 2]);
/// ```
pub fn uninformative_inputs(data: &Dataset, max_relative_std: f64) -> Vec<usize> {
    let x = data.x();
    let n = data.n_samples() as f64;
    let std: Vec<f64> = (0..data.input_dim())
        .map(|j| {
            let col = x.col(j);
            let mean = col.iter().sum::<f64>() / n;
            (col.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n).sqrt()
        })
        .collect();
    let largest = std.iter().copied().fold(0.0, f64::max);
    std.iter()
        .enumerate()
        .filter(|&(_, &s)| s <= max_relative_std * largest || s == 0.0)
        .map(|(j, _)| j)
        .collect()
}

/// The mean of every input over `data`.
pub fn input_means(data: &Dataset) -> Vec<f64> {
    let x = data.x();
    let n = data.n_samples() as f64;
    (0..data.input_dim())
        .map(|j| x.col(j).iter().sum::<f64>() / n)
        .collect()
}

/// Folds the weights on the `masked` inputs into the bias at the inputs' `means`
/// (`b ← b + Σ w_i·mean_i`, `w_i ← 0`) in a first-layer incoming vector `[w; b]`: exact for
/// constant inputs, whose weight and the bias are not separately determined (only their sum
/// is); for nearly constant ones it drops `w_i·(x_i − mean_i)`, which the fine-tuning restores.
pub fn fold_into_bias(incoming: &mut [f64], masked: &[usize], means: &[f64]) {
    let Some((b, w)) = incoming.split_last_mut() else {
        return;
    };
    for &i in masked {
        if let (Some(wi), Some(m)) = (w.get_mut(i), means.get(i)) {
            *b += *wi * m;
            *wi = 0.0;
        }
    }
}

/// [`fold_into_bias`] applied to every neuron of the first layer of `net` (which needs a
/// bias there; otherwise the network is returned unchanged).
pub fn fold_network_inputs(
    net: &crate::net::Network,
    masked: &[usize],
    means: &[f64],
) -> crate::net::Network {
    let mut out = net.clone();
    let Some(lay) = net.spec.layouts().into_iter().next() else {
        return out;
    };
    let Some(b) = lay.bias.clone() else {
        return out;
    };
    for j in 0..lay.rows {
        let mut v: Vec<f64> = out.params[lay.w(j, 0)..lay.w(j, 0) + lay.cols].to_vec();
        v.push(out.params[b.start + j]);
        fold_into_bias(&mut v, masked, means);
        out.params[lay.w(j, 0)..lay.w(j, 0) + lay.cols].copy_from_slice(&v[..lay.cols]);
        out.params[b.start + j] = v[lay.cols];
    }
    out
}
