//! Teachers trained on labelled data (the paper's MNIST, FashionMNIST and CIFAR-10 teachers):
//! a softmax classifier trained with the cross-entropy (the NLL of SPEC §3) by mini-batch Adam,
//! with early stopping on a held-out split.
//!
//! The queries of Expand-and-Cluster are then the teacher's logits (pre-softmax outputs, as in
//! the paper): [`logit_network`].

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::net::{Activation, Dataset, Init, LayerSpec, Loss, NetSpec, Network, Objective};
use crate::observe::Watch;
use crate::optim::adam::Adam;
use crate::rng::Stream;

/// Options of [`train_classifier`].
///
/// ```
/// use gradflow::teacher::ClassifierOptions;
/// let o = ClassifierOptions::default();
/// assert_eq!((o.epochs, o.batch_size, o.patience), (2000, 64, 50));
/// assert_eq!((o.lr, o.validation_fraction, o.seed), (1e-3, 0.2, 0));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct ClassifierOptions {
    /// Hidden widths (e.g. `[20]` for a 64-20-10 teacher on the digits).
    pub hidden: Vec<usize>,
    /// Hidden activation.
    pub activation: Activation,
    /// Largest number of epochs.
    pub epochs: usize,
    /// Mini-batch size (the data are reshuffled every epoch).
    pub batch_size: usize,
    /// Adam's learning rate.
    pub lr: f64,
    /// Fraction of the samples held out for early stopping (a seeded random split).
    pub validation_fraction: f64,
    /// Stop after this many epochs without a lower validation loss; the network of the best
    /// epoch is returned.
    pub patience: usize,
    /// Seed of the initial weights, the split and the shuffles.
    pub seed: u64,
    /// Initial weights.
    pub init: Init,
}

impl Default for ClassifierOptions {
    fn default() -> Self {
        ClassifierOptions {
            hidden: vec![20],
            activation: Activation::G,
            epochs: 2000,
            batch_size: 64,
            lr: 1e-3,
            validation_fraction: 0.2,
            patience: 50,
            seed: 0,
            init: Init::GlorotNormal,
        }
    }
}

/// Why teacher training stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ClassifierStop {
    /// `patience` epochs without a lower validation loss.
    EarlyStopping,
    /// The epoch budget.
    Epochs,
    /// The cancellation flag.
    Interrupted,
}

/// How a classifier was trained and how well it classifies.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ClassifierReport {
    /// Epochs run.
    pub epochs: usize,
    /// The epoch whose network is returned (lowest validation loss; 0 = the initial point).
    pub best_epoch: usize,
    /// Why training stopped.
    pub stop: ClassifierStop,
    /// Mean cross-entropy on the training split at the best epoch.
    pub train_loss: f64,
    /// Mean cross-entropy on the held-out split at the best epoch.
    pub validation_loss: f64,
    /// Fraction of the training split classified correctly.
    pub train_accuracy: f64,
    /// Fraction of the held-out split classified correctly.
    pub validation_accuracy: f64,
    /// Samples in the training and held-out splits.
    pub split: (usize, usize),
    /// Wall time (s).
    pub time: f64,
}

/// The architecture of a classifier for `data`: `hidden` layers, a softmax output over the
/// data's classes.
fn classifier_spec(data: &Dataset, o: &ClassifierOptions) -> Result<NetSpec> {
    if o.hidden.is_empty() || o.hidden.contains(&0) {
        return Err(Error::invalid("hidden", "give positive hidden widths"));
    }
    if o.activation.is_softmax() {
        return Err(Error::invalid(
            "activation",
            "softmax is not a hidden activation",
        ));
    }
    if data.output_dim() < 2 {
        return Err(Error::invalid(
            "data",
            "a classifier needs labels of at least 2 classes (one-hot targets)",
        ));
    }
    let mut layers: Vec<LayerSpec> = o
        .hidden
        .iter()
        .map(|&w| LayerSpec::new(w, o.activation.clone()))
        .collect();
    layers.push(LayerSpec::new(data.output_dim(), Activation::Softmax));
    NetSpec::new(data.input_dim(), layers)
}

fn check(o: &ClassifierOptions, n: usize) -> Result<usize> {
    if !(o.lr > 0.0 && o.lr.is_finite()) {
        return Err(Error::invalid("lr", "must be positive"));
    }
    if o.batch_size == 0 {
        return Err(Error::invalid("batch_size", "must be at least 1"));
    }
    if !(0.0..1.0).contains(&o.validation_fraction) {
        return Err(Error::invalid("validation_fraction", "must lie in [0, 1)"));
    }
    let held = (o.validation_fraction * n as f64).round() as usize;
    if o.validation_fraction > 0.0 && (held == 0 || held >= n) {
        return Err(Error::invalid(
            "validation_fraction",
            format!("leaves {held} of {n} samples for validation"),
        ));
    }
    Ok(held)
}

/// Mean loss and accuracy of `params` on `data`.
fn score(spec: &NetSpec, data: &Dataset, params: &[f64]) -> Result<(f64, f64)> {
    let mut obj = Objective::new(spec, data, Loss::Nll)?;
    let loss = obj.loss(params) * obj.mean_scale();
    let p = obj.predict(params);
    let (k, y) = (data.output_dim(), data.y());
    let argmax = |row: &mut dyn Iterator<Item = f64>| {
        row.enumerate()
            .fold(
                (0, f64::NEG_INFINITY),
                |b, (i, v)| if v > b.1 { (i, v) } else { b },
            )
            .0
    };
    let correct = (0..data.n_samples())
        .filter(|&i| {
            argmax(&mut p[i * k..(i + 1) * k].iter().copied())
                == argmax(&mut (0..k).map(|o| y[(i, o)]))
        })
        .count();
    Ok((loss, correct as f64 / data.n_samples() as f64))
}

/// Trains a softmax classifier on `data` (inputs and one-hot targets, e.g. from
/// [`Dataset::from_labels`] or an IDX/CIFAR file): mini-batch Adam on the cross-entropy,
/// early stopping on a held-out split (the best epoch's network is returned). Cancelling
/// `watch` ends training at the best epoch so far.
///
/// ```
/// use gradflow::net::Dataset;
/// use gradflow::observe::Watch;
/// use gradflow::teacher::{ClassifierOptions, train_classifier};
/// // Two separable classes on a line.
/// let x: Vec<f64> = (0..40).map(|i| i as f64 / 20.0 - 1.0).collect();
/// let labels: Vec<usize> = x.iter().map(|&v| usize::from(v > 0.0)).collect();
/// let data = Dataset::from_labels(&x, 1, &labels, 2)?;
/// let mut o = ClassifierOptions::default();
/// o.hidden = vec![4];
/// o.epochs = 300;
/// o.lr = 0.05;
/// let (net, report) = train_classifier(&data, &o, &Watch::silent())?;
/// assert_eq!(net.spec.shape_string(), "1-4-2");
/// assert!(report.train_accuracy > 0.9, "{report:?}");
/// # Ok::<(), gradflow::Error>(())
/// ```
pub fn train_classifier(
    data: &Dataset,
    o: &ClassifierOptions,
    watch: &Watch,
) -> Result<(Network, ClassifierReport)> {
    let start = std::time::Instant::now();
    let spec = classifier_spec(data, o)?;
    let n = data.n_samples();
    let held = check(o, n)?;
    let mut rng = Stream::new(o.seed, 11);
    let order = rng.permutation(n);
    let (val_rows, train_rows) = order.split_at(held);
    let train = data.select(train_rows)?;
    let val = if held > 0 {
        Some(data.select(val_rows)?)
    } else {
        None
    };
    let mut x = o.init.draw(&spec, &mut Stream::new(o.seed, 0));
    let mut best = x.clone();
    let monitor_loss = |params: &[f64]| -> Result<f64> {
        let d = val.as_ref().unwrap_or(&train);
        Ok(score(&spec, d, params)?.0)
    };
    let mut best_loss = monitor_loss(&x)?;
    let (mut best_epoch, mut stale, mut epochs) = (0, 0, 0);
    let mut adam = Adam::new(x.len());
    let mut g = vec![0.0; x.len()];
    let ntrain = train.n_samples();
    let batch = o.batch_size.min(ntrain);
    let stop = loop {
        if epochs >= o.epochs {
            break ClassifierStop::Epochs;
        }
        if watch.is_cancelled() {
            break ClassifierStop::Interrupted;
        }
        let shuffled = train.select(&rng.permutation(ntrain))?;
        let mut obj = Objective::new(&spec, &shuffled, Loss::Nll)?;
        let mut i0 = 0;
        while i0 < ntrain && !watch.is_cancelled() {
            let end = (i0 + batch).min(ntrain);
            obj.gradient_rows_into(&x, &mut g, i0..end);
            let s = 1.0 / (end - i0) as f64;
            g.iter_mut().for_each(|v| *v *= s);
            adam.step(&mut x, &g, |_| o.lr);
            i0 = end;
        }
        if watch.is_cancelled() {
            // Within an epoch: the best point of the finished epochs stands.
            break ClassifierStop::Interrupted;
        }
        epochs += 1;
        if !x.iter().all(|v| v.is_finite()) {
            return Err(Error::Numerical {
                routine: "teacher training".into(),
                reason: format!("non-finite weights at epoch {epochs}; lower the learning rate"),
            });
        }
        let l = monitor_loss(&x)?;
        if l < best_loss {
            (best_loss, best_epoch, stale) = (l, epochs, 0);
            best.copy_from_slice(&x);
        } else {
            stale += 1;
            if stale >= o.patience {
                break ClassifierStop::EarlyStopping;
            }
        }
        if epochs % 50 == 0 {
            let which = if val.is_some() {
                "held-out"
            } else {
                "training"
            };
            watch.message(&format!(
                "epoch {epochs}: {which} loss {l:.4e} (best {best_loss:.4e} at epoch {best_epoch})"
            ));
        }
    };
    let (train_loss, train_accuracy) = score(&spec, &train, &best)?;
    let (validation_loss, validation_accuracy) = match &val {
        Some(v) => score(&spec, v, &best)?,
        None => (f64::NAN, f64::NAN),
    };
    let report = ClassifierReport {
        epochs,
        best_epoch,
        stop,
        train_loss,
        validation_loss,
        train_accuracy,
        validation_accuracy,
        split: (ntrain, held),
        time: start.elapsed().as_secs_f64(),
    };
    Ok((Network::new(spec, best)?, report))
}

/// The network of a classifier's logits: the same weights with the softmax output layer
/// replaced by the identity (the paper's queries). Other networks are returned unchanged.
pub fn logit_network(net: &Network) -> Network {
    let mut out = net.clone();
    if let Some(last) = out.spec.layers.last_mut()
        && last.activation.is_softmax()
    {
        *last = LayerSpec::new(last.width, Activation::Identity);
    }
    out
}
