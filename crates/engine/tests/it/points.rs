//! Epoch points through the engine's points module (DESIGN §7, §9): the xx network example with the blog's
//! stylised round outcomes fed in directly, and the deduction a target failure rate implies.

use engine::{compute_points_payout, points_failure, EpochPoints, PointsRules};
use types::{AccountId, Amount, Ppb};

fn node(i: u8) -> AccountId {
    AccountId([i + 1; 32])
}

fn rules(target: Ppb) -> PointsRules {
    PointsRules { success: 10, failure: points_failure(10, target), blame_culprits: false, block: 0 }
}

/// 15 nodes; each takes part in a third of `rounds`. A good node's rounds fail 1/6 of the time (it shares a
/// third of them with the bad node, which fails half of its rounds); the bad node's fail 1/2.
fn xx_epoch(rounds: u64, rules: &PointsRules) -> EpochPoints {
    let mut points = EpochPoints::default();
    let per_node = rounds / 3;
    for i in 0..15u8 {
        let fails_every = if i == 14 { 2 } else { 6 };
        for r in 0..per_node {
            if r % fails_every == fails_every - 1 {
                points.record_failure(&[node(i)], &[], rules);
            } else {
                points.record_success(&[node(i)], rules);
            }
        }
    }
    points
}

fn check_xx(rounds: u64) {
    let target = Ppb::new(333_333_333).expect("1/3");
    let rules = rules(target);
    assert_eq!(rules.failure, 20, "xx network deducts 20 points per realtime failure");
    let points = xx_epoch(rounds, &rules);
    let expected = rounds as f64 * 5.0 / 3.0; // a third of the rounds × (5/6 · 10 − 1/6 · 20)
    let bad = points.nodes[&node(14)];
    let bad_raw = bad.earned as f64 - bad.deducted as f64;
    assert!((bad_raw + expected).abs() / expected < 1e-3, "bad node {bad_raw} vs −{expected}");
    assert_eq!(bad.net(), 0, "the bad node is floored to zero");
    for i in 0..14 {
        let net = points.nodes[&node(i)].net() as f64;
        assert!((net - expected).abs() / expected < 1e-3, "good node {i}: {net} vs {expected}");
    }
    // The pool is shared equally by the 14 good nodes, as if the bad one never existed.
    let pool = Amount(1_000_000_000_007);
    let paid = compute_points_payout(pool, &points);
    assert_eq!(paid.len(), 14, "the bad node is paid nothing");
    assert_eq!(Amount::checked_sum(paid.iter().map(|(_, a)| *a)), Some(pool), "exactly the pool");
    let share = pool.0 / 14;
    assert!(paid.iter().all(|(_, a)| a.0 == share || a.0 == share + 1), "equal shares: {paid:?}");
    // Dividing by total earned − total deducted (the pallet's denominator) would promise more than the pool.
    let (earned, deducted): (u128, u128) =
        points.nodes.values().fold((0, 0), |(e, d), p| (e + p.earned, d + p.deducted));
    let naive_total: u128 = (0..14).map(|i| pool.0 * points.nodes[&node(i)].net() / (earned - deducted)).sum();
    assert!(naive_total > pool.0, "the naive rule overpays: {naive_total} > {}", pool.0);
}

#[test]
fn xx_network_example_bad_node_floored_and_pool_shared_by_the_good_14() {
    // The same proportions with fewer rounds (exact: 9,000 rounds give every good node 15,000 points).
    check_xx(9_000);
    let points = xx_epoch(9_000, &rules(Ppb::new(333_333_333).expect("1/3")));
    assert_eq!(points.nodes[&node(0)].net(), 15_000);
    if std::env::var_os("RUN_SLOW_TESTS").is_some() {
        // The blog's full count: good nodes net about 166,667, the bad node about −166,667.
        check_xx(100_000);
        let points = xx_epoch(100_000, &rules(Ppb::new(333_333_333).expect("1/3")));
        let good = points.nodes[&node(0)].net();
        assert!((166_600..=166_700).contains(&good), "{good}");
    }
}

#[test]
fn a_five_percent_target_deducts_190_and_a_node_failing_five_percent_breaks_even() {
    let rules = rules(Ppb::new(50_000_000).expect("5%"));
    assert_eq!(rules.failure, 190);
    let mut points = EpochPoints::default();
    for r in 0..1_000 {
        if r % 20 == 19 {
            points.record_failure(&[node(0)], &[], &rules);
        } else {
            points.record_success(&[node(0)], &rules);
        }
    }
    let p = points.nodes[&node(0)];
    assert_eq!((p.earned, p.deducted, p.net()), (9_500, 9_500, 0));
    assert_eq!(p.failure_rate(), Ppb::new(50_000_000).expect("5%"));
}

#[test]
fn a_failed_round_costs_the_whole_team_or_only_the_known_culprits() {
    let team = [node(0), node(1), node(2)];
    let mut by_team = EpochPoints::default();
    let r = rules(Ppb::new(333_333_333).expect("1/3"));
    by_team.record_failure(&team, &[node(1)], &r);
    assert!(team.iter().all(|m| by_team.nodes[m].deducted == 20));
    let mut by_culprit = EpochPoints::default();
    by_culprit.record_failure(&team, &[node(1)], &PointsRules { blame_culprits: true, ..r });
    let deducted: Vec<u128> = team.iter().map(|m| by_culprit.nodes[m].deducted).collect();
    assert_eq!(deducted, vec![0, 20, 0]);
    assert!(team.iter().all(|m| by_culprit.nodes[m].rounds == 1));
    assert!(compute_points_payout(Amount(100), &by_team).is_empty(), "no positive net: nothing is paid");
}
