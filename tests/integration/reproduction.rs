//! `benches/reproduction.py`:
//!
//! - it sets a published average of several benchmarks beside the same mean of yardstick's
//!   tasks with an interval it computes in Python; the model pages compute it with
//!   [`Estimate::weighted_mean_of_estimates`]. The two must agree, also on small, all-wrong and
//!   all-right parts, or REPRODUCTION.md and the site would give different verdicts;
//! - a row outlives its run's folder (runs stay on the machine that made them) through the
//!   ledger the script rewrites, and gives way only to a run of the task's current version with
//!   more items;
//! - a task's items pair with a matched task's when they are the same records: by id, or for
//!   numbered items (`<task>/<index>`) when both tasks read the same file the same way.

use std::path::Path;
use std::process::Command;

use yardstick::metrics::Estimate;

use crate::support::{project_dir, run_reference};

/// Reads `[[estimate, …], …]` (each `{n, value, stderr, ci_low, ci_high}`) and prints
/// `mean_of_estimates` of each list (after the line that puts benches/ on the path).
const PYTHON_MEAN: &str = r#"
import json
from reproduction import mean_of_estimates
print(json.dumps([mean_of_estimates(parts) for parts in json.load(sys.stdin)]))
"#;

fn outcomes(n: usize, right: usize) -> Vec<f64> {
    (0..n).map(|i| f64::from(u8::from(i < right))).collect()
}

#[test]
fn the_reproduction_script_gives_a_published_average_the_model_pages_interval() {
    let cases: Vec<Vec<Estimate>> = [
        vec![(2376, 1105), (1172, 315)],
        vec![(40, 0), (164, 89)],
        vec![(12, 12), (30, 3)],
        vec![(5, 2), (7, 7), (500, 250)],
        // An all-right part of one item: its variance comes from the floor, and the effective n
        // (not the Kish size) sets the interval.
        vec![(1, 1), (1000, 999)],
    ]
    .iter()
    .map(|parts| {
        parts
            .iter()
            .map(|&(n, right)| Estimate::proportion(&outcomes(n, right)))
            .collect()
    })
    .collect();
    let benches = project_dir().join("benches").display().to_string();
    let script = format!("import sys\nsys.path.insert(0, {benches:?})\n{PYTHON_MEAN}");
    let python = run_reference(&script, &serde_json::json!(cases));
    for (parts, theirs) in cases.iter().zip(python.as_array().unwrap()) {
        let weight = 1.0 / parts.len() as f64;
        let weighted: Vec<(f64, &Estimate)> = parts.iter().map(|e| (weight, e)).collect();
        let ours = Estimate::weighted_mean_of_estimates(&weighted);
        for (field, value) in [
            ("value", ours.value),
            ("ci_low", ours.ci_low),
            ("ci_high", ours.ci_high),
        ] {
            let python = theirs[field].as_f64().unwrap();
            assert!(
                (python - value).abs() < 1e-9,
                "{field}: Python {python}, Rust {value} for {parts:?}"
            );
        }
        assert_eq!(theirs["n"].as_u64(), Some(ours.n as u64));
    }
}

/// A finished run `run_id` of `gsm8k` (task version `version`) on model `m` whose items `0..n`
/// score 1 for the first `right` of them.
fn write_run(results: &Path, run_id: &str, started_at: &str, version: u32, n: usize, right: usize) {
    let ids = (0..n).map(|i| i.to_string()).collect::<Vec<_>>();
    let task = ("gsm8k", version, "exact_match,strict-match");
    write_task_run(results, run_id, started_at, task, &ids, right);
}

/// A finished run `run_id` of `task` (name, version, headline metric) on model `m` with items
/// `ids`, the first `right` of them scored 1.
fn write_task_run(
    results: &Path,
    run_id: &str,
    started_at: &str,
    (task, version, metric): (&str, u32, &str),
    ids: &[String],
    right: usize,
) {
    let folder = results.join("runs").join(run_id);
    std::fs::create_dir_all(&folder).unwrap();
    let scores = outcomes(ids.len(), right);
    let estimate = Estimate::proportion(&scores);
    let manifest = serde_json::json!({
        "run_id": run_id, "started_at": started_at, "finished_at": started_at, "limit": ids.len(),
        "models": [{"id": "m", "quantization": "Q4_1"}],
    });
    let summary = serde_json::json!({"results": [{
        "model": "m", "task": task, "task_version": version, "n": ids.len(),
        "primary_metric": metric, "metrics": {metric: estimate},
    }]});
    let samples: String = ids
        .iter()
        .zip(&scores)
        .map(|(id, score)| {
            // A prompt or output may hold U+2028, which serde_json leaves unescaped and Python's
            // str.splitlines splits at (a GSM8K train question, drawn as an exemplar, has one).
            let sample = serde_json::json!({"model": "m", "task": task, "item_id": id,
                "completion": "one\u{2028}two", "scores": {metric: score}});
            format!("{sample}\n")
        })
        .collect();
    std::fs::write(folder.join("manifest.json"), manifest.to_string()).unwrap();
    std::fs::write(folder.join("summary.json"), summary.to_string()).unwrap();
    std::fs::write(folder.join("samples.jsonl"), samples).unwrap();
}

/// Runs the script on the project under `dir` and returns the doc's GSM8K row.
fn regenerate(dir: &Path) -> String {
    let doc = regenerate_doc(dir);
    doc.lines()
        .find(|line| line.starts_with("| GSM8K |"))
        .unwrap_or_else(|| panic!("no GSM8K row in {doc}"))
        .to_string()
}

/// Runs the script on the project under `dir` and returns the doc it wrote.
fn regenerate_doc(dir: &Path) -> String {
    let output = Command::new("python3")
        .arg(project_dir().join("benches/reproduction.py"))
        .current_dir(dir)
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let doc = std::fs::read_to_string(dir.join("docs/REPRODUCTION.md")).unwrap();
    assert!(doc.starts_with("# Prose kept\n"), "{doc}");
    doc
}

/// A project under `root` with model `m`, published `figure` (TOML of one
/// `[[model.published]]`), task specs `(folder, text)` and a REPRODUCTION.md of prose around
/// the markers.
fn project(root: &Path, figure: &str, tasks: &[(&str, &str)]) {
    std::fs::write(
        root.join("models.toml"),
        format!(
            "[[model]]\nid = \"m\"\ndisplay_name = \"M\"\nquantization = \"Q4_1\"\n\
             [[model.published]]\n{figure}"
        ),
    )
    .unwrap();
    for (folder, text) in tasks {
        std::fs::create_dir_all(root.join("tasks").join(folder)).unwrap();
        std::fs::write(root.join("tasks").join(folder).join("task.toml"), text).unwrap();
    }
    std::fs::create_dir_all(root.join("docs")).unwrap();
    std::fs::write(
        root.join("docs/REPRODUCTION.md"),
        "# Prose kept\n<!-- reproduction:start -->\n<!-- reproduction:end -->\nand after\n",
    )
    .unwrap();
}

#[test]
fn a_reproduction_row_outlives_its_run_and_gives_way_only_to_a_larger_run() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    project(
        root,
        "benchmark = \"GSM8K\"\nvalue = 1.4\nsetting = \"5-shot\"\nsource = \"a card\"\n\
         task = \"gsm8k\"\n",
        &[("math/gsm8k", "name = \"gsm8k\"\nversion = 3\n")],
    );
    let results = root.join("results");

    write_run(&results, "small", "2026-01-01T00:00:00Z", 3, 50, 0);
    let row = regenerate(root);
    assert!(
        row.contains("n = 50 (a subset)") && row.contains("run `small`"),
        "{row}"
    );
    assert!(row.contains("within the interval"), "{row}");

    // The run's folder is gone (another machine): the ledger keeps the row as it was.
    std::fs::remove_dir_all(&results).unwrap();
    assert_eq!(regenerate(root), row);

    // A larger run of another task version says nothing about this one; a smaller run of this
    // version does not replace the row.
    write_run(&results, "old-version", "2026-01-02T00:00:00Z", 2, 400, 6);
    write_run(&results, "tiny", "2026-01-03T00:00:00Z", 3, 10, 0);
    assert_eq!(regenerate(root), row);

    // A larger run does, and its row stays once its folder is gone too.
    write_run(&results, "large", "2026-01-04T00:00:00Z", 3, 400, 0);
    let larger = regenerate(root);
    assert!(
        larger.contains("n = 400 (a subset)") && larger.contains("run `large`"),
        "{larger}"
    );
    assert!(
        larger.contains("**outside**: published is above"),
        "{larger}"
    );
    std::fs::remove_dir_all(&results).unwrap();
    assert_eq!(regenerate(root), larger);
    let ledger: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("docs/reproduction-results.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        ledger["results"][0]["items"].as_object().unwrap().len(),
        400
    );
}

#[test]
fn tasks_reading_one_dataset_pair_item_by_item_and_tasks_reading_another_do_not() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    // `b` prompts the records `a` reads (HellaSwag's two prompts); `c` reads another file; `d`
    // reads `a`'s file followed by a part. All number their items: ids `<task>/<index>`.
    let spec = |name: &str, sha: &str, items: &str| {
        format!(
            "name = \"{name}\"\nversion = 1\n[dataset]\nfile = \"x/v.arrow\"\nsha256 = \"{sha}\"\n\
             [items]\nformat = \"arrow_stream\"\n{items}"
        )
    };
    let (a, b) = (spec("a", "aa", ""), spec("b", "aa", ""));
    let (c, d) = (
        spec("c", "cc", ""),
        spec(
            "d",
            "aa",
            "parts = [{ file = \"x/p.arrow\", sha256 = \"pp\" }]\n",
        ),
    );
    project(
        root,
        "benchmark = \"A\"\nvalue = 40.0\nsetting = \"0-shot\"\nsource = \"a card\"\ntask = \"a\"\n",
        &[("k/a", &a), ("k/b", &b), ("k/c", &c), ("k/d", &d)],
    );
    let results = root.join("results");
    // `a` is right on items 0..30 of 100; `b` ran only items 0..40 and is right on 0..10.
    for (day, task, n, right) in [
        (1, "a", 100, 30),
        (2, "b", 40, 10),
        (3, "c", 40, 10),
        (4, "d", 40, 10),
    ] {
        let started_at = format!("2026-01-0{day}T00:00:00Z");
        let ids: Vec<String> = (0..n).map(|i| format!("{task}/{i}")).collect();
        write_task_run(
            &results,
            &format!("r{task}"),
            &started_at,
            (task, 1, "acc,none"),
            &ids,
            right,
        );
    }
    let doc = regenerate_doc(root);
    let row = |task: &str| {
        doc.lines()
            .find(|line| line.starts_with(&format!("| `{task}` |")))
            .unwrap_or_else(|| panic!("no row of {task} in {doc}"))
            .to_string()
    };
    assert!(
        row("b").ends_with("| `a` 75.0% against 25.0% on the same 40 items |"),
        "{}",
        row("b")
    );
    assert!(row("c").ends_with("| — |"), "{}", row("c"));
    assert!(row("d").ends_with("| — |"), "{}", row("d"));
    // The pairing holds once the runs' folders are gone: the ledger keeps the items' ids.
    std::fs::remove_dir_all(&results).unwrap();
    assert_eq!(regenerate_doc(root), doc);
}
