//! The 5% target on networks of different sizes (seed 004; DESIGN §7, §9): how many good nodes the
//! deduction `points_failure(10, 5%) = 190` floors as the network shrinks.
//!
//! Each size runs the xx model ([`crate::xx::simulate`]: teams of `team` drawn at random, bad nodes failing
//! half of their rounds, a realtime failure deducting from every team member), booked by the engine's
//! points module and paid by its `compute_points_payout`. A good node fails a round only when a bad node is
//! in its team and fails, so its failure rate is `P(share) / 2`, with
//! `P(share) = 1 − C(nodes−1−bad, team−1) / C(nodes−1, team−1)`. The deduction D makes
//! `f = success / (success + D)` the break-even failure rate (`success · (1 − f) = D · f`: 5% for 190), so a
//! good node is floored once `P(share) > 2f`. Every node joins about `rounds_per_node` rounds whatever the
//! network's size, so the sizes differ only in who shares teams with whom.

use crate::report::{Report, Table};
use crate::rng::Rng;
use crate::xx::{closed_form, node, simulate, XxConfig, POOL};
use crate::{Plot, PlotKind, Progress, Series, SimError};
use engine::{compute_points_payout, points_failure, EpochPoints, TeamMultiplier};
use std::collections::BTreeSet;
use std::fmt::Write;
use types::{AccountId, Ppb};

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Network sizes (nodes) to run.
    pub sizes: Vec<u32>,
    /// One bad node per `bad_one_in` nodes, at least one: 15 is the xx blog's one bad node in 15 (6.7%).
    pub bad_one_in: u32,
    /// Also run every size with a single bad node, which separates the network's size from its bad share.
    pub single_bad: bool,
    /// Nodes per round.
    pub team: u32,
    /// Rounds each node joins on average: a network of n nodes runs `n × rounds_per_node / team` rounds.
    pub rounds_per_node: u64,
    pub points_success: u64,
    pub points_failure: u64,
    pub seed: u64,
}

impl Default for Config {
    fn default() -> Self {
        let deduction = points_failure(10, Ppb::new(50_000_000).expect("5% is a valid ratio"));
        Config {
            sizes: vec![15, 100, 1000],
            bad_one_in: 15,
            single_bad: true,
            team: 5,
            rounds_per_node: 2000,
            points_success: 10,
            points_failure: u64::try_from(deduction).unwrap_or(u64::MAX),
            seed: 1,
        }
    }
}

/// The outcome for one network.
#[derive(Debug, Clone, PartialEq)]
pub struct SizeRow {
    /// How the bad nodes were counted: `one_in_15` or `single`.
    pub rule: String,
    pub nodes: u32,
    pub bad: u32,
    pub rounds: u64,
    /// Closed form: the probability that a good node's team includes a bad node.
    pub p_share: f64,
    /// A good node's failure rate: closed form (`p_share / 2`) and simulated (failures over rounds).
    pub good_failure_cf: f64,
    pub good_failure: f64,
    pub good_floored: u32,
    pub good_mean_net: f64,
    /// The share of the points pool paid to good nodes (0 when nobody has a positive net).
    pub good_pool_share: f64,
    /// Closed form: the most bad nodes this network size tolerates before a good node's expected net is 0.
    pub bad_tolerated: u32,
}

impl SizeRow {
    pub fn good(&self) -> u32 {
        self.nodes - self.bad
    }

    pub fn floored_pct(&self) -> f64 {
        100.0 * f64::from(self.good_floored) / f64::from(self.good().max(1))
    }
}

/// `1 − C(nodes−1−bad, team−1) / C(nodes−1, team−1)`: a good node's chance of sharing a team with a bad
/// one.
pub fn p_share(nodes: u32, bad: u32, team: u32) -> f64 {
    let others = f64::from(nodes) - 1.0;
    let mut none = 1.0;
    for k in 0..team.saturating_sub(1) {
        none *= ((others - f64::from(bad) - f64::from(k)) / (others - f64::from(k))).max(0.0);
    }
    1.0 - none
}

/// The break-even failure rate of a deduction: `success / (success + failure)`.
pub fn target_failure_rate(c: &Config) -> f64 {
    c.points_success as f64 / (c.points_success + c.points_failure) as f64
}

fn xx_config(c: &Config, nodes: u32, bad: u32, seed: u64) -> XxConfig {
    XxConfig {
        nodes,
        team: c.team,
        bad,
        rounds: u64::from(nodes) * c.rounds_per_node / u64::from(c.team.max(1)),
        points_success: c.points_success,
        points_failure: c.points_failure,
        seed,
    }
}

/// The most bad nodes a network of `nodes` tolerates: the largest count at which a good node's expected net
/// per round (the xx closed form) stays positive.
fn bad_tolerated(c: &Config, nodes: u32) -> u32 {
    let mut bad = 0;
    while bad + c.team < nodes && closed_form(&xx_config(c, nodes, bad + 1, 0)).0 > 0.0 {
        bad += 1;
    }
    bad
}

/// Runs one network and measures its good nodes.
pub fn size_row(c: &Config, rule: &str, nodes: u32, bad: u32, seed: u64) -> SizeRow {
    let x = xx_config(c, nodes, bad, seed);
    let points: EpochPoints = simulate(&x);
    let good = nodes - bad;
    let get = |i: u32| points.nodes.get(&node(i)).copied().unwrap_or_default();
    let (mut rounds, mut failures, mut net, mut floored) = (0u64, 0u64, 0u128, 0u32);
    for p in (0..good).map(get) {
        rounds += p.rounds;
        failures += p.failures;
        net += p.net();
        floored += u32::from(p.net() == 0);
    }
    let paid = compute_points_payout(POOL, &points, TeamMultiplier::NONE);
    let good_ids: BTreeSet<AccountId> = (0..good).map(node).collect();
    let good_paid: u128 = paid.iter().filter(|(a, _)| good_ids.contains(a)).map(|(_, v)| v.0).sum();
    let p = p_share(nodes, bad, c.team);
    SizeRow {
        rule: rule.to_string(),
        nodes,
        bad,
        rounds: x.rounds,
        p_share: p,
        good_failure_cf: p / 2.0,
        good_failure: failures as f64 / rounds.max(1) as f64,
        good_floored: floored,
        good_mean_net: net as f64 / f64::from(good.max(1)),
        good_pool_share: good_paid as f64 / POOL.0 as f64,
        bad_tolerated: bad_tolerated(c, nodes),
    }
}

/// The networks to run, as (rule, nodes, bad).
fn networks(c: &Config) -> Vec<(String, u32, u32)> {
    let mut out: Vec<(String, u32, u32)> =
        c.sizes.iter().map(|&n| (share_rule(c), n, (n / c.bad_one_in.max(1)).max(1))).collect();
    if c.single_bad {
        out.extend(c.sizes.iter().map(|&n| ("single".to_string(), n, 1)));
    }
    out
}

/// The target scenario in the registry.
#[derive(Debug, Clone, Copy)]
pub struct Target;

impl crate::Scenario for Target {
    type Settings = Config;
    fn name(&self) -> &'static str {
        "target"
    }
    fn description(&self) -> &'static str {
        "the 5% failure target (deduction 190) on networks of 15, 100 and 1,000 nodes: who gets floored"
    }
    fn defaults(&self) -> Config {
        Config::default()
    }
    fn run(&self, c: &Config, progress: &mut dyn Progress) -> Result<Report, SimError> {
        Ok(run(c, progress))
    }
}

pub fn run(c: &Config, progress: &mut dyn Progress) -> Report {
    assert!(c.team >= 1 && c.sizes.iter().all(|&n| n > c.team), "every network is larger than a team");
    let nets = networks(c);
    progress.start(nets.iter().map(|(_, n, b)| xx_config(c, *n, *b, 0).rounds).sum(), "rounds");
    let mut seeds = Rng::new(c.seed);
    let mut rows = Vec::new();
    for (rule, nodes, bad) in &nets {
        let row = size_row(c, rule, *nodes, *bad, seeds.next_u64());
        progress.advance(row.rounds);
        rows.push(row);
    }
    let plots = vec![floored_plot(c, &rows)];
    let headline = rows
        .iter()
        .map(|r| {
            let suffix = if r.rule == "single" { "_single" } else { "" };
            (format!("floored_pct_{}{suffix}", r.nodes), format!("{:.2}", r.floored_pct()))
        })
        .collect();
    Report { tables: vec![sizes_table(&rows)], plots, summary: summary(c, &rows), headline }
}

fn sizes_table(rows: &[SizeRow]) -> Table {
    let mut t = Table::with_header(
        "sizes.csv",
        "rule,nodes,bad,rounds,p_share,good_failure_cf,good_failure,good_floored,good_floored_pct,\
         good_mean_net,good_pool_share,bad_tolerated",
    );
    for r in rows {
        t.row(&[
            &r.rule,
            &r.nodes,
            &r.bad,
            &r.rounds,
            &format!("{:.6}", r.p_share),
            &format!("{:.6}", r.good_failure_cf),
            &format!("{:.6}", r.good_failure),
            &r.good_floored,
            &format!("{:.2}", r.floored_pct()),
            &format!("{:.1}", r.good_mean_net),
            &format!("{:.6}", r.good_pool_share),
            &r.bad_tolerated,
        ]);
    }
    t
}

fn floored_plot(c: &Config, rows: &[SizeRow]) -> Plot {
    let series = |rule: &str, name: String| Series {
        name,
        points: rows.iter().filter(|r| r.rule == rule).map(|r| (f64::from(r.nodes), r.floored_pct())).collect(),
    };
    let mut plot_series = vec![series(&share_rule(c), format!("one bad node in {}", c.bad_one_in))];
    if c.single_bad {
        plot_series.push(series("single", "a single bad node".to_string()));
    }
    Plot {
        file: "floored.png".to_string(),
        title: format!(
            "Good nodes floored at deduction {} (target {:.1}%)",
            c.points_failure,
            100.0 * target_failure_rate(c)
        ),
        x_label: "network size (nodes)".to_string(),
        y_label: "good nodes floored (%)".to_string(),
        kind: PlotKind::Line,
        series: plot_series,
    }
}

fn share_rule(c: &Config) -> String {
    format!("one_in_{}", c.bad_one_in)
}

fn summary(c: &Config, rows: &[SizeRow]) -> String {
    let f = target_failure_rate(c);
    let mut s = String::new();
    let _ = writeln!(s, "# The {:.1}% target on networks of different sizes\n", 100.0 * f);
    let _ = writeln!(
        s,
        "Teams of {} drawn at random; bad nodes fail half of their rounds; a realtime failure costs every team \
         member {} points, a successful round earns each {}. Each node joins about {} rounds whatever the size. \
         Bad nodes: one per {} nodes (at least one){}. Seed {}.\n",
        c.team,
        c.points_failure,
        c.points_success,
        c.rounds_per_node,
        c.bad_one_in,
        if c.single_bad { ", and again with a single bad node" } else { "" },
        c.seed
    );
    let _ = writeln!(
        s,
        "A good node fails a round only when a bad node shares its team and fails, so its failure rate is \
         P(share) × 0.5. The deduction {} makes {:.1}% the break-even failure rate ({}·(1 − f) = {}·f), so a \
         good node is floored to 0 once P(share) exceeds {:.1}%.\n",
        c.points_failure,
        100.0 * f,
        c.points_success,
        c.points_failure,
        200.0 * f
    );
    let mut t = Table::new(
        "",
        &[
            "nodes",
            "bad",
            "P(share)",
            "good failure rate: closed form / simulated",
            "good nodes floored",
            "good mean net",
            "pool to good nodes",
            "bad nodes tolerated",
        ],
    );
    for r in rows {
        t.row(&[
            &r.nodes,
            &r.bad,
            &format!("{:.1}%", 100.0 * r.p_share),
            &format!("{:.2}% / {:.2}%", 100.0 * r.good_failure_cf, 100.0 * r.good_failure),
            &format!("{} of {} ({:.0}%)", r.good_floored, r.good(), r.floored_pct()),
            &format!("{:.0}", r.good_mean_net),
            &format!("{:.1}%", 100.0 * r.good_pool_share),
            &r.bad_tolerated,
        ]);
    }
    s.push_str(&t.markdown());
    let _ = writeln!(s, "\n{}", conclusion(c, rows));
    s
}

fn conclusion(c: &Config, rows: &[SizeRow]) -> String {
    let all_floored = |r: &SizeRow| r.good_floored == r.good();
    let share_rows: Vec<&SizeRow> = rows.iter().filter(|r| r.rule == share_rule(c)).collect();
    let mut s = String::new();
    if share_rows.iter().all(|r| all_floored(r)) {
        let _ = write!(
            s,
            "With one bad node in {}, every good node is floored at every size: a good node shares a team with \
             a bad one in {} of its rounds, more than twice the {:.1}% target, so nobody has a positive net and \
             the whole points pool goes back to the treasury. What matters is the bad share, not the size: with \
             teams of {} a good node survives only while about {:.1}% or fewer of the other nodes are bad.",
            c.bad_one_in,
            share_rows.iter().map(|r| format!("{:.1}%", 100.0 * r.p_share)).collect::<Vec<_>>().join(" / "),
            100.0 * target_failure_rate(c),
            c.team,
            100.0 * (1.0 - (1.0 - 2.0 * target_failure_rate(c)).powf(1.0 / f64::from(c.team.max(2) - 1)))
        );
    } else {
        let _ = write!(
            s,
            "With one bad node in {}, the good nodes floored are {}.",
            c.bad_one_in,
            share_rows
                .iter()
                .map(|r| format!("{:.0}% at {} nodes", r.floored_pct(), r.nodes))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let tolerated: Vec<String> =
        share_rows.iter().map(|r| format!("{} at {} nodes", r.bad_tolerated, r.nodes)).collect();
    let _ = write!(s, " The most bad nodes each size tolerates (closed form): {}.", tolerated.join(", "));
    let singles: Vec<&SizeRow> = rows.iter().filter(|r| r.rule == "single").collect();
    if let (Some(small), Some(large)) = (singles.first(), singles.last()) {
        let _ = write!(
            s,
            " With a single bad node the good nodes floored are {}",
            singles
                .iter()
                .map(|r| format!("{:.0}% at {} nodes", r.floored_pct(), r.nodes))
                .collect::<Vec<_>>()
                .join(", ")
        );
        if all_floored(small) && large.good_floored == 0 {
            let _ = write!(
                s,
                ": a network of {} cannot afford even one bad node under the {:.1}% target, one of {} barely \
                 notices it.",
                small.nodes,
                100.0 * target_failure_rate(c),
                large.nodes
            );
        } else {
            s.push('.');
        }
    }
    s
}
