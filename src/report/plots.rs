//! The report's figures (plotters, SVG backend): final student losses per teacher and seed
//! (paper Fig. 4B/C) and the loss after Expand-and-Cluster per teacher and ρ (paper Fig. 5B).

use plotters::prelude::*;

use crate::error::{Error, Result};
use crate::study::{StudyResults, TeacherInfo};

/// Smallest log10 loss drawn (exact zeros and round-off are drawn here).
const FLOOR: f64 = -34.0;
/// Largest log10 loss drawn.
const CEIL: f64 = 1.0;

/// A point of a row figure: row (teacher), log10 loss, colour value in `[0, 1]`.
struct Dot {
    row: usize,
    log_loss: f64,
    colour: RGBColor,
}

/// Viridis-like colour of `t ∈ [0, 1]` (dark purple → yellow), by linear interpolation of five
/// stops of matplotlib's viridis map.
pub(crate) fn viridis(t: f64) -> RGBColor {
    const STOPS: [(f64, f64, f64); 5] = [
        (68.0, 1.0, 84.0),
        (59.0, 82.0, 139.0),
        (33.0, 145.0, 140.0),
        (94.0, 201.0, 98.0),
        (253.0, 231.0, 37.0),
    ];
    let t = t.clamp(0.0, 1.0) * 4.0;
    let i = (t.floor() as usize).min(3);
    let f = t - i as f64;
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    let mix = |x: f64, y: f64| (x + (y - x) * f).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Colour of a loss: log10 loss from [`FLOOR`] (purple) to [`CEIL`] (yellow).
fn loss_colour(log_loss: f64) -> RGBColor {
    viridis((log_loss - FLOOR) / (CEIL - FLOOR))
}

fn log_loss(loss: f64) -> Option<f64> {
    if loss.is_nan() {
        None
    } else if loss <= 0.0 {
        Some(FLOOR)
    } else {
        Some(loss.log10().clamp(FLOOR, CEIL))
    }
}

fn group_label(t: &TeacherInfo) -> String {
    let w: Vec<String> = t.hidden.iter().map(usize::to_string).collect();
    format!("d={} r={}", t.d, w.join("-"))
}

/// Teachers in grid order with a result, and the label of the first row of each (d, r) group.
fn rows(results: &StudyResults) -> (Vec<&TeacherInfo>, Vec<String>) {
    let mut teachers: Vec<&TeacherInfo> = Vec::new();
    for id in &results.teacher_order {
        let info = results
            .students
            .iter()
            .map(|s| &s.teacher)
            .chain(results.recoveries.iter().map(|r| &r.teacher))
            .find(|t| &t.id == id);
        if let Some(t) = info {
            teachers.push(t);
        }
    }
    let labels = teachers
        .iter()
        .enumerate()
        .map(|(i, t)| {
            if i == 0 || group_label(teachers[i - 1]) != group_label(t) {
                group_label(t)
            } else {
                String::new()
            }
        })
        .collect();
    (teachers, labels)
}

fn plot_error(e: impl std::fmt::Display) -> Error {
    Error::invalid("report figure", e.to_string())
}

/// Draws one panel per ρ: teachers as rows (top to bottom in grid order), log10 loss on the x
/// axis, `dots(rho)` in each panel.
fn row_figure(
    results: &StudyResults,
    title: &str,
    x_label: &str,
    dots: &dyn Fn(usize, &[&TeacherInfo]) -> Vec<Dot>,
) -> Result<String> {
    let (teachers, labels) = rows(results);
    let n = teachers.len().max(1);
    let rhos = &results.config.rhos;
    let height = (120 + 9 * n).max(300) as u32;
    let width = (40 + 330 * rhos.len()) as u32;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        let root = root.titled(title, ("sans-serif", 16)).map_err(plot_error)?;
        let panels = root.split_evenly((1, rhos.len()));
        for (k, (panel, &rho)) in panels.iter().zip(rhos).enumerate() {
            let mut chart = ChartBuilder::on(panel)
                .caption(format!("ρ = {rho}"), ("sans-serif", 14))
                .margin(6)
                .x_label_area_size(36)
                .y_label_area_size(if k == 0 { 78 } else { 8 })
                .build_cartesian_2d(FLOOR..CEIL, -0.5..(n as f64 - 0.5))
                .map_err(plot_error)?;
            let labels = &labels;
            chart
                .configure_mesh()
                .disable_y_mesh()
                .x_labels(8)
                .y_labels(n)
                .x_desc(x_label)
                .x_label_formatter(&|v| format!("{v:.0}"))
                .y_label_formatter(&|v| {
                    let row = n as f64 - 1.0 - v.round();
                    if k == 0 && (v - v.round()).abs() < 1e-9 && row >= 0.0 {
                        labels.get(row as usize).cloned().unwrap_or_default()
                    } else {
                        String::new()
                    }
                })
                .label_style(("sans-serif", 10))
                .draw()
                .map_err(plot_error)?;
            // Separators between (d, r) groups.
            for (i, l) in labels.iter().enumerate().skip(1) {
                if !l.is_empty() {
                    let y = n as f64 - 1.0 - i as f64 + 0.5;
                    chart
                        .draw_series(std::iter::once(PathElement::new(
                            vec![(FLOOR, y), (CEIL, y)],
                            BLACK.mix(0.3),
                        )))
                        .map_err(plot_error)?;
                }
            }
            let points = dots(rho, &teachers);
            chart
                .draw_series(points.iter().map(|d| {
                    Circle::new(
                        (d.log_loss, n as f64 - 1.0 - d.row as f64),
                        3,
                        d.colour.filled(),
                    )
                }))
                .map_err(plot_error)?;
        }
        root.present().map_err(plot_error)?;
    }
    Ok(svg)
}

/// Paper Fig. 4B/C analogue: every student's final loss (a dot per seed, coloured by log10
/// loss), one row per teacher, one panel per ρ.
pub fn student_losses_svg(results: &StudyResults) -> Result<String> {
    let title = format!(
        "{}: final student loss per teacher (dots: seeds)",
        results.config.name
    );
    row_figure(results, &title, "log10 final loss", &|rho, teachers| {
        results
            .students
            .iter()
            .filter(|s| s.rho == rho)
            .filter_map(|s| {
                let row = teachers.iter().position(|t| t.id == s.teacher.id)?;
                let l = log_loss(s.record.as_ref()?.loss)?;
                Some(Dot {
                    row,
                    log_loss: l,
                    colour: loss_colour(l),
                })
            })
            .collect()
    })
}

/// Paper Fig. 5B analogue: loss of the recovered network after fine-tuning, one dot per
/// teacher, one panel per ρ; green when identified (rmse ≤ 1e-14), orange otherwise; failed
/// recoveries are drawn in grey at the right edge.
pub fn recovery_losses_svg(results: &StudyResults) -> Result<String> {
    let title = format!(
        "{}: loss after Expand-and-Cluster (green: rmse ≤ 1e-14, grey: failed)",
        results.config.name
    );
    row_figure(results, &title, "log10 loss after E&C", &|rho, teachers| {
        results
            .recoveries
            .iter()
            .filter(|r| r.rho == rho)
            .filter_map(|r| {
                let row = teachers.iter().position(|t| t.id == r.teacher.id)?;
                let (l, colour) = match r.loss.and_then(log_loss) {
                    Some(l) if r.identified() => (l, RGBColor(26, 150, 65)),
                    Some(l) => (l, RGBColor(230, 120, 20)),
                    None => (CEIL, RGBColor(150, 150, 150)),
                };
                Some(Dot {
                    row,
                    log_loss: l,
                    colour,
                })
            })
            .collect()
    })
}
