use ledger::HoldId;
use serde::{Deserialize, Serialize};
use types::{AccountId, Amount, Height};

/// Something that happened, in the past tense. Emitted by transactions and by the end-of-block step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    TransferPosted { from: AccountId, to: AccountId, amount: Amount },
    Bonded { account: AccountId, amount: Amount },
    UnbondStarted { account: AccountId, amount: Amount, matures_at: Height },
    UnbondMatured { account: AccountId, amount: Amount },
    HoldCreated { hold: HoldId, payer: AccountId, amount: Amount, expires_at: Option<Height> },
    HoldPosted { hold: HoldId, payouts: Vec<(AccountId, Amount)>, remaining: Amount },
    HoldVoided { hold: HoldId, payer: AccountId, amount: Amount },
    HoldExpired { hold: HoldId, payer: AccountId, amount: Amount },
    EpochEnded { epoch: u64, height: Height },
}
