//! Scheduler scenarios in the seed's words, capacity and status, and a property test of random pushes,
//! picks, stake changes, `dispatch` and `complete` against a model of what weighted round-robin promises.

mod model;

use expect_test::{expect, Expect};
use sched::{QueueStatus, SchedError, Scheduler, STAKE_MAX};
use types::AccountId;

fn id(n: u8) -> AccountId {
    AccountId([n; 32])
}

/// The letter of a test client: client `b'A'` is `AccountId([b'A'; 32])`.
fn letter(client: &AccountId) -> char {
    char::from(client.0[0])
}

/// Queues `count` requests named `A1`, `A2`, … for each `(letter, stake, count)`, client by client.
fn queue(script: &[(char, u128, usize)]) -> Scheduler<String> {
    let mut s = Scheduler::new(1);
    for &(name, stake, count) in script {
        for i in 1..=count {
            s.push(id(name as u8), stake, format!("{name}{i}")).expect("push");
        }
    }
    s.check_invariants().expect("invariants");
    s
}

/// Picks until `rounds` more rounds are complete (or nothing is left): the requests served in each round.
fn serve_rounds(s: &mut Scheduler<String>, rounds: u64) -> Vec<Vec<String>> {
    let start = s.round();
    let mut served: Vec<Vec<String>> = Vec::new();
    while s.round() < start + rounds {
        let round = (s.round() - start) as usize;
        let Some((client, request)) = s.pick() else { break };
        assert!(request.starts_with(letter(&client)), "{request} served as {client:?}");
        served.resize(round + 1, Vec::new());
        served[round].push(request);
        s.check_invariants().expect("invariants");
    }
    served
}

fn render(served: &[Vec<String>]) -> String {
    served.iter().enumerate().map(|(r, requests)| format!("round {}: {}\n", r + 1, requests.join(" "))).collect()
}

/// How many requests of each client (by letter) one round served.
fn counts(round: &[String], letters: &str) -> Vec<usize> {
    letters.chars().map(|l| round.iter().filter(|r| r.starts_with(l)).count()).collect()
}

fn check(script: &[(char, u128, usize)], expected: Expect) -> Vec<Vec<String>> {
    let mut s = queue(script);
    let served = serve_rounds(&mut s, u64::MAX);
    expected.assert_eq(&render(&served));
    assert_eq!((s.backlog(), s.backlogged_clients()), (0, 0));
    served
}

#[test]
fn stakes_100_200_400_are_served_1_2_4_per_round_until_all_requests_are_processed() {
    // "The weight of each client in the queue is calculated based on the tokens they have staked, compared
    // to the client with the least staked tokens": A (100) weighs 1, B (200) 2, C (400) 4.
    let served = check(
        &[('A', 100, 7), ('B', 200, 7), ('C', 400, 7)],
        expect![[r#"
            round 1: A1 B1 B2 C1 C2 C3 C4
            round 2: A2 B3 B4 C5 C6 C7
            round 3: A3 B5 B6
            round 4: A4 B7
            round 5: A5
            round 6: A6
            round 7: A7
        "#]],
    );
    assert_eq!(counts(&served[0], "ABC"), [1, 2, 4]);
    // C runs out in round 2 and B in round 4; the minimum (A) never changes, so the weights do not either.
    assert_eq!(counts(&served[1], "ABC"), [1, 2, 3]);
    assert_eq!(counts(&served[2], "ABC"), [1, 2, 0]);
    assert_eq!(served.len(), 7);
}

#[test]
fn fractional_weight_150_to_100_gives_3_to_2_every_two_rounds_without_drift() {
    let mut s = queue(&[('A', 150, 1_000), ('B', 100, 1_000)]);
    let served = serve_rounds(&mut s, 200);
    assert_eq!(served.len(), 200);
    for (r, round) in served.iter().enumerate() {
        // The half request A earns each round is carried, so A alternates 1, 2, 1, 2 …
        assert_eq!(counts(round, "AB"), [1 + r % 2, 1], "round {}", r + 1);
    }
    for pair in served.chunks(2) {
        assert_eq!(counts(&pair.concat(), "AB"), [3, 2]);
    }
    let total = counts(&served.concat(), "AB");
    assert_eq!(total, [300, 200], "neither 2:1 nor 1:1 after 200 rounds");
}

#[test]
fn after_the_minimum_stake_client_leaves_the_others_are_weighed_against_the_new_minimum() {
    let served = check(
        &[('A', 100, 2), ('B', 200, 8), ('C', 300, 12)],
        expect![[r#"
            round 1: A1 B1 B2 C1 C2 C3
            round 2: A2 B3 C4
            round 3: B4 C5 C6
            round 4: B5 C7
            round 5: B6 C8 C9
            round 6: B7 C10
            round 7: B8 C11
            round 8: C12
        "#]],
    );
    // Against A (100) B weighs 2 and C 3. A leaves at its turn in round 2, before B's and C's turns, so
    // from then on they are weighed against B (200): B 1 and C 1.5, that is 2:3 every two rounds.
    assert_eq!(counts(&served[0], "ABC"), [1, 2, 3]);
    assert_eq!(counts(&served[1], "ABC"), [1, 1, 1]);
    assert_eq!(counts(&served[2..4].concat(), "BC"), [2, 3]);
    assert_eq!(counts(&served[4..6].concat(), "BC"), [2, 3]);
}

#[test]
fn a_client_joining_between_rounds_takes_part_in_the_next_and_lowers_the_unit() {
    let mut s = queue(&[('B', 200, 20), ('C', 300, 20)]);
    let first = serve_rounds(&mut s, 2);
    assert_eq!(counts(&first.concat(), "BC"), [2, 3]);
    for i in 1..=20 {
        s.push(id(b'D'), 100, format!("D{i}")).expect("push");
    }
    assert_eq!(s.stake_min(), Some(100));
    let served = serve_rounds(&mut s, 2);
    expect![[r#"
        round 1: B3 B4 C4 C5 C6 D1
        round 2: B5 B6 C7 C8 C9 D2
    "#]]
    .assert_eq(&render(&served));
}

#[test]
fn a_stake_change_reweighs_a_queued_client_and_is_refused_for_an_idle_one() {
    let mut s = queue(&[('A', 100, 20), ('B', 100, 20)]);
    assert_eq!(counts(&serve_rounds(&mut s, 1).concat(), "AB"), [1, 1]);
    s.set_stake(id(b'B'), 300).expect("B is queued");
    assert_eq!(s.stake(&id(b'B')), Some(300));
    assert_eq!(counts(&serve_rounds(&mut s, 2).concat(), "AB"), [2, 6]);
    // A push with another stake re-weighs as well.
    s.push(id(b'A'), 600, "A21".to_string()).expect("push");
    assert_eq!(counts(&serve_rounds(&mut s, 2).concat(), "AB"), [4, 2]);

    let err = s.set_stake(id(b'Z'), 5).expect_err("Z has nothing queued");
    assert_eq!((err.code(), err), ("not_queued", SchedError::NotQueued(id(b'Z'))));
    s.check_invariants().expect("invariants");
}

#[test]
fn zero_and_oversized_stakes_are_refused_and_change_nothing() {
    let mut s = queue(&[('A', 100, 2)]);
    let err = s.push(id(b'B'), 0, "B1".into()).expect_err("zero stake");
    assert_eq!((err.code(), &err), ("zero_stake", &SchedError::ZeroStake));
    assert_eq!(s.set_stake(id(b'A'), 0).expect_err("zero stake").code(), "zero_stake");
    let err = s.push(id(b'A'), STAKE_MAX + 1, "A3".into()).expect_err("too large");
    assert_eq!(err.code(), "stake_too_large");
    assert_eq!((s.backlog(), s.backlogged_clients(), s.stake(&id(b'A'))), (2, 1, Some(100)));
    // The largest stake allowed does not overflow the credit, even against a minimum of 1.
    s.push(id(b'B'), STAKE_MAX, "B1".into()).expect("push");
    s.push(id(b'C'), 1, "C1".into()).expect("push");
    let order: Vec<String> = std::iter::from_fn(|| s.pick().map(|(_, r)| r)).collect();
    assert_eq!(order, ["A1", "A2", "B1", "C1"]);
}

#[test]
fn capacity_two_turns_busy_when_full_and_ready_only_once_the_queue_is_drained() {
    let mut s: Scheduler<u32> = Scheduler::new(2);
    assert_eq!((s.status(), s.take_status_change()), (QueueStatus::Ready, None));
    for i in 0..5 {
        s.push(id(b'A'), 10, i).expect("push");
    }
    assert_eq!(s.take_status_change(), None, "queueing alone does not make the miner busy");
    assert_eq!(s.dispatch().map(|(_, r)| r), Some(0));
    assert_eq!((s.status(), s.take_status_change()), (QueueStatus::Ready, None));
    assert_eq!(s.dispatch().map(|(_, r)| r), Some(1));
    assert_eq!((s.status(), s.take_status_change()), (QueueStatus::Busy, Some(QueueStatus::Busy)));
    assert_eq!(s.dispatch(), None, "full");
    assert_eq!((s.in_flight(), s.backlog()), (2, 3));

    // Working through the backlog: a free slot alone does not make the miner ready.
    let mut taken = Vec::new();
    while s.backlog() > 0 {
        s.complete();
        assert_eq!((s.status(), s.take_status_change()), (QueueStatus::Busy, None));
        taken.push(s.dispatch().map(|(_, r)| r).expect("a slot is free and requests are queued"));
        assert_eq!(s.take_status_change(), None);
    }
    assert_eq!(taken, [2, 3, 4]);
    assert_eq!(s.status(), QueueStatus::Busy, "the queue is empty but both slots are taken");
    s.complete();
    assert_eq!((s.status(), s.take_status_change()), (QueueStatus::Ready, Some(QueueStatus::Ready)));
    s.complete();
    assert_eq!((s.status(), s.take_status_change(), s.in_flight()), (QueueStatus::Ready, None, 0));
}

#[test]
fn a_status_that_changes_and_changes_back_is_not_published() {
    let mut s: Scheduler<u32> = Scheduler::new(1);
    s.push(id(b'A'), 1, 0).expect("push");
    assert!(s.dispatch().is_some());
    assert_eq!(s.status(), QueueStatus::Busy);
    s.complete();
    assert_eq!(s.status(), QueueStatus::Ready);
    assert_eq!(s.take_status_change(), None, "the miner published Ready and is Ready");
}

#[test]
#[should_panic(expected = "capacity of at least one")]
fn capacity_zero_is_a_bug() {
    let _ = Scheduler::<u32>::new(0);
}
