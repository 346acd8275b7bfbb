//! `gradflow solve`: its configuration file, flags, the demo's budgets and the summary table.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use gradflow::cancel::Cancel;
use gradflow::io::{DataSource, ProblemSource, write_atomic};
use gradflow::landscape::{CertifyOptions, OnChannel};
use gradflow::monitor::StopReason;
use gradflow::named::Named;
use gradflow::net::population::PopulationOptions;
use gradflow::net::{Activation, Init};
use gradflow::net::{Merge, Regularisers};
use gradflow::observe::{Event, Watch};
use gradflow::train::{RunRecord, TrainOptions, TrainProblem, student_for, train_seeds};

use crate::args::{FlowArgs, RefineArgs, activation, d, named, overlay, overlay_opt};
use crate::progress::Bars;

/// Seeds beyond this many are refused (each run keeps its record in memory).
const MAX_SEEDS: u64 = 1_000_000;

/// The demo's budgets (no `--teacher`, `--data` or `--config`): 25 s of flow and 25 s of
/// refinement per seed, so that its 4 seeds finish in about two minutes on 2 cores.
pub const DEMO_MAXTIME: f64 = 25.0;

/// A list of seeds: `a..b` (half-open), `a..=b`, a single number, or a comma list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeedList(pub Vec<u64>);

impl FromStr for SeedList {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("`{s}` is not `a..b`, `a..=b`, `n` or `a,b,c`");
        let num = |t: &str| t.trim().parse::<u64>().map_err(|_| bad());
        let range = |a: u64, end: u64| {
            if end.saturating_sub(a) > MAX_SEEDS {
                Err(format!(
                    "`{s}` has {} seeds; at most {MAX_SEEDS} are run at once",
                    end.saturating_sub(a)
                ))
            } else {
                Ok((a..end).collect::<Vec<_>>())
            }
        };
        let s = s.trim();
        let seeds = if let Some((a, b)) = s.split_once("..=") {
            range(num(a)?, num(b)?.saturating_add(1))?
        } else if let Some((a, b)) = s.split_once("..") {
            range(num(a)?, num(b)?)?
        } else {
            s.split(',').map(num).collect::<Result<Vec<_>, _>>()?
        };
        if seeds.is_empty() {
            return Err(format!("`{s}` is an empty range (`a..b` runs a, …, b − 1)"));
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

/// The configuration of `gradflow solve`, as read from a `--config` file (TOML, or the
/// `"config"` of a run record) and stored in every record it produces.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SolveConfig {
    /// Hidden width of a one-hidden-layer student.
    pub width: Option<usize>,
    /// Hidden widths of a deeper student.
    pub layers: Option<Vec<usize>>,
    /// Student width relative to the teacher's hidden width.
    pub rho: Option<usize>,
    /// Hidden activation of the student (default: the teacher's first hidden activation, or
    /// `g` without a teacher; records store the one used).
    pub activation: Option<Activation>,
    /// Teacher network file.
    pub teacher: Option<PathBuf>,
    /// Data set.
    pub data: Option<String>,
    /// Samples drawn from the teacher.
    pub samples: usize,
    /// Train on the infinite-data objective of the teacher under `x ~ N(0, I)` instead of
    /// samples.
    pub infinite_data: bool,
    /// Seed of the teacher's data stream.
    pub data_seed: Option<u64>,
    /// Student seeds.
    pub seeds: SeedList,
    /// Worker threads.
    pub threads: Option<usize>,
    /// Threads of each evaluation of one run's objective (`TrainOptions::eval_threads`).
    pub eval_threads: usize,
    /// Initialisation of the students.
    pub init: Init,
    /// Gradient-flow options.
    pub flow: gradflow::flow::FlowConfig,
    /// Refinement options.
    pub refine: gradflow::optim::RefineConfig,
    /// What to do when the flow ends in a channel to infinity.
    pub on_channel: OnChannel,
    /// The end-state certificate's thresholds.
    pub certify: CertifyOptions,
    /// Regularisers of the objective (`maxnorm`, `merge`).
    pub regularisers: Regularisers,
    /// Per-layer factors of the time scale for weights (one per layer; sets
    /// `flow.tau_params` once the student is known).
    pub tau_weights: Option<Vec<f64>>,
    /// Per-layer factors of the time scale for biases (default: the weights' factors).
    pub tau_biases: Option<Vec<f64>>,
}

impl Default for SolveConfig {
    fn default() -> Self {
        let t = TrainOptions::default();
        SolveConfig {
            width: None,
            layers: None,
            rho: None,
            activation: None,
            teacher: None,
            data: None,
            samples: 30_000,
            infinite_data: false,
            data_seed: None,
            seeds: SeedList(vec![0, 1, 2, 3]),
            threads: None,
            init: t.init,
            flow: t.flow,
            refine: t.refine,
            on_channel: t.on_channel,
            certify: t.certify.unwrap_or_default(),
            regularisers: t.regularisers,
            eval_threads: t.eval_threads,
            tau_weights: None,
            tau_biases: None,
        }
    }
}

impl SolveConfig {
    /// Whether this is the built-in demo (no teacher, no data).
    pub fn is_demo(&self) -> bool {
        self.teacher.is_none() && self.data.is_none()
    }

    /// The demo's configuration: the defaults with the demo's budgets.
    pub fn demo() -> Self {
        let mut c = SolveConfig::default();
        c.flow.maxtime_ode = DEMO_MAXTIME;
        c.refine.maxtime_optim = DEMO_MAXTIME;
        c
    }

    /// Where the data come from.
    pub fn source(&self) -> Result<ProblemSource> {
        Ok(match (&self.teacher, &self.data) {
            (Some(path), _) => ProblemSource::Teacher {
                path: path.clone(),
                samples: self.samples,
                data_seed: self.data_seed,
            },
            (None, Some(text)) => ProblemSource::Data {
                data: DataSource::parse(text)?,
                teacher: None,
            },
            (None, None) => ProblemSource::Demo {
                samples: self.samples,
            },
        })
    }
}

/// Reads a configuration file: TOML, or a `.json` run record (its `"config"`) or plain JSON.
pub fn read_config(path: &Path) -> Result<SolveConfig> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{}: cannot read", path.display()))?;
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
    {
        let v: serde_json::Value = serde_json::from_str(&text)
            .with_context(|| format!("{}: invalid JSON", path.display()))?;
        let cfg = v.get("config").cloned().unwrap_or(v);
        refuse_foreign_config(&cfg, path)?;
        return serde_json::from_value(cfg)
            .with_context(|| format!("{}: invalid configuration", path.display()));
    }
    toml::from_str(&text).map_err(|e| {
        anyhow::anyhow!(
            "{}: invalid configuration: {}",
            path.display(),
            e.to_string().replace('\n', " ")
        )
    })
}

/// A record written by another command (a recovery's or a study's student) carries that
/// command's configuration: read as a `solve` configuration it would name no teacher or data,
/// which means the demo, and the run would be re-evaluated on the wrong data. Such a
/// configuration (no source, and keys `solve` does not know) is refused.
fn refuse_foreign_config(cfg: &serde_json::Value, path: &Path) -> Result<()> {
    let Some(obj) = cfg.as_object() else {
        return Ok(());
    };
    let names_source = ["teacher", "data"]
        .iter()
        .any(|k| obj.get(*k).is_some_and(|v| !v.is_null()));
    if names_source {
        return Ok(());
    }
    // Keys only a recovery's configuration has (a study's students carry one too); a key
    // that an older `solve` wrote and this one dropped does not count.
    let solve_keys = serde_json::to_value(SolveConfig::default())?;
    let recover_keys = serde_json::to_value(gradflow::cluster::RecoverOptions::default())?;
    let (Some(solve_keys), Some(recover_keys)) = (solve_keys.as_object(), recover_keys.as_object())
    else {
        return Ok(());
    };
    let mut foreign: Vec<&str> = obj
        .keys()
        .filter(|k| recover_keys.contains_key(*k) && !solve_keys.contains_key(*k))
        .map(String::as_str)
        .collect();
    if foreign.is_empty() {
        return Ok(());
    }
    foreign.truncate(4);
    anyhow::bail!(
        "{}: its configuration is not a `gradflow solve` one (it has {}, and names no teacher \
         or data): it was written by another command, e.g. a recovery's or a study's student, \
         whose data this record does not name",
        path.display(),
        foreign
            .iter()
            .map(|k| format!("`{k}`"))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// The seeds whose record in `output` is the run `solve` would do now (same configuration
/// apart from the seed list and thread counts, and [`gradflow::train::reproduces`]), with
/// those records; and the seeds left to train.
#[allow(clippy::type_complexity)]
fn finished_records(
    cfg: &SolveConfig,
    output: &Path,
    problem: &TrainProblem<'_>,
    opts: &TrainOptions,
) -> Result<(Vec<(u64, RunRecord)>, Vec<u64>)> {
    let strip = |mut v: serde_json::Value| {
        if let Some(o) = v.as_object_mut() {
            for k in ["seeds", "threads", "eval_threads"] {
                o.remove(k);
            }
        }
        v
    };
    let current = strip(serde_json::to_value(cfg)?);
    let (mut reused, mut todo) = (Vec::new(), Vec::new());
    for &seed in &cfg.seeds.0 {
        let path = output.join(gradflow::io::names::solve_record(seed));
        let found = std::fs::read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice::<RunRecord>(&b).ok())
            .filter(|rec| {
                let x0 = opts
                    .init
                    .draw(problem.spec, &mut gradflow::rng::Stream::new(seed, 0));
                let mut o = opts.clone();
                o.seed = seed;
                strip(rec.config.clone()) == current
                    && gradflow::train::reproduces(rec, problem, &x0, &o)
            });
        match found {
            Some(rec) => reused.push((seed, rec)),
            None => todo.push(seed),
        }
    }
    Ok((reused, todo))
}

/// Flags of `gradflow solve` (overlays on the configuration).
#[derive(clap::Args, Clone, Debug, Default)]
pub struct SolveArgs {
    #[arg(long, conflicts_with_all = ["layers", "rho"], help = "Hidden width of a one-hidden-layer student")]
    pub width: Option<usize>,
    #[arg(
        long,
        value_delimiter = ',',
        conflicts_with = "rho",
        help = "Hidden widths of a deeper student, e.g. 16,8"
    )]
    pub layers: Option<Vec<usize>>,
    #[arg(
        long,
        help = "Student width relative to the teacher's hidden width (needs --teacher or the demo) [default: 4]"
    )]
    pub rho: Option<usize>,
    #[arg(long, value_parser = activation, help = d("Hidden activation of the student", "the teacher's, else g"))]
    pub activation: Option<Activation>,
    #[arg(
        long,
        conflicts_with = "data",
        help = "Teacher network file: data are sampled from it"
    )]
    pub teacher: Option<PathBuf>,
    #[arg(long, help = "Data set (.npz, X.npy,Y.npy, .csv) instead of a teacher")]
    pub data: Option<String>,
    #[arg(long, help = d("Samples drawn from the teacher", SolveConfig::default().samples))]
    pub samples: Option<usize>,
    /// Train on the teacher's infinite-data (population) loss under x ~ N(0, I) instead of
    /// samples: exact Gaussian integrals, one-hidden-layer networks with smooth activations (or
    /// relu throughout, in closed form).
    /// The flow's time axis is that of the mean loss, as for samples.
    #[arg(long, requires = "teacher")]
    pub infinite_data: bool,
    #[arg(
        long,
        help = "Seed of the teacher's data stream [default: the seed recorded in its file]"
    )]
    pub data_seed: Option<u64>,
    #[arg(long, help = d("Student seeds: a..b, a..=b, n or a,b,c", "0..4"))]
    pub seeds: Option<SeedList>,
    #[arg(long, help = "Worker threads, one run each [default: all cores]")]
    pub threads: Option<usize>,
    #[arg(long, help = d("Threads of each loss, gradient and Hessian evaluation of one run (for one large run; they come out of --threads)", TrainOptions::default().eval_threads))]
    pub eval_threads: Option<usize>,
    #[arg(long, value_parser = named::<Init>(), help = d("Initialisation of the students", Init::default()))]
    pub init: Option<Init>,
    #[arg(long, value_parser = named::<OnChannel>(), help = d("When the flow ends in a channel to infinity: continue (refine as usual), stop (skip the refinement) or jump (move along the channel towards its limit, then refine)", OnChannel::default()))]
    pub on_channel: Option<OnChannel>,
    #[arg(long, help = d("Mean loss at or below which a run is certified zero_loss", format!("{:e}", CertifyOptions::default().loss_floor)))]
    pub loss_floor: Option<f64>,
    #[arg(
        long,
        help = "Radius M of the maxnorm barrier: adds N·⅓(‖θ‖ − M)³ to the sum loss beyond it [default: none]"
    )]
    pub maxnorm: Option<f64>,
    #[arg(long, value_parser = merge, value_name = "LAYER:I:J:LAMBDA",
        help = "Merge regulariser: N·λ/2·‖v_i − v_j‖² on the incoming vectors of neurons I and J of hidden layer LAYER (1-based) [default: none]")]
    pub merge: Option<Merge>,
    #[arg(
        long,
        value_delimiter = ',',
        help = "Per-layer time-scale factors of the weights, one per layer: dθ/dt = −τ·f_l·∇L [default: 1]"
    )]
    pub tau_weights: Option<Vec<f64>>,
    #[arg(
        long,
        value_delimiter = ',',
        help = "Per-layer time-scale factors of the biases [default: those of the weights]"
    )]
    pub tau_biases: Option<Vec<f64>>,
    #[command(flatten)]
    pub flow: FlowArgs,
    #[command(flatten)]
    pub refine: RefineArgs,
}

impl SolveArgs {
    /// Overrides the options given as flags.
    pub fn apply(&self, c: &mut SolveConfig) {
        overlay_opt!(
            self,
            c,
            [
                width, rho, threads, layers, teacher, data, data_seed, activation
            ]
        );
        overlay!(self, c, [samples, seeds, init, on_channel, eval_threads]);
        if let Some(f) = self.loss_floor {
            c.certify.loss_floor = f;
        }
        if self.infinite_data {
            c.infinite_data = true;
        }
        if let Some(m) = self.maxnorm {
            c.regularisers.maxnorm = Some(m);
        }
        if let Some(m) = self.merge {
            c.regularisers.merge = Some(m);
        }
        overlay_opt!(self, c, [tau_weights, tau_biases]);
        self.flow.apply(&mut c.flow);
        self.refine.apply(&mut c.refine);
    }

    /// The configuration: the file (or the demo's, or the defaults), then the flags.
    pub fn resolve(&self, config: Option<&Path>) -> Result<SolveConfig> {
        let mut c = match config {
            Some(p) => read_config(p)?,
            None if self.teacher.is_none() && self.data.is_none() => SolveConfig::demo(),
            None => SolveConfig::default(),
        };
        self.apply(&mut c);
        Ok(c)
    }
}

/// `LAYER:I:J:LAMBDA` of `--merge`.
fn merge(s: &str) -> Result<Merge, String> {
    let parts: Vec<&str> = s.split(':').collect();
    let bad = || format!("`{s}` is not LAYER:I:J:LAMBDA, e.g. 1:3:7:0.1");
    if parts.len() != 4 {
        return Err(bad());
    }
    let int = |t: &str| t.trim().parse::<usize>().map_err(|_| bad());
    Ok(Merge {
        layer: int(parts[0])?,
        i: int(parts[1])?,
        j: int(parts[2])?,
        lambda: parts[3].trim().parse::<f64>().map_err(|_| bad())?,
    })
}

/// Why a phase stopped, in words.
fn why(stop: StopReason) -> &'static str {
    match stop {
        StopReason::MinLoss => "reached minloss",
        StopReason::MinGradNorm => "gradient below min_gnorm",
        StopReason::Patience => "no improvement (patience)",
        StopReason::MaxTime => "time budget spent",
        StopReason::MaxIterations => "iteration budget spent",
        StopReason::MaxT => "ODE time limit",
        StopReason::NoProgress => "no progress possible",
        StopReason::Skipped => "not run",
        StopReason::Interrupted => "interrupted",
    }
}

/// One sentence on where a run ended and why: its certified end state, then how the phases
/// stopped.
pub fn explain(rec: &RunRecord) -> String {
    let state = match &rec.end_state {
        Some(e) => e.summary(),
        None => "not certified".into(),
    };
    let jumped = match &rec.channel_jump {
        Some(j) => format!(
            "; jumped along the channel ({} halvings, loss {:.2e} -> {:.2e})",
            j.halvings, j.loss_before, j.loss_after
        ),
        None => String::new(),
    };
    format!(
        "{state}{jumped}; flow: {}, refinement: {}",
        why(rec.ode.outcome.stop),
        why(rec.optim.outcome.stop)
    )
}

/// Runs `gradflow solve`; returns whether it was interrupted.
pub fn solve(cfg: &SolveConfig, output: &Path, quiet: bool, cancel: &Cancel) -> Result<bool> {
    let loaded = cfg.source()?.load()?;
    // The student's activation defaults to the teacher's; records store the one used.
    let mut cfg = cfg.clone();
    let activation = cfg.activation.clone().unwrap_or_else(|| {
        loaded
            .teacher
            .as_ref()
            .filter(|t| t.spec.depth() >= 2)
            .map_or(Activation::G, |t| t.spec.layers[0].activation_of(0).clone())
    });
    cfg.activation = Some(activation.clone());
    let cfg = &cfg;
    let student = student_for(
        &loaded.data,
        loaded.teacher.as_ref(),
        cfg.layers.as_deref(),
        cfg.width,
        cfg.rho,
        &activation,
    )?;
    std::fs::create_dir_all(output)
        .with_context(|| format!("{}: cannot create folder", output.display()))?;
    // With infinite data the samples the source drew are not the objective: name the teacher
    // and the population loss instead.
    let what = match (&cfg.teacher, &loaded.teacher) {
        (Some(path), Some(t)) if cfg.infinite_data => format!(
            "teacher {} ({}), infinite data (the population loss under x ~ N(0, I))",
            path.display(),
            t.spec.shape_string()
        ),
        _ => loaded.description.clone(),
    };
    eprintln!(
        "gradflow solve: {what}; student {} ({} parameters); seeds {:?}; budgets {} s + {} s per seed{}",
        student.shape_string(),
        student.n_params(),
        cfg.seeds.0,
        cfg.flow.maxtime_ode,
        cfg.refine.maxtime_optim,
        if cfg.is_demo() { " (the demo's)" } else { "" }
    );
    let bars = Bars::new(quiet, 8);
    for &s in &cfg.seeds.0 {
        bars.add(
            gradflow::observe::RunId {
                seed: s,
                ..Default::default()
            },
            format!("seed {s}"),
        );
    }
    let population = PopulationOptions::default();
    let problem = match (cfg.infinite_data, loaded.teacher.as_ref()) {
        (false, _) => TrainProblem::new(&student, &loaded.data),
        (true, Some(teacher)) => TrainProblem::infinite(&student, teacher, &population),
        (true, None) => bail!("--infinite-data needs --teacher"),
    };
    let mut opts = TrainOptions::default();
    opts.flow = cfg.flow.clone();
    opts.refine = cfg.refine.clone();
    opts.init = cfg.init;
    opts.on_channel = cfg.on_channel;
    cfg.regularisers
        .check(&student)
        .map_err(|e| crate::cli::flag_error(e, "solve"))?;
    opts.regularisers = cfg.regularisers.clone();
    if cfg.eval_threads == 0 {
        bail!("--eval-threads must be at least 1");
    }
    opts.eval_threads = cfg.eval_threads;
    if cfg.tau_weights.is_some() || cfg.tau_biases.is_some() {
        let ones = vec![1.0; student.depth()];
        let w = cfg.tau_weights.clone().unwrap_or_else(|| ones.clone());
        let b = cfg.tau_biases.clone().unwrap_or_else(|| w.clone());
        opts.flow.tau_params = Some(
            student
                .layer_factors(&w, &b)
                .context("--tau-weights/--tau-biases")?,
        );
    }
    opts.certify = Some(cfg.certify.clone());
    opts.provenance = serde_json::to_value(cfg)?;
    let out = output.to_path_buf();
    let b = bars.clone();
    let watch = Watch::new(move |e: &Event<'_>| {
        if let Event::RunDone { run, record } = e {
            let path = out.join(gradflow::io::names::solve_record(run.seed));
            let written = serde_json::to_vec(record)
                .map_err(anyhow::Error::from)
                .and_then(|bytes| write_atomic(&path, &bytes).map_err(anyhow::Error::from));
            match written {
                Ok(()) => b.finish(
                    *run,
                    format!(
                        "done: loss {:.3e} gnorm {:.3e} ({:.1}s) -> {}",
                        record.loss,
                        record.gnorm,
                        record.total_time,
                        path.display()
                    ),
                ),
                Err(err) => b.finish(*run, format!("could not write {}: {err}", path.display())),
            }
        } else {
            b.observe(e);
        }
    })
    .with_cancel(cancel.clone());
    // Resume: a seed whose record in the output folder is this very run, finished, is not
    // trained again.
    let (reused, todo) = finished_records(cfg, output, &problem, &opts)?;
    if !reused.is_empty() {
        bars.println(&format!(
            "gradflow solve: {} of {} seeds have a finished record of this run in {}: reused \
             (delete the seed_N.json files, or write elsewhere with -o, to train them again)",
            reused.len(),
            cfg.seeds.0.len(),
            output.display()
        ));
        for (seed, rec) in &reused {
            let run = gradflow::observe::RunId {
                seed: *seed,
                ..Default::default()
            };
            bars.finish(run, format!("reused: loss {:.3e}", rec.loss));
        }
    }
    let trained = train_seeds(&problem, &todo, &opts, cfg.threads, &watch)
        .map_err(|e| crate::cli::flag_error(e, "solve"))?;
    let mut results: Vec<(u64, gradflow::Result<RunRecord>)> = reused
        .into_iter()
        .map(|(s, r)| (s, Ok(r)))
        .chain(trained)
        .collect();
    let order = |s: u64| cfg.seeds.0.iter().position(|&t| t == s);
    results.sort_by_key(|(s, _)| order(*s));
    bars.clear();
    // With regularisers, `loss`, `gnorm` and `ode_loss` are the regularised objective's; the
    // data term alone gets a column of its own.
    let regularised = results
        .iter()
        .any(|(_, r)| matches!(r, Ok(rec) if rec.data_loss.is_some()));
    if regularised {
        println!(
            "loss, gnorm and ode_loss include the regularisers (--maxnorm, --merge); data_loss is the data term alone"
        );
    }
    // The data_loss column, present only for regularised runs.
    let data_col = |text: String| {
        if regularised {
            format!(" {text:>12}")
        } else {
            String::new()
        }
    };
    println!(
        "{:>6} {:>12}{} {:>10} {:>10} {:>15} {:>15} {:>8} {:>11}  outcome",
        "seed",
        "loss",
        data_col("data_loss".into()),
        "gnorm",
        "ode_loss",
        "stop_ode",
        "stop_optim",
        "time_s",
        "end_state"
    );
    let mut failures = 0;
    for (seed, r) in &results {
        match r {
            Ok(rec) => println!(
                "{:>6} {:>12.3e}{} {:>10.2e} {:>10.2e} {:>15} {:>15} {:>8.1} {:>11}  {}",
                seed,
                rec.loss,
                data_col(rec.data_loss.map_or("-".into(), |v| format!("{v:.3e}"))),
                rec.gnorm,
                rec.ode_loss,
                rec.ode.outcome.stop,
                rec.optim.outcome.stop,
                rec.total_time,
                rec.end_state.as_ref().map_or("-", |e| e.kind.name()),
                explain(rec)
            ),
            Err(e) => {
                failures += 1;
                println!("{seed:>6} failed: {e}");
            }
        }
    }
    let interrupted = cancel.is_cancelled();
    if interrupted {
        let missing = cfg.seeds.0.len() - results.len();
        eprintln!(
            "gradflow solve: interrupted; records of the runs in flight were written at their best points{}",
            if missing > 0 {
                format!(", {missing} seeds not started")
            } else {
                String::new()
            }
        );
    }
    if failures > 0 {
        if interrupted {
            // The interruption decides the exit status (130); the failures are still said.
            eprintln!(
                "gradflow solve: {failures} of {} runs failed",
                results.len()
            );
        } else {
            bail!("{failures} of {} runs failed", results.len());
        }
    }
    Ok(interrupted)
}
