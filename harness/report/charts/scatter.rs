//! The scatter chart behind quality vs price, quality vs speed and speed vs price: one colored
//! point per model with its interval as a whisker, the Pareto frontier, and the shaded quadrant
//! where the most attractive models sit.

use anyhow::Result;
use plotters::prelude::*;

use super::common::{
    color, draw_legend, padded_range, pareto_frontier, plot_err, svg, usd, Better, FONT, HEIGHT,
    WIDTH,
};

/// An axis of a scatter chart.
#[derive(Debug, Clone)]
pub struct Axis {
    /// Label with unit.
    pub label: String,
    /// Which end is better.
    pub better: Better,
    /// Logarithmic (prices spanning decades).
    pub log: bool,
    /// Values are dollars.
    pub dollars: bool,
    /// The axis starts at zero.
    pub from_zero: bool,
}

impl Axis {
    /// The quality index, 0–100, higher is better.
    pub fn quality_index() -> Self {
        Self {
            label: "Quality index (0–100, 95% CI)".into(),
            better: Better::High,
            log: false,
            dollars: false,
            from_zero: true,
        }
    }

    /// Median output speed, higher is better.
    pub fn output_speed(label: &str) -> Self {
        Self {
            label: label.into(),
            better: Better::High,
            log: false,
            dollars: false,
            from_zero: true,
        }
    }

    /// A price on a log axis, lower is better.
    pub fn log_price(label: &str) -> Self {
        Self {
            label: label.into(),
            better: Better::Low,
            log: true,
            dollars: true,
            from_zero: false,
        }
    }
}

/// One model's point.
#[derive(Debug, Clone)]
pub struct Point {
    /// Legend and point label.
    pub label: String,
    /// Palette index.
    pub color: usize,
    /// Position.
    pub x: f64,
    /// Position.
    pub y: f64,
    /// 95% interval of y.
    pub y_interval: Option<(f64, f64)>,
    /// Drawn hollow (a second kind of point, e.g. provider prices).
    pub hollow: bool,
}

/// A complete scatter chart.
#[derive(Debug, Clone)]
pub struct Scatter {
    /// Title.
    pub title: String,
    /// Horizontal axis.
    pub x: Axis,
    /// Vertical axis.
    pub y: Axis,
    /// Points (filled ones make the frontier and the quadrant).
    pub points: Vec<Point>,
    /// A note under the legend, e.g. what hollow points are.
    pub note: Option<String>,
}

impl Scatter {
    /// Renders the chart as SVG text.
    pub fn render(&self) -> Result<String> {
        let to_plot = |axis: &Axis, v: f64| if axis.log { v.log10() } else { v };
        let points: Vec<&Point> = self
            .points
            .iter()
            .filter(|p| p.x.is_finite() && p.y.is_finite() && (!self.x.log || p.x > 0.0))
            .collect();
        let xs: Vec<f64> = points.iter().map(|p| to_plot(&self.x, p.x)).collect();
        let ys: Vec<f64> = points
            .iter()
            .flat_map(|p| {
                let (lo, hi) = p.y_interval.unwrap_or((p.y, p.y));
                [p.y, lo, hi]
            })
            .map(|v| to_plot(&self.y, v))
            .collect();
        let x_range = padded_range(xs.iter().copied(), self.x.from_zero.then_some(0.0));
        // Room on the right for the labels written beside the points.
        let x_range = x_range.start..x_range.end + (x_range.end - x_range.start) * 0.18;
        let y_range = padded_range(ys.iter().copied(), self.y.from_zero.then_some(0.0));
        let label_of = |axis: &Axis, v: f64| {
            let value = if axis.log { 10f64.powf(v) } else { v };
            if axis.dollars {
                usd(value)
            } else if value.abs() >= 10.0 {
                format!("{value:.0}")
            } else {
                format!("{value:.1}")
            }
        };
        svg(WIDTH, HEIGHT, |root| {
            let mut chart = ChartBuilder::on(root)
                .caption(&self.title, (FONT, 20))
                .margin(16)
                .x_label_area_size(48)
                .y_label_area_size(64)
                .build_cartesian_2d(x_range.clone(), y_range.clone())
                .map_err(plot_err)?;
            chart
                .configure_mesh()
                .x_desc(&self.x.label)
                .y_desc(&self.y.label)
                .x_label_formatter(&|v| label_of(&self.x, *v))
                .y_label_formatter(&|v| label_of(&self.y, *v))
                .label_style((FONT, 13))
                .axis_desc_style((FONT, 14))
                .light_line_style(RGBColor(235, 235, 235))
                .draw()
                .map_err(plot_err)?;

            let filled: Vec<(f64, f64)> = points
                .iter()
                .filter(|p| !p.hollow)
                .map(|p| (to_plot(&self.x, p.x), to_plot(&self.y, p.y)))
                .collect();
            if filled.len() >= 2 {
                // The most attractive quadrant: better than the median on both axes.
                let median =
                    |values: Vec<f64>| crate::metrics::percentile(&values, 50.0).unwrap_or(0.0);
                let mx = median(filled.iter().map(|p| p.0).collect());
                let my = median(filled.iter().map(|p| p.1).collect());
                let x_end = match self.x.better {
                    Better::Low => x_range.start,
                    Better::High => x_range.end,
                };
                let y_end = match self.y.better {
                    Better::Low => y_range.start,
                    Better::High => y_range.end,
                };
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(mx, my), (x_end, y_end)],
                        RGBColor(0, 158, 115).mix(0.10).filled(),
                    )))
                    .map_err(plot_err)?;
                chart
                    .draw_series(std::iter::once(Text::new(
                        "most attractive",
                        ((mx + x_end) / 2.0, y_end - (y_end - my) * 0.08),
                        (FONT, 13).into_font().color(&RGBColor(0, 110, 80)),
                    )))
                    .map_err(plot_err)?;
                let frontier = pareto_frontier(&filled, self.x.better, self.y.better);
                if frontier.len() >= 2 {
                    chart
                        .draw_series(std::iter::once(PathElement::new(
                            frontier.iter().map(|&i| filled[i]).collect::<Vec<_>>(),
                            ShapeStyle::from(&RGBColor(90, 90, 90)).stroke_width(2),
                        )))
                        .map_err(plot_err)?
                        .label("Pareto frontier")
                        .legend(|(x, y)| {
                            PathElement::new(vec![(x - 8, y), (x + 8, y)], RGBColor(90, 90, 90))
                        });
                }
            }

            for point in &points {
                let c = color(point.color);
                let (x, y) = (to_plot(&self.x, point.x), to_plot(&self.y, point.y));
                if let Some((lo, hi)) = point.y_interval {
                    let (lo, hi) = (to_plot(&self.y, lo), to_plot(&self.y, hi));
                    chart
                        .draw_series(std::iter::once(PathElement::new(
                            vec![(x, lo), (x, hi)],
                            c.stroke_width(2),
                        )))
                        .map_err(plot_err)?;
                }
                let style = if point.hollow {
                    c.stroke_width(2)
                } else {
                    c.filled()
                };
                let series = chart
                    .draw_series(std::iter::once(
                        EmptyElement::at((x, y))
                            + Circle::new((0, 0), 6, style)
                            + Text::new(point.label.clone(), (9, -16), (FONT, 13)),
                    ))
                    .map_err(plot_err)?;
                if !point.hollow {
                    series
                        .label(point.label.clone())
                        .legend(move |(x, y)| Circle::new((x, y), 5, c.filled()));
                }
            }
            draw_legend(&mut chart, SeriesLabelPosition::LowerRight, 13)?;
            if let Some(note) = &self.note {
                root.draw(&Text::new(
                    note.clone(),
                    (80, HEIGHT as i32 - 14),
                    (FONT, 12).into_font().color(&RGBColor(90, 90, 90)),
                ))
                .map_err(plot_err)?;
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn axis(label: &str, better: Better, log: bool) -> Axis {
        Axis {
            label: label.into(),
            better,
            log,
            dollars: log,
            from_zero: !log,
        }
    }

    #[test]
    fn draws_points_labels_and_frontier() {
        let point = |label: &str, color, x, y| Point {
            label: label.into(),
            color,
            x,
            y,
            y_interval: Some((y - 5.0, y + 5.0)),
            hollow: false,
        };
        let chart = Scatter {
            title: "Quality vs price".into(),
            x: axis("USD per 1M tokens", Better::Low, true),
            y: axis("Quality index", Better::High, false),
            points: vec![point("A <b>", 0, 0.05, 30.0), point("B", 1, 0.5, 60.0)],
            note: Some("hollow: provider price".into()),
        }
        .render()
        .unwrap();
        assert!(chart.starts_with("<svg"));
        assert!(chart.contains("A &lt;b&gt;"), "labels are escaped");
        assert!(chart.contains("Pareto frontier"));
        assert!(chart.contains("most attractive"));
        assert!(chart.contains("USD per 1M tokens"));
    }
}
