//! The gradient-flow ODE `dθ/dt = −τ ∇L_sum(θ)` as a diffsol equations type whose Jacobian
//! `−τ H_sum(θ)` is the analytic Hessian written straight into the matrix (never assembled from
//! Jacobian-vector products).
//!
//! Every right-hand-side and Jacobian evaluation is recorded in the phase's [`Monitor`], so the
//! best point ever evaluated is kept.

use std::cell::RefCell;

use diffsol::{
    ConstantOp, FaerContext, FaerMat, FaerVec, NonLinearOp, NonLinearOpJacobian, OdeEquations,
    OdeEquationsRef, Op, ParameterisedOp, UnitCallable, Vector,
};

use crate::monitor::{Monitor, inf_norm};
use crate::net::Objective;

/// Matrix type of the flow.
pub(crate) type M = FaerMat<f64>;
/// Vector type of the flow.
pub(crate) type V = FaerVec<f64>;

/// Mutable evaluation state behind the (immutable) diffsol operator interface.
pub(crate) struct FlowState<'d> {
    pub obj: Objective<'d>,
    pub monitor: Monitor,
    x: Vec<f64>,
    grad: Vec<f64>,
    hess: Vec<f64>,
    /// Parameters at which `hess` was computed (valid when `hess_valid`).
    hess_at: Vec<f64>,
    hess_valid: bool,
    /// Testing hook (set only by unit tests): after this many right-hand-side evaluations,
    /// return NaN.
    pub poison_after: Option<usize>,
    rhs_evals: usize,
}

/// The gradient-flow equations.
pub(crate) struct FlowEquations<'d> {
    pub state: RefCell<FlowState<'d>>,
    /// The time scale of each parameter.
    tau: Vec<f64>,
    scale: f64,
    x0: Vec<f64>,
    ctx: FaerContext,
    p: V,
}

impl<'d> FlowEquations<'d> {
    pub fn new(obj: Objective<'d>, monitor: Monitor, x0: &[f64], tau: Vec<f64>) -> Self {
        let n = x0.len();
        let scale = obj.mean_scale();
        let ctx = FaerContext::default();
        FlowEquations {
            state: RefCell::new(FlowState {
                obj,
                monitor,
                x: vec![0.0; n],
                grad: vec![0.0; n],
                // Allocated at the first Hessian: explicit methods never need it.
                hess: Vec::new(),
                hess_at: vec![0.0; n],
                hess_valid: false,
                poison_after: None,
                rhs_evals: 0,
            }),
            tau,
            scale,
            x0: x0.to_vec(),
            p: V::from_vec(Vec::new(), ctx),
            ctx,
        }
    }

    /// Takes the objective and monitor back.
    pub fn into_state(self) -> FlowState<'d> {
        self.state.into_inner()
    }
}

impl FlowState<'_> {
    fn load_x(&mut self, x: &V) {
        for (i, xi) in self.x.iter_mut().enumerate() {
            *xi = x[i];
        }
    }

    /// Computes the Hessian at the loaded `x` unless it is cached; records the evaluation.
    fn ensure_hessian(&mut self, scale: f64) {
        if self.hess_valid && self.hess_at == self.x {
            return;
        }
        let n = self.x.len();
        self.hess.resize(n * n, 0.0);
        let loss = self
            .obj
            .hessian_into(&self.x, &mut self.grad, &mut self.hess);
        let gnorm = inf_norm(&self.grad) * scale;
        self.monitor.record(&self.x, loss * scale, gnorm);
        self.monitor.record_hessian();
        self.hess_at.copy_from_slice(&self.x);
        self.hess_valid = true;
    }
}

/// The right-hand side `−τ∇L_sum`.
pub(crate) struct FlowRhs<'a, 'd> {
    eqn: &'a FlowEquations<'d>,
}

/// The initial condition.
pub(crate) struct FlowInit<'a, 'd> {
    eqn: &'a FlowEquations<'d>,
}

macro_rules! flow_op {
    ($name:ident) => {
        impl Op for $name<'_, '_> {
            type T = f64;
            type V = V;
            type M = M;
            type C = FaerContext;
            fn nstates(&self) -> usize {
                self.eqn.x0.len()
            }
            fn nout(&self) -> usize {
                self.eqn.x0.len()
            }
            fn nparams(&self) -> usize {
                0
            }
            fn context(&self) -> &FaerContext {
                &self.eqn.ctx
            }
        }
    };
}

flow_op!(FlowRhs);
flow_op!(FlowInit);

impl NonLinearOp for FlowRhs<'_, '_> {
    fn call_inplace(&self, x: &V, _t: f64, y: &mut V) {
        let eqn = self.eqn;
        let mut st = eqn.state.borrow_mut();
        let st = &mut *st;
        st.load_x(x);
        st.rhs_evals += 1;
        if st.monitor.watch().is_cancelled() {
            // Cancelled: the equations freeze (zero right-hand side and Jacobian), so the
            // step in progress completes without further work and the stop rule ends the run
            // at the best point evaluated so far.
            y.fill(0.0);
            return;
        }
        let poisoned = st.poison_after.is_some_and(|k| st.rhs_evals > k);
        let loss = st.obj.gradient_into(&st.x, &mut st.grad);
        let gnorm = inf_norm(&st.grad) * eqn.scale;
        if poisoned {
            st.grad.fill(f64::NAN);
        } else {
            st.monitor.record(&st.x, loss * eqn.scale, gnorm);
        }
        for (i, g) in st.grad.iter().enumerate() {
            y[i] = -eqn.tau[i] * g;
        }
    }
}

impl<'d> FlowRhs<'_, 'd> {
    /// The evaluation state with the Hessian at `x` computed (or cached).
    fn hessian_at(&self, x: &V) -> std::cell::RefMut<'_, FlowState<'d>> {
        let mut st = self.eqn.state.borrow_mut();
        st.load_x(x);
        if st.monitor.watch().is_cancelled() {
            // Frozen (see `call_inplace`): a zero Jacobian, without computing the Hessian.
            let n = st.x.len();
            st.hess.resize(n * n, 0.0);
            st.hess.fill(0.0);
            st.hess_valid = false;
            return st;
        }
        st.ensure_hessian(self.eqn.scale);
        st
    }
}

impl NonLinearOpJacobian for FlowRhs<'_, '_> {
    fn jac_mul_inplace(&self, x: &V, _t: f64, v: &V, y: &mut V) {
        let eqn = self.eqn;
        let st = self.hessian_at(x);
        let n = eqn.x0.len();
        for i in 0..n {
            let row = &st.hess[i * n..(i + 1) * n];
            let s: f64 = (0..n).map(|j| row[j] * v[j]).sum();
            y[i] = -eqn.tau[i] * s;
        }
    }

    fn jacobian_inplace(&self, x: &V, _t: f64, y: &mut M) {
        let eqn = self.eqn;
        let st = self.hessian_at(x);
        let n = eqn.x0.len();
        for i in 0..n {
            for j in 0..n {
                y[(i, j)] = -eqn.tau[i] * st.hess[i * n + j];
            }
        }
    }
}

impl ConstantOp for FlowInit<'_, '_> {
    fn call_inplace(&self, _t: f64, y: &mut V) {
        for (i, v) in self.eqn.x0.iter().enumerate() {
            y[i] = *v;
        }
    }
}

impl Op for FlowEquations<'_> {
    type T = f64;
    type V = V;
    type M = M;
    type C = FaerContext;
    fn nstates(&self) -> usize {
        self.x0.len()
    }
    fn nout(&self) -> usize {
        self.x0.len()
    }
    fn nparams(&self) -> usize {
        0
    }
    fn context(&self) -> &FaerContext {
        &self.ctx
    }
}

impl<'a, 'd> OdeEquationsRef<'a> for FlowEquations<'d> {
    type Rhs = FlowRhs<'a, 'd>;
    type Init = FlowInit<'a, 'd>;
    type Mass = ParameterisedOp<'a, UnitCallable<M>>;
    type Root = ParameterisedOp<'a, UnitCallable<M>>;
    type Out = ParameterisedOp<'a, UnitCallable<M>>;
    type Reset = ParameterisedOp<'a, UnitCallable<M>>;
}

impl<'d> OdeEquations for FlowEquations<'d> {
    fn rhs(&self) -> FlowRhs<'_, 'd> {
        FlowRhs { eqn: self }
    }
    fn init(&self) -> FlowInit<'_, 'd> {
        FlowInit { eqn: self }
    }
    fn mass(&self) -> Option<<Self as OdeEquationsRef<'_>>::Mass> {
        None
    }
    fn out(&self) -> Option<<Self as OdeEquationsRef<'_>>::Out> {
        None
    }
    fn root(&self) -> Option<<Self as OdeEquationsRef<'_>>::Root> {
        None
    }
    fn set_params(&mut self, _p: &V) {}
    fn get_params(&self, _p: &mut V) {
        let _ = &self.p;
    }
}
