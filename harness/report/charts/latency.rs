//! End-to-end latency per model as a box plot: whiskers p10–p90, box p25–p75, line at the
//! median, dot at p99.

use anyhow::Result;
use plotters::prelude::*;

use super::common::{color, padded_range, plot_err, svg, FONT, HEIGHT, WIDTH};
use crate::metrics::percentile;
use crate::report::leaderboard::Leaderboard;

/// The chart's SVG.
pub fn render(board: &Leaderboard) -> Result<String> {
    let names: Vec<String> = board.rows.iter().map(|r| r.display_name.clone()).collect();
    let top = padded_range(
        board
            .rows
            .iter()
            .flat_map(|r| r.latencies_s.iter().copied()),
        Some(0.0),
    )
    .end;
    svg(WIDTH, HEIGHT, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption("Request latency per model", (FONT, 20))
            .margin(16)
            .x_label_area_size(40)
            .y_label_area_size(64)
            .build_cartesian_2d(-0.5..names.len().max(1) as f64 - 0.5, 0.0..top)
            .map_err(plot_err)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(names.len().max(1))
            .x_label_formatter(&|v| {
                let i = v.round();
                if (v - i).abs() < 0.01 && i >= 0.0 {
                    names.get(i as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .y_desc("End-to-end latency, s (p10–p90 whiskers, p25–p75 box, median line, p99 dot)")
            .label_style((FONT, 13))
            .axis_desc_style((FONT, 13))
            .light_line_style(RGBColor(235, 235, 235))
            .draw()
            .map_err(plot_err)?;
        for (i, row) in board.rows.iter().enumerate() {
            let q = |p| percentile(&row.latencies_s, p);
            let (Some(p10), Some(p25), Some(p50), Some(p75), Some(p90), Some(p99)) =
                (q(10.0), q(25.0), q(50.0), q(75.0), q(90.0), q(99.0))
            else {
                continue;
            };
            let c = color(i);
            let x = i as f64;
            let half = 0.18;
            chart
                .draw_series([
                    PathElement::new(vec![(x, p10), (x, p25)], c.stroke_width(2)),
                    PathElement::new(vec![(x, p75), (x, p90)], c.stroke_width(2)),
                    PathElement::new(
                        vec![(x - half / 2.0, p10), (x + half / 2.0, p10)],
                        c.stroke_width(2),
                    ),
                    PathElement::new(
                        vec![(x - half / 2.0, p90), (x + half / 2.0, p90)],
                        c.stroke_width(2),
                    ),
                ])
                .map_err(plot_err)?;
            chart
                .draw_series([Rectangle::new(
                    [(x - half, p25), (x + half, p75)],
                    c.mix(0.3).filled(),
                )])
                .map_err(plot_err)?
                .label(format!(
                    "{} (n = {})",
                    row.display_name,
                    row.latencies_s.len()
                ))
                .legend(move |(x, y)| Rectangle::new([(x - 6, y - 6), (x + 6, y + 6)], c.filled()));
            chart
                .draw_series([PathElement::new(
                    vec![(x - half, p50), (x + half, p50)],
                    BLACK.stroke_width(3),
                )])
                .map_err(plot_err)?;
            chart
                .draw_series([Circle::new((x, p99), 4, c.filled())])
                .map_err(plot_err)?;
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
