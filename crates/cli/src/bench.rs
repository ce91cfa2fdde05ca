//! `stakework bench …`: the `bench` crate's command (figures and a ratio against a baseline measured in the
//! same process), printed. Timed here, never in tests.

use anyhow::{ensure, Context};
pub use bench::command::BenchCommand;

pub fn run(cmd: &BenchCommand, json: bool) -> anyhow::Result<()> {
    let hint = cmd.release_hint();
    ensure!(cfg!(not(debug_assertions)), "benchmarks need an optimized build: {hint}");
    let exe = std::env::current_exe().context("finding the stakework binary")?;
    let out = cmd.run(&exe)?;
    crate::print(&out.json, json, |_| out.text.clone())
}
