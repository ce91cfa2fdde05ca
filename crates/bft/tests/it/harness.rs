//! The scenario driver: n validators over a simulated network, each with its own committed engine, pool,
//! recording sink and gossip, one optionally late (unlinked until the others reach the target) or
//! Byzantine (its proposals carry a corrupted state root).

use bft::{
    start_gossip, start_validator, App, AppConfig, Certificates, ChainBlock, Digest, Finality, FinalizeError,
    Finalizer, MemoryPool, Sink, SinkError, TxSource, CHANNEL_TXS,
};
use commonware_consensus::{
    marshal::{
        ancestry::{AncestorStream, BlockProvider},
        Update,
    },
    simplex::{scheme::ed25519, types::Context},
    Application, Reporter, VerifyingApplication,
};
use commonware_cryptography::{certificate::mocks::Fixture, ed25519::PublicKey, Digestible, Signer};
use commonware_p2p::{
    simulated::{self, Link, Network, Oracle},
    Manager,
};
use commonware_runtime::{deterministic, Clock, Metrics, Quota, Runner as _, Spawner};
use commonware_utils::{ordered::Set, NZU32};
use ed25519_dalek::SigningKey;
use engine::{testkit, Block, BlockOutcome, Call, Engine, Genesis, Params, SignedTx, TxBody};
use rand::Rng;
use std::{
    collections::BTreeSet,
    sync::{Arc, Mutex, RwLock},
    time::Duration,
};
use types::{AccountId, Amount, Hash};

pub const NAMESPACE: &[u8] = b"stakework/consensus/test";
const QUOTA: Quota = Quota::per_second(NZU32!(u32::MAX));

/// Whether the heavier variants run (`RUN_SLOW_TESTS=1`).
pub fn slow() -> bool {
    std::env::var("RUN_SLOW_TESTS").is_ok_and(|v| v == "1")
}

/// Links with 10 ms latency and no loss.
pub fn good_link() -> Link {
    Link { latency: Duration::from_millis(10), jitter: Duration::from_millis(1), success_rate: 1.0 }
}

/// What a scenario sets up.
#[derive(Clone)]
pub struct Scenario {
    pub n: u32,
    pub seed: u64,
    pub link: Link,
    /// Finalized blocks to reach (twice this for a late joiner's scenario).
    pub blocks: u64,
    /// Validator 0 stays unlinked until the others finalize `blocks`.
    pub late: bool,
    /// This validator's proposals carry a corrupted state root.
    pub byzantine: Option<usize>,
    /// After `blocks`, split the validators into two halves for a while, then heal and go on to twice
    /// `blocks`.
    pub partition: bool,
    /// Signed transfers submitted to one validator.
    pub txs: u64,
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
            .field("txs", &self.txs)
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
    /// The blocks each validator proposed (corrupted ones for the Byzantine validator).
    pub proposed: Vec<Vec<Digest>>,
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
    /// Ancestors each validator replayed to rebuild a parent state it had not seen.
    pub replayed: Vec<u64>,
    pub auditor: String,
    /// Each validator's public key.
    pub keys: Vec<PublicKey>,
    /// The finality evidence each validator's sink got, as (height, block hash, evidence).
    pub finality: Vec<Vec<(u64, Hash, Finality)>>,
}

/// Records finalized blocks (the node makes them durable here).
#[derive(Debug, Default)]
pub struct RecordingSink {
    chain: Mutex<Chain>,
    txs: Mutex<BTreeSet<Hash>>,
    finality: Mutex<Vec<(u64, Hash, Finality)>>,
}

impl Sink for RecordingSink {
    fn finalized(&self, block: &Block, outcome: &BlockOutcome, state: &Engine) -> Result<(), SinkError> {
        // Conservation after every finalized block on every validator.
        state.check_invariants().unwrap_or_else(|v| panic!("block {}: {v:?}", block.height));
        self.chain.lock().expect("a test lock").push((block.height.0, outcome.block_hash, outcome.state_root));
        self.txs.lock().expect("a test lock").extend(block.txs.iter().map(SignedTx::hash));
        Ok(())
    }

    fn finalized_with(
        &self,
        block: &Block,
        outcome: &BlockOutcome,
        state: &Engine,
        finality: &Finality,
    ) -> Result<(), SinkError> {
        self.finality.lock().expect("a test lock").push((block.height.0, outcome.block_hash, finality.clone()));
        self.finalized(block, outcome, state)
    }
}

/// The real [`App`], recording what it proposes, corrupting the state root of its proposals when
/// `corrupt` (a Byzantine leader), and finalizing slowly when `slow_disk` is set (each finalized block
/// waits that long first, as on a slow disk, so the committed state lags behind the notarized tip).
#[derive(Clone)]
pub struct TestApp {
    inner: App,
    corrupt: bool,
    proposed: Arc<Mutex<Vec<Digest>>>,
    slow_disk: Option<(deterministic::Context, Duration)>,
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
        self.proposed.lock().expect("a test lock").push(block.digest());
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
}

impl Reporter for TestApp {
    type Activity = Update<ChainBlock>;
    async fn report(&mut self, activity: Self::Activity) {
        if let (Some((clock, delay)), Update::Block(..)) = (&self.slow_disk, &activity) {
            clock.sleep(*delay).await;
        }
        self.inner.report(activity).await
    }
}

/// One validator's handles, as the test sees them.
struct Validator {
    key: PublicKey,
    app: App,
    engine: Arc<RwLock<Engine>>,
    sink: Arc<RecordingSink>,
    pool: Arc<MemoryPool>,
    proposed: Arc<Mutex<Vec<Digest>>>,
    gossip: bft::Gossip,
}

fn user(i: u8) -> SigningKey {
    SigningKey::from_bytes(&[i + 1; 32])
}

fn account(key: &SigningKey) -> AccountId {
    AccountId(key.verifying_key().to_bytes())
}

fn genesis() -> Genesis {
    let accounts = (0..4).map(|i| (account(&user(i)), Amount(1_000_000_000_000), Amount::ZERO)).collect();
    testkit::genesis(Params::default(), accounts, Vec::new())
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

async fn start_all(
    context: &mut deterministic::Context,
    oracle: &Oracle<PublicKey, deterministic::Context>,
    scenario: &Scenario,
    genesis: &Genesis,
) -> (Vec<PublicKey>, Vec<Validator>) {
    let Fixture { schemes, private_keys, participants, .. } = ed25519::fixture(context, NAMESPACE, scenario.n);
    oracle.manager().track(0, Set::from_iter_dedup(participants.clone())).await;
    link_all(oracle, &participants, &scenario.link, scenario.late.then_some(0)).await;
    let mut validators = Vec::new();
    for (i, (signer, scheme)) in private_keys.into_iter().zip(schemes).enumerate() {
        let pk = signer.public_key();
        let control = oracle.control(pk.clone());
        let mut channels = Vec::new();
        for channel in 0..=CHANNEL_TXS {
            channels.push(control.register(channel, QUOTA).await.expect("a channel"));
        }
        let mut channels = channels.into_iter();
        let mut next = || channels.next().expect("six channels");
        let (votes, certificates, resolver, blocks, backfill, txs) = (next(), next(), next(), next(), next(), next());
        let engine = Arc::new(RwLock::new(Engine::from_genesis(genesis).expect("a valid genesis")));
        let pool = Arc::new(MemoryPool::new(&genesis.params.chain_id));
        let sink = Arc::new(RecordingSink::default());
        let config = AppConfig { block_interval: Duration::from_millis(100) };
        let app = App::new(genesis, engine.clone(), pool.clone() as Arc<dyn TxSource>, sink.clone(), config)
            .expect("a valid genesis");
        let proposed = Arc::new(Mutex::new(Vec::new()));
        let slow_disk = (scenario.late && i == 0).then(|| (context.clone(), Duration::from_millis(300)));
        let corrupt = scenario.byzantine == Some(i);
        let test_app = TestApp { inner: app.clone(), corrupt, proposed: proposed.clone(), slow_disk };
        let ctx = context.with_label(&format!("validator{i}"));
        let gossip = start_gossip(ctx.with_label("gossip"), &genesis.params.chain_id, pool.clone(), txs);
        let chans = (votes, certificates, resolver, blocks, backfill);
        start_validator(ctx, test_app, scheme, pk.clone(), oracle.manager(), control, chans)
            .await
            .expect("the validator starts");
        validators.push(Validator { key: pk, app, engine, sink, pool, proposed, gossip });
    }
    (participants, validators)
}

fn reached(v: &Validator, blocks: u64) -> bool {
    v.sink.chain.lock().expect("a test lock").len() as u64 >= blocks
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
async fn split_and_heal(
    context: &mut deterministic::Context,
    oracle: &Oracle<PublicKey, deterministic::Context>,
    participants: &[PublicKey],
    validators: &[Validator],
    scenario: &Scenario,
) -> u64 {
    let lengths = || validators.iter().map(|v| v.sink.chain.lock().expect("a test lock").len() as u64);
    set_halves(oracle, participants, &scenario.link, false).await;
    let before: Vec<u64> = lengths().collect();
    context.sleep(Duration::from_secs(5)).await;
    let progress = lengths().zip(before).map(|(after, before)| after - before).max().unwrap_or(0);
    set_halves(oracle, participants, &scenario.link, true).await;
    while !validators.iter().all(|v| reached(v, 2 * scenario.blocks)) {
        context.sleep(Duration::from_millis(100)).await;
    }
    progress
}

/// Run `scenario` to its end and report what every validator saw. `BFT_SEED=n` replaces its seed (to
/// replay a printed seed, or to try others).
pub fn run(scenario: &Scenario) -> Run {
    let mut scenario = scenario.clone();
    if let Some(seed) = std::env::var("BFT_SEED").ok().and_then(|s| s.parse().ok()) {
        scenario.seed = seed;
    }
    println!("seed {} for {scenario:?}", scenario.seed);
    let config = deterministic::Config::default().with_seed(scenario.seed).with_timeout(Some(Duration::from_secs(300)));
    deterministic::Runner::new(config).start(|mut context| async move {
        let simulated = simulated::Config { max_size: 16 << 20, disconnect_on_block: true, tracked_peer_sets: Some(1) };
        let (network, oracle) = Network::new(context.with_label("network"), simulated);
        network.start();
        let genesis = genesis();
        let (participants, validators) = start_all(&mut context, &oracle, &scenario, &genesis).await;
        let submitter = usize::from(scenario.late);
        let submitted = transfers(&genesis, scenario.txs);
        for tx in &submitted {
            assert!(validators[submitter].pool.submit(tx.clone()), "a well-signed transfer is admitted");
        }
        validators[submitter].gossip.submit(submitted.clone()).expect("gossip runs");
        let submitted: Vec<Hash> = submitted.iter().map(SignedTx::hash).collect();
        let all_in = |v: &Validator| submitted.iter().all(|h| v.sink.txs.lock().expect("a test lock").contains(h));
        let first = usize::from(scenario.late);
        while !validators[first..].iter().all(|v| reached(v, scenario.blocks) && all_in(v)) {
            context.sleep(Duration::from_millis(100)).await;
        }
        let mut late_proposed = Vec::new();
        if scenario.late {
            link_one(&oracle, &participants, &scenario.link, 0).await;
            let before = validators[0].proposed.lock().expect("a test lock").len();
            let target = 2 * scenario.blocks;
            loop {
                late_proposed = validators[0].proposed.lock().expect("a test lock")[before..].to_vec();
                let chain = validators[1].sink.chain.lock().expect("a test lock").clone();
                let finalized_late = late_proposed.iter().any(|d| chain.iter().any(|(_, h, _)| h.0 == d.0));
                if finalized_late && validators.iter().all(|v| reached(v, target)) {
                    break;
                }
                context.sleep(Duration::from_millis(100)).await;
            }
        }
        let partition_progress = if scenario.partition {
            Some(split_and_heal(&mut context, &oracle, &participants, &validators, &scenario).await)
        } else {
            None
        };
        Run {
            partition_progress,
            sinks: validators.iter().map(|v| v.sink.chain.lock().expect("a test lock").clone()).collect(),
            heads: validators
                .iter()
                .map(|v| {
                    let e = v.engine.read().expect("a test lock");
                    (e.height().0, e.last_block_hash(), e.state_root())
                })
                .collect(),
            proposed: validators.iter().map(|v| v.proposed.lock().expect("a test lock").clone()).collect(),
            late_proposed,
            gossiped: validators.iter().map(|v| v.pool.admitted()).collect(),
            submitted,
            finalized_txs: validators.iter().map(|v| v.sink.txs.lock().expect("a test lock").clone()).collect(),
            fatal: validators.iter().map(|v| v.app.fatal()).collect(),
            replayed: validators.iter().map(|v| v.app.replayed()).collect(),
            auditor: context.auditor().state(),
            keys: validators.iter().map(|v| v.key.clone()).collect(),
            finality: validators.iter().map(|v| v.sink.finality.lock().expect("a test lock").clone()).collect(),
        }
    })
}

/// Every validator (but `except`) finalized the same first `blocks` blocks, and every committed engine's
/// head is a block of that same chain.
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
