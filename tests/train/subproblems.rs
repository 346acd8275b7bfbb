//! The trust-region subproblem solvers of `newton-tr` and `lm` (Cholesky factorisations and
//! matrix-free truncated CG) on the problems of the parent module.

use super::{after_short_flow, near_teacher, refine_with};
use gradflow::net::Objective;
use gradflow::optim::{RefineConfig, Refiner, TrModel, TrSubproblem, refine};

/// The factorised subproblem solver (forced here; the default from 512 parameters) takes the
/// parent module's problems to the same ends: the curved valley to machine precision, and the ρ = 1
/// minimum with non-zero loss to a vanishing gradient (positive definite Hessian, interior
/// Newton steps from one factorisation).
#[test]
fn cholesky_subproblems_reach_the_same_ends() {
    let run = |rho, samples, steps, model| {
        let (p, x, start) = after_short_flow(rho, samples, 1, steps);
        let r = refine_with(
            &p,
            &x,
            Refiner::NewtonTr,
            model,
            TrSubproblem::Cholesky,
            150,
        );
        (r.outcome, start)
    };
    let (valley, start) = run(16, 5000, 60, TrModel::Exact);
    assert!(
        valley.loss <= 1e-28,
        "loss {:e} after {} iterations ({:?}), from {start:e}",
        valley.loss,
        valley.counters.iterations,
        valley.stop,
    );
    let (minimum, _) = run(4, 3000, 100, TrModel::Adaptive);
    assert!(
        minimum.gnorm <= 1e-12 && minimum.loss > 1e-3,
        "loss {:e}, gnorm {:e} after {} iterations",
        minimum.loss,
        minimum.gnorm,
        minimum.counters.iterations
    );
}

/// Matrix-free subproblems (truncated CG on Gauss–Newton products, forced here) take `lm`
/// from a perturbed teacher to machine precision without a single Hessian, leave frozen
/// parameters alone, and make progress on the parent module's curved valley (the factorising paths with
/// geodesic acceleration reach 6e-20 there; `matrix_free.rs` says why `cg` is not meant for
/// that size); `cg` with a model other than Gauss–Newton, and on the infinite-data objective,
/// is refused with an error naming the option.
#[test]
fn cg_subproblems_take_lm_to_zero_loss() {
    let (p, x0) = near_teacher(1e-1);
    let near = refine_with(
        &p,
        &x0,
        Refiner::Lm,
        TrModel::Adaptive,
        TrSubproblem::Cg,
        300,
    );
    assert_eq!(near.outcome.counters.hessian_evals, 0);
    assert!(
        near.outcome.loss <= 1e-28,
        "cg: loss {:e} after {} iterations ({:?})",
        near.outcome.loss,
        near.outcome.counters.iterations,
        near.outcome.stop
    );
    // Frozen parameters stay where they start (the block preconditioner must not mix them
    // into the free ones of their unit).
    let mask: Vec<bool> = (0..x0.len()).map(|i| i % 3 == 0).collect();
    let mut frozen = p.objective().with_frozen(&mask).unwrap();
    let mut c = RefineConfig::default();
    c.refiner = Some(Refiner::Lm);
    c.tr_subproblem = TrSubproblem::Cg;
    c.maxiterations_optim = 100;
    let r = refine(&mut frozen, &x0, &c).unwrap();
    c.tr_subproblem = TrSubproblem::Eigen;
    let reference = refine(&mut frozen, &x0, &c).unwrap();
    // Both end at stationary points of the frozen problem (minima with non-zero loss), not
    // necessarily the same one.
    assert!(
        r.outcome.gnorm <= 1e-6 && (r.outcome.loss / reference.outcome.loss - 1.0).abs() <= 1e-2,
        "frozen: cg {:e} (gnorm {:e}), eigen {:e}",
        r.outcome.loss,
        r.outcome.gnorm,
        reference.outcome.loss
    );
    for (i, (a, b)) in r.x.iter().zip(&x0).enumerate() {
        if mask[i] {
            assert_eq!(a.to_bits(), b.to_bits(), "frozen parameter {i} moved");
        }
    }
    let (p, x, start) = after_short_flow(16, 3000, 5, 100);
    let valley = refine_with(
        &p,
        &x,
        Refiner::Lm,
        TrModel::Adaptive,
        TrSubproblem::Cg,
        300,
    );
    assert!(
        valley.outcome.loss <= 1e-1 * start,
        "valley: {:e} from {start:e}",
        valley.outcome.loss
    );
    let mut c = RefineConfig::default();
    c.refiner = Some(Refiner::NewtonTr);
    c.tr_subproblem = TrSubproblem::Cg;
    let err = refine(&mut p.objective(), &x, &c).unwrap_err().to_string();
    assert!(err.contains("refine.tr_subproblem"), "{err}");
    let teacher = gradflow::teacher::TeacherConfig::paper(2, 2, 0)
        .build()
        .unwrap();
    let mut pop = Objective::population(
        &teacher.spec,
        &teacher,
        &gradflow::net::population::PopulationOptions::default(),
    )
    .unwrap();
    c.refiner = Some(Refiner::Lm);
    let err = refine(&mut pop, &teacher.params, &c)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("refine.tr_subproblem") && err.contains("infinite data"),
        "{err}"
    );
}

/// The memory cap counts what `cg` holds — the per-unit Gauss–Newton blocks (2 × 120 blocks of
/// 785² values for a 784-120-10 student) and the linearisation on the samples — and refuses
/// with one line naming `refine.max_memory_gib`; `lbfgs` on the same problem passes.
#[test]
fn the_memory_cap_counts_the_matrix_free_buffers() {
    use gradflow::net::{Activation, LayerSpec, NetSpec};
    let spec = NetSpec::new(
        784,
        vec![
            LayerSpec::new(120, Activation::G),
            LayerSpec::new(10, Activation::Identity),
        ],
    )
    .unwrap();
    let mut c = RefineConfig::default();
    c.refiner = Some(Refiner::Lm);
    c.tr_subproblem = TrSubproblem::Cg;
    c.max_memory_gib = Some(1.0);
    let err = c.check_problem(&spec, 60_000).unwrap_err().to_string();
    assert!(
        err.starts_with("refine.max_memory_gib")
            && err.contains("Gauss–Newton blocks")
            && err.contains("1.4 GiB")
            && !err.contains('\n'),
        "{err}"
    );
    c.max_memory_gib = Some(2.0);
    c.check_problem(&spec, 60_000).unwrap();
    c.max_memory_gib = Some(1.0);
    c.refiner = Some(Refiner::Lbfgs);
    c.tr_subproblem = TrSubproblem::Auto;
    c.check_problem(&spec, 60_000).unwrap();
}
