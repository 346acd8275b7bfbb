//! Studies (SPEC §7, §9): grids of teachers × ρ × student seeds, with or without
//! Expand-and-Cluster on every (teacher, ρ) group — the library side of `gradflow study`.
//!
//! Every task (one student, or one group's recovery) writes one result file atomically under
//! `tasks/<teacher>/rho<ρ>/`, so a study that is killed resumes where it stopped, losing only
//! the tasks in flight. `--shard i/n` splits the grid by groups, balanced by estimated cost so that `n` machines cover it
//! exactly once; [`crate::report`] reads one or several study folders.
//!
//! ```
//! use gradflow::study::{Shard, StudyConfig, assign_shards, groups, study_teachers};
//! let cfg: StudyConfig = toml::from_str(r#"
//!     rhos = [1, 2]
//!     students = 3
//!     [family]
//!     dims = [2]
//!     widths = [2]
//!     teachers = 2
//! "#).unwrap();
//! let teachers = study_teachers(&cfg)?;
//! let all = groups(&cfg, &teachers);
//! assert_eq!(all.len(), 4); // 2 teachers × 2 ρ, 3 students each
//! let assigned = assign_shards(&all, &teachers, 3);
//! let owned = |i: usize| {
//!     let shard = Shard { index: i, count: 3 };
//!     all.iter().filter(|g| shard.owns(assigned[g.index])).count()
//! };
//! assert_eq!(owned(1) + owned(2) + owned(3), 4); // each group in exactly one shard
//! assert!((1..=3).all(|i| owned(i) >= 1)); // balanced by estimated cost
//! # Ok::<(), gradflow::Error>(())
//! ```

pub mod config;
pub mod grid;
mod log;
pub mod method;
pub mod results;
pub mod run;

pub use config::{
    DataProblem, DeepTeacher, FamilyGrid, RecoveryOptions, StudyConfig, read_study_config,
};
pub use grid::{
    Group, Shard, StudyTeacher, TeacherInfo, TeacherSource, assign_shards, groups, study_teachers,
};
pub use method::MethodSpec;
pub use results::{RecoveryResult, StudentResult, StudyResults, read_results};
pub use run::{StudyRun, run_study};
