//! Median output speed vs self-hosted blended price (log axis).

use anyhow::Result;

use super::common::Better;
use super::scatter::{Axis, Point, Scatter};
use crate::report::leaderboard::Leaderboard;

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
        x: Axis {
            label: "USD per 1M tokens, blended 3:1 (self-hosted, log scale)".into(),
            better: Better::Low,
            log: true,
            dollars: true,
            from_zero: false,
        },
        y: Axis {
            label: "Output tokens per second (median)".into(),
            better: Better::High,
            log: false,
            dollars: false,
            from_zero: true,
        },
        points,
        note: None,
    }
    .render()
}
