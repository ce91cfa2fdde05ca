//! The application marshal drives: it proposes, verifies and finalizes [`engine::Block`]s.
//!
//! State lives in two places. The committed engine (shared with the node behind an `RwLock`) is the state
//! after the last finalized block, and only [`App`]'s finalization writes it. `pending` holds the
//! post-state of every block this validator proposed or verified and that is not finalized yet, each a
//! fork ([`Engine::fork`]) of its parent's state; finalization commits the block's fork onto the committed
//! engine and drops every pending state at or below that height (losing branches, and so that the
//! committed maps fold again).
//!
//! Time never enters a block: the proposer waits `block_interval` on the runtime's clock before building,
//! and the block is a pure function of its parent's state and the transactions chosen. A finalized block
//! is never skipped: if it does not apply, or cannot be made durable, the validator stops (and reports
//! why through [`App::fatal`]) instead of continuing from a state the others do not have.

use crate::block::{to_digest, ChainBlock, Digest};
use crate::finality::{Certificates, Finality};
use crate::validator::LEADER_TIMEOUT;
use commonware_consensus::{
    marshal::{
        ancestry::{AncestorStream, BlockProvider},
        Update,
    },
    simplex::{scheme::ed25519, types::Context},
    Application, Reporter, VerifyingApplication,
};
use commonware_cryptography::{ed25519::PublicKey, Digestible};
use commonware_runtime::{Clock, Metrics, Spawner};
use commonware_utils::Acknowledgement;
use engine::{
    verify_signatures, Block, BlockError, BlockOutcome, Engine, Genesis, GenesisError, SignatureCheck, SignedTx,
};
use futures::{Stream, StreamExt};
use rand::Rng;
use std::{
    collections::HashMap,
    fmt,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex, MutexGuard, RwLock,
    },
    time::Duration,
};
use types::{AccountId, Hash, Height};

/// Where proposals take their transactions from (the node's mempool; an in-memory pool in tests).
pub trait TxSource: Send + Sync + 'static {
    /// Whether every transaction [`TxSource::select`] returns had its signature checked with
    /// `verify_strict` when it was admitted; only then does the proposer skip checking it again.
    fn signatures_verified(&self) -> bool;
    /// Up to `max` transactions for the next block, each signer's in consecutive nonce order from
    /// `nonce_of(signer)`. Nothing is removed: a proposal may never be finalized.
    fn select(&self, max: usize, nonce_of: &dyn Fn(&AccountId) -> u64) -> Vec<SignedTx>;
    /// For each of `txs`, whether this source holds that exact transaction (same hash, which covers the
    /// signature) after checking its signature with `verify_strict` for this chain; a verifier trusts
    /// those and checks the rest. The default vouches for none.
    fn checked(&self, txs: &[SignedTx]) -> Vec<bool> {
        vec![false; txs.len()]
    }
    /// A transaction whose signature was checked against this chain (one received by gossip).
    fn admit(&self, tx: SignedTx);
    /// A batch received in one gossip message, admitted together: a source with a lock should take it once,
    /// so a proposer never selects half of a batch a client sent as one (the demo's bursts, one block).
    fn admit_all(&self, txs: Vec<SignedTx>) {
        txs.into_iter().for_each(|tx| self.admit(tx));
    }
    /// The transactions of a finalized block: they will never be needed again.
    fn finalized(&self, txs: &[SignedTx]);
}

/// Where finalized blocks go before marshal is told they are handled (the node's store).
pub trait Sink: Send + Sync + 'static {
    /// Make `block` durable with its finality evidence (the node writes both in one transaction). Called
    /// once per height, in order, with the committed engine's write lock held; `state` is the committed
    /// state after the block (for a snapshot).
    fn finalized(
        &self,
        block: &Block,
        outcome: &BlockOutcome,
        state: &Engine,
        finality: &Finality,
    ) -> Result<(), SinkError>;
}

/// What [`crate::start_validator`] needs from the application beyond marshal's traits: [`App`] and any
/// wrapper around it hand on the app's.
pub trait Finalizer {
    /// The book simplex's finalization certificates are kept in until their block is delivered.
    fn certificates(&self) -> Certificates;
    /// The height of the committed state (the store's height, for the node).
    fn committed_height(&self) -> Height;
    /// Where what the validator observes is reported (nothing, unless the app was given a telemetry).
    fn telemetry(&self) -> crate::TelemetryHandle {
        crate::TelemetryHandle::default()
    }
}

/// Why a [`Sink`] could not make a block durable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("[{code}] {message}")]
pub struct SinkError {
    /// A stable snake_case code (the store's, for the node).
    pub code: &'static str,
    pub message: String,
}

/// Why a validator stopped: a finalized block it could not take. Never skipped, never retried.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FinalizeError {
    /// The network finalized a block that does not apply on our committed state.
    #[error("finalized block {height} ({hash}) does not apply: {error}")]
    DoesNotApply { height: Height, hash: Hash, error: BlockError },
    /// The sink refused a finalized block. The committed engine already holds it (as the sequencer's does
    /// when its append fails): the node must exit rather than serve a state its disk does not hold.
    #[error("finalized block {height} could not be made durable: {error}")]
    NotDurable { height: Height, error: SinkError },
}

impl FinalizeError {
    /// A stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            FinalizeError::DoesNotApply { .. } => "finalized_block_does_not_apply",
            FinalizeError::NotDurable { .. } => "finalized_block_not_durable",
        }
    }
}

/// The application's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppConfig {
    /// How long a leader waits before building a block, so that blocks (and engine time, which is block
    /// height) do not advance every few milliseconds. At most half the leader timeout, so that the block
    /// can still travel and be verified before the other validators give up on the leader.
    pub block_interval: Duration,
}

/// Why an application could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AppError {
    /// The genesis document does not build an engine.
    #[error(transparent)]
    Genesis(#[from] GenesisError),
    /// Every leader would time out waiting for its own pacing.
    #[error("block_interval {block_interval:?} is over half the leader timeout {leader_timeout:?}")]
    BlockIntervalTooLong { block_interval: Duration, leader_timeout: Duration },
}

impl AppError {
    /// A stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Genesis(_) => "genesis_invalid",
            AppError::BlockIntervalTooLong { .. } => "block_interval_too_long",
        }
    }
}

/// The post-state of a proposed or verified block that is not finalized yet.
#[derive(Debug)]
struct Pending {
    state: Engine,
    outcome: BlockOutcome,
}

/// The stakework application behind marshal's `Inline` wrapper (see the module docs).
#[derive(Clone)]
pub struct App {
    committed: Arc<RwLock<Engine>>,
    genesis: ChainBlock,
    pending: Arc<Mutex<HashMap<Digest, Pending>>>,
    txs: Arc<dyn TxSource>,
    sink: Arc<dyn Sink>,
    config: AppConfig,
    fatal: Arc<Mutex<Option<FinalizeError>>>,
    /// Ancestors replayed to rebuild a missing parent state (`state_at` case 3), for tests and metrics.
    replayed: Arc<AtomicU64>,
    /// Finalization certificates simplex reported, by block digest ([`crate::finality::Recorder`]).
    certificates: Certificates,
    /// The height of marshal's finalized tip (its newest height with a certificate), 0 before any.
    tip: Arc<AtomicU64>,
    /// Where block execution times and marshal's tip are reported.
    telemetry: crate::TelemetryHandle,
}

impl fmt::Debug for App {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("App").field("genesis", &self.genesis.hash()).field("config", &self.config).finish()
    }
}

impl App {
    /// An application over `committed` (the state after the last finalized block; at genesis for a new
    /// chain). The genesis block is rebuilt from `genesis`, never taken from `committed`.
    pub fn new(
        genesis: &Genesis,
        committed: Arc<RwLock<Engine>>,
        txs: Arc<dyn TxSource>,
        sink: Arc<dyn Sink>,
        config: AppConfig,
    ) -> Result<App, AppError> {
        if config.block_interval * 2 > LEADER_TIMEOUT {
            let block_interval = config.block_interval;
            return Err(AppError::BlockIntervalTooLong { block_interval, leader_timeout: LEADER_TIMEOUT });
        }
        let state = Engine::from_genesis(genesis)?;
        let block = Block {
            height: Height::GENESIS,
            parent_hash: Hash::ZERO,
            txs: Vec::new(),
            state_root: state.state_root(),
            proposer: None,
        };
        let genesis = ChainBlock::new(block);
        debug_assert_eq!(genesis.hash(), state.last_block_hash(), "the genesis block is the engine's block 0");
        Ok(App {
            committed,
            genesis,
            pending: Default::default(),
            txs,
            sink,
            config,
            fatal: Default::default(),
            replayed: Default::default(),
            certificates: Default::default(),
            tip: Default::default(),
            telemetry: Default::default(),
        })
    }

    /// This app reporting to `telemetry` (and the validator started over it, see [`Finalizer::telemetry`]).
    pub fn with_telemetry(mut self, telemetry: crate::TelemetryHandle) -> App {
        self.telemetry = telemetry;
        self
    }

    /// Why this validator stopped, if it did (the node exits on it).
    pub fn fatal(&self) -> Option<FinalizeError> {
        self.fatal.lock().expect("a thread panicked holding the fatal flag").clone()
    }

    /// How many ancestors were replayed to rebuild a parent state this validator had not seen.
    pub fn replayed(&self) -> u64 {
        self.replayed.load(Ordering::Relaxed)
    }

    /// How many proposed or verified blocks wait for finalization.
    pub fn pending_len(&self) -> usize {
        self.pending().len()
    }

    fn pending(&self) -> MutexGuard<'_, HashMap<Digest, Pending>> {
        self.pending.lock().expect("a thread panicked holding the pending states")
    }

    fn committed_head(&self) -> (Height, Hash) {
        let committed = self.committed.read().expect("a thread panicked holding the committed engine");
        (committed.height(), committed.last_block_hash())
    }

    fn remember(&self, digest: Digest, state: Engine, outcome: BlockOutcome) {
        self.pending().insert(digest, Pending { state, outcome });
    }

    /// A fork of the post-state of the block `digest`, if it is pending or the committed head.
    fn known_state(&self, digest: &Digest) -> Option<Engine> {
        if let Some(p) = self.pending().get(digest) {
            return Some(p.state.fork());
        }
        let committed = self.committed.read().expect("a thread panicked holding the committed engine");
        (to_digest(committed.last_block_hash()) == *digest).then(|| committed.fork())
    }

    /// A fork of the post-state of `parent`: a pending block's (1), the committed head's (2), or rebuilt
    /// by replaying the blocks between a known state and `parent`, pulled from `ancestry` (newest first)
    /// and each cached (3). `None` for a block on a branch below the committed head (4) or one that does not
    /// apply. Case 3 is how a validator that caught up through backfill (and so never verified those
    /// blocks) can vote again.
    async fn state_at<S: Stream<Item = ChainBlock> + Unpin>(
        &self,
        parent: ChainBlock,
        ancestry: &mut S,
    ) -> Option<Engine> {
        let mut missing = Vec::new();
        let mut wanted = parent.digest();
        let mut next = Some(parent);
        let base = loop {
            if let Some(state) = self.known_state(&wanted) {
                break state;
            }
            let block = match next.take() {
                Some(block) => block,
                None => ancestry.next().await?,
            };
            if block.digest() != wanted || block.block().height <= self.committed_head().0 {
                return None;
            }
            wanted = commonware_consensus::Block::parent(&block);
            missing.push(block);
        };
        self.replay(base, missing)
    }

    /// Apply `missing` (newest first) onto `state`, caching each post-state; a fork of the last one.
    fn replay(&self, mut state: Engine, missing: Vec<ChainBlock>) -> Option<Engine> {
        for block in missing.into_iter().rev() {
            let outcome = match state.apply_block(block.block()) {
                Ok(outcome) => outcome,
                Err(e) => {
                    eprintln!("bft: ancestor {} does not apply: [{}] {e}", block.block().height, e.code());
                    return None;
                }
            };
            self.replayed.fetch_add(1, Ordering::Relaxed);
            let next = state.fork();
            self.remember(block.digest(), state, outcome);
            state = next;
        }
        Some(state)
    }

    /// Seal the next block on `state` (a fork of the parent's post-state) as `proposer` (this validator,
    /// the view's leader) and keep its post-state.
    fn build(&self, mut state: Engine, proposer: AccountId) -> Option<ChainBlock> {
        let max = state.params().max_block_txs as usize;
        let txs = {
            let ledger = state.ledger();
            self.txs.select(max, &|a| ledger.nonce(a))
        };
        let sigs = if self.txs.signatures_verified() {
            SignatureCheck::trusted_all_valid(txs.len())
        } else {
            verify_signatures(&txs, &state.params().chain_id)
        };
        let started = std::time::Instant::now();
        let built = state.produce_block_by(Some(proposer), txs, &sigs);
        self.telemetry.block_executed(started.elapsed());
        match built {
            Ok((block, outcome)) => {
                let block = ChainBlock::new(block);
                self.remember(block.digest(), state, outcome);
                Some(block)
            }
            Err(e) => {
                eprintln!("bft: cannot build a block: [{}] {e}", e.code());
                None
            }
        }
    }

    /// The evidence of a finalized block: its own certificate if simplex reported one, else that it was
    /// finalized as an ancestor of marshal's certified tip (see [`crate::finality`]).
    fn finality_of(&self, block: &ChainBlock) -> Finality {
        match self.certificates.take(&block.digest()) {
            Some(certificate) => Finality::Certified(certificate),
            None => {
                let tip = self.tip.load(Ordering::Relaxed);
                let certified_height = (tip >= block.block().height.0).then_some(Height(tip));
                Finality::Ancestor { certified_height }
            }
        }
    }

    /// Commit a finalized block onto the committed engine, hand it to the sink, then forget what it
    /// settles. `Ok` for a height already committed (marshal delivers at least once).
    fn finalize(&self, block: &ChainBlock) -> Result<(), FinalizeError> {
        let height = block.block().height;
        let mut committed = self.committed.write().expect("a thread panicked holding the committed engine");
        if height <= committed.height() {
            self.certificates.take(&block.digest());
            return Ok(());
        }
        let pending = self.pending().remove(&block.digest());
        let outcome = advance(&mut committed, block, pending)?;
        let finality = self.finality_of(block);
        let durable = self.sink.finalized(block.block(), &outcome, &committed, &finality);
        durable.map_err(|error| FinalizeError::NotDurable { height, error })?;
        drop(committed);
        self.pending().retain(|_, p| p.state.height() > height);
        self.txs.finalized(&block.block().txs);
        Ok(())
    }
}

/// Make `block` the committed head: commit its pending post-state if it descends from the head, else
/// apply it on a fork (a block learned through backfill), so a block that does not apply changes nothing.
fn advance(
    committed: &mut Engine,
    block: &ChainBlock,
    pending: Option<Pending>,
) -> Result<BlockOutcome, FinalizeError> {
    let refused = |error| FinalizeError::DoesNotApply { height: block.block().height, hash: block.hash(), error };
    if let Some(Pending { state, outcome }) = pending {
        if committed.commit(state).is_ok() {
            return Ok(outcome);
        }
    }
    let mut fork = committed.fork();
    let outcome = fork.apply_block(block.block()).map_err(refused)?;
    let head = committed.height();
    committed
        .commit(fork)
        .map_err(|_| refused(BlockError::WrongHeight { current: head, got: block.block().height }))?;
    Ok(outcome)
}

impl Finalizer for App {
    fn certificates(&self) -> Certificates {
        self.certificates.clone()
    }

    fn committed_height(&self) -> Height {
        self.committed_head().0
    }

    fn telemetry(&self) -> crate::TelemetryHandle {
        self.telemetry.clone()
    }
}

impl<E: Rng + Spawner + Metrics + Clock> Application<E> for App {
    type SigningScheme = ed25519::Scheme;
    type Context = Context<Digest, PublicKey>;
    type Block = ChainBlock;

    async fn genesis(&mut self) -> ChainBlock {
        self.genesis.clone()
    }

    async fn propose<A: BlockProvider<Block = ChainBlock>>(
        &mut self,
        (runtime, context): (E, Self::Context),
        mut ancestry: AncestorStream<A, ChainBlock>,
    ) -> Option<ChainBlock> {
        let parent = ancestry.next().await?;
        runtime.sleep(self.config.block_interval).await;
        if self.fatal().is_some() {
            return None;
        }
        let state = self.state_at(parent, &mut ancestry).await?;
        self.build(state, crate::finality::key_bytes(&context.leader))
    }
}

impl<E: Rng + Spawner + Metrics + Clock> VerifyingApplication<E> for App {
    async fn verify<A: BlockProvider<Block = ChainBlock>>(
        &mut self,
        (_, context): (E, Self::Context),
        mut ancestry: AncestorStream<A, ChainBlock>,
    ) -> bool {
        let Some(block) = ancestry.next().await else { return false };
        // The proposer reward goes to whoever the block names: only the view's leader may be named.
        let leader = crate::finality::key_bytes(&context.leader);
        if block.block().proposer != Some(leader) {
            let named = block.block().proposer.map_or_else(|| "nobody".to_string(), |k| k.to_hex());
            eprintln!(
                "bft: refused block {}: [proposer_not_leader] it names {named}, the view's leader is {}",
                block.block().height,
                leader.to_hex()
            );
            return false;
        }
        let Some(parent) = ancestry.next().await else { return false };
        if self.fatal().is_some() {
            return false;
        }
        if self.pending().contains_key(&block.digest()) {
            return true;
        }
        let Some(mut state) = self.state_at(parent, &mut ancestry).await else { return false };
        // A signature this validator checked at its door or on gossip receipt is not checked again.
        let checked = self.txs.checked(&block.block().txs);
        let started = std::time::Instant::now();
        let applied = state.apply_block_checked(block.block(), &checked);
        self.telemetry.block_executed(started.elapsed());
        match applied {
            Ok(outcome) => {
                self.remember(block.digest(), state, outcome);
                true
            }
            Err(e) => {
                eprintln!("bft: refused block {}: [{}] {e}", block.block().height, e.code());
                false
            }
        }
    }
}

impl Reporter for App {
    type Activity = Update<ChainBlock>;

    async fn report(&mut self, activity: Self::Activity) {
        let (block, ack) = match activity {
            Update::Block(block, ack) => (block, ack),
            Update::Tip(_, height, _) => {
                let tip = self.tip.fetch_max(height.get(), Ordering::Relaxed).max(height.get());
                self.telemetry.finalized_tip(tip);
                return;
            }
        };
        if self.fatal().is_some() {
            return;
        }
        match self.finalize(&block) {
            // Only now: marshal may forget a block once we acknowledge it.
            Ok(()) => ack.acknowledge(),
            Err(e) => {
                eprintln!("fatal: bft: [{}] {e}; this validator stops", e.code());
                *self.fatal.lock().expect("a thread panicked holding the fatal flag") = Some(e);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pool::MemoryPool;
    use commonware_utils::acknowledgement::Exact;
    use ed25519_dalek::SigningKey;
    use engine::{testkit, Call, Params, TxBody};
    use futures::{executor::block_on, stream};
    use types::{Amount, Signature};

    #[derive(Default)]
    struct Recorded(Mutex<Vec<(Height, Hash)>>, Mutex<Vec<Finality>>);

    impl Sink for Recorded {
        fn finalized(&self, block: &Block, outcome: &BlockOutcome, _: &Engine, f: &Finality) -> Result<(), SinkError> {
            self.0.lock().expect("test lock").push((block.height, outcome.block_hash));
            self.1.lock().expect("test lock").push(f.clone());
            Ok(())
        }
    }

    fn key() -> SigningKey {
        SigningKey::from_bytes(&[7; 32])
    }

    fn genesis() -> Genesis {
        let rich = AccountId(key().verifying_key().to_bytes());
        testkit::genesis(Params::default(), vec![(rich, Amount(1_000_000_000), Amount::ZERO)], Vec::new())
    }

    /// Blocks 1..=n of one transfer each, built by another validator's engine.
    fn chain(genesis: &Genesis, n: u64) -> Vec<ChainBlock> {
        let mut engine = Engine::from_genesis(genesis).expect("valid genesis");
        let from = AccountId(key().verifying_key().to_bytes());
        (0..n)
            .map(|nonce| {
                let call = Call::Transfer { to: AccountId([9; 32]), amount: Amount(5) };
                let body = TxBody { signer: from, nonce, fee: genesis.params.min_fee, call };
                let tx = body.sign(&key(), &genesis.params.chain_id);
                let (block, _) = engine.produce_block(vec![tx], &SignatureCheck::trusted_all_valid(1)).expect("builds");
                ChainBlock::new(block)
            })
            .collect()
    }

    fn app(genesis: &Genesis) -> (App, Arc<Recorded>) {
        let committed = Arc::new(RwLock::new(Engine::from_genesis(genesis).expect("valid genesis")));
        let pool = Arc::new(MemoryPool::new(&genesis.params.chain_id));
        let sink = Arc::new(Recorded::default());
        let config = AppConfig { block_interval: Duration::ZERO };
        (App::new(genesis, committed, pool, sink.clone(), config).expect("valid genesis"), sink)
    }

    #[test]
    fn a_block_interval_over_half_the_leader_timeout_is_refused() {
        let genesis = genesis();
        let committed = Arc::new(RwLock::new(Engine::from_genesis(&genesis).expect("valid genesis")));
        let pool = Arc::new(MemoryPool::new(&genesis.params.chain_id));
        let config = AppConfig { block_interval: LEADER_TIMEOUT / 2 + Duration::from_millis(1) };
        let err = App::new(&genesis, committed, pool, Arc::new(Recorded::default()), config).expect_err("too slow");
        assert_eq!(err.code(), "block_interval_too_long");
    }

    #[test]
    fn a_missing_parent_state_is_rebuilt_from_its_ancestry() {
        let genesis = genesis();
        let blocks = chain(&genesis, 3);
        let (app, _) = app(&genesis);
        let newest_first = stream::iter(vec![blocks[1].clone(), blocks[0].clone()]);
        let state = block_on(app.state_at(blocks[2].clone(), &mut Box::pin(newest_first))).expect("rebuilt");
        assert_eq!((state.height(), state.state_root()), (Height(3), blocks[2].block().state_root));
        assert_eq!(app.replayed(), 3);
        assert_eq!(app.pending_len(), 3, "each replayed post-state is kept for its finalization");
    }

    #[test]
    fn finalizing_commits_the_pending_states_and_forgets_them() {
        let genesis = genesis();
        let blocks = chain(&genesis, 3);
        let (app, sink) = app(&genesis);
        let ancestry = stream::iter(vec![blocks[1].clone(), blocks[0].clone()]);
        block_on(app.state_at(blocks[2].clone(), &mut Box::pin(ancestry))).expect("rebuilt");
        for block in &blocks {
            app.finalize(block).expect("applies");
            app.finalize(block).expect("a second delivery of the same height is ignored");
        }
        assert_eq!(app.committed_head(), (Height(3), blocks[2].hash()));
        assert_eq!(app.pending_len(), 0);
        let seen: Vec<_> = blocks.iter().map(|b| (b.block().height, b.hash())).collect();
        assert_eq!(*sink.0.lock().expect("test lock"), seen, "each height reaches the sink once, in order");
    }

    #[test]
    fn a_block_at_or_below_the_committed_head_has_no_state() {
        let genesis = genesis();
        let blocks = chain(&genesis, 2);
        let (app, _) = app(&genesis);
        app.finalize(&blocks[0]).expect("applies");
        app.finalize(&blocks[1]).expect("applies");
        let mut other = blocks[0].block().clone();
        other.txs.clear();
        let sibling = ChainBlock::new(other);
        let empty = stream::iter(Vec::<ChainBlock>::new());
        assert!(block_on(app.state_at(sibling, &mut Box::pin(empty))).is_none());
    }

    #[test]
    fn a_finalized_block_that_does_not_apply_changes_nothing_and_is_an_error() {
        let genesis = genesis();
        let blocks = chain(&genesis, 1);
        let (app, sink) = app(&genesis);
        let mut bad = blocks[0].block().clone();
        bad.state_root.0[0] ^= 1;
        let err = app.finalize(&ChainBlock::new(bad)).expect_err("a wrong state root does not apply");
        assert_eq!(err.code(), "finalized_block_does_not_apply");
        assert_eq!(app.committed_head().0, Height::GENESIS, "the committed engine is untouched");
        assert!(sink.0.lock().expect("test lock").is_empty());
    }

    #[test]
    fn a_finalized_block_that_does_not_apply_stops_the_validator_unacknowledged() {
        let genesis = genesis();
        let blocks = chain(&genesis, 1);
        let (mut app, sink) = app(&genesis);
        let mut bad = blocks[0].block().clone();
        bad.state_root.0[0] ^= 1;
        let (ack, waiter) = Exact::handle();
        block_on(app.report(Update::Block(ChainBlock::new(bad), ack)));
        assert_eq!(app.fatal().map(|e| e.code()), Some("finalized_block_does_not_apply"));
        assert!(block_on(waiter).is_err(), "marshal is never told the block was handled");
        let (ack, waiter) = Exact::handle();
        block_on(app.report(Update::Block(blocks[0].clone(), ack)));
        assert!(block_on(waiter).is_err(), "a stopped validator takes no later block");
        assert_eq!(app.committed_head().0, Height::GENESIS);
        assert!(sink.0.lock().expect("test lock").is_empty());
    }

    #[test]
    fn a_finalized_block_is_acknowledged_once_the_sink_has_it() {
        let genesis = genesis();
        let blocks = chain(&genesis, 1);
        let (mut app, sink) = app(&genesis);
        let (ack, waiter) = Exact::handle();
        block_on(app.report(Update::Block(blocks[0].clone(), ack)));
        assert!(block_on(waiter).is_ok());
        assert_eq!(sink.0.lock().expect("test lock").len(), 1);
    }

    fn certificate(view: u64) -> crate::Certificate {
        crate::Certificate {
            view,
            parent_view: view - 1,
            proposer: AccountId([1; 32]),
            signers: vec![AccountId([1; 32])],
            quorum: 1,
            validators: 1,
            encoded: vec![view as u8],
        }
    }

    #[test]
    fn a_block_gets_its_own_certificate_or_names_the_certified_tip() {
        use commonware_consensus::types::{Epoch, Height as ChainHeight, Round, View};
        let genesis = genesis();
        let blocks = chain(&genesis, 3);
        let (mut app, sink) = app(&genesis);
        app.certificates().insert(blocks[0].digest(), certificate(1));
        app.certificates().insert(blocks[2].digest(), certificate(4));
        let tip = Update::Tip(Round::new(Epoch::zero(), View::new(4)), ChainHeight::new(3), blocks[2].digest());
        block_on(app.report(tip));
        for block in &blocks {
            let (ack, waiter) = Exact::handle();
            block_on(app.report(Update::Block(block.clone(), ack)));
            assert!(block_on(waiter).is_ok());
        }
        let seen = sink.1.lock().expect("test lock").clone();
        assert_eq!(
            seen,
            vec![
                Finality::Certified(certificate(1)),
                Finality::Ancestor { certified_height: Some(Height(3)) },
                Finality::Certified(certificate(4)),
            ]
        );
        assert!(app.certificates().is_empty(), "a delivered block's certificate leaves the book");
    }

    struct Failing;

    impl Sink for Failing {
        fn finalized(&self, _: &Block, _: &BlockOutcome, _: &Engine, _: &Finality) -> Result<(), SinkError> {
            Err(SinkError { code: "disk_full", message: "no space".into() })
        }
    }

    #[test]
    fn a_block_the_sink_refuses_stops_the_validator_unacknowledged() {
        let genesis = genesis();
        let blocks = chain(&genesis, 1);
        let committed = Arc::new(RwLock::new(Engine::from_genesis(&genesis).expect("valid genesis")));
        let pool = Arc::new(MemoryPool::new(&genesis.params.chain_id));
        let config = AppConfig { block_interval: Duration::ZERO };
        let mut app = App::new(&genesis, committed, pool, Arc::new(Failing), config).expect("valid genesis");
        let (ack, waiter) = Exact::handle();
        block_on(app.report(Update::Block(blocks[0].clone(), ack)));
        assert_eq!(app.fatal().map(|e| e.code()), Some("finalized_block_not_durable"));
        assert!(block_on(waiter).is_err());
    }

    /// A source that did not check signatures at its door.
    struct Unchecked(Vec<SignedTx>);

    impl TxSource for Unchecked {
        fn signatures_verified(&self) -> bool {
            false
        }
        fn select(&self, _: usize, _: &dyn Fn(&AccountId) -> u64) -> Vec<SignedTx> {
            self.0.clone()
        }
        fn admit(&self, _: SignedTx) {}
        fn finalized(&self, _: &[SignedTx]) {}
    }

    #[test]
    fn a_proposer_checks_signatures_a_source_did_not() {
        let genesis = genesis();
        let mut forged = chain(&genesis, 1)[0].block().txs[0].clone();
        forged.signature = Signature([0; 64]);
        let committed = Arc::new(RwLock::new(Engine::from_genesis(&genesis).expect("valid genesis")));
        let source = Arc::new(Unchecked(vec![forged]));
        let config = AppConfig { block_interval: Duration::ZERO };
        let app = App::new(&genesis, committed.clone(), source, Arc::new(Recorded::default()), config).expect("valid");
        let state = committed.read().expect("test lock").fork();
        let block = app.build(state, AccountId([1; 32])).expect("builds");
        let pending = app.pending();
        let receipt = &pending.get(&block.digest()).expect("kept").outcome.receipts[0];
        assert!(receipt.result.is_err(), "a forged transaction is rejected, not executed");
    }
}
