//! Quality index (with its interval) and median output speed of each model across runs over
//! time: two panels sharing the time axis.

use anyhow::Result;
use plotters::prelude::*;

use super::common::{color, draw_legend, padded_range, plot_err, svg, FONT, WIDTH};
use crate::leaderboard::{HistoryPoint, Leaderboard};

/// Seconds since the epoch of an RFC 3339 time.
fn epoch_seconds(time: &str) -> Option<f64> {
    chrono::DateTime::parse_from_rfc3339(time)
        .ok()
        .map(|t| t.timestamp() as f64)
}

/// The time axis: the runs' start times, padded by 12 hours on each side when they span less.
fn time_range(times: &[f64]) -> std::ops::Range<f64> {
    let low = times.iter().copied().fold(f64::INFINITY, f64::min);
    let high = times.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !low.is_finite() {
        let now = chrono::Utc::now().timestamp() as f64;
        return now - 43_200.0..now + 43_200.0;
    }
    let pad = ((high - low) * 0.08).max(43_200.0);
    low - pad..high + pad
}

fn date_label(seconds: f64, span: f64) -> String {
    let format = if span > 300.0 * 86_400.0 {
        "%Y-%m-%d"
    } else {
        "%m-%d %H:%M"
    };
    chrono::DateTime::from_timestamp(seconds as i64, 0)
        .map(|t| t.format(format).to_string())
        .unwrap_or_default()
}

/// The chart's SVG.
pub fn render(board: &Leaderboard) -> Result<String> {
    let times: Vec<f64> = board
        .history
        .iter()
        .filter_map(|p| epoch_seconds(&p.started_at))
        .collect();
    let x_range = time_range(&times);
    let span = x_range.end - x_range.start;
    let series_of = |model: &str| -> Vec<(f64, &HistoryPoint)> {
        board
            .history
            .iter()
            .filter(|p| p.model == model)
            .filter_map(|p| Some((epoch_seconds(&p.started_at)?, p)))
            .collect()
    };
    svg(WIDTH, 640, |root| {
        let panels = root.split_evenly((2, 1));
        let quality_range = 0.0..100.0;
        let speed_range = padded_range(
            board
                .history
                .iter()
                .filter_map(|p| p.output_tokens_per_second),
            Some(0.0),
        );
        for (panel, (title, y_label, y_range)) in panels.iter().zip([
            (
                "Quality index across runs",
                "Quality index (95% CI)",
                quality_range,
            ),
            (
                "Output speed across runs",
                "Output tokens/s (median)",
                speed_range,
            ),
        ]) {
            let mut chart = ChartBuilder::on(panel)
                .caption(title, (FONT, 18))
                .margin(12)
                .x_label_area_size(36)
                .y_label_area_size(64)
                .build_cartesian_2d(x_range.clone(), y_range)
                .map_err(plot_err)?;
            chart
                .configure_mesh()
                .x_labels(6)
                .x_label_formatter(&|v| date_label(*v, span))
                .x_desc("Run start (UTC)")
                .y_desc(y_label)
                .label_style((FONT, 12))
                .axis_desc_style((FONT, 13))
                .light_line_style(RGBColor(235, 235, 235))
                .draw()
                .map_err(plot_err)?;
            let is_quality = title.starts_with("Quality");
            for (i, row) in board.rows.iter().enumerate() {
                let c = color(i);
                let points: Vec<(f64, f64)> = series_of(&row.id)
                    .into_iter()
                    .filter_map(|(t, p)| {
                        let y = if is_quality {
                            p.quality.as_ref()?.value
                        } else {
                            p.output_tokens_per_second?
                        };
                        Some((t, y))
                    })
                    .collect();
                if is_quality {
                    chart
                        .draw_series(series_of(&row.id).into_iter().filter_map(|(t, p)| {
                            let q = p.quality.as_ref()?;
                            Some(PathElement::new(
                                vec![(t, q.ci_low), (t, q.ci_high)],
                                c.stroke_width(1),
                            ))
                        }))
                        .map_err(plot_err)?;
                }
                chart
                    .draw_series(LineSeries::new(points.clone(), c.stroke_width(2)))
                    .map_err(plot_err)?
                    .label(row.display_name.clone())
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x - 8, y), (x + 8, y)], c.stroke_width(2))
                    });
                chart
                    .draw_series(points.iter().map(|&p| Circle::new(p, 4, c.filled())))
                    .map_err(plot_err)?;
            }
            draw_legend(&mut chart, SeriesLabelPosition::UpperLeft, 12)?;
        }
        Ok(())
    })
}
