//! A finalized block's evidence: the simplex finalization certificate that finalized it and the leader
//! of its view, in plain bytes so the node's store and API keep and serve it without commonware.
//!
//! Where it comes from. Simplex reports every finalization certificate it forms or receives to its
//! reporter; [`Recorder`] sits in front of marshal there, keeps the certificate by block digest in a
//! [`Certificates`] book, then hands it on to marshal. When marshal delivers the block, [`crate::App`] takes
//! the block's own certificate from the book ([`Finality::Certified`]). A block can be finalized without a
//! certificate of its own ever reaching this validator: simplex may finalize a later view whose chain
//! includes a view that was only notarized, and a validator that caught up through marshal's backfill
//! got the finalizations from peers, not from simplex. Such a block is recorded as what is true of it:
//! finalized as an ancestor of the certified height marshal reported as its tip ([`Finality::Ancestor`]).
//!
//! The proposer is the leader of the certificate's view, derived as simplex derives it: the same
//! [`RoundRobin`] elector built over the same participant set ([`leader`]).

use crate::block::Digest;
use crate::validator::Scheme;
use commonware_codec::{Decode, DecodeExt, Encode};
use commonware_consensus::{
    simplex::{
        elector::{Config as _, RoundRobin},
        types::{Activity, Finalization},
    },
    types::{Epoch, Round, View},
    Reporter,
};
use commonware_cryptography::{ed25519::PublicKey, Sha256};
use commonware_parallel::Sequential;
use commonware_utils::ordered::{Quorum as _, Set};
use commonware_utils::N3f1;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use types::{AccountId, Hash, Height};

/// How a finalized block was finalized, as this validator knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finality {
    /// The block's own finalization certificate.
    Certified(Certificate),
    /// No certificate of the block's own reached this validator: it was finalized as an ancestor of the
    /// block at `certified_height`, whose finalization marshal holds (`None` only if marshal reported no
    /// certified tip yet, which it always does before delivering a block).
    Ancestor { certified_height: Option<Height> },
}

/// A simplex finalization certificate (ed25519), in plain bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    /// The consensus epoch (the era) of the view: views start again at each epoch.
    pub epoch: u64,
    /// The view the block was proposed and finalized in.
    pub view: u64,
    /// The view of its parent's proposal.
    pub parent_view: u64,
    /// The leader of `view`, who proposed the block.
    pub proposer: AccountId,
    /// The validators whose finalize votes the certificate holds, in the set's order.
    pub signers: Vec<AccountId>,
    /// Finalize votes needed for a certificate: n − f of n validators.
    pub quorum: u32,
    /// The size of the epoch's validator set.
    pub validators: u32,
    /// commonware's canonical encoding of the `Finalization` (proposal, signer bitmap, signatures): anyone
    /// can check it with [`verify`] and the validator set of the block's era.
    pub encoded: Vec<u8>,
}

/// Why a certificate does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FinalityError {
    /// The bytes are not a finalization for this validator set.
    #[error("the certificate does not decode: {0}")]
    Malformed(String),
    /// The certificate finalizes another block.
    #[error("the certificate finalizes block {certified}, not {block}")]
    OtherBlock { block: Hash, certified: Hash },
    /// The signatures are not a quorum of valid finalize votes of this validator set.
    #[error("the certificate's signatures do not verify against the validator set")]
    BadSignatures,
    /// A validator key of the set is not an ed25519 point.
    #[error("validator key {0} is not an ed25519 public key")]
    BadKey(String),
}

impl FinalityError {
    /// A stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            FinalityError::Malformed(_) => "certificate_malformed",
            FinalityError::OtherBlock { .. } => "certificate_for_another_block",
            FinalityError::BadSignatures => "certificate_signatures_invalid",
            FinalityError::BadKey(_) => "validator_key_invalid",
        }
    }
}

/// The leader simplex elects for `view` of `epoch` over `participants` (that epoch's set): commonware's own
/// round-robin elector (it rotates by epoch + view), the configuration the orchestrator gives simplex.
pub fn leader(participants: &Set<PublicKey>, epoch: u64, view: u64) -> PublicKey {
    let elector = RoundRobin::<Sha256>::default().build(participants);
    let round = Round::new(Epoch::new(epoch), View::new(view));
    let index = commonware_consensus::simplex::elector::Elector::<Scheme>::elect(&elector, round, None);
    participants[index.get() as usize].clone()
}

/// The key's 32 bytes, as the genesis writes validator keys.
pub(crate) fn key_bytes(key: &PublicKey) -> AccountId {
    let mut bytes = [0u8; 32];
    bytes.copy_from_slice(&key.encode()[..32]);
    AccountId(bytes)
}

impl Certificate {
    /// The plain form of a finalization certificate `simplex` checked, over `participants`.
    pub(crate) fn new(finalization: &Finalization<Scheme, Digest>, participants: &Set<PublicKey>) -> Certificate {
        let (epoch, view) = (finalization.proposal.round.epoch().get(), finalization.proposal.round.view().get());
        let signers =
            finalization.certificate.signers.iter().map(|p| key_bytes(&participants[p.get() as usize])).collect();
        Certificate {
            epoch,
            view,
            parent_view: finalization.proposal.parent.get(),
            proposer: key_bytes(&leader(participants, epoch, view)),
            signers,
            quorum: participants.quorum::<N3f1>(),
            validators: participants.len() as u32,
            encoded: finalization.encode().to_vec(),
        }
    }
}

/// What a certificate checked by [`verify`] says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub epoch: u64,
    pub view: u64,
    pub parent_view: u64,
    pub proposer: AccountId,
    pub signers: Vec<AccountId>,
}

/// Check `encoded` (a [`Certificate::encoded`]) as a finalization of `block` by a quorum of `validators`
/// (the set of the block's era, any order: the genesis set when the genesis elects none) under the simplex `namespace` (`net::namespace(chain_id)`).
pub fn verify(
    namespace: &[u8],
    validators: &[AccountId],
    block: Hash,
    encoded: &[u8],
) -> Result<Verified, FinalityError> {
    let keys = validators
        .iter()
        .map(|k| PublicKey::decode(&k.0[..]).map_err(|_| FinalityError::BadKey(k.to_hex())))
        .collect::<Result<Vec<_>, _>>()?;
    let participants = Set::from_iter_dedup(keys);
    let finalization = Finalization::<Scheme, Digest>::decode_cfg(encoded, &participants.len())
        .map_err(|e| FinalityError::Malformed(e.to_string()))?;
    let certified = Hash(finalization.proposal.payload.0);
    if certified != block {
        return Err(FinalityError::OtherBlock { block, certified });
    }
    let scheme = Scheme::verifier(namespace, participants.clone());
    if !finalization.verify(&mut rand::rngs::OsRng, &scheme, &Sequential) {
        return Err(FinalityError::BadSignatures);
    }
    let plain = Certificate::new(&finalization, &participants);
    Ok(Verified {
        epoch: plain.epoch,
        view: plain.view,
        parent_view: plain.parent_view,
        proposer: plain.proposer,
        signers: plain.signers,
    })
}

/// Finalization certificates simplex reported and marshal has not delivered the block of yet, by block
/// digest. Shared by the [`Recorder`] (which fills it) and the application (which takes from it).
#[derive(Debug, Clone, Default)]
pub struct Certificates(Arc<Mutex<HashMap<Digest, Certificate>>>);

impl Certificates {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Digest, Certificate>> {
        self.0.lock().expect("a thread panicked holding the certificate book")
    }

    pub(crate) fn insert(&self, digest: Digest, certificate: Certificate) {
        self.lock().insert(digest, certificate);
    }

    /// The certificate of the block `digest`, removed from the book with every certificate of a round
    /// (epoch, view) at or below its own: finalized rounds grow with height, so those blocks are committed
    /// already (or were the last block of an epoch, re-proposed and finalized again in later views).
    pub(crate) fn take(&self, digest: &Digest) -> Option<Certificate> {
        let mut book = self.lock();
        let certificate = book.remove(digest)?;
        book.retain(|_, c| (c.epoch, c.view) > (certificate.epoch, certificate.view));
        Some(certificate)
    }

    /// How many certificates wait for their block.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether none waits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Simplex's reporter: keeps each finalization certificate in the book, then hands every activity to
/// marshal (`inner`) unchanged.
#[derive(Clone)]
pub struct Recorder<R> {
    pub(crate) inner: R,
    pub(crate) book: Certificates,
    pub(crate) participants: Set<PublicKey>,
    /// Reads every activity for metrics before it is handed on.
    pub(crate) observer: crate::telemetry::Observer,
}

impl<R> Recorder<R> {
    /// A recorder in front of `inner`, keeping certificates in `book` and reporting to `telemetry`.
    pub(crate) fn new(
        inner: R,
        book: Certificates,
        participants: &Set<PublicKey>,
        telemetry: crate::TelemetryHandle,
    ) -> Recorder<R> {
        let observer = crate::telemetry::Observer::new(telemetry, participants.clone());
        Recorder { inner, book, participants: participants.clone(), observer }
    }
}

impl<R> std::fmt::Debug for Recorder<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder").field("book", &self.book.len()).field("participants", &self.participants).finish()
    }
}

impl<R: Reporter<Activity = Activity<Scheme, Digest>>> Reporter for Recorder<R> {
    type Activity = Activity<Scheme, Digest>;

    async fn report(&mut self, activity: Self::Activity) {
        self.observer.observe(&activity);
        if let Activity::Finalization(finalization) = &activity {
            let certificate = Certificate::new(finalization, &self.participants);
            self.book.insert(finalization.proposal.payload, certificate);
        }
        self.inner.report(activity).await
    }
}
