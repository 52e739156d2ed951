//! `yardstick select`: the recommendation as a table or JSON.

use anyhow::Result;

use crate::cli::SelectArgs;
use crate::leaderboard::load_leaderboard;
use crate::locations::Locations;
use crate::select::{select, Criteria};

pub(super) fn run(args: &SelectArgs, locations: &Locations) -> Result<()> {
    for (flag, value) in [
        ("--max-usd-per-mtok", args.max_usd_per_mtok),
        ("--min-output-tok-s", args.min_output_tok_s),
    ] {
        if let Some(v) = value.filter(|v| !(v.is_finite() && *v >= 0.0)) {
            anyhow::bail!("{flag} {v} must be a number ≥ 0");
        }
    }
    let results_dir = args
        .results_dir
        .clone()
        .unwrap_or_else(|| locations.results_dir());
    let registry = crate::config::registry(locations).ok();
    let prices = crate::config::provider_prices(locations)?;
    let loaded = load_leaderboard(&results_dir, registry.as_ref(), &prices)?;
    if loaded.board.rows.is_empty() {
        anyhow::bail!(
            "no finished runs under {}: run `yardstick run` first",
            results_dir.join("runs").display()
        );
    }
    if let Some(suite) = &args.suite {
        if !loaded.board.suites.contains(suite) {
            anyhow::bail!(
                "no results for suite {suite:?}; the results have: {}",
                loaded.board.suites.join(", ")
            );
        }
    }
    let selection = select(
        &loaded.board,
        &Criteria {
            suite: args.suite.clone(),
            max_usd_per_mtok: args.max_usd_per_mtok,
            min_output_tok_s: args.min_output_tok_s,
            price: args.price.into(),
        },
    );
    if args.json {
        println!("{}", serde_json::to_string_pretty(&selection)?);
        return Ok(());
    }
    let measure = args.suite.as_deref().unwrap_or("quality index");
    println!("Pareto front (quality, cost, speed) of models meeting the constraints:");
    println!(
        "  {:<32} {:>22} {:>14} {:>12}",
        "model", measure, "$/1M blended", "out tok/s"
    );
    for c in &selection.front {
        println!(
            "  {:<32} {:>22} {:>14} {:>12}",
            c.model,
            format!(
                "{:.1} [{:.1}, {:.1}]{}",
                c.score.value,
                c.score.ci_low,
                c.score.ci_high,
                if c.score.preliminary { "*" } else { "" }
            ),
            c.usd_per_mtok.map_or("—".into(), |u| format!("{u:.4}")),
            c.output_tok_s.map_or("—".into(), |s| format!("{s:.1}"))
        );
    }
    for (c, by) in &selection.dominated {
        println!("  (dominated) {} by {by}", c.model);
    }
    for (model, why) in &selection.excluded {
        println!("  (excluded) {model}: {why}");
    }
    if selection.front.iter().any(|c| c.score.preliminary) {
        println!("  {}", crate::report::table::PRELIMINARY_NOTE);
    }
    match &selection.recommended {
        Some(model) => println!("\nRecommended: {model} — {}", selection.reason),
        None => println!("\nNo recommendation: {}", selection.reason),
    }
    Ok(())
}
