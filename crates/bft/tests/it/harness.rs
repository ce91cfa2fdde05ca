//! The scenario driver: n validators over a simulated network, each with its own committed engine, pool,
//! durable recording sink and gossip, one optionally late (unlinked until the others reach the target),
//! Byzantine (its proposals carry a corrupted state root, or it runs as two equivocating twins), or
//! crashed and restarted from what it persisted.
//!
//! A crash aborts the validator's root task, and with it every task it spawned (commonware's runtime
//! supervises tasks as a tree), mid-flight. What survives is what a node keeps on disk: commonware's own
//! partitions (the simplex journal and marshal's archives, as far as they were synced) in the runtime's
//! storage, and the application's committed blocks in the validator's [`RecordingSink`], which stands
//! for the node's redb store. A restart replays those blocks from genesis with `apply_block`, as the
//! node's store recovery does, and starts a new instance on the same partitions.

use bft::{
    start_gossip, start_validator, App, AppConfig, Certificates, ChainBlock, Digest, Finality, FinalizeError,
    Finalizer, Gossip, MemoryPool, Sink, SinkError, Transitions, TxSource, CHANNEL_TXS,
};
use commonware_consensus::{
    marshal::{
        ancestry::{AncestorStream, BlockProvider},
        Update,
    },
    simplex::{scheme::ed25519, types::Context},
    Application, Heightable, Reporter, VerifyingApplication,
};
use commonware_cryptography::{
    certificate::mocks::Fixture,
    ed25519::{PrivateKey, PublicKey},
    Digestible,
};
use commonware_p2p::{
    simulated::{self, Link, Network, Oracle, SplitOrigin, SplitTarget},
    Manager, Recipients,
};
use commonware_runtime::{deterministic, Clock, Handle, IoBuf, Metrics, Quota, Runner as _, Spawner};
use commonware_utils::{acknowledgement::Exact, ordered::Set, Acknowledgement, NZU32};
use ed25519_dalek::SigningKey;
use engine::protocol::GenesisValidator;
use engine::{testkit, Block, BlockOutcome, Call, Engine, Event, Genesis, Params, SignedTx, TxBody};
use futures::channel::oneshot;
use rand::Rng;
use std::{
    collections::BTreeSet,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex, RwLock,
    },
    time::Duration,
};
use types::{AccountId, Amount, Hash};

/// The consensus namespace of the harness's chain (`CHAIN_ID`), as `bft::net::namespace` derives it.
pub const NAMESPACE: &[u8] = b"stakework/consensus/test";
/// The harness genesis's chain id.
pub const CHAIN_ID: &str = "test";
const QUOTA: Quota = Quota::per_second(NZU32!(u32::MAX));
/// The account whose transfers the equivocating twins spend, each twin with its own amount, so that
/// their blocks at one height differ while both are valid.
const TWIN_SPENDER: u8 = 4;

/// Whether the heavier variants run (`RUN_SLOW_TESTS=1`).
pub fn slow() -> bool {
    std::env::var("RUN_SLOW_TESTS").is_ok_and(|v| v == "1")
}

/// Links with 10 ms latency and no loss.
pub fn good_link() -> Link {
    Link { latency: Duration::from_millis(10), jitter: Duration::from_millis(1), success_rate: 1.0 }
}

/// Validators that stop abruptly, stay down a while and restart from what they persisted.
#[derive(Clone, Debug)]
pub struct Crash {
    /// Who stops (all at once): one, or two (then no quorum is left while they are down).
    pub validators: Vec<usize>,
    /// Stop the first of them right after its sink took a block and before marshal is acknowledged (the
    /// block is durable, and marshal delivers it again after the restart); otherwise `after` the
    /// scenario's first `blocks`, wherever its tasks are.
    pub at_ack: bool,
    pub after: Duration,
    /// How long they stay down.
    pub down: Duration,
}

/// One Byzantine validator run as two instances with its key (commonware's "twins"): each builds its
/// own valid block when the key leads a view and notarizes it, so the key proposes two blocks in one
/// view and votes for both.
#[derive(Clone, Debug)]
pub struct Twins {
    pub validator: usize,
    /// The first twin talks only to this validator and the second to the others; `None`: both talk to
    /// everyone (every honest validator sees both proposals and both votes).
    pub isolate: Option<usize>,
}

/// Validator elections (issue 21): the genesis lists every validator as a candidate staking from its own
/// account ([`stash`]), and the top `validators_max` by stake form the set of each era of `era_blocks`.
#[derive(Clone, Debug)]
pub struct Elections {
    pub era_blocks: u64,
    pub validators_max: u32,
    /// Each validator's own bonded stake, in base units.
    pub stakes: Vec<u128>,
    /// Nominations submitted with the scenario's transfers: the user [`TWIN_SPENDER`] bonds this much to
    /// the account of this validator, in this order.
    pub nominations: Vec<(usize, u128)>,
}

/// What a scenario sets up.
#[derive(Clone)]
pub struct Scenario {
    pub n: u32,
    pub seed: u64,
    pub link: Link,
    /// Finalized blocks to reach (twice this for a late joiner's, a split's or a crash's scenario).
    pub blocks: u64,
    /// Validator 0 stays unlinked until the others finalize `blocks`.
    pub late: bool,
    /// This validator's proposals carry a corrupted state root.
    pub byzantine: Option<usize>,
    /// After `blocks`, split the validators into two halves for a while, then heal and go on to twice
    /// `blocks`.
    pub partition: bool,
    pub crash: Option<Crash>,
    pub twins: Option<Twins>,
    /// Signed transfers submitted to one validator.
    pub txs: u64,
    /// Validator sets elected per era; `None`: the genesis lists no validators, and the fixed set of all
    /// the scenario's validators runs one epoch for ever.
    pub elections: Option<Elections>,
    /// The genesis names the validators as staked candidates ([`STASH_BONDED`] each, their keys' own
    /// accounts funded for fees), and every honest validator reports the equivocations simplex shows it
    /// (`bft::Reporter`, into its pool and gossip); the run waits until a slash is finalized.
    pub evidence: bool,
}

impl Scenario {
    /// A scenario of `n` validators on good links with no fault.
    pub fn new(n: u32, seed: u64, blocks: u64) -> Scenario {
        Scenario {
            n,
            seed,
            link: good_link(),
            blocks,
            late: false,
            byzantine: None,
            partition: false,
            crash: None,
            twins: None,
            txs: 8,
            elections: None,
            evidence: false,
        }
    }

    /// The validator that is not honest, if any.
    pub fn faulty(&self) -> Option<usize> {
        self.byzantine.or(self.twins.as_ref().map(|t| t.validator))
    }

    /// Blocks every honest validator must reach.
    pub fn target(&self) -> u64 {
        let doubled = self.late || self.partition || self.crash.is_some();
        if doubled {
            2 * self.blocks
        } else {
            self.blocks
        }
    }
}

impl std::fmt::Debug for Scenario {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let link = (self.link.latency, self.link.jitter, self.link.success_rate);
        f.debug_struct("Scenario")
            .field("n", &self.n)
            .field("link (latency, jitter, delivery)", &link)
            .field("blocks", &self.blocks)
            .field("late", &self.late)
            .field("byzantine", &self.byzantine)
            .field("partition", &self.partition)
            .field("crash", &self.crash)
            .field("twins", &self.twins)
            .field("txs", &self.txs)
            .field("elections", &self.elections)
            .field("evidence", &self.evidence)
            .finish()
    }
}

/// What every validator's sink saw, as (height, block hash, state root).
pub type Chain = Vec<(u64, Hash, Hash)>;

/// What a scenario ended with.
#[derive(Debug)]
pub struct Run {
    pub sinks: Vec<Chain>,
    /// Each committed engine's (height, last block hash, state root) at the end.
    pub heads: Vec<(u64, Hash, Hash)>,
    /// The blocks each validator proposed, as (height, digest) (corrupted ones for the Byzantine
    /// validator; the first twin's for twins).
    pub proposed: Vec<Vec<(u64, Digest)>>,
    /// Validator 0's proposals after it was linked (late joiner scenario).
    pub late_proposed: Vec<Digest>,
    /// Transactions each validator's pool received by gossip.
    pub gossiped: Vec<u64>,
    pub submitted: Vec<Hash>,
    /// Transaction hashes in each validator's finalized blocks.
    pub finalized_txs: Vec<BTreeSet<Hash>>,
    pub fatal: Vec<Option<FinalizeError>>,
    /// The most blocks any validator finalized while the network was split in halves.
    pub partition_progress: Option<u64>,
    /// The height each validator had finalized when the crashed ones restarted.
    pub restarted_at: Option<Vec<u64>>,
    /// How many heights past the highest any validator had at the crash were finalized while two were down.
    pub crash_progress: Option<u64>,
    /// Blocks marshal delivered to each validator at or below its committed height (after a restart).
    pub redelivered: Vec<u64>,
    /// Heights at which the two twins proposed different blocks.
    pub equivocations: u64,
    /// (blocker, blocked) pairs of validator indexes, as the network recorded them.
    pub blocked: Vec<(usize, usize)>,
    /// Ancestors each validator replayed to rebuild a parent state it had not seen.
    pub replayed: Vec<u64>,
    pub auditor: String,
    /// Each validator's public key.
    pub keys: Vec<PublicKey>,
    /// The finality evidence each validator's sink got, as (height, block hash, evidence).
    pub finality: Vec<Vec<(u64, Hash, Finality)>>,
    /// The events of the blocks each validator's sink got, as (height, event).
    pub events: Vec<Vec<(u64, Event)>>,
    /// The proposer each finalized block names, by height from 1, as each validator's sink got them.
    pub proposers: Vec<Vec<Option<AccountId>>>,
    /// Each validator's committed state at the end (a fork).
    pub states: Vec<Engine>,
    /// The `EquivocationSlashed` events (and the height of their block) each validator finalized.
    pub slashes: Vec<Vec<(u64, Event)>>,
    /// Evidence transactions each validator's reporter signed.
    pub reports: Vec<u64>,
    /// The genesis the validators ran.
    pub genesis: Genesis,
}

/// The validator's durable store (the node's redb): finalized blocks, appended in height order, that
/// outlive a crash. It checks conservation after every block.
#[derive(Debug, Default)]
pub struct RecordingSink {
    blocks: Mutex<Vec<Block>>,
    chain: Mutex<Chain>,
    txs: Mutex<BTreeSet<Hash>>,
    finality: Mutex<Vec<(u64, Hash, Finality)>>,
    events: Mutex<Vec<(u64, Event)>>,
    slashes: Mutex<Vec<(u64, Event)>>,
}

impl RecordingSink {
    fn len(&self) -> u64 {
        self.chain.lock().expect("a test lock").len() as u64
    }

    /// The committed engine a restart recovers: the durable blocks replayed from genesis.
    fn recover(&self, genesis: &Genesis) -> Engine {
        let mut engine = Engine::from_genesis(genesis).expect("a valid genesis");
        for block in self.blocks.lock().expect("a test lock").iter() {
            engine.apply_block(block).unwrap_or_else(|e| panic!("durable block {} replays: {e}", block.height));
            engine.check_invariants().unwrap_or_else(|v| panic!("replayed block {}: {v:?}", block.height));
        }
        engine
    }
}

impl Sink for RecordingSink {
    fn finalized(&self, block: &Block, outcome: &BlockOutcome, state: &Engine, f: &Finality) -> Result<(), SinkError> {
        // Conservation after every finalized block on every validator.
        state.check_invariants().unwrap_or_else(|v| panic!("block {}: {v:?}", block.height));
        let mut blocks = self.blocks.lock().expect("a test lock");
        if block.height.0 != blocks.len() as u64 + 1 {
            let message = format!("block {} after {} durable blocks", block.height, blocks.len());
            return Err(SinkError { code: "height_not_next", message });
        }
        blocks.push(block.clone());
        self.chain.lock().expect("a test lock").push((block.height.0, outcome.block_hash, outcome.state_root));
        self.txs.lock().expect("a test lock").extend(block.txs.iter().map(SignedTx::hash));
        self.finality.lock().expect("a test lock").push((block.height.0, outcome.block_hash, f.clone()));
        let events = outcome.events.iter().map(|e| (block.height.0, e.event.clone()));
        self.events.lock().expect("a test lock").extend(events);
        let slashes = outcome.events.iter().filter(|r| matches!(r.event, Event::EquivocationSlashed { .. }));
        self.slashes.lock().expect("a test lock").extend(slashes.map(|r| (block.height.0, r.event.clone())));
        Ok(())
    }
}

/// Stop a validator right after its sink takes a block at or above a height, before marshal hears of it.
type CrashHook = Arc<Mutex<Option<(u64, oneshot::Sender<()>)>>>;

/// The real [`App`], recording what it proposes, corrupting the state root of its proposals when
/// `corrupt` (a Byzantine leader), finalizing slowly when `slow_disk` is set (each finalized block waits
/// that long first, as on a slow disk, so the committed state lags behind the notarized tip), counting
/// blocks marshal delivers again, and able to stall between the sink and marshal's acknowledgement.
#[derive(Clone)]
pub struct TestApp {
    inner: App,
    committed: Arc<RwLock<Engine>>,
    corrupt: bool,
    proposed: Arc<Mutex<Vec<(u64, Digest)>>>,
    slow_disk: Option<(deterministic::Context, Duration)>,
    redelivered: Arc<AtomicU64>,
    crash_hook: CrashHook,
}

impl<E: Rng + Spawner + Metrics + Clock> Application<E> for TestApp {
    type SigningScheme = ed25519::Scheme;
    type Context = Context<Digest, PublicKey>;
    type Block = ChainBlock;

    async fn genesis(&mut self) -> ChainBlock {
        Application::<E>::genesis(&mut self.inner).await
    }

    async fn propose<A: BlockProvider<Block = ChainBlock>>(
        &mut self,
        context: (E, Self::Context),
        ancestry: AncestorStream<A, ChainBlock>,
    ) -> Option<ChainBlock> {
        let mut block = self.inner.propose(context, ancestry).await?;
        if self.corrupt {
            let mut inner = block.block().clone();
            inner.state_root.0[0] ^= 1;
            block = ChainBlock::new(inner);
        }
        self.proposed.lock().expect("a test lock").push((block.height().get(), block.digest()));
        Some(block)
    }
}

impl<E: Rng + Spawner + Metrics + Clock> VerifyingApplication<E> for TestApp {
    async fn verify<A: BlockProvider<Block = ChainBlock>>(
        &mut self,
        context: (E, Self::Context),
        ancestry: AncestorStream<A, ChainBlock>,
    ) -> bool {
        self.inner.verify(context, ancestry).await
    }
}

impl Finalizer for TestApp {
    fn certificates(&self) -> Certificates {
        self.inner.certificates()
    }
    fn committed_height(&self) -> types::Height {
        self.inner.committed_height()
    }
    fn telemetry(&self) -> bft::TelemetryHandle {
        self.inner.telemetry()
    }
    fn epoch_length(&self) -> std::num::NonZeroU64 {
        self.inner.epoch_length()
    }
    fn validator_set(&self, epoch: u64) -> Option<Vec<AccountId>> {
        self.inner.validator_set(epoch)
    }
    fn listen(&self, transitions: Transitions) {
        self.inner.listen(transitions)
    }
}

impl Reporter for TestApp {
    type Activity = Update<ChainBlock>;
    async fn report(&mut self, activity: Self::Activity) {
        let Update::Block(block, ack) = activity else { return self.inner.report(activity).await };
        if let Some((clock, delay)) = &self.slow_disk {
            clock.sleep(*delay).await;
        }
        let height = block.height().get();
        if height <= self.committed.read().expect("a test lock").height().0 {
            self.redelivered.fetch_add(1, Ordering::Relaxed);
        }
        // The App acknowledges a handle of ours; marshal hears of it only after the crash hook passed.
        let (inner_ack, handled) = Exact::handle();
        self.inner.report(Update::Block(block, inner_ack)).await;
        if handled.await.is_err() {
            return; // The App stopped on this block: marshal is never told.
        }
        let armed = {
            let mut hook = self.crash_hook.lock().expect("a test lock");
            match hook.take() {
                Some((at, stop)) if height >= at => Some(stop),
                other => {
                    *hook = other;
                    None
                }
            }
        };
        if let Some(stop) = armed {
            let _ = stop.send(());
            futures::future::pending::<()>().await; // Aborted here, `ack` unsent.
        }
        ack.acknowledge();
    }
}

/// A transaction source for one twin: at every proposal, a transfer from [`TWIN_SPENDER`] at its next
/// nonce of this twin's own amount, so the two twins' blocks conflict and both are valid.
struct Conflicting {
    key: SigningKey,
    amount: u128,
    chain_id: String,
    fee: Amount,
}

impl TxSource for Conflicting {
    fn signatures_verified(&self) -> bool {
        true
    }
    fn select(&self, max: usize, nonce_of: &dyn Fn(&AccountId) -> u64) -> Vec<SignedTx> {
        let signer = account(&self.key);
        let call = Call::Transfer { to: account(&user(0)), amount: Amount(self.amount) };
        let body = TxBody { signer, nonce: nonce_of(&signer), fee: self.fee, call };
        vec![body.sign(&self.key, &self.chain_id)].into_iter().take(max).collect()
    }
    fn admit(&self, _: SignedTx) {}
    fn finalized(&self, _: &[SignedTx]) {}
}

/// One running instance of a validator.
struct Instance {
    app: App,
    engine: Arc<RwLock<Engine>>,
    pool: Arc<MemoryPool>,
    gossip: Option<Gossip>,
    handle: Option<Handle<()>>,
    /// Evidence transactions its reporter signed.
    reports: Arc<AtomicU64>,
}

/// An honest validator's reporter of equivocations, as the node's (`bft::Reporter::report`): what simplex
/// shows it becomes a signed `ReportEquivocation` in its own pool and gossip.
struct EvidenceReporter {
    reporter: bft::Reporter,
    engine: Arc<RwLock<Engine>>,
    pool: Arc<MemoryPool>,
    gossip: std::sync::OnceLock<Gossip>,
    signed: Arc<AtomicU64>,
}

impl bft::Telemetry for EvidenceReporter {
    fn equivocation(&self, evidence: engine::protocol::Equivocation) {
        if let Some(tx) = self.reporter.report(&evidence, &*self.pool, &self.engine, self.gossip.get()) {
            self.signed.fetch_add(1, Ordering::Relaxed);
            assert!(self.pool.checked(&[tx])[0], "the reporter's own transaction waits in its pool");
        }
    }
}

/// One validator: its secret key, what survives its crashes, and its running instance.
struct Validator {
    key: PrivateKey,
    sink: Arc<RecordingSink>,
    proposed: Arc<Mutex<Vec<(u64, Digest)>>>,
    redelivered: Arc<AtomicU64>,
    crash_hook: CrashHook,
    restarts: u32,
    live: Instance,
}

/// What survives a validator's crash (its store, and what the test counts), for its next instance.
#[derive(Clone, Default)]
struct Durable {
    sink: Arc<RecordingSink>,
    proposed: Arc<Mutex<Vec<(u64, Digest)>>>,
    redelivered: Arc<AtomicU64>,
    crash_hook: CrashHook,
    restarts: u32,
}

impl Validator {
    /// What its next instance starts from.
    fn restarted(&self) -> Durable {
        Durable {
            sink: self.sink.clone(),
            proposed: self.proposed.clone(),
            redelivered: self.redelivered.clone(),
            crash_hook: self.crash_hook.clone(),
            restarts: self.restarts + 1,
        }
    }
}

/// Everything a scenario's validators share.
struct Net {
    context: deterministic::Context,
    oracle: Oracle<PublicKey, deterministic::Context>,
    participants: Vec<PublicKey>,
    /// The validators' secret seeds (empty when the keys were given again after a whole-runtime restart).
    seeds: Vec<[u8; 32]>,
    genesis: Genesis,
    scenario: Scenario,
}

fn user(i: u8) -> SigningKey {
    SigningKey::from_bytes(&[i + 1; 32])
}

fn account(key: &SigningKey) -> AccountId {
    AccountId(key.verifying_key().to_bytes())
}

/// The key of validator `i`'s staking account in an elections scenario.
pub fn stash_key(i: usize) -> SigningKey {
    SigningKey::from_bytes(&[200 + i as u8; 32])
}

/// The 32 bytes of a validator's public key, as the genesis lists it.
pub fn key_id(key: &PublicKey) -> AccountId {
    let mut bytes = [0u8; 32];
    bytes.copy_from_slice(&commonware_codec::Encode::encode(key)[..32]);
    AccountId(bytes)
}

/// The bonded stake of each validator's stash account in an evidence scenario.
pub const STASH_BONDED: Amount = Amount(1_000_000_000_000);

/// The stash account of validator `i` in an evidence scenario (validator keys come from the fixture).
pub fn stash(i: usize) -> AccountId {
    account(&SigningKey::from_bytes(&[0xa0 + i as u8; 32]))
}

/// Five rich users on the chain [`CHAIN_ID`]. With evidence, every validator a candidate staking
/// [`STASH_BONDED`] through its [`stash`], each key's own account funded to pay for its reports; with
/// elections, every validator a candidate staking its `stakes[i]` from its own account ([`stash_key`]).
fn genesis(scenario: &Scenario, participants: &[PublicKey]) -> Genesis {
    let mut accounts: Vec<(AccountId, Amount, Amount)> =
        (0..=TWIN_SPENDER).map(|i| (account(&user(i)), Amount(1_000_000_000_000), Amount::ZERO)).collect();
    let base = Params { chain_id: CHAIN_ID.into(), ..Params::default() };
    if scenario.evidence {
        let keys: Vec<AccountId> = participants.iter().map(key_id).collect();
        for (i, key) in keys.iter().enumerate() {
            accounts.push((stash(i), Amount(1_000_000_000), STASH_BONDED));
            accounts.push((*key, Amount(1_000_000_000), Amount::ZERO));
        }
        let mut genesis = testkit::genesis(base, accounts, Vec::new());
        genesis.validators = keys
            .iter()
            .enumerate()
            .map(|(i, key)| GenesisValidator { key: *key, p2p: format!("127.0.0.1:{}", 30_000 + i), account: stash(i) })
            .collect();
        return genesis;
    }
    let Some(elections) = &scenario.elections else {
        return testkit::genesis(base, accounts, Vec::new());
    };
    let stakes = elections.stakes.iter().enumerate();
    accounts.extend(stakes.map(|(i, s)| (account(&stash_key(i)), Amount::ZERO, Amount(*s))));
    let params = Params { era_blocks: elections.era_blocks, validators_max: elections.validators_max, ..base };
    let mut genesis = testkit::genesis(params, accounts, Vec::new());
    genesis.validators = participants
        .iter()
        .enumerate()
        .map(|(i, key)| GenesisValidator {
            key: key_id(key),
            p2p: format!("127.0.0.1:{}", 9000 + i),
            account: account(&stash_key(i)),
        })
        .collect();
    genesis
}

/// A validator key as an account id (the evidence tests' name for [`key_id`]).
pub fn key_account(key: &PublicKey) -> AccountId {
    key_id(key)
}

/// The scenario's nominations, signed by [`TWIN_SPENDER`] from nonce 0.
fn nominations(genesis: &Genesis, elections: &Elections) -> Vec<SignedTx> {
    let params = &genesis.params;
    let nominator = user(TWIN_SPENDER);
    (elections.nominations.iter().enumerate())
        .map(|(nonce, (v, amount))| {
            let call = Call::Nominate { node: account(&stash_key(*v)), amount: Amount(*amount) };
            let body = TxBody { signer: account(&nominator), nonce: nonce as u64, fee: params.min_fee, call };
            body.sign(&nominator, &params.chain_id)
        })
        .collect()
}

/// `count` signed transfers round the four users, nonces in order.
fn transfers(genesis: &Genesis, count: u64) -> Vec<SignedTx> {
    let params = &genesis.params;
    (0..count)
        .map(|i| {
            let (from, to) = ((i % 4) as u8, ((i + 1) % 4) as u8);
            let body = TxBody {
                signer: account(&user(from)),
                nonce: i / 4,
                fee: params.min_fee,
                call: Call::Transfer { to: account(&user(to)), amount: Amount(1 + i as u128) },
            };
            body.sign(&user(from), &params.chain_id)
        })
        .collect()
}

async fn link_all(
    oracle: &Oracle<PublicKey, deterministic::Context>,
    participants: &[PublicKey],
    link: &Link,
    skip: Option<usize>,
) {
    for (i, a) in participants.iter().enumerate() {
        for (j, b) in participants.iter().enumerate() {
            if i != j && skip != Some(i) && skip != Some(j) {
                oracle.add_link(a.clone(), b.clone(), link.clone()).await.expect("a link");
            }
        }
    }
}

async fn link_one(
    oracle: &Oracle<PublicKey, deterministic::Context>,
    participants: &[PublicKey],
    link: &Link,
    one: usize,
) {
    for (j, b) in participants.iter().enumerate() {
        if j != one {
            oracle.add_link(participants[one].clone(), b.clone(), link.clone()).await.expect("a link");
            oracle.add_link(b.clone(), participants[one].clone(), link.clone()).await.expect("a link");
        }
    }
}

impl Net {
    /// Register validator `i`'s six channels (again, after a crash).
    async fn channels(
        &self,
        i: usize,
    ) -> Vec<(simulated::Sender<PublicKey, deterministic::Context>, simulated::Receiver<PublicKey>)> {
        let control = self.oracle.control(self.participants[i].clone());
        let mut channels = Vec::new();
        for channel in 0..=CHANNEL_TXS {
            channels.push(control.register(channel, QUOTA).await.expect("a channel"));
        }
        channels
    }

    /// A new App over the committed engine the validator's sink recovers, with a fresh pool (a crash
    /// loses the mempool).
    fn app(
        &self,
        sink: &Arc<RecordingSink>,
        txs: Option<Arc<dyn TxSource>>,
    ) -> (App, Arc<RwLock<Engine>>, Arc<MemoryPool>) {
        let engine = Arc::new(RwLock::new(sink.recover(&self.genesis)));
        let pool = Arc::new(MemoryPool::new(&self.genesis.params.chain_id));
        let source = txs.unwrap_or_else(|| pool.clone() as Arc<dyn TxSource>);
        let config = AppConfig { block_interval: Duration::from_millis(100) };
        let app = App::new(&self.genesis, engine.clone(), source, sink.clone(), config).expect("a valid genesis");
        (app, engine, pool)
    }

    /// Validator `i`'s equivocation reporter, in an evidence scenario.
    fn reporter(
        &self,
        i: usize,
        engine: &Arc<RwLock<Engine>>,
        pool: &Arc<MemoryPool>,
    ) -> Option<Arc<EvidenceReporter>> {
        let seed = self.seeds.get(i).filter(|_| self.scenario.evidence)?;
        Some(Arc::new(EvidenceReporter {
            reporter: bft::Reporter::new(&self.genesis.params.chain_id, seed),
            engine: engine.clone(),
            pool: pool.clone(),
            gossip: Default::default(),
            signed: Default::default(),
        }))
    }

    /// Start validator `i` (or restart it), under a root task whose abort stops all of it.
    async fn start(&self, i: usize, durable: Durable, key: PrivateKey) -> Validator {
        let Durable { sink, proposed, redelivered, crash_hook, restarts } = durable;
        let (app, engine, pool) = self.app(&sink, None);
        let reporter = self.reporter(i, &engine, &pool);
        let app = match &reporter {
            Some(r) => app.with_telemetry(bft::TelemetryHandle(r.clone())),
            None => app,
        };
        let slow_disk = (self.scenario.late && i == 0).then(|| (self.context.clone(), Duration::from_millis(300)));
        let test_app = TestApp {
            inner: app.clone(),
            committed: engine.clone(),
            corrupt: self.scenario.byzantine == Some(i),
            proposed: proposed.clone(),
            slow_disk,
            redelivered: redelivered.clone(),
            crash_hook: crash_hook.clone(),
        };
        let mut channels = self.channels(i).await.into_iter();
        let mut next = || channels.next().expect("six channels");
        let chans = (next(), next(), next(), next(), next());
        let gossip = Some((next(), pool.clone() as Arc<dyn TxSource>));
        let label = format!("validator{i}_{restarts}");
        let partitions = self.participants[i].to_string();
        let (handle, gossip) = self.spawn(&label, test_app, key.clone(), i, partitions, chans, gossip).await;
        if let (Some(r), Some(g)) = (&reporter, &gossip) {
            let _ = r.gossip.set(g.clone());
        }
        let reports = reporter.map(|r| r.signed.clone()).unwrap_or_default();
        let live = Instance { app, engine, pool, gossip, handle: Some(handle), reports };
        Validator { key, sink, proposed, redelivered, crash_hook, restarts, live }
    }

    /// Spawn one instance's root task: gossip (if given) and the validator stack, then wait to be aborted.
    #[allow(clippy::type_complexity, clippy::too_many_arguments)]
    async fn spawn<S0, R0, S1, R1, S2, R2, S3, R3, S4, R4>(
        &self,
        label: &str,
        app: TestApp,
        key: PrivateKey,
        i: usize,
        partitions: String,
        chans: bft::Channels<S0, R0, S1, R1, S2, R2, S3, R3, S4, R4>,
        gossip: Option<(
            (simulated::Sender<PublicKey, deterministic::Context>, simulated::Receiver<PublicKey>),
            Arc<dyn TxSource>,
        )>,
    ) -> (Handle<()>, Option<Gossip>)
    where
        S0: commonware_p2p::Sender<PublicKey = PublicKey>,
        R0: commonware_p2p::Receiver<PublicKey = PublicKey>,
        S1: commonware_p2p::Sender<PublicKey = PublicKey>,
        R1: commonware_p2p::Receiver<PublicKey = PublicKey>,
        S2: commonware_p2p::Sender<PublicKey = PublicKey>,
        R2: commonware_p2p::Receiver<PublicKey = PublicKey>,
        S3: commonware_p2p::Sender<PublicKey = PublicKey>,
        R3: commonware_p2p::Receiver<PublicKey = PublicKey>,
        S4: commonware_p2p::Sender<PublicKey = PublicKey>,
        R4: commonware_p2p::Receiver<PublicKey = PublicKey>,
    {
        let pk = self.participants[i].clone();
        let fixed = Set::from_iter_dedup(self.participants.clone());
        let (provider, blocker) = (self.oracle.manager(), self.oracle.control(pk.clone()));
        let chain_id = self.genesis.params.chain_id.clone();
        let (started, gossip_out) = oneshot::channel();
        let handle = self.context.with_label(label).spawn(move |ctx| async move {
            let gossip = gossip.map(|(chan, pool)| start_gossip(ctx.with_label("gossip"), &chain_id, pool, chan));
            let stack = ctx.with_label("stack");
            start_validator(stack, app, key, NAMESPACE, fixed, &partitions, provider, blocker, chans)
                .await
                .expect("the validator starts");
            let _ = started.send(gossip);
            futures::future::pending::<()>().await
        });
        (handle, gossip_out.await.expect("the validator started"))
    }

    /// Start the Byzantine validator `twins.validator` as two twins sharing its key and channels, each with
    /// its own partitions, committed engine, sink and conflicting transactions. The first is returned as
    /// the validator, the second beside it.
    async fn start_twins(&self, twins: &Twins, key: PrivateKey) -> (Validator, Validator) {
        let i = twins.validator;
        let participants = self.participants.clone();
        let first: Vec<PublicKey> = match twins.isolate {
            Some(victim) => vec![participants[victim].clone()],
            None => participants.clone(),
        };
        let second: Vec<PublicKey> = match twins.isolate {
            Some(victim) => {
                participants.iter().enumerate().filter(|(j, _)| *j != victim).map(|(_, p)| p.clone()).collect()
            }
            None => participants.clone(),
        };
        let mut halves = (Vec::new(), Vec::new());
        for (c, (sender, receiver)) in self.channels(i).await.into_iter().enumerate().take(5) {
            // Like commonware's twins, neither twin asks or answers simplex's certificate fetches (channel
            // 2): a fetch is tied to no view, and its answer would reach both twins.
            let fetches = c == 2;
            let (s1, s2) = sender.split_with(forwarder(fetches, first.clone(), second.clone()));
            let route = router(fetches, first.clone(), second.clone());
            let (r1, r2) = receiver.split_with(self.context.with_label(&format!("twin_split_{c}")), route);
            halves.0.push((s1, r1));
            halves.1.push((s2, r2));
        }
        let mut out = Vec::new();
        for (t, half) in [halves.0, halves.1].into_iter().enumerate() {
            let sink = Arc::new(RecordingSink::default());
            let conflicting = Conflicting {
                key: user(TWIN_SPENDER),
                amount: 1 + t as u128,
                chain_id: self.genesis.params.chain_id.clone(),
                fee: self.genesis.params.min_fee,
            };
            let (app, engine, pool) = self.app(&sink, Some(Arc::new(conflicting)));
            let proposed = Arc::new(Mutex::new(Vec::new()));
            let test_app = TestApp {
                inner: app.clone(),
                committed: engine.clone(),
                corrupt: false,
                proposed: proposed.clone(),
                slow_disk: None,
                redelivered: Default::default(),
                crash_hook: Default::default(),
            };
            let mut half = half.into_iter();
            let mut next = || half.next().expect("five channels");
            let chans = (next(), next(), next(), next(), next());
            let partitions = format!("{}-twin{t}", self.participants[i]);
            let (handle, gossip) =
                self.spawn(&format!("validator{i}_twin{t}"), test_app, key.clone(), i, partitions, chans, None).await;
            let live = Instance { app, engine, pool, gossip, handle: Some(handle), reports: Default::default() };
            let (redelivered, crash_hook) = Default::default();
            out.push(Validator { key: key.clone(), sink, proposed, redelivered, crash_hook, restarts: 0, live });
        }
        let second = out.pop().expect("two twins");
        (out.pop().expect("two twins"), second)
    }

    /// Stop validator `v` abruptly: its root task and every task under it are dropped wherever they are.
    async fn crash(v: &mut Validator) {
        let handle = v.live.handle.take().expect("a running validator");
        handle.abort();
        let _ = handle.await;
    }
}

/// Twins' senders: what one twin sends reaches only its side (`None` drops it all).
fn forwarder(
    drop: bool,
    first: Vec<PublicKey>,
    second: Vec<PublicKey>,
) -> impl Fn(SplitOrigin, &Recipients<PublicKey>, &IoBuf) -> Option<Recipients<PublicKey>> + Send + Sync + Clone + 'static
{
    move |origin, recipients, _| {
        let side = if origin == SplitOrigin::Primary { &first } else { &second };
        let to: Vec<PublicKey> = match recipients {
            Recipients::All => side.clone(),
            Recipients::Some(to) => to.iter().filter(|p| side.contains(p)).cloned().collect(),
            Recipients::One(p) => side.iter().filter(|s| *s == p).cloned().collect(),
        };
        (!drop && !to.is_empty()).then_some(Recipients::Some(to))
    }
}

/// Twins' receivers: a message reaches the twin (or both) whose side its sender is on.
fn router(
    drop: bool,
    first: Vec<PublicKey>,
    second: Vec<PublicKey>,
) -> impl Fn(&(PublicKey, IoBuf)) -> SplitTarget + Send + Sync + 'static {
    move |(sender, _)| match (drop, first.contains(sender), second.contains(sender)) {
        (true, _, _) | (false, false, false) => SplitTarget::None,
        (false, true, true) => SplitTarget::Both,
        (false, true, false) => SplitTarget::Primary,
        (false, false, true) => SplitTarget::Secondary,
    }
}

fn reached(v: &Validator, blocks: u64) -> bool {
    v.sink.len() >= blocks
}

async fn wait_until(context: &deterministic::Context, done: impl Fn() -> bool) {
    while !done() {
        context.sleep(Duration::from_millis(50)).await;
    }
}

async fn set_halves(
    oracle: &Oracle<PublicKey, deterministic::Context>,
    participants: &[PublicKey],
    link: &Link,
    connected: bool,
) {
    let half = participants.len() / 2;
    for (i, a) in participants.iter().enumerate() {
        for (j, b) in participants.iter().enumerate() {
            if (i < half) != (j < half) {
                if connected {
                    oracle.add_link(a.clone(), b.clone(), link.clone()).await.expect("a link");
                } else {
                    oracle.remove_link(a.clone(), b.clone()).await.expect("a link to remove");
                }
            }
        }
    }
}

/// Split the validators in two halves (neither a quorum) for 5 simulated seconds, then heal and wait
/// until all reach twice the scenario's blocks; the most blocks any validator finalized while split.
async fn split_and_heal(net: &Net, validators: &[Validator]) -> u64 {
    let lengths = || validators.iter().map(|v| v.sink.len());
    set_halves(&net.oracle, &net.participants, &net.scenario.link, false).await;
    let before: Vec<u64> = lengths().collect();
    net.context.sleep(Duration::from_secs(5)).await;
    let progress = lengths().zip(before).map(|(after, before)| after - before).max().unwrap_or(0);
    set_halves(&net.oracle, &net.participants, &net.scenario.link, true).await;
    let target = net.scenario.target();
    wait_until(&net.context, || validators.iter().all(|v| reached(v, target))).await;
    progress
}

/// Crash `crash.validators` (the first right after its sink took a block, if `at_ack`), keep them down
/// for `crash.down`, restart them from what they persisted, and wait until every honest validator reaches
/// the scenario's target and `blocks` beyond what any had when they restarted. With two down, how many
/// heights beyond the highest any validator had finalized at the crash were finalized meanwhile.
async fn crash_and_restart(net: &Net, validators: &mut [Validator], crash: &Crash) -> (Option<u64>, Vec<u64>) {
    if crash.at_ack {
        let first = &validators[crash.validators[0]];
        let (stop, stopped) = oneshot::channel();
        *first.crash_hook.lock().expect("a test lock") = Some((first.sink.len() + 1, stop));
        stopped.await.expect("the validator reaches the hook");
    } else {
        net.context.sleep(crash.after).await;
    }
    for &i in &crash.validators {
        Net::crash(&mut validators[i]).await;
    }
    let lengths = |vs: &[Validator]| vs.iter().map(|v| v.sink.len()).collect::<Vec<_>>();
    let before = lengths(validators);
    net.context.sleep(crash.down).await;
    let after = lengths(validators);
    // New heights, not a validator catching up on blocks another had finalized before the crash.
    let highest = |lengths: &[u64]| lengths.iter().max().copied().unwrap_or(0);
    let progress = highest(&after) - highest(&before);
    for &i in &crash.validators {
        let (durable, key) = (validators[i].restarted(), validators[i].key.clone());
        validators[i] = net.start(i, durable, key).await;
    }
    let target = net.scenario.target().max(after.iter().max().copied().unwrap_or(0) + net.scenario.blocks);
    let honest: Vec<usize> = (0..validators.len()).filter(|i| Some(*i) != net.scenario.faulty()).collect();
    wait_until(&net.context, || honest.iter().all(|&i| reached(&validators[i], target))).await;
    ((crash.validators.len() > 1).then_some(progress), after)
}

/// Start every validator (the Byzantine one as twins, if the scenario has them), from `durables` if they
/// restart; the second twin apart.
async fn start_all(net: &Net, keys: Vec<PrivateKey>, durables: &[Durable]) -> (Vec<Validator>, Option<Validator>) {
    let mut validators = Vec::new();
    let mut second = None;
    for (i, key) in keys.into_iter().enumerate() {
        match &net.scenario.twins {
            Some(twins) if twins.validator == i => {
                let (a, b) = net.start_twins(twins, key).await;
                validators.push(a);
                second = Some(b);
            }
            _ => validators.push(net.start(i, durables.get(i).cloned().unwrap_or_default(), key).await),
        }
    }
    (validators, second)
}

/// Heights at which the twins proposed different blocks.
fn equivocations(a: &Validator, b: &Validator) -> u64 {
    let a = a.proposed.lock().expect("a test lock").clone();
    let b = b.proposed.lock().expect("a test lock").clone();
    let heights: BTreeSet<u64> =
        a.iter().filter(|(h, d)| b.iter().any(|(h2, d2)| h2 == h && d2 != d)).map(|(h, _)| *h).collect();
    heights.len() as u64
}

/// Submit the scenario's transfers to one honest validator and gossip them; wait until every honest
/// validator (but a late joiner) finalized `blocks` and all of them.
async fn submit_and_wait(net: &Net, validators: &[Validator]) -> Vec<Hash> {
    let s = &net.scenario;
    let first = usize::from(s.late);
    let submitter = (first..validators.len()).find(|i| Some(*i) != s.faulty()).expect("an honest validator");
    let mut submitted = transfers(&net.genesis, s.txs);
    submitted.extend(s.elections.as_ref().map(|e| nominations(&net.genesis, e)).unwrap_or_default());
    let live = &validators[submitter].live;
    for tx in &submitted {
        assert!(live.pool.submit(tx.clone()), "a well-signed transfer is admitted");
    }
    live.gossip.as_ref().expect("an honest validator gossips").submit(submitted.clone()).expect("gossip runs");
    let submitted: Vec<Hash> = submitted.iter().map(SignedTx::hash).collect();
    let all_in = |v: &Validator| submitted.iter().all(|h| v.sink.txs.lock().expect("a test lock").contains(h));
    let waited: Vec<usize> = (first..validators.len()).filter(|i| Some(*i) != s.faulty()).collect();
    wait_until(&net.context, || waited.iter().all(|&i| reached(&validators[i], s.blocks) && all_in(&validators[i])))
        .await;
    submitted
}

/// Link the late joiner and wait until one of its proposals is finalized and all reach the target; its
/// proposals after linking.
async fn late_join(net: &Net, validators: &[Validator]) -> Vec<Digest> {
    link_one(&net.oracle, &net.participants, &net.scenario.link, 0).await;
    let before = validators[0].proposed.lock().expect("a test lock").len();
    let target = net.scenario.target();
    loop {
        let late: Vec<Digest> =
            validators[0].proposed.lock().expect("a test lock")[before..].iter().map(|(_, d)| *d).collect();
        let chain = validators[1].sink.chain.lock().expect("a test lock").clone();
        let finalized_late = late.iter().any(|d| chain.iter().any(|(_, h, _)| h.0 == d.0));
        if finalized_late && validators.iter().all(|v| reached(v, target)) {
            return late;
        }
        net.context.sleep(Duration::from_millis(100)).await;
    }
}

/// The scenario with `BFT_SEED=n` in place of its seed (to replay a printed seed, or to try others), and
/// its runtime's settings.
fn seeded(scenario: &Scenario) -> (Scenario, deterministic::Config) {
    let mut scenario = scenario.clone();
    if let Some(seed) = std::env::var("BFT_SEED").ok().and_then(|s| s.parse().ok()) {
        scenario.seed = seed;
    }
    println!("seed {} for {scenario:?}", scenario.seed);
    let config = deterministic::Config::default().with_seed(scenario.seed).with_timeout(Some(Duration::from_secs(300)));
    (scenario, config)
}

/// A simulated network with the scenario's links, and the validators' keys (drawn from the runtime's
/// seed, or given again after a restart of the whole runtime).
async fn open(
    context: &mut deterministic::Context,
    scenario: Scenario,
    keys: Option<(Vec<PrivateKey>, Vec<PublicKey>)>,
) -> (Net, Vec<PrivateKey>) {
    let simulated = simulated::Config { max_size: 16 << 20, disconnect_on_block: true, tracked_peer_sets: Some(1) };
    let (network, oracle) = Network::new(context.with_label("network"), simulated);
    network.start();
    let (secrets, participants) = keys.unwrap_or_else(|| {
        let Fixture { private_keys, participants, .. } = ed25519::fixture(context, NAMESPACE, scenario.n);
        (private_keys, participants)
    });
    let seed = |k: &PrivateKey| -> [u8; 32] {
        commonware_codec::Encode::encode(k).as_ref().try_into().expect("a 32-byte seed")
    };
    let seeds = secrets.iter().map(seed).collect();
    oracle.manager().track(0, Set::from_iter_dedup(participants.clone())).await;
    link_all(&oracle, &participants, &scenario.link, scenario.late.then_some(0)).await;
    let genesis = genesis(&scenario, &participants);
    (Net { context: context.clone(), oracle, participants, seeds, genesis, scenario }, secrets)
}

/// What the phases of a run found.
#[derive(Default)]
struct Phases {
    submitted: Vec<Hash>,
    late_proposed: Vec<Digest>,
    partition_progress: Option<u64>,
    crash_progress: Option<u64>,
    restarted_at: Option<Vec<u64>>,
}

/// Run `scenario` to its end and report what every validator saw (`BFT_SEED=n` replaces its seed).
pub fn run(scenario: &Scenario) -> Run {
    let (scenario, config) = seeded(scenario);
    deterministic::Runner::new(config).start(|mut context| async move {
        let (net, secrets) = open(&mut context, scenario, None).await;
        let (mut validators, twin) = start_all(&net, secrets, &[]).await;
        let mut phases = Phases { submitted: submit_and_wait(&net, &validators).await, ..Phases::default() };
        if net.scenario.late {
            phases.late_proposed = late_join(&net, &validators).await;
        }
        if net.scenario.partition {
            phases.partition_progress = Some(split_and_heal(&net, &validators).await);
        }
        if let Some(crash) = net.scenario.crash.clone() {
            let (progress, restarted_at) = crash_and_restart(&net, &mut validators, &crash).await;
            (phases.crash_progress, phases.restarted_at) = (progress, Some(restarted_at));
        }
        if net.scenario.evidence {
            // Until an equivocation slash is finalized on every honest validator.
            let honest: Vec<usize> = (0..validators.len()).filter(|i| Some(*i) != net.scenario.faulty()).collect();
            let slashed = |v: &Validator| !v.sink.slashes.lock().expect("a test lock").is_empty();
            wait_until(&net.context, || honest.iter().all(|&i| slashed(&validators[i]))).await;
        }
        report(&net, &validators, twin.as_ref(), phases).await
    })
}

/// Run `scenario` until its first `blocks`, then `stop_after` later stop the whole runtime abruptly (every
/// task dropped, unsynced storage lost: `start_and_recover`), start a new runtime from its checkpoint and
/// every validator from what it persisted, and wait until all finalize `blocks` more.
pub fn run_through_an_unclean_shutdown(scenario: &Scenario, stop_after: Duration) -> Run {
    let (scenario, config) = seeded(scenario);
    let durables: Vec<Durable> = (0..scenario.n).map(|_| Durable::default()).collect();
    let before = scenario.clone();
    let (keys, checkpoint) = deterministic::Runner::new(config).start_and_recover(|mut context| {
        let durables = durables.clone();
        async move {
            let (net, secrets) = open(&mut context, before, None).await;
            let keys = (secrets.clone(), net.participants.clone());
            let (validators, _) = start_all(&net, secrets, &durables).await;
            submit_and_wait(&net, &validators).await;
            context.sleep(stop_after).await;
            keys
        }
    });
    deterministic::Runner::from(checkpoint).start(|mut context| async move {
        let (net, secrets) = open(&mut context, scenario, Some(keys)).await;
        let restarted: Vec<Durable> = durables.iter().map(|d| Durable { restarts: 1, ..d.clone() }).collect();
        let (validators, _) = start_all(&net, secrets, &restarted).await;
        let target = durables.iter().map(|d| d.sink.len()).max().unwrap_or(0) + net.scenario.blocks;
        wait_until(&net.context, || validators.iter().all(|v| reached(v, target))).await;
        report(&net, &validators, None, Phases::default()).await
    })
}

/// What every validator saw.
async fn report(net: &Net, validators: &[Validator], twin: Option<&Validator>, phases: Phases) -> Run {
    let index = |pk: &PublicKey| net.participants.iter().position(|p| p == pk).expect("a participant");
    let blocked = net.oracle.blocked().await.expect("the network runs");
    let faulty = net.scenario.faulty();
    Run {
        partition_progress: phases.partition_progress,
        crash_progress: phases.crash_progress,
        restarted_at: phases.restarted_at,
        sinks: validators.iter().map(|v| v.sink.chain.lock().expect("a test lock").clone()).collect(),
        heads: validators
            .iter()
            .map(|v| {
                let e = v.live.engine.read().expect("a test lock");
                (e.height().0, e.last_block_hash(), e.state_root())
            })
            .collect(),
        proposed: validators.iter().map(|v| v.proposed.lock().expect("a test lock").clone()).collect(),
        late_proposed: phases.late_proposed,
        gossiped: validators.iter().map(|v| v.live.pool.admitted()).collect(),
        submitted: phases.submitted,
        finalized_txs: validators.iter().map(|v| v.sink.txs.lock().expect("a test lock").clone()).collect(),
        fatal: validators.iter().map(|v| v.live.app.fatal()).collect(),
        redelivered: validators.iter().map(|v| v.redelivered.load(Ordering::Relaxed)).collect(),
        equivocations: twin.map_or(0, |b| equivocations(&validators[faulty.expect("twins")], b)),
        blocked: blocked.iter().map(|(a, b)| (index(a), index(b))).collect(),
        replayed: validators.iter().map(|v| v.live.app.replayed()).collect(),
        auditor: net.context.auditor().state(),
        keys: net.participants.clone(),
        finality: validators.iter().map(|v| v.sink.finality.lock().expect("a test lock").clone()).collect(),
        events: validators.iter().map(|v| v.sink.events.lock().expect("a test lock").clone()).collect(),
        proposers: validators
            .iter()
            .map(|v| v.sink.blocks.lock().expect("a test lock").iter().map(|b| b.proposer).collect())
            .collect(),
        states: validators.iter().map(|v| v.live.engine.read().expect("a test lock").fork()).collect(),
        slashes: validators.iter().map(|v| v.sink.slashes.lock().expect("a test lock").clone()).collect(),
        reports: validators.iter().map(|v| v.live.reports.load(Ordering::Relaxed)).collect(),
        genesis: net.genesis.clone(),
    }
}

/// Every validator (but `except`) finalized the same first `blocks` blocks, and every committed engine's
/// head is a block of that same chain. Sinks record (height, hash, state root), so equal chains also mean
/// equal state roots at every height.
pub fn assert_agreement(run: &Run, blocks: u64, except: Option<usize>) {
    let honest: Vec<usize> = (0..run.sinks.len()).filter(|i| Some(*i) != except).collect();
    let reference = &run.sinks[honest[0]];
    assert!(reference.len() as u64 >= blocks, "only {} blocks finalized", reference.len());
    for (i, block) in reference.iter().enumerate() {
        assert_eq!(block.0, i as u64 + 1, "the sink sees heights in order, none skipped");
    }
    let longest = honest.iter().map(|&i| &run.sinks[i]).max_by_key(|c| c.len()).expect("an honest validator");
    for &i in &honest {
        let chain = &run.sinks[i];
        assert!(chain.len() as u64 >= blocks, "validator {i} finalized only {} blocks", chain.len());
        assert_eq!(chain[..], longest[..chain.len()], "validator {i} finalized a different chain");
        let head = run.heads[i];
        assert_eq!(Some(&head), longest.get(head.0 as usize - 1), "validator {i}'s engine is not at a finalized block");
        assert!(run.fatal[i].is_none(), "validator {i} stopped: {:?}", run.fatal[i]);
    }
}
