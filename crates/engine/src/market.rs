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
//!   latest rating replaces the earlier. The pair's rating weighs what the client paid the miner for the
//!   requests it rated, over `rating_weight_cap` (at most one full rating; issue 19). Validation
//!   outcomes enter as network ratings of weight one.
//! - Each epoch the miners' pool pays `min(miner_reward_per_epoch, balance)` split by
//!   `score_m = rep_m × Σ_s requests_done(m, s) × weight_s`, exactly (largest remainder).

use crate::draw::DrawIndex;
use crate::engine::{overlay_maps, Ctx, Deadline, EngineKey};
use crate::{Event, Params, Rejection};
use borsh::{BorshDeserialize, BorshSerialize};
use ledger::LedgerError;
use protocol::reputation::{logistic_ppb, mean_ppb, weighted_mean_ppb, Rating};
use protocol::{HoldOwner, HoldReason, HoldTag};
use std::collections::{BTreeMap, BTreeSet};
use types::overlay::OverlayMap;
use types::{AccountId, Amount, Hash, Height, Ppb};

pub use protocol::market::{
    ClientRating, MinerStatus, NodeRecord, ReportedStatus, ReputationRecord, Request, RequestStatus, Role, Service,
    MINERS_POOL_NAME, POI_THRESHOLD_DEFAULT,
};

const ENDPOINT_LEN_MAX: usize = 256;
const SERVICES_PER_NODE_MAX: usize = 64;
const SERVICE_NAME_LEN_MAX: usize = 64;

/// The market's state. Private: the engine and other modules use the functions below.
#[derive(Debug, Clone, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub(crate) struct MarketState {
    nodes: OverlayMap<AccountId, NodeRecord>,
    services: OverlayMap<u32, Service>,
    next_service: u32,
    requests: OverlayMap<u64, Request>,
    next_request: u64,
    reputation: OverlayMap<AccountId, ReputationRecord>,
    /// Work done this epoch, per miner and service: (user requests and tasks, background tasks).
    epoch_work: OverlayMap<AccountId, BTreeMap<u32, (u64, u64)>>,
    /// Nominations and commissions (issue 21; see `nominate`).
    pub(crate) noms: crate::nominate::Nominations,
    /// Validator candidates and elected sets (issue 21; see `validators`).
    pub(crate) vals: crate::validators::Validators,
}

overlay_maps!(MarketState {
    nodes,
    services,
    requests,
    reputation,
    epoch_work,
    noms.by_node,
    noms.out,
    noms.commission,
    vals.candidates,
    vals.sets,
    vals.reported
});

/// The market's entries in the state root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MarketKey {
    Node(AccountId),
    Service(u32),
    Request(u64),
    Reputation(AccountId),
    EpochWork(AccountId),
    Nominations(AccountId),
    NominatedOut(AccountId),
    Commission(AccountId),
    Candidate(AccountId),
    ValidatorSet(u64),
    Equivocation(AccountId, u64),
}

impl From<MarketKey> for EngineKey {
    fn from(key: MarketKey) -> EngineKey {
        match key {
            MarketKey::Node(id) => EngineKey::Node(id),
            MarketKey::Service(id) => EngineKey::Service(id),
            MarketKey::Request(id) => EngineKey::Request(id),
            MarketKey::Reputation(id) => EngineKey::Reputation(id),
            MarketKey::EpochWork(id) => EngineKey::EpochWork(id),
            MarketKey::Nominations(id) => EngineKey::Nominations(id),
            MarketKey::NominatedOut(id) => EngineKey::NominatedOut(id),
            MarketKey::Commission(id) => EngineKey::Commission(id),
            MarketKey::Candidate(id) => EngineKey::Candidate(id),
            MarketKey::ValidatorSet(era) => EngineKey::ValidatorSet(era),
            MarketKey::Equivocation(key, era) => EngineKey::Equivocation(key, era),
        }
    }
}

/// The market's deadlines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MarketDeadline {
    /// The request was not completed in time: refund the client.
    RequestExpiry(u64),
    /// The completed request's rating window is long closed: forget it.
    RequestClose(u64),
}

impl From<MarketDeadline> for Deadline {
    fn from(deadline: MarketDeadline) -> Deadline {
        match deadline {
            MarketDeadline::RequestExpiry(id) => Deadline::RequestExpiry(id),
            MarketDeadline::RequestClose(id) => Deadline::RequestClose(id),
        }
    }
}

impl MarketState {
    pub fn new() -> MarketState {
        MarketState { next_service: 1, next_request: 1, ..MarketState::default() }
    }
    pub fn node(&self, id: &AccountId) -> Option<&NodeRecord> {
        self.nodes.get(id)
    }
    pub fn nodes(&self) -> impl Iterator<Item = (&AccountId, &NodeRecord)> {
        self.nodes.iter()
    }
    pub fn service(&self, id: u32) -> Option<&Service> {
        self.services.get(&id)
    }
    pub fn services(&self) -> impl Iterator<Item = &Service> {
        self.services.values()
    }
    pub fn request(&self, id: u64) -> Option<&Request> {
        self.requests.get(&id)
    }
    pub fn reputation_record(&self, id: &AccountId) -> Option<&ReputationRecord> {
        self.reputation.get(id)
    }
    pub fn is_registered(&self, id: &AccountId) -> bool {
        self.nodes.contains_key(id)
    }
    /// Whether `who` is registered with `role`.
    pub fn has_role(&self, who: &AccountId, role: Role) -> bool {
        self.nodes.get(who).is_some_and(|n| n.roles.contains(&role))
    }
    /// A miner's reputation (neutral before any rating).
    pub fn reputation_of(&self, params: &Params, id: &AccountId) -> Ppb {
        self.reputation.get(id).map_or_else(|| neutral_reputation(params), |r| r.reputation)
    }
    /// The services' ids in order.
    pub fn service_ids(&self) -> Vec<u32> {
        self.services.keys().copied().collect()
    }
    /// The miner of every request waiting for it (a miner once per open request; O(requests)).
    pub fn serving_miners(&self) -> impl Iterator<Item = AccountId> + '_ {
        self.requests.values().filter(|r| r.status == RequestStatus::Assigned).map(|r| r.miner)
    }
    /// Is a service called `name` offered?
    pub fn has_service_named(&self, name: &str) -> bool {
        self.services.values().any(|s| s.name == name)
    }
    /// A miner's status at `height`: Stale after `heartbeat_timeout` blocks without a report.
    pub fn miner_status_at(&self, params: &Params, id: &AccountId, height: Height) -> Option<MinerStatus> {
        let n = self.nodes.get(id).filter(|n| n.roles.contains(&Role::Miner))?;
        if height.0.saturating_sub(n.last_heartbeat.0) > params.heartbeat_timeout {
            return Some(MinerStatus::Stale);
        }
        Some(match n.reported {
            ReportedStatus::Ready => MinerStatus::Ready,
            ReportedStatus::Busy => MinerStatus::Busy,
        })
    }
    /// The ids the next service and the next request get (part of the root's counters entry).
    pub fn counters(&self) -> (u32, u64) {
        (self.next_service, self.next_request)
    }
    /// Book a unit of work (a served request or a passed task) for this epoch's miner rewards.
    pub fn record_work(&mut self, ctx: &mut Ctx, miner: AccountId, service: u32, background: bool) {
        let w = self.epoch_work.get_or_insert_with(miner, Default::default).entry(service).or_default();
        if background {
            w.1 += 1;
        } else {
            w.0 += 1;
        }
        ctx.touch(MarketKey::EpochWork(miner));
    }
    /// `borsh(current value or None)` of a market entry of the state root.
    pub fn encode_entry(&self, key: MarketKey, out: &mut Vec<u8>) {
        match key {
            MarketKey::Node(id) => borsh::to_writer(out, &self.nodes.get(&id)),
            MarketKey::Service(id) => borsh::to_writer(out, &self.services.get(&id)),
            MarketKey::Request(id) => borsh::to_writer(out, &self.requests.get(&id)),
            MarketKey::Reputation(id) => borsh::to_writer(out, &self.reputation.get(&id)),
            MarketKey::EpochWork(id) => borsh::to_writer(out, &self.epoch_work.get(&id)),
            MarketKey::Nominations(id) => borsh::to_writer(out, &self.noms.by_node.get(&id)),
            MarketKey::NominatedOut(id) => borsh::to_writer(out, &self.noms.out.get(&id)),
            MarketKey::Commission(id) => borsh::to_writer(out, &self.noms.commission.get(&id)),
            MarketKey::Candidate(id) => borsh::to_writer(out, &self.vals.candidates.get(&id)),
            MarketKey::ValidatorSet(era) => borsh::to_writer(out, &self.vals.sets.get(&era)),
            MarketKey::Equivocation(key, era) => borsh::to_writer(out, &self.vals.reported.get(&(key, era))),
        }
        .expect("writing to a Vec cannot fail");
    }
    /// The deadlines this state implies (assigned requests' expiries), for checking a restored snapshot.
    pub fn implied_deadlines(&self) -> impl Iterator<Item = (Height, Deadline)> + '_ {
        self.requests
            .values()
            .filter(|r| r.status == RequestStatus::Assigned)
            .map(|r| (r.expires_at, MarketDeadline::RequestExpiry(r.id).into()))
    }
}

/// The reputation of a miner nobody has rated yet (0.5 with the default prior).
fn neutral_reputation(p: &Params) -> Ppb {
    logistic_ppb(mean_ppb(0, 0, p.reputation_prior, p.reputation_x0), p.reputation_k_milli, p.reputation_x0)
}

fn invalid(msg: &str) -> Rejection {
    Rejection::InvalidRegistration(msg.to_string())
}

/// The least bonded stake a node with these roles needs.
pub(crate) fn stake_required(p: &Params, roles: &BTreeSet<Role>) -> Amount {
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

// ----- services ------------------------------------------------------------------------------------------

/// A service weight is 1 to [`protocol::params::SERVICE_WEIGHT_MAX`] (genesis and governance).
pub(crate) fn check_weight(weight: u32) -> Result<(), Rejection> {
    if weight == 0 {
        return Err(Rejection::ZeroWeight);
    }
    if weight > protocol::params::SERVICE_WEIGHT_MAX {
        let max = protocol::params::SERVICE_WEIGHT_MAX;
        return Err(Rejection::InvalidService(format!("a service weight is at most {max}")));
    }
    Ok(())
}

pub(crate) fn add_service(
    ctx: &mut Ctx,
    m: &mut MarketState,
    name: &str,
    (weight, price): (u32, Amount),
    (poi_threshold, semantic_poi): (Ppb, bool),
) -> Result<u32, Rejection> {
    check_weight(weight)?;
    check_poi_threshold(poi_threshold)?;
    if name.is_empty() || name.len() > SERVICE_NAME_LEN_MAX {
        return Err(Rejection::InvalidService(format!("a service name is 1 to {SERVICE_NAME_LEN_MAX} bytes")));
    }
    if m.has_service_named(name) {
        return Err(Rejection::InvalidService(format!("service {name:?} already exists")));
    }
    // After this point the command must succeed.
    let id = m.next_service;
    m.next_service += 1;
    m.services.insert(id, Service { id, name: name.to_string(), weight, price, poi_threshold, semantic_poi });
    ctx.touch(MarketKey::Service(id));
    Ok(id)
}

/// Governance's `SetServiceWeight`, applied at an epoch boundary.
pub(crate) fn set_service_weight(
    ctx: &mut Ctx,
    m: &mut MarketState,
    service: u32,
    weight: u32,
) -> Result<(), Rejection> {
    let s = m.services.get_mut(&service).ok_or(Rejection::UnknownService(service))?;
    s.weight = weight;
    ctx.touch(MarketKey::Service(service));
    Ok(())
}

/// A service's PoI threshold is at least one half: below it, outputs that share little pass as agreeing.
pub(crate) fn check_poi_threshold(threshold: Ppb) -> Result<(), Rejection> {
    if threshold.raw() < POI_THRESHOLD_MIN.raw() {
        return Err(Rejection::InvalidService("a PoI threshold is 50% to 100% (500000000 to 1000000000 ppb)".into()));
    }
    Ok(())
}

/// The least PoI threshold of a service (genesis and governance).
pub const POI_THRESHOLD_MIN: Ppb = Ppb::new(500_000_000).expect("one half");

/// Governance's `SetServicePoi`, applied at an epoch boundary: tasks submitted later follow it.
pub(crate) fn set_service_poi(
    ctx: &mut Ctx,
    m: &mut MarketState,
    service: u32,
    (poi_threshold, semantic_poi): (Ppb, bool),
) -> Result<(), Rejection> {
    let s = m.services.get_mut(&service).ok_or(Rejection::UnknownService(service))?;
    s.poi_threshold = poi_threshold;
    s.semantic_poi = semantic_poi;
    ctx.touch(MarketKey::Service(service));
    Ok(())
}

// ----- registry ------------------------------------------------------------------------------------------

/// The registration's checks, in order; on success its roles and services as sets.
fn check_registration(
    ctx: &Ctx,
    m: &MarketState,
    signer: AccountId,
    (roles, services): (&[Role], &[u32]),
    capacity: u32,
    endpoint: &str,
) -> Result<(BTreeSet<Role>, BTreeSet<u32>), Rejection> {
    if m.nodes.contains_key(&signer) {
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
    if let Some(s) = services.iter().find(|s| !m.services.contains_key(s)) {
        return Err(Rejection::UnknownService(*s));
    }
    let needed = stake_required(ctx.params, &roles);
    let bonded = ctx.ledger.bonded(&signer);
    if bonded < needed {
        return Err(Rejection::InsufficientStake { needed, bonded });
    }
    Ok((roles, services))
}

pub(crate) fn register_node(
    ctx: &mut Ctx,
    m: &mut MarketState,
    draw: &mut DrawIndex,
    signer: AccountId,
    roles_services: (&[Role], &[u32]),
    (capacity, endpoint): (u32, &str),
) -> Result<Event, Rejection> {
    let (roles, services) = check_registration(ctx, m, signer, roles_services, capacity, endpoint)?;
    // After this point the command must succeed.
    let h = ctx.height;
    let record = NodeRecord {
        roles: roles.clone(),
        services: services.clone(),
        capacity,
        endpoint: endpoint.to_string(),
        reported: ReportedStatus::Ready,
        last_heartbeat: h,
        registered_at: h,
    };
    m.nodes.insert(signer, record);
    ctx.touch(MarketKey::Node(signer));
    draw.reindex_membership(&services);
    Ok(Event::NodeRegistered {
        account: signer,
        roles: roles.into_iter().collect(),
        services: services.into_iter().collect(),
        capacity,
    })
}

/// Leave the registry; all bonded stake starts unbonding, free at `matures_at` (the engine's rule, which
/// holds a router's stake to the end of its epoch).
pub(crate) fn deregister_node(
    ctx: &mut Ctx,
    m: &mut MarketState,
    draw: &mut DrawIndex,
    signer: AccountId,
    matures_at: Option<Height>,
) -> Result<Event, Rejection> {
    if !m.nodes.contains_key(&signer) {
        return Err(Rejection::NotRegistered);
    }
    // Only its own stake: what it nominated to others stays bonded until it unnominates.
    let bonded = crate::nominate::own_stake(ctx, m, &signer);
    let matures_at = matures_at.ok_or(LedgerError::AmountOverflow)?;
    if !bonded.is_zero() {
        // Checked by the ledger before it changes anything; the registry changes only after it.
        let chunks_max = ctx.params.max_unbonding_chunks as usize;
        ctx.ledger.unbond(signer, bonded, ctx.height, matures_at, chunks_max)?;
        ctx.schedule(matures_at, Deadline::UnbondMaturity(signer));
    }
    // After this point the command must succeed.
    if let Some(node) = m.nodes.remove(&signer) {
        draw.reindex_membership(&node.services);
    }
    ctx.touch(MarketKey::Node(signer));
    Ok(Event::NodeDeregistered { account: signer, unbonding: bonded, matures_at })
}

/// A status report, which is also the node's heartbeat.
pub(crate) fn report_status(
    ctx: &mut Ctx,
    m: &mut MarketState,
    draw: &mut DrawIndex,
    signer: AccountId,
    status: ReportedStatus,
) -> Result<Event, Rejection> {
    let h = ctx.height;
    let node = m.nodes.get_mut(&signer).ok_or(Rejection::NotRegistered)?;
    // After this point the command must succeed.
    let changed = node.reported != status;
    node.reported = status;
    node.last_heartbeat = h;
    ctx.touch(MarketKey::Node(signer));
    if changed {
        draw.reweigh(m, ctx.ledger, ctx.params, signer);
    }
    Ok(Event::StatusReported { account: signer, status })
}

// ----- requests ------------------------------------------------------------------------------------------

/// A request: the price held from the client, assigned at once to a miner drawn by `draw`.
pub(crate) fn submit_request(
    ctx: &mut Ctx,
    m: &mut MarketState,
    draw: &mut DrawIndex,
    client: AccountId,
    (service, max_price): (u32, Amount),
    exclude: BTreeSet<AccountId>,
) -> Result<Event, Rejection> {
    let s = m.services.get(&service).ok_or(Rejection::UnknownService(service))?;
    let price = s.price;
    if price > max_price {
        return Err(Rejection::PriceAboveMax { price, max_price });
    }
    let id = m.next_request;
    let mut seed = b"request".to_vec();
    seed.extend_from_slice(&id.to_le_bytes());
    let miner =
        draw.draw(&ctx.draw_view(m, None), service, &exclude, &seed).ok_or(Rejection::NoMinerAvailable(service))?;
    let expires_at = ctx.height.checked_add(ctx.params.request_timeout).ok_or(LedgerError::AmountOverflow)?;
    // A zero price holds nothing; the ledger refuses empty holds, so such requests carry no hold.
    let hold = if price.is_zero() {
        None
    } else {
        let tag = HoldTag::new(HoldOwner::Request(id), HoldReason::RequestPrice);
        Some(ctx.ledger.hold_create(client, price, tag, ctx.height, None)?)
    };
    // After this point the command must succeed.
    m.next_request += 1;
    let request = Request {
        id,
        client,
        service,
        miner,
        price,
        hold,
        submitted_at: ctx.height,
        expires_at,
        status: RequestStatus::Assigned,
        rating: None,
    };
    m.requests.insert(id, request);
    ctx.schedule(expires_at, MarketDeadline::RequestExpiry(id));
    ctx.touch(MarketKey::Request(id));
    ctx.touch(EngineKey::Counters);
    Ok(Event::RequestSubmitted { request: id, client, service, miner, price, expires_at })
}

pub(crate) fn complete_request(
    ctx: &mut Ctx,
    m: &mut MarketState,
    signer: AccountId,
    id: u64,
    result_hash: Hash,
) -> Result<Event, Rejection> {
    let r = m.requests.get(&id).ok_or(Rejection::UnknownRequest(id))?;
    if r.miner != signer {
        return Err(Rejection::NotAuthorized);
    }
    if r.status != RequestStatus::Assigned {
        return Err(Rejection::RequestNotOpen(id));
    }
    let (price, hold, service, expires_at) = (r.price, r.hold, r.service, r.expires_at);
    let fee = ctx.params.protocol_fee.mul_floor(price);
    let paid = Amount(price.0 - fee.0);
    let payouts: Vec<(AccountId, Amount)> =
        [(signer, paid), (ctx.treasury, fee)].into_iter().filter(|(_, a)| !a.is_zero()).collect();
    if !payouts.is_empty() {
        ctx.ledger.hold_post(hold.expect("a priced request has a hold"), &payouts)?;
    }
    // After this point the command must succeed.
    let h = ctx.height;
    ctx.unschedule(expires_at, MarketDeadline::RequestExpiry(id));
    // The record stays for rating, then is pruned a rating window after the window closes.
    let close = h.checked_add(2 * ctx.params.rating_window).expect("periods are capped at 2^32 blocks");
    ctx.schedule(close, MarketDeadline::RequestClose(id));
    let r = m.requests.get_mut(&id).expect("looked up above");
    r.status = RequestStatus::Completed { at: h, result_hash };
    m.record_work(ctx, signer, service, false);
    ctx.touch(MarketKey::Request(id));
    Ok(Event::RequestCompleted { request: id, miner: signer, result_hash, paid, fee })
}

pub(crate) fn rate_request(
    ctx: &mut Ctx,
    m: &mut MarketState,
    draw: &mut DrawIndex,
    signer: AccountId,
    (id, rating): (u64, Rating),
) -> Result<Event, Rejection> {
    let r = m.requests.get(&id).ok_or(Rejection::UnknownRequest(id))?;
    if r.client != signer {
        return Err(Rejection::NotAuthorized);
    }
    let RequestStatus::Completed { at, .. } = r.status else {
        return Err(Rejection::RequestNotCompleted(id));
    };
    if ctx.height.0 > at.0 + ctx.params.rating_window {
        return Err(Rejection::RatingWindowClosed(id));
    }
    // After this point the command must succeed.
    let (miner, price) = (r.miner, r.price);
    // A request's price counts toward its client's weight once, when the request is first rated.
    let first = r.rating.is_none();
    m.requests.get_mut(&id).expect("looked up above").rating = Some(rating);
    let entry = m
        .reputation
        .get_or_insert_with(miner, Default::default)
        .by_client
        .entry(signer)
        .or_insert(ClientRating { rating, paid: Amount::ZERO });
    entry.rating = rating;
    if first {
        // Saturating: what one client paid one miner cannot pass the supply, which fits in u128.
        entry.paid = Amount(entry.paid.0.saturating_add(price.0));
    }
    let reputation = refresh_reputation(ctx, m, draw, miner);
    ctx.touch(MarketKey::Request(id));
    Ok(Event::RequestRated { request: id, miner, rating, reputation })
}

/// A validation outcome as a rating from the network (the PoUW hook): passing counts Good, an outlier
/// or a missed deadline Bad.
pub(crate) fn record_network_rating(
    ctx: &mut Ctx,
    m: &mut MarketState,
    draw: &mut DrawIndex,
    miner: AccountId,
    good: bool,
) -> Ppb {
    let rec = m.reputation.get_or_insert_with(miner, Default::default);
    if good {
        rec.network_good += 1;
    } else {
        rec.network_bad += 1;
    }
    refresh_reputation(ctx, m, draw, miner)
}

fn refresh_reputation(ctx: &mut Ctx, m: &mut MarketState, draw: &mut DrawIndex, miner: AccountId) -> Ppb {
    let p = ctx.params;
    let rec = m.reputation.get_or_insert_with(miner, Default::default);
    let (value, weight) = rec.weighted_sums(p.rating_weight_cap);
    let x = weighted_mean_ppb(value, weight, p.reputation_prior, p.reputation_x0);
    rec.reputation = logistic_ppb(x, p.reputation_k_milli, p.reputation_x0);
    let reputation = rec.reputation;
    ctx.touch(MarketKey::Reputation(miner));
    draw.reweigh(m, ctx.ledger, ctx.params, miner);
    reputation
}

/// End-of-block: an unfinished request expires; the client is refunded and the miner rated Bad.
pub(crate) fn expire_request(ctx: &mut Ctx, m: &mut MarketState, draw: &mut DrawIndex, id: u64) {
    let r = m.requests.remove(&id).expect("an expiry deadline is removed when its request completes");
    if let Some(hold) = r.hold {
        ctx.ledger.hold_void(hold).expect("an assigned request's hold is open");
    }
    ctx.touch(MarketKey::Request(id));
    let reputation = record_network_rating(ctx, m, draw, r.miner, false);
    ctx.emit(Event::RequestExpired { request: id, client: r.client, miner: r.miner, refunded: r.price, reputation });
}

/// End-of-block: forget a completed request once its rating window is long closed.
pub(crate) fn close_request(ctx: &mut Ctx, m: &mut MarketState, id: u64) {
    if m.requests.remove(&id).is_some() {
        ctx.touch(MarketKey::Request(id));
    }
}

// ----- rewards -------------------------------------------------------------------------------------------

/// Pay the epoch's miner rewards: gather each miner's weighted work and reputation, compute the exact
/// split ([`compute_miner_rewards`]), then apply it as transfers from the pool.
pub(crate) fn settle_miner_rewards(ctx: &mut Ctx, m: &mut MarketState, epoch: u64) {
    let work = std::mem::take(&mut m.epoch_work);
    let mut inputs = Vec::with_capacity(work.len());
    let mut terms: BTreeMap<AccountId, Vec<protocol::ServiceWork>> = BTreeMap::new();
    // Volume in ppb units so background work can count at `background_weight` exactly.
    let bg = u128::from(ctx.params.background_weight.raw());
    for (miner, by_service) in &work {
        ctx.touch(MarketKey::EpochWork(*miner));
        let rows: Vec<protocol::ServiceWork> = by_service
            .iter()
            .map(|(s, (user, background))| {
                let weight = m.services.get(s).map_or(1, |s| s.weight);
                let volume =
                    u128::from(weight) * (u128::from(*user) * u128::from(Ppb::ONE_RAW) + u128::from(*background) * bg);
                protocol::ServiceWork { service: *s, weight, user: *user, background: *background, volume }
            })
            .collect();
        let volume: u128 = rows.iter().map(|r| r.volume).sum();
        inputs.push((*miner, m.reputation_of(ctx.params, miner), volume));
        terms.insert(*miner, rows);
    }
    let pool = AccountId::system(MINERS_POOL_NAME);
    let pot = Amount(ctx.params.miner_reward_per_epoch.0.min(ctx.ledger.free(&pool).0));
    let total_score: u128 = inputs.iter().map(|(_, rep, v)| v.saturating_mul(u128::from(rep.raw()))).sum();
    let reputations: BTreeMap<AccountId, (Ppb, u128)> = inputs.iter().map(|(a, r, v)| (*a, (*r, *v))).collect();
    for r in compute_miner_rewards(pot, &inputs) {
        crate::nominate::pay_reward(
            ctx,
            &m.noms,
            (pool, r.miner),
            r.amount,
            (epoch, protocol::event::RewardKind::Miner),
        );
        let (reputation, volume) = reputations[&r.miner];
        let work = terms.remove(&r.miner).unwrap_or_default();
        ctx.emit(Event::MinerRewarded {
            epoch,
            miner: r.miner,
            amount: r.amount,
            score: r.score,
            reputation,
            volume,
            work,
            pot,
            total_score,
        });
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
