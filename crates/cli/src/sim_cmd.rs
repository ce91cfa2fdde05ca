//! `stakework sim …`: list the simulator's scenarios, or run one (built-in or TOML) and print where its
//! report went. Parsing, running and writing the folder are the simulator's (`sim::invocation`).

use anyhow::Context;
use clap::Subcommand;
use std::path::PathBuf;

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

fn list(json: bool) {
    if json {
        let list: Vec<_> =
            sim::SCENARIOS.iter().map(|s| serde_json::json!({"name": s.name(), "about": s.description()})).collect();
        outln!("{}", serde_json::Value::Array(list));
    } else {
        for s in sim::SCENARIOS {
            outln!("{:<10} {}", s.name(), s.description());
        }
    }
}

pub fn run(cmd: &SimCommand, json: bool) -> anyhow::Result<()> {
    let SimCommand::Run { scenario, seed, set, sweep, out } = cmd else {
        list(json);
        return Ok(());
    };
    if let Some(code) = rerun_with_allocator_tuning()? {
        std::process::exit(code);
    }
    let request = sim::invocation::Request::parse(scenario, *seed, set, sweep.as_deref())?;
    let done = request
        .execute(out.clone(), &mut sim::progress::Bar::default())
        .map_err(|e| anyhow::anyhow!("scenario {}: {e}", request.name))?;
    if json {
        let headline: serde_json::Map<_, _> =
            done.headline.iter().map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone()))).collect();
        outln!(
            "{}",
            serde_json::json!({
                "scenario": done.name,
                "out": done.dir,
                "seconds": done.seconds,
                "peak_memory_bytes": done.peak_memory_bytes,
                "files": done.files,
                "plots": done.plots,
                "headline": headline,
            })
        );
    } else {
        outln!("{}", done.summary);
        outln!("written to {}", done.dir.display());
    }
    Ok(())
}
