//! The `gradflow` command line end to end (one binary; modules by command).

mod cli;
