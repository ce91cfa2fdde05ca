//! `stakework sim …`: list the simulator's scenarios, or run one (built-in or TOML) and print where its
//! report went. The flags, parsing, running and writing the folder are the simulator's (`sim::invocation`).

use anyhow::Context;
pub use sim::invocation::SimCommand;

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

pub fn run(cmd: &SimCommand, json: bool) -> anyhow::Result<()> {
    let SimCommand::Run { scenario, seed, set, sweep, out } = cmd else {
        let list: Vec<_> =
            sim::SCENARIOS.iter().map(|s| serde_json::json!({"name": s.name(), "about": s.description()})).collect();
        let text = |_: &_| sim::SCENARIOS.iter().map(|s| format!("{:<10} {}", s.name(), s.description()));
        return crate::print(&list, json, |l| text(l).collect::<Vec<_>>().join("\n"));
    };
    if let Some(code) = rerun_with_allocator_tuning()? {
        std::process::exit(code);
    }
    let request = sim::invocation::Request::parse(scenario, *seed, set, sweep.as_deref())?;
    let done = request
        .execute(out.clone(), &mut sim::progress::Bar::default())
        .map_err(|e| anyhow::anyhow!("scenario {}: {e}", request.name))?;
    crate::print(&done, json, |d| format!("{}\nwritten to {}", d.summary, d.dir.display()))
}
