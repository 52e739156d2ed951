//! Nightly jobs: the configuration (`nightly.toml`) and the run it asks for.

use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::Deserialize;

use crate::backend::ComputeDevice;
use crate::runner::job::RunSettings;
use crate::runner::workers::WorkerCount;
use crate::runner::{Items, RunRequest};

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
    /// Worker processes: a number (`workers = 2`), `"auto"` or `"best"` (the default: measured).
    pub workers: Option<WorkersSetting>,
    /// Where models run: `"cpu"`, `"cuda"`, `"cuda:N"`, `"metal"` (default: the best device
    /// the build has).
    #[serde(default)]
    pub device: Option<ComputeDevice>,
    /// Prefix of run ids (`<prefix>-YYYYMMDD`).
    #[serde(default = "default_prefix")]
    pub run_prefix: String,
}

/// `workers` in nightly.toml: a number, or the text `auto` or `best` (or a number written as
/// text).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum WorkersSetting {
    /// `workers = 2`.
    Count(u64),
    /// `workers = "auto"` or `workers = "2"`.
    Text(String),
}

impl WorkersSetting {
    /// The worker count it names.
    pub fn count(&self) -> Result<WorkerCount, String> {
        match self {
            Self::Count(n) => n.to_string().parse(),
            Self::Text(text) => text.parse(),
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
        if let Some(Err(why)) = config.workers.as_ref().map(WorkersSetting::count) {
            bail!("{}: workers: {why}", path.display());
        }
        if config.limit == Some(0) {
            bail!(
                "{}: limit = 0 runs nothing; give at least 1 or leave it out for every item",
                path.display()
            );
        }
        Ok(config)
    }

    /// The run this configuration asks for, with id `run_id`.
    pub fn request(&self, run_id: &str) -> RunRequest {
        RunRequest {
            models: self.models.clone(),
            tasks: self.tasks.clone(),
            suites: self.suites.clone(),
            items: self.limit.map_or(Items::All, |l| Items::Limit(l as usize)),
            max_new_tokens: self.max_new_tokens.map(|n| n as usize),
            allow_code_exec: self.allow_code_exec,
            run_id: Some(run_id.to_string()),
            ..RunRequest::default()
        }
    }

    /// How the run executes: hardware profile and workers as configured.
    pub fn settings(&self) -> RunSettings {
        RunSettings {
            hardware: self.hardware.clone(),
            workers: self
                .workers
                .as_ref()
                .and_then(|w| w.count().ok())
                .unwrap_or(WorkerCount::Best),
            device: self.device.unwrap_or_else(ComputeDevice::best_compiled),
            ..RunSettings::default()
        }
    }

    /// Tonight's run id: `<run_prefix>-YYYYMMDD` (UTC), so rerunning the same night resumes or
    /// reuses that run.
    pub fn run_id_tonight(&self) -> String {
        format!(
            "{}-{}",
            self.run_prefix,
            chrono::Utc::now().format("%Y%m%d")
        )
    }
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
        let workers = |config: NightlyConfig| config.settings().workers;
        assert_eq!(workers(load("workers = 2").unwrap()), WorkerCount::Count(2));
        assert_eq!(
            workers(load("workers = \"auto\"").unwrap()),
            WorkerCount::Auto
        );
        assert_eq!(workers(load("").unwrap()), WorkerCount::Best);
        let err = format!("{:#}", load("workers = 0").unwrap_err());
        assert!(
            err.contains("nightly.toml: workers") && err.contains("1 to 64"),
            "{err}"
        );
        assert!(load("workers = 2.5").is_err());
    }
}
