//! Where yardstick keeps things: the cache (`YARDSTICK_HOME`), the user's configuration layer
//! (`YARDSTICK_CONFIG`), a project folder in the current directory, extra task folders, and the
//! results folder. Which files each layer holds, and how they combine, is `config`'s job.

use std::path::{Path, PathBuf};

/// Resolved locations for one invocation.
#[derive(Debug, Clone)]
pub struct Locations {
    /// Cache root: models, datasets. `YARDSTICK_HOME`, else `$XDG_CACHE_HOME/yardstick`, else
    /// `~/.cache/yardstick`.
    pub home: PathBuf,
    /// The user's configuration layer: `YARDSTICK_CONFIG`, else `$XDG_CONFIG_HOME/yardstick`,
    /// else `~/.config/yardstick`. It may not exist.
    pub config: PathBuf,
    /// A yardstick checkout or install folder (one holding `models.toml`): the current
    /// directory when it is one. Its files replace the built-in ones, file by file.
    pub project: Option<PathBuf>,
    /// Extra task folders for this invocation (`--tasks-dir`), lowest precedence first.
    pub task_dirs: Vec<PathBuf>,
    /// Where results go by default: the project's `results/`, else `$XDG_DATA_HOME/yardstick/results`
    /// (`~/.local/share/yardstick/results`).
    pub default_results: PathBuf,
}

impl Locations {
    /// Locations from the environment and the current directory.
    pub fn from_env() -> Self {
        let home = env_path("YARDSTICK_HOME")
            .unwrap_or_else(|| xdg_dir("XDG_CACHE_HOME", ".cache").join("yardstick"));
        let config = env_path("YARDSTICK_CONFIG")
            .unwrap_or_else(|| xdg_dir("XDG_CONFIG_HOME", ".config").join("yardstick"));
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        let project = cwd.join("models.toml").is_file().then_some(cwd);
        let default_results = match &project {
            Some(project) => project.join("results"),
            None => xdg_dir("XDG_DATA_HOME", ".local/share")
                .join("yardstick")
                .join("results"),
        };
        Self {
            home,
            config,
            project,
            task_dirs: Vec::new(),
            default_results,
        }
    }

    /// Locations rooted at explicit folders (tests, embedding): the cache `home` and the project
    /// folder `project`, with no user layer.
    pub fn new(home: impl Into<PathBuf>, project: impl Into<PathBuf>) -> Self {
        let project = project.into();
        Self {
            home: home.into(),
            config: PathBuf::from("/nonexistent/yardstick-user-layer"),
            default_results: project.join("results"),
            project: Some(project),
            task_dirs: Vec::new(),
        }
    }

    /// The same locations with `dirs` added as task folders (`--tasks-dir`).
    pub fn with_task_dirs(mut self, dirs: Vec<PathBuf>) -> Self {
        self.task_dirs.extend(dirs);
        self
    }

    /// Where verified model files live.
    pub fn models_dir(&self) -> PathBuf {
        self.home.join("models")
    }

    /// Where imported dataset files live, keyed by sha256.
    pub fn data_dir(&self) -> PathBuf {
        self.home.join("data")
    }

    /// Cached calibrations (the fastest setup per model, machine and build).
    pub fn calibration_dir(&self) -> PathBuf {
        self.home.join("calibration")
    }

    /// The project's copy of a shipped file (`models.toml`, `tasks`, …), if there is a project
    /// and it has one.
    pub fn project_file(&self, relative: &str) -> Option<PathBuf> {
        self.project
            .as_ref()
            .map(|project| project.join(relative))
            .filter(|path| path.exists())
    }

    /// The user layer's registry, where `models add` and `models quantize` write.
    pub fn user_registry_file(&self) -> PathBuf {
        self.config.join("models.toml")
    }

    /// Default results folder.
    pub fn results_dir(&self) -> PathBuf {
        self.default_results.clone()
    }
}

fn env_path(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// `$VAR` if set, else `~/<fallback>`.
fn xdg_dir(var: &str, fallback: &str) -> PathBuf {
    if let Some(dir) = env_path(var) {
        return dir;
    }
    let home = env_path("HOME").unwrap_or_else(|| PathBuf::from("."));
    Path::new(&home).join(fallback)
}
