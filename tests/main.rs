//! gradflow's integration tests (one binary; modules by concept).

mod cluster;
mod derivatives;
mod io;
mod landscape;
mod teacher;
mod train;
