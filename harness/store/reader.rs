//! Reading finished runs back: one run folder, or every run under `results/runs/`.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::de::DeserializeOwned;

use super::records::{Manifest, SampleRecord, Summary};
use super::run_dir::{read_samples, MANIFEST_FILE, SUMMARY_FILE};

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
pub fn read_json<T: DeserializeOwned>(dir: &Path, file: &str, what: &str) -> Result<T> {
    let path = dir.join(file);
    let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_slice(&bytes)
        .with_context(|| format!("{} is not a yardstick {what}", path.display()))
}

/// Reads the run in `dir`; it must have finished (its manifest has an end time).
pub fn read_finished_run(dir: &Path) -> Result<FinishedRun> {
    let manifest: Manifest = read_json(dir, MANIFEST_FILE, "manifest")?;
    if manifest.finished_at.is_none() {
        bail!(
            "run {} did not finish: complete it with `yardstick run --resume {}`",
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
    let runs_dir = results_dir.join("runs");
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
