//! A small in-memory [`TxSource`]: transactions keyed by (signer, nonce), each admitted only after its
//! signature passed `verify_strict` for the chain. Tests use it; the node implements [`TxSource`] with its
//! own mempool.

use crate::app::TxSource;
use engine::{verify_one, SignedTx};
use std::{
    collections::BTreeMap,
    sync::{Mutex, MutexGuard},
};
use types::AccountId;

/// Verified transactions waiting for a block, in (signer, nonce) order.
#[derive(Debug)]
pub struct MemoryPool {
    chain_id: String,
    txs: Mutex<BTreeMap<(AccountId, u64), SignedTx>>,
    /// How many transactions arrived through [`TxSource::admit`] (gossip).
    admitted: Mutex<u64>,
}

impl MemoryPool {
    /// An empty pool for the chain `chain_id`.
    pub fn new(chain_id: &str) -> MemoryPool {
        MemoryPool { chain_id: chain_id.to_string(), txs: Mutex::default(), admitted: Mutex::default() }
    }

    /// Admit `tx` if its signature is valid for this chain (the pool's door); whether it was.
    pub fn submit(&self, tx: SignedTx) -> bool {
        if !verify_one(&tx, &self.chain_id) {
            return false;
        }
        self.txs().insert((tx.body.signer, tx.body.nonce), tx);
        true
    }

    /// How many transactions wait.
    pub fn len(&self) -> usize {
        self.txs().len()
    }

    /// Whether none wait.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many transactions arrived by gossip.
    pub fn admitted(&self) -> u64 {
        *self.admitted.lock().expect("a thread panicked holding the pool")
    }

    fn txs(&self) -> MutexGuard<'_, BTreeMap<(AccountId, u64), SignedTx>> {
        self.txs.lock().expect("a thread panicked holding the pool")
    }
}

impl TxSource for MemoryPool {
    fn signatures_verified(&self) -> bool {
        true
    }

    fn checked(&self, txs: &[SignedTx]) -> Vec<bool> {
        let held = self.txs();
        txs.iter().map(|tx| held.get(&(tx.body.signer, tx.body.nonce)) == Some(tx)).collect()
    }

    fn select(&self, max: usize, nonce_of: &dyn Fn(&AccountId) -> u64) -> Vec<SignedTx> {
        let txs = self.txs();
        let mut out = Vec::new();
        // The next nonce of the signer being scanned: its transactions are adjacent in the map.
        let mut next: Option<(AccountId, u64)> = None;
        for ((signer, nonce), tx) in txs.iter() {
            if out.len() >= max {
                break;
            }
            let expected = match next {
                Some((s, n)) if s == *signer => n,
                _ => nonce_of(signer),
            };
            let taken = *nonce == expected;
            if taken {
                out.push(tx.clone());
            }
            next = Some((*signer, expected + u64::from(taken)));
        }
        out
    }

    fn admit(&self, tx: SignedTx) {
        self.txs().insert((tx.body.signer, tx.body.nonce), tx);
        *self.admitted.lock().expect("a thread panicked holding the pool") += 1;
    }

    fn finalized(&self, txs: &[SignedTx]) {
        let mut pool = self.txs();
        for tx in txs {
            pool.remove(&(tx.body.signer, tx.body.nonce));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;
    use engine::{Call, TxBody};
    use types::{Amount, Signature};

    const CHAIN: &str = "stakework-test";

    fn tx(key: &SigningKey, nonce: u64) -> SignedTx {
        let body = TxBody {
            signer: AccountId(key.verifying_key().to_bytes()),
            nonce,
            fee: Amount(1),
            call: Call::Transfer { to: AccountId([9; 32]), amount: Amount(1) },
        };
        body.sign(key, CHAIN)
    }

    #[test]
    fn selection_follows_nonces_and_removes_nothing() {
        let (a, b) = (SigningKey::from_bytes(&[1; 32]), SigningKey::from_bytes(&[2; 32]));
        let pool = MemoryPool::new(CHAIN);
        for t in [tx(&a, 0), tx(&a, 1), tx(&a, 3), tx(&b, 5), tx(&b, 6)] {
            assert!(pool.submit(t));
        }
        let b_id = AccountId(b.verifying_key().to_bytes());
        let nonce_of = |id: &AccountId| if *id == b_id { 5 } else { 0 };
        let picked: Vec<u64> = pool.select(10, &nonce_of).iter().map(|t| t.body.nonce).collect();
        let mut expected = vec![0, 1, 5, 6];
        let mut got = picked.clone();
        got.sort_unstable();
        expected.sort_unstable();
        assert_eq!(got, expected, "a's nonce 3 waits for 2");
        assert_eq!(pool.len(), 5, "selection is not removal");
        assert_eq!(pool.select(1, &nonce_of).len(), 1);
        pool.finalized(&pool.select(10, &nonce_of));
        assert_eq!(pool.len(), 1);
    }

    #[test]
    fn a_bad_signature_is_refused_at_the_door() {
        let key = SigningKey::from_bytes(&[1; 32]);
        let pool = MemoryPool::new(CHAIN);
        let mut forged = tx(&key, 0);
        forged.signature = Signature([0; 64]);
        assert!(!pool.submit(forged));
        assert!(!pool.submit(tx(&key, 0).body.sign(&key, "other-chain")), "signed for another chain");
        assert!(pool.is_empty());
    }
}
