//! `gradflow teacher`: its options and library entry point.
//!
//! ```
//! use gradflow::teacher::command::TeacherConfigArgs;
//! let t = TeacherConfigArgs::default();
//! assert_eq!((t.d, t.r, t.activation.name(), t.index), (4, 4, "g", 0));
//! assert_eq!(t.n_standardise, 100_000);
//! ```

use serde::{Deserialize, Serialize};

use super::construction::{DEFAULT_STANDARDISE_SAMPLES, TeacherConfig};
use super::family::{FamilyMember, PAPER_SAMPLES, paper_family, paper_seed};
use crate::error::{Error, Result};
use crate::net::{Activation, Network};

/// Options of `gradflow teacher`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct TeacherConfigArgs {
    /// Input dimension of a shallow paper teacher.
    pub d: usize,
    /// Hidden width of a shallow paper teacher.
    pub r: usize,
    /// Widths `d,k1,…,kL` of a deep teacher (overrides --d/--r), e.g. `8,4,2,1`.
    pub widths: Option<Vec<usize>>,
    /// Hidden activation.
    pub activation: Activation,
    /// Teacher seed (default: the paper seed of (d, r, index): 10000·d + 100·r + index).
    pub seed: Option<u64>,
    /// Index of the teacher within its (d, r) cell, used for the default seed.
    pub index: usize,
    /// Write the whole 150-teacher paper family into the output folder.
    pub family: bool,
    /// Size of the standardisation sample.
    pub n_standardise: usize,
}

impl Default for TeacherConfigArgs {
    fn default() -> Self {
        TeacherConfigArgs {
            d: 4,
            r: 4,
            widths: None,
            activation: Activation::G,
            seed: None,
            index: 0,
            family: false,
            n_standardise: DEFAULT_STANDARDISE_SAMPLES,
        }
    }
}

impl TeacherConfigArgs {
    /// The construction this configuration describes (single teacher).
    pub fn teacher_config(&self) -> Result<TeacherConfig> {
        let widths = match &self.widths {
            Some(w) => w.clone(),
            None => vec![self.d, self.r, 1],
        };
        if widths.len() < 3 {
            return Err(Error::invalid(
                "widths",
                "give at least input, hidden and output widths, e.g. 4,4,1",
            ));
        }
        let seed = self
            .seed
            .unwrap_or_else(|| paper_seed(widths[0], widths[1], self.index));
        Ok(TeacherConfig {
            widths,
            activation: self.activation.clone(),
            seed,
            n_standardise: self.n_standardise,
        })
    }
}

/// A built teacher with its provenance.
pub struct BuiltTeacher {
    /// The construction.
    pub config: TeacherConfig,
    /// Its family position, for family members.
    pub member: Option<FamilyMember>,
    /// The network.
    pub network: Network,
}

impl BuiltTeacher {
    /// Provenance for the network file's `"meta"`.
    pub fn meta(&self) -> serde_json::Value {
        serde_json::json!({
            "teacher": self.config,
            "family_member": self.member,
            "seed": self.config.seed,
            "data": {"samples": PAPER_SAMPLES, "stream": super::STREAM_DATA, "seed": self.config.seed},
            "gradflow_version": env!("CARGO_PKG_VERSION"),
        })
    }
}

/// Builds the teacher(s) of `gradflow teacher`: one, or the paper family (with `--family`,
/// `--activation` still applies).
pub fn run_teacher(args: &TeacherConfigArgs) -> Result<Vec<BuiltTeacher>> {
    if args.family {
        paper_family()
            .into_iter()
            .map(|m| {
                let mut config = m.config();
                config.activation = args.activation.clone();
                config.n_standardise = args.n_standardise;
                let network = config.build()?;
                Ok(BuiltTeacher {
                    config,
                    member: Some(m),
                    network,
                })
            })
            .collect()
    } else {
        let config = args.teacher_config()?;
        let network = config.build()?;
        Ok(vec![BuiltTeacher {
            config,
            member: None,
            network,
        }])
    }
}
