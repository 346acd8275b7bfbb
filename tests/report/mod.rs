//! The benchmark report from records on disk: a study folder holding only peers' records of
//! three methods on four problems, whose times to target and profiles are known by hand.

use gradflow::monitor::ProgressPoint;
use gradflow::observe::Phase;
use gradflow::report::benchmark::{
    Benchmark, Target, data_profile, performance_profile, wall_costs, work_costs,
};
use gradflow::study::results::{PEERS_DIR, PeerRecord};
use gradflow::study::{StudyConfig, read_results};

fn point(wall: f64, loss: f64, gradients: usize, hessians: usize) -> ProgressPoint {
    ProgressPoint {
        phase: Phase::Flow,
        wall,
        loss,
        loss_evals: gradients,
        gradient_evals: gradients,
        hessian_evals: hessians,
    }
}

/// `method` on teacher `t`, seed `seed`: a curve through `points` (wall, loss, gradients,
/// Hessians).
fn record(method: &str, t: usize, seed: u64, points: &[(f64, f64, usize, usize)]) -> PeerRecord {
    let progress: Vec<ProgressPoint> = points
        .iter()
        .map(|&(w, l, g, h)| point(w, l, g, h))
        .collect();
    let last = progress.last().copied().unwrap();
    PeerRecord {
        method: method.into(),
        tool: "hand".into(),
        teacher: format!("d2_r2_i{t}"),
        rho: 1,
        seed,
        n_params: 7,
        loss: last.loss,
        total_time: last.wall,
        progress,
    }
}

#[test]
fn profiles_of_records_on_disk_match_a_hand_computation() {
    let dir = tempfile::tempdir().unwrap();
    let cfg: StudyConfig = toml::from_str(
        "rhos = [1]\nstudents = 2\n[family]\ndims = [2]\nwidths = [2]\nteachers = 2",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("study.json"),
        serde_json::to_string(&cfg).unwrap(),
    )
    .unwrap();
    // Problems (teacher, seed): p0 = (0, 0), p1 = (0, 1), p2 = (1, 0), p3 = (1, 1).
    let start = (0.0, 1.0, 1, 0);
    let runs = [
        // "fast": 1e-10 at 1 s on p0 and 3 s on p2; never on p1; no run on p3.
        record("fast", 0, 0, &[start, (1.0, 1e-12, 10, 1)]),
        record("fast", 0, 1, &[start, (2.0, 1e-3, 20, 1)]),
        record("fast", 1, 0, &[start, (3.0, 1e-12, 30, 1)]),
        // "slow": 1e-10 at 2, 4, 8, 16 s, with gradients only.
        record("slow", 0, 0, &[start, (2.0, 1e-10, 100, 0)]),
        record("slow", 0, 1, &[start, (4.0, 1e-10, 200, 0)]),
        record("slow", 1, 0, &[start, (8.0, 1e-10, 400, 0)]),
        record("slow", 1, 1, &[start, (16.0, 1e-10, 800, 0)]),
        // "never": reaches nothing below 1e-2.
        record("never", 0, 0, &[start, (1.0, 1e-2, 5, 0)]),
        record("never", 1, 1, &[start, (1.0, 1e-2, 5, 0)]),
    ];
    for (i, r) in runs.iter().enumerate() {
        let path = dir
            .path()
            .join(PEERS_DIR)
            .join(&r.method)
            .join(format!("{i}.json"));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, serde_json::to_string(r).unwrap()).unwrap();
    }
    let results = read_results(&[dir.path().to_path_buf()]).unwrap();
    assert_eq!(results.peers.len(), runs.len());
    let b = Benchmark::of(&results).unwrap();
    assert_eq!(b.methods, vec!["fast", "never", "slow"]);
    assert_eq!(b.problems.len(), 4);
    let hits = b.hits(Target::Loss(1e-10));
    let t = wall_costs(&hits);
    assert_eq!(t[0], vec![Some(1.0), None, Some(3.0), None]);
    assert_eq!(t[1], vec![None; 4]);
    assert_eq!(t[2], vec![Some(2.0), Some(4.0), Some(8.0), Some(16.0)]);
    // Least times 1, 4, 3, 16: fast's ratios {1, 1}; slow's {2, 1, 8/3, 1}.
    let p = performance_profile(&t);
    assert_eq!((p[0].at(1.0), p[0].at(100.0)), (0.5, 0.5));
    assert!(p[1].at(1e9).to_bits() == 0.0f64.to_bits());
    assert_eq!((p[2].at(1.0), p[2].at(2.0), p[2].at(2.7)), (0.5, 0.75, 1.0));
    // Work: fast's Hessian counts 7 gradients (P = 7): 10 + 7 = 17 on p0; slow's 100 there.
    let w = work_costs(&hits);
    assert_eq!(w[0], vec![Some(17.0), None, Some(37.0), None]);
    let pw = performance_profile(&w);
    assert_eq!((pw[0].at(1.0), pw[2].at(1.0)), (0.5, 0.5));
    let d = data_profile(&w);
    assert_eq!(
        (d[2].at(99.0), d[2].at(100.0), d[2].at(800.0)),
        (0.0, 0.25, 1.0)
    );
    // 10 × best: on p1 slow's 1e-10 is the best (fast's 1e-3 is not), so the target is 1e-9,
    // reached by slow alone, at 4 s.
    let best = b.best_losses();
    assert_eq!(best, vec![1e-12, 1e-10, 1e-12, 1e-10]);
    let tb = wall_costs(&b.hits(Target::TimesBest(10.0)));
    assert_eq!(tb[0], vec![Some(1.0), None, Some(3.0), None]);
    assert_eq!(tb[2], vec![None, Some(4.0), None, Some(16.0)]);
    // The report writes the tables and figures of a benchmark.
    let out = dir.path().join("report");
    let written = gradflow::report::write_report(&results, &out).unwrap();
    assert!(written.iter().any(|p| p.ends_with("targets.csv")));
    assert!(out.join("profiles/performance_time_1e-10.svg").exists());
    assert!(out.join("loss_vs_time.svg").exists());
    let methods = std::fs::read_to_string(out.join("methods.csv")).unwrap();
    assert!(
        methods.contains("slow,true,1e-10,4,4,0,4,6.000000e0,3.000000e2"),
        "{methods}"
    );
    assert!(methods.contains("never,true,1e-10,4,2,0,0,,"), "{methods}");
}
