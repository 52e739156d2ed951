//! Reports read only what the store wrote: the terminal summary table, the leaderboard (rows,
//! charts, static site, exports).

pub mod charts;
pub mod exports;
pub mod leaderboard;
pub mod site;
pub mod table;

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::models::Registry;
use crate::prices::ProviderPrices;
use crate::store::finished_runs;
use leaderboard::Leaderboard;

/// The leaderboard of a results folder.
#[derive(Debug)]
pub struct LoadedLeaderboard {
    /// Rows, suites, history.
    pub board: Leaderboard,
    /// Finished runs read.
    pub runs: usize,
    /// Run folders left out, with why.
    pub skipped: Vec<(PathBuf, String)>,
}

/// Reads every finished run under `results_dir` into a leaderboard. `registry` supplies
/// provider model ids for price lookups.
pub fn load_leaderboard(
    results_dir: &Path,
    registry: Option<&Registry>,
    prices: &ProviderPrices,
) -> Result<LoadedLeaderboard> {
    let (runs, skipped) = finished_runs(results_dir)?;
    let provider_ids = |id: &str| {
        registry
            .and_then(|r| r.get(id).ok())
            .map(|m| m.provider_ids.clone())
            .unwrap_or_default()
    };
    Ok(LoadedLeaderboard {
        board: Leaderboard::build(&runs, prices, &provider_ids),
        runs: runs.len(),
        skipped,
    })
}

/// Draws the charts and writes the site (pages, charts, exports) into `site_dir`.
pub fn write_site(site_dir: &Path, loaded: &LoadedLeaderboard) -> Result<()> {
    let charts = charts::render_all(&loaded.board)?;
    site::write_site(site_dir, &loaded.board, &charts, &loaded.skipped)
}
