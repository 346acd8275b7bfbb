//! `gradflow study` and `gradflow report` end to end on a tiny grid: an interrupted and
//! resumed study, and a study run in three shards, give the same report as one uninterrupted
//! run, with no task lost or repeated.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// 2 teachers × 2 ρ × (4 students + 1 recovery) = 20 tasks. Step budgets (the time budgets
/// never bind on this problem), so every task is deterministic.
const CONFIG: &str = r#"
name = "tiny"
rhos = [1, 2]
students = 4
samples = 300
recover = true
[family]
dims = [2]
widths = [2]
teachers = 2
[flow]
maxtime_ode = 600.0
maxiterations_ode = 400
[refine]
maxtime_optim = 600.0
maxiterations_optim = 200
[recovery]
finetune_time = 600.0
gamma = 0.5
"#;
const TASKS: usize = 20;

fn gradflow(args: &[&str], env: Option<(&str, &str)>) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_gradflow"));
    c.args(args);
    if let Some((k, v)) = env {
        c.env(k, v);
    }
    c.output().expect("the binary runs")
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn ok(out: &Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `gradflow study` on `cfg` into `out`, one thread, no progress bar.
fn study_args<'a>(cfg: &'a Path, out: &'a Path) -> Vec<&'a str> {
    vec![
        "study",
        "--config",
        s(cfg),
        "--out",
        s(out),
        "--threads",
        "1",
        "--quiet",
    ]
}

fn study(cfg: &Path, out: &Path, extra: &[&str], env: Option<(&str, &str)>) -> Output {
    let mut args = study_args(cfg, out);
    args.extend_from_slice(extra);
    gradflow(&args, env)
}

/// Runs a study and kills it (SIGKILL) once `n` tasks have reported finishing.
fn study_killed_after(cfg: &Path, out: &Path, n: usize) -> std::process::ExitStatus {
    use std::io::BufRead;
    let mut child = Command::new(env!("CARGO_BIN_EXE_gradflow"))
        .args(study_args(cfg, out))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let stderr = child.stderr.take().expect("piped stderr");
    let mut done = 0;
    for line in std::io::BufReader::new(stderr).lines() {
        let line = line.expect("stderr is text");
        if line.contains("ρ=") && !line.starts_with("gradflow study") {
            done += 1;
            if done >= n {
                child.kill().expect("kill");
                break;
            }
        }
    }
    child.wait().expect("the study ends")
}

/// Result files of a study folder (student and recovery results).
fn result_files(dir: &Path) -> Vec<PathBuf> {
    fn walk(d: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else {
                let n = p.file_name().unwrap().to_string_lossy().into_owned();
                if (n.starts_with("seed") || n == "recovery.json") && n.ends_with(".json") {
                    out.push(p);
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(&dir.join("tasks"), &mut out);
    out.sort();
    out
}

fn report(dirs: &[&Path], out: &Path) {
    let mut args = vec!["report"];
    args.extend(dirs.iter().map(|d| s(d)));
    args.extend(["-o", s(out)]);
    ok(&gradflow(&args, None));
}

/// Asserts that two reports agree in every file except the task times.
fn same_report(a: &Path, b: &Path) {
    let mut names: Vec<String> = std::fs::read_dir(a)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.len() >= 8, "{names:?}");
    for n in names.iter().filter(|n| !n.starts_with("timing")) {
        let (x, y) = (
            std::fs::read(a.join(n)).unwrap(),
            std::fs::read(b.join(n)).unwrap(),
        );
        assert!(
            x == y,
            "{n} differs between {} and {}",
            a.display(),
            b.display()
        );
    }
}

fn setup() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("tiny.toml");
    std::fs::write(&cfg, CONFIG).unwrap();
    (dir, cfg)
}

#[test]
fn a_killed_study_resumes_and_reports_as_if_uninterrupted() {
    let (dir, cfg) = setup();
    let whole = dir.path().join("whole");
    ok(&study(&cfg, &whole, &[], None));
    assert_eq!(result_files(&whole).len(), TASKS);

    // Killed (SIGKILL, as by a scheduler or the OOM killer) after 7 finished tasks.
    let resumed = dir.path().join("resumed");
    let killed = study_killed_after(&cfg, &resumed, 7);
    assert!(!killed.success());
    let after_kill = result_files(&resumed);
    assert!(
        (7..TASKS).contains(&after_kill.len()),
        "{} results after the kill",
        after_kill.len()
    );
    let stamps: Vec<_> = after_kill
        .iter()
        .map(|p| std::fs::read(p).unwrap())
        .collect();
    // Restart: only the missing tasks run; finished ones are not touched.
    let out = study(&cfg, &resumed, &[], None);
    ok(&out);
    let text = String::from_utf8_lossy(&out.stdout);
    let expect = format!(
        "{TASKS} tasks, {} run now (0 recorded a failure), {} were already finished",
        TASKS - after_kill.len(),
        after_kill.len()
    );
    assert!(text.contains(&expect), "{text}");
    for (p, before) in after_kill.iter().zip(&stamps) {
        assert!(
            std::fs::read(p).unwrap() == *before,
            "{} was rewritten",
            p.display()
        );
    }
    assert_eq!(result_files(&resumed).len(), TASKS);
    // A third run has nothing to do.
    let out = study(&cfg, &resumed, &[], None);
    ok(&out);
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!(
        "{TASKS} tasks, 0 run now (0 recorded a failure), {TASKS} were already finished"
    )));

    let (ra, rb) = (
        dir.path().join("report_whole"),
        dir.path().join("report_resumed"),
    );
    report(&[&whole], &ra);
    report(&[&resumed], &rb);
    same_report(&ra, &rb);
    // Every task appears exactly once: 16 students, 4 recoveries.
    let students = std::fs::read_to_string(ra.join("students.csv")).unwrap();
    assert_eq!(students.lines().count(), 1 + 16);
    let recoveries = std::fs::read_to_string(ra.join("recoveries.csv")).unwrap();
    assert_eq!(recoveries.lines().count(), 1 + 4);
    let summary = std::fs::read_to_string(ra.join("summary.md")).unwrap();
    assert!(summary.contains("16 of 16 student tasks, 4 of 4 recoveries"));
    // The recoveries reused the students of the study instead of training their own.
    for f in result_files(&whole)
        .iter()
        .filter(|p| p.ends_with("recovery.json"))
    {
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap();
        assert_eq!(v["students_retrained"], 0, "{}", f.display());
    }
}

#[test]
fn three_shards_cover_the_grid_once_and_report_like_one_run() {
    let (dir, cfg) = setup();
    let whole = dir.path().join("whole");
    ok(&study(&cfg, &whole, &[], None));
    let shards: Vec<PathBuf> = (1..=3)
        .map(|i| {
            let d = dir.path().join(format!("shard{i}"));
            ok(&study(&cfg, &d, &["--shard", &format!("{i}/3")], None));
            d
        })
        .collect();
    let counts: Vec<usize> = shards.iter().map(|d| result_files(d).len()).collect();
    assert_eq!(counts.iter().sum::<usize>(), TASKS, "{counts:?}");
    assert!(counts.iter().all(|&c| c > 0), "{counts:?}");
    let (ra, rb) = (
        dir.path().join("report_whole"),
        dir.path().join("report_shards"),
    );
    report(&[&whole], &ra);
    let refs: Vec<&Path> = shards.iter().map(PathBuf::as_path).collect();
    report(&refs, &rb);
    same_report(&ra, &rb);

    // Shards may also share one folder.
    let shared = dir.path().join("shared");
    for i in 1..=3 {
        ok(&study(&cfg, &shared, &["--shard", &format!("{i}/3")], None));
    }
    let rc = dir.path().join("report_shared");
    report(&[&shared], &rc);
    same_report(&ra, &rc);
}

#[test]
fn bad_study_inputs_fail_cleanly() {
    let (dir, cfg) = setup();
    let out = dir.path().join("o");
    for (args, needle) in [
        (vec!["--shard", "4/3"], "--shard"),
        (vec!["--shard", "x"], "--shard"),
        (vec!["--threads", "0"], "--threads"),
    ] {
        let o = study(&cfg, &out, &args, None);
        assert!(!o.status.success());
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(needle) && !err.contains("panicked"), "{err}");
    }
    // A typo in the configuration names the file and the key.
    let typo = dir.path().join("typo.toml");
    std::fs::write(&typo, CONFIG.replace("students = 4", "studnets = 4")).unwrap();
    let o = study(&typo, &out, &[], None);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("typo.toml") && err.contains("studnets"),
        "{err}"
    );
    // A folder holding another study is refused.
    ok(&study(&cfg, &out, &[], None));
    let other = dir.path().join("other.toml");
    std::fs::write(&other, CONFIG.replace("samples = 300", "samples = 301")).unwrap();
    let o = study(&other, &out, &[], None);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("different study"),
        "{err}"
    );
    // A report of a folder that is not a study.
    let o = gradflow(
        &["report", s(dir.path()), "-o", s(&dir.path().join("r"))],
        None,
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("not a study folder"),
        "{err}"
    );
    // A result file that does not parse is computed again, with a warning.
    let victim = result_files(&out)
        .into_iter()
        .next()
        .expect("a result of shard 1/20");
    std::fs::write(&victim, "{ truncated").unwrap();
    let o = study(&cfg, &out, &[], None);
    ok(&o);
    assert!(String::from_utf8_lossy(&o.stderr).contains("runs again"));
    assert!(String::from_utf8_lossy(&o.stdout).contains("1 run now"));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&victim).unwrap()).unwrap();
    assert!(v.is_object());
}

/// Relative paths of every file under `dir`, sorted.
fn tree(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, d: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.push(p.strip_prefix(root).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// A study's recovery folder has the files `gradflow recover` writes for the same teacher,
/// students and budgets — and the same recovered network.
#[test]
fn a_study_recovery_folder_is_what_gradflow_recover_writes() {
    let (dir, cfg) = setup();
    let st = dir.path().join("st");
    ok(&study(&cfg, &st, &[], None));
    let rec = dir.path().join("rec");
    let teacher = st.join("teachers").join("d2_r2_i0.json");
    // ρ = 2 of a width-2 teacher: students of width 4; the rest as in CONFIG.
    ok(&gradflow(
        &[
            "recover",
            "--teacher",
            s(&teacher),
            "--width",
            "4",
            "--students",
            "4",
            "--samples",
            "300",
            "--maxtime-ode",
            "600",
            "--maxiterations-ode",
            "400",
            "--maxtime-optim",
            "600",
            "--maxiterations-optim",
            "200",
            "--finetune-time",
            "600",
            "--gamma",
            "0.5",
            "--threads",
            "1",
            "--quiet",
            "-o",
            s(&rec),
        ],
        None,
    ));
    let in_study = st.join("tasks/d2_r2_i0/rho2/recovery");
    assert_eq!(tree(&in_study), tree(&rec));
    assert!(tree(&rec).contains(&"students/layer_1_seed_3.json".to_string()));
    let a = gradflow::io::read_network(&in_study.join("recovered.json")).unwrap();
    let b = gradflow::io::read_network(&rec.join("recovered.json")).unwrap();
    assert!(
        a.params
            .iter()
            .zip(&b.params)
            .all(|(x, y)| x.to_bits() == y.to_bits())
    );
    assert_eq!(a.spec, b.spec);
}

/// A benchmark study: three methods on one teacher × 2 seeds, step budgets.
const BENCH: &str = r#"
name = "bench"
rhos = [2]
students = 2
samples = 200
[family]
dims = [2]
widths = [2]
teachers = 1
[flow]
maxtime_ode = 600.0
maxiterations_ode = 60
[refine]
maxtime_optim = 600.0
maxiterations_optim = 30
[[methods]]
name = "rodas5p+newton-tr"
[[methods]]
name = "adam"
ode = "adam"
optim = "none"
lr = 1e-3
[[methods]]
name = "newton-tr"
ode = "none"
optim = "newton-tr"
"#;

#[test]
fn a_benchmark_study_runs_every_method_from_the_same_point_and_reports_profiles() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("bench.toml");
    std::fs::write(&cfg, BENCH).unwrap();
    let out = dir.path().join("out");
    ok(&study(&cfg, &out, &[], None));
    let files = result_files(&out);
    assert_eq!(files.len(), 6, "{files:?}");
    let group = out.join("tasks/d2_r2_i0/rho2");
    let read = |m: &str, seed: u64| -> serde_json::Value {
        let p = group.join(m).join(format!("seed{seed}.json"));
        serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap()
    };
    for seed in [0, 1] {
        let runs: Vec<serde_json::Value> = ["rodas5p+newton-tr", "adam", "newton-tr"]
            .iter()
            .map(|m| read(m, seed))
            .collect();
        for (r, m) in runs.iter().zip(["rodas5p+newton-tr", "adam", "newton-tr"]) {
            assert_eq!(r["method"], m);
            // The same initial point for every method.
            assert_eq!(r["record"]["init"], runs[0]["record"]["init"]);
            // A progress curve: best loss non-increasing, counters and time non-decreasing,
            // ending at the run's loss.
            let p = r["record"]["progress"].as_array().unwrap();
            assert!(p.len() >= 2, "{m}: {p:?}");
            let f = |q: &serde_json::Value, k: &str| q[k].as_f64().unwrap();
            assert!(p.windows(2).all(|w| f(&w[1], "loss") <= f(&w[0], "loss")
                && f(&w[1], "wall") >= f(&w[0], "wall")
                && f(&w[1], "gradient_evals") >= f(&w[0], "gradient_evals")));
            let last = f(p.last().unwrap(), "loss");
            assert!(last.to_bits() == r["record"]["loss"].as_f64().unwrap().to_bits());
        }
        assert_eq!(runs[1]["record"]["ode"]["method"], "adam");
        assert_eq!(runs[1]["record"]["optim"]["stop"], "skipped");
        assert_eq!(runs[2]["record"]["ode"]["stop"], "skipped");
        assert_eq!(runs[2]["record"]["optim"]["method"], "newton-tr");
        assert_eq!(runs[0]["record"]["ode"]["method"], "rodas5p");
    }
    // Resuming runs nothing.
    let o = study(&cfg, &out, &[], None);
    ok(&o);
    assert!(String::from_utf8_lossy(&o.stdout).contains("0 run now"));
    // A peer's record joins the comparison as a method.
    let peer = serde_json::json!({
        "method": "hand", "tool": "test", "teacher": "d2_r2_i0", "rho": 2, "seed": 0,
        "n_params": 9, "loss": 1e-40, "total_time": 1.0,
        "progress": [{"phase": "flow", "wall": 1.0, "loss": 1e-40, "loss_evals": 1,
                      "gradient_evals": 1, "hessian_evals": 0}]
    });
    let pdir = out.join("peers/hand");
    std::fs::create_dir_all(&pdir).unwrap();
    std::fs::write(pdir.join("p.json"), peer.to_string()).unwrap();
    // A peer named like one of the study's methods keeps a row of its own.
    let mut twin = peer.clone();
    twin["method"] = "adam".into();
    std::fs::write(pdir.join("twin.json"), twin.to_string()).unwrap();
    let rep = dir.path().join("report");
    report(&[&out], &rep);
    let targets = std::fs::read_to_string(rep.join("targets.csv")).unwrap();
    let header = targets.lines().next().unwrap();
    assert!(header.starts_with("method,"), "{header}");
    // 3 methods × 2 problems + the two peers' one problem each, 5 targets each.
    assert_eq!(targets.lines().count(), 1 + 8 * 5);
    assert!(targets.contains("hand,true,d2_r2_i0,2,0,9,1e-30,"));
    let md = std::fs::read_to_string(rep.join("benchmark.md")).unwrap();
    assert!(
        md.contains("| hand (peer) |") && md.contains("| adam |"),
        "{md}"
    );
    for f in ["performance_time_1e-10.svg", "data_work_10xbest.svg"] {
        assert!(rep.join("profiles").join(f).exists(), "{f}");
    }
    let students = std::fs::read_to_string(rep.join("students.csv")).unwrap();
    assert!(students.lines().next().unwrap().ends_with(",method"));
    // Methods and recovery, and two methods of one name, are refused with the field named.
    for (from, to, needle) in [
        ("samples = 200", "samples = 200\nrecover = true", "methods"),
        ("name = \"adam\"", "name = \"newton-tr\"", "two methods"),
        ("lr = 1e-3", "speed = 2", "methods.adam.speed"),
    ] {
        let bad = dir.path().join("bad.toml");
        std::fs::write(&bad, BENCH.replace(from, to)).unwrap();
        let o = study(&bad, &dir.path().join("bad"), &[], None);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            !o.status.success() && err.contains(needle),
            "{needle}: {err}"
        );
    }
}

#[test]
fn a_study_takes_data_sets_and_the_infinite_data_loss_as_problems() {
    let dir = tempfile::tempdir().unwrap();
    // A data set without a teacher: 200 samples of a paper teacher, written by `gradflow data`.
    let teacher = dir.path().join("t.json");
    let data = dir.path().join("points.npz");
    ok(&gradflow(
        &["teacher", "--d", "2", "--r", "2", "-o", s(&teacher)],
        None,
    ));
    ok(&gradflow(
        &["data", "--net", s(&teacher), "-n", "200", "-o", s(&data)],
        None,
    ));
    let cfg = dir.path().join("data.toml");
    std::fs::write(
        &cfg,
        r#"
rhos = [1, 2]
students = 1
[[datasets]]
path = "points.npz"
hidden = [2]
[flow]
maxtime_ode = 600.0
maxiterations_ode = 40
[refine]
maxtime_optim = 600.0
maxiterations_optim = 10
"#,
    )
    .unwrap();
    let out = dir.path().join("out");
    ok(&study(&cfg, &out, &[], None));
    let read = |p: PathBuf| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
    };
    for rho in [1, 2] {
        let r = read(out.join(format!("tasks/points/rho{rho}/seed0.json")));
        assert_eq!(r["record"]["shape"], format!("2-{}-1", 2 * rho));
        assert!(r["teacher"]["source"]["data"]["path"].as_str().is_some());
        assert!(r["record"]["loss"].as_f64().unwrap() < 1.0);
    }
    // The infinite-data loss against a paper teacher.
    let cfg = dir.path().join("inf.toml");
    std::fs::write(
        &cfg,
        r#"
rhos = [1]
students = 1
infinite_data = true
[family]
dims = [2]
widths = [2]
teachers = 1
[flow]
maxtime_ode = 600.0
maxiterations_ode = 20
[refine]
maxtime_optim = 600.0
maxiterations_optim = 5
"#,
    )
    .unwrap();
    let out = dir.path().join("inf");
    ok(&study(&cfg, &out, &[], None));
    let r = read(out.join("tasks/d2_r2_i0/rho1/seed0.json"));
    // (tests/study checks that the loss is the population loss of the record's parameters.)
    assert!(r["record"]["loss"].as_f64().unwrap().is_finite());
    let o = gradflow(
        &["report", s(&out), "-o", s(&dir.path().join("inf-report"))],
        None,
    );
    ok(&o);
}
