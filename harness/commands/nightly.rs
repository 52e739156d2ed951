//! `yardstick nightly`: run or resume tonight's run, append it to the history, compare it with
//! the previous comparable run, rebuild the leaderboard, and exit as `compare` does.

use std::process::ExitCode;

use anyhow::Result;

use super::compare::{exit_code, print_comparison};
use crate::cli::NightlyArgs;
use crate::compare::compare;
use crate::leaderboard::load_leaderboard;
use crate::locations::Locations;
use crate::nightly::NightlyConfig;
use crate::report::write_site;
use crate::runner::job::{self, Workspace};
use crate::store::{
    append_history, find_manifest, finished_runs, previous_comparable, read_finished_run,
    run_folder, HISTORY_FILE,
};

/// Runs the job; `command_line` is recorded in the manifest of a run it starts.
pub(super) fn run(
    args: &NightlyArgs,
    locations: &Locations,
    command_line: Vec<String>,
) -> Result<ExitCode> {
    let config = NightlyConfig::load(&args.config)?;
    // Ctrl-C or SIGTERM stops the run cleanly between samples; the next job resumes it.
    crate::interrupt::install();
    let workspace = Workspace::open(locations, args.results_dir.clone())?;
    let results_dir = workspace.results_dir.clone();
    let run_id = args
        .run_id
        .clone()
        .unwrap_or_else(|| config.run_id_tonight());
    let mut settings = config.settings();
    settings.pull = !args.no_pull;
    match find_manifest(&results_dir, &run_id)? {
        Some(manifest) if manifest.finished_at.is_some() => {
            eprintln!("nightly: run {run_id} already finished; comparing and reporting");
        }
        Some(_) => {
            eprintln!("nightly: resuming the interrupted run {run_id}");
            job::resume(&run_id, &settings, &workspace)?;
        }
        None => {
            job::start(
                &config.request(&run_id),
                &settings,
                &workspace,
                command_line,
            )?;
        }
    }

    let current = read_finished_run(&run_folder(&results_dir, &run_id))?;
    let history = results_dir.join(HISTORY_FILE);
    let rows = append_history(&history, &current)?;
    eprintln!("history: {} ({rows} rows)", history.display());

    let (runs, _) = finished_runs(&results_dir)?;
    let code = match previous_comparable(&runs, &current) {
        None => {
            eprintln!("nightly: no earlier run with the same plan; nothing to compare yet");
            ExitCode::SUCCESS
        }
        Some(previous) => {
            let comparison = compare(&previous.dir, &current.dir)?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&comparison)?);
            } else {
                print_comparison(&comparison);
            }
            exit_code(&comparison)
        }
    };

    let prices = crate::config::provider_prices(locations)?;
    let site_dir = results_dir.join("site");
    write_site(
        &site_dir,
        &load_leaderboard(&results_dir, Some(&workspace.registry), &prices)?,
    )?;
    eprintln!("leaderboard: {}", site_dir.join("index.html").display());
    Ok(code)
}
