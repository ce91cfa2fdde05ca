//! The network simulator: seeded scenarios that drive the real engine's rules (no second implementation of
//! any rule) and write per-epoch CSV, PNG plots and a `summary.md` a person can read.
//!
//! Invariants: deterministic (the same scenario and seed give byte-identical CSV); no clock inside a run
//! (wall time is measured by the caller, for the summary only); the engine does the booking: scenarios
//! either submit transactions to a real [`engine::Engine`] through [`chain::SimChain`], or call the
//! engine's own pure rule functions (points booking, PoI verdicts, the scheduler) where a whole chain adds
//! nothing.

pub mod chain;
pub mod fairness;
pub mod job_econ;
pub mod network;
pub mod plot;
pub mod poi;
pub mod rng;
pub mod router_econ;
pub mod target;
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
    /// Dots for every series but the last, which is drawn as a line (a reference such as y = x).
    ScatterWithLine,
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

/// The built-in scenarios: (name, what it shows).
pub const SCENARIOS: &[(&str, &str)] = &[
    (
        "xx",
        "xx network epoch points: 15 nodes, teams of 5 drawn at random, one node failing half its rounds (seed 004)",
    ),
    (
        "network",
        "whole task lifecycles on the real engine: honest, lazy, copier, flaky and slow miners, oracles, an outage",
    ),
    ("scale", "the network scenario at scale: 100,000 nodes and 1,000,000 task rounds"),
    ("target", "the 5% failure target (deduction 190) on networks of 15, 100 and 1,000 nodes: who gets floored"),
    ("fairness", "stake-weighted queue fairness: service share vs stake share, light clients, latency"),
    ("poi", "Proof-of-Inference detection vs threshold and the share of dishonest miners"),
    ("routers", "router economics vs latency and connectivity: rewards, slashes, an over-claiming router"),
    ("jobs", "training-job failure economics: what each party gains or loses in every outcome"),
];

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
}

/// `base` with every key of `table` laid over it (nested tables merge key by key), read back as `T`.
fn overlay<T: serde::Serialize + serde::de::DeserializeOwned>(base: &T, table: &toml::Table) -> Result<T, SimError> {
    fn merge(into: &mut toml::Table, from: &toml::Table) {
        for (k, v) in from {
            match (into.get_mut(k), v) {
                (Some(toml::Value::Table(a)), toml::Value::Table(b)) => merge(a, b),
                _ => {
                    into.insert(k.clone(), v.clone());
                }
            }
        }
    }
    let mut t =
        toml::Table::try_from(base).map_err(|e| SimError::Setting(format!("configuration does not serialize: {e}")))?;
    merge(&mut t, table);
    toml::Value::Table(t).try_into().map_err(|e: toml::de::Error| SimError::Setting(e.message().to_string()))
}

/// Set `key` in `table`; a dotted key (`params.epoch_length`) names a nested table, created if absent.
pub fn set_key(table: &mut toml::Table, key: &str, value: toml::Value) -> Result<(), SimError> {
    let parts: Vec<&str> = key.split('.').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err(SimError::Setting(format!("bad key {key:?}")));
    }
    let mut slot = table;
    for p in &parts[..parts.len() - 1] {
        let entry = slot.entry(p.to_string()).or_insert_with(|| toml::Value::Table(toml::Table::new()));
        slot = entry.as_table_mut().ok_or_else(|| SimError::Setting(format!("{p} is not a table")))?;
    }
    slot.insert(parts[parts.len() - 1].to_string(), value);
    Ok(())
}

/// Run built-in scenario `name` with `table` laid over its defaults (the keys of its TOML table).
pub fn run_scenario(name: &str, table: &toml::Table, progress: &mut dyn Progress) -> Result<Output, SimError> {
    match name {
        "xx" => {
            let c: xx::XxConfig = overlay(&xx::XxConfig::default(), table)?;
            if c.team == 0 || c.team > c.nodes || c.bad > c.nodes {
                return Err(SimError::Setting(format!(
                    "a team has 1 to {} members and at most {} nodes are bad",
                    c.nodes, c.nodes
                )));
            }
            progress.start(c.rounds, "rounds");
            let out = xx::run(&c);
            progress.advance(c.rounds);
            Ok(out)
        }
        "network" => network::simulate(&overlay(&network::NetworkConfig::default(), table)?, progress).map(|r| r.1),
        "scale" => network::simulate(&overlay(&network::NetworkConfig::scale(), table)?, progress).map(|r| r.1),
        "target" => Ok(target::run(&overlay(&target::Config::default(), table)?, progress)),
        "fairness" => Ok(fairness::run(&overlay(&fairness::Config::default(), table)?, progress)),
        "poi" => Ok(poi::run(&overlay(&poi::Config::default(), table)?, progress)),
        "routers" => router_econ::run(&overlay(&router_econ::Config::default(), table)?, progress),
        "jobs" => job_econ::run(&overlay(&job_econ::Config::default(), table)?, progress),
        other => Err(SimError::UnknownScenario { name: other.to_string(), known: names() }),
    }
}

fn names() -> String {
    SCENARIOS.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
}

/// A sweep: the base run, then one run per value of `key` (a config key, or `params.NAME` for an engine
/// parameter), with `sweep.csv` holding one row per value (the key, then each run's headline figures), a
/// plot of the first headline figure against the value, and a table in the summary.
pub fn sweep(
    name: &str,
    table: &toml::Table,
    key: &str,
    values: &[toml::Value],
    progress: &mut dyn Progress,
) -> Result<Output, SimError> {
    let mut base = run_scenario(name, table, progress)?;
    let mut csv = String::new();
    let mut rows = Vec::new();
    for v in values {
        let mut t = table.clone();
        set_key(&mut t, key, v.clone())?;
        let out = run_scenario(name, &t, progress).map_err(|e| SimError::Sweep {
            key: key.to_string(),
            value: v.to_string(),
            source: Box::new(e),
        })?;
        if csv.is_empty() {
            let cols: Vec<&str> = out.headline.iter().map(|(k, _)| k.as_str()).collect();
            csv = format!("{key},{}\n", cols.join(","));
        }
        let text = match v {
            toml::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let vals: Vec<&str> = out.headline.iter().map(|(_, v)| v.as_str()).collect();
        csv.push_str(&format!("{text},{}\n", vals.join(",")));
        rows.push((text, out.headline));
    }
    let mut s = format!("\n## Sweep of `{key}`\n\n");
    if let Some((_, first)) = rows.first() {
        s.push_str(&format!("| {key} | {} |\n", first.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>().join(" | ")));
        s.push_str(&format!("|---|{}\n", "---|".repeat(first.len())));
        for (v, h) in &rows {
            s.push_str(&format!("| {v} | {} |\n", h.iter().map(|(_, x)| x.as_str()).collect::<Vec<_>>().join(" | ")));
        }
        let points: Vec<(f64, f64)> = rows
            .iter()
            .filter_map(|(v, h)| Some((v.parse::<f64>().ok()?, h.first()?.1.parse::<f64>().ok()?)))
            .collect();
        if points.len() == rows.len() {
            base.plots.push(Plot {
                file: "sweep.png".into(),
                title: format!("{} against {key}", first[0].0),
                x_label: key.into(),
                y_label: first[0].0.clone(),
                kind: PlotKind::Line,
                series: vec![Series { name: first[0].0.clone(), points }],
            });
        }
    }
    base.summary.push_str(&s);
    base.files.push(("sweep.csv".into(), csv));
    Ok(base)
}
