//! The typed rows one event gives: a pure function of the event, so that what lands in each typed table is
//! tested without a database.
//!
//! - payouts: money paid for work: `miner` (MinerRewarded), `points` (PointsRewarded), `router`
//!   (RouterRewarded), `job` (each payout of RewardDistributed), `request` (RequestCompleted's payment),
//!   `validator` (ValidatorRewarded: a block's reward to its proposer's stash, no epoch);
//! - fines: `job_<fault>` for each offender of a job settled by a report (the deposit's amount is not in the
//!   event: NULL), `job_cancelled` (the share of StakeIn the QC lost), `mpc_replaced` (the replaced MPC's
//!   deposit), and `task_<reason>` for each culprit of a failed task (a fine in points, no money: NULL);
//! - refunds: `job` (each refund of Refund), `request` (RequestExpired), `hold_voided`, `hold_expired`;
//! - slashes: RouterSlashed (`offence` = `router_connectivity`);
//! - points: PointsRewarded (earned, deducted, and the amount they paid);
//! - ratings: RequestRated;
//! - task_results: one row per miner judged by a task: passed or failed (TaskEnded), or a culprit of a
//!   failed task (TaskFailed), for failure rates.

use protocol::{Event, JobOutcome};
use types::{AccountId, Amount};

/// A payment for work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payout {
    pub kind: &'static str,
    pub epoch: Option<u64>,
    pub account: String,
    pub amount: String,
    pub job: Option<String>,
    pub request: Option<u64>,
}

/// Money (or points) taken for a fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fine {
    pub reason: String,
    pub account: Option<String>,
    pub amount: Option<String>,
    pub job: Option<String>,
    pub task: Option<u64>,
}

/// Money returned to who put it in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refund {
    pub kind: &'static str,
    pub account: String,
    pub amount: String,
    pub job: Option<String>,
    pub request: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slash {
    pub epoch: u64,
    pub account: String,
    pub offence: &'static str,
    pub amount: String,
    pub connectivity_ppb: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Points {
    pub epoch: u64,
    pub node: String,
    pub earned: String,
    pub deducted: String,
    pub amount: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RatingRow {
    pub request: u64,
    pub miner: String,
    pub rating: String,
    pub reputation_ppb: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskResult {
    pub task: u64,
    pub miner: String,
    pub passed: bool,
    pub reason: Option<String>,
    pub score_ppb: Option<i64>,
}

/// Every typed row of one event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rows {
    pub payouts: Vec<Payout>,
    pub fines: Vec<Fine>,
    pub refunds: Vec<Refund>,
    pub slashes: Vec<Slash>,
    pub points: Vec<Points>,
    pub ratings: Vec<RatingRow>,
    pub task_results: Vec<TaskResult>,
}

/// The event's name as the API tags it (`miner_rewarded`).
pub fn kind(event: &Event) -> String {
    match serde_json::to_value(event) {
        Ok(v) => v["event"].as_str().unwrap_or("unknown").to_string(),
        Err(_) => "unknown".to_string(),
    }
}

/// A serde name as text (`no_heartbeat`).
fn wire<T: serde::Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => "unknown".to_string(),
    }
}

fn pay(kind: &'static str, epoch: Option<u64>, account: &AccountId, amount: Amount) -> Payout {
    Payout { kind, epoch, account: account.to_string(), amount: amount.to_string(), job: None, request: None }
}

fn fine(reason: String, account: Option<&AccountId>, amount: Option<Amount>) -> Fine {
    Fine {
        reason,
        account: account.map(ToString::to_string),
        amount: amount.map(|a| a.to_string()),
        job: None,
        task: None,
    }
}

fn refund(kind: &'static str, account: &AccountId, amount: Amount) -> Refund {
    Refund { kind, account: account.to_string(), amount: amount.to_string(), job: None, request: None }
}

/// The typed rows of `event`; an event of no typed kind gives none (it is still in `events`).
pub fn rows(event: &Event) -> Rows {
    let mut r = Rows::default();
    match event {
        Event::MinerRewarded { epoch, miner, amount, .. } => r.payouts.push(pay("miner", Some(*epoch), miner, *amount)),
        Event::PointsRewarded { epoch, node, earned, deducted, amount, .. } => {
            r.payouts.push(pay("points", Some(*epoch), node, *amount));
            r.points.push(Points {
                epoch: *epoch,
                node: node.to_string(),
                earned: earned.to_string(),
                deducted: deducted.to_string(),
                amount: amount.to_string(),
            });
        }
        Event::RouterRewarded { epoch, router, amount, .. } => {
            r.payouts.push(pay("router", Some(*epoch), router, *amount))
        }
        Event::ValidatorRewarded { account, amount, .. } => r.payouts.push(pay("validator", None, account, *amount)),
        Event::RewardDistributed { job, payouts } => {
            for (account, amount) in payouts {
                r.payouts.push(Payout { job: Some(job.to_string()), ..pay("job", None, account, *amount) });
            }
        }
        Event::RequestCompleted { request, miner, paid, .. } => {
            r.payouts.push(Payout { request: Some(*request), ..pay("request", None, miner, *paid) })
        }
        Event::Refund { job, refunds } => {
            for (account, amount) in refunds {
                r.refunds.push(Refund { job: Some(job.to_string()), ..refund("job", account, *amount) });
            }
        }
        Event::RequestExpired { request, client, refunded, .. } => {
            r.refunds.push(Refund { request: Some(*request), ..refund("request", client, *refunded) })
        }
        Event::HoldVoided { payer, amount, .. } => r.refunds.push(refund("hold_voided", payer, *amount)),
        Event::HoldExpired { payer, amount, .. } => r.refunds.push(refund("hold_expired", payer, *amount)),
        Event::RouterSlashed { epoch, router, connectivity, amount } => r.slashes.push(Slash {
            epoch: *epoch,
            account: router.to_string(),
            offence: "router_connectivity",
            amount: amount.to_string(),
            connectivity_ppb: i64::from(u32::from(*connectivity)),
        }),
        Event::RequestRated { request, miner, rating, reputation } => r.ratings.push(RatingRow {
            request: *request,
            miner: miner.to_string(),
            rating: wire(rating),
            reputation_ppb: i64::from(u32::from(*reputation)),
        }),
        _ => judged(event, &mut r),
    }
    r
}

/// The rows of the events that judge work: fines and task results.
fn judged(event: &Event, r: &mut Rows) {
    match event {
        Event::JobSettled { job, outcome } => {
            r.fines.extend(job_fines(outcome).into_iter().map(|f| Fine { job: Some(job.to_string()), ..f }))
        }
        Event::MpcReplaced { job, old, .. } => {
            r.fines.push(Fine { job: Some(job.to_string()), ..fine("mpc_replaced".into(), Some(old), None) })
        }
        Event::TaskEnded { task, passed, failed, scores, .. } => {
            let score = |m: &AccountId| scores.iter().find(|(a, _)| a == m).map(|(_, s)| *s);
            for (list, ok) in [(passed, true), (failed, false)] {
                for m in list {
                    r.task_results.push(TaskResult {
                        task: *task,
                        miner: m.to_string(),
                        passed: ok,
                        reason: (!ok).then(|| "poi_failed".to_string()),
                        score_ppb: score(m),
                    });
                }
            }
        }
        Event::TaskFailed { task, reason, culprits, .. } => {
            for m in culprits {
                r.fines.push(Fine { task: Some(*task), ..fine(format!("task_{reason}"), Some(m), None) });
                r.task_results.push(TaskResult {
                    task: *task,
                    miner: m.to_string(),
                    passed: false,
                    reason: Some(reason.clone()),
                    score_ppb: None,
                });
            }
        }
        _ => {}
    }
}

/// The fines a job's settlement states.
fn job_fines(outcome: &JobOutcome) -> Vec<Fine> {
    match outcome {
        JobOutcome::Reported { fault, offenders } => {
            offenders.iter().map(|o| fine(format!("job_{}", wire(fault)), Some(o), None)).collect()
        }
        JobOutcome::Expired { offenders } => {
            offenders.iter().map(|o| fine("job_expired".into(), Some(o), None)).collect()
        }
        JobOutcome::Cancelled { fined, .. } => vec![fine("job_cancelled".into(), None, Some(*fined))],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::{JobFault, Rating};
    use types::{JobId, Ppb};

    fn a(n: u8) -> AccountId {
        AccountId([n; 32])
    }

    #[test]
    fn a_job_reward_gives_one_payout_per_recipient_with_the_job() {
        let job = JobId([7; 16]);
        let r = rows(&Event::RewardDistributed { job, payouts: vec![(a(1), Amount(5)), (a(2), Amount(6))] });
        assert_eq!(r.payouts.len(), 2);
        assert_eq!((r.payouts[1].kind, r.payouts[1].amount.as_str()), ("job", "6"));
        assert_eq!(r.payouts[0].job.as_deref(), Some(job.to_string().as_str()));
        assert_eq!(r.payouts[0].account, a(1).to_hex());
    }

    #[test]
    fn points_are_a_payout_and_a_points_row() {
        let r = rows(&Event::PointsRewarded {
            epoch: 3,
            node: a(1),
            earned: 1 << 70,
            deducted: 4,
            amount: Amount(9),
            weight: 1,
            total_weight: 2,
            pool: Amount(18),
        });
        assert_eq!(r.payouts[0].epoch, Some(3));
        assert_eq!(r.points[0].earned, (1u128 << 70).to_string(), "above 2^64: kept exact as text/numeric");
    }

    #[test]
    fn faults_become_fines_and_failed_results() {
        let r = rows(&Event::TaskFailed {
            task: 4,
            reason: "deadline".into(),
            culprits: vec![a(3)],
            team: vec![a(3), a(4)],
            realtime: false,
        });
        assert_eq!((r.fines[0].reason.as_str(), r.fines[0].task), ("task_deadline", Some(4)));
        assert!(!r.task_results[0].passed);
        let r = rows(&Event::JobSettled {
            job: JobId([1; 16]),
            outcome: JobOutcome::Reported { fault: JobFault::NoHeartbeat, offenders: vec![a(1), a(2)] },
        });
        assert_eq!(r.fines.len(), 2);
        assert_eq!(r.fines[0].reason, "job_no_heartbeat");
        let r = rows(&Event::TaskEnded {
            task: 1,
            passed: vec![a(1)],
            failed: vec![a(2)],
            scores: vec![(a(1), 900), (a(2), -5)],
            paid: Amount(1),
        });
        assert_eq!(
            r.task_results.iter().map(|t| (t.passed, t.score_ppb)).collect::<Vec<_>>(),
            [(true, Some(900)), (false, Some(-5))]
        );
    }

    #[test]
    fn refunds_slashes_and_ratings() {
        let r = rows(&Event::RequestExpired {
            request: 2,
            client: a(1),
            miner: a(2),
            refunded: Amount(3),
            reputation: Ppb::ZERO,
        });
        assert_eq!((r.refunds[0].kind, r.refunds[0].request), ("request", Some(2)));
        let v = rows(&Event::ValidatorRewarded { key: a(2), account: a(3), amount: Amount(5) });
        assert_eq!(v.payouts, vec![pay("validator", None, &a(3), Amount(5))]);
        let r = rows(&Event::RouterSlashed { epoch: 1, router: a(1), connectivity: Ppb::ZERO, amount: Amount(8) });
        assert_eq!(r.slashes[0].amount, "8");
        let r = rows(&Event::RequestRated { request: 1, miner: a(2), rating: Rating::Good, reputation: Ppb::ZERO });
        assert_eq!(r.ratings[0].rating, "good");
        assert_eq!(kind(&Event::EpochEnded { epoch: 1, height: types::Height(4) }), "epoch_ended");
        assert_eq!(rows(&Event::EpochEnded { epoch: 1, height: types::Height(4) }), Rows::default());
    }
}
