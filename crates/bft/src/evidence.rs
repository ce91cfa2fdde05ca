//! Equivocation evidence from simplex's fault reports to an on-chain transaction (issue 21).
//!
//! Simplex's batcher reports a validator that signed two notarize votes (or two finalize votes) for
//! different proposals in one round, or a nullify and a finalize in one round, to its reporter as
//! `Activity::ConflictingNotarize`, `ConflictingFinalize` or `NullifyFinalize`. It reports them before it
//! checks the signatures (the p2p sender is authenticated as the signer, nothing more), so a report
//! proves nothing by itself. [`equivocation`] turns one into a [`protocol::Equivocation`] (plain bytes, no
//! commonware) as the reporter path reads it ([`crate::telemetry::Observer`] hands it to
//! [`crate::Telemetry::equivocation`]); [`Reporter::transaction`] checks it with the pure
//! `Equivocation::verify` under this chain's namespace, keeps one report per (offender, epoch), and signs a
//! `Call::ReportEquivocation` with the validator's own key, which the node puts in its mempool and gossips.

use crate::app::TxSource;
use crate::block::Digest;
use crate::finality::key_bytes;
use crate::validator::Scheme;
use commonware_codec::{Encode, ReadExt};
use commonware_consensus::simplex::types::{Activity, Attributable, Finalize, Notarize, Nullify};
use commonware_cryptography::ed25519::PublicKey;
use commonware_utils::ordered::Set;
use engine::protocol::evidence::{consensus_namespace, Conflict, Equivocation, SignedProposal};
use engine::{Call, Engine, SignedTx, TxBody};
use std::collections::BTreeSet;
use std::sync::{Mutex, RwLock};
use types::{AccountId, Hash, Signature};

/// The evidence in a simplex fault report, or `None` for any other activity (or a report whose votes
/// carry no signature, which cannot happen for votes simplex decoded). Signatures are not checked here.
pub fn equivocation(activity: &Activity<Scheme, Digest>, participants: &Set<PublicKey>) -> Option<Equivocation> {
    // The fault types keep their two votes private; their encoding is the two votes, in order.
    let (bytes, signer) = match activity {
        Activity::ConflictingNotarize(c) => (c.encode(), c.signer()),
        Activity::ConflictingFinalize(c) => (c.encode(), c.signer()),
        Activity::NullifyFinalize(c) => (c.encode(), c.signer()),
        _ => return None,
    };
    let offender = key_bytes(participants.get(signer.get() as usize)?);
    let mut buf = bytes.as_ref();
    let (round, conflict) = match activity {
        Activity::ConflictingNotarize(_) => {
            let first = Notarize::<Scheme, Digest>::read(&mut buf).ok()?;
            let second = Notarize::<Scheme, Digest>::read(&mut buf).ok()?;
            let pair = (signed(&first.proposal, &first.attestation)?, signed(&second.proposal, &second.attestation)?);
            (first.proposal.round, Conflict::Notarize { first: pair.0, second: pair.1 })
        }
        Activity::ConflictingFinalize(_) => {
            let first = Finalize::<Scheme, Digest>::read(&mut buf).ok()?;
            let second = Finalize::<Scheme, Digest>::read(&mut buf).ok()?;
            let pair = (signed(&first.proposal, &first.attestation)?, signed(&second.proposal, &second.attestation)?);
            (first.proposal.round, Conflict::Finalize { first: pair.0, second: pair.1 })
        }
        _ => {
            let nullify = Nullify::<Scheme>::read(&mut buf).ok()?;
            let finalize = Finalize::<Scheme, Digest>::read(&mut buf).ok()?;
            let conflict = Conflict::NullifyFinalize {
                nullify: signature(&nullify.attestation)?,
                finalize: signed(&finalize.proposal, &finalize.attestation)?,
            };
            (nullify.round, conflict)
        }
    };
    Some(Equivocation { offender, epoch: round.epoch().get(), view: round.view().get(), conflict })
}

fn signature(attestation: &commonware_cryptography::certificate::Attestation<Scheme>) -> Option<Signature> {
    let encoded = attestation.signature.get()?.encode();
    Some(Signature(encoded.as_ref().try_into().ok()?))
}

fn signed(
    proposal: &commonware_consensus::simplex::types::Proposal<Digest>,
    attestation: &commonware_cryptography::certificate::Attestation<Scheme>,
) -> Option<SignedProposal> {
    Some(SignedProposal {
        parent_view: proposal.parent.get(),
        payload: Hash(proposal.payload.0),
        signature: signature(attestation)?,
    })
}

/// Turns evidence into signed `ReportEquivocation` transactions for one validator: checked against the
/// chain's namespace, once per (offender, epoch), paying the chain's minimum fee from the validator key's
/// own account.
pub struct Reporter {
    namespace: Vec<u8>,
    chain_id: String,
    key: ed25519_dalek::SigningKey,
    reported: Mutex<BTreeSet<(AccountId, u64)>>,
}

impl std::fmt::Debug for Reporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reporter").field("chain_id", &self.chain_id).field("signer", &self.signer()).finish()
    }
}

impl Reporter {
    /// A reporter for `chain_id` signing with the validator key whose secret is `key_seed`.
    pub fn new(chain_id: &str, key_seed: &[u8; 32]) -> Reporter {
        Reporter {
            namespace: consensus_namespace(chain_id),
            chain_id: chain_id.to_string(),
            key: ed25519_dalek::SigningKey::from_bytes(key_seed),
            reported: Default::default(),
        }
    }

    /// The account that signs and pays for the reports: the validator key's own.
    pub fn signer(&self) -> AccountId {
        AccountId(self.key.verifying_key().to_bytes())
    }

    /// The transaction reporting `evidence`, at the signer's next nonce after its transactions waiting in
    /// `txs` over the committed `state`; `None` if the evidence does not verify for this chain, or this
    /// reporter already reported the offender in that epoch (the chain slashes once per offender and era).
    pub fn transaction(&self, evidence: &Equivocation, txs: &dyn TxSource, state: &Engine) -> Option<SignedTx> {
        if let Err(e) = evidence.verify(&self.namespace) {
            eprintln!("bft: a fault report of {} proves nothing: [{}] {e}", evidence.offender, e.code());
            return None;
        }
        let mut reported = self.reported.lock().expect("a thread panicked holding the reported offenders");
        if !reported.insert((evidence.offender, evidence.epoch)) {
            return None;
        }
        let me = self.signer();
        let ledger = state.ledger();
        let waiting = txs.select(usize::MAX, &|a| ledger.nonce(a)).iter().filter(|tx| tx.body.signer == me).count();
        let nonce = ledger.nonce(&me) + waiting as u64;
        let call = Call::ReportEquivocation { evidence: *evidence };
        let body = TxBody { signer: me, nonce, fee: state.params().min_fee, call };
        Some(body.sign(&self.key, &self.chain_id))
    }

    /// Report `evidence` as this validator: sign it ([`Reporter::transaction`], over the `committed` state),
    /// admit it to `txs` (its own pool) as a checked transaction, and send it to the other validators by
    /// `gossip`, so whichever leads next includes it. The transaction, if one was signed and admitted (one that
    /// was not, as when the key's account cannot pay the fee, leaves the offence unreported here).
    pub fn report(
        &self,
        evidence: &Equivocation,
        txs: &dyn TxSource,
        committed: &RwLock<Engine>,
        gossip: Option<&crate::Gossip>,
    ) -> Option<SignedTx> {
        let tx = {
            let state = committed.read().expect("a thread panicked holding the committed engine");
            self.transaction(evidence, txs, &state)?
        };
        eprintln!(
            "bft: reporting a {} equivocation by {} in era {} view {} (tx {})",
            evidence.kind(),
            evidence.offender,
            evidence.epoch,
            evidence.view,
            tx.hash()
        );
        txs.admit(tx.clone());
        if !txs.checked(std::slice::from_ref(&tx))[0] {
            // Not admitted (the key's account cannot pay the fee, or the pool is full): a later report of
            // the same offence may try again.
            eprintln!("bft: the equivocation report was not admitted; does {} hold the fee?", self.signer());
            let mut reported = self.reported.lock().expect("a thread panicked holding the reported offenders");
            reported.remove(&(evidence.offender, evidence.epoch));
            return None;
        }
        if let Some(gossip) = gossip {
            // The gossip task ends only when the validator is stopping.
            let _ = gossip.submit(vec![tx.clone()]);
        }
        Some(tx)
    }
}
