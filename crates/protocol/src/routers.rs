//! Routers' public records and reward formula (seed 003, DESIGN §7): traffic reports and
//! `R = kB · B · clamp01(1 − kL·(Ln + Lv)/Lmax) · S`.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};
use types::{mul_div_floor, AccountId, Amount, Height, Ppb};

/// What a router reports about one attached node for an epoch.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(deny_unknown_fields)]
pub struct NodeTraffic {
    pub node: AccountId,
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub latency_ms: u32,
    /// Share of the epoch the node was reachable.
    pub online: Ppb,
}

#[derive(
    Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct RouterReport {
    pub epoch: u64,
    pub validator_latency_ms: u32,
    pub nodes: Vec<NodeTraffic>,
    pub reported_at: Height,
}

/// The inputs of one router's reward, and the reward, for people and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RouterScore {
    #[serde(with = "crate::points::u128_text")]
    #[schemars(with = "crate::points::U128Text")]
    pub bandwidth: u128,
    pub latency_factor: Ppb,
    pub reputation: Ppb,
    pub reward: Amount,
}

/// `clamp01(1 − kL·(Ln + Lv)/Lmax)` in ppb, with kL in thousandths.
pub fn latency_factor(kl_milli: u32, node_latency_ms: u64, validator_latency_ms: u64, max_ms: u32) -> Ppb {
    let num = u128::from(kl_milli) * u128::from(node_latency_ms + validator_latency_ms);
    let den = 1_000 * u128::from(max_ms.max(1));
    if num >= den {
        return Ppb::ZERO;
    }
    Ppb::from_ratio_floor(den - num, den).expect("below one")
}

/// `R = kB · B / 10^6 · latency_factor · S`, each step floored.
pub fn compute_router_reward(per_mb: Amount, bandwidth: u128, latency: Ppb, reputation: Ppb) -> Amount {
    let base = mul_div_floor(bandwidth, per_mb.0, 1_000_000).map_or(u128::MAX, |(q, _)| q);
    reputation.mul_floor(latency.mul_floor(Amount(base)))
}
