//! One task's scores across models, as Artificial Analysis draws each evaluation: a bar per
//! model, sorted from best to worst, with 95% CI whiskers and the task's chance level as a
//! dashed line (multiple choice).

use anyhow::Result;
use plotters::prelude::*;

use super::common::{categorical_chart, color, plot_err, svg, HEIGHT, WIDTH};
use crate::leaderboard::Leaderboard;
use crate::metrics::Estimate;

/// The models' compared scores on `task`, best first: (display name, row position, score).
pub fn sorted_scores<'b>(board: &'b Leaderboard, task: &str) -> Vec<(String, usize, &'b Estimate)> {
    let mut scores: Vec<(String, usize, &Estimate)> = board
        .rows
        .iter()
        .enumerate()
        .filter_map(|(position, row)| {
            let cell = row.cells.iter().find(|c| c.task == task && c.comparable)?;
            Some((row.display_name.clone(), position, &cell.score))
        })
        .collect();
    scores.sort_by(|a, b| b.2.value.total_cmp(&a.2.value).then_with(|| a.0.cmp(&b.0)));
    scores
}

/// The chart's SVG, or `None` when no model has a compared result on `task`.
pub fn render(board: &Leaderboard, task: &str) -> Result<Option<String>> {
    let scores = sorted_scores(board, task);
    if scores.is_empty() {
        return Ok(None);
    }
    let chance = board
        .rows
        .iter()
        .flat_map(|r| &r.tasks)
        .find(|t| t.task == task)
        .and_then(|t| t.chance);
    let metric = board
        .rows
        .iter()
        .flat_map(|r| &r.cells)
        .find(|c| c.task == task)
        .map_or(String::new(), |c| c.metric.clone());
    let names: Vec<String> = scores.iter().map(|(name, _, _)| name.clone()).collect();
    let svg = svg(WIDTH, HEIGHT, |root| {
        let mut chart = categorical_chart(
            root,
            &format!("{task} ({metric})"),
            &names,
            0.0..100.0,
            "Score, % (95% CI)",
        )?;
        let bars = scores.iter().enumerate().map(|(i, (_, position, score))| {
            let x = i as f64;
            Rectangle::new(
                [(x - 0.35, 0.0), (x + 0.35, 100.0 * score.value)],
                color(*position).filled(),
            )
        });
        chart.draw_series(bars).map_err(plot_err)?;
        let whiskers = scores.iter().enumerate().map(|(i, (_, _, score))| {
            PathElement::new(
                vec![
                    (i as f64, 100.0 * score.ci_low),
                    (i as f64, 100.0 * score.ci_high),
                ],
                BLACK.stroke_width(2),
            )
        });
        chart.draw_series(whiskers).map_err(plot_err)?;
        if let Some(chance) = chance {
            let y = 100.0 * chance;
            let right = scores.len() as f64 - 0.5;
            let dashes = (0..(scores.len() * 8))
                .map(|k| -0.5 + k as f64 / 8.0)
                .filter(|x| *x + 1.0 / 16.0 <= right)
                .map(|x| {
                    PathElement::new(vec![(x, y), (x + 1.0 / 16.0, y)], BLACK.stroke_width(1))
                });
            chart.draw_series(dashes).map_err(plot_err)?;
            chart
                .draw_series([Text::new(
                    format!("chance {y:.0}%"),
                    (-0.45, y + 2.0),
                    ("sans-serif", 12),
                )])
                .map_err(plot_err)?;
        }
        Ok(())
    })?;
    Ok(Some(svg))
}
