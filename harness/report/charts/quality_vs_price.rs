//! Quality index vs self-hosted blended price (log axis), with each model's lowest provider price
//! as a hollow point on the same quality level.

use anyhow::Result;

use super::scatter::{Axis, Point, Scatter};
use crate::leaderboard::Leaderboard;

/// The chart's SVG.
pub fn render(board: &Leaderboard) -> Result<String> {
    let mut points = Vec::new();
    for (i, row) in board.rows.iter().enumerate() {
        let Some(quality) = &row.quality else {
            continue;
        };
        if let Some(cost) = row.self_hosted {
            points.push(Point {
                label: row.display_name.clone(),
                color: i,
                x: cost.blended,
                y: quality.value,
                y_interval: Some((quality.ci_low, quality.ci_high)),
                hollow: false,
            });
        }
        if let Some(provider) = &row.provider {
            points.push(Point {
                label: format!("{} ({})", row.display_name, provider.lowest_provider),
                color: i,
                x: provider.lowest,
                y: quality.value,
                y_interval: None,
                hollow: true,
            });
        }
    }
    Scatter {
        title: "Quality vs price".into(),
        x: Axis::log_price("USD per 1M tokens, blended 3:1 input:output (log scale)"),
        y: Axis::quality_index(),
        points,
        note: Some("filled: self-hosted on the run's hardware profile · hollow: lowest public provider price".into()),
    }
    .render()
}
