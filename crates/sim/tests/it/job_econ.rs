//! Training-job failure economics through the real engine: determinism, an empty escrow and conserved
//! tokens after every outcome, the seed's worked numbers, and the failure-epoch sweep.

use sim::job_econ::{run, run_outcome, scenarios, simulate, Config, OutcomeRun, Scenario};
use sim::NoProgress;

/// The seed's numbers with short timeouts, so the heartbeat and lapse outcomes need few blocks.
fn quick() -> Config {
    Config { heartbeat_timeout: 40, dispatch_timeout: 30, ..Config::default() }
}

fn outcome(c: &Config, s: Scenario) -> OutcomeRun {
    run_outcome(c, s).unwrap_or_else(|e| panic!("{s:?}: {e}"))
}

fn net(r: &OutcomeRun, name: &str) -> i128 {
    r.party(name).unwrap_or_else(|| panic!("no party {name}")).job_net()
}

#[test]
fn job_econ_the_same_config_gives_byte_identical_files() {
    let c = quick();
    let a = run(&c, &mut NoProgress).expect("run");
    let b = run(&c, &mut NoProgress).expect("run");
    assert_eq!(a.files(), b.files());
    assert_eq!(a.summary, b.summary);
    assert_eq!(a.files().iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(), ["outcomes.csv", "failure-epoch.csv"]);
    // Another seed picks other offenders; the economics are the same.
    let other = run(&Config { seed: 3, ..c }, &mut NoProgress).expect("run");
    assert_ne!(a.files()[0], other.files()[0], "the offenders differ");
    assert_eq!(a.files()[1], other.files()[1], "the sweep's figures do not depend on who fails");
}

#[test]
fn every_outcome_empties_the_escrow_and_conserves_tokens() {
    let c = quick();
    let (runs, _) = simulate(&c, &mut NoProgress).expect("run");
    let numbers: std::collections::BTreeSet<&str> = runs.iter().map(|r| r.scenario.number()).collect();
    assert_eq!(numbers.into_iter().collect::<Vec<_>>(), ["1", "2", "3", "4", "5", "6", "7", "8", "–"]);
    assert_eq!(runs.len(), scenarios(&c).len());
    for r in &runs {
        assert_eq!(r.escrow_after, 0, "{:?}", r.scenario);
        assert_eq!(r.supply_before, r.supply_after, "{:?}", r.scenario);
        assert_eq!(r.delta_sum, 0, "{:?}", r.scenario);
        // The named parties are every account that moved: their deltas alone sum to zero, and the
        // treasury took the fees (and a fine's rest, which no reporter receives).
        assert_eq!(r.parties.iter().map(|p| p.delta).sum::<i128>(), 0, "{:?}", r.scenario);
        let fees: u128 = r.parties.iter().map(|p| p.fees).sum();
        assert!(r.party("treasury").is_some_and(|p| p.delta >= fees as i128), "{:?}", r.scenario);
        assert_eq!(r.parties.iter().map(|p| p.job_net()).sum::<i128>(), fees as i128, "{:?}", r.scenario);
    }
}

#[test]
fn the_seed_numbers_cancel_fines_7920_and_a_silent_do_pays_the_whole_10000() {
    let c = quick();
    // Outcome 7: StakeIn 13,200; 60% = 7,920 fined by schema share (600 per DO and MPC, 720 GDS).
    let r = outcome(&c, Scenario::Cancelled);
    assert_eq!(r.settled, "cancelled: 7920 fined and 5280 refunded");
    assert_eq!(net(&r, "qc"), -7_920);
    assert_eq!(net(&r, "gds"), 720);
    assert!(r.nets("do").iter().chain(&r.nets("mpc")).all(|n| *n == 600), "{r:?}");
    // Outcome 2: the silent DO loses its 10,000; nine honest DOs get 1,000 each and the treasury the rest.
    let r = outcome(&c, Scenario::DoNoHeartbeat);
    assert_eq!(r.nets("do_offender"), [-10_000]);
    assert_eq!(r.nets("do"), [1_000; 9]);
    assert_eq!((net(&r, "gds"), net(&r, "qc")), (0, 0));
    assert_eq!(r.nets("mpc"), [0, 0], "an honest MPC is paid nothing");
    // Outcome 3 at 4/10: 400 to each of the nine others; 6,400 of the deposit returns.
    let r = outcome(&c, Scenario::DoFailed { epoch: 4 });
    assert_eq!((r.nets("do_offender"), r.nets("do")), (vec![-3_600], vec![400; 9]));
    // Outcome 8: the replaced MPC's deposit pays every DO 1,000, then the schema pays them again.
    let r = outcome(&c, Scenario::MpcReplaced);
    assert_eq!(r.nets("mpc_replaced"), [-10_000]);
    assert_eq!(r.nets("do"), [2_000; 10]);
    assert_eq!((r.nets("mpc"), r.nets("mpc_replacement")), (vec![1_000], vec![1_000]));
    assert_eq!(net(&r, "qc"), -13_200);
}

#[test]
fn the_failure_epoch_sweep_charges_the_quitter_900_per_epoch_and_never_the_qc() {
    let c = Config { epochs: 5, do_failure_epochs: vec![2], mpc_failure_epoch: 3, ..quick() };
    let (runs, sweep) = simulate(&c, &mut NoProgress).expect("run");
    assert_eq!(sweep.len(), 5, "epochs 0..4; a failure at epoch 5 is refused");
    for r in &sweep {
        let e = i128::from(r.epoch);
        // ⌊e/5 × 1,000⌋ to each of the nine honest DOs, from the quitter's deposit.
        assert_eq!(r.honest_do, 200 * e);
        assert_eq!(r.failing_do, -9 * 200 * e);
        assert_eq!((r.qc, r.honest_mpc, r.gds), (0, 0, 0));
    }
    let caught = runs.iter().find(|r| r.scenario == Scenario::DoNoHeartbeat).expect("outcome 2").nets("do_offender");
    assert!(sweep.iter().all(|r| r.failing_do > caught[0]), "self-reporting is always cheaper than being caught");
    let out = run(&c, &mut NoProgress).expect("run");
    let plot = &out.plots[0];
    assert_eq!(plot.file, "job-failure-epoch.png");
    assert_eq!(plot.series[0].points.len(), 5);
}

#[test]
fn a_silent_do_that_quits_at_epoch_0_pays_the_others_for_their_posted_epochs() {
    let r = outcome(&quick(), Scenario::DoSilentQuit);
    assert_eq!(r.settled, "self-reported at 0/10");
    // The nine others posted epoch 8 (eight epochs done): ⌊1,000 × 8/10⌋ = 800 each from the quitter.
    assert_eq!(r.nets("do_offender"), [-7_200]);
    assert_eq!(r.nets("do"), [800; 9]);
}

#[test]
fn bad_job_configs_are_refused_with_a_reason() {
    // Refused before anything ran, as a bad setting, with a message that names it.
    let err = |c: Config| match run(&c, &mut NoProgress).expect_err("refused") {
        sim::SimError::Setting(message) => message,
        other => panic!("a setting error, not {other:?}"),
    };
    assert!(err(Config { data_owners: 1, ..quick() }).contains("data_owners"));
    assert!(err(Config { do_failure_epochs: vec![10], ..quick() }).contains("failure epoch 10"));
    assert!(err(Config { mpcs: 0, ..quick() }).contains("mpcs"));
    let parsed: Config = toml::from_str("data_owners = 4\nepochs = 3").expect("toml");
    assert_eq!((parsed.data_owners, parsed.epochs, parsed.price_per_do), (4, 3, 1_000));
    assert!(toml::from_str::<Config>("dos = 4").is_err(), "unknown fields are refused");
}
