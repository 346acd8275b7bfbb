//! gradflow's integration tests (one binary; modules by concept).

mod cluster;
mod derivatives;
mod io;
mod landscape;
mod report;
mod study;
mod teacher;
mod train;
