//! Command implementations: each turns parsed arguments into library calls and terminal output.

mod data;
mod models;
mod rescore;
mod run;
mod tasks;

use anyhow::Result;

use crate::cli::{Cli, Command};
use crate::locations::Locations;

pub use run::{DEFAULT_LIMIT, DEFAULT_SUITES};

/// Runs the parsed command.
pub fn dispatch(cli: Cli) -> Result<()> {
    let locations = Locations::from_env();
    match cli.command {
        Command::Run(args) => run::run(args, &locations),
        Command::Models(command) => models::run(command, &locations),
        Command::Data(command) => data::run(command, &locations),
        Command::Tasks(command) => tasks::run(command, &locations),
        Command::Rescore(args) => rescore::run(args, &locations),
        Command::Doctor => {
            print!("{}", crate::doctor::report(&locations));
            Ok(())
        }
    }
}
