//! Default parity: each command parsed without option flags resolves to the library's
//! defaults exactly (the CLI has no defaults of its own, except the demo's budgets).
use super::*;
use gradflow::cluster::RecoverOptions;
use gradflow::flow::FlowConfig;
use gradflow::optim::RefineConfig;
use gradflow::train::TrainOptions;

fn parse(args: &[&str]) -> Command {
    let mut all = vec!["gradflow"];
    all.extend_from_slice(args);
    Cli::try_parse_from(all).expect("parses").command
}

#[test]
fn solve_without_flags_is_the_library_default() {
    let Command::Solve { args, config, .. } = parse(&["solve", "--teacher", "t.json"]) else {
        panic!("solve")
    };
    let c = args.resolve(config.as_deref()).unwrap();
    let expect = crate::solve::SolveConfig {
        teacher: Some("t.json".into()),
        ..Default::default()
    };
    assert_eq!(c, expect);
    let t = TrainOptions::default();
    assert_eq!((c.flow, c.refine, c.init), (t.flow, t.refine, t.init));
    // With no problem at all: the demo, whose only difference is its budgets.
    let Command::Solve { args, config, .. } = parse(&["solve"]) else {
        panic!("solve")
    };
    let demo = args.resolve(config.as_deref()).unwrap();
    assert_eq!(demo, crate::solve::SolveConfig::demo());
    let flow = {
        let mut c = FlowConfig::default();
        c.maxtime_ode = crate::solve::DEMO_MAXTIME;
        c
    };
    let refine = {
        let mut c = RefineConfig::default();
        c.maxtime_optim = crate::solve::DEMO_MAXTIME;
        c
    };
    assert_eq!((demo.flow, demo.refine), (flow, refine));
}

#[test]
fn recover_without_flags_is_the_library_default() {
    let Command::Recover { args, .. } = parse(&["recover"]) else {
        panic!("recover")
    };
    assert_eq!(args.options(), RecoverOptions::default());
}

#[test]
fn eval_without_flags_is_the_library_default() {
    let Command::Eval { args, .. } = parse(&["eval"]) else {
        panic!("eval")
    };
    assert_eq!(args.options(), EvalOptions::default());
}

#[test]
fn teacher_without_flags_is_the_library_default() {
    let Command::Teacher { args, .. } = parse(&["teacher"]) else {
        panic!("teacher")
    };
    assert_eq!(args.resolve(), TeacherConfigArgs::default());
}

#[test]
fn a_study_without_flow_or_refine_tables_uses_the_library_defaults() {
    let cfg: gradflow::study::StudyConfig =
        toml::from_str("name = \"s\"\nrhos = [2]\n[family]\ndims = [2]\nwidths = [2]\n").unwrap();
    assert_eq!(cfg.flow, FlowConfig::default());
    assert_eq!(cfg.refine, RefineConfig::default());
}

#[test]
fn flags_override_and_errors_name_flag_and_field() {
    let Command::Solve { args, config, .. } = parse(&[
        "solve",
        "--maxtime-ode",
        "3",
        "--optim",
        "lm",
        "--max-memory-optim",
        "2",
        "--minloss-optim",
        "1e-20",
        "--patience-optim",
        "7",
        "--min-gnorm",
        "1e-9",
    ]) else {
        panic!("solve")
    };
    let c = args.resolve(config.as_deref()).unwrap();
    assert_eq!(c.flow.maxtime_ode.to_bits(), 3.0f64.to_bits());
    assert_eq!(c.refine.refiner, Some(gradflow::optim::Refiner::Lm));
    assert_eq!(c.refine.max_memory_gib, Some(2.0));
    assert_eq!(c.flow.max_memory_gib, None);
    assert_eq!((c.refine.minloss, c.refine.patience), (1e-20, 7));
    assert_eq!((c.flow.minloss, c.flow.patience), (2e-32, usize::MAX));
    assert_eq!((c.flow.min_gnorm, c.refine.min_gnorm), (1e-9, 1e-15));
    let e = flag_error(
        gradflow::Error::invalid("refine.max_memory_gib", "too small"),
        "solve",
    );
    assert_eq!(
        e.to_string(),
        "--max-memory-optim (refine.max_memory_gib): too small"
    );
    let e = flag_error(
        gradflow::Error::invalid("flow.max_memory_gib", "x"),
        "solve",
    );
    assert!(e.to_string().starts_with("--max-memory-ode "), "{e}");
}

#[test]
fn input_mask_flags_parse() {
    let opts = |extra: &[&str]| {
        let mut a = vec!["recover", "--data", "q.npz"];
        a.extend_from_slice(extra);
        let Command::Recover { args, .. } = parse(&a) else {
            panic!("recover")
        };
        args.options()
    };
    assert_eq!(
        opts(&[]).input_mask_std,
        RecoverOptions::default().input_mask_std
    );
    assert_eq!(opts(&["--input-mask-std", "none"]).input_mask_std, None);
    assert_eq!(
        opts(&["--input-mask-std", "0.05"]).input_mask_std,
        Some(0.05)
    );
    assert_eq!(
        opts(&["--input-mask", "0,7,8"]).input_mask,
        Some(vec![0, 7, 8])
    );
    assert!(Cli::try_parse_from(["gradflow", "recover", "--input-mask-std", "lots"]).is_err());
}

#[test]
fn eval_infinite_data_writes_the_population_loss() {
    let dir = std::env::temp_dir().join(format!("gradflow-eval-inf-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let t = dir.join("t.json");
    let teacher = gradflow::teacher::TeacherConfig::paper(2, 2, 0)
        .build()
        .unwrap();
    gradflow::io::write_network(&t, &teacher).unwrap();
    let ts = t.to_str().unwrap();
    let Command::Eval { args, .. } = parse(&[
        "eval",
        "--net",
        ts,
        "--teacher",
        ts,
        "--infinite-data",
        "--gradient",
    ]) else {
        panic!("eval")
    };
    let out = dir.join("e.json");
    eval(&args, Some(out.clone())).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(v["infinite_data"], true);
    assert!(v.get("n_samples").is_none());
    assert!(v["loss"].as_f64().unwrap().abs() < 1e-12, "{v}");
    assert_eq!(
        v["gradient"].as_array().unwrap().len(),
        teacher.params.len()
    );
    // --infinite-data needs --teacher and excludes --data; --net alone needs one of them.
    let all = |a: &[&str]| Cli::try_parse_from([&["gradflow"], a].concat());
    assert!(all(&["eval", "--net", ts, "--infinite-data"]).is_err());
    assert!(
        all(&[
            "eval",
            "--net",
            ts,
            "--teacher",
            ts,
            "--infinite-data",
            "--data",
            "d.npz"
        ])
        .is_err()
    );
    let Command::Eval { args, .. } = parse(&["eval", "--net", ts]) else {
        panic!("eval")
    };
    let e = eval(&args, None).unwrap_err().to_string();
    assert!(e.contains("--data"), "{e}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn seed_lists_parse_and_explain_their_errors() {
    use crate::solve::SeedList;
    let seeds = |s: &str| s.parse::<SeedList>().map(|l| l.0);
    assert_eq!(seeds("2..5"), Ok(vec![2, 3, 4]));
    assert_eq!(seeds("2..=4"), Ok(vec![2, 3, 4]));
    assert_eq!(seeds("7"), Ok(vec![7]));
    assert_eq!(seeds("1, 3,9"), Ok(vec![1, 3, 9]));
    assert!(seeds("5..2").unwrap_err().contains("empty range"));
    assert!(seeds("a..b").unwrap_err().contains("is not `a..b`"));
}

#[test]
fn a_record_of_another_command_is_not_read_as_the_demo() {
    use crate::solve::{SolveConfig, read_config};
    let dir = tempfile::tempdir().unwrap();
    // A recovery's student record: its configuration names no teacher or data.
    let foreign = dir.path().join("layer_1_seed_0.json");
    let cfg = serde_json::json!({"config": {"students": 4, "gamma": 0.8, "flow": {}}});
    std::fs::write(&foreign, cfg.to_string()).unwrap();
    let e = read_config(&foreign).unwrap_err().to_string();
    assert!(
        e.contains("not a `gradflow solve` one") && e.contains("`gamma`"),
        "{e}"
    );
    // The demo's own records and configurations with a source still read.
    let demo = dir.path().join("seed_0.json");
    let cfg = serde_json::json!({"config": SolveConfig::demo()});
    std::fs::write(&demo, cfg.to_string()).unwrap();
    assert!(read_config(&demo).unwrap().is_demo());
    let named = dir.path().join("named.json");
    std::fs::write(&named, r#"{"teacher": "t.json", "gamma": 1}"#).unwrap();
    assert!(read_config(&named).unwrap().teacher.is_some());
}
