//! The report's tables: per student, per recovery, per (d, r, ρ) cell, the headline per ρ, and
//! the task times (kept apart: every other table is a pure function of the results).

use crate::named::Named;
use std::fmt::Write;

use crate::landscape::EndKind;
use crate::study::{RecoveryResult, StudentResult, StudyResults};

pub use crate::cluster::metrics::SUCCESS_RMSE;

/// The paper's headline figures (Martinelli et al., ICML 2024, Sec. 5 and Fig. 5): teachers
/// identified by Expand-and-Cluster at ρ = 4 out of 150, of which with `m̂ = r`, and the
/// `d = 8` teachers identified at ρ = 4 and at ρ = 8 (out of 30).
pub const PAPER_IDENTIFIED_RHO4: (usize, usize) = (118, 150);
/// Of the identified teachers at ρ = 4, those with `m̂ = r`.
pub const PAPER_EXACT_WIDTH_RHO4: usize = 111;
/// `d = 8` teachers identified at ρ = 4 and 8 (each), out of 30.
pub const PAPER_D8_IDENTIFIED: (usize, usize) = (28, 30);

fn num(v: f64) -> String {
    if v.is_finite() {
        format!("{v:e}")
    } else {
        String::new()
    }
}

fn opt(v: Option<f64>) -> String {
    v.map(num).unwrap_or_default()
}

fn csv_text(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\"").replace('\n', " "))
    } else {
        s.to_string()
    }
}

fn widths(w: &[usize]) -> String {
    w.iter().map(usize::to_string).collect::<Vec<_>>().join("-")
}

/// Whether a student reached the teacher's function (rmse ≤ [`SUCCESS_RMSE`]).
pub fn student_success(s: &StudentResult) -> bool {
    s.record
        .as_ref()
        .and_then(|r| r.rmse)
        .is_some_and(|r| r <= SUCCESS_RMSE)
}

/// The certified end state of a student, if its record has one.
pub fn end_kind(s: &StudentResult) -> Option<EndKind> {
    s.record.as_ref()?.end_state.as_ref().map(|e| e.kind)
}

/// Students per ρ and end state: `(rho, counts per [`EndKind::ALL`], not certified)`.
pub fn end_state_counts(results: &StudyResults) -> Vec<(usize, Vec<usize>, usize)> {
    results
        .config
        .rhos
        .iter()
        .map(|&rho| {
            let of_rho: Vec<&StudentResult> =
                results.students.iter().filter(|s| s.rho == rho).collect();
            let counts = EndKind::ALL
                .iter()
                .map(|&k| of_rho.iter().filter(|s| end_kind(s) == Some(k)).count())
                .collect();
            let none = of_rho.iter().filter(|s| end_kind(s).is_none()).count();
            (rho, counts, none)
        })
        .collect()
}

/// `end_states.csv`: one row per (ρ, end state) with the count and the fraction of the ρ's
/// students (`uncertified`: failed runs and records without a certificate).
pub fn end_states_csv(results: &StudyResults) -> String {
    let mut out = String::from("rho,end_state,students,fraction\n");
    for (rho, counts, none) in end_state_counts(results) {
        let total = counts.iter().sum::<usize>() + none;
        let names = EndKind::ALL.iter().map(|k| k.name()).chain(["uncertified"]);
        for (name, c) in names.zip(counts.iter().copied().chain([none])) {
            let f = if total > 0 {
                c as f64 / total as f64
            } else {
                0.0
            };
            let _ = writeln!(out, "{rho},{name},{c},{f:.4}");
        }
    }
    out
}

/// One row per student task.
pub fn students_csv(students: &[StudentResult]) -> String {
    // A study with a methods axis has a last column naming each student's method.
    let methods = students.iter().any(|s| s.method.is_some());
    let mut out = String::from(
        "teacher,d,r,teacher_widths,rho,seed,loss,ode_loss,gnorm,rmse,success,ode_stop,optim_stop,end_state,error",
    );
    out.push_str(if methods { ",method\n" } else { "\n" });
    for s in students {
        let t = &s.teacher;
        let rec = s.record.as_ref();
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}{}",
            t.id,
            t.d,
            t.r,
            widths(&t.hidden),
            s.rho,
            s.seed,
            opt(rec.map(|r| r.loss)),
            opt(rec.map(|r| r.ode_loss)),
            opt(rec.map(|r| r.gnorm)),
            opt(rec.and_then(|r| r.rmse)),
            student_success(s),
            rec.map(|r| r.ode.outcome.stop.name()).unwrap_or_default(),
            rec.map(|r| r.optim.outcome.stop.name()).unwrap_or_default(),
            end_kind(s).map(EndKind::name).unwrap_or_default(),
            csv_text(s.error.as_deref().unwrap_or_default()),
            if methods {
                format!(",{}", s.method.as_deref().unwrap_or_default())
            } else {
                String::new()
            },
        );
    }
    out
}

/// One row per recovery task.
pub fn recoveries_csv(recoveries: &[RecoveryResult]) -> String {
    let mut out = String::from(
        "teacher,d,r,teacher_widths,rho,recovered_widths,loss,rmse,identified,widths_match,input_cosine_mean,input_cosine_max,output_cosine,error\n",
    );
    for r in recoveries {
        let t = &r.teacher;
        let m = r.metrics.as_ref();
        let worst = |f: fn(&crate::cluster::metrics::LayerMetrics) -> f64| {
            m.and_then(|m| m.layers.iter().map(f).reduce(f64::max))
        };
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            t.id,
            t.d,
            t.r,
            widths(&t.hidden),
            r.rho,
            widths(&r.recovered_widths),
            opt(r.loss),
            opt(r.rmse),
            r.identified(),
            r.widths_match(),
            opt(worst(|l| l.input_cosine_mean)),
            opt(worst(|l| l.input_cosine_max)),
            opt(m.map(|m| m.output_cosine_distance)),
            csv_text(r.error.as_deref().unwrap_or_default()),
        );
    }
    out
}

/// Counts of one group of teachers at one ρ.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Teachers with at least one result.
    pub teachers: usize,
    /// Student results.
    pub students: usize,
    /// Students that reached the teacher's function.
    pub students_success: usize,
    /// Teachers with at least one such student.
    pub teachers_with_success: usize,
    /// Recoveries run.
    pub recoveries: usize,
    /// Teachers identified by Expand-and-Cluster (rmse ≤ 1e-14).
    pub identified: usize,
    /// Of those, with `m̂ = r` in every layer.
    pub identified_exact_width: usize,
}

/// Tallies the results whose teacher satisfies `keep`, at width ratio `rho`.
pub fn tally(results: &StudyResults, rho: usize, keep: TeacherFilter<'_>) -> Tally {
    let students: Vec<&StudentResult> = results
        .students
        .iter()
        .filter(|s| s.rho == rho && keep(&s.teacher))
        .collect();
    let recoveries: Vec<&RecoveryResult> = results
        .recoveries
        .iter()
        .filter(|r| r.rho == rho && keep(&r.teacher))
        .collect();
    let mut ids: Vec<&str> = students.iter().map(|s| s.teacher.id.as_str()).collect();
    ids.extend(recoveries.iter().map(|r| r.teacher.id.as_str()));
    ids.sort_unstable();
    ids.dedup();
    let teachers_with_success = ids
        .iter()
        .filter(|id| {
            students
                .iter()
                .any(|s| s.teacher.id == **id && student_success(s))
        })
        .count();
    Tally {
        teachers: ids.len(),
        students: students.len(),
        students_success: students.iter().filter(|s| student_success(s)).count(),
        teachers_with_success,
        recoveries: recoveries.len(),
        identified: recoveries.iter().filter(|r| r.identified()).count(),
        identified_exact_width: recoveries
            .iter()
            .filter(|r| r.identified() && r.widths_match())
            .count(),
    }
}

/// The (d, r) cells of the results, in grid order (deep teachers by their widths).
pub fn cells(results: &StudyResults) -> Vec<(usize, Vec<usize>)> {
    let mut out: Vec<(usize, Vec<usize>)> = Vec::new();
    let infos = results
        .students
        .iter()
        .map(|s| &s.teacher)
        .chain(results.recoveries.iter().map(|r| &r.teacher));
    for t in infos {
        let key = (t.d, t.hidden.clone());
        if !out.contains(&key) {
            out.push(key);
        }
    }
    out.sort();
    out
}

/// One row per (d, teacher widths, ρ) cell.
pub fn cells_csv(results: &StudyResults) -> String {
    let mut out = String::from(
        "d,teacher_widths,rho,teachers,students,students_success,teachers_with_success,recoveries,identified,identified_exact_width\n",
    );
    for (d, w) in cells(results) {
        for &rho in &results.config.rhos {
            let t = tally(results, rho, &|t| t.d == d && t.hidden == w);
            let _ = writeln!(
                out,
                "{d},{},{rho},{},{},{},{},{},{},{}",
                widths(&w),
                t.teachers,
                t.students,
                t.students_success,
                t.teachers_with_success,
                t.recoveries,
                t.identified,
                t.identified_exact_width
            );
        }
    }
    out
}

/// The paper's figures for a headline row, if it reports them.
pub fn paper_headline(rho: usize) -> Option<String> {
    (rho == 4).then(|| {
        format!(
            "{} of {} identified, {} with m̂ = r",
            PAPER_IDENTIFIED_RHO4.0, PAPER_IDENTIFIED_RHO4.1, PAPER_EXACT_WIDTH_RHO4
        )
    })
}

/// A subset of teachers.
pub type TeacherFilter<'a> = &'a dyn Fn(&crate::study::TeacherInfo) -> bool;

/// One row of the headline: a subset of teachers at one ρ, with the paper's figures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeadlineRow {
    /// `all` or `d=8`.
    pub subset: &'static str,
    /// Width ratio.
    pub rho: usize,
    /// The counts.
    pub tally: Tally,
    /// The paper's figures for the same row, when it reports them.
    pub paper: Option<String>,
}

/// The headline rows: every ρ for all teachers, then for the `d = 8` ones (rows without
/// teachers are left out).
pub fn headline_rows(results: &StudyResults) -> Vec<HeadlineRow> {
    // The paper's figures are about its shallow family: they are shown next to family
    // teachers only (the `d = 8` row), and next to "all" only when every teacher is one.
    let family = |t: &crate::study::TeacherInfo| {
        matches!(t.source, crate::study::TeacherSource::Family { .. })
    };
    let all_family = results.students.iter().all(|s| family(&s.teacher))
        && results.recoveries.iter().all(|r| family(&r.teacher));
    let d8 = move |t: &crate::study::TeacherInfo| t.d == 8 && family(t);
    let subsets: [(&'static str, TeacherFilter<'_>); 2] = [("all", &|_| true), ("d=8", &d8)];
    let mut out = Vec::new();
    for (subset, keep) in subsets {
        for &rho in &results.config.rhos {
            let t = tally(results, rho, keep);
            if t.teachers == 0 {
                continue;
            }
            let paper = match subset {
                "all" => paper_headline(rho).filter(|_| all_family),
                _ => matches!(rho, 4 | 8).then(|| {
                    format!(
                        "{} of {} identified",
                        PAPER_D8_IDENTIFIED.0, PAPER_D8_IDENTIFIED.1
                    )
                }),
            };
            out.push(HeadlineRow {
                subset,
                rho,
                tally: t,
                paper,
            });
        }
    }
    out
}

/// One row per ρ: all teachers, then the `d = 8` ones of the paper family.
pub fn headline_csv(results: &StudyResults) -> String {
    let mut out = String::from(
        "teachers_subset,rho,teachers,recoveries,identified,identified_exact_width,students,students_success,paper\n",
    );
    for h in headline_rows(results) {
        let t = &h.tally;
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{}",
            h.subset,
            h.rho,
            t.teachers,
            t.recoveries,
            t.identified,
            t.identified_exact_width,
            t.students,
            t.students_success,
            csv_text(h.paper.as_deref().unwrap_or_default())
        );
    }
    out
}

/// Wall times of every task (s): the only table that differs between repeated runs.
pub fn timing_csv(results: &StudyResults) -> String {
    let mut out = String::from("teacher,rho,task,wall_s,ode_s,optim_s\n");
    for s in &results.students {
        let rec = s.record.as_ref();
        // In a study with methods the task names the method too: `seed3/adam`.
        let method = s
            .method
            .as_ref()
            .map(|m| format!("/{m}"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{},{},seed{}{method},{},{},{}",
            s.teacher.id,
            s.rho,
            s.seed,
            opt(rec.map(|r| r.total_time)),
            opt(rec.map(|r| r.ode.outcome.wall)),
            opt(rec.map(|r| r.optim.outcome.wall)),
        );
    }
    for r in &results.recoveries {
        let _ = writeln!(
            out,
            "{},{},recovery,{},,",
            r.teacher.id,
            r.rho,
            num(r.wall_time)
        );
    }
    out
}
