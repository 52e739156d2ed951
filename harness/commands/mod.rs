//! Command implementations: each turns parsed arguments into library calls and terminal output.

mod compare;
mod data;
mod merge;
mod models;
mod nightly;
mod perf;
mod report;
mod rescore;
mod run;
mod select;
mod tasks;
mod workers;

use std::process::ExitCode;

use anyhow::Result;

use crate::cli::{Cli, Command};
use crate::locations::Locations;

pub use run::{DEFAULT_LIMIT, DEFAULT_SUITES};

/// Exit status of `compare` when something regressed significantly (1 is an error, 2 bad usage).
pub const EXIT_REGRESSION: u8 = 3;

/// Runs the parsed command; the exit status on success.
pub fn dispatch(cli: Cli) -> Result<ExitCode> {
    let locations = Locations::from_env();
    match &cli.command {
        Command::Compare(args) => return compare::run(args, &locations),
        Command::Nightly(args) => return nightly::run(args, &locations),
        _ => {}
    }
    match cli.command {
        Command::Run(args) => run::run(args, &locations, std::env::args().collect()),
        Command::Models(command) => models::run(command, &locations),
        Command::Data(command) => data::run(command, &locations),
        Command::Tasks(command) => tasks::run(command, &locations),
        Command::Rescore(args) => rescore::run(args, &locations),
        Command::Merge(args) => merge::run(args, &locations),
        Command::Perf(args) => perf::run(args, &locations),
        Command::Report(args) => report::run(args, &locations),
        Command::Doctor => {
            print!("{}", crate::doctor::report(&locations));
            Ok(())
        }
        Command::Select(args) => select::run(&args, &locations),
        Command::Compare(_) | Command::Nightly(_) => unreachable!("handled above"),
    }
    .map(|()| ExitCode::SUCCESS)
}
