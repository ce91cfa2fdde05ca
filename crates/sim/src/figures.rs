//! Number formatting shared by the scenarios' tables and summaries: shares as percentages, ratios that
//! may have no denominator, token amounts in SWK, ppb values, ranges of signed amounts.

use types::Ppb;

/// Base units in one SWK.
pub const SWK: f64 = 1e9;

/// `num / den`, or `None` when there is nothing to divide by.
pub fn ratio(num: u64, den: u64) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

/// A share as a percentage with one decimal (`12.5%`), `–` when there is none.
pub fn pct(x: Option<f64>) -> String {
    x.map_or("–".to_string(), |v| format!("{:.1}%", 100.0 * v))
}

/// A share with six decimals, empty when there is none (a CSV cell).
pub fn opt(x: Option<f64>) -> String {
    x.map_or(String::new(), |v| format!("{v:.6}"))
}

/// Base units as SWK.
pub fn swk(base: u128) -> f64 {
    base as f64 / SWK
}

/// A ppb value as an exact decimal fraction (`0.750000000`).
pub fn ppb(p: Ppb) -> String {
    format!("{}.{:09}", p.raw() / Ppb::ONE_RAW, p.raw() % Ppb::ONE_RAW)
}

/// A ppb value as a whole percentage (`75%`).
pub fn ppb_pct(p: Ppb) -> String {
    format!("{:.0}%", f64::from(p.raw()) / 1e7)
}

/// The range of signed amounts: `+a`, `-a … +b`, or `–` when empty.
pub fn span(v: &[i128]) -> String {
    match (v.iter().min(), v.iter().max()) {
        (Some(lo), Some(hi)) if lo == hi => format!("{lo:+}"),
        (Some(lo), Some(hi)) => format!("{lo:+} … {hi:+}"),
        _ => "–".into(),
    }
}
