//! The `yardstick` binary: parse the command line, run the library, map errors to exit codes.

use std::process::ExitCode;

use clap::Parser;
use yardstick::cli::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match yardstick::commands::dispatch(cli) {
        Ok(code) => code,
        Err(err) => {
            if let Some(stopped) = err.downcast_ref::<yardstick::interrupt::Interrupted>() {
                // The message says how to continue (for worker runs, the context does).
                eprintln!("{err}");
                return ExitCode::from(stopped.exit_status());
            }
            eprintln!("error: {err}");
            for cause in err.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::FAILURE
        }
    }
}
