//! Scoring agrees with the references: HumanEval's canonical solutions all pass and a wrong one
//! per problem fails; PubMedQA accuracy and macro-F1 match a confusion matrix worked by hand.
//! (Agreement with the reference scorers' own code: `reference_scorers`.)

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;

use yardstick::data::DataCache;
use yardstick::scoring::{score, Outcome};
use yardstick::store::{read_samples, summarize, SampleRecord};
use yardstick::tasks::TaskSet;

use crate::support::{provisioned_cache, score_completions_file};

fn tasks() -> TaskSet {
    yardstick::config::tasks(provisioned_cache()).unwrap()
}

/// Scores a completions file for humaneval; returns the scored samples.
fn score_humaneval(lines: &[(String, String)]) -> Vec<SampleRecord> {
    let tasks = tasks();
    let task = tasks.get("humaneval").unwrap();
    let data = DataCache::new(provisioned_cache().data_dir());
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("completions.jsonl");
    let mut out = fs::File::create(&file).unwrap();
    for (task_id, completion) in lines {
        writeln!(
            out,
            "{}",
            serde_json::json!({"task_id": task_id, "completion": completion})
        )
        .unwrap();
    }
    let outcome = score_completions_file(
        work.path(),
        ("scored", "fixture"),
        &file,
        task,
        (&tasks, &data),
    );
    let samples = read_samples(&outcome.run_dir).unwrap();
    assert_eq!(samples.len(), lines.len());
    samples
}

fn humaneval_problems() -> Vec<serde_json::Value> {
    let tasks = tasks();
    let data = DataCache::new(provisioned_cache().data_dir());
    tasks
        .get("humaneval")
        .unwrap()
        .load_items(&data, None)
        .unwrap()
        .into_iter()
        .map(|i| i.doc)
        .collect()
}

#[test]
fn humaneval_canonical_solutions_all_pass_and_wrong_ones_all_fail() {
    let problems = humaneval_problems();
    assert_eq!(problems.len(), 164);
    let id = |p: &serde_json::Value| p["task_id"].as_str().unwrap().to_string();
    let canonical: Vec<(String, String)> = problems
        .iter()
        .map(|p| (id(p), p["canonical_solution"].as_str().unwrap().to_string()))
        .collect();
    let samples = score_humaneval(&canonical);
    let failed: Vec<String> = samples
        .iter()
        .filter(|s| s.scores["pass@1,raw"] != 1.0)
        .map(|s| format!("{}: {:?}", s.item_id, s.execution))
        .collect();
    assert!(failed.is_empty(), "canonical solutions failed: {failed:#?}");

    let wrong: Vec<(String, String)> = problems
        .iter()
        .map(|p| (id(p), "    return None\n".to_string()))
        .collect();
    let samples = score_humaneval(&wrong);
    for sample in &samples {
        let execution = sample.execution.as_ref().unwrap();
        assert_eq!(sample.scores["pass@1,raw"], 0.0, "{}", sample.item_id);
        assert_ne!(execution.outcome, Outcome::Passed);
    }
}

#[test]
fn humaneval_several_samples_give_unbiased_pass_at_k() {
    let problems = humaneval_problems();
    let mut lines = Vec::new();
    for problem in &problems[..4] {
        let id = problem["task_id"].as_str().unwrap().to_string();
        lines.push((
            id.clone(),
            problem["canonical_solution"].as_str().unwrap().to_string(),
        ));
        lines.push((id, "    return None\n".to_string()));
    }
    let samples = score_humaneval(&lines);
    let tasks = tasks();
    let aggregates = summarize(&samples, &|name| tasks.get(name).ok());
    let pass1 = &aggregates.results[0].metrics["pass@1,raw"];
    assert!((pass1.value - 0.5).abs() < 1e-12, "{pass1:?}");
    assert_eq!(
        pass1.ci_method, "clopper-pearson (effective n)",
        "several samples per item: items are the unit"
    );
    assert!(pass1.ci_low < 0.5 && pass1.ci_high > 0.5 && pass1.preliminary);
    assert_eq!(pass1.n, 4);
    // k = 10 needs 10 samples per item: not reported.
    assert!(!aggregates.results[0].metrics.contains_key("pass@10,raw"));
}

#[test]
fn pubmedqa_accuracy_and_macro_f1_match_a_confusion_matrix() {
    let tasks = tasks();
    let task = tasks.get("pubmedqa_chat").unwrap();
    let data = DataCache::new(provisioned_cache().data_dir());
    let items = task.load_items(&data, None).unwrap();
    assert_eq!(items.len(), 500);
    // Confusion matrix (rows: reference, columns: prediction) over 10 items:
    //            yes  no  maybe  (none)
    //   yes       3    1    0      0
    //   no        1    2    0      0
    //   maybe     0    1    1      1
    // accuracy = 6/10; F1(yes) = 2·3/(4+4) = 0.75, F1(no) = 2·2/(4+3) = 4/7,
    // F1(maybe) = 2·1/(1+3) = 0.5; macro-F1 = (0.75 + 4/7 + 0.5) / 3.
    let plan = [
        ("yes", "Yes, it does."),
        ("yes", "yes"),
        ("yes", "YES."),
        ("yes", "No."),
        ("no", "no"),
        ("no", "No, they do not."),
        ("no", "Yes"),
        ("maybe", "Maybe."),
        ("maybe", "no"),
        ("maybe", "It is unclear from the abstract."),
    ];
    let mut pools: BTreeMap<String, Vec<&yardstick::tasks::Item>> = BTreeMap::new();
    for item in &items {
        pools
            .entry(task.reference(item).unwrap())
            .or_default()
            .push(item);
    }
    let mut samples = Vec::new();
    for (index, (label, output)) in plan.iter().enumerate() {
        let item = pools[*label][index];
        let reference = task.reference(item).unwrap();
        assert_eq!(&reference, label);
        let scored = score(task, item, output, &reference).unwrap();
        let mut sample = SampleRecord::supplied(
            "fixture",
            "pubmedqa_chat",
            1,
            (item.index, &item.id),
            0,
            output.to_string(),
        );
        sample.reference = reference;
        sample.extracted = scored.extracted;
        sample.scores = scored.scores;
        samples.push(sample);
    }
    let aggregates = summarize(&samples, &|name| tasks.get(name).ok());
    let metrics = &aggregates.results[0].metrics;
    assert!((metrics["exact_match,choice"].value - 0.6).abs() < 1e-12);
    assert_eq!(metrics["exact_match,choice"].ci_method, "clopper-pearson");
    let expected_f1 = (0.75 + 4.0 / 7.0 + 0.5) / 3.0;
    assert!(
        (metrics["macro_f1,choice"].value - expected_f1).abs() < 1e-12,
        "{:?}",
        metrics["macro_f1,choice"]
    );
    // Ten items: too few for a bootstrap interval to keep its coverage.
    assert_eq!(
        (
            metrics["macro_f1,choice"].ci_low,
            metrics["macro_f1,choice"].ci_high
        ),
        (0.0, 1.0)
    );
    let suite = &aggregates.suites[0];
    assert_eq!((suite.suite.as_str(), suite.tasks.len()), ("biomedical", 1));
    assert!((suite.score.value - 0.6).abs() < 1e-12);
    // pubmedqa_chat is reported on its own: the quality index averages its definition's tasks.
    assert!(aggregates.quality.is_empty());
}
