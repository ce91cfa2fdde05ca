//! Governance's public records (DESIGN §8): proposals, their actions and status.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use types::{AccountId, Amount, Height};

#[derive(
    Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case", tag = "action", deny_unknown_fields)]
pub enum ProposalAction {
    AddService {
        name: String,
        weight: u32,
        price: Amount,
    },
    SetServiceWeight {
        service: u32,
        weight: u32,
    },
    SetParam {
        name: String,
        value: String,
    },
    /// Set a service's Proof-of-Inference rule: its threshold (ppb, 50% to 100%) and whether oracles'
    /// semantic attestations decide it. Tasks already submitted keep the rule they were submitted under.
    SetServicePoi {
        service: u32,
        poi_threshold: types::Ppb,
        semantic_poi: bool,
    },
    /// Overturn the open non-compliance report of a training job (filed by the accused's appeal, never
    /// proposed directly); decided when the vote ends, not at the epoch boundary.
    OverturnJobReport {
        job: types::JobId,
    },
    /// Switch the protocol to `version` (the current version + 1) at exactly block `height` (at least
    /// `voting_period + epoch_length` blocks after the proposal, so at least an epoch after its vote ends).
    /// Recorded as the pending upgrade when the vote passes, not at the epoch boundary.
    ScheduleUpgrade {
        version: u32,
        height: Height,
    },
}

/// A protocol upgrade that passed and waits for its height: from block `height` on, the engine runs
/// `version`'s rules.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct ScheduledUpgrade {
    pub version: u32,
    pub height: Height,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ProposalStatus {
    Open,
    /// Passed; waiting for the next epoch boundary.
    Passed,
    Rejected,
    Applied,
    /// Passed, but could not be applied any more (e.g. another change made it invalid first).
    Failed,
}

#[derive(
    Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct Proposal {
    pub id: u64,
    pub proposer: AccountId,
    pub action: ProposalAction,
    pub created_at: Height,
    pub voting_ends: Height,
    pub yes: Amount,
    pub no: Amount,
    pub votes: BTreeMap<AccountId, (bool, Amount)>,
    pub status: ProposalStatus,
}

/// The bonded stake an account voted with on proposals not yet tallied: an unbond may not take its bonded
/// stake below `stake` until the tally at `until` (the last of those proposals' voting ends) has run.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct VoteLock {
    /// The largest stake the account voted with on any of those proposals.
    pub stake: Amount,
    /// The height whose end-of-block step tallies the last of them.
    pub until: Height,
}
