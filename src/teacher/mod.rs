//! Teachers (SPEC §7): the paper's synthetic construction, its 150-teacher family, deep
//! teachers, classifiers trained on labelled data, and data sets sampled from any network.

mod classifier;
pub mod command;
pub mod construction;
pub mod family;
pub mod inputs;

pub use classifier::{
    ClassifierOptions, ClassifierReport, ClassifierStop, logit_network, train_classifier,
};
pub use construction::{
    DEFAULT_STANDARDISE_SAMPLES, STREAM_DATA, STREAM_NEURONS, STREAM_STANDARDISE, TeacherConfig,
};
pub use family::{FamilyMember, PAPER_SAMPLES, paper_family, paper_seed};
pub use inputs::InputDistribution;

use crate::error::Result;
use crate::net::{Dataset, Loss, Network, Objective};
use crate::rng::Stream;

/// Samples `n` inputs from `dist` with stream [`STREAM_DATA`] of `seed` and labels them with the
/// network's outputs.
pub fn sample_data(net: &Network, n: usize, dist: InputDistribution, seed: u64) -> Result<Dataset> {
    let d = net.spec.input_dim;
    let k = net.spec.output_dim();
    let mut rng = Stream::new(seed, STREAM_DATA);
    let x = dist.sample(&mut rng, n, d);
    let placeholder = Dataset::from_row_major(&x, d, &vec![0.0; n * k], k)?;
    let loss = Loss::for_spec(&net.spec);
    let y = Objective::new(&net.spec, &placeholder, loss)?.predict(&net.params);
    Dataset::from_row_major(&x, d, &y, k)
}
