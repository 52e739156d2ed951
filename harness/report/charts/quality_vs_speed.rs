//! Quality index vs median output speed.

use anyhow::Result;

use super::scatter::{Axis, Point, Scatter};
use crate::leaderboard::Leaderboard;

/// The chart's SVG.
pub fn render(board: &Leaderboard) -> Result<String> {
    let points = board
        .rows
        .iter()
        .enumerate()
        .filter_map(|(i, row)| {
            let quality = row.quality.as_ref()?;
            Some(Point {
                label: row.display_name.clone(),
                color: i,
                x: row.output_tokens_per_second?,
                y: quality.value,
                y_interval: Some((quality.ci_low, quality.ci_high)),
                hollow: false,
            })
        })
        .collect();
    Scatter {
        title: "Quality vs output speed".into(),
        x: Axis::output_speed("Output tokens per second (median, after the first token)"),
        y: Axis::quality_index(),
        points,
        note: None,
    }
    .render()
}
