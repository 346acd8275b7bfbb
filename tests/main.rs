//! gradflow's integration tests (one binary; modules by concept).

mod derivatives;
mod cli;
mod io;
mod teacher;
