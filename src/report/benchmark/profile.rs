//! Dolan–Moré performance profiles and Moré–Wild data profiles of a cost matrix
//! `cost[method][problem]` (`None`: the method did not solve the problem).

/// A profile: a non-decreasing step function of a cost variable, the fraction of problems
/// solved.
#[derive(Clone, Debug, PartialEq)]
pub struct Profile {
    /// The costs (ratios or budgets) at which a problem is solved, ascending.
    pub steps: Vec<f64>,
    /// Number of problems.
    pub problems: usize,
}

impl Profile {
    /// The fraction of problems solved at cost `x`.
    pub fn at(&self, x: f64) -> f64 {
        if self.problems == 0 {
            return 0.0;
        }
        self.steps.partition_point(|&s| s <= x) as f64 / self.problems as f64
    }
}

/// Dolan–Moré performance profiles of `cost[method][problem]` (`None`: not solved): the ratio of
/// each method's cost to the least cost on the problem. A problem no method solves counts in
/// the denominator and is solved by none.
pub fn performance_profile(cost: &[Vec<Option<f64>>]) -> Vec<Profile> {
    let n = cost.first().map_or(0, Vec::len);
    let least: Vec<Option<f64>> = (0..n)
        .map(|p| {
            cost.iter()
                .filter_map(|c| c.get(p).copied().flatten())
                .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.min(v))))
        })
        .collect();
    cost.iter()
        .map(|c| {
            let mut steps: Vec<f64> = c
                .iter()
                .zip(&least)
                .filter_map(|(v, l)| {
                    let (v, l) = ((*v)?, (*l)?);
                    if !v.is_finite() || !l.is_finite() {
                        return None;
                    }
                    // Equal costs (also both zero) are ratio 1; a positive cost against a
                    // least cost of zero is not counted (an infinite ratio).
                    let r = if v <= l { 1.0 } else { v / l };
                    r.is_finite().then_some(r)
                })
                .collect();
            steps.sort_by(f64::total_cmp);
            Profile { steps, problems: n }
        })
        .collect()
}

/// Moré–Wild data profiles of `cost[method][problem]`: the fraction of problems solved within a
/// budget.
pub fn data_profile(cost: &[Vec<Option<f64>>]) -> Vec<Profile> {
    let n = cost.first().map_or(0, Vec::len);
    cost.iter()
        .map(|c| {
            let mut steps: Vec<f64> = c.iter().flatten().copied().collect();
            steps.sort_by(f64::total_cmp);
            Profile { steps, problems: n }
        })
        .collect()
}
