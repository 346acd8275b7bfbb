//! `gradflow teacher` and `gradflow data`: their options and library entry points.
//!
//! ```
//! use gradflow::teacher::command::{DataConfig, TeacherConfigArgs};
//! let t = TeacherConfigArgs::default();
//! assert_eq!((t.d, t.r, t.activation.name(), t.index), (4, 4, "g", 0));
//! assert_eq!(t.n_standardise, 100_000);
//! let d = DataConfig::default();
//! assert_eq!(d.samples, 30_000);
//! ```

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::construction::{DEFAULT_STANDARDISE_SAMPLES, TeacherConfig};
use super::family::{FamilyMember, PAPER_SAMPLES, paper_family, paper_seed};
use super::inputs::InputDistribution;
use crate::error::{Error, Result};
use crate::net::{Activation, Dataset, Network};

/// Parses an activation name for the command line.
pub fn parse_activation(s: &str) -> std::result::Result<Activation, String> {
    s.parse::<Activation>().map_err(|e| e.to_string())
}

/// Options of `gradflow teacher`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, clap::Args)]
#[serde(default)]
pub struct TeacherConfigArgs {
    /// Input dimension of a shallow paper teacher.
    #[arg(long, default_value_t = 4)]
    pub d: usize,
    /// Hidden width of a shallow paper teacher.
    #[arg(long, default_value_t = 4)]
    pub r: usize,
    /// Widths `d,k1,…,kL` of a deep teacher (overrides --d/--r), e.g. `8,4,2,1`.
    #[arg(long, value_delimiter = ',')]
    pub widths: Option<Vec<usize>>,
    /// Hidden activation.
    #[arg(long, default_value = "g", value_parser = parse_activation)]
    pub activation: Activation,
    /// Teacher seed (default: the paper seed of (d, r, index): 10000·d + 100·r + index).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Index of the teacher within its (d, r) cell, used for the default seed.
    #[arg(long, default_value_t = 0)]
    pub index: usize,
    /// Write the whole 150-teacher paper family into the output folder.
    #[arg(long)]
    pub family: bool,
    /// Size of the standardisation sample.
    #[arg(long, default_value_t = DEFAULT_STANDARDISE_SAMPLES)]
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
                "--widths",
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

/// Options of `gradflow data`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, clap::Args)]
#[serde(default)]
pub struct DataConfig {
    /// Network that labels the inputs.
    #[arg(long)]
    pub net: PathBuf,
    /// Number of samples.
    #[arg(short = 'n', long, default_value_t = PAPER_SAMPLES)]
    pub samples: usize,
    /// Seed of the data stream (default: the teacher seed recorded in the network file, else 0).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Input distribution.
    #[arg(long, value_enum, default_value_t = InputDistribution::Uniform)]
    pub inputs: InputDistribution,
}

impl Default for DataConfig {
    fn default() -> Self {
        DataConfig {
            net: PathBuf::new(),
            samples: PAPER_SAMPLES,
            seed: None,
            inputs: InputDistribution::Uniform,
        }
    }
}

/// Samples the data set of `gradflow data`; returns it with the seed used.
pub fn run_data(cfg: &DataConfig) -> Result<(Dataset, u64)> {
    if cfg.samples == 0 {
        return Err(Error::invalid("--samples", "must be at least 1"));
    }
    let record = crate::io::read_network_record(&cfg.net)?;
    let net = record.to_network().map_err(|e| e.in_file(&cfg.net))?;
    let seed = cfg.seed.unwrap_or_else(|| {
        record
            .meta
            .as_ref()
            .and_then(|m| m.get("seed"))
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(0)
    });
    Ok((
        super::sample_data(&net, cfg.samples, cfg.inputs, seed)?,
        seed,
    ))
}
