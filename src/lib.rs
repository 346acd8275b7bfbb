//! # gradflow
//!
//! Train small multi-layer perceptrons to machine precision and recover unknown networks from
//! their input–output behaviour (Expand-and-Cluster; Martinelli, Şimşek, Gerstner & Brea,
//! ICML 2024). The behaviour is specified in the project's `SPEC.md`.
//!
//! ## A tour: teacher → data → loss, gradient, Hessian
//!
//! A paper teacher (SPEC §7) is a network with a known zero-loss point on its own data:
//!
//! ```
//! use gradflow::net::{Activation, Init, Loss, NetSpec, Objective, symmetric_eigenvalues};
//! use gradflow::teacher::{InputDistribution, TeacherConfig, paper_seed, sample_data};
//!
//! // The first d = 4, r = 4 teacher of the paper family (activation g).
//! let teacher = TeacherConfig::paper(4, 4, paper_seed(4, 4, 0)).build()?;
//! // 2 000 samples from the teacher's seeded data stream.
//! let data = sample_data(&teacher, 2_000, InputDistribution::Uniform, paper_seed(4, 4, 0))?;
//!
//! // A student twice as wide, at its Glorot initialisation.
//! let student = NetSpec::shallow(4, 8, Activation::G, 1);
//! let theta = Init::GlorotNormal.draw_seeded(&student, 1);
//!
//! // The objective owns its buffers: `*_into` calls allocate nothing.
//! let mut obj = Objective::new(&student, &data, Loss::Mse)?;
//! let p = student.n_params();
//! let (mut grad, mut hess) = (vec![0.0; p], vec![0.0; p * p]);
//! let loss_sum = obj.hessian_into(&theta, &mut grad, &mut hess);
//! let mean_loss = loss_sum * obj.mean_scale(); // reported loss: L_sum / N
//! assert!(mean_loss > 0.0);
//!
//! // At the teacher's own parameters the loss is zero and the Hessian is positive semidefinite.
//! let mut at_teacher = Objective::new(&teacher.spec, &data, Loss::Mse)?;
//! let (l, _g, h) = at_teacher.hessian(&teacher.params);
//! assert!(l < 1e-28);
//! let spectrum = symmetric_eigenvalues(&h, teacher.spec.n_params())?;
//! assert!(spectrum[0] > -1e-9);
//! # Ok::<(), gradflow::Error>(())
//! ```
//!
//! ## Training: gradient flow, then refinement
//!
//! [`train::train`] (one run) and [`train::train_seeds`] (many seeds in parallel) run phase 1 (the gradient-flow ODE, [`flow`]) and phase 2 (second-order
//! refinement, [`optim`]) and returns the run record of SPEC §6:
//!
//! ```
//! use gradflow::net::{Activation, Init, NetSpec};
//! use gradflow::observe::Watch;
//! use gradflow::teacher::{InputDistribution, TeacherConfig, sample_data};
//! use gradflow::train::{TrainOptions, TrainProblem, train};
//!
//! let teacher = TeacherConfig::paper(2, 2, 3).build()?;
//! let data = sample_data(&teacher, 300, InputDistribution::Uniform, 3)?;
//! let student = NetSpec::shallow(2, 4, Activation::G, 1);
//! let x0 = Init::GlorotNormal.draw_seeded(&student, 0);
//! let mut opts = TrainOptions::default();
//! opts.flow.maxtime_ode = 0.5;
//! opts.refine.maxtime_optim = 0.5;
//! // `Watch::new(observer)` reports every step; `.with_cancel(flag)` makes the call stoppable.
//! let run = train(&TrainProblem::new(&student, &data), &x0, &opts, &Watch::silent())?;
//! assert!(run.loss <= run.ode_loss); // refinement starts at the flow's best point
//! # Ok::<(), gradflow::Error>(())
//! ```
//!
//! ## What did the run end at? Certificates, channels, regularisers, slices
//!
//! Every record carries an end-state certificate ([`landscape::certify`]): `zero_loss`,
//! `minimum` or `saddle` (by the recomputed gradient and the Hessian's extreme eigenvalues),
//! `channel` (a channel to infinity: near-parallel neurons with diverging, cancelling outgoing
//! weights, the norm growing and the loss a power law of time; Martinelli et al. 2025),
//! `stationary` (a vanishing gradient whose spectrum was not computed: too many parameters, a
//! failed eigendecomposition or an interrupted run) or
//! `unconverged`. `TrainOptions::on_channel` can stop such runs or jump along the channel;
//! [`net::Regularisers`] add the `maxnorm` barrier or the `merge` pair term to the objective:
//!
//! ```
//! use gradflow::flow::Integrator;
//! use gradflow::landscape::{EndKind, OnChannel};
//! use gradflow::observe::Watch;
//! use gradflow::reference::Problem;
//! use gradflow::train::{TrainOptions, TrainProblem, train};
//!
//! // A pair of neurons one step from a channel with a known limit.
//! let p = Problem::channel(0.2)?;
//! let mut opts = TrainOptions::default();
//! opts.flow.integrator = Some(Integrator::Rodas5P);
//! opts.flow.maxtime_ode = 1.0;
//! opts.refine.maxtime_optim = 0.5;
//! let problem = TrainProblem::new(&p.student, &p.data);
//! let run = train(&problem, &p.start, &opts, &Watch::silent())?;
//! let end = run.end_state.as_ref().unwrap();
//! println!("{}", end.summary()); // e.g. "channel: layer 1 neurons 0,1 (cosine distance …"
//! // Jump along it at the flow's end (the pair nearer its limit), then refine.
//! opts.on_channel = OnChannel::Jump;
//! let jumped = train(&problem, &p.start, &opts, &Watch::silent())?;
//! assert!(jumped.channel_jump.is_some() || end.kind != EndKind::Channel);
//! # Ok::<(), gradflow::Error>(())
//! ```
//!
//! [`landscape`] also has neuron surgery (`split_neuron`, `add_neuron`, `remove_neuron`,
//! `prune`, `embed_teacher`), `trajectory_distance` and 2-D loss slices ([`landscape::loss_slice`],
//! optionally minimised over the plane's complement; `gradflow landscape` draws them).
//!
//! ## Your own optimiser: argmin on a gradflow objective
//!
//! The refiners of [`optim`] are [argmin](https://docs.rs/argmin) solvers run by argmin's
//! `Executor`, on [`optim::MeanLoss`]: the mean loss with its exact gradient and Hessian as
//! argmin's `CostFunction`, `Gradient` and `Hessian` (argmin-math's `vec` backend). Any argmin
//! solver runs on it — here argmin's own L-BFGS with its Moré–Thuente line search, from the
//! point a short gradient flow reached. `MeanLoss` keeps the best point ever evaluated:
//!
//! ```
//! use argmin::core::{Executor, State};
//! use argmin::solver::{linesearch::MoreThuenteLineSearch, quasinewton::LBFGS};
//! use gradflow::optim::MeanLoss;
//! use gradflow::reference::Problem;
//!
//! let p = Problem::demo(0)?;
//! let mut obj = p.objective();
//! let solver = LBFGS::new(MoreThuenteLineSearch::new(), 10)
//!     .with_tolerance_grad(0.0)?
//!     .with_tolerance_cost(0.0)?;
//! let res = Executor::new(MeanLoss::new(&mut obj), solver)
//!     .configure(|s| s.param(p.start.clone()).max_iters(50))
//!     .run()?;
//! let start_loss = p.objective().loss(&p.start) * p.objective().mean_scale();
//! assert!(res.state.get_best_cost() < start_loss);
//! let (best_x, best_loss) = res.problem.problem.as_ref().unwrap().best();
//! assert!(best_loss <= res.state.get_best_cost() && best_x.len() == p.start.len());
//! # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
//! ```
//!
//! ## Expand-and-Cluster
//!
//! Students at zero loss hold copies of the teacher's neurons (up to the activation's
//! symmetries, duplicated, mixed with neurons that carry nothing). [`cluster::cluster_layer`]
//! finds them; [`cluster::recover()`] is the whole pipeline behind `gradflow recover`, from a
//! [`net::Dataset`] in memory ([`cluster::write_recovery`] writes its folder).
//!
//! ```
//! use gradflow::cluster::{ClusterConfig, StudentLayer, cluster_layer, layer_neurons};
//! use gradflow::net::Network;
//! use gradflow::teacher::TeacherConfig;
//!
//! let mut tc = TeacherConfig::paper(3, 2, 5);
//! tc.activation = gradflow::net::Activation::Tanh;
//! let teacher = tc.build()?;
//! let neurons = layer_neurons(&teacher, 0)?;
//! // Five "students": the teacher's neurons, the second one sign-flipped (tanh is odd) in
//! // odd-numbered students, plus one student-specific useless neuron.
//! let students: Vec<StudentLayer> = (0..5)
//!     .map(|i| {
//!         let mut ns = neurons.clone();
//!         if i % 2 == 1 {
//!             ns[1].incoming.iter_mut().for_each(|v| *v = -*v);
//!             ns[1].outgoing.iter_mut().for_each(|v| *v = -*v);
//!         }
//!         ns.push(gradflow::cluster::Neuron {
//!             incoming: vec![i as f64, -(i as f64), 0.5, 0.1],
//!             outgoing: vec![0.0],
//!         });
//!         StudentLayer { id: i, loss: 1e-30, neurons: ns }
//!     })
//!     .collect();
//! let layer = cluster_layer(&students, teacher.spec.layers[0].activation.symmetry(), true,
//!     &ClusterConfig::default())?;
//! assert_eq!(layer.neurons().len(), 2); // the two teacher neurons, in canonical form
//! # Ok::<(), gradflow::Error>(())
//! ```
//!
//! ## Real data: a trained teacher, its logits, uninformative inputs
//!
//! The paper's MNIST teachers are classifiers: [`teacher::train_classifier`] trains one
//! (softmax output, cross-entropy, mini-batch Adam, early stopping), [`teacher::logit_network`]
//! gives the pre-softmax outputs Expand-and-Cluster is run on, and inputs that do not vary over
//! the queries ([`cluster::uninformative_inputs`]) are left out of the clustering. Files in IDX
//! (MNIST) and CIFAR-10 formats are read by [`io::read_data`].
//!
//! ```
//! use gradflow::cluster::uninformative_inputs;
//! use gradflow::net::Dataset;
//! use gradflow::observe::Watch;
//! use gradflow::teacher::{ClassifierOptions, logit_network, train_classifier};
//! // Two classes on a line, and a second input that is always 1 (a "corner pixel").
//! let x: Vec<f64> = (0..60).flat_map(|i| [i as f64 / 30.0 - 1.0, 1.0]).collect();
//! let labels: Vec<usize> = (0..60).map(|i| usize::from(i >= 30)).collect();
//! let data = Dataset::from_labels(&x, 2, &labels, 2)?;
//! let mut o = ClassifierOptions::default();
//! (o.hidden, o.lr, o.epochs) = (vec![3], 0.05, 200);
//! let (classifier, report) = train_classifier(&data, &o, &Watch::silent())?;
//! assert!(report.train_accuracy > 0.9);
//! let logits = logit_network(&classifier); // the same weights, identity output layer
//! let queries = Dataset::from_row_major(&x, 2, &logits.predict(&x)?, 2)?;
//! assert_eq!(uninformative_inputs(&queries, 1e-2), vec![1]);
//! # Ok::<(), gradflow::Error>(())
//! ```
//!
//! ## Benchmarking optimisers: a methods axis, time to target, profiles
//!
//! A study with [`study::StudyConfig::methods`] runs every named pipeline on every (teacher,
//! ρ, seed) from the same initial point; every run record carries its progress curve
//! ([`train::RunRecord::progress`]), from which [`report::benchmark`] reads times to target and
//! draws Dolan–Moré performance profiles and Moré–Wild data profiles (`gradflow report` writes
//! them for such a study, with other tools' runs as [`study::results::PeerRecord`]s).
//!
//! ```
//! use gradflow::observe::Watch;
//! use gradflow::report::benchmark::{Benchmark, Target, performance_profile, wall_costs};
//! use gradflow::study::{Shard, StudyConfig, read_results, run_study};
//! let cfg: StudyConfig = toml::from_str(r#"
//!     rhos = [2]
//!     students = 2
//!     samples = 200
//!     [family]
//!     dims = [2]
//!     widths = [2]
//!     teachers = 1
//!     [flow]
//!     maxiterations_ode = 30
//!     [refine]
//!     maxiterations_optim = 20
//!     [[methods]]
//!     name = "rodas5p+newton-tr"
//!     [[methods]]
//!     name = "newton-tr"
//!     ode = "none"
//!     optim = "newton-tr"
//! "#)?;
//! let dir = std::env::temp_dir().join(format!("gradflow-doc-bench-{}", std::process::id()));
//! run_study(&cfg, &dir, Shard::ALL, Some(1), &Watch::silent())?;
//! let b = Benchmark::of(&read_results(&[dir.clone()])?).expect("two methods");
//! assert_eq!((b.methods.len(), b.problems.len()), (2, 2));
//! // ρ_s(τ): the fraction of problems each method solves within τ × the fastest time.
//! let profiles = performance_profile(&wall_costs(&b.hits(Target::TimesBest(10.0))));
//! assert!(profiles.iter().any(|p| p.at(1.0) > 0.0));
//! std::fs::remove_dir_all(&dir).ok();
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Modules
//!
//! - [`net`]: activations, architectures and the flat layout, data, losses, the [`net::Objective`].
//! - [`teacher`]: the paper's teachers, classifiers trained on data, and data sampling.
//! - [`io`]: network and data files (`.npz`, `.npy`, CSV, IDX, CIFAR-10), atomic writes.
//! - [`eval`]: loss, gradient, Hessian and spectrum of a network on data.
//! - [`observe`], [`cancel`]: one observer for every long call, and cancellation.
//! - [`named`]: the closed sets of choices and their names.
//! - [`reference`](mod@reference): reference problems shared by tests and benchmarks.
//! - [`flow`], [`optim`], [`monitor`], [`train`]: the two-phase training.
//! - [`landscape`]: end-state certificates, channels, neuron surgery, loss slices.
//! - [`cluster`]: Expand-and-Cluster and `gradflow recover`.
//! - [`study`], [`report`]: studies (grids of teachers × ρ × seeds × methods) and their
//!   reports, benchmarks of methods among them.
//! - [`rng`]: seeded, portable random streams.
#![deny(clippy::float_cmp)]
#![warn(missing_docs)]

pub mod cancel;
pub mod cluster;
mod dense;
pub mod error;
pub mod eval;
pub mod flow;
pub mod io;
pub mod landscape;
pub mod memory;
pub mod monitor;
pub mod named;
pub mod net;
pub mod observe;
pub mod optim;
mod parallel;
pub mod reference;
pub mod report;
pub mod rng;
pub mod study;
pub mod teacher;
pub mod train;

pub use error::{Error, Result};
