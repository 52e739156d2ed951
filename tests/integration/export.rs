//! `yardstick export --format lm-eval`: a run's results file read by lm-evaluation-harness's own
//! code — checked against the `EvalResults` schema of its `result_schema.py` and printed by its
//! `make_table` (the table `lm_eval` prints from a results file) with yardstick's numbers.

use yardstick::export::{facts_from, lm_eval_results};
use yardstick::store::read_finished_run;

use crate::pipeline::{run_toy, toy};
use crate::support::{run_reference, stderr, yardstick};

/// Checks the exported file against lm-eval's `EvalResults` TypedDict (keys and value types;
/// `configs` only as task → mapping: lm-eval itself writes numbers and nested tables there, which
/// its annotation leaves out), then renders it with lm-eval's `make_table` (its table writer
/// stubbed to hand back the rows). Prints {"problems": [...], "rows": [...]}.
const LM_EVAL_READS: &str = r#####"
import json, sys, types, typing
for name in ("sacrebleu", "requests"):
    try:
        __import__(name)
    except ImportError:
        sys.modules[name] = types.ModuleType(name)
writer = types.ModuleType("pytablewriter")
class Writer:
    headers = []
    value_matrix = []
    def dumps(self):
        return self.value_matrix
writer.MarkdownTableWriter = writer.LatexTableWriter = Writer
sys.modules["pytablewriter"] = writer
import typing_extensions
from lm_eval import result_schema
from lm_eval.utils import make_table
exported = json.load(sys.stdin)
problems = []
def conforms(value, hint, where):
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is typing.Any:
        return
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        errors = []
        for option in args:
            before = len(problems)
            conforms(value, option, where)
            if len(problems) == before:
                del errors[:]
                return
            errors.extend(problems[before:])
            del problems[before:]
        problems.append(f"{where}: {value!r} is none of {hint}")
    elif hint is type(None):
        if value is not None:
            problems.append(f"{where}: {value!r} is not null")
    elif origin is dict:
        if not isinstance(value, dict):
            problems.append(f"{where}: not a mapping")
            return
        for key, item in value.items():
            conforms(key, args[0], f"{where} key")
            conforms(item, args[1], f"{where}[{key!r}]")
    elif origin is list:
        if not isinstance(value, list):
            problems.append(f"{where}: not a list")
            return
        for i, item in enumerate(value):
            conforms(item, args[0], f"{where}[{i}]")
    elif typing_extensions.is_typeddict(origin or hint):
        cls = origin or hint
        if not isinstance(value, dict):
            problems.append(f"{where}: not a mapping")
            return
        hints = typing_extensions.get_type_hints(cls, vars(result_schema))
        for key in cls.__required_keys__:
            if key not in value:
                problems.append(f"{where}: required key {key!r} missing")
        extra = getattr(cls, "__extra_items__", None)
        for key, item in value.items():
            if key in hints:
                conforms(item, hints[key], f"{where}[{key!r}]")
            elif extra is not None:
                if not isinstance(item, (int, float, bool)):
                    problems.append(f"{where}[{key!r}]: extra item {item!r} is not a number")
            else:
                problems.append(f"{where}: key {key!r} is not in {cls.__name__}")
    elif hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            problems.append(f"{where}: {value!r} is not a number")
    elif hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            problems.append(f"{where}: {value!r} is not an integer")
    elif isinstance(hint, type):
        if not isinstance(value, hint):
            problems.append(f"{where}: {value!r} is not {hint.__name__}")
hints = typing_extensions.get_type_hints(result_schema.EvalResults, vars(result_schema))
for key, value in exported.items():
    if key not in hints:
        problems.append(f"top-level key {key!r} is not in EvalResults")
    elif key == "configs":
        conforms(value, dict[str, dict], key)
    else:
        conforms(value, hints[key], key)
for task, metrics in exported.get("results", {}).items():
    for key in metrics:
        metric, _, metric_filter = key.partition(",")
        if metric_filter and not metric.endswith("_stderr") and f"{metric}_stderr,{metric_filter}" not in metrics:
            problems.append(f"results[{task!r}]: {key} has no {metric}_stderr,{metric_filter}")
print(json.dumps({"problems": problems, "rows": make_table(exported)}))
"#####;

/// lm-eval's standard error of a mean metric, on the outcomes given.
const LM_EVAL_MEAN_STDERR: &str = r#####"
import json, sys, types
sys.modules.setdefault("sacrebleu", types.ModuleType("sacrebleu"))  # imported, not used here
from lm_eval.api.metrics import mean_stderr
print(json.dumps(mean_stderr(json.load(sys.stdin))))
"#####;

#[test]
fn lm_eval_export_follows_lm_evals_schema_and_its_own_table_reads_it() {
    let toy = toy();
    let outcome = run_toy(
        2,
        &toy.tasks,
        &toy.data,
        toy.results.path(),
        "exported",
        None,
    );
    let run = read_finished_run(&outcome.run_dir).unwrap();
    let model = run.manifest.models[0].id.clone();
    let facts = |task: &str, version: u32| facts_from(&toy.tasks, task, version, Some(4));
    let exported = lm_eval_results(&run, &model, &facts).unwrap();

    let summary = run
        .summary
        .results
        .iter()
        .find(|r| r.model == model)
        .unwrap();
    let estimate = &summary.metrics["exact_match,first-number"];
    let task = &exported["results"]["toy_sums"];
    assert_eq!(task["exact_match,first-number"], estimate.value);
    assert_eq!(task["exact_match_stderr,first-number"], estimate.stderr);
    assert_eq!(exported["n-samples"]["toy_sums"]["effective"], 4);
    assert_eq!(exported["versions"]["toy_sums"], 3.0);
    assert_eq!(
        exported["configs"]["toy_sums"]["generation_kwargs"]["until"],
        serde_json::json!(["\n"])
    );

    // The standard error is the one lm-eval computes for a mean (its own `mean_stderr`).
    let outcomes: Vec<f64> = run
        .samples
        .iter()
        .filter(|s| s.model == model)
        .map(|s| s.scores["exact_match,first-number"])
        .collect();
    assert!(
        outcomes.contains(&0.0) && outcomes.contains(&1.0),
        "{outcomes:?}"
    );
    let theirs = run_reference(LM_EVAL_MEAN_STDERR, &serde_json::json!(outcomes));
    let theirs = theirs.as_f64().unwrap();
    assert!(
        (estimate.stderr - theirs).abs() < 1e-12,
        "stderr {} here, {theirs} by lm-eval",
        estimate.stderr
    );

    let read = run_reference(LM_EVAL_READS, &exported);
    assert_eq!(read["problems"], serde_json::json!([]), "{read:#}");
    let rows = read["rows"].as_array().unwrap();
    // Tasks, Version, Filter, n-shot, Metric, ↑, Value, ±, Stderr.
    let row = &rows[0];
    assert_eq!(row[0], "toy_sums");
    assert_eq!(row[2], "first-number");
    assert_eq!(row[4], "exact_match");
    assert_eq!(row[6], format!("{:.4}", estimate.value));
    assert_eq!(row[8], format!("{:.4}", estimate.stderr));
    assert_eq!(row[5], "↑", "higher is better");
}

#[test]
fn exporting_a_run_of_several_models_asks_which_one() {
    let toy = toy();
    run_toy(2, &toy.tasks, &toy.data, toy.results.path(), "two", None);
    let results = toy.results.path().to_str().unwrap();
    let out = yardstick(
        toy.results.path(),
        &[
            "export",
            "two",
            "--format",
            "lm-eval",
            "--results-dir",
            results,
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("--model") && err.contains("smollm2-135m-instruct"),
        "{err}"
    );
    let unknown = yardstick(
        toy.results.path(),
        &[
            "export",
            "two",
            "--format",
            "lm-eval",
            "--model",
            "gpt-17",
            "--results-dir",
            results,
        ],
        &[],
    );
    assert_eq!(unknown.status.code(), Some(1));
    assert!(
        stderr(&unknown).contains("no model \"gpt-17\""),
        "{}",
        stderr(&unknown)
    );
}
