//! Per-suite scores: one group of bars per suite, one bar per model, with 95% CI whiskers.

use anyhow::Result;
use plotters::prelude::*;

use super::common::{color, plot_err, svg, FONT, HEIGHT, WIDTH};
use crate::report::leaderboard::Leaderboard;

/// The chart's SVG.
pub fn render(board: &Leaderboard) -> Result<String> {
    let suites = &board.suites;
    let models = board.rows.len().max(1);
    let group_width = 0.8;
    let bar_width = group_width / models as f64;
    svg(WIDTH, HEIGHT, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption("Score per suite", (FONT, 20))
            .margin(16)
            .x_label_area_size(40)
            .y_label_area_size(64)
            .build_cartesian_2d(-0.5..suites.len().max(1) as f64 - 0.5, 0.0..100.0)
            .map_err(plot_err)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(suites.len().max(1))
            .x_label_formatter(&|v| {
                let i = v.round();
                if (v - i).abs() < 0.01 && i >= 0.0 {
                    suites.get(i as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .y_desc("Suite score, % (95% CI)")
            .label_style((FONT, 13))
            .axis_desc_style((FONT, 14))
            .light_line_style(RGBColor(235, 235, 235))
            .draw()
            .map_err(plot_err)?;
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
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(180, 180, 180))
            .label_font((FONT, 13))
            .draw()
            .map_err(plot_err)?;
        Ok(())
    })
}
