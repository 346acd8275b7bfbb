//! The tasks of a study: its teachers, the (teacher, ρ) groups, their student seeds, and how
//! shards split them.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::config::StudyConfig;
use crate::error::{Error, Result};
use crate::io::read_network_record;
use crate::net::Network;
use crate::teacher::{TeacherConfig, paper_seed};

/// Where a study's teacher comes from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TeacherSource {
    /// Member `index` of the paper family's `(d, r)` cell.
    Family {
        /// Index within the cell.
        index: usize,
    },
    /// A deep synthetic teacher.
    Deep,
    /// A network file.
    File {
        /// The file.
        path: PathBuf,
    },
    /// A data set without a teacher.
    Data {
        /// The file.
        path: PathBuf,
    },
}

/// What the results and the report need to know about a teacher.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TeacherInfo {
    /// Identifier, e.g. `d4_r4_i0`, `deep_8-4-2-1_s1` or a file stem.
    pub id: String,
    /// Input dimension.
    pub d: usize,
    /// Width of the first hidden layer.
    pub r: usize,
    /// Hidden widths.
    pub hidden: Vec<usize>,
    /// Seed of the data stream.
    pub data_seed: u64,
    /// Provenance.
    pub source: TeacherSource,
}

/// A teacher of a study with its network — or a data set, the problem of a study without
/// a teacher.
#[derive(Clone, Debug)]
pub struct StudyTeacher {
    /// Description.
    pub info: TeacherInfo,
    /// The network (`None` for a data set).
    pub network: Option<Network>,
    /// The data of a data set (`None`: sampled from the teacher).
    pub data: Option<std::sync::Arc<crate::net::Dataset>>,
    /// Hidden activation of the students.
    pub activation: crate::net::Activation,
    /// Outputs of the students.
    pub outputs: usize,
}

impl StudyTeacher {
    fn of_network(info: TeacherInfo, network: Network) -> Self {
        StudyTeacher {
            info,
            activation: network.spec.layers[0].activation.clone(),
            outputs: network.spec.output_dim(),
            network: Some(network),
            data: None,
        }
    }
}

fn info_of(id: String, net: &Network, data_seed: u64, source: TeacherSource) -> TeacherInfo {
    let hidden: Vec<usize> = (1..net.spec.depth()).map(|l| net.spec.width(l)).collect();
    TeacherInfo {
        id,
        d: net.spec.input_dim,
        r: hidden.first().copied().unwrap_or(0),
        hidden,
        data_seed,
        source,
    }
}

/// Builds the teachers of `cfg` in order: family (by `d`, `r`, index), deep, files.
pub fn study_teachers(cfg: &StudyConfig) -> Result<Vec<StudyTeacher>> {
    let mut out = Vec::new();
    if let Some(f) = &cfg.family {
        for &d in &f.dims {
            for &r in &f.widths {
                for index in 0..f.teachers {
                    let seed = paper_seed(d, r, index);
                    let mut tc = TeacherConfig::paper(d, r, seed);
                    tc.activation = f.activation.clone();
                    let network = tc.build()?;
                    let id = format!("d{d}_r{r}_i{index}");
                    let info = info_of(id, &network, seed, TeacherSource::Family { index });
                    out.push(StudyTeacher::of_network(info, network));
                }
            }
        }
    }
    for t in &cfg.deep {
        let tc = TeacherConfig {
            widths: t.widths.clone(),
            activation: t.activation.clone(),
            seed: t.seed,
            n_standardise: crate::teacher::DEFAULT_STANDARDISE_SAMPLES,
        };
        let network = tc.build()?;
        let shape: Vec<String> = t.widths.iter().map(usize::to_string).collect();
        let id = format!("deep_{}_s{}", shape.join("-"), t.seed);
        let info = info_of(id, &network, t.seed, TeacherSource::Deep);
        out.push(StudyTeacher::of_network(info, network));
    }
    for path in &cfg.teacher_files {
        let rec = read_network_record(path)?;
        let network = rec.to_network().map_err(|e| e.in_file(path))?;
        if network.spec.depth() < 2 {
            return Err(Error::invalid("teacher", "has no hidden layer").in_file(path));
        }
        let seed = rec.data_seed();
        let stem = path
            .file_stem()
            .map_or_else(|| "teacher".into(), |s| s.to_string_lossy().into_owned());
        let source = TeacherSource::File { path: path.clone() };
        let info = info_of(stem, &network, seed, source);
        out.push(StudyTeacher::of_network(info, network));
    }
    for p in &cfg.datasets {
        let data = crate::io::read_data(&crate::io::DataSource::parse(&p.path.to_string_lossy())?)?;
        let id = p.name.clone().unwrap_or_else(|| {
            p.path
                .file_stem()
                .map_or_else(|| "data".into(), |s| s.to_string_lossy().into_owned())
        });
        out.push(StudyTeacher {
            info: TeacherInfo {
                id,
                d: data.input_dim(),
                r: p.hidden[0],
                hidden: p.hidden.clone(),
                data_seed: 0,
                source: TeacherSource::Data {
                    path: p.path.clone(),
                },
            },
            network: None,
            activation: p.activation.clone(),
            outputs: data.output_dim(),
            data: Some(std::sync::Arc::new(data)),
        });
    }
    let mut ids: Vec<&str> = out.iter().map(|t| t.info.id.as_str()).collect();
    ids.sort_unstable();
    if let Some(w) = ids.windows(2).find(|w| w[0] == w[1]) {
        return Err(Error::invalid(
            "study: teachers",
            format!("two teachers are named `{}`", w[0]),
        ));
    }
    Ok(out)
}

/// One (teacher, ρ) group: its students, and its recovery when the study recovers.
#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    /// Position of the teacher in [`study_teachers`].
    pub teacher: usize,
    /// Width ratio.
    pub rho: usize,
    /// Student seeds.
    pub seeds: Vec<u64>,
    /// Position of the group in the whole grid (used for sharding).
    pub index: usize,
}

/// Assigns every group of `groups` (the whole grid, in grid order) to one of `n` shards
/// (0-based), balancing their estimated costs: groups in decreasing order of
/// [`Group::cost_weight`] (ties by [`Group::shard_key`]), each to the least-loaded shard so far
/// (Graham's longest-processing-time-first rule). The assignment depends only on the
/// configuration, so every machine of an array computes the same one. Dealing groups
/// round-robin in grid order instead gives every shard of a multiple-of-4 array a single ρ, and
/// the ρ = 8 shards all the expensive work.
pub fn assign_shards(groups: &[Group], teachers: &[StudyTeacher], n: usize) -> Vec<usize> {
    let mut order: Vec<(f64, u64, usize)> = groups
        .iter()
        .enumerate()
        .map(|(i, g)| (g.cost_weight(teachers), g.shard_key(teachers), i))
        .collect();
    order.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let mut load = vec![0.0_f64; n.max(1)];
    let mut out = vec![0; groups.len()];
    for (w, _, i) in order {
        let s = (0..load.len())
            .min_by(|&a, &b| load[a].total_cmp(&load[b]).then(a.cmp(&b)))
            .unwrap_or(0);
        load[s] += w;
        out[i] = s;
    }
    out
}

/// 64-bit FNV-1a hash (Fowler, Noll & Vo): stable across platforms and versions.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

impl Group {
    /// Estimated relative cost of the group: students × `p²·(1 + p/1000)` with `p` the
    /// students' parameter count (a step costs one Hessian, `N·p²`, and one factorisation,
    /// `p³`; fitted roughly to the per-step times of `experiments/synthetic150/cost.toml`).
    pub fn cost_weight(&self, teachers: &[StudyTeacher]) -> f64 {
        let t = &teachers[self.teacher];
        let mut widths = vec![t.info.d];
        widths.extend(t.info.hidden.iter().map(|w| w * self.rho));
        widths.push(t.outputs);
        let p: usize = widths.windows(2).map(|w| (w[0] + 1) * w[1]).sum();
        let p = p as f64;
        self.seeds.len() as f64 * p * p * (1.0 + p / 1000.0)
    }

    /// Tie-breaker of the shard assignment: the FNV-1a hash of `<teacher id>/rho<ρ>`.
    pub fn shard_key(&self, teachers: &[StudyTeacher]) -> u64 {
        fnv1a(format!("{}/rho{}", teachers[self.teacher].info.id, self.rho).as_bytes())
    }

    /// Folder of the group's results, relative to the study folder: `tasks/<teacher>/rho<ρ>`.
    pub fn dir(&self, teachers: &[StudyTeacher]) -> PathBuf {
        Path::new("tasks")
            .join(&teachers[self.teacher].info.id)
            .join(format!("rho{}", self.rho))
    }

    /// Folder of the results of `method` (the group's folder, or its subfolder named after
    /// the method in a study with a methods axis).
    pub fn method_dir(&self, teachers: &[StudyTeacher], method: Option<&str>) -> PathBuf {
        match method {
            None => self.dir(teachers),
            Some(m) => self.dir(teachers).join(m),
        }
    }
}

/// The groups of the whole grid, teachers outermost, then ρ in configuration order.
pub fn groups(cfg: &StudyConfig, teachers: &[StudyTeacher]) -> Vec<Group> {
    let mut out = Vec::new();
    for (t, teacher) in teachers.iter().enumerate() {
        let n = cfg.students_for(teacher.info.r) as u64;
        for &rho in &cfg.rhos {
            out.push(Group {
                teacher: t,
                rho,
                seeds: (cfg.first_seed..cfg.first_seed + n).collect(),
                index: out.len(),
            });
        }
    }
    out
}

/// Shard `i` of `n` (1-based), as assigned by [`assign_shards`]. A group's students and its
/// recovery stay in one shard, so shards never need each other's results; the `n` shards cover
/// the grid exactly once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// This shard, `1..=n`.
    pub index: usize,
    /// Number of shards.
    pub count: usize,
}

impl Shard {
    /// The whole grid.
    pub const ALL: Shard = Shard { index: 1, count: 1 };

    /// Whether a group assigned to shard `assigned` (0-based, from [`assign_shards`]) belongs
    /// to this shard.
    pub fn owns(&self, assigned: usize) -> bool {
        assigned + 1 == self.index
    }
}

impl FromStr for Shard {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let bad = || Error::invalid("shard", format!("`{s}` is not `i/n` with 1 ≤ i ≤ n"));
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count): (usize, usize) = (
            i.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if index == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_matches_the_published_test_vectors() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn shards_are_balanced_and_cover_every_group_once() {
        let cfg: StudyConfig = toml::from_str(
            "rhos = [1, 2, 4, 8]\nstudents = 2\n[family]\ndims = [2, 4]\nwidths = [2, 4]\nteachers = 2",
        )
        .unwrap();
        let teachers = study_teachers(&cfg).unwrap();
        let all = groups(&cfg, &teachers);
        for n in 1..7 {
            let a = assign_shards(&all, &teachers, n);
            assert_eq!(a.len(), all.len());
            for &assigned in &a {
                let owners = (1..=n)
                    .filter(|&i| Shard { index: i, count: n }.owns(assigned))
                    .count();
                assert_eq!(owners, 1);
            }
            // Greedy LPT: no shard exceeds the average by more than the largest group.
            let mut load = vec![0.0; n];
            for (g, &s) in all.iter().zip(&a) {
                load[s] += g.cost_weight(&teachers);
            }
            let total: f64 = load.iter().sum();
            let largest = all
                .iter()
                .map(|g| g.cost_weight(&teachers))
                .fold(0.0, f64::max);
            assert!(
                load.iter().all(|&l| l <= total / n as f64 + largest),
                "{load:?}"
            );
        }
        // The two most expensive groups (ρ = 8, d = 4, r = 4 and d = 2, r = 4) go to
        // different shards.
        let a = assign_shards(&all, &teachers, 2);
        let mut by_cost: Vec<usize> = (0..all.len()).collect();
        by_cost.sort_by(|&x, &y| {
            all[y]
                .cost_weight(&teachers)
                .total_cmp(&all[x].cost_weight(&teachers))
        });
        assert_ne!(a[by_cost[0]], a[by_cost[1]]);
    }

    #[test]
    fn shard_parsing_rejects_nonsense() {
        assert_eq!(
            "2/3".parse::<Shard>().unwrap(),
            Shard { index: 2, count: 3 }
        );
        for bad in ["0/3", "4/3", "3", "a/b", "1/0"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }
}
