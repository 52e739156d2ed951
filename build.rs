//! Records the git commit the binary is built from and the mistral.rs version Cargo.lock
//! resolved (marked when mistralrs-core is patched), for run manifests; lists the shipped task
//! specs (`tasks/**/task.toml`) so the binary carries them as its built-in configuration layer.
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let commit = Command::new("git")
        .args(["describe", "--always", "--dirty", "--abbrev=12"])
        .output()
        .ok()
        .filter(|out| out.status.success())
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".to_string());
    println!("cargo:rustc-env=YARDSTICK_GIT_COMMIT={commit}");
    // The version actually built (Cargo.lock), not a constant that could drift from it.
    let lock = std::fs::read_to_string("Cargo.lock").expect("Cargo.lock is readable");
    let (mistralrs, _) = locked_package(&lock, "mistralrs").expect("Cargo.lock lists mistralrs");
    // A build with a patched mistralrs-core (benches/patches, `[patch.crates-io]`) says so
    // wherever the version is shown or compared: manifests, calibration, `doctor`.
    let backend = match locked_package(&lock, "mistralrs-core") {
        Some((core, false)) => {
            format!("{mistralrs} with mistralrs-core {core} (not the registry's)")
        }
        Some((core, true)) if core != mistralrs => {
            format!("{mistralrs} with mistralrs-core {core}")
        }
        _ => mistralrs,
    };
    println!("cargo:rustc-env=YARDSTICK_MISTRALRS_VERSION={backend}");
    write_shipped_tasks();
    println!("cargo:rerun-if-changed=Cargo.lock");
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-changed=.git/index");
}

/// The version Cargo.lock resolved for package `name`, and whether it comes from the registry
/// (a `[patch]` to a local folder has no `source`).
fn locked_package(lock: &str, name: &str) -> Option<(String, bool)> {
    let package = lock
        .split("[[package]]")
        .find(|package| package.contains(&format!("\nname = \"{name}\"\n")))?;
    let version = package
        .lines()
        .find_map(|line| line.strip_prefix("version = \""))?
        .trim_end_matches('"')
        .to_string();
    let from_registry = package
        .lines()
        .any(|line| line.starts_with("source = \"registry+"));
    Some((version, from_registry))
}

/// Writes `$OUT_DIR/shipped_tasks.rs`: `(path under tasks/, include_str!(spec))` for every spec.
fn write_shipped_tasks() {
    // Read when the script runs, not when it is compiled: a build script compiled for another
    // checkout of the same source (a shared CARGO_TARGET_DIR) would read that checkout's tasks.
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let root = Path::new(&manifest_dir).join("tasks");
    let mut specs = Vec::new();
    find_specs(&root, &mut specs);
    specs.sort();
    let mut code = String::from("&[\n");
    for spec in &specs {
        let relative = spec.strip_prefix(&root).expect("under tasks/");
        code.push_str(&format!(
            "    ({:?}, include_str!({:?})),\n",
            relative.to_string_lossy(),
            spec.to_string_lossy()
        ));
    }
    code.push_str("]\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(out.join("shipped_tasks.rs"), code).expect("OUT_DIR is writable");
    println!("cargo:rerun-if-changed=tasks");
}

fn find_specs(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("tasks/ is readable") {
        let path = entry.expect("tasks/ is readable").path();
        if path.is_dir() {
            println!("cargo:rerun-if-changed={}", path.display());
            find_specs(&path, out);
        } else if path.file_name().is_some_and(|name| name == "task.toml") {
            out.push(path);
        }
    }
}
