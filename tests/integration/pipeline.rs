//! A whole run through the scripted backend: a task that exists only as files in a temporary
//! folder, its data imported into a temporary cache, and every file the run writes checked.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Result;
use yardstick::backend::scripted::ScriptedBackend;
use yardstick::backend::{Backend, BackendLoader, Sampling, Setup};
use yardstick::data::DataCache;
use yardstick::models::{ModelEntry, Registry};
use yardstick::runner::{execute, new_manifest, RunPlan};
use yardstick::store::{
    merge, read_samples, Manifest, MergeOrigin, RunDir, RunOutcome, Shard, Summary, Verdict,
};
use yardstick::tasks::TaskSet;

use crate::support::project_dir;

const TOY_TASK: &str = r#"
name = "toy_sums"
suite = "toy"
version = 3
description = "Adds two numbers."

[dataset]
file = "toy/sums.jsonl"
sha256 = "SHA"
license = "CC0-1.0"

[items]
id_field = "id"

[prompt]
style = "completion"
template = "{{ doc.a }} + {{ doc.b }} ="

[generation]
max_new_tokens = 8
stop = ["\n"]

[reference]
field = "sum"

[[filter]]
name = "first-number"
steps = [{ op = "regex", pattern = '-?[0-9]+' }, { op = "normalize_number" }]

[[metric]]
name = "exact_match"
filters = ["first-number"]
"#;

const TOY_DATA: &str = "{\"id\":\"s0\",\"a\":1,\"b\":2,\"sum\":3}\n\
{\"id\":\"s1\",\"a\":2,\"b\":2,\"sum\":4}\n\
{\"id\":\"s2\",\"a\":5,\"b\":5,\"sum\":10}\n\
{\"id\":\"s3\",\"a\":7,\"b\":1,\"sum\":8}\n";

struct Scripted;

impl BackendLoader for Scripted {
    fn load(&self, _model: &ModelEntry, _setup: Setup) -> Result<Box<dyn Backend>> {
        // Right on every sum except 5 + 5.
        Ok(Box::new(ScriptedBackend::new(|prompt| {
            let numbers: Vec<i64> = prompt
                .split(|c: char| !c.is_ascii_digit())
                .filter_map(|s| s.parse().ok())
                .collect();
            let sum: i64 = numbers.iter().sum();
            if sum == 10 {
                " 11\nignored".into()
            } else {
                format!(" {sum}\nignored")
            }
        })))
    }

    fn backend_name(&self) -> (String, String) {
        ("scripted".into(), "0".into())
    }
}

/// The toy task as files in a temporary folder, its data imported into a temporary cache.
pub(crate) struct Toy {
    pub(crate) tasks: TaskSet,
    pub(crate) data: DataCache,
    pub(crate) results: tempfile::TempDir,
    /// What the import copied into the cache.
    imported: Vec<String>,
    pub(crate) _folders: [tempfile::TempDir; 3],
}

pub(crate) fn toy() -> Toy {
    toy_named("toy_sums", "toy")
}

/// [`toy`] under another task name and suite (e.g. an index task's, for a run that has a
/// quality index).
pub(crate) fn toy_named(name: &str, suite: &str) -> Toy {
    let tasks_dir = tempfile::tempdir().unwrap();
    let data_source = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    fs::write(data_source.path().join("sums.jsonl"), TOY_DATA).unwrap();
    let sha = yardstick::files::sha256_file(&data_source.path().join("sums.jsonl"), None).unwrap();
    fs::create_dir_all(tasks_dir.path().join("toy").join(name)).unwrap();
    fs::write(
        tasks_dir.path().join("toy").join(name).join("task.toml"),
        TOY_TASK
            .replace("SHA", &sha)
            .replace("name = \"toy_sums\"", &format!("name = \"{name}\""))
            .replace("suite = \"toy\"", &format!("suite = \"{suite}\"")),
    )
    .unwrap();
    let tasks = TaskSet::discover(tasks_dir.path()).unwrap();
    let data = DataCache::new(home.path().join("data"));
    let imported = data
        .import(data_source.path(), &tasks.datasets())
        .unwrap()
        .imported;
    Toy {
        tasks,
        data,
        results: tempfile::tempdir().unwrap(),
        imported,
        _folders: [tasks_dir, data_source, home],
    }
}

/// Runs the toy task with the first `models` registry models through the scripted backend as
/// run `run_id` (optionally one shard).
pub(crate) fn run_toy(
    models: usize,
    tasks: &TaskSet,
    data: &DataCache,
    results: &Path,
    run_id: &str,
    shard: Option<Shard>,
) -> RunOutcome {
    run_toy_with(&Scripted, models, tasks, data, results, run_id, shard)
}

/// [`run_toy`] with another backend loader.
pub(crate) fn run_toy_with(
    loader: &dyn BackendLoader,
    models: usize,
    tasks: &TaskSet,
    data: &DataCache,
    results: &Path,
    run_id: &str,
    shard: Option<Shard>,
) -> RunOutcome {
    let registry = Registry::load(&project_dir().join("models.toml")).unwrap();
    let selected = tasks.all();
    let plan = RunPlan {
        run_id: run_id.into(),
        models: registry.models()[..models].to_vec(),
        tasks: RunPlan::prepare_tasks(&selected, data, None).unwrap(),
        limit: None,
        sampling: Sampling::greedy(),
        samples_per_item: 1,
        max_new_tokens: None,
        results_dir: results.to_path_buf(),
        shard,
        predict_only: false,
    };
    let run_dir = RunDir::create(&plan.results_dir, &plan.run_id).unwrap();
    let manifest = new_manifest(&plan, loader, vec!["yardstick".into(), "run".into()]);
    execute(&plan, run_dir, loader, manifest, Vec::new()).unwrap()
}

#[test]
fn shards_merged_equal_the_unsharded_run() {
    let Toy {
        tasks,
        data,
        results,
        _folders: _keep_alive,
        ..
    } = toy();

    // Two models × four items = eight work units over three shards.
    let whole = run_toy(2, &tasks, &data, results.path(), "whole", None);
    let shards: Vec<PathBuf> = (1..=3)
        .map(|index| {
            run_toy(
                2,
                &tasks,
                &data,
                results.path(),
                &format!("shard{index}"),
                Some(Shard { index, count: 3 }),
            )
            .run_dir
        })
        .collect();
    let sizes: Vec<usize> = shards
        .iter()
        .map(|s| read_samples(s).unwrap().len())
        .collect();
    assert_eq!(sizes, vec![3, 3, 2], "round-robin over the work units");

    let merged_dir = RunDir::create(results.path(), "merged").unwrap();
    // One shard ran for 100 s (on another machine, say): the merged run took at least that.
    let summary_file = shards[1].join("summary.json");
    let mut slow: serde_json::Value =
        serde_json::from_slice(&fs::read(&summary_file).unwrap()).unwrap();
    slow["wall_seconds"] = serde_json::json!(100.0);
    // … and held 64 GiB at its peak, more than this test process ever will.
    let big = 64_u64 << 30;
    slow["peak_rss_bytes"] = serde_json::json!(big);
    fs::write(&summary_file, serde_json::to_vec(&slow).unwrap()).unwrap();
    let merged = merge(&shards, &tasks, merged_dir, MergeOrigin::default()).unwrap();
    assert!(
        (100.0..110.0).contains(&merged.summary.wall_seconds),
        "the merged run's wall time is its longest part's plus the merge: {}",
        merged.summary.wall_seconds
    );
    assert_eq!(
        merged.summary.peak_rss_bytes,
        Some(big),
        "the merged run's peak memory is its largest part's"
    );
    let strip = |samples: Vec<yardstick::store::SampleRecord>| -> Vec<_> {
        samples
            .into_iter()
            .map(|s| {
                (
                    s.model,
                    s.task,
                    s.item_id,
                    s.output,
                    s.extracted,
                    s.scores,
                    s.verdict,
                )
            })
            .collect()
    };
    assert_eq!(
        strip(read_samples(&merged.run_dir).unwrap()),
        strip(read_samples(&whole.run_dir).unwrap())
    );
    let metrics = |summary: &yardstick::store::Summary| -> Vec<_> {
        summary
            .results
            .iter()
            .map(|r| (r.model.clone(), r.task.clone(), r.metrics.clone()))
            .collect()
    };
    assert_eq!(metrics(&merged.summary), metrics(&whole.summary));
    assert_eq!(merged.summary.quality, whole.summary.quality);

    // Incomplete or foreign sets are refused.
    let err = merge(
        &shards[..2],
        &tasks,
        RunDir::create(results.path(), "partial").unwrap(),
        MergeOrigin::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("not exactly 1 to 3"), "{err}");
    let err = merge(
        &[shards[0].clone(), whole.run_dir.clone()],
        &tasks,
        RunDir::create(results.path(), "mixed").unwrap(),
        MergeOrigin::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("not a shard"), "{err}");
}

#[test]
fn task_defined_as_files_runs_and_every_output_file_is_complete() {
    let Toy {
        tasks,
        data,
        results,
        imported,
        _folders: _keep_alive,
    } = toy();
    assert_eq!(imported, vec!["toy/sums.jsonl".to_string()]);

    let registry = Registry::load(&project_dir().join("models.toml")).unwrap();
    let outcome = run_toy(1, &tasks, &data, results.path(), "toy-run", None);
    let folder = results.path().join("runs/toy-run");
    assert_eq!(outcome.run_dir, folder);

    let samples = read_samples(&folder).unwrap();
    assert_eq!(samples.len(), 4);
    assert_eq!(samples[2].item_id, "s2");
    assert_eq!(samples[2].output, " 11", "cut at the stop sequence");
    assert_eq!(samples[2].extracted["first-number"].as_deref(), Some("11"));
    assert_eq!(samples[2].reference, "10");
    assert_eq!(samples[2].verdict, Verdict::Incorrect);
    assert_eq!(samples[0].verdict, Verdict::Correct);
    assert_eq!(samples[0].task_version, 3);
    assert!(samples
        .iter()
        .all(|s| s.time_to_first_token_s > 0.0 && s.total_latency_s >= s.time_to_first_token_s));

    let summary: Summary =
        serde_json::from_slice(&fs::read(folder.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary, outcome.summary);
    let result = &summary.results[0];
    assert_eq!(
        (
            result.model.as_str(),
            result.task.as_str(),
            result.suite.as_str()
        ),
        ("smollm2-135m-instruct", "toy_sums", "toy")
    );
    let estimate = &result.metrics["exact_match,first-number"];
    assert_eq!(estimate.n, 4);
    assert!((estimate.value - 0.75).abs() < 1e-12);
    // Clopper–Pearson for 3 of 4: [0.194, 0.994].
    assert!((estimate.ci_low - 0.1941).abs() < 1e-3 && (estimate.ci_high - 0.9937).abs() < 1e-3);
    assert_eq!(estimate.ci_method, "clopper-pearson");
    assert!(estimate.preliminary, "4 items is preliminary");
    assert!(
        result.speed.output_tokens_per_second.is_none(),
        "one-token outputs have no decode speed"
    );
    assert_eq!(result.speed.time_to_first_token_s.as_ref().unwrap().n, 4);

    let manifest: Manifest =
        serde_json::from_slice(&fs::read(folder.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest.models[0].sha256, registry.default_model().sha256);
    assert_eq!(
        manifest.tasks[0].datasets[0].sha256,
        tasks.datasets()[0].sha256
    );
    assert_eq!(manifest.tasks[0].items, 4);
    assert!(manifest.finished_at.is_some());
    let nproc = std::process::Command::new("nproc").output().unwrap();
    let cores: usize = String::from_utf8_lossy(&nproc.stdout)
        .trim()
        .parse()
        .unwrap();
    assert_eq!(
        manifest.machine.logical_cores, cores,
        "as nproc counts them"
    );
    assert_eq!(manifest.harness_version, env!("CARGO_PKG_VERSION"));
}

#[test]
fn an_existing_run_folder_is_never_reused() {
    let results = tempfile::tempdir().unwrap();
    let first = RunDir::create(results.path(), "same").unwrap();
    fs::write(first.path().join("marker"), "kept").unwrap();
    let err = RunDir::create(results.path(), "same")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("already exists") && err.contains("--run-id"),
        "{err}"
    );
    assert_eq!(
        fs::read_to_string(first.path().join("marker")).unwrap(),
        "kept"
    );
    assert!(RunDir::create(results.path(), "../escape").is_err());
}
