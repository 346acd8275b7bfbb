//! The landscape researcher's toolkit: what a run ended at ([`certify`]), channels to infinity
//! ([`channel`]), loss slices ([`slice`](mod@slice)) and neuron surgery ([`surgery`]).

pub mod channel;
pub mod end_state;
pub mod slice;
pub mod surgery;

pub use channel::{ChannelBundle, Jump, OnChannel, find_channels, jump};
pub use end_state::{
    CertifyOptions, EndKind, EndState, NeuronShare, PowerLaw, certify, detect_channel, power_law,
};
pub use slice::{LossSlice, SliceOptions, loss_slice, loss_slice_watched};
pub use surgery::{
    Pruned, TrajectoryDistance, add_neuron, embed_teacher, prune, remove_neuron, split_neuron,
    trajectory_distance,
};
