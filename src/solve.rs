//! `gradflow solve`: train students on a teacher's data or a data set, many seeds in parallel.
//!
//! ```
//! use gradflow::solve::SolveConfig;
//! let c = SolveConfig::default();
//! assert_eq!(c.seeds.0, vec![0, 1, 2, 3]);
//! assert_eq!((c.samples, c.activation.name()), (30_000, "g"));
//! assert!(c.teacher.is_none() && c.data.is_none()); // the built-in demo
//! ```

use std::path::PathBuf;
use std::str::FromStr;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::flow::FlowConfig;
use crate::io::{DataSource, read_data, read_network_record};
use crate::monitor::ProgressFn;
use crate::net::{Activation, Dataset, Init, LayerSpec, Loss, NetSpec, Network};
use crate::optim::RefineConfig;
use crate::rng::Stream;
use crate::teacher::command::parse_activation;
use crate::teacher::{InputDistribution, TeacherConfig, paper_seed, sample_data};
use crate::train::{RunRecord, train};

/// A list of seeds: `a..b` (half-open), `a..=b`, a single number, or a comma list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeedList(pub Vec<u64>);

impl FromStr for SeedList {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let bad = || {
            Error::invalid(
                "--seeds",
                format!("`{s}` is not `a..b`, `a..=b`, `n` or `a,b,c`"),
            )
        };
        let s = s.trim();
        let seeds = if let Some((a, b)) = s.split_once("..=") {
            let (a, b): (u64, u64) = (a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?);
            (a..=b).collect()
        } else if let Some((a, b)) = s.split_once("..") {
            let (a, b): (u64, u64) = (a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?);
            (a..b).collect()
        } else {
            s.split(',')
                .map(|t| t.trim().parse::<u64>().map_err(|_| bad()))
                .collect::<Result<Vec<_>>>()?
        };
        if seeds.is_empty() {
            return Err(bad());
        }
        Ok(SeedList(seeds))
    }
}

impl Serialize for SeedList {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de> Deserialize<'de> for SeedList {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        Ok(SeedList(Vec::<u64>::deserialize(d)?))
    }
}

fn parse_seeds(s: &str) -> std::result::Result<SeedList, String> {
    s.parse().map_err(|e: Error| e.to_string())
}

/// Options of `gradflow solve`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, clap::Args)]
#[serde(default)]
pub struct SolveConfig {
    /// Hidden width of a one-hidden-layer student.
    #[arg(long, conflicts_with_all = ["layers", "rho"])]
    pub width: Option<usize>,
    /// Hidden widths of a deeper student, e.g. `16,8`.
    #[arg(long, value_delimiter = ',', conflicts_with = "rho")]
    pub layers: Option<Vec<usize>>,
    /// Student width relative to the teacher's hidden width (needs --teacher or the demo).
    #[arg(long)]
    pub rho: Option<usize>,
    /// Hidden activation of the student.
    #[arg(long, default_value = "g", value_parser = parse_activation)]
    pub activation: Activation,
    /// Teacher network file: data are sampled from it.
    #[arg(long, conflicts_with = "data")]
    pub teacher: Option<PathBuf>,
    /// Data set (`.npz`, `X.npy,Y.npy`, `.csv`) instead of a teacher.
    #[arg(long)]
    pub data: Option<String>,
    /// Samples drawn from the teacher.
    #[arg(long, default_value_t = 30_000)]
    pub samples: usize,
    /// Seed of the teacher's data stream (default: the teacher's seed recorded in its file).
    #[arg(long)]
    pub data_seed: Option<u64>,
    /// Student seeds: `a..b`, `a..=b`, `n` or `a,b,c`.
    #[arg(long, default_value = "0..4", value_parser = parse_seeds)]
    pub seeds: SeedList,
    /// Worker threads (one run per thread; default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Initialisation of the students.
    #[arg(long, value_enum, default_value_t = Init::GlorotNormal)]
    pub init: Init,
    /// Gradient-flow options.
    #[command(flatten)]
    pub flow: FlowConfig,
    /// Refinement options.
    #[command(flatten)]
    pub refine: RefineConfig,
}

impl Default for SolveConfig {
    fn default() -> Self {
        SolveConfig {
            width: None,
            layers: None,
            rho: None,
            activation: Activation::G,
            teacher: None,
            data: None,
            samples: 30_000,
            data_seed: None,
            seeds: SeedList(vec![0, 1, 2, 3]),
            threads: None,
            init: Init::GlorotNormal,
            flow: FlowConfig::default(),
            refine: RefineConfig::default(),
        }
    }
}

/// The resolved problem of a solve: data, student architecture, optional teacher.
pub struct SolveProblem {
    /// The data.
    pub data: Dataset,
    /// Student architecture.
    pub student: NetSpec,
    /// The loss.
    pub loss: Loss,
    /// The teacher, when known.
    pub teacher: Option<Network>,
    /// Human-readable description.
    pub description: String,
}

/// Resolves the data and the student of `cfg` (the demo without --teacher/--data).
pub fn resolve_problem(cfg: &SolveConfig) -> Result<SolveProblem> {
    let (data, teacher, description) = match (&cfg.teacher, &cfg.data) {
        (Some(path), _) => {
            let rec = read_network_record(path)?;
            let t = rec.to_network().map_err(|e| e.in_file(path))?;
            let seed = cfg.data_seed.unwrap_or_else(|| {
                rec.meta
                    .as_ref()
                    .and_then(|m| m.get("seed"))
                    .and_then(serde_json::Value::as_u64)
                    .unwrap_or(0)
            });
            let data = sample_data(&t, cfg.samples, InputDistribution::Uniform, seed)?;
            let d = format!(
                "teacher {} ({}), {} samples (seed {seed})",
                path.display(),
                t.spec.shape_string(),
                cfg.samples
            );
            (data, Some(t), d)
        }
        (None, Some(text)) => {
            let src = DataSource::parse(text)?;
            let data = read_data(&src)?;
            let d = format!("data {src} ({} samples)", data.n_samples());
            (data, None, d)
        }
        (None, None) => {
            let seed = paper_seed(4, 4, 0);
            let t = TeacherConfig::paper(4, 4, seed).build()?;
            let data = sample_data(&t, cfg.samples, InputDistribution::Uniform, seed)?;
            let d = format!(
                "demo: paper teacher d=4 r=4 (g, seed {seed}), {} samples",
                cfg.samples
            );
            (data, Some(t), d)
        }
    };
    let teacher_hidden = teacher
        .as_ref()
        .filter(|t| t.spec.depth() >= 2)
        .map(|t| t.spec.layers[0].width);
    let hidden: Vec<usize> = match (&cfg.layers, cfg.width, cfg.rho) {
        (Some(l), _, _) => l.clone(),
        (None, Some(w), _) => vec![w],
        (None, None, rho) => {
            let r = teacher_hidden.ok_or_else(|| {
                Error::invalid(
                    "student",
                    "give --width or --layers (--rho needs a teacher)",
                )
            })?;
            vec![r * rho.unwrap_or(4)]
        }
    };
    if hidden.is_empty() || hidden.contains(&0) {
        return Err(Error::invalid("student", "hidden widths must be positive"));
    }
    let k = data.output_dim();
    let mut layers: Vec<LayerSpec> = hidden
        .iter()
        .map(|&w| LayerSpec::new(w, cfg.activation.clone()))
        .collect();
    layers.push(LayerSpec::new(k, Activation::Identity));
    let student = NetSpec::new(data.input_dim(), layers)?;
    Ok(SolveProblem {
        loss: Loss::Mse,
        data,
        student,
        teacher,
        description,
    })
}

/// Trains every seed of `cfg` in parallel (rayon, one run per thread). `on_done` is called
/// with each finished record as soon as it exists (to write it at once); `progress` builds a
/// progress callback per seed.
pub fn run_solve(
    cfg: &SolveConfig,
    problem: &SolveProblem,
    progress: impl Fn(u64) -> Option<ProgressFn> + Sync,
    on_done: impl Fn(&Result<RunRecord>, u64) + Sync,
) -> Result<Vec<(u64, Result<RunRecord>)>> {
    if cfg.threads == Some(0) {
        return Err(Error::invalid("--threads", "must be at least 1"));
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(cfg.threads.unwrap_or(0))
        .build()
        .map_err(|e| Error::invalid("--threads", e.to_string()))?;
    let config = serde_json::to_value(cfg).map_err(|e| Error::invalid("config", e.to_string()))?;
    let results = pool.install(|| {
        cfg.seeds
            .0
            .par_iter()
            .map(|&seed| {
                let x0 = cfg.init.draw(&problem.student, &mut Stream::new(seed, 0));
                let r = train(
                    &problem.student,
                    &problem.data,
                    problem.loss,
                    &x0,
                    seed,
                    &cfg.flow,
                    &cfg.refine,
                    config.clone(),
                    progress(seed),
                );
                on_done(&r, seed);
                (seed, r)
            })
            .collect()
    });
    Ok(results)
}

/// Reads a solve configuration from a TOML file (any subset of the options; the rest keep
/// their defaults). Keys are the option names with underscores, the gradient-flow options in a
/// `[flow]` table and the refinement options in a `[refine]` table, e.g.
///
/// ```toml
/// width = 16
/// seeds = [0, 1, 2]
/// [flow]
/// integrator = "kencarp58"
/// maxtime_ode = 60.0
/// [refine]
/// refiner = "newton-tr"
/// maxtime_optim = 60.0
/// ```
///
/// A `.json` file is read as a run record of `gradflow solve` (its `"config"`) or a plain JSON
/// configuration, so that a run can be repeated from its own record.
pub fn read_config(path: &std::path::Path) -> Result<SolveConfig> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::from(e).in_file(path))?;
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
    {
        let v: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| Error::format(format!("invalid JSON: {e}")).in_file(path))?;
        let cfg = v.get("config").cloned().unwrap_or(v);
        return serde_json::from_value(cfg)
            .map_err(|e| Error::format(format!("invalid configuration: {e}")).in_file(path));
    }
    toml::from_str(&text).map_err(|e| {
        Error::format(format!(
            "invalid configuration: {}",
            e.to_string().replace('\n', " ")
        ))
        .in_file(path)
    })
}

/// Overrides the fields of `base` named in `explicit` (command-line argument ids) with the
/// values of `cli`: flags given on the command line win over the configuration file.
pub fn merge_explicit(
    base: &SolveConfig,
    cli: &SolveConfig,
    explicit: &[String],
) -> Result<SolveConfig> {
    let to_value = |c: &SolveConfig| {
        serde_json::to_value(c).map_err(|e| Error::invalid("config", e.to_string()))
    };
    let mut merged = to_value(base)?;
    let cli = to_value(cli)?;
    for id in explicit {
        let candidates = [
            (None, id.as_str()),
            (Some("flow"), id.as_str()),
            (Some("refine"), id.strip_suffix("_optim").unwrap_or(id)),
            (Some("refine"), id.as_str()),
        ];
        for (table, key) in candidates {
            let src = match table {
                None => cli.get(key),
                Some(t) => cli.get(t).and_then(|v| v.get(key)),
            };
            if let Some(v) = src {
                let dst = match table {
                    None => merged.get_mut(key),
                    Some(t) => merged.get_mut(t).and_then(|m| m.get_mut(key)),
                };
                if let Some(d) = dst {
                    *d = v.clone();
                    break;
                }
            }
        }
    }
    serde_json::from_value(merged).map_err(|e| Error::invalid("config", e.to_string()))
}
