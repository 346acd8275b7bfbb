//! The memory cap of dense methods.
//!
//! Methods with dense `P × P` matrices (the implicit integrators' Jacobian and its
//! factorisation, the Newton refiners' Hessian and eigenvectors, BFGS's inverse Hessian) need
//! `8·k·P²` bytes for `k` matrices: 10⁵ parameters with three matrices are 240 GB. Before
//! allocating, such a method checks its need against a cap — by default half the machine's
//! memory — and refuses with an error naming the option, instead of aborting the process.

use crate::error::{Error, Result};

/// The machine's physical memory in bytes (`MemTotal` of `/proc/meminfo`), where readable.
pub fn machine_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// The default cap in GiB: half the machine's memory (8 GiB where it cannot be read).
///
/// ```
/// assert!(gradflow::memory::default_cap_gib() > 0.0);
/// ```
pub fn default_cap_gib() -> f64 {
    machine_memory().map_or(8.0, |b| b as f64 / 2.0 / GIB)
}

pub(crate) const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

/// GiB needed by `matrices` dense `n × n` matrices of `f64`.
pub fn dense_gib(matrices: usize, n: usize) -> f64 {
    8.0 * matrices as f64 * (n as f64) * (n as f64) / GIB
}

/// Refuses `method` when its `matrices` dense `n × n` matrices exceed `cap_gib` (the option
/// `field`; `None` = [`default_cap_gib`]).
pub fn check_dense(
    method: &str,
    matrices: usize,
    n: usize,
    cap_gib: Option<f64>,
    field: &'static str,
    lighter: &str,
) -> Result<()> {
    check_need(
        method,
        dense_gib(matrices, n),
        &format!("dense {n}×{n} matrices"),
        cap_gib,
        field,
        lighter,
    )
}

/// Refuses `method` when it needs more than `cap_gib` (the option `field`; `None` =
/// [`default_cap_gib`]) for `what`, `need_gib` GiB.
pub fn check_need(
    method: &str,
    need_gib: f64,
    what: &str,
    cap_gib: Option<f64>,
    field: &'static str,
    lighter: &str,
) -> Result<()> {
    let cap = cap_gib.unwrap_or_else(default_cap_gib);
    if cap.is_nan() || cap <= 0.0 {
        return Err(Error::invalid(field, "must be positive (GiB)"));
    }
    if need_gib > cap {
        return Err(Error::invalid(
            field,
            format!(
                "{method} needs about {need_gib:.1} GiB of {what}, above the cap of \
                 {cap:.1} GiB; raise the cap or choose {lighter}"
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_refuses_with_one_line_naming_the_field() {
        assert!(
            check_dense(
                "newton-tr",
                3,
                1000,
                Some(1.0),
                "refine.max_memory_gib",
                "lbfgs"
            )
            .is_ok()
        );
        let e = check_dense(
            "newton-tr",
            3,
            100_000,
            Some(8.0),
            "refine.max_memory_gib",
            "lbfgs",
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("refine.max_memory_gib"), "{e}");
        assert!(
            e.contains("223.5 GiB") && e.contains("lbfgs") && !e.contains('\n'),
            "{e}"
        );
    }
}
