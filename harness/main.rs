//! The `yardstick` binary: parse the command line, run the library, map errors to exit codes.

use std::process::ExitCode;

use clap::Parser;
use yardstick::cli::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match yardstick::commands::dispatch(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err}");
            for cause in err.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::FAILURE
        }
    }
}
