//! Every subcommand run as a user runs it: the binary, its files and its exit codes.

mod commands;
mod recover;
mod study;
