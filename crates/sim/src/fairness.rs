//! Stake-weighted queue fairness (seed 000; DESIGN §4): does a busy miner serve its clients in proportion to
//! their stake, and does a client that asks for less than its share get all it asks?
//!
//! A miner that is always busy serves one request per pick from the real [`sched::Scheduler`] (deficit
//! round-robin in stake units). Two variants run on the same clients and stakes:
//! - `backlogged`: every client keeps `depth` requests queued, so each should get `stake / Σ stake` of the
//!   picks;
//! - `light`: the `light` clients submit at random (one request per pick with probability
//!   `light_demand_pct`% of their stake share) and the `bursty` ones submit the same average in bursts every
//!   `burst_every` picks. They ask for less than their share, so they should get all they ask (their fair
//!   share is their demand), and the capacity they leave goes to the backlogged clients in proportion to
//!   stake: `(1 − Σ light demand) · stake / Σ backlogged stake`.
//!
//! Fairness is measured against those fair shares: the largest absolute gap between service share and fair
//! share, and Jain's index `(Σx)² / (n·Σx²)` of `x = service / fair` (1 is perfect). A run stops in the
//! middle of a round, which leaves the clients not yet served in it short by up to one turn; the shares are
//! also measured at the last round boundary, where deficit round-robin is exact to within one request.

use crate::report::{Report, Table};
use crate::rng::Rng;
use crate::{Plot, PlotKind, Progress, Series, SimError};
use sched::Scheduler;
use std::fmt::Write;
use types::AccountId;

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Clients of the miner.
    pub clients: u32,
    /// Stakes are drawn uniformly from `1..=stake_max`, except the whales'.
    pub stake_max: u64,
    /// The first `whales` clients stake `whale_stake`.
    pub whales: u32,
    pub whale_stake: u64,
    /// Clients (by index) that submit less than their share, at random times, in the `light` variant.
    pub light: Vec<u32>,
    /// Clients (by index) that submit less than their share, in bursts, in the `light` variant.
    pub bursty: Vec<u32>,
    /// What light and bursty clients ask for, in percent of their stake share (at most 100).
    pub light_demand_pct: u32,
    /// Picks between two bursts.
    pub burst_every: u64,
    /// Requests a backlogged client keeps queued.
    pub depth: u32,
    /// Picks (requests served) per variant.
    pub picks: u64,
    pub seed: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            clients: 20,
            stake_max: 1000,
            whales: 2,
            whale_stake: 10_000,
            light: vec![0, 5],
            bursty: vec![10],
            light_demand_pct: 50,
            burst_every: 10_000,
            depth: 4,
            picks: 1_000_000,
            seed: 1,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    Backlogged,
    Light,
    Bursty,
}

impl Class {
    pub fn name(self) -> &'static str {
        match self {
            Class::Backlogged => "backlogged",
            Class::Light => "light",
            Class::Bursty => "bursty",
        }
    }
}

/// One client's outcome in one variant.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientRow {
    pub client: u32,
    pub class: Class,
    pub stake: u64,
    pub stake_share: f64,
    /// Requests submitted (for backlogged clients: those served plus those still queued).
    pub submitted: u64,
    pub served: u64,
    /// Still queued when the run ends.
    pub queued: u64,
    pub service_share: f64,
    /// Service share over the picks up to the end of the last complete round.
    pub service_share_rounds: f64,
    /// What the client should get: its stake share when every client is backlogged; its demand when it asks
    /// for less; otherwise its stake's part of what the light clients leave.
    pub fair_share: f64,
    /// Picks between a request's submission and its service: mean and largest.
    pub wait_mean: f64,
    pub wait_max: u64,
}

/// One variant's outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct Variant {
    pub name: &'static str,
    pub clients: Vec<ClientRow>,
    /// Scheduler rounds completed (every backlogged client served at least once per round).
    pub rounds: u64,
    /// Picks that found nothing queued.
    pub idle: u64,
}

impl Variant {
    /// The largest |service share − fair share|.
    pub fn max_deviation(&self) -> f64 {
        self.clients.iter().map(|r| (r.service_share - r.fair_share).abs()).fold(0.0, f64::max)
    }

    /// The largest |service share − fair share| over the complete rounds.
    pub fn max_deviation_rounds(&self) -> f64 {
        self.clients.iter().map(|r| (r.service_share_rounds - r.fair_share).abs()).fold(0.0, f64::max)
    }

    /// Jain's fairness index of service / fair share over the clients with a positive fair share.
    pub fn jain(&self) -> f64 {
        let x: Vec<f64> =
            self.clients.iter().filter(|r| r.fair_share > 0.0).map(|r| r.service_share / r.fair_share).collect();
        let (sum, squares) = x.iter().fold((0.0, 0.0), |(s, q), v| (s + v, q + v * v));
        if squares == 0.0 {
            return 0.0;
        }
        sum * sum / (x.len() as f64 * squares)
    }

    /// The smallest served / submitted among the light and bursty clients (1 without any).
    pub fn light_served_min(&self) -> f64 {
        self.light_clients().map(|r| r.served as f64 / r.submitted.max(1) as f64).fold(1.0, f64::min)
    }

    /// The longest wait of a light or bursty client's request, in picks.
    pub fn light_wait_max(&self) -> u64 {
        self.light_clients().map(|r| r.wait_max).max().unwrap_or(0)
    }

    fn light_clients(&self) -> impl Iterator<Item = &ClientRow> {
        self.clients.iter().filter(|r| r.class != Class::Backlogged)
    }
}

fn client_id(i: u32) -> AccountId {
    let mut id = [0u8; 32];
    id[..4].copy_from_slice(&i.to_be_bytes());
    AccountId(id)
}

fn client_index(id: &AccountId) -> usize {
    u32::from_be_bytes([id.0[0], id.0[1], id.0[2], id.0[3]]) as usize
}

/// The clients' stakes: whales first, the others drawn from the seed.
pub fn stakes(c: &Config) -> Vec<u64> {
    let mut rng = Rng::new(c.seed);
    (0..c.clients)
        .map(|i| if i < c.whales { c.whale_stake.max(1) } else { 1 + (rng.next_u64() % c.stake_max.max(1)) })
        .collect()
}

/// True with probability `num / den` (64-bit, for demands that do not fit `Rng::chance`).
fn chance(rng: &mut Rng, num: u64, den: u64) -> bool {
    ((u128::from(rng.next_u64()) * u128::from(den)) >> 64) < u128::from(num)
}

/// Per-client tallies while a variant runs.
#[derive(Debug, Clone, Default)]
struct Tally {
    submitted: u64,
    served: u64,
    wait_sum: u64,
    wait_max: u64,
}

/// The miner's queue and what each client submitted and was served.
struct Miner<'a> {
    stakes: Vec<u64>,
    classes: &'a [Class],
    sched: Scheduler<u64>,
    tally: Vec<Tally>,
    idle: u64,
    /// Served counts and picks at the end of the last complete round.
    round_served: Vec<u64>,
    round_picks: u64,
}

impl Miner<'_> {
    /// Client `i` submits a request at pick `at` (the request carries its submission time).
    fn push(&mut self, i: usize, at: u64) {
        self.tally[i].submitted += 1;
        self.sched.push(client_id(i as u32), u128::from(self.stakes[i]), at).expect("stakes are in 1..=u64::MAX");
    }

    /// Pick `t`: the scheduler chooses the next request; a backlogged client tops its queue up at once.
    fn pick(&mut self, t: u64) {
        let round = self.sched.round();
        match self.sched.pick() {
            Some((id, at)) => {
                let i = client_index(&id);
                let s = &mut self.tally[i];
                s.served += 1;
                s.wait_sum += t - at;
                s.wait_max = s.wait_max.max(t - at);
                if self.classes[i] == Class::Backlogged {
                    self.push(i, t);
                }
            }
            None => self.idle += 1,
        }
        if self.sched.round() != round {
            self.round_picks = t + 1;
            for (r, s) in self.round_served.iter_mut().zip(&self.tally) {
                *r = s.served;
            }
        }
    }

    fn rows(&self, picks: u64) -> Vec<ClientRow> {
        let picks = picks.max(1) as f64;
        let total: u64 = self.stakes.iter().sum();
        let light_demand: u64 = self
            .tally
            .iter()
            .zip(self.classes)
            .filter(|(_, k)| **k != Class::Backlogged)
            .map(|(t, _)| t.submitted)
            .sum();
        let backlogged_stake: u64 =
            self.stakes.iter().zip(self.classes).filter(|(_, k)| **k == Class::Backlogged).map(|(s, _)| *s).sum();
        // The capacity light clients leave is what they did not ask for, so the fair shares sum to one.
        let spare = 1.0 - light_demand as f64 / picks;
        let fair_share = |i: usize| match self.classes[i] {
            Class::Backlogged => spare * self.stakes[i] as f64 / backlogged_stake.max(1) as f64,
            // A client asking for less than its share should get what it asked.
            Class::Light | Class::Bursty => self.tally[i].submitted as f64 / picks,
        };
        (self.tally.iter().enumerate())
            .map(|(i, t)| ClientRow {
                client: i as u32,
                class: self.classes[i],
                stake: self.stakes[i],
                stake_share: self.stakes[i] as f64 / total as f64,
                submitted: t.submitted,
                served: t.served,
                queued: self.sched.queued(&client_id(i as u32)) as u64,
                service_share: t.served as f64 / picks,
                service_share_rounds: self.round_served[i] as f64 / self.round_picks.max(1) as f64,
                fair_share: fair_share(i),
                wait_mean: t.wait_sum as f64 / t.served.max(1) as f64,
                wait_max: t.wait_max,
            })
            .collect()
    }
}

/// Runs one variant: `classes[i]` says how client `i` submits.
pub fn simulate(c: &Config, name: &'static str, classes: &[Class], progress: &mut dyn Progress) -> Variant {
    let stakes = stakes(c);
    let total: u64 = stakes.iter().sum();
    let n = stakes.len();
    assert_eq!(classes.len(), n, "one class per client");
    let mut m = Miner {
        stakes,
        classes,
        sched: Scheduler::new(1),
        tally: vec![Tally::default(); n],
        idle: 0,
        round_served: vec![0; n],
        round_picks: 0,
    };
    for i in (0..n).filter(|i| classes[*i] == Class::Backlogged) {
        for _ in 0..c.depth.max(1) {
            m.push(i, 0);
        }
    }
    let mut rng = Rng::new(c.seed ^ 0x006c_6967_6874);
    let demand_pct = u64::from(c.light_demand_pct.min(100));
    let every = c.burst_every.max(1);
    for t in 0..c.picks {
        for (i, class) in classes.iter().enumerate() {
            let arrivals = match class {
                Class::Light => u64::from(chance(&mut rng, demand_pct * m.stakes[i], 100 * total)),
                Class::Bursty if t % every == 0 => demand_pct * m.stakes[i] * every / (100 * total),
                _ => 0,
            };
            for _ in 0..arrivals {
                m.push(i, t);
            }
        }
        m.pick(t);
        if (t + 1) % 10_000 == 0 {
            progress.advance(10_000);
        }
    }
    progress.advance(c.picks % 10_000);
    Variant { name, clients: m.rows(c.picks), rounds: m.sched.round(), idle: m.idle }
}

/// The two variants' client classes: all backlogged, then with the configured light and bursty clients.
fn classes(c: &Config) -> (Vec<Class>, Vec<Class>) {
    let all = vec![Class::Backlogged; c.clients as usize];
    let mut mixed = all.clone();
    for (list, class) in [(&c.light, Class::Light), (&c.bursty, Class::Bursty)] {
        for &i in list {
            if let Some(k) = mixed.get_mut(i as usize) {
                *k = class;
            }
        }
    }
    (all, mixed)
}

/// The fairness scenario in the registry.
#[derive(Debug, Clone, Copy)]
pub struct Fairness;

impl crate::Scenario for Fairness {
    type Settings = Config;
    fn name(&self) -> &'static str {
        "fairness"
    }
    fn description(&self) -> &'static str {
        "stake-weighted queue fairness: service share vs stake share, light clients, latency"
    }
    fn defaults(&self) -> Config {
        Config::default()
    }
    fn run(&self, c: &Config, progress: &mut dyn Progress) -> Result<Report, SimError> {
        Ok(run(c, progress))
    }
}

pub fn run(c: &Config, progress: &mut dyn Progress) -> Report {
    assert!(c.clients >= 1, "a miner needs at least one client");
    progress.start(2 * c.picks, "picks");
    let (all, mixed) = classes(c);
    let variants = [simulate(c, "backlogged", &all, progress), simulate(c, "light", &mixed, progress)];
    let csv = clients_table(&variants);
    let [backlogged, light] = &variants;
    let headline = vec![
        ("max_deviation".to_string(), format!("{:.6}", backlogged.max_deviation())),
        ("jain".to_string(), format!("{:.6}", backlogged.jain())),
        ("max_deviation_light".to_string(), format!("{:.6}", light.max_deviation())),
        ("jain_light".to_string(), format!("{:.6}", light.jain())),
        ("light_served_min".to_string(), format!("{:.6}", light.light_served_min())),
        ("light_wait_max".to_string(), light.light_wait_max().to_string()),
    ];
    Report { tables: vec![csv], plots: plots(&variants), summary: summary(c, &variants), headline }
}

fn clients_table(variants: &[Variant; 2]) -> Table {
    let mut t = Table::with_header(
        "clients.csv",
        "variant,client,class,stake,stake_share,submitted,served,queued,service_share,service_share_rounds,\
         fair_share,service_over_fair,wait_mean,wait_max",
    );
    for v in variants {
        for r in &v.clients {
            t.row(&[
                &v.name,
                &r.client,
                &r.class.name(),
                &r.stake,
                &format!("{:.6}", r.stake_share),
                &r.submitted,
                &r.served,
                &r.queued,
                &format!("{:.6}", r.service_share),
                &format!("{:.6}", r.service_share_rounds),
                &format!("{:.6}", r.fair_share),
                &format!("{:.4}", r.service_share / r.fair_share.max(f64::MIN_POSITIVE)),
                &format!("{:.1}", r.wait_mean),
                &r.wait_max,
            ]);
        }
    }
    t
}

fn plots(variants: &[Variant; 2]) -> Vec<Plot> {
    let [backlogged, light] = variants;
    let top = backlogged.clients.iter().map(|r| r.stake_share.max(r.service_share)).fold(0.0, f64::max);
    let ideal = Series {
        name: "ideal (y = x)".to_string(),
        points: (0..=50).map(|k| top * f64::from(k) / 50.0).map(|x| (x, x)).collect(),
    };
    let series = |v: &Variant, name: &str, light: bool, x: fn(&ClientRow) -> f64| Series {
        name: name.to_string(),
        points: v
            .clients
            .iter()
            .filter(|r| (r.class != Class::Backlogged) == light)
            .map(|r| (x(r), r.service_share))
            .collect(),
    };
    vec![
        Plot {
            file: "service-vs-stake.png".to_string(),
            title: "Service share vs stake share".to_string(),
            x_label: "stake share".to_string(),
            y_label: "service share".to_string(),
            kind: PlotKind::ScatterWithLine,
            series: vec![
                series(backlogged, "all backlogged", false, |r| r.stake_share),
                series(light, "with light clients: backlogged", false, |r| r.stake_share),
                series(light, "with light clients: light and bursty", true, |r| r.stake_share),
                ideal.clone(),
            ],
        },
        Plot {
            file: "service-vs-fair.png".to_string(),
            title: "Service share vs fair share, with light clients".to_string(),
            x_label: "fair share (demand, or stake's part of the spare capacity)".to_string(),
            y_label: "service share".to_string(),
            kind: PlotKind::ScatterWithLine,
            series: vec![
                series(light, "backlogged", false, |r| r.fair_share),
                series(light, "light and bursty", true, |r| r.fair_share),
                ideal,
            ],
        },
    ]
}

fn variants_table(c: &Config, variants: &[Variant; 2]) -> Table {
    let mut t = Table::new(
        "",
        &["variant", "max abs(service − fair share)", "Jain index of service / fair", "rounds", "picks per round"],
    );
    for v in variants {
        t.row(&[
            &v.name,
            &format!("{:.4} percentage points", 100.0 * v.max_deviation()),
            &format!("{:.6}", v.jain()),
            &v.rounds,
            &format!("{:.0}", c.picks as f64 / v.rounds.max(1) as f64),
        ]);
    }
    t
}

fn light_table(light: &Variant) -> Table {
    let mut t = Table::new("", &["light client", "class", "stake share", "asked", "served", "wait mean / max (picks)"]);
    for r in light.light_clients() {
        t.row(&[
            &r.client,
            &r.class.name(),
            &format!("{:.2}%", 100.0 * r.stake_share),
            &r.submitted,
            &r.served,
            &format!("{:.0} / {}", r.wait_mean, r.wait_max),
        ]);
    }
    t
}

fn summary(c: &Config, variants: &[Variant; 2]) -> String {
    let [backlogged, light] = variants;
    let mut s = String::new();
    let _ = writeln!(s, "# Stake-weighted queue fairness\n");
    let _ = writeln!(
        s,
        "A busy miner serves {} clients ({} whales staking {}, the others 1..={} at random) for {} picks per \
         variant with the real `sched::Scheduler`. Seed {}.\n",
        c.clients, c.whales, c.whale_stake, c.stake_max, c.picks, c.seed
    );
    s.push_str(&variants_table(c, variants).markdown());
    let _ = writeln!(
        s,
        "\n**All backlogged.** Every client's service share equals its stake share to within {:.4} percentage \
         points (Jain index {:.6}). The gap is the run stopping in the middle of a round: counted up to the end \
         of the last complete round it is {:.6} percentage points. Deficit round-robin serves each backlogged \
         client `stake / Σ stake` of the picks, the fractions carried, never rounded away.",
        100.0 * backlogged.max_deviation(),
        backlogged.jain(),
        100.0 * backlogged.max_deviation_rounds()
    );
    let _ = writeln!(
        s,
        "\n**With light clients.** Clients {:?} submit at random and {:?} in bursts every {} picks, asking for \
         {}% of their stake share. They are served {:.2}% of what they asked at least (the rest is still queued \
         when the run stops), and the capacity they leave goes to the backlogged clients in proportion to stake: \
         service is within {:.4} percentage points of the fair share (Jain index {:.6}; the largest gaps are again \
         the run stopping mid-round, plus the light requests still queued at the end).",
        c.light,
        c.bursty,
        c.burst_every,
        c.light_demand_pct,
        100.0 * light.light_served_min(),
        100.0 * light.max_deviation(),
        light.jain()
    );
    let _ = writeln!(s, "\n{}", light_table(light).markdown().trim_end());
    let _ = write!(
        s,
        "\nNo client starves, but a request that arrives just after its client's turn waits for the rest of the \
         round, and a round lasts `Σ stake / stake_min` picks ({:.0} on average here): the longest wait of a \
         light client's request was {} picks. Each turn serves a client's whole quantum back to back",
        c.picks as f64 / light.rounds.max(1) as f64,
        light.light_wait_max()
    );
    let (stake_max, stake_min) = stakes(c).into_iter().fold((0, u64::MAX), |(hi, lo), x| (hi.max(x), lo.min(x)));
    let _ = writeln!(
        s,
        ": the largest stake's turn is {} picks in a row while the smallest stake ({stake_min}) is queued, so one \
         client with a tiny stake stretches every round and every light client's wait.",
        stake_max / stake_min.max(1)
    );
    s
}
