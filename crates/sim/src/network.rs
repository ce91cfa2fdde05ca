//! Whole task lifecycles on a real chain (DESIGN §2 `sim`, §5 PoUW): clients submit Proof-of-Useful-Work
//! tasks, the engine draws creators, preparers and miners by stake × reputation, the simulated nodes act
//! according to their class, oracles advance every task, and the engine does everything else — deadlines,
//! reassignment, commit–reveal, the PoI verdict, payment, reputation, epoch points, emission and the
//! `underperformers` list. Every action is a transaction through `Engine::produce_block`.
//!
//! Node classes:
//! - **honest**: acts at once and returns the task's answer;
//! - **lazy**: acts at once but returns unrelated text (PoI catches it when the majority is honest);
//! - **copier**: wants to copy the others' answer, which commit–reveal hides until every miner has
//!   committed: it precommits blind and cannot open its commitment to a copied answer, so it never reveals;
//! - **flaky**: skips a whole stage of a task with probability `flaky_skip_pct` (then it is replaced, or
//!   dropped at the reveal);
//! - **slow**: acts after a seeded delay of up to twice the stage's deadline, so about half the time too late.
//!
//! Faults: `outage_pct` of the miners go dark (no heartbeat, no action) for `outage_blocks` blocks from
//! a seeded height; in-flight work is reassigned by the engine and the node stops being selected once
//! stale. The simulator never sends a transaction it expects to be refused: a refused one is counted,
//! reported and (in tests) must be zero, which checks the simulated oracle against the engine.

use crate::report::{Report, Table};
use crate::rng::Rng;
use crate::{Plot, PlotKind, Progress, Series, SimError};
use engine::testkit::{self, account, TestChain};
use engine::{Call, Event, Params, Role, TaskState};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write;
use types::{AccountId, Amount, Hash, Ppb};

const MINER: u8 = 1;
const CLIENT: u8 = 2;
const ORACLE: u8 = 3;
const SERVICE: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Class {
    Honest,
    Lazy,
    Copier,
    Flaky,
    Slow,
}

impl Class {
    pub const ALL: [Class; 5] = [Class::Honest, Class::Lazy, Class::Copier, Class::Flaky, Class::Slow];
    pub fn name(self) -> &'static str {
        match self {
            Class::Honest => "honest",
            Class::Lazy => "lazy",
            Class::Copier => "copier",
            Class::Flaky => "flaky",
            Class::Slow => "slow",
        }
    }
}

/// The scenario's knobs. Engine parameters not set here keep the scenario's defaults (see
/// [`NetworkConfig::params`]); `params` overrides any of them by name, as governance would.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NetworkConfig {
    pub miners: u32,
    /// Class shares in percent; the rest are honest.
    pub lazy_pct: u32,
    pub copier_pct: u32,
    pub flaky_pct: u32,
    pub slow_pct: u32,
    /// A flaky miner's chance (percent) of skipping a stage.
    pub flaky_skip_pct: u32,
    pub oracles: u32,
    pub clients: u32,
    /// Total tasks submitted, and how many per block.
    pub tasks: u64,
    pub tasks_per_block: u32,
    pub redundancy: u32,
    /// Miner stake is drawn uniformly from 1..=`stake_spread` × the minimum.
    pub stake_spread: u32,
    /// Crash faults: this share of miners goes dark for `outage_blocks` from a seeded height.
    pub outage_pct: u32,
    pub outage_blocks: u64,
    /// Check every ledger invariant (conservation) after each block; otherwise at each epoch's end.
    pub check_every_block: bool,
    /// Engine parameter overrides by name (values as text), applied with the governance rules.
    pub params: BTreeMap<String, String>,
    pub seed: u64,
}

impl Default for NetworkConfig {
    fn default() -> Self {
        NetworkConfig {
            miners: 200,
            lazy_pct: 5,
            copier_pct: 5,
            flaky_pct: 10,
            slow_pct: 5,
            flaky_skip_pct: 30,
            oracles: 3,
            clients: 40,
            tasks: 20_000,
            tasks_per_block: 20,
            redundancy: 3,
            stake_spread: 10,
            outage_pct: 5,
            outage_blocks: 60,
            check_every_block: true,
            params: BTreeMap::new(),
            seed: 1,
        }
    }
}

/// The network scenario in the registry (200 miners, 20,000 tasks).
#[derive(Debug, Clone, Copy)]
pub struct Network;

/// The same scenario at scale (100,000 miners, 1,000,000 tasks).
#[derive(Debug, Clone, Copy)]
pub struct Scale;

fn speed(c: &NetworkConfig, wall: f64) -> Option<String> {
    Some(format!(
        "{} task rounds (whole lifecycles, every step a transaction through the engine) in {wall:.1} s: {:.0} task \
         rounds per second",
        c.tasks,
        c.tasks as f64 / wall.max(1e-9)
    ))
}

impl crate::Scenario for Network {
    type Settings = NetworkConfig;
    fn name(&self) -> &'static str {
        "network"
    }
    fn description(&self) -> &'static str {
        "whole task lifecycles on the real engine: honest, lazy, copier, flaky and slow miners, oracles, an outage"
    }
    fn defaults(&self) -> NetworkConfig {
        NetworkConfig::default()
    }
    fn run(&self, c: &NetworkConfig, progress: &mut dyn Progress) -> Result<Report, SimError> {
        simulate(c, progress).map(|r| r.1)
    }
    fn speed(&self, c: &NetworkConfig, wall: f64) -> Option<String> {
        speed(c, wall)
    }
}

impl crate::Scenario for Scale {
    type Settings = NetworkConfig;
    fn name(&self) -> &'static str {
        "scale"
    }
    fn description(&self) -> &'static str {
        "the network scenario at scale: 100,000 nodes and 1,000,000 task rounds"
    }
    fn defaults(&self) -> NetworkConfig {
        NetworkConfig::scale()
    }
    fn run(&self, c: &NetworkConfig, progress: &mut dyn Progress) -> Result<Report, SimError> {
        simulate(c, progress).map(|r| r.1)
    }
    fn speed(&self, c: &NetworkConfig, wall: f64) -> Option<String> {
        speed(c, wall)
    }
}

impl NetworkConfig {
    /// The full-lifecycle scale run: 100,000 nodes and 1,000,000 tasks.
    pub fn scale() -> NetworkConfig {
        NetworkConfig {
            miners: 100_000,
            oracles: 16,
            clients: 10_000,
            tasks: 1_000_000,
            tasks_per_block: 5_000,
            outage_blocks: 40,
            check_every_block: false,
            // 100,000 nodes: a heartbeat per node every 125 blocks (timeout 250) instead of every 10.
            params: BTreeMap::from([("heartbeat_timeout".to_string(), "250".to_string())]),
            ..NetworkConfig::default()
        }
    }

    /// The engine parameters of the run: small fees and prices, short epochs, a selection cooldown of
    /// one block (a node is drawn at most once per block), then the overrides.
    pub fn params(&self) -> Result<Params, SimError> {
        let base = Params {
            chain_id: "stakework-sim".into(),
            min_fee: Amount(1),
            max_block_txs: 2_000_000,
            miner_stake_min: Amount(1_000_000),
            oracle_stake_min: Amount(1_000_000),
            epoch_length: 25,
            rating_window: 5,
            selection_cooldown: 1,
            heartbeat_timeout: 20,
            oracle_fee: Amount(10),
            background_task_reward: Amount::ZERO,
            emission_per_epoch: Amount(10_000_000),
            miner_reward_per_epoch: Amount(4_000_000),
            points_target_failure_rate: Ppb::new(50_000_000).expect("5% is a ratio"),
            list_len_max: 100_000,
            ..Params::default()
        };
        let mut p = base;
        for (name, value) in &self.params {
            p = p.with_set(name, value).map_err(|e| SimError::Setting(format!("params.{name}: {e}")))?;
        }
        Ok(p)
    }

    fn validate(&self) -> Result<(), SimError> {
        let shares = self.lazy_pct + self.copier_pct + self.flaky_pct + self.slow_pct;
        if shares > 100 || self.flaky_skip_pct > 100 || self.outage_pct > 100 {
            return Err(SimError::Setting("class shares add up to at most 100 percent".into()));
        }
        if self.miners < self.redundancy + 2 {
            return Err(SimError::Setting(format!(
                "{} miners cannot serve tasks of redundancy {} (need k + 2)",
                self.miners, self.redundancy
            )));
        }
        if u64::from(self.tasks_per_block) * u64::from(self.redundancy + 2) > u64::from(self.miners / 2) {
            return Err(SimError::Setting(format!(
                "tasks_per_block × (redundancy + 2) must be at most half the miners ({}): each task draws a creator, \
                 a preparer and k miners, and a miner is drawn at most once per block",
                self.miners / 2
            )));
        }
        if self.oracles == 0 || self.clients == 0 || self.tasks_per_block == 0 || self.stake_spread == 0 {
            return Err(SimError::Setting(
                "oracles, clients, tasks_per_block and stake_spread must be at least 1".into(),
            ));
        }
        if self.miners > 10_000_000 || self.clients > 10_000_000 {
            return Err(SimError::Setting("at most 10,000,000 miners and clients".into()));
        }
        Ok(())
    }
}

/// Per class, per epoch (or in total).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Tally {
    selected: u64,
    passed: u64,
    outlier: u64,
    missed: u64,
    points_net: u128,
    points_paid: u128,
    rewards: u128,
}

#[derive(Debug, Clone, Default)]
struct MinerStats {
    selected: u64,
    passed: u64,
    outlier: u64,
    missed: u64,
}

/// The numbers a run produces (also what tests read).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NetworkReport {
    pub blocks: u64,
    pub tasks_submitted: u64,
    pub tasks_ended: u64,
    pub tasks_failed: u64,
    pub rejected_txs: u64,
    /// Refused transactions by `call: code`.
    pub refused: BTreeMap<String, u64>,
    pub txs: u64,
    /// Per class: (miners, selected, passed, outlier, missed, points paid, income).
    pub classes: Vec<ClassRow>,
    /// Per class: how many of its miners were on the network's `underperformers` list after any epoch.
    pub underperformers: Vec<(Class, u64)>,
    pub supply_start: u128,
    pub supply_end: u128,
    pub minted: u128,
}

fn mix(seed: u64, a: u64, b: u64, c: u64) -> u64 {
    let mut r = Rng::new(seed ^ a.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ b.rotate_left(21) ^ c.rotate_left(42));
    r.next_u64()
}

fn index_of(id: &AccountId) -> Option<u32> {
    (id.0[0] == MINER).then(|| u32::from_be_bytes([id.0[1], id.0[2], id.0[3], id.0[4]]))
}

const ANSWERS: &[&str] = &[
    "Water evaporates, condenses into clouds and falls back as rain or snow.",
    "A hash function maps data of any size to a fixed-size digest that changes completely with any edit.",
    "Photosynthesis research improves crop yields, biofuels and artificial light harvesting.",
    "Pedalling turns the crank, the chain drives the rear sprocket and the wheel pushes the road back.",
];
const LAZY: &[&str] =
    &["ok", "I cannot help with that.", "lorem ipsum dolor sit amet", "Answer: 42", "see attached file"];

/// A task's current stage: its number, the height it began and its deadline.
#[derive(Debug, Clone, Copy)]
struct StageAt {
    id: u64,
    stage: u32,
    start: u64,
    deadline: u64,
}

/// Per class: (class, miners, selected, passed PoI, PoI outlier, missed a deadline, points paid, income).
pub type ClassRow = (Class, u64, u64, u64, u64, u64, u128, i128);

/// The network under simulation.
struct Sim<'a> {
    c: &'a NetworkConfig,
    chain: TestChain,
    classes: Vec<Class>,
    stakes: Vec<u128>,
    miner_ids: Vec<AccountId>,
    dark_from: u64,
    dark: Vec<bool>,
    active: Vec<u64>,
    stats: Vec<MinerStats>,
    epoch: BTreeMap<Class, Tally>,
    epoch_rows: Table,
    points_series: BTreeMap<Class, Vec<(f64, f64)>>,
    rewards_series: BTreeMap<Class, Vec<(f64, f64)>>,
    income: Vec<i128>,
    /// Miners (by index) that were on the `underperformers` list after some epoch.
    listed: std::collections::BTreeSet<u32>,
    report: NetworkReport,
    next_oracle: u32,
}

impl Sim<'_> {
    fn class_of(&self, id: &AccountId) -> Option<Class> {
        index_of(id).and_then(|i| self.classes.get(i as usize).copied())
    }

    /// Whether `who` acts on the task's current stage `at` (the reveal or an earlier step), at height `h`.
    fn acts(&self, who: &AccountId, at: &StageAt, h: u64, reveal: bool) -> bool {
        let StageAt { id, stage, start: stage_start, deadline } = *at;
        let Some(i) = index_of(who) else { return true };
        if self.dark[i as usize] {
            return false;
        }
        let roll = mix(self.c.seed, id, u64::from(stage), u64::from(i));
        match self.classes[i as usize] {
            Class::Honest | Class::Lazy => true,
            Class::Copier => !reveal,
            Class::Flaky => roll % 100 >= u64::from(self.c.flaky_skip_pct),
            Class::Slow => {
                let window = 2 * (deadline - stage_start).max(1);
                h >= stage_start + roll % (window + 1)
            }
        }
    }

    fn output(&self, who: &AccountId, id: u64) -> String {
        match self.class_of(who) {
            Some(Class::Lazy) => {
                LAZY[(mix(self.c.seed, id, 7, u64::from(index_of(who).unwrap_or(0))) % 5) as usize].to_string()
            }
            _ => ANSWERS[(id % ANSWERS.len() as u64) as usize].to_string(),
        }
    }

    fn salt(id: u64, who: &AccountId) -> Hash {
        let mut bytes = [0u8; 40];
        bytes[..8].copy_from_slice(&id.to_le_bytes());
        bytes[8..].copy_from_slice(&who.0);
        types::hash_bytes(&bytes)
    }

    fn oracle(&mut self) -> AccountId {
        self.next_oracle = (self.next_oracle + 1) % self.c.oracles;
        account(ORACLE, self.next_oracle)
    }

    /// What happens to task `id` this block: `None` if it is finished (forget it), else the participants'
    /// calls and whether an oracle advances it (after those calls).
    fn decide(&self, id: u64, h: u64) -> Option<(Vec<(AccountId, Call)>, bool)> {
        let t = self.chain.engine.task(id)?;
        if matches!(t.state, TaskState::Ended | TaskState::Failed) {
            return None;
        }
        let deadline = t.deadline.0;
        if h > deadline {
            return Some((Vec::new(), true)); // late: the engine replaces or drops whoever missed it
        }
        let at = StageAt {
            id,
            stage: t.stage,
            start: deadline - self.chain.engine.params().task_deadline(t.state),
            deadline,
        };
        let mut calls: Vec<(AccountId, Call)> = Vec::new();
        // The task's record once this block's calls are in (copied only when a call changes it): the oracle
        // advances it when the engine's own query says that record may be advanced.
        let mut after: Option<protocol::Task> = None;
        match t.state {
            TaskState::Requested => {
                if t.spec.is_none() && self.acts(&t.creator, &at, h, false) {
                    let spec = format!("task {id}");
                    after.get_or_insert_with(|| t.clone()).spec = Some(spec.clone());
                    calls.push((t.creator, Call::PublishTaskSpec { task: id, spec }));
                }
            }
            TaskState::Created => {
                if let (Some(p), None) = (t.preparer, &t.inputs) {
                    if self.acts(&p, &at, h, false) {
                        let inputs = format!("inputs {id}");
                        after.get_or_insert_with(|| t.clone()).inputs = Some(inputs.clone());
                        calls.push((p, Call::PrepareTask { task: id, inputs }));
                    }
                }
            }
            TaskState::Started => {
                for m in t.miners.iter().filter(|m| !t.precommits.contains_key(*m)) {
                    if self.acts(m, &at, h, false) {
                        let commitment = if self.class_of(m) == Some(Class::Copier) {
                            Self::salt(id ^ 0xC0, m) // blind: it has nothing to commit to yet
                        } else {
                            engine::output_commitment(id, m, &self.output(m, id), &Self::salt(id, m))
                        };
                        after.get_or_insert_with(|| t.clone()).precommits.insert(*m, commitment);
                        calls.push((*m, Call::PrecommitOutput { task: id, commitment }));
                    }
                }
            }
            TaskState::Precommitted => {
                for m in t.miners.iter().filter(|m| !t.outputs.contains_key(*m)) {
                    if self.acts(m, &at, h, true) {
                        let (output, salt) = (self.output(m, id), Self::salt(id, m));
                        after.get_or_insert_with(|| t.clone()).outputs.insert(*m, output.clone());
                        calls.push((*m, Call::RevealOutput { task: id, output, salt }));
                    }
                }
            }
            // Prepared and Committed never rest without semantic PoI (the engine moves on in the same advance).
            _ => return Some((calls, false)),
        }
        let record = after.as_ref().unwrap_or(t);
        let advance = record.advanceable_at(types::Height(h), self.chain.engine.params(), Amount::ZERO);
        Some((calls, advance))
    }

    /// Queue this block's actions for every active task, participants first and the oracles' advances
    /// last. Deciding is read-only, so big blocks decide on two threads; the calls are queued in task order
    /// either way, so the block is the same.
    fn act(&mut self, h: u64, advances: &mut Vec<u64>) {
        let active = std::mem::take(&mut self.active);
        let this = &*self;
        let decide_all = |ids: &[u64]| ids.iter().map(|id| (*id, this.decide(*id, h))).collect::<Vec<_>>();
        let decided = if active.len() < 4_096 {
            decide_all(&active)
        } else {
            let (a, b) = active.split_at(active.len() / 2);
            std::thread::scope(|s| {
                let second = s.spawn(|| decide_all(b));
                let mut first = decide_all(a);
                first.extend(second.join().expect("deciding cannot panic"));
                first
            })
        };
        let mut still = Vec::with_capacity(active.len());
        for (id, d) in decided {
            let Some((calls, advance)) = d else { continue };
            still.push(id);
            for (who, call) in calls {
                self.chain.submit(who, call);
            }
            if advance {
                advances.push(id);
            }
        }
        self.active = still;
    }

    fn tally(&mut self, id: &AccountId) -> Option<(usize, Class)> {
        let i = index_of(id)? as usize;
        Some((i, *self.classes.get(i)?))
    }

    /// Miner `m` missed a deadline (replaced, dropped or blamed for a failed task).
    fn missed(&mut self, m: &AccountId) {
        if let Some((i, c)) = self.tally(m) {
            self.stats[i].missed += 1;
            self.epoch.entry(c).or_default().missed += 1;
        }
    }

    fn on_event(&mut self, e: &Event) {
        match e {
            Event::TaskSubmitted { task, creator, .. } => {
                self.active.push(*task);
                self.count_selected(creator);
            }
            Event::TaskAdvanced { task, to: TaskState::Created, .. } => {
                if let Some(p) = self.chain.engine.task(*task).and_then(|t| t.preparer) {
                    self.count_selected(&p);
                }
            }
            Event::TaskMinersSelected { miners, .. } => miners.iter().for_each(|m| self.count_selected(m)),
            Event::TaskParticipantReplaced { old, new, .. } => {
                self.count_selected(new);
                self.missed(old);
            }
            Event::TaskParticipantsDropped { miners, .. } => {
                miners.iter().for_each(|m| self.missed(m));
            }
            Event::TaskEnded { passed, failed, .. } => {
                self.report.tasks_ended += 1;
                for m in passed {
                    if let Some((i, c)) = self.tally(m) {
                        self.stats[i].passed += 1;
                        self.epoch.entry(c).or_default().passed += 1;
                    }
                }
                for m in failed {
                    if let Some((i, c)) = self.tally(m) {
                        self.stats[i].outlier += 1;
                        self.epoch.entry(c).or_default().outlier += 1;
                    }
                }
            }
            Event::TaskFailed { culprits, .. } => {
                self.report.tasks_failed += 1;
                culprits.iter().for_each(|m| self.missed(m));
            }
            Event::PointsRewarded { node, earned, deducted, amount, .. } => {
                if let Some((_, c)) = self.tally(node) {
                    let t = self.epoch.entry(c).or_default();
                    t.points_net += earned.saturating_sub(*deducted);
                    t.points_paid += amount.0;
                }
            }
            Event::MinerRewarded { miner, amount, .. } => {
                if let Some((_, c)) = self.tally(miner) {
                    self.epoch.entry(c).or_default().rewards += amount.0;
                }
            }
            Event::EpochEnded { epoch, .. } => {
                self.close_epoch(*epoch);
                let list =
                    self.chain.engine.list(&engine::ListRef { owner: None, name: engine::UNDERPERFORMERS.into() });
                self.listed.extend(list.iter().flat_map(|l| l.nodes.iter()).filter_map(index_of));
            }
            _ => {}
        }
    }

    fn count_selected(&mut self, id: &AccountId) {
        if let Some((i, c)) = self.tally(id) {
            self.stats[i].selected += 1;
            self.epoch.entry(c).or_default().selected += 1;
        }
    }

    fn close_epoch(&mut self, epoch: u64) {
        let mut counts: BTreeMap<Class, u64> = BTreeMap::new();
        for c in &self.classes {
            *counts.entry(*c).or_default() += 1;
        }
        let mut income: BTreeMap<Class, i128> = BTreeMap::new();
        for (i, id) in self.miner_ids.iter().enumerate() {
            let now = self.chain.engine.ledger().free(id).0 as i128;
            *income.entry(self.classes[i]).or_default() += now - self.income[i];
            self.income[i] = now;
        }
        for c in Class::ALL {
            let n = counts.get(&c).copied().unwrap_or(0);
            if n == 0 {
                continue;
            }
            let t = self.epoch.get(&c).copied().unwrap_or_default();
            let inc = income.get(&c).copied().unwrap_or(0);
            self.epoch_rows.row(&[
                &epoch,
                &c.name(),
                &n,
                &t.selected,
                &t.passed,
                &t.outlier,
                &t.missed,
                &format!("{:.1}", t.points_net as f64 / n as f64),
                &t.points_paid,
                &t.rewards,
                &format!("{:.1}", inc as f64 / n as f64),
            ]);
            self.points_series.entry(c).or_default().push((epoch as f64, t.points_net as f64 / n as f64));
            self.rewards_series.entry(c).or_default().push((epoch as f64, inc as f64 / n as f64));
            let r = self.report.classes.iter_mut().find(|r| r.0 == c);
            if let Some(r) = r {
                r.6 += t.points_paid;
                r.7 += inc;
            }
        }
        self.epoch.clear();
        if !self.c.check_every_block {
            self.check();
        }
    }

    fn check(&self) {
        if let Err(v) = self.chain.engine.check_invariants() {
            panic!("ledger invariant broken at height {}: {v}", self.chain.engine.height());
        }
    }

    fn seal(&mut self) {
        for outcome in self.chain.block() {
            self.report.blocks += 1;
            self.report.txs += outcome.receipts.len() as u64;
            self.report.rejected_txs += outcome.receipts.iter().filter(|r| r.result.is_err()).count() as u64;
            for e in &outcome.events {
                self.on_event(&e.event);
            }
            if self.c.check_every_block {
                self.check();
            }
            self.chain.engine.recycle(outcome);
        }
    }
}

/// Run the scenario. `Err` for a configuration that cannot run (said plainly).
/// Each miner's class: by share, then shuffled so the id order says nothing.
fn assign_classes(c: &NetworkConfig, rng: &mut Rng) -> Vec<Class> {
    let shares = [
        (Class::Lazy, c.lazy_pct),
        (Class::Copier, c.copier_pct),
        (Class::Flaky, c.flaky_pct),
        (Class::Slow, c.slow_pct),
    ];
    let mut classes = Vec::with_capacity(c.miners as usize);
    for (class, pct) in shares {
        let n = (u64::from(c.miners) * u64::from(pct) / 100) as usize;
        classes.extend(std::iter::repeat_n(class, n));
    }
    classes.resize(c.miners as usize, Class::Honest);
    for i in (1..classes.len()).rev() {
        let j = rng.below(i as u32 + 1) as usize;
        classes.swap(i, j);
    }
    classes
}

/// What a client pays per miner of a task.
const PRICE: u128 = 100;

/// The genesis: miners with their stakes, oracles, clients funded for their share of the tasks, and the
/// inference service.
fn genesis(c: &NetworkConfig, params: Params, stakes: &[u128], miner_ids: &[AccountId]) -> engine::Genesis {
    let per_client = c.tasks.div_ceil(u64::from(c.clients)) as u128;
    let client_funds = per_client * (PRICE * u128::from(c.redundancy) + 10) + 1_000;
    let mut accounts: Vec<(AccountId, Amount, Amount)> = Vec::new();
    for (i, id) in miner_ids.iter().enumerate() {
        accounts.push((*id, Amount(1_000_000), Amount(stakes[i])));
    }
    for i in 0..c.oracles {
        accounts.push((account(ORACLE, i), Amount(10_000_000), Amount(params.oracle_stake_min.0)));
    }
    for i in 0..c.clients {
        accounts.push((account(CLIENT, i), Amount(client_funds), Amount::ZERO));
    }
    let services = vec![engine::GenesisService {
        name: "inference".into(),
        weight: 1,
        price: Amount(PRICE),
        poi_threshold: Ppb::new(850_000_000).expect("0.85 is a ratio"),
        semantic_poi: false,
    }];
    testkit::genesis(params, accounts, services)
}

fn epochs_table() -> Table {
    Table::with_header(
        "epochs.csv",
        "epoch,class,miners,selected,passed,outlier,missed,points_net_mean,points_paid,miner_rewards,income_mean",
    )
}

impl<'a> Sim<'a> {
    fn new(c: &'a NetworkConfig, chain: TestChain, classes: Vec<Class>, stakes: Vec<u128>) -> Sim<'a> {
        let supply_start = chain.engine.ledger().total_supply().0;
        let n = c.miners as usize;
        let mut report = NetworkReport { supply_start, ..NetworkReport::default() };
        for class in Class::ALL {
            let count = classes.iter().filter(|x| **x == class).count() as u64;
            report.classes.push((class, count, 0, 0, 0, 0, 0, 0));
        }
        Sim {
            c,
            chain,
            classes,
            stakes,
            miner_ids: (0..c.miners).map(|i| account(MINER, i)).collect(),
            dark_from: 0,
            dark: vec![false; n],
            active: Vec::new(),
            stats: vec![MinerStats::default(); n],
            epoch: BTreeMap::new(),
            epoch_rows: epochs_table(),
            points_series: BTreeMap::new(),
            rewards_series: BTreeMap::new(),
            income: vec![1_000_000; n],
            listed: std::collections::BTreeSet::new(),
            report,
            next_oracle: 0,
        }
    }

    /// Block 1: every miner and oracle registers.
    fn register(&mut self) {
        for id in self.miner_ids.clone() {
            let call = Call::RegisterNode {
                roles: vec![Role::Miner],
                services: vec![SERVICE],
                capacity: 1,
                endpoint: "http://sim.invalid".into(),
            };
            self.chain.submit(id, call);
        }
        for i in 0..self.c.oracles {
            let call = Call::RegisterNode {
                roles: vec![Role::Oracle],
                services: vec![],
                capacity: 1,
                endpoint: "http://sim.invalid".into(),
            };
            self.chain.submit(account(ORACLE, i), call);
        }
        self.seal();
    }

    /// One block at height `h`: heartbeats (staggered, none from dark miners), the miners' and oracles'
    /// actions, then the clients' new tasks; returns how many tasks were submitted.
    fn step(&mut self, h: u64, heartbeat: u64, dark_set: &[bool], submitted: u64) -> u64 {
        let c = self.c;
        let dark_now = h >= self.dark_from && h < self.dark_from + c.outage_blocks;
        for (i, d) in dark_set.iter().enumerate() {
            self.dark[i] = *d && dark_now;
        }
        for i in 0..self.miner_ids.len() {
            if (h + i as u64) % heartbeat == 0 && !self.dark[i] {
                self.chain.submit(self.miner_ids[i], Call::ReportStatus { status: engine::ReportedStatus::Ready });
            }
        }
        let mut advances = Vec::new();
        self.act(h, &mut advances);
        for id in advances {
            let oracle = self.oracle();
            self.chain.submit(oracle, Call::AdvanceTask { task: id });
        }
        let new = (c.tasks - submitted).min(u64::from(c.tasks_per_block));
        for j in 0..new {
            let client = account(CLIENT, ((submitted + j) % u64::from(c.clients)) as u32);
            let max_price = Amount(PRICE * u128::from(c.redundancy));
            let call = Call::SubmitTask { service: SERVICE, redundancy: c.redundancy, max_price, avoid: vec![] };
            self.chain.submit(client, call);
        }
        self.report.tasks_submitted = submitted + new;
        self.seal();
        new
    }

    /// After the last block: the invariants, the refusals, the supply and the per-class totals.
    fn finish(&mut self) -> Result<(), SimError> {
        self.check();
        self.report.refused = self.chain.refused.clone();
        let engine = &self.chain.engine;
        self.report.supply_end = engine.ledger().total_supply().0;
        self.report.minted = engine.ledger().minted().0;
        for class in Class::ALL {
            let on = self.listed.iter().filter(|i| self.classes[**i as usize] == class).count() as u64;
            self.report.underperformers.push((class, on));
        }
        for (i, s) in self.stats.iter().enumerate() {
            let r = self
                .report
                .classes
                .iter_mut()
                .find(|r| r.0 == self.classes[i])
                .ok_or_else(|| SimError::Unexpected("a miner's class has no row".into()))?;
            r.2 += s.selected;
            r.3 += s.passed;
            r.4 += s.outlier;
            r.5 += s.missed;
        }
        Ok(())
    }
}

pub fn simulate(c: &NetworkConfig, progress: &mut dyn Progress) -> Result<(NetworkReport, Report), SimError> {
    c.validate()?;
    let params = c.params()?;
    let mut rng = Rng::new(c.seed);
    let min = params.miner_stake_min.0;
    let k_min = engine::TASK_REDUNDANCY_MIN;
    if c.redundancy < k_min || c.redundancy > params.task_redundancy_max {
        return Err(SimError::Setting(format!("redundancy must be {k_min} to {}", params.task_redundancy_max)));
    }
    let classes = assign_classes(c, &mut rng);
    let stakes: Vec<u128> = (0..c.miners).map(|_| min * u128::from(1 + rng.below(c.stake_spread))).collect();
    let miner_ids: Vec<AccountId> = (0..c.miners).map(|i| account(MINER, i)).collect();
    let heartbeat = (params.heartbeat_timeout / 2).max(1);
    let epoch_length = params.epoch_length;
    let chain =
        TestChain::new(&genesis(c, params, &stakes, &miner_ids)).map_err(|e| SimError::Setting(e.to_string()))?;
    let mut sim = Sim::new(c, chain, classes, stakes);
    sim.register();
    // The outage starts a seeded while into the run and hits a seeded set of miners.
    let submit_blocks = c.tasks.div_ceil(u64::from(c.tasks_per_block));
    sim.dark_from = 2 + u64::from(rng.below(submit_blocks.clamp(1, u64::from(u32::MAX)) as u32)) / 2;
    let dark_set: Vec<bool> = (0..c.miners).map(|_| rng.below(100) < c.outage_pct).collect();
    progress.start(c.tasks, "tasks");
    let (mut submitted, mut reported) = (0u64, 0u64);
    // Run until every task has finished, plus the epoch it finished in.
    loop {
        let h = sim.chain.engine.height().0 + 1;
        submitted += sim.step(h, heartbeat, &dark_set, submitted);
        let done = sim.report.tasks_ended + sim.report.tasks_failed;
        progress.advance(done - reported);
        reported = done;
        if submitted == c.tasks && sim.active.is_empty() && h % epoch_length == 0 {
            break;
        }
        if h > 100 * (submit_blocks + 100) {
            return Err(SimError::Unexpected(format!("tasks still open at height {h}: the scenario cannot finish")));
        }
    }
    sim.finish()?;
    let output = write_output(&sim);
    Ok((sim.report.clone(), output))
}

/// Whether the heaviest stake group got less than its stake share: a miner is drawn at most once per
/// block (`selection_cooldown`), which caps the biggest stakes when the network is busy.
fn classes_table(r: &NetworkReport) -> Table {
    let mut t = Table::new(
        "",
        &[
            "class",
            "miners",
            "selected",
            "passed PoI",
            "PoI outlier",
            "missed a deadline",
            "points paid",
            "income per miner",
            "on underperformers",
        ],
    );
    for (cl, n, sel, pass, out, miss, paid, inc) in &r.classes {
        if *n == 0 {
            continue;
        }
        let under = r.underperformers.iter().find(|u| u.0 == *cl).map_or(0, |u| u.1);
        t.row(&[&cl.name(), n, sel, pass, out, miss, paid, &format!("{:.0}", *inc as f64 / *n as f64), &under]);
    }
    t
}

fn cap_note(points: &[(f64, f64)]) -> String {
    let (Some(low), Some(high)) = (points.first(), points.last()) else { return ".".into() };
    let ratio = |p: &(f64, f64)| if p.0 > 0.0 { p.1 / p.0 } else { 0.0 };
    format!(
        ": the lightest stake group got {:.2}× its stake share and the heaviest {:.2}×. Below 1 for the heaviest \
         means the per-block selection cooldown capped it: a miner is drawn at most once per block, however big \
         its stake, so on a busy network the biggest stakes are under-served and the rest share their surplus.",
        ratio(low),
        ratio(high)
    )
}

fn write_output(sim: &Sim<'_>) -> Report {
    let r = &sim.report;
    let (share_csv, share_points) = service_vs_stake(sim);
    let mut s = intro(sim);
    s.push_str(&classes_table(r).markdown());
    let per = |cl: Class| -> f64 {
        r.classes.iter().find(|x| x.0 == cl).map_or(0.0, |x| if x.1 == 0 { 0.0 } else { x.7 as f64 / x.1 as f64 })
    };
    let _ = writeln!(
        s,
        "\nWhat the run shows: {}. Lazy outputs are PoI outliers whenever the other miners are honest; copiers \
         never reveal (commit–reveal leaves them nothing to copy) and are dropped at the reveal deadline; flaky and \
         slow miners are replaced when they miss a deadline. Each failure is a Bad network rating: reputation, and \
         with it the chance of being selected, falls, which is why the other classes are selected so much less \
         than honest miners of the same stake. Points paid follow the floored nets: the 5% target's deduction \
         floors most of a bad class.",
        class_findings(r).join("; ")
    );
    let _ = writeln!(
        s,
        "\nTokens: supply {} at genesis + {} minted = {} at the end (ledger invariants checked {}).",
        r.supply_start,
        r.minted,
        r.supply_end,
        if sim.c.check_every_block { "after every block" } else { "at every epoch end" }
    );
    let _ = writeln!(
        s,
        "\nService share vs stake share (honest miners, see service-vs-stake.csv and the plot): selection follows \
         stake × reputation, so among honest miners the selection share tracks the stake share{}",
        cap_note(&share_points)
    );
    let honest_income = per(Class::Honest);
    let headline = vec![
        ("tasks_ended".into(), r.tasks_ended.to_string()),
        ("tasks_failed".into(), r.tasks_failed.to_string()),
        ("rejected_txs".into(), r.rejected_txs.to_string()),
        ("honest_income_per_miner".into(), format!("{honest_income:.0}")),
        ("lazy_income_per_miner".into(), format!("{:.0}", per(Class::Lazy))),
        ("flaky_income_per_miner".into(), format!("{:.0}", per(Class::Flaky))),
    ];
    let tables = vec![sim.epoch_rows.clone(), miners_table(sim), share_csv];
    Report { tables, plots: plots(sim, &share_points), summary: s, headline }
}

fn miners_table(sim: &Sim<'_>) -> Table {
    let engine = &sim.chain.engine;
    let mut miners =
        Table::with_header("miners.csv", "miner,class,stake,selected,passed,outlier,missed,reputation_ppb,free");
    for (i, s) in sim.stats.iter().enumerate() {
        let id = &sim.miner_ids[i];
        miners.row(&[
            &i,
            &sim.classes[i].name(),
            &sim.stakes[i],
            &s.selected,
            &s.passed,
            &s.outlier,
            &s.missed,
            &engine.reputation(id).raw(),
            &engine.ledger().free(id).0,
        ]);
    }
    miners
}

/// Service share vs stake share of the honest miners, grouped by stake (their reputation stays high, so
/// stake should decide): the table and the points (stake share %, selection share %).
fn service_vs_stake(sim: &Sim<'_>) -> (Table, Vec<(f64, f64)>) {
    let honest: Vec<usize> = (0..sim.classes.len()).filter(|i| sim.classes[*i] == Class::Honest).collect();
    let stake_total: u128 = honest.iter().map(|i| sim.stakes[*i]).sum();
    let sel_total: u64 = honest.iter().map(|i| sim.stats[*i].selected).sum();
    let mut by_stake: BTreeMap<u128, (u64, u64)> = BTreeMap::new();
    for i in &honest {
        let e = by_stake.entry(sim.stakes[*i]).or_default();
        e.0 += 1;
        e.1 += sim.stats[*i].selected;
    }
    let share_points: Vec<(f64, f64)> = by_stake
        .iter()
        .map(|(stake, (n, sel))| {
            let stake_share = *stake as f64 * *n as f64 / stake_total.max(1) as f64;
            (stake_share * 100.0, *sel as f64 / sel_total.max(1) as f64 * 100.0)
        })
        .collect();
    let mut share_csv =
        Table::with_header("service-vs-stake.csv", "stake,miners,stake_share_pct,selected,service_share_pct");
    for ((stake, (n, sel)), (x, y)) in by_stake.iter().zip(&share_points) {
        share_csv.row(&[stake, n, &format!("{x:.4}"), sel, &format!("{y:.4}")]);
    }
    (share_csv, share_points)
}

fn plots(sim: &Sim<'_>, share_points: &[(f64, f64)]) -> Vec<Plot> {
    let max_x = share_points.iter().map(|p| p.0).fold(0.0, f64::max);
    let series = |m: &BTreeMap<Class, Vec<(f64, f64)>>| -> Vec<Series> {
        m.iter().map(|(c, pts)| Series { name: c.name().into(), points: pts.clone() }).collect()
    };
    vec![
        Plot {
            file: "points-per-class.png".into(),
            title: "Epoch points per node, by class".into(),
            x_label: "epoch".into(),
            y_label: "mean floored net points".into(),
            kind: PlotKind::Line,
            series: series(&sim.points_series),
        },
        Plot {
            file: "rewards-per-class.png".into(),
            title: "Income per node per epoch, by class (task pay + rewards − fees)".into(),
            x_label: "epoch".into(),
            y_label: "base units".into(),
            kind: PlotKind::Line,
            series: series(&sim.rewards_series),
        },
        Plot {
            file: "service-vs-stake.png".into(),
            title: "Honest miners: share of selections vs share of stake (grouped by stake)".into(),
            x_label: "stake share %".into(),
            y_label: "selection share %".into(),
            kind: PlotKind::ScatterWithLine,
            series: vec![
                Series { name: "honest miners".into(), points: share_points.to_vec() },
                Series { name: "ideal (y = x)".into(), points: vec![(0.0, 0.0), (max_x, max_x)] },
            ],
        },
    ]
}

/// The summary's opening: the run's settings and its totals.
fn intro(sim: &Sim<'_>) -> String {
    let (c, r) = (sim.c, &sim.report);
    let mut s = String::new();
    let _ = writeln!(s, "# Network scenario: whole task lifecycles on the real engine\n");
    let _ = writeln!(
        s,
        "{} miners ({}% lazy, {}% copier, {}% flaky, {}% slow, the rest honest), {} oracles, {} clients; {} tasks of \
         redundancy {} at {} per block; {}% of miners dark for {} blocks; seed {}.\n",
        c.miners,
        c.lazy_pct,
        c.copier_pct,
        c.flaky_pct,
        c.slow_pct,
        c.oracles,
        c.clients,
        c.tasks,
        c.redundancy,
        c.tasks_per_block,
        c.outage_pct,
        c.outage_blocks,
        c.seed
    );
    let _ = writeln!(
        s,
        "{} blocks, {} transactions ({} refused), {} tasks ended, {} failed.\n",
        r.blocks, r.txs, r.rejected_txs, r.tasks_ended, r.tasks_failed
    );
    if !r.refused.is_empty() {
        let _ = writeln!(s, "Refused transactions by call and code: {:?}\n", r.refused);
    }
    s
}

/// Per bad class: its income and selections against an honest miner's.
fn class_findings(r: &NetworkReport) -> Vec<String> {
    let per = |cl: Class| -> f64 {
        r.classes.iter().find(|x| x.0 == cl).map_or(0.0, |x| if x.1 == 0 { 0.0 } else { x.7 as f64 / x.1 as f64 })
    };
    let honest_income = per(Class::Honest);
    let selected_per = |cl: Class| -> f64 {
        r.classes.iter().find(|x| x.0 == cl).map_or(0.0, |x| if x.1 == 0 { 0.0 } else { x.2 as f64 / x.1 as f64 })
    };
    let mut findings = Vec::new();
    for cl in [Class::Lazy, Class::Copier, Class::Flaky, Class::Slow] {
        if r.classes.iter().all(|x| x.0 != cl || x.1 == 0) {
            continue;
        }
        let ratio = if honest_income > 0.0 { per(cl) / honest_income } else { 0.0 };
        findings.push(format!(
            "a {} miner earned {:.1}% of an honest miner's income and was selected {:.1} times against an honest \
             miner's {:.1}",
            cl.name(),
            ratio * 100.0,
            selected_per(cl),
            selected_per(Class::Honest)
        ));
    }
    findings
}
