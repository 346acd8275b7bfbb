//! The Adam update (Kingma & Ba 2015, Algorithm 1) with β₁ = 0.9, β₂ = 0.999, ε = 1e-8, shared
//! by the fixed-step flow baseline, the first-order student path and teacher training.

/// Adam's moment estimates for `n` parameters.
#[derive(Clone, Debug)]
pub(crate) struct Adam {
    m1: Vec<f64>,
    m2: Vec<f64>,
    /// Steps taken so far (the bias corrections use it).
    steps: i32,
}

impl Adam {
    pub(crate) fn new(n: usize) -> Self {
        Adam {
            m1: vec![0.0; n],
            m2: vec![0.0; n],
            steps: 0,
        }
    }

    /// One step with gradient `grad`; the learning rate of parameter `i` is `lr(i)`.
    pub(crate) fn step(&mut self, x: &mut [f64], grad: &[f64], lr: impl Fn(usize) -> f64) {
        let (b1, b2, eps) = (0.9f64, 0.999f64, 1e-8);
        self.steps = self.steps.saturating_add(1);
        let (c1, c2) = (1.0 - b1.powi(self.steps), 1.0 - b2.powi(self.steps));
        for i in 0..x.len() {
            self.m1[i] = b1 * self.m1[i] + (1.0 - b1) * grad[i];
            self.m2[i] = b2 * self.m2[i] + (1.0 - b2) * grad[i] * grad[i];
            x[i] -= lr(i) * (self.m1[i] / c1) / ((self.m2[i] / c2).sqrt() + eps);
        }
    }
}
