//! The leaderboard's charts, drawn with plotters as SVG (one file per chart).

pub mod common;
pub mod history;
pub mod latency;
pub mod quality_vs_price;
pub mod quality_vs_speed;
pub mod scatter;
pub mod speed_vs_price;
pub mod suite_bars;
pub mod task_bars;

use anyhow::Result;
use serde::Serialize;

use crate::leaderboard::Leaderboard;

/// One rendered chart.
#[derive(Debug, Clone, Serialize)]
pub struct Chart {
    /// File name under `charts/`.
    pub file: String,
    /// Title.
    pub title: String,
    /// What it shows, for the page and for screen readers.
    pub description: String,
    /// The SVG text.
    #[serde(skip)]
    pub svg: String,
}

/// Every chart of the leaderboard.
pub fn render_all(board: &Leaderboard) -> Result<Vec<Chart>> {
    let chart = |file: &str, title: &str, description: &str, svg: String| Chart {
        file: file.into(),
        title: title.into(),
        description: description.into(),
        svg,
    };
    let mut charts = vec![
        chart(
            "quality-vs-price.svg",
            "Quality vs price",
            "Quality index (with its 95% interval) against the self-hosted blended price per 1M tokens \
             on a log axis; hollow points are the lowest public provider price for the same model. \
             The line joins the Pareto frontier; the shaded corner is cheaper and better than the median.",
            quality_vs_price::render(board)?,
        ),
        chart(
            "quality-vs-speed.svg",
            "Quality vs output speed",
            "Quality index against median output tokens per second; the shaded corner is faster and \
             better than the median.",
            quality_vs_speed::render(board)?,
        ),
        chart(
            "speed-vs-price.svg",
            "Output speed vs price",
            "Median output tokens per second against the self-hosted blended price per 1M tokens.",
            speed_vs_price::render(board)?,
        ),
        chart(
            "suite-scores.svg",
            "Score per suite",
            "Each suite's score (mean of its tasks' headline metrics) per model, with 95% intervals.",
            suite_bars::render(board)?,
        ),
        chart(
            "latency.svg",
            "Request latency",
            "Distribution of end-to-end request latency per model over every sample of its run.",
            latency::render(board)?,
        ),
        chart(
            "history.svg",
            "Across runs",
            "Quality index and median output speed of each model in every finished run, over time.",
            history::render(board)?,
        ),
    ];
    // One chart per task, best model first (Artificial Analysis's per-evaluation view).
    let mut tasks: Vec<&str> = board
        .rows
        .iter()
        .flat_map(|r| r.cells.iter().filter(|c| c.comparable))
        .map(|c| c.task.as_str())
        .collect();
    tasks.sort();
    tasks.dedup();
    for task in tasks {
        if let Some(svg) = task_bars::render(board, task)? {
            charts.push(chart(
                &format!("task-{}.svg", crate::files::slug(task)),
                &format!("Task: {task}"),
                &format!(
                    "Each model's headline score on {task} (the compared items), best first, with \
                     95% intervals; the dashed line is the chance level of a multiple-choice task."
                ),
                svg,
            ));
        }
    }
    Ok(charts)
}
