//! Command implementations: each turns parsed arguments into library calls and terminal output.

mod compare;
mod data;
mod export;
mod loglikelihood;
mod merge;
mod models;
mod nightly;
mod perf;
mod report;
mod rescore;
mod run;
mod select;
mod tasks;

use std::process::ExitCode;

use anyhow::Result;

use crate::cli::{Cli, Command};
use crate::locations::Locations;

/// Exit status of `compare` when something regressed significantly (1 is an error, 2 bad usage).
pub const EXIT_REGRESSION: u8 = 3;

/// Runs the parsed command; the exit status on success. `command_line` is the process's own,
/// recorded in the manifest of any run the command writes.
pub fn dispatch(cli: Cli, command_line: Vec<String>) -> Result<ExitCode> {
    let locations = Locations::from_env().with_task_dirs(cli.tasks_dirs);
    match &cli.command {
        Command::Compare(args) => return compare::run(args, &locations),
        Command::Nightly(args) => return nightly::run(args, &locations, command_line),
        _ => {}
    }
    match cli.command {
        Command::Run(args) => run::run(args, &locations, command_line),
        Command::Models(command) => models::run(command, &locations),
        Command::Data(command) => data::run(command, &locations),
        Command::Tasks(command) => tasks::run(command, &locations),
        Command::Rescore(args) => rescore::run(args, &locations, command_line),
        Command::Merge(args) => merge::run(args, &locations, command_line),
        Command::Perf(args) => perf::run(args, &locations),
        Command::Report(args) => report::run(args, &locations),
        Command::Export(args) => export::run(&args, &locations),
        Command::Loglikelihood(args) => loglikelihood::run(&args, &locations),
        Command::Doctor => {
            print!("{}", crate::doctor::report(&locations));
            Ok(())
        }
        Command::Select(args) => select::run(&args, &locations),
        Command::CalibrateProbe => crate::runner::concurrent::serve_probe(),
        Command::Compare(_) | Command::Nightly(_) => unreachable!("handled above"),
    }
    .map(|()| ExitCode::SUCCESS)
}
