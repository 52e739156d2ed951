#!/usr/bin/env python3
"""Regenerates the tables of docs/REPRODUCTION.md from the results: every figure published for a
shipped model (models.toml, `[[model.published]]`) beside yardstick's result on the task whose
setting matches it, with its 95% interval and the verdict, then every other result of the model
(the measurements that explain the gaps).

    benches/reproduction.py [--results results] [--models models.toml] [--tasks tasks]
                            [--doc docs/REPRODUCTION.md]

For each model and task it takes the finished run with the most items (the latest of equals)
under the task's current version.
Only the text between the markers is rewritten; the prose around it is kept.
"""

import argparse
import json
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


def task_versions(tasks):
    """Task name -> the version its spec has now."""
    versions = {}
    for spec in tasks.glob("*/*/task.toml"):
        parsed = tomllib.loads(spec.read_text())
        versions[parsed["name"]] = parsed["version"]
    return versions


def best_results(results, versions):
    """(model, task) -> the result with the most items under the task's current version, with
    its run's manifest."""
    best = {}
    for manifest, summary in finished_runs(results):
        for result in summary["results"]:
            if versions.get(result["task"]) != result["task_version"]:
                continue  # another version of the task: its results say nothing about this one
            key = (result["model"], result["task"])
            rank = (result["n"], manifest["started_at"])
            if key not in best or rank > best[key][0]:
                best[key] = (rank, result, manifest)
    return {key: (result, manifest) for key, (_, result, manifest) in best.items()}


def item_scores(manifest, result, results):
    """Item id -> the headline value (mean over its samples) of `result`'s model and task."""
    per_item = {}
    samples = results / "runs" / manifest["run_id"] / "samples.jsonl"
    for line in samples.read_text().splitlines():
        sample = json.loads(line)
        if sample["model"] != result["model"] or sample["task"] != result["task"]:
            continue
        value = sample.get("scores", {}).get(result["primary_metric"])
        if value is not None:
            per_item.setdefault(sample["item_id"], []).append(value)
    return {item: sum(v) / len(v) for item, v in per_item.items()}


def percent(x):
    return f"{100 * x:.1f}"


def describe(result, manifest):
    """'61.6% [53.7, 69.0], n = 164 (all items), run R' for a result's headline metric."""
    estimate = result["metrics"][result["primary_metric"]]
    size = "all items" if manifest.get("limit") is None and not manifest.get("shard") else "a subset"
    quantization = next(
        (m["quantization"] for m in manifest["models"] if m["id"] == result["model"]), "?"
    )
    return (
        f"{percent(estimate['value'])}% [{percent(estimate['ci_low'])}, {percent(estimate['ci_high'])}]",
        f"n = {estimate['n']} ({size}), {quantization}, `{result['primary_metric']}`, run `{manifest['run_id']}`",
        estimate,
    )


def verdict(published, estimate):
    value = published / 100
    if estimate["ci_low"] <= value <= estimate["ci_high"]:
        return "within the interval"
    side = "above" if value > estimate["ci_high"] else "below"
    gap = 100 * (value - estimate["value"])
    return f"**outside**: published is {side} the interval ({gap:+.1f} points)"


def tables(models, best, results):
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
            task = figure.get("task")
            found = best.get((model["id"], task)) if task else None
            if found:
                matched.add(task)
                here, detail, estimate = describe(*found)
                row_verdict = verdict(figure["value"], estimate)
            else:
                here, detail = "—", ""
                row_verdict = "not run yet" if task else "no yardstick task has this setting"
            lines.append(
                f"| {figure['benchmark']} | {figure['value']:.1f}% | {figure['setting']} · {figure['source']} "
                f"| {f'`{task}`' if task else '—'} | {here} | {detail} | {row_verdict} |"
            )
        others = sorted(t for (m, t) in best if m == model["id"] and t not in matched)
        matched_scores = {
            task: item_scores(best[(model["id"], task)][1], best[(model["id"], task)][0], results)
            for task in sorted(matched)
        } if others else {}
        if others:
            lines += ["", "Other results of this model (the measurements the explanations below use):", ""]
            lines += [
                "| task | here (95% CI) | items, weights, metric, run | a matched task on the same items |",
                "|---|---|---|---|",
            ]
            for task in others:
                result, manifest = best[(model["id"], task)]
                here, detail, _ = describe(result, manifest)
                # The published-setting tasks scored on exactly this result's items (a paired view).
                mine = item_scores(manifest, result, results)
                paired = []
                for other, theirs in matched_scores.items():
                    shared = [item for item in mine if item in theirs]
                    if shared:
                        paired.append(
                            f"`{other}` {percent(sum(theirs[i] for i in shared) / len(shared))}% "
                            f"against {percent(sum(mine[i] for i in shared) / len(shared))}% "
                            f"on the same {len(shared)} items"
                        )
                lines.append(f"| `{task}` | {here} | {detail} | {'; '.join(paired) or '—'} |")
        lines.append("")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", default="results", type=pathlib.Path)
    parser.add_argument("--models", default="models.toml", type=pathlib.Path)
    parser.add_argument("--doc", default="docs/REPRODUCTION.md", type=pathlib.Path)
    parser.add_argument("--tasks", default="tasks", type=pathlib.Path)
    args = parser.parse_args()
    models = tomllib.loads(args.models.read_text())["model"]
    block = f"{START}\n{tables(models, best_results(args.results, task_versions(args.tasks)), args.results)}{END}"
    text = args.doc.read_text() if args.doc.exists() else f"# Reproduction\n\n{START}\n{END}\n"
    if START not in text or END not in text:
        sys.exit(f"{args.doc}: the markers {START} and {END} are missing; add them where the tables go")
    before, rest = text.split(START, 1)
    _, after = rest.split(END, 1)
    args.doc.write_text(before + block + after)
    print(f"wrote {args.doc}")


if __name__ == "__main__":
    main()
