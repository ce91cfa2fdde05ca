//! Plot rendering: real PNGs of the chosen size, degenerate data still drawn, empty plots refused.

use sim::plot::{render, PlotError, SIZE};
use sim::{Plot, PlotKind, Series};
use std::path::Path;

fn plot(kind: PlotKind, series: Vec<(&str, Vec<(f64, f64)>)>) -> Plot {
    Plot {
        file: "test.png".into(),
        title: "Points per node".into(),
        x_label: "round".into(),
        y_label: "points".into(),
        kind,
        series: series.into_iter().map(|(name, points)| Series { name: name.into(), points }).collect(),
    }
}

/// Renders `p` into a fresh directory and returns the file's bytes, checking it is a PNG of [`SIZE`].
fn png(p: &Plot) -> Vec<u8> {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(&p.file);
    render(p, &path).expect("render");
    let bytes = std::fs::read(&path).expect("read png");
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "PNG signature");
    assert_eq!(&bytes[12..16], b"IHDR");
    let width = u32::from_be_bytes(bytes[16..20].try_into().expect("4 bytes"));
    let height = u32::from_be_bytes(bytes[20..24].try_into().expect("4 bytes"));
    assert_eq!((width, height), SIZE);
    bytes
}

#[test]
fn line_and_scatter_plots_are_pngs_of_the_chosen_size() {
    let good: Vec<(f64, f64)> = (0..50).map(|i| (i as f64, 10.0 * i as f64)).collect();
    let bad: Vec<(f64, f64)> = (0..200).map(|i| (i as f64 / 4.0, 300.0 - i as f64)).collect();
    png(&plot(PlotKind::Line, vec![("good nodes", good.clone()), ("bad node", bad.clone())]));
    png(&plot(PlotKind::Scatter, vec![("good nodes", good), ("bad node", bad)]));
}

#[test]
fn degenerate_data_still_renders() {
    let nan = f64::NAN;
    let inf = f64::INFINITY;
    for kind in [PlotKind::Line, PlotKind::Scatter] {
        png(&plot(kind, vec![("one point", vec![(3.0, 7.0)])]));
        png(&plot(kind, vec![("flat", vec![(0.0, 5.0), (1.0, 5.0), (2.0, 5.0)])]));
        png(&plot(kind, vec![("vertical", vec![(2.0, 0.0), (2.0, 1.0)])]));
        png(&plot(kind, vec![("zero", vec![(0.0, 0.0)]), ("", vec![(nan, nan)])]));
        png(&plot(kind, vec![("mixed", vec![(0.0, 1.0), (nan, 2.0), (2.0, inf), (3.0, 4.0), (-inf, 0.0)])]));
        png(&plot(kind, vec![("huge", vec![(-1e300, -1e300), (1e300, 1e300)])]));
        png(&plot(kind, vec![("beyond", vec![(0.0, 1.0), (-1e308, 2.0), (1.0, f64::MAX), (2.0, 3.0)])]));
        png(&plot(kind, vec![("tiny", vec![(0.0, 1e-12), (1e-9, 2e-12)])]));
        let many = (0..13).map(|i| ("s", vec![(0.0, i as f64), (1.0, i as f64 + 1.0)])).collect();
        png(&plot(kind, many));
    }
}

#[test]
fn a_plot_without_finite_points_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("empty.png");
    let nothing = [
        plot(PlotKind::Line, vec![]),
        plot(PlotKind::Line, vec![("a", vec![]), ("b", vec![])]),
        plot(PlotKind::Scatter, vec![("nan", vec![(f64::NAN, 1.0), (1.0, f64::NEG_INFINITY)])]),
    ];
    for p in nothing {
        let e = render(&p, &path).expect_err("nothing to plot");
        assert!(matches!(e, PlotError::Empty { .. }), "{e:?}");
        assert!(e.to_string().contains("nothing to plot") && e.to_string().contains("empty.png"), "{e}");
    }
    assert!(!Path::new(&path).exists(), "no file is left behind");
}

#[test]
fn a_bad_path_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = plot(PlotKind::Line, vec![("a", vec![(0.0, 1.0)])]);
    let e = render(&p, &dir.path().join("missing/dir/points.png")).expect_err("no such directory");
    assert!(matches!(e, PlotError::Io { .. }) && e.to_string().contains("points.png"), "{e}");
    let e = render(&p, &dir.path().join("points.jpg")).expect_err("not a png");
    assert!(matches!(e, PlotError::NotPng { .. }) && e.to_string().contains("points.jpg"), "{e}");
}
