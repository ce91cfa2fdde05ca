//! `stakework bench …`: the flags, and the printing of the `bench` crate's reports (figures and a ratio
//! against a baseline measured in the same process). Timed here, never in tests.

use anyhow::{ensure, Context};
use bench::node::NodeReport;
use bench::Stderr;
use clap::{Args, Subcommand};

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
            crate::print(&bench::ledger::run(&cfg, &mut Stderr)?, json, bench::ledger::LedgerReport::text)
        }
        BenchCommand::Node(a) => {
            let cfg = bench::node::NodeConfig {
                txs: a.txs,
                connections: a.connections,
                batch: a.batch,
                block_ms: a.block_ms,
            };
            crate::print(&node(&cfg)?, json, NodeReport::text)
        }
        BenchCommand::Sched(a) => {
            crate::print(&bench::sched::run(a.picks, &mut Stderr)?, json, bench::sched::SchedReport::text)
        }
        BenchCommand::Rewards(a) => crate::print(&bench::rewards::run(a.miners, a.runs)?, json, |r| r.text(a.runs)),
        BenchCommand::Poi(a) => crate::print(&bench::poi::run(a.evaluations)?, json, bench::poi::PoiReport::text),
        BenchCommand::Fork(a) => crate::print(
            &bench::fork::run(a.accounts, a.block_txs, a.blocks, &mut Stderr)?,
            json,
            bench::fork::ForkReport::text,
        ),
    }
}

/// Sign everything, start a node process of this binary on a temporary directory, and load it.
fn node(cfg: &bench::node::NodeConfig) -> anyhow::Result<NodeReport> {
    let prepared = bench::node::prepare(cfg, &mut Stderr)?;
    let dir = tempfile::tempdir().context("temporary directory")?;
    let genesis_path = dir.path().join("genesis.toml");
    std::fs::write(&genesis_path, &prepared.genesis_toml)?;
    let flags = prepared.node_flags();
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    let exe = std::env::current_exe().context("finding the stakework binary")?;
    let node =
        devnet::process::Node::start(&exe, "127.0.0.1:0", &dir.path().join("data"), Some(&genesis_path), &flags)?;
    let report = bench::node::load(prepared, &node.url, &mut Stderr)?;
    drop(node);
    Ok(report)
}
