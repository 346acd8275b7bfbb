//! The `gradflow` command line: parse, validate, call one library function, write results.

mod cli;
mod study_cmd;

use std::process::ExitCode;

fn main() -> ExitCode {
    match cli::run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line, no backtrace: the library's errors name the file and the problem.
            // Causes already spelled out by their parent are not repeated.
            let mut msg = e.to_string();
            for cause in e.chain().skip(1) {
                let c = cause.to_string();
                if !msg.contains(&c) {
                    msg.push_str(": ");
                    msg.push_str(&c);
                }
            }
            let msg = msg.replace('\n', " ");
            eprintln!("gradflow: error: {msg}");
            ExitCode::FAILURE
        }
    }
}
