//! Property test: random clients and stakes, pushes (clients joining late and leaving when served out),
//! picks, stake changes, `dispatch` and `complete`, checked against what weighted round-robin promises: FIFO per
//! client, no client served twice while another waits, turns no longer than the stake pays for, every
//! client's share within one request of stake ÷ minimum per round (against the new minimum once the
//! minimum-stake client has left), the ready/busy status, conservation and determinism.

use proptest::prelude::*;
use sched::{QueueStatus, SchedError, Scheduler};
use std::collections::BTreeSet;
use types::AccountId;

/// Stakes are drawn below this.
const STAKE_TOP: u128 = 1000;

#[derive(Debug, Clone)]
enum Op {
    /// `count` requests from `client`, at a new stake when `stake` is set.
    Push {
        client: usize,
        count: usize,
        stake: Option<u128>,
    },
    SetStake {
        client: usize,
        stake: u128,
    },
    Pick {
        count: usize,
    },
    Dispatch,
    Complete,
}

#[derive(Debug, Clone)]
struct Case {
    capacity: u32,
    stakes: Vec<u128>,
    ops: Vec<Op>,
}

fn op(clients: usize) -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..clients, 1..6usize, proptest::option::weighted(0.2, 1..STAKE_TOP))
            .prop_map(|(client, count, stake)| Op::Push { client, count, stake }),
        1 => (0..clients, 1..STAKE_TOP).prop_map(|(client, stake)| Op::SetStake { client, stake }),
        3 => (1..12usize).prop_map(|count| Op::Pick { count }),
        1 => Just(Op::Dispatch),
        1 => Just(Op::Complete),
    ]
}

fn case() -> impl Strategy<Value = Case> {
    (2..=8usize)
        .prop_flat_map(|clients| {
            (1..4u32, proptest::collection::vec(1..STAKE_TOP, clients), proptest::collection::vec(op(clients), 0..150))
        })
        .prop_map(|(capacity, stakes, ops)| Case { capacity, stakes, ops })
}

/// One maximal stretch of consecutive picks of the same client, with what bounds its length.
#[derive(Debug)]
struct Run {
    client: usize,
    len: u128,
    stake_max: u128,
    min_max: u128,
    min_low: u128,
    /// The client was the only one queued at some point: its turns may then follow each other.
    alone: bool,
}

struct Harness {
    s: Scheduler<(usize, u64)>,
    capacity: u32,
    ids: Vec<AccountId>,
    /// The stake each client pushes with (while it is queued, the stake the scheduler knows).
    stakes: Vec<u128>,
    queued: Vec<usize>,
    pushed: Vec<u64>,
    served: Vec<u64>,
    /// Clients in the order they were served.
    log: Vec<usize>,
    /// For each queued client, the clients that began a run since it was last served or joined.
    overtaken_by: Vec<BTreeSet<usize>>,
    run: Option<Run>,
    in_flight: u32,
    status: QueueStatus,
    published: QueueStatus,
}

impl Harness {
    fn new(case: &Case) -> Harness {
        let n = case.stakes.len();
        Harness {
            s: Scheduler::new(case.capacity),
            capacity: case.capacity,
            ids: (0..n).map(|c| AccountId([c as u8 + 1; 32])).collect(),
            stakes: case.stakes.clone(),
            queued: vec![0; n],
            pushed: vec![0; n],
            served: vec![0; n],
            log: Vec::new(),
            overtaken_by: vec![BTreeSet::new(); n],
            run: None,
            in_flight: 0,
            status: QueueStatus::Ready,
            published: QueueStatus::Ready,
        }
    }

    fn backlogged(&self) -> Vec<usize> {
        (0..self.queued.len()).filter(|&c| self.queued[c] > 0).collect()
    }

    fn stake_min(&self) -> Option<u128> {
        self.backlogged().into_iter().map(|c| self.stakes[c]).min()
    }

    fn apply(&mut self, op: &Op) {
        match *op {
            Op::Push { client, count, stake } => {
                if let Some(stake) = stake {
                    self.stakes[client] = stake;
                }
                for _ in 0..count {
                    self.push(client);
                }
            }
            Op::SetStake { client, stake } => match self.s.set_stake(self.ids[client], stake) {
                Ok(()) => {
                    assert!(self.queued[client] > 0, "set_stake accepted for an idle client");
                    self.stakes[client] = stake;
                }
                Err(err) => {
                    assert_eq!(err, SchedError::NotQueued(self.ids[client]));
                    assert_eq!(self.queued[client], 0, "set_stake refused for a queued client");
                }
            },
            Op::Pick { count } => (0..count).for_each(|_| self.pick(false)),
            Op::Dispatch => self.pick(true),
            Op::Complete => {
                if self.in_flight > 0 {
                    self.s.complete();
                    self.in_flight -= 1;
                }
            }
        }
        self.check_status();
        self.check_state();
    }

    fn push(&mut self, c: usize) {
        self.s.push(self.ids[c], self.stakes[c], (c, self.pushed[c])).expect("a positive stake is accepted");
        if self.queued[c] == 0 {
            self.overtaken_by[c].clear();
        }
        self.pushed[c] += 1;
        self.queued[c] += 1;
    }

    /// One `pick` (or `dispatch`), checked for FIFO, overtaking and turn length.
    fn pick(&mut self, dispatch: bool) {
        let backlogged_before = self.backlogged().len();
        let stake_min = self.stake_min();
        assert_eq!(self.s.stake_min(), stake_min);
        let got = if dispatch { self.s.dispatch() } else { self.s.pick() };
        let expected = backlogged_before > 0 && (!dispatch || self.in_flight < self.capacity);
        assert_eq!(got.is_some(), expected, "pick (dispatch: {dispatch}) with {backlogged_before} clients queued");
        let Some((id, (c, seq))) = got else { return };
        let stake_min = stake_min.expect("something was queued");
        assert_eq!(id, self.ids[c]);
        assert_eq!(seq, self.served[c], "client {c}'s requests are served in the order they were pushed");
        self.served[c] += 1;
        if dispatch {
            self.in_flight += 1;
        }

        let new_run = self.run.as_ref().is_none_or(|run| run.client != c);
        if new_run {
            self.finish_run();
            self.run = Some(Run {
                client: c,
                len: 0,
                stake_max: self.stakes[c],
                min_max: stake_min,
                min_low: stake_min,
                alone: false,
            });
            for x in self.backlogged() {
                if x != c {
                    assert!(self.overtaken_by[x].insert(c), "client {c} served twice while client {x} waited");
                }
            }
        }
        self.overtaken_by[c].clear();
        self.queued[c] -= 1;
        self.log.push(c);
        let backlogged_after = self.backlogged().len();
        let run = self.run.as_mut().expect("a run was started");
        run.len += 1;
        run.stake_max = run.stake_max.max(self.stakes[c]);
        run.min_max = run.min_max.max(stake_min);
        run.min_low = run.min_low.min(stake_min);
        run.alone |= backlogged_before == 1 || (self.queued[c] > 0 && backlogged_after == 1);
    }

    /// A turn starts with credit below `min + stake` and each request costs at least the lowest minimum.
    fn finish_run(&mut self) {
        if let Some(run) = self.run.take() {
            if !run.alone {
                let bound = (run.min_max - 1 + run.stake_max) / run.min_low;
                assert!(run.len <= bound, "a turn served {} requests, more than its credit pays for: {run:?}", run.len);
            }
        }
    }

    fn check_status(&mut self) {
        if self.in_flight >= self.capacity {
            self.status = QueueStatus::Busy;
        } else if self.queued.iter().all(|&q| q == 0) {
            self.status = QueueStatus::Ready;
        }
        assert_eq!(self.s.status(), self.status);
        let change = (self.status != self.published).then_some(self.status);
        self.published = self.status;
        assert_eq!(self.s.take_status_change(), change);
    }

    fn check_state(&self) {
        self.s.check_invariants().expect("scheduler invariants");
        assert_eq!(self.s.backlog(), self.queued.iter().sum::<usize>());
        assert_eq!(self.s.backlogged_clients(), self.backlogged().len());
        assert_eq!(self.s.in_flight(), self.in_flight);
        for c in 0..self.ids.len() {
            assert_eq!(self.s.queued(&self.ids[c]), self.queued[c]);
            assert_eq!(self.s.stake(&self.ids[c]), (self.queued[c] > 0).then_some(self.stakes[c]));
        }
    }

    /// With the queued clients and their stakes fixed, `rounds` whole rounds serve each client
    /// `rounds × stake ÷ min` requests to within one, and no client waits longer than one turn of each other.
    fn check_whole_rounds(&mut self, rounds: u64) {
        let Some(min) = self.stake_min() else { return };
        let members = self.backlogged();
        let weight_ceil = |stake: u128| stake.div_ceil(min) as usize;
        for &c in &members {
            // Enough for the rest of the current round (a turn begun under a larger minimum or stake may
            // serve up to 2 × 1000 ÷ min) and the whole rounds, so nobody leaves.
            let need = (2 * STAKE_TOP / min) as usize + 2 + rounds as usize * weight_ceil(self.stakes[c]);
            while self.queued[c] < need {
                self.push(c);
            }
        }
        let start = self.s.round();
        while self.s.round() == start {
            self.pick(false);
        }
        let from = self.log.len();
        while self.s.round() < start + 1 + rounds {
            self.pick(false);
        }
        assert_eq!(self.backlogged(), members, "every client stayed queued");
        let window = &self.log[from..];
        let round_ceil: usize = members.iter().map(|&c| weight_ceil(self.stakes[c])).sum();
        for &c in &members {
            let served = window.iter().filter(|&&x| x == c).count() as u128;
            let entitled = u128::from(rounds) * self.stakes[c];
            assert!(
                served * min + min > entitled && served * min < entitled + min,
                "client {c} (stake {}, minimum {min}) served {served} in {rounds} rounds",
                self.stakes[c]
            );
            let mut last = 0;
            for (at, _) in window.iter().enumerate().filter(|(_, &x)| x == c).chain([(window.len(), &c)]) {
                let waited = at - last;
                assert!(waited <= round_ceil - weight_ceil(self.stakes[c]), "client {c} waited {waited} picks");
                last = at + 1;
            }
        }
    }

    /// Serves the (first) minimum-stake client out while keeping the others queued.
    fn drain_minimum_client(&mut self) {
        let members = self.backlogged();
        if members.len() < 2 {
            return;
        }
        let min = self.stake_min().expect("clients are queued");
        let low = *members.iter().find(|&&c| self.stakes[c] == min).expect("someone holds the minimum");
        while self.queued[low] > 0 {
            for &c in &members {
                if c != low && self.queued[c] < 2 {
                    self.push(c);
                }
            }
            self.pick(false);
        }
        self.check_state();
    }

    fn drain(&mut self) {
        while self.s.backlog() > 0 {
            self.pick(false);
        }
        self.finish_run();
        assert_eq!(self.s.pick(), None);
        while self.in_flight > 0 {
            self.s.complete();
            self.in_flight -= 1;
        }
        self.check_status();
        self.check_state();
        assert_eq!(self.s.status(), QueueStatus::Ready);
        assert_eq!(self.log.len() as u64, self.pushed.iter().sum::<u64>(), "every push picked exactly once");
        assert_eq!(self.served, self.pushed);
        assert_eq!((self.s.backlog(), self.s.backlogged_clients()), (0, 0));
    }
}

/// Plays a case and returns the order in which clients were served.
fn play(case: &Case) -> Vec<usize> {
    let mut h = Harness::new(case);
    for op in &case.ops {
        h.apply(op);
    }
    h.check_whole_rounds(3);
    h.drain_minimum_client();
    h.check_whole_rounds(2);
    h.drain();
    h.log
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn weighted_round_robin_keeps_its_promises_under_random_commands(case in case()) {
        let order = play(&case);
        prop_assert_eq!(order, play(&case), "same commands, same order");
    }
}
