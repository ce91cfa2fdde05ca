//! Unit tests of the report rows over recorded events: no process, no node.

use super::*;
use types::{Hash, Height};

fn account(n: u8) -> AccountId {
    AccountId([n; 32])
}

fn names() -> Names {
    let list = [(1, "c1"), (2, "c2"), (3, "c3"), (7, "m7-busy"), (5, "m5-lazy"), (4, "m4"), (8, "r1")];
    Names(list.iter().map(|(n, s)| (account(*n), s.to_string())).collect())
}

const STAKES: [(&str, u128); 3] = [("c1", 10), ("c2", 30), ("c3", 60)];

fn submitted(request: u64, client: u8) -> Event {
    Event::RequestSubmitted {
        request,
        client: account(client),
        service: 2,
        miner: account(7),
        price: Amount(1),
        expires_at: Height(1_000),
    }
}

fn completed(request: u64) -> Event {
    Event::RequestCompleted { request, miner: account(7), result_hash: Hash([0; 32]), paid: Amount(1), fee: Amount(0) }
}

/// The busy miner's queue as recorded in a demo run: 12 requests from each client in one block, served by
/// stake (c3's six-request turns, c2's three, c1's one; c3 joined the ring first).
fn busy_period() -> Vec<Event> {
    let mut events: Vec<Event> = (0..36).map(|i| submitted(i, 1 + (i / 12) as u8)).collect();
    let order: [(u8, u64); 10] = [(3, 6), (2, 3), (1, 1), (3, 6), (2, 3), (1, 1), (2, 3), (1, 1), (2, 3), (1, 9)];
    let mut next: BTreeMap<u8, u64> = [(1, 0), (2, 12), (3, 24)].into_iter().collect();
    for (client, n) in order {
        let first = next[&client];
        events.extend((first..first + n).map(completed));
        next.insert(client, first + n);
    }
    events
}

#[test]
fn the_busy_miners_queue_ranks_the_clients_by_stake() {
    let q = queue_finding(&busy_period(), &names(), "m7-busy", &STAKES);
    assert!(q.stake_priority_visible, "{q:?}");
    assert_eq!(q.periods.len(), 1);
    let p = &q.periods[0];
    assert_eq!((p.requests, p.contended), (36, 16), "up to c3's last request, at index 15");
    let by_name: Vec<(&str, u64, f64)> =
        p.clients.iter().map(|c| (c.name.as_str(), c.served, c.contended_share_pct)).collect();
    assert_eq!(by_name, [("c1", 12, 100.0 / 16.0), ("c2", 12, 300.0 / 16.0), ("c3", 12, 1200.0 / 16.0)]);
    let position = |n: &str| p.clients.iter().find(|c| c.name == n).expect("client").mean_queue_position;
    assert!(position("c3") < position("c2") && position("c2") < position("c1"), "{p:?}");
    assert!((position("c3") - 7.5 / 35.0).abs() < 1e-9);
}

#[test]
fn a_queue_that_ignores_stake_is_reported_as_such() {
    let mut events: Vec<Event> = (0..36).map(|i| submitted(i, 1 + (i / 12) as u8)).collect();
    events.extend((0..36).map(completed));
    let q = queue_finding(&events, &names(), "m7-busy", &STAKES);
    assert!(!q.stake_priority_visible, "first come, first served: c1 ahead of c3: {q:?}");
    assert!(!queue_finding(&[], &names(), "m7-busy", &STAKES).stake_priority_visible, "no period shows nothing");
}

#[test]
fn points_are_summed_over_epochs_and_the_dishonest_miner_is_counted() {
    let points = |epoch: u64, node: u8, earned: u128, deducted: u128| Event::PointsRewarded {
        epoch,
        node: account(node),
        earned,
        deducted,
        amount: Amount(10 * u128::from(epoch)),
        weight: earned - deducted,
        total_weight: earned,
        pool: Amount(100),
    };
    let events = vec![
        points(1, 4, 300, 100),
        points(2, 4, 50, 0),
        Event::TaskEnded {
            task: 1,
            passed: vec![account(4)],
            failed: vec![account(5)],
            scores: vec![],
            paid: Amount(3),
        },
        Event::TaskFailed { task: 2, reason: "deadline".into(), culprits: vec![], team: vec![], realtime: false },
        Event::MinerRewarded {
            epoch: 1,
            miner: account(4),
            amount: Amount(7),
            score: 1,
            reputation: types::Ppb::ONE,
            volume: 1,
            work: vec![],
            pot: Amount(7),
            total_score: 1,
        },
    ];
    let t = tally(&events, &names(), "m5-lazy");
    assert_eq!((t.tasks.ended, t.tasks.failed, t.caught, t.passed), (1, 1, 1, 0));
    assert_eq!(t.rewards["m4"], (7, 30, 250), "miner rewards, points rewards and net points over two epochs");
    assert_eq!(t.tasks.failure_reasons["deadline"], 1);
}

#[test]
fn the_routers_row_is_its_busiest_epoch_with_its_pay_over_the_run() {
    let reward = |epoch: u64, bandwidth: u128, amount: u128| Event::RouterRewarded {
        epoch,
        router: account(8),
        bandwidth,
        latency_factor: Ppb::ZERO,
        reputation: Ppb::ZERO,
        owed: Amount(amount),
        amount: Amount(amount),
    };
    let t = tally(&[reward(1, 500, 5), reward(2, 9_000, 90), reward(3, 0, 0)], &names(), "m5-lazy");
    let r = t.router.expect("router row");
    assert_eq!((r.router.as_str(), r.epoch, r.bandwidth, r.owed, r.amount), ("r1", 2, 9_000, Amount(90), Amount(95)));
}

#[test]
fn client_rows_and_job_movements_read_names_and_outputs() {
    let outputs: BTreeMap<String, ClientReport> = [(
        "c3".to_string(),
        ClientReport { requests: 12, rated_good: 12, mean_wait_blocks: 4.5, ..ClientReport::default() },
    )]
    .into_iter()
    .collect();
    let rows = client_rows(&STAKES, &outputs);
    assert_eq!(rows.iter().map(|r| r.stake_share_pct).collect::<Vec<_>>(), [10.0, 30.0, 60.0]);
    assert_eq!((rows[2].requests, rows[2].rated_good, rows[0].requests), (12, 12, 0));
    let job: JobId = "5e5e0000-0000-4000-8000-00000000de00".parse().expect("job id");
    let events = vec![
        Event::RewardDistributed { job, payouts: vec![(account(1), Amount(1_000_000_000))] },
        Event::Refund { job, refunds: vec![(account(2), Amount(500_000_000))] },
    ];
    assert_eq!(job_movements(&events, &job, &names()), ["reward_distributed: c1 1 SWK", "refund: c2 0.5 SWK"]);
}

fn validators(finalized_while_down: u64, catch_up_ms: Option<u64>, roots: [u8; 4]) -> ValidatorsReport {
    let finals = roots
        .iter()
        .enumerate()
        .map(|(i, r)| ValidatorFinal {
            name: format!("v{i}"),
            root_served: Hash([1; 32]),
            replayed_height: 100,
            replayed_root: Some(Hash([*r; 32])),
        })
        .collect();
    ValidatorsReport {
        count: 4,
        crash: CrashRow {
            validator: "v1".into(),
            killed_at: 40,
            restarted_at: 40 + finalized_while_down,
            finalized_while_down,
            down_ms: 3_000,
            catch_up_ms,
            caught_up_at: catch_up_ms.map(|_| 80),
            catch_up_bound_ms: 30_000,
            agents_failed_over: vec!["r1".into()],
        },
        common_height: 90,
        finals,
        stopped_cleanly: true,
    }
}

#[test]
fn the_validators_fail_the_demo_when_finality_stopped_one_lagged_or_they_disagree() {
    assert!(validators(30, Some(800), [1; 4]).failed_checks().is_empty());
    assert_eq!(validators(0, Some(800), [1; 4]).failed_checks(), ["finality while a validator was down"]);
    assert_eq!(validators(30, None, [1; 4]).failed_checks(), ["the restarted validator caught up"]);
    assert_eq!(validators(30, Some(800), [1, 1, 2, 1]).failed_checks(), ["the validators agree on the state root"]);
    let mut none = validators(30, Some(800), [1; 4]);
    none.finals.clear();
    assert!(!none.agree(), "no validator is no agreement");
}
