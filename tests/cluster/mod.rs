//! Expand-and-Cluster: constructed student ensembles with known answers for every symmetry
//! class, degenerate inputs, and `gradflow recover` end to end.

mod ensembles;
mod recover_cli;
