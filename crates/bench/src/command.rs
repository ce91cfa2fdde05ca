//! `stakework bench …` as a command: its flags (clap derives them from these types, so each setting's
//! doc comment is its `--help` line) and running the chosen benchmark into a printable [`Output`].

use crate::{BenchError, Stderr};
use clap::{Args, Subcommand};
use std::path::Path;

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Transfers applied per second by the engine (signatures checked separately), and ed25519
    /// verification per second, single and batched.
    Ledger(crate::ledger::LedgerConfig),
    /// Committed signed transfers per second through a real node process over HTTP (fsync per block),
    /// commit-latency percentiles, and this machine's single-core ed25519 verification rate as the bound.
    Node(crate::node::NodeConfig),
    /// Finalized signed transfers per second through `--validators` validator processes on loopback
    /// (commonware consensus; every validator verifies every signature), with finality latency (submit to
    /// finalized receipt, `?wait=commit`) p50 and p99, against one node (the `bench node` path) loaded
    /// with the same transfers in the same run. The load's connections are spread over the validators.
    /// All processes share this machine's cores.
    Network(crate::network::NetworkConfig),
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

/// A report as the CLI prints it: its JSON (`--json`) and its text.
#[derive(Debug, Clone)]
pub struct Output {
    pub json: serde_json::Value,
    pub text: String,
}

impl Output {
    fn of<T: serde::Serialize>(report: &T, text: String) -> Result<Output, BenchError> {
        let json = serde_json::to_value(report).map_err(crate::step("encoding the report"))?;
        Ok(Output { json, text })
    }
}

impl BenchCommand {
    /// How to run this benchmark in an optimized build (benchmarks refuse a debug build).
    pub fn release_hint(&self) -> &'static str {
        match self {
            BenchCommand::Ledger(_) => "cargo run --release -p cli -- bench ledger",
            BenchCommand::Sched(_) => "cargo run --release -p cli -- bench sched",
            BenchCommand::Node(_) => "cargo run --release --bin stakework -- bench node",
            BenchCommand::Network(_) => "cargo run --release --bin stakework -- bench network",
            BenchCommand::Rewards(_) => "cargo run --release --bin stakework -- bench rewards",
            BenchCommand::Poi(_) => "cargo run --release --bin stakework -- bench poi",
            BenchCommand::Fork(_) => "cargo run --release --bin stakework -- bench fork",
        }
    }

    /// Run the benchmark with progress on stderr. `exe` is the stakework binary, which `bench node`
    /// and `bench network` start as node processes.
    pub fn run(&self, exe: &Path) -> Result<Output, BenchError> {
        let p = &mut Stderr;
        match self {
            BenchCommand::Ledger(cfg) => crate::ledger::run(cfg, p).and_then(|r| Output::of(&r, r.text())),
            BenchCommand::Node(cfg) => crate::node::run_process(cfg, exe, p).and_then(|r| Output::of(&r, r.text())),
            BenchCommand::Network(cfg) => {
                crate::network::run_process(cfg, exe, p).and_then(|r| Output::of(&r, r.text()))
            }
            BenchCommand::Sched(a) => crate::sched::run(a.picks, p).and_then(|r| Output::of(&r, r.text())),
            BenchCommand::Rewards(a) => {
                crate::rewards::run(a.miners, a.runs).and_then(|r| Output::of(&r, r.text(a.runs)))
            }
            BenchCommand::Poi(a) => crate::poi::run(a.evaluations).and_then(|r| Output::of(&r, r.text())),
            BenchCommand::Fork(a) => {
                crate::fork::run(a.accounts, a.block_txs, a.blocks, p).and_then(|r| Output::of(&r, r.text()))
            }
        }
    }
}
