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
//! Curated lists: the network's, and any staked account's own (`PublishList`). A client names lists when it
//! submits a request or a task; selection skips every node on them.

use crate::engine::EngineKey;
use crate::points::{compute_points_payout, points_failure, EpochPoints, NodePoints, PointsRules};
use crate::{Engine, Event, EventRecord, Rejection, BACKGROUND_POOL_NAME, MINERS_POOL_NAME};
use borsh::{BorshDeserialize, BorshSerialize};
use std::collections::{BTreeMap, BTreeSet};
use types::overlay::OverlayMap;
use types::{AccountId, Amount, Height};

pub use protocol::epoch::{
    CuratedList, ListRef, NETWORK_LISTS_NAME, POINTS_POOL_NAME, ROUTERS_POOL_NAME, UNDERPERFORMERS,
};

const LIST_NAME_LEN_MAX: usize = 64;

#[derive(Debug, Clone, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub(crate) struct EpochState {
    pub points: EpochPoints,
    /// The last finished epoch's points (for queries).
    pub last_points: EpochPoints,
    pub last_epoch: u64,
    /// Lists by owner (the network's under `AccountId::system("network")`), then name.
    pub lists: OverlayMap<AccountId, BTreeMap<String, CuratedList>>,
}

/// The epoch a height belongs to (epoch 1 is heights 1..=epoch_length).
pub(crate) fn epoch_of(params: &crate::Params, height: Height) -> u64 {
    height.0.saturating_sub(1) / params.epoch_length + 1
}

impl Engine {
    // ----- queries -----------------------------------------------------------------------------------

    /// Points of the epoch in progress.
    pub fn epoch_points(&self) -> &EpochPoints {
        &self.e.points
    }
    /// Points of the last finished epoch, and its number (0 before the first ends).
    pub fn last_epoch_points(&self) -> (u64, &EpochPoints) {
        (self.e.last_epoch, &self.e.last_points)
    }
    /// The epoch a height belongs to: blocks `(e − 1)·L + 1 ..= e·L` are epoch `e`.
    pub fn epoch_of(&self, height: Height) -> u64 {
        epoch_of(&self.params, height)
    }
    pub fn list(&self, list: &ListRef) -> Option<&CuratedList> {
        let owner = list.owner.unwrap_or_else(|| AccountId::system(NETWORK_LISTS_NAME));
        self.e.lists.get(&owner).and_then(|l| l.get(&list.name))
    }
    /// Every list: (owner, `None` for the network), name, list.
    pub fn lists(&self) -> Vec<(Option<AccountId>, &str, &CuratedList)> {
        let network = AccountId::system(NETWORK_LISTS_NAME);
        let mut out = Vec::new();
        for (owner, lists) in &self.e.lists {
            for (name, l) in lists {
                out.push(((*owner != network).then_some(*owner), name.as_str(), l));
            }
        }
        out
    }

    pub(crate) fn points_rules(&self) -> PointsRules {
        let p = &self.params;
        PointsRules {
            success: u128::from(p.points_success),
            failure: points_failure(u128::from(p.points_success), p.points_target_failure_rate),
            blame_culprits: p.points_blame_culprits,
            block: u128::from(p.points_block),
        }
    }

    fn touch_points(&mut self, nodes: impl IntoIterator<Item = AccountId>) {
        for n in nodes {
            self.dirty.insert(EngineKey::Points(n));
        }
    }

    /// An ended task: book its round for epoch points.
    pub(crate) fn book_task_ended(&mut self, passed: &[AccountId], outliers: &[AccountId]) {
        let rules = self.points_rules();
        self.e.points.record_ended(passed, outliers, &rules);
        self.touch_points(passed.iter().chain(outliers).copied());
    }

    /// A failed task: a realtime failure costs points (team or culprits); an earlier failure costs nothing.
    pub(crate) fn book_task_failed(&mut self, team: &[AccountId], culprits: &[AccountId], realtime: bool) {
        if !realtime {
            return;
        }
        let rules = self.points_rules();
        self.e.points.record_failure(team, culprits, &rules);
        self.touch_points(team.iter().copied());
    }

    pub(crate) fn book_block(&mut self) {
        if let Some(producer) = self.params.block_producer {
            let rules = self.points_rules();
            if rules.block > 0 {
                self.e.points.record_block(producer, &rules);
                self.touch_points([producer]);
            }
        }
    }

    /// Every node on the named lists (unknown lists name nobody).
    pub(crate) fn avoided(&self, lists: &[ListRef]) -> BTreeSet<AccountId> {
        lists.iter().filter_map(|l| self.list(l)).flat_map(|l| l.nodes.iter().copied()).collect()
    }

    pub(crate) fn check_avoid(&self, lists: &[ListRef]) -> Result<(), Rejection> {
        if lists.len() > 16 {
            return Err(Rejection::InvalidList("name at most 16 lists to avoid".into()));
        }
        Ok(())
    }

    pub(crate) fn publish_list(
        &mut self,
        owner: AccountId,
        name: &str,
        nodes: &[AccountId],
    ) -> Result<Event, Rejection> {
        if self.ledger.bonded(&owner).is_zero() {
            return Err(Rejection::NoStake);
        }
        if name.is_empty() || name.len() > LIST_NAME_LEN_MAX || !name.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(Rejection::InvalidList("a list name is 1 to 64 visible ASCII characters".into()));
        }
        if nodes.len() > self.params.list_len_max as usize {
            return Err(Rejection::InvalidList(format!("a list holds at most {} nodes", self.params.list_len_max)));
        }
        // After this point the command must succeed.
        let list = CuratedList { nodes: nodes.iter().copied().collect(), published_at: self.height };
        let count = list.nodes.len() as u32;
        self.e.lists.get_or_insert_with(owner, Default::default).insert(name.to_string(), list);
        self.dirty.insert(EngineKey::Lists(owner));
        Ok(Event::ListPublished { owner: Some(owner), name: name.to_string(), nodes: count })
    }

    // ----- the epoch boundary ------------------------------------------------------------------------

    /// Mint the epoch's emission into the pools by the governed shares; the rest goes to the treasury.
    pub(crate) fn mint_emission(&mut self, epoch: u64, events: &mut Vec<EventRecord>) {
        let p = &self.params;
        let total = p.emission_per_epoch;
        if total.is_zero() {
            return;
        }
        let mut parts = vec![
            (MINERS_POOL_NAME, p.emission_share_miners.mul_floor(total)),
            (POINTS_POOL_NAME, p.emission_share_points.mul_floor(total)),
            (ROUTERS_POOL_NAME, p.emission_share_routers.mul_floor(total)),
            (BACKGROUND_POOL_NAME, p.emission_share_background.mul_floor(total)),
        ];
        let pooled = Amount::checked_sum(parts.iter().map(|(_, a)| *a)).expect("shares sum to at most 100%");
        parts.push((crate::TREASURY_NAME, Amount(total.0 - pooled.0)));
        if self.ledger.total_supply().checked_add(total).is_none() {
            // Minting would overflow the supply: the epoch mints nothing (recorded as a zero emission).
            events.push(EventRecord {
                tx: None,
                event: Event::EmissionMinted { epoch, total: Amount::ZERO, parts: Vec::new() },
            });
            return;
        }
        for (name, amount) in &parts {
            if !amount.is_zero() {
                self.ledger.mint(AccountId::system(name), *amount).expect("supply overflow was checked");
            }
        }
        let parts = parts.into_iter().map(|(n, a)| (n.to_string(), a)).collect();
        events.push(EventRecord { tx: None, event: Event::EmissionMinted { epoch, total, parts } });
    }

    /// Pay the points pool by floored nets.
    pub(crate) fn settle_points(&mut self, epoch: u64, events: &mut Vec<EventRecord>) {
        let pool = AccountId::system(POINTS_POOL_NAME);
        let pot = self.ledger.free(&pool);
        for (node, amount) in compute_points_payout(pot, &self.e.points) {
            self.ledger.transfer(pool, node, amount).expect("the parts sum to the pool's balance");
            let p = self.e.points.nodes[&node];
            events.push(EventRecord {
                tx: None,
                event: Event::PointsRewarded { epoch, node, earned: p.earned, deducted: p.deducted, amount },
            });
        }
    }

    /// What the miners', points' and routers' pools could not pay, and the background pool's balance above one
    /// epoch's share, return to the treasury.
    pub(crate) fn sweep_pools(&mut self, events: &mut Vec<EventRecord>) {
        if self.params.emission_per_epoch.is_zero() {
            // Without emission, pools are funded by hand (genesis, transfers) and keep what they hold.
            return;
        }
        let keep_background = self.params.emission_share_background.mul_floor(self.params.emission_per_epoch);
        for (name, keep) in [
            (MINERS_POOL_NAME, Amount::ZERO),
            (POINTS_POOL_NAME, Amount::ZERO),
            (ROUTERS_POOL_NAME, Amount::ZERO),
            (BACKGROUND_POOL_NAME, keep_background),
        ] {
            let pool = AccountId::system(name);
            let excess = Amount(self.ledger.free(&pool).0.saturating_sub(keep.0));
            if !excess.is_zero() {
                self.ledger.transfer(pool, self.treasury, excess).expect("the pool holds the excess");
                events
                    .push(EventRecord { tx: None, event: Event::PoolSwept { pool: name.to_string(), amount: excess } });
            }
        }
    }

    /// Publish the network's `underperformers`, keep the epoch's points for queries, and start afresh.
    pub(crate) fn close_epoch_points(&mut self, epoch: u64, events: &mut Vec<EventRecord>) {
        let limit = self.params.list_failure_rate;
        let nodes: BTreeSet<AccountId> = self
            .e
            .points
            .nodes
            .iter()
            .filter(|(_, p): &(&AccountId, &NodePoints)| p.rounds > 0 && p.failure_rate() > limit)
            .map(|(a, _)| *a)
            .collect();
        let network = AccountId::system(NETWORK_LISTS_NAME);
        let count = nodes.len() as u32;
        self.e
            .lists
            .get_or_insert_with(network, Default::default)
            .insert(UNDERPERFORMERS.to_string(), CuratedList { nodes, published_at: self.height });
        self.dirty.insert(EngineKey::Lists(network));
        events.push(EventRecord {
            tx: None,
            event: Event::ListPublished { owner: None, name: UNDERPERFORMERS.to_string(), nodes: count },
        });
        let finished = std::mem::take(&mut self.e.points);
        self.touch_points(finished.nodes.keys().copied().collect::<Vec<_>>());
        self.e.last_points = finished;
        self.e.last_epoch = epoch;
        self.dirty.insert(EngineKey::LastPoints);
    }
}
