//! `stakework bench …`: benchmarks that print figures and a ratio against a baseline measured in the
//! same process, so machine noise affects both sides alike. Timed here, never in tests.

use crate::keys::{account_of, derived_key};
use anyhow::{ensure, Context};
use clap::{Args, Subcommand};
use ed25519_dalek::SigningKey;
use engine::{Call, Engine, Genesis, GenesisAccount, Params, SignatureCheck, SignedTx, TxBody};
use serde::Serialize;
use std::collections::HashMap;
use std::io::Write;
use std::time::Instant;
use types::{AccountId, Amount};

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
    Sched(crate::bench_sched::SchedArgs),
    /// Epoch miner-reward settlement for 100,000 miners (exact split and ledger transfers).
    Rewards(crate::bench_rewards::RewardsArgs),
    /// Proof-of-Inference task evaluations per second (k = 5 outputs of 1 KiB) and embedder throughput.
    Poi(crate::bench_poi::PoiArgs),
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

#[derive(Debug, Serialize)]
struct LedgerReport {
    accounts: usize,
    block_txs: usize,
    transfers: usize,
    apply_transfers_per_s: f64,
    apply_ns_per_transfer: f64,
    baseline_hashmap_transfers_per_s: f64,
    apply_vs_baseline: f64,
    target_transfers_per_s: f64,
    meets_target: bool,
    verify_single_per_s: f64,
    verify_batch_per_s: f64,
    batch_vs_single: f64,
}

pub fn run(cmd: &BenchCommand, json: bool) -> anyhow::Result<()> {
    match cmd {
        BenchCommand::Ledger(args) => ledger(args, json),
        BenchCommand::Node(args) => crate::bench_node::run(args, json),
        BenchCommand::Sched(args) => crate::bench_sched::run(args, json),
        BenchCommand::Rewards(args) => crate::bench_rewards::run(args, json),
        BenchCommand::Poi(args) => crate::bench_poi::run(args, json),
    }
}

pub(crate) fn progress(label: &str, done: usize, total: usize) {
    if done % (total / 20).max(1) == 0 || done == total {
        eprint!("\r{label}: {done}/{total} ({:.0}%)   ", 100.0 * done as f64 / total.max(1) as f64);
        if done == total {
            eprintln!();
        }
        let _ = std::io::stderr().flush();
    }
}

/// xorshift64*: a fixed, seedable recipient sequence, so runs are comparable.
fn next_rand(state: &mut u64) -> u64 {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    state.wrapping_mul(0x2545_F491_4F6C_DD1D)
}

fn ledger(args: &LedgerArgs, json: bool) -> anyhow::Result<()> {
    ensure!(
        args.accounts >= 2 && args.block_txs >= 1 && args.blocks >= 1,
        "need at least 2 accounts, 1 tx per block and 1 block"
    );
    ensure!(
        cfg!(not(debug_assertions)),
        "benchmarks need an optimized build: cargo run --release -p cli -- bench ledger"
    );
    let n = args.accounts;
    let keys: Vec<SigningKey> = (0..n)
        .map(|i| {
            progress("deriving keys", i + 1, n);
            derived_key(&format!("bench/{i}"))
        })
        .collect();
    let ids: Vec<AccountId> = keys.iter().map(account_of).collect();
    let params = Params {
        chain_id: "bench".into(),
        min_fee: Amount(1),
        max_block_txs: args.block_txs as u32,
        ..Params::default()
    };
    let genesis = Genesis {
        services: Vec::new(),
        params: params.clone(),
        accounts: ids
            .iter()
            .map(|id| GenesisAccount { id: *id, name: None, free: Amount(1_000_000_000_000), bonded: Amount::ZERO })
            .collect(),
    };
    let mut engine = Engine::from_genesis(&genesis).context("bench genesis")?;

    let total = args.blocks * args.block_txs;
    let mut nonces = vec![0u64; n];
    let mut rng = 0x9E37_79B9_7F4A_7C15u64;
    let mut blocks: Vec<Vec<SignedTx>> = Vec::with_capacity(args.blocks);
    let mut plain: Vec<(AccountId, AccountId, u128)> = Vec::with_capacity(total);
    for b in 0..args.blocks {
        let mut txs = Vec::with_capacity(args.block_txs);
        for i in 0..args.block_txs {
            let s = (b * args.block_txs + i) % n;
            let to = ids[(next_rand(&mut rng) % n as u64) as usize];
            let amount = 1 + next_rand(&mut rng) % 1_000;
            let body = TxBody {
                signer: ids[s],
                nonce: nonces[s],
                fee: Amount(1),
                call: Call::Transfer { to, amount: Amount(u128::from(amount)) },
            };
            nonces[s] += 1;
            plain.push((ids[s], to, u128::from(amount)));
            txs.push(body.sign(&keys[s], &params.chain_id));
            progress("signing transfers", b * args.block_txs + i + 1, total);
        }
        blocks.push(txs);
    }

    // Signature verification, single (verify_strict) and batched, on the same transactions.
    let sample: Vec<SignedTx> = blocks.iter().flatten().take(args.signatures).cloned().collect();
    let t = Instant::now();
    let single_ok = sample.iter().filter(|tx| engine::verify_one(tx, &params.chain_id)).count();
    let single_s = t.elapsed().as_secs_f64();
    ensure!(single_ok == sample.len(), "a benchmark signature failed to verify");
    let t = Instant::now();
    for chunk in sample.chunks(args.block_txs) {
        let check = engine::verify_signatures(chunk, &params.chain_id);
        ensure!((0..chunk.len()).all(|i| check.is_valid(i)), "a benchmark signature failed batch verification");
    }
    let batch_s = t.elapsed().as_secs_f64();

    // Engine: apply every block (signatures pre-checked above), with fees, nonces, events and state root.
    eprintln!("applying {} blocks of {} transfers …", args.blocks, args.block_txs);
    let t = Instant::now();
    for txs in blocks {
        let sigs = SignatureCheck::trusted_all_valid(txs.len());
        let (_, out) = engine.produce_block(txs, &sigs).context("bench block")?;
        ensure!(out.receipts.iter().all(|r| r.result.is_ok()), "a bench transfer was rejected");
    }
    let apply_s = t.elapsed().as_secs_f64();
    engine.check_invariants().context("invariants after the benchmark")?;

    // Baseline: the bare minimum a transfer needs (a hash map debit and credit), same transfers.
    let mut bare: HashMap<AccountId, u128, ahash::RandomState> =
        ids.iter().map(|id| (*id, 1_000_000_000_000u128)).collect();
    let t = Instant::now();
    for (from, to, amount) in &plain {
        let f = bare.get_mut(from).context("sender exists")?;
        *f = f.checked_sub(*amount).context("funded")?;
        let d = bare.entry(*to).or_default();
        *d = d.checked_add(*amount).context("no overflow")?;
    }
    let bare_s = t.elapsed().as_secs_f64();
    std::hint::black_box(&bare);

    let apply_rate = total as f64 / apply_s;
    let report = LedgerReport {
        accounts: n,
        block_txs: args.block_txs,
        transfers: total,
        apply_transfers_per_s: apply_rate,
        apply_ns_per_transfer: apply_s * 1e9 / total as f64,
        baseline_hashmap_transfers_per_s: total as f64 / bare_s,
        apply_vs_baseline: apply_rate / (total as f64 / bare_s),
        target_transfers_per_s: 1_000_000.0,
        meets_target: apply_rate >= 1_000_000.0,
        verify_single_per_s: sample.len() as f64 / single_s,
        verify_batch_per_s: sample.len() as f64 / batch_s,
        batch_vs_single: single_s / batch_s,
    };
    if json {
        outln!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        let r = &report;
        outln!(
            "ledger benchmark: {} accounts, blocks of {} transfers, {} transfers, one core",
            r.accounts,
            r.block_txs,
            r.transfers
        );
        outln!("  engine apply (fees, nonces, events, state root): {:>12.0} transfers/s  ({:.0} ns each)  target ≥ 1,000,000: {}", r.apply_transfers_per_s, r.apply_ns_per_transfer, if r.meets_target { "met" } else { "NOT met" });
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
    Ok(())
}
