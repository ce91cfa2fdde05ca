//! Charts as inline SVG, built on the server: no script, no library.

use maud::Markup;
use std::fmt::Write;

/// A step line of `(x, y)` points, y in ppb (0 to 10^9), x ascending (block heights); labelled axes.
pub fn ppb_line(title: &str, points: &[(u64, u32)]) -> Markup {
    let (w, h, pad) = (640u64, 200u64, 40u64);
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" role="img" aria-label="{title}" width="{w}" height="{h}" viewBox="0 0 {w} {h}" xmlns="http://www.w3.org/2000/svg">"#
    );
    let _ = write!(svg, "<title>{title}</title>");
    let (x0, x1) = match (points.first(), points.last()) {
        (Some(a), Some(b)) => (a.0, b.0.max(a.0 + 1)),
        _ => (0, 1),
    };
    let px = |x: u64| pad + (x - x0) * (w - 2 * pad) / (x1 - x0);
    let py = |y: u32| h - pad / 2 - u64::from(y) * (h - pad) / 1_000_000_000;
    for (label, y) in [("0%", 0u32), ("50%", 500_000_000), ("100%", 1_000_000_000)] {
        let _ = write!(
            svg,
            r##"<line x1="{pad}" x2="{}" y1="{yy}" y2="{yy}" stroke="#d5dae3"/><text x="2" y="{}" font-size="11">{label}</text>"##,
            w - pad / 2,
            py(y) + 4,
            yy = py(y)
        );
    }
    if !points.is_empty() {
        let mut path = String::new();
        let mut last_y = None;
        for (x, y) in points {
            let (cx, cy) = (px(*x), py(*y));
            match last_y {
                None => {
                    let _ = write!(path, "M{cx},{cy}");
                }
                Some(ly) => {
                    let _ = write!(path, " L{cx},{ly} L{cx},{cy}");
                }
            }
            last_y = Some(cy);
        }
        let _ = write!(svg, r##"<path d="{path}" fill="none" stroke="#2457c5" stroke-width="2"/>"##);
        for (x, y) in points {
            let _ = write!(
                svg,
                r##"<circle cx="{}" cy="{}" r="2.5" fill="#2457c5"><title>block {x}: {}</title></circle>"##,
                px(*x),
                py(*y),
                crate::percent(*y)
            );
        }
        let _ = write!(
            svg,
            r#"<text x="{pad}" y="{h}" font-size="11">block {x0}</text><text x="{}" y="{h}" font-size="11" text-anchor="end">block {x1}</text>"#,
            w - pad / 2
        );
    }
    svg.push_str("</svg>");
    crate::raw(svg)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_chart_is_an_svg_with_one_point_per_sample() {
        let svg =
            super::ppb_line("reputation", &[(1, 500_000_000), (10, 200_000_000), (20, 900_000_000)]).into_string();
        assert!(svg.starts_with("<svg"), "{svg}");
        assert_eq!(svg.matches("<circle").count(), 3);
        assert!(svg.contains("block 10: 20.0000%"), "{svg}");
        assert!(super::ppb_line("empty", &[]).into_string().contains("</svg>"));
    }
}
