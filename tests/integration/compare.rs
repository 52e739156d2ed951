//! `compare` on runs written to disk: identical runs report nothing and exit 0; a planted
//! regression (30% of items flipped to failures) is reported with the flipped items and exits 3;
//! so does a consistent 20% drop in output speed.

use std::path::{Path, PathBuf};

use yardstick::compare::{compare, Change};
use yardstick::store::{summarize, Manifest, RunDir, SampleRecord, Summary, SCHEMA_VERSION};

use crate::support::{project_dir, stderr, yardstick};

const ITEMS: usize = 40;
const METRIC: &str = "exact_match,answer";

/// Writes a finished run whose item i scored `outcome(i)` at `speed(i)` output tokens/s.
fn write_run(
    root: &Path,
    id: &str,
    outcome: impl Fn(usize) -> f64,
    speed: impl Fn(usize) -> f64,
) -> PathBuf {
    let mut run_dir = RunDir::create(root, id).unwrap();
    run_dir.write_manifest(&manifest(id)).unwrap();
    let samples: Vec<SampleRecord> = (0..ITEMS)
        .map(|i| {
            let mut sample = SampleRecord::supplied(
                "model-a",
                "toy",
                1,
                (i, &format!("toy/{i}")),
                0,
                String::new(),
            );
            sample.scores.insert(METRIC.into(), outcome(i));
            sample.output_tokens_per_second = Some(speed(i));
            sample
        })
        .collect();
    for sample in &samples {
        run_dir.append_sample(sample).unwrap();
    }
    let mut aggregates = summarize(&samples, &|_| None);
    aggregates.results[0].primary_metric = METRIC.into();
    let summary = Summary {
        schema: SCHEMA_VERSION,
        run_id: id.into(),
        results: aggregates.results,
        suites: Vec::new(),
        quality: Vec::new(),
        models: Vec::new(),
        wall_seconds: 1.0,
        overhead: None,
        peak_rss_bytes: None,
    };
    run_dir.write_summary(&summary).unwrap();
    run_dir.path().to_path_buf()
}

/// A finished run's manifest: model-a on task toy, 40 items, greedy, on this machine.
fn manifest(id: &str) -> Manifest {
    serde_json::from_value(serde_json::json!({
        "schema": SCHEMA_VERSION,
        "run_id": id,
        "command": ["yardstick", "run"],
        "harness_version": "test",
        "git_commit": "test",
        "backend": "scripted",
        "backend_version": "1",
        "models": [{"id": "model-a", "display_name": "A", "quantization": "", "parameters": "", "sha256": "00"}],
        "tasks": [{"name": "toy", "suite": "toy", "version": 1, "items": ITEMS, "max_new_tokens": 8, "datasets": []}],
        "limit": null,
        "sampling": {"temperature": 0.0},
        "machine": yardstick::machine::MachineInfo::current(),
        "started_at": "2026-01-01T00:00:00Z",
        "finished_at": "2026-01-01T00:01:00Z"
    }))
    .unwrap()
}

fn baseline_outcome(i: usize) -> f64 {
    f64::from(u8::from(!i.is_multiple_of(4))) // 75% correct
}

fn speed(i: usize) -> f64 {
    20.0 + (i % 5) as f64 * 0.1
}

#[test]
fn identical_runs_report_nothing() {
    let root = tempfile::tempdir().unwrap();
    let a = write_run(root.path(), "a", baseline_outcome, speed);
    let b = write_run(root.path(), "b", baseline_outcome, speed);
    let comparison = compare(&a, &b).unwrap();
    let entry = &comparison.entries[0];
    assert_eq!(
        (entry.verdict, entry.shared, entry.delta),
        (Change::Unchanged, ITEMS, 0.0)
    );
    assert!(entry.flipped_to_fail.is_empty() && entry.flipped_to_pass.is_empty());
    assert!(!comparison.regressed && !entry.speed_regressed);
    let out = yardstick(
        &project_dir(),
        &["compare", a.to_str().unwrap(), b.to_str().unwrap()],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn planted_regression_is_reported_and_fails_the_job() {
    let root = tempfile::tempdir().unwrap();
    let a = write_run(root.path(), "a", baseline_outcome, speed);
    // 12 of the 30 correct items (30% of all 40) now fail.
    let flipped = |i: usize| !i.is_multiple_of(4) && i < 16;
    let b = write_run(
        root.path(),
        "b",
        |i| if flipped(i) { 0.0 } else { baseline_outcome(i) },
        speed,
    );
    let comparison = compare(&a, &b).unwrap();
    let entry = &comparison.entries[0];
    assert_eq!(entry.verdict, Change::Regressed);
    assert_eq!(entry.test, "mcnemar-exact");
    assert_eq!(entry.flipped_to_fail.len(), 12);
    assert!(entry.p_value < 0.001, "{}", entry.p_value);
    assert!((entry.delta + 0.3).abs() < 1e-12 && entry.delta_ci.1 < 0.0);
    let out = yardstick(
        &project_dir(),
        &[
            "compare",
            "--json",
            a.to_str().unwrap(),
            b.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(3));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["regressed"], true);
    assert_eq!(
        json["entries"][0]["flipped_to_fail"]
            .as_array()
            .unwrap()
            .len(),
        12
    );
}

#[test]
fn a_consistent_speed_drop_is_a_regression() {
    let root = tempfile::tempdir().unwrap();
    let a = write_run(root.path(), "a", baseline_outcome, speed);
    let b = write_run(root.path(), "b", baseline_outcome, |i| 0.8 * speed(i));
    let comparison = compare(&a, &b).unwrap();
    let entry = &comparison.entries[0];
    assert_eq!(entry.verdict, Change::Unchanged);
    assert!(entry.speed_regressed, "{entry:?}");
    assert!(comparison.regressed);
}
