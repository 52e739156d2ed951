//! End-to-end latency per model as a box plot: whiskers p10–p90, box p25–p75, line at the
//! median, dot at p99.

use anyhow::Result;
use plotters::prelude::*;

use super::common::{
    categorical_chart, color, draw_legend, padded_range, plot_err, svg, HEIGHT, WIDTH,
};
use crate::leaderboard::Leaderboard;
use crate::metrics::percentile;

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
        let mut chart = categorical_chart(
            root,
            "Request latency per model",
            &names,
            0.0..top,
            "End-to-end latency, s (p10–p90 whiskers, p25–p75 box, median line, p99 dot)",
        )?;
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
        draw_legend(&mut chart, SeriesLabelPosition::UpperRight, 13)?;
        Ok(())
    })
}
