//! The inference market's public records (seed 000, DESIGN §4): nodes, services, requests and
//! reputation records.

use crate::reputation::{rating_weight_ppb, Rating};
use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use types::{AccountId, Amount, Hash, Height, HoldId, Ppb};

/// Name of the system account miner rewards are paid from.
pub const MINERS_POOL_NAME: &str = "miners-pool";
/// The PoI threshold of a service unless its genesis entry says otherwise: 0.85.
pub const POI_THRESHOLD_DEFAULT: Ppb = match Ppb::new(850_000_000) {
    Some(p) => p,
    None => Ppb::ZERO,
};

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
pub enum Role {
    Miner,
    Oracle,
    Router,
    DataOwner,
    Mpc,
    Coordinator,
}

/// What a miner reports about itself.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ReportedStatus {
    Ready,
    Busy,
}

/// A miner's status at a height (MintAI's enum): what it reported, or Stale if it went quiet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MinerStatus {
    Stale,
    Ready,
    Busy,
}

#[derive(
    Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct NodeRecord {
    pub roles: BTreeSet<Role>,
    pub services: BTreeSet<u32>,
    pub capacity: u32,
    pub endpoint: String,
    pub reported: ReportedStatus,
    pub last_heartbeat: Height,
    pub registered_at: Height,
}

#[derive(
    Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct Service {
    pub id: u32,
    pub name: String,
    /// Complexity weight (text < image); scales miner rewards. Always ≥ 1.
    pub weight: u32,
    pub price: Amount,
    /// Median similarity an output needs to pass Proof of Inference for this service (model-specific).
    pub poi_threshold: Ppb,
    /// Semantic PoI: this service's tasks wait at Committed for oracles' attestations, whose stake-weighted
    /// scores (once a quorum attests) replace n-gram agreement. Copied into each task at submission.
    #[serde(default)]
    pub semantic_poi: bool,
}

#[derive(
    Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum RequestStatus {
    Assigned,
    Completed { at: Height, result_hash: Hash },
}

#[derive(
    Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct Request {
    pub id: u64,
    pub client: AccountId,
    pub service: u32,
    pub miner: AccountId,
    pub price: Amount,
    /// The hold with the price; none for a free service (the ledger holds no empty amounts).
    pub hold: Option<HoldId>,
    pub submitted_at: Height,
    pub expires_at: Height,
    pub status: RequestStatus,
    pub rating: Option<Rating>,
}

/// One client's standing rating of a miner: its latest verdict, and what it paid the miner for the
/// requests it rated (each counted once, when first rated).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct ClientRating {
    pub rating: Rating,
    pub paid: Amount,
}

/// A miner's ratings: the latest per client with what that client paid, plus network ratings from
/// validation outcomes.
#[derive(
    Debug, Clone, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct ReputationRecord {
    pub by_client: BTreeMap<AccountId, ClientRating>,
    pub network_good: u64,
    pub network_bad: u64,
    pub reputation: Ppb,
}

impl ReputationRecord {
    /// `(Σ weight × value, Σ weight)` of every rating, weights in ppb of a full rating and values in ppb:
    /// a client weighs `min(paid, cap) / cap` ([`rating_weight_ppb`]), a network rating one.
    pub fn weighted_sums(&self, cap: Amount) -> (u128, u128) {
        let full = u128::from(Ppb::ONE_RAW);
        let network = u128::from(self.network_good) + u128::from(self.network_bad);
        let (mut value, mut weight) = (u128::from(self.network_good) * full * full, network * full);
        // Each term is at most 1e18; saturation would need more than 10^20 ratings.
        for c in self.by_client.values() {
            let w = rating_weight_ppb(c.paid, cap);
            value = value.saturating_add(w * u128::from(c.rating.value().raw()));
            weight = weight.saturating_add(w);
        }
        (value, weight)
    }
}
