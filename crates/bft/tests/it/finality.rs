//! Finality evidence and the start check: every finalized block's certificate verifies against the
//! validator set and names the validator that proposed the block (a late joiner's backfilled blocks name a
//! later certified height instead); a validator whose committed state is below what marshal was told is
//! durable refuses to start.

use crate::harness::{good_link, run, Run, Scenario, NAMESPACE};
use bft::{
    finality, start_validator, App, AppConfig, Finality, MemoryPool, Sink, SinkError, TxSource, ValidatorError,
    CHANNEL_TXS,
};
use commonware_codec::DecodeExt;
use commonware_cryptography::{ed25519, Signer};
use commonware_p2p::{simulated, Manager};
use commonware_runtime::{deterministic, Clock, Metrics, Quota, Runner as _};
use commonware_utils::{ordered::Set, NZU32};
use engine::{testkit, Block, BlockOutcome, Engine, Genesis, Params};
use std::sync::{
    atomic::{AtomicU64, Ordering},
    Arc, RwLock,
};
use std::time::Duration;
use types::{AccountId, Amount};

#[test]
fn every_finalized_block_carries_a_certificate_that_verifies_and_names_its_proposer() {
    let run = run(&scenario(17, false));
    for i in 0..4 {
        let certified = check_evidence(&run, i, 12);
        assert_eq!(certified, run.finality[i].len(), "validator {i}: with good links every block has its own");
    }
}

#[test]
fn a_late_joiners_blocks_carry_a_certificate_or_a_later_certified_height() {
    let run = run(&scenario(11, true));
    for i in 0..4 {
        let certified = check_evidence(&run, i, 24);
        assert!(certified > 0, "validator {i} holds no certificate at all");
    }
    let late = &run.finality[0];
    assert!(
        late.iter().any(|(_, _, f)| matches!(f, Finality::Ancestor { .. })),
        "the late joiner caught up through backfill, so some blocks reached it without their own certificate"
    );
}

fn scenario(seed: u64, late: bool) -> Scenario {
    Scenario { link: good_link(), late, txs: 8, ..Scenario::new(4, seed, 12) }
}

/// Check validator `i`'s evidence for at least `blocks` blocks: each certificate verifies against the set,
/// holds a quorum, names the validator that proposed the block and fails for another block or a changed
/// signature; each ancestor record names a later height. How many blocks carry their own certificate.
fn check_evidence(run: &Run, i: usize, blocks: u64) -> usize {
    let validators: Vec<AccountId> =
        run.keys.iter().map(|k| AccountId(k.as_ref().try_into().expect("32 bytes"))).collect();
    let records = &run.finality[i];
    assert!(records.len() as u64 >= blocks, "validator {i} recorded evidence for {} blocks", records.len());
    let mut certified = 0;
    for (height, hash, evidence) in records {
        match evidence {
            Finality::Certified(c) => {
                certified += 1;
                let checked = finality::verify(NAMESPACE, &validators, *hash, &c.encoded)
                    .unwrap_or_else(|e| panic!("validator {i} block {height}: [{}] {e}", e.code()));
                assert_eq!((checked.view, checked.parent_view), (c.view, c.parent_view));
                assert_eq!(checked.signers, c.signers);
                assert_eq!((c.quorum, c.validators), (3, 4));
                assert!(c.signers.len() as u32 >= c.quorum, "block {height}: {} signers", c.signers.len());
                assert!(c.parent_view < c.view);
                let proposer = run.proposed.iter().position(|p| p.iter().any(|(_, d)| d.0 == hash.0));
                let proposer = proposer.unwrap_or_else(|| panic!("nobody proposed block {height}"));
                assert_eq!(c.proposer, validators[proposer], "block {height}: the named leader did not propose it");
                assert_eq!(checked.proposer, c.proposer);
                let mut other = *hash;
                other.0[0] ^= 1;
                let wrong = finality::verify(NAMESPACE, &validators, other, &c.encoded).expect_err("another block");
                assert_eq!(wrong.code(), "certificate_for_another_block");
                let mut forged = c.encoded.clone();
                let last = forged.len() - 1;
                forged[last] ^= 1;
                let forged = finality::verify(NAMESPACE, &validators, *hash, &forged).expect_err("a bad signature");
                assert_eq!(forged.code(), "certificate_signatures_invalid");
            }
            Finality::Ancestor { certified_height } => {
                let at = certified_height.expect("marshal reports its certified tip before any block");
                assert!(at.0 > *height, "block {height} is an ancestor of {at:?}");
            }
        }
    }
    println!("validator {i}: {certified} of {} blocks with their own certificate", records.len());
    certified
}

/// Counts finalized blocks.
#[derive(Default)]
struct Counting(AtomicU64);

impl Sink for Counting {
    fn finalized(&self, _: &Block, _: &BlockOutcome, _: &Engine, _: &Finality) -> Result<(), SinkError> {
        self.0.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

fn genesis() -> Genesis {
    testkit::genesis(Params::default(), vec![(AccountId([1; 32]), Amount(1_000), Amount::ZERO)], Vec::new())
}

/// One validator (a fixed key, so a restart has the same one) on a simulated network, over `engine`.
async fn start_one(
    context: &deterministic::Context,
    engine: Arc<RwLock<Engine>>,
    sink: Arc<Counting>,
) -> Result<(), ValidatorError> {
    let secret = ed25519::PrivateKey::decode(&[7u8; 32][..]).expect("a seed");
    let key = secret.public_key();
    let simulated = simulated::Config { max_size: 16 << 20, disconnect_on_block: true, tracked_peer_sets: Some(1) };
    let (network, oracle) = simulated::Network::new(context.with_label("network"), simulated);
    network.start();
    oracle.manager().track(0, Set::from_iter_dedup([key.clone()])).await;
    let control = oracle.control(key.clone());
    let quota = Quota::per_second(NZU32!(u32::MAX));
    let mut channels = Vec::new();
    for channel in 0..CHANNEL_TXS {
        channels.push(control.register(channel, quota).await.expect("a channel"));
    }
    let mut channels = channels.into_iter();
    let mut next = || channels.next().expect("five channels");
    let chans = (next(), next(), next(), next(), next());
    let genesis = genesis();
    let pool = Arc::new(MemoryPool::new(&genesis.params.chain_id)) as Arc<dyn TxSource>;
    let config = AppConfig { block_interval: Duration::from_millis(100) };
    let app = App::new(&genesis, engine, pool, sink, config).expect("a valid genesis");
    let partitions = key.to_string();
    let fixed = Set::from_iter_dedup([key.clone()]);
    let (manager, context) = (oracle.manager(), context.with_label("validator"));
    start_validator(context, app, secret, NAMESPACE, fixed, &partitions, manager, control, chans).await
}

#[test]
fn a_store_behind_what_consensus_was_told_is_durable_refuses_to_start() {
    let config = deterministic::Config::default().with_seed(3).with_timeout(Some(Duration::from_secs(120)));
    let (finalized, checkpoint) = deterministic::Runner::new(config).start_and_recover(|context| async move {
        let engine = Arc::new(RwLock::new(Engine::from_genesis(&genesis()).expect("a valid genesis")));
        let sink = Arc::new(Counting::default());
        start_one(&context, engine, sink.clone()).await.expect("a new validator starts");
        while sink.0.load(Ordering::Relaxed) < 3 {
            context.sleep(Duration::from_millis(100)).await;
        }
        // Let marshal record the acknowledgements.
        context.sleep(Duration::from_secs(1)).await;
        sink.0.load(Ordering::Relaxed)
    });
    assert!(finalized >= 3);
    // The same consensus storage, but a store that lost every block: an engine back at genesis.
    let err = deterministic::Runner::from(checkpoint).start(|context| async move {
        let engine = Arc::new(RwLock::new(Engine::from_genesis(&genesis()).expect("a valid genesis")));
        start_one(&context, engine, Arc::new(Counting::default())).await.expect_err("the store lost blocks")
    });
    assert_eq!(err.code(), "store_behind_consensus");
    let ValidatorError::StoreBehindConsensus { store, acked } = err else { panic!("{err}") };
    assert_eq!(store, 0);
    assert!(acked >= 1, "marshal had blocks acknowledged");
    println!("refused: store 0, acknowledged {acked} (of {finalized} finalized)");
}
