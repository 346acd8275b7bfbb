//! gradflow's integration tests (one binary; modules by concept).

mod cli;
mod derivatives;
mod io;
mod teacher;
mod train;
