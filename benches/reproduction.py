#!/usr/bin/env python3
"""Regenerates the tables of docs/REPRODUCTION.md from the results: every figure published for a
shipped model (models.toml, `[[model.published]]`) beside yardstick's result on the task whose
setting matches it, with its 95% interval and the verdict, then every other result of the model
(the measurements that explain the gaps).

    benches/reproduction.py [--results results] [--models models.toml] [--tasks tasks]
                            [--doc docs/REPRODUCTION.md] [--ledger docs/reproduction-results.json]

For each model and task it takes the finished run with the most items (the latest of equals)
under the task's current version, among the runs under results/ and the results the ledger kept
from earlier regenerations. The ledger (rewritten each time) holds the result behind every row
with its per-item scores, so a row outlives its run's folder (runs stay on the machine that made
them) and is replaced only by a run with more items. A task's items are set beside a matched
task's on the same records: same item id, or, for numbered items ('<task>/<index>'), the same
index of the same file read the same way. A figure can name the metric it is (`metric`, e.g. acc_norm;
default the task's headline metric), and a figure that is the mean of several benchmarks
(`average_of`) is set beside the same unweighted mean of their tasks, with the interval
yardstick gives a weighted mean of tasks (Korn–Graubard, as the model pages and suite scores).
Only the text between the markers is rewritten; the prose around it is kept.
"""

import argparse
import json
import math
import pathlib
import sys
import tomllib

START = "<!-- reproduction:start -->"
END = "<!-- reproduction:end -->"


def finished_runs(results):
    """(manifest, summary) of each finished run under results/runs."""
    for folder in sorted((results / "runs").glob("*")):
        manifest_file, summary_file = folder / "manifest.json", folder / "summary.json"
        if not (manifest_file.is_file() and summary_file.is_file()):
            continue
        manifest = json.loads(manifest_file.read_text())
        if not manifest.get("finished_at"):
            continue
        yield manifest, json.loads(summary_file.read_text())


def task_specs(tasks):
    """Task name -> its spec as it is now."""
    return {spec["name"]: spec for spec in (tomllib.loads(f.read_text()) for f in tasks.glob("*/*/task.toml"))}


def task_versions(specs):
    """Task name -> the version its spec has now."""
    return {name: spec["version"] for name, spec in specs.items()}


def positional_readings(specs):
    """Task name -> the records its numbered item ids ('<task>/<index>') count, for a task whose
    items are numbered (no `items.id_field`, no split, not a json_object file: those ids are the
    records' own): its dataset file read in its format, then its parts. Two tasks with the same
    reading number the same records, so their items pair by index (HellaSwag's two prompts,
    GSM8K's); ids taken from the records pair as they are."""
    readings = {}
    for name, spec in specs.items():
        items = spec.get("items", {})
        numbered = not ({"id_field", "split"} & items.keys()) and items.get("format") != "json_object"
        if "dataset" in spec and numbered:
            readings[name] = json.dumps(
                [
                    spec["dataset"]["sha256"],
                    items.get("format", "jsonl"),
                    [part["sha256"] for part in items.get("parts", [])],
                ]
            )
    return readings


def record_items(entry, readings):
    """An entry's per-item scores keyed by the record each item is: its id, or for a positional
    id its task's reading and index."""
    task = entry["result"]["task"]
    prefix = f"{task}/"
    reading = readings.get(task)

    def record(item):
        return f"{reading}#{item[len(prefix):]}" if reading and item.startswith(prefix) else item

    return {record(item): score for item, score in (entry.get("items") or {}).items()}


def run_entries(results):
    """A ledger entry for each result of each finished run under results/runs: the result, what
    the tables say of its run, and its per-item headline scores."""
    for manifest, summary in finished_runs(results):
        for result in summary["results"]:
            yield {
                "result": result,
                "run": {
                    "run_id": manifest["run_id"],
                    "started_at": manifest["started_at"],
                    "all_items": manifest.get("limit") is None and not manifest.get("shard"),
                    "quantization": next(
                        (m["quantization"] for m in manifest["models"] if m["id"] == result["model"]), "?"
                    ),
                },
                "items": item_scores(manifest, result, results),
            }


def best_results(entries, versions):
    """(model, task) -> the ledger entry with the most items under the task's current version
    (the latest run of equals)."""
    best = {}
    for entry in entries:
        result = entry["result"]
        if versions.get(result["task"]) != result["task_version"]:
            continue  # another version of the task: its results say nothing about this one
        key = (result["model"], result["task"])
        rank = (result["n"], entry["run"]["started_at"])
        if key not in best or rank > best[key][0]:
            best[key] = (rank, entry)
    return {key: entry for key, (_, entry) in best.items()}


def read_ledger(path):
    return json.loads(path.read_text())["results"] if path.exists() else []


def write_ledger(path, best):
    entries = [best[key] for key in sorted(best)]
    note = (
        "Written by benches/reproduction.py: the result behind each row of docs/REPRODUCTION.md, "
        "kept when its run's folder is gone. `items` maps item id to its headline score; `paired` "
        "(results kept from before the ledger, whose per-item scores were not kept) is the paired "
        "view the tables showed."
    )
    path.write_text(json.dumps({"note": note, "results": entries}, indent=1, sort_keys=True) + "\n")


def item_scores(manifest, result, results):
    """Item id -> the headline value (mean over its samples) of `result`'s model and task."""
    per_item = {}
    samples = results / "runs" / manifest["run_id"] / "samples.jsonl"
    # Split at "\n" only: str.splitlines also splits at U+2028 and other separators that a
    # prompt or output inside a JSON string may hold (serde_json leaves them unescaped).
    for line in filter(None, samples.read_text().split("\n")):
        sample = json.loads(line)
        if sample["model"] != result["model"] or sample["task"] != result["task"]:
            continue
        value = sample.get("scores", {}).get(result["primary_metric"])
        if value is not None:
            per_item.setdefault(sample["item_id"], []).append(value)
    return {item: sum(v) / len(v) for item, v in per_item.items()}


# The interval of a weighted mean of tasks' means, as harness/metrics/stats.rs computes it
# (`Estimate::weighted_mean_of_estimates`): each task's item variance rebuilt from its standard
# error, floored at a proportion shrunk towards 1/2; Clopper-Pearson at the Korn-Graubard
# effective n, never above the Kish effective size.


def incomplete_beta(a, b, x):
    """I_x(a, b) by its continued fraction (Numerical Recipes §6.4), as stats.rs."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log(1 - x))
    if x < (a + 1) / (a + b + 2):
        return front * continued_fraction(a, b, x) / a
    return 1 - front * continued_fraction(b, a, 1 - x) / b


def continued_fraction(a, b, x):
    tiny = 1e-300
    away = lambda v: tiny if abs(v) < tiny else v  # noqa: E731
    qab, qap, qam = a + b, a + 1, a - 1
    c, d = 1.0, 1 / away(1 - qab * x / qap)
    h = d
    for m in range(1, 10_001):
        m2 = 2 * m
        for aa in (m * (b - m) * x / ((qam + m2) * (a + m2)), -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))):
            d = 1 / away(1 + aa * d)
            c = away(1 + aa / c)
            step = d * c
            h *= step
        if abs(step - 1) < 1e-15:
            break
    return h


def beta_quantile(q, a, b):
    low, high = 0.0, 1.0
    for _ in range(100):
        middle = (low + high) / 2
        if incomplete_beta(a, b, middle) < q:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def clopper_pearson(successes, n):
    low = 0.0 if successes <= 0 else beta_quantile(0.025, successes, n - successes + 1)
    high = 1.0 if successes >= n else beta_quantile(0.975, successes + 1, n - successes)
    return low, high


def mean_of_estimates(estimates):
    """The unweighted mean of tasks' estimates, with its interval (see above)."""
    weight = 1 / len(estimates)
    value = min(max(sum(weight * e["value"] for e in estimates), 0.0), 1.0)
    variance = 0.0
    for e in estimates:
        shrunk = (e["value"] * e["n"] + 1) / (e["n"] + 2)
        item_variance = max(e["stderr"] ** 2 * e["n"], shrunk * (1 - shrunk))
        variance += weight * weight * item_variance / e["n"]
    kish = 1 / sum(weight * weight / e["n"] for e in estimates)
    effective = min(value * (1 - value) / variance, kish) if variance > 0 and 0 < value < 1 else kish
    low, high = clopper_pearson(value * effective, effective)
    return {"n": sum(e["n"] for e in estimates), "value": value, "ci_low": low, "ci_high": high}


def metric_key(result, metric):
    """The key of `metric` (a name such as acc_norm, or a whole key) in `result`, or its headline."""
    if metric is None:
        return result["primary_metric"]
    return next((k for k in result["metrics"] if k == metric or k.split(",")[0] == metric), None)


def percent(x):
    return f"{100 * x:.1f}"


def describe(entry, key=None):
    """'61.6% [53.7, 69.0], n = 164 (all items), run R' for a ledger entry's metric `key`
    (default: its headline metric)."""
    result, run = entry["result"], entry["run"]
    key = key or result["primary_metric"]
    estimate = result["metrics"][key]
    size = "all items" if run["all_items"] else "a subset"
    return (
        f"{percent(estimate['value'])}% [{percent(estimate['ci_low'])}, {percent(estimate['ci_high'])}]",
        f"n = {estimate['n']} ({size}), {run['quantization']}, `{key}`, run `{run['run_id']}`",
        estimate,
    )


def verdict(published, estimate):
    value = published / 100
    if estimate["ci_low"] <= value <= estimate["ci_high"]:
        return "within the interval"
    side = "above" if value > estimate["ci_high"] else "below"
    gap = 100 * (value - estimate["value"])
    return f"**outside**: published is {side} the interval ({gap:+.1f} points)"


def paired_view(entry, matched_entries, readings):
    """The published-setting tasks scored on exactly this entry's items (the same records),
    beside its own score."""
    if entry.get("items") is None:
        # A result kept from before the ledger: the paired view the tables showed, which holds
        # only while the matched results are still those of then (kept without items too).
        current = all(other.get("items") is None for other in matched_entries.values())
        return entry.get("paired", "—") if current else "—"
    mine = record_items(entry, readings)
    paired = []
    for task, other in matched_entries.items():
        theirs = record_items(other, readings)
        shared = [item for item in mine if item in theirs]
        if shared:
            paired.append(
                f"`{task}` {percent(sum(theirs[i] for i in shared) / len(shared))}% "
                f"against {percent(sum(mine[i] for i in shared) / len(shared))}% "
                f"on the same {len(shared)} items"
            )
    return "; ".join(paired) or "—"


def tables(models, best, readings):
    lines = []
    for model in models:
        published = model.get("published", [])
        if not published:
            continue
        lines += [f"### {model['display_name']} (`{model['id']}`, {model['quantization']} here)", ""]
        lines += [
            "| benchmark | published | setting · source | yardstick task | here (95% CI) | items, weights, metric, run | verdict |",
            "|---|---|---|---|---|---|---|",
        ]
        matched = set()
        for figure in published:
            tasks = [figure["task"]] if figure.get("task") else figure.get("average_of", [])
            found = [best.get((model["id"], task)) for task in tasks]
            keys = [metric_key(f["result"], figure.get("metric")) if f else None for f in found]
            if tasks and all(found) and all(keys):
                matched.update(tasks)
                described = [describe(entry, key) for entry, key in zip(found, keys)]
                if len(tasks) == 1:
                    here, detail, estimate = described[0]
                else:
                    estimate = mean_of_estimates([e for _, _, e in described])
                    here = (
                        f"{percent(estimate['value'])}% [{percent(estimate['ci_low'])}, {percent(estimate['ci_high'])}] "
                        "(unweighted mean)"
                    )
                    detail = "; ".join(f"`{task}` {h}: {d}" for task, (h, d, _) in zip(tasks, described))
                row_verdict = verdict(figure["value"], estimate)
            else:
                here, detail = "—", ""
                row_verdict = "not run yet" if tasks else "no yardstick task has this setting"
            named = " + ".join(f"`{task}`" for task in tasks) or "—"
            if figure.get("metric"):
                named += f" ({figure['metric']})"
            lines.append(
                f"| {figure['benchmark']} | {figure['value']:.1f}% | {figure['setting']} · {figure['source']} "
                f"| {named} | {here} | {detail} | {row_verdict} |"
            )
        others = sorted(t for (m, t) in best if m == model["id"] and t not in matched)
        if others:
            matched_entries = {task: best[(model["id"], task)] for task in sorted(matched)}
            lines += ["", "Other results of this model (the measurements the explanations below use):", ""]
            lines += [
                "| task | here (95% CI) | items, weights, metric, run | a matched task on the same items |",
                "|---|---|---|---|",
            ]
            for task in others:
                entry = best[(model["id"], task)]
                here, detail, _ = describe(entry)
                lines.append(f"| `{task}` | {here} | {detail} | {paired_view(entry, matched_entries, readings)} |")
        lines.append("")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", default="results", type=pathlib.Path)
    parser.add_argument("--models", default="models.toml", type=pathlib.Path)
    parser.add_argument("--doc", default="docs/REPRODUCTION.md", type=pathlib.Path)
    parser.add_argument("--tasks", default="tasks", type=pathlib.Path)
    parser.add_argument("--ledger", default="docs/reproduction-results.json", type=pathlib.Path)
    args = parser.parse_args()
    models = tomllib.loads(args.models.read_text())["model"]
    entries = [*read_ledger(args.ledger), *run_entries(args.results)]
    specs = task_specs(args.tasks)
    best = best_results(entries, task_versions(specs))
    block = f"{START}\n{tables(models, best, positional_readings(specs))}{END}"
    text = args.doc.read_text() if args.doc.exists() else f"# Reproduction\n\n{START}\n{END}\n"
    if START not in text or END not in text:
        sys.exit(f"{args.doc}: the markers {START} and {END} are missing; add them where the tables go")
    before, rest = text.split(START, 1)
    _, after = rest.split(END, 1)
    args.doc.write_text(before + block + after)
    write_ledger(args.ledger, best)
    print(f"wrote {args.doc} and {args.ledger}")


if __name__ == "__main__":
    main()
