//! Validator sets elected by stake (issue 21 item 3): five genesis candidates, four seats, eras of ten
//! blocks. Candidate E (index 4) starts with the least stake and is out of era 0's set; a nomination to
//! its account during era 0 lifts it above candidate A (index 0), so the set elected for era 1 swaps A for
//! E, and consensus moves to it at the era boundary: era 1's blocks are finalized by certificates of era
//! 1's set (E signs, A does not), while A follows those certificates and finalizes the same chain.

use crate::harness::{assert_agreement, key_id, run, Crash, Elections, Run, Scenario};
use bft::Finality;
use commonware_p2p::simulated::Link;
use engine::Event;
use std::collections::BTreeSet;
use std::time::Duration;
use types::AccountId;

const SWK: u128 = 1_000_000_000;
const ERA: u64 = 10;
const A: usize = 0;
const E: usize = 4;

/// A 300, B 400, C 500, D 600 and E 100 SWK of own stake; then 250 SWK nominated to E (350 > A's 300).
fn scenario(seed: u64, blocks: u64) -> Scenario {
    let elections = Elections {
        era_blocks: ERA,
        validators_max: 4,
        stakes: vec![300 * SWK, 400 * SWK, 500 * SWK, 600 * SWK, 100 * SWK],
        nominations: vec![(E, 250 * SWK)],
    };
    Scenario { txs: 4, elections: Some(elections), ..Scenario::new(5, seed, blocks) }
}

/// The set of era 0 (all but E) and of every later era (all but A), sorted.
fn sets(run: &Run) -> (BTreeSet<AccountId>, BTreeSet<AccountId>) {
    let keys: Vec<AccountId> = run.keys.iter().map(key_id).collect();
    let without = |i: usize| keys.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, k)| *k).collect();
    (without(E), without(A))
}

/// Every validator's `ValidatorSetElected` for era 1 (at the end of era 0's last block) names era 1's set.
fn check_election(run: &Run) {
    let (_, later) = sets(run);
    for (i, events) in run.events.iter().enumerate() {
        let elected: Vec<(u64, BTreeSet<AccountId>)> = events
            .iter()
            .filter_map(|(height, event)| match event {
                Event::ValidatorSetElected { era: 1, validators } => {
                    Some((*height, validators.iter().map(|v| v.key).collect()))
                }
                _ => None,
            })
            .collect();
        assert_eq!(elected, vec![(ERA - 1, later.clone())], "validator {i}: the election of era 1");
    }
}

/// Every certificate a validator recorded is of its block's era and signed only by that era's set; E
/// signs some of era 1 and later (from `from` on), A none. Each block names as proposer the leader of the
/// view it was finalized in (but an era's last block, which later views of its epoch re-propose). Returns
/// how many certificates of era ≥ 1 E signed, per validator.
fn check_certificates(run: &Run, from: u64) -> Vec<usize> {
    let (first, later) = sets(run);
    let keys: Vec<AccountId> = run.keys.iter().map(key_id).collect();
    let mut signed_by_e = Vec::new();
    for (i, records) in run.finality.iter().enumerate() {
        let mut by_e = 0;
        for (height, _, finality) in records {
            let Finality::Certified(c) = finality else { continue };
            let era = height / ERA;
            assert_eq!(c.epoch, era, "validator {i}: block {height} certified in epoch {}", c.epoch);
            let set = if era == 0 { &first } else { &later };
            assert!(c.signers.iter().all(|s| set.contains(s)), "validator {i}: block {height} signed outside its set");
            assert_eq!((c.validators, c.quorum), (4, 3), "validator {i}: block {height}");
            if height % ERA != ERA - 1 {
                let named = run.proposers[i][*height as usize - 1];
                assert_eq!(named, Some(c.proposer), "validator {i}: block {height} names another proposer");
            }
            if era >= 1 {
                assert!(!c.signers.contains(&keys[A]), "validator {i}: A signed block {height} of era {era}");
                by_e += usize::from(*height >= from && c.signers.contains(&keys[E]));
            }
        }
        signed_by_e.push(by_e);
    }
    signed_by_e
}

/// A block's proposer reward goes to the block's proposer, and from era 1 on never to A.
fn check_rewards(run: &Run) {
    let keys: Vec<AccountId> = run.keys.iter().map(key_id).collect();
    for (i, events) in run.events.iter().enumerate() {
        for (height, event) in events {
            if let Event::ValidatorRewarded { key, .. } = event {
                assert_eq!(Some(*key), run.proposers[i][*height as usize - 1], "validator {i}: block {height}");
                assert!(*height < ERA || *key != keys[A], "validator {i}: A rewarded for block {height}");
            }
        }
    }
}

#[test]
fn a_nomination_swaps_a_validator_at_the_era_boundary() {
    swap(scenario(41, 3 * ERA + 5));
}

#[test]
fn a_nomination_swaps_a_validator_at_the_era_boundary_on_lossy_links() {
    // 75 % delivery, 200 ± 150 ms: boundary blocks and certificates get lost and are fetched again.
    let link = Link { latency: Duration::from_millis(200), jitter: Duration::from_millis(150), success_rate: 0.75 };
    swap(Scenario { link, ..scenario(47, 2 * ERA + 5) });
}

/// The swap, checked on every validator up to the scenario's blocks.
fn swap(scenario: Scenario) {
    let blocks = scenario.blocks;
    let run = run(&scenario);
    assert_agreement(&run, blocks, None);
    check_election(&run);
    let by_e = check_certificates(&run, ERA);
    println!("certificates of era >= 1 signed by E, per validator: {by_e:?}");
    assert!(by_e.iter().all(|n| *n > 0), "E signed no certificate of era 1 or later: {by_e:?}");
    check_rewards(&run);
    let a_era1 = run.finality[A].iter().filter(|(h, _, _)| *h >= ERA).count();
    assert!(a_era1 as u64 >= blocks - ERA, "A, out of the set, followed only {a_era1} blocks of era 1 and later");
}

#[test]
fn validators_restarted_an_era_behind_catch_up_through_the_boundary_and_sign_again() {
    // E (in era 1's set) and A (out of it) crash in era 1 and stay down while the others (B, C, D: just a
    // quorum of era 1's set) finish era 1, so they restart from era 1 behind a network in era 2.
    let crash = Crash {
        validators: vec![A, E],
        at_ack: false,
        after: Duration::from_millis(300),
        down: Duration::from_secs(8),
    };
    let blocks = ERA + 5;
    let run = run(&Scenario { crash: Some(crash), ..scenario(43, blocks) });
    let heights = run.restarted_at.clone().expect("a crash");
    println!("heights at the restart {heights:?}; finalized {:?}", run.sinks.iter().map(Vec::len).collect::<Vec<_>>());
    for i in [A, E] {
        assert_eq!(heights[i] / ERA, 1, "validator {i} restarts in era 1");
    }
    let restarted_at = heights.iter().copied().max().expect("five validators");
    assert!(restarted_at >= 2 * ERA, "the others did not reach era 2 while A and E were down: {heights:?}");
    assert_agreement(&run, restarted_at + blocks, None);
    check_election(&run);
    let by_e = check_certificates(&run, restarted_at + 1);
    println!("certificates signed by E after its restart, per validator: {by_e:?}");
    assert!(by_e.iter().any(|n| *n > 0), "the restarted E signed no certificate: {by_e:?}");
}
