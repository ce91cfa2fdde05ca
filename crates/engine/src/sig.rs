//! Signature checking, kept apart from execution so a node can verify while another block executes.
//!
//! The rule: a signature is valid iff `ed25519_dalek::VerifyingKey::verify_strict` accepts it for the
//! chain's signing message. The fast path verifies the whole block in one batch (deterministic: dalek
//! derives the batch coefficients from the transcript, not from a system RNG); when the batch passes and
//! no signer key is weak, every signature is accepted. Otherwise each signature is checked with
//! `verify_strict`, so one bad signature cannot hide among good ones.

use ed25519_dalek::{Signature, VerifyingKey};
use protocol::tx::{chain_tag, SignedTx};
use types::Hash;

/// Which transactions of a block carry a valid signature, index by index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureCheck(pub(crate) Vec<bool>);

impl SignatureCheck {
    /// For transactions that were each checked with `verify_strict` when they were admitted (the
    /// mempool does this), so the sequencer need not check them again.
    pub fn trusted_all_valid(n: usize) -> SignatureCheck {
        SignatureCheck(vec![true; n])
    }
    pub fn is_valid(&self, i: usize) -> bool {
        self.0.get(i).copied().unwrap_or(false)
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Check one transaction's signature strictly.
pub fn verify_one(tx: &SignedTx, chain_id: &str) -> bool {
    verify_strict(tx, &chain_tag(chain_id))
}

fn verify_strict(tx: &SignedTx, chain: &Hash) -> bool {
    let Ok(vk) = VerifyingKey::from_bytes(&tx.body.signer.0) else {
        return false;
    };
    let sig = Signature::from_bytes(&tx.signature.0);
    vk.verify_strict(&tx.body.signing_message(chain), &sig).is_ok()
}

/// Check every signature of `txs`, batching when it can.
pub fn verify_signatures(txs: &[SignedTx], chain_id: &str) -> SignatureCheck {
    let chain = chain_tag(chain_id);
    let mut keys = Vec::with_capacity(txs.len());
    for tx in txs {
        match VerifyingKey::from_bytes(&tx.body.signer.0) {
            Ok(k) if !k.is_weak() => keys.push(k),
            _ => return verify_each(txs, &chain),
        }
    }
    let messages: Vec<Vec<u8>> = txs.iter().map(|t| t.body.signing_message(&chain)).collect();
    let refs: Vec<&[u8]> = messages.iter().map(Vec::as_slice).collect();
    let sigs: Vec<Signature> = txs.iter().map(|t| Signature::from_bytes(&t.signature.0)).collect();
    if ed25519_dalek::verify_batch(&refs, &sigs, &keys).is_ok() {
        SignatureCheck(vec![true; txs.len()])
    } else {
        verify_each(txs, &chain)
    }
}

fn verify_each(txs: &[SignedTx], chain: &Hash) -> SignatureCheck {
    SignatureCheck(txs.iter().map(|t| verify_strict(t, chain)).collect())
}
