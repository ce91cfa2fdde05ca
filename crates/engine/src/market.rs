//! The inference market (seed 000, DESIGN §4): node registry, services, requests, ratings, reputation
//! and per-epoch miner rewards.
//!
//! - Nodes register roles with bonded stake ≥ every role's minimum; miners report Ready/Busy, and one
//!   with no report for `heartbeat_timeout` blocks is Stale.
//! - A request holds its price from the client and is assigned at once to a Ready miner of the service,
//!   chosen with probability ∝ bonded stake × reputation, seeded by the previous block hash and the
//!   request id. The miner completes it (the hold pays the miner, less `protocol_fee` to the treasury) or
//!   it expires (refund, and a Bad network rating for the miner).
//! - The client may rate a completed request within `rating_window` blocks; a (client, miner) pair's
//!   latest rating replaces the earlier. Validation outcomes enter as network ratings.
//! - Each epoch the miners' pool pays `min(miner_reward_per_epoch, balance)` split by
//!   `score_m = rep_m × Σ_s requests_done(m, s) × weight_s`, exactly (largest remainder).

use crate::engine::{Deadline, EngineKey};
use crate::{Engine, Event, EventRecord, Params, Rejection};
use borsh::{BorshDeserialize, BorshSerialize};
use ledger::LedgerError;
use protocol::reputation::{logistic_ppb, mean_ppb, Rating};
use protocol::{HoldOwner, HoldReason, HoldTag};
use std::collections::{BTreeMap, BTreeSet};
use types::overlay::OverlayMap;
use types::{AccountId, Amount, Hash, Height, Ppb};

pub use protocol::market::{
    MinerStatus, NodeRecord, ReportedStatus, ReputationRecord, Request, RequestStatus, Role, Service, MINERS_POOL_NAME,
    POI_THRESHOLD_DEFAULT,
};

const ENDPOINT_LEN_MAX: usize = 256;
const SERVICES_PER_NODE_MAX: usize = 64;
const SERVICE_NAME_LEN_MAX: usize = 64;

/// Market state: part of the engine's state, snapshots and root.
#[derive(Debug, Clone, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub(crate) struct MarketState {
    pub nodes: OverlayMap<AccountId, NodeRecord>,
    pub services: OverlayMap<u32, Service>,
    pub next_service: u32,
    pub requests: OverlayMap<u64, Request>,
    pub next_request: u64,
    pub reputation: OverlayMap<AccountId, ReputationRecord>,
    /// Work done this epoch, per miner and service: (user requests and tasks, background tasks).
    pub epoch_work: OverlayMap<AccountId, BTreeMap<u32, (u64, u64)>>,
}

impl MarketState {
    pub(crate) fn service(&self, id: u32) -> Option<&Service> {
        self.services.get(&id)
    }
    pub(crate) fn is_registered(&self, id: &AccountId) -> bool {
        self.nodes.contains_key(id)
    }
    /// Whether `who` is registered with `role`.
    pub(crate) fn has_role(&self, who: &AccountId, role: Role) -> bool {
        self.nodes.get(who).is_some_and(|n| n.roles.contains(&role))
    }
    /// A miner's reputation (neutral before any rating).
    pub(crate) fn reputation_of(&self, params: &Params, id: &AccountId) -> Ppb {
        self.reputation.get(id).map_or_else(|| neutral_reputation(params), |r| r.reputation)
    }
    /// Is a service called `name` offered?
    pub(crate) fn has_service_named(&self, name: &str) -> bool {
        self.services.values().any(|s| s.name == name)
    }
    pub fn new() -> MarketState {
        MarketState { next_service: 1, next_request: 1, ..MarketState::default() }
    }
}

/// The reputation of a miner nobody has rated yet (0.5 with the default prior).
fn neutral_reputation(p: &Params) -> Ppb {
    logistic_ppb(mean_ppb(0, 0, p.reputation_prior, p.reputation_x0), p.reputation_k_milli, p.reputation_x0)
}

fn invalid(msg: &str) -> Rejection {
    Rejection::InvalidRegistration(msg.to_string())
}

impl Engine {
    // ----- queries -----------------------------------------------------------------------------------

    pub fn node(&self, id: &AccountId) -> Option<&NodeRecord> {
        self.m.nodes.get(id)
    }
    pub fn nodes(&self) -> impl Iterator<Item = (&AccountId, &NodeRecord)> {
        self.m.nodes.iter()
    }
    pub fn service(&self, id: u32) -> Option<&Service> {
        self.m.services.get(&id)
    }
    pub fn services(&self) -> impl Iterator<Item = &Service> {
        self.m.services.values()
    }
    pub fn request(&self, id: u64) -> Option<&Request> {
        self.m.requests.get(&id)
    }
    /// A miner's reputation (neutral, 0.5 with the default prior, before any rating).
    pub fn reputation(&self, id: &AccountId) -> Ppb {
        self.m.reputation_of(&self.params, id)
    }
    pub fn reputation_record(&self, id: &AccountId) -> Option<&ReputationRecord> {
        self.m.reputation.get(id)
    }
    /// A miner's status at `height`: Stale after `heartbeat_timeout` blocks without a report.
    pub fn miner_status_at(&self, id: &AccountId, height: Height) -> Option<MinerStatus> {
        let n = self.m.nodes.get(id).filter(|n| n.roles.contains(&Role::Miner))?;
        if height.0.saturating_sub(n.last_heartbeat.0) > self.params.heartbeat_timeout {
            return Some(MinerStatus::Stale);
        }
        Some(match n.reported {
            ReportedStatus::Ready => MinerStatus::Ready,
            ReportedStatus::Busy => MinerStatus::Busy,
        })
    }
    /// Whether `who` is registered with `role`.
    pub fn has_role(&self, who: &AccountId, role: Role) -> bool {
        self.m.has_role(who, role)
    }
    /// The least bonded stake a node with these roles needs.
    pub fn stake_required(&self, roles: &BTreeSet<Role>) -> Amount {
        let p = &self.params;
        roles
            .iter()
            .map(|r| match r {
                Role::Miner => p.miner_stake_min,
                Role::Oracle => p.oracle_stake_min,
                Role::Router => p.router_stake_min,
                Role::DataOwner => p.data_owner_stake_min,
                Role::Mpc => p.mpc_stake_min,
                Role::Coordinator => p.coordinator_stake_min,
            })
            .max()
            .unwrap_or(Amount::ZERO)
    }

    pub(crate) fn add_service(
        &mut self,
        name: &str,
        weight: u32,
        price: Amount,
        poi_threshold: Ppb,
    ) -> Result<u32, Rejection> {
        if weight == 0 {
            return Err(Rejection::ZeroWeight);
        }
        if name.is_empty() || name.len() > SERVICE_NAME_LEN_MAX {
            return Err(Rejection::InvalidService(format!("a service name is 1 to {SERVICE_NAME_LEN_MAX} bytes")));
        }
        if self.m.services.values().any(|s| s.name == name) {
            return Err(Rejection::InvalidService(format!("service {name:?} already exists")));
        }
        // After this point the command must succeed.
        let id = self.m.next_service;
        self.m.next_service += 1;
        self.m.services.insert(id, Service { id, name: name.to_string(), weight, price, poi_threshold });
        self.dirty.insert(EngineKey::Service(id));
        Ok(id)
    }

    /// Governance's `SetServiceWeight`, applied at an epoch boundary.
    pub(crate) fn set_service_weight(&mut self, service: u32, weight: u32) -> Result<(), Rejection> {
        let s = self.m.services.get_mut(&service).ok_or(Rejection::UnknownService(service))?;
        s.weight = weight;
        self.dirty.insert(EngineKey::Service(service));
        Ok(())
    }

    // ----- registry ----------------------------------------------------------------------------------

    pub(crate) fn register_node(
        &mut self,
        signer: AccountId,
        roles: &[Role],
        services: &[u32],
        capacity: u32,
        endpoint: &str,
    ) -> Result<Event, Rejection> {
        if self.m.nodes.contains_key(&signer) {
            return Err(Rejection::AlreadyRegistered);
        }
        let roles: BTreeSet<Role> = roles.iter().copied().collect();
        let services: BTreeSet<u32> = services.iter().copied().collect();
        if roles.is_empty() {
            return Err(invalid("register at least one role"));
        }
        if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) || endpoint.len() > ENDPOINT_LEN_MAX {
            return Err(invalid("the endpoint is an http(s) URL of at most 256 bytes"));
        }
        if capacity == 0 || capacity > 1_000_000 {
            return Err(invalid("capacity is between 1 and 1000000 concurrent requests"));
        }
        if services.len() > SERVICES_PER_NODE_MAX || (roles.contains(&Role::Miner) && services.is_empty()) {
            return Err(invalid("a miner serves 1 to 64 services"));
        }
        if let Some(s) = services.iter().find(|s| !self.m.services.contains_key(s)) {
            return Err(Rejection::UnknownService(*s));
        }
        let needed = self.stake_required(&roles);
        let bonded = self.ledger.bonded(&signer);
        if bonded < needed {
            return Err(Rejection::InsufficientStake { needed, bonded });
        }
        // After this point the command must succeed.
        let h = self.height;
        let record = NodeRecord {
            roles: roles.clone(),
            services: services.clone(),
            capacity,
            endpoint: endpoint.to_string(),
            reported: ReportedStatus::Ready,
            last_heartbeat: h,
            registered_at: h,
        };
        self.m.nodes.insert(signer, record);
        self.dirty.insert(EngineKey::Node(signer));
        self.reindex_membership(&services);
        Ok(Event::NodeRegistered {
            account: signer,
            roles: roles.into_iter().collect(),
            services: services.into_iter().collect(),
            capacity,
        })
    }

    /// Leave the registry; all bonded stake starts unbonding.
    pub(crate) fn deregister_node(&mut self, signer: AccountId) -> Result<Event, Rejection> {
        if !self.m.nodes.contains_key(&signer) {
            return Err(Rejection::NotRegistered);
        }
        let bonded = self.ledger.bonded(&signer);
        let matures_at = self.height.checked_add(self.params.unbonding_period).ok_or(LedgerError::AmountOverflow)?;
        if !bonded.is_zero() {
            // Checked by the ledger before it changes anything; the registry changes only after it.
            self.ledger.unbond(signer, bonded, self.height, matures_at, self.params.max_unbonding_chunks as usize)?;
            self.deadlines.insert((matures_at, Deadline::UnbondMaturity(signer)));
        }
        // After this point the command must succeed.
        if let Some(node) = self.m.nodes.remove(&signer) {
            self.reindex_membership(&node.services);
        }
        self.dirty.insert(EngineKey::Node(signer));
        Ok(Event::NodeDeregistered { account: signer, unbonding: bonded, matures_at })
    }

    /// A status report, which is also the node's heartbeat.
    pub(crate) fn report_status(&mut self, signer: AccountId, status: ReportedStatus) -> Result<Event, Rejection> {
        let h = self.height;
        let node = self.m.nodes.get_mut(&signer).ok_or(Rejection::NotRegistered)?;
        // After this point the command must succeed.
        let changed = node.reported != status;
        node.reported = status;
        node.last_heartbeat = h;
        self.dirty.insert(EngineKey::Node(signer));
        if changed {
            self.reweigh(signer);
        }
        Ok(Event::StatusReported { account: signer, status })
    }

    // ----- requests ----------------------------------------------------------------------------------

    pub(crate) fn submit_request(
        &mut self,
        client: AccountId,
        service: u32,
        max_price: Amount,
        avoid: &[crate::ListRef],
    ) -> Result<Event, Rejection> {
        crate::epoch::check_avoid(avoid)?;
        let s = self.m.services.get(&service).ok_or(Rejection::UnknownService(service))?;
        let price = s.price;
        if price > max_price {
            return Err(Rejection::PriceAboveMax { price, max_price });
        }
        let id = self.m.next_request;
        let mut seed = b"request".to_vec();
        seed.extend_from_slice(&id.to_le_bytes());
        let mut exclude = self.e.avoided(avoid);
        exclude.insert(client);
        let miner = self.draw_miner(service, &exclude, &seed, false).ok_or(Rejection::NoMinerAvailable(service))?;
        let expires_at = self.height.checked_add(self.params.request_timeout).ok_or(LedgerError::AmountOverflow)?;
        // A zero price holds nothing; the ledger refuses empty holds, so such requests carry no hold.
        let hold = if price.is_zero() {
            None
        } else {
            Some(self.ledger.hold_create(
                client,
                price,
                HoldTag::new(HoldOwner::Request(id), HoldReason::RequestPrice),
                self.height,
                None,
            )?)
        };
        // After this point the command must succeed.
        self.m.next_request += 1;
        let request = Request {
            id,
            client,
            service,
            miner,
            price,
            hold,
            submitted_at: self.height,
            expires_at,
            status: RequestStatus::Assigned,
            rating: None,
        };
        self.m.requests.insert(id, request);
        self.deadlines.insert((expires_at, Deadline::RequestExpiry(id)));
        self.dirty.extend([EngineKey::Request(id), EngineKey::Counters]);
        Ok(Event::RequestSubmitted { request: id, client, service, miner, price, expires_at })
    }

    pub(crate) fn complete_request(
        &mut self,
        signer: AccountId,
        id: u64,
        result_hash: Hash,
    ) -> Result<Event, Rejection> {
        let r = self.m.requests.get(&id).ok_or(Rejection::UnknownRequest(id))?;
        if r.miner != signer {
            return Err(Rejection::NotAuthorized);
        }
        if r.status != RequestStatus::Assigned {
            return Err(Rejection::RequestNotOpen(id));
        }
        let (price, hold, service, expires_at) = (r.price, r.hold, r.service, r.expires_at);
        let fee = self.params.protocol_fee.mul_floor(price);
        let paid = Amount(price.0 - fee.0);
        let payouts: Vec<(AccountId, Amount)> =
            [(signer, paid), (self.treasury, fee)].into_iter().filter(|(_, a)| !a.is_zero()).collect();
        if !payouts.is_empty() {
            self.ledger.hold_post(hold.expect("a priced request has a hold"), &payouts)?;
        }
        // After this point the command must succeed.
        let h = self.height;
        self.deadlines.remove(&(expires_at, Deadline::RequestExpiry(id)));
        // The record stays for rating, then is pruned a rating window after the window closes.
        let close = h.checked_add(2 * self.params.rating_window).expect("periods are capped at 2^32 blocks");
        self.deadlines.insert((close, Deadline::RequestClose(id)));
        let r = self.m.requests.get_mut(&id).expect("looked up above");
        r.status = RequestStatus::Completed { at: h, result_hash };
        self.m.epoch_work.get_or_insert_with(signer, Default::default).entry(service).or_default().0 += 1;
        self.dirty.extend([EngineKey::Request(id), EngineKey::EpochWork(signer)]);
        Ok(Event::RequestCompleted { request: id, miner: signer, result_hash, paid, fee })
    }

    pub(crate) fn rate_request(&mut self, signer: AccountId, id: u64, rating: Rating) -> Result<Event, Rejection> {
        let r = self.m.requests.get(&id).ok_or(Rejection::UnknownRequest(id))?;
        if r.client != signer {
            return Err(Rejection::NotAuthorized);
        }
        let RequestStatus::Completed { at, .. } = r.status else {
            return Err(Rejection::RequestNotCompleted(id));
        };
        if self.height.0 > at.0 + self.params.rating_window {
            return Err(Rejection::RatingWindowClosed(id));
        }
        // After this point the command must succeed.
        let miner = r.miner;
        self.m.requests.get_mut(&id).expect("looked up above").rating = Some(rating);
        self.m.reputation.get_or_insert_with(miner, Default::default).by_client.insert(signer, rating);
        let reputation = self.refresh_reputation(miner);
        self.dirty.insert(EngineKey::Request(id));
        Ok(Event::RequestRated { request: id, miner, rating, reputation })
    }

    /// A validation outcome as a rating from the network (the PoUW hook): passing counts Good, an outlier
    /// or a missed deadline Bad.
    pub(crate) fn record_network_rating(&mut self, miner: AccountId, good: bool) -> Ppb {
        let rec = self.m.reputation.get_or_insert_with(miner, Default::default);
        if good {
            rec.network_good += 1;
        } else {
            rec.network_bad += 1;
        }
        self.refresh_reputation(miner)
    }

    fn refresh_reputation(&mut self, miner: AccountId) -> Ppb {
        let p = &self.params;
        let rec = self.m.reputation.get_or_insert_with(miner, Default::default);
        let x = mean_ppb(rec.sum_halves(), rec.ratings(), p.reputation_prior, p.reputation_x0);
        rec.reputation = logistic_ppb(x, p.reputation_k_milli, p.reputation_x0);
        let reputation = rec.reputation;
        self.dirty.insert(EngineKey::Reputation(miner));
        self.reweigh(miner);
        reputation
    }

    /// End-of-block: an unfinished request expires; the client is refunded and the miner rated Bad.
    pub(crate) fn expire_request(&mut self, id: u64, events: &mut Vec<EventRecord>) {
        let r = self.m.requests.remove(&id).expect("an expiry deadline is removed when its request completes");
        if let Some(hold) = r.hold {
            self.ledger.hold_void(hold).expect("an assigned request's hold is open");
        }
        self.dirty.insert(EngineKey::Request(id));
        let reputation = self.record_network_rating(r.miner, false);
        events.push(EventRecord {
            tx: None,
            event: Event::RequestExpired {
                request: id,
                client: r.client,
                miner: r.miner,
                refunded: r.price,
                reputation,
            },
        });
    }

    /// End-of-block: forget a completed request once its rating window is long closed.
    pub(crate) fn close_request(&mut self, id: u64) {
        if self.m.requests.remove(&id).is_some() {
            self.dirty.insert(EngineKey::Request(id));
        }
    }

    // ----- rewards -----------------------------------------------------------------------------------

    /// Pay the epoch's miner rewards: gather each miner's weighted work and reputation, compute the exact
    /// split ([`compute_miner_rewards`]), then apply it as transfers from the pool.
    pub(crate) fn settle_miner_rewards(&mut self, epoch: u64, events: &mut Vec<EventRecord>) {
        let work = std::mem::take(&mut self.m.epoch_work);
        let mut inputs = Vec::with_capacity(work.len());
        for (miner, by_service) in &work {
            self.dirty.insert(EngineKey::EpochWork(*miner));
            // Volume in ppb units so background work can count at `background_weight` exactly.
            let bg = u128::from(self.params.background_weight.raw());
            let volume: u128 = by_service
                .iter()
                .map(|(s, (user, background))| {
                    let w = u128::from(self.m.services.get(s).map_or(1, |s| s.weight));
                    w * (u128::from(*user) * u128::from(Ppb::ONE_RAW) + u128::from(*background) * bg)
                })
                .sum();
            inputs.push((*miner, self.reputation(miner), volume));
        }
        let pool = AccountId::system(MINERS_POOL_NAME);
        let pot = Amount(self.params.miner_reward_per_epoch.0.min(self.ledger.free(&pool).0));
        for r in compute_miner_rewards(pot, &inputs) {
            self.ledger.transfer(pool, r.miner, r.amount).expect("the parts sum to the pot, which the pool holds");
            events.push(EventRecord {
                tx: None,
                event: Event::MinerRewarded { epoch, miner: r.miner, amount: r.amount, score: r.score },
            });
        }
    }
}

/// One miner's share of an epoch's rewards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MinerReward {
    pub miner: AccountId,
    pub amount: Amount,
    pub score: u128,
}

/// The compute step of epoch miner rewards: `score = reputation (ppb) × weighted volume`, and `pot` split
/// by score with largest remainder (exact, never more than the pot, ties by account id). Miners whose share
/// rounds to zero are left out. `work` holds (miner, reputation, Σ requests done × service weight), one
/// entry per miner.
pub fn compute_miner_rewards(pot: Amount, work: &[(AccountId, Ppb, u128)]) -> Vec<MinerReward> {
    let scores: Vec<(AccountId, u128)> = work
        .iter()
        .map(|(m, rep, volume)| (*m, volume.saturating_mul(u128::from(rep.raw()))))
        .filter(|(_, s)| *s > 0)
        .collect();
    if scores.is_empty() || pot.is_zero() {
        return Vec::new();
    }
    let parts = ledger::distribute(pot, &scores).expect("scores are positive, one per miner, and their sum fits");
    // `distribute` returns parts in ascending id order, like `scores` once sorted.
    let mut sorted = scores;
    sorted.sort_unstable_by_key(|(m, _)| *m);
    parts
        .into_iter()
        .zip(sorted)
        .filter(|((_, a), _)| !a.is_zero())
        .map(|((miner, amount), (_, score))| MinerReward { miner, amount, score })
        .collect()
}
