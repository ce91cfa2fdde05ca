//! Epoch economics (DESIGN §7): emission, the points pool, curated lists, and the sweep of what pools could
//! not pay.
//!
//! At each epoch boundary `emission_per_epoch` is minted and split by the governed shares into the miners',
//! points', routers' and background pools, the rest to the treasury (`EmissionMinted`). The miners' pool then
//! pays epoch miner rewards (market), the points pool pays nodes by floored net points (`points`), and the
//! routers' pool pays routers (`routers`). What the miners', points' and routers' pools could not pay goes
//! back to the treasury (`PoolSwept`); the background pool keeps one epoch's share as the budget for the
//! next epoch's background tasks and returns anything above it. Then the network publishes its
//! `underperformers` list (failure rate above `list_failure_rate`) and the epoch's points are reset.
//!
//! The treasury's epoch cap (DESIGN §12, issue 19): when an epoch begins, the treasury's floor for the
//! epoch is set to its balance less `treasury_epoch_cap` of it (floored, so the cap is never exceeded). Every
//! payment the engine makes from the treasury goes through [`pay_from_treasury`], which pays at most what
//! the treasury holds above the floor; what the cap does not allow is not paid. The emission counts: it is
//! minted into the treasury and paid out of it to the pools, so it never takes the treasury below the
//! floor, and a pool's share is cut only when other payments already took the treasury down to it.
//!
//! Curated lists: the network's, and any staked account's own (`PublishList`). A client names lists when it
//! submits a request or a task; selection skips every node on them.

use crate::engine::{overlay_maps, Ctx, EngineKey};
use crate::points::{compute_points_payout, points_failure, EpochPoints, NodePoints, PointsRules, TeamMultiplier};
use crate::{Event, Params, Rejection, BACKGROUND_POOL_NAME, MINERS_POOL_NAME};
use borsh::{BorshDeserialize, BorshSerialize};
use std::collections::{BTreeMap, BTreeSet};
use types::overlay::OverlayMap;
use types::{AccountId, Amount, Height};

pub use protocol::epoch::{
    CuratedList, ListRef, NETWORK_LISTS_NAME, POINTS_POOL_NAME, ROUTERS_POOL_NAME, UNDERPERFORMERS,
};

const LIST_NAME_LEN_MAX: usize = 64;

/// Epoch points and curated lists. Private: the engine and other modules use the functions below.
#[derive(Debug, Clone, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub(crate) struct EpochState {
    points: EpochPoints,
    /// The last finished epoch's points (for queries).
    last_points: EpochPoints,
    last_epoch: u64,
    /// Lists by owner (the network's under `AccountId::system("network")`), then name.
    lists: OverlayMap<AccountId, BTreeMap<String, CuratedList>>,
    /// The treasury may not be paid below this in the current epoch.
    treasury_floor: Amount,
}

overlay_maps!(EpochState { points.nodes, last_points.nodes, lists });

/// The epoch module's entries in the state root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EpochKey {
    Points(AccountId),
    LastPoints,
    Lists(AccountId),
    TreasuryFloor,
}

impl From<EpochKey> for EngineKey {
    fn from(key: EpochKey) -> EngineKey {
        match key {
            EpochKey::Points(id) => EngineKey::Points(id),
            EpochKey::LastPoints => EngineKey::LastPoints,
            EpochKey::Lists(id) => EngineKey::Lists(id),
            EpochKey::TreasuryFloor => EngineKey::TreasuryFloor,
        }
    }
}

/// The epoch a height belongs to (epoch 1 is heights 1..=epoch_length).
pub(crate) fn epoch_of(params: &Params, height: Height) -> u64 {
    height.0.saturating_sub(1) / params.epoch_length + 1
}

/// The points rules the parameters set.
pub(crate) fn points_rules(p: &Params) -> PointsRules {
    PointsRules {
        success: u128::from(p.points_success),
        failure: points_failure(u128::from(p.points_success), p.points_target_failure_rate),
        blame_culprits: p.points_blame_culprits,
        block: u128::from(p.points_block),
    }
}

/// The team multiplier the parameters set: `points_team_multiplier_milli` below `list_failure_rate`.
pub(crate) fn team_multiplier(p: &Params) -> TeamMultiplier {
    TeamMultiplier { milli: p.points_team_multiplier_milli, below: p.list_failure_rate }
}

impl EpochState {
    /// Points of the epoch in progress.
    pub fn points(&self) -> &EpochPoints {
        &self.points
    }
    /// Points of the last finished epoch, and its number (0 before the first ends).
    pub fn last_points(&self) -> (u64, &EpochPoints) {
        (self.last_epoch, &self.last_points)
    }
    /// Every owner's lists, by owner then name.
    pub fn lists_by_owner(&self) -> impl Iterator<Item = (&AccountId, &BTreeMap<String, CuratedList>)> {
        self.lists.iter()
    }
    pub fn list(&self, list: &ListRef) -> Option<&CuratedList> {
        let owner = list.owner.unwrap_or_else(|| AccountId::system(NETWORK_LISTS_NAME));
        self.lists.get(&owner).and_then(|l| l.get(&list.name))
    }
    /// Every node on the named lists (unknown lists name nobody).
    pub fn avoided(&self, lists: &[ListRef]) -> BTreeSet<AccountId> {
        lists.iter().filter_map(|l| self.list(l)).flat_map(|l| l.nodes.iter().copied()).collect()
    }
    /// The balance the treasury may not be paid below in the current epoch.
    pub fn treasury_floor(&self) -> Amount {
        self.treasury_floor
    }
    /// `borsh(current value or None)` of an epoch entry of the state root.
    pub fn encode_entry(&self, key: EpochKey, out: &mut Vec<u8>) {
        match key {
            EpochKey::Points(id) => borsh::to_writer(out, &self.points.nodes.get(&id)),
            EpochKey::LastPoints => borsh::to_writer(out, &(self.last_epoch, &self.last_points)),
            EpochKey::Lists(id) => borsh::to_writer(out, &self.lists.get(&id)),
            EpochKey::TreasuryFloor => borsh::to_writer(out, &self.treasury_floor),
        }
        .expect("writing to a Vec cannot fail");
    }
}

fn touch_points(ctx: &mut Ctx, nodes: impl IntoIterator<Item = AccountId>) {
    for n in nodes {
        ctx.touch(EpochKey::Points(n));
    }
}

/// Book a task round's points with `book`, and say what it gave and cost each of `nodes`
/// (`PointsBooked`), so every node's epoch points can be traced to the rounds behind them.
fn book_round(ctx: &mut Ctx, e: &mut EpochState, task: u64, nodes: &[AccountId], book: impl FnOnce(&mut EpochPoints)) {
    let before: BTreeMap<AccountId, (u128, u128)> =
        nodes.iter().map(|n| (*n, e.points.nodes.get(n).map_or((0, 0), |p| (p.earned, p.deducted)))).collect();
    book(&mut e.points);
    for (node, (earned, deducted)) in before {
        let after = e.points.nodes.get(&node).map_or((0, 0), |p| (p.earned, p.deducted));
        let (earned, deducted) = (after.0 - earned, after.1 - deducted);
        if earned > 0 || deducted > 0 {
            ctx.emit(Event::PointsBooked { task, node, earned, deducted });
        }
    }
    touch_points(ctx, nodes.iter().copied());
}

/// An ended task: book its round for epoch points.
pub(crate) fn book_task_ended(
    ctx: &mut Ctx,
    e: &mut EpochState,
    task: u64,
    passed: &[AccountId],
    outliers: &[AccountId],
) {
    let rules = points_rules(ctx.params);
    let nodes: Vec<AccountId> = passed.iter().chain(outliers).copied().collect();
    book_round(ctx, e, task, &nodes, |p| p.record_ended(passed, outliers, &rules));
}

/// Participants that missed a task's deadline (a precommit, a reveal, a spec or inputs): each a failed
/// round of its own, booked like an outlier's (issue 19: withholding never beats losing).
pub(crate) fn book_missed(ctx: &mut Ctx, e: &mut EpochState, task: u64, missed: &[AccountId]) {
    if missed.is_empty() {
        return;
    }
    let rules = points_rules(ctx.params);
    book_round(ctx, e, task, missed, |p| p.record_ended(&[], missed, &rules));
}

/// A failed task: a realtime failure costs points (team or culprits); an earlier failure costs nothing.
pub(crate) fn book_task_failed(
    ctx: &mut Ctx,
    e: &mut EpochState,
    task: u64,
    team: &[AccountId],
    culprits: &[AccountId],
    realtime: bool,
) {
    if !realtime {
        return;
    }
    let rules = points_rules(ctx.params);
    let nodes: Vec<AccountId> = team.iter().chain(culprits).copied().collect::<BTreeSet<_>>().into_iter().collect();
    book_round(ctx, e, task, &nodes, |p| p.record_failure(team, culprits, &rules));
}

/// The block producer's points for this block, if the parameters name one.
pub(crate) fn book_block(ctx: &mut Ctx, e: &mut EpochState) {
    if let Some(producer) = ctx.params.block_producer {
        let rules = points_rules(ctx.params);
        if rules.block > 0 {
            e.points.record_block(producer, &rules);
            touch_points(ctx, [producer]);
        }
    }
}

/// A request or task names at most 16 lists to avoid.
pub(crate) fn check_avoid(lists: &[ListRef]) -> Result<(), Rejection> {
    if lists.len() > 16 {
        return Err(Rejection::InvalidList("name at most 16 lists to avoid".into()));
    }
    Ok(())
}

pub(crate) fn publish_list(
    ctx: &mut Ctx,
    e: &mut EpochState,
    owner: AccountId,
    name: &str,
    nodes: &[AccountId],
) -> Result<Event, Rejection> {
    if ctx.ledger.bonded(&owner).is_zero() {
        return Err(Rejection::NoStake);
    }
    if name.is_empty() || name.len() > LIST_NAME_LEN_MAX || !name.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Rejection::InvalidList("a list name is 1 to 64 visible ASCII characters".into()));
    }
    if nodes.len() > ctx.params.list_len_max as usize {
        return Err(Rejection::InvalidList(format!("a list holds at most {} nodes", ctx.params.list_len_max)));
    }
    // After this point the command must succeed.
    let list = CuratedList { nodes: nodes.iter().copied().collect(), published_at: ctx.height };
    let count = list.nodes.len() as u32;
    e.lists.get_or_insert_with(owner, Default::default).insert(name.to_string(), list);
    ctx.touch(EpochKey::Lists(owner));
    Ok(Event::ListPublished { owner: Some(owner), name: name.to_string(), nodes: count })
}

// ----- the epoch boundary ----------------------------------------------------------------------------

// ----- the treasury's epoch cap ------------------------------------------------------------------------

/// The floor for an epoch that begins with the treasury holding `balance`: all but `cap` of it (the cap
/// rounded down, so an epoch never pays out more than `cap`).
pub(crate) fn compute_treasury_floor(balance: Amount, cap: types::Ppb) -> Amount {
    Amount(balance.0 - cap.mul_floor(balance).0)
}

/// How much of `want` the treasury may pay while it holds `balance` and its floor is `floor`.
pub(crate) fn compute_treasury_payable(balance: Amount, floor: Amount, want: Amount) -> Amount {
    Amount(want.0.min(balance.0.saturating_sub(floor.0)))
}

/// Pay up to `want` from the treasury to `to`, as much as the epoch's cap still allows; returns what was paid.
pub(crate) fn pay_from_treasury(ctx: &mut Ctx, e: &EpochState, to: AccountId, want: Amount) -> Amount {
    let paid = compute_treasury_payable(ctx.ledger.free(&ctx.treasury), e.treasury_floor, want);
    if !paid.is_zero() {
        ctx.ledger.transfer(ctx.treasury, to, paid).expect("the treasury holds what it pays above its floor");
    }
    paid
}

/// Start an epoch's cap: the treasury may fall by at most `treasury_epoch_cap` of what it holds now. Runs
/// at genesis and at the end of every epoch boundary (after its payouts, sweeps and governance changes).
pub(crate) fn set_treasury_floor(ctx: &mut Ctx, e: &mut EpochState) {
    e.treasury_floor = compute_treasury_floor(ctx.ledger.free(&ctx.treasury), ctx.params.treasury_epoch_cap);
    ctx.touch(EpochKey::TreasuryFloor);
}

/// Mint the epoch's emission into the treasury and pay the pools their governed shares out of it (through
/// the epoch's cap); the rest stays in the treasury.
pub(crate) fn mint_emission(ctx: &mut Ctx, e: &EpochState, epoch: u64) {
    let p = ctx.params;
    let total = p.emission_per_epoch;
    if total.is_zero() {
        return;
    }
    let shares = [
        (MINERS_POOL_NAME, p.emission_share_miners.mul_floor(total)),
        (POINTS_POOL_NAME, p.emission_share_points.mul_floor(total)),
        (ROUTERS_POOL_NAME, p.emission_share_routers.mul_floor(total)),
        (BACKGROUND_POOL_NAME, p.emission_share_background.mul_floor(total)),
    ];
    if ctx.ledger.total_supply().checked_add(total).is_none() {
        // Minting would overflow the supply: the epoch mints nothing (recorded as a zero emission).
        ctx.emit(Event::EmissionMinted { epoch, total: Amount::ZERO, parts: Vec::new() });
        return;
    }
    ctx.ledger.mint(ctx.treasury, total).expect("supply overflow was checked");
    let mut parts = Vec::with_capacity(shares.len() + 1);
    for (name, share) in shares {
        let paid = pay_from_treasury(ctx, e, AccountId::system(name), share);
        parts.push((name.to_string(), paid));
    }
    let pooled = Amount::checked_sum(parts.iter().map(|(_, a)| *a)).expect("shares sum to at most 100%");
    parts.push((crate::TREASURY_NAME.to_string(), Amount(total.0 - pooled.0)));
    ctx.emit(Event::EmissionMinted { epoch, total, parts });
}

/// Pay the points pool by floored nets, weighted by the team multiplier.
pub(crate) fn settle_points(ctx: &mut Ctx, e: &EpochState, noms: &crate::nominate::Nominations, epoch: u64) {
    let pool = AccountId::system(POINTS_POOL_NAME);
    let pot = ctx.ledger.free(&pool);
    let multiplier = team_multiplier(ctx.params);
    let total_weight: u128 = e.points.nodes.values().map(|p| multiplier.weight(p)).sum();
    for (node, amount) in compute_points_payout(pot, &e.points, multiplier) {
        crate::nominate::pay_reward(ctx, noms, (pool, node), amount, (epoch, protocol::event::RewardKind::Points));
        let p = e.points.nodes[&node];
        let (earned, deducted, weight) = (p.earned, p.deducted, multiplier.weight(&p));
        ctx.emit(Event::PointsRewarded { epoch, node, earned, deducted, amount, weight, total_weight, pool: pot });
    }
}

/// What the miners', points' and routers' pools could not pay, and the background pool's balance above one
/// epoch's share, return to the treasury.
pub(crate) fn sweep_pools(ctx: &mut Ctx) {
    let p = ctx.params;
    if p.emission_per_epoch.is_zero() {
        // Without emission, pools are funded by hand (genesis, transfers) and keep what they hold.
        return;
    }
    let keep_background = p.emission_share_background.mul_floor(p.emission_per_epoch);
    for (name, keep) in [
        (MINERS_POOL_NAME, Amount::ZERO),
        (POINTS_POOL_NAME, Amount::ZERO),
        (ROUTERS_POOL_NAME, Amount::ZERO),
        (BACKGROUND_POOL_NAME, keep_background),
    ] {
        let pool = AccountId::system(name);
        let excess = Amount(ctx.ledger.free(&pool).0.saturating_sub(keep.0));
        if !excess.is_zero() {
            ctx.ledger.transfer(pool, ctx.treasury, excess).expect("the pool holds the excess");
            ctx.emit(Event::PoolSwept { pool: name.to_string(), amount: excess });
        }
    }
}

/// Publish the network's `underperformers`, keep the epoch's points for queries, and start afresh.
pub(crate) fn close_epoch_points(ctx: &mut Ctx, e: &mut EpochState, epoch: u64) {
    let limit = ctx.params.list_failure_rate;
    let nodes: BTreeSet<AccountId> = e
        .points
        .nodes
        .iter()
        .filter(|(_, p): &(&AccountId, &NodePoints)| p.rounds > 0 && p.failure_rate() > limit)
        .map(|(a, _)| *a)
        .collect();
    let network = AccountId::system(NETWORK_LISTS_NAME);
    let count = nodes.len() as u32;
    e.lists
        .get_or_insert_with(network, Default::default)
        .insert(UNDERPERFORMERS.to_string(), CuratedList { nodes, published_at: ctx.height });
    ctx.touch(EpochKey::Lists(network));
    ctx.emit(Event::ListPublished { owner: None, name: UNDERPERFORMERS.to_string(), nodes: count });
    let finished = std::mem::take(&mut e.points);
    touch_points(ctx, finished.nodes.keys().copied().collect::<Vec<_>>());
    e.last_points = finished;
    e.last_epoch = epoch;
    ctx.touch(EpochKey::LastPoints);
}

#[cfg(test)]
mod tests {
    use super::*;
    use types::Ppb;

    #[test]
    fn the_floor_keeps_all_but_the_cap_rounded_in_the_treasurys_favour() {
        let ten_percent = Ppb::new(100_000_000).expect("10%");
        assert_eq!(compute_treasury_floor(Amount(1_000_000), ten_percent), Amount(900_000));
        // 10% of 1,005 is 100.5: the epoch may pay 100, never 101.
        assert_eq!(compute_treasury_floor(Amount(1_005), ten_percent), Amount(905));
        assert_eq!(compute_treasury_floor(Amount::ZERO, ten_percent), Amount::ZERO);
    }

    #[test]
    fn the_treasury_pays_only_what_it_holds_above_its_floor() {
        let (floor, balance) = (Amount(900), Amount(1_000));
        assert_eq!(compute_treasury_payable(balance, floor, Amount(40)), Amount(40));
        assert_eq!(compute_treasury_payable(balance, floor, Amount(1_000_000)), Amount(100));
        // Payments already took it to the floor (or a payment outside the cap took it below): nothing more.
        assert_eq!(compute_treasury_payable(Amount(900), floor, Amount(1)), Amount::ZERO);
        assert_eq!(compute_treasury_payable(Amount(850), floor, Amount(1)), Amount::ZERO);
        // Inflows during the epoch (fees, slashes, the emission's mint) raise what it may pay.
        assert_eq!(compute_treasury_payable(Amount(1_500), floor, Amount(1_000)), Amount(600));
    }
}
