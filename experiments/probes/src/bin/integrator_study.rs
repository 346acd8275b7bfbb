//! Integrator study: distance to a tight reference trajectory versus work, for every
//! gradient-flow integrator, on two teacher–student problems:
//! - 33 parameters: d = 2, softplus teacher with 4 neurons, student with 8;
//! - 601 parameters: d = 4, softplus teacher with 4 neurons, student with 100.
//!
//! `cargo run --release -p gradflow-probes --bin integrator_study -- OUT_DIR [T33] [T601]` writes `study.csv`
//! and `study.svg` (error at time T versus wall time, log–log) into OUT_DIR. The references are
//! KenCarp58 runs at tolerance 1e-13 (33 parameters) and 1e-11 (601 parameters, whose Hessian
//! is 150× larger); the 601-parameter problem is run to a shorter time by default.

use std::fmt::Write as _;

use gradflow::flow::{FlowConfig, Integrator, run_flow};
use gradflow::net::{Activation, Init, Loss, NetSpec, Objective};
use gradflow::teacher::{InputDistribution, TeacherConfig, sample_data};

struct Row {
    problem: String,
    method: String,
    tol: f64,
    error: f64,
    wall: f64,
    grads: usize,
    hessians: usize,
    steps: usize,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let out = std::path::PathBuf::from(args.get(1).map_or("integrator-study", String::as_str));
    let t33: f64 = args.get(2).map_or(0.5, |s| s.parse().expect("T33"));
    let t601: f64 = args.get(3).map_or(0.05, |s| s.parse().expect("T601"));
    std::fs::create_dir_all(&out).expect("output folder");
    let mut rows = Vec::new();
    for (d, m, t_end, ref_tol, tols) in [
        (2usize, 8usize, t33, 1e-13, vec![1e-4, 1e-6, 1e-8, 1e-10]),
        (4, 100, t601, 1e-11, vec![1e-4, 1e-6, 1e-8]),
    ] {
        let mut tc = TeacherConfig::paper(d, 4, 7);
        tc.activation = Activation::Softplus;
        tc.n_standardise = 20_000;
        let teacher = tc.build().expect("teacher");
        let data = sample_data(&teacher, 2_000, InputDistribution::Uniform, 7).expect("data");
        let spec = NetSpec::shallow(d, m, Activation::Softplus, 1);
        let x0 = Init::GlorotNormal.draw_seeded(&spec, 1);
        let name = format!("{} params (d={d}, student {m}), T={t_end}", spec.n_params());
        let base = {
            let mut c = FlowConfig::default();
            c.max_t = Some(t_end);
            c.minloss = 0.0;
            c.min_gnorm = 0.0;
            c.maxtime_ode = 600.0;
            c
        };
        let obj = || Objective::new(&spec, &data, Loss::Mse).expect("objective");
        let reference = run_flow(obj(), &x0, &{
            let mut c = base.clone();
            c.integrator = Some(Integrator::KenCarp58);
            c.abstol = ref_tol;
            c.reltol = ref_tol;
            c
        })
        .expect("reference");
        eprintln!(
            "{name}: reference loss {:.3e} in {:.1}s",
            reference.outcome.loss, reference.outcome.wall
        );
        let mut runs: Vec<(Integrator, f64)> = Vec::new();
        for m in [
            Integrator::KenCarp58,
            Integrator::TrBdf2,
            Integrator::Esdirk34,
            Integrator::Bdf,
            Integrator::Tsit5,
        ] {
            for &tol in &tols {
                runs.push((m, tol));
            }
        }
        for k in [3, 4] {
            runs.push((Integrator::Rk4, t_end / 10f64.powi(k)));
        }
        for (method, tol) in runs {
            let cfg = {
                let mut c = base.clone();
                c.integrator = Some(method);
                c.abstol = tol;
                c.reltol = tol;
                c.dt = tol;
                c
            };
            let r = run_flow(obj(), &x0, &cfg).expect("run");
            let error = r
                .final_x
                .iter()
                .zip(&reference.final_x)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0f64, f64::max);
            let method_name = serde_json::to_value(method)
                .unwrap()
                .as_str()
                .unwrap()
                .to_string();
            eprintln!(
                "  {method_name:>9} tol/dt {tol:.0e}: error {error:.2e}, {:.2}s, {} steps",
                r.outcome.wall, r.outcome.counters.iterations
            );
            rows.push(Row {
                problem: name.clone(),
                method: method_name,
                tol,
                error,
                wall: r.outcome.wall,
                grads: r.outcome.counters.gradient_evals,
                hessians: r.outcome.counters.hessian_evals,
                steps: r.outcome.counters.iterations,
            });
        }
    }
    let mut csv = String::from(
        "problem,method,tol_or_dt,max_abs_error,wall_s,gradient_evals,hessian_evals,steps\n",
    );
    for r in &rows {
        writeln!(
            csv,
            "\"{}\",{},{:e},{:e},{:.6},{},{},{}",
            r.problem, r.method, r.tol, r.error, r.wall, r.grads, r.hessians, r.steps
        )
        .unwrap();
    }
    std::fs::write(out.join("study.csv"), csv).expect("csv");
    std::fs::write(out.join("study.svg"), svg(&rows)).expect("svg");
    eprintln!("wrote {}/study.csv and study.svg", out.display());
}

/// A log–log scatter (error vs wall time), one panel per problem, one colour per method.
fn svg(rows: &[Row]) -> String {
    let problems: Vec<String> = {
        let mut p: Vec<String> = rows.iter().map(|r| r.problem.clone()).collect();
        p.dedup();
        p
    };
    let methods = ["kencarp58", "tr-bdf2", "esdirk34", "bdf", "tsit5", "rk4"];
    let colours = [
        "#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#7f7f7f",
    ];
    let (w, h, pad) = (520.0, 380.0, 60.0);
    let mut s = format!(
        "<svg xmlns='http://www.w3.org/2000/svg' width='{}' height='{}' font-family='sans-serif' font-size='11'>\n",
        w * problems.len() as f64,
        h + 40.0
    );
    for (pi, prob) in problems.iter().enumerate() {
        let ox = pi as f64 * w;
        let pts: Vec<&Row> = rows.iter().filter(|r| &r.problem == prob).collect();
        let lx = |v: f64| v.max(1e-300).log10();
        let (xmin, xmax) = pts
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), r| {
                (a.min(lx(r.wall)), b.max(lx(r.wall)))
            });
        let (ymin, ymax) = pts
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), r| {
                (a.min(lx(r.error.max(1e-16))), b.max(lx(r.error.max(1e-16))))
            });
        let (xmin, xmax) = (xmin.floor(), xmax.ceil().max(xmin.floor() + 1.0));
        let (ymin, ymax) = (ymin.floor(), ymax.ceil().max(ymin.floor() + 1.0));
        let px = |v: f64| ox + pad + (lx(v) - xmin) / (xmax - xmin) * (w - 2.0 * pad);
        let py =
            |v: f64| h - pad + 20.0 - (lx(v.max(1e-16)) - ymin) / (ymax - ymin) * (h - 2.0 * pad);
        writeln!(
            s,
            "<text x='{}' y='18' font-size='13'>{}</text>",
            ox + pad,
            prob
        )
        .unwrap();
        writeln!(
            s,
            "<rect x='{}' y='{}' width='{}' height='{}' fill='none' stroke='black'/>",
            ox + pad,
            pad + 10.0,
            w - 2.0 * pad,
            h - 2.0 * pad + 20.0
        )
        .unwrap();
        for e in (xmin as i32)..=(xmax as i32) {
            let x = ox + pad + (e as f64 - xmin) / (xmax - xmin) * (w - 2.0 * pad);
            writeln!(
                s,
                "<text x='{x}' y='{}' text-anchor='middle'>1e{e}</text>",
                h - pad + 35.0
            )
            .unwrap();
        }
        for e in (ymin as i32)..=(ymax as i32) {
            let y = h - pad + 20.0 - (e as f64 - ymin) / (ymax - ymin) * (h - 2.0 * pad);
            writeln!(
                s,
                "<text x='{}' y='{y}' text-anchor='end'>1e{e}</text>",
                ox + pad - 4.0
            )
            .unwrap();
        }
        writeln!(
            s,
            "<text x='{}' y='{}' text-anchor='middle'>wall time (s)</text>",
            ox + w / 2.0,
            h + 10.0
        )
        .unwrap();
        writeln!(s, "<text x='{}' y='{}' transform='rotate(-90 {} {})' text-anchor='middle'>max |θ(T) − θ_ref(T)|</text>", ox + 14.0, h / 2.0, ox + 14.0, h / 2.0).unwrap();
        for (mi, m) in methods.iter().enumerate() {
            let mut line: Vec<(f64, f64)> = pts
                .iter()
                .filter(|r| r.method == *m)
                .map(|r| (px(r.wall), py(r.error)))
                .collect();
            line.sort_by(|a, b| a.0.total_cmp(&b.0));
            let poly: Vec<String> = line.iter().map(|(x, y)| format!("{x:.1},{y:.1}")).collect();
            writeln!(
                s,
                "<polyline points='{}' fill='none' stroke='{}'/>",
                poly.join(" "),
                colours[mi]
            )
            .unwrap();
            for (x, y) in &line {
                writeln!(
                    s,
                    "<circle cx='{x:.1}' cy='{y:.1}' r='3' fill='{}'/>",
                    colours[mi]
                )
                .unwrap();
            }
            writeln!(
                s,
                "<text x='{}' y='{}' fill='{}'>{m}</text>",
                ox + w - pad - 60.0,
                pad + 14.0 * mi as f64,
                colours[mi]
            )
            .unwrap();
        }
    }
    s.push_str("</svg>\n");
    s
}
