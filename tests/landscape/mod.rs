//! The landscape toolkit end to end: certificates in training records, channels stopped,
//! jumped along and held by the `maxnorm` barrier, per-parameter time scales.

use gradflow::flow::{FlowConfig, Integrator};
use gradflow::landscape::{EndKind, OnChannel, find_channels};
use gradflow::monitor::StopReason;
use gradflow::net::Regularisers;
use gradflow::reference::Problem;
use gradflow::train::{RunRecord, TrainOptions, TrainProblem, train};

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

/// A run on [`Problem::channel`] from pair distance 0.2: a flow of `flow_s` seconds with
/// rodas5p, then `optim_s` seconds of refinement.
fn channel_run(flow_s: f64, optim_s: f64, edit: impl FnOnce(&mut TrainOptions)) -> RunRecord {
    let p = Problem::channel(0.2).unwrap();
    let mut o = TrainOptions::default();
    o.flow.integrator = Some(Integrator::Rodas5P);
    o.flow.maxtime_ode = flow_s;
    o.refine.maxtime_optim = optim_s;
    edit(&mut o);
    train(
        &TrainProblem::new(&p.student, &p.data),
        &p.start,
        &o,
        &gradflow::observe::Watch::silent(),
    )
    .unwrap()
}

#[test]
fn a_flow_along_a_channel_is_certified_channel_and_stops_or_jumps_on_request() {
    let plain = channel_run(2.0, 0.0, |_| {});
    let e = plain.end_state.as_ref().unwrap();
    assert_eq!(e.kind, EndKind::Channel, "{}", e.summary());
    assert_eq!(e.channels[0].neurons, vec![0, 1]);
    assert!(e.norm_growth.unwrap() > 1.0 && e.power_law.unwrap().exponent > 0.05);
    // Independently: the pair is near-parallel with diverging opposite outgoing weights.
    let x = &plain.x;
    let (a0, a1) = (x[9], x[10]);
    assert!(a0 > 2.5 && a1 < -2.5 && (a0 + a1).abs() < 0.5 * a0);
    assert!(norm(x) > norm(&plain.init));

    let stopped = channel_run(2.0, 5.0, |o| o.on_channel = OnChannel::Stop);
    assert_eq!(stopped.optim.outcome.stop, StopReason::Skipped);
    assert_eq!(stopped.end_state.as_ref().unwrap().kind, EndKind::Channel);
    // Its record (refinement budget 0: what ran) is the run the same options would do, so a
    // resume reuses it; with another refinement budget it is not.
    let p = Problem::channel(0.2).unwrap();
    let mut o = TrainOptions::default();
    o.flow.integrator = Some(Integrator::Rodas5P);
    o.flow.maxtime_ode = 2.0;
    o.refine.maxtime_optim = 5.0;
    o.on_channel = OnChannel::Stop;
    let problem = TrainProblem::new(&p.student, &p.data);
    assert!(gradflow::train::reproduces(
        &stopped, &problem, &p.start, &o
    ));
    o.refine.maxiterations_optim = 7;
    assert!(!gradflow::train::reproduces(
        &stopped, &problem, &p.start, &o
    ));

    // The jump moves the pair towards its limit (sum and product kept) as far as the loss stays
    // within ten times its value, and the refinement that follows starts there.
    let jumped = channel_run(2.0, 2.0, |o| o.on_channel = OnChannel::Jump);
    let j = jumped.channel_jump.as_ref().expect("a jump");
    assert!(j.halvings >= 3, "{j:?}");
    assert_eq!(j.pairs, vec![(1, 0, 1)]);
    assert!(j.loss_after <= 10.0 * j.loss_before);
    assert!(jumped.loss <= j.loss_after);
    let d = |x: &[f64]| ((x[0] - x[2]).powi(2) + (x[1] - x[3]).powi(2)).sqrt();
    assert!(
        d(&jumped.x) < 0.1 * d(&jumped.ode_x),
        "{} vs {}",
        d(&jumped.x),
        d(&jumped.ode_x)
    );
    let continued = channel_run(2.0, 2.0, |_| {});
    eprintln!(
        "channel: flow {:.3e}; continue {:.3e}; jump {:.3e} -> {:.3e} -> refined {:.3e}",
        jumped.ode_loss, continued.loss, j.loss_before, j.loss_after, jumped.loss
    );
}

#[test]
fn the_maxnorm_barrier_holds_a_channel_at_its_radius() {
    let p = Problem::channel(0.2).unwrap();
    let radius = 1.1 * norm(&p.start);
    let free = channel_run(3.0, 0.0, |_| {});
    assert!(
        norm(&free.x) > 1.5 * radius,
        "the free run should leave the ball"
    );
    let held = channel_run(3.0, 0.0, |o| {
        let mut r = Regularisers::default();
        r.maxnorm = Some(radius);
        o.regularisers = r;
    });
    assert!(
        norm(&held.x) < radius * 1.01,
        "{} vs {radius}",
        norm(&held.x)
    );
    let e = held.end_state.as_ref().unwrap();
    assert_ne!(e.kind, EndKind::Channel, "{}", e.summary());
    // The record keeps the regulariser and the data loss apart from the objective.
    assert_eq!(held.regularisers.as_ref().unwrap().maxnorm, Some(radius));
    assert!(held.data_loss.unwrap() <= held.loss + 1e-15);
}

#[test]
fn per_parameter_time_scales_scale_the_flow() {
    let p = Problem::teacher_student(2, 2, 3, 300, 11, 4).unwrap();
    let problem = TrainProblem::new(&p.student, &p.data);
    let run = |flow: FlowConfig| {
        let mut o = TrainOptions::default();
        o.flow = flow;
        o.flow.integrator = Some(Integrator::Rodas5P);
        o.flow.maxiterations_ode = 30;
        o.refine.maxtime_optim = 0.0;
        train(&problem, &p.start, &o, &gradflow::observe::Watch::silent()).unwrap()
    };
    // Factors of 2 everywhere are τ = 2.
    let mut doubled = FlowConfig::default();
    doubled.tau_params = Some(vec![2.0; p.student.n_params()]);
    let mut tau2 = FlowConfig::default();
    tau2.tau = 2.0;
    assert_eq!(run(doubled).x, run(tau2).x);
    // A vanishing factor on the output layer holds it where it starts.
    let n_out = p.student.layouts()[1].len();
    let hidden = p.student.n_params() - n_out;
    let mut slow = FlowConfig::default();
    slow.tau_params = Some(
        p.student
            .layer_factors(&[1.0, 1e-12], &[1.0, 1e-12])
            .unwrap(),
    );
    let r = run(slow);
    let moved = |range: std::ops::Range<usize>| {
        range
            .map(|i| (r.x[i] - p.start[i]).abs())
            .fold(0.0, f64::max)
    };
    assert!(moved(hidden..p.student.n_params()) < 1e-9);
    assert!(moved(0..hidden) > 1e-3);
    // Bad factors name the option.
    let mut bad = TrainOptions::default();
    bad.flow.tau_params = Some(vec![1.0; 3]);
    let e = train(
        &problem,
        &p.start,
        &bad,
        &gradflow::observe::Watch::silent(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("flow.tau_params"), "{e}");
}

#[test]
fn channel_candidates_need_opposite_large_outgoing_weights() {
    let p = Problem::channel(0.2).unwrap();
    let opts = gradflow::landscape::CertifyOptions::default();
    assert_eq!(find_channels(&p.student, &p.start, &opts).unwrap().len(), 1);
    let teacher = p.teacher.unwrap();
    // The teacher's pair is nearer still; a network without it has none.
    assert_eq!(
        find_channels(&p.student, &teacher.params, &opts)
            .unwrap()
            .len(),
        1
    );
    let mut x = p.start.clone();
    x[10] = 0.1;
    assert!(find_channels(&p.student, &x, &opts).unwrap().is_empty());
}
