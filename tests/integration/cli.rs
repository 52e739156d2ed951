//! Bad input through the real binary: each gets a message naming what is wrong and how to fix
//! it, a non-zero exit, and nothing already written is damaged.

use std::fs;
use std::path::Path;

use yardstick::files::sha256_file;

use crate::support::{
    provisioned_cache, pulled_model, stderr, temp_project, yardstick, yardstick_cached,
};

#[test]
fn unknown_model_lists_the_valid_ones() {
    let project = temp_project();
    let out = yardstick(project.path(), &["run", "--model", "gpt-17"], &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("unknown model \"gpt-17\""), "{err}");
    assert!(
        err.contains("smollm2-135m-instruct") && err.contains("qwen2.5-coder-0.5b-instruct"),
        "{err}"
    );
}

#[test]
fn unknown_task_and_suite_list_the_valid_ones() {
    let project = temp_project();
    let out = yardstick(project.path(), &["run", "--task", "gsm9k"], &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    let listed = [
        "known tasks:",
        "gsm8k",
        "gsm8k_chat",
        "humaneval",
        "pubmedqa_chat",
    ];
    assert!(listed.iter().all(|name| err.contains(name)), "{err}");
    let out = yardstick(project.path(), &["run", "--suite", "poetry"], &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("known suites: biomedical, code, knowledge, math"),
        "{err}"
    );
}

#[test]
fn bad_limits_are_refused_with_the_value() {
    let project = temp_project();
    for (value, expected) in [("0", "0 is not in 1.."), ("-3", "-3"), ("ten", "ten")] {
        let out = yardstick(project.path(), &["run", "--limit", value], &[]);
        assert_eq!(out.status.code(), Some(2), "--limit {value}");
        let err = stderr(&out);
        assert!(
            err.contains(expected) && err.contains("--limit"),
            "--limit {value}: {err}"
        );
    }
}

#[test]
fn missing_dataset_says_how_to_import_and_writes_nothing() {
    let project = temp_project();
    let home = tempfile::tempdir().unwrap();
    let results = tempfile::tempdir().unwrap();
    let results_arg = results.path().to_str().unwrap();
    let out = yardstick(
        project.path(),
        &[
            "run",
            "--task",
            "gsm8k",
            "--no-pull",
            "--results-dir",
            results_arg,
        ],
        &[
            ("YARDSTICK_HOME", home.path()),
            ("YARDSTICK_OFFLINE", Path::new("1")),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("gsm8k/test.jsonl") && err.contains("yardstick data import"),
        "{err}"
    );
    assert_eq!(
        fs::read_dir(results.path()).unwrap().count(),
        0,
        "no run folder"
    );
}

#[test]
fn malformed_spec_names_file_line_and_field() {
    let project = temp_project();
    let spec = project.path().join("tasks/math/gsm8k/task.toml");
    let text = fs::read_to_string(&spec).unwrap();
    fs::write(
        &spec,
        text.replace("max_new_tokens = 256", "max_new_tokens = \"many\""),
    )
    .unwrap();
    let out = yardstick(project.path(), &["tasks", "list"], &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("tasks/math/gsm8k/task.toml"), "{err}");
    assert!(
        err.contains("line") && err.contains("max_new_tokens"),
        "{err}"
    );
}

#[test]
fn code_tasks_need_consent_outside_the_default_suite() {
    let project = temp_project();
    let out = yardstick(project.path(), &["run", "--task", "humaneval"], &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("humaneval executes model-generated code")
            && err.contains("--allow-code-exec"),
        "{err}"
    );
}

#[test]
fn several_greedy_samples_are_refused() {
    let project = temp_project();
    let out = yardstick(
        project.path(),
        &["run", "--task", "gsm8k", "--samples", "5"],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("--temperature"), "{}", stderr(&out));
}

#[test]
fn unwritable_results_directory_is_reported() {
    let out = yardstick_cached(
        Path::new("/dev/null/results"),
        &["run", "--task", "gsm8k_chat", "--limit", "1"],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("/dev/null/results") && err.contains("--results-dir"),
        "{err}"
    );
}

/// A temporary home holding the real datasets (imported through the CLI) and a results folder
/// with an earlier run that must survive every failure.
fn home_with_data_and_an_earlier_run(project: &Path) -> (tempfile::TempDir, tempfile::TempDir) {
    let home = tempfile::tempdir().unwrap();
    let out = yardstick(
        project,
        &[
            "data",
            "import",
            provisioned_cache().data_dir().to_str().unwrap(),
        ],
        &[("YARDSTICK_HOME", home.path())],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let results = tempfile::tempdir().unwrap();
    let earlier = results.path().join("runs/earlier");
    fs::create_dir_all(&earlier).unwrap();
    fs::write(earlier.join("samples.jsonl"), "{\"kept\":true}\n").unwrap();
    (home, results)
}

fn assert_earlier_run_intact(results: &Path) {
    let kept = fs::read_to_string(results.join("runs/earlier/samples.jsonl")).unwrap();
    assert_eq!(kept, "{\"kept\":true}\n");
    assert_eq!(
        fs::read_dir(results.join("runs")).unwrap().count(),
        1,
        "no new run folder"
    );
}

#[test]
fn corrupted_model_is_reported_removed_and_never_loaded() {
    let project = temp_project();
    let (home, results) = home_with_data_and_an_earlier_run(project.path());
    let model_file = home.path().join("models/smollm2-135m-instruct.gguf");
    fs::create_dir_all(model_file.parent().unwrap()).unwrap();
    fs::write(&model_file, b"GGUF but not the right bytes").unwrap();

    let listed = yardstick(
        project.path(),
        &["models", "list"],
        &[("YARDSTICK_HOME", home.path())],
    );
    assert!(String::from_utf8_lossy(&listed.stdout).contains("MISMATCH"));

    let out = yardstick(
        project.path(),
        &[
            "run",
            "--task",
            "gsm8k_chat",
            "--limit",
            "1",
            "--no-pull",
            "--results-dir",
            results.path().to_str().unwrap(),
        ],
        &[("YARDSTICK_HOME", home.path())],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("sha256") && err.contains("removed") && err.contains("models pull"),
        "{err}"
    );
    assert!(!model_file.exists(), "the bad file is removed");
    assert_earlier_run_intact(results.path());
}

/// Registers `file` under id `local` with its own sha256 as a `path` source.
fn register_local_gguf(project: &Path, file: &Path) {
    let sha = sha256_file(file, None).unwrap();
    let entry = format!(
        "\n[[model]]\nid = \"local\"\ndisplay_name = \"Local\"\nfamily = \"x\"\narchitecture = \"llama\"\n\
         parameters = \"135M\"\nquantization = \"Q4_1\"\nlicense = \"Apache-2.0\"\nsize_bytes = 1\n\
         sha256 = \"{sha}\"\nsource = {{ kind = \"path\", path = \"{}\" }}\n",
        file.display()
    );
    let registry = project.join("models.toml");
    let mut text = fs::read_to_string(&registry).unwrap();
    text.push_str(&entry);
    fs::write(registry, text).unwrap();
}

#[test]
fn truncated_and_foreign_files_are_refused() {
    let real = fs::read(pulled_model("smollm2-135m-instruct")).unwrap();
    for (bytes, expected) in [
        (&real[..8 << 20], "truncated"),
        (&b"<html>not a model</html>"[..], "not a GGUF file"),
    ] {
        let project = temp_project();
        let (home, results) = home_with_data_and_an_earlier_run(project.path());
        let file = project.path().join("local.gguf");
        fs::write(&file, bytes).unwrap();
        register_local_gguf(project.path(), &file);
        let out = yardstick(
            project.path(),
            &[
                "run",
                "--model",
                "local",
                "--task",
                "gsm8k_chat",
                "--limit",
                "1",
                "--no-pull",
                "--results-dir",
                results.path().to_str().unwrap(),
            ],
            &[("YARDSTICK_HOME", home.path())],
        );
        assert_eq!(out.status.code(), Some(1));
        let err = stderr(&out);
        assert!(
            err.contains(expected) && err.contains("local.gguf"),
            "{err}"
        );
        assert!(file.exists(), "a user's own file is never deleted");
        assert_earlier_run_intact(results.path());
    }
}

#[test]
fn calibration_probe_refuses_anything_but_its_request() {
    use std::io::Write;
    let mut probe = std::process::Command::new(env!("CARGO_BIN_EXE_yardstick"))
        .arg("calibrate-probe")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(probe.stdin.take().unwrap(), "run everything").unwrap();
    let out = probe.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("calibrate-probe reads one JSON request"),
        "{err}"
    );
    assert!(
        out.stdout.is_empty(),
        "no ready line before a valid request"
    );
}
