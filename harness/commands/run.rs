//! `yardstick run`: the options as a typed request, then the run (or, with `--dry-run`, its
//! plan) and the summary table.

use anyhow::Result;

use crate::cli::RunArgs;
use crate::locations::Locations;
use crate::report::table;
use crate::runner::job::{self, RunSettings, Workspace};
use crate::runner::{Items, RunRequest};

/// Runs `args`; `command_line` is recorded in the run's manifest.
pub(super) fn run(args: RunArgs, locations: &Locations, command_line: Vec<String>) -> Result<()> {
    // Ctrl-C or SIGTERM stops the run cleanly between samples (a second one at once).
    crate::interrupt::install();
    let workspace = Workspace::open(locations, args.results_dir.clone())?;
    let settings = settings(&args);
    let outcome = match &args.resume {
        Some(run_id) => job::resume(run_id, &settings, &workspace)?,
        None => {
            let request = request(&args);
            if args.dry_run {
                print!("{}", workspace.plan(&request)?.describe());
                return Ok(());
            }
            job::start(&request, &settings, &workspace, command_line)?
        }
    };
    print!("{}", table::render_summary(&outcome.summary));
    println!("results written to {}", outcome.run_dir.display());
    Ok(())
}

/// What the options ask the run to compute.
fn request(args: &RunArgs) -> RunRequest {
    RunRequest {
        models: args.models.clone(),
        tasks: args.tasks.clone(),
        suites: args.suites.clone(),
        items: match (args.full, args.limit) {
            (true, _) => Items::All,
            (false, Some(limit)) => Items::Limit(limit as usize),
            (false, None) => Items::Default,
        },
        max_new_tokens: args.max_new_tokens.map(|n| n as usize),
        samples: args.samples as usize,
        temperature: args.temperature,
        allow_code_exec: args.allow_code_exec,
        predict_only: args.predict_only,
        run_id: args.run_id.clone(),
        shard: args.shard,
    }
}

/// How the options ask the run to execute.
fn settings(args: &RunArgs) -> RunSettings {
    RunSettings {
        dtype: args.dtype.into(),
        weights: args.weights.forced(),
        prefix_cache: args.prefix_cache.forced(),
        hardware: args.hardware.clone(),
        workers: args.workers,
        pull: !args.no_pull,
        device: args.device,
    }
}
