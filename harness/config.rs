//! Layered configuration: the model registry, hardware profiles, provider prices and tasks one
//! invocation sees. Layers, lowest first:
//!
//! 1. **built-in**: the files shipped with yardstick (`models.toml`, `hardware.toml`,
//!    `prices/`, `tasks/`), compiled into the binary, so an installed binary needs nothing else;
//! 2. **project**: a checkout or install folder in the current directory (one holding
//!    `models.toml`): each of its files replaces the built-in one;
//! 3. **user**: `$YARDSTICK_CONFIG` (default `~/.config/yardstick/`): `models.toml`,
//!    `hardware.toml`, `tasks/`; its entries are added, and replace lower layers' entries of the
//!    same model id, profile name or task name;
//! 4. **`--tasks-dir DIR`** (repeatable, later wins): task folders for one invocation, as
//!    lm-evaluation-harness's `--include_path`.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::hardware::HardwareProfiles;
use crate::locations::Locations;
use crate::models::{Registry, RegistryLayer};
use crate::prices::ProviderPrices;
use crate::tasks::TaskSet;

const SHIPPED_MODELS: &str = include_str!("../models.toml");
const SHIPPED_HARDWARE: &str = include_str!("../hardware.toml");
const SHIPPED_PRICES: &str = include_str!("../prices/open_weights_provider_prices.csv");
/// `(path under tasks/, spec text)` of every shipped task (written by build.rs).
const SHIPPED_TASKS: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/shipped_tasks.rs"));

const BUILT_IN: &str = "built-in";
const MODELS_FILE: &str = "models.toml";
const HARDWARE_FILE: &str = "hardware.toml";
const PRICES_FILE: &str = "prices/open_weights_provider_prices.csv";
const TASKS_DIR: &str = "tasks";

/// The model registry of every layer.
pub fn registry(locations: &Locations) -> Result<Registry> {
    Registry::from_layers(&registry_layers(locations)?)
}

/// The registry files in use, lowest first.
pub fn registry_layers(locations: &Locations) -> Result<Vec<RegistryLayer>> {
    let mut layers = vec![match locations.project_file(MODELS_FILE) {
        Some(path) => file_layer(&path)?,
        None => RegistryLayer {
            text: SHIPPED_MODELS.to_string(),
            base: PathBuf::from("."),
            origin: BUILT_IN.into(),
        },
    }];
    let user = locations.user_registry_file();
    if user.is_file() {
        layers.push(file_layer(&user)?);
    }
    Ok(layers)
}

/// A registry file as a layer (its folder resolves relative `path` sources).
pub fn file_layer(path: &Path) -> Result<RegistryLayer> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the model registry {}", path.display()))?;
    Ok(file_layer_text(path, text))
}

/// The layer `path` would be if it held `text`.
pub fn file_layer_text(path: &Path, text: String) -> RegistryLayer {
    RegistryLayer {
        text,
        base: path.parent().unwrap_or(Path::new(".")).to_path_buf(),
        origin: path.display().to_string(),
    }
}

/// The tasks of every layer.
pub fn tasks(locations: &Locations) -> Result<TaskSet> {
    let mut layers = vec![match locations.project_file(TASKS_DIR) {
        Some(dir) => TaskSet::load_dir(&dir)?,
        None => TaskSet::parse_specs(&shipped_task_specs())?,
    }];
    let user = locations.config.join(TASKS_DIR);
    if user.is_dir() {
        layers.push(TaskSet::load_dir(&user)?);
    }
    for dir in &locations.task_dirs {
        if !dir.is_dir() {
            bail!(
                "--tasks-dir {}: no such folder (it should hold task folders with a task.toml each)",
                dir.display()
            );
        }
        layers.push(TaskSet::load_dir(dir)?);
    }
    Ok(TaskSet::from_layers(layers))
}

fn shipped_task_specs() -> Vec<(PathBuf, &'static str)> {
    SHIPPED_TASKS
        .iter()
        .map(|(relative, text)| (Path::new("<built-in>/tasks").join(relative), *text))
        .collect()
}

/// The hardware price profiles of every layer.
pub fn hardware(locations: &Locations) -> Result<HardwareProfiles> {
    let lower = match locations.project_file(HARDWARE_FILE) {
        Some(path) => HardwareProfiles::load(&path)?,
        None => {
            HardwareProfiles::parse(SHIPPED_HARDWARE).context("in the built-in hardware.toml")?
        }
    };
    let user = locations.config.join(HARDWARE_FILE);
    Ok(if user.is_file() {
        lower.overlaid_with(HardwareProfiles::load(&user)?)
    } else {
        lower
    })
}

/// The provider price list: the project's, else the built-in snapshot.
pub fn provider_prices(locations: &Locations) -> Result<ProviderPrices> {
    match locations.project_file(PRICES_FILE) {
        Some(path) => ProviderPrices::load(&path),
        None => ProviderPrices::parse(SHIPPED_PRICES, "the built-in price list"),
    }
}

/// The layers in use, lowest first, as `(layer, what it holds)` lines for `doctor`.
pub fn describe(locations: &Locations) -> Vec<(String, String)> {
    let mut lines = vec![(
        BUILT_IN.to_string(),
        format!(
            "{MODELS_FILE}, {HARDWARE_FILE}, prices, {} tasks (compiled in)",
            SHIPPED_TASKS.len()
        ),
    )];
    let project = match &locations.project {
        Some(dir) => {
            let files: Vec<&str> = [MODELS_FILE, HARDWARE_FILE, PRICES_FILE, TASKS_DIR]
                .into_iter()
                .filter(|f| dir.join(f).exists())
                .collect();
            format!(
                "{} ({}; these replace the built-in ones)",
                dir.display(),
                files.join(", ")
            )
        }
        None => "none (the current folder has no models.toml)".to_string(),
    };
    lines.push(("project".into(), project));
    let held: Vec<&str> = [MODELS_FILE, HARDWARE_FILE, TASKS_DIR]
        .into_iter()
        .filter(|f| locations.config.join(f).exists())
        .collect();
    let user = if held.is_empty() {
        format!(
            "{} (nothing there yet; `models add` writes {MODELS_FILE} there)",
            locations.config.display()
        )
    } else {
        format!("{} ({})", locations.config.display(), held.join(", "))
    };
    lines.push(("user".into(), user));
    for dir in &locations.task_dirs {
        lines.push(("--tasks-dir".into(), dir.display().to_string()));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn installed(config: &Path) -> Locations {
        Locations {
            home: PathBuf::from("/nonexistent/cache"),
            config: config.to_path_buf(),
            project: None,
            task_dirs: Vec::new(),
            default_results: PathBuf::from("/nonexistent/results"),
        }
    }

    #[test]
    fn the_built_in_layer_equals_the_shipped_files() {
        let built_in = installed(Path::new("/nonexistent/config"));
        let project = Locations::new("/nonexistent/cache", env!("CARGO_MANIFEST_DIR"));
        let names = |l: &Locations| {
            tasks(l)
                .unwrap()
                .all()
                .iter()
                .map(|t| t.name().to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(names(&built_in), names(&project));
        assert!(names(&built_in).len() >= 6);
        let ids = |l: &Locations| {
            registry(l)
                .unwrap()
                .models()
                .iter()
                .map(|m| m.id.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(&built_in), ids(&project));
        assert_eq!(
            hardware(&built_in).unwrap().all().len(),
            hardware(&project).unwrap().all().len()
        );
        assert!(tasks(&built_in)
            .unwrap()
            .get("gsm8k")
            .unwrap()
            .path
            .starts_with("<built-in>"));
    }

    #[test]
    fn a_missing_tasks_dir_is_named() {
        let mut locations = installed(Path::new("/nonexistent/config"));
        locations
            .task_dirs
            .push(PathBuf::from("/nonexistent/my-tasks"));
        let error = format!("{:#}", tasks(&locations).unwrap_err());
        assert!(
            error.contains("/nonexistent/my-tasks") && error.contains("no such folder"),
            "{error}"
        );
    }
}
