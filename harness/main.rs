//! The `yardstick` binary: parse the command line, run the library, map errors to exit codes.

use std::process::ExitCode;

use clap::Parser;

/// mimalloc instead of the system allocator (`--features mimalloc`).
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use yardstick::cli::Cli;

fn main() -> ExitCode {
    // The command line is read once, here, and recorded in the manifest of the runs it writes.
    let command_line: Vec<String> = std::env::args().collect();
    let cli = Cli::parse_from(&command_line);
    match yardstick::commands::dispatch(cli, command_line) {
        Ok(code) => code,
        Err(err) => {
            if let Some(stopped) = err.downcast_ref::<yardstick::interrupt::Interrupted>() {
                // The message says how to continue.
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
