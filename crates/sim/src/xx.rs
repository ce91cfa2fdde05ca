//! The xx network scenario (seed 004; DESIGN §9): `nodes` nodes, teams of `team` drawn at random each
//! round, `bad` nodes that fail half of their rounds, and a realtime failure costing every team member the
//! deduction (a BFT round cannot name its culprit). Rounds are booked by the engine's own points module
//! (`EpochPoints::record_success` / `record_failure` with the team rule), and the points pool is split by
//! the engine's `compute_points_payout` (the sum of floored nets).
//!
//! Closed form, for comparison: a node takes part in `team/nodes` of the rounds; a good node shares a round
//! with a bad one with probability `1 − C(nodes−1−bad, team−1)/C(nodes−1, team−1)` (4/14 for 15 nodes, one
//! bad, teams of 5), and such a round fails half the time, so a good node nets `(success·(1−p) − D·p)` per
//! round it joins, with `p` half that probability. The blog simplifies `p` to 1/6.

use crate::report::{Report, Table};
use crate::rng::Rng;
use crate::{Progress, SimError};
use engine::{compute_points_payout, points_failure, EpochPoints, PointsRules, TeamMultiplier};
use std::fmt::Write;
use types::{AccountId, Amount, Ppb};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct XxConfig {
    pub nodes: u32,
    pub team: u32,
    pub bad: u32,
    pub rounds: u64,
    pub points_success: u64,
    pub points_failure: u64,
    pub seed: u64,
}

impl Default for XxConfig {
    fn default() -> Self {
        XxConfig {
            nodes: 15,
            team: 5,
            bad: 1,
            rounds: 100_000,
            points_success: 10,
            points_failure: u64::try_from(points_failure(10, Ppb::new(333_333_333).expect("1/3"))).expect("20"),
            seed: 1,
        }
    }
}

/// The xx scenario in the registry.
#[derive(Debug, Clone, Copy)]
pub struct Xx;

impl crate::Scenario for Xx {
    type Settings = XxConfig;
    fn name(&self) -> &'static str {
        "xx"
    }
    fn description(&self) -> &'static str {
        "xx network epoch points: 15 nodes, teams of 5 drawn at random, one node failing half its rounds (seed 004)"
    }
    fn defaults(&self) -> XxConfig {
        XxConfig::default()
    }
    fn run(&self, c: &XxConfig, progress: &mut dyn Progress) -> Result<Report, SimError> {
        if c.team == 0 || c.team > c.nodes || c.bad > c.nodes {
            return Err(SimError::Setting(format!(
                "a team has 1 to {} members and at most {} nodes are bad",
                c.nodes, c.nodes
            )));
        }
        progress.start(c.rounds, "rounds");
        let out = run(c);
        progress.advance(c.rounds);
        Ok(out)
    }
    fn speed(&self, c: &XxConfig, wall: f64) -> Option<String> {
        Some(format!(
            "{:.2} million rounds per second (teams drawn and booked through the engine's points rules; the \
             whole run with its report, {wall:.2} s)",
            c.rounds as f64 / wall.max(1e-9) / 1e6
        ))
    }
}

/// The pool split among the nodes in the report (any amount shows the shares).
pub const POOL: Amount = Amount(1_000_000_000_000);

/// The account id of node `i` (the first four bytes are `i`, so ids sort in node order).
pub fn node(i: u32) -> AccountId {
    let mut id = [0u8; 32];
    id[..4].copy_from_slice(&i.to_be_bytes());
    AccountId(id)
}

/// Run the scenario; returns the epoch's points (per node, in node order; the bad nodes are the last ones).
pub fn simulate(c: &XxConfig) -> EpochPoints {
    assert!(c.team >= 1 && c.team <= c.nodes && c.bad <= c.nodes, "a team is 1..=nodes and bad ≤ nodes");
    let rules = PointsRules {
        success: u128::from(c.points_success),
        failure: u128::from(c.points_failure),
        blame_culprits: false,
        block: 0,
    };
    let ids: Vec<AccountId> = (0..c.nodes).map(node).collect();
    let first_bad = c.nodes - c.bad;
    let mut rng = Rng::new(c.seed);
    let mut points = EpochPoints::default();
    let mut order: Vec<u32> = (0..c.nodes).collect();
    let mut team = Vec::with_capacity(c.team as usize);
    for _ in 0..c.rounds {
        // A partial Fisher–Yates shuffle draws the team without replacement.
        team.clear();
        let mut bad_in_team = false;
        for k in 0..c.team {
            let j = k + rng.below(c.nodes - k);
            order.swap(k as usize, j as usize);
            let n = order[k as usize];
            bad_in_team |= n >= first_bad;
            team.push(ids[n as usize]);
        }
        if bad_in_team && rng.chance(1, 2) {
            points.record_failure(&team, &[], &rules);
        } else {
            points.record_success(&team, &rules);
        }
    }
    points
}

/// Expected net per round joined: (good node, bad node), by the closed form above.
pub fn closed_form(c: &XxConfig) -> (f64, f64) {
    let (n, b) = (f64::from(c.nodes), f64::from(c.bad));
    // P(no bad among the other team − 1 members | a good node is in the team).
    let mut none = 1.0;
    for k in 0..(c.team - 1) {
        none *= (n - 1.0 - b - f64::from(k)) / (n - 1.0 - f64::from(k));
    }
    let p_good_fail = (1.0 - none) * 0.5;
    let (s, d) = (c.points_success as f64, c.points_failure as f64);
    (s * (1.0 - p_good_fail) - d * p_good_fail, s * 0.5 - d * 0.5)
}

/// The run's key figures: its headline, so one row of `sweep.csv` when a parameter is swept.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepRow {
    pub points_failure: u64,
    pub good_mean_net: f64,
    pub good_floored: u32,
    pub bad_net_raw: i128,
    pub good_pool_share: f64,
}

fn row_from(c: &XxConfig, points: &EpochPoints) -> SweepRow {
    let first_bad = c.nodes - c.bad;
    let good: Vec<_> = (0..first_bad).map(|i| points.nodes.get(&node(i)).copied().unwrap_or_default()).collect();
    let bad = (first_bad..c.nodes).map(|i| points.nodes.get(&node(i)).copied().unwrap_or_default());
    let paid = compute_points_payout(POOL, points, TeamMultiplier::NONE);
    let good_paid: u128 = paid.iter().filter(|(a, _)| (0..first_bad).any(|i| node(i) == *a)).map(|(_, x)| x.0).sum();
    SweepRow {
        points_failure: c.points_failure,
        good_mean_net: good.iter().map(|p| p.net() as f64).sum::<f64>() / f64::from(first_bad.max(1)),
        good_floored: good.iter().filter(|p| p.net() == 0).count() as u32,
        bad_net_raw: bad.map(|p| p.earned as i128 - p.deducted as i128).sum(),
        good_pool_share: if paid.is_empty() { 0.0 } else { good_paid as f64 / POOL.0 as f64 },
    }
}

/// The scenario's files: `nodes.csv` (per node; `sim::sweep` adds `sweep.csv` from the headline); plus the
/// summary, which states the closed form beside the simulated numbers and what the run shows. The speed is
/// measured by the caller (`stakework sim run` appends it), so the output stays byte-identical per seed.
pub fn run(c: &XxConfig) -> Report {
    let points = simulate(c);
    let first_bad = c.nodes - c.bad;
    let paid: std::collections::BTreeMap<AccountId, Amount> =
        compute_points_payout(POOL, &points, TeamMultiplier::NONE).into_iter().collect();
    let mut nodes = Table::with_header("nodes.csv", "node,class,rounds,failures,earned,deducted,net,pool_share");
    for i in 0..c.nodes {
        let p = points.nodes.get(&node(i)).copied().unwrap_or_default();
        let share = paid.get(&node(i)).map_or(0.0, |a| a.0 as f64 / POOL.0 as f64);
        let class = if i >= first_bad { "bad" } else { "good" };
        nodes.row(&[&i, &class, &p.rounds, &p.failures, &p.earned, &p.deducted, &p.net(), &format!("{share:.6}")]);
    }
    let summary = summary(c, &points, &paid);
    let row = row_from(c, &points);
    let headline = vec![
        ("good_mean_net".to_string(), format!("{:.1}", row.good_mean_net)),
        ("good_floored".to_string(), row.good_floored.to_string()),
        ("bad_net_raw".to_string(), row.bad_net_raw.to_string()),
        ("good_pool_share".to_string(), format!("{:.6}", row.good_pool_share)),
    ];
    let net = |range: std::ops::Range<u32>| -> Vec<(f64, f64)> {
        range
            .map(|i| {
                let p = points.nodes.get(&node(i)).copied().unwrap_or_default();
                (f64::from(i), p.earned as f64 - p.deducted as f64)
            })
            .collect()
    };
    let plots = vec![crate::Plot {
        file: "net-per-node.png".into(),
        title: format!("xx: earned − deducted per node ({} rounds, deduction {})", c.rounds, c.points_failure),
        x_label: "node".into(),
        y_label: "points (before the floor at 0)".into(),
        kind: crate::PlotKind::Scatter,
        series: vec![
            crate::Series { name: "good".into(), points: net(0..first_bad) },
            crate::Series { name: "bad".into(), points: net(first_bad..c.nodes) },
        ],
    }];
    Report { tables: vec![nodes], plots, summary, headline }
}

fn summary(c: &XxConfig, points: &EpochPoints, paid: &std::collections::BTreeMap<AccountId, Amount>) -> String {
    let first_bad = c.nodes - c.bad;
    let joined = c.rounds as f64 * f64::from(c.team) / f64::from(c.nodes);
    let (good_cf, bad_cf) = closed_form(c);
    let good: Vec<f64> = (0..first_bad).map(|i| points.nodes.get(&node(i)).map_or(0.0, |p| p.net() as f64)).collect();
    let good_mean = good.iter().sum::<f64>() / f64::from(first_bad.max(1));
    let bad_raw: Vec<i128> = (first_bad..c.nodes)
        .map(|i| points.nodes.get(&node(i)).map_or(0, |p| p.earned as i128 - p.deducted as i128))
        .collect();
    let shares: Vec<f64> =
        (0..first_bad).map(|i| paid.get(&node(i)).map_or(0.0, |a| a.0 as f64 / POOL.0 as f64)).collect();
    let (lo, hi) = shares.iter().fold((f64::MAX, 0.0f64), |(l, h), s| (l.min(*s), h.max(*s)));
    let bad_paid: u128 = (first_bad..c.nodes).filter_map(|i| paid.get(&node(i))).map(|a| a.0).sum();
    let mut s = String::new();
    let _ = writeln!(s, "# xx network scenario\n");
    let _ = writeln!(
        s,
        "{} nodes ({} bad, failing half of their rounds), teams of {} drawn at random, {} rounds, +{} per \
         successful round, −{} per realtime failure to every member, seed {}.\n",
        c.nodes, c.bad, c.team, c.rounds, c.points_success, c.points_failure, c.seed
    );
    let blog_good = joined * (c.points_success as f64 * 5.0 / 6.0 - c.points_failure as f64 / 6.0);
    let mut table =
        Table::new("", &["", "blog (stylised: a good node fails 1/6)", "closed form (random teams)", "simulated"]);
    table.row(&[
        &"good node net",
        &format!("{blog_good:.0}"),
        &format!("{:.0}", good_cf * joined),
        &format!("{good_mean:.0} (mean of {first_bad})"),
    ]);
    let bad_cf = format!("{:.0}", bad_cf * joined);
    table.row(&[&"bad node, earned − deducted", &bad_cf, &bad_cf, &format!("{bad_raw:?}")]);
    s.push_str(&table.markdown());
    let conclusion = if bad_paid == 0 && good_mean > 0.0 {
        format!(
            "The bad node is floored to 0 and paid nothing; the pool is shared by the {first_bad} good nodes, \
             each taking {:.2}%–{:.2}% (equal shares would be {:.2}%), as if the bad node never existed.",
            lo * 100.0,
            hi * 100.0,
            100.0 / f64::from(first_bad)
        )
    } else if good_mean == 0.0 {
        "Every good node is floored too: at this deduction a good node's failures (rounds shared with the bad \
         node) cost more than its successes earn, so nobody is paid and the pool returns to the treasury. The \
         blog's conclusion does not hold here."
            .to_string()
    } else {
        "The bad node keeps a positive net and takes part of the pool.".to_string()
    };
    let _ = writeln!(s, "\n{conclusion}");
    let _ = writeln!(
        s,
        "\nThe blog's 1/6 assumes a good node shares a third of its rounds with the bad node; with random teams of \
         {} out of {} it shares {:.1}% of them, so the simulated good net is higher than the blog's.",
        c.team,
        c.nodes,
        100.0 * (1.0 - (1..c.team).fold(1.0, |acc, k| acc * (f64::from(c.nodes - c.bad - k)) / f64::from(c.nodes - k)))
    );
    s
}
