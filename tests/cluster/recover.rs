//! Expand-and-Cluster from data in memory: the expansion phase, cancellation, and saved
//! students reused through their run key.

use gradflow::cancel::Cancel;
use gradflow::cluster::{RecoverOptions, recover};
use gradflow::net::Activation;
use gradflow::observe::{Event, Stage, Watch};
use gradflow::teacher::{InputDistribution, TeacherConfig, sample_data};

#[test]
fn expansion_phase_picks_the_first_width_that_reaches_near_zero_loss() {
    let (t, data, mut cfg) = tiny();
    // The expansion phase chooses the width, on wall-clock budgets.
    cfg.width = None;
    cfg.gamma = RecoverOptions::default().gamma;
    cfg.flow.maxiterations_ode = usize::MAX;
    cfg.refine.maxiterations_optim = usize::MAX;
    cfg.threads = Some(2);
    cfg.probe_widths = vec![1, 3, 6];
    cfg.probe_time = 2.0;
    cfg.finetune_time = 1.0;
    cfg.flow.maxtime_ode = 1.5;
    cfg.refine.maxtime_optim = 1.5;
    let r = recover(&data, Some(&t), &cfg, &[], &Watch::silent()).unwrap();
    let probes = &r.report.expansion;
    assert!(!probes.is_empty());
    // One neuron cannot fit a two-neuron teacher.
    assert_eq!(probes[0].width, 1);
    assert!(probes[0].best_loss > 1e-6, "{probes:?}");
    assert_eq!(r.report.student_widths[0] % cfg.expand_factor, 0);
    let chosen = r.report.student_widths[0] / cfg.expand_factor;
    let last = probes.last().unwrap();
    assert_eq!(last.width, chosen);
    assert!(
        probes[..probes.len() - 1]
            .iter()
            .all(|p| p.best_loss > cfg.probe_loss)
    );
    assert!(
        last.best_loss <= cfg.probe_loss || chosen == 6,
        "{probes:?}"
    );
}

/// A tiny deterministic recovery (step budgets): 2-2-1 tanh teacher, 4 students of width 4.
fn tiny() -> (
    gradflow::net::Network,
    gradflow::net::Dataset,
    RecoverOptions,
) {
    let mut tc = TeacherConfig::paper(2, 2, 7);
    tc.activation = Activation::Tanh;
    let t = tc.build().unwrap();
    let data = sample_data(&t, 300, InputDistribution::Uniform, 7).unwrap();
    let mut cfg = RecoverOptions::default();
    cfg.activation = Activation::Tanh;
    cfg.students = 4;
    cfg.threads = Some(1);
    cfg.width = Some(4);
    cfg.gamma = 0.5;
    cfg.flow.maxtime_ode = 600.0;
    cfg.flow.maxiterations_ode = 300;
    cfg.refine.maxtime_optim = 600.0;
    cfg.refine.maxiterations_optim = 100;
    cfg.finetune_time = 600.0;
    (t, data, cfg)
}

#[test]
fn saved_students_are_reused_and_give_the_same_network() {
    let (t, data, cfg) = tiny();
    let first = recover(&data, Some(&t), &cfg, &[], &Watch::silent()).unwrap();
    assert_eq!(first.students.len(), 4);
    let saved: Vec<_> = first.students.iter().map(|(_, r)| r.clone()).collect();
    let reused = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = reused.clone();
    let watch = Watch::new(move |e: &Event<'_>| {
        if let Event::Message(m) = e {
            if m.contains("reusing the saved run") {
                count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
        }
    });
    let again = recover(&data, Some(&t), &cfg, &saved, &watch).unwrap();
    assert_eq!(reused.load(std::sync::atomic::Ordering::SeqCst), 4);
    assert_eq!(again.network.spec, first.network.spec);
    // Fine-tuning is deterministic from the same reconstruction.
    assert_eq!(again.network.params.len(), first.network.params.len());
    assert!(
        again
            .network
            .params
            .iter()
            .zip(&first.network.params)
            .all(|(a, b)| a.to_bits() == b.to_bits())
    );
    // Every recovered neuron's support: distinct students, at least γN of the 4.
    let layer = &first.report.layers[0];
    assert_eq!(layer.support.len(), layer.recovered_width);
    assert!(
        layer.support.iter().all(|&s| (2..=4).contains(&s)),
        "{layer:?}"
    );
    assert!(layer.pruned.is_empty());
    // Pruning on the same students: only neurons with fewer than 4 students are tried, and
    // the teacher's two neurons stay.
    let mut prune = cfg.clone();
    prune.prune_support = 1.0;
    prune.prune_time = 2.0;
    let pruned = recover(&data, Some(&t), &prune, &saved, &Watch::silent()).unwrap();
    let layer = &pruned.report.layers[0];
    let tried: Vec<usize> = layer.pruned.iter().map(|p| p.neuron).collect();
    let weak: Vec<usize> = (0..layer.support.len())
        .filter(|&i| layer.support[i] < 4)
        .collect();
    assert_eq!(tried.len(), weak.len(), "{:?}", layer.pruned);
    assert!(tried.iter().all(|i| weak.contains(i)));
    let removed = layer.pruned.iter().filter(|p| p.removed).count();
    assert_eq!(layer.recovered_width, layer.support.len() - removed);
    assert_eq!(
        pruned.report.metrics.as_ref().unwrap().layers[0].teacher_width,
        2
    );
    assert!(pruned.report.loss <= first.report.loss.max(1e-20) * 10.0);
}

#[test]
fn a_recovery_cancelled_while_fine_tuning_is_interrupted_not_finished() {
    // Cancelled at the fine-tuning's first step: a network that was never fine-tuned must not
    // come back as a result (a study would record it and skip the task on resume).
    let (t, data, cfg) = tiny();
    let cancel = Cancel::new();
    let c = cancel.clone();
    let watch = Watch::new(move |e: &Event<'_>| {
        if let Event::Step { run, .. } = e
            && run.stage == Stage::FineTune
        {
            c.cancel();
        }
    })
    .with_cancel(cancel.clone());
    let r = recover(&data, Some(&t), &cfg, &[], &watch);
    assert!(cancel.is_cancelled(), "fine-tuning never started");
    assert!(matches!(r, Err(gradflow::Error::Interrupted)), "{r:?}");
}

#[test]
fn a_cancelled_recovery_stops_promptly_and_says_so() {
    // Another thread cancels as soon as the first student's flow reports its first step (a
    // fixed timer would race a recovery that, with fast kernels, finishes in under 0.1 s).
    let (t, data, mut cfg) = tiny();
    cfg.flow.maxiterations_ode = usize::MAX;
    cfg.flow.maxtime_ode = 60.0;
    let cancel = Cancel::new();
    let c = cancel.clone();
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let tx = std::sync::Mutex::new(Some(tx));
    let stopper = std::thread::spawn(move || {
        rx.recv().expect("no step was reported");
        c.cancel();
        std::time::Instant::now()
    });
    let seen = cancel.clone();
    let watch = Watch::new(move |e: &Event<'_>| {
        if matches!(e, Event::Step { .. })
            && let Some(tx) = tx.lock().unwrap().take()
        {
            tx.send(()).unwrap();
            // Hold this step until the other thread has cancelled (however loaded the
            // machine), so that the cancellation lands in the middle of the run.
            let start = std::time::Instant::now();
            while !seen.is_cancelled() && start.elapsed().as_secs() < 10 {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
        }
    })
    .with_cancel(cancel);
    let r = recover(&data, Some(&t), &cfg, &[], &watch);
    let returned = std::time::Instant::now();
    let cancelled_at = stopper.join().unwrap();
    assert!(matches!(r, Err(gradflow::Error::Interrupted)), "{r:?}");
    assert!(returned >= cancelled_at);
    let late = (returned - cancelled_at).as_secs_f64();
    assert!(late < 0.1, "returned {late} s after the cancellation");
}
