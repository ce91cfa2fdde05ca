//! `stakework demo`: a whole network of agent processes, or with `--walkthrough` a single node driven
//! step by step. Both are run by the `devnet` library with this binary as the processes' program; the CLI
//! parses the flags, prints the report and exits non-zero when the demo fails one of its own checks.

use anyhow::{bail, Context};
use clap::Args;
use serde::Serialize;

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Block interval of the demo node, in milliseconds.
    #[arg(long, default_value_t = 100)]
    pub block_ms: u64,
    /// Instead of the network of agents, walk through the ledger and market step by step with scripted
    /// transactions (payments, escrow, a replay, an unbond, a request, a task with a lazy miner).
    #[arg(long)]
    pub walkthrough: bool,
}

fn print<R: Serialize>(report: &R, text: impl FnOnce() -> String, json: bool) -> anyhow::Result<()> {
    if json {
        outln!("{}", serde_json::to_string_pretty(report)?);
    } else {
        outln!("{}", text());
    }
    Ok(())
}

/// Run the demo; its checks (conservation, replay from genesis, clean stops, stake priority in the busy
/// miner's queue) decide the exit status in text and `--json` mode alike.
pub fn run(args: &DemoArgs, json: bool) -> anyhow::Result<()> {
    let exe = std::env::current_exe().context("finding the stakework binary")?;
    if args.walkthrough {
        let r = devnet::walkthrough::run(&exe, args.block_ms)?;
        print(&r, || r.render(), json)?;
        if !r.supply.conserved || !r.replay_matches_head {
            bail!(
                "the demo failed its own checks (conserved {}, replay matches {})",
                r.supply.conserved,
                r.replay_matches_head
            );
        }
    } else {
        let r = devnet::net::run(&exe, args.block_ms)?;
        print(&r, || r.render(), json)?;
        let failed = r.failed_checks();
        if !failed.is_empty() {
            bail!("the demo failed its own checks: {}", failed.join(", "));
        }
    }
    Ok(())
}
