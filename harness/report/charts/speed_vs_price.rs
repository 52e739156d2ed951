//! Median output speed vs self-hosted blended price (log axis).

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
            Some(Point {
                label: row.display_name.clone(),
                color: i,
                x: row.self_hosted?.blended,
                y: row.output_tokens_per_second?,
                y_interval: None,
                hollow: false,
            })
        })
        .collect();
    Scatter {
        title: "Output speed vs price".into(),
        x: Axis::log_price("USD per 1M tokens, blended 3:1 (self-hosted, log scale)"),
        y: Axis::output_speed("Output tokens per second (median)"),
        points,
        note: None,
    }
    .render()
}
