//! Epoch points' public records (xx network, seed 004; DESIGN §7 and §9): per-node earned and deducted
//! points, rounds and failures, and the pure bookkeeping of a round.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};
use types::{AccountId, Ppb};

/// One node's points in the current epoch.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    BorshSerialize,
    BorshDeserialize,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
pub struct NodePoints {
    #[serde(with = "u128_text")]
    #[schemars(with = "crate::points::U128Text")]
    pub earned: u128,
    #[serde(with = "u128_text")]
    #[schemars(with = "crate::points::U128Text")]
    pub deducted: u128,
    /// Task rounds the node took part in, and how many of them it failed.
    pub rounds: u64,
    pub failures: u64,
    pub blocks: u64,
}

impl NodePoints {
    /// `max(0, earned − deducted)`.
    pub fn net(&self) -> u128 {
        self.earned.saturating_sub(self.deducted)
    }
    /// Failures over rounds, in ppb (0 without rounds).
    pub fn failure_rate(&self) -> Ppb {
        if self.rounds == 0 {
            return Ppb::ZERO;
        }
        Ppb::from_ratio_floor(u128::from(self.failures), u128::from(self.rounds)).expect("failures ≤ rounds")
    }
}

/// The JSON form of a 128-bit count: a decimal string (for the schema of fields using [`u128_text`]).
#[derive(Debug)]
pub struct U128Text;

impl schemars::JsonSchema for U128Text {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "U128Text".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": "^[0-9]{1,39}$",
            "description": "a 128-bit count as a decimal string (JSON parsers round large numbers)"
        })
    }
}

/// 128-bit counts travel as decimal strings in JSON (as amounts do): JSON parsers round large numbers.
pub mod u128_text {
    use serde::{Deserialize, Deserializer, Serializer};
    pub fn serialize<S: Serializer>(v: &u128, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(v)
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u128, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}

/// The rules in force (from the parameters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PointsRules {
    pub success: u128,
    pub failure: u128,
    pub blame_culprits: bool,
    pub block: u128,
}

/// The team multiplier (seed 004: "the team multiplier dependent on minimum performance"): a node that
/// took part in rounds and whose failure rate over the epoch is below `below` (the list threshold) has its
/// net points weighted `milli / 1000` in the points payout; every other node weighs its net as it is.
/// Because a node nets positive points only below the target failure rate, the multiplier changes
/// shares only when the threshold is below the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TeamMultiplier {
    pub milli: u32,
    pub below: Ppb,
}

impl TeamMultiplier {
    /// No multiplier: every node's net weighs as it is.
    pub const NONE: TeamMultiplier = TeamMultiplier { milli: 1_000, below: Ppb::ZERO };

    /// Does `p` meet the minimum performance? (`failure_rate` is floored, so `floor(r) < below` iff `r < below`.)
    pub fn applies(&self, p: &NodePoints) -> bool {
        p.rounds > 0 && p.failure_rate() < self.below
    }

    /// The node's payout weight, in thousandths of a point: `net × milli` if the multiplier applies, else
    /// `net × 1000` (exact: no rounding before the split).
    pub fn weight(&self, p: &NodePoints) -> u128 {
        let factor = if self.applies(p) { self.milli } else { 1_000 };
        p.net().saturating_mul(u128::from(factor))
    }
}

/// `round(success · (1 − f) / f)`: the deduction at which failing a share f of one's rounds breaks even.
pub fn points_failure(success: u128, target_failure_rate: Ppb) -> u128 {
    let f = u128::from(target_failure_rate.raw().max(1));
    let num = success * (u128::from(Ppb::ONE_RAW) - f.min(u128::from(Ppb::ONE_RAW)));
    (num + f / 2) / f
}

/// The current epoch's points, per node (ordered, so iteration never depends on hashing).
#[derive(
    Debug, Clone, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct EpochPoints {
    /// An overlay, so that a fork of the engine does not copy every node's points.
    pub nodes: types::overlay::OverlayMap<AccountId, NodePoints>,
}

impl EpochPoints {
    /// A successful round: each member earns `success`.
    pub fn record_success(&mut self, team: &[AccountId], rules: &PointsRules) {
        for m in team {
            let p = self.nodes.get_or_insert_with(*m, NodePoints::default);
            p.rounds += 1;
            p.earned += rules.success;
        }
    }

    /// A realtime failure: each member pays `failure` (xx network's team rule), or, when the rules blame
    /// culprits, only the known `culprits`: nobody at all when none is known (issue 19: a saboteur's
    /// unattributable failure must not cost its honest teammates). The others' round still counts, as a
    /// round they did not fail.
    pub fn record_failure(&mut self, team: &[AccountId], culprits: &[AccountId], rules: &PointsRules) {
        for m in team {
            let p = self.nodes.get_or_insert_with(*m, NodePoints::default);
            p.rounds += 1;
            if !rules.blame_culprits || culprits.contains(m) {
                p.failures += 1;
                p.deducted += rules.failure;
            }
        }
    }

    /// An ended task: the agreeing miners succeeded; the outliers are known culprits and pay.
    pub fn record_ended(&mut self, passed: &[AccountId], outliers: &[AccountId], rules: &PointsRules) {
        self.record_success(passed, rules);
        for m in outliers {
            let p = self.nodes.get_or_insert_with(*m, NodePoints::default);
            p.rounds += 1;
            p.failures += 1;
            p.deducted += rules.failure;
        }
    }

    pub fn record_block(&mut self, producer: AccountId, rules: &PointsRules) {
        let p = self.nodes.get_or_insert_with(producer, NodePoints::default);
        p.blocks += 1;
        p.earned += rules.block;
    }

    /// Σ max(0, earned − deducted).
    pub fn total_net(&self) -> u128 {
        self.nodes.values().map(NodePoints::net).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_deduction_follows_the_target_failure_rate() {
        assert_eq!(points_failure(10, Ppb::new(333_333_333).expect("1/3")), 20);
        assert_eq!(points_failure(10, Ppb::new(333_333_334).expect("1/3 rounded up")), 20);
        assert_eq!(points_failure(10, Ppb::new(50_000_000).expect("5%")), 190);
        assert_eq!(points_failure(10, Ppb::new(500_000_000).expect("1/2")), 10);
    }
}

#[cfg(test)]
mod json_tests {
    /// Regression: 128-bit fields of events were JSON numbers, which serde_json cannot read back into a
    /// `Value`; the node then reported the block's stored outcome as corrupt.
    #[test]
    fn events_with_128_bit_counts_round_trip_through_json() {
        let e = crate::Event::MinerRewarded {
            epoch: 1,
            miner: types::AccountId([1; 32]),
            amount: types::Amount(5),
            score: u128::MAX,
            reputation: types::Ppb::ONE,
            volume: u128::MAX,
            work: vec![crate::ServiceWork { service: 1, weight: 2, user: 3, background: 4, volume: u128::MAX }],
            pot: types::Amount(5),
            total_score: u128::MAX,
        };
        let text = serde_json::to_string(&e).expect("serialize");
        let v: serde_json::Value = serde_json::from_str(&text).expect("a JSON value");
        let back: crate::Event = serde_json::from_value(v).expect("deserialize");
        assert_eq!(back, e);
    }
}
