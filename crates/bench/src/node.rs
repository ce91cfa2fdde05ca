//! The node benchmark. This process is the load generator; the node is a separate process the caller
//! starts on a temporary data directory from [`Prepared::genesis_toml`] and [`Prepared::node_flags`].
//! Every transfer is signed before the clock starts ([`prepare`]); then each connection sends its
//! batches with `?wait=commit`, one at a time, each sender once per batch ([`load`]).

use crate::{percentile, step, BenchError, Progress};
use client::keys::{account_of, derived_key};
use ed25519_dalek::SigningKey;
use protocol::{Call, Genesis, GenesisAccount, Params, SignedTx, TxBody};
use serde::Serialize;
use std::time::{Duration, Instant};
use types::{AccountId, Amount};

/// Target (issue 3): committed signed transfers per second.
pub const TARGET_PER_S: f64 = 20_000.0;
const CHAIN: &str = "bench-node";

/// What to run (also the flags of `stakework bench node`).
#[derive(Debug, Clone, clap::Args)]
pub struct NodeConfig {
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

/// The figures; serialized as `stakework bench node --json` prints them.
#[derive(Debug, Clone, Serialize)]
pub struct NodeReport {
    pub submitted: usize,
    pub committed: usize,
    pub seconds: f64,
    pub committed_per_s: f64,
    pub target_per_s: f64,
    pub meets_target: bool,
    pub block_ms: u64,
    pub latency_ms_p50: f64,
    pub latency_ms_p90: f64,
    pub latency_ms_p99: f64,
    pub latency_ms_max: f64,
    pub p99_within_two_blocks: bool,
    pub verify_single_core_per_s: f64,
    pub committed_vs_single_core_verify: f64,
    pub connections: usize,
    pub batch: usize,
    pub blocks: f64,
    /// Mean time a block holds the engine: execution plus the fsynced append.
    pub seal_ms_mean: f64,
}

/// Everything signed and measured before the node starts.
#[derive(Debug)]
pub struct Prepared {
    pub(crate) cfg: NodeConfig,
    /// The genesis the node must start from: every sender funded.
    pub genesis_toml: String,
    /// `batches[c][r]`: connection c's round r as a JSON array, one transfer per sender of c.
    batches: Vec<Vec<String>>,
    pub(crate) total: usize,
    /// One core's `verify_strict` rate, as the node's admission checks signatures: the bound.
    pub(crate) verify_rate: f64,
}

impl Prepared {
    /// Extra `stakework node` flags the benchmark needs: a mempool that never refuses the load, and the
    /// block interval.
    pub fn node_flags(&self) -> Vec<String> {
        vec!["--mempool-max".into(), "1000000".into(), "--block-ms".into(), self.cfg.block_ms.to_string()]
    }
}

/// Derive the senders, write their genesis, sign every transfer and measure the bound.
pub fn prepare(cfg: &NodeConfig, progress: &mut dyn Progress) -> Result<Prepared, BenchError> {
    if cfg.connections < 1 || cfg.batch < 1 || cfg.txs < cfg.connections * cfg.batch {
        return Err(BenchError::Settings("need txs >= connections × batch".into()));
    }
    let senders = cfg.connections * cfg.batch;
    let keys: Vec<SigningKey> = (0..senders).map(|i| derived_key(&format!("bench-node/{i}"))).collect();
    let ids: Vec<AccountId> = keys.iter().map(account_of).collect();
    let genesis = Genesis {
        validators: Vec::new(),
        services: Vec::new(),
        params: Params { chain_id: CHAIN.into(), min_fee: Amount(1), ..Params::default() },
        accounts: ids
            .iter()
            .map(|id| GenesisAccount { id: *id, name: None, free: Amount(1_000_000_000), bonded: Amount::ZERO })
            .collect(),
    };
    let batches = sign_batches(cfg, &keys, &ids, progress)?;
    let sample: Vec<SignedTx> = serde_json::from_str(&batches[0][0]).map_err(step("reading a batch back"))?;
    let total = senders * (cfg.txs / senders);
    Ok(Prepared {
        cfg: cfg.clone(),
        genesis_toml: genesis.to_toml(),
        batches,
        total,
        verify_rate: verify_rate(&sample),
    })
}

/// Sign `rounds` batches per connection: round r of sender s pays 1 to sender s + 1 + r, nonce r.
fn sign_batches(
    cfg: &NodeConfig,
    keys: &[SigningKey],
    ids: &[AccountId],
    progress: &mut dyn Progress,
) -> Result<Vec<Vec<String>>, BenchError> {
    let senders = ids.len();
    let rounds = cfg.txs / senders;
    let total = senders * rounds;
    let mut batches: Vec<Vec<String>> = vec![Vec::with_capacity(rounds); cfg.connections];
    let mut done = 0;
    for r in 0..rounds {
        for (c, conn) in batches.iter_mut().enumerate() {
            let txs: Vec<SignedTx> = (0..cfg.batch)
                .map(|j| {
                    let s = c * cfg.batch + j;
                    let call = Call::Transfer { to: ids[(s + 1 + r) % senders], amount: Amount(1) };
                    TxBody { signer: ids[s], nonce: r as u64, fee: Amount(1), call }.sign(&keys[s], CHAIN)
                })
                .collect();
            done += txs.len();
            progress.count("signing transfers", done, total);
            conn.push(serde_json::to_string(&txs).map_err(step("encoding a batch"))?);
        }
    }
    Ok(batches)
}

/// Signatures one core verifies per second with `verify_strict`, over half a second.
fn verify_rate(sample: &[SignedTx]) -> f64 {
    let t = Instant::now();
    let mut verified = 0usize;
    while t.elapsed() < Duration::from_millis(500) {
        verified += sample.iter().filter(|tx| engine::verify_one(tx, CHAIN)).count();
    }
    verified as f64 / t.elapsed().as_secs_f64()
}

/// Sign everything, start a node process of the stakework binary `exe` on a temporary directory, load it
/// and stop it.
pub fn run_process(
    cfg: &NodeConfig,
    exe: &std::path::Path,
    progress: &mut dyn Progress,
) -> Result<NodeReport, BenchError> {
    let prepared = prepare(cfg, progress)?;
    run_single(&prepared, exe, progress)
}

/// Start one node process from `prepared`'s genesis on a temporary directory, load it and stop it.
pub fn run_single(
    prepared: &Prepared,
    exe: &std::path::Path,
    progress: &mut dyn Progress,
) -> Result<NodeReport, BenchError> {
    let dir = tempfile::tempdir().map_err(step("creating a temporary directory"))?;
    let genesis_path = dir.path().join("genesis.toml");
    std::fs::write(&genesis_path, &prepared.genesis_toml).map_err(step("writing the genesis file"))?;
    let flags = prepared.node_flags();
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    let data = dir.path().join("data");
    let node = devnet::process::Node::start(exe, "127.0.0.1:0", &data, Some(&genesis_path), &flags)
        .map_err(step("starting the node"))?;
    let report = load(prepared, &node.url, progress);
    drop(node);
    report
}

/// What one load run measured: transfers committed, the wall time, and each batch's latency in
/// milliseconds (submit to receipt), sorted.
#[derive(Debug, Clone)]
pub(crate) struct Drive {
    pub committed: usize,
    pub seconds: f64,
    pub latencies: Vec<f64>,
}

impl Drive {
    /// The `p` quantile of the batch latencies.
    pub fn latency(&self, p: f64) -> f64 {
        percentile(&self.latencies, p)
    }
}

/// Send every batch of `prepared`, connection c to `urls[c % urls.len()]`, each connection waiting for
/// its batch's receipts before the next, and time it. The batches are copied before the clock starts, so
/// the same signed transfers can load another chain started from the same genesis accounts.
pub(crate) fn drive(prepared: &Prepared, urls: &[String], progress: &mut dyn Progress) -> Result<Drive, BenchError> {
    let cfg = &prepared.cfg;
    if urls.is_empty() {
        return Err(BenchError::Settings("no node to load".into()));
    }
    let batches = prepared.batches.clone();
    progress.phase(&format!(
        "submitting {} transfers over {} connections in batches of {} to {} node(s) …",
        prepared.total,
        cfg.connections,
        cfg.batch,
        urls.len()
    ));
    let start = Instant::now();
    let handles: Vec<_> = batches
        .into_iter()
        .enumerate()
        .map(|(c, conn)| {
            let url = urls[c % urls.len()].clone();
            std::thread::spawn(move || send_all(&url, conn))
        })
        .collect();
    let mut committed = 0;
    let mut latencies = Vec::new();
    for h in handles {
        let (c, l) = h.join().map_err(|_| BenchError::Check("a load thread panicked".into()))??;
        committed += c;
        latencies.extend(l);
    }
    let seconds = start.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    Ok(Drive { committed, seconds, latencies })
}

/// Send every batch to the node at `url` (started from `prepared`'s genesis) and measure.
pub fn load(prepared: &Prepared, url: &str, progress: &mut dyn Progress) -> Result<NodeReport, BenchError> {
    let cfg = &prepared.cfg;
    let d = drive(prepared, &[url.to_string()], progress)?;
    let (blocks, seal_ms_mean) = seal_figures(url)?;
    let rate = d.committed as f64 / d.seconds;
    Ok(NodeReport {
        submitted: prepared.total,
        committed: d.committed,
        seconds: d.seconds,
        committed_per_s: rate,
        target_per_s: TARGET_PER_S,
        meets_target: rate >= TARGET_PER_S,
        block_ms: cfg.block_ms,
        latency_ms_p50: d.latency(0.5),
        latency_ms_p90: d.latency(0.9),
        latency_ms_p99: d.latency(0.99),
        latency_ms_max: d.latency(1.0),
        p99_within_two_blocks: d.latency(0.99) <= 2.0 * cfg.block_ms as f64,
        verify_single_core_per_s: prepared.verify_rate,
        committed_vs_single_core_verify: rate / prepared.verify_rate,
        connections: cfg.connections,
        batch: cfg.batch,
        blocks,
        seal_ms_mean,
    })
}

/// One connection: each batch in turn, waiting for commit. Returns the transfers committed and each
/// batch's latency in milliseconds (submit to receipt).
fn send_all(url: &str, conn: Vec<String>) -> Result<(usize, Vec<f64>), BenchError> {
    let client = client::Client::new(url);
    let mut committed = 0;
    let mut latencies = Vec::with_capacity(conn.len());
    for body in conn {
        let t = Instant::now();
        let batch: api::SubmitBatch =
            client.post_encoded("/v1/txs?wait=commit", &body).map_err(step("submitting a batch"))?;
        latencies.push(t.elapsed().as_secs_f64() * 1e3);
        committed += batch.results.iter().filter(|r| r.receipt.as_ref().is_some_and(|x| x.ok())).count();
    }
    Ok((committed, latencies))
}

/// Blocks sealed and their mean seal time in milliseconds, from the node's `/metrics`.
pub(crate) fn seal_figures(url: &str) -> Result<(f64, f64), BenchError> {
    let metrics = ureq::get(&format!("{url}/metrics"))
        .call()
        .map_err(step("reading the node's metrics"))?
        .into_string()
        .map_err(step("reading the node's metrics"))?;
    let blocks = metric(&metrics, "blocks_sealed_total");
    let seal_ms_mean = if blocks > 0.0 { metric(&metrics, "block_seal_seconds_total") * 1e3 / blocks } else { 0.0 };
    Ok((blocks, seal_ms_mean))
}

/// The value of `stakework_NAME` in Prometheus text, 0 if absent.
pub(crate) fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("stakework_{name} ")))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_are_read_by_exact_name() {
        let text = "# HELP x\nstakework_blocks_sealed_total_x 9\nstakework_blocks_sealed_total 12\n";
        assert_eq!(metric(text, "blocks_sealed_total"), 12.0);
        assert_eq!(metric(text, "block_seal_seconds_total"), 0.0);
    }

    #[test]
    fn every_sender_signs_once_per_round_with_its_nonce() {
        let cfg = NodeConfig { txs: 13, connections: 2, batch: 3, block_ms: 100 };
        let p = prepare(&cfg, &mut crate::Quiet).expect("prepared");
        assert_eq!(p.total, 12, "whole rounds only");
        assert_eq!(p.batches.len(), 2);
        for (c, conn) in p.batches.iter().enumerate() {
            assert_eq!(conn.len(), 2);
            for (r, body) in conn.iter().enumerate() {
                let txs: Vec<SignedTx> = serde_json::from_str(body).expect("a batch");
                assert_eq!(txs.len(), 3);
                assert!(txs.iter().all(|tx| tx.body.nonce == r as u64 && engine::verify_one(tx, CHAIN)));
                let s = c * 3;
                assert_eq!(txs[0].body.signer, account_of(&derived_key(&format!("bench-node/{s}"))));
            }
        }
        assert!(Genesis::from_toml(&p.genesis_toml).expect("genesis").accounts.len() == 6);
        assert!(p.node_flags().contains(&"100".to_string()));
    }

    #[test]
    fn too_few_transfers_for_one_round_are_refused() {
        let cfg = NodeConfig { txs: 5, connections: 2, batch: 3, block_ms: 100 };
        assert!(matches!(prepare(&cfg, &mut crate::Quiet), Err(BenchError::Settings(_))));
    }
}
