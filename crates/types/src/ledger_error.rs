//! `LedgerError`: why a ledger operation was refused (nothing changed); its codes are stable and shared with
//! the engine's rejections.

use crate::{AccountId, Amount, HoldId};

/// Why a ledger operation was refused. Nothing changed. Codes are stable and never reused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    /// The account's free balance is smaller than the amount the operation needs.
    #[error("account {account} has {available} free, needs {needed}")]
    InsufficientFunds { account: AccountId, needed: Amount, available: Amount },
    /// The account's bonded stake is smaller than the amount to unbond.
    #[error("account {account} has {available} bonded, needs {needed}")]
    InsufficientBonded { account: AccountId, needed: Amount, available: Amount },
    /// A sum or product of amounts does not fit in 128 bits.
    #[error("amount overflow")]
    AmountOverflow,
    /// An amount of zero where a positive amount is required.
    #[error("amount must be positive")]
    ZeroAmount,
    /// No open hold has this id (it never existed, or was posted in full, voided or expired).
    #[error("no open hold {0}")]
    UnknownHold(HoldId),
    /// The payouts of a post add up to more than the hold still contains.
    #[error("hold {hold} has {remaining} left, payouts need {requested}")]
    HoldOverdrawn { hold: HoldId, remaining: Amount, requested: Amount },
    /// A post with no payouts.
    #[error("a post needs at least one payout")]
    NoPayouts,
    /// Expiry requested for a hold that has no expiry or whose expiry height is still ahead.
    #[error("hold {0} has not expired")]
    HoldNotExpired(HoldId),
    /// The expiry height of a new hold is not in the future.
    #[error("hold expiry must be after the current height")]
    ExpiryInPast,
    /// The account already has the maximum number of unbonding chunks in flight.
    #[error("account {0} has too many unbonding chunks in flight")]
    TooManyUnbondingChunks(AccountId),
}

impl LedgerError {
    /// The stable snake_case code of this rejection.
    pub fn code(&self) -> &'static str {
        match self {
            LedgerError::InsufficientFunds { .. } => "insufficient_funds",
            LedgerError::InsufficientBonded { .. } => "insufficient_bonded",
            LedgerError::AmountOverflow => "amount_overflow",
            LedgerError::ZeroAmount => "zero_amount",
            LedgerError::UnknownHold(_) => "unknown_hold",
            LedgerError::HoldOverdrawn { .. } => "hold_overdrawn",
            LedgerError::NoPayouts => "no_payouts",
            LedgerError::HoldNotExpired(_) => "hold_not_expired",
            LedgerError::ExpiryInPast => "expiry_in_past",
            LedgerError::TooManyUnbondingChunks(_) => "too_many_unbonding_chunks",
        }
    }
}
