//! `yardstick report`: the leaderboard site from results/ (no model is run).

use anyhow::Result;

use crate::cli::ReportArgs;
use crate::leaderboard::load_leaderboard;
use crate::locations::Locations;
use crate::report::{exports, write_site};

pub(super) fn run(args: ReportArgs, locations: &Locations) -> Result<()> {
    let results_dir = args
        .results_dir
        .clone()
        .unwrap_or_else(|| locations.results_dir());
    let site_dir = args.out.clone().unwrap_or_else(|| results_dir.join("site"));
    // The registry only adds provider ids: a report of results from elsewhere needs none.
    let registry = crate::config::registry(locations).ok();
    let prices = crate::config::provider_prices(locations)?;
    let loaded = load_leaderboard(&results_dir, registry.as_ref(), &prices)?;
    write_site(&site_dir, &loaded)?;
    for (dir, reason) in &loaded.skipped {
        eprintln!("left out {}: {reason}", dir.display());
    }
    eprintln!(
        "leaderboard of {} model(s) from {} run(s) written to {}",
        loaded.board.rows.len(),
        loaded.runs,
        site_dir.join("index.html").display()
    );
    if args.markdown {
        print!("{}", exports::markdown(&loaded.board));
    }
    Ok(())
}
