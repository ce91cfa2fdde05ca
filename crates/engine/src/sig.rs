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

/// As [`verify_signatures`], trusting the transactions marked `true` in `checked` (a missing mark is
/// `false`): each was checked with `verify_strict` for this chain when a node admitted it, and its hash,
/// which covers the signature, is the one admitted. Only the others are verified, batched when they can be.
/// The verdicts equal `verify_signatures`'s for any transaction a strict check accepts, since a batch
/// accepts whatever is strictly valid.
pub fn verify_signatures_except(txs: &[SignedTx], chain_id: &str, checked: &[bool]) -> SignatureCheck {
    let rest: Vec<usize> = (0..txs.len()).filter(|i| !checked.get(*i).copied().unwrap_or(false)).collect();
    if rest.len() == txs.len() {
        return verify_signatures(txs, chain_id);
    }
    let mut out = vec![true; txs.len()];
    if !rest.is_empty() {
        let subset: Vec<SignedTx> = rest.iter().map(|&i| txs[i].clone()).collect();
        let verdicts = verify_signatures(&subset, chain_id);
        for (k, &i) in rest.iter().enumerate() {
            out[i] = verdicts.is_valid(k);
        }
    }
    SignatureCheck(out)
}

fn verify_each(txs: &[SignedTx], chain: &Hash) -> SignatureCheck {
    SignatureCheck(txs.iter().map(|t| verify_strict(t, chain)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::tx::{Call, TxBody};
    use types::{AccountId, Amount};

    fn signed(seed: u8, nonce: u64) -> SignedTx {
        let key = ed25519_dalek::SigningKey::from_bytes(&[seed; 32]);
        let signer = AccountId(key.verifying_key().to_bytes());
        let call = Call::Transfer { to: AccountId([9; 32]), amount: Amount(1) };
        TxBody { signer, nonce, fee: Amount(1), call }.sign(&key, "sig")
    }

    #[test]
    fn only_the_unchecked_signatures_are_verified() {
        let mut txs: Vec<SignedTx> = (0..4).map(|i| signed(i + 1, 0)).collect();
        txs[3].signature = types::Signature([0; 64]);
        let all = verify_signatures(&txs, "sig");
        assert_eq!((0..4).map(|i| all.is_valid(i)).collect::<Vec<_>>(), [true, true, true, false]);
        assert_eq!(verify_signatures_except(&txs, "sig", &[]), all, "nothing checked: the plain rule");
        assert_eq!(verify_signatures_except(&txs, "sig", &[true, false, true]), all, "a forged one is still caught");
        let trusted = verify_signatures_except(&txs, "sig", &[false, false, false, true]);
        assert!(trusted.is_valid(3), "a mark is trusted: the caller vouches for a strict check");
        assert!(verify_signatures_except(&txs, "sig", &[true; 4]).0.iter().all(|v| *v));
    }
}
