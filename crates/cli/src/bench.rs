//! `stakework bench …`: the flags, and the printing of the `bench` crate's reports (figures and a ratio
//! against a baseline measured in the same process). Timed here, never in tests.

use crate::local_node::LocalNode;
use anyhow::{ensure, Context};
use bench::{
    fork::ForkReport, ledger::LedgerReport, node::NodeReport, poi::PoiReport, rewards::RewardsReport,
    sched::SchedReport,
};
use clap::{Args, Subcommand};
use std::io::Write;

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Transfers applied per second by the engine (signatures checked separately), and ed25519
    /// verification per second, single and batched.
    Ledger(LedgerArgs),
    /// Committed signed transfers per second through a real node process over HTTP (fsync per block),
    /// commit-latency percentiles, and this machine's single-core ed25519 verification rate as the bound.
    Node(NodeArgs),
    /// The miner's stake-weighted queue: picks per second with 10, 1,000 and 100,000 backlogged clients
    /// against nginx's smooth weighted round-robin in the same process.
    Sched(SchedArgs),
    /// Epoch miner-reward settlement for 100,000 miners (exact split and ledger transfers).
    Rewards(RewardsArgs),
    /// Proof-of-Inference task evaluations per second (k = 5 outputs of 1 KiB) and embedder throughput.
    Poi(PoiArgs),
    /// Verifying a block on a fork of the state (fork + apply + commit) against a full copy of the state
    /// (copy + apply + keep), at 100,000 accounts: what a validator pays to check a proposal.
    Fork(ForkArgs),
}

#[derive(Debug, Args)]
pub struct ForkArgs {
    /// Accounts in the state.
    #[arg(long, default_value_t = 100_000)]
    pub accounts: usize,
    /// Transfers per block.
    #[arg(long, default_value_t = 1_000)]
    pub block_txs: usize,
    /// Blocks; the median per block is reported.
    #[arg(long, default_value_t = 20)]
    pub blocks: usize,
}

#[derive(Debug, Args)]
pub struct NodeArgs {
    /// Signed transfers to submit in all.
    #[arg(long, default_value_t = 60_000)]
    pub txs: usize,
    /// Concurrent HTTP connections; each owns its senders and waits for commit before its next batch.
    #[arg(long, default_value_t = 10)]
    pub connections: usize,
    /// Transactions per HTTP request (one per sender of the connection).
    #[arg(long, default_value_t = 250)]
    pub batch: usize,
    /// The node's block interval in milliseconds.
    #[arg(long, default_value_t = 100)]
    pub block_ms: u64,
}

#[derive(Debug, Args)]
pub struct LedgerArgs {
    /// Number of funded accounts (each also signs transfers).
    #[arg(long, default_value_t = 100_000)]
    pub accounts: usize,
    /// Transactions per block.
    #[arg(long, default_value_t = 10_000)]
    pub block_txs: usize,
    /// Number of blocks to apply.
    #[arg(long, default_value_t = 30)]
    pub blocks: usize,
    /// Signatures to verify for the single-vs-batch comparison.
    #[arg(long, default_value_t = 20_000)]
    pub signatures: usize,
}

#[derive(Debug, Args)]
pub struct SchedArgs {
    /// Picks measured per client count.
    #[arg(long, default_value_t = 2_000_000)]
    pub picks: usize,
}

#[derive(Debug, Args)]
pub struct RewardsArgs {
    /// Miners with work in the epoch.
    #[arg(long, default_value_t = 100_000)]
    pub miners: usize,
    /// Timed runs; the median is reported.
    #[arg(long, default_value_t = 5)]
    pub runs: usize,
}

#[derive(Debug, Args)]
pub struct PoiArgs {
    /// Task evaluations to time.
    #[arg(long, default_value_t = 20_000)]
    pub evaluations: usize,
}

/// Progress on stderr: a counter rewritten in place, and a line per phase.
struct Stderr;

impl bench::Progress for Stderr {
    fn count(&mut self, label: &str, done: usize, total: usize) {
        if done % (total / 20).max(1) == 0 || done == total {
            eprint!("\r{label}: {done}/{total} ({:.0}%)   ", 100.0 * done as f64 / total.max(1) as f64);
            if done == total {
                eprintln!();
            }
            let _ = std::io::stderr().flush();
        }
    }
    fn phase(&mut self, text: &str) {
        eprintln!("{text}");
    }
}

pub fn run(cmd: &BenchCommand, json: bool) -> anyhow::Result<()> {
    let how = |b: &str| format!("benchmarks need an optimized build: cargo run --release {b}");
    ensure!(
        cfg!(not(debug_assertions)),
        "{}",
        how(match cmd {
            BenchCommand::Ledger(_) => "-p cli -- bench ledger",
            BenchCommand::Sched(_) => "-p cli -- bench sched",
            BenchCommand::Node(_) => "--bin stakework -- bench node",
            BenchCommand::Rewards(_) => "--bin stakework -- bench rewards",
            BenchCommand::Poi(_) => "--bin stakework -- bench poi",
            BenchCommand::Fork(_) => "--bin stakework -- bench fork",
        })
    );
    match cmd {
        BenchCommand::Ledger(a) => {
            let cfg = bench::ledger::LedgerConfig {
                accounts: a.accounts,
                block_txs: a.block_txs,
                blocks: a.blocks,
                signatures: a.signatures,
            };
            print(&bench::ledger::run(&cfg, &mut Stderr)?, json, print_ledger)
        }
        BenchCommand::Node(a) => {
            let cfg = bench::node::NodeConfig {
                txs: a.txs,
                connections: a.connections,
                batch: a.batch,
                block_ms: a.block_ms,
            };
            print(&node(&cfg)?, json, print_node)
        }
        BenchCommand::Sched(a) => print(&bench::sched::run(a.picks, &mut Stderr)?, json, print_sched),
        BenchCommand::Rewards(a) => print(&bench::rewards::run(a.miners, a.runs)?, json, |r| print_rewards(r, a.runs)),
        BenchCommand::Poi(a) => print(&bench::poi::run(a.evaluations)?, json, print_poi),
        BenchCommand::Fork(a) => {
            print(&bench::fork::run(a.accounts, a.block_txs, a.blocks, &mut Stderr)?, json, print_fork)
        }
    }
}

fn print<R: serde::Serialize>(report: &R, json: bool, text: impl FnOnce(&R)) -> anyhow::Result<()> {
    if json {
        outln!("{}", serde_json::to_string_pretty(report)?);
    } else {
        text(report);
    }
    Ok(())
}

/// Sign everything, start a node process of this binary on a temporary directory, and load it.
fn node(cfg: &bench::node::NodeConfig) -> anyhow::Result<NodeReport> {
    let prepared = bench::node::prepare(cfg, &mut Stderr)?;
    let dir = tempfile::tempdir().context("temporary directory")?;
    let genesis_path = dir.path().join("genesis.toml");
    std::fs::write(&genesis_path, &prepared.genesis_toml)?;
    let flags = prepared.node_flags();
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    let node = LocalNode::start(&dir.path().join("data"), &genesis_path, &flags)?;
    let report = bench::node::load(prepared, &node.url, &mut Stderr)?;
    drop(node);
    Ok(report)
}

fn met(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "NOT met"
    }
}

fn print_ledger(r: &LedgerReport) {
    outln!(
        "ledger benchmark: {} accounts, blocks of {} transfers, {} transfers, one core",
        r.accounts,
        r.block_txs,
        r.transfers
    );
    outln!("  engine apply (fees, nonces, events, state root): {:>12.0} transfers/s  ({:.0} ns each)  target ≥ 1,000,000: {}", r.apply_transfers_per_s, r.apply_ns_per_transfer, met(r.meets_target));
    outln!(
        "  baseline: bare HashMap (ahash) debit+credit:     {:>12.0} transfers/s  (engine = {:.2}× baseline)",
        r.baseline_hashmap_transfers_per_s,
        r.apply_vs_baseline
    );
    outln!("  ed25519 verify_strict, one by one:               {:>12.0} signatures/s", r.verify_single_per_s);
    outln!(
        "  ed25519 batch verification:                      {:>12.0} signatures/s  (batch = {:.2}× single)",
        r.verify_batch_per_s,
        r.batch_vs_single
    );
}

fn print_node(r: &NodeReport) {
    outln!(
        "node benchmark: {} transfers, {} connections × batches of {}, block every {} ms, fsync per block",
        r.submitted,
        r.connections,
        r.batch,
        r.block_ms
    );
    outln!("  committed:            {} of {} in {:.2} s", r.committed, r.submitted, r.seconds);
    outln!("  committed transfers/s: {:>10.0}   target ≥ 20,000: {}", r.committed_per_s, met(r.meets_target));
    outln!("  commit latency (per batch, submit → receipt): p50 {:.0} ms, p90 {:.0} ms, p99 {:.0} ms, max {:.0} ms; p99 ≤ 2 blocks: {}", r.latency_ms_p50, r.latency_ms_p90, r.latency_ms_p99, r.latency_ms_max, if r.p99_within_two_blocks { "yes" } else { "no" });
    outln!("  node: {} blocks, mean seal (execute + fsynced append) {:.1} ms", r.blocks, r.seal_ms_mean);
    outln!(
        "  bound: one core verifies {:.0} signatures/s (verify_strict); committed = {:.2}× that",
        r.verify_single_core_per_s,
        r.committed_vs_single_core_verify
    );
}

fn print_sched(report: &SchedReport) {
    outln!("sched benchmark: stake-weighted picks, one core; stakes 1..=1000 pseudo-random, every client backlogged");
    outln!(
        "{:>9}  {:>14}  {:>9}  {:>10}  {:>13}  {:>14}  {:>13}  {:>11}",
        "clients",
        "sched picks/s",
        "ns/pick",
        "picks/turn",
        "equal ns/pick",
        "nginx picks/s",
        "nginx ns/pick",
        "sched/nginx"
    );
    for r in &report.rows {
        outln!(
            "{:>9}  {:>14.0}  {:>9.1}  {:>10.1}  {:>13.1}  {:>14.0}  {:>13.1}  {:>10.1}×",
            r.clients,
            r.sched_picks_per_s,
            r.sched_ns_per_pick,
            r.sched_picks_per_turn,
            r.sched_equal_stakes_ns_per_pick,
            r.nginx_picks_per_s,
            r.nginx_ns_per_pick,
            r.sched_vs_nginx
        );
    }
    outln!(
        "growth of ns/pick, 100,000 vs 10 clients: {:.2}×  target ≤ {:.0}×: {}  (equal stakes: {:.2}×)",
        report.growth_ns_per_pick_100000_vs_10,
        report.target_growth_max,
        met(report.meets_growth_target),
        report.growth_equal_stakes_100000_vs_10
    );
    outln!(
        "sched at 100,000 clients: {:.0} picks/s  target ≥ 10,000,000: {}",
        report.rows[2].sched_picks_per_s,
        met(report.meets_rate_target)
    );
    outln!("(picks/turn = stake ÷ minimum stake on average; \"equal\" = all stakes equal, a new client every pick)");
}

fn print_rewards(r: &RewardsReport, runs: usize) {
    outln!("epoch miner-reward settlement, {} miners, median of {} runs, one core", r.miners, runs);
    outln!(
        "  exact (compute + apply):  {:>8.1} ms  (compute {:.1} ms)  target < 100 ms: {}",
        r.settle_ms_median,
        r.compute_ms_median,
        met(r.meets_target)
    );
    outln!(
        "  baseline naive floor:     {:>8.1} ms  (exact = {:.2}× baseline; the baseline strands {} base units)",
        r.baseline_ms_median,
        r.ratio_vs_baseline,
        r.baseline_stranded_units
    );
}

fn print_poi(r: &PoiReport) {
    outln!("PoI benchmark: k = {} outputs of {} bytes per task, one core", r.outputs_per_task, r.output_bytes);
    outln!(
        "  task evaluations (embed all + verdict): {:>10.0}/s   target ≥ 10,000: {}",
        r.evaluations_per_s,
        met(r.meets_target)
    );
    outln!("  integer n-gram embedder:                {:>10.1} MB/s", r.embed_mb_per_s);
    outln!(
        "  baseline (string trigrams, hash map, f64): {:>7.0}/s   (integer = {:.1}× baseline)",
        r.baseline_evaluations_per_s,
        r.speedup_vs_baseline
    );
}

fn print_fork(r: &ForkReport) {
    outln!(
        "fork benchmark: {} accounts, blocks of {} transfers, median of {} blocks",
        r.accounts,
        r.txs_per_block,
        r.blocks
    );
    outln!(
        "  fork + apply + commit:        {:>9.2} ms per block  (fork alone {:.1} µs)",
        r.fork_apply_commit_ms_median,
        r.fork_us_median
    );
    outln!(
        "  baseline copy + apply + keep: {:>9.2} ms per block  (full copy alone {:.2} ms; fork = {:.1}× cheaper)",
        r.clone_apply_keep_ms_median,
        r.deep_clone_ms_median,
        r.ratio_vs_baseline
    );
}
