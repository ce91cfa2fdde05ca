//! The network simulator: seeded scenarios that drive the real engine's rules (no second implementation of
//! any rule) and write per-epoch CSV and a `summary.md` a person can read.
//!
//! Invariants: deterministic (the same scenario and seed give byte-identical output); no clock inside a
//! run (wall time is measured by the caller, for the summary only); the engine's modules do the booking.

pub mod rng;
pub mod xx;

/// A scenario's outputs: named CSV files and a markdown summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    pub files: Vec<(String, String)>,
    pub summary: String,
}
