//! The static leaderboard site: `index.html` (sortable table, charts, exports), a page per model,
//! and a sample browser per model × task. Works offline from `file://`: no CDN, no remote fonts.
//!
//! Everything from a run is untrusted (model output above all): templates auto-escape HTML, a
//! Content-Security-Policy forbids inline scripts, and charts are embedded as `<img>`, where SVG
//! cannot run scripts.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use minijinja::{context, Environment};
use serde::Serialize;

use super::charts::Chart;
use super::exports;
use crate::leaderboard::{Leaderboard, ModelRow};
use crate::store::{SampleRecord, Verdict};

const TEMPLATES: [(&str, &str); 4] = [
    ("base.html", include_str!("templates/base.html")),
    ("index.html", include_str!("templates/index.html")),
    ("model.html", include_str!("templates/model.html")),
    ("samples.html", include_str!("templates/samples.html")),
];
const ASSETS: [(&str, &str); 2] = [
    ("style.css", include_str!("assets/style.css")),
    ("site.js", include_str!("assets/site.js")),
];

pub use crate::files::slug;

/// [`slug`]s of `ids`, with a short hash added where two would name the same file (also when
/// they differ only in case, for case-insensitive file systems).
pub fn unique_slugs<'a>(ids: impl Iterator<Item = &'a str>) -> Vec<String> {
    let ids: Vec<&str> = ids.collect();
    let plain: Vec<String> = ids.iter().map(|id| slug(id)).collect();
    ids.iter()
        .zip(&plain)
        .map(|(id, s)| {
            let clashes = plain
                .iter()
                .filter(|other| other.eq_ignore_ascii_case(s))
                .count();
            if clashes > 1 {
                let hash =
                    crate::files::hex(&<sha2::Sha256 as sha2::Digest>::digest(id.as_bytes()));
                format!("{s}-{}", &hash[..8])
            } else {
                s.clone()
            }
        })
        .collect()
}

#[derive(Serialize)]
struct RowContext<'a> {
    #[serde(flatten)]
    row: &'a ModelRow,
    slug: String,
}

#[derive(Serialize)]
struct MetricContext<'a> {
    key: &'a str,
    primary: bool,
    estimate: &'a crate::metrics::Estimate,
}

#[derive(Serialize)]
struct TaskContext<'a> {
    task: &'a str,
    suite: &'a str,
    slug: String,
    output_tps: Option<f64>,
    ttft: Option<f64>,
    ttft_p90: Option<f64>,
    chance: Option<f64>,
    metrics: Vec<MetricContext<'a>>,
    /// Headline score per group of items (MMLU per subject…), best first.
    groups: Vec<(&'a str, &'a crate::metrics::Estimate)>,
}

#[derive(Serialize)]
struct SampleContext<'a> {
    #[serde(flatten)]
    sample: &'a SampleRecord,
    prompt_text: String,
}

#[derive(Serialize)]
struct Skipped {
    dir: String,
    reason: String,
}

fn environment() -> Result<Environment<'static>> {
    let mut env = Environment::new();
    for (name, source) in TEMPLATES {
        env.add_template(name, source)?;
    }
    env.add_filter("fixed", |value: Option<f64>, digits: usize| {
        value.map_or("—".to_string(), |v| format!("{v:.digits$}"))
    });
    env.add_filter("usd", |value: Option<f64>| {
        value.map_or("—".to_string(), super::charts::common::usd)
    });
    Ok(env)
}

/// Renders every page and asset into `out` (which must exist and be empty).
pub fn render_into(
    out: &Path,
    board: &Leaderboard,
    charts: &[Chart],
    skipped: &[(PathBuf, String)],
) -> Result<()> {
    let env = environment()?;
    let common = context! {
        generated_at => chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
        harness_version => crate::HARNESS_VERSION,
    };
    let write = |relative: &str, text: &[u8]| -> Result<()> {
        let path = out.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))
    };
    let slugs = unique_slugs(board.rows.iter().map(|r| r.id.as_str()));
    let rows: Vec<RowContext> = board
        .rows
        .iter()
        .zip(slugs)
        .map(|(row, slug)| RowContext { row, slug })
        .collect();

    let index = env.get_template("index.html")?.render(context! {
        root => "",
        suites => &board.suites,
        index_tasks => board.index_tasks.iter().map(|(task, _)| task.as_str()).collect::<Vec<_>>(),
        rows => &rows,
        charts => charts,
        skipped => skipped.iter().map(|(dir, reason)| Skipped {
            dir: dir.display().to_string(),
            reason: reason.clone(),
        }).collect::<Vec<_>>(),
        ..common.clone()
    })?;
    write("index.html", index.as_bytes())?;
    for (name, text) in ASSETS {
        write(&format!("assets/{name}"), text.as_bytes())?;
    }
    for chart in charts {
        write(&format!("charts/{}", chart.file), chart.svg.as_bytes())?;
    }
    write("leaderboard.csv", exports::csv(board)?.as_bytes())?;
    write("leaderboard.md", exports::markdown(board).as_bytes())?;
    write("leaderboard.parquet", &exports::parquet(board)?)?;

    for row in &rows {
        let task_slugs = unique_slugs(row.row.tasks.iter().map(|t| t.task.as_str()));
        let tasks: Vec<TaskContext> = row
            .row
            .tasks
            .iter()
            .zip(task_slugs)
            .map(|(t, slug)| TaskContext {
                task: &t.task,
                suite: &t.suite,
                slug,
                output_tps: t.speed.output_tokens_per_second.as_ref().map(|d| d.median),
                ttft: t.speed.time_to_first_token_s.as_ref().map(|d| d.median),
                ttft_p90: t.speed.time_to_first_token_s.as_ref().map(|d| d.p90),
                chance: t.chance,
                groups: {
                    let mut groups: Vec<_> =
                        t.groups.iter().map(|(g, e)| (g.as_str(), e)).collect();
                    groups.sort_by(|a, b| b.1.value.total_cmp(&a.1.value));
                    groups
                },
                metrics: t
                    .metrics
                    .iter()
                    .map(|(key, estimate)| MetricContext {
                        key,
                        primary: *key == t.primary_metric,
                        estimate,
                    })
                    .collect(),
            })
            .collect();
        let page = env.get_template("model.html")?.render(context! {
            root => "../",
            row => row,
            tasks => &tasks,
            ..common.clone()
        })?;
        write(&format!("models/{}.html", row.slug), page.as_bytes())?;
        for task in &tasks {
            let samples: Vec<SampleContext> = row
                .row
                .samples
                .iter()
                .filter(|s| s.task == task.task)
                .map(|sample| SampleContext {
                    sample,
                    prompt_text: sample.prompt.display_text(),
                })
                .collect();
            let failures = samples
                .iter()
                .filter(|s| s.sample.verdict != Verdict::Correct)
                .count();
            let page = env.get_template("samples.html")?.render(context! {
                root => "../../",
                row => row,
                task => task.task,
                samples => &samples,
                failures => failures,
                ..common.clone()
            })?;
            write(
                &format!("samples/{}/{}.html", row.slug, task.slug),
                page.as_bytes(),
            )?;
        }
    }
    Ok(())
}

/// Renders the site into `site_dir`, replacing what was there only once every file is written:
/// a failure leaves the previous site intact.
pub fn write_site(
    site_dir: &Path,
    board: &Leaderboard,
    charts: &[Chart],
    skipped: &[(PathBuf, String)],
) -> Result<()> {
    let parent = site_dir
        .parent()
        .context("the site folder has no parent folder")?;
    std::fs::create_dir_all(parent)
        .with_context(|| format!("cannot create {}", parent.display()))?;
    let staging = tempfile::Builder::new()
        .prefix(".site-")
        .tempdir_in(parent)
        .with_context(|| format!("cannot write into {}", parent.display()))?;
    render_into(staging.path(), board, charts, skipped)?;
    // The old site moves into a fresh temporary folder, so it can be put back.
    let retired = tempfile::Builder::new()
        .prefix(".site-old-")
        .tempdir_in(parent)
        .with_context(|| format!("cannot write into {}", parent.display()))?;
    let old = retired.path().join("site");
    let had_old = site_dir.exists();
    if had_old {
        std::fs::rename(site_dir, &old)
            .with_context(|| format!("cannot replace {}", site_dir.display()))?;
    }
    if let Err(err) = std::fs::rename(staging.path(), site_dir) {
        if had_old {
            std::fs::rename(&old, site_dir).ok();
        }
        return Err(err)
            .with_context(|| format!("cannot move the new site to {}", site_dir.display()));
    }
    // `staging` was moved away; dropping it finds nothing. `retired` removes the old site.
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_single_safe_segments() {
        assert_eq!(slug("qwen2.5-coder-0.5b"), "qwen2.5-coder-0.5b");
        assert_eq!(slug("../etc/passwd"), "..-etc-passwd");
        assert_eq!(slug(".."), "-");
        assert_eq!(slug("a b<c>"), "a-b-c-");
    }

    #[test]
    fn clashing_slugs_get_distinct_names() {
        let slugs = unique_slugs(["a/b", "a-b", "C", "c", "solo"].into_iter());
        assert_eq!(slugs[4], "solo");
        let mut distinct = slugs.clone();
        distinct.sort();
        distinct.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
        assert_eq!(distinct.len(), 5, "{slugs:?}");
    }

    #[test]
    fn filters_format_missing_values() {
        let env = environment().unwrap();
        let out = env
            .render_str(
                "{{ 1.234 | fixed(1) }} {{ none | fixed(2) }} {{ 0.0123 | usd }}",
                (),
            )
            .unwrap();
        assert_eq!(out, "1.2 — $0.012");
    }
}
