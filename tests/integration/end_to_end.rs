//! The real thing: SmolLM2-135M-Instruct (Q4_1 GGUF) loaded through mistral.rs, on real GSM8K
//! items, through the binary and through the backend directly.

use std::fs;

use yardstick::backend::mistralrs::{MistralRsBackend, MistralRsOptions};
use yardstick::backend::{Backend, GenerationRequest, Sampling};
use yardstick::store::{read_samples, Manifest, Summary};
use yardstick::tasks::{ChatMessage, Prompt};

use crate::support::{pulled_model, stderr, yardstick_cached};

const MODEL: &str = "smollm2-135m-instruct";

#[test]
fn run_writes_scored_samples_summary_and_manifest() {
    pulled_model(MODEL);
    let results = tempfile::tempdir().unwrap();
    let out = yardstick_cached(
        results.path(),
        &[
            "run",
            "--model",
            MODEL,
            "--task",
            "gsm8k_cot",
            "--limit",
            "2",
            "--run-id",
            "e2e",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("gsm8k_cot") && table.contains("exact_match,strict-match"),
        "{table}"
    );
    assert!(
        table.contains("95% CI") && table.contains("output tok/s"),
        "{table}"
    );

    let folder = results.path().join("runs/e2e");
    let samples = read_samples(&folder).unwrap();
    assert_eq!(samples.len(), 2);
    for sample in &samples {
        assert_eq!(sample.model, MODEL);
        // 8 worked examples precede the question: a long prompt, counted by the model's tokenizer.
        assert!(
            sample.prompt_tokens > 400,
            "prompt tokens {}",
            sample.prompt_tokens
        );
        assert!(sample.completion_tokens > 0 && sample.completion_tokens <= 256);
        assert!(!sample.output.trim().is_empty());
        assert!(!sample.output.contains("Q:"), "cut at the stop sequence");
        assert!(
            sample.time_to_first_token_s > 0.0
                && sample.total_latency_s > sample.time_to_first_token_s
        );
        assert!(sample.output_tokens_per_second.unwrap() > 1.0);
        assert_eq!(sample.scores.len(), 2);
        let expected = sample.scores["exact_match,strict-match"] == 1.0;
        assert_eq!(
            sample.verdict == yardstick::store::Verdict::Correct,
            expected
        );
    }
    let summary: Summary =
        serde_json::from_slice(&fs::read(folder.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary.results[0].n, 2);
    assert!(summary.models[0].backend.load_seconds > 0.0);
    assert_eq!(summary.models[0].backend.name, "mistral.rs");
    // 8-shot GSM8K chain of thought: every prompt starts with the same exemplars, so the prefix
    // cache is on, and
    // the setup the run chose is recorded for the model and task.
    assert!(summary.models[0].backend.prefix_cache);
    assert!(summary.peak_rss_bytes.unwrap() > 50_000_000);
    let manifest: Manifest =
        serde_json::from_slice(&fs::read(folder.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest.backend_version, mistralrs_in_cargo_lock());
    let setup = manifest.setups[MODEL]["gsm8k_cot"];
    assert!(setup.prefix_cache, "{setup:?}");
    assert_eq!(
        (setup.weights, setup.dtype),
        (
            summary.models[0].backend.weights,
            match summary.models[0].backend.dtype.as_str() {
                "f32" => yardstick::backend::ActivationDtype::F32,
                _ => yardstick::backend::ActivationDtype::Auto,
            }
        ),
        "the backend ran the recorded setup"
    );
    assert_eq!(
        manifest.models[0].sha256,
        "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
    );
    assert_eq!(
        manifest.tasks[0].datasets.len(),
        1,
        "the test split (the exemplars are written in the spec)"
    );
    // `--workers best` (the default): on a machine with several cores, calibration timed the
    // setups as worker processes too and the run took the choice it printed.
    if std::thread::available_parallelism().map_or(1, |n| n.get()) > 1 {
        let err = stderr(&out);
        let decision = err
            .lines()
            .find(|line| line.contains("calibration estimates"))
            .unwrap_or_else(|| panic!("no workers decision in:\n{err}"));
        let workers = manifest.workers.unwrap_or(1);
        assert_eq!(
            decision.starts_with("one process"),
            workers == 1,
            "{decision} / manifest workers {workers}"
        );
    }
}

#[test]
fn greedy_generation_is_deterministic_counted_and_stoppable() {
    let backend =
        MistralRsBackend::load(&pulled_model(MODEL), MistralRsOptions::default()).unwrap();
    let request = GenerationRequest {
        prompt: Prompt::Chat {
            messages: vec![ChatMessage {
                role: "user".into(),
                content: "List three colours, one per line.".into(),
            }],
        },
        max_new_tokens: 24,
        stop: Vec::new(),
        sampling: Sampling::greedy(),
    };
    let seen = backend.rendered_prompt(&request.prompt).unwrap();
    assert!(
        seen.contains("<|im_start|>user\nList three colours")
            && seen.ends_with("<|im_start|>assistant\n"),
        "the GGUF's chat template is applied: {seen:?}"
    );
    let first = backend.generate(&request).unwrap();
    // A second, separately loaded instance gives the same greedy output (no state carried over
    // from an earlier request can explain it).
    let other = MistralRsBackend::load(&pulled_model(MODEL), MistralRsOptions::default()).unwrap();
    let second = other.generate(&request).unwrap();
    drop(other);
    assert_eq!(first.text, second.text, "greedy decoding is deterministic");
    assert!(
        first.prompt_tokens > 5,
        "chat template applied: {}",
        first.prompt_tokens
    );
    assert!(first.completion_tokens > 0 && first.completion_tokens <= 24);
    assert!(first.time_to_first_token > 0.0 && first.total_latency >= first.time_to_first_token);

    // A chat that ends in the assistant's turn is continued (EvalPlus's prompt for instruct
    // models): the template renders the turn open, with no end-of-turn token after it.
    let open_turn = GenerationRequest {
        prompt: Prompt::Chat {
            messages: vec![
                ChatMessage {
                    role: "user".into(),
                    content: "Count from one to ten.".into(),
                },
                ChatMessage {
                    role: "assistant".into(),
                    content: "1, 2, 3, 4,".into(),
                },
            ],
        },
        max_new_tokens: 8,
        stop: Vec::new(),
        sampling: Sampling::greedy(),
    };
    let seen = backend.rendered_prompt(&open_turn.prompt).unwrap();
    assert!(
        seen.contains("<|im_start|>user\nCount from one to ten.<|im_end|>")
            && seen.ends_with("<|im_start|>assistant\n1, 2, 3, 4,"),
        "the assistant turn is left open: {seen:?}"
    );
    let continued_turn = backend.generate(&open_turn).unwrap();
    assert!(
        continued_turn.text.contains('5'),
        "the model continues the count: {:?}",
        continued_turn.text
    );

    let completion = GenerationRequest {
        prompt: Prompt::Completion {
            text: "1, 2, 3, 4, 5, 6,".into(),
        },
        max_new_tokens: 40,
        stop: vec![" 9".into()],
        sampling: Sampling::greedy(),
    };
    let counted = backend.generate(&completion).unwrap();
    // mistral.rs strips the first chunk's leading whitespace; a completion must keep it (the
    // indentation of a code completion's first line depends on it).
    let list = GenerationRequest {
        prompt: Prompt::Completion {
            text: "Shopping list:\n1. apples\n2. pears\n3.".into(),
        },
        max_new_tokens: 4,
        stop: Vec::new(),
        sampling: Sampling::greedy(),
    };
    let continued = backend.generate(&list).unwrap();
    assert!(
        continued.text.starts_with(' '),
        "leading space kept: {:?}",
        continued.text
    );
    assert!(
        counted.prompt_tokens >= 6,
        "prompt counted by the tokenizer"
    );
    assert!(counted.completion_tokens >= 1 && counted.completion_tokens <= 40);
    assert!(
        !counted.text.contains(" 9"),
        "stop sequence cut: {:?}",
        counted.text
    );
}

#[test]
fn two_workers_write_the_samples_of_one() {
    pulled_model(MODEL);
    let results = tempfile::tempdir().unwrap();
    let run = |workers: &str, id: &str| {
        let out = yardstick_cached(
            results.path(),
            &[
                "run",
                "--model",
                MODEL,
                "--task",
                "gsm8k_chat,pubmedqa_chat",
                "--limit",
                "3",
                "--max-new-tokens",
                "10",
                // The same setup for both: with a choice, calibration may pick other weights
                // for workers than for one process, and outputs would differ for that reason.
                "--dtype",
                "f32",
                "--weights",
                "quantized",
                "--workers",
                workers,
                "--run-id",
                id,
            ],
        );
        assert!(out.status.success(), "{}", stderr(&out));
        read_samples(&results.path().join("runs").join(id)).unwrap()
    };
    let one = run("1", "one");
    let two = run("2", "two");
    let essence = |samples: Vec<yardstick::store::SampleRecord>| -> Vec<_> {
        samples
            .into_iter()
            .map(|s| {
                (
                    s.task,
                    s.item_index,
                    s.output,
                    s.scores,
                    s.completion_tokens,
                )
            })
            .collect()
    };
    assert_eq!(essence(two), essence(one), "same samples, same order");
    assert!(
        !results.path().join(".workers").join("two").exists(),
        "worker folders cleaned up"
    );
}

/// The mistralrs version in Cargo.lock, read here independently of build.rs.
fn mistralrs_in_cargo_lock() -> String {
    let lock = fs::read_to_string(crate::support::project_dir().join("Cargo.lock")).unwrap();
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == "name = \"mistralrs\"" {
            let version = lines.next().unwrap();
            return version
                .strip_prefix("version = \"")
                .and_then(|v| v.strip_suffix('"'))
                .unwrap()
                .to_string();
        }
    }
    panic!("Cargo.lock has no mistralrs package")
}
