//! The stake-weighted queue: deficit round-robin over clients in stake units, with capacity-aware
//! Ready/Busy transitions.

use crate::SchedError;
use std::collections::{BTreeMap, HashMap, VecDeque};
use types::AccountId;

/// The largest stake a client may queue with. A client's credit stays below `stake_min + stake ≤ 2 × stake`,
/// so this cap keeps it within 128 bits; real stakes are many orders of magnitude smaller.
pub const STAKE_MAX: u128 = u128::MAX / 2;

/// What the miner announces: whether it takes work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QueueStatus {
    /// Nothing queued, or never full since the last drain, and a slot is free.
    Ready,
    /// Full (requests in flight = capacity), and stays so until nothing is queued and a slot is free.
    Busy,
}

/// One backlogged client, in a slab slot. A freed slot keeps its (empty) queue's allocation for reuse.
#[derive(Debug)]
struct Client<R> {
    id: AccountId,
    stake: u128,
    /// Deficit round-robin credit in stake units.
    credit: u128,
    queue: VecDeque<R>,
}

/// A stake-weighted request queue with a capacity: see the crate documentation for the model.
#[derive(Debug)]
pub struct Scheduler<R> {
    capacity: u32,
    in_flight: u32,
    /// Slab of clients indexed by slot; the slots in `free` are unused.
    clients: Vec<Client<R>>,
    free: Vec<u32>,
    /// Slot of each backlogged client; used for lookups only, never iterated.
    slots: HashMap<AccountId, u32, ahash::RandomState>,
    /// Backlogged clients in service order; the front is the client whose turn it is.
    ring: VecDeque<u32>,
    /// Whether the front client has already received its stake for the current turn.
    turn_started: bool,
    /// Turns still due in the current round: the first `turns_left` clients of the ring. Zero between
    /// rounds: the next one is sized when its first turn starts.
    turns_left: usize,
    rounds: u64,
    /// Multiset of the stakes of backlogged clients (stake → number of clients), for `stake_min`.
    stakes: BTreeMap<u128, u32>,
    /// The smallest key of `stakes`, cached because every pick needs it; 0 when nothing is queued.
    stake_min: u128,
    backlog: usize,
    status: QueueStatus,
    published: QueueStatus,
}

impl<R> Scheduler<R> {
    /// An empty, ready scheduler that lets `capacity` requests be in flight at once.
    ///
    /// # Panics
    /// If `capacity` is zero: a miner that can run nothing is a configuration bug.
    pub fn new(capacity: u32) -> Scheduler<R> {
        assert!(capacity >= 1, "a scheduler needs a capacity of at least one request");
        Scheduler {
            capacity,
            in_flight: 0,
            clients: Vec::new(),
            free: Vec::new(),
            slots: HashMap::default(),
            ring: VecDeque::new(),
            turn_started: false,
            turns_left: 0,
            rounds: 0,
            stakes: BTreeMap::new(),
            stake_min: 0,
            backlog: 0,
            status: QueueStatus::Ready,
            published: QueueStatus::Ready,
        }
    }

    /// Queues `request` for `client`, whose stake is `stake`. A client new to the queue joins the back of the
    /// ring; a queued client pushing with a different stake is re-weighted (as by [`Scheduler::set_stake`]).
    pub fn push(&mut self, client: AccountId, stake: u128, request: R) -> Result<(), SchedError> {
        check_stake(stake)?;
        // After this point the command must succeed.
        if let Some(&slot) = self.slots.get(&client) {
            self.restake(slot, stake);
            self.clients[slot as usize].queue.push_back(request);
        } else {
            self.join(client, stake, request);
        }
        self.backlog += 1;
        self.refresh_status();
        Ok(())
    }

    /// Changes the stake of a queued client; its weight, and everyone's if it held the minimum, follow at
    /// once. Credit already earned is kept.
    pub fn set_stake(&mut self, client: AccountId, stake: u128) -> Result<(), SchedError> {
        check_stake(stake)?;
        let &slot = self.slots.get(&client).ok_or(SchedError::NotQueued(client))?;
        // After this point the command must succeed.
        self.restake(slot, stake);
        Ok(())
    }

    /// The next request by weighted round-robin, ignoring capacity; `None` when nothing is queued.
    pub fn pick(&mut self) -> Option<(AccountId, R)> {
        let slot = *self.ring.front()?;
        let stake_min = self.stake_min;
        let client = &mut self.clients[slot as usize];
        if !self.turn_started {
            self.turn_started = true;
            if self.turns_left == 0 {
                // A round starts with its first turn, so it includes every client queued by then.
                self.turns_left = self.ring.len();
            }
            // The remainder is kept below one request at today's minimum, so a fall of the minimum since it
            // was earned cannot turn it into a burst. The new credit is at least stake ≥ stake_min.
            client.credit = client
                .credit
                .min(stake_min - 1)
                .checked_add(client.stake)
                .expect("credit < stake_min ≤ stake ≤ STAKE_MAX, so credit + stake fits in u128");
        }
        client.credit = client
            .credit
            .checked_sub(stake_min)
            .expect("a turn in progress has credit for one more request (turns end as soon as it runs out)");
        let request = client.queue.pop_front().expect("a client in the ring has a queued request");
        let id = client.id;
        let emptied = client.queue.is_empty();
        self.backlog -= 1;
        if emptied {
            self.leave_front();
        } else {
            self.end_turn_if_spent();
        }
        self.refresh_status();
        Some((id, request))
    }

    /// Takes the next request if a slot is free: `None` when full or when nothing is queued.
    pub fn dispatch(&mut self) -> Option<(AccountId, R)> {
        if self.in_flight >= self.capacity {
            return None;
        }
        let picked = self.pick()?;
        self.in_flight += 1;
        self.refresh_status();
        Some(picked)
    }

    /// One request taken by [`Scheduler::dispatch`] has finished, freeing its slot. Calling it with nothing
    /// in flight is a caller bug: a debug assertion in debug builds, ignored in release builds.
    pub fn complete(&mut self) {
        debug_assert!(self.in_flight > 0, "complete() with no request in flight: a request finished twice");
        self.in_flight = self.in_flight.saturating_sub(1);
        self.refresh_status();
    }

    /// The status now; see [`QueueStatus`].
    pub fn status(&self) -> QueueStatus {
        self.status
    }

    /// The status if it differs from the one returned by the previous call (initially `Ready`), else `None`:
    /// what a miner must publish after a `push`, `dispatch`, `complete` or `pick`.
    pub fn take_status_change(&mut self) -> Option<QueueStatus> {
        if self.status == self.published {
            return None;
        }
        self.published = self.status;
        Some(self.status)
    }

    /// Requests queued, all clients together (not counting those in flight).
    pub fn backlog(&self) -> usize {
        self.backlog
    }

    /// Clients with at least one queued request.
    pub fn backlogged_clients(&self) -> usize {
        self.ring.len()
    }

    /// Requests queued by `client`.
    pub fn queued(&self, client: &AccountId) -> usize {
        self.slots.get(client).map_or(0, |&slot| self.clients[slot as usize].queue.len())
    }

    /// The stake `client` is queued with, if it has queued requests.
    pub fn stake(&self, client: &AccountId) -> Option<u128> {
        self.slots.get(client).map(|&slot| self.clients[slot as usize].stake)
    }

    /// The smallest stake among backlogged clients: the cost of one request, and the unit of weight.
    pub fn stake_min(&self) -> Option<u128> {
        (self.stake_min > 0).then_some(self.stake_min)
    }

    /// Rounds completed: a round ends when every client in the ring at its start has had its turn.
    pub fn round(&self) -> u64 {
        self.rounds
    }

    /// Requests taken by `dispatch` and not yet completed.
    pub fn in_flight(&self) -> u32 {
        self.in_flight
    }

    pub fn capacity(&self) -> u32 {
        self.capacity
    }

    /// Checks every structural invariant in O(n); a failure is a bug. For tests and debug builds.
    pub fn check_invariants(&self) -> Result<(), String> {
        let mut stakes: BTreeMap<u128, u32> = BTreeMap::new();
        let mut backlog = 0;
        for &slot in &self.ring {
            let client = self.clients.get(slot as usize).ok_or(format!("ring slot {slot} out of the slab"))?;
            if self.slots.get(&client.id) != Some(&slot) {
                return Err(format!("ring slot {slot} is not the indexed slot of {:?}", client.id));
            }
            if client.queue.is_empty() {
                return Err(format!("{:?} is in the ring with an empty queue", client.id));
            }
            *stakes.entry(client.stake).or_default() += 1;
            backlog += client.queue.len();
        }
        if self.slots.len() != self.ring.len() || self.slots.len() + self.free.len() != self.clients.len() {
            return Err(format!(
                "{} indexed clients, {} in the ring, {} free slots, {} slots",
                self.slots.len(),
                self.ring.len(),
                self.free.len(),
                self.clients.len()
            ));
        }
        if stakes != self.stakes {
            return Err(format!("stake multiset {:?} != stakes of the ring {stakes:?}", self.stakes));
        }
        if self.stake_min != stakes.first_key_value().map_or(0, |(&stake, _)| stake) {
            return Err(format!("cached stake_min {} is not the smallest stake of {stakes:?}", self.stake_min));
        }
        if backlog != self.backlog {
            return Err(format!("backlog {} != {backlog} queued requests", self.backlog));
        }
        if self.turns_left > self.ring.len() || (self.turn_started && self.turns_left == 0) {
            return Err(format!("{} turns left in a ring of {}", self.turns_left, self.ring.len()));
        }
        if self.turn_started {
            let front = self.ring.front().map(|&slot| &self.clients[slot as usize]).ok_or("a turn with no client")?;
            if front.credit < self.stake_min {
                return Err(format!("{:?}'s turn goes on with credit {} < {}", front.id, front.credit, self.stake_min));
            }
        }
        Ok(())
    }

    fn join(&mut self, id: AccountId, stake: u128, request: R) {
        let slot = match self.free.pop() {
            Some(slot) => {
                let client = &mut self.clients[slot as usize];
                debug_assert!(client.queue.is_empty() && client.credit == 0, "a free slot is empty");
                client.id = id;
                client.stake = stake;
                client.queue.push_back(request);
                slot
            }
            None => {
                let slot = u32::try_from(self.clients.len()).expect("fewer than 2^32 clients are backlogged");
                self.clients.push(Client { id, stake, credit: 0, queue: VecDeque::from([request]) });
                slot
            }
        };
        self.slots.insert(id, slot);
        self.ring.push_back(slot);
        self.add_stake(stake);
    }

    fn restake(&mut self, slot: u32, stake: u128) {
        let client = &mut self.clients[slot as usize];
        if client.stake != stake {
            let old = std::mem::replace(&mut client.stake, stake);
            self.remove_stake(old);
            self.add_stake(stake);
            // A higher minimum can leave the client whose turn it is unable to pay for its next request.
            self.end_turn_if_spent();
        }
    }

    /// Ends the turn in progress once its credit no longer pays for a request, so that between commands a
    /// started turn can always serve and `round()` is exact.
    fn end_turn_if_spent(&mut self) {
        if self.turn_started {
            let front = *self.ring.front().expect("a started turn belongs to the front client");
            if self.clients[front as usize].credit < self.stake_min {
                self.end_turn();
            }
        }
    }

    /// The front client's turn is over: it moves to the back.
    fn end_turn(&mut self) {
        let slot = self.ring.pop_front().expect("only the front client's turn can end");
        self.ring.push_back(slot);
        self.turn_done();
    }

    /// The front client's queue is empty: it leaves the ring, its slot and its credit.
    fn leave_front(&mut self) {
        let slot = self.ring.pop_front().expect("only the front client can leave");
        let client = &mut self.clients[slot as usize];
        client.credit = 0;
        let stake = client.stake;
        self.slots.remove(&client.id);
        self.remove_stake(stake);
        self.free.push(slot);
        self.turn_done();
    }

    fn add_stake(&mut self, stake: u128) {
        *self.stakes.entry(stake).or_default() += 1;
        if self.stake_min == 0 || stake < self.stake_min {
            self.stake_min = stake;
        }
    }

    fn remove_stake(&mut self, stake: u128) {
        let count = self.stakes.get_mut(&stake).expect("a backlogged client's stake is in the multiset");
        *count -= 1;
        if *count == 0 {
            self.stakes.remove(&stake);
            if stake == self.stake_min {
                self.stake_min = self.stakes.first_key_value().map_or(0, |(&stake, _)| stake);
            }
        }
    }

    fn turn_done(&mut self) {
        self.turn_started = false;
        self.turns_left -= 1;
        if self.turns_left == 0 {
            self.rounds += 1;
        }
    }

    /// Busy once full; Ready again only when nothing is queued and a slot is free (the seed's "until all
    /// requests are processed"), so a miner working through a backlog does not flap.
    fn refresh_status(&mut self) {
        if self.in_flight >= self.capacity {
            self.status = QueueStatus::Busy;
        } else if self.backlog == 0 {
            self.status = QueueStatus::Ready;
        }
    }
}

fn check_stake(stake: u128) -> Result<(), SchedError> {
    if stake == 0 {
        return Err(SchedError::ZeroStake);
    }
    if stake > STAKE_MAX {
        return Err(SchedError::StakeTooLarge { stake, max: STAKE_MAX });
    }
    Ok(())
}
