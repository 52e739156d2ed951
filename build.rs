//! Records the git commit the binary is built from and the mistral.rs version Cargo.lock
//! resolved, for run manifests.
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
    let mistralrs = lock
        .split("[[package]]")
        .find(|package| package.contains("\nname = \"mistralrs\"\n"))
        .and_then(|package| {
            package
                .lines()
                .find_map(|line| line.strip_prefix("version = \""))
                .map(|v| v.trim_end_matches('"').to_string())
        })
        .expect("Cargo.lock lists mistralrs");
    println!("cargo:rustc-env=YARDSTICK_MISTRALRS_VERSION={mistralrs}");
    println!("cargo:rerun-if-changed=Cargo.lock");
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-changed=.git/index");
}
