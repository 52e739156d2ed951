//! `yardstick merge SHARD…`: one run from the shards of a split run.

use anyhow::Result;

use crate::cli::MergeArgs;
use crate::locations::Locations;
use crate::report::table;
use crate::store::{merge, MergeOrigin};
use crate::store::{new_run_id, resolve_run, RunDir};

pub(super) fn run(args: MergeArgs, locations: &Locations, command_line: Vec<String>) -> Result<()> {
    let tasks = crate::config::tasks(locations)?;
    let results_dir = args
        .results_dir
        .clone()
        .unwrap_or_else(|| locations.results_dir());
    let shards = args
        .shards
        .iter()
        .map(|s| resolve_run(s, &results_dir))
        .collect::<Result<Vec<_>>>()?;
    let run_dir = RunDir::create(
        &results_dir,
        &args.run_id.clone().unwrap_or_else(new_run_id),
    )?;
    let folder = run_dir.path().to_path_buf();
    let origin = MergeOrigin {
        command: command_line,
        workers: None,
    };
    match merge(&shards, &tasks, run_dir, origin) {
        Ok(outcome) => {
            print!("{}", table::render_summary(&outcome.summary));
            println!(
                "merged {} shards into {}",
                shards.len(),
                outcome.run_dir.display()
            );
            Ok(())
        }
        Err(err) => {
            // The merged run was never written: leave no half run behind.
            std::fs::remove_dir_all(folder).ok();
            Err(err)
        }
    }
}
