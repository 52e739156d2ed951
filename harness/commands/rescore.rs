//! `yardstick rescore`: re-score a run, or score supplied completions, into a new run folder.

use anyhow::Result;

use crate::cli::RescoreArgs;
use crate::data::DataCache;
use crate::locations::Locations;
use crate::report::table;
use crate::rescore::{rescore_run, score_completions, Scorers};
use crate::runner::confirm_code_execution;
use crate::store::{new_run_id, read_samples, resolve_run, RunDir};

pub(super) fn run(
    args: RescoreArgs,
    locations: &Locations,
    command_line: Vec<String>,
) -> Result<()> {
    let tasks = crate::config::tasks(locations)?;
    let data = DataCache::new(locations.data_dir());
    let scorers = Scorers {
        tasks: &tasks,
        data: &data,
    };
    let results_dir = args
        .results_dir
        .clone()
        .unwrap_or_else(|| locations.results_dir());
    let run_id = args.run_id.clone().unwrap_or_else(new_run_id);
    let outcome = match (&args.completions, &args.task, &args.run) {
        (Some(file), Some(task_name), _) => {
            let task = tasks.get(task_name)?;
            confirm_code_execution(&[task], args.allow_code_exec, false)?;
            let run_dir = RunDir::create(&results_dir, &run_id)?;
            score_completions((file, &args.label), task, scorers, run_dir, command_line)?
        }
        (_, _, Some(run)) => {
            let source = resolve_run(run, &results_dir)?;
            let mut names: Vec<String> =
                read_samples(&source)?.into_iter().map(|s| s.task).collect();
            names.sort();
            names.dedup();
            let used = tasks.select(&names, &[])?;
            confirm_code_execution(&used, args.allow_code_exec, false)?;
            let run_dir = RunDir::create(&results_dir, &run_id)?;
            rescore_run(&source, scorers, run_dir, command_line)?
        }
        _ => unreachable!("clap requires a run or --completions with --task"),
    };
    print!("{}", table::render_summary(&outcome.summary));
    println!("results written to {}", outcome.run_dir.display());
    Ok(())
}
