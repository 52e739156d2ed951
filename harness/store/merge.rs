//! Joining the run folders of a sharded run (`yardstick run --shard K/N`) into one run, after
//! checking they are the complete, finished shards of one plan. The merged run equals the
//! unsharded one: same samples in the same order, same aggregates.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use super::comparability::merge_mismatch;
use super::finish::{finish_run, RunOutcome, RunTiming};
use super::reader::{read_finished_run, FinishedRun};
use super::records::SampleRecord;
use super::run_dir::RunDir;
use crate::tasks::TaskSet;

/// How the merged run came about, recorded in its manifest.
#[derive(Debug, Clone, Default)]
pub struct MergeOrigin {
    /// The command line that asked for the merge (or for the run that was split).
    pub command: Vec<String>,
    /// Worker processes of one machine the shards ran in (`run --workers N`); `None` for shards
    /// run apart (`run --shard K/N`), each with the machine to itself.
    pub workers: Option<usize>,
}

/// Merges the finished shard run folders `shards` into `run_dir` (which may hold a merge cut
/// short: its samples are replaced).
pub fn merge(
    shards: &[PathBuf],
    tasks: &TaskSet,
    mut run_dir: RunDir,
    origin: MergeOrigin,
) -> Result<RunOutcome> {
    let started = Instant::now();
    let parts: Vec<FinishedRun> = shards
        .iter()
        .map(|dir| read_finished_run(dir).context("cannot merge the shards"))
        .collect::<Result<_>>()?;
    let first = &parts.first().context("no shard runs given")?.manifest;
    let count = first
        .shard
        .with_context(|| {
            format!(
                "run {} is not a shard (it was not started with --shard K/N)",
                first.run_id
            )
        })?
        .count;
    let mut indices = Vec::new();
    for part in &parts {
        let manifest = &part.manifest;
        let Some(shard) = manifest.shard else {
            bail!(
                "run {} is not a shard (it was not started with --shard K/N)",
                manifest.run_id
            );
        };
        if let Some(why) = merge_mismatch(first, manifest) {
            bail!(
                "run {} is not a shard of the same plan as {}: {why}",
                manifest.run_id,
                first.run_id
            );
        }
        indices.push(shard.index);
    }
    indices.sort_unstable();
    if indices != (1..=count).collect::<Vec<_>>() {
        bail!("the shards given are {indices:?}, not exactly 1 to {count} once each");
    }

    let model_order: Vec<&str> = first.models.iter().map(|m| m.id.as_str()).collect();
    let task_order: Vec<&str> = first.tasks.iter().map(|t| t.name.as_str()).collect();
    let mut samples: Vec<SampleRecord> = parts
        .iter()
        .flat_map(|p| p.samples.iter().cloned())
        .collect();
    let mut seen = HashSet::new();
    for sample in &samples {
        if !seen.insert((
            &sample.model,
            &sample.task,
            sample.item_index,
            sample.sample_index,
        )) {
            bail!(
                "sample {} of {} on {} appears in two shards",
                sample.item_id,
                sample.task,
                sample.model
            );
        }
    }
    let expected = first.models.len()
        * first.tasks.iter().map(|t| t.items).sum::<usize>()
        * first.samples_per_item;
    if samples.len() != expected {
        bail!(
            "the shards hold {} samples; the plan has {expected}",
            samples.len()
        );
    }
    let position =
        |list: &[&str], name: &str| list.iter().position(|n| *n == name).unwrap_or(usize::MAX);
    samples.sort_by_key(|s| {
        (
            position(&model_order, &s.model),
            position(&task_order, &s.task),
            s.item_index,
            s.sample_index,
        )
    });

    let mut manifest = first.clone();
    manifest.run_id = run_dir.id().to_string();
    manifest.command = origin.command;
    manifest.workers = origin.workers;
    manifest.shard = None;
    manifest.merged_from = parts.iter().map(|p| p.manifest.run_id.clone()).collect();
    manifest.started_at = parts
        .iter()
        .map(|p| p.manifest.started_at.clone())
        .min()
        .unwrap_or_default();
    manifest.finished_at = None;
    run_dir.write_manifest(&manifest)?;
    run_dir.replace_samples(&samples)?;
    // The parts ran side by side (workers) or on other machines (shards): the merged run's wall
    // time is its longest part's, then the merge.
    let longest_part = parts
        .iter()
        .map(|p| p.summary.wall_seconds)
        .fold(0.0, f64::max);
    let started = started
        .checked_sub(Duration::from_secs_f64(longest_part))
        .unwrap_or(started);
    let parts_peak_rss = parts.iter().filter_map(|p| p.summary.peak_rss_bytes).max();
    let models = parts.into_iter().flat_map(|p| p.summary.models).collect();
    finish_run(
        run_dir,
        manifest,
        &samples,
        &|name| tasks.get(name).ok(),
        models,
        RunTiming {
            parts_peak_rss,
            ..RunTiming::without_backend(started)
        },
    )
}
