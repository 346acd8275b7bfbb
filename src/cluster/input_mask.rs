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
