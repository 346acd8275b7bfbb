//! The training options by keyword, with their Rust defaults.

use super::*;
use gradflow::landscape::OnChannel;

/// Which options struct an option belongs to.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Table {
    Flow,
    Refine,
    Train,
    Certify,
    Regularisers,
}

/// The training options: the Python keyword (the CLI flag with underscores), its table and
/// field, and its help. Defaults are read from the library's `Default` impls.
pub(crate) const OPTIONS: &[(&str, Table, &str, &str)] = &[
    (
        "ode",
        Table::Flow,
        "integrator",
        "integrator (default: by size: rodas5p up to 256 parameters, ros34pw2 up to 2048, mini-batch adam above)",
    ),
    (
        "abstol",
        Table::Flow,
        "abstol",
        "absolute tolerance of the integrator",
    ),
    (
        "reltol",
        Table::Flow,
        "reltol",
        "relative tolerance of the integrator",
    ),
    ("tau", Table::Flow, "tau", "time scale of dθ/dt = −τ∇L_sum"),
    (
        "minloss",
        Table::Flow,
        "minloss",
        "stop the flow when the mean loss reaches this",
    ),
    (
        "min_gnorm",
        Table::Flow,
        "min_gnorm",
        "stop the flow when the ∞-norm of the mean gradient reaches this",
    ),
    (
        "patience",
        Table::Flow,
        "patience",
        "stop the flow after this many evaluations without improvement",
    ),
    (
        "maxtime_ode",
        Table::Flow,
        "maxtime_ode",
        "wall-clock budget of the flow (s)",
    ),
    (
        "maxiterations_ode",
        Table::Flow,
        "maxiterations_ode",
        "step budget of the flow",
    ),
    ("max_t", Table::Flow, "max_t", "ODE time limit (None: none)"),
    (
        "jacobian_refresh",
        Table::Flow,
        "jacobian_refresh",
        "refresh the Hessian at least every this many steps",
    ),
    (
        "jacobian_samples",
        Table::Flow,
        "jacobian_samples",
        "evaluate the Jacobian (Hessian) of the W-method ros34pw2 on this many evenly spaced samples (0: all; default: by size, 4096 below 512 parameters, 2048 from 512)",
    ),
    ("dt", Table::Flow, "dt", "fixed step of rk4"),
    ("lr", Table::Flow, "lr", "learning rate of gd and adam"),
    (
        "batch_size",
        Table::Flow,
        "batch_size",
        "mini-batch size of gd and adam (None: full batch; 640 when adam is the default for the size)",
    ),
    (
        "lr_patience",
        Table::Flow,
        "lr_patience",
        "plateau schedule of gd and adam: lower the learning rate after this many epochs without a new lowest loss (0: never)",
    ),
    (
        "lr_decay",
        Table::Flow,
        "lr_decay",
        "factor of the plateau schedule",
    ),
    (
        "trajectory_points",
        Table::Flow,
        "trajectory_points",
        "approximate number of trajectory points",
    ),
    (
        "trajectory_x",
        Table::Flow,
        "trajectory_x",
        "keep θ at every trajectory point",
    ),
    (
        "max_memory_ode",
        Table::Flow,
        "max_memory_gib",
        "cap (GiB) on the dense P×P matrices of the flow (None: half the machine's memory)",
    ),
    (
        "optim",
        Table::Refine,
        "refiner",
        "refinement method (default: newton-tr up to 1024 parameters, bfgs up to 1e4, lbfgs above)",
    ),
    (
        "maxtime_optim",
        Table::Refine,
        "maxtime_optim",
        "wall-clock budget of the refinement (s)",
    ),
    (
        "maxiterations_optim",
        Table::Refine,
        "maxiterations_optim",
        "iteration budget of the refinement",
    ),
    (
        "minloss_optim",
        Table::Refine,
        "minloss",
        "stop the refinement when the mean loss reaches this",
    ),
    (
        "min_gnorm_optim",
        Table::Refine,
        "min_gnorm",
        "stop the refinement when the gradient ∞-norm reaches this",
    ),
    (
        "patience_optim",
        Table::Refine,
        "patience",
        "stop the refinement after this many evaluations without improvement",
    ),
    (
        "tr_model",
        Table::Refine,
        "tr_model",
        "model matrix of newton-tr: adaptive, exact or gauss-newton",
    ),
    (
        "tr_subproblem",
        Table::Refine,
        "tr_subproblem",
        "subproblem solver of newton-tr and lm: auto (eigendecomposition below 512 parameters, Cholesky factorisations from there on), eigen, cholesky, or cg (matrix-free truncated conjugate gradients on Gauss–Newton products; lm only, for students too large to factorise)",
    ),
    (
        "max_memory_optim",
        Table::Refine,
        "max_memory_gib",
        "cap (GiB) on the dense P×P matrices of the refiner (None: half the machine's memory)",
    ),
    (
        "init",
        Table::Train,
        "init",
        "initialisation of train_seeds: glorot_normal or glorot_uniform",
    ),
    (
        "on_channel",
        Table::Train,
        "on_channel",
        "when the flow ends in a channel to infinity: continue (refine as usual), stop (skip the refinement) or jump (move along the channel towards its limit, then refine)",
    ),
    (
        "tau_params",
        Table::Flow,
        "tau_params",
        "per-parameter time-scale factors, one per parameter (flat layout): dθ_i/dt = −τ·τ_i ∂L/∂θ_i (None: all 1)",
    ),
    (
        "maxnorm",
        Table::Regularisers,
        "maxnorm",
        "radius M of the maxnorm barrier: adds N·⅓(‖θ‖ − M)³ to the sum loss beyond it (None: no barrier)",
    ),
    (
        "merge",
        Table::Regularisers,
        "merge",
        "merge regulariser (layer, i, j, lambda): N·λ/2·‖v_i − v_j‖² on the incoming vectors of two neurons of a hidden layer (None: none)",
    ),
    (
        "loss_floor",
        Table::Certify,
        "loss_floor",
        "mean loss at or below which the end state is zero_loss",
    ),
    (
        "gnorm_tol",
        Table::Certify,
        "gnorm_tol",
        "gradient ∞-norm at or below which the end point is stationary (minimum or saddle)",
    ),
    (
        "eig_rel_tol",
        Table::Certify,
        "eig_rel_tol",
        "a stationary point is a minimum when λ_min ≥ −eig_rel_tol·λ_max",
    ),
    (
        "channel_cosine_distance",
        Table::Certify,
        "channel_cosine_distance",
        "largest cosine distance between the input vectors of a channel's neurons",
    ),
    (
        "channel_min_cancellation",
        Table::Certify,
        "channel_min_cancellation",
        "smallest cancellation Σ‖a_k‖ − ‖Σa_k‖ of a channel bundle's outgoing weights",
    ),
];

pub(crate) fn table_json(t: Table) -> serde_json::Value {
    let o = TrainOptions::default();
    match t {
        Table::Flow => serde_json::to_value(&o.flow),
        Table::Refine => serde_json::to_value(&o.refine),
        Table::Train => Ok(serde_json::json!({ "init": o.init, "on_channel": o.on_channel })),
        Table::Certify => serde_json::to_value(o.certify.unwrap_or_default()),
        Table::Regularisers => serde_json::to_value(&o.regularisers),
    }
    .unwrap_or_default()
}

/// The training options from keyword arguments (unknown names raise `TypeError`; values that
/// do not fit raise `ValueError` naming the option). `skip` lists keywords the caller handles.
pub(crate) fn train_options(
    kwargs: Option<&Bound<'_, PyDict>>,
    skip: &[String],
) -> PyResult<TrainOptions> {
    let mut flow = table_json(Table::Flow);
    let mut refine = table_json(Table::Refine);
    let mut certify = table_json(Table::Certify);
    let mut regularisers = table_json(Table::Regularisers);
    let defaults = TrainOptions::default();
    let (mut init, mut on_channel) = (defaults.init, defaults.on_channel);
    // The options given, to name the one a table's error comes from.
    let mut given: Vec<(String, Table, &'static str, serde_json::Value)> = Vec::new();
    if let Some(kw) = kwargs {
        for (k, v) in kw.iter() {
            let name: String = k.extract()?;
            if skip.contains(&name) {
                continue;
            }
            let Some(&(_, table, field, _)) = OPTIONS.iter().find(|o| o.0 == name) else {
                return Err(PyTypeError::new_err(format!(
                    "unknown option `{name}` (known: {})",
                    OPTIONS.iter().map(|o| o.0).collect::<Vec<_>>().join(", ")
                )));
            };
            let value = py_to_json(&name, &v)?;
            given.push((name.clone(), table, field, value.clone()));
            match table {
                Table::Flow => flow[field] = value,
                Table::Refine => refine[field] = value,
                Table::Certify => certify[field] = value,
                Table::Regularisers => regularisers[field] = value,
                Table::Train => {
                    let s: String = v
                        .extract()
                        .map_err(|_| value_err(format!("option {name}: expected a string")))?;
                    let bad = |e: gradflow::Error| value_err(format!("option {name}: {e}"));
                    if field == "on_channel" {
                        on_channel = s.parse::<OnChannel>().map_err(bad)?;
                    } else {
                        init = s.parse::<Init>().map_err(bad)?;
                    }
                }
            }
        }
    }
    // A table that does not deserialise: name the given option that breaks it alone.
    fn parse<T: serde::de::DeserializeOwned>(
        table: Table,
        json: serde_json::Value,
        what: &str,
        given: &[(String, Table, &'static str, serde_json::Value)],
    ) -> PyResult<T> {
        serde_json::from_value::<T>(json).map_err(|e| {
            for (name, t, field, value) in given.iter().filter(|g| g.1 == table) {
                let mut alone = table_json(*t);
                alone[*field] = value.clone();
                if let Err(e) = serde_json::from_value::<T>(alone) {
                    return value_err(format!("option {name}: {e}"));
                }
            }
            value_err(format!("option {what}: {e}"))
        })
    }
    let mut o = TrainOptions::default();
    o.flow = parse(Table::Flow, flow, "of the flow", &given)?;
    o.refine = parse(Table::Refine, refine, "of the refinement", &given)?;
    o.certify = Some(parse(
        Table::Certify,
        certify,
        "of the certificate",
        &given,
    )?);
    o.regularisers = parse(
        Table::Regularisers,
        regularisers,
        "of the regularisers",
        &given,
    )?;
    o.init = init;
    o.on_channel = on_channel;
    Ok(o)
}

/// Every training option with its default and help, for the docstrings (`help(gradflow.train)`).
#[pyfunction]
pub(crate) fn option_defaults(py: Python<'_>) -> PyResult<Bound<'_, PyList>> {
    let list = PyList::empty(py);
    for &(name, table, field, help) in OPTIONS {
        let default = table_json(table)[field].clone();
        list.append((name, json_to_py(py, &default)?, help))?;
    }
    Ok(list)
}
