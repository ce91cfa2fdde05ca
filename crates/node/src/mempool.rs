//! Transactions admitted but not yet in a block.
//!
//! Rules that keep it from filling with transactions that can never run:
//! - a signer's waiting transactions form a chain with no gap: a nonce is admitted only if it is the
//!   account's next nonce or follows a nonce already waiting;
//! - at most `PENDING_PER_SIGNER_MAX` waiting per signer;
//! - the signer's free balance must cover the fees and spends of everything it has waiting;
//! - a transaction whose predecessor left the mempool without being applied (rejected in its block) is
//!   evicted after `FUTURE_WAIT_BLOCKS` blocks.

use engine::SignedTx;
use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Instant;
use types::{AccountId, Amount, Hash};

pub const PENDING_PER_SIGNER_MAX: u64 = 1_024;
pub const FUTURE_WAIT_BLOCKS: u64 = 20;

#[derive(Debug)]
struct Waiting {
    tx: SignedTx,
    admitted_at: u64,
    /// When it was admitted, for the submit-to-commit latency (metrics only; no rule reads it).
    since: Instant,
}

#[derive(Debug, Default, Clone, Copy)]
struct SignerLoad {
    count: u64,
    /// Fees plus spends of the signer's waiting transactions.
    spend: u128,
}

#[derive(Debug)]
pub struct Mempool {
    by_hash: HashMap<Hash, Waiting>,
    slots: HashSet<(AccountId, u64)>,
    load: HashMap<AccountId, SignerLoad>,
    order: VecDeque<Hash>,
    max: usize,
}

/// Why the mempool refused a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Another transaction with the same signer and nonce is already waiting.
    NonceInUse,
    /// The nonce leaves a gap: neither the account's next nonce nor right after a waiting one.
    NonceGap {
        next: u64,
    },
    /// The signer already has the most transactions allowed waiting.
    TooManyPending,
    /// Free balance does not cover this transaction on top of those already waiting.
    InsufficientFunds {
        needed: u128,
        free: u128,
    },
    Full,
}

impl Mempool {
    pub fn new(max: usize) -> Mempool {
        Mempool { by_hash: HashMap::new(), slots: HashSet::new(), load: HashMap::new(), order: VecDeque::new(), max }
    }
    pub fn len(&self) -> usize {
        self.by_hash.len()
    }
    pub fn contains(&self, hash: &Hash) -> bool {
        self.by_hash.contains_key(hash)
    }
    /// When `hash` was admitted, if it is waiting.
    pub fn admitted_since(&self, hash: &Hash) -> Option<Instant> {
        self.by_hash.get(hash).map(|w| w.since)
    }

    /// Add `tx` given the signer's current nonce and free balance; `Ok(false)` if it is already waiting.
    pub fn admit(&mut self, hash: Hash, tx: SignedTx, height: u64, nonce: u64, free: Amount) -> Result<bool, Refusal> {
        if self.by_hash.contains_key(&hash) {
            return Ok(false);
        }
        let signer = tx.body.signer;
        if self.slots.contains(&(signer, tx.body.nonce)) {
            return Err(Refusal::NonceInUse);
        }
        let follows_waiting = tx.body.nonce > nonce && self.slots.contains(&(signer, tx.body.nonce - 1));
        if tx.body.nonce != nonce && !follows_waiting {
            let mut next = nonce;
            while self.slots.contains(&(signer, next)) {
                next += 1;
            }
            return Err(Refusal::NonceGap { next });
        }
        let load = self.load.get(&signer).copied().unwrap_or_default();
        if load.count >= PENDING_PER_SIGNER_MAX {
            return Err(Refusal::TooManyPending);
        }
        let cost = tx.body.fee.0.saturating_add(tx.body.call.free_needed().0);
        let needed = load.spend.saturating_add(cost);
        if needed > free.0 {
            return Err(Refusal::InsufficientFunds { needed, free: free.0 });
        }
        if self.by_hash.len() >= self.max {
            return Err(Refusal::Full);
        }
        self.slots.insert((signer, tx.body.nonce));
        self.load.insert(signer, SignerLoad { count: load.count + 1, spend: needed });
        self.by_hash.insert(hash, Waiting { tx, admitted_at: height, since: Instant::now() });
        self.order.push_back(hash);
        Ok(true)
    }

    /// Take up to `max` transactions that can run now: each signer's next nonces, in arrival order.
    /// Drops those whose nonce is used, and those stuck behind a gap for `FUTURE_WAIT_BLOCKS` blocks.
    /// Each comes with the moment it was admitted.
    pub fn take_block(
        &mut self,
        max: usize,
        height: u64,
        nonce_of: impl Fn(&AccountId) -> u64,
    ) -> Vec<(SignedTx, Instant)> {
        let mut expected: HashMap<AccountId, u64> = HashMap::new();
        let mut out = Vec::new();
        // A signer's later nonce may sit earlier in arrival order; a few passes pick such chains up.
        for _ in 0..4 {
            let before = out.len();
            let mut keep = VecDeque::with_capacity(self.order.len());
            while let Some(h) = self.order.pop_front() {
                let Some(w) = self.by_hash.get(&h) else { continue };
                let signer = w.tx.body.signer;
                let exp = expected.entry(signer).or_insert_with(|| nonce_of(&signer));
                if w.tx.body.nonce < *exp || w.admitted_at + FUTURE_WAIT_BLOCKS < height {
                    self.drop_tx(&h);
                } else if w.tx.body.nonce == *exp && out.len() < max {
                    *exp += 1;
                    let since = w.since;
                    out.push((self.drop_tx(&h).expect("present: looked up above"), since));
                } else {
                    keep.push_back(h);
                }
            }
            self.order = keep;
            if out.len() == before || out.len() >= max {
                break;
            }
        }
        out
    }

    /// Up to `max` transactions that can run after a state whose nonces `nonce_of` gives: each signer's
    /// next nonces, in arrival order, as [`Mempool::take_block`] picks them, but removing nothing (in
    /// consensus a proposal may never be finalized; [`Mempool::settle`] removes what a finalized block holds).
    pub fn select(&self, max: usize, nonce_of: &dyn Fn(&AccountId) -> u64) -> Vec<SignedTx> {
        let mut expected: HashMap<AccountId, u64> = HashMap::new();
        let mut taken: HashSet<Hash> = HashSet::new();
        let mut out = Vec::new();
        for _ in 0..4 {
            let before = out.len();
            for h in &self.order {
                let Some(w) = self.by_hash.get(h) else { continue };
                if out.len() >= max || taken.contains(h) {
                    continue;
                }
                let exp = expected.entry(w.tx.body.signer).or_insert_with(|| nonce_of(&w.tx.body.signer));
                if w.tx.body.nonce == *exp {
                    *exp += 1;
                    taken.insert(*h);
                    out.push(w.tx.clone());
                }
            }
            if out.len() == before || out.len() >= max {
                break;
            }
        }
        out
    }

    /// After a finalized block at `height`: forget its transactions (`hashes`), those whose nonce the
    /// committed state (`nonce_of`) has used, and those stuck behind a gap for `FUTURE_WAIT_BLOCKS` blocks.
    pub fn settle(&mut self, hashes: &[Hash], height: u64, nonce_of: impl Fn(&AccountId) -> u64) {
        for h in hashes {
            self.drop_tx(h);
        }
        let order = std::mem::take(&mut self.order);
        for h in order {
            let Some(w) = self.by_hash.get(&h) else { continue };
            if w.tx.body.nonce < nonce_of(&w.tx.body.signer) || w.admitted_at + FUTURE_WAIT_BLOCKS < height {
                self.drop_tx(&h);
            } else {
                self.order.push_back(h);
            }
        }
    }

    fn drop_tx(&mut self, h: &Hash) -> Option<SignedTx> {
        let w = self.by_hash.remove(h)?;
        let signer = w.tx.body.signer;
        self.slots.remove(&(signer, w.tx.body.nonce));
        if let Some(l) = self.load.get_mut(&signer) {
            l.count -= 1;
            l.spend = l.spend.saturating_sub(w.tx.body.fee.0.saturating_add(w.tx.body.call.free_needed().0));
            if l.count == 0 {
                self.load.remove(&signer);
            }
        }
        Some(w.tx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use engine::{Call, TxBody};
    use types::Signature;

    fn tx(signer: u8, nonce: u64, amount: u128) -> (Hash, SignedTx) {
        let body = TxBody {
            signer: AccountId([signer; 32]),
            nonce,
            fee: Amount(1),
            call: Call::Transfer { to: AccountId([0; 32]), amount: Amount(amount) },
        };
        let t = SignedTx { body, signature: Signature([0; 64]) };
        (t.hash(), t)
    }

    #[test]
    fn gaps_overdrafts_and_floods_are_refused_at_the_door() {
        let mut m = Mempool::new(100);
        let (h0, t0) = tx(1, 0, 10);
        assert_eq!(m.admit(h0, t0.clone(), 1, 0, Amount(100)), Ok(true));
        assert_eq!(m.admit(h0, t0, 1, 0, Amount(100)), Ok(false), "the same transaction is a duplicate");
        let (h, t) = tx(1, 2, 10);
        assert_eq!(m.admit(h, t, 1, 0, Amount(100)), Err(Refusal::NonceGap { next: 1 }));
        let (h, t) = tx(1, 0, 5);
        assert_eq!(m.admit(h, t, 1, 0, Amount(100)), Err(Refusal::NonceInUse));
        let (h, t) = tx(1, 1, 89);
        assert_eq!(m.admit(h, t, 1, 0, Amount(100)), Err(Refusal::InsufficientFunds { needed: 101, free: 100 }));
        let (h, t) = tx(1, 1, 88);
        assert_eq!(m.admit(h, t, 1, 0, Amount(100)), Ok(true), "11 + 89 = 100 covers both");
        let (h, t) = tx(2, 0, 1);
        assert_eq!(m.admit(h, t, 1, 0, Amount(0)), Err(Refusal::InsufficientFunds { needed: 2, free: 0 }));
    }

    #[test]
    fn a_chain_is_taken_in_nonce_order_and_a_stuck_one_is_evicted() {
        let mut m = Mempool::new(100);
        for n in 0..3 {
            let (h, t) = tx(1, n, 1);
            assert_eq!(m.admit(h, t, 1, 0, Amount(100)), Ok(true));
        }
        let taken = m.take_block(2, 2, |_| 0);
        assert_eq!(taken.iter().map(|(t, _)| t.body.nonce).collect::<Vec<_>>(), [0, 1]);
        // Nonce 1 was rejected in its block (the account's nonce stayed 1): nonce 2 is stuck behind a gap.
        assert!(m.take_block(10, 3, |_| 1).is_empty());
        assert_eq!(m.len(), 1);
        assert!(m.take_block(10, 2 + FUTURE_WAIT_BLOCKS, |_| 1).is_empty());
        assert_eq!(m.len(), 0, "evicted after waiting too long");
        let (h, t) = tx(1, 1, 1);
        assert_eq!(m.admit(h, t, 30, 1, Amount(100)), Ok(true), "the signer's load was released");
    }

    /// Consensus: a proposal selects without removing (it may never be finalized, and the next leader
    /// needs the same transactions); a finalized block settles what it held and what it made stale.
    #[test]
    fn selection_removes_nothing_and_settling_forgets_the_finalized_and_the_stale() {
        let mut m = Mempool::new(100);
        let mut hashes = Vec::new();
        for n in 0..3 {
            let (h, t) = tx(1, n, 1);
            assert_eq!(m.admit(h, t, 1, 0, Amount(100)), Ok(true));
            hashes.push(h);
        }
        let (h, t) = tx(2, 0, 1);
        assert_eq!(m.admit(h, t, 1, 0, Amount(100)), Ok(true));
        let nonces = |a: &AccountId| if a.0[0] == 1 { 1 } else { 0 };
        let picked = m.select(10, &nonces);
        let picked: Vec<(u8, u64)> = picked.iter().map(|t| (t.body.signer.0[0], t.body.nonce)).collect();
        assert_eq!(picked, [(1, 1), (1, 2), (2, 0)], "after a state where signer 1 used nonce 0");
        assert_eq!(m.select(2, &|_| 0).len(), 2, "at most max");
        assert_eq!(m.len(), 4, "nothing was removed");
        // A block finalized signer 2's transaction; signer 1's committed nonce is now 2.
        m.settle(&[h], 5, |a| if a.0[0] == 1 { 2 } else { 1 });
        assert_eq!(m.len(), 1, "the finalized one and signer 1's used nonces 0 and 1 are gone");
        assert!(m.contains(&hashes[2]));
    }
}
