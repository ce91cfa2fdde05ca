//! What the engine's holds are for: the tag the ledger stores with each hold without reading it (an owner
//! and a reason), so locked money always says why.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};
use types::{AccountId, JobId};

/// What a hold's money is locked for.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    BorshSerialize,
    BorshDeserialize,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case", tag = "kind", content = "id")]
pub enum HoldOwner {
    /// A two-phase payment its payer created directly with a transaction.
    Payment(AccountId),
    /// An inference request: its price, until the miner completes it or it expires.
    Request(u64),
    /// A Proof-of-Useful-Work task: its price × redundancy, until it ends or fails.
    Task(u64),
    /// A federated training job: the query client's StakeIn and each member's deposit, until it settles.
    Job(JobId),
}

/// Why money is held, so locked money always says why.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    BorshSerialize,
    BorshDeserialize,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum HoldReason {
    /// A payment reserved by its payer, to be posted to payees, voided, or expired.
    Escrow,
    /// The price of an inference request, paid to the miner on completion or refunded on expiry.
    RequestPrice,
    /// The price of a user task, paid to the agreeing miners or refunded if the task fails.
    TaskPrice,
    /// A training job's StakeIn, paid by its query client to the job's roles or refunded.
    JobStake,
    /// A data owner's or MPC node's deposit for a training job, fined if it fails the job.
    JobDeposit,
    /// A coordinator's bond for a training job, paid to a member whose non-compliance report it lost.
    JobBond,
}

/// The ledger's hold tag in stakework: whose the money is and why. Its borsh form is the owner's then the
/// reason's, the bytes a hold carried when the ledger itself defined both.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, BorshSerialize, BorshDeserialize, Serialize, Deserialize,
)]
pub struct HoldTag {
    pub owner: HoldOwner,
    pub reason: HoldReason,
}

impl HoldTag {
    pub fn new(owner: HoldOwner, reason: HoldReason) -> HoldTag {
        HoldTag { owner, reason }
    }
}
