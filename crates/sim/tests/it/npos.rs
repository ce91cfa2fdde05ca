//! nPoS through the real engine's validator set: the Nakamoto coefficient, the behaviours, determinism,
//! the set moving with stake, and commissions within the engine's bound.

use sim::npos::{
    best_move, gini, mean_returns, nakamoto, next_commission, run, simulate, CandidateEra, Config, EraRecord,
};
use sim::NoProgress;
use types::Ppb;

fn short() -> Config {
    Config { candidates: 8, validators: 3, nominators: 30, eras: 12, era_blocks: 10, ..Config::default() }
}

#[test]
fn npos_nakamoto_is_the_fewest_validators_holding_more_than_a_third() {
    assert_eq!(nakamoto(&[]), 0);
    assert_eq!(nakamoto(&[0, 0]), 0);
    assert_eq!(nakamoto(&[50, 30, 20]), 1, "50 of 100 is over a third");
    assert_eq!(nakamoto(&[20, 30, 50]), 1, "order does not matter");
    assert_eq!(nakamoto(&[10, 10, 10]), 2, "one of three equal weights is exactly a third: not more");
    assert_eq!(nakamoto(&[1, 1, 1]), 2);
    assert_eq!(nakamoto(&[34, 33, 33]), 1, "34 of 100 is over a third");
    assert_eq!(nakamoto(&[25, 25, 25, 25]), 2);
    assert_eq!(nakamoto(&[10; 9]), 4, "3 of 9 is a third, 4 is more");
    assert_eq!(nakamoto(&[1, 1, 1, 1, 1, 1, 1, 1, 1, 91]), 1);
    assert_eq!(nakamoto(&[u128::MAX / 4, u128::MAX / 4]), 1, "no overflow near the top of u128");
    assert!(gini(&[7, 7, 7]).abs() < 1e-12);
    assert!((gini(&[0, 0, 0, 10]) - 0.75).abs() < 1e-12, "one of four holds all: (n − 1)/n");
    assert!((gini(&[1, 3]) - 0.25).abs() < 1e-12);
}

#[test]
fn npos_validators_and_nominators_behave_as_documented() {
    let (max, step) = (Ppb::new(200_000_000).expect("20%"), 10_000_000);
    let c = |raw| Ppb::new(raw).expect("ppb");
    // Comfortably elected: up one step, never above the maximum.
    assert_eq!(next_commission(c(50_000_000), (true, false), (130, 100), (step, max, 20)), c(60_000_000));
    assert_eq!(next_commission(c(195_000_000), (true, false), (130, 100), (step, max, 20)), max);
    // Elected but close to the runner-up: unchanged; lost nominations or left out: down a step, not below 0.
    assert_eq!(next_commission(c(50_000_000), (true, false), (110, 100), (step, max, 20)), c(50_000_000));
    assert_eq!(next_commission(c(50_000_000), (true, true), (500, 100), (step, max, 20)), c(40_000_000));
    assert_eq!(next_commission(c(5_000_000), (false, false), (0, 100), (step, max, 20)), Ppb::ZERO);
    // The best return, ties to the smaller index, only past the inertia.
    assert_eq!(best_move(&[100, 120, 120, 0], 0, 10), Some(1));
    assert_eq!(best_move(&[100, 109, 0], 0, 10), None, "9% better is within the 10% inertia");
    assert_eq!(best_move(&[100, 120], 1, 10), None, "already with the best");
    assert_eq!(best_move(&[0, 1], 0, 10), Some(1), "a candidate left out pays nothing");
    // Returns averaged over the last eras: (30 + 10) / 2 and (0 + 20) / 2; fewer eras at the start.
    let era = |r: [u128; 2]| EraRecord {
        candidates: r.iter().map(|x| CandidateEra { return_ppb: *x, ..CandidateEra::default() }).collect(),
        ..EraRecord::default()
    };
    let eras = [era([99, 99]), era([30, 0]), era([10, 20])];
    assert_eq!(mean_returns(&eras, 2), vec![20, 10]);
    assert_eq!(mean_returns(&eras, 1), vec![10, 20]);
    assert_eq!(mean_returns(&eras[..1], 4), vec![99, 99]);
}

#[test]
fn npos_the_same_seed_gives_byte_identical_files() {
    let c = short();
    let a = run(&c, &mut NoProgress).expect("run");
    let b = run(&c, &mut NoProgress).expect("run");
    assert_eq!(a.files(), b.files());
    assert_eq!((a.summary.clone(), a.headline.clone()), (b.summary, b.headline));
    let other = run(&Config { seed: 2, ..c }, &mut NoProgress).expect("run");
    assert_ne!(a.files(), other.files(), "another seed draws other stakes and budgets");
}

/// Chasing nominators move stake and the engine's elected set follows; sticky ones never change it after
/// their first nominations. Every era's Nakamoto coefficient is that of the weights the engine elected, and
/// no commission ever exceeds `commission_max`.
#[test]
fn npos_the_elected_set_follows_moving_stake_and_commissions_stay_bounded() {
    let c = short();
    let chasing = simulate(&c, false, &mut NoProgress).expect("chasing");
    assert!(chasing.moves() > 0, "nominators moved");
    assert!(chasing.eras.iter().skip(2).any(|e| e.changed), "the set changed after the first nominations");
    let sticky = simulate(&c, true, &mut NoProgress).expect("sticky");
    assert_eq!(sticky.moves(), 0);
    assert!(sticky.eras.iter().skip(2).all(|e| !e.changed), "no stake moved, so the set stayed");
    for out in [&chasing, &sticky] {
        assert_eq!(out.eras.len() as u64, c.eras);
        assert!(out.commission_changes > 0);
        assert!(out.commission_max_seen <= out.commission_max);
        assert_eq!(out.supply_end, out.supply_start + out.minted);
        // One reward per block from height 1 on, all paid to elected proposers.
        assert_eq!(out.minted, u128::from(c.eras * c.era_blocks - 1) * 1_000_000_000);
        let rewards: u128 = out.eras.iter().flat_map(|e| e.candidates.iter().map(|c| c.rewards)).sum();
        assert_eq!(rewards, out.minted, "every block reward was booked to the candidate that earned it");
        for e in &out.eras {
            assert_eq!(e.elected.len(), c.validators as usize);
            assert_eq!(e.nakamoto, nakamoto(&e.weights));
            for (i, cand) in e.candidates.iter().enumerate() {
                assert!(cand.commission <= out.commission_max);
                assert_eq!(cand.elected, e.elected.contains(&i));
                assert!(cand.elected || cand.rewards == 0, "era {}: {i} earned without being elected", e.era);
                assert!(cand.elected || cand.return_ppb == 0);
                assert!(cand.commission_taken <= cand.rewards);
            }
        }
    }
    // The CSV says the same.
    let report = run(&c, &mut NoProgress).expect("run");
    let files = report.files();
    let csv = &files.iter().find(|(n, _)| n == "candidates.csv").expect("candidates.csv").1;
    let max = u64::from(chasing.commission_max.raw());
    for row in csv.lines().skip(1) {
        let commission: u64 = row.split(',').nth(7).expect("commission").parse().expect("a number");
        assert!(commission <= max, "{row}");
    }
}

#[test]
fn npos_settings_out_of_range_are_refused_by_name() {
    let refused = |c: Config| match simulate(&c, false, &mut NoProgress) {
        Err(sim::SimError::Setting(m)) => m,
        other => panic!("expected a refused setting, got {other:?}"),
    };
    assert!(refused(Config { validators: 13, candidates: 12, ..short() }).contains("validators"));
    assert!(refused(Config { unbonding_eras: 0, ..short() }).contains("unbonding_eras"));
    assert!(refused(Config { commission_step_ppb: 0, ..short() }).contains("commission_step_ppb"));
    let mut bad = short();
    bad.params.insert("commission_max".into(), "2000000000".into());
    assert!(refused(bad).contains("commission_max"));
}
