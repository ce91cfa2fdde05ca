//! Weighted selection of miners in O(log n) (DESIGN §4): the draw behind request assignment and task
//! participants.
//!
//! The rule is unchanged: a Ready miner of the service, not excluded and (for tasks) not in its selection
//! cooldown, with probability ∝ bonded stake × reputation. The index makes it cheap: per service, the
//! registered miners in id order with their current weight (0 unless reported Ready) in a Fenwick tree.
//! A draw picks a slot by weight in O(log n) and accepts it if the miner is eligible right now (not stale,
//! not excluded, not cooling down); otherwise it draws again, each attempt from its own hash. Conditioning
//! a weighted draw on acceptance gives exactly the weighted draw among the eligible miners. After
//! [`ATTEMPTS`] rejections (nearly everyone ineligible) it falls back to one pass over the service's
//! miners, so a draw never fails while an eligible miner exists.
//!
//! The index is derived state, not part of a snapshot: it is a pure function of the registry, the ledger's
//! bonded stake, reputations and the parameters, built lazily per service and kept exact by point updates
//! (`reweigh`) wherever one of those changes. Membership or parameter changes drop the service's index,
//! rebuilt at the next draw. Debug builds compare it with a fresh build after every block.

use crate::market::{MarketState, MinerStatus, ReportedStatus, Role};
use crate::{Ledger, Params};
use std::collections::{BTreeMap, BTreeSet};
use types::overlay::OverlayMap;
use types::{AccountId, Hash, Height, Ppb};

/// Weighted attempts before the exact fallback pass.
const ATTEMPTS: u32 = 32;

/// One service's miners in id order, their weights and a Fenwick tree over the weights.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct ServiceIndex {
    ids: Vec<AccountId>,
    weights: Vec<u128>,
    tree: Vec<u128>,
    total: u128,
}

impl ServiceIndex {
    fn build(ids: Vec<AccountId>, weights: Vec<u128>) -> ServiceIndex {
        let n = weights.len();
        let mut tree = weights.clone();
        for i in 0..n {
            let parent = i | (i + 1);
            if parent < n {
                tree[parent] += tree[i];
            }
        }
        let total = weights.iter().sum();
        ServiceIndex { ids, weights, tree, total }
    }

    fn set(&mut self, slot: usize, weight: u128) {
        let old = self.weights[slot];
        self.weights[slot] = weight;
        self.total = self.total - old + weight;
        let mut i = slot;
        while i < self.tree.len() {
            self.tree[i] = self.tree[i] - old + weight;
            i |= i + 1;
        }
    }

    /// The slot whose weight interval contains `r` (`r < total`).
    fn find(&self, mut r: u128) -> usize {
        let n = self.tree.len();
        let mut pos = 0usize; // number of slots fully below r
        let mut step = n.next_power_of_two();
        while step > 0 {
            let next = pos + step;
            if next <= n && self.tree[next - 1] <= r {
                r -= self.tree[next - 1];
                pos = next;
            }
            step >>= 1;
        }
        pos
    }
}

/// The per-service selection index (see the module comment).
#[derive(Debug, Clone, Default)]
pub(crate) struct DrawIndex {
    /// Shared between forks of the engine: a fork copies one service's index only when it reweighs one of
    /// its miners (`Arc::make_mut`).
    services: BTreeMap<u32, std::sync::Arc<ServiceIndex>>,
}

impl DrawIndex {
    /// Forget every service's index (parameters changed).
    pub(crate) fn clear(&mut self) {
        self.services.clear();
    }
}

fn digest(last_block_hash: &types::Hash, seed: &[u8], attempt: u32) -> u128 {
    let mut h = blake3::Hasher::new();
    h.update(b"stakework/draw/v2");
    h.update(&last_block_hash.0);
    h.update(seed);
    h.update(&attempt.to_le_bytes());
    let mut draw = [0u8; 16];
    draw.copy_from_slice(&h.finalize().as_bytes()[..16]);
    u128::from_le_bytes(draw)
}

/// What a draw reads besides the index: the registry and reputations, bonded stake, the parameters, the
/// height, the previous block hash (the randomness) and, for tasks, when each miner was last selected.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DrawView<'a> {
    pub market: &'a MarketState,
    pub ledger: &'a Ledger,
    pub params: &'a Params,
    pub height: Height,
    pub last_block_hash: Hash,
    /// With `Some`, miners selected within the last `selection_cooldown` blocks are skipped.
    pub cooldown: Option<&'a OverlayMap<AccountId, Height>>,
}

/// A miner's draw weight: (own + nominated stake) × reputation if it is a registered miner reporting Ready,
/// else 0. Own stake is its bonded stake less what it nominated to others (issue 21).
pub(crate) fn draw_weight(market: &MarketState, ledger: &Ledger, params: &Params, id: &AccountId) -> u128 {
    match market.node(id) {
        Some(n) if n.roles.contains(&Role::Miner) && n.reported == ReportedStatus::Ready => {
            let rep = u128::from(market.reputation_of(params, id).raw());
            let own = market.noms.own_stake(ledger, id).0;
            let stake = own.saturating_add(market.noms.nominated_to(id).0);
            types::mul_div_floor(stake, rep, u128::from(Ppb::ONE_RAW)).map_or(0, |(w, _)| w)
        }
        _ => 0,
    }
}

fn build_service_index(market: &MarketState, ledger: &Ledger, params: &Params, service: u32) -> ServiceIndex {
    let ids: Vec<AccountId> = market
        .nodes()
        .filter(|(_, n)| n.roles.contains(&Role::Miner) && n.services.contains(&service))
        .map(|(id, _)| *id)
        .collect();
    let weights = ids.iter().map(|id| draw_weight(market, ledger, params, id)).collect();
    ServiceIndex::build(ids, weights)
}

impl DrawView<'_> {
    fn eligible(&self, id: &AccountId, exclude: &BTreeSet<AccountId>) -> bool {
        !exclude.contains(id)
            && self.market.miner_status_at(self.params, id, self.height) == Some(MinerStatus::Ready)
            && self
                .cooldown
                .is_none_or(|last| last.get(id).is_none_or(|h| self.height.0 >= h.0 + self.params.selection_cooldown))
    }
}

impl DrawIndex {
    /// `id`'s weight may have changed (stake, reputation, reported status): update it where indexed.
    pub(crate) fn reweigh(&mut self, market: &MarketState, ledger: &Ledger, params: &Params, id: AccountId) {
        if self.services.is_empty() {
            return;
        }
        let weight = draw_weight(market, ledger, params, &id);
        let Some(node) = market.node(&id) else { return };
        for s in &node.services {
            if let Some(index) = self.services.get_mut(s) {
                if let Ok(slot) = index.ids.binary_search(&id) {
                    if index.weights[slot] != weight {
                        std::sync::Arc::make_mut(index).set(slot, weight);
                    }
                }
            }
        }
    }

    /// A node joins or leaves the registry: the indexes of its services are rebuilt at their next draw.
    pub(crate) fn reindex_membership(&mut self, services: &BTreeSet<u32>) {
        for s in services {
            self.services.remove(s);
        }
    }

    /// Draw one Ready miner of `service` not in `exclude`, with probability ∝ bonded stake × reputation,
    /// from blake3 of `seed` and the previous block hash. O(log n) while most weight is eligible.
    pub(crate) fn draw(
        &mut self,
        view: &DrawView,
        service: u32,
        exclude: &BTreeSet<AccountId>,
        seed: &[u8],
    ) -> Option<AccountId> {
        let index = self.services.entry(service).or_insert_with(|| {
            std::sync::Arc::new(build_service_index(view.market, view.ledger, view.params, service))
        });
        if index.total == 0 {
            return None;
        }
        for attempt in 0..ATTEMPTS {
            let slot = index.find(digest(&view.last_block_hash, seed, attempt) % index.total);
            let id = index.ids[slot];
            if view.eligible(&id, exclude) {
                return Some(id);
            }
        }
        // Nearly all weight is ineligible: one exact pass over the eligible miners.
        let candidates: Vec<(AccountId, u128)> = index
            .ids
            .iter()
            .zip(&index.weights)
            .filter(|(id, w)| **w > 0 && view.eligible(id, exclude))
            .map(|(id, w)| (*id, *w))
            .collect();
        let total: u128 = candidates.iter().map(|(_, w)| w).sum();
        if total == 0 {
            return None;
        }
        let mut r = digest(&view.last_block_hash, seed, ATTEMPTS) % total;
        for (id, w) in candidates {
            if r < w {
                return Some(id);
            }
            r -= w;
        }
        unreachable!("the draw is below the total weight")
    }

    /// Debug builds: every built service index equals a fresh build from the state.
    #[cfg(debug_assertions)]
    pub(crate) fn check(&self, market: &MarketState, ledger: &Ledger, params: &Params) {
        for (s, index) in &self.services {
            assert!(
                **index == build_service_index(market, ledger, params, *s),
                "selection index of service {s} out of step with the state (a missing reweigh)"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ServiceIndex;
    use types::AccountId;

    fn index(weights: &[u128]) -> ServiceIndex {
        let ids = (0..weights.len()).map(|i| AccountId([i as u8; 32])).collect();
        ServiceIndex::build(ids, weights.to_vec())
    }

    #[test]
    fn find_maps_each_unit_of_weight_to_its_slot() {
        let mut ix = index(&[3, 0, 5, 1, 0, 2]);
        let expect = |ix: &ServiceIndex| {
            let mut want = Vec::new();
            for (slot, w) in ix.weights.iter().enumerate() {
                want.extend(std::iter::repeat_n(slot, *w as usize));
            }
            let got: Vec<usize> = (0..ix.total).map(|r| ix.find(r)).collect();
            assert_eq!(got, want);
        };
        expect(&ix);
        ix.set(1, 4);
        ix.set(2, 0);
        ix.set(5, 7);
        expect(&ix);
        assert_eq!(ix, index(&[3, 4, 0, 1, 0, 7]), "point updates equal a rebuild");
    }
}
