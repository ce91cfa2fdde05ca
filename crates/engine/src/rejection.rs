use ledger::LedgerError;
use types::Amount;

/// Why a transaction was rejected. A rejected transaction changes nothing. Codes are stable: never
/// renumbered, renamed or reused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// The signature does not verify (strict ed25519) for the signer's key and this chain.
    #[error("signature does not verify")]
    BadSignature,
    /// The nonce is not the signer's next nonce (replayed, or out of order).
    #[error("nonce {got} is not the next nonce {expected}")]
    BadNonce { expected: u64, got: u64 },
    /// The fee is below the chain's minimum.
    #[error("fee {got} is below the minimum {min}")]
    FeeTooLow { min: Amount, got: Amount },
    /// The signer may not act on this object (e.g. posting someone else's hold).
    #[error("signer is not authorized for this call")]
    NotAuthorized,
    /// A hold post lists more payouts than `max_payouts`.
    #[error("{got} payouts exceed the limit of {max}")]
    TooManyPayouts { max: u32, got: usize },
    /// A ledger rule refused the call (insufficient funds, unknown hold, …); the code is the ledger's.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

impl Rejection {
    /// The stable snake_case code shown to API clients.
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::BadSignature => "bad_signature",
            Rejection::BadNonce { .. } => "bad_nonce",
            Rejection::FeeTooLow { .. } => "fee_too_low",
            Rejection::NotAuthorized => "not_authorized",
            Rejection::TooManyPayouts { .. } => "too_many_payouts",
            Rejection::Ledger(e) => e.code(),
        }
    }
}
