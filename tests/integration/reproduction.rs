//! `benches/reproduction.py`:
//!
//! - it sets a published average of several benchmarks beside the same mean of yardstick's
//!   tasks with an interval it computes in Python; the model pages compute it with
//!   [`Estimate::weighted_mean_of_estimates`]. The two must agree, also on small, all-wrong and
//!   all-right parts, or REPRODUCTION.md and the site would give different verdicts;
//! - a row outlives its run's folder (runs stay on the machine that made them) through the
//!   ledger the script rewrites, and gives way only to a run of the task's current version with
//!   more items.

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
    let folder = results.join("runs").join(run_id);
    std::fs::create_dir_all(&folder).unwrap();
    let scores = outcomes(n, right);
    let estimate = Estimate::proportion(&scores);
    let manifest = serde_json::json!({
        "run_id": run_id, "started_at": started_at, "finished_at": started_at, "limit": n,
        "models": [{"id": "m", "quantization": "Q4_1"}],
    });
    let summary = serde_json::json!({"results": [{
        "model": "m", "task": "gsm8k", "task_version": version, "n": n,
        "primary_metric": "exact_match,strict-match",
        "metrics": {"exact_match,strict-match": estimate},
    }]});
    let samples: String = scores
        .iter()
        .enumerate()
        .map(|(i, score)| {
            let sample = serde_json::json!({"model": "m", "task": "gsm8k", "item_id": i.to_string(),
                "scores": {"exact_match,strict-match": score}});
            format!("{sample}\n")
        })
        .collect();
    std::fs::write(folder.join("manifest.json"), manifest.to_string()).unwrap();
    std::fs::write(folder.join("summary.json"), summary.to_string()).unwrap();
    std::fs::write(folder.join("samples.jsonl"), samples).unwrap();
}

/// Runs the script on the project under `dir` and returns the doc's GSM8K row.
fn regenerate(dir: &Path) -> String {
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
    doc.lines()
        .find(|line| line.starts_with("| GSM8K |"))
        .unwrap_or_else(|| panic!("no GSM8K row in {doc}"))
        .to_string()
}

#[test]
fn a_reproduction_row_outlives_its_run_and_gives_way_only_to_a_larger_run() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(
        root.join("models.toml"),
        r#"
[[model]]
id = "m"
display_name = "M"
quantization = "Q4_1"
[[model.published]]
benchmark = "GSM8K"
value = 1.4
setting = "5-shot"
source = "a card"
task = "gsm8k"
"#,
    )
    .unwrap();
    std::fs::create_dir_all(root.join("tasks/math/gsm8k")).unwrap();
    std::fs::write(
        root.join("tasks/math/gsm8k/task.toml"),
        "name = \"gsm8k\"\nversion = 3\n",
    )
    .unwrap();
    std::fs::create_dir_all(root.join("docs")).unwrap();
    std::fs::write(
        root.join("docs/REPRODUCTION.md"),
        "# Prose kept\n<!-- reproduction:start -->\n<!-- reproduction:end -->\nand after\n",
    )
    .unwrap();
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
