//! The paper's family of 150 shallow teachers (SPEC §7.4).
//!
//! `d ∈ {2, 4, 8, 16, 32}`, `r ∈ {2, 4, 8}`, ten teachers each, activation `g`. Teacher `i`
//! (0-based) of cell `(d, r)` has seed [`paper_seed`]`(d, r, i) = 10000·d + 100·r + i`
//! (e.g. 40400 for the first `d = 4, r = 4` teacher); its data set is 30 000 samples from stream
//! [`super::STREAM_DATA`] of the same seed.

use serde::{Deserialize, Serialize};

use super::construction::TeacherConfig;

/// Input dimensions of the family.
pub const PAPER_DIMS: [usize; 5] = [2, 4, 8, 16, 32];
/// Teacher widths of the family.
pub const PAPER_WIDTHS: [usize; 3] = [2, 4, 8];
/// Teachers per `(d, r)` cell.
pub const PAPER_TEACHERS_PER_CELL: usize = 10;
/// Samples per data set.
pub const PAPER_SAMPLES: usize = 30_000;

/// Seed of teacher `i` of cell `(d, r)`.
pub fn paper_seed(d: usize, r: usize, i: usize) -> u64 {
    (10_000 * d + 100 * r + i) as u64
}

/// One member of the family.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FamilyMember {
    /// Input dimension.
    pub d: usize,
    /// Teacher width.
    pub r: usize,
    /// Index within the cell (0-based).
    pub index: usize,
    /// Seed.
    pub seed: u64,
}

impl FamilyMember {
    /// The teacher's configuration.
    pub fn config(&self) -> TeacherConfig {
        TeacherConfig::paper(self.d, self.r, self.seed)
    }

    /// File stem used when writing the family, e.g. `teacher_d4_r4_i0`.
    pub fn stem(&self) -> String {
        format!("teacher_d{}_r{}_i{}", self.d, self.r, self.index)
    }
}

/// All 150 members, ordered by `d`, `r`, index.
pub fn paper_family() -> Vec<FamilyMember> {
    let mut out = Vec::with_capacity(150);
    for d in PAPER_DIMS {
        for r in PAPER_WIDTHS {
            for index in 0..PAPER_TEACHERS_PER_CELL {
                out.push(FamilyMember {
                    d,
                    r,
                    index,
                    seed: paper_seed(d, r, index),
                });
            }
        }
    }
    out
}
