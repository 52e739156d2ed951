#!/usr/bin/env python3
"""Replays the exact prompts of a yardstick run through llama.cpp's llama-server, and prints wall
time per task beside yardstick's.

Each sample of the run is sent again with the same prompt (chat messages through the server's
chat endpoint, which applies the GGUF's own chat template; completion text as is), the same
generation limit and stop sequences, greedy decoding. Three passes per model, each on a fresh
server with the same GGUF and threads:
  - cached:   one request at a time, llama-server's prompt cache on (`cache_prompt`),
  - uncached: one request at a time, prompt cache off,
  - parallel: the server's slots all busy (`--parallel N`, N requests in flight), cache on.
A multiple-choice sample (scored by log-likelihood) is replayed as the forward passes yardstick
made for it, as token lists (no BOS added, as yardstick encodes them): one over the context when
every choice is one token, else one per choice over the context, the task's target delimiter and
the choice, without its last token. Each request generates one token, so the server evaluates
the prompt and nothing more. yardstick reads these without its prefix cache (it needs every
position's logits), so for these tasks the uncached pass is the like-for-like one. The server
returns no log-likelihoods: only the generated samples' outputs are compared.
yardstick's time per task is its run's backend time (the sum of request latencies, which is
what one request at a time costs) and, beside it, the run's wall time share.

Usage: replay_llama_server.py LLAMA_SERVER RUN_DIR PROJECT_DIR MODELS_DIR THREADS PARALLEL
Prints one JSON object (per model and task: items, seconds per pass, yardstick's seconds).
"""

import json
import os
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(port, path, body):
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=3600) as response:
        return json.load(response)


def start_server(binary, gguf, threads, parallel, ctx):
    port = free_port()
    process = subprocess.Popen(
        [binary, "-m", str(gguf), "--host", "127.0.0.1", "--port", str(port),
         "-t", str(threads), "-tb", str(threads), "-c", str(ctx * parallel),
         "--parallel", str(parallel), "--jinja", "--no-webui"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as r:
                if r.status == 200:
                    return process, port
        except OSError:
            time.sleep(0.5)
    process.kill()
    raise SystemExit(f"llama-server did not start on {gguf}")


def task_spec(project, task):
    for spec in Path(project, "tasks").rglob("task.toml"):
        with open(spec, "rb") as f:
            parsed = tomllib.load(f)
        if parsed.get("name") == task:
            return parsed
    raise SystemExit(f"task {task} not found under {project}/tasks")


def stop_sequences(spec):
    return spec.get("generation", {}).get("stop", [])


def target_delimiter(spec):
    """lm-evaluation-harness's default, unless the task names another."""
    return spec.get("multiple_choice", {}).get("target_delimiter", " ")


def tokens(port, text):
    return post(port, "/tokenize", {"content": text, "add_special": False})["tokens"]


def prefill_inputs(port, sample, delimiter):
    """The token lists yardstick's forward passes read for a multiple-choice sample (lm-eval's
    _encode_pair: the context's trailing whitespace moves to the continuation)."""
    text = sample["prompt"]["text"]
    context = text.rstrip()
    choices = sample["multiple_choice"]["choices"]
    if all(choice["tokens"] == 1 for choice in choices):
        return [tokens(port, context)]
    gap = text[len(context):] + delimiter
    return [tokens(port, context + gap + choice["text"])[:-1] for choice in choices]


def is_choice(sample):
    return sample.get("finish_reason") == "loglikelihood"


def send(port, sample, max_tokens, stop, cache):
    """One sample's requests; a multiple-choice sample's token lists are `prefill_ids`, made
    before any pass is timed."""
    prompt = sample["prompt"]
    common = {"temperature": 0.0, "top_k": 1, "stop": stop, "cache_prompt": cache, "seed": 0}
    if is_choice(sample):
        for ids in sample["prefill_ids"]:
            post(port, "/completion", dict(common, prompt=ids, n_predict=1))
        return None
    if "messages" in prompt:
        body = dict(common, messages=prompt["messages"], max_tokens=max_tokens)
        answer = post(port, "/v1/chat/completions", body)
        return answer["choices"][0]["message"]["content"]
    body = dict(common, prompt=prompt["text"], n_predict=max_tokens)
    return post(port, "/completion", body)["content"]


def replay(port, samples, limits, stops, cache, parallel):
    """Seconds per task, tasks in run order, requests in sample order."""
    seconds, outputs = {}, {}
    for task in dict.fromkeys(s["task"] for s in samples):
        mine = [s for s in samples if s["task"] == task]
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=parallel) as pool:
            answers = list(pool.map(
                lambda s: send(port, s, limits[task], stops[task], cache), mine))
        seconds[task] = time.perf_counter() - started
        outputs[task] = answers
    return seconds, outputs


def main():
    binary, run_dir, project, models_dir, threads, parallel = sys.argv[1:7]
    threads, parallel = int(threads), int(parallel)
    manifest = json.loads(Path(run_dir, "manifest.json").read_text())
    samples = [json.loads(l) for l in Path(run_dir, "samples.jsonl").read_text().split("\n") if l]
    summary = json.loads(Path(run_dir, "summary.json").read_text())
    limits = {t["name"]: t["max_new_tokens"] for t in manifest["tasks"]}
    specs = {t["name"]: task_spec(project, t["name"]) for t in manifest["tasks"]}
    stops = {name: stop_sequences(spec) for name, spec in specs.items()}
    delimiters = {name: target_delimiter(spec) for name, spec in specs.items()}
    report = {"run": manifest["run_id"], "threads": threads, "parallel": parallel, "models": {}}
    for model in [m["id"] for m in manifest["models"]]:
        mine = [dict(s) for s in samples if s["model"] == model]
        gguf = Path(models_dir, f"{model}.gguf")
        ctx = 4096
        passes = {}
        for name, cache, slots in [("cached", True, 1), ("uncached", False, 1),
                                   ("parallel", True, parallel)]:
            process, port = start_server(binary, gguf, threads, slots, ctx)
            try:
                send(port, {"prompt": {"text": "Hello"}}, 2, [], False)  # warm-up
                # Tokenized once, on the first server, outside the timed passes.
                for s in mine:
                    if is_choice(s) and "prefill_ids" not in s:
                        s["prefill_ids"] = prefill_inputs(port, s, delimiters[s["task"]])
                passes[name], outputs = replay(port, mine, limits, stops, cache, slots)
                if name == "cached":
                    pairs = [(a, s) for task in outputs
                             for a, s in zip(outputs[task], [x for x in mine if x["task"] == task])
                             if a is not None]
                    same = sum(a == s["output"] for a, s in pairs)
                    generated = len(pairs)
            finally:
                process.terminate()
                process.wait()
        ours = {}
        for s in mine:
            ours[s["task"]] = ours.get(s["task"], 0.0) + s["total_latency_s"]
        report["models"][model] = {
            "items": {t: sum(1 for s in mine if s["task"] == t) for t in ours},
            "yardstick_backend_seconds": ours,
            "llama_server_seconds": passes,
            "identical_outputs": same,
            "generated_samples": generated,
            "samples": len(mine),
            "yardstick_setups": manifest.get("setups", {}).get(model, {}),
        }
    report["yardstick_wall_seconds"] = summary["wall_seconds"]
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
