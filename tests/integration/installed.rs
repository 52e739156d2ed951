//! An installed binary runs on its own: copied out of the build (as `cargo install` would put
//! it) and started from an empty folder with no project around it, it uses the configuration
//! compiled into it, a user layer in `~/.config/yardstick/` and `--tasks-dir` folders, and
//! writes results under `~/.local/share/yardstick/`.

use std::path::Path;
use std::process::{Command, Output};

use yardstick::files::sha256_file;

use crate::support::{project_dir, provisioned_cache, pulled_model, stderr};

/// A copy of gsm8k_chat's spec under another name.
fn renamed_task(dir: &Path, name: &str) {
    let spec = std::fs::read_to_string(project_dir().join("tasks/math/gsm8k_chat/task.toml"))
        .unwrap()
        .replace("name = \"gsm8k_chat\"", &format!("name = \"{name}\""));
    std::fs::create_dir_all(dir.join(name)).unwrap();
    std::fs::write(dir.join(name).join("task.toml"), spec).unwrap();
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn an_installed_binary_runs_from_an_empty_folder_with_built_in_and_user_layers() {
    let root = tempfile::tempdir().unwrap();
    let bin = root.path().join("bin/yardstick");
    std::fs::create_dir_all(bin.parent().unwrap()).unwrap();
    std::fs::copy(env!("CARGO_BIN_EXE_yardstick"), &bin).unwrap();
    let home = root.path().join("home");
    let empty = root.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();

    // The user layer: one task, one model (a path to the cached SmolLM2 under a new id).
    let user = home.join(".config/yardstick");
    renamed_task(&user.join("tasks"), "gsm8k_mine");
    let gguf = pulled_model("smollm2-135m-instruct");
    let sha = sha256_file(&gguf, None).unwrap();
    std::fs::write(
        user.join("models.toml"),
        format!(
            "[[model]]\nid = \"my-smol\"\ndisplay_name = \"My SmolLM2\"\nfamily = \"smollm2\"\n\
             architecture = \"llama\"\nparameters = \"135M\"\nquantization = \"Q4_1\"\n\
             license = \"Apache-2.0\"\nsize_bytes = 98362432\nsha256 = \"{sha}\"\n\
             source = {{ kind = \"path\", path = {:?} }}\n",
            gguf.display().to_string()
        ),
    )
    .unwrap();
    let extra = root.path().join("extra-tasks");
    renamed_task(&extra, "gsm8k_extra");

    let yardstick = |args: &[&str]| -> Output {
        Command::new(&bin)
            .current_dir(&empty)
            .args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap())
            .env("HOME", &home)
            .env("YARDSTICK_HOME", &provisioned_cache().home)
            .output()
            .unwrap()
    };

    let doctor = yardstick(&["doctor"]);
    assert!(doctor.status.success(), "{}", stderr(&doctor));
    let doctor = stdout(&doctor);
    for expected in [
        "built-in".to_string(),
        "none (the current folder has no models.toml)".into(),
        format!("{} (models.toml, tasks)", user.display()),
        format!("{}", home.join(".local/share/yardstick/results").display()),
    ] {
        assert!(
            doctor.contains(&expected),
            "doctor lacks {expected:?}:\n{doctor}"
        );
    }

    let tasks = yardstick(&["tasks", "list", "--tasks-dir", extra.to_str().unwrap()]);
    assert!(tasks.status.success(), "{}", stderr(&tasks));
    let tasks = stdout(&tasks);
    for name in [
        "humaneval",
        "humaneval_evalplus",
        "gsm8k",
        "pubmedqa_chat",
        "gsm8k_mine",
        "gsm8k_extra",
    ] {
        assert!(
            tasks
                .lines()
                .any(|l| l.split_whitespace().any(|w| w == name)),
            "{name} missing:\n{tasks}"
        );
    }

    let models = stdout(&yardstick(&["models", "list"]));
    let row = |id: &str| {
        models
            .lines()
            .find(|l| l.starts_with(&format!("{id} ")))
            .unwrap_or_else(|| panic!("{id} missing:\n{models}"))
            .to_string()
    };
    assert!(row("smollm2-135m-instruct").ends_with("built-in"));
    assert!(
        row("my-smol").contains("present, verified")
            && row("my-smol").ends_with(&user.join("models.toml").display().to_string())
    );

    let run = yardstick(&[
        "run",
        "--model",
        "my-smol",
        "--task",
        "gsm8k_mine",
        "--limit",
        "1",
        "--no-pull",
        "--dtype",
        "f32",
        "--weights",
        "quantized",
        "--tasks-dir",
        extra.to_str().unwrap(),
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    let runs = home.join(".local/share/yardstick/results/runs");
    let run_dir = std::fs::read_dir(&runs)
        .unwrap()
        .next()
        .expect("a run folder")
        .unwrap()
        .path();
    let samples = std::fs::read_to_string(run_dir.join("samples.jsonl")).unwrap();
    let manifest = std::fs::read_to_string(run_dir.join("manifest.json")).unwrap();
    assert!(
        manifest.contains("my-smol") && manifest.contains("gsm8k_mine"),
        "{manifest}"
    );
    assert_eq!(samples.lines().count(), 1, "{samples}");
    assert!(samples.contains("\"gsm8k_mine\""), "{samples}");
}
