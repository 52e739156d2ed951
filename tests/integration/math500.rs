//! `math500` against lm-evaluation-harness 0.4.13's `minerva_math500` (its utils.py, run from
//! the reference wheel with sympy and math_verify stubbed out: the functions compared here do
//! not use them):
//!
//! - every prompt equals lm-eval's (its YAML's `doc_to_text`/`doc_to_target`, its four
//!   `list_fewshot_samples` through `FirstNSampler`, joined as `fewshot_context` joins them);
//! - every gold answer equals lm-eval's `process_docs` answer
//!   (`normalize_final_answer(remove_boxed(last_boxed_only_string(solution)))`);
//! - on a corpus of outputs built from every item's answer (units, `\text`, shorthand TeX,
//!   thousands separators, `=` chains, answers cut before the end sentence, none at all…), the
//!   normalized answer equals `normalize_final_answer(get_unnormalized_answer(output))`, and the
//!   verdict equals lm-eval's string-equality test (the first branch of its `is_equiv`; its
//!   sympy branch is what `math500` does not do).

use yardstick::data::DataCache;

use crate::support::{provisioned_cache, run_reference};

/// lm-eval's prompts, golds and normalized answers for the request on stdin.
const LM_EVAL_MINERVA: &str = r#####"
import json, os, sys, types, importlib.util, importlib.metadata as metadata
for stub in ("sacrebleu", "requests", "antlr4", "sympy", "sympy.parsing", "sympy.parsing.latex",
             "math_verify"):
    sys.modules.setdefault(stub, types.ModuleType(stub))
sys.modules["math_verify"].parse = sys.modules["math_verify"].verify = None
sys.modules["sympy.parsing.latex"].parse_latex = None
real_version = metadata.version
metadata.version = lambda name: "4.11.0" if name == "antlr4-python3-runtime" else real_version(name)
import yaml
import lm_eval
from lm_eval.utils import apply_template
from lm_eval.api.samplers import FirstNSampler
folder = os.path.join(os.path.dirname(lm_eval.__file__), "tasks", "minerva_math")
spec = importlib.util.spec_from_file_location("minerva_utils", os.path.join(folder, "utils.py"))
utils = importlib.util.module_from_spec(spec)
spec.loader.exec_module(utils)
def load(name):
    config = yaml.safe_load(open(os.path.join(folder, name)).read().replace("!function utils.", ""))
    if "include" in config:
        base = load(config.pop("include"))
        base.update(config)
        config = base
    return config
cfg = load("minerva_math500.yaml")
assert cfg["fewshot_config"]["sampler"] == "first_n" and cfg["num_fewshot"] == 4
request = json.load(sys.stdin)
sampler = FirstNSampler(df=utils.list_fewshot_samples(), rnd=1234)
prompts, golds = [], []
for doc in request["docs"]:
    shots = sampler.sample(cfg["num_fewshot"])
    context = "".join(utils.doc_to_text(s) + cfg.get("target_delimiter", " ")
                      + apply_template(cfg["doc_to_target"], s) + cfg.get("fewshot_delimiter", "\n\n")
                      for s in shots)
    prompts.append(context + utils.doc_to_text(doc))
    golds.append(utils.normalize_final_answer(utils.remove_boxed(utils.last_boxed_only_string(doc["solution"]))))
answers = [utils.normalize_final_answer(utils.get_unnormalized_answer(o)) for o in request["outputs"]]
print(json.dumps({"prompts": prompts, "golds": golds, "answers": answers,
                  "until": cfg["generation_kwargs"]["until"]}))
"#####;

/// Outputs a model might write for an item whose boxed answer is `answer`.
fn outputs(answer: &str) -> Vec<String> {
    let end = "I hope it is correct.";
    vec![
        format!("We compute.\nFinal Answer: The final answer is ${answer}$. {end}"),
        format!("Final Answer: The final answer is {answer}. {end}\n\nMore text"),
        format!("x = 3.\nFinal Answer: The final answer is $x = {answer}$. {end}"),
        format!("Final Answer: The final answer is ${answer}$ inches. {end}"),
        format!("Final Answer: The final answer is $\\boxed{{{answer}}}$. {end}"),
        format!("Final Answer: The final answer is \\text{{{answer}}} square units."),
        format!("Final Answer: The final answer is ${answer}"),
        format!("The answer is $\\boxed{{{answer}}}$."),
        format!("Final Answer: The final answer is\n${answer}$. {end}"),
        format!("Final Answer: The final answer is 1. {end} Final Answer: The final answer is {answer}. {end}"),
    ]
}

/// Hand-written answers that exercise each normalization rule.
const TRICKY: &[&str] = &[
    "1,000,000",
    "0,1",
    "-12,345",
    "\\frac12",
    "\\frac{1}{2}",
    "\\dfrac34",
    "\\sqrt2",
    "\\sqrt[3]8",
    "\\sqrt[3]{8}",
    "2\\sqrt{2}",
    "90^\\circ",
    "90^{\\circ}",
    "\\textbf{(C)}",
    "\\text{(A)}",
    "\\overline{AB}",
    "\\mbox{ cm}",
    "5\\text{ cm}^2",
    "\\left( 3, \\frac{\\pi}{2} \\right)",
    "a cat and an apple",
    "10 feet",
    "2\\pi cm",
    "\\$12.50",
    "12.",
    "x \\in [2,5)",
    "\\{1,2\\}",
    "3\\;\\text{m}",
    "1{,}000",
    "7\\text{th}",
    "\"quoted\"",
    "\\ldots",
    "4 \\text{\nmeters}",
    "y=2x+3",
    "a = b = 7",
    "$5$ and $6$",
    "\\boxed{\\frac{1}{2}}",
    "é5 ways",
    "leftft",
];

#[test]
fn math500_prompts_golds_and_answers_equal_lm_evaluation_harness() {
    let locations = provisioned_cache();
    let tasks = yardstick::config::tasks(locations).unwrap();
    let data = DataCache::new(locations.data_dir());
    let task = tasks.get("math500").unwrap();
    let items = task.load_items(&data, None).unwrap();
    assert_eq!(items.len(), 500);
    let exemplars = task.load_fewshot(&data, items.len()).unwrap();

    // Outputs: every item's raw boxed answer in each form, and the tricky answers.
    let raw_answers: Vec<String> = items
        .iter()
        .map(|item| {
            let solution = item.doc["solution"].as_str().unwrap();
            let boxed = yardstick::tasks::minerva::last_boxed_only_string(solution).unwrap();
            yardstick::tasks::minerva::remove_boxed(&boxed).unwrap()
        })
        .collect();
    let mut corpus: Vec<String> = raw_answers.iter().flat_map(|a| outputs(a)).collect();
    corpus.extend(TRICKY.iter().flat_map(|a| outputs(a)));

    let docs: Vec<&serde_json::Value> = items.iter().map(|i| &i.doc).collect();
    let reference = run_reference(
        LM_EVAL_MINERVA,
        &serde_json::json!({"docs": docs, "outputs": corpus}),
    );
    let until: Vec<String> = serde_json::from_value(reference["until"].clone()).unwrap();
    assert_eq!(task.spec.generation.stop, until);

    let mut differing = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let prompt = task.render(item, &exemplars).unwrap().display_text();
        if prompt != reference["prompts"][index].as_str().unwrap() {
            differing.push(format!("prompt of item {}", item.id));
        }
        let gold = task.reference(item).unwrap();
        if gold != reference["golds"][index].as_str().unwrap() {
            differing.push(format!(
                "gold of item {}: {gold:?} vs {}",
                item.id, reference["golds"][index]
            ));
        }
    }
    let exact = task.exact_match(0).unwrap();
    let (mut agreeing, mut correct) = (0, 0);
    for (number, output) in corpus.iter().enumerate() {
        let ours = task.extract(output).remove(0).1;
        let theirs = reference["answers"][number].as_str().unwrap();
        // lm-eval's "[invalidanswer]" is the filter finding nothing here.
        let same = match &ours {
            Some(answer) => answer == theirs,
            None => theirs == "[invalidanswer]",
        };
        if !same {
            differing.push(format!("answer of {output:?}: {ours:?} vs {theirs:?}"));
            continue;
        }
        agreeing += 1;
        if let Some(item) = (number / 10 < items.len()).then_some(number / 10) {
            let gold = reference["golds"][item].as_str().unwrap();
            let verdict = exact.matches(ours.as_deref(), gold);
            assert_eq!(verdict, theirs == gold, "{output:?} against {gold:?}");
            correct += usize::from(verdict);
        }
    }
    assert!(
        differing.is_empty(),
        "{} differences, first: {:#?}",
        differing.len(),
        &differing[..differing.len().min(10)]
    );
    eprintln!(
        "math500: {agreeing} of {} answers equal lm-eval's; {correct} of {} item outputs match their gold",
        corpus.len(),
        items.len() * 10
    );
    assert!(
        correct > items.len() * 5,
        "the well-formed outputs match their gold"
    );
}
