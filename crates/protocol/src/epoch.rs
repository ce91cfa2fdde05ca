//! Epoch economics' public records (DESIGN §7): pool names and curated lists.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use types::{AccountId, Height};

pub const POINTS_POOL_NAME: &str = "points-pool";
pub const ROUTERS_POOL_NAME: &str = "routers-pool";
/// The owner of lists the network itself publishes.
pub const NETWORK_LISTS_NAME: &str = "network";
/// The network's list of nodes whose failure rate over the last epoch was above `list_failure_rate`.
pub const UNDERPERFORMERS: &str = "underperformers";

/// A list a client may avoid: `owner` `None` is the network.
#[derive(
    Debug,
    Clone,
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
pub struct ListRef {
    #[serde(default)]
    pub owner: Option<AccountId>,
    pub name: String,
}

#[derive(
    Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct CuratedList {
    pub nodes: BTreeSet<AccountId>,
    pub published_at: Height,
}
