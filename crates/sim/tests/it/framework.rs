//! The framework: one `Table` gives the CSV and the markdown, a `Report` is written as its folder, the
//! registry finds every scenario by name and lays settings over its defaults, and `TestChain::seal` names a
//! rejected transaction.

use engine::testkit::{self, account, TestChain};
use sim::{Report, SimError, Table, SCENARIOS};
use types::Amount;

fn table() -> Table {
    let mut t = Table::new("t.csv", &["", "a", "b"]);
    t.row(&[&"x", &1, &format!("{:.2}", 0.5)]);
    t.push(vec!["y".into(), String::new(), "3".into()]);
    t
}

#[test]
fn one_table_renders_csv_and_markdown() {
    let t = table();
    assert_eq!(t.csv(), ",a,b\nx,1,0.50\ny,,3\n");
    assert_eq!(t.markdown(), "| | a | b |\n|---|---|---|\n| x | 1 | 0.50 |\n| y |  | 3 |\n");
}

#[test]
fn a_report_is_written_as_its_folder() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("run");
    let report = Report { tables: vec![table()], summary: "# s\n".into(), ..Report::default() };
    let plots = report.write(&out, "\n## Performance\n").expect("written");
    assert!(plots.is_empty());
    assert_eq!(std::fs::read_to_string(out.join("t.csv")).expect("csv"), table().csv());
    assert_eq!(std::fs::read_to_string(out.join("summary.md")).expect("md"), "# s\n\n## Performance\n");
    assert_eq!(report.files(), vec![("t.csv".to_string(), table().csv())]);
}

#[test]
fn the_registry_finds_each_scenario_once_and_refuses_unknown_names_and_keys() {
    let names: Vec<&str> = SCENARIOS.iter().map(|s| s.name()).collect();
    assert_eq!(names, ["xx", "network", "scale", "target", "fairness", "poi", "routers", "jobs", "background", "npos"]);
    match sim::run("nosuch", &toml::Table::new(), &mut sim::NoProgress) {
        Err(SimError::UnknownScenario { name, known }) => {
            assert_eq!(name, "nosuch");
            assert!(known.starts_with("xx, network, scale"), "{known}");
        }
        other => panic!("expected an unknown scenario, got {other:?}"),
    }
    let bad: toml::Table = toml::from_str("rounds = 10\nnosuch = 1").expect("toml");
    match sim::run("xx", &bad, &mut sim::NoProgress) {
        Err(SimError::Setting(m)) => assert!(m.contains("nosuch"), "{m}"),
        other => panic!("expected a refused setting, got {other:?}"),
    }
    let small: toml::Table = toml::from_str("rounds = 3000\nseed = 9").expect("toml");
    let via_registry = sim::run("xx", &small, &mut sim::NoProgress).expect("xx runs");
    let direct = sim::xx::run(&sim::xx::XxConfig { rounds: 3000, seed: 9, ..Default::default() });
    assert_eq!(via_registry, direct, "the registry lays the table over the scenario's defaults");
}

#[test]
fn seal_names_the_first_rejected_transaction() {
    let (a, b) = (account(1, 0), account(1, 1));
    let params = engine::Params { min_fee: Amount(1), ..engine::Params::default() };
    let genesis = testkit::genesis(params, vec![(a, Amount(100), Amount::ZERO)], Vec::new());
    let mut chain = TestChain::new(&genesis).expect("genesis");
    chain.submit(a, engine::Call::Transfer { to: b, amount: Amount(10) });
    chain.submit(a, engine::Call::Transfer { to: b, amount: Amount(1_000) });
    let r = chain.seal().expect_err("the second transfer overdraws");
    assert_eq!((r.height, r.index, r.queued), (1, 1, 1));
    assert_eq!(chain.refused.values().sum::<u64>(), 1, "{:?}", chain.refused);
    assert_eq!(chain.engine.ledger().free(&b), Amount(10));
    // The rejected transaction did not use its nonce: the next one from `a` is accepted.
    chain.submit(a, engine::Call::Transfer { to: b, amount: Amount(5) });
    assert!(chain.seal().is_ok());
    assert_eq!(chain.engine.ledger().free(&b), Amount(15));
}
