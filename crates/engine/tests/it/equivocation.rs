//! Equivocation evidence (issue 21) with hand-checked numbers. Candidates k1, k2, k3 stake through stashes
//! s1 (own 400,000), s2 (300,000), s3 (200,000); alice nominates s1 with 600,000. k2 proves that k1 signed
//! two notarizes in era 0: 10% of s1's 1,000,000 at stake is slashed, 40,000 from s1 and 60,000 from alice;
//! k2 earns 10% of it (10,000) and 90,000 is burned; k1 is chilled and not elected for era 1. A second proof
//! of the same era, forged or non-conflicting evidence, a key that was never elected, a self-report and an
//! era whose set is forgotten are refused with their codes and change nothing.

use crate::harness::{id, key, small_params, Net};
use ed25519_dalek::Signer;
use engine::protocol::evidence::{consensus_namespace, Conflict, Equivocation, SignedProposal};
use engine::protocol::GenesisValidator;
use engine::{Call, Event, Params, EQUIVOCATION_REPORTER_SHARE};
use types::{AccountId, Amount, Hash, Signature};

fn params() -> Params {
    Params {
        era_blocks: 10,
        validators_max: 3,
        validator_block_reward: Amount::ZERO,
        nomination_min: Amount(10),
        ..small_params()
    }
}

fn network() -> Net {
    let accounts = [
        ("s1", 100, 400_000),
        ("s2", 0, 300_000),
        ("s3", 0, 200_000),
        ("alice", 600_001, 0),
        ("k1", 100, 0),
        ("k2", 100, 0),
        ("k3", 100, 0),
        ("k9", 100, 0),
    ];
    let validators = (1..=3)
        .map(|i| GenesisValidator {
            key: id(&format!("k{i}")),
            p2p: format!("127.0.0.1:{}", 9000 + i),
            account: id(&format!("s{i}")),
        })
        .collect();
    Net::with_validators(&accounts, params(), (Vec::new(), &[]), validators)
}

/// `who` signs, under the chain's consensus namespace, two notarizes (`finalize`: two finalizes) of different
/// blocks in (`era`, `view`).
pub(crate) fn evidence(who: &str, (era, view): (u64, u64), finalize: bool) -> Equivocation {
    let namespace = consensus_namespace(&params().chain_id);
    let blank =
        |payload| SignedProposal { parent_view: view - 1, payload: Hash([payload; 32]), signature: Signature([0; 64]) };
    let conflict = |first, second| {
        if finalize {
            Conflict::Finalize { first, second }
        } else {
            Conflict::Notarize { first, second }
        }
    };
    let mut e = Equivocation { offender: id(who), epoch: era, view, conflict: conflict(blank(1), blank(2)) };
    let sign = |vote: SignedProposal| SignedProposal {
        signature: Signature(key(who).sign(&e.proposal_signed_bytes(&namespace, finalize, &vote)).to_bytes()),
        ..vote
    };
    e.conflict = conflict(sign(blank(1)), sign(blank(2)));
    assert_eq!(e.verify(&namespace), Ok(()));
    e
}

fn report(net: &mut Net, who: &str, evidence: Equivocation) -> engine::SignedTx {
    net.tx(who, Call::ReportEquivocation { evidence })
}

/// The code each transaction of the last block got.
fn last_codes(net: &Net) -> Vec<String> {
    let last = &net.log[net.log.rfind("block ").unwrap_or(0)..];
    last.lines().filter(|l| l.contains('#')).map(|l| l.rsplit(" -> ").next().unwrap_or("").to_string()).collect()
}

fn slashes(net: &Net) -> Vec<Event> {
    net.events
        .iter()
        .filter(|e| matches!(e, Event::EquivocationSlashed { .. } | Event::SlashSplit { .. }))
        .cloned()
        .collect()
}

#[test]
fn a_proven_double_vote_slashes_the_validator_and_its_nominator_pays_the_reporter_and_chills_it() {
    let mut net = network();
    let nominate = net.tx("alice", Call::Nominate { node: id("s1"), amount: Amount(600_000) });
    net.block(vec![nominate]);
    assert_eq!(last_codes(&net), ["ok"], "{}", net.log);
    let (supply, burned) = (net.chain.engine.ledger().total_supply(), net.chain.engine.ledger().burned());

    // Block 2: k2 reports k1's two notarizes of era 0, view 5.
    let tx = report(&mut net, "k2", evidence("k1", (0, 5), false));
    net.block(vec![tx]);
    assert_eq!(last_codes(&net), ["ok"], "{}", net.log);
    // At stake: s1's own 400,000 + alice's 600,000 = 1,000,000; 10% = 100,000, pro rata 40,000 / 60,000.
    let slashed = Amount(100_000);
    assert_eq!(EQUIVOCATION_REPORTER_SHARE.mul_floor(slashed), Amount(10_000));
    let events = slashes(&net);
    assert_eq!(
        events[0],
        Event::EquivocationSlashed {
            offender: id("k1"),
            account: id("s1"),
            era: 0,
            view: 5,
            amount: slashed,
            reporter: id("k2"),
            reporter_reward: Amount(10_000),
            burned: Amount(90_000),
        }
    );
    let Event::SlashSplit { node, epoch, parts } = &events[1] else { panic!("a split follows: {events:?}") };
    let mut parts: Vec<(String, u128)> = parts.iter().map(|(a, x)| (net.name(a), x.0)).collect();
    parts.sort();
    assert_eq!((*node, *epoch), (id("s1"), 0));
    assert_eq!(parts, [("alice".to_string(), 60_000), ("s1".to_string(), 40_000)]);
    let ledger = net.chain.engine.ledger();
    assert_eq!(ledger.bonded(&id("s1")), Amount(360_000));
    assert_eq!(ledger.bonded(&id("alice")), Amount(540_000));
    assert_eq!(ledger.free(&id("k2")), Amount(100 - 1 + 10_000), "its fee of 1, then its reward");
    assert_eq!(ledger.burned().0 - burned.0, 90_000, "the rest is destroyed");
    assert_eq!(supply.0 - ledger.total_supply().0, 90_000, "the supply shrinks by what was burned, nothing else");
    let chilled: Vec<AccountId> =
        net.chain.engine.validator_candidates().into_iter().filter(|c| c.chilled).map(|c| c.key).collect();
    assert_eq!(chilled, vec![id("k1")]);

    // Block 3: a second proof of era 0 against k1 (two finalizes, by k3) is refused; k3 pays nothing.
    let again = report(&mut net, "k3", evidence("k1", (0, 6), true));
    net.block(vec![again]);
    assert_eq!(last_codes(&net), ["evidence_already_reported"]);
    assert_eq!(net.chain.engine.ledger().free(&id("k3")), Amount(100));

    // Blocks 4..=9: era 0 ends and era 1's set is elected without k1 (chilled), though s1 still weighs
    // 900,000, the most.
    net.empty_blocks(6);
    let era1: Vec<AccountId> =
        net.chain.engine.validator_set(1).expect("elected at block 9").iter().map(|e| e.key).collect();
    assert_eq!(era1, sorted(vec![id("k2"), id("k3")]));
    assert_eq!(slashes(&net).len(), 2, "nothing else was slashed");
}

fn sorted(mut v: Vec<AccountId>) -> Vec<AccountId> {
    v.sort();
    v
}

#[test]
fn unproven_foreign_self_reported_or_expired_evidence_is_refused_and_changes_nothing() {
    let mut net = network();
    let root = net.chain.engine.state_root();
    let good = evidence("k1", (0, 5), false);
    let mut forged = good;
    if let Conflict::Notarize { second, .. } = &mut forged.conflict {
        second.signature.0[3] ^= 1;
    }
    let Conflict::Notarize { first, .. } = good.conflict else { unreachable!() };
    let same = Equivocation { conflict: Conflict::Notarize { first, second: first }, ..good };
    let other_round = Equivocation { view: 6, ..good }; // signed for view 5
    let cases = [
        ("k2", forged, "invalid_evidence"),
        ("k2", same, "invalid_evidence"),
        ("k2", other_round, "invalid_evidence"),
        ("k2", evidence("k9", (0, 5), false), "not_a_validator"),
        ("k1", good, "evidence_self_report"),
        ("s1", good, "evidence_self_report"),
        ("k2", evidence("k1", (3, 5), false), "evidence_era_unknown"),
    ];
    // A refused transaction leaves its signer's nonce where it was: one block each.
    for (who, e, code) in cases {
        let tx = report(&mut net, who, e);
        net.block(vec![tx]);
        assert_eq!(last_codes(&net), [code], "{}", net.log);
    }
    assert_eq!(slashes(&net), Vec::<Event>::new());
    assert_eq!(net.chain.engine.ledger().free(&id("k2")), Amount(100), "refused reports cost nothing");
    assert!(net.chain.engine.validator_candidates().iter().all(|c| !c.chilled));
    assert_ne!(net.chain.engine.state_root(), root, "blocks went on");

    // Era 0's evidence still lands in era 1 (its set is kept until era 1 ends), not in era 2.
    net.empty_blocks(10 - net.chain.engine.height().0 as usize);
    assert_eq!(net.chain.engine.era_of(net.chain.engine.height()), 1);
    let late = report(&mut net, "k3", evidence("k2", (0, 9), false));
    net.block(vec![late]);
    assert_eq!(last_codes(&net), ["ok"], "{}", net.log);
    // s2's own 300,000 at stake: 30,000 slashed, 3,000 to k3.
    assert_eq!(net.chain.engine.ledger().bonded(&id("s2")), Amount(270_000));
    assert_eq!(net.chain.engine.ledger().free(&id("k3")), Amount(100 - 1 + 3_000));
    net.empty_blocks(20 - net.chain.engine.height().0 as usize);
    // Era 2: era 0's set is forgotten, so its evidence can no longer be checked.
    let expired = report(&mut net, "k2", evidence("k1", (0, 2), false));
    net.block(vec![expired]);
    assert_eq!(last_codes(&net), ["evidence_era_unknown"]);
    let era2: Vec<AccountId> = net.chain.engine.validator_set(2).expect("elected").iter().map(|e| e.key).collect();
    assert_eq!(era2, sorted(vec![id("k1"), id("k3")]), "k2, chilled in era 1, is not elected for era 2");
}
