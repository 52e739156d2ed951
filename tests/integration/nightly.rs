//! `nightly` and `select` on real results: both shipped models through mistral.rs on two
//! GSM8K items, twice, then a model recommendation from those runs.

use crate::support::{cached_binary, cached_command, pulled_model, stderr};

const CONFIG: &str = r#"
models = ["smollm2-135m-instruct", "qwen2.5-coder-0.5b-instruct"]
tasks = ["gsm8k_chat"]
limit = 2
max_new_tokens = 48
hardware = "cloud-cpu-2vcpu-16gib"
"#;

#[test]
fn nightly_runs_compares_keeps_history_and_select_recommends() {
    // The runs below do not fetch (--no-pull): the models must be in the cache.
    pulled_model("smollm2-135m-instruct");
    pulled_model("qwen2.5-coder-0.5b-instruct");
    let results = tempfile::tempdir().unwrap();
    let config = results.path().join("nightly.toml");
    std::fs::write(&config, CONFIG).unwrap();
    let nightly = |run_id: &str| {
        let config = config.to_str().unwrap();
        cached_command(
            results.path(),
            &["nightly", "--config", config, "--run-id", run_id],
        )
        .output()
        .unwrap()
    };

    let first = nightly("n1");
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(stderr(&first).contains("nothing to compare yet"));
    let second = nightly("n2");
    assert!(second.status.success(), "{}", stderr(&second));
    let report = String::from_utf8_lossy(&second.stdout);
    assert!(
        report.contains("n1 → n2"),
        "compared with the previous run:\n{report}"
    );
    // Greedy decoding: the same answers, so nothing regressed.
    assert!(!report.contains("REGRESSED"), "{report}");

    // Running the same night again reuses the finished run and adds no history rows.
    let again = nightly("n2");
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(stderr(&again).contains("already finished"));
    let history = yardstick::nightly::read_history(&results.path().join("history.parquet"))
        .unwrap()
        .unwrap();
    assert_eq!(history.height(), 4, "2 runs × 2 models × 1 task");
    assert!(results.path().join("site/index.html").is_file());

    let select = cached_binary(results.path(), &["select", "--json"])
        .output()
        .unwrap();
    assert!(select.status.success(), "{}", stderr(&select));
    let answer: serde_json::Value = serde_json::from_slice(&select.stdout).unwrap();
    // SmolLM2 (135M) is faster and cheaper per token than Qwen2.5-Coder (494M) on any CPU.
    // Two items cannot tell their quality apart (a paired test on 2 items has p >= 0.5), so
    // whichever scores higher, the pick is SmolLM2: it either dominates, or it is the cheaper
    // model statistically tied with the best.
    let recommended = answer["recommended"].as_str().expect("a recommendation");
    let reason = answer["reason"].as_str().unwrap();
    assert_eq!(recommended, "smollm2-135m-instruct", "{reason}");
    let front: Vec<&str> = answer["front"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["model"].as_str().unwrap())
        .collect();
    if front.len() == 2 {
        assert!(
            reason.contains("statistically tied") && reason.contains("paired"),
            "{reason}"
        );
    }
    for candidate in answer["front"].as_array().unwrap() {
        assert!(candidate["usd_per_mtok"].as_f64().unwrap() > 0.0);
        assert!(candidate["output_tok_s"].as_f64().unwrap() > 0.0);
    }

    let too_cheap = cached_binary(
        results.path(),
        &["select", "--json", "--max-usd-per-mtok", "0.000001"],
    )
    .output()
    .unwrap();
    let answer: serde_json::Value = serde_json::from_slice(&too_cheap.stdout).unwrap();
    assert!(answer["recommended"].is_null());
    assert_eq!(answer["excluded"].as_array().unwrap().len(), 2);
}

#[test]
fn nightly_with_two_workers_runs_and_merges() {
    pulled_model("smollm2-135m-instruct");
    let results = tempfile::tempdir().unwrap();
    let config = results.path().join("nightly.toml");
    std::fs::write(
        &config,
        "models = [\"smollm2-135m-instruct\"]\ntasks = [\"gsm8k_chat\"]\nlimit = 2\nmax_new_tokens = 8\nworkers = 2\n",
    )
    .unwrap();
    let out = cached_command(
        results.path(),
        &[
            "nightly",
            "--config",
            config.to_str().unwrap(),
            "--run-id",
            "w",
        ],
    )
    .output()
    .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(results.path().join("runs/w/manifest.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(manifest["workers"], 2);
    assert_eq!(manifest["merged_from"].as_array().unwrap().len(), 2);
    assert_eq!(
        manifest["command"][1], "run",
        "the workers ran the run command, not nightly's"
    );
}
