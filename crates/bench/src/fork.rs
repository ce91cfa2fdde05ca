//! The fork benchmark: what a validator pays to verify a proposed block without touching its committed
//! state. Measured: `Engine::fork` + executing the block on the fork + `Engine::commit`, against the
//! baseline of a full copy of the state (`Engine::deep_clone`) + executing on the copy + keeping it, on two
//! engines built from the same genesis of many accounts and fed the same blocks of transfers. The two
//! must reach the same state root after every block, or the figures mean nothing.

use crate::{check, median, numbered_id, step, BenchError, Progress};
use ed25519_dalek::SigningKey;
use engine::{Call, Engine, Genesis, GenesisAccount, Params, SignatureCheck, SignedTx, TxBody};
use serde::Serialize;
use std::time::Instant;
use types::Amount;

/// Accounts that send (the rest only receive).
const SENDERS: usize = 256;
const FEE: Amount = Amount(1_000);

/// The figures; serialized as `stakework bench fork --json` prints them.
#[derive(Debug, Clone, Serialize)]
pub struct ForkReport {
    pub accounts: usize,
    pub txs_per_block: usize,
    pub blocks: usize,
    /// `Engine::fork` alone, microseconds (median).
    pub fork_us_median: f64,
    /// `Engine::deep_clone` alone, milliseconds (median).
    pub deep_clone_ms_median: f64,
    /// Fork, execute the block, commit: milliseconds per block (median).
    pub fork_apply_commit_ms_median: f64,
    /// Full copy, execute the block, keep the copy: milliseconds per block (median).
    pub clone_apply_keep_ms_median: f64,
    /// Baseline time over fork time (how many times cheaper a fork makes verification).
    pub ratio_vs_baseline: f64,
}

/// `blocks` blocks of `txs_per_block` transfers over a state of `accounts` accounts.
pub fn run(
    accounts: usize,
    txs_per_block: usize,
    blocks: usize,
    progress: &mut dyn Progress,
) -> Result<ForkReport, BenchError> {
    let max = Params::default().max_block_txs as usize;
    if accounts < SENDERS * 2 || !(1..=max).contains(&txs_per_block) || blocks < 1 {
        let msg = format!("need at least {} accounts, 1 to {max} transfers per block and one block", SENDERS * 2);
        return Err(BenchError::Settings(msg));
    }
    let keys: Vec<SigningKey> = (0..SENDERS).map(sender_key).collect();
    let genesis = genesis(accounts, &keys);
    progress.phase(&format!("building two engines of {accounts} accounts …"));
    let mut forked = Engine::from_genesis(&genesis).map_err(step("genesis"))?;
    let mut copied = Engine::from_genesis(&genesis).map_err(step("genesis"))?;
    let (mut fork_us, mut clone_ms, mut fork_path, mut clone_path) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut nonces = vec![0u64; keys.len()];
    for b in 0..blocks {
        progress.count("blocks", b, blocks);
        let txs = transfers(&keys, &mut nonces, (b, txs_per_block), accounts, &genesis.params.chain_id);
        let sigs = SignatureCheck::trusted_all_valid(txs.len());
        let t = Instant::now();
        let mut fork = forked.fork();
        fork_us.push(t.elapsed().as_secs_f64() * 1e6);
        let (_, out) = fork.produce_block(txs.clone(), &sigs).map_err(step("a block on the fork"))?;
        forked.commit(fork).map_err(step("committing the fork"))?;
        fork_path.push(t.elapsed().as_secs_f64() * 1e3);
        check(out.receipts.iter().all(|r| r.result.is_ok()), "every transfer applies")?;

        let t = Instant::now();
        let mut copy = copied.deep_clone();
        clone_ms.push(t.elapsed().as_secs_f64() * 1e3);
        copy.produce_block(txs, &sigs).map_err(step("a block on the copy"))?;
        copied = copy;
        clone_path.push(t.elapsed().as_secs_f64() * 1e3);
        check(forked.state_root() == copied.state_root(), "the fork and the copy reach the same root")?;
    }
    progress.count("blocks", blocks, blocks);
    forked.check_invariants().map_err(step("invariants after the run"))?;
    let (fork_ms, clone_ms_path) = (median(fork_path), median(clone_path));
    Ok(ForkReport {
        accounts,
        txs_per_block,
        blocks,
        fork_us_median: median(fork_us),
        deep_clone_ms_median: median(clone_ms),
        fork_apply_commit_ms_median: fork_ms,
        clone_apply_keep_ms_median: clone_ms_path,
        ratio_vs_baseline: clone_ms_path / fork_ms,
    })
}

fn sender_key(i: usize) -> SigningKey {
    SigningKey::from_bytes(&types::hash_bytes(format!("bench-fork/{i}").as_bytes()).0)
}

/// The senders (funded) and `accounts - SENDERS` numbered accounts with a little each.
fn genesis(accounts: usize, keys: &[SigningKey]) -> Genesis {
    let params = Params { min_fee: FEE, ..Params::default() };
    let mut list: Vec<GenesisAccount> = keys
        .iter()
        .map(|k| GenesisAccount {
            id: types::AccountId(k.verifying_key().to_bytes()),
            name: None,
            free: Amount(1_000_000_000_000_000),
            bonded: Amount::ZERO,
        })
        .collect();
    list.extend((0..accounts - keys.len()).map(|i| GenesisAccount {
        id: numbered_id(i),
        name: None,
        free: Amount(1_000),
        bonded: Amount::ZERO,
    }));
    Genesis { params, accounts: list, services: Vec::new(), validators: Vec::new() }
}

/// Block `b`'s `n` transfers: sender `i mod SENDERS` to a numbered account spread over the whole state.
fn transfers(
    keys: &[SigningKey],
    nonces: &mut [u64],
    (b, n): (usize, usize),
    accounts: usize,
    chain_id: &str,
) -> Vec<SignedTx> {
    (0..n)
        .map(|i| {
            let s = i % keys.len();
            let nonce = nonces[s];
            nonces[s] += 1;
            let to = numbered_id((b * n + i).wrapping_mul(7_919) % (accounts - keys.len()));
            let signer = types::AccountId(keys[s].verifying_key().to_bytes());
            TxBody { signer, nonce, fee: FEE, call: Call::Transfer { to, amount: Amount(1) } }.sign(&keys[s], chain_id)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The check that gives the figures meaning: both paths reach the same root and every transfer applies.
    #[test]
    fn a_small_run_agrees_with_its_baseline() {
        let r = run(1_000, 300, 3, &mut crate::Quiet).expect("a small run");
        assert_eq!((r.accounts, r.txs_per_block, r.blocks), (1_000, 300, 3));
        assert!(r.fork_apply_commit_ms_median > 0.0 && r.clone_apply_keep_ms_median > 0.0);
    }
}
