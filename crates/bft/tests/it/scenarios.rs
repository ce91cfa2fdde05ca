//! The consensus scenarios: one validator, four that agree (and replay identically), lossy links, a late
//! joiner that catches up and gets its own proposals finalized, a Byzantine leader whose wrong state
//! roots are refused, and a split into two halves that halts until it heals.

use crate::harness::{assert_agreement, run, slow, Crash, Scenario, Twins};
use commonware_p2p::simulated::Link;
use std::time::Duration;

fn scenario(n: u32, seed: u64, blocks: u64) -> Scenario {
    Scenario::new(n, seed, blocks)
}

#[test]
fn one_validator_finalizes() {
    let run = run(&scenario(1, 1, 10));
    assert_agreement(&run, 10, None);
    assert!(run.submitted.iter().all(|h| run.finalized_txs[0].contains(h)));
}

#[test]
fn four_validators_agree() {
    let blocks = if slow() { 50 } else { 12 };
    let s = Scenario { txs: if slow() { 200 } else { 16 }, ..scenario(4, 7, blocks) };
    let a = run(&s);
    assert_agreement(&a, blocks, None);
    for (i, txs) in a.finalized_txs.iter().enumerate() {
        assert!(a.submitted.iter().all(|h| txs.contains(h)), "validator {i} misses a submitted transaction");
    }
    for (i, gossiped) in a.gossiped.iter().enumerate().skip(1) {
        assert_eq!(*gossiped, s.txs, "validator {i} did not receive every transaction by gossip");
    }
    let b = run(&s);
    assert_eq!(a.sinks, b.sinks, "the same seed finalizes the same chain");
    assert_eq!(a.auditor, b.auditor, "the same seed replays the same events");
}

#[test]
fn lossy_links_still_agree() {
    let lossy = Link { latency: Duration::from_millis(200), jitter: Duration::from_millis(150), success_rate: 0.75 };
    let blocks = if slow() { 30 } else { 8 };
    let run = run(&Scenario { link: lossy, ..scenario(4, 3, blocks) });
    assert_agreement(&run, blocks, None);
}

#[test]
fn a_late_joiner_catches_up_and_votes() {
    let blocks = if slow() { 30 } else { 8 };
    let run = run(&Scenario { late: true, ..scenario(4, 11, blocks) });
    assert_agreement(&run, 2 * blocks, None);
    let chain = &run.sinks[1];
    let late = run.late_proposed.iter().filter(|d| chain.iter().any(|(_, h, _)| h.0 == d.0)).count();
    assert!(late > 0, "none of the late joiner's proposals was finalized");
    println!("replayed ancestors per validator: {:?}", run.replayed);
    assert!(run.replayed[0] > 0, "the late joiner never rebuilt a parent state from ancestry (state_at case 3)");
}

#[test]
fn a_proposal_with_a_wrong_state_root_is_refused() {
    let blocks = if slow() { 30 } else { 10 };
    let run = run(&Scenario { byzantine: Some(3), ..scenario(4, 5, blocks) });
    assert_agreement(&run, blocks, Some(3));
    let corrupted = &run.proposed[3];
    assert!(!corrupted.is_empty(), "the Byzantine validator never led a view");
    for (i, chain) in run.sinks.iter().enumerate().take(3) {
        for (_, d) in corrupted {
            assert!(chain.iter().all(|(_, h, _)| h.0 != d.0), "validator {i} finalized a corrupted block");
        }
    }
}

#[test]
fn a_split_without_a_quorum_halts_and_heals() {
    let blocks = if slow() { 30 } else { 8 };
    let run = run(&Scenario { partition: true, ..scenario(4, 13, blocks) });
    let progress = run.partition_progress.expect("the scenario split the network");
    println!("blocks finalized while split: {progress}");
    assert!(progress <= 1, "{progress} blocks finalized with no quorum on either side (1 may be in flight)");
    assert_agreement(&run, 2 * blocks, None);
}

/// A validator stops abruptly (its tasks dropped wherever they are) and restarts from what it persisted:
/// commonware's journal and archives in the runtime's storage, its committed blocks in its sink (replayed
/// from genesis). Once at a seeded moment; once right after its sink took a block and before marshal was
/// acknowledged, so marshal delivers that block again and the App must skip it; and two at once, when
/// nothing may be finalized until they are back. Each time every validator ends on one chain, the
/// restarted ones included.
#[test]
fn a_crashed_validator_restarts_from_its_disk_and_catches_up() {
    let blocks = if slow() { 20 } else { 6 };
    for at_ack in [false, true] {
        let crash =
            Crash { validators: vec![2], at_ack, after: Duration::from_millis(700), down: Duration::from_secs(3) };
        let run = run(&Scenario { crash: Some(crash), ..scenario(4, 17, blocks) });
        assert_agreement(&run, 2 * blocks, None);
        println!("blocks delivered again after the restart: {:?}", run.redelivered);
        if at_ack {
            assert!(run.redelivered[2] > 0, "marshal never delivered the durable, unacknowledged block again");
        }
    }
    let crash = Crash {
        validators: vec![1, 3],
        at_ack: false,
        after: Duration::from_millis(300),
        down: Duration::from_secs(5),
    };
    let run = run(&Scenario { crash: Some(crash), ..scenario(4, 23, blocks) });
    let progress = run.crash_progress.expect("two were down");
    println!("blocks finalized while two were down: {progress}");
    assert!(progress <= 1, "{progress} blocks finalized with two of four down (1 may be in flight)");
    assert_agreement(&run, 2 * blocks, None);
}

/// Validator 0 runs as two twins sharing its key, each with its own valid, conflicting block: when the key
/// leads, it proposes two blocks in one view and notarizes both. Both twins talk to everyone (every honest
/// validator sees both), or one talks only to validator 2 and the other to the rest. The honest validators
/// never finalize two blocks at one height, keep finalizing, and block only the equivocator.
#[test]
fn an_equivocating_leader_never_splits_the_honest_validators() {
    let blocks = if slow() { 30 } else { 12 };
    for isolate in [None, Some(2)] {
        let twins = Twins { validator: 0, isolate };
        let run = run(&Scenario { twins: Some(twins), ..scenario(4, 19, blocks) });
        assert_agreement(&run, blocks, Some(0));
        println!("heights with two proposals: {}; blocked (by, whom): {:?}", run.equivocations, run.blocked);
        assert!(run.equivocations > 0, "the twins never proposed two blocks at one height");
        assert!(run.blocked.iter().all(|(_, whom)| *whom == 0), "an honest validator was blocked");
        if isolate.is_none() {
            for honest in 1..4 {
                assert!(run.blocked.contains(&(honest, 0)), "validator {honest} never caught the conflicting votes");
            }
        }
    }
}

/// Many seeds, each with one kind of fault chosen by the seed: good links, lossy links (75% delivery,
/// 200 ± 150 ms), a Byzantine leader with wrong state roots, or a split into halves that heals. For every
/// seed no two validators finalize different blocks at any height, conservation holds after every block on
/// every validator (the sink checks it), and finality resumes. 200 seeds by default, 2,000 with
/// `RUN_SLOW_TESTS=1`; a failing seed is named, and `BFT_SEED=` replays it through the named scenario.
#[test]
fn many_seeds_agree_under_seeded_faults() {
    let seeds: u64 = if slow() { 2_000 } else { 200 };
    let lossy = Link { latency: Duration::from_millis(200), jitter: Duration::from_millis(150), success_rate: 0.75 };
    for seed in 1_000..1_000 + seeds {
        let base = Scenario { txs: 4, ..scenario(4, seed, 4) };
        let (name, s, byzantine) = match seed % 4 {
            0 => ("good links", base, None),
            1 => ("lossy links", Scenario { link: lossy.clone(), ..base }, None),
            2 => (
                "a Byzantine leader",
                Scenario { byzantine: Some((seed % 3) as usize), ..base },
                Some((seed % 3) as usize),
            ),
            _ => ("a healed split", Scenario { partition: true, ..base }, None),
        };
        let run = std::panic::catch_unwind(|| run(&s))
            .unwrap_or_else(|_| panic!("seed {seed} ({name}) failed: replay with BFT_SEED={seed}"));
        let blocks = if s.partition { 2 * s.blocks } else { s.blocks };
        let agreed = std::panic::catch_unwind(|| assert_agreement(&run, blocks, byzantine));
        assert!(agreed.is_ok(), "seed {seed} ({name}) disagreed: replay with BFT_SEED={seed}");
    }
}
