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
}
