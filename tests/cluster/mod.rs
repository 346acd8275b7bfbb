//! Expand-and-Cluster: constructed student ensembles with known answers for every symmetry
//! class, and degenerate inputs
//! (`gradflow recover` end to end is in the command line's tests).

mod ensembles;
mod recover;
