//! `stakework sim …`: run built-in or TOML scenarios of the simulator and write their reports.

use anyhow::{bail, Context};
use clap::Subcommand;
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[derive(Debug, Subcommand)]
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
fn value(text: &str) -> toml::Value {
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

/// The scenario's name and settings table, from a built-in name or a TOML file.
fn load(scenario: &str) -> anyhow::Result<(String, toml::Table)> {
    if !scenario.ends_with(".toml") {
        if !sim::SCENARIOS.iter().any(|(n, _)| *n == scenario) {
            bail!("unknown scenario {scenario:?}: see `stakework sim list`, or give a .toml file");
        }
        return Ok((scenario.to_string(), toml::Table::new()));
    }
    let text = std::fs::read_to_string(scenario).with_context(|| format!("reading {scenario}"))?;
    let mut top: toml::Table = toml::from_str(&text).with_context(|| format!("{scenario} is not TOML"))?;
    let name = match top.remove("scenario") {
        Some(toml::Value::String(s)) => s,
        Some(_) => bail!("{scenario}: `scenario` must be a name (see `stakework sim list`)"),
        None if top.contains_key("xx") => "xx".to_string(),
        None => {
            bail!("{scenario}: say which scenario it configures: scenario = \"network\" (see `stakework sim list`)")
        }
    };
    if !sim::SCENARIOS.iter().any(|(n, _)| *n == name) {
        bail!("{scenario}: unknown scenario {name:?} (see `stakework sim list`)");
    }
    let table = match top.remove(&name) {
        Some(toml::Value::Table(t)) => t,
        Some(_) => bail!("{scenario}: [{name}] must be a table"),
        None => toml::Table::new(),
    };
    if let Some(k) = top.keys().next() {
        bail!("{scenario}: unknown key {k:?} (a scenario file has `scenario` and its [{name}] table)");
    }
    Ok((name, table))
}

/// A progress bar on stderr, redrawn at most twice a second.
struct Bar {
    total: u64,
    done: u64,
    unit: String,
    started: Instant,
    drawn: Option<Instant>,
}

impl Bar {
    fn new() -> Bar {
        Bar { total: 0, done: 0, unit: String::new(), started: Instant::now(), drawn: None }
    }
    fn draw(&mut self, last: bool) {
        if !last && self.drawn.is_some_and(|d| d.elapsed() < Duration::from_millis(500)) {
            return;
        }
        self.drawn = Some(Instant::now());
        let frac = if self.total == 0 { 1.0 } else { self.done as f64 / self.total as f64 };
        let width = 30;
        let filled = ((frac * width as f64) as usize).min(width);
        let secs = self.started.elapsed().as_secs_f64();
        let eta = if frac > 0.0 { secs / frac - secs } else { 0.0 };
        eprint!(
            "\r[{}{}] {:>3.0}% {}/{} {} · {:.1} s · eta {:.0} s   ",
            "#".repeat(filled),
            "-".repeat(width - filled),
            frac * 100.0,
            self.done,
            self.total,
            self.unit,
            secs,
            eta.max(0.0)
        );
        if last {
            eprintln!();
        }
        let _ = std::io::stderr().flush();
    }
}

impl sim::Progress for Bar {
    fn start(&mut self, total: u64, unit: &str) {
        self.total = total;
        self.done = 0;
        self.unit = unit.to_string();
        self.started = Instant::now();
        self.drawn = None;
        self.draw(false);
    }
    fn advance(&mut self, n: u64) {
        self.done += n;
        self.draw(self.done >= self.total);
    }
}

/// mimalloc returns freed pages to the OS after a short delay; the simulator frees a block's worth of
/// tasks and events at once and allocates as much again a moment later, so those pages fault back in
/// zeroed: about 10% of a large run (1,000,000 tasks: 61 s → 55 s). mimalloc reads its options once,
/// from the environment, at the first allocation, so a run re-executes itself once with
/// `MIMALLOC_PURGE_DELAY=-1` (keep freed pages) unless the variable is already set. `Some(exit code)`
/// when the re-run happened.
fn rerun_with_allocator_tuning() -> anyhow::Result<Option<i32>> {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
        return Ok(None);
    }
    let exe = std::env::current_exe().context("locating the stakework binary")?;
    let status = std::process::Command::new(exe)
        .args(std::env::args_os().skip(1))
        .env("MIMALLOC_PURGE_DELAY", "-1")
        .status()
        .context("re-running with MIMALLOC_PURGE_DELAY=-1")?;
    Ok(Some(status.code().unwrap_or(1)))
}

/// The process's peak resident memory (VmHWM), in bytes, where the OS reports it.
fn peak_memory() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

pub fn run(cmd: &SimCommand, json: bool) -> anyhow::Result<()> {
    match cmd {
        SimCommand::List => {
            if json {
                let list: Vec<_> =
                    sim::SCENARIOS.iter().map(|(n, d)| serde_json::json!({"name": n, "about": d})).collect();
                outln!("{}", serde_json::Value::Array(list));
            } else {
                for (n, d) in sim::SCENARIOS {
                    outln!("{n:<10} {d}");
                }
            }
            Ok(())
        }
        SimCommand::Run { scenario, seed, set, sweep, out } => {
            if let Some(code) = rerun_with_allocator_tuning()? {
                std::process::exit(code);
            }
            let (name, mut table) = load(scenario)?;
            if let Some(s) = seed {
                let s = i64::try_from(*s).context("--seed must be below 2^63")?;
                table.insert("seed".into(), toml::Value::Integer(s));
            }
            for kv in set {
                let (k, v) = kv.split_once('=').with_context(|| format!("--set {kv:?}: expected KEY=VALUE"))?;
                sim::set_key(&mut table, k.trim(), value(v)).map_err(|e| anyhow::anyhow!("--set {kv:?}: {e}"))?;
            }
            let seed_shown = table.get("seed").map_or_else(|| "default".to_string(), |v| v.to_string());
            let mut bar = Bar::new();
            let started = Instant::now();
            let output = match sweep.as_deref() {
                None => sim::run_scenario(&name, &table, &mut bar),
                Some(s) => {
                    let (key, list) = s.split_once('=').context("--sweep KEY=V1,V2,…")?;
                    let values: Vec<toml::Value> = list.split(',').map(value).collect();
                    if values.is_empty() || list.trim().is_empty() {
                        bail!("--sweep {key}= needs at least one value");
                    }
                    sim::sweep(&name, &table, key.trim(), &values, &mut bar)
                }
            }
            .map_err(|e| anyhow::anyhow!("scenario {name}: {e}"))?;
            let wall = started.elapsed().as_secs_f64();
            let mut summary = output.summary.clone();
            let peak = peak_memory();
            summary.push_str(&performance(&name, &table, wall, peak, sweep.is_some()));
            let dir = out.clone().unwrap_or_else(|| PathBuf::from(format!("sim-out/{name}-{seed_shown}")));
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            for (file, text) in &output.files {
                std::fs::write(dir.join(file), text).with_context(|| format!("writing {file}"))?;
            }
            let mut plots = Vec::new();
            for plot in &output.plots {
                let path = dir.join(&plot.file);
                sim::plot::render(plot, &path).with_context(|| format!("drawing {}", plot.file))?;
                plots.push(plot.file.clone());
            }
            std::fs::write(dir.join("summary.md"), &summary)?;
            if json {
                outln!(
                    "{}",
                    serde_json::json!({
                        "scenario": name,
                        "out": dir,
                        "seconds": wall,
                        "peak_memory_bytes": peak,
                        "files": output.files.iter().map(|(n, _)| n).collect::<Vec<_>>(),
                        "plots": plots,
                        "headline": output.headline.iter().map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone()))).collect::<serde_json::Map<_, _>>(),
                    })
                );
            } else {
                outln!("{summary}");
                outln!("written to {}", dir.display());
            }
            Ok(())
        }
    }
}

/// The run's speed and memory, for the summary (not the CSV, which stays byte-identical per seed).
fn performance(name: &str, table: &toml::Table, wall: f64, peak: Option<u64>, swept: bool) -> String {
    let mut s = String::from("\n## Performance\n\n");
    let peak_text =
        peak.map_or("not reported by this OS".to_string(), |b| format!("{:.2} GiB", b as f64 / (1u64 << 30) as f64));
    if swept {
        s.push_str(&format!("All runs of the sweep took {wall:.1} s; peak memory {peak_text}.\n"));
        return s;
    }
    match name {
        "xx" => {
            let c: sim::xx::XxConfig = toml::Value::Table(table.clone()).try_into().unwrap_or_default();
            s.push_str(&format!(
                "{:.2} million rounds per second (teams drawn and booked through the engine's points rules; the \
                 whole run with its report, {wall:.2} s); peak memory {peak_text}.\n",
                c.rounds as f64 / wall.max(1e-9) / 1e6
            ));
        }
        "network" | "scale" => {
            let tasks = table.get("tasks").and_then(|v| v.as_integer()).unwrap_or_else(|| {
                if name == "scale" {
                    sim::network::NetworkConfig::scale().tasks as i64
                } else {
                    sim::network::NetworkConfig::default().tasks as i64
                }
            });
            s.push_str(&format!(
                "{tasks} task rounds (whole lifecycles, every step a transaction through the engine) in {wall:.1} s: \
                 {:.0} task rounds per second; peak memory {peak_text}.\n",
                tasks as f64 / wall.max(1e-9)
            ));
        }
        _ => s.push_str(&format!("The run took {wall:.2} s; peak memory {peak_text}.\n")),
    }
    s
}
