//! Broken ledger invariants: always a bug, never a user error (the refusals are `types::LedgerError`).

use types::{AccountId, Amount, HoldId};

/// A broken ledger invariant: always a bug, never a user error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvariantViolation {
    #[error("conservation broken: accounts sum to {accounts}, total supply is {supply} (genesis {genesis} + minted {minted} - burned {burned})")]
    Conservation { accounts: u128, supply: u128, genesis: u128, minted: u128, burned: u128 },
    #[error("account {account}: held {recorded} but its open holds sum to {holds}")]
    HeldMismatch { account: AccountId, recorded: Amount, holds: Amount },
    #[error("account {account}: unbonding {recorded} but its chunks sum to {chunks}")]
    UnbondingMismatch { account: AccountId, recorded: Amount, chunks: Amount },
    #[error("hold {0} is open with a zero amount")]
    EmptyHold(HoldId),
    #[error("hold {0} has an id at or above the next hold id")]
    HoldIdAhead(HoldId),
    #[error("a running total overflowed 128 bits")]
    Overflow,
}
