//! The training engine: integrators on problems with known solutions, refiners to machine
//! precision, stop reasons, determinism, failure fallback, and `gradflow solve` end to end.

use faer::{MatRef, Side};
use gradflow::flow::{FlowConfig, Integrator, run_flow};
use gradflow::monitor::StopReason;
use gradflow::net::{Activation, Dataset, LayerSpec, Loss, NetSpec, Objective};
use gradflow::observe::Watch;
use gradflow::optim::{RefineConfig, Refiner, TrModel, TrSubproblem, refine};
use gradflow::reference::Problem;
use gradflow::rng::Stream;
use gradflow::train::{TrainOptions, TrainProblem, train};

mod options;
mod subproblems;

/// A linear model `y = w·x + b`: its sum loss is quadratic with constant Hessian `H`, so the
/// gradient flow is `θ(t) = θ* + exp(−tH)(θ₀ − θ*)`.
fn quadratic_problem() -> (NetSpec, Dataset) {
    let spec = NetSpec::new(2, vec![LayerSpec::new(1, Activation::Identity)]).unwrap();
    let mut rng = Stream::new(3, 0);
    let n = 40;
    let x: Vec<f64> = (0..n * 2).map(|_| 0.3 * rng.normal()).collect();
    let y: Vec<f64> = (0..n)
        .map(|i| 0.7 * x[2 * i] - 0.2 * x[2 * i + 1] + 0.1 + 0.05 * rng.normal())
        .collect();
    (spec, Dataset::from_row_major(&x, 2, &y, 1).unwrap())
}

fn exact_flow(spec: &NetSpec, data: &Dataset, x0: &[f64], t: f64) -> Vec<f64> {
    let mut obj = Objective::new(spec, data, Loss::Mse).unwrap();
    let (_, g0, h) = obj.hessian(x0);
    let p = x0.len();
    let eig = MatRef::from_column_major_slice(&h, p, p)
        .self_adjoint_eigen(Side::Lower)
        .unwrap();
    let (q, s) = (eig.U(), eig.S());
    // θ(t) − θ₀ = −Q diag((1 − e^{−λt})/λ) Qᵀ g₀
    (0..p)
        .map(|r| {
            x0[r]
                - (0..p)
                    .map(|i| {
                        let lam = s[i];
                        let gi: f64 = (0..p).map(|c| q[(c, i)] * g0[c]).sum();
                        q[(r, i)] * gi * (1.0 - (-lam * t).exp()) / lam
                    })
                    .sum::<f64>()
        })
        .collect()
}

#[test]
fn every_integrator_follows_the_exact_flow_of_a_quadratic() {
    let (spec, data) = quadratic_problem();
    let x0 = vec![0.0, 0.0, 0.0];
    let t_end = 0.05;
    let exact = exact_flow(&spec, &data, &x0, t_end);
    for (method, tol) in [
        (Integrator::KenCarp58, 1e-5),
        (Integrator::TrBdf2, 1e-4),
        (Integrator::Esdirk34, 1e-4),
        (Integrator::Rodas5P, 1e-5),
        (Integrator::Ros34Pw2, 1e-5),
        (Integrator::Bdf, 1e-4),
        (Integrator::Tsit5, 1e-5),
        (Integrator::Rk4, 1e-6),
    ] {
        let cfg = {
            let mut c = FlowConfig::default();
            c.integrator = Some(method);
            c.max_t = Some(t_end);
            c.dt = t_end / 500.0;
            c.abstol = 1e-9;
            c.reltol = 1e-9;
            c.maxtime_ode = 30.0;
            c
        };
        let r = run_flow(Objective::new(&spec, &data, Loss::Mse).unwrap(), &x0, &cfg).unwrap();
        assert_eq!(r.outcome.stop, StopReason::MaxT, "{method:?}");
        if method == Integrator::Rk4 {
            // Fixed steps land on t_end up to round-off.
            assert!((r.t - t_end).abs() < 1e-9, "{method:?}: t = {}", r.t);
        } else {
            assert!((r.t - t_end).abs() < 1e-12, "{method:?}: t = {}", r.t);
        }
        let err = r
            .final_x
            .iter()
            .zip(&exact)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        assert!(err < tol, "{method:?}: error {err:e}");
        assert!(r.events.is_empty(), "{method:?}: {:?}", r.events);
    }
}

#[test]
fn a_subsampled_jacobian_keeps_the_w_method_on_the_exact_flow() {
    // ros34pw2 with its Jacobian from 10 of the 40 samples still integrates the exact flow
    // (the gradient is exact; a W-method keeps its order with any Jacobian), while rodas5p
    // ignores the option.
    let (spec, data) = quadratic_problem();
    let x0 = vec![0.0, 0.0, 0.0];
    let t_end = 0.05;
    let exact = exact_flow(&spec, &data, &x0, t_end);
    let run = |method: Integrator, samples: usize| {
        let mut c = FlowConfig::default();
        c.integrator = Some(method);
        c.max_t = Some(t_end);
        c.abstol = 1e-9;
        c.reltol = 1e-9;
        c.jacobian_samples = Some(samples);
        run_flow(Objective::new(&spec, &data, Loss::Mse).unwrap(), &x0, &c).unwrap()
    };
    let sub = run(Integrator::Ros34Pw2, 10);
    assert_eq!(sub.outcome.stop, StopReason::MaxT);
    let err = sub
        .final_x
        .iter()
        .zip(&exact)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert!(err < 1e-5, "error {err:e}");
    // The option took effect: another Jacobian, other steps.
    let full = run(Integrator::Ros34Pw2, 0);
    assert_ne!(sub.final_x, full.final_x);
    // More samples than the data has: the exact Hessian, bit for bit.
    assert_eq!(run(Integrator::Ros34Pw2, 40).final_x, full.final_x);
    assert_eq!(
        run(Integrator::Rodas5P, 10).final_x,
        run(Integrator::Rodas5P, 0).final_x
    );
    // Unset, the size rule chooses (4 096 below 512 parameters), and the run record says so.
    let p = Problem::teacher_student(2, 2, 4, 200, 7, 0).unwrap();
    let mut opts = TrainOptions::default();
    opts.flow.maxiterations_ode = 3;
    opts.refine.maxiterations_optim = 1;
    let rec = train(
        &TrainProblem::new(&p.student, &p.data),
        &p.start,
        &opts,
        &Watch::silent(),
    )
    .unwrap();
    assert_eq!(rec.flow.unwrap().jacobian_samples, Some(4096));
}

#[test]
fn an_objective_on_rows_keeps_its_settings_and_its_rows_weights() {
    let (spec, data) = quadratic_problem();
    let n = data.n_samples();
    let weights: Vec<f64> = (0..n).map(|i| 1.0 + (i % 3) as f64).collect();
    let data = data.with_weights(weights.clone()).unwrap();
    let mut reg = gradflow::net::Regularisers::default();
    reg.maxnorm = Some(0.2);
    let full = Objective::new(&spec, &data, Loss::Mse)
        .unwrap()
        .with_regularisers(&reg)
        .unwrap();
    let x = vec![0.4, -0.2, 0.1];
    // All rows, reversed: the same objective (sums in another order).
    let rows: Vec<usize> = (0..n).rev().collect();
    let mut all = full.on_rows(&rows).unwrap();
    let mut f = Objective::new(&spec, &data, Loss::Mse)
        .unwrap()
        .with_regularisers(&reg)
        .unwrap();
    let (l, l_all) = (f.loss(&x), all.loss(&x));
    assert!((l - l_all).abs() <= 1e-12 * l, "{l} vs {l_all}");
    // Every other row: its weights follow, and the data-size scaling of the regulariser with
    // them (the factor effective_size ratio maps the sub-sum's regulariser onto the full one).
    let half: Vec<usize> = (0..n).step_by(2).collect();
    let sub = full.on_rows(&half).unwrap();
    let w_sub: f64 = half.iter().map(|&i| weights[i]).sum();
    assert!((sub.data().effective_size() - w_sub).abs() < 1e-12);
    assert!(full.on_rows(&[]).is_err());
    assert!(full.on_rows(&[n]).is_err());
    let teacher = gradflow::teacher::TeacherConfig::paper(2, 2, 0)
        .build()
        .unwrap();
    let pop = Objective::population(
        &teacher.spec,
        &teacher,
        &gradflow::net::population::PopulationOptions::default(),
    )
    .unwrap();
    assert!(pop.on_rows(&[0]).is_err());
}

#[test]
fn discrete_baselines_decrease_the_loss() {
    let (spec, data) = quadratic_problem();
    let x0 = vec![0.0, 0.0, 0.0];
    let l0 = Objective::new(&spec, &data, Loss::Mse).unwrap().loss(&x0) / 40.0;
    for (method, batch) in [
        (Integrator::Gd, None),
        (Integrator::Adam, None),
        (Integrator::Adam, Some(8)),
    ] {
        let cfg = {
            let mut c = FlowConfig::default();
            c.integrator = Some(method);
            c.lr = 0.05;
            c.batch_size = batch;
            c.maxiterations_ode = 200;
            c
        };
        let r = run_flow(Objective::new(&spec, &data, Loss::Mse).unwrap(), &x0, &cfg).unwrap();
        assert_eq!(r.outcome.stop, StopReason::MaxIterations);
        assert!(
            r.outcome.loss < 0.5 * l0,
            "{method:?}: {} vs {l0}",
            r.outcome.loss
        );
    }
}

/// A teacher–student problem with the student = teacher architecture, started near the
/// teacher's parameters.
fn near_teacher(noise: f64) -> (Problem, Vec<f64>) {
    let p = Problem::teacher_student(2, 3, 3, 400, 11, 0).unwrap();
    let t = p.teacher.as_ref().unwrap().params.clone();
    let mut rng = Stream::new(5, 0);
    let x0: Vec<f64> = t.iter().map(|v| v + noise * rng.normal()).collect();
    (p, x0)
}

#[test]
fn every_refiner_reaches_machine_precision_from_a_nearby_point() {
    let (p, x0) = near_teacher(1e-2);
    for refiner in [
        Refiner::NewtonTr,
        Refiner::Lm,
        Refiner::Newton,
        Refiner::Bfgs,
        Refiner::Lbfgs,
    ] {
        let mut obj = p.objective();
        let cfg = {
            let mut c = RefineConfig::default();
            c.refiner = Some(refiner);
            c.maxtime_optim = 30.0;
            c
        };
        let r = refine(&mut obj, &x0, &cfg).unwrap();
        assert!(
            r.outcome.loss <= 1e-28,
            "{refiner:?}: loss {:e} ({:?}, {} iterations)",
            r.outcome.loss,
            r.outcome.stop,
            r.outcome.counters.iterations
        );
    }
}

/// The paper teacher `4 → 4 → 1` with `n` samples, a width-`m` student (seed `seed`) after
/// `steps` KenCarp58 steps (a deterministic start for the refiners).
fn after_short_flow(m: usize, n: usize, seed: u64, steps: usize) -> (Problem, Vec<f64>, f64) {
    let p =
        Problem::teacher_student(4, 4, m, n, gradflow::teacher::paper_seed(4, 4, 0), seed).unwrap();
    let flow = {
        let mut c = FlowConfig::default();
        // The starts (and the iteration counts quoted below) are KenCarp58's.
        c.integrator = Some(Integrator::KenCarp58);
        c.maxiterations_ode = steps;
        c.maxtime_ode = 600.0;
        c
    };
    let f = run_flow(p.objective(), &p.start, &flow).unwrap();
    assert_eq!(f.outcome.stop, StopReason::MaxIterations);
    (p, f.x, f.outcome.loss)
}

/// `iterations` of `refiner` (with `tr_model`) from `x`.
fn refine_for(
    p: &Problem,
    x: &[f64],
    refiner: Refiner,
    tr_model: TrModel,
    iterations: usize,
) -> gradflow::optim::RefineResult {
    refine_with(p, x, refiner, tr_model, TrSubproblem::Auto, iterations)
}

/// [`refine_for`] with the trust-region subproblem solver chosen.
fn refine_with(
    p: &Problem,
    x: &[f64],
    refiner: Refiner,
    tr_model: TrModel,
    tr_subproblem: TrSubproblem,
    iterations: usize,
) -> gradflow::optim::RefineResult {
    let cfg = {
        let mut c = RefineConfig::default();
        c.refiner = Some(refiner);
        c.tr_model = tr_model;
        c.tr_subproblem = tr_subproblem;
        c.maxiterations_optim = iterations;
        c.maxtime_optim = 600.0;
        c
    };
    refine(&mut p.objective(), x, &cfg).unwrap()
}

/// An overparameterised student after a short gradient flow (loss 7e-3) still has a long
/// curved way to its zero-loss minimum. The exact-Hessian `newton-tr` with geodesic
/// acceleration gets there in 63 iterations on this machine; without it, 300 iterations ended
/// at 1.4e-12.
#[test]
fn newton_tr_follows_a_curved_valley_to_machine_precision() {
    let (p, x, start) = after_short_flow(16, 5000, 1, 60);
    let r = refine_for(&p, &x, Refiner::NewtonTr, TrModel::Exact, 150);
    assert!(
        r.outcome.loss <= 1e-28,
        "loss {:e} after {} iterations ({:?}), from {start:e}",
        r.outcome.loss,
        r.outcome.counters.iterations,
        r.outcome.stop,
    );
}

/// A ρ = 1 student stalls at a minimum with non-zero loss, where the Gauss–Newton model lacks
/// the residuals' curvature and converges only linearly. The adaptive `newton-tr` must keep
/// the exact Hessian there and converge like Newton (63 iterations on this machine), while
/// `lm` is still far off after the same budget.
#[test]
fn adaptive_newton_tr_keeps_the_exact_hessian_at_a_minimum_with_nonzero_loss() {
    let (p, x, _) = after_short_flow(4, 3000, 1, 100);
    let adaptive = refine_for(&p, &x, Refiner::NewtonTr, TrModel::Adaptive, 150);
    assert!(
        adaptive.outcome.gnorm <= 1e-12 && adaptive.outcome.loss > 1e-3,
        "newton-tr: loss {:e}, gnorm {:e} after {} iterations",
        adaptive.outcome.loss,
        adaptive.outcome.gnorm,
        adaptive.outcome.counters.iterations
    );
    let lm = refine_for(&p, &x, Refiner::Lm, TrModel::Adaptive, 150);
    assert!(lm.outcome.gnorm > 1e-8, "lm gnorm {:e}", lm.outcome.gnorm);
}

/// Near zero loss the residual term of the Hessian is noise in the flat directions of an
/// overparameterised student; the adaptive model then uses Gauss–Newton. On this start
/// (100 flow steps, loss 7e-4) 300 iterations of the adaptive `newton-tr` reached 7.8e-20 on
/// this machine, the exact-Hessian model 1.9e-15.
#[test]
fn adaptive_newton_tr_uses_gauss_newton_near_zero_loss() {
    let (p, x, _) = after_short_flow(16, 3000, 5, 100);
    let run = |tr_model| {
        refine_for(&p, &x, Refiner::NewtonTr, tr_model, 300)
            .outcome
            .loss
    };
    let (adaptive, exact) = (run(TrModel::Adaptive), run(TrModel::Exact));
    assert!(
        adaptive <= 1e-18 && adaptive < 1e-2 * exact,
        "adaptive {adaptive:e}, exact {exact:e}"
    );
}

#[test]
fn every_stop_reason_can_be_triggered() {
    let (p, x0) = near_teacher(1e-1);
    let flow = |cfg: FlowConfig| run_flow(p.objective(), &x0, &cfg).unwrap().outcome.stop;
    let base = {
        let mut c = FlowConfig::default();
        c.maxtime_ode = 20.0;
        c
    };
    assert_eq!(
        flow({
            let mut c = base.clone();
            c.minloss = 1e-2;
            c
        }),
        StopReason::MinLoss
    );
    assert_eq!(
        flow({
            let mut c = base.clone();
            c.min_gnorm = 1e3;
            c
        }),
        StopReason::MinGradNorm
    );
    assert_eq!(
        flow({
            let mut c = base.clone();
            c.patience = 0;
            c
        }),
        StopReason::Patience
    );
    assert_eq!(
        flow({
            let mut c = base.clone();
            c.maxtime_ode = 1e-9;
            c
        }),
        StopReason::MaxTime
    );
    assert_eq!(
        flow({
            let mut c = base.clone();
            c.maxiterations_ode = 3;
            c
        }),
        StopReason::MaxIterations
    );
    assert_eq!(
        flow({
            let mut c = base.clone();
            c.max_t = Some(1e-4);
            c
        }),
        StopReason::MaxT
    );
    let diverging = {
        let mut c = base.clone();
        c.integrator = Some(Integrator::Gd);
        c.lr = 1e200;
        c
    };
    assert_eq!(flow(diverging), StopReason::NoProgress);
    let mut obj = p.objective();
    let skipped = refine(&mut obj, &x0, &{
        let mut c = RefineConfig::default();
        c.maxtime_optim = 0.0;
        c
    })
    .unwrap();
    assert_eq!(skipped.outcome.stop, StopReason::Skipped);
}

#[test]
fn runs_are_deterministic_per_seed() {
    let (p, x0) = near_teacher(3e-1);
    let cfg = {
        let mut c = FlowConfig::default();
        c.maxiterations_ode = 40;
        c
    };
    let a = run_flow(p.objective(), &x0, &cfg).unwrap();
    let b = run_flow(p.objective(), &x0, &cfg).unwrap();
    assert_eq!(a.x, b.x);
    assert_eq!(a.outcome.counters, b.outcome.counters);
    let rc = {
        let mut c = RefineConfig::default();
        c.maxiterations_optim = 5;
        c
    };
    let ra = refine(&mut p.objective(), &a.x, &rc).unwrap();
    let rb = refine(&mut p.objective(), &b.x, &rc).unwrap();
    assert_eq!(ra.x, rb.x);
}

#[test]
fn a_converged_flow_with_every_tolerance_off_still_terminates() {
    // With minloss and min_gnorm switched off, a converged flow's steps grow until the ODE time
    // overflows; the phase must stop (MaxT) instead of spinning.
    let (spec, data) = quadratic_problem();
    let cfg = {
        let mut c = FlowConfig::default();
        c.minloss = 0.0;
        c.min_gnorm = 0.0;
        c.maxtime_ode = 20.0;
        c
    };
    let t0 = std::time::Instant::now();
    let r = run_flow(
        Objective::new(&spec, &data, Loss::Mse).unwrap(),
        &[0.0, 0.0, 0.0],
        &cfg,
    )
    .unwrap();
    assert!(t0.elapsed().as_secs_f64() < 15.0, "took {:?}", t0.elapsed());
    assert!(
        matches!(
            r.outcome.stop,
            StopReason::MaxT | StopReason::MinGradNorm | StopReason::MinLoss
        ),
        "{:?}",
        r.outcome.stop
    );
}

#[test]
fn frozen_parameters_stay_exactly_where_they_start() {
    // Freeze the first-layer weights at the teacher's (noisy) values; every integrator family
    // and every refiner must leave them bit-for-bit unchanged while the rest trains.
    let (p, x0) = near_teacher(1e-2);
    let layouts = p.student.layouts();
    let mut mask = vec![false; p.student.n_params()];
    mask[layouts[0].weight.clone()].fill(true);
    let mut obj = p.objective().with_frozen(&mask).unwrap();
    let (_, g) = obj.gradient(&x0);
    let (_, g2, h) = obj.hessian(&x0);
    let n = mask.len();
    for i in (0..n).filter(|&i| mask[i]) {
        assert_eq!(g[i].abs().to_bits(), 0, "exact zero");
        assert_eq!(g2[i].abs().to_bits(), 0, "exact zero");
        for j in (0..n).filter(|&j| j != i) {
            assert_eq!(h[i * n + j].abs().to_bits(), 0, "exact zero");
        }
        assert!(h[i * n + i] > 0.0);
    }
    assert!(
        gradflow::net::Objective::new(&p.student, &p.data, Loss::Mse)
            .unwrap()
            .with_frozen(&mask[1..])
            .is_err()
    );
    let l0 = {
        let mut o = p.objective();
        o.loss(&x0) * o.mean_scale()
    };
    for refiner in [
        Refiner::NewtonTr,
        Refiner::Lm,
        Refiner::Newton,
        Refiner::Bfgs,
        Refiner::Slsqp,
    ] {
        for ode in [Integrator::KenCarp58, Integrator::Bdf, Integrator::Adam] {
            let flow = {
                let mut c = FlowConfig::default();
                c.integrator = Some(ode);
                c.maxtime_ode = 0.3;
                c
            };
            let cfg = {
                let mut c = RefineConfig::default();
                c.refiner = Some(refiner);
                c.maxtime_optim = 0.3;
                c
            };
            let mut opts = TrainOptions::default();
            opts.flow = flow;
            opts.refine = cfg;
            let problem = TrainProblem {
                spec: &p.student,
                data: &p.data,
                loss: Loss::Mse,
                frozen: Some(&mask),
                infinite: None,
            };
            let rec = train(&problem, &x0, &opts, &Watch::silent()).unwrap();
            for i in (0..n).filter(|&i| mask[i]) {
                assert_eq!(rec.x[i].to_bits(), x0[i].to_bits(), "{ode:?} + {refiner:?}");
            }
            assert!(rec.loss < l0, "{ode:?} + {refiner:?}: {} vs {l0}", rec.loss);
            assert!(rec.x != x0, "{ode:?} + {refiner:?}: nothing trained");
        }
    }
}

/// A diverged run has NaN losses; its record must read back (NaN as JSON `null`), or a resumed
/// study would take it for a damaged file and recompute it every time.
#[test]
fn a_record_with_nan_losses_reads_back() {
    let (p, x0) = near_teacher(1e-1);
    let flow = {
        let mut c = FlowConfig::default();
        c.maxiterations_ode = 3;
        c
    };
    let rc = {
        let mut c = RefineConfig::default();
        c.maxiterations_optim = 2;
        c
    };
    let mut opts = TrainOptions::default();
    opts.flow = flow;
    opts.refine = rc;
    let mut rec = train(
        &TrainProblem::new(&p.student, &p.data),
        &x0,
        &opts,
        &Watch::silent(),
    )
    .unwrap();
    rec.loss = f64::NAN;
    rec.ode_loss = f64::NAN;
    rec.gnorm = f64::INFINITY;
    rec.ode.outcome.loss = f64::NAN;
    rec.optim.outcome.gnorm = f64::NAN;
    rec.trajectory[0].loss = f64::NAN;
    rec.loss_curve[0].gnorm = f64::NAN;
    let json = serde_json::to_string(&rec).unwrap();
    let back: gradflow::train::RunRecord = serde_json::from_str(&json).unwrap();
    assert!(back.loss.is_nan() && back.ode_loss.is_nan() && back.gnorm.is_nan());
    assert!(back.ode.outcome.loss.is_nan() && back.optim.outcome.gnorm.is_nan());
    assert!(back.trajectory[0].loss.is_nan() && back.loss_curve[0].gnorm.is_nan());
    assert_eq!(back.x, rec.x);
    assert_eq!(back.optim.outcome.counters, rec.optim.outcome.counters);
}

/// Cancellation ends each phase at its best point with `interrupted`, within 100 ms.
#[test]
fn a_cancelled_run_returns_its_best_point_promptly_in_either_phase() {
    use gradflow::cancel::Cancel;
    // The demo problem (30 000 samples, 97 parameters) is far from converged within a second.
    let p = Problem::demo(0).unwrap();
    let x0 = p.start.clone();
    for (flow_s, refine_s, delay_ms) in [(60.0, 60.0, 300u64), (0.2, 60.0, 700)] {
        let mut opts = TrainOptions::default();
        opts.flow.maxtime_ode = flow_s;
        opts.refine.maxtime_optim = refine_s;
        opts.flow.minloss = 0.0;
        opts.flow.min_gnorm = 0.0;
        opts.refine.minloss = 0.0;
        opts.refine.min_gnorm = 0.0;
        opts.refine.patience = usize::MAX;
        let cancel = Cancel::new();
        let c = cancel.clone();
        let stopper = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(delay_ms));
            c.cancel();
            std::time::Instant::now()
        });
        let watch = Watch::silent().with_cancel(cancel);
        let rec = train(&TrainProblem::new(&p.student, &p.data), &x0, &opts, &watch).unwrap();
        let returned = std::time::Instant::now();
        let cancelled = stopper.join().unwrap();
        assert!(
            returned >= cancelled,
            "the run ended before it was cancelled: {rec:?}"
        );
        let late = (returned - cancelled).as_secs_f64();
        assert!(late < 0.1, "returned {late} s after the cancellation");
        assert_eq!(rec.optim.outcome.stop, StopReason::Interrupted);
        if flow_s > 1.0 {
            assert_eq!(rec.ode.outcome.stop, StopReason::Interrupted);
        } else {
            assert_ne!(rec.ode.outcome.stop, StopReason::Interrupted);
        }
        assert!(rec.loss.is_finite() && rec.loss <= rec.ode_loss);
        assert!(rec.was_interrupted());
    }
}

/// Every refiner runs as an argmin solver: the iteration budget ends it through argmin's
/// state, and argmin's observer reports each iteration once, in order, as a refinement step.
#[test]
fn refiners_run_on_argmin_with_iteration_budgets_and_one_step_event_per_iteration() {
    use gradflow::observe::{Event, Phase};
    use std::sync::{Arc, Mutex};
    let p = Problem::teacher_student(2, 2, 4, 200, 7, 0).unwrap();
    for refiner in [
        Refiner::NewtonTr,
        Refiner::Lm,
        Refiner::Newton,
        Refiner::Bfgs,
        Refiner::Lbfgs,
    ] {
        let steps = Arc::new(Mutex::new(Vec::new()));
        let seen = steps.clone();
        let watch = Watch::new(move |e: &Event<'_>| {
            if let Event::Step {
                phase: Phase::Refine,
                iteration,
                loss,
                ..
            } = e
            {
                seen.lock().unwrap().push((*iteration, *loss));
            }
        });
        let cfg = {
            let mut c = RefineConfig::default();
            c.refiner = Some(refiner);
            c.maxiterations_optim = 3;
            c
        };
        let mut obj = p.objective();
        let r = gradflow::optim::refine_watched(&mut obj, &p.start, &cfg, &watch).unwrap();
        assert_eq!(r.outcome.stop, StopReason::MaxIterations, "{refiner}");
        assert_eq!(r.outcome.counters.iterations, 3, "{refiner}");
        let steps = steps.lock().unwrap().clone();
        let iterations: Vec<usize> = steps.iter().map(|s| s.0).collect();
        assert_eq!(iterations, [1, 2, 3], "{refiner}");
        assert!(
            steps.windows(2).all(|w| w[1].1 < w[0].1),
            "{refiner}: {steps:?}"
        );
        assert_eq!(
            steps[2].1.to_bits(),
            r.outcome.loss.to_bits(),
            "{refiner}: the last step reports the best loss"
        );
    }
}
