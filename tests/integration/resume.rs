//! Resume after kill -9, with the real model: a run killed while loading, after one sample and
//! after three, then resumed each time, ends with exactly the samples of an uninterrupted run —
//! none lost, none twice, greedy outputs bit-identical — and a second writer is refused.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use yardstick::store::{read_samples, SampleRecord};

use crate::support::{cached_command, pulled_model, stderr, yardstick_cached};

const MODEL: &str = "smollm2-135m-instruct";

fn start(results: &Path, args: &[&str]) -> Child {
    cached_command(results, args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn lines(path: &Path) -> usize {
    std::fs::read_to_string(path)
        .map(|t| t.lines().count())
        .unwrap_or(0)
}

/// Waits until the run has at least `samples` finished samples, then kills it with SIGKILL.
fn kill_after(mut child: Child, samples_file: &Path, samples: usize) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while lines(samples_file) < samples {
        assert!(Instant::now() < deadline, "the run made no progress");
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before it was killed"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
}

fn by_key(samples: Vec<SampleRecord>) -> BTreeMap<(String, usize, usize), SampleRecord> {
    let count = samples.len();
    let map: BTreeMap<_, _> = samples
        .into_iter()
        .map(|s| ((s.task.clone(), s.item_index, s.sample_index), s))
        .collect();
    assert_eq!(map.len(), count, "a sample appears twice");
    map
}

#[test]
fn killed_runs_resume_to_the_results_of_an_uninterrupted_run() {
    pulled_model(MODEL);
    let results = tempfile::tempdir().unwrap();
    let plan = [
        "run",
        "--model",
        MODEL,
        "--task",
        "gsm8k_chat",
        "--limit",
        "5",
        "--max-new-tokens",
        "12",
    ];

    let whole = start(
        results.path(),
        &[&plan[..], &["--run-id", "whole"]].concat(),
    )
    .wait_with_output()
    .unwrap();
    assert!(
        whole.status.success(),
        "{}",
        String::from_utf8_lossy(&whole.stderr)
    );

    let cut = results.path().join("runs/cut/samples.jsonl");
    // Killed while loading the model (before any sample), then after one and after three.
    let loading = start(results.path(), &[&plan[..], &["--run-id", "cut"]].concat());
    let manifest = results.path().join("runs/cut/manifest.json");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !manifest.exists() {
        assert!(Instant::now() < deadline, "the run folder never appeared");
        std::thread::sleep(Duration::from_millis(5));
    }
    kill_after(loading, &cut, 0);
    kill_after(start(results.path(), &["run", "--resume", "cut"]), &cut, 1);
    let second = start(results.path(), &["run", "--resume", "cut"]);
    kill_after(second, &cut, 3);

    // While one process resumes the run, a second one is refused.
    // It announces the resume right after taking the run's lock.
    let mut resuming = start(results.path(), &["run", "--resume", "cut"]);
    let mut progress = BufReader::new(resuming.stderr.take().unwrap());
    let mut announced = String::new();
    while !announced.contains("resuming cut") {
        announced.clear();
        assert_ne!(
            progress.read_line(&mut announced).unwrap(),
            0,
            "the resume never started"
        );
    }
    let drain = std::thread::spawn(move || std::io::copy(&mut progress, &mut std::io::sink()));
    let refused = yardstick_cached(results.path(), &["run", "--resume", "cut"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("another yardstick process"),
        "{}",
        stderr(&refused)
    );
    assert!(resuming.wait().unwrap().success());
    drain.join().unwrap().unwrap();

    let expected = by_key(read_samples(&results.path().join("runs/whole")).unwrap());
    let resumed = by_key(read_samples(&results.path().join("runs/cut")).unwrap());
    assert_eq!(resumed.len(), 5);
    assert_eq!(
        expected.keys().collect::<Vec<_>>(),
        resumed.keys().collect::<Vec<_>>()
    );
    for (key, sample) in &expected {
        let other = &resumed[key];
        assert_eq!(
            sample.output, other.output,
            "greedy output of {key:?} is bit-identical"
        );
        assert_eq!(sample.scores, other.scores);
        assert_eq!(sample.completion_tokens, other.completion_tokens);
    }
    let summary = |run: &str| -> serde_json::Value {
        serde_json::from_slice(
            &std::fs::read(results.path().join("runs").join(run).join("summary.json")).unwrap(),
        )
        .unwrap()
    };
    assert_eq!(
        summary("whole")["results"][0]["metrics"],
        summary("cut")["results"][0]["metrics"]
    );
}
