//! A small SVG writer for line charts: one series over time, axes with the first and last
//! time and the minimum and maximum value, numbers printed with fixed decimals so the same
//! series always gives the same bytes. Enough for the equity and drawdown charts of a report;
//! no plotting crate.

use std::fmt::Write as _;

use crate::time::format_micros;

/// A line chart.
#[derive(Debug, Clone, PartialEq)]
pub struct LineChart<'a> {
    /// Title above the plot.
    pub title: &'a str,
    /// Unit of the values (shown beside the axis labels).
    pub unit: &'a str,
    /// Points: (time in µs, value).
    pub points: &'a [(i64, f64)],
    /// Stroke colour (CSS).
    pub colour: &'a str,
    /// Fill the area between the line and the top of the plot (for drawdowns).
    pub fill_from_top: bool,
}

const WIDTH: f64 = 800.0;
const HEIGHT: f64 = 260.0;
const LEFT: f64 = 90.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 30.0;
const BOTTOM: f64 = 40.0;

/// Escapes text for XML.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

impl LineChart<'_> {
    /// The chart as a standalone `<svg>` element.
    pub fn render(&self) -> String {
        let mut svg = String::new();
        let _ = write!(
            svg,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH:.0}" height="{HEIGHT:.0}" viewBox="0 0 {WIDTH:.0} {HEIGHT:.0}" font-family="sans-serif" font-size="11">"#
        );
        let _ = write!(svg, r#"<text x="{LEFT:.0}" y="18" font-size="13" font-weight="bold">{}</text>"#, escape(self.title));
        let (plot_w, plot_h) = (WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM);
        let _ = write!(svg, r##"<rect x="{LEFT:.0}" y="{TOP:.0}" width="{plot_w:.0}" height="{plot_h:.0}" fill="none" stroke="#999"/>"##);
        let finite: Vec<(i64, f64)> = self.points.iter().copied().filter(|(_, v)| v.is_finite()).collect();
        let (Some(first), Some(last)) = (finite.first(), finite.last()) else {
            let _ = write!(svg, r#"<text x="{:.0}" y="{:.0}">no data</text></svg>"#, LEFT + 10.0, TOP + 20.0);
            return svg;
        };
        let (t0, t1) = (first.0, last.0.max(first.0 + 1));
        let (mut lo, mut hi) = finite.iter().fold((f64::MAX, f64::MIN), |(lo, hi), (_, v)| (lo.min(*v), hi.max(*v)));
        if hi - lo < 1e-12 {
            lo -= 1.0;
            hi += 1.0;
        }
        let x = |t: i64| LEFT + (t - t0) as f64 / (t1 - t0) as f64 * plot_w;
        let y = |v: f64| TOP + (hi - v) / (hi - lo) * plot_h;
        let mut path = String::new();
        for (i, (t, v)) in finite.iter().enumerate() {
            let _ = write!(path, "{}{:.2},{:.2}", if i == 0 { "M" } else { " L" }, x(*t), y(*v));
        }
        if self.fill_from_top {
            let _ = write!(svg, r#"<path d="{path} L{:.2},{TOP:.2} L{:.2},{TOP:.2} Z" fill="{}" fill-opacity="0.2" stroke="none"/>"#, x(last.0), x(first.0), self.colour);
        }
        let _ = write!(svg, r#"<path d="{path}" fill="none" stroke="{}" stroke-width="1.5"/>"#, self.colour);
        let unit = escape(self.unit);
        let _ = write!(svg, r#"<text x="{:.0}" y="{:.2}" text-anchor="end">{hi:.2} {unit}</text>"#, LEFT - 6.0, TOP + 4.0);
        let _ = write!(svg, r#"<text x="{:.0}" y="{:.2}" text-anchor="end">{lo:.2} {unit}</text>"#, LEFT - 6.0, TOP + plot_h);
        let _ = write!(svg, r#"<text x="{LEFT:.0}" y="{:.0}">{}</text>"#, HEIGHT - 12.0, escape(&format_micros(t0)));
        let _ = write!(svg, r#"<text x="{:.0}" y="{:.0}" text-anchor="end">{}</text>"#, WIDTH - RIGHT, HEIGHT - 12.0, escape(&format_micros(last.0)));
        svg.push_str("</svg>");
        svg
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_is_deterministic_svg_with_its_extremes_labelled() {
        let points = [(0, 100.0), (60_000_000, 120.5), (120_000_000, 90.25)];
        let chart = LineChart { title: "Equity <USD>", unit: "USD", points: &points, colour: "#1f77b4", fill_from_top: false };
        let svg = chart.render();
        assert_eq!(svg, chart.render());
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("120.50 USD") && svg.contains("90.25 USD"), "{svg}");
        assert!(svg.contains("Equity &lt;USD&gt;"));
        assert!(svg.contains("M90.00,"), "the first point sits on the left axis: {svg}");
        let empty = LineChart { points: &[], ..chart }.render();
        assert!(empty.contains("no data"));
    }
}
