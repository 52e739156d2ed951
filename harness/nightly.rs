//! Nightly jobs: the configuration (`nightly.toml`), finding the previous comparable run, and the
//! run history (`results/history.parquet`, one row per run × model × task).

use std::path::Path;

use anyhow::{bail, Context, Result};
use polars::prelude::{DataFrame, ParquetReader, SerReader};
use serde::Deserialize;

use crate::report::exports::{data_frame, parquet_bytes, Column, Values};
use crate::store::comparability::nightly_comparable;
use crate::store::FinishedRun;

/// `nightly.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NightlyConfig {
    /// Model ids.
    pub models: Vec<String>,
    /// Suites (default: none, then `tasks` must be given).
    #[serde(default)]
    pub suites: Vec<String>,
    /// Task names.
    #[serde(default)]
    pub tasks: Vec<String>,
    /// Items per task; absent means every item.
    pub limit: Option<u64>,
    /// Override every task's generation limit (smoke jobs).
    pub max_new_tokens: Option<u64>,
    /// Allow executing generated code (in the sandbox) for code tasks.
    #[serde(default)]
    pub allow_code_exec: bool,
    /// Hardware price profile.
    pub hardware: Option<String>,
    /// Worker processes: a number (`workers = 2`) or `"auto"`.
    pub workers: Option<WorkersSetting>,
    /// Prefix of run ids (`<prefix>-YYYYMMDD`).
    #[serde(default = "default_prefix")]
    pub run_prefix: String,
}

/// `workers` in nightly.toml: a number, or the text `auto` (or a number written as text).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum WorkersSetting {
    /// `workers = 2`.
    Count(u64),
    /// `workers = "auto"` or `workers = "2"`.
    Text(String),
}

impl WorkersSetting {
    /// The value as `run --workers` takes it.
    pub fn as_argument(&self) -> String {
        match self {
            Self::Count(n) => n.to_string(),
            Self::Text(text) => text.clone(),
        }
    }
}

fn default_prefix() -> String {
    "nightly".into()
}

impl NightlyConfig {
    /// Reads and checks `path`.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| {
            format!(
                "cannot read nightly config {}; pass --config FILE, or start from the \
                     project's nightly.toml (fields in docs/NIGHTLY.md)",
                path.display()
            )
        })?;
        let config: Self =
            toml::from_str(&text).with_context(|| format!("in {}", path.display()))?;
        if config.models.is_empty() {
            bail!(
                "{}: `models` is empty; name at least one model id",
                path.display()
            );
        }
        if config.suites.is_empty() && config.tasks.is_empty() {
            bail!("{}: give `suites` or `tasks`", path.display());
        }
        if let Some(workers) = &config.workers {
            if let Err(why) = workers.as_argument().parse::<crate::cli::Workers>() {
                bail!("{}: workers: {why}", path.display());
            }
        }
        if config.limit == Some(0) {
            bail!(
                "{}: limit = 0 runs nothing; give at least 1 or leave it out for every item",
                path.display()
            );
        }
        Ok(config)
    }

    /// `yardstick run …` arguments for this configuration.
    pub fn run_arguments(&self, run_id: &str, results_dir: &Path) -> Vec<String> {
        let mut args = vec!["yardstick".to_string(), "run".to_string()];
        args.extend(["--model".into(), self.models.join(",")]);
        if !self.suites.is_empty() {
            args.extend(["--suite".into(), self.suites.join(",")]);
        }
        if !self.tasks.is_empty() {
            args.extend(["--task".into(), self.tasks.join(",")]);
        }
        match self.limit {
            Some(limit) => args.extend(["--limit".into(), limit.to_string()]),
            None => args.push("--full".into()),
        }
        if let Some(max) = self.max_new_tokens {
            args.extend(["--max-new-tokens".into(), max.to_string()]);
        }
        if self.allow_code_exec {
            args.push("--allow-code-exec".into());
        }
        if let Some(hardware) = &self.hardware {
            args.extend(["--hardware".into(), hardware.clone()]);
        }
        if let Some(workers) = &self.workers {
            args.extend(["--workers".into(), workers.as_argument()]);
        }
        args.extend(["--run-id".into(), run_id.into()]);
        args.extend(["--results-dir".into(), results_dir.display().to_string()]);
        args
    }
}

/// The latest finished run before `current` (by start time) with the same plan under the same
/// speed conditions ([`nightly_comparable`]).
pub fn previous_comparable<'a>(
    runs: &'a [FinishedRun],
    current: &FinishedRun,
) -> Option<&'a FinishedRun> {
    crate::report::leaderboard::complete_runs(runs)
        .filter(|r| r.manifest.run_id != current.manifest.run_id)
        .filter(|r| r.manifest.started_at < current.manifest.started_at)
        .filter(|r| nightly_comparable(&r.manifest, &current.manifest))
        .max_by(|a, b| a.manifest.started_at.cmp(&b.manifest.started_at))
}

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
    let headline = |r: &crate::store::TaskResult| r.metrics.get(&r.primary_metric).cloned();
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

#[cfg(test)]
mod tests {
    use super::*;

    fn load(workers: &str) -> Result<NightlyConfig> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nightly.toml");
        std::fs::write(
            &path,
            format!("models = [\"m\"]\ntasks = [\"t\"]\nlimit = 2\n{workers}\n"),
        )
        .unwrap();
        NightlyConfig::load(&path)
    }

    #[test]
    fn workers_take_a_number_or_auto() {
        let arguments = |config: NightlyConfig| config.run_arguments("n1", Path::new("results"));
        let numeric = arguments(load("workers = 2").unwrap());
        assert!(
            numeric.windows(2).any(|w| w == ["--workers", "2"]),
            "{numeric:?}"
        );
        let text = arguments(load("workers = \"auto\"").unwrap());
        assert!(
            text.windows(2).any(|w| w == ["--workers", "auto"]),
            "{text:?}"
        );
        let err = format!("{:#}", load("workers = 0").unwrap_err());
        assert!(
            err.contains("nightly.toml: workers") && err.contains("1 to 64"),
            "{err}"
        );
        assert!(load("workers = 2.5").is_err());
    }
}
