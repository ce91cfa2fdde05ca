//! What `stakework sim run` asks for, from its command-line text to a written folder: the scenario (a
//! built-in name or a TOML file), the seed, `--set` and `--sweep` ([`Request::parse`]); the run, timed,
//! with its report written and the speed and peak memory appended to the summary ([`Request::execute`]).

use crate::scenario::{self, performance, set_key};
use crate::{Progress, SimError};
use std::path::PathBuf;
use std::time::Instant;

/// A parsed `sim run`: the scenario's name, its settings table (seed and `--set` included) and the sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub name: String,
    pub table: toml::Table,
    /// The swept key and its values.
    pub sweep: Option<(String, Vec<toml::Value>)>,
}

/// A finished run, as written; serialized as `stakework sim run --json` prints it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Done {
    #[serde(rename = "scenario")]
    pub name: String,
    #[serde(rename = "out")]
    pub dir: PathBuf,
    /// Wall time of the run(s), seconds.
    pub seconds: f64,
    pub peak_memory_bytes: Option<u64>,
    pub files: Vec<String>,
    pub plots: Vec<String>,
    /// The headline figures, in the report's order (a JSON object).
    #[serde(serialize_with = "as_map")]
    pub headline: Vec<(String, String)>,
    /// `summary.md` as written (the report's summary and the performance section).
    #[serde(skip)]
    pub summary: String,
}

fn as_map<S: serde::Serializer>(pairs: &[(String, String)], s: S) -> Result<S::Ok, S::Error> {
    s.collect_map(pairs.iter().map(|(k, v)| (k, v)))
}

/// `stakework sim …`.
#[derive(Debug, clap::Subcommand)]
pub enum SimCommand {
    /// The built-in scenarios.
    List,
    /// Run a scenario and write its folder: CSV, PNG plots and summary.md (with speed and peak memory).
    ///
    /// SCENARIO is a built-in name (`stakework sim list`) or a TOML file: `scenario = "NAME"` and a table
    /// `[NAME]` of settings laid over the built-in defaults (a file with only an `[xx]` table runs xx).
    Run {
        /// A built-in name, or a path to SCENARIO.toml.
        scenario: String,
        /// Seed of every random draw; the same seed gives byte-identical CSV.
        #[arg(long)]
        seed: Option<u64>,
        /// Set a scenario key (repeatable): `--set miners=500`, `--set params.epoch_length=50`.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        /// Sweep one key: `--sweep points_failure=20,90,190` adds sweep.csv with one row per value.
        #[arg(long, value_name = "KEY=V1,V2,…")]
        sweep: Option<String>,
        /// Output folder (default: sim-out/SCENARIO-SEED).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

/// A TOML value from command-line text: an integer, float or boolean if it reads as one, else a string.
pub fn value(text: &str) -> toml::Value {
    let text = text.trim();
    if let Ok(i) = text.parse::<i64>() {
        return toml::Value::Integer(i);
    }
    if let Ok(f) = text.parse::<f64>() {
        return toml::Value::Float(f);
    }
    if let Ok(b) = text.parse::<bool>() {
        return toml::Value::Boolean(b);
    }
    toml::Value::String(text.to_string())
}

fn setting(message: String) -> SimError {
    SimError::Setting(message)
}

/// The scenario's name and settings table, from a built-in name or a TOML file (`scenario = "NAME"` and a
/// `[NAME]` table; a file with only an `[xx]` table runs xx).
pub fn load(scenario: &str) -> Result<(String, toml::Table), SimError> {
    let known = |name: &str| scenario::find(name).is_ok();
    if !scenario.ends_with(".toml") {
        if !known(scenario) {
            return Err(setting(format!(
                "unknown scenario {scenario:?}: see `stakework sim list`, or give a .toml file"
            )));
        }
        return Ok((scenario.to_string(), toml::Table::new()));
    }
    let text = std::fs::read_to_string(scenario).map_err(|e| setting(format!("reading {scenario}: {e}")))?;
    let mut top: toml::Table = toml::from_str(&text).map_err(|e| setting(format!("{scenario} is not TOML: {e}")))?;
    let name = match top.remove("scenario") {
        Some(toml::Value::String(s)) => s,
        Some(_) => return Err(setting(format!("{scenario}: `scenario` must be a name (see `stakework sim list`)"))),
        None if top.contains_key("xx") => "xx".to_string(),
        None => {
            return Err(setting(format!(
                "{scenario}: say which scenario it configures: scenario = \"network\" (see `stakework sim list`)"
            )))
        }
    };
    if !known(&name) {
        return Err(setting(format!("{scenario}: unknown scenario {name:?} (see `stakework sim list`)")));
    }
    let table = match top.remove(&name) {
        Some(toml::Value::Table(t)) => t,
        Some(_) => return Err(setting(format!("{scenario}: [{name}] must be a table"))),
        None => toml::Table::new(),
    };
    if let Some(k) = top.keys().next() {
        return Err(setting(format!(
            "{scenario}: unknown key {k:?} (a scenario file has `scenario` and its [{name}] table)"
        )));
    }
    Ok((name, table))
}

impl Request {
    /// From the command line: SCENARIO, `--seed`, every `--set KEY=VALUE` and `--sweep KEY=V1,V2,…`.
    pub fn parse(scenario: &str, seed: Option<u64>, set: &[String], sweep: Option<&str>) -> Result<Request, SimError> {
        let (name, mut table) = load(scenario)?;
        if let Some(s) = seed {
            let s = i64::try_from(s).map_err(|_| setting("--seed must be below 2^63".into()))?;
            table.insert("seed".into(), toml::Value::Integer(s));
        }
        for kv in set {
            let (k, v) = kv.split_once('=').ok_or_else(|| setting(format!("--set {kv:?}: expected KEY=VALUE")))?;
            set_key(&mut table, k.trim(), value(v)).map_err(|e| setting(format!("--set {kv:?}: {e}")))?;
        }
        let sweep = match sweep {
            None => None,
            Some(s) => {
                let (key, list) = s.split_once('=').ok_or_else(|| setting("--sweep KEY=V1,V2,…".into()))?;
                if list.trim().is_empty() {
                    return Err(setting(format!("--sweep {key}= needs at least one value")));
                }
                Some((key.trim().to_string(), list.split(',').map(value).collect()))
            }
        };
        Ok(Request { name, table, sweep })
    }

    /// The default folder: `sim-out/NAME-SEED` (`default` when no seed was given).
    pub fn default_dir(&self) -> PathBuf {
        let seed = self.table.get("seed").map_or_else(|| "default".to_string(), |v| v.to_string());
        PathBuf::from(format!("sim-out/{}-{seed}", self.name))
    }

    /// Run (or sweep), then write the folder `out` (default: [`Request::default_dir`]). Nothing is written
    /// when the run fails.
    pub fn execute(&self, out: Option<PathBuf>, progress: &mut dyn Progress) -> Result<Done, SimError> {
        let started = Instant::now();
        let report = match &self.sweep {
            None => scenario::run(&self.name, &self.table, progress),
            Some((key, values)) => scenario::sweep(&self.name, &self.table, key, values, progress),
        }?;
        let seconds = started.elapsed().as_secs_f64();
        let peak = peak_memory();
        let extra = performance(&self.name, &self.table, seconds, peak, self.sweep.is_some());
        let dir = out.unwrap_or_else(|| self.default_dir());
        let plots = report.write(&dir, &extra)?;
        Ok(Done {
            name: self.name.clone(),
            dir,
            seconds,
            peak_memory_bytes: peak,
            files: report.tables.iter().map(|t| t.file.clone()).collect(),
            plots,
            headline: report.headline,
            summary: format!("{}{extra}", report.summary),
        })
    }
}

/// The process's peak resident memory (VmHWM), in bytes, where the OS reports it.
pub fn peak_memory() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}
