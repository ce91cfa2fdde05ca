//! The 5% target scenario: good nodes floored by network size and bad share.

use sim::target::{run, Config};
use sim::NoProgress;

fn csv_rows(out: &sim::Report) -> Vec<Vec<String>> {
    let files = out.files();
    let csv = &files.iter().find(|(n, _)| n == "sizes.csv").expect("sizes.csv").1;
    csv.lines().skip(1).map(|l| l.split(',').map(str::to_string).collect()).collect()
}

#[test]
fn target_the_same_seed_gives_byte_identical_csv() {
    let c = Config { sizes: vec![15, 100], rounds_per_node: 200, seed: 3, ..Config::default() };
    let a = run(&c, &mut NoProgress);
    assert_eq!(a.files(), run(&c, &mut NoProgress).files());
    assert_ne!(a.files(), run(&Config { seed: 4, ..c }, &mut NoProgress).files(), "another seed draws other teams");
}

/// Closed form (teams of 5, bad nodes failing half their rounds): a good node's failure rate is
/// P(share)/2 = 14.3% (15 nodes, 1 bad), 11.2% (100, 6), 12.0% (1000, 66), 2.0% (100, 1) and 0.2% (1000, 1),
/// against the 5% break-even of the 190 deduction. With 1,000 rounds per node a good node's own failure rate
/// has a standard deviation of at most 1.1 points, so each case is more than 5 deviations from 5%: every
/// good node is on the predicted side.
#[test]
fn target_one_bad_node_in_15_floors_every_good_node_and_a_single_bad_node_only_small_networks() {
    let c = Config { rounds_per_node: 1000, ..Config::default() };
    assert_eq!(c.points_failure, 190);
    let out = run(&c, &mut NoProgress);
    let rows = csv_rows(&out);
    // rule, nodes, bad, rounds, p_share, good_failure_cf, good_failure, good_floored, good_floored_pct, …
    let expected = [
        ("one_in_15", "15", "1", "100.00"),
        ("one_in_15", "100", "6", "100.00"),
        ("one_in_15", "1000", "66", "100.00"),
        ("single", "15", "1", "100.00"),
        ("single", "100", "1", "0.00"),
        ("single", "1000", "1", "0.00"),
    ];
    assert_eq!(rows.len(), expected.len(), "{rows:?}");
    for (row, (rule, nodes, bad, floored)) in rows.iter().zip(expected) {
        assert_eq!((row[0].as_str(), row[1].as_str(), row[2].as_str()), (rule, nodes, bad));
        assert_eq!(row[8], floored, "floored % at {rule} {nodes}: {row:?}");
        let (cf, simulated): (f64, f64) = (row[5].parse().expect("cf"), row[6].parse().expect("sim"));
        assert!((cf - simulated).abs() < 0.02, "good failure rate {simulated} vs closed form {cf}: {row:?}");
        let pool: f64 = row[10].parse().expect("pool share");
        assert_eq!(pool, if floored == "100.00" { 0.0 } else { 1.0 }, "pool to good nodes: {row:?}");
    }
    // The most bad nodes tolerated: about 2.6% of a good node's possible teammates.
    let tolerated: Vec<&str> = rows[..3].iter().map(|r| r[11].as_str()).collect();
    assert_eq!(tolerated, ["0", "2", "25"]);
    assert!(out.summary.contains("every good node is floored at every size"), "{}", out.summary);
    assert!(out.summary.contains("a network of 15 cannot afford even one bad node"), "{}", out.summary);
    assert!(out.headline.contains(&("floored_pct_1000_single".to_string(), "0.00".to_string())));
}
