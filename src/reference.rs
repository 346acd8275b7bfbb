//! Reference problems with known answers, shared by tests, benchmarks and experiments.
//!
//! A teacher–student problem whose student has the teacher's architecture has a known global
//! minimum: the teacher's own parameters (loss exactly zero). [`Problem::teacher_student`]
//! builds such problems from the paper's teacher construction; [`Problem::benchmark`] builds
//! the networks the performance targets are stated for (`4-16-1`, `8-32-1`, `32-32-1`,
//! `16-64-32-1`, activation `g`, biases, `N = 30 000`).
//!
//! ```
//! use gradflow::reference::Problem;
//! let p = Problem::teacher_student(2, 2, 2, 200, 7, 0).unwrap();
//! let mut obj = p.objective();
//! assert!(obj.loss(&p.teacher.as_ref().unwrap().params) < 1e-28);
//! ```

use crate::error::{Error, Result};
use crate::net::{Activation, Dataset, Init, LayerSpec, Loss, NetSpec, Network, Objective};
use crate::teacher::{InputDistribution, TeacherConfig, sample_data};

/// A data set, a student architecture and a starting point (and the teacher when known).
#[derive(Clone, Debug)]
pub struct Problem {
    /// Short name, e.g. `4-16-1`.
    pub name: String,
    /// The data.
    pub data: Dataset,
    /// Student architecture.
    pub student: NetSpec,
    /// Student starting parameters (Glorot normal).
    pub start: Vec<f64>,
    /// The teacher that produced the data, when there is one.
    pub teacher: Option<Network>,
}

impl Problem {
    /// Paper teacher `d → r → 1` (activation `g`, seed `teacher_seed`, data from the same
    /// seed's data stream), `n` samples, student of width `m` initialised from `student_seed`.
    pub fn teacher_student(
        d: usize,
        r: usize,
        m: usize,
        n: usize,
        teacher_seed: u64,
        student_seed: u64,
    ) -> Result<Self> {
        let teacher = TeacherConfig::paper(d, r, teacher_seed).build()?;
        let data = sample_data(&teacher, n, InputDistribution::Uniform, teacher_seed)?;
        let student = NetSpec::shallow(d, m, Activation::G, 1);
        let start = Init::GlorotNormal.draw_seeded(&student, student_seed);
        Ok(Problem {
            name: format!("{d}-{m}-1 on teacher {d}-{r}-1"),
            data,
            student,
            start,
            teacher: Some(teacher),
        })
    }

    /// A benchmark network given as `d-k1-…-kL` (activation `g` in hidden layers, identity
    /// output, biases everywhere), on `n` samples from a paper teacher `d → 4 → k_L`.
    pub fn benchmark(shape: &str, n: usize) -> Result<Self> {
        let widths: Vec<usize> = shape
            .split('-')
            .map(|t| t.trim().parse::<usize>())
            .collect::<std::result::Result<_, _>>()
            .map_err(|_| {
                Error::invalid("benchmark shape", format!("`{shape}` is not d-k1-…-kL"))
            })?;
        if widths.len() < 2 {
            return Err(Error::invalid("benchmark shape", "needs at least d-kL"));
        }
        let (d, k) = (widths[0], *widths.last().expect("non-empty"));
        let teacher = TeacherConfig {
            widths: vec![d, 4, k],
            activation: Activation::G,
            seed: 1,
            n_standardise: 10_000,
        }
        .build()?;
        let data = sample_data(&teacher, n, InputDistribution::Uniform, 1)?;
        let mut layers: Vec<LayerSpec> = widths[1..widths.len() - 1]
            .iter()
            .map(|&w| LayerSpec::new(w, Activation::G))
            .collect();
        layers.push(LayerSpec::new(k, Activation::Identity));
        let student = NetSpec::new(d, layers)?;
        let start = Init::GlorotNormal.draw_seeded(&student, 2);
        Ok(Problem {
            name: shape.to_string(),
            data,
            student,
            start,
            teacher: Some(teacher),
        })
    }

    /// The demo problem of `gradflow solve`/`gradflow eval` without arguments: the first paper
    /// teacher with `d = 4`, `r = 4` (seed 40400), 30 000 samples, a `ρ = 4` student (16 hidden
    /// neurons) initialised from `student_seed`.
    pub fn demo(student_seed: u64) -> Result<Self> {
        Self::teacher_student(
            4,
            4,
            16,
            30_000,
            crate::teacher::paper_seed(4, 4, 0),
            student_seed,
        )
    }

    /// A channel to infinity with a known limit (Martinelli et al. 2025): the teacher is a
    /// 2-3-1 `g` network whose neurons 0 and 1 are the pair `w̄ ± εu` with outgoing weights
    /// `s/2 ± c/(2ε)` at `ε = 10⁻⁵` (nearly the limit `sσ(w̄·x) + c(u·x)σ'(w̄·x)`); the student is
    /// the same network at `ε = eps`, so gradient flow from it follows the channel (the pair
    /// closes, the outgoing weights diverge, the norm grows). 400 Gaussian samples.
    pub fn channel(eps: f64) -> Result<Self> {
        let spec = NetSpec::new(
            2,
            vec![
                LayerSpec::new(3, Activation::G),
                LayerSpec::new(1, Activation::Identity),
            ],
        )?;
        let teacher = Network::new(spec.clone(), channel_pair(1e-5))?;
        let data = sample_data(&teacher, 400, InputDistribution::Gaussian, 3)?;
        Ok(Problem {
            name: format!("channel-{eps}"),
            data,
            student: spec,
            start: channel_pair(eps),
            teacher: Some(teacher),
        })
    }

    /// The MSE objective of the student on the data.
    pub fn objective(&self) -> Objective<'_> {
        Objective::new(&self.student, &self.data, Loss::Mse)
            .expect("reference problems are consistent")
    }
}

/// The parameters of [`Problem::channel`]'s network at pair distance `eps`: neurons 0 and 1 are
/// `w̄ ± eps·u` (`w̄ = (1, −0.5; 0.3)`, `u = (0.2, 0.1; 0)`, weights; bias) with outgoing
/// weights `0.25 ± 0.5/eps`; neuron 2 is `(−0.7, 0.4; 0.1)` with outgoing weight 0.8; the
/// output bias is 0.05. Layout (SPEC §2): `W₁` row-major, `b₁`, `W₂`, `b₂`.
pub fn channel_pair(eps: f64) -> Vec<f64> {
    let (wbar, u) = ([1.0, -0.5, 0.3], [0.2, 0.1, 0.0]);
    let (s, c) = (0.5, 1.0);
    let wi: Vec<f64> = (0..3).map(|k| wbar[k] + eps * u[k]).collect();
    let wj: Vec<f64> = (0..3).map(|k| wbar[k] - eps * u[k]).collect();
    vec![
        wi[0],
        wi[1],
        wj[0],
        wj[1],
        -0.7,
        0.4,
        wi[2],
        wj[2],
        0.1,
        s / 2.0 + c / (2.0 * eps),
        s / 2.0 - c / (2.0 * eps),
        0.8,
        0.05,
    ]
}

/// The benchmark shapes of the performance targets.
pub const BENCHMARK_SHAPES: [&str; 4] = ["4-16-1", "8-32-1", "32-32-1", "16-64-32-1"];
