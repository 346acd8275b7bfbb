//! `gradflow landscape`: a 2-D loss slice through a saved run's end point (CSV + SVG).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use gradflow::io::{read_network, write_atomic};
use gradflow::landscape::{SliceOptions, embed_teacher, loss_slice_watched};
use gradflow::rng::Stream;

use crate::certify_cmd::{load_record, record_objective};

/// Flags of `gradflow landscape`.
#[derive(clap::Args, Clone, Debug)]
pub struct LandscapeArgs {
    /// Run record (JSON, as `gradflow solve` writes): the slice goes through its end point θ₀,
    /// on the data its configuration names.
    #[arg(long)]
    pub record: PathBuf,
    /// Second point of the plane, `θ₀ + v₁` (α = 1): a run record or network file of the
    /// same architecture, or `teacher`: the zero-loss point that embeds the run's teacher into
    /// the student nearest θ₀ (one-hidden-layer students) [default: along the Hessian's
    /// lowest eigenvector, scaled to ‖θ₀‖/10].
    #[arg(long)]
    pub through: Option<String>,
    /// Range of α, `lo,hi`.
    #[arg(long, value_delimiter = ',', num_args = 2, default_values_t = [-0.5, 1.5])]
    pub alpha: Vec<f64>,
    /// Range of β, `lo,hi` (v₂ is a random direction orthogonal to v₁ with its norm).
    #[arg(long, value_delimiter = ',', num_args = 2, default_values_t = [-1.0, 1.0])]
    pub beta: Vec<f64>,
    /// Grid points per axis.
    #[arg(long, default_value_t = 41)]
    pub points: usize,
    /// Damped Newton steps minimising over the plane's orthogonal complement at every grid
    /// point (0: the plain slice).
    #[arg(long, default_value_t = 0)]
    pub minimise: usize,
    /// Seed of the random direction v₂.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Output folder: slice.csv, slice.svg, slice.json.
    #[arg(short, long, default_value = "gradflow-landscape")]
    pub output: PathBuf,
}

fn point_of(path: &Path) -> Result<Vec<f64>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{}: cannot read", path.display()))?;
    let v: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{}: invalid JSON", path.display()))?;
    if let Some(x) = v.get("x").and_then(|x| x.as_array()) {
        return x
            .iter()
            .map(|e| e.as_f64().context("non-numeric parameter"))
            .collect();
    }
    Ok(read_network(path)?.params)
}

/// Runs `gradflow landscape`; returns whether Ctrl-C stopped it (nothing is written then).
pub fn landscape_cmd(args: &LandscapeArgs, cancel: &gradflow::cancel::Cancel) -> Result<bool> {
    let (rec, cfg, loaded) = load_record(&args.record)?;
    let theta0 = rec.x.clone();
    let p = theta0.len();
    let population = gradflow::net::population::PopulationOptions::default();
    let mut obj = record_objective(&rec, &cfg, &loaded, &population, &args.record)?;
    let (target, label) = match args.through.as_deref() {
        Some("teacher") => {
            let t = loaded
                .teacher
                .as_ref()
                .context("--through teacher: the record's data have no known teacher")?;
            (embed_teacher(&rec.network, &theta0, t)?, "teacher embedded")
        }
        Some(path) => (point_of(Path::new(path))?, "through"),
        None => {
            gradflow::memory::check_dense(
                "the λ_min direction",
                2,
                p,
                None,
                "through",
                "--through FILE or teacher",
            )
            .map_err(|e| crate::cli::flag_error(e, "landscape"))?;
            let (_, _, h) = obj.hessian(&theta0);
            let (_, u, _) = gradflow::net::lowest_eigenpair(&h, p)?;
            let n0 = theta0.iter().map(|v| v * v).sum::<f64>().sqrt().max(1.0);
            let v: Vec<f64> = u.iter().map(|u| 0.1 * n0 * u).collect();
            (
                theta0.iter().zip(&v).map(|(a, b)| a + b).collect(),
                "λ_min direction",
            )
        }
    };
    if target.len() != p {
        bail!(
            "--through has {} parameters, the record's network {p}",
            target.len()
        );
    }
    let v1: Vec<f64> = target.iter().zip(&theta0).map(|(a, b)| a - b).collect();
    let n1 = v1.iter().map(|v| v * v).sum::<f64>().sqrt();
    let mut rng = Stream::new(args.seed, 0);
    let mut v2: Vec<f64> = (0..p).map(|_| rng.normal()).collect();
    let c = v2.iter().zip(&v1).map(|(a, b)| a * b).sum::<f64>() / (n1 * n1).max(1e-300);
    v2.iter_mut().zip(&v1).for_each(|(a, b)| *a -= c * b);
    let n2 = v2.iter().map(|v| v * v).sum::<f64>().sqrt();
    v2.iter_mut().for_each(|a| *a *= n1 / n2);
    let mut opts = SliceOptions::default();
    opts.alpha = (args.alpha[0], args.alpha[1]);
    opts.beta = (args.beta[0], args.beta[1]);
    opts.points = (args.points, args.points);
    opts.minimise_steps = args.minimise;
    let watch = gradflow::observe::Watch::new(|e: &gradflow::observe::Event<'_>| {
        if let gradflow::observe::Event::Message(m) = e {
            eprintln!("gradflow landscape: {m}");
        }
    })
    .with_cancel(cancel.clone());
    let slice = match loss_slice_watched(&mut obj, &theta0, &v1, &v2, &opts, &watch) {
        Err(gradflow::Error::Interrupted) => {
            eprintln!("gradflow landscape: interrupted; nothing written");
            return Ok(true);
        }
        other => other.map_err(|e| crate::cli::flag_error(e, "landscape"))?,
    };
    std::fs::create_dir_all(&args.output)
        .with_context(|| format!("{}: cannot create folder", args.output.display()))?;
    let scale = obj.mean_scale();
    let (l0, l1) = (obj.loss(&theta0) * scale, obj.loss(&target) * scale);
    let title = format!(
        "{} seed {}: θ₀ (loss {l0:.1e}) → {label} (loss {l1:.1e})",
        rec.shape, rec.seed
    );
    let svg = slice.svg(&title, &[(0.0, 0.0, "θ₀"), (1.0, 0.0, label)])?;
    write_atomic(&args.output.join("slice.csv"), slice.csv().as_bytes())?;
    write_atomic(&args.output.join("slice.svg"), svg.as_bytes())?;
    let meta = serde_json::json!({
        "record": args.record,
        "through": args.through,
        "theta0_loss": l0,
        "through_loss": l1,
        "v1_norm": n1,
        "options": opts,
        "slice": slice,
    });
    write_atomic(
        &args.output.join("slice.json"),
        &serde_json::to_vec_pretty(&meta)?,
    )?;
    println!(
        "gradflow landscape: {}×{} grid{}; θ₀ loss {l0:.3e}, {label} loss {l1:.3e}, slice min {:.3e} -> {}",
        args.points,
        args.points,
        if args.minimise > 0 {
            " minimised over the complement"
        } else {
            ""
        },
        slice.loss.iter().copied().fold(f64::INFINITY, f64::min),
        args.output.display()
    );
    Ok(false)
}
