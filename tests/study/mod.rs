//! Studies through the library: the infinite-data objective as a study's problem.

use gradflow::net::Objective;
use gradflow::net::population::PopulationOptions;
use gradflow::observe::Watch;
use gradflow::study::{Shard, StudyConfig, read_results, run_study, study_teachers};

#[test]
fn an_infinite_data_study_trains_on_the_population_loss() {
    let dir = tempfile::tempdir().unwrap();
    let cfg: StudyConfig = toml::from_str(
        r#"
        rhos = [1]
        students = 2
        infinite_data = true
        [family]
        dims = [2]
        widths = [2]
        teachers = 1
        [flow]
        maxiterations_ode = 20
        [refine]
        maxiterations_optim = 5
        "#,
    )
    .unwrap();
    let run = run_study(&cfg, dir.path(), Shard::ALL, Some(1), &Watch::silent()).unwrap();
    assert_eq!((run.tasks, run.ran, run.failed), (2, 2, 0));
    let teacher = study_teachers(&cfg).unwrap().remove(0).network.unwrap();
    let results = read_results(&[dir.path().to_path_buf()]).unwrap();
    for s in &results.students {
        let rec = s.record.as_ref().unwrap();
        let opts = PopulationOptions::default();
        let mut obj = Objective::population(&rec.network, &teacher, &opts).unwrap();
        let l = obj.loss(&rec.x) * obj.mean_scale();
        assert!(
            (l - rec.loss).abs() <= 1e-12 * rec.loss.abs().max(1e-300),
            "{l} vs {}",
            rec.loss
        );
        let l0 = obj.loss(&rec.init) * obj.mean_scale();
        assert!(rec.progress[0].loss.to_bits() == l0.to_bits());
    }
    // Expand-and-Cluster needs data: an infinite-data study does not recover.
    let mut recovering = cfg.clone();
    recovering.recover = true;
    assert!(
        recovering
            .check()
            .unwrap_err()
            .to_string()
            .contains("infinite_data")
    );
    // An infinite-data study of a data set is refused, naming the field.
    let bad: StudyConfig =
        toml::from_str("infinite_data = true\n[[datasets]]\npath = \"x.npz\"\nhidden = [2]")
            .unwrap();
    assert!(
        bad.check()
            .unwrap_err()
            .to_string()
            .contains("infinite_data")
    );
    // Options every task would reject are refused up front (a failed task counts as
    // finished): the flow's, and the recovery's for the group size.
    let family = "[family]\ndims = [2]\nwidths = [2]\nteachers = 1\n";
    let bad: StudyConfig = toml::from_str(&format!("{family}[flow]\nabstol = 0.0")).unwrap();
    assert!(bad.check().unwrap_err().to_string().contains("flow.abstol"));
    let bad: StudyConfig =
        toml::from_str(&format!("students = 2\nrecover = true\n{family}")).unwrap();
    assert!(
        bad.check()
            .unwrap_err()
            .to_string()
            .contains("recovery.gamma")
    );
    let bad: StudyConfig = toml::from_str(&format!(
        "students = 4\nrecover = true\n{family}[recovery]\nfinetune_time = 0.0"
    ))
    .unwrap();
    assert!(
        bad.check()
            .unwrap_err()
            .to_string()
            .contains("recovery.finetune_time")
    );
}

#[test]
fn a_study_without_methods_is_compared_with_peers_as_one_method() {
    use gradflow::report::benchmark::{Benchmark, STUDY_METHOD};
    let dir = tempfile::tempdir().unwrap();
    let cfg: StudyConfig = toml::from_str(
        "rhos = [1]\nstudents = 1\nsamples = 100\n[family]\ndims = [2]\nwidths = [2]\nteachers = 1\n\
         [flow]\nmaxiterations_ode = 10\n[refine]\nmaxiterations_optim = 5",
    )
    .unwrap();
    run_study(&cfg, dir.path(), Shard::ALL, Some(1), &Watch::silent()).unwrap();
    let peer = serde_json::json!({
        "method": "other", "teacher": "d2_r2_i0", "rho": 1, "seed": 0, "n_params": 9,
        "loss": 1.0, "total_time": 1.0,
        "progress": [{"phase": "flow", "wall": 1.0, "loss": 1.0, "loss_evals": 1,
                      "gradient_evals": 1, "hessian_evals": 0}]
    });
    let p = dir.path().join("peers/other/x.json");
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, peer.to_string()).unwrap();
    let b = Benchmark::of(&read_results(&[dir.path().to_path_buf()]).unwrap()).unwrap();
    assert_eq!(b.methods, vec![STUDY_METHOD, "other"]);
    assert_eq!(b.problems.len(), 1);
    assert!(b.runs.iter().all(|r| r[0].is_some()));
}
