//! Log-likelihood scoring through mistral.rs on the real SmolLM2 GGUF, pinned by identities the
//! computation must satisfy whatever the model: the chain rule across a split continuation, the
//! one-pass shortcut for single-token choices equal to the full computation, and the greedy
//! token's verdict. (Agreement with llama.cpp on the same GGUF: benches/loglikelihood_agreement.py.)

use yardstick::backend::mistralrs::{MistralRsBackend, MistralRsOptions};
use yardstick::backend::{ActivationDtype, Backend, GenerationRequest, Sampling};
use yardstick::tasks::Prompt;

use crate::support::{project_dir, provisioned_cache, pulled_model, stderr, yardstick};

const MODEL: &str = "smollm2-135m-instruct";
const CONTEXT: &str = "The quick brown fox jumps over the lazy";

fn strings(texts: &[&str]) -> Vec<String> {
    texts.iter().map(|t| t.to_string()).collect()
}

#[test]
fn log_likelihoods_obey_the_chain_rule_the_shortcut_and_greediness() {
    let options = MistralRsOptions {
        dtype: ActivationDtype::F32,
        ..MistralRsOptions::default()
    };
    let backend = MistralRsBackend::load(&pulled_model(MODEL), options).unwrap();

    // The one-pass shortcut (every choice one token after the same context) and the general
    // path (forced by a multi-token choice in the same request) give the same numbers.
    let shortcut = backend
        .loglikelihood(CONTEXT, &strings(&[" dog", " cat"]))
        .unwrap();
    let general = backend
        .loglikelihood(CONTEXT, &strings(&[" dog", " cat", " dog and a cat"]))
        .unwrap();
    for (one, other) in shortcut.iter().zip(&general) {
        assert_eq!(one.continuation_tokens, other.continuation_tokens);
        assert!(
            (one.logprob - other.logprob).abs() < 1e-4,
            "{one:?} vs {other:?}"
        );
    }
    assert!(shortcut[0].logprob < 0.0 && shortcut[0].logprob > shortcut[1].logprob);

    // Chain rule: log p(" dog and a cat") = log p(" dog") + log p(" and a cat" | … " dog").
    let long = &general[2];
    assert_eq!(long.continuation_tokens.len(), 4, "{long:?}");
    let rest = backend
        .loglikelihood(&format!("{CONTEXT} dog"), &strings(&[" and a cat"]))
        .unwrap();
    assert_eq!(
        [
            &general[0].continuation_tokens[..],
            &rest[0].continuation_tokens[..]
        ]
        .concat(),
        long.continuation_tokens
    );
    let chained = general[0].logprob + rest[0].logprob;
    assert!(
        (chained - long.logprob).abs() < 1e-3,
        "{chained} vs {}",
        long.logprob
    );

    // The token greedy decoding picks is the greedy continuation, and the only one.
    let generated = backend
        .generate(&GenerationRequest {
            prompt: Prompt::Completion {
                text: CONTEXT.into(),
            },
            max_new_tokens: 1,
            stop: Vec::new(),
            sampling: Sampling::greedy(),
        })
        .unwrap();
    let scores = backend
        .loglikelihood(CONTEXT, &[generated.text.clone(), " cat".into()])
        .unwrap();
    assert!(
        scores[0].is_greedy,
        "{:?} for {:?}",
        scores[0], generated.text
    );
    assert!(!scores[1].is_greedy);

    // A context with trailing spaces is split as lm-evaluation-harness splits it.
    let spaced = backend
        .loglikelihood(&format!("{CONTEXT} "), &strings(&["dog"]))
        .unwrap();
    assert_eq!(
        spaced[0].continuation_tokens,
        shortcut[0].continuation_tokens
    );
    assert!((spaced[0].logprob - shortcut[0].logprob).abs() < 1e-4);
}

#[test]
fn the_command_answers_each_line_and_names_a_bad_one() {
    pulled_model(MODEL);
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("requests.jsonl");
    std::fs::write(
        &input,
        format!(
            "{}\n\n{}\n",
            serde_json::json!({"context": CONTEXT, "continuations": [" dog", " cat"]}),
            "{\"context\": \"x\"}"
        ),
    )
    .unwrap();
    let out = yardstick(
        &project_dir(),
        &[
            "loglikelihood",
            "--model",
            MODEL,
            "--no-pull",
            input.to_str().unwrap(),
        ],
        &[("YARDSTICK_HOME", &provisioned_cache().home)],
    );
    assert_eq!(out.status.code(), Some(1));
    let message = stderr(&out);
    assert!(message.contains("requests.jsonl line 3"), "{message}");
    let answers = String::from_utf8_lossy(&out.stdout);
    let first: serde_json::Value = serde_json::from_str(answers.lines().next().unwrap()).unwrap();
    assert_eq!(first["line"], 1);
    assert_eq!(first["scores"].as_array().unwrap().len(), 2);
    assert!(
        first["scores"][0]["logprob"].as_f64().unwrap()
            > first["scores"][1]["logprob"].as_f64().unwrap()
    );
}
