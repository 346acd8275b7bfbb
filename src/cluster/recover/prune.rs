//! Pruning spare neurons of the recovered layer after fine-tuning
//! ([`RecoverOptions::prune_support`]; gradflow's addition to SPEC §8 step 4).
//!
//! The clustering keeps a cluster when its members come from `γN` students. Students that end
//! far above round-off need a permissive `γ` (real-data teachers: 0.5), and then spare neurons
//! of about half of the students may settle on shared directions and pass `γN` as well. Such a
//! neuron is not needed by the data: without it, the output layer refitted and the refiner run,
//! the network fits as well as before. A teacher neuron cannot be removed that way.

use std::time::Instant;

use super::RecoverOptions;
use super::output::refit_output;
use super::report::PruneTrial;
use crate::error::Result;
use crate::landscape::remove_neuron;
use crate::net::{Dataset, Loss, Network, Objective};
use crate::observe::Watch;
use crate::optim::refine_watched;

/// The network after pruning, with its loss and the trials made.
pub(super) struct Pruning {
    /// The pruned network.
    pub network: Network,
    /// Its mean loss.
    pub loss: f64,
    /// Its RMSE.
    pub rmse: Option<f64>,
    /// Every trial, in order.
    pub trials: Vec<PruneTrial>,
}

/// Where the pruning starts and what it is judged against.
pub(super) struct PruneStart<'a> {
    /// The fine-tuned network.
    pub network: &'a Network,
    /// Its mean loss.
    pub loss: f64,
    /// Its RMSE.
    pub rmse: Option<f64>,
    /// Distinct students behind each clustered neuron of the last hidden layer (the first
    /// `support.len()` neurons of that layer; the linear neurons after them are never tried).
    pub support: &'a [usize],
    /// Students used for the clustering (`N`).
    pub students: usize,
}

/// Tries to remove each clustered neuron of `start.network`'s last hidden layer whose support
/// is below `cfg.prune_support · N`, weakest support first (ties: smallest outgoing weights):
/// without it, the output layer refitted by least squares and `cfg.prune_time` seconds of
/// `cfg.refine`, the removal stands when the loss is at most `cfg.prune_loss_ratio` times the
/// fine-tuned loss. Stops trying when `watch` is cancelled.
pub(super) fn prune_spare(
    start: &PruneStart<'_>,
    data: &Dataset,
    cfg: &RecoverOptions,
    watch: &Watch,
) -> Result<Pruning> {
    let net = start.network;
    let layer = net.spec.depth() - 1;
    let threshold = cfg.prune_loss_ratio * start.loss;
    let mut done = Pruning {
        network: net.clone(),
        loss: start.loss,
        rmse: start.rmse,
        trials: Vec::new(),
    };
    // A non-finite fine-tuned loss (a diverged fine-tuning) can judge no removal.
    if !threshold.is_finite() {
        return Ok(done);
    }
    let limit = cfg.prune_support * start.students as f64;
    let layouts = net.spec.layouts();
    let out = &layouts[layouts.len() - 1];
    let norm = |i: usize| -> f64 {
        (0..out.rows)
            .map(|o| net.params[out.w(o, i)].powi(2))
            .sum::<f64>()
            .sqrt()
    };
    let mut order: Vec<usize> = (0..start.support.len())
        .filter(|&i| (start.support[i] as f64) < limit)
        .collect();
    order.sort_by(|&a, &b| {
        start.support[a]
            .cmp(&start.support[b])
            .then(norm(a).total_cmp(&norm(b)))
    });
    if !order.is_empty() {
        watch.message(&format!(
            "pruning: {} neuron(s) with members from fewer than {limit:.1} students are tried for removal (kept when the loss without them exceeds {threshold:.3e})",
            order.len()
        ));
    }
    // The original index of each neuron of the current last hidden layer.
    let mut index: Vec<usize> = (0..net.spec.width(layer)).collect();
    let quiet = Watch::silent().with_cancel(watch.cancel().clone());
    let mut refine = cfg.refine.clone();
    refine.maxtime_optim = cfg.prune_time;
    for i in order {
        // At least one clustered neuron stays (the linear neurons are not the layer).
        if watch.is_cancelled() || index.len() - (net.spec.width(layer) - start.support.len()) <= 1
        {
            break;
        }
        let t0 = Instant::now();
        let pos = index.iter().position(|&k| k == i).expect("untried neuron");
        let (spec, x) = remove_neuron(&done.network.spec, &done.network.params, layer, pos)?;
        // A trial that fails numerically (the least squares, the refiner) keeps the neuron.
        let outcome = refit_output(data, &cfg.activation, &Network::new(spec, x)?).and_then(|t| {
            let mut obj = Objective::new(&t.spec, data, Loss::Mse)?;
            let r = refine_watched(&mut obj, &t.params, &refine, &quiet)?;
            let sum = obj.loss(&r.x);
            Ok((t.spec, r, obj.rmse_of(sum)))
        });
        let (loss, note) = match &outcome {
            Ok((_, r, _)) => (r.outcome.loss, String::new()),
            Err(e) => (f64::NAN, format!(" ({e})")),
        };
        let removed = loss <= threshold;
        watch.message(&format!(
            "pruning: neuron {i} (members from {} students): loss without it {loss:.3e}{note} — {}",
            start.support[i],
            if removed { "removed" } else { "kept" }
        ));
        done.trials.push(PruneTrial {
            neuron: i,
            support: start.support[i],
            loss,
            threshold,
            removed,
            time: t0.elapsed().as_secs_f64(),
        });
        if removed && let Ok((spec, r, rmse)) = outcome {
            done.network = Network::new(spec, r.x)?;
            done.rmse = rmse;
            done.loss = loss;
            index.remove(pos);
        }
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::{Activation, LayerSpec, NetSpec};

    /// A 2-3-1 tanh teacher, and a "recovered" 2-4-1 network holding its three neurons plus a
    /// spare one with a small outgoing weight. Supports 8, 8, 4 (a teacher neuron) and 4 (the
    /// spare) of 8 students: both weak ones are tried, the spare first (smaller outgoing
    /// weight); it is removed (the data do not need it), the teacher neuron is kept.
    #[test]
    fn a_spare_neuron_is_pruned_and_a_weakly_supported_teacher_neuron_kept() {
        let w = [
            [1.0, -0.5, 0.2],
            [-0.3, 1.2, -0.1],
            [0.8, 0.9, 0.4],
            [0.6, -1.0, 0.3],
        ];
        let a = [1.5, -1.0, 2.0, 0.05];
        let mut s = crate::rng::Stream::new(5, 0);
        let n = 300;
        let x: Vec<f64> = (0..2 * n).map(|_| s.normal()).collect();
        let f = |i: usize, m: usize| -> f64 {
            (0..m)
                .map(|j| a[j] * (w[j][0] * x[2 * i] + w[j][1] * x[2 * i + 1] + w[j][2]).tanh())
                .sum()
        };
        let y: Vec<f64> = (0..n).map(|i| f(i, 3)).collect();
        let data = Dataset::from_row_major(&x, 2, &y, 1).unwrap();
        let spec = NetSpec::new(
            2,
            vec![
                LayerSpec::new(4, Activation::Tanh),
                LayerSpec::new(1, Activation::Identity),
            ],
        )
        .unwrap();
        let mut params: Vec<f64> = w.iter().flat_map(|r| r[..2].to_vec()).collect();
        params.extend(w.iter().map(|r| r[2]));
        params.extend(a);
        params.push(0.0);
        let net = Network::new(spec, params).unwrap();
        let mut obj = Objective::new(&net.spec, &data, Loss::Mse).unwrap();
        let loss = obj.loss(&net.params) * obj.mean_scale();
        assert!(loss > 1e-5, "{loss}");
        let cfg = RecoverOptions {
            activation: Activation::Tanh,
            prune_support: 0.75,
            prune_time: 1.0,
            ..RecoverOptions::default()
        };
        let start = PruneStart {
            network: &net,
            loss,
            rmse: None,
            support: &[8, 8, 4, 4],
            students: 8,
        };
        let p = prune_spare(&start, &data, &cfg, &Watch::silent()).unwrap();
        let tried: Vec<(usize, bool)> = p.trials.iter().map(|t| (t.neuron, t.removed)).collect();
        assert_eq!(tried, vec![(3, true), (2, false)], "{:?}", p.trials);
        assert_eq!(p.network.spec.shape_string(), "2-3-1");
        assert!(p.loss < 1e-20, "{}", p.loss);
        // Below the weakest support (4 of 8): nothing is tried.
        let cfg = RecoverOptions {
            prune_support: 0.5,
            ..cfg
        };
        assert!(
            prune_spare(&start, &data, &cfg, &Watch::silent())
                .unwrap()
                .trials
                .is_empty()
        );
    }
}
