//! The demo network's report: rows computed by pure functions from the chain's recorded events, the
//! accounts' names and what the client agents printed; `render` turns a report into text. Nothing here
//! talks to a process, so every figure of the report has a unit test over recorded events.

use crate::queue::{busy_periods, ranked_by_stake};
pub use agent::client::ClientReport;
use api::SupplyView;
use protocol::{Event, JobOutcome, JobPhase};
use serde::Serialize;
use std::collections::BTreeMap;
use types::{AccountId, Amount, Hash, JobId, Ppb};

/// Account names; an account outside the run is `?`.
#[derive(Debug, Clone, Default)]
pub struct Names(pub BTreeMap<AccountId, String>);

impl Names {
    pub fn of(&self, a: &AccountId) -> String {
        self.0.get(a).cloned().unwrap_or_else(|| "?".into())
    }
    pub fn id(&self, name: &str) -> Option<AccountId> {
        self.0.iter().find(|(_, n)| *n == name).map(|(a, _)| *a)
    }
}

#[derive(Debug, Serialize)]
pub struct NetReport {
    pub chain_id: String,
    pub processes: String,
    pub clients: Vec<ClientRow>,
    pub queue: QueueFinding,
    pub tasks: TaskSummary,
    pub dishonest_miner: DishonestRow,
    pub nodes: Vec<NodeRow>,
    pub router: Option<RouterRow>,
    pub job: JobRow,
    pub supply: SupplyView,
    pub agents_stopped_cleanly: bool,
    /// The common head height of the validators (the lowest head when the run stopped).
    pub head_height: u64,
    /// Every validator's data directory, replayed from genesis, gives the root served at `head_height`.
    pub replay_matches_head: bool,
    pub validators: ValidatorsReport,
}

impl NetReport {
    /// The checks the demo fails on: conservation, replay, clean stops, and stake priority in the queue.
    pub fn failed_checks(&self) -> Vec<&'static str> {
        let checks = [
            (self.supply.conserved, "conservation"),
            (self.replay_matches_head, "replay from genesis"),
            (self.agents_stopped_cleanly, "agents stopped cleanly"),
            (self.queue.stake_priority_visible, "stake priority in the busy miner's queue"),
        ];
        let mut failed: Vec<&'static str> = checks.into_iter().filter(|(ok, _)| !ok).map(|(_, name)| name).collect();
        failed.extend(self.validators.failed_checks());
        failed
    }
}

/// The validators of the run: one killed in the middle of the traffic and restarted, and the state all of
/// them agree on at the end.
#[derive(Debug, Serialize, Default)]
pub struct ValidatorsReport {
    pub count: usize,
    pub crash: CrashRow,
    /// The lowest head among the validators when the run stopped: where their roots are compared.
    pub common_height: u64,
    pub finals: Vec<ValidatorFinal>,
    pub stopped_cleanly: bool,
}

/// One validator killed (SIGKILL) and restarted from its data directory.
#[derive(Debug, Serialize, Default)]
pub struct CrashRow {
    pub validator: String,
    /// Its finalized height when it was killed.
    pub killed_at: u64,
    /// The others' height when it was restarted.
    pub restarted_at: u64,
    /// Blocks the other validators finalized while it was down: finality went on.
    pub finalized_while_down: u64,
    pub down_ms: u64,
    /// From its restart until its height reached the others'; `None` if not within the bound.
    pub catch_up_ms: Option<u64>,
    pub caught_up_at: Option<u64>,
    pub catch_up_bound_ms: u64,
    /// The agents whose `--node` list named it first: they failed over to the next validator.
    pub agents_failed_over: Vec<String>,
}

/// One validator at the end of the run.
#[derive(Debug, Serialize)]
pub struct ValidatorFinal {
    pub name: String,
    /// The state root it served for the block at the common height.
    pub root_served: Hash,
    /// The head its data directory replayed to after it stopped, and the root the replay gave at the
    /// common height.
    pub replayed_height: u64,
    pub replayed_root: Option<Hash>,
}

impl ValidatorsReport {
    /// Whether every validator served, and replayed to, one root at the common height.
    pub fn agree(&self) -> bool {
        let Some(first) = self.finals.first() else { return false };
        self.finals.iter().all(|v| v.root_served == first.root_served && v.replayed_root == Some(first.root_served))
    }

    /// The validators' checks the demo fails on: finality went on while one was down, the restarted one
    /// caught up within the bound, all agree at the end, all stopped cleanly.
    pub fn failed_checks(&self) -> Vec<&'static str> {
        let checks = [
            (self.crash.finalized_while_down > 0, "finality while a validator was down"),
            (self.crash.catch_up_ms.is_some(), "the restarted validator caught up"),
            (self.agree(), "the validators agree on the state root"),
            (self.stopped_cleanly, "validators stopped cleanly"),
        ];
        checks.into_iter().filter(|(ok, _)| !ok).map(|(_, name)| name).collect()
    }
}

#[derive(Debug, Serialize)]
pub struct ClientRow {
    pub name: String,
    pub stake_share_pct: f64,
    pub requests: u64,
    pub mean_wait_blocks: f64,
    pub rated_good: u64,
    pub rated_bad: u64,
}

/// Where the clients' bursts met: the busy miner's queue, one row per busy period.
#[derive(Debug, Serialize)]
pub struct QueueFinding {
    pub miner: String,
    pub periods: Vec<PeriodRow>,
    /// In every busy period of the busy miner that served more than one client, the clients' mean queue
    /// positions rank them by stake (most stake first); and there was at least one such period.
    pub stake_priority_visible: bool,
}

#[derive(Debug, Serialize)]
pub struct PeriodRow {
    pub requests: u64,
    /// Requests served while every client of the period still had one waiting.
    pub contended: u64,
    pub clients: Vec<PeriodClient>,
    pub ranked_by_stake: bool,
}

#[derive(Debug, Serialize)]
pub struct PeriodClient {
    pub name: String,
    pub stake_share_pct: f64,
    pub served: u64,
    /// This client's share of the requests served while every client still had one waiting.
    pub contended_share_pct: f64,
    /// 0 = first served in the period, 1 = last.
    pub mean_queue_position: f64,
}

#[derive(Debug, Serialize, Default)]
pub struct TaskSummary {
    pub ended: u64,
    pub failed: u64,
    pub failure_reasons: BTreeMap<String, u64>,
}

#[derive(Debug, Serialize)]
pub struct DishonestRow {
    pub name: String,
    pub caught_as_outlier: u64,
    pub passed: u64,
    pub reputation_ppb: u32,
}

/// A miner over the whole run: points (summed over the finished epochs), rewards and reputation.
#[derive(Debug, Serialize)]
pub struct NodeRow {
    pub name: String,
    #[serde(with = "protocol::points::u128_text")]
    pub points_net: u128,
    pub miner_rewards: Amount,
    pub points_rewards: Amount,
    pub reputation_ppb: u32,
}

/// The router's reward in the epoch it carried the most validated bytes, with its pay over the whole run.
#[derive(Debug, Serialize)]
pub struct RouterRow {
    pub router: String,
    pub epoch: u64,
    #[serde(with = "protocol::points::u128_text")]
    pub bandwidth: u128,
    pub latency_factor: Ppb,
    pub reputation: Ppb,
    /// What the formula owed it in that epoch.
    pub owed: Amount,
    /// What it was paid over the run.
    pub amount: Amount,
}

#[derive(Debug, Serialize)]
pub struct JobRow {
    pub phase: JobPhase,
    pub outcome: Option<JobOutcome>,
    pub escrow: Amount,
    /// The job's payouts and refunds, one line per event.
    pub movements: Vec<String>,
}

/// What the events say about tasks, the dishonest miner, rewards and the router.
#[derive(Debug, Default)]
pub struct Tally {
    pub tasks: TaskSummary,
    /// Times the dishonest miner failed and passed Proof of Inference.
    pub caught: u64,
    pub passed: u64,
    /// Per node name: miner rewards, points rewards (base units) and net points, over the run.
    pub rewards: BTreeMap<String, (u128, u128, u128)>,
    pub router: Option<RouterRow>,
}

/// Tasks, the dishonest miner `dishonest`, rewards and points per node, and the router's best epoch.
pub fn tally(events: &[Event], names: &Names, dishonest: &str) -> Tally {
    let mut t = Tally::default();
    let count = |list: &[AccountId]| list.iter().filter(|a| names.of(a) == dishonest).count() as u64;
    for e in events {
        match e {
            Event::TaskEnded { passed, failed, .. } => {
                t.tasks.ended += 1;
                t.caught += count(failed);
                t.passed += count(passed);
            }
            Event::TaskFailed { reason, .. } => {
                t.tasks.failed += 1;
                *t.tasks.failure_reasons.entry(reason.clone()).or_default() += 1;
            }
            Event::MinerRewarded { miner, amount, .. } => t.rewards.entry(names.of(miner)).or_default().0 += amount.0,
            Event::PointsRewarded { node, amount, earned, deducted, .. } => {
                let row = t.rewards.entry(names.of(node)).or_default();
                row.1 += amount.0;
                row.2 += earned.saturating_sub(*deducted);
            }
            Event::RouterRewarded { .. } => router_reward(&mut t.router, e, names),
            _ => {}
        }
    }
    t
}

/// Keep the epoch in which the router carried the most validated bytes, with its pay summed over the run.
fn router_reward(row: &mut Option<RouterRow>, e: &Event, names: &Names) {
    let Event::RouterRewarded { epoch, router, bandwidth, latency_factor, reputation, owed, amount } = e else {
        return;
    };
    let total = row.as_ref().map_or(0, |r| r.amount.0) + amount.0;
    if row.as_ref().is_none_or(|r| *bandwidth > r.bandwidth) {
        *row = Some(RouterRow {
            router: names.of(router),
            epoch: *epoch,
            bandwidth: *bandwidth,
            latency_factor: *latency_factor,
            reputation: *reputation,
            owed: *owed,
            amount: *amount,
        });
    }
    if let Some(r) = row.as_mut() {
        r.amount = Amount(total);
    }
}

fn pct(part: u128, whole: u128) -> f64 {
    if whole == 0 {
        0.0
    } else {
        100.0 * part as f64 / whole as f64
    }
}

/// Each client's stake share and what its agent reported (zeros for a client that printed nothing).
pub fn client_rows(stakes: &[(&str, u128)], outputs: &BTreeMap<String, ClientReport>) -> Vec<ClientRow> {
    let total: u128 = stakes.iter().map(|(_, s)| s).sum();
    stakes
        .iter()
        .map(|(c, stake)| {
            let s = outputs.get(*c).cloned().unwrap_or_default();
            ClientRow {
                name: c.to_string(),
                stake_share_pct: pct(*stake, total),
                requests: s.requests,
                mean_wait_blocks: s.mean_wait_blocks,
                rated_good: s.rated_good,
                rated_bad: s.rated_bad,
            }
        })
        .collect()
}

/// The busy periods of `miner`'s queue that served more than one client, each client's place in them, and
/// whether every one of them ranks the clients by `stakes` (name, stake).
pub fn queue_finding(events: &[Event], names: &Names, miner: &str, stakes: &[(&str, u128)]) -> QueueFinding {
    let stake_of = |a: &AccountId| {
        let n = names.of(a);
        stakes.iter().find(|(c, _)| *c == n).map_or(0, |(_, s)| *s)
    };
    let mut periods = Vec::new();
    for p in busy_periods(events).into_iter().filter(|p| names.of(&p.miner) == miner) {
        let places = p.places();
        if places.len() < 2 {
            continue;
        }
        let total_stake: u128 = places.iter().map(|c| stake_of(&c.client)).sum();
        let contended = p.contended_len() as u128;
        let mut clients: Vec<PeriodClient> = places
            .iter()
            .map(|c| PeriodClient {
                name: names.of(&c.client),
                stake_share_pct: pct(stake_of(&c.client), total_stake),
                served: c.served,
                contended_share_pct: pct(u128::from(c.contended), contended),
                mean_queue_position: c.mean_position,
            })
            .collect();
        clients.sort_by(|a, b| a.name.cmp(&b.name));
        periods.push(PeriodRow {
            requests: p.served.len() as u64,
            contended: contended as u64,
            clients,
            ranked_by_stake: ranked_by_stake(&places, &stake_of),
        });
    }
    let visible = !periods.is_empty() && periods.iter().all(|p| p.ranked_by_stake);
    QueueFinding { miner: miner.to_string(), periods, stake_priority_visible: visible }
}

/// Job `id`'s payouts and refunds, one line per event: `reward_distributed: d1 1 SWK, …`.
pub fn job_movements(events: &[Event], id: &JobId, names: &Names) -> Vec<String> {
    let line = |kind: &str, list: &[(AccountId, Amount)]| {
        let parts: Vec<String> = list.iter().map(|(a, v)| format!("{} {}", names.of(a), v.to_swk_string())).collect();
        format!("{kind}: {}", parts.join(", "))
    };
    events
        .iter()
        .filter_map(|e| match e {
            Event::RewardDistributed { job, payouts } if job == id => Some(line("reward_distributed", payouts)),
            Event::Refund { job, refunds } if job == id => Some(line("refund", refunds)),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
#[path = "report_tests.rs"]
mod tests;
