//! Finishing a run folder: aggregate the samples, write `summary.json`, stamp the manifest
//! finished — the last step of every run, whether generated, merged or re-scored.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;

use super::records::{Manifest, ModelRunRecord, Overhead, SampleRecord, Summary, SCHEMA_VERSION};
use super::run_dir::RunDir;
use super::summarize::summarize;
use crate::machine::peak_rss_bytes;
use crate::tasks::Task;
use crate::units::Bytes;

/// What a finished run produced.
#[derive(Debug)]
pub struct RunOutcome {
    /// The run folder.
    pub run_dir: PathBuf,
    /// The summary written to `summary.json`.
    pub summary: Summary,
}

/// Where a run's time went, for the harness-overhead figure.
#[derive(Debug, Clone, Copy)]
pub struct RunTiming {
    /// When this process started the run.
    pub started: Instant,
    /// Seconds spent inside backend generation calls.
    pub busy_seconds: f64,
    /// Seconds loading models and warming them up.
    pub setup_seconds: f64,
    /// The largest peak resident memory of other processes that generated the samples (the
    /// parts of a merged run), when known.
    pub parts_peak_rss: Option<Bytes>,
}

impl RunTiming {
    /// A run with no model (re-scoring).
    pub fn without_backend(started: Instant) -> Self {
        Self {
            started,
            busy_seconds: 0.0,
            setup_seconds: 0.0,
            parts_peak_rss: None,
        }
    }
}

/// Aggregates `samples`, writes `summary.json`, stamps the manifest finished: the last step of
/// every run (also of re-scoring).
pub fn finish_run<'a>(
    run_dir: RunDir,
    mut manifest: Manifest,
    samples: &[SampleRecord],
    task_of: &dyn Fn(&str) -> Option<&'a Task>,
    models: Vec<ModelRunRecord>,
    timing: RunTiming,
) -> Result<RunOutcome> {
    let wall_seconds = timing.started.elapsed().as_secs_f64();
    let aggregates = summarize(samples, task_of);
    let summary = Summary {
        schema: SCHEMA_VERSION,
        run_id: manifest.run_id.clone(),
        results: aggregates.results,
        suites: aggregates.suites,
        quality: aggregates.quality,
        models,
        wall_seconds,
        overhead: (timing.busy_seconds > 0.0)
            .then(|| Overhead::new(wall_seconds, timing.busy_seconds, timing.setup_seconds)),
        peak_rss_bytes: peak_rss_bytes().max(timing.parts_peak_rss),
    };
    run_dir.write_summary(&summary)?;
    manifest.finished_at = Some(chrono::Utc::now().to_rfc3339());
    run_dir.write_manifest(&manifest)?;
    Ok(RunOutcome {
        run_dir: run_dir.path().to_path_buf(),
        summary,
    })
}
