//! `yardstick nightly`: run or resume tonight's run, append it to the history, compare it with
//! the previous comparable run, rebuild the leaderboard, and exit as `compare` does.

use std::process::ExitCode;

use anyhow::{bail, Result};
use clap::Parser;

use super::compare::{exit_code, print_comparison};
use crate::cli::{Cli, Command, NightlyArgs};
use crate::compare::compare;
use crate::locations::Locations;
use crate::models::Registry;
use crate::nightly::{append_history, previous_comparable, NightlyConfig};
use crate::prices::ProviderPrices;
use crate::report::{load_leaderboard, write_site};
use crate::store::{finished_runs, read_finished_run, read_json, Manifest};

pub(super) fn run(args: &NightlyArgs, locations: &Locations) -> Result<ExitCode> {
    let config = NightlyConfig::load(&args.config)?;
    let results_dir = args
        .results_dir
        .clone()
        .unwrap_or_else(|| locations.results_dir());
    let run_id = args.run_id.clone().unwrap_or_else(|| {
        format!(
            "{}-{}",
            config.run_prefix,
            chrono::Utc::now().format("%Y%m%d")
        )
    });
    let run_path = results_dir.join("runs").join(&run_id);

    let run_arguments = if run_path.join("manifest.json").is_file() {
        let manifest: Manifest = read_json(&run_path, "manifest.json", "manifest")?;
        if manifest.finished_at.is_some() {
            eprintln!("nightly: run {run_id} already finished; comparing and reporting");
            None
        } else {
            eprintln!("nightly: resuming the interrupted run {run_id}");
            Some(vec![
                "yardstick".to_string(),
                "run".into(),
                "--resume".into(),
                run_id.clone(),
                "--results-dir".into(),
                results_dir.display().to_string(),
            ])
        }
    } else {
        Some(config.run_arguments(&run_id, &results_dir))
    };
    if let Some(mut arguments) = run_arguments {
        if args.no_pull {
            arguments.push("--no-pull".into());
        }
        let cli = Cli::try_parse_from(&arguments).map_err(|e| {
            anyhow::anyhow!(
                "{} makes an invalid run command: {e}",
                args.config.display()
            )
        })?;
        let Command::Run(run_args) = cli.command else {
            bail!("internal error: nightly did not build a run command");
        };
        // The run records, and its workers repeat, this run command line, not nightly's.
        super::run::run(run_args, locations, arguments)?;
    }

    let current = read_finished_run(&run_path)?;
    let history = results_dir.join("history.parquet");
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

    let registry = Registry::load(&locations.registry_file()).ok();
    let prices = ProviderPrices::load(&locations.provider_prices_file())?;
    let site_dir = results_dir.join("site");
    write_site(
        &site_dir,
        &load_leaderboard(&results_dir, registry.as_ref(), &prices)?,
    )?;
    eprintln!("leaderboard: {}", site_dir.join("index.html").display());
    Ok(code)
}
