//! Where a problem's data come from — the built-in demo, a teacher network file or a data file —
//! resolved in one place for `solve`, `recover` and the study.
//!
//! ```
//! use gradflow::io::ProblemSource;
//! let demo = ProblemSource::Demo { samples: 500 }.load()?;
//! assert_eq!((demo.data.n_samples(), demo.data.input_dim()), (500, 4));
//! assert!(demo.teacher.is_some());
//! # Ok::<(), gradflow::Error>(())
//! ```

use std::path::PathBuf;

use super::{DataSource, read_data, read_network_record};
use crate::error::Result;
use crate::net::{Dataset, Network};
use crate::teacher::{InputDistribution, TeacherConfig, paper_seed, sample_data};

/// The demo problem's teacher: the first paper teacher with `d = 4`, `r = 4` (activation `g`).
pub fn demo_teacher() -> Result<(Network, u64)> {
    let seed = paper_seed(4, 4, 0);
    Ok((TeacherConfig::paper(4, 4, seed).build()?, seed))
}

/// The origin of a problem's data.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ProblemSource {
    /// The built-in demo: `samples` inputs from the paper teacher of [`demo_teacher`] on its own
    /// data stream.
    Demo {
        /// Samples drawn.
        samples: usize,
    },
    /// A teacher network file; `samples` inputs drawn from the uniform distribution on the data
    /// stream `data_seed` (default: the seed recorded in the file, see
    /// [`NetworkRecord::data_seed`](super::network_file::NetworkRecord::data_seed)).
    Teacher {
        /// The network file.
        path: PathBuf,
        /// Samples drawn.
        samples: usize,
        /// Seed of the data stream.
        data_seed: Option<u64>,
    },
    /// A data file; `teacher`, when given, is the network known to have produced it (for the
    /// metrics of a recovery).
    Data {
        /// The data file(s).
        data: DataSource,
        /// The true network, if known.
        teacher: Option<PathBuf>,
    },
}

/// Data loaded from a [`ProblemSource`].
#[derive(Clone, Debug)]
pub struct LoadedProblem {
    /// The data.
    pub data: Dataset,
    /// The teacher, when known.
    pub teacher: Option<Network>,
    /// One line saying where the data came from.
    pub description: String,
}

impl ProblemSource {
    /// Reads or samples the data (and the teacher).
    pub fn load(&self) -> Result<LoadedProblem> {
        match self {
            ProblemSource::Demo { samples } => {
                let (t, seed) = demo_teacher()?;
                let data = sample_data(&t, *samples, InputDistribution::Uniform, seed)?;
                Ok(LoadedProblem {
                    data,
                    teacher: Some(t),
                    description: format!(
                        "demo: paper teacher d=4 r=4 (g, seed {seed}), {samples} samples"
                    ),
                })
            }
            ProblemSource::Teacher {
                path,
                samples,
                data_seed,
            } => {
                let rec = read_network_record(path)?;
                let t = rec.to_network().map_err(|e| e.in_file(path))?;
                let seed = data_seed.unwrap_or_else(|| rec.data_seed());
                let data = sample_data(&t, *samples, InputDistribution::Uniform, seed)?;
                let description = format!(
                    "teacher {} ({}), {samples} samples (seed {seed})",
                    path.display(),
                    t.spec.shape_string(),
                );
                Ok(LoadedProblem {
                    data,
                    teacher: Some(t),
                    description,
                })
            }
            ProblemSource::Data { data, teacher } => {
                let ds = read_data(data)?;
                let teacher = match teacher {
                    Some(p) => Some(super::read_network(p)?),
                    None => None,
                };
                Ok(LoadedProblem {
                    description: format!("data {data} ({} samples)", ds.n_samples()),
                    data: ds,
                    teacher,
                })
            }
        }
    }
}
