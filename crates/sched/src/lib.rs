//! A miner's stake-weighted request queue, from seed 000 (MintAI): "requests are queued. The service
//! provider would then prioritize these requests based on the number of tokens each client has staked …
//! weighted round-robin", where a client's weight is its stake compared to the smallest stake in the queue,
//! and the miner is busy at full capacity and ready again once everything is processed.
//!
//! Model: deficit round-robin in stake units. The clients with queued requests ("backlogged") form a ring.
//! A client at the front of the ring starting a turn gains credit `stake`; serving one of its requests
//! costs `stake_min`, the smallest stake among backlogged clients; its turn ends when its credit falls below
//! `stake_min`, and it moves to the back keeping the remainder (clamped below one request at the current
//! minimum, so a fall of the minimum gives no burst). Over `r` rounds a client is therefore served
//! `r × stake / stake_min` requests to within one, fractions carried and never rounded away (150:100 gives
//! 3:2 every two rounds), and since `stake ≥ stake_min` every backlogged client is served at least once per
//! round. A round ends when every client in the ring at its first turn has had its turn; a client that
//! joins during a round waits at the back for the next, and one whose queue empties leaves the ring and
//! forgets its credit. Capacity bounds the requests in flight: the status becomes `Busy` when the miner is
//! full and `Ready` again once nothing is queued and a slot is free.
//!
//! Invariants: no IO, no clock, no thread, no floating point. Deterministic: the same pushes and picks give
//! the same order (the hash map only finds a client's slot and is never iterated). A pick costs O(1)
//! amortised; a client joining, leaving or changing stake costs O(log n) (the ordered multiset of stakes).
//! Every request pushed is picked exactly once, in FIFO order per client.

mod error;
mod scheduler;

pub use error::SchedError;
pub use scheduler::{QueueStatus, Scheduler, STAKE_MAX};
