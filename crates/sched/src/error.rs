//! Why the scheduler refused a request.

use types::AccountId;

/// Why a scheduler command was refused. Nothing changed. Codes are stable and never reused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchedError {
    /// A stake of zero: weights are stake ÷ the smallest stake, so every queued client needs a positive stake.
    #[error("stake must be at least 1")]
    ZeroStake,
    /// A stake above [`crate::STAKE_MAX`]; the cap keeps a client's credit (below 2 × its stake) within 128 bits.
    #[error("stake {stake} exceeds the maximum {max}")]
    StakeTooLarge { stake: u128, max: u128 },
    /// A stake change for a client with nothing queued: the scheduler keeps no record of idle clients, and
    /// their next push carries their stake.
    #[error("client {0} has no queued request")]
    NotQueued(AccountId),
}

impl SchedError {
    /// The stable snake_case code of this rejection.
    pub fn code(&self) -> &'static str {
        match self {
            SchedError::ZeroStake => "zero_stake",
            SchedError::StakeTooLarge { .. } => "stake_too_large",
            SchedError::NotQueued(_) => "not_queued",
        }
    }
}
