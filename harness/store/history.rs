//! The run history, `results/history.parquet`: one row per run × model × task (headline score
//! with its interval, speed, price), appended by each nightly job.

use std::path::Path;

use anyhow::{Context, Result};
use polars::prelude::{DataFrame, ParquetReader, SerReader};

use super::columns::{data_frame, parquet_bytes, Column, Values};
use super::reader::FinishedRun;
use super::records::TaskResult;

/// The history's file name in a results folder.
pub const HISTORY_FILE: &str = "history.parquet";

/// History rows of one run: per model × task, the headline score with its interval and speed.
pub fn history_columns(run: &FinishedRun) -> Vec<Column> {
    let results = &run.summary.results;
    let text = |name: &str, values: Vec<String>| Column {
        name: name.into(),
        values: Values::Text(values),
    };
    let number = |name: &str, values: Vec<Option<f64>>| Column {
        name: name.into(),
        values: Values::Number(values),
    };
    let headline = |r: &TaskResult| r.metrics.get(&r.primary_metric).cloned();
    let usd = run.manifest.hardware.as_ref().map(|h| h.usd_per_hour);
    vec![
        text("run_id", vec![run.manifest.run_id.clone(); results.len()]),
        text(
            "started_at",
            vec![run.manifest.started_at.clone(); results.len()],
        ),
        text(
            "git_commit",
            vec![run.manifest.git_commit.clone(); results.len()],
        ),
        text("model", results.iter().map(|r| r.model.clone()).collect()),
        text("task", results.iter().map(|r| r.task.clone()).collect()),
        text("suite", results.iter().map(|r| r.suite.clone()).collect()),
        text(
            "metric",
            results.iter().map(|r| r.primary_metric.clone()).collect(),
        ),
        number("n", results.iter().map(|r| Some(r.n as f64)).collect()),
        number(
            "score",
            results
                .iter()
                .map(|r| headline(r).map(|e| e.value))
                .collect(),
        ),
        number(
            "ci_low",
            results
                .iter()
                .map(|r| headline(r).map(|e| e.ci_low))
                .collect(),
        ),
        number(
            "ci_high",
            results
                .iter()
                .map(|r| headline(r).map(|e| e.ci_high))
                .collect(),
        ),
        number(
            "output_tokens_per_second",
            results
                .iter()
                .map(|r| r.speed.output_tokens_per_second.as_ref().map(|d| d.median))
                .collect(),
        ),
        number(
            "time_to_first_token_s",
            results
                .iter()
                .map(|r| r.speed.time_to_first_token_s.as_ref().map(|d| d.median))
                .collect(),
        ),
        number(
            "busy_seconds",
            results.iter().map(|r| Some(r.speed.busy_seconds)).collect(),
        ),
        number("usd_per_hour", vec![usd; results.len()]),
    ]
}

/// Reads `path` (an empty frame when it does not exist).
pub fn read_history(path: &Path) -> Result<Option<DataFrame>> {
    if !path.exists() {
        return Ok(None);
    }
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let frame = ParquetReader::new(file).finish().with_context(|| {
        format!(
            "{} is not a readable Parquet file; move it aside to start a new history",
            path.display()
        )
    })?;
    Ok(Some(frame))
}

/// Appends `run`'s rows to the history at `path` (written atomically); a run already in the
/// history is not added twice. Returns the number of rows in the history.
pub fn append_history(path: &Path, run: &FinishedRun) -> Result<usize> {
    let new = data_frame(history_columns(run))?;
    let mut frame = match read_history(path)? {
        None => new,
        Some(old) => {
            let ids = old.column("run_id")?.str()?;
            if ids
                .iter()
                .any(|id| id == Some(run.manifest.run_id.as_str()))
            {
                return Ok(old.height());
            }
            old.vstack(&new).with_context(|| {
                format!("{} has other columns than this yardstick writes; move it aside to start a new history", path.display())
            })?
        }
    };
    crate::files::write_atomic(path, &parquet_bytes(&mut frame)?)?;
    Ok(frame.height())
}
