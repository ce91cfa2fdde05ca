//! Equivocation evidence: two votes one consensus key signed for the same consensus round that cannot
//! both be honest, in plain bytes that anyone can check without the consensus library.
//!
//! The model (commonware simplex at 2026.3.0, ed25519 scheme). In round (epoch, view) an honest validator
//! signs at most one notarize and at most one finalize, both for the same proposal, and never both a
//! nullify and a finalize. Simplex reports a breach of either rule as a fault (`ConflictingNotarize`,
//! `ConflictingFinalize`, `NullifyFinalize`); an [`Equivocation`] carries what proves it.
//!
//! What a vote signs, byte for byte (so that [`Equivocation::verify`] needs no commonware):
//! - the subject namespace: the chain's consensus namespace ([`consensus_namespace`]) followed by
//!   `_NOTARIZE`, `_FINALIZE` or `_NULLIFY` (commonware `simplex::scheme::Namespace`);
//! - the message: for a notarize or a finalize the proposal, `varint(epoch) ‖ varint(view) ‖
//!   varint(parent view) ‖ payload (32 bytes)`; for a nullify the round, `varint(epoch) ‖ varint(view)`
//!   (commonware's `Round`, `View` and `Epoch` encode as LEB128 varints, the payload digest as its bytes);
//! - the signed bytes: `varint(len(namespace)) ‖ namespace ‖ message` (commonware's `union_unique`), signed
//!   with the validator's ed25519 key.
//!
//! Signatures are checked with `ed25519-consensus` (ZIP-215), the verifier commonware itself uses: every
//! vote simplex counted can be proven here, so a Byzantine signer cannot craft a signature that counts in
//! consensus yet fails a stricter check (as `ed25519-dalek`'s `verify_strict` would refuse for a nonce
//! point with a small-order component).

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};
use types::{AccountId, Hash, Signature};

/// The simplex namespace of a chain: the node gives it to commonware, and the engine checks evidence
/// against it, so votes of one chain never count (or convict) on another.
pub fn consensus_namespace(chain_id: &str) -> Vec<u8> {
    format!("stakework/consensus/{chain_id}").into_bytes()
}

const NOTARIZE_SUFFIX: &[u8] = b"_NOTARIZE";
const FINALIZE_SUFFIX: &[u8] = b"_FINALIZE";
const NULLIFY_SUFFIX: &[u8] = b"_NULLIFY";

/// One signed notarize or finalize vote: the proposal it is for and the signature.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(deny_unknown_fields)]
pub struct SignedProposal {
    /// The view of the proposal's parent.
    pub parent_view: u64,
    /// The proposal's payload: the block's digest.
    pub payload: Hash,
    /// The voter's ed25519 signature.
    pub signature: Signature,
}

impl SignedProposal {
    fn same_proposal(&self, other: &SignedProposal) -> bool {
        (self.parent_view, self.payload) == (other.parent_view, other.payload)
    }
}

/// Which two votes conflict.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Conflict {
    /// Two notarize votes for different proposals.
    Notarize { first: SignedProposal, second: SignedProposal },
    /// Two finalize votes for different proposals.
    Finalize { first: SignedProposal, second: SignedProposal },
    /// A nullify (skip the view) and a finalize in the same view.
    NullifyFinalize { nullify: Signature, finalize: SignedProposal },
}

/// Proof that the consensus key `offender` signed two conflicting votes in round (`epoch`, `view`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(deny_unknown_fields)]
pub struct Equivocation {
    /// The validator's consensus key (an ed25519 public key).
    pub offender: AccountId,
    /// The consensus epoch: the era.
    pub epoch: u64,
    pub view: u64,
    pub conflict: Conflict,
}

/// Why evidence proves nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EvidenceError {
    /// The offender's key is not an ed25519 public key.
    #[error("the offender's key is not an ed25519 public key")]
    BadKey,
    /// Two votes for the same proposal are no conflict.
    #[error("both votes are for the same proposal")]
    SameProposal,
    /// A vote's signature is not the offender's over that vote for this chain.
    #[error("the {vote} vote's signature does not verify")]
    BadSignature { vote: &'static str },
}

impl EvidenceError {
    /// A stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            EvidenceError::BadKey => "evidence_key_invalid",
            EvidenceError::SameProposal => "evidence_same_proposal",
            EvidenceError::BadSignature { .. } => "evidence_signature_invalid",
        }
    }
}

/// LEB128, as commonware's `varint::UInt` writes an unsigned integer.
fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// The bytes a validator signs for a vote: `varint(len(namespace ‖ suffix)) ‖ namespace ‖ suffix ‖ message`.
fn signed_bytes(namespace: &[u8], suffix: &[u8], message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(namespace.len() + suffix.len() + message.len() + 5);
    put_varint(&mut out, (namespace.len() + suffix.len()) as u64);
    out.extend_from_slice(namespace);
    out.extend_from_slice(suffix);
    out.extend_from_slice(message);
    out
}

impl Equivocation {
    /// The round's encoding: `varint(epoch) ‖ varint(view)`.
    fn round(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(20);
        put_varint(&mut out, self.epoch);
        put_varint(&mut out, self.view);
        out
    }

    /// The proposal's encoding: the round, `varint(parent view)`, the payload.
    fn proposal(&self, vote: &SignedProposal) -> Vec<u8> {
        let mut out = self.round();
        put_varint(&mut out, vote.parent_view);
        out.extend_from_slice(&vote.payload.0);
        out
    }

    /// The bytes the offender signed for a notarize (`finalize == false`) or finalize vote.
    pub fn proposal_signed_bytes(&self, namespace: &[u8], finalize: bool, vote: &SignedProposal) -> Vec<u8> {
        let suffix = if finalize { FINALIZE_SUFFIX } else { NOTARIZE_SUFFIX };
        signed_bytes(namespace, suffix, &self.proposal(vote))
    }

    /// The bytes the offender signed for its nullify vote of this round.
    pub fn nullify_signed_bytes(&self, namespace: &[u8]) -> Vec<u8> {
        signed_bytes(namespace, NULLIFY_SUFFIX, &self.round())
    }

    /// Check that the offender signed both votes under the consensus `namespace` (the chain's
    /// [`consensus_namespace`]) and that they conflict.
    pub fn verify(&self, namespace: &[u8]) -> Result<(), EvidenceError> {
        let key = ed25519_consensus::VerificationKey::try_from(self.offender.0).map_err(|_| EvidenceError::BadKey)?;
        let check = |vote: &'static str, signature: &Signature, bytes: Vec<u8>| {
            let signature = ed25519_consensus::Signature::from(signature.0);
            key.verify(&signature, &bytes).map_err(|_| EvidenceError::BadSignature { vote })
        };
        match &self.conflict {
            Conflict::Notarize { first, second } | Conflict::Finalize { first, second } => {
                if first.same_proposal(second) {
                    return Err(EvidenceError::SameProposal);
                }
                let finalize = matches!(self.conflict, Conflict::Finalize { .. });
                check("first", &first.signature, self.proposal_signed_bytes(namespace, finalize, first))?;
                check("second", &second.signature, self.proposal_signed_bytes(namespace, finalize, second))
            }
            Conflict::NullifyFinalize { nullify, finalize } => {
                check("nullify", nullify, self.nullify_signed_bytes(namespace))?;
                check("finalize", &finalize.signature, self.proposal_signed_bytes(namespace, true, finalize))
            }
        }
    }

    /// The conflict's kind: `notarize`, `finalize` or `nullify_finalize`.
    pub fn kind(&self) -> &'static str {
        match self.conflict {
            Conflict::Notarize { .. } => "notarize",
            Conflict::Finalize { .. } => "finalize",
            Conflict::NullifyFinalize { .. } => "nullify_finalize",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> ed25519_consensus::SigningKey {
        ed25519_consensus::SigningKey::from([5u8; 32])
    }

    fn signed(e: &Equivocation, finalize: bool, parent_view: u64, payload: u8) -> SignedProposal {
        let unsigned = SignedProposal { parent_view, payload: Hash([payload; 32]), signature: Signature([0; 64]) };
        let bytes = e.proposal_signed_bytes(b"ns", finalize, &unsigned);
        SignedProposal { signature: Signature(key().sign(&bytes).to_bytes()), ..unsigned }
    }

    fn evidence(view: u64) -> Equivocation {
        let offender = AccountId(key().verification_key().to_bytes());
        let blank = SignedProposal { parent_view: 0, payload: Hash::ZERO, signature: Signature([0; 64]) };
        let mut e =
            Equivocation { offender, epoch: 0, view, conflict: Conflict::Notarize { first: blank, second: blank } };
        e.conflict =
            Conflict::Notarize { first: signed(&e, false, view - 1, 1), second: signed(&e, false, view - 1, 2) };
        e
    }

    #[test]
    fn the_signed_bytes_are_commonwares_layout() {
        let e = Equivocation { view: 300, ..evidence(300) };
        let vote = SignedProposal { parent_view: 5, payload: Hash([9; 32]), signature: Signature([0; 64]) };
        let mut expected = vec![11];
        expected.extend_from_slice(b"ns_NOTARIZE");
        expected.extend_from_slice(&[0, 0xac, 0x02, 5]);
        expected.extend_from_slice(&[9; 32]);
        assert_eq!(e.proposal_signed_bytes(b"ns", false, &vote), expected);
        let mut nullify = vec![10];
        nullify.extend_from_slice(b"ns_NULLIFY");
        nullify.extend_from_slice(&[0, 0xac, 0x02]);
        assert_eq!(e.nullify_signed_bytes(b"ns"), nullify);
    }

    #[test]
    fn conflicting_votes_verify_and_tampering_does_not() {
        let e = evidence(7);
        assert_eq!(e.verify(b"ns"), Ok(()));
        assert_eq!(e.verify(b"other").map_err(|x| x.code()), Err("evidence_signature_invalid"));
        let Conflict::Notarize { first, mut second } = e.conflict else { unreachable!() };
        second.signature.0[0] ^= 1;
        let tampered = Equivocation { conflict: Conflict::Notarize { first, second }, ..e };
        assert_eq!(tampered.verify(b"ns"), Err(EvidenceError::BadSignature { vote: "second" }));
        let same = Equivocation { conflict: Conflict::Notarize { first, second: first }, ..e };
        assert_eq!(same.verify(b"ns"), Err(EvidenceError::SameProposal));
        let as_finalize = Equivocation { conflict: Conflict::Finalize { first, second: first }, ..e };
        assert_eq!(as_finalize.verify(b"ns"), Err(EvidenceError::SameProposal));
        let other_view = Equivocation { view: 8, ..e };
        assert!(other_view.verify(b"ns").is_err(), "a vote is bound to its round");
    }

    #[test]
    fn nullify_and_finalize_in_one_view_verify() {
        let mut e = evidence(4);
        let finalize = signed(&e, true, 3, 1);
        let nullify = Signature(key().sign(&e.nullify_signed_bytes(b"ns")).to_bytes());
        e.conflict = Conflict::NullifyFinalize { nullify, finalize };
        assert_eq!(e.verify(b"ns"), Ok(()));
        e.conflict = Conflict::NullifyFinalize { nullify: finalize.signature, finalize };
        assert_eq!(e.verify(b"ns"), Err(EvidenceError::BadSignature { vote: "nullify" }));
    }

    #[test]
    fn evidence_round_trips_through_borsh_and_json() {
        let e = evidence(3);
        let bytes = borsh::to_vec(&e).expect("encodes");
        assert_eq!(borsh::from_slice::<Equivocation>(&bytes).expect("decodes"), e);
        let json = serde_json::to_string(&e).expect("encodes");
        assert_eq!(serde_json::from_str::<Equivocation>(&json).expect("decodes"), e);
    }
}
