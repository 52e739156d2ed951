//! Reports read only what the store wrote: the terminal summary table, the leaderboard's charts,
//! static site and exports (its data model is [`crate::leaderboard`]).

pub mod charts;
pub mod exports;
pub mod site;
pub mod table;

use std::path::Path;

use anyhow::Result;

use crate::leaderboard::LoadedLeaderboard;

/// Draws the charts and writes the site (pages, charts, exports) into `site_dir`.
pub fn write_site(site_dir: &Path, loaded: &LoadedLeaderboard) -> Result<()> {
    let charts = charts::render_all(&loaded.board)?;
    site::write_site(site_dir, &loaded.board, &charts, &loaded.skipped)
}
