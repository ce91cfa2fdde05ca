//! The consensus scenarios: one validator, four that agree (and replay identically), lossy links, a late
//! joiner that catches up and gets its own proposals finalized, a Byzantine leader whose wrong state
//! roots are refused, and a split into two halves that halts until it heals.

use crate::harness::{assert_agreement, good_link, run, run_through_an_unclean_shutdown, slow, Crash, Scenario, Twins};
use commonware_p2p::simulated::Link;
use rand::{rngs::StdRng, Rng, SeedableRng};
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

/// The whole network stops abruptly (the runtime ends: every task dropped, unsynced storage lost, as in
/// alto's unclean-shutdown test) at a few moments after its first K blocks, and a new runtime starts from
/// the checkpoint: every validator from its synced journal and archives and its stored blocks. All four
/// go on to K more blocks on one chain.
#[test]
fn the_whole_network_restarts_after_an_unclean_shutdown() {
    let blocks = if slow() { 20 } else { 6 };
    for (seed, stop_after) in [(29, 0), (31, 450), (37, 1_234)] {
        let run = run_through_an_unclean_shutdown(&scenario(4, seed, blocks), Duration::from_millis(stop_after));
        println!("blocks delivered again after the restart: {:?}", run.redelivered);
        assert_agreement(&run, 2 * blocks, None);
    }
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

/// The faults seed `seed` picks, named: good links, lossy links (75 % delivery, 200 ± 150 ms), a Byzantine
/// leader with wrong state roots, a split into halves that heals, one validator crashed and restarted (at
/// a seeded moment or between its sink and marshal's acknowledgement), two crashed at once and restarted,
/// or an equivocating validator (twins). A crash or an equivocator sometimes comes with lossy links.
fn seeded_faults(seed: u64) -> (String, Scenario) {
    let mut rng = StdRng::seed_from_u64(seed);
    let lossy = Link { latency: Duration::from_millis(200), jitter: Duration::from_millis(150), success_rate: 0.75 };
    let base = Scenario { txs: 4, ..scenario(4, seed, 4) };
    let base = if rng.gen_ratio(1, 4) { Scenario { link: lossy.clone(), ..base } } else { base };
    let loss = if base.link.success_rate < 1.0 { " on lossy links" } else { "" };
    let ms = |rng: &mut StdRng, lo: u64, hi: u64| Duration::from_millis(rng.gen_range(lo..hi));
    let one = rng.gen_range(0..4usize);
    match seed % 7 {
        0 => ("good links".into(), Scenario { link: good_link(), ..base }),
        1 => ("lossy links".into(), Scenario { link: lossy, ..base }),
        2 => (format!("a Byzantine leader {one}"), Scenario { link: good_link(), byzantine: Some(one), ..base }),
        3 => ("a healed split".into(), Scenario { link: good_link(), partition: true, ..base }),
        4 => {
            let at_ack = rng.gen_bool(0.5);
            let (after, down) = (ms(&mut rng, 0, 1_000), ms(&mut rng, 200, 2_500));
            let crash = Crash { validators: vec![one], at_ack, after, down };
            (format!("validator {one} crashed and restarted{loss}"), Scenario { crash: Some(crash), ..base })
        }
        5 => {
            let other = (one + rng.gen_range(1..4usize)) % 4;
            let (after, down) = (ms(&mut rng, 0, 1_000), ms(&mut rng, 1_500, 3_500));
            let crash = Crash { validators: vec![one, other], at_ack: false, after, down };
            (
                format!("validators {one} and {other} crashed and restarted{loss}"),
                Scenario { crash: Some(crash), ..base },
            )
        }
        _ => {
            let isolate = rng.gen_bool(0.5).then(|| (one + rng.gen_range(1..4usize)) % 4);
            let twins = Twins { validator: one, isolate };
            (format!("validator {one} equivocating{loss}"), Scenario { twins: Some(twins), ..base })
        }
    }
}

/// Many seeds, each with the faults it picks ([`seeded_faults`]). For every seed no two honest validators
/// finalize different blocks at any height, conservation holds after every block on every validator (the
/// sink checks it), finality resumes and every honest validator (restarted ones included) ends on one
/// chain with the same state roots, with no progress while two are down; and a second run of the seed
/// replays it exactly (the same chains and runtime auditor digest; checked for every 4th seed, every 10th
/// with `RUN_SLOW_TESTS=1`, and for a seed named with `BFT_SEED=`, to keep the suite near a minute). 200
/// seeds by default, 10,000 with `RUN_SLOW_TESTS=1`. A failing seed is named with how to replay it:
/// `BFT_SEED=` runs only that seed.
#[test]
fn many_seeds_agree_under_seeded_faults() {
    let count: u64 = if slow() { 10_000 } else { 200 };
    let named = std::env::var("BFT_SEED").ok().and_then(|s| s.parse().ok());
    let seeds: Vec<u64> = match named {
        Some(seed) => vec![seed],
        None => (1_000..1_000 + count).collect(),
    };
    let every = if slow() { 10 } else { 4 };
    let replayed = |seed: u64| named.is_some() || seed % every == 0;
    let started = std::time::Instant::now();
    for seed in seeds {
        let (name, s) = seeded_faults(seed);
        let replay = format!("replay with BFT_SEED={seed} cargo test -p bft --test it many_seeds");
        let first =
            std::panic::catch_unwind(|| run(&s)).unwrap_or_else(|_| panic!("seed {seed} ({name}) failed: {replay}"));
        let checked = std::panic::catch_unwind(|| {
            assert_agreement(&first, s.target(), s.faulty());
            if let Some(progress) = first.crash_progress {
                assert!(progress <= 1, "{progress} blocks finalized with two of four down");
            }
        });
        assert!(checked.is_ok(), "seed {seed} ({name}) disagreed: {replay}");
        if !replayed(seed) {
            continue;
        }
        let again = std::panic::catch_unwind(|| run(&s))
            .unwrap_or_else(|_| panic!("seed {seed} ({name}) failed on its second run: {replay}"));
        assert!(
            first.sinks == again.sinks && first.auditor == again.auditor,
            "seed {seed} ({name}) did not replay exactly: {replay}"
        );
    }
    println!("seeds done in {:?}", started.elapsed());
}
