//! `stakework bench node`: this process is the load generator; the node is a separate process it starts
//! on a temporary data directory. Transactions are signed before the clock starts.

use crate::bench::{progress, NodeArgs};
use crate::keys::{account_of, derived_key};
use crate::local_node::LocalNode;
use anyhow::{ensure, Context};
use ed25519_dalek::SigningKey;
use protocol::{Call, Genesis, GenesisAccount, Params, SignedTx, TxBody};
use serde::Serialize;
use std::time::{Duration, Instant};
use types::{AccountId, Amount};

#[derive(Debug, Serialize)]
struct NodeReport {
    submitted: usize,
    committed: usize,
    seconds: f64,
    committed_per_s: f64,
    target_per_s: f64,
    meets_target: bool,
    block_ms: u64,
    latency_ms_p50: f64,
    latency_ms_p90: f64,
    latency_ms_p99: f64,
    latency_ms_max: f64,
    p99_within_two_blocks: bool,
    verify_single_core_per_s: f64,
    committed_vs_single_core_verify: f64,
    connections: usize,
    batch: usize,
    blocks: f64,
    /// Mean time a block holds the engine: execution plus the fsynced append.
    seal_ms_mean: f64,
}

pub fn run(args: &NodeArgs, json: bool) -> anyhow::Result<()> {
    ensure!(
        cfg!(not(debug_assertions)),
        "benchmarks need an optimized build: cargo run --release --bin stakework -- bench node"
    );
    ensure!(
        args.connections >= 1 && args.batch >= 1 && args.txs >= args.connections * args.batch,
        "need txs >= connections × batch"
    );
    let senders = args.connections * args.batch;
    let rounds = args.txs / senders;
    let chain = "bench-node";
    let keys: Vec<SigningKey> = (0..senders).map(|i| derived_key(&format!("bench-node/{i}"))).collect();
    let ids: Vec<AccountId> = keys.iter().map(account_of).collect();
    let genesis = Genesis {
        services: Vec::new(),
        params: Params { chain_id: chain.into(), min_fee: Amount(1), ..Params::default() },
        accounts: ids
            .iter()
            .map(|id| GenesisAccount { id: *id, name: None, free: Amount(1_000_000_000), bonded: Amount::ZERO })
            .collect(),
    };
    let dir = tempfile::tempdir().context("temporary directory")?;
    let genesis_path = dir.path().join("genesis.toml");
    std::fs::write(&genesis_path, genesis.to_toml())?;

    // Sign everything first: batches[c][r] is connection c's round r, one transfer per sender of c.
    let total = senders * rounds;
    let mut batches: Vec<Vec<String>> = vec![Vec::with_capacity(rounds); args.connections];
    let mut done = 0;
    for r in 0..rounds {
        for (c, conn) in batches.iter_mut().enumerate() {
            let txs: Vec<SignedTx> = (0..args.batch)
                .map(|j| {
                    let s = c * args.batch + j;
                    let to = ids[(s + 1 + r) % senders];
                    TxBody {
                        signer: ids[s],
                        nonce: r as u64,
                        fee: Amount(1),
                        call: Call::Transfer { to, amount: Amount(1) },
                    }
                    .sign(&keys[s], chain)
                })
                .collect();
            done += txs.len();
            progress("signing transfers", done, total);
            conn.push(serde_json::to_string(&txs)?);
        }
    }

    // The bound: one core verifying signatures strictly, as the node's admission does.
    let sample: Vec<SignedTx> = serde_json::from_str(&batches[0][0])?;
    let t = Instant::now();
    let mut verified = 0usize;
    while t.elapsed() < Duration::from_millis(500) {
        verified += sample.iter().filter(|tx| engine::verify_one(tx, chain)).count();
    }
    let verify_rate = verified as f64 / t.elapsed().as_secs_f64();

    let block_ms = args.block_ms.to_string();
    let extra = ["--mempool-max", "1000000", "--block-ms", block_ms.as_str()];
    let node = LocalNode::start(&dir.path().join("data"), &genesis_path, &extra)?;
    let url = node.url.clone();

    eprintln!("submitting {total} transfers over {} connections in batches of {} …", args.connections, args.batch);
    let start = Instant::now();
    let handles: Vec<_> = batches
        .into_iter()
        .map(|conn| {
            let url = url.clone();
            std::thread::spawn(move || -> anyhow::Result<(usize, Vec<f64>)> {
                let client = client::Client::new(&url);
                let mut committed = 0;
                let mut latencies = Vec::with_capacity(conn.len());
                for body in conn {
                    let t = Instant::now();
                    let batch: api::SubmitBatch =
                        client.post_encoded("/v1/txs?wait=commit", &body).context("submitting a batch")?;
                    latencies.push(t.elapsed().as_secs_f64() * 1e3);
                    committed += batch.results.iter().filter(|r| r.receipt.as_ref().is_some_and(|x| x.ok())).count();
                }
                Ok((committed, latencies))
            })
        })
        .collect();
    let mut committed = 0;
    let mut latencies = Vec::new();
    for h in handles {
        let (c, l) = h.join().map_err(|_| anyhow::anyhow!("a load thread panicked"))??;
        committed += c;
        latencies.extend(l);
    }
    let seconds = start.elapsed().as_secs_f64();
    let metrics = ureq::get(&format!("{url}/metrics")).call().context("reading the node's metrics")?.into_string()?;
    let metric = |name: &str| {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(&format!("stakework_{name} ")))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    let blocks = metric("blocks_sealed_total");
    let seal_ms_mean = if blocks > 0.0 { metric("block_seal_seconds_total") * 1e3 / blocks } else { 0.0 };
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p).round() as usize];
    let rate = committed as f64 / seconds;
    let r = NodeReport {
        submitted: total,
        committed,
        seconds,
        committed_per_s: rate,
        target_per_s: 20_000.0,
        meets_target: rate >= 20_000.0,
        block_ms: args.block_ms,
        latency_ms_p50: pct(0.5),
        latency_ms_p90: pct(0.9),
        latency_ms_p99: pct(0.99),
        latency_ms_max: pct(1.0),
        p99_within_two_blocks: pct(0.99) <= 2.0 * args.block_ms as f64,
        verify_single_core_per_s: verify_rate,
        committed_vs_single_core_verify: rate / verify_rate,
        connections: args.connections,
        batch: args.batch,
        blocks,
        seal_ms_mean,
    };
    if json {
        outln!("{}", serde_json::to_string_pretty(&r)?);
    } else {
        outln!(
            "node benchmark: {} transfers, {} connections × batches of {}, block every {} ms, fsync per block",
            r.submitted,
            r.connections,
            r.batch,
            r.block_ms
        );
        outln!("  committed:            {} of {} in {:.2} s", r.committed, r.submitted, r.seconds);
        outln!(
            "  committed transfers/s: {:>10.0}   target ≥ 20,000: {}",
            r.committed_per_s,
            if r.meets_target { "met" } else { "NOT met" }
        );
        outln!("  commit latency (per batch, submit → receipt): p50 {:.0} ms, p90 {:.0} ms, p99 {:.0} ms, max {:.0} ms; p99 ≤ 2 blocks: {}", r.latency_ms_p50, r.latency_ms_p90, r.latency_ms_p99, r.latency_ms_max, if r.p99_within_two_blocks { "yes" } else { "no" });
        outln!("  node: {} blocks, mean seal (execute + fsynced append) {:.1} ms", r.blocks, r.seal_ms_mean);
        outln!(
            "  bound: one core verifies {:.0} signatures/s (verify_strict); committed = {:.2}× that",
            r.verify_single_core_per_s,
            r.committed_vs_single_core_verify
        );
    }
    Ok(())
}
