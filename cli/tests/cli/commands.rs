//! The `gradflow` binary end to end: happy paths and every bad-input case of SPEC §9.

use std::path::Path;
use std::process::{Command, Output};

fn gradflow(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gradflow"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Asserts a clean failure: non-zero exit, one line on stderr naming `needle`, no panic.
fn assert_clean_failure(out: &Output, needle: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "should fail: {err}");
    assert!(!err.contains("panicked"), "panic: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(err.contains(needle), "`{needle}` not in: {err}");
}

#[test]
fn teacher_data_eval_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("t.json");
    let d = dir.path().join("d.npz");
    let o = dir.path().join("eval.json");
    assert!(
        gradflow(&["teacher", "--d", "3", "--r", "2", "-o", s(&t)])
            .status
            .success()
    );
    assert!(
        gradflow(&["data", "--net", s(&t), "-n", "500", "-o", s(&d)])
            .status
            .success()
    );
    let out = gradflow(&[
        "eval",
        "--net",
        s(&t),
        "--data",
        s(&d),
        "--gradient",
        "--hessian",
        "--spectrum",
        "--repeat",
        "3",
        "-o",
        s(&o),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&o).unwrap()).unwrap();
    let np = 3 * 2 + 2 + 2 + 1;
    assert_eq!(r["n_params"], np);
    assert!(
        r["loss"].as_f64().unwrap() < 1e-28,
        "the teacher fits its own data"
    );
    assert_eq!(r["gradient"].as_array().unwrap().len(), np);
    assert_eq!(r["hessian"].as_array().unwrap().len(), np);
    assert_eq!(r["spectrum"].as_array().unwrap().len(), np);
    let spec: Vec<f64> = r["spectrum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert!(spec.windows(2).all(|w| w[0] <= w[1]), "ascending");
    assert!(
        spec[0] > -1e-10,
        "a zero-loss minimum has a PSD Hessian: {}",
        spec[0]
    );
    assert!(r["timing"]["loss_gradient_s"].as_f64().unwrap() > 0.0);
    assert!(r["timing"]["hessian_s"].as_f64().unwrap() > 0.0);
    // Data seeds default to the teacher's seed recorded in the file: reproducible.
    let d2 = dir.path().join("d2.npz");
    assert!(
        gradflow(&["data", "--net", s(&t), "-n", "500", "-o", s(&d2)])
            .status
            .success()
    );
    assert_eq!(std::fs::read(&d).unwrap(), std::fs::read(&d2).unwrap());
}

#[test]
fn teacher_family_is_written_with_an_index() {
    let dir = tempfile::tempdir().unwrap();
    let out = gradflow(&[
        "teacher",
        "--family",
        "--n-standardise",
        "500",
        "-o",
        s(dir.path()),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let index: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("family.json")).unwrap())
            .unwrap();
    assert_eq!(index.as_array().unwrap().len(), 150);
    assert!(dir.path().join("teacher_d32_r8_i9.json").exists());
}

#[test]
fn bad_inputs_fail_cleanly_with_the_file_named() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name);
    let t = p("t.json");
    let d = p("d.npz");
    assert!(
        gradflow(&["teacher", "--d", "2", "--r", "2", "-o", s(&t)])
            .status
            .success()
    );
    assert!(
        gradflow(&["data", "--net", s(&t), "-n", "50", "-o", s(&d)])
            .status
            .success()
    );
    let out_json = p("out.json");
    let eval = |net: &Path, data: &str| {
        gradflow(&["eval", "--net", s(net), "--data", data, "-o", s(&out_json)])
    };

    // Unknown activation.
    let text = std::fs::read_to_string(&t)
        .unwrap()
        .replacen("\"g\"", "\"wobble\"", 1);
    let bad_act = p("bad_act.json");
    std::fs::write(&bad_act, text).unwrap();
    let out = eval(&bad_act, s(&d));
    assert_clean_failure(&out, "bad_act.json");
    assert!(String::from_utf8_lossy(&out.stderr).contains("wobble"));

    // Weight matrix of the wrong shape.
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&t).unwrap()).unwrap();
    v["params"][0]["weight"][0]
        .as_array_mut()
        .unwrap()
        .push(1.0.into());
    let bad_shape = p("bad_shape.json");
    std::fs::write(&bad_shape, v.to_string()).unwrap();
    assert_clean_failure(&eval(&bad_shape, s(&d)), "bad_shape.json");

    // Data whose dimension does not match the network.
    let t3 = p("t3.json");
    assert!(
        gradflow(&["teacher", "--d", "3", "--r", "2", "-o", s(&t3)])
            .status
            .success()
    );
    assert_clean_failure(&eval(&t3, s(&d)), "d.npz");

    // NaN and Inf in data.
    for (name, val) in [("nan.csv", "nan"), ("inf.csv", "inf")] {
        std::fs::write(p(name), format!("x1,x2,y\n0.1,0.2,0.3\n0.5,{val},0.1\n")).unwrap();
        let out = eval(&t, s(&p(name)));
        assert_clean_failure(&out, name);
        assert!(String::from_utf8_lossy(&out.stderr).contains("non-finite"));
    }

    // Truncated archive.
    let bytes = std::fs::read(&d).unwrap();
    std::fs::write(p("trunc.npz"), &bytes[..bytes.len() / 2]).unwrap();
    assert_clean_failure(&eval(&t, s(&p("trunc.npz"))), "trunc.npz");

    // Empty data.
    std::fs::write(p("empty.csv"), "x1,x2,y\n").unwrap();
    assert_clean_failure(&eval(&t, s(&p("empty.csv"))), "empty.csv");

    // Missing file and unknown format.
    assert_clean_failure(&eval(&p("missing.json"), s(&d)), "missing.json");
    assert_clean_failure(&eval(&t, "data.parquet"), "data.parquet");

    // Malformed JSON.
    std::fs::write(p("broken.json"), "{\"input_dim\": 2, \"layers\": [").unwrap();
    assert_clean_failure(&eval(&p("broken.json"), s(&d)), "broken.json");

    // None of the failures left an output file behind.
    assert!(!out_json.exists());
}

/// Peak resident memory of the full Hessian of the 16-64-32-1 network on 30 000 samples stays
/// below 2 GB (samples are processed in chunks).
#[test]
#[allow(clippy::zombie_processes)] // reaped by wait4 below, which also reports its peak memory
fn hessian_of_the_largest_benchmark_fits_in_two_gigabytes() {
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("t.json");
    let st = dir.path().join("student.json");
    let d = dir.path().join("d.npz");
    assert!(
        gradflow(&[
            "teacher",
            "--d",
            "16",
            "--r",
            "4",
            "--seed",
            "1",
            "-o",
            s(&t)
        ])
        .status
        .success()
    );
    assert!(
        gradflow(&["data", "--net", s(&t), "-n", "30000", "-o", s(&d)])
            .status
            .success()
    );
    assert!(
        gradflow(&[
            "teacher",
            "--widths",
            "16,64,32,1",
            "--seed",
            "2",
            "--n-standardise",
            "2000",
            "-o",
            s(&st)
        ])
        .status
        .success()
    );
    let child = Command::new(env!("CARGO_BIN_EXE_gradflow"))
        .args(["eval", "--net", s(&st), "--data", s(&d), "--hessian", "-o"])
        .arg(dir.path().join("e.json"))
        .spawn()
        .unwrap();
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: plain FFI calls with valid pointers to locals.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(rc, pid);
    assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0);
    let peak_bytes = usage.ru_maxrss as f64 * 1024.0;
    eprintln!("peak RSS {:.0} MB", peak_bytes / 1e6);
    assert!(peak_bytes < 2e9, "peak RSS {peak_bytes}");
}

/// Writes a small d = 2, r = 2 teacher (activation `g`) into `dir`.
fn tiny_teacher(dir: &Path) -> std::path::PathBuf {
    tiny_teacher_with(dir, "g")
}

/// Writes a small d = 2, r = 2 teacher with hidden activation `activation` into `dir`.
fn tiny_teacher_with(dir: &Path, activation: &str) -> std::path::PathBuf {
    let t = dir.join("t.json");
    let out = gradflow(&[
        "teacher",
        "--d",
        "2",
        "--r",
        "2",
        "--activation",
        activation,
        "--n-standardise",
        "2000",
        "-o",
        s(&t),
    ]);
    assert!(out.status.success());
    t
}

#[test]
fn solve_end_to_end_on_a_tiny_problem() {
    let dir = tempfile::tempdir().unwrap();
    let t = tiny_teacher(dir.path());
    let out = dir.path().join("results");
    let solve = |seeds: &str, iters: &str| {
        gradflow(&[
            "solve",
            "--teacher",
            s(&t),
            "--samples",
            "300",
            "--width",
            "4",
            "--seeds",
            seeds,
            "--maxiterations-ode",
            iters,
            "--maxtime-optim",
            "3",
            "--quiet",
            "-o",
            s(&out),
        ])
    };
    let run = solve("0..2", "60");
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(
        stdout.contains("seed") && stdout.contains("stop_ode"),
        "summary table: {stdout}"
    );
    for seed in 0..2 {
        let rec: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(out.join(format!("seed_{seed}.json"))).unwrap(),
        )
        .unwrap();
        assert_eq!(rec["seed"], seed);
        assert_eq!(rec["shape"], "2-4-1");
        let loss = rec["loss"].as_f64().unwrap();
        let ode_loss = rec["ode_loss"].as_f64().unwrap();
        assert!(
            loss.is_finite() && loss <= ode_loss,
            "refinement never makes it worse"
        );
        assert_eq!(rec["ode"]["stop"], "max_iterations");
        assert_eq!(rec["config"]["flow"]["maxiterations_ode"], 60);
        assert_eq!(rec["init"].as_array().unwrap().len(), 2 * 4 + 4 + 4 + 1);
    }
    // The same command again resumes: the finished records are this very run, so they are
    // reused (files untouched), and only the new seed trains; other options train again.
    let before = std::fs::read(out.join("seed_0.json")).unwrap();
    let rerun = solve("0..3", "60");
    let err = String::from_utf8_lossy(&rerun.stderr);
    assert!(rerun.status.success(), "{err}");
    assert!(err.contains("2 of 3 seeds have a finished record"), "{err}");
    assert_eq!(std::fs::read(out.join("seed_0.json")).unwrap(), before);
    assert!(out.join("seed_2.json").exists());
    let other = solve("0..1", "61");
    let err = String::from_utf8_lossy(&other.stderr);
    assert!(
        other.status.success() && !err.contains("finished record"),
        "{err}"
    );
    assert_ne!(std::fs::read(out.join("seed_0.json")).unwrap(), before);
    // Bad arguments fail cleanly (clap's usage error, exit code 2).
    let bad = gradflow(&["solve", "--seeds", "5..2", "-o", s(&out)]);
    let err = String::from_utf8_lossy(&bad.stderr);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        err.contains("--seeds") && !err.contains("panicked"),
        "{err}"
    );
    // A missing teacher file names the file.
    assert_clean_failure(
        &gradflow(&["solve", "--teacher", "nope.json", "-o", s(&out)]),
        "nope.json",
    );
}

/// `solve --infinite-data` trains on the population loss: its records say so, and their loss
/// is what `eval --infinite-data` computes for their end point.
#[test]
fn solve_infinite_data_trains_on_the_population_loss() {
    let dir = tempfile::tempdir().unwrap();
    let t = tiny_teacher_with(dir.path(), "sigmoid2");
    let out = dir.path().join("results");
    let run = gradflow(&[
        "solve",
        "--teacher",
        s(&t),
        "--infinite-data",
        "--width",
        "3",
        "--seeds",
        "0..2",
        "--maxiterations-ode",
        "200",
        "--maxtime-optim",
        "2",
        "--quiet",
        "-o",
        s(&out),
    ]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let header = String::from_utf8_lossy(&run.stderr);
    assert!(
        header.contains("infinite data") && !header.contains("samples (seed"),
        "{header}"
    );
    for seed in 0..2 {
        let rec: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(out.join(format!("seed_{seed}.json"))).unwrap(),
        )
        .unwrap();
        assert_eq!(rec["config"]["infinite_data"], true);
        // Without --activation the student takes the teacher's, and the record says so.
        assert_eq!(rec["config"]["activation"], "sigmoid2");
        assert_eq!(rec["network"]["layers"][0]["activation"], "sigmoid2");
        let (loss, ode_loss) = (
            rec["loss"].as_f64().unwrap(),
            rec["ode_loss"].as_f64().unwrap(),
        );
        assert!(
            loss.is_finite() && loss <= ode_loss,
            "seed {seed}: {loss} vs {ode_loss}"
        );
        // The record's end point, evaluated on its own (`--net` takes a run record).
        let net_file = out.join(format!("seed_{seed}.json"));
        let eval_file = dir.path().join(format!("eval{seed}.json"));
        let e = gradflow(&[
            "eval",
            "--net",
            s(&net_file),
            "--teacher",
            s(&t),
            "--infinite-data",
            "-o",
            s(&eval_file),
        ]);
        assert!(e.status.success(), "{}", String::from_utf8_lossy(&e.stderr));
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&eval_file).unwrap()).unwrap();
        let eval_loss = v["loss"].as_f64().unwrap();
        assert!(
            (eval_loss - loss).abs() <= 1e-12 * loss.abs().max(1e-3),
            "seed {seed}: record {loss}, eval {eval_loss}"
        );
        // `certify` recomputes the end state on the population loss, as `solve` did (not on
        // samples of the teacher): the same kind and loss as the record's.
        let c = gradflow(&["certify", s(&net_file)]);
        assert!(c.status.success(), "{}", String::from_utf8_lossy(&c.stderr));
        let line = String::from_utf8_lossy(&c.stdout).to_string();
        let kind = rec["end_state"]["kind"].as_str().unwrap();
        let end_loss = rec["end_state"]["loss"].as_f64().unwrap();
        assert!(
            line.contains(kind)
                && (kind == "channel" || line.contains(&format!("loss {end_loss:.2e}"))),
            "seed {seed}: {line} vs {kind} {end_loss:.2e}"
        );
    }
    // The Gauss–Hermite grid as weighted samples: its mean loss approximates the population
    // loss (here a smooth 2-d problem: to 1e-6).
    let gh = dir.path().join("gh.npz");
    let made = gradflow(&[
        "data",
        "--net",
        s(&t),
        "--gauss-hermite",
        "60",
        "-o",
        s(&gh),
    ]);
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    assert!(String::from_utf8_lossy(&made.stderr).contains("3600 weighted samples"));
    let net_file = out.join("seed_0.json");
    let mut losses = Vec::new();
    for extra in [
        &["--data", s(&gh)][..],
        &["--teacher", s(&t), "--infinite-data"][..],
    ] {
        let f = dir.path().join("gh_eval.json");
        let mut a = vec!["eval", "--net", s(&net_file), "-o", s(&f)];
        a.extend_from_slice(extra);
        let e = gradflow(&a);
        assert!(e.status.success(), "{}", String::from_utf8_lossy(&e.stderr));
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
        losses.push(v["loss"].as_f64().unwrap());
    }
    assert!(
        (losses[0] - losses[1]).abs() <= 1e-6 * losses[1].abs().max(1e-6),
        "grid {} vs population {}",
        losses[0],
        losses[1]
    );
    let clash = gradflow(&[
        "data",
        "--net",
        s(&t),
        "--gauss-hermite",
        "5",
        "-n",
        "10",
        "-o",
        s(&gh),
    ]);
    assert_eq!(clash.status.code(), Some(2));
    // Without a teacher there is no population loss.
    let bad = gradflow(&["solve", "--infinite-data", "-o", s(&out)]);
    let err = String::from_utf8_lossy(&bad.stderr);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        err.contains("--teacher") && !err.contains("panicked"),
        "{err}"
    );
}

#[test]
fn solve_reads_a_toml_configuration_and_flags_override_it() {
    let dir = tempfile::tempdir().unwrap();
    let t = tiny_teacher(dir.path());
    let cfg = dir.path().join("run.toml");
    let out = dir.path().join("results");
    std::fs::write(
        &cfg,
        format!(
            "teacher = {:?}\nsamples = 200\nwidth = 3\nseeds = [4]\n[flow]\nmaxiterations_ode = 7\n[refine]\nmaxtime_optim = 1.0\nrefiner = \"bfgs\"\n",
            s(&t)
        ),
    )
    .unwrap();
    let run = gradflow(&[
        "solve",
        "--config",
        s(&cfg),
        "--width",
        "5",
        "--maxiterations-optim",
        "2",
        "--quiet",
        "-o",
        s(&out),
    ]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let rec: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("seed_4.json")).unwrap()).unwrap();
    assert_eq!(rec["shape"], "2-5-1", "the flag overrides the file's width");
    assert_eq!(
        rec["ode"]["counters"]["iterations"], 7,
        "the file's budget applies"
    );
    assert_eq!(rec["optim"]["method"], "bfgs");
    assert_eq!(rec["config"]["refine"]["maxiterations_optim"], 2);
    // The record repeats itself: its own file is a configuration.
    let again = dir.path().join("again");
    let rerun = gradflow(&[
        "solve",
        "--config",
        s(&out.join("seed_4.json")),
        "--quiet",
        "-o",
        s(&again),
    ]);
    assert!(
        rerun.status.success(),
        "{}",
        String::from_utf8_lossy(&rerun.stderr)
    );
    let rec2: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(again.join("seed_4.json")).unwrap()).unwrap();
    assert_eq!(rec2["config"], rec["config"]);
    assert_eq!(
        rec2["ode_x"], rec["ode_x"],
        "same configuration, same seed: same flow"
    );
    // A broken configuration names the file.
    std::fs::write(&cfg, "width = \"wide\"\n").unwrap();
    assert_clean_failure(
        &gradflow(&["solve", "--config", s(&cfg), "-o", s(&out)]),
        "run.toml",
    );
}

/// Ctrl-C on a running `solve`: the runs in flight end at their best points, their records are
/// written, the summary is printed and the process exits 130.
#[test]
fn sigint_on_solve_writes_the_runs_in_flight_and_exits_130() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("results");
    let child = Command::new(env!("CARGO_BIN_EXE_gradflow"))
        .args([
            "solve",
            "--seeds",
            "0..2",
            "--threads",
            "2",
            "--samples",
            "3000",
        ])
        .args([
            "--maxtime-ode",
            "60",
            "--maxtime-optim",
            "60",
            "--quiet",
            "-o",
        ])
        .arg(&out)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_secs(3));
    let sent = std::time::Instant::now();
    // SAFETY: plain FFI call on the child's pid.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    let result = child.wait_with_output().unwrap();
    let took = sent.elapsed().as_secs_f64();
    let err = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(130), "{err}");
    assert!(took < 5.0, "took {took} s to stop");
    assert!(err.contains("interrupted"), "{err}");
    for seed in 0..2 {
        let path = out.join(format!("seed_{seed}.json"));
        let rec: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(rec["ode"]["stop"], "interrupted", "{rec}");
        assert!(rec["loss"].as_f64().unwrap().is_finite());
    }
    let stdout = String::from_utf8_lossy(&result.stdout);
    assert!(stdout.contains("interrupted"), "{stdout}");
}

/// `solve` with no flags is the library's default training with the demo's budgets, and
/// `recover`'s options with no flags are the library's defaults: no default is written twice.
#[test]
fn commands_without_flags_use_the_library_defaults() {
    // The demo's budgets are printed on the first line of a run.
    let dir = tempfile::tempdir().unwrap();
    let out = gradflow(&["solve", "--help"]);
    let help = String::from_utf8_lossy(&out.stdout);
    let d = gradflow::flow::FlowConfig::default();
    // Small defaults read as a user types them (`1e-6`).
    assert!(
        help.contains(&format!("[default: {:e}]", d.abstol)),
        "{help}"
    );
    assert!(
        help.contains(&format!("[default: {}]", d.maxtime_ode)),
        "{help}"
    );
    let r = gradflow::optim::RefineConfig::default();
    assert!(
        help.contains(&format!("[default: {}]", r.maxtime_optim)),
        "{help}"
    );
    let _ = dir;
}

/// `teacher --train` on a CSV with one column of integer labels: read as one-hot classes; with
/// nothing held out the summary says so (no NaN).
#[test]
fn teacher_train_reads_integer_labels_and_prints_no_nan() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("labels.csv");
    let mut text = String::from("x1,x2,y\n");
    for i in 0..60 {
        let (a, b) = ((i % 7) as f64 / 3.0 - 1.0, (i % 5) as f64 / 2.0 - 1.0);
        let label = usize::from(a > 0.0) + usize::from(b > 0.4);
        text.push_str(&format!("{a},{b},{label}\n"));
    }
    std::fs::write(&csv, text).unwrap();
    let out = dir.path().join("classifier.json");
    let run = gradflow(&[
        "teacher",
        "--train",
        s(&csv),
        "--widths",
        "2,4,3",
        "--epochs",
        "3",
        "--validation-fraction",
        "0",
        "-o",
        s(&out),
    ]);
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{err}");
    assert!(err.contains("read as 3 classes"), "{err}");
    assert!(
        err.contains("nothing held out") && !err.contains("NaN"),
        "{err}"
    );
    let net: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert!(net.to_string().contains("softmax"), "{net}");
}
