//! The expansion phase: probe widths with short runs and choose the students' width.

use super::students::Trainer;
use super::{Probe, RecoverOptions};
use crate::error::{Error, Result};
use crate::observe::{Stage, Watch};
use crate::train::RunRecord;

/// The expansion phase: probe widths in order with short runs; the first whose best probe
/// reaches `probe_loss` is chosen. If none does, the smallest width whose best probe is within
/// `probe_ratio` of the best probe overall (the knee of the loss-versus-width curve, paper
/// Fig. A.2B).
pub(super) fn expand(
    cfg: &RecoverOptions,
    trainer: &mut Trainer<'_>,
    saved: &[RunRecord],
    watch: &Watch,
    probes: &mut Vec<Probe>,
) -> Result<usize> {
    if cfg.probe_widths.is_empty() || cfg.probe_widths.contains(&0) || cfg.probe_students == 0 {
        return Err(Error::invalid(
            "expansion",
            "probe_widths must be positive widths and probe_students at least 1",
        ));
    }
    trainer.flow.maxtime_ode = cfg.probe_time / 2.0;
    trainer.refine.maxtime_optim = cfg.probe_time / 2.0;
    let seeds: Vec<u64> = (0..cfg.probe_students as u64)
        .map(|i| cfg.first_seed + 1_000_000 + i)
        .collect();
    for &w in &cfg.probe_widths {
        watch.message(&format!("expansion: probing width {w}"));
        let (_, runs) =
            trainer.students(&[], &[w], &seeds, Stage::Probe { width: w }, saved, watch)?;
        let losses: Vec<f64> = runs
            .into_iter()
            .map(|r| r.map(|r| r.loss))
            .collect::<Result<_>>()?;
        let best_loss = losses.iter().copied().fold(f64::INFINITY, f64::min);
        probes.push(Probe {
            width: w,
            best_loss,
            losses,
        });
        if best_loss <= cfg.probe_loss {
            watch.message(&format!(
                "expansion: width {w} reaches {best_loss:.3e} ≤ {:.1e}",
                cfg.probe_loss
            ));
            return Ok(w);
        }
    }
    // No probe reached near-zero loss within its budget: take the knee of the loss-versus-width
    // curve, the smallest width within `probe_ratio` of the best probe.
    let best = probes
        .iter()
        .map(|p| p.best_loss)
        .fold(f64::INFINITY, f64::min);
    let w = probes
        .iter()
        .find(|p| p.best_loss <= best * cfg.probe_ratio)
        .map_or(*cfg.probe_widths.last().expect("non-empty"), |p| p.width);
    watch.message(&format!(
        "expansion: no probed width reached {:.1e}; width {w} is the smallest within {}× of the best probe ({best:.3e})",
        cfg.probe_loss, cfg.probe_ratio
    ));
    Ok(w)
}
