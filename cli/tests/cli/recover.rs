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

/// `recover` on a `Dataset` in memory (no files) and `gradflow recover` on the same data
/// written to `.npz`, with the same options and seeds, give the same network, bit for bit
/// (step budgets make the students deterministic).
#[test]
fn in_memory_recover_equals_the_command_line() {
    use gradflow::cluster::{RecoverOptions, recover};
    use gradflow::net::Activation;
    use gradflow::observe::Watch;
    use gradflow::teacher::{InputDistribution, TeacherConfig, sample_data};

    let mut tc = TeacherConfig::paper(2, 2, 7);
    tc.activation = Activation::Tanh;
    let teacher = tc.build().unwrap();
    let data = sample_data(&teacher, 300, InputDistribution::Uniform, 7).unwrap();
    let mut o = RecoverOptions::default();
    o.activation = Activation::Tanh;
    o.students = 4;
    o.threads = Some(1);
    o.width = Some(4);
    o.flow.maxtime_ode = 600.0;
    o.flow.maxiterations_ode = 300;
    o.refine.maxtime_optim = 600.0;
    o.refine.maxiterations_optim = 100;
    o.finetune_time = 600.0;
    let in_memory = recover(&data, Some(&teacher), &o, &[], &Watch::silent()).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let (d, t, out) = (
        dir.path().join("d.npz"),
        dir.path().join("t.json"),
        dir.path().join("rec"),
    );
    gradflow::io::write_data(
        &gradflow::io::DataSource::parse(d.to_str().unwrap()).unwrap(),
        &data,
    )
    .unwrap();
    gradflow::io::write_network(&t, &teacher).unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_gradflow"))
        .args([
            "recover",
            "--data",
            d.to_str().unwrap(),
            "--teacher",
            t.to_str().unwrap(),
        ])
        .args([
            "--activation",
            "tanh",
            "--students",
            "4",
            "--threads",
            "1",
            "--width",
            "4",
        ])
        .args(["--maxtime-ode", "600", "--maxiterations-ode", "300"])
        .args(["--maxtime-optim", "600", "--maxiterations-optim", "100"])
        .args([
            "--finetune-time",
            "600",
            "--quiet",
            "-o",
            out.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let net = gradflow::io::read_network(&out.join("recovered.json")).unwrap();
    assert_eq!(net.spec, in_memory.network.spec);
    assert_eq!(net.params.len(), in_memory.network.params.len());
    assert!(
        net.params
            .iter()
            .zip(&in_memory.network.params)
            .all(|(a, b)| a.to_bits() == b.to_bits()),
        "the networks differ"
    );
}
