//! The `gradflow` command line: parse, validate, call one library function, write results.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    match cli::run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line, no backtrace: the library's errors name the file and the problem.
            let msg = format!("{e:#}").replace('\n', " ");
            eprintln!("gradflow: error: {msg}");
            ExitCode::FAILURE
        }
    }
}
