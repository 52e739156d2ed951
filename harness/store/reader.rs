//! The one reader of run folders: finding a run by id or path, reading its files, listing the
//! finished runs under `results/runs/` and the complete ones among them.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::de::DeserializeOwned;

use super::comparability::nightly_comparable;
use super::records::{Manifest, SampleRecord, Summary};
use super::run_dir::{
    read_samples, run_folder, MANIFEST_FILE, RUNS_DIR, SAMPLES_FILE, SUMMARY_FILE,
};

/// A run folder with its three files read.
#[derive(Debug, Clone)]
pub struct FinishedRun {
    /// The run folder.
    pub dir: PathBuf,
    /// `manifest.json`.
    pub manifest: Manifest,
    /// `summary.json`.
    pub summary: Summary,
    /// `samples.jsonl`.
    pub samples: Vec<SampleRecord>,
}

/// Reads a JSON record file of a run, naming the file when it is missing or malformed.
fn read_json<T: DeserializeOwned>(dir: &Path, file: &str, what: &str) -> Result<T> {
    let path = dir.join(file);
    let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_slice(&bytes)
        .with_context(|| format!("{} is not a yardstick {what}", path.display()))
}

/// Reads the manifest of the run in `dir`.
pub fn read_manifest(dir: &Path) -> Result<Manifest> {
    read_json(dir, MANIFEST_FILE, "manifest")
}

/// The manifest of run `run_id` under `results_dir`, if that run exists.
pub fn find_manifest(results_dir: &Path, run_id: &str) -> Result<Option<Manifest>> {
    let dir = run_folder(results_dir, run_id);
    if !dir.join(MANIFEST_FILE).is_file() {
        return Ok(None);
    }
    read_manifest(&dir).map(Some)
}

/// Resolves a run argument: a run folder, or a run id under `results_dir/runs/`.
pub fn resolve_run(arg: &str, results_dir: &Path) -> Result<PathBuf> {
    let as_path = PathBuf::from(arg);
    if as_path.join(SAMPLES_FILE).is_file() {
        return Ok(as_path);
    }
    let under_results = run_folder(results_dir, arg);
    if under_results.join(SAMPLES_FILE).is_file() {
        return Ok(under_results);
    }
    bail!(
        "no run {arg:?}: neither {} nor {} holds a {SAMPLES_FILE}; give a run folder, or a run \
         id under {} (--results-dir DIR looks elsewhere)",
        as_path.display(),
        under_results.display(),
        run_folder(results_dir, "").display()
    )
}

/// Reads the run in `dir`; it must have finished (its manifest has an end time).
pub fn read_finished_run(dir: &Path) -> Result<FinishedRun> {
    let manifest = read_manifest(dir)?;
    if manifest.finished_at.is_none() {
        let shard = manifest
            .shard
            .map_or(String::new(), |s| format!("shard {}/{} ", s.index, s.count));
        bail!(
            "{shard}run {} did not finish: complete it with `yardstick run --resume {}`",
            manifest.run_id,
            manifest.run_id
        );
    }
    Ok(FinishedRun {
        dir: dir.to_path_buf(),
        summary: read_json(dir, SUMMARY_FILE, "summary")?,
        samples: read_samples(dir)?,
        manifest,
    })
}

/// A run folder that could not be read as a finished run, and why.
pub type SkippedRun = (PathBuf, String);

/// Every finished run under `results_dir/runs/`, oldest first (by start time); unfinished or
/// unreadable folders are skipped and returned as (folder, reason).
pub fn finished_runs(results_dir: &Path) -> Result<(Vec<FinishedRun>, Vec<SkippedRun>)> {
    let runs_dir = results_dir.join(RUNS_DIR);
    let mut runs = Vec::new();
    let mut skipped = Vec::new();
    if !runs_dir.is_dir() {
        return Ok((runs, skipped));
    }
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&runs_dir)
        .with_context(|| format!("cannot list {}", runs_dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.is_dir())
        .collect();
    dirs.sort();
    for dir in dirs {
        match read_finished_run(&dir) {
            Ok(run) => runs.push(run),
            Err(err) => skipped.push((dir, format!("{err:#}"))),
        }
    }
    runs.sort_by(|a, b| {
        a.manifest
            .started_at
            .cmp(&b.manifest.started_at)
            .then_with(|| a.manifest.run_id.cmp(&b.manifest.run_id))
    });
    Ok((runs, skipped))
}

/// Runs that stand on their own: not one shard of a split run, and not merged into another run
/// (the merged run carries their samples).
pub fn complete_runs(runs: &[FinishedRun]) -> impl Iterator<Item = &FinishedRun> {
    let merged: std::collections::HashSet<&str> = runs
        .iter()
        .flat_map(|r| r.manifest.merged_from.iter().map(String::as_str))
        .collect();
    runs.iter()
        .filter(move |r| r.manifest.shard.is_none() && !merged.contains(r.manifest.run_id.as_str()))
}

/// The latest finished run before `current` (by start time) with the same plan under the same
/// speed conditions ([`nightly_comparable`]).
pub fn previous_comparable<'a>(
    runs: &'a [FinishedRun],
    current: &FinishedRun,
) -> Option<&'a FinishedRun> {
    complete_runs(runs)
        .filter(|r| r.manifest.run_id != current.manifest.run_id)
        .filter(|r| r.manifest.started_at < current.manifest.started_at)
        .filter(|r| nightly_comparable(&r.manifest, &current.manifest))
        .max_by(|a, b| a.manifest.started_at.cmp(&b.manifest.started_at))
}
