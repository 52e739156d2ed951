//! `yardstick compare A B`: the comparison as a table or JSON; exit 3 on a significant regression.

use std::process::ExitCode;

use anyhow::Result;

use super::EXIT_REGRESSION;
use crate::cli::CompareArgs;
use crate::compare::{compare, Comparison, ALPHA};
use crate::locations::Locations;
use crate::store::resolve_run;

pub(super) fn run(args: &CompareArgs, locations: &Locations) -> Result<ExitCode> {
    let results_dir = args
        .results_dir
        .clone()
        .unwrap_or_else(|| locations.results_dir());
    let baseline = resolve_run(&args.baseline, &results_dir)?;
    let candidate = resolve_run(&args.candidate, &results_dir)?;
    let comparison = compare(&baseline, &candidate)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&comparison)?);
    } else {
        print_comparison(&comparison);
    }
    Ok(exit_code(&comparison))
}

/// Exit 0, or [`EXIT_REGRESSION`] when something regressed significantly.
pub(super) fn exit_code(comparison: &Comparison) -> ExitCode {
    if comparison.regressed {
        ExitCode::from(EXIT_REGRESSION)
    } else {
        ExitCode::SUCCESS
    }
}

/// The comparison for people: one line per model × task, flipped items, speed.
pub(super) fn print_comparison(comparison: &Comparison) {
    {
        println!(
            "{} → {} (paired tests on shared items, α = {ALPHA})",
            comparison.baseline, comparison.candidate
        );
        for entry in &comparison.entries {
            println!(
                "{} · {} · {}: {:.1}% → {:.1}% (Δ {:+.1} pts, 95% CI [{:+.1}, {:+.1}], n = {}, {} p = {:.3}, detectable Δ ≥ {:.1} pts) {}",
                entry.model,
                entry.task,
                entry.metric,
                100.0 * entry.baseline,
                100.0 * entry.candidate,
                100.0 * entry.delta,
                100.0 * entry.delta_ci.0,
                100.0 * entry.delta_ci.1,
                entry.shared,
                entry.test,
                entry.p_value,
                100.0 * entry.minimum_detectable_delta,
                entry.verdict.as_str().to_uppercase()
            );
            if !entry.flipped_to_fail.is_empty() {
                println!("    now failing: {}", entry.flipped_to_fail.join(", "));
            }
            if !entry.flipped_to_pass.is_empty() {
                println!("    now passing: {}", entry.flipped_to_pass.join(", "));
            }
            if entry.shared < crate::metrics::PRELIMINARY_BELOW {
                println!(
                    "    preliminary: fewer than {} shared samples",
                    crate::metrics::PRELIMINARY_BELOW
                );
            }
            if let (Some((before, after)), Some(p)) =
                (entry.output_tokens_per_second, entry.speed_p_value)
            {
                println!(
                    "    output speed: {before:.1} → {after:.1} tok/s median (p = {p:.3}){}",
                    if entry.speed_regressed {
                        " REGRESSED"
                    } else {
                        ""
                    }
                );
            }
        }
        for (model, task, why) in &comparison.not_comparable {
            println!("{model} · {task}: not compared ({why})");
        }
        if let Some(why) = &comparison.speed_not_comparable {
            println!("{why}");
        }
    }
}
