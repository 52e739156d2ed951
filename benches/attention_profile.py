#!/usr/bin/env python3
"""Where prefill time goes inside mistral.rs on CPU, by sampling profiler: runs `yardstick perf`
on prompts of several lengths under Linux `perf record` (DWARF call chains) and sorts every
sample of the process by the function it was taken in:

- attention: mistral.rs's CPU attention kernel (`attention::backends::cpu`: `vec_dot_f32`,
  `mask_offset`, and the per-row closure that calls them, found as the caller of `vec_dot_f32`
  in the call chains), with the `expf` it calls;
- matmul: the `gemm` crate's kernels (candle's matrix products with dequantized weights);
- quantized matmul: candle's quantized dot products (`k_quants`, `vec_dot`), with quantized
  weights;
- kernel: the operating system (page faults, scheduling);
- other: everything else (model load, RoPE, norms, sampling, the engine loop).

The run includes loading the model once; more repetitions make that share smaller. Prints a
Markdown table and puts it into a Markdown file between <!-- attention-profile:start --> and
<!-- attention-profile:end --> (marked_block.py).

Usage: attention_profile.py YARDSTICK_BINARY MODEL [TARGET.md]
  Environment: WORKLOADS (default "pp128-tg1 pp1000-tg1 pp1000-tg64"), REPETITIONS (3),
  WEIGHTS (dequantized or quantized; default dequantized), DTYPE (f32).
Needs `perf` (Debian: linux-perf) allowed to profile the user's processes
(kernel.perf_event_paranoid ≤ 2).
"""

import os
import re
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from marked_block import put_block

BLOCK = "attention-profile"
CATEGORIES = ["attention", "matmul", "quantized matmul", "kernel", "other"]
FRAME = re.compile(r"^\s*([0-9a-f]+)\s+(.*?)(?:\+0x([0-9a-f]+))?\s+\((.*)\)\s*$")


def samples(perf_data):
    """Each sample's frames (leaf first) as (address, symbol, offset, dso)."""
    script = subprocess.run(
        ["perf", "script", "--no-inline", "-i", perf_data, "-F", "ip,sym,symoff,dso"],
        capture_output=True, text=True, check=True,
    ).stdout
    frames = []
    for line in script.splitlines() + [""]:
        match = FRAME.match(line)
        if match:
            address, symbol, offset, dso = match.groups()
            frames.append((int(address, 16), symbol, int(offset or "0", 16), dso))
        elif frames:
            yield frames
            frames = []


def start(frame):
    address, _, offset, _ = frame
    return address - offset


def classify(all_samples):
    """Category -> samples."""
    attention_closures = {
        start(frames[1])
        for frames in all_samples
        if len(frames) > 1 and "attention::backends::cpu::vec_dot_f32" in frames[0][1]
    }
    counts = Counter()
    for frames in all_samples:
        _, symbol, _, dso = frames[0]
        parent_start = start(frames[1]) if len(frames) > 1 else None
        if "attention::backends::cpu" in symbol or start(frames[0]) in attention_closures or (
            "expf" in symbol and parent_start in attention_closures
        ):
            counts["attention"] += 1
        elif symbol.startswith("gemm"):
            counts["matmul"] += 1
        elif "k_quants" in symbol or "vec_dot" in symbol or "quantized" in symbol:
            counts["quantized matmul"] += 1
        elif "kernel" in dso:
            counts["kernel"] += 1
        else:
            counts["other"] += 1
    return counts


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    binary, model = sys.argv[1], sys.argv[2]
    target = Path(sys.argv[3]) if len(sys.argv) > 3 else None
    workloads = os.environ.get("WORKLOADS", "pp128-tg1 pp1000-tg1 pp1000-tg64").split()
    repetitions = os.environ.get("REPETITIONS", "3")
    weights = os.environ.get("WEIGHTS", "dequantized")
    dtype = os.environ.get("DTYPE", "f32")
    rows = []
    with tempfile.TemporaryDirectory() as work:
        for workload in workloads:
            data = os.path.join(work, f"{workload}.data")
            command = [
                "perf", "record", "-F", "199", "--call-graph", "dwarf,16384", "-o", data, "--",
                binary, "perf", "--model", model, "--workload", workload,
                "--repetitions", repetitions, "--no-sweep", "--dtype", dtype,
            ] + (["--dequantize"] if weights == "dequantized" else [])
            run = subprocess.run(command, capture_output=True, text=True)
            if run.returncode != 0:
                sys.exit(f"{' '.join(command)} failed:\n{run.stderr[-2000:]}")
            # The result line: workload, in, out, prefill "x ± y", decode "x ± y" or "—", …
            fields = next(
                (line.split() for line in run.stdout.splitlines() if line.split()[:1] == [workload]),
                [],
            )
            prefill = " ".join(fields[3:6]) if len(fields) > 5 else "?"
            decode = " ".join(fields[6:9]) if len(fields) > 8 and fields[6] != "—" else "—"
            speed = f"prefill {prefill} tok/s, decode {decode} tok/s"
            counts = classify(list(samples(data)))
            total = sum(counts.values())
            rows.append((workload, total, {c: 100 * counts[c] / total for c in CATEGORIES}, speed))
            print(f"{workload}: {total} samples; {speed}", file=sys.stderr)
    lines = [
        f"Where `yardstick perf` spends its CPU time on `{model}` ({dtype}, {weights} weights; "
        f"{repetitions} repetitions plus one model load; `benches/attention_profile.py`, Linux "
        "`perf` at 199 Hz with DWARF call chains). Share of all samples of the process:",
        "",
        "| workload | samples | " + " | ".join(CATEGORIES) + " |",
        "|---|---|" + "---|" * len(CATEGORIES),
    ]
    for workload, total, shares, speed in rows:
        lines.append(
            f"| {workload} ({speed}) | {total} | "
            + " | ".join(f"{shares[c]:.1f}%" for c in CATEGORIES)
            + " |"
        )
    body = "\n".join(lines) + "\n"
    print(body)
    if target:
        put_block(target, BLOCK, body, "Where prefill time goes")


if __name__ == "__main__":
    main()
