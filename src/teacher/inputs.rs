//! Input distributions for synthetic data.

use serde::{Deserialize, Serialize};

use crate::rng::Stream;

/// The distribution of synthetic inputs; both have zero mean and unit variance per coordinate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InputDistribution {
    /// `U[−√3, √3]^d` (the paper's choice).
    #[default]
    Uniform,
    /// `N(0, I_d)`.
    Gaussian,
}

crate::named::named_enum!(InputDistribution, "input distribution", {
    Uniform => "uniform", Gaussian => "gaussian",
});

impl InputDistribution {
    /// `n` inputs of dimension `d`, row-major.
    pub fn sample(self, rng: &mut Stream, n: usize, d: usize) -> Vec<f64> {
        let s3 = 3f64.sqrt();
        (0..n * d)
            .map(|_| match self {
                InputDistribution::Uniform => rng.uniform_in(-s3, s3),
                InputDistribution::Gaussian => rng.normal(),
            })
            .collect()
    }
}
