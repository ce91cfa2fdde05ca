//! `stakework sim …`: run built-in or TOML scenarios of the simulator and write their reports.

use anyhow::{bail, Context};
use clap::Subcommand;
use sim::xx::XxConfig;
use std::path::PathBuf;
use std::time::Instant;

#[derive(Debug, Subcommand)]
pub enum SimCommand {
    /// The built-in scenarios.
    List,
    /// Run a scenario (a built-in name, or a TOML file with an `[xx]` table) and write its folder.
    Run {
        /// `xx`, or a path to SCENARIO.toml.
        scenario: String,
        #[arg(long)]
        seed: Option<u64>,
        #[arg(long)]
        rounds: Option<u64>,
        #[arg(long)]
        nodes: Option<u32>,
        /// Sweep a parameter: `points_failure=20,90,190` gives one row per value in sweep.csv.
        #[arg(long)]
        sweep: Option<String>,
        /// Output folder (default: sim-out/SCENARIO-SEED).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

fn from_toml(path: &str) -> anyhow::Result<XxConfig> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?;
    let v: toml::Value = toml::from_str(&text).with_context(|| format!("{path} is not TOML"))?;
    let t = v.get("xx").and_then(|t| t.as_table()).with_context(|| format!("{path} has no [xx] table"))?;
    let mut c = XxConfig::default();
    for (k, val) in t {
        let n = val.as_integer().with_context(|| format!("[xx].{k} must be an integer"))?;
        let n = u64::try_from(n).with_context(|| format!("[xx].{k} must not be negative"))?;
        match k.as_str() {
            "nodes" => c.nodes = u32::try_from(n)?,
            "team" => c.team = u32::try_from(n)?,
            "bad" => c.bad = u32::try_from(n)?,
            "rounds" => c.rounds = n,
            "points_success" => c.points_success = u128::from(n),
            "points_failure" => c.points_failure = u128::from(n),
            "seed" => c.seed = n,
            other => bail!("unknown key [xx].{other} (nodes, team, bad, rounds, points_success, points_failure, seed)"),
        }
    }
    Ok(c)
}

pub fn run(cmd: &SimCommand, json: bool) -> anyhow::Result<()> {
    match cmd {
        SimCommand::List => {
            outln!("xx   xx network epoch points: 15 nodes, teams of 5, one node failing half its rounds (seed 004)");
            Ok(())
        }
        SimCommand::Run { scenario, seed, rounds, nodes, sweep, out } => {
            let mut c = if scenario.ends_with(".toml") {
                from_toml(scenario)?
            } else if scenario == "xx" {
                XxConfig::default()
            } else {
                bail!("unknown scenario {scenario:?}: see `stakework sim list`, or give a .toml file");
            };
            c.seed = seed.unwrap_or(c.seed);
            c.rounds = rounds.unwrap_or(c.rounds);
            c.nodes = nodes.unwrap_or(c.nodes);
            if c.team == 0 || c.team > c.nodes || c.bad > c.nodes {
                bail!("a team has 1 to {} members and at most {} nodes are bad", c.nodes, c.nodes);
            }
            let values: Vec<u128> = match sweep.as_deref() {
                None => Vec::new(),
                Some(s) => {
                    let (name, list) = s.split_once('=').context("--sweep NAME=V1,V2,…")?;
                    if name != "points_failure" {
                        bail!("the xx scenario sweeps points_failure");
                    }
                    list.split(',')
                        .map(|v| v.trim().parse::<u128>().with_context(|| format!("{v:?}")))
                        .collect::<Result<_, _>>()?
                }
            };
            let t = Instant::now();
            sim::xx::simulate(&c);
            let rps = c.rounds as f64 / t.elapsed().as_secs_f64().max(1e-9);
            let output = sim::xx::run(&c, &values, Some(rps));
            let dir = out.clone().unwrap_or_else(|| PathBuf::from(format!("sim-out/xx-{}", c.seed)));
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            for (name, text) in &output.files {
                std::fs::write(dir.join(name), text)?;
            }
            std::fs::write(dir.join("summary.md"), &output.summary)?;
            if json {
                outln!(
                    "{}",
                    serde_json::json!({"out": dir, "rounds_per_second": rps, "files": output.files.iter().map(|(n, _)| n).collect::<Vec<_>>()})
                );
            } else {
                outln!("{}", output.summary);
                outln!("written to {}", dir.display());
            }
            Ok(())
        }
    }
}
