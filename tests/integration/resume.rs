//! Resume after kill -9, with the real model: a run killed while loading, after one sample and
//! after three, then resumed each time, ends with exactly the samples of an uninterrupted run —
//! none lost, none twice, greedy outputs bit-identical — and a second writer is refused. A run
//! stopped by SIGTERM or SIGINT says how to continue, exits 143 or 130 (a second signal at once),
//! and resumes to the same result.

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
    wait_for_samples(&mut child, samples_file, samples);
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
}

/// The five-item plan both tests run, and its uninterrupted run `whole`.
/// One process whatever calibration would choose: these tests follow one process's signals and
/// samples file (a workers run's are tested in nightly.rs and end_to_end.rs).
const PLAN: [&str; 11] = [
    "run",
    "--workers",
    "1",
    "--model",
    MODEL,
    "--task",
    "gsm8k_chat",
    "--limit",
    "5",
    "--max-new-tokens",
    "12",
];

fn run_whole(results: &Path) {
    let whole = start(results, &[&PLAN[..], &["--run-id", "whole"]].concat())
        .wait_with_output()
        .unwrap();
    assert!(
        whole.status.success(),
        "{}",
        String::from_utf8_lossy(&whole.stderr)
    );
}

/// Asserts that run `run` holds exactly the samples of run `whole`, with the same outputs.
fn assert_same_as_whole(results: &Path, run: &str) {
    let expected = by_key(read_samples(&results.join("runs/whole")).unwrap());
    let got = by_key(read_samples(&results.join("runs").join(run)).unwrap());
    assert_eq!(
        expected.keys().collect::<Vec<_>>(),
        got.keys().collect::<Vec<_>>()
    );
    for (key, sample) in &expected {
        let other = &got[key];
        assert_eq!(
            sample.output, other.output,
            "{run}: greedy output of {key:?} is bit-identical"
        );
        assert_eq!(sample.scores, other.scores);
        assert_eq!(sample.completion_tokens, other.completion_tokens);
    }
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
    let plan = PLAN;
    run_whole(results.path());

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

    assert_eq!(lines(&cut), 5);
    assert_same_as_whole(results.path(), "cut");
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

/// Waits until `samples_file` has at least `samples` lines while `child` runs.
fn wait_for_samples(child: &mut Child, samples_file: &Path, samples: usize) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while lines(samples_file) < samples {
        assert!(Instant::now() < deadline, "the run made no progress");
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before the signal"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn signal(child: &Child, signal: i32) {
    // SAFETY: signalling our own child process.
    assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, signal) }, 0);
}

#[test]
fn a_terminated_run_says_how_to_continue_and_resumes_to_the_same_result() {
    pulled_model(MODEL);
    let results = tempfile::tempdir().unwrap();
    let plan = PLAN;
    run_whole(results.path());

    // SIGTERM after the first sample: the sample in flight is finished and written, the run
    // stops with 143 and says how to continue.
    let samples = results.path().join("runs/term/samples.jsonl");
    let mut child = start(results.path(), &[&plan[..], &["--run-id", "term"]].concat());
    wait_for_samples(&mut child, &samples, 1);
    signal(&child, libc::SIGTERM);
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(143), "{err}");
    let written = lines(&samples);
    assert!(
        err.contains(&format!(
            "interrupted after {written} of 5 samples; continue with `yardstick run --resume term`"
        )),
        "{err}"
    );
    assert!(written < 5, "the run stopped early");

    // A second signal ends the process at once; the run can still be resumed. Long answers, so
    // the second signal comes while the first sample after the first one is being generated.
    let twice = results.path().join("runs/twice/samples.jsonl");
    let long = [
        &plan[..9],
        &["--max-new-tokens", "256", "--run-id", "twice"],
    ]
    .concat();
    let mut child = start(results.path(), &long);
    wait_for_samples(&mut child, &twice, 1);
    signal(&child, libc::SIGINT);
    let mut progress = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    while !line.contains("stopping after the sample in flight") {
        line.clear();
        assert_ne!(
            progress.read_line(&mut line).unwrap(),
            0,
            "no word on the first signal"
        );
    }
    signal(&child, libc::SIGINT);
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut progress, &mut rest).unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(130), "{rest}");
    assert!(rest.contains("second signal: stopping now"), "{rest}");
    let resumed = yardstick_cached(results.path(), &["run", "--resume", "twice"]);
    assert!(resumed.status.success(), "{}", stderr(&resumed));
    assert_eq!(lines(&twice), 5);

    let resumed = yardstick_cached(results.path(), &["run", "--resume", "term"]);
    assert!(resumed.status.success(), "{}", stderr(&resumed));
    assert_same_as_whole(results.path(), "term");
}
