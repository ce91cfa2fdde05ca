//! `stakework demo`: a whole network of agent processes on four validators, or with `--walkthrough` a
//! single node driven step by step. Both are run by the `devnet` library with this binary as the
//! processes' program; the CLI parses the flags, prints the report and exits non-zero when the demo fails
//! one of its own checks.

use anyhow::{bail, Context};
use clap::Args;

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Block interval of the demo's validators (at most 500: half the leader timeout), or of the
    /// walkthrough's node, in milliseconds.
    #[arg(long, default_value_t = 100)]
    pub block_ms: u64,
    /// Instead of the network of agents, walk through the ledger and market step by step with scripted
    /// transactions (payments, escrow, a replay, an unbond, a request, a task with a lazy miner).
    #[arg(long)]
    pub walkthrough: bool,
}

pub fn run(args: &DemoArgs, json: bool) -> anyhow::Result<()> {
    let exe = std::env::current_exe().context("finding the stakework binary")?;
    if args.walkthrough {
        let r = devnet::walkthrough::run(&exe, args.block_ms)?;
        crate::print(&r, json, |r| r.render())?;
        if !r.supply.conserved || !r.replay_matches_head {
            bail!(
                "the demo failed its own checks (conserved {}, replay matches {})",
                r.supply.conserved,
                r.replay_matches_head
            );
        }
    } else {
        let r = devnet::net::run(&exe, args.block_ms)?;
        crate::print(&r, json, |r| r.render())?;
        let failed = r.failed_checks();
        if !failed.is_empty() {
            bail!("the demo failed its own checks: {}", failed.join(", "));
        }
    }
    Ok(())
}
