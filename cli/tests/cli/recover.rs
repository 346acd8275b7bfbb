//! `gradflow recover` end to end on a tiny problem.

use std::process::Command;

/// `gradflow recover` of the tiny tanh teacher `t` into `out`: 4 students of width 4, 400
/// samples, 2 s budgets, plus `extra` flags.
fn tiny_recover(
    t: &std::path::Path,
    out: &std::path::Path,
    extra: &[&str],
) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_gradflow"))
        .args(["recover", "--teacher"])
        .arg(t)
        .args([
            "--activation",
            "tanh",
            "--width",
            "4",
            "--students",
            "4",
            "--samples",
            "400",
            "--maxtime-ode",
            "2",
            "--maxtime-optim",
            "2",
            "--finetune-time",
            "2",
            "--threads",
            "2",
        ])
        .args(extra)
        .arg("-o")
        .arg(out)
        .output()
        .unwrap()
}

#[test]
fn recover_runs_end_to_end_on_a_tiny_teacher() {
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("t.json");
    let out = dir.path().join("rec");
    let bin = env!("CARGO_BIN_EXE_gradflow");
    let ok = Command::new(bin)
        .args([
            "teacher",
            "--d",
            "2",
            "--r",
            "2",
            "--activation",
            "tanh",
            "-o",
        ])
        .arg(&t)
        .status()
        .unwrap();
    assert!(ok.success());
    let run = tiny_recover(&t, &out, &["--quiet"]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    for f in [
        "recovered.json",
        "report.json",
        "layer1_similarity.svg",
        "layer1_dendrogram.svg",
    ] {
        assert!(out.join(f).exists(), "{f} missing");
    }
    assert_eq!(std::fs::read_dir(out.join("students")).unwrap().count(), 4);
    let net = gradflow::io::read_network(&out.join("recovered.json")).unwrap();
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    let layer = &report["layers"][0];
    let m_hat = layer["recovered_width"].as_u64().unwrap() as usize;
    assert_eq!(net.spec.layers[0].width, m_hat);
    assert!(layer["clustering"]["clusters"].as_array().unwrap().len() >= m_hat);
    let metrics = &report["metrics"];
    assert_eq!(metrics["layers"][0]["teacher_width"], 2);
    assert!(metrics["rmse"].as_f64().unwrap().is_finite());
    // A tanh teacher with two neurons is found by four width-4 students in seconds.
    assert_eq!(
        m_hat,
        2,
        "{}",
        serde_json::to_string_pretty(&report["layers"][0]["students"]).unwrap()
    );
    assert!(
        report["loss"].as_f64().unwrap() < 1e-20,
        "loss {}",
        report["loss"]
    );

    // Moved elsewhere and re-clustered with another γ: every student is reused, not retrained
    // (a retrained record would differ, at least in its wall times).
    let moved = dir.path().join("moved");
    std::fs::create_dir_all(moved.join("students")).unwrap();
    let t2 = moved.join("t.json");
    std::fs::copy(&t, &t2).unwrap();
    let students = |d: &std::path::Path| -> Vec<(String, Vec<u8>)> {
        let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(d.join("students"))
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.file_name().to_string_lossy().into_owned(),
                    std::fs::read(e.path()).unwrap(),
                )
            })
            .collect();
        v.sort();
        v
    };
    let before = students(&out);
    for (name, bytes) in &before {
        std::fs::write(moved.join("students").join(name), bytes).unwrap();
    }
    let again = tiny_recover(&t2, &moved, &["--gamma", "0.6"]);
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(again.status.success(), "{stderr}");
    assert_eq!(students(&moved), before, "{stderr}");
}

#[test]
fn recover_rejects_bad_options_before_training() {
    let bin = env!("CARGO_BIN_EXE_gradflow");
    for (args, needle) in [
        (
            vec!["recover", "--students", "1", "--data", "x.npz"],
            "at least 2 students",
        ),
        (vec!["recover", "--students", "2", "--data", "x.npz"], "< 2"),
        (vec!["recover"], "--data"),
        (
            vec!["recover", "--data", "/nonexistent.npz", "--width", "3"],
            "nonexistent",
        ),
    ] {
        let out = Command::new(bin).args(&args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}");
        assert!(!err.contains("panicked"), "{err}");
        assert!(err.contains(needle), "{args:?}: `{needle}` not in {err}");
    }
}
