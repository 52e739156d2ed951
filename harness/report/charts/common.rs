//! What every chart shares: the palette, axis ranges, log-axis labels, the Pareto frontier, and
//! rendering into an SVG string.

use std::ops::Range;

use anyhow::{anyhow, Result};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;

/// A chart with two numeric axes drawn into an SVG string.
pub type Chart<'a, 'b> =
    ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// Chart size in pixels.
pub const WIDTH: u32 = 760;
/// Chart height in pixels.
pub const HEIGHT: u32 = 480;
/// Font family (the browser picks a local sans-serif font; nothing is fetched).
pub const FONT: &str = "sans-serif";

/// Distinguishable colors (Okabe–Ito), one per model in leaderboard order.
pub const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(240, 228, 66),
    RGBColor(0, 0, 0),
];

/// The color of the `index`-th model.
pub fn color(index: usize) -> RGBColor {
    PALETTE[index % PALETTE.len()]
}

/// Renders `draw` onto a `width` × `height` SVG and returns its text.
pub fn svg(
    width: u32,
    height: u32,
    draw: impl FnOnce(&DrawingArea<SVGBackend, Shift>) -> Result<()>,
) -> Result<String> {
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| anyhow!("{e}"))?;
        draw(&root)?;
        root.present().map_err(|e| anyhow!("{e}"))?;
    }
    Ok(text)
}

/// Converts a plotters error (not `Send`/`'static` in general) into an anyhow error.
pub fn plot_err<E: std::fmt::Display>(err: E) -> anyhow::Error {
    anyhow!("drawing a chart failed: {err}")
}

/// A chart with one named category per integer position on the x axis (`names`), y from
/// `y_range`, titled and styled like every chart here, its grid drawn.
pub fn categorical_chart<'a, 'b>(
    root: &'a DrawingArea<SVGBackend<'b>, Shift>,
    title: &str,
    names: &[String],
    y_range: Range<f64>,
    y_desc: &str,
) -> Result<Chart<'a, 'b>> {
    let count = names.len().max(1);
    let mut chart = ChartBuilder::on(root)
        .caption(title, (FONT, 20))
        .margin(16)
        .x_label_area_size(40)
        .y_label_area_size(64)
        .build_cartesian_2d(-0.5..count as f64 - 0.5, y_range)
        .map_err(plot_err)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(count)
        .x_label_formatter(&|v| {
            let i = v.round();
            if (v - i).abs() < 0.01 && i >= 0.0 {
                names.get(i as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .y_desc(y_desc)
        .label_style((FONT, 13))
        .axis_desc_style((FONT, 13))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(plot_err)?;
    Ok(chart)
}

/// Draws the legend of `chart`'s labelled series at `position`.
pub fn draw_legend<'a, 'b: 'a>(
    chart: &mut Chart<'a, 'b>,
    position: SeriesLabelPosition,
    font_size: u32,
) -> Result<()> {
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(180, 180, 180))
        .label_font((FONT, font_size))
        .draw()
        .map_err(plot_err)?;
    Ok(())
}

/// A padded axis range covering `values` (and `floor` when given); never empty.
pub fn padded_range(values: impl IntoIterator<Item = f64>, floor: Option<f64>) -> Range<f64> {
    let (mut low, mut high) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.into_iter().chain(floor).filter(|v| v.is_finite()) {
        low = low.min(v);
        high = high.max(v);
    }
    if !low.is_finite() {
        return 0.0..1.0;
    }
    let pad = if high > low {
        (high - low) * 0.12
    } else {
        low.abs().max(1.0) * 0.5
    };
    let low = if floor.is_some_and(|f| f >= low) {
        low
    } else {
        low - pad
    };
    low..high + pad
}

/// Formats a dollar amount with two significant digits.
pub fn usd(value: f64) -> String {
    if !(value.is_finite() && value > 0.0) {
        format!("${value:.2}")
    } else if value >= 100.0 {
        format!("${value:.0}")
    } else if value >= 1.0 {
        format!("${value:.2}")
    } else {
        let digits = ((-value.log10().floor()) as usize + 1).min(12);
        format!("${value:.digits$}")
    }
}

/// Which end of an axis is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Better {
    /// Lower values are better (price, latency).
    Low,
    /// Higher values are better (quality, speed).
    High,
}

impl Better {
    fn at_least_as_good(self, a: f64, b: f64) -> bool {
        match self {
            Better::Low => a <= b,
            Better::High => a >= b,
        }
    }
}

/// Indices of the points no other point beats on both axes (ties kept), sorted by x.
pub fn pareto_frontier(points: &[(f64, f64)], x: Better, y: Better) -> Vec<usize> {
    let mut front: Vec<usize> = (0..points.len())
        .filter(|&i| {
            !points.iter().enumerate().any(|(j, q)| {
                let p = points[i];
                j != i
                    && x.at_least_as_good(q.0, p.0)
                    && y.at_least_as_good(q.1, p.1)
                    && (q.0 != p.0 || q.1 != p.1)
            })
        })
        .collect();
    front.sort_by(|&a, &b| points[a].0.total_cmp(&points[b].0));
    front
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frontier_keeps_only_undominated_points() {
        // (price, quality): lower price and higher quality are better.
        let points = [(1.0, 50.0), (2.0, 60.0), (3.0, 55.0), (0.5, 20.0)];
        assert_eq!(
            pareto_frontier(&points, Better::Low, Better::High),
            vec![3, 0, 1]
        );
    }

    #[test]
    fn ranges_pad_and_never_collapse() {
        let r = padded_range([2.0, 4.0], None);
        assert!(r.start < 2.0 && r.end > 4.0);
        let single = padded_range([3.0], None);
        assert!(single.start < 3.0 && single.end > 3.0);
        assert_eq!(padded_range([], None), 0.0..1.0);
        assert_eq!(padded_range([5.0], Some(0.0)).start, 0.0);
    }

    #[test]
    fn dollars_keep_two_significant_digits() {
        assert_eq!(usd(0.0123), "$0.012");
        assert_eq!(usd(1.5), "$1.50");
        assert_eq!(usd(0.5), "$0.50");
        assert_eq!(usd(0.0), "$0.00");
        assert_eq!(usd(f64::NAN), "$NaN");
        assert_eq!(usd(1e-30), "$0.000000000000");
    }
}
