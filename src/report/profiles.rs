//! The benchmark's figures (plotters, SVG backend): performance and data profiles as step
//! functions, and the median and quartile loss against wall time per method.

use plotters::element::DashedPathElement;
use plotters::prelude::*;

use super::benchmark::{
    Benchmark, Profile, TARGETS, data_profile, loss_quartiles, performance_profile, time_grid,
    wall_costs, work_costs,
};
use crate::error::{Error, Result};

fn plot_error(e: impl std::fmt::Display) -> Error {
    Error::invalid("report figure", e.to_string())
}

/// Colours of the study's methods: Paul Tol's "muted" qualitative scheme (distinct for
/// colour-blind readers); peers take Tol's "bright" scheme and dashed lines.
const MUTED: [(u8, u8, u8); 9] = [
    (51, 34, 136),
    (136, 204, 238),
    (68, 170, 153),
    (17, 119, 51),
    (153, 153, 51),
    (221, 204, 119),
    (204, 102, 119),
    (136, 34, 85),
    (170, 68, 153),
];
const BRIGHT: [(u8, u8, u8); 6] = [
    (68, 119, 170),
    (238, 102, 119),
    (34, 136, 51),
    (204, 187, 68),
    (102, 204, 238),
    (100, 100, 100),
];

/// How method `i` of `b` is drawn: its colour, and whether dashed (a peer).
fn style(b: &Benchmark, i: usize) -> (RGBColor, bool) {
    let peer = b.is_peer.get(i).copied().unwrap_or(false);
    let k = if peer {
        i - b.is_peer.iter().take_while(|p| !**p).count()
    } else {
        i
    };
    let (r, g, bl) = if peer {
        BRIGHT[k % BRIGHT.len()]
    } else {
        MUTED[k % MUTED.len()]
    };
    (RGBColor(r, g, bl), peer)
}

type Chart<'a, 'b> = ChartContext<
    'a,
    SVGBackend<'b>,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

/// Draws `points` as method `i`'s line: solid, or dashed for a peer.
fn line(
    chart: &mut Chart<'_, '_>,
    b: &Benchmark,
    i: usize,
    points: Vec<(f64, f64)>,
    width: u32,
) -> Result<()> {
    let (c, dashed) = style(b, i);
    let st = c.stroke_width(width);
    if dashed {
        chart
            .draw_series(DashedLineSeries::new(points, 6, 4, st))
            .map_err(plot_error)?;
    } else {
        chart
            .draw_series(LineSeries::new(points, st))
            .map_err(plot_error)?;
    }
    Ok(())
}

/// The legend, in its own panel right of the chart.
fn legend_panel(
    area: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    b: &Benchmark,
) -> Result<()> {
    for (i, name) in b.methods.iter().enumerate() {
        let (c, dashed) = style(b, i);
        let y = 40 + 20 * i as i32;
        let st = c.stroke_width(2);
        if dashed {
            area.draw(&DashedPathElement::new(vec![(6, y), (36, y)], 6, 4, st))
                .map_err(plot_error)?;
        } else {
            area.draw(&PathElement::new(vec![(6, y), (36, y)], st))
                .map_err(plot_error)?;
        }
        let label = if dashed {
            format!("{name} (peer)")
        } else {
            name.clone()
        };
        area.draw(&Text::new(label, (42, y - 7), ("sans-serif", 13)))
            .map_err(plot_error)?;
    }
    Ok(())
}

/// Width of the legend panel (px).
const LEGEND: u32 = 250;

/// The step function of a profile from `x0` to `x1` (`map` turns a cost into the x axis).
fn steps(p: &Profile, x0: f64, x1: f64, map: &dyn Fn(f64) -> f64) -> Vec<(f64, f64)> {
    let n = p.problems.max(1) as f64;
    let mut out = vec![(x0, 0.0)];
    for (k, &s) in p.steps.iter().enumerate() {
        let x = map(s).clamp(x0, x1);
        out.push((x, k as f64 / n));
        out.push((x, (k + 1) as f64 / n));
    }
    out.push((x1, p.steps.len() as f64 / n));
    out
}

/// One profile figure: a step line per method.
fn profile_svg(
    title: &str,
    x_label: &str,
    b: &Benchmark,
    profiles: &[Profile],
    map: &dyn Fn(f64) -> f64,
    x_range: (f64, f64),
) -> Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (640 + LEGEND, 480)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        let (left, right) = root.split_horizontally(640);
        legend_panel(&right, b)?;
        let mut chart = ChartBuilder::on(&left)
            .caption(title, ("sans-serif", 15))
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d(x_range.0..x_range.1, 0.0..1.02)
            .map_err(plot_error)?;
        chart
            .configure_mesh()
            .x_desc(x_label)
            .y_desc("fraction of problems")
            .draw()
            .map_err(plot_error)?;
        for (i, p) in profiles.iter().enumerate() {
            line(&mut chart, b, i, steps(p, x_range.0, x_range.1, map), 2)?;
        }
        root.present().map_err(plot_error)?;
    }
    Ok(svg)
}

/// A Dolan–Moré figure: `log2 τ` on the x axis.
fn performance_svg(title: &str, b: &Benchmark, profiles: &[Profile]) -> Result<String> {
    let top = profiles
        .iter()
        .flat_map(|p| p.steps.iter())
        .map(|r| r.log2())
        .fold(1.0, f64::max)
        * 1.05;
    profile_svg(
        title,
        "log2 τ (cost / least cost on the problem)",
        b,
        profiles,
        &|r| r.log2(),
        (0.0, top),
    )
}

/// A Moré–Wild figure: `log10` budget on the x axis.
fn data_svg(title: &str, unit: &str, b: &Benchmark, profiles: &[Profile]) -> Result<String> {
    let all: Vec<f64> = profiles
        .iter()
        .flat_map(|p| p.steps.iter().copied())
        .filter(|v| *v > 0.0)
        .map(f64::log10)
        .collect();
    let lo = all.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = all.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let (lo, hi) = if lo.is_finite() {
        ((lo - 0.1).floor(), (hi + 0.1).ceil().max(lo + 1.0))
    } else {
        (0.0, 1.0)
    };
    profile_svg(
        title,
        &format!("log10 budget ({unit})"),
        b,
        profiles,
        &|v| if v > 0.0 { v.log10() } else { lo },
        (lo, hi),
    )
}

/// The median (thick) and quartiles (thin) of the best loss against wall time per method.
pub fn loss_vs_time_svg(b: &Benchmark) -> Result<String> {
    let times = time_grid(b, 80);
    let q = loss_quartiles(b, &times);
    let lg = |v: f64| if v > 0.0 { v.log10().max(-34.0) } else { -34.0 };
    let all: Vec<f64> = q
        .iter()
        .flatten()
        .flat_map(|v| v.iter().copied())
        .filter(|v| !v.is_nan())
        .map(lg)
        .collect();
    let ymin = all.iter().copied().fold(0.0, f64::min).floor();
    let ymax = all
        .iter()
        .copied()
        .fold(-34.0, f64::max)
        .ceil()
        .max(ymin + 1.0);
    let (t0, t1) = match (times.first(), times.last()) {
        (Some(a), Some(b)) => (a.log10(), b.log10().max(a.log10() + 0.1)),
        _ => (-2.0, 1.0),
    };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (640 + LEGEND, 520)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        let (left, right) = root.split_horizontally(640);
        legend_panel(&right, b)?;
        let mut chart = ChartBuilder::on(&left)
            .caption(
                "best loss against wall time: median (thick), quartiles (thin)",
                ("sans-serif", 15),
            )
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d(t0..t1, ymin..ymax)
            .map_err(plot_error)?;
        chart
            .configure_mesh()
            .x_desc("log10 wall time (s)")
            .y_desc("log10 mean loss")
            .draw()
            .map_err(plot_error)?;
        for (i, qi) in q.iter().enumerate() {
            let curve = |k: usize| -> Vec<(f64, f64)> {
                times
                    .iter()
                    .zip(qi)
                    .filter(|(_, v)| !v[k].is_nan())
                    .map(|(t, v)| (t.log10(), lg(v[k])))
                    .collect()
            };
            line(&mut chart, b, i, curve(1), 3)?;
            line(&mut chart, b, i, curve(0), 1)?;
            line(&mut chart, b, i, curve(2), 1)?;
        }
        root.present().map_err(plot_error)?;
    }
    Ok(svg)
}

/// Every figure of the benchmark as (file name, SVG): for each target, the performance profiles
/// by wall time and by work and the data profiles by work and by wall time; then the loss
/// against time.
pub fn benchmark_figures(b: &Benchmark) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    for target in TARGETS {
        let label = target.label();
        let hits = b.hits(target);
        let (wall, work) = (wall_costs(&hits), work_costs(&hits));
        out.push((
            format!("profiles/performance_time_{label}.svg"),
            performance_svg(
                &format!("Performance profile, wall time to {label}"),
                b,
                &performance_profile(&wall),
            )?,
        ));
        out.push((
            format!("profiles/performance_work_{label}.svg"),
            performance_svg(
                &format!("Performance profile, gradient equivalents to {label}"),
                b,
                &performance_profile(&work),
            )?,
        ));
        out.push((
            format!("profiles/data_work_{label}.svg"),
            data_svg(
                &format!("Data profile, target {label}"),
                "gradient equivalents",
                b,
                &data_profile(&work),
            )?,
        ));
        out.push((
            format!("profiles/data_time_{label}.svg"),
            data_svg(
                &format!("Data profile by wall time, target {label}"),
                "s",
                b,
                &data_profile(&wall),
            )?,
        ));
    }
    out.push(("loss_vs_time.svg".to_string(), loss_vs_time_svg(b)?));
    Ok(out)
}
