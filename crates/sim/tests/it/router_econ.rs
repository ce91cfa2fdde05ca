//! Router economics through the real engine: determinism, the latency curve and its clamp, the 75% line,
//! the over-claiming twin and a short pool.

use sim::router_econ::{run, simulate, totals, Config, RouterEpoch};
use sim::{NoProgress, Progress};

fn short() -> Config {
    Config { epochs: 4, ..Config::default() }
}

#[test]
fn router_econ_the_same_seed_gives_byte_identical_files() {
    let c = short();
    let a = run(&c, &mut NoProgress).expect("run");
    let b = run(&c, &mut NoProgress).expect("run");
    assert_eq!(a.files(), b.files());
    assert_eq!((a.summary.clone(), a.headline.clone()), (b.summary, b.headline));
    let other = run(&Config { seed: 2, ..c }, &mut NoProgress).expect("run");
    assert_ne!(a.files(), other.files(), "another seed draws other profiles");
}

#[test]
fn router_reward_never_rises_with_latency_and_is_zero_from_the_clamp() {
    // Equal traffic everywhere: a router-epoch's pay depends on its latency alone.
    let c = Config { traffic_jitter_pct: 0, overclaim_pct: 0, ..Config::default() };
    let run = simulate(&c, &mut NoProgress).expect("run");
    let mut rows: Vec<&RouterEpoch> = run.rows.iter().collect();
    rows.sort_by(|a, b| a.latency_ms().total_cmp(&b.latency_ms()));
    assert!(rows.iter().all(|r| r.validated_bytes == 5 * 200_000_000), "equal bandwidth");
    for w in rows.windows(2) {
        assert!(
            w[1].paid <= w[0].paid,
            "{} ms paid {} > {} ms paid {}",
            w[1].latency_ms(),
            w[1].paid,
            w[0].latency_ms(),
            w[0].paid
        );
    }
    let clamped: Vec<&&RouterEpoch> = rows.iter().filter(|r| r.latency_ms() >= 1_000.0).collect();
    assert!(!clamped.is_empty(), "the defaults reach the 1,000 ms clamp");
    assert!(clamped.iter().all(|r| r.paid == 0 && r.owed == 0 && r.latency_factor.raw() == 0));
    assert!(rows.iter().filter(|r| r.latency_ms() < 1_000.0).all(|r| r.paid > 0));
    // 1,000 MB at kB = 1,000,000 base units per MB, S = 0.5, latency factor 1 − L/1000 (floored).
    for r in &rows {
        let factor = 1_000_000_000 - (r.latency_ms().floor() as u64).min(1_000) * 1_000_000;
        assert_eq!(u64::from(r.latency_factor.raw()), factor, "{r:?}");
        assert_eq!(r.paid, (1_000u128 * 1_000_000 * u128::from(factor) / 1_000_000_000) / 2, "{r:?}");
    }
}

#[test]
fn routers_below_75_percent_are_slashed_every_epoch_and_the_others_never() {
    let c = Config::default();
    let run = simulate(&c, &mut NoProgress).expect("run");
    let below = run.rows.iter().filter(|r| r.connectivity.raw() < 750_000_000).count();
    assert!(below > 0 && below < run.rows.len(), "the defaults straddle the line");
    for r in &run.rows {
        assert_eq!(r.slashed > 0, r.connectivity.raw() <= 750_000_000, "{r:?} (exactly 75% is a breach)");
        if r.slashed > 0 {
            assert_eq!(r.slashed, (r.collateral + r.slashed) / 10, "10% of the collateral before the slash");
        }
    }
    // A router whose profile is more than the jitter (3 points) below the line is slashed in every epoch;
    // one more than the jitter above it never.
    for (i, p) in run.profiles.iter().enumerate() {
        let slashes = run.rows.iter().filter(|r| r.router == i as u32 && r.slashed > 0).count();
        if p.online.raw() < 720_000_000 {
            assert_eq!(slashes, c.epochs as usize, "router {i}");
        } else if p.online.raw() >= 780_000_000 {
            assert_eq!(slashes, 0, "router {i}");
        }
    }
    // 200 SWK slashed 10% a time is below the 100 SWK minimum after the 7th slash (95.7 SWK), and nothing
    // happens to the router: it is still registered at the end.
    let t = totals(&run);
    let always = t.iter().find(|t| t.epochs_slashed == c.epochs).expect("a router slashed every epoch");
    assert_eq!(always.below_min_after, Some(7));
    assert_eq!(always.collateral_end, 69_735_688_020);
    assert!(run.registered_at_end.iter().all(|r| *r));
    let out = run_output(&c);
    assert!(out.contains("every router-epoch at or below 75% was slashed and none above it"), "{out}");
}

fn run_output(c: &Config) -> String {
    run(c, &mut NoProgress).expect("run").summary
}

#[test]
fn an_over_claiming_router_is_paid_exactly_what_its_honest_twin_is() {
    let run = simulate(&short(), &mut NoProgress).expect("run");
    let cheat: Vec<&RouterEpoch> = run.rows.iter().filter(|r| r.overclaims).collect();
    let twin: Vec<&RouterEpoch> = run.rows.iter().filter(|r| r.router == 0).collect();
    assert_eq!(cheat.len(), 4);
    assert!(cheat.iter().all(|r| r.router == 11));
    for (x, t) in cheat.iter().zip(&twin) {
        assert_eq!(x.reported_bytes, t.reported_bytes * 3 / 2, "50% more reported");
        assert_eq!((x.validated_bytes, x.node_bytes), (t.validated_bytes, t.node_bytes));
        assert_eq!(x.validated_bytes, x.node_bytes, "capped by the nodes' own counts");
        assert_eq!((x.owed, x.paid, x.slashed), (t.owed, t.paid, t.slashed));
    }
    assert!(cheat.iter().all(|r| r.paid > 0));
}

#[test]
fn a_short_pool_pays_every_router_pro_rata_and_exactly_the_pool() {
    let c = Config { routers_pool_per_epoch: 1_000_000_000, epochs: 3, ..Config::default() };
    let run = simulate(&c, &mut NoProgress).expect("run");
    for (e, (owed, paid, minted)) in run.pool.iter().enumerate() {
        assert_eq!(*minted, 1_000_000_000);
        assert!(owed > minted, "epoch {}: owed {owed}", e + 1);
        assert_eq!(paid, minted, "the whole pool is paid");
        for r in run.rows.iter().filter(|r| r.epoch == e as u32 + 1) {
            let share = r.owed * minted / owed;
            assert!(r.paid == share || r.paid == share + 1, "{r:?}: pro rata {share}");
        }
    }
    let out = run_output(&c);
    assert!(out.contains("The pool was short in 3 of 3 epochs"), "{out}");
}

#[derive(Default)]
struct Count {
    total: u64,
    done: u64,
    unit: String,
}

impl Progress for Count {
    fn start(&mut self, total: u64, unit: &str) {
        self.total = total;
        self.unit = unit.to_string();
    }
    fn advance(&mut self, n: u64) {
        self.done += n;
    }
}

#[test]
fn progress_counts_epochs_and_bad_configs_are_refused_with_a_reason() {
    let mut p = Count::default();
    run(&short(), &mut p).expect("run");
    assert_eq!((p.total, p.done, p.unit.as_str()), (4, 4, "epochs"));
    // Refused before anything ran, as a bad setting, with a message that names it.
    let err = |c: Config| match run(&c, &mut NoProgress).expect_err("refused") {
        sim::SimError::Setting(message) => message,
        other => panic!("a setting error, not {other:?}"),
    };
    assert!(err(Config { routers: 0, ..short() }).contains("routers: a network needs 1 to 1000 routers"));
    assert!(err(Config { collateral: 1, ..short() }).contains("router_stake_min"));
    assert!(err(Config { online_pct_max: 120, ..short() }).contains("online_pct"));
    let parsed: Config = toml::from_str("routers = 3\nseed = 5").expect("toml");
    assert_eq!((parsed.routers, parsed.seed, parsed.epochs), (3, 5, 10));
    assert!(toml::from_str::<Config>("router = 3").is_err(), "unknown fields are refused");
}
