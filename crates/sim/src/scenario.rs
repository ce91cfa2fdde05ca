//! The [`Scenario`] trait every built-in scenario implements, the registry [`SCENARIOS`] that
//! `stakework sim list|run` reads, and what runs any scenario: settings laid over its defaults
//! ([`Scenario::settings`], [`set_key`]), a single run ([`run`]) and a sweep over one key ([`sweep`]).

use crate::report::{Report, Table};
use crate::{Plot, PlotKind, Progress, Series, SimError};

/// A scenario: a name, what it shows, its default settings (a serde type, so a TOML table can be laid
/// over them), and a run from settings to a [`Report`].
pub trait Scenario: Sync {
    type Settings: serde::Serialize + serde::de::DeserializeOwned;
    /// The name given to `stakework sim run`.
    fn name(&self) -> &'static str;
    /// One line: what the scenario drives and shows.
    fn description(&self) -> &'static str;
    /// The built-in settings.
    fn defaults(&self) -> Self::Settings;
    /// The settings of a run: `table` laid over the defaults (unknown keys are refused by name).
    fn settings(&self, table: &toml::Table) -> Result<Self::Settings, SimError> {
        overlay(&self.defaults(), table)
    }
    /// Run with `settings`; the same settings give the same report.
    fn run(&self, settings: &Self::Settings, progress: &mut dyn Progress) -> Result<Report, SimError>;
    /// The run's throughput for the summary's performance line (e.g. `1.20 million rounds per second`),
    /// when the scenario has a natural unit; `wall` is the run's time in seconds.
    fn speed(&self, _settings: &Self::Settings, _wall: f64) -> Option<String> {
        None
    }
}

/// A scenario with its settings type erased, as the registry holds it.
pub trait AnyScenario: Sync {
    fn name(&self) -> &'static str;
    fn description(&self) -> &'static str;
    /// Run with `table` laid over the defaults.
    fn run_table(&self, table: &toml::Table, progress: &mut dyn Progress) -> Result<Report, SimError>;
    /// [`Scenario::speed`] for the settings `table` gives (`None` when they do not read).
    fn speed_table(&self, table: &toml::Table, wall: f64) -> Option<String>;
}

impl<S: Scenario> AnyScenario for S {
    fn name(&self) -> &'static str {
        Scenario::name(self)
    }
    fn description(&self) -> &'static str {
        Scenario::description(self)
    }
    fn run_table(&self, table: &toml::Table, progress: &mut dyn Progress) -> Result<Report, SimError> {
        let settings = self.settings(table)?;
        self.run(&settings, progress)
    }
    fn speed_table(&self, table: &toml::Table, wall: f64) -> Option<String> {
        self.speed(&self.settings(table).ok()?, wall)
    }
}

/// The built-in scenarios, in the order `stakework sim list` shows them.
pub static SCENARIOS: &[&dyn AnyScenario] = &[
    &crate::xx::Xx,
    &crate::network::Network,
    &crate::network::Scale,
    &crate::target::Target,
    &crate::fairness::Fairness,
    &crate::poi::Poi,
    &crate::router_econ::Routers,
    &crate::job_econ::Jobs,
    &crate::background::Background,
    &crate::npos::Npos,
];

/// The built-in scenario called `name`.
pub fn find(name: &str) -> Result<&'static dyn AnyScenario, SimError> {
    SCENARIOS.iter().copied().find(|s| s.name() == name).ok_or_else(|| SimError::UnknownScenario {
        name: name.to_string(),
        known: SCENARIOS.iter().map(|s| s.name()).collect::<Vec<_>>().join(", "),
    })
}

/// `base` with every key of `table` laid over it (nested tables merge key by key), read back as `T`.
pub fn overlay<T: serde::Serialize + serde::de::DeserializeOwned>(
    base: &T,
    table: &toml::Table,
) -> Result<T, SimError> {
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

/// Run built-in scenario `name` with `table` laid over its defaults.
pub fn run(name: &str, table: &toml::Table, progress: &mut dyn Progress) -> Result<Report, SimError> {
    find(name)?.run_table(table, progress)
}

/// A sweep: the base run, then one run per value of `key` (a config key, or `params.NAME` for an engine
/// parameter), with `sweep.csv` holding one row per value (the key, then each run's headline figures), a
/// plot of the first headline figure against the value, and the same table in the summary.
pub fn sweep(
    name: &str,
    table: &toml::Table,
    key: &str,
    values: &[toml::Value],
    progress: &mut dyn Progress,
) -> Result<Report, SimError> {
    let mut base = run(name, table, progress)?;
    let mut rows = Vec::new();
    for v in values {
        let mut t = table.clone();
        set_key(&mut t, key, v.clone())?;
        let out = run(name, &t, progress).map_err(|e| SimError::Sweep {
            key: key.to_string(),
            value: v.to_string(),
            source: Box::new(e),
        })?;
        let text = match v {
            toml::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        rows.push((text, out.headline));
    }
    let mut sweep = Table::new("sweep.csv", &[key]);
    if let Some((_, first)) = rows.first() {
        sweep.columns.extend(first.iter().map(|(k, _)| k.clone()));
    }
    for (v, h) in &rows {
        sweep.push(std::iter::once(v.clone()).chain(h.iter().map(|(_, x)| x.clone())).collect());
    }
    base.summary.push_str(&format!("\n## Sweep of `{key}`\n\n"));
    if let Some((_, first)) = rows.first() {
        base.summary.push_str(&sweep.markdown());
        if let Some(plot) = sweep_plot(key, &first[0].0, &rows) {
            base.plots.push(plot);
        }
    }
    base.tables.push(sweep);
    Ok(base)
}

/// The first headline figure against the swept value, when every value and figure is a number.
fn sweep_plot(key: &str, figure: &str, rows: &[(String, Vec<(String, String)>)]) -> Option<Plot> {
    let points: Vec<(f64, f64)> =
        rows.iter().filter_map(|(v, h)| Some((v.parse::<f64>().ok()?, h.first()?.1.parse::<f64>().ok()?))).collect();
    (points.len() == rows.len()).then(|| Plot {
        file: "sweep.png".into(),
        title: format!("{figure} against {key}"),
        x_label: key.into(),
        y_label: figure.into(),
        kind: PlotKind::Line,
        series: vec![Series { name: figure.into(), points }],
    })
}

/// The summary's closing section: the run's speed and peak memory (not part of the report, which stays
/// byte-identical per seed).
pub fn performance(name: &str, table: &toml::Table, wall: f64, peak: Option<u64>, swept: bool) -> String {
    let mut s = String::from("\n## Performance\n\n");
    let peak_text =
        peak.map_or("not reported by this OS".to_string(), |b| format!("{:.2} GiB", b as f64 / (1u64 << 30) as f64));
    if swept {
        s.push_str(&format!("All runs of the sweep took {wall:.1} s; peak memory {peak_text}.\n"));
        return s;
    }
    match find(name).ok().and_then(|sc| sc.speed_table(table, wall)) {
        Some(speed) => s.push_str(&format!("{speed}; peak memory {peak_text}.\n")),
        None => s.push_str(&format!("The run took {wall:.2} s; peak memory {peak_text}.\n")),
    }
    s
}
