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
    /// After the network demo and its checks, start its validators again and leave them running: print
    /// the first validator's explorer URL and its metrics URL, then wait for Ctrl-C (or SIGTERM) and stop
    /// them cleanly.
    #[arg(long, conflicts_with = "walkthrough")]
    pub keep: bool,
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
        let (r, kept) = devnet::net::run_keeping(&exe, args.block_ms, args.keep)?;
        crate::print(&r, json, |r| r.render())?;
        let failed = r.failed_checks();
        if !failed.is_empty() {
            if let Some(kept) = kept {
                let _ = kept.stop();
            }
            bail!("the demo failed its own checks: {}", failed.join(", "));
        }
        if let Some(kept) = kept {
            keep_running(kept, json)?;
        }
    }
    Ok(())
}

/// Print where the kept network is (on stderr with `--json`, whose stdout is the report), wait for SIGINT
/// or SIGTERM, then stop its validators.
fn keep_running(kept: devnet::net::Kept, json: bool) -> anyhow::Result<()> {
    let url = kept.url().to_string();
    let say = |line: String| if json { eprintln!("{line}") } else { println!("{line}") };
    let n = kept.cluster.validators.len();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().context("starting a runtime")?;
    rt.block_on(async {
        // Listening before the URLs are printed: whoever reads them may signal at once.
        let signalled = tokio::spawn(node::shutdown_signal());
        tokio::task::yield_now().await;
        say(format!("demo: the network keeps running ({n} validators, data in {})", kept.dir().display()));
        say(format!("demo: explorer  {url}/"));
        say(format!("demo: metrics   {url}/metrics"));
        say("demo: press Ctrl-C to stop it".into());
        let _ = signalled.await;
    });
    eprintln!("demo: stopping the validators");
    kept.stop().context("stopping the demo's validators")
}
