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

    /// The MSE objective of the student on the data.
    pub fn objective(&self) -> Objective<'_> {
        Objective::new(&self.student, &self.data, Loss::Mse)
            .expect("reference problems are consistent")
    }
}

/// The benchmark shapes of the performance targets.
pub const BENCHMARK_SHAPES: [&str; 4] = ["4-16-1", "8-32-1", "32-32-1", "16-64-32-1"];
