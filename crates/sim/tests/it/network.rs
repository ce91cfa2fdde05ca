//! The network scenario: whole task lifecycles through the real engine.

use sim::network::{simulate, Class, NetworkConfig};
use sim::NoProgress;

fn small() -> NetworkConfig {
    NetworkConfig { miners: 120, tasks: 3_000, tasks_per_block: 12, clients: 20, ..NetworkConfig::default() }
}

/// (miners, selected, passed, outlier, missed, points paid, income).
fn class(r: &sim::network::NetworkReport, c: Class) -> (u64, u64, u64, u64, u64, u128, i128) {
    let x = r.classes.iter().find(|x| x.0 == c).expect("class");
    (x.1, x.2, x.3, x.4, x.5, x.6, x.7)
}

#[test]
fn every_task_finishes_no_transaction_is_refused_and_tokens_are_conserved() {
    let (r, out) = simulate(&small(), &mut NoProgress).expect("runs");
    println!("{}", out.summary);
    assert_eq!(r.rejected_txs, 0, "the simulated nodes and oracles only send what the engine accepts");
    assert_eq!(r.tasks_submitted, 3_000);
    assert_eq!(r.tasks_ended + r.tasks_failed, 3_000, "every task ends or fails");
    assert_eq!(r.supply_end, r.supply_start + r.minted, "supply = genesis + minted");
    let honest = class(&r, Class::Honest);
    let lazy = class(&r, Class::Lazy);
    let copier = class(&r, Class::Copier);
    let flaky = class(&r, Class::Flaky);
    assert!(lazy.3 > 0, "lazy outputs are PoI outliers");
    assert_eq!(copier.2, 0, "a copier never passes: it cannot open a blind commitment to a copied answer");
    assert!(copier.4 > 0 && flaky.4 > 0, "copiers and flaky miners miss deadlines");
    let per = |x: (u64, u64, u64, u64, u64, u128, i128)| x.6 as f64 / x.0 as f64;
    assert!(per(honest) > per(lazy) && per(honest) > per(copier) && per(honest) > per(flaky), "{}", out.summary);
}

#[test]
fn the_same_seed_gives_byte_identical_csv() {
    let c = NetworkConfig { miners: 60, tasks: 600, tasks_per_block: 6, ..NetworkConfig::default() };
    let (_, a) = simulate(&c, &mut NoProgress).expect("runs");
    let (_, b) = simulate(&c, &mut NoProgress).expect("runs");
    assert_eq!(a.files(), b.files());
    let (_, other) = simulate(&NetworkConfig { seed: 2, ..c }, &mut NoProgress).expect("runs");
    assert_ne!(a.files(), other.files());
}
