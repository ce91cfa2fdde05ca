//! Equivocation evidence against commonware itself: votes signed by commonware's simplex ed25519 scheme,
//! turned into `protocol::Equivocation` by `bft::equivocation`, are accepted by the pure
//! `Equivocation::verify` (which re-encodes what commonware signs without commonware), and tampered or
//! non-conflicting evidence, or evidence checked under another chain's namespace, is refused.

use crate::harness::{assert_agreement, key_account, run, stash, Scenario, Twins, CHAIN_ID, NAMESPACE, STASH_BONDED};
use bft::{equivocation, Digest, MemoryPool, Reporter, Scheme, TxSource};
use commonware_codec::Encode;
use commonware_consensus::simplex::scheme::ed25519;
use commonware_consensus::simplex::types::{
    Activity, ConflictingFinalize, ConflictingNotarize, Finalize, Notarize, Nullify, NullifyFinalize, Proposal,
};
use commonware_consensus::types::{Epoch, Round, View};
use commonware_cryptography::certificate::mocks::Fixture;
use commonware_utils::ordered::Set;
use engine::protocol::evidence::{consensus_namespace, Conflict, EvidenceError};
use engine::{testkit, Call, Engine, Event, Params, EQUIVOCATION_REPORTER_SHARE};
use rand::{rngs::StdRng, SeedableRng};
use types::{AccountId, Amount};

struct Signers {
    fixture: Fixture<Scheme>,
    participants: Set<commonware_cryptography::ed25519::PublicKey>,
}

fn signers(namespace: &[u8]) -> Signers {
    let fixture = ed25519::fixture(&mut StdRng::seed_from_u64(21), namespace, 4);
    let participants = Set::from_iter_dedup(fixture.participants.clone());
    Signers { fixture, participants }
}

fn proposal(epoch: u64, view: u64, parent: u64, payload: u8) -> Proposal<Digest> {
    Proposal::new(
        Round::new(Epoch::new(epoch), View::new(view)),
        View::new(parent),
        bft::to_digest(types::Hash([payload; 32])),
    )
}

fn conflicting_notarize(s: &Signers, who: usize, epoch: u64, view: u64) -> Activity<Scheme, Digest> {
    let scheme = &s.fixture.schemes[who];
    let a = Notarize::sign(scheme, proposal(epoch, view, view - 1, 1)).expect("a signer");
    let b = Notarize::sign(scheme, proposal(epoch, view, view - 1, 2)).expect("a signer");
    Activity::ConflictingNotarize(ConflictingNotarize::new(a, b))
}

fn conflicting_finalize(s: &Signers, who: usize, view: u64) -> Activity<Scheme, Digest> {
    let scheme = &s.fixture.schemes[who];
    // Different parents, same payload: still two proposals.
    let a = Finalize::sign(scheme, proposal(0, view, view - 1, 7)).expect("a signer");
    let b = Finalize::sign(scheme, proposal(0, view, view - 2, 7)).expect("a signer");
    Activity::ConflictingFinalize(ConflictingFinalize::new(a, b))
}

fn key_of(s: &Signers, who: usize) -> AccountId {
    AccountId(s.fixture.participants[who].encode().as_ref().try_into().expect("32 bytes"))
}

#[test]
fn commonware_votes_convert_to_evidence_the_pure_check_accepts() {
    let s = signers(NAMESPACE);
    for (who, epoch, view) in [(0, 0, 1), (2, 0, 300), (3, 5, 1 << 40)] {
        let evidence = equivocation(&conflicting_notarize(&s, who, epoch, view), &s.participants).expect("a fault");
        assert_eq!((evidence.offender, evidence.epoch, evidence.view), (key_of(&s, who), epoch, view));
        assert!(matches!(evidence.conflict, Conflict::Notarize { .. }));
        assert_eq!(evidence.verify(NAMESPACE), Ok(()), "notarize/notarize by {who} in ({epoch}, {view})");
    }
    let evidence = equivocation(&conflicting_finalize(&s, 1, 9), &s.participants).expect("a fault");
    assert!(matches!(evidence.conflict, Conflict::Finalize { .. }));
    assert_eq!(evidence.verify(NAMESPACE), Ok(()));

    let scheme = &s.fixture.schemes[2];
    let nullify = Nullify::sign::<Digest>(scheme, Round::new(Epoch::zero(), View::new(6))).expect("a signer");
    let finalize = Finalize::sign(scheme, proposal(0, 6, 5, 3)).expect("a signer");
    let activity = Activity::NullifyFinalize(NullifyFinalize::new(nullify, finalize));
    let evidence = equivocation(&activity, &s.participants).expect("a fault");
    assert!(matches!(evidence.conflict, Conflict::NullifyFinalize { .. }));
    assert_eq!((evidence.offender, evidence.view), (key_of(&s, 2), 6));
    assert_eq!(evidence.verify(NAMESPACE), Ok(()));
}

#[test]
fn tampered_same_proposal_or_foreign_evidence_is_refused() {
    let s = signers(NAMESPACE);
    let evidence = equivocation(&conflicting_notarize(&s, 0, 0, 4), &s.participants).expect("a fault");
    let Conflict::Notarize { first, second } = evidence.conflict else { panic!("a notarize pair") };

    let mut forged = second;
    forged.signature.0[10] ^= 0x40;
    let tampered =
        engine::protocol::Equivocation { conflict: Conflict::Notarize { first, second: forged }, ..evidence };
    assert_eq!(tampered.verify(NAMESPACE), Err(EvidenceError::BadSignature { vote: "second" }));

    let same = engine::protocol::Equivocation { conflict: Conflict::Notarize { first, second: first }, ..evidence };
    assert_eq!(same.verify(NAMESPACE), Err(EvidenceError::SameProposal));

    let as_finalize = engine::protocol::Equivocation { conflict: Conflict::Finalize { first, second }, ..evidence };
    assert!(as_finalize.verify(NAMESPACE).is_err(), "a notarize signature is no finalize signature");

    let blamed = engine::protocol::Equivocation { offender: key_of(&s, 1), ..evidence };
    assert!(blamed.verify(NAMESPACE).is_err(), "another validator did not sign these votes");

    assert!(evidence.verify(b"stakework/consensus/other-chain").is_err(), "another chain's namespace");
    // Votes signed for another chain do not convict on this one.
    let other = signers(&consensus_namespace("other-chain"));
    let foreign = equivocation(&conflicting_notarize(&other, 0, 0, 4), &other.participants).expect("a fault");
    assert_eq!(foreign.verify(&consensus_namespace("other-chain")), Ok(()));
    assert!(foreign.verify(NAMESPACE).is_err());

    let vote = Notarize::sign(&s.fixture.schemes[0], proposal(0, 4, 3, 1)).expect("a signer");
    assert_eq!(equivocation(&Activity::Notarize(vote), &s.participants), None, "an honest vote is no fault");
}

#[test]
fn a_reporter_signs_one_report_per_offender_and_era_and_only_proven_ones() {
    let chain = "test";
    assert_eq!(consensus_namespace(chain), NAMESPACE, "the harness's namespace is its chain's");
    let s = signers(NAMESPACE);
    let seed: [u8; 32] = s.fixture.private_keys[3].encode().as_ref().try_into().expect("a 32-byte seed");
    let reporter = Reporter::new(chain, &seed);
    assert_eq!(reporter.signer(), key_of(&s, 3), "a validator reports with its own key");
    let params = Params { chain_id: chain.into(), ..Params::default() };
    let state = Engine::from_genesis(&testkit::genesis(
        params,
        vec![(reporter.signer(), Amount(1_000_000), Amount::ZERO)],
        vec![],
    ))
    .expect("a valid genesis");
    let pool = MemoryPool::new(chain);

    let evidence = equivocation(&conflicting_notarize(&s, 0, 0, 4), &s.participants).expect("a fault");
    let tx = reporter.transaction(&evidence, &pool, &state).expect("proven evidence is reported");
    assert_eq!(tx.body.call, Call::ReportEquivocation { evidence });
    assert_eq!((tx.body.signer, tx.body.nonce, tx.body.fee), (reporter.signer(), 0, state.params().min_fee));
    assert!(engine::verify_one(&tx, chain), "signed for this chain");
    assert!(pool.submit(tx));

    let again = equivocation(&conflicting_finalize(&s, 0, 5), &s.participants).expect("a fault");
    assert_eq!(reporter.transaction(&again, &pool, &state), None, "the offender is reported once per era");
    let other_era = equivocation(&conflicting_notarize(&s, 0, 1, 4), &s.participants).expect("a fault");
    let next = reporter.transaction(&other_era, &pool, &state).expect("another era is another offence");
    assert_eq!(next.body.nonce, 1, "after the report waiting in the pool");

    let mut forged = equivocation(&conflicting_notarize(&s, 1, 0, 4), &s.participants).expect("a fault");
    if let Conflict::Notarize { first, .. } = &mut forged.conflict {
        first.signature.0[0] ^= 1;
    }
    assert_eq!(reporter.transaction(&forged, &pool, &state), None, "unproven evidence is never reported");
    assert_eq!(pool.select(10, &|_| 0).len(), 1);
}

/// End to end: validator 0 runs as two twins that notarize two blocks in the views its key leads. The
/// honest validators' simplex reports the conflicting votes, their reporters sign evidence transactions,
/// one lands in a finalized block (the others are refused as already reported), and on every honest
/// validator the offender's stash lost `equivocation_slash` of its bonded stake, the reporter got its
/// share, the rest was burned, and the candidate is chilled. Conservation holds after every block (the
/// harness's sink checks it).
#[test]
fn an_equivocating_validator_is_slashed_and_chilled_on_every_validator() {
    for seed in [19, 20, 21] {
        slashed_and_chilled(seed);
    }
}

fn slashed_and_chilled(seed: u64) {
    let blocks = 12;
    let twins = Twins { validator: 0, isolate: None };
    let run = run(&Scenario { twins: Some(twins), evidence: true, ..Scenario::new(4, seed, blocks) });
    assert_agreement(&run, blocks, Some(0));
    let offender = key_account(&run.keys[0]);
    let params = &run.genesis.params;
    let slashed = params.equivocation_slash.mul_floor(STASH_BONDED);
    let reward = EQUIVOCATION_REPORTER_SHARE.mul_floor(slashed);
    let (height, _) = &run.slashes[1][0];
    println!(
        "seed {seed}: reports signed per validator {:?}; slashed at height {height}: {slashed}, reporter reward {reward}",
        run.reports
    );
    assert!(run.reports[1..].iter().all(|r| *r >= 1), "every honest validator saw the fault and reported it");
    let honest_keys: Vec<AccountId> = run.keys[1..].iter().map(key_account).collect();
    for i in 1..4 {
        assert_eq!(run.slashes[i].len(), 1, "validator {i}: one slash per offender and era");
        let (height, event) = &run.slashes[i][0];
        let Event::EquivocationSlashed { offender: o, account, era, amount, reporter, reporter_reward, burned, .. } =
            event
        else {
            panic!("not a slash: {event:?}")
        };
        assert_eq!((*o, *account, *era), (offender, stash(0), 0), "validator {i}");
        assert_eq!((*amount, *reporter_reward), (slashed, reward), "validator {i}");
        assert_eq!(burned.0, slashed.0 - reward.0, "validator {i}: the rest is burned");
        assert!(honest_keys.contains(reporter), "an honest validator earned the reward");
        assert_eq!(run.slashes[i][0], run.slashes[1][0], "the same slash at the same height {height}");
        let state = &run.states[i];
        assert_eq!(state.ledger().bonded(&stash(0)).0, STASH_BONDED.0 - slashed.0, "validator {i}");
        let chilled: Vec<AccountId> =
            state.validator_candidates().into_iter().filter(|c| c.chilled).map(|c| c.key).collect();
        assert_eq!(chilled, vec![offender], "validator {i}: only the offender is chilled");
    }
}

/// A pool that refuses everything (as the node's mempool does a report whose signer cannot pay the fee).
struct Full;

impl TxSource for Full {
    fn signatures_verified(&self) -> bool {
        true
    }
    fn select(&self, _: usize, _: &dyn Fn(&AccountId) -> u64) -> Vec<engine::SignedTx> {
        Vec::new()
    }
    fn admit(&self, _: engine::SignedTx) {}
    fn finalized(&self, _: &[engine::SignedTx]) {}
}

#[test]
fn a_report_the_pool_refuses_is_not_counted_as_reported() {
    let s = signers(NAMESPACE);
    let seed: [u8; 32] = s.fixture.private_keys[3].encode().as_ref().try_into().expect("a 32-byte seed");
    let reporter = Reporter::new(CHAIN_ID, &seed);
    let params = Params { chain_id: CHAIN_ID.into(), ..Params::default() };
    let state = std::sync::RwLock::new(Engine::from_genesis(&testkit::genesis(params, vec![], vec![])).expect("valid"));
    let evidence = equivocation(&conflicting_notarize(&s, 0, 0, 4), &s.participants).expect("a fault");
    assert_eq!(reporter.report(&evidence, &Full, &state, None), None, "refused by the pool");
    let pool = MemoryPool::new(CHAIN_ID);
    let tx = reporter.report(&evidence, &pool, &state, None).expect("tried again, admitted");
    assert!(pool.checked(&[tx])[0]);
    assert_eq!(reporter.report(&evidence, &pool, &state, None), None, "then reported once");
}
