//! One simplex engine per consensus epoch, as commonware's reshare example runs them: the epoch is the
//! stakework era (`FixedEpocher::new(era_blocks)`), and each epoch's validator set is the one the engine
//! elected for that era.
//!
//! How an epoch starts. The [`crate::App`] finalizes the last block of era e; the committed state then
//! holds the set elected for era e+1, and the app sends a [`Transition`] naming it. The orchestrator
//! registers the epoch's scheme (ed25519 over the set's keys: a signer if this validator's key is in the
//! set, else a verifier that still follows the epoch's certificates) with [`EpochSchemes`] (the provider
//! marshal checks fetched certificates with), starts a simplex engine on the epoch's sub-channel of the
//! vote, certificate and resolver channels (commonware's `mux`, the sub-channel number being the epoch),
//! and stops the engines of earlier epochs. On a (re)start, `start_validator` sends the first transition:
//! the era of the committed height + 1, with the set the committed state holds for it.
//!
//! A validator that is behind (it was down while the others crossed a boundary) hears votes on a
//! sub-channel it has not registered; as in reshare, it then asks marshal for the finalized last block of
//! its own epoch from that peer (`hint_finalized`), whose finalization moves it on to the next epoch.
//!
//! With no elected sets (a genesis that lists no validators: the tests' fixed set) there is one epoch
//! for ever (`u64::MAX` blocks), over the set `start_validator` was given.

use crate::block::{ChainBlock, Digest};
use crate::finality::{Certificates, Recorder};
use crate::validator::{Scheme, CERTIFICATION_TIMEOUT, LEADER_TIMEOUT};
use commonware_codec::DecodeExt;
use commonware_consensus::{
    marshal::{
        core::Mailbox as MarshalMailbox,
        standard::{Inline, Standard},
    },
    simplex::{self, elector::RoundRobin, types::Context},
    types::{Epoch, Epocher, FixedEpocher, ViewDelta},
    VerifyingApplication,
};
use commonware_cryptography::{certificate, ed25519::PrivateKey, ed25519::PublicKey};
use commonware_p2p::{
    utils::mux::{Builder as _, MuxHandle, Muxer},
    Blocker, Receiver, Sender,
};
use commonware_parallel::Sequential;
use commonware_runtime::{buffer::paged::CacheRef, BufferPooler, Clock, Handle, Metrics, Spawner, Storage};
use commonware_utils::{ordered::Set, vec::NonEmptyVec, NZUsize};
use futures::{channel::mpsc, future::Either, StreamExt};
use rand::{CryptoRng, Rng};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use types::AccountId;

/// Messages waiting per epoch sub-channel.
const MUX_MAILBOX: usize = 1024;

/// The start of a consensus epoch: its number and the validator set elected for it (its keys, sorted;
/// empty: the fixed set `start_validator` was given).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub epoch: u64,
    pub validators: Vec<AccountId>,
}

/// Where the application sends [`Transition`]s.
pub type Transitions = mpsc::UnboundedSender<Transition>;

/// The signing scheme of each running epoch, by epoch: the certificate provider marshal checks fetched
/// finalizations with (a finalization of an epoch this validator has not entered, or has left, does not
/// verify).
#[derive(Clone, Debug, Default)]
pub struct EpochSchemes(Arc<Mutex<BTreeMap<Epoch, Arc<Scheme>>>>);

impl EpochSchemes {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<Epoch, Arc<Scheme>>> {
        self.0.lock().expect("a thread panicked holding the epoch schemes")
    }

    fn register(&self, epoch: Epoch, scheme: Scheme) {
        self.lock().insert(epoch, Arc::new(scheme));
    }

    /// Forget every epoch before `epoch`.
    fn retain_from(&self, epoch: Epoch) {
        self.lock().retain(|e, _| *e >= epoch);
    }
}

impl certificate::Provider for EpochSchemes {
    type Scope = Epoch;
    type Scheme = Scheme;

    fn scoped(&self, epoch: Epoch) -> Option<Arc<Scheme>> {
        self.lock().get(&epoch).cloned()
    }
}

/// The keys of `validators` as ed25519 points, sorted (a key that is not a point is left out: the
/// genesis check refuses those), or `fallback` when none is given.
pub fn participants(validators: &[AccountId], fallback: &Set<PublicKey>) -> Set<PublicKey> {
    let keys: Vec<PublicKey> = validators.iter().filter_map(|k| PublicKey::decode(&k.0[..]).ok()).collect();
    if keys.is_empty() {
        return fallback.clone();
    }
    Set::from_iter_dedup(keys)
}

/// What the orchestrator starts each epoch's simplex with.
pub(crate) struct Orchestrator<E, A, B>
where
    E: Rng + Spawner + Metrics + Clock,
    A: VerifyingApplication<E, Block = ChainBlock, SigningScheme = Scheme, Context = Context<Digest, PublicKey>>,
{
    pub secret: PrivateKey,
    pub namespace: Vec<u8>,
    /// The set of an epoch whose transition names none.
    pub fallback: Set<PublicKey>,
    pub schemes: EpochSchemes,
    pub epocher: FixedEpocher,
    pub inline: Inline<E, Scheme, A, ChainBlock, FixedEpocher>,
    pub marshal: MarshalMailbox<Scheme, Standard<ChainBlock>>,
    pub book: Certificates,
    pub telemetry: crate::TelemetryHandle,
    pub blocker: B,
    pub partitions: String,
    pub page_cache: CacheRef,
}

type Muxed<S, R> = MuxHandle<S, R>;

impl<E, A, B> Orchestrator<E, A, B>
where
    E: BufferPooler + Clock + CryptoRng + Rng + Spawner + Storage + Metrics,
    A: VerifyingApplication<E, Block = ChainBlock, SigningScheme = Scheme, Context = Context<Digest, PublicKey>>,
    B: Blocker<PublicKey = PublicKey>,
{
    /// Run until the application drops its [`Transitions`] sender or `context` stops.
    #[allow(clippy::type_complexity)]
    pub(crate) fn start<S0, R0, S1, R1, S2, R2>(
        self,
        context: &E,
        transitions: mpsc::UnboundedReceiver<Transition>,
        (votes, certificates, resolver): ((S0, R0), (S1, R1), (S2, R2)),
    ) -> Handle<()>
    where
        S0: Sender<PublicKey = PublicKey>,
        R0: Receiver<PublicKey = PublicKey>,
        S1: Sender<PublicKey = PublicKey>,
        R1: Receiver<PublicKey = PublicKey>,
        S2: Sender<PublicKey = PublicKey>,
        R2: Receiver<PublicKey = PublicKey>,
    {
        let mut this = self;
        context.with_label("orchestrator").spawn(move |context| async move {
            let (mux, vote_mux, mut backup) =
                Muxer::builder(context.with_label("vote_mux"), votes.0, votes.1, MUX_MAILBOX).with_backup().build();
            mux.start();
            let (mux, certificate_mux) =
                Muxer::new(context.with_label("certificate_mux"), certificates.0, certificates.1, MUX_MAILBOX);
            mux.start();
            let (mux, resolver_mux) =
                Muxer::new(context.with_label("resolver_mux"), resolver.0, resolver.1, MUX_MAILBOX);
            mux.start();
            let mut muxes = (vote_mux, certificate_mux, resolver_mux);
            let mut running = Running::default();
            let mut transitions = transitions;
            loop {
                match futures::future::select(transitions.next(), Box::pin(backup.recv())).await {
                    Either::Left((Some(transition), _)) => {
                        this.enter(&context, transition, &mut running, &mut muxes).await
                    }
                    Either::Right((Some((epoch, (from, _))), _)) => this.behind(&running, epoch, from).await,
                    Either::Left((None, _)) | Either::Right((None, _)) => return,
                }
            }
        })
    }

    /// Start `transition`'s epoch and stop every earlier one (a transition to an epoch already entered, or
    /// older than the newest, is ignored).
    #[allow(clippy::type_complexity)]
    async fn enter<S0, R0, S1, R1, S2, R2>(
        &mut self,
        context: &E,
        transition: Transition,
        running: &mut Running<E>,
        (votes, certificates, resolver): &mut (Muxed<S0, R0>, Muxed<S1, R1>, Muxed<S2, R2>),
    ) where
        S0: Sender<PublicKey = PublicKey>,
        R0: Receiver<PublicKey = PublicKey>,
        S1: Sender<PublicKey = PublicKey>,
        R1: Receiver<PublicKey = PublicKey>,
        S2: Sender<PublicKey = PublicKey>,
        R2: Receiver<PublicKey = PublicKey>,
    {
        let epoch = Epoch::new(transition.epoch);
        if running.engines.keys().next_back().is_some_and(|newest| *newest >= epoch) {
            return;
        }
        let set = participants(&transition.validators, &self.fallback);
        let scheme = Scheme::signer(&self.namespace, set.clone(), self.secret.clone())
            .unwrap_or_else(|| Scheme::verifier(&self.namespace, set.clone()));
        self.schemes.register(epoch, scheme.clone());
        let (Ok(v), Ok(c), Ok(r)) = (
            votes.register(epoch.get()).await,
            certificates.register(epoch.get()).await,
            resolver.register(epoch.get()).await,
        ) else {
            eprintln!("bft: cannot open the sub-channels of epoch {epoch}");
            return;
        };
        let scope = context.with_label("consensus").with_attribute("epoch", epoch).with_scope();
        let reporter = Recorder::new(self.marshal.clone(), self.book.clone(), &set, self.telemetry.clone());
        let partition = if epoch.is_zero() {
            format!("{}-consensus", self.partitions)
        } else {
            format!("{}-consensus-{epoch}", self.partitions)
        };
        let config = simplex::Config {
            scheme,
            elector: RoundRobin::<commonware_cryptography::Sha256>::default(),
            blocker: self.blocker.clone(),
            automaton: self.inline.clone(),
            relay: self.inline.clone(),
            reporter,
            strategy: Sequential,
            partition,
            mailbox_size: 1024,
            epoch,
            replay_buffer: NZUsize!(1 << 16),
            write_buffer: NZUsize!(1 << 16),
            page_cache: self.page_cache.clone(),
            leader_timeout: LEADER_TIMEOUT,
            certification_timeout: CERTIFICATION_TIMEOUT,
            timeout_retry: Duration::from_secs(10),
            activity_timeout: ViewDelta::new(10),
            skip_timeout: ViewDelta::new(5),
            fetch_timeout: Duration::from_secs(1),
            fetch_concurrent: 4,
        };
        let handle = simplex::Engine::new(scope.clone(), config).start(v, c, r);
        running.engines.insert(epoch, (handle, scope));
        // Stop the epochs before: their last block is finalized, and the new epoch builds on it.
        let old: Vec<Epoch> = running.engines.keys().filter(|e| **e < epoch).copied().collect();
        for e in old {
            if let Some((handle, _scope)) = running.engines.remove(&e) {
                handle.abort();
            }
        }
        self.schemes.retain_from(epoch);
    }

    /// `from` sent a vote of `their_epoch`, which this validator has not entered: if it is ahead of ours,
    /// fetch the finalized last block of our newest epoch from it.
    async fn behind(&mut self, running: &Running<E>, their_epoch: u64, from: PublicKey) {
        let Some(ours) = running.engines.keys().next_back().copied() else { return };
        if their_epoch <= ours.get() {
            return;
        }
        let Some(last) = self.epocher.last(ours) else { return };
        self.marshal.hint_finalized(last, NonEmptyVec::new(from)).await;
    }
}

/// The running engines, by epoch, each with the metrics scope it keeps alive.
struct Running<E> {
    engines: BTreeMap<Epoch, (Handle<()>, E)>,
}

impl<E> Default for Running<E> {
    fn default() -> Self {
        Running { engines: BTreeMap::new() }
    }
}
