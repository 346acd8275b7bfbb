//! gradflow's integration tests (one binary; modules by concept).

mod cli;
mod cluster;
mod derivatives;
mod io;
mod study;
mod teacher;
mod train;
