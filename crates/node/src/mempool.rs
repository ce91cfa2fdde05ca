//! Transactions admitted but not yet in a block. Admission already checked signature, fee and nonce
//! range; here they are de-duplicated by hash and by (signer, nonce), and handed to the sequencer in
//! arrival order, each signer's in nonce order.

use engine::SignedTx;
use std::collections::{HashMap, HashSet, VecDeque};
use types::{AccountId, Hash};

#[derive(Debug)]
pub struct Mempool {
    by_hash: HashMap<Hash, SignedTx>,
    slots: HashSet<(AccountId, u64)>,
    order: VecDeque<Hash>,
    max: usize,
}

/// Why the mempool refused a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Another transaction with the same signer and nonce is already waiting.
    NonceInUse,
    Full,
}

impl Mempool {
    pub fn new(max: usize) -> Mempool {
        Mempool { by_hash: HashMap::new(), slots: HashSet::new(), order: VecDeque::new(), max }
    }
    pub fn len(&self) -> usize {
        self.by_hash.len()
    }
    pub fn contains(&self, hash: &Hash) -> bool {
        self.by_hash.contains_key(hash)
    }

    /// Add `tx`; `Ok(false)` when the very same transaction is already waiting.
    pub fn admit(&mut self, hash: Hash, tx: SignedTx) -> Result<bool, Refusal> {
        if self.by_hash.contains_key(&hash) {
            return Ok(false);
        }
        if self.slots.contains(&(tx.body.signer, tx.body.nonce)) {
            return Err(Refusal::NonceInUse);
        }
        if self.by_hash.len() >= self.max {
            return Err(Refusal::Full);
        }
        self.slots.insert((tx.body.signer, tx.body.nonce));
        self.by_hash.insert(hash, tx);
        self.order.push_back(hash);
        Ok(true)
    }

    /// Take up to `max` transactions that can run now: each signer's next nonces, in arrival order.
    /// Transactions whose nonce is already used are dropped; those waiting for a gap stay.
    pub fn take_block(&mut self, max: usize, nonce_of: impl Fn(&AccountId) -> u64) -> Vec<SignedTx> {
        let mut expected: HashMap<AccountId, u64> = HashMap::new();
        let mut out = Vec::new();
        // A signer's later nonce may have arrived first; a few passes pick such chains up.
        for _ in 0..4 {
            let before = out.len();
            let mut keep = VecDeque::with_capacity(self.order.len());
            while let Some(h) = self.order.pop_front() {
                let Some(tx) = self.by_hash.get(&h) else { continue };
                let signer = tx.body.signer;
                let exp = expected.entry(signer).or_insert_with(|| nonce_of(&signer));
                if tx.body.nonce < *exp {
                    self.drop_tx(&h);
                } else if tx.body.nonce == *exp && out.len() < max {
                    *exp += 1;
                    let tx = self.drop_tx(&h).expect("present: looked up above");
                    out.push(tx);
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

    fn drop_tx(&mut self, h: &Hash) -> Option<SignedTx> {
        let tx = self.by_hash.remove(h)?;
        self.slots.remove(&(tx.body.signer, tx.body.nonce));
        Some(tx)
    }
}
