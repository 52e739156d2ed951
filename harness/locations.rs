//! Where yardstick keeps things: the cache (`YARDSTICK_HOME`) and the project's own files.

use std::path::{Path, PathBuf};

/// Resolved locations for one invocation.
#[derive(Debug, Clone)]
pub struct Locations {
    /// Cache root: models, datasets. `YARDSTICK_HOME`, else `$XDG_CACHE_HOME/yardstick`, else
    /// `~/.cache/yardstick`.
    pub home: PathBuf,
    /// The project folder holding `models.toml` and `tasks/`.
    pub project: PathBuf,
}

impl Locations {
    /// Locations from the environment: the cache from `YARDSTICK_HOME`, the project from the
    /// current directory when it holds `models.toml`, else the folder the binary was built from.
    pub fn from_env() -> Self {
        let home = std::env::var_os("YARDSTICK_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(default_home);
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        let project = if cwd.join("models.toml").is_file() {
            cwd
        } else {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        };
        Self { home, project }
    }

    /// Locations rooted at explicit folders (tests, embedding).
    pub fn new(home: impl Into<PathBuf>, project: impl Into<PathBuf>) -> Self {
        Self {
            home: home.into(),
            project: project.into(),
        }
    }

    /// Where verified model files live.
    pub fn models_dir(&self) -> PathBuf {
        self.home.join("models")
    }

    /// Where imported dataset files live, keyed by sha256.
    pub fn data_dir(&self) -> PathBuf {
        self.home.join("data")
    }

    /// The model registry.
    pub fn registry_file(&self) -> PathBuf {
        self.project.join("models.toml")
    }

    /// Hardware price profiles.
    pub fn hardware_file(&self) -> PathBuf {
        self.project.join("hardware.toml")
    }

    /// Cached calibrations (the fastest setup per model, machine and build).
    pub fn calibration_dir(&self) -> PathBuf {
        self.home.join("calibration")
    }

    /// The vendored provider price list.
    pub fn provider_prices_file(&self) -> PathBuf {
        self.project.join("prices/open_weights_provider_prices.csv")
    }

    /// The task definitions.
    pub fn tasks_dir(&self) -> PathBuf {
        self.project.join("tasks")
    }

    /// Default results folder.
    pub fn results_dir(&self) -> PathBuf {
        self.project.join("results")
    }
}

fn default_home() -> PathBuf {
    if let Some(xdg) = std::env::var_os("XDG_CACHE_HOME").filter(|v| !v.is_empty()) {
        return Path::new(&xdg).join("yardstick");
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    home.join(".cache").join("yardstick")
}
