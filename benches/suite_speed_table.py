#!/usr/bin/env python3
"""Renders the suite-speed comparison (replay_llama_server.py's JSON) as a Markdown table, prints
it, and puts it into a Markdown file between the markers
<!-- suite-vs-llama-server:start --> and <!-- suite-vs-llama-server:end --> (appended when the file
has none).

Usage: suite_speed_table.py REPLAY.json RUN_DIR TARGET.md
"""

import json
import platform
import subprocess
import sys
from pathlib import Path

from marked_block import put_block

BLOCK = "suite-vs-llama-server"


def cpu():
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def table(report, manifest, choice_tasks):
    lines = [
        f"Run `{report['run']}` replayed through llama-server on {cpu()}, "
        f"{report['threads']} threads, {report['parallel']} slots in the parallel pass "
        f"(`benches/suite_vs_llama_server.sh`, {subprocess.run(['date', '-u', '+%Y-%m-%d'], capture_output=True, text=True).stdout.strip()}). "
        "Seconds per task; the ratio is yardstick ÷ llama-server with its prompt cache, "
        "one request at a time (the target is ≤ 2×). Multiple-choice tasks are replayed as their "
        "prefill-only forward passes; yardstick reads those without its prefix cache (its "
        "raw-logits requests return every position's logits, which a cache hit would leave "
        "out), so there the uncached column is the like-for-like one.",
        "",
        "| model | task | items | yardstick setup | yardstick s | llama-server cached s | uncached s | parallel s | ratio |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for model, m in report["models"].items():
        total_ours = total_cached = 0.0
        for task, ours in m["yardstick_backend_seconds"].items():
            cached = m["llama_server_seconds"]["cached"][task]
            setup = m["yardstick_setups"].get(task)
            setup = (f"{setup['dtype']}, {setup['weights']}"
                     + (", prefix cache" if setup.get("prefix_cache") else "")) if setup else "—"
            lines.append(
                f"| {model} | {task} | {m['items'][task]} | {setup} | {ours:.1f} | {cached:.1f} | "
                f"{m['llama_server_seconds']['uncached'][task]:.1f} | "
                f"{m['llama_server_seconds']['parallel'][task]:.1f} | {ours / cached:.1f}× |")
            total_ours += ours
            total_cached += cached
        uncached = sum(m["llama_server_seconds"]["uncached"].values())
        parallel = sum(m["llama_server_seconds"]["parallel"].values())
        lines.append(
            f"| {model} | **total** | {m['samples']} | | {total_ours:.1f} | {total_cached:.1f} | "
            f"{uncached:.1f} | {parallel:.1f} | {total_ours / total_cached:.1f}× |")
        lines.append(
            f"| {model} | greedy outputs identical to yardstick's | {m['identical_outputs']} of "
            + (f"{m['generated_samples']} generated" if "generated_samples" in m
               else str(m["samples"])) + " | | | | | | |")
    lines += reading(report, choice_tasks)
    lines.append("")
    lines.append(f"yardstick's whole run took {report['yardstick_wall_seconds']:.1f} s of wall time "
                 "(model loads, warm-ups and scoring included; the one-off calibration was not part of it).")
    return "\n".join(lines)


def reading(report, choice_tasks):
    """Per model: the total ratio, the tasks within 2x and those over it (multiple-choice ones
    also against the uncached pass)."""
    lines = ["", "Against the ≤ 2× target:", ""]
    for model, m in report["models"].items():
        ours = m["yardstick_backend_seconds"]
        cached = m["llama_server_seconds"]["cached"]
        uncached = m["llama_server_seconds"]["uncached"]
        ratio = {task: ours[task] / cached[task] for task in ours}
        within = [f"`{t}` {r:.1f}×" for t, r in ratio.items() if r <= 2.0]
        over = [f"`{t}` {r:.1f}×" + (f" ({ours[t] / uncached[t]:.1f}× against uncached)"
                                      if t in choice_tasks else "")
                for t, r in ratio.items() if r > 2.0]
        total = sum(ours.values()) / sum(cached.values())
        lines.append(f"- {model}: total {total:.1f}×. Within 2×: {', '.join(within) or 'none'}. "
                     f"Over: {', '.join(over) or 'none'}.")
    lines += ["", "Greedy outputs that differ from yardstick's (llama.cpp's kernels round "
              "differently) can differ in length too, so on the generation tasks the ratios compare "
              "like prompts, not like outputs."]
    return lines


def choice_tasks_of(run_dir):
    """The run's tasks scored by log-likelihood."""
    tasks = set()
    with open(Path(run_dir, "samples.jsonl")) as samples:
        for line in samples:
            sample = json.loads(line)
            if sample.get("finish_reason") == "loglikelihood":
                tasks.add(sample["task"])
    return tasks


def main():
    report = json.loads(Path(sys.argv[1]).read_text())
    manifest = json.loads(Path(sys.argv[2], "manifest.json").read_text())
    target = Path(sys.argv[3])
    body = table(report, manifest, choice_tasks_of(sys.argv[2]))
    print(body)
    put_block(target, BLOCK, body, "Suite speed against llama-server")


if __name__ == "__main__":
    main()
