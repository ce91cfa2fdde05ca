//! Epoch points (xx network, seed 004; DESIGN §7 and §9): every successful task round gives each member of
//! its team `points_success`; a realtime failure (a task failing after Started) costs each member
//! `points_failure`, or only the culprits when the engine knows them and `points_blame_culprits` is set; an
//! outlier of an ended task is a known culprit and always pays. Producing a block earns `points_block`.
//!
//! `points_failure` is derived from the governed target failure rate f: a node failing exactly f of its
//! rounds breaks even, `points_success · (1 − f) = points_failure · f`, so
//! `points_failure = round(points_success · (1 − f) / f)`: 20 at f = 1/3 (xx network's rule), 190 at 5% (the
//! seed's proposal and the default).
//!
//! At the epoch's end each node's net is `max(0, earned − deducted)`, and the points pool is split by each
//! node's share of the **sum of floored nets** (largest remainder): never more than the pool, and a floored
//! node takes nothing from the others (a public pallet divides by total earned − total deducted, which
//! overpays when a node is floored). The team multiplier (seed 004's plan) weighs the net of a node whose
//! failure rate is below `list_failure_rate` by `points_team_multiplier_milli / 1000` in that split. A node's failure rate over the epoch (failures / rounds) also decides
//! the network's `underperformers` list.

use ledger::distribute;
use types::{AccountId, Amount};

pub use protocol::points::{points_failure, EpochPoints, NodePoints, PointsRules, TeamMultiplier};

/// The compute step of the points payout: `pool` split by floored nets, each weighted by the team
/// multiplier where it applies (largest remainder). Empty when no node has a positive net; nodes whose
/// share rounds to zero are left out.
pub fn compute_points_payout(
    pool: Amount,
    points: &EpochPoints,
    multiplier: TeamMultiplier,
) -> Vec<(AccountId, Amount)> {
    let weights: Vec<(AccountId, u128)> =
        points.nodes.iter().map(|(a, p)| (*a, multiplier.weight(p))).filter(|(_, n)| *n > 0).collect();
    if weights.is_empty() || pool.is_zero() {
        return Vec::new();
    }
    distribute(pool, &weights)
        .expect("accounts are distinct and the weights positive")
        .into_iter()
        .filter(|(_, a)| !a.is_zero())
        .collect()
}
