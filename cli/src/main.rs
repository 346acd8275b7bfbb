//! The `gradflow` command line: parse, validate, call one library function, write results.
//! Every flag is an overlay on a library option (see `args`); Ctrl-C cancels cleanly.

mod args;
mod certify_cmd;
mod cli;
mod landscape_cmd;
mod progress;
mod recover_cmd;
mod solve;
mod study_cmd;

use std::process::ExitCode;

fn main() -> ExitCode {
    // Ctrl-C cancels: runs in flight end at their best points and their records are written;
    // the process then exits 130. A second Ctrl-C exits at once, and so does the first for the
    // commands with nothing in flight to save (they write their output only at the end).
    let cancel = gradflow::cancel::Cancel::new();
    let flag = cancel.clone();
    let args: Vec<String> = std::env::args().collect();
    let saves_on_cancel = args.get(1).is_some_and(|c| {
        matches!(
            c.as_str(),
            "solve" | "recover" | "study" | "certify" | "landscape"
        ) || (c == "teacher"
            && args
                .iter()
                .any(|a| a == "--train" || a.starts_with("--train=")))
    });
    let _ = ctrlc::set_handler(move || {
        if flag.is_cancelled() || !saves_on_cancel {
            eprintln!("\ngradflow: interrupted");
            std::process::exit(130);
        }
        eprintln!(
            "\ngradflow: interrupted; finishing the runs in flight at their best points (Ctrl-C again to quit now)"
        );
        flag.cancel();
    });
    match cli::run(&cancel) {
        Ok(code) => ExitCode::from(code),
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
