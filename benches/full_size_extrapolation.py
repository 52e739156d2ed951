#!/usr/bin/env python3
"""How long a run's tasks would take at full size, extrapolated from the run itself: each task's
mean seconds per sample (as the run measured them, one process or worker processes running at
once) times the task's full item count, divided by the run's worker processes; then scaled by
the run's wall time over its model time, so loads, scoring and executing generated code count
too. Prints a Markdown table and puts it into a Markdown file between the markers
<!-- full-size-extrapolation:start --> and <!-- full-size-extrapolation:end --> (marked_block.py).

Usage: full_size_extrapolation.py RUN_DIR[,RUN_DIR…] YARDSTICK_BINARY [TARGET.md]
  Several runs (e.g. one per model) give one table each, in the order given, in one block.
  Environment: BLOCK (the markers' name, default full-size-extrapolation) and HEADING (the
  heading a new block gets), to keep a second run's table beside the first, e.g. a patched
  build's (benches/patched_build.sh).
"""

import json
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

from marked_block import put_block

BLOCK = "full-size-extrapolation"


def full_item_counts(binary):
    """Task name -> items of its whole split, from `yardstick tasks list`."""
    listing = subprocess.run(
        [binary, "tasks", "list"], capture_output=True, text=True, check=True
    ).stdout
    counts = {}
    for line in listing.splitlines()[1:]:
        fields = line.split()
        if len(fields) >= 3 and fields[2].isdigit():
            counts[fields[0]] = int(fields[2])
    return counts


def calibration_lines(manifest):
    """The cached calibration of each model of the run, for the run's build of mistral.rs: one
    process against worker processes, per setup (what `--workers best` decided from)."""
    home = Path(os.environ.get("YARDSTICK_HOME", Path.home() / ".cache/yardstick"))
    backend = f"mistral.rs {manifest.get('backend_version')};"
    lines = []
    for model in manifest["models"]:
        for path in sorted((home / "calibration").glob(f"{model['sha256'][:16]}-*.json")):
            calibration = json.loads(path.read_text())
            if backend not in calibration["conditions"]:
                continue  # another build (e.g. a patched mistralrs-core): not what this run used
            workers = calibration.get("concurrent", [])
            if not workers:
                continue
            lines += [
                "",
                f"Calibration of `{model['id']}` ({calibration['conditions']}), tokens per second "
                "at a 126-token and a 1,001-token prompt and decode after the short one; for "
                "worker processes, all of them together:",
                "",
                "| setup | processes | prefill 126 | prefill 1,001 | decode |",
                "|---|---|---|---|---|",
            ]
            rows = [(setup, cost, 1) for setup, cost in calibration["measured"]]
            rows += [(w["setup"], w["cost"], w["instances"]) for w in workers]
            for setup, cost, n in rows:
                short, long = cost["short"], cost["long"]
                lines.append(
                    f"| {setup['dtype']}, {setup['weights']} | {n} | "
                    f"{n * short['prompt_tokens'] / short['prefill_seconds']:.0f} | "
                    f"{n * long['prompt_tokens'] / long['prefill_seconds']:.0f} | "
                    f"{n * short['decoded_tokens'] / short['decode_seconds']:.1f} |"
                )
    return lines


def hours(seconds):
    return f"{seconds / 3600:.2f}"


def table(run_dir, full):
    manifest = json.loads((run_dir / "manifest.json").read_text())
    summary = json.loads((run_dir / "summary.json").read_text())
    workers = manifest.get("workers") or 1
    latency = defaultdict(float)
    count = defaultdict(int)
    with open(run_dir / "samples.jsonl") as samples:
        for line in samples:
            sample = json.loads(line)
            key = (sample["model"], sample["task"])
            latency[key] += sample["total_latency_s"]
            count[key] += 1
    model_seconds_run = sum(latency.values()) / workers
    wall = summary["wall_seconds"]
    factor = wall / model_seconds_run if model_seconds_run else 1.0
    setups = manifest.get("setups", {})
    lines = [
        f"Run `{manifest['run_id']}` ({', '.join(m['id'] for m in manifest['models'])}; "
        f"{'one process' if workers == 1 else f'{workers} worker processes'}; "
        f"yardstick {manifest['harness_version']} at {manifest.get('git_commit') or '?'}; "
        f"{manifest.get('backend', 'mistral.rs')} {manifest.get('backend_version', '?')}), "
        f"extrapolated by `benches/full_size_extrapolation.py`. Seconds per sample are the "
        f"run's own (with workers: each worker's, while all ran); model hours = items × seconds "
        f"÷ workers. The run's wall time was {wall:.0f} s for {model_seconds_run:.0f} s of model "
        f"time (× {factor:.2f}: loads, scoring, generated code), applied to the totals.",
        "",
        "| model | task | setup | items run | s per sample | full items | model hours at full size |",
        "|---|---|---|---|---|---|---|",
    ]
    totals = defaultdict(float)
    for (model, task), seconds in sorted(latency.items()):
        n = count[(model, task)]
        per_sample = seconds / n
        full_items = full.get(task, n)
        model_hours = per_sample * full_items / workers
        totals[model] += model_hours
        setup = setups.get(model, {}).get(task, {})
        described = ", ".join(
            filter(
                None,
                [
                    setup.get("dtype"),
                    setup.get("weights"),
                    "prefix cache" if setup.get("prefix_cache") else None,
                ],
            )
        )
        lines.append(
            f"| {model} | {task} | {described} | {n} | {per_sample:.2f} | {full_items:,} | "
            f"{hours(model_hours)} |"
        )
    lines.append("")
    for model, seconds in totals.items():
        lines.append(
            f"- **{model}**: {hours(seconds)} h of model time at full size; "
            f"**{hours(seconds * factor)} h** with the run's overhead."
        )
    lines += calibration_lines(manifest)
    return "\n".join(lines) + "\n"


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    full = full_item_counts(sys.argv[2])
    run_dirs = [run_dir for run_dir in sys.argv[1].split(",") if run_dir]
    text = "\n".join(table(Path(run_dir), full) for run_dir in run_dirs)
    print(text)
    if len(sys.argv) == 4:
        put_block(
            Path(sys.argv[3]),
            os.environ.get("BLOCK", BLOCK),
            text,
            os.environ.get("HEADING", "Full-size suites, extrapolated"),
        )


if __name__ == "__main__":
    main()
