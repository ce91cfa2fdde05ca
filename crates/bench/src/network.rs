//! The network benchmark: finalized signed transfers per second through `--validators` validator
//! processes on loopback (docs/CONSENSUS.md), and finality latency, against one node loaded the same way
//! in the same run.
//!
//! The transfers are signed once ([`node::prepare`]). The baseline is the `bench node` path: one node
//! process, the same transfers, the same connections and batches. Then the validators start from the same
//! genesis accounts with the validator set added ([`devnet::cluster::Cluster`]); once they finalize their
//! first block the same batches are sent again, the connections spread over the validators' URLs
//! (connection c to validator c mod n), each batch with `?wait=commit`, which a validator answers only
//! once the block holding the batch is finalized and durable on it. So a latency is submit to finalized
//! receipt. Every validator verifies every signature: at its door or on gossip receipt, and again when it
//! verifies a block.
//!
//! After the load every validator must serve the same block at the lowest height they all reached, or
//! the run fails.

use crate::node::{self, NodeConfig, NodeReport, Prepared};
use crate::{step, BenchError, Progress};
use devnet::cluster::Cluster;
use serde::Serialize;
use std::path::Path;
use std::time::Duration;

/// Targets (issue 17): finalized transfers per second, and finality latency p50 and p99 in milliseconds.
pub const TARGET_PER_S: f64 = 10_000.0;
pub const TARGET_P50_MS: f64 = 300.0;
pub const TARGET_P99_MS: f64 = 1_000.0;

/// How long the validators may take to finalize their first block.
const FIRST_BLOCK_PATIENCE: Duration = Duration::from_secs(60);

/// What to run (also the flags of `stakework bench network`).
#[derive(Debug, Clone, clap::Args)]
pub struct NetworkConfig {
    /// Validator processes on loopback, all named in one genesis; the load's connections are spread
    /// over them.
    #[arg(long, default_value_t = 4)]
    pub validators: usize,
    #[command(flatten)]
    pub node: NodeConfig,
}

/// The figures; serialized as `stakework bench network --json` prints them.
#[derive(Debug, Clone, Serialize)]
pub struct NetworkReport {
    pub validators: usize,
    pub submitted: usize,
    /// Transfers whose finalized receipt is `ok`.
    pub finalized: usize,
    pub seconds: f64,
    pub finalized_per_s: f64,
    pub target_per_s: f64,
    pub meets_rate_target: bool,
    pub latency_ms_p50: f64,
    pub latency_ms_p90: f64,
    pub latency_ms_p99: f64,
    pub latency_ms_max: f64,
    pub target_latency_ms_p50: f64,
    pub target_latency_ms_p99: f64,
    pub meets_p50_target: bool,
    pub meets_p99_target: bool,
    /// Blocks validator 0 finalized while the load ran, and their mean size.
    pub blocks: u64,
    pub txs_per_block_mean: f64,
    /// The height at which every validator was checked to serve the same block.
    pub agreed_height: u64,
    pub block_ms: u64,
    pub connections: usize,
    pub batch: usize,
    /// One node loaded with the same transfers in the same run.
    pub baseline: NodeReport,
    /// Finalized transfers per second ÷ the single node's committed per second.
    pub finalized_vs_single_node: f64,
}

/// Sign everything, run the single-node baseline, then start `cfg.validators` validator processes of the
/// stakework binary `exe`, load them, check that they agree, and stop them.
pub fn run_process(cfg: &NetworkConfig, exe: &Path, progress: &mut dyn Progress) -> Result<NetworkReport, BenchError> {
    if cfg.validators < 1 {
        return Err(BenchError::Settings("need at least one validator".into()));
    }
    let prepared = node::prepare(&cfg.node, progress)?;
    progress.phase("baseline: one node, the `bench node` path …");
    let baseline = node::run_single(&prepared, exe, progress)?;
    progress.phase(&format!(
        "baseline: {:.0} committed/s, p50 {:.0} ms, p99 {:.0} ms",
        baseline.committed_per_s, baseline.latency_ms_p50, baseline.latency_ms_p99
    ));
    progress.phase(&format!("network: starting {} validators …", cfg.validators));
    let dir = tempfile::tempdir().map_err(step("creating a temporary directory"))?;
    let keys = dir.path().join("keys");
    let genesis = protocol::Genesis::from_toml(&prepared.genesis_toml).map_err(step("reading the genesis back"))?;
    let genesis = Cluster::genesis(&genesis, cfg.validators, "bench-network", &keys)
        .map_err(step("adding the validators to the genesis"))?;
    let flags = prepared.node_flags();
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    let cluster = Cluster::start(exe, dir.path(), &genesis, &keys, &flags).map_err(step("starting the validators"))?;
    let measured = measure(&cluster, &prepared, progress);
    let stopped = cluster.stop().map_err(step("stopping the validators"));
    let (drive, blocks, agreed_height) = measured?;
    stopped?;
    let rate = drive.committed as f64 / drive.seconds;
    let (p50, p99) = (drive.latency(0.5), drive.latency(0.99));
    Ok(NetworkReport {
        validators: cfg.validators,
        submitted: prepared.total,
        finalized: drive.committed,
        seconds: drive.seconds,
        finalized_per_s: rate,
        target_per_s: TARGET_PER_S,
        meets_rate_target: rate >= TARGET_PER_S,
        latency_ms_p50: p50,
        latency_ms_p90: drive.latency(0.9),
        latency_ms_p99: p99,
        latency_ms_max: drive.latency(1.0),
        target_latency_ms_p50: TARGET_P50_MS,
        target_latency_ms_p99: TARGET_P99_MS,
        meets_p50_target: p50 <= TARGET_P50_MS,
        meets_p99_target: p99 <= TARGET_P99_MS,
        blocks,
        txs_per_block_mean: if blocks > 0 { drive.committed as f64 / blocks as f64 } else { 0.0 },
        agreed_height,
        block_ms: cfg.node.block_ms,
        connections: cfg.node.connections,
        batch: cfg.node.batch,
        finalized_vs_single_node: rate / baseline.committed_per_s.max(f64::MIN_POSITIVE),
        baseline,
    })
}

/// Wait for the first finalized block, load the validators, and check they agree afterwards. Returns
/// the load's figures, the blocks validator 0 finalized during it, and the height checked.
fn measure(
    cluster: &Cluster,
    prepared: &Prepared,
    progress: &mut dyn Progress,
) -> Result<(node::Drive, u64, u64), BenchError> {
    progress.phase("network: waiting for the first finalized block …");
    cluster.wait_height(1, FIRST_BLOCK_PATIENCE).map_err(step("waiting for the first finalized block"))?;
    let urls: Vec<String> = cluster.validators.iter().map(|v| v.url.clone()).collect();
    let first = client::Client::new(&urls[0]);
    let before = first.height().map_err(step("reading validator 0's height"))?;
    let drive = node::drive(prepared, &urls, progress)?;
    let after = first.height().map_err(step("reading validator 0's height"))?;
    let agreed = check_agreement(&urls)?;
    Ok((drive, after.saturating_sub(before), agreed))
}

/// Every validator serves the same block at the lowest height they all reached; that height.
fn check_agreement(urls: &[String]) -> Result<u64, BenchError> {
    let clients: Vec<client::Client> = urls.iter().map(|u| client::Client::new(u)).collect();
    let mut heights = Vec::with_capacity(clients.len());
    for c in &clients {
        heights.push(c.height().map_err(step("reading a validator's height"))?);
    }
    let h = heights.iter().copied().min().unwrap_or(0);
    let mut hashes = Vec::with_capacity(clients.len());
    for c in &clients {
        hashes.push(c.block(&h.to_string()).map_err(step("reading a validator's block"))?.hash);
    }
    crate::check(
        hashes.windows(2).all(|w| w[0] == w[1]),
        &format!("the validators disagree at height {h}: {hashes:?}"),
    )?;
    Ok(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_validator_is_refused_before_anything_is_signed() {
        let node = NodeConfig { txs: 4, connections: 1, batch: 2, block_ms: 100 };
        let cfg = NetworkConfig { validators: 0, node };
        let exe = Path::new("/nonexistent/stakework");
        assert!(matches!(run_process(&cfg, exe, &mut crate::Quiet), Err(BenchError::Settings(_))));
    }
}
