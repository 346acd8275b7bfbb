//! Parameter initialisation (SPEC §2): Glorot weights, zero biases, from an explicit seed.

use serde::{Deserialize, Serialize};

use super::spec::NetSpec;
use crate::rng::Stream;

/// How initial weights are drawn. Biases always start at zero.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Init {
    /// `W ~ N(0, 2/(fan_in + fan_out))` (Glorot & Bengio 2010).
    #[default]
    GlorotNormal,
    /// `W ~ U[−a, a]`, `a = √(6/(fan_in + fan_out))`.
    GlorotUniform,
}

crate::named::named_enum!(Init, "initialisation", {
    GlorotNormal => "glorot_normal", GlorotUniform => "glorot_uniform",
});

impl Init {
    /// Draws a flat parameter vector for `spec` from `rng`.
    pub fn draw(self, spec: &NetSpec, rng: &mut Stream) -> Vec<f64> {
        let mut params = vec![0.0; spec.n_params()];
        for layout in spec.layouts() {
            let fan = (layout.rows + layout.cols) as f64;
            for p in &mut params[layout.weight.clone()] {
                *p = match self {
                    Init::GlorotNormal => (2.0 / fan).sqrt() * rng.normal(),
                    Init::GlorotUniform => {
                        let a = (6.0 / fan).sqrt();
                        rng.uniform_in(-a, a)
                    }
                };
            }
        }
        params
    }

    /// Draws from a fresh stream of `seed` (stream 0).
    pub fn draw_seeded(self, spec: &NetSpec, seed: u64) -> Vec<f64> {
        self.draw(spec, &mut Stream::new(seed, 0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::Activation;

    #[test]
    fn glorot_scale_and_zero_biases() {
        let spec = NetSpec::shallow(30, 50, Activation::Tanh, 2);
        let p = Init::GlorotNormal.draw_seeded(&spec, 3);
        let l = &spec.layouts()[0];
        let w = &p[l.weight.clone()];
        let var = w.iter().map(|x| x * x).sum::<f64>() / w.len() as f64;
        assert!((var - 2.0 / 80.0).abs() < 0.1 * 2.0 / 80.0, "{var}");
        assert!(
            p[l.bias.clone().unwrap()]
                .iter()
                .all(|b| b.abs() < f64::MIN_POSITIVE)
        );
        assert_eq!(p, Init::GlorotNormal.draw_seeded(&spec, 3));
        let u = Init::GlorotUniform.draw_seeded(&spec, 3);
        let a = (6.0f64 / 80.0).sqrt();
        assert!(u[l.weight.clone()].iter().all(|x| x.abs() <= a));
    }
}
