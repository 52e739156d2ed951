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


def table(report, manifest):
    lines = [
        f"Run `{report['run']}` replayed through llama-server on {cpu()}, "
        f"{report['threads']} threads, {report['parallel']} slots in the parallel pass "
        f"(`benches/suite_vs_llama_server.sh`, {subprocess.run(['date', '-u', '+%Y-%m-%d'], capture_output=True, text=True).stdout.strip()}). "
        "Seconds per task; the ratio is yardstick ÷ llama-server with its prompt cache, "
        "one request at a time (the target is ≤ 2×). Multiple-choice tasks are replayed as their "
        "prefill-only forward passes; yardstick reads those without its prefix cache (it needs "
        "every position's logits), so there the uncached column is the like-for-like one.",
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
    lines.append("")
    lines.append(f"yardstick's whole run took {report['yardstick_wall_seconds']:.1f} s of wall time "
                 "(model loads, warm-ups and scoring included; the one-off calibration was not part of it).")
    return "\n".join(lines)


def main():
    report = json.loads(Path(sys.argv[1]).read_text())
    manifest = json.loads(Path(sys.argv[2], "manifest.json").read_text())
    target = Path(sys.argv[3])
    body = table(report, manifest)
    print(body)
    put_block(target, BLOCK, body, "Suite speed against llama-server")


if __name__ == "__main__":
    main()
