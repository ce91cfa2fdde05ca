//! The ledger benchmark: transfers applied per second by `Engine::produce_block` (signatures checked
//! separately), against a bare hash map debit and credit of the same transfers; and ed25519 verification
//! per second, `verify_strict` one by one against the batch path the engine uses.

use crate::{check, next_rand, step, BenchError, Progress};
use client::keys::{account_of, derived_key};
use ed25519_dalek::SigningKey;
use engine::{Call, Engine, Genesis, GenesisAccount, Params, SignatureCheck, SignedTx, TxBody};
use serde::Serialize;
use std::collections::HashMap;
use std::time::Instant;
use types::{AccountId, Amount};

/// Target (issue 2): transfers applied per second on one core.
pub const TARGET_TRANSFERS_PER_S: f64 = 1_000_000.0;
/// Every account's balance at genesis.
const FUNDS: u128 = 1_000_000_000_000;

/// What to run (also the flags of `stakework bench ledger`).
#[derive(Debug, Clone, clap::Args)]
pub struct LedgerConfig {
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

/// The figures; serialized as `stakework bench ledger --json` prints them.
#[derive(Debug, Clone, Serialize)]
pub struct LedgerReport {
    pub accounts: usize,
    pub block_txs: usize,
    pub transfers: usize,
    pub apply_transfers_per_s: f64,
    pub apply_ns_per_transfer: f64,
    pub baseline_hashmap_transfers_per_s: f64,
    pub apply_vs_baseline: f64,
    pub target_transfers_per_s: f64,
    pub meets_target: bool,
    pub verify_single_per_s: f64,
    pub verify_batch_per_s: f64,
    pub batch_vs_single: f64,
}

/// Transfers as (from, to, amount), for the baseline.
type Plain = Vec<(AccountId, AccountId, u128)>;

/// The accounts, their keys and an engine that funded them at genesis.
struct Chain {
    keys: Vec<SigningKey>,
    ids: Vec<AccountId>,
    params: Params,
    engine: Engine,
}

/// Run the benchmark.
pub fn run(cfg: &LedgerConfig, progress: &mut dyn Progress) -> Result<LedgerReport, BenchError> {
    if cfg.accounts < 2 || cfg.block_txs < 1 || cfg.blocks < 1 {
        return Err(BenchError::Settings("need at least 2 accounts, 1 tx per block and 1 block".into()));
    }
    let mut chain = setup(cfg, progress)?;
    let (blocks, plain) = sign_blocks(cfg, &chain, progress);
    let sample: Vec<SignedTx> = blocks.iter().flatten().take(cfg.signatures).cloned().collect();
    let (single_s, batch_s) = time_verification(&sample, cfg.block_txs, &chain.params.chain_id)?;
    progress.phase(&format!("applying {} blocks of {} transfers …", cfg.blocks, cfg.block_txs));
    let apply_s = time_apply(&mut chain.engine, blocks)?;
    let bare_s = time_baseline(&chain.ids, &plain)?;

    let total = plain.len() as f64;
    let apply_rate = total / apply_s;
    Ok(LedgerReport {
        accounts: cfg.accounts,
        block_txs: cfg.block_txs,
        transfers: plain.len(),
        apply_transfers_per_s: apply_rate,
        apply_ns_per_transfer: apply_s * 1e9 / total,
        baseline_hashmap_transfers_per_s: total / bare_s,
        apply_vs_baseline: apply_rate / (total / bare_s),
        target_transfers_per_s: TARGET_TRANSFERS_PER_S,
        meets_target: apply_rate >= TARGET_TRANSFERS_PER_S,
        verify_single_per_s: sample.len() as f64 / single_s,
        verify_batch_per_s: sample.len() as f64 / batch_s,
        batch_vs_single: single_s / batch_s,
    })
}

/// Derive the keys and start an engine with every account funded.
fn setup(cfg: &LedgerConfig, progress: &mut dyn Progress) -> Result<Chain, BenchError> {
    let n = cfg.accounts;
    let keys: Vec<SigningKey> = (0..n)
        .map(|i| {
            progress.count("deriving keys", i + 1, n);
            derived_key(&format!("bench/{i}"))
        })
        .collect();
    let ids: Vec<AccountId> = keys.iter().map(account_of).collect();
    let params = Params {
        chain_id: "bench".into(),
        min_fee: Amount(1),
        max_block_txs: cfg.block_txs as u32,
        ..Params::default()
    };
    let genesis = Genesis {
        validators: Vec::new(),
        services: Vec::new(),
        params: params.clone(),
        accounts: ids
            .iter()
            .map(|id| GenesisAccount { id: *id, name: None, free: Amount(FUNDS), bonded: Amount::ZERO })
            .collect(),
    };
    let engine = Engine::from_genesis(&genesis).map_err(step("bench genesis"))?;
    Ok(Chain { keys, ids, params, engine })
}

/// Sign `blocks × block_txs` transfers to pseudo-random recipients (fee 1), each sender's nonces in
/// order; also returns them as plain (from, to, amount) for the baseline.
fn sign_blocks(cfg: &LedgerConfig, chain: &Chain, progress: &mut dyn Progress) -> (Vec<Vec<SignedTx>>, Plain) {
    let (n, ids) = (chain.ids.len(), &chain.ids);
    let total = cfg.blocks * cfg.block_txs;
    let mut nonces = vec![0u64; n];
    let mut rng = 0x9E37_79B9_7F4A_7C15u64;
    let mut blocks: Vec<Vec<SignedTx>> = Vec::with_capacity(cfg.blocks);
    let mut plain = Vec::with_capacity(total);
    for b in 0..cfg.blocks {
        let mut txs = Vec::with_capacity(cfg.block_txs);
        for i in 0..cfg.block_txs {
            let s = (b * cfg.block_txs + i) % n;
            let to = ids[(next_rand(&mut rng) % n as u64) as usize];
            let amount = u128::from(1 + next_rand(&mut rng) % 1_000);
            let call = Call::Transfer { to, amount: Amount(amount) };
            let body = TxBody { signer: ids[s], nonce: nonces[s], fee: Amount(1), call };
            nonces[s] += 1;
            plain.push((ids[s], to, amount));
            txs.push(body.sign(&chain.keys[s], &chain.params.chain_id));
            progress.count("signing transfers", b * cfg.block_txs + i + 1, total);
        }
        blocks.push(txs);
    }
    (blocks, plain)
}

/// Seconds to verify `sample` one by one (`verify_strict`), then in batches of `batch` as the engine does.
fn time_verification(sample: &[SignedTx], batch: usize, chain_id: &str) -> Result<(f64, f64), BenchError> {
    let t = Instant::now();
    let single_ok = sample.iter().filter(|tx| engine::verify_one(tx, chain_id)).count();
    let single_s = t.elapsed().as_secs_f64();
    check(single_ok == sample.len(), "a benchmark signature failed to verify")?;
    let t = Instant::now();
    for chunk in sample.chunks(batch) {
        let verdict = engine::verify_signatures(chunk, chain_id);
        check((0..chunk.len()).all(|i| verdict.is_valid(i)), "a benchmark signature failed batch verification")?;
    }
    Ok((single_s, t.elapsed().as_secs_f64()))
}

/// Seconds to apply every block (signatures pre-checked) with fees, nonces, events and the state root;
/// every transfer must succeed and the invariants must hold afterwards.
fn time_apply(engine: &mut Engine, blocks: Vec<Vec<SignedTx>>) -> Result<f64, BenchError> {
    let t = Instant::now();
    for txs in blocks {
        let sigs = SignatureCheck::trusted_all_valid(txs.len());
        let (_, out) = engine.produce_block(txs, &sigs).map_err(step("bench block"))?;
        check(out.receipts.iter().all(|r| r.result.is_ok()), "a bench transfer was rejected")?;
    }
    let apply_s = t.elapsed().as_secs_f64();
    engine.check_invariants().map_err(step("invariants after the benchmark"))?;
    Ok(apply_s)
}

/// Seconds for the bare minimum a transfer needs, a hash map debit and credit, over the same transfers.
fn time_baseline(ids: &[AccountId], plain: &Plain) -> Result<f64, BenchError> {
    let mut bare: HashMap<AccountId, u128, ahash::RandomState> = ids.iter().map(|id| (*id, FUNDS)).collect();
    let t = Instant::now();
    for (from, to, amount) in plain {
        let f = bare.get_mut(from).ok_or_else(|| BenchError::Check("sender exists".into()))?;
        *f = f.checked_sub(*amount).ok_or_else(|| BenchError::Check("funded".into()))?;
        let d = bare.entry(*to).or_default();
        *d = d.checked_add(*amount).ok_or_else(|| BenchError::Check("no overflow".into()))?;
    }
    let bare_s = t.elapsed().as_secs_f64();
    std::hint::black_box(&bare);
    Ok(bare_s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_run_applies_every_transfer_and_reports_consistent_figures() {
        let cfg = LedgerConfig { accounts: 8, block_txs: 20, blocks: 3, signatures: 30 };
        let r = run(&cfg, &mut crate::Quiet).expect("a small run");
        assert_eq!(r.transfers, 60);
        assert!(r.apply_transfers_per_s > 0.0 && r.verify_batch_per_s > 0.0);
        assert_eq!(r.meets_target, r.apply_transfers_per_s >= TARGET_TRANSFERS_PER_S);
        let ratio = r.apply_transfers_per_s / r.baseline_hashmap_transfers_per_s;
        assert!((r.apply_vs_baseline - ratio).abs() <= 1e-9 * ratio);
    }

    #[test]
    fn settings_that_cannot_make_a_run_are_refused() {
        let cfg = LedgerConfig { accounts: 1, block_txs: 1, blocks: 1, signatures: 1 };
        assert!(matches!(run(&cfg, &mut crate::Quiet), Err(BenchError::Settings(_))));
    }
}
