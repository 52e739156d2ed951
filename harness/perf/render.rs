//! `perf` output: an aligned table for people, CSV rows for spreadsheets (JSON is the serde form
//! of [`PerfReport`]).

use std::fmt::Write;

use anyhow::Result;

use super::{MeanSd, PerfReport, SweepPoint};

fn mean_sd(value: Option<MeanSd>) -> String {
    value.map_or("—".into(), |v| format!("{:.1} ± {:.1}", v.mean, v.sd))
}

/// The reports as a table: workloads, sweep, roofline per model.
pub fn table(reports: &[PerfReport]) -> String {
    let mut out = String::new();
    for report in reports {
        let _ = writeln!(
            out,
            "\n{}  ({} {}, {} dtype, {} threads; load {:.1} s, warm-up {:.1} s — not counted)",
            report.model,
            report.backend.name,
            report.backend.version,
            report.backend.dtype,
            report.threads,
            report.backend.load_seconds,
            report.warmup_seconds
        );
        let _ = writeln!(
            out,
            "  {:<14} {:>6} {:>6} {:>16} {:>16} {:>12} {:>22}",
            "workload",
            "in",
            "out",
            "prefill tok/s",
            "decode tok/s",
            "TTFT s",
            "$/1M in · out · blend"
        );
        for w in &report.workloads {
            let _ = writeln!(
                out,
                "  {:<14} {:>6} {:>6.0} {:>16} {:>16} {:>12} {:>22}  (n={})",
                w.workload,
                w.prompt_tokens,
                w.generated_tokens,
                mean_sd(w.prefill_tokens_per_second),
                mean_sd(w.decode_tokens_per_second),
                w.time_to_first_token_s
                    .map_or("—".into(), |v| format!("{:.2} ± {:.2}", v.mean, v.sd)),
                w.cost.map_or("—".into(), |c| format!(
                    "{:.2} · {:.2} · {:.2}",
                    c.input, c.output, c.blended
                )),
                w.repetitions
            );
        }
        if !report.sweep.is_empty() {
            let _ = writeln!(
                out,
                "  {:<14} {:>20} {:>20} {:>12} {:>14} {:>14}",
                "concurrency",
                "system out tok/s",
                "per-request tok/s",
                "mean TTFT s",
                "$/1M out",
                "same as alone"
            );
            for p in &report.sweep {
                let _ = writeln!(
                    out,
                    "  {:<14} {:>20.1} {:>20} {:>12.2} {:>14} {:>14}",
                    p.concurrency,
                    p.system_output_tokens_per_second,
                    p.per_request_output_tokens_per_second
                        .map_or("—".into(), |v| format!("{v:.1}")),
                    p.mean_time_to_first_token_s,
                    p.usd_per_million_output
                        .map_or("—".into(), |c| format!("{c:.2}")),
                    p.outputs_as_sent_alone
                        .map_or("—".into(), |n| format!("{n} of {}", p.concurrency))
                );
            }
            for warning in sweep_warnings(report) {
                let _ = writeln!(out, "  warning: {warning}");
            }
        }
        if let Some(r) = &report.roofline {
            let _ = writeln!(
                out,
                "  roofline: {:.1} GB/s ÷ {:.1} MB per token = {:.0} tok/s; decode {} = {} of the limit",
                r.bandwidth_bytes_per_second / 1e9,
                r.bytes_per_token as f64 / 1e6,
                r.roofline_tokens_per_second,
                r.decode_tokens_per_second
                    .map_or("—".into(), |d| format!("{d:.1} tok/s")),
                r.share.map_or("—".into(), |s| format!("{:.1}%", s * 100.0))
            );
            if let Some(why) = r.implausible() {
                let _ = writeln!(out, "  warning: {why}");
            }
        }
    }
    out
}

/// What the sweep's output check found wrong, one sentence each (none when every level's
/// greedy outputs equal the lone ones).
pub fn sweep_warnings(report: &PerfReport) -> Vec<String> {
    let differs = |p: &SweepPoint| p.outputs_as_sent_alone.is_some_and(|n| n < p.concurrency);
    let mut warnings = Vec::new();
    if report
        .sweep
        .iter()
        .any(|p| p.concurrency == 1 && differs(p))
    {
        warnings.push(
            "one request at a time gave a different greedy output than the same prompt sent \
             alone again: the backend is not deterministic here"
                .to_string(),
        );
    }
    let batched: Vec<String> = report
        .sweep
        .iter()
        .filter(|p| p.concurrency > 1 && differs(p))
        .map(|p| p.concurrency.to_string())
        .collect();
    if !batched.is_empty() {
        warnings.push(format!(
            "at concurrency {} some greedy outputs differ from the same prompt sent alone: the \
             backend's batching changed what it generates, so those speeds are not of the same \
             work",
            batched.join(", ")
        ));
    }
    warnings
}

/// One CSV row per measurement: `model, kind, name, concurrency, metric, mean, sd`.
pub fn csv(reports: &[PerfReport]) -> Result<String> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record([
        "model",
        "kind",
        "name",
        "concurrency",
        "metric",
        "mean",
        "sd",
    ])?;
    let mut row = |model: &str, kind: &str, name: &str, c: usize, metric: &str, v: MeanSd| {
        writer.write_record([
            model,
            kind,
            name,
            &c.to_string(),
            metric,
            &v.mean.to_string(),
            &v.sd.to_string(),
        ])
    };
    for report in reports {
        let model = report.model.as_str();
        for w in &report.workloads {
            for (metric, value) in [
                ("prefill_tokens_per_second", w.prefill_tokens_per_second),
                ("decode_tokens_per_second", w.decode_tokens_per_second),
                ("time_to_first_token_s", w.time_to_first_token_s),
                ("total_latency_s", w.total_latency_s),
            ] {
                if let Some(value) = value {
                    row(model, "workload", &w.workload, 1, metric, value)?;
                }
            }
        }
        for p in &report.sweep {
            let exact = |mean| MeanSd { mean, sd: 0.0 };
            row(
                model,
                "sweep",
                "concurrency",
                p.concurrency,
                "system_output_tokens_per_second",
                exact(p.system_output_tokens_per_second),
            )?;
            if let Some(speed) = p.per_request_output_tokens_per_second {
                row(
                    model,
                    "sweep",
                    "concurrency",
                    p.concurrency,
                    "per_request_output_tokens_per_second",
                    exact(speed),
                )?;
            }
            if let Some(same) = p.outputs_as_sent_alone {
                row(
                    model,
                    "sweep",
                    "concurrency",
                    p.concurrency,
                    "outputs_as_sent_alone",
                    exact(same as f64),
                )?;
            }
        }
        if let Some(r) = &report.roofline {
            let exact = |mean| MeanSd { mean, sd: 0.0 };
            row(
                model,
                "roofline",
                "memory",
                1,
                "bandwidth_bytes_per_second",
                exact(r.bandwidth_bytes_per_second),
            )?;
            row(
                model,
                "roofline",
                "memory",
                1,
                "roofline_tokens_per_second",
                exact(r.roofline_tokens_per_second),
            )?;
            if let Some(share) = r.share {
                row(model, "roofline", "memory", 1, "share", exact(share))?;
            }
        }
    }
    Ok(String::from_utf8(writer.into_inner()?)?)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::backend::scripted::ScriptedBackend;
    use crate::perf::{measure, PerfOptions, Workload};

    fn sweep_report(backend: &ScriptedBackend) -> PerfReport {
        let options = PerfOptions {
            workloads: vec![],
            repetitions: 1,
            concurrency: vec![1, 2],
            sweep_workload: "pp8-tg4".parse::<Workload>().unwrap(),
        };
        measure("m", backend, &options, &|_| {}).unwrap()
    }

    #[test]
    fn the_table_warns_when_batched_outputs_differ_from_lone_ones() {
        let steady = sweep_report(&ScriptedBackend::new(|prompt| prompt.len().to_string()));
        let table_steady = table(&[steady]);
        assert!(table_steady.contains("2 of 2"), "{table_steady}");
        assert!(!table_steady.contains("warning"), "{table_steady}");

        // Every call answers differently: no sweep output matches its lone run.
        let calls = AtomicUsize::new(0);
        let drifting = sweep_report(&ScriptedBackend::new(move |_| {
            calls.fetch_add(1, Ordering::SeqCst).to_string()
        }));
        let table_drifting = table(std::slice::from_ref(&drifting));
        assert!(table_drifting.contains("0 of 2"), "{table_drifting}");
        assert!(
            table_drifting.contains("warning: one request at a time gave a different"),
            "{table_drifting}"
        );
        assert!(
            table_drifting.contains("warning: at concurrency 2 some greedy outputs differ"),
            "{table_drifting}"
        );
        let rows = csv(&[drifting]).unwrap();
        assert!(
            rows.contains("m,sweep,concurrency,2,outputs_as_sent_alone,0,0"),
            "{rows}"
        );
    }
}
