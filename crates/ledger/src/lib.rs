//! The double-entry ledger: accounts (`free`, `held`, `bonded`, `unbonding`), transfers, holds
//! (create → post / void / expire), bonding and unbonding, slashing, mint and burn, and exact pro-rata
//! distribution.
//!
//! Invariants (checked by [`Ledger::check_invariants`]):
//! - Σ(free + held + bonded + unbonding) over all accounts = total supply = genesis + minted − burned;
//! - an account's `held` is the sum of its open holds, its `unbonding` the sum of its unbonding chunks;
//! - no balance is negative (amounts are unsigned and every operation is checked).
//!
//! The ledger knows nothing about transactions, tasks, jobs or fees: it moves tokens, records why money
//! is locked, and remembers which state it touched so the engine can hash the write set of each block.
//! Every mutating method either succeeds completely or returns an error having changed nothing.

mod distribute;
mod error;
mod state;

pub use distribute::{distribute, split_reward, DistributeError, RewardSplit};
pub use error::InvariantViolation;
pub use state::{
    Account, Hold, HoldTag, Ledger, LedgerSnapshot, SlashDestination, SlashOutcome, StateKey, UnbondingChunk,
};
pub use types::{HoldId, LedgerError};

#[cfg(feature = "fault-injection")]
pub use state::Fault;
