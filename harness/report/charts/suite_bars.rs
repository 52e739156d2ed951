//! Per-suite scores: one group of bars per suite, one bar per model, with 95% CI whiskers.

use anyhow::Result;
use plotters::prelude::*;

use super::common::{categorical_chart, color, draw_legend, plot_err, svg, HEIGHT, WIDTH};
use crate::leaderboard::Leaderboard;

/// The chart's SVG.
pub fn render(board: &Leaderboard) -> Result<String> {
    let suites = &board.suites;
    let models = board.rows.len().max(1);
    let group_width = 0.8;
    let bar_width = group_width / models as f64;
    svg(WIDTH, HEIGHT, |root| {
        let mut chart = categorical_chart(
            root,
            "Score per suite",
            suites,
            0.0..100.0,
            "Suite score, % (95% CI)",
        )?;
        for (m, row) in board.rows.iter().enumerate() {
            let c = color(m);
            let mut bars = Vec::new();
            let mut whiskers = Vec::new();
            for (s, suite) in suites.iter().enumerate() {
                let Some(score) = row.suites.get(suite) else {
                    continue;
                };
                let left = s as f64 - group_width / 2.0 + m as f64 * bar_width;
                let middle = left + bar_width / 2.0;
                bars.push(Rectangle::new(
                    [
                        (left + 0.01, 0.0),
                        (left + bar_width - 0.01, 100.0 * score.value),
                    ],
                    c.filled(),
                ));
                whiskers.push(PathElement::new(
                    vec![
                        (middle, 100.0 * score.ci_low),
                        (middle, 100.0 * score.ci_high),
                    ],
                    BLACK.stroke_width(2),
                ));
            }
            chart
                .draw_series(bars)
                .map_err(plot_err)?
                .label(row.display_name.clone())
                .legend(move |(x, y)| Rectangle::new([(x - 6, y - 6), (x + 6, y + 6)], c.filled()));
            chart.draw_series(whiskers).map_err(plot_err)?;
        }
        draw_legend(&mut chart, SeriesLabelPosition::UpperRight, 13)?;
        Ok(())
    })
}
