//! The mean loss of an [`Objective`] as an [argmin] problem.
//!
//! [`MeanLoss`] implements argmin's [`CostFunction`], [`Gradient`] and [`Hessian`] on
//! argmin-math's `vec` backend (`Vec<f64>` parameters and gradients, `Vec<Vec<f64>>` Hessians),
//! so any argmin solver runs on a gradflow network — see the crate docs for argmin's own L-BFGS
//! on a teacher–student problem. Every evaluation, including those inside line searches and
//! rejected trust-region steps, goes through the phase's [`Monitor`]: the best point ever
//! evaluated is kept ([`MeanLoss::best`]) and the stop rules see every evaluation.

use std::cell::RefCell;

use argmin::core::{CostFunction, Gradient, Hessian};

use crate::monitor::{Counters, Limits, Monitor, eval_gradient, eval_loss, inf_norm};
use crate::net::Objective;

/// The mean loss (SPEC §3) of an objective, its gradient and its Hessian, for argmin.
///
/// ```
/// use argmin::core::{CostFunction, Gradient};
/// use gradflow::optim::MeanLoss;
/// use gradflow::reference::Problem;
///
/// let p = Problem::demo(0).unwrap();
/// let mut obj = p.objective();
/// let x = p.start.clone();
/// let f = MeanLoss::new(&mut obj);
/// let (loss, g) = (f.cost(&x).unwrap(), f.gradient(&x).unwrap());
/// assert!(loss > 0.0 && g.len() == x.len());
/// assert_eq!(f.best().1, loss); // the lowest loss evaluated so far
/// ```
pub struct MeanLoss<'a, 'o: 'a> {
    obj: RefCell<&'a mut Objective<'o>>,
    monitor: RefCell<Monitor>,
}

impl<'a, 'o> MeanLoss<'a, 'o> {
    /// The mean loss of `obj`, tracking the best point evaluated (no stop rules).
    pub fn new(obj: &'a mut Objective<'o>) -> Self {
        let limits = Limits {
            minloss: f64::NEG_INFINITY,
            min_gnorm: f64::NEG_INFINITY,
            patience: usize::MAX,
            maxtime: f64::INFINITY,
            maxiterations: usize::MAX,
            max_t: f64::INFINITY,
        };
        let x0 = vec![f64::NAN; obj.n_params()];
        let monitor = Monitor::new(limits, &x0, 2, 1.0, 10.0, false);
        Self::with_monitor(obj, monitor)
    }

    /// The mean loss of `obj`, recording into `monitor` (a refinement phase).
    pub(crate) fn with_monitor(obj: &'a mut Objective<'o>, monitor: Monitor) -> Self {
        MeanLoss {
            obj: RefCell::new(obj),
            monitor: RefCell::new(monitor),
        }
    }

    /// The best point evaluated so far and its mean loss (`+∞` before any evaluation).
    pub fn best(&self) -> (Vec<f64>, f64) {
        let m = self.monitor.borrow();
        (m.best_x.clone(), m.best_loss)
    }

    /// Evaluations so far.
    pub fn counters(&self) -> Counters {
        self.monitor.borrow().counters
    }

    /// The objective and the monitor, for gradflow's own solvers (no run-time borrow checks).
    pub(crate) fn parts(&mut self) -> (&mut Objective<'o>, &mut Monitor) {
        (&mut **self.obj.get_mut(), self.monitor.get_mut())
    }

    /// The monitor, with everything it recorded.
    pub(crate) fn into_monitor(self) -> Monitor {
        self.monitor.into_inner()
    }

    fn check(&self, x: &[f64]) -> Result<(), argmin::core::Error> {
        Ok(self.obj.borrow().spec().check_params(x)?)
    }
}

impl CostFunction for MeanLoss<'_, '_> {
    type Param = Vec<f64>;
    type Output = f64;

    fn cost(&self, x: &Vec<f64>) -> Result<f64, argmin::core::Error> {
        self.check(x)?;
        Ok(eval_loss(
            &mut self.obj.borrow_mut(),
            &mut self.monitor.borrow_mut(),
            x,
        ))
    }
}

impl Gradient for MeanLoss<'_, '_> {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;

    fn gradient(&self, x: &Vec<f64>) -> Result<Vec<f64>, argmin::core::Error> {
        self.check(x)?;
        let mut g = vec![0.0; x.len()];
        eval_gradient(
            &mut self.obj.borrow_mut(),
            &mut self.monitor.borrow_mut(),
            x,
            &mut g,
        );
        Ok(g)
    }
}

impl Hessian for MeanLoss<'_, '_> {
    type Param = Vec<f64>;
    type Hessian = Vec<Vec<f64>>;

    /// The exact Hessian of the mean loss, as rows.
    fn hessian(&self, x: &Vec<f64>) -> Result<Vec<Vec<f64>>, argmin::core::Error> {
        self.check(x)?;
        let n = x.len();
        let (mut g, mut h) = (vec![0.0; n], vec![0.0; n * n]);
        let mut obj = self.obj.borrow_mut();
        let scale = obj.mean_scale();
        let loss = obj.hessian_into(x, &mut g, &mut h) * scale;
        g.iter_mut().for_each(|v| *v *= scale);
        let mut monitor = self.monitor.borrow_mut();
        monitor.record(x, loss, inf_norm(&g));
        monitor.record_hessian();
        Ok(h.chunks(n)
            .map(|row| row.iter().map(|v| v * scale).collect())
            .collect())
    }
}
