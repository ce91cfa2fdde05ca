//! The network simulator: seeded scenarios that drive the real engine's rules (no second implementation of
//! any rule) and write per-epoch CSV, PNG plots and a `summary.md` a person can read.
//!
//! Invariants: deterministic (the same scenario and seed give byte-identical CSV); no clock inside a run
//! (wall time is measured by the caller, for the summary only); the engine does the booking: scenarios
//! either submit transactions to a real [`engine::Engine`] through [`chain::SimChain`], or call the
//! engine's own pure rule functions (points booking, PoI verdicts, the scheduler) where a whole chain adds
//! nothing.

pub mod chain;
pub mod plot;
pub mod rng;
pub mod xx;

/// A scenario's outputs: named CSV files, plots to render and a markdown summary.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Output {
    pub files: Vec<(String, String)>,
    pub plots: Vec<Plot>,
    pub summary: String,
    /// The run's key figures, as (column, value): one row of `sweep.csv` when a parameter is swept.
    pub headline: Vec<(String, String)>,
}

/// A chart, described as data; `plot::render` draws it as a PNG.
#[derive(Debug, Clone, PartialEq)]
pub struct Plot {
    /// File name, e.g. `points.png`.
    pub file: String,
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub kind: PlotKind,
    pub series: Vec<Series>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlotKind {
    /// Lines through each series' points (in order).
    Line,
    /// One dot per point.
    Scatter,
}

/// One named series of (x, y) points.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

/// Progress of a long run, reported by the scenario (the CLI draws a bar; tests pass [`NoProgress`]).
pub trait Progress {
    /// The amount of work in the run (rounds, blocks, …), with what is counted.
    fn start(&mut self, total: u64, unit: &str);
    /// `n` more units are done.
    fn advance(&mut self, n: u64);
}

/// Progress nobody watches.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&mut self, _total: u64, _unit: &str) {}
    fn advance(&mut self, _n: u64) {}
}
