//! The network simulator: seeded scenarios that drive the real engine's rules (no second implementation of
//! any rule) and write per-epoch CSV, PNG plots and a `summary.md` a person can read.
//!
//! Invariants: deterministic (the same scenario and seed give byte-identical CSV); no clock inside a run
//! (wall time is measured by the caller, for the summary only); the engine does the booking: scenarios
//! either submit transactions to a real [`engine::Engine`] through [`engine::testkit::TestChain`], or call the
//! engine's own pure rule functions (points booking, PoI verdicts, the scheduler) where a whole chain adds
//! nothing.

pub mod background;
pub mod fairness;
pub mod figures;
pub mod invocation;
pub mod job_econ;
pub mod network;
pub mod npos;
pub mod plot;
pub mod poi;
pub mod progress;
pub mod report;
pub mod rng;
pub mod router_econ;
pub mod scenario;
pub mod target;
pub mod xx;

pub use progress::{NoProgress, Progress};
pub use report::{Report, Table};
pub use scenario::{run, set_key, sweep, Scenario, SCENARIOS};

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
    /// Dots for every series but the last, which is drawn as a line (a reference such as y = x).
    ScatterWithLine,
}

/// One named series of (x, y) points.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

/// `what` expected every queued transaction to be accepted, and one was not.
pub fn rejected(what: &str, r: engine::testkit::Rejected) -> SimError {
    SimError::Unexpected(format!("{what}: transaction {} of block {} was rejected: {}", r.index, r.height, r.code))
}

/// Why a scenario could not run, or stopped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SimError {
    /// A setting is out of range or does not parse (the message names it); nothing ran.
    #[error("{0}")]
    Setting(String),
    /// No built-in scenario has this name.
    #[error("unknown scenario {name:?}; the built-in ones are: {known}")]
    UnknownScenario { name: String, known: String },
    /// The chain did what the scenario did not expect (a refused transaction, an unexpected settlement,
    /// a broken invariant): a bug in the scenario or the engine. The message names the step.
    #[error("{0}")]
    Unexpected(String),
    /// One run of a sweep failed: the swept key, its value, and why.
    #[error("{key}={value}: {source}")]
    Sweep { key: String, value: String, source: Box<SimError> },
    /// A report's file could not be written.
    #[error("writing {path}: {reason}")]
    Write { path: String, reason: String },
}
