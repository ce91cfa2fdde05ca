//! The validator set chosen by stake (issue 21) with hand-checked numbers: four candidates with own stakes
//! 400/300/200/100 and N = 3; a nomination of 250 lifts the fourth above the third at the era's end; each
//! elected proposer's block mints 100, split with its nominator (10% commission: 10 + 26 to the stash, 64
//! to the nominator); an unelected proposer earns nothing.

use crate::harness::{id, small_params, Net};
use engine::protocol::validators::Elected;
use engine::protocol::GenesisValidator;
use engine::{Call, Event, Params, SignatureCheck};
use types::{AccountId, Amount, Ppb};

fn params() -> Params {
    Params {
        era_blocks: 10,
        validators_max: 3,
        validator_block_reward: Amount(100),
        epoch_length: 10,
        nomination_min: Amount(10),
        commission_delay: 1,
        ..small_params()
    }
}

/// Candidate i: consensus key `k{i}`, stash `s{i}`.
fn key(i: u8) -> AccountId {
    id(&format!("k{i}"))
}

fn network() -> Net {
    let accounts = [("s1", 100, 400), ("s2", 100, 300), ("s3", 100, 200), ("s4", 100, 100), ("alice", 1_000, 0)];
    let validators = (1..=4)
        .map(|i| GenesisValidator {
            key: key(i),
            p2p: format!("127.0.0.1:{}", 9000 + i as u16),
            account: id(&format!("s{i}")),
        })
        .collect();
    Net::with_validators(&accounts, params(), (Vec::new(), &[]), validators)
}

fn block_by(net: &mut Net, proposer: Option<AccountId>, txs: Vec<engine::SignedTx>) {
    let sigs = engine::verify_signatures(&txs, &net.chain.engine.params().chain_id);
    net.block_by(proposer, txs, sigs);
}

fn stashes(net: &Net, set: &[Elected]) -> Vec<String> {
    let mut v: Vec<String> = set.iter().map(|e| format!("{}={}", net.name(&e.account), e.weight)).collect();
    v.sort();
    v
}

#[test]
fn the_top_three_by_own_plus_nominated_stake_are_elected_each_era_and_proposers_are_paid_per_block() {
    let mut net = network();
    let engine = &net.chain.engine;
    assert_eq!(stashes(&net, engine.validator_set(0).expect("era 0 at genesis")), ["s1=400", "s2=300", "s3=200"]);
    assert_eq!(engine.validator_set(1), None, "era 1 is elected at era 0's end");

    // Block 1 (proposed by k1): alice nominates s4 with 250; s4 sets a 10% commission (from block 10).
    let nominate = net.tx("alice", Call::Nominate { node: id("s4"), amount: Amount(250) });
    let commission = net.tx("s4", Call::SetCommission { commission: Ppb::new(100_000_000).expect("10%") });
    block_by(&mut net, Some(key(1)), vec![nominate, commission]);
    assert!(!net.log.contains("-> unknown_node") && !net.log.contains("-> not_registered"), "{}", net.log);
    // k1 is elected: 100 minted to s1 (no nominators: no split).
    assert_eq!(net.chain.engine.ledger().free(&id("s1")), Amount(200));
    // Block 2 by k4, not elected in era 0: nothing.
    block_by(&mut net, Some(key(4)), Vec::new());
    assert_eq!(net.chain.engine.ledger().free(&id("s4")), Amount(99), "100 less its commission tx's fee of 1");
    // Blocks 3..=9 with no proposer (a sequencer's blocks): nothing.
    for _ in 3..=9 {
        block_by(&mut net, None, Vec::new());
    }
    let elected: Vec<&Event> = net.events.iter().filter(|e| matches!(e, Event::ValidatorSetElected { .. })).collect();
    assert_eq!(elected.len(), 1, "one election, at the end of block 9");
    let Event::ValidatorSetElected { era, validators } = elected[0].clone() else { unreachable!() };
    assert_eq!(era, 1);
    // s4: own 100 + alice's 250 = 350 overtakes s3's 200.
    let era1 = stashes(&net, &validators);
    assert_eq!(era1, ["s1=400", "s2=300", "s4=350"]);
    assert_eq!(net.chain.engine.validator_set(1).map(|s| stashes(&net, s)), Some(era1.clone()));

    // Block 10 (era 1) by k4: 100 minted; commission floor(10%) = 10 to s4; 90 split 100:250 →
    // 25.71 / 64.29 → largest remainder gives the unit to s4: 26 and 64.
    let before = (net.chain.engine.ledger().free(&id("s4")), net.chain.engine.ledger().free(&id("alice")));
    block_by(&mut net, Some(key(4)), Vec::new());
    let after = (net.chain.engine.ledger().free(&id("s4")), net.chain.engine.ledger().free(&id("alice")));
    assert_eq!((after.0 .0 - before.0 .0, after.1 .0 - before.1 .0), (36, 64));
    let split = net.events.iter().rev().find_map(|e| match e {
        Event::RewardSplit { commission, parts, kind, .. } => Some((*kind, *commission, parts.clone())),
        _ => None,
    });
    let (kind, commission, parts) = split.expect("a split");
    assert_eq!(kind, engine::protocol::event::RewardKind::Validator);
    assert_eq!(commission, Amount(10));
    let mut parts: Vec<(String, u128)> = parts.iter().map(|(a, x)| (net.name(a), x.0)).collect();
    parts.sort();
    assert_eq!(parts, [("alice".to_string(), 64), ("s4".to_string(), 26)]);
    // Block 11 by k3: out of the set since era 1, so nothing.
    let s3 = net.chain.engine.ledger().free(&id("s3"));
    block_by(&mut net, Some(key(3)), Vec::new());
    assert_eq!(net.chain.engine.ledger().free(&id("s3")), s3);

    // Through era 1's end: era 2 is elected with the same weights and era 0's set is forgotten.
    for _ in 12..=19 {
        block_by(&mut net, Some(key(1)), Vec::new());
    }
    assert_eq!(net.chain.engine.validator_set(0), None);
    assert_eq!(net.chain.engine.validator_set(2).map(|s| stashes(&net, s)), Some(era1));
    let minted = net.events.iter().filter(|e| matches!(e, Event::ValidatorRewarded { .. })).count();
    assert_eq!(minted, 1 + 1 + 8, "blocks 1, 10 and 12..=19");
    assert_eq!(net.chain.engine.ledger().minted(), Amount(100 * 10));
}

#[test]
fn nobody_elected_keeps_the_set_and_a_single_node_chain_has_no_candidates() {
    // Every stash unbonds all its stake: no candidate weighs anything at era 0's end; era 1 keeps era 0's set.
    let mut net = network();
    let txs = (1..=4)
        .map(|i| {
            let amount = Amount(net.chain.engine.ledger().bonded(&id(&format!("s{i}"))).0);
            net.tx(&format!("s{i}"), Call::Unbond { amount })
        })
        .collect();
    block_by(&mut net, None, txs);
    assert!(net.log.lines().filter(|l| l.contains("#")).all(|l| l.ends_with("-> ok")), "{}", net.log);
    for _ in 2..=9 {
        block_by(&mut net, None, Vec::new());
    }
    let era0 = net.chain.engine.validator_set(0).expect("kept").to_vec();
    assert_eq!(net.chain.engine.validator_set(1), Some(era0.as_slice()));

    let plain = Net::new(&[("a", 10, 0)], params());
    assert_eq!(plain.chain.engine.validator_set(0), None);
    assert!(plain.chain.engine.validator_candidates().is_empty());
    let _ = SignatureCheck::trusted_all_valid(0);
}
