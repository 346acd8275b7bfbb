//! `gradflow certify`: the end-state certificate of saved run records, recomputed on the
//! objective their configuration names (the data, or the teacher's infinite-data loss, with the
//! run's regularisers).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use gradflow::cancel::Cancel;
use gradflow::io::{LoadedProblem, write_atomic};
use gradflow::landscape::certify;
use gradflow::net::Objective;
use gradflow::net::population::PopulationOptions;
use gradflow::train::RunRecord;

use crate::solve::{SolveConfig, read_config};

/// Flags of `gradflow certify`.
#[derive(clap::Args, Clone, Debug)]
pub struct CertifyArgs {
    /// Run records (JSON, as `gradflow solve` writes them).
    #[arg(required = true)]
    pub records: Vec<PathBuf>,
    /// Write the certificate into each record (`end_state`), replacing any there.
    #[arg(long)]
    pub update: bool,
    /// Mean loss at or below which a run is certified zero_loss [default: the record's
    /// configuration, else 1e-20].
    #[arg(long)]
    pub loss_floor: Option<f64>,
}

/// A run record, its configuration and the data (and teacher) that configuration names.
pub fn load_record(path: &Path) -> Result<(RunRecord, SolveConfig, LoadedProblem)> {
    let (rec, cfg) = read_record(path)?;
    let loaded = cfg.source()?.load()?;
    Ok((rec, cfg, loaded))
}

/// The objective a record's run trained on: the population loss for `--infinite-data` runs
/// (not the samples the source also draws), else the data, with the run's regularisers.
pub fn record_objective<'a>(
    rec: &'a RunRecord,
    cfg: &SolveConfig,
    loaded: &'a LoadedProblem,
    population: &'a PopulationOptions,
    path: &Path,
) -> Result<Objective<'a>> {
    let obj = match (cfg.infinite_data, loaded.teacher.as_ref()) {
        (true, Some(teacher)) => Objective::population(&rec.network, teacher, population),
        (true, None) => anyhow::bail!(
            "{}: an infinite-data run whose configuration names no teacher",
            path.display()
        ),
        (false, _) => Objective::new(&rec.network, &loaded.data, rec.loss_kind),
    };
    obj.and_then(|o| o.with_regularisers(&cfg.regularisers))
        .with_context(|| format!("{}: the record does not fit its objective", path.display()))
}

fn read_record(path: &Path) -> Result<(RunRecord, SolveConfig)> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{}: cannot read", path.display()))?;
    let rec: RunRecord = match serde_json::from_str(&text) {
        Ok(rec) => rec,
        Err(e) => {
            let v: Option<serde_json::Value> = serde_json::from_str(&text).ok();
            let study_task = v
                .as_ref()
                .is_some_and(|v| v.get("record").is_some() && v.get("teacher").is_some());
            if study_task {
                anyhow::bail!(
                    "{}: a study's task file, not a `gradflow solve` record: a study's students \
                     are certified as they run, and `gradflow report` tabulates their end states \
                     (end_states.csv)",
                    path.display()
                );
            }
            return Err(e).with_context(|| format!("{}: not a run record", path.display()));
        }
    };
    Ok((rec, read_config(path)?))
}

/// Runs `gradflow certify`: one line per record. Ctrl-C stops between records (each line
/// already printed, each `--update` already written); returns whether it was interrupted.
pub fn certify_cmd(args: &CertifyArgs, cancel: &Cancel) -> Result<bool> {
    let mut cache: Option<(String, LoadedProblem)> = None;
    println!("{:<40} {:>11}  evidence", "record", "end_state");
    for (i, path) in args.records.iter().enumerate() {
        if cancel.is_cancelled() {
            eprintln!(
                "gradflow certify: interrupted; {} of {} records not certified",
                args.records.len() - i,
                args.records.len()
            );
            return Ok(true);
        }
        let (mut rec, cfg) = read_record(path)?;
        let key = format!("{:?}", cfg.source()?);
        if cache.as_ref().is_none_or(|(k, _)| *k != key) {
            cache = Some((key, cfg.source()?.load()?));
        }
        let loaded = &cache.as_ref().expect("loaded").1;
        let mut opts = cfg.certify.clone();
        if let Some(f) = args.loss_floor {
            opts.loss_floor = f;
        }
        let population = PopulationOptions::default();
        let mut obj = record_objective(&rec, &cfg, loaded, &population, path)?;
        let state = certify(&mut obj, &rec.x, &rec.trajectory, &opts)
            .map_err(|e| crate::cli::flag_error(e, "certify"))?;
        println!(
            "{:<40} {:>11}  {}",
            path.display(),
            state.kind.to_string(),
            state.summary()
        );
        if args.update {
            rec.end_state = Some(state);
            write_atomic(path, &serde_json::to_vec(&rec)?)?;
        }
    }
    Ok(false)
}
