//! The landscape researcher's toolkit: what a run ended at ([`certify`]), channels to infinity
//! ([`channel`]).

pub mod channel;
pub mod end_state;

pub use channel::{ChannelBundle, Jump, OnChannel, find_channels, jump};
pub use end_state::{
    CertifyOptions, EndKind, EndState, NeuronShare, PowerLaw, certify, detect_channel, power_law,
};
