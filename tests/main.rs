//! gradflow's integration tests (one binary; modules by concept).

mod cli;
mod cluster;
mod derivatives;
mod io;
mod teacher;
mod train;
