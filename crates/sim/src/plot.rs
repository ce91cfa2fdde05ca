//! Draws a [`Plot`] description as a PNG with `plotters`.
//!
//! Text is set in DejaVu Sans, bundled in `assets/` (licence in `assets/DEJAVU-LICENSE.txt`), so a plot
//! looks the same on every machine and needs no installed fonts. Non-finite points are skipped, and so are
//! points beyond ±[`VALUE_MAX`]: plotters' tick placement loops forever on an axis whose width overflows.
//! Axis ranges come from the remaining points with a little padding, and a degenerate range (one point, a
//! flat series) is widened around its value instead of collapsing to zero width.

use crate::{Plot, PlotKind};
use plotters::prelude::*;
use plotters::style::{register_font, FontStyle};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Size of every rendered PNG, in pixels.
pub const SIZE: (u32, u32) = (900, 540);

/// The largest magnitude of a coordinate drawn; larger ones are skipped like NaN.
pub const VALUE_MAX: f64 = 1e300;

/// Series with at most this many points get a marker on each point of their line.
const MARKERS_POINTS_MAX: usize = 60;

/// Colours given to series in order (the Tableau 10 palette), reused from the start after the tenth.
const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

const FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

/// Why a plot could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// No series has a single finite point within ±[`VALUE_MAX`].
    #[error("{path}: nothing to plot (no series has a finite point)")]
    Empty { path: PathBuf },
    /// The file could not be created.
    #[error("{path}: cannot create the file: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    /// The file name does not end in `.png` (the encoder picks the format from the extension).
    #[error("{path}: a plot's file name must end in .png")]
    NotPng { path: PathBuf },
    /// The bundled font was rejected by the font loader.
    #[error("the bundled DejaVu Sans font could not be loaded")]
    Font,
    /// `plotters` failed while drawing or encoding.
    #[error("{path}: cannot draw the plot: {message}")]
    Draw { path: PathBuf, message: String },
}

/// Draws `plot` into the PNG file at `path`, replacing it if it exists.
pub fn render(plot: &Plot, path: &Path) -> Result<(), PlotError> {
    let is_png = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("png"));
    if !is_png {
        return Err(PlotError::NotPng { path: path.to_path_buf() });
    }
    let series: Vec<Vec<(f64, f64)>> = plot
        .series
        .iter()
        // NaN fails the comparison too, so this also drops NaN and the infinities.
        .map(|s| s.points.iter().copied().filter(|(x, y)| x.abs() <= VALUE_MAX && y.abs() <= VALUE_MAX).collect())
        .collect();
    let (Some(x), Some(y)) = (range(series.iter().flatten().map(|p| p.0)), range(series.iter().flatten().map(|p| p.1)))
    else {
        return Err(PlotError::Empty { path: path.to_path_buf() });
    };
    register_font_once()?;
    // Creating the file first turns a missing directory or a read-only file into an IO error with its
    // cause, rather than an encoder message.
    std::fs::File::create(path).map_err(|source| PlotError::Io { path: path.to_path_buf(), source })?;
    draw(plot, &series, x, y, path).map_err(|e| {
        // The backend saves whatever was drawn when it is dropped; a half-drawn plot must not pass for one.
        let _ = std::fs::remove_file(path);
        PlotError::Draw { path: path.to_path_buf(), message: e.to_string() }
    })
}

/// Registers the bundled font under the family name plotters asks for; the result is remembered.
fn register_font_once() -> Result<(), PlotError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| register_font("sans-serif", FontStyle::Normal, FONT).is_ok());
    if ok {
        Ok(())
    } else {
        Err(PlotError::Font)
    }
}

/// The axis range of `values` padded by 5% on each side, or `None` if there are none. A zero-width range is
/// widened by 10% of its value (by 1 around zero) on each side.
fn range(values: impl Iterator<Item = f64>) -> Option<Range<f64>> {
    let (lo, hi) = values.fold(None, |acc: Option<(f64, f64)>, v| match acc {
        None => Some((v, v)),
        Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
    })?;
    let pad = if hi > lo { (hi - lo) / 20.0 } else { (hi.abs() / 10.0).max(1.0) };
    Some(lo - pad..hi + pad)
}

type DrawResult = Result<(), Box<dyn std::error::Error>>;

/// Draws the chart of the already filtered `series` on the axis ranges `x` and `y`, and saves it.
fn draw(plot: &Plot, series: &[Vec<(f64, f64)>], x: Range<f64>, y: Range<f64>, path: &Path) -> DrawResult {
    let root = BitMapBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(&plot.title, ("sans-serif", 24))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(80)
        .build_cartesian_2d(x, y)?;
    chart
        .configure_mesh()
        .x_desc(&plot.x_label)
        .y_desc(&plot.y_label)
        .axis_desc_style(("sans-serif", 16))
        .label_style(("sans-serif", 13))
        .x_label_formatter(&|v| tick(*v))
        .y_label_formatter(&|v| tick(*v))
        .bold_line_style(RGBColor(210, 210, 210))
        .light_line_style(RGBColor(244, 244, 244))
        .draw()?;
    let mut named = false;
    let last = plot.series.len().saturating_sub(1);
    for (i, (points, description)) in series.iter().zip(&plot.series).enumerate() {
        let colour = PALETTE[i % PALETTE.len()];
        let kind = match plot.kind {
            PlotKind::ScatterWithLine if i == last => PlotKind::Line,
            PlotKind::ScatterWithLine => PlotKind::Scatter,
            other => other,
        };
        let drawn = match kind {
            PlotKind::Line => {
                let marker = if points.len() <= MARKERS_POINTS_MAX { 3 } else { 0 };
                let line = LineSeries::new(points.iter().copied(), colour.filled().stroke_width(2));
                chart.draw_series(line.point_size(marker))?
            }
            _ => chart.draw_series(points.iter().map(|&p| Circle::new(p, 3, colour.mix(0.8).filled())))?,
        };
        if !description.name.is_empty() {
            named = true;
            drawn.label(&description.name).legend(move |(x, y)| match kind {
                PlotKind::Line => PathElement::new([(x, y), (x + 20, y)], colour.stroke_width(2)).into_dyn(),
                _ => Circle::new((x + 10, y), 4, colour.filled()).into_dyn(),
            });
        }
    }
    if named {
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .label_font(("sans-serif", 14))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.4))
            .draw()?;
    }
    root.present()?;
    Ok(())
}

/// A tick label: plain decimals for everyday magnitudes, scientific notation for very large or small ones,
/// without trailing zeros either way.
fn tick(v: f64) -> String {
    let a = v.abs();
    let s = if a != 0.0 && !(1e-3..1e6).contains(&a) { format!("{v:.2e}") } else { format!("{v:.3}") };
    let (mantissa, exponent) = s.split_at(s.find('e').unwrap_or(s.len()));
    let mantissa = if mantissa.contains('.') { mantissa.trim_end_matches('0').trim_end_matches('.') } else { mantissa };
    let mantissa = if mantissa == "-0" { "0" } else { mantissa };
    format!("{mantissa}{exponent}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn tick_labels_drop_trailing_zeros() {
        let labels: Vec<String> = [0.0, -0.0, 10.0, 2.5, -0.125, 1e-4, 2.5e7, 1e6, 999_999.0].map(super::tick).into();
        assert_eq!(labels, ["0", "0", "10", "2.5", "-0.125", "1e-4", "2.5e7", "1e6", "999999"]);
    }
}
