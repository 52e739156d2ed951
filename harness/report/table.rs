//! The summary tables printed at the end of a run: per model × task (n, each metric with its
//! 95% interval, the chance level of multiple-choice tasks, output speed, time to first token),
//! then per model the suite scores (every task run) and the quality index (its definition's
//! tasks only) with their intervals. Scores on fewer than 30 items are marked `*`
//! (preliminary), with a footnote.

use crate::metrics::Estimate;
use crate::store::{Summary, TaskResult};

/// Both tables for a run's summary.
pub fn render_summary(summary: &Summary) -> String {
    let mut out = render(&summary.results);
    if !summary.suites.is_empty() {
        out.push('\n');
        out.push_str(&render_suites(summary));
    }
    let preliminary = summary
        .results
        .iter()
        .flat_map(|r| r.metrics.values())
        .chain(summary.quality.iter().map(|q| &q.index))
        .any(|e| e.preliminary);
    if preliminary {
        out.push_str(&format!("{PRELIMINARY_NOTE}\n"));
    }
    if let Some(o) = &summary.overhead {
        out.push_str(&format!(
            "\nwall {:.1} s: backend generating {:.1} s, loading and warm-up {:.1} s, harness \
             overhead {:.2} s ({:.2}% of backend busy time)\n",
            summary.wall_seconds,
            o.backend_busy_seconds,
            o.setup_seconds,
            o.harness_seconds,
            100.0 * o.share_of_busy
        ));
    }
    out
}

/// Suite scores and the quality index per model.
pub fn render_suites(summary: &Summary) -> String {
    let header = ["model", "suite", "n", "score", "95% CI", "interval"];
    let mut rows = Vec::new();
    let mut models: Vec<&str> = summary.suites.iter().map(|s| s.model.as_str()).collect();
    models.dedup();
    for model in models {
        for suite in summary.suites.iter().filter(|s| s.model == model) {
            rows.push(estimate_row(model, &suite.suite, &suite.score, 100.0));
        }
        if let Some(quality) = summary.quality.iter().find(|q| q.model == model) {
            let label = format!(
                "quality index v{} ({} tasks)",
                quality.index_version,
                quality.tasks.len()
            );
            rows.push(estimate_row(model, &label, &quality.index, 1.0));
        }
    }
    aligned(&header, rows, &[2, 3, 4])
}

/// The footnote of `*`.
pub const PRELIMINARY_NOTE: &str =
    "* preliminary: fewer than 30 items (in some task); the interval is wide for a reason";

fn marker(estimate: &Estimate) -> &'static str {
    if estimate.preliminary {
        "*"
    } else {
        ""
    }
}

fn estimate_row(model: &str, label: &str, estimate: &Estimate, scale: f64) -> Vec<String> {
    vec![
        model.to_string(),
        label.to_string(),
        estimate.n.to_string(),
        format!("{:.1}{}", scale * estimate.value, marker(estimate)),
        format!(
            "[{:.1}, {:.1}]",
            scale * estimate.ci_low,
            scale * estimate.ci_high
        ),
        estimate.ci_method.clone(),
    ]
}

/// Renders `results` as an aligned plain-text table.
pub fn render(results: &[TaskResult]) -> String {
    let header = [
        "model",
        "task",
        "n",
        "metric",
        "score",
        "95% CI",
        "chance",
        "output tok/s",
        "TTFT s",
    ];
    let mut rows: Vec<Vec<String>> = Vec::new();
    for result in results {
        let mut keys: Vec<&String> = result.metrics.keys().collect();
        // Headline metric first, the others after it.
        keys.sort_by_key(|k| (*k != &result.primary_metric, (*k).clone()));
        for (position, key) in keys.into_iter().enumerate() {
            let estimate = &result.metrics[key];
            let first = position == 0;
            rows.push(vec![
                if first {
                    result.model.clone()
                } else {
                    String::new()
                },
                if first {
                    result.task.clone()
                } else {
                    String::new()
                },
                estimate.n.to_string(),
                key.clone(),
                format!("{:.1}%{}", 100.0 * estimate.value, marker(estimate)),
                format!(
                    "[{:.1}, {:.1}]",
                    100.0 * estimate.ci_low,
                    100.0 * estimate.ci_high
                ),
                match result.chance {
                    Some(chance) if first => format!("{:.1}%", 100.0 * chance),
                    _ => String::new(),
                },
                if first {
                    median(
                        result
                            .speed
                            .output_tokens_per_second
                            .as_ref()
                            .map(|d| d.median),
                        1,
                    )
                } else {
                    String::new()
                },
                if first {
                    median(
                        result
                            .speed
                            .time_to_first_token_s
                            .as_ref()
                            .map(|d| d.median),
                        2,
                    )
                } else {
                    String::new()
                },
            ]);
        }
    }
    aligned(&header, rows, &[2, 4, 5, 6, 7, 8])
}

/// An aligned plain-text table; columns in `right` are right-aligned.
fn aligned(header: &[&str], rows: Vec<Vec<String>>, right: &[usize]) -> String {
    let widths: Vec<usize> = (0..header.len())
        .map(|c| {
            rows.iter()
                .map(|r| r[c].chars().count())
                .chain([header[c].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: Vec<String>| -> String {
        cells
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(c, (cell, width))| {
                if right.contains(&c) {
                    format!("{cell:>width$}")
                } else {
                    format!("{cell:<width$}")
                }
            })
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    let mut out = vec![line(header.iter().map(|s| s.to_string()).collect())];
    out.push(
        widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .join("  "),
    );
    out.extend(rows.into_iter().map(line));
    out.join("\n") + "\n"
}

fn median(value: Option<f64>, decimals: usize) -> String {
    value.map_or_else(|| "-".to_string(), |v| format!("{v:.decimals$}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Estimate;
    use crate::store::SpeedSummary;
    use std::collections::BTreeMap;

    #[test]
    fn headline_metric_comes_first_with_interval() {
        let mut metrics = BTreeMap::new();
        metrics.insert(
            "exact_match,flexible-extract".to_string(),
            Estimate::proportion(&[1.0, 1.0]),
        );
        metrics.insert(
            "exact_match,strict-match".to_string(),
            Estimate::proportion(&[1.0, 0.0]),
        );
        let result = TaskResult {
            model: "m".into(),
            task: "gsm8k".into(),
            suite: "math".into(),
            task_version: 1,
            n: 2,
            primary_metric: "exact_match,strict-match".into(),
            metrics,
            groups: BTreeMap::new(),
            chance: None,
            speed: SpeedSummary {
                time_to_first_token_s: None,
                output_tokens_per_second: None,
                prefill_tokens_per_second: None,
                total_latency_s: None,
                prompt_tokens: 0,
                completion_tokens: 0,
                busy_seconds: 0.0,
                prefill_seconds: 0.0,
                decode_seconds: 0.0,
            },
        };
        let table = render(&[result]);
        let lines: Vec<&str> = table.lines().collect();
        assert!(
            lines[2].contains("strict-match") && lines[2].contains("50.0%*"),
            "{table}"
        );
        // Clopper–Pearson for 1 of 2: [1.3, 98.7]; for 2 of 2: [15.8, 100].
        assert!(lines[2].contains("[1.3, 98.7]"), "{table}");
        assert!(
            lines[3].contains("flexible-extract") && lines[3].contains("100.0%*"),
            "{table}"
        );
        assert!(lines[3].contains("[15.8, 100.0]"), "{table}");
    }
}
