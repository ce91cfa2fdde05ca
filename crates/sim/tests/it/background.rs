//! Background work while some miners always serve users, through the real engine: determinism, where the
//! background emission goes, and conservation.

use sim::background::{run, simulate, Config};
use sim::NoProgress;

fn short() -> Config {
    Config { busy: 6, idle: 18, epochs: 3, ..Config::default() }
}

#[test]
fn background_the_same_seed_gives_byte_identical_files() {
    let c = short();
    let a = run(&c, &mut NoProgress).expect("run");
    let b = run(&c, &mut NoProgress).expect("run");
    assert_eq!(a.files(), b.files());
    assert_eq!((a.summary.clone(), a.headline.clone()), (b.summary, b.headline));
    let other = run(&Config { seed: 2, ..c }, &mut NoProgress).expect("run");
    assert_ne!(a.files(), other.files(), "another seed serves requests at other times");
}

/// The busy miners never do background work; the idle ones are paid from the pool while the busy ones
/// serve users, and every base unit of the pool is paid, swept or still in it.
#[test]
fn background_emission_reaches_the_idle_miners_while_others_serve_users() {
    let c = short();
    let out = simulate(&c, &mut NoProgress).expect("run");
    let t = out.total();
    assert!(t.served > 0 && t.created > 0, "{t:?}");
    assert_eq!(t.paid_busy, 0, "a busy miner was paid for background work");
    // 18 idle miners hold three tasks of five places at a time: about a fifth of the emission.
    assert!(t.paid_idle * 10 > t.minted, "idle miners got over a tenth of the background emission: {t:?}");
    assert_eq!(out.pool_start + t.minted, t.paid_idle + t.paid_busy + t.swept + out.pool_end, "pool flows");
    assert_eq!(out.supply_end, out.supply_start + out.minted_total);
    // Without background tasks (the parameter at 0) the whole background emission is swept back.
    let off = Config { params: [("background_tasks_per_block".to_string(), "0".to_string())].into(), ..c };
    let t = simulate(&off, &mut NoProgress).expect("run").total();
    assert_eq!((t.created, t.paid_idle, t.swept), (0, 0, t.minted));
}

/// `--set params.NAME=0` and `--sweep params.NAME=0,1` give integers: the scenario takes them as text.
#[test]
fn background_engine_parameters_may_be_set_as_numbers() {
    let mut table = toml::Table::new();
    sim::set_key(&mut table, "params.background_tasks_per_block", toml::Value::Integer(0)).expect("key");
    sim::set_key(&mut table, "epochs", toml::Value::Integer(2)).expect("key");
    let out = sim::run("background", &table, &mut NoProgress).expect("run");
    let get = |k: &str| out.headline.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    assert_eq!(get("tasks_created").as_deref(), Some("0"));
    assert_eq!(get("swept_share").as_deref(), Some("1.0000"));
}
