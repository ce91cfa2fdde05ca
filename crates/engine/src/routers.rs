//! Routers (seed 003, Grass; DESIGN §7): relays that meter traffic between nodes and validators, paid for
//! validated bandwidth and slashed for poor connectivity.
//!
//! A router registers with the Router role and collateral (bonded stake) ≥ `router_stake_min`; a node
//! attaches to one router, only after that router accepted it (`accept_node`); either side may detach, and
//! deregistration detaches. A router's *roster* for an epoch is every node attached to it at some time in
//! the epoch. Each epoch the router reports, per attached node, bytes in and out, its latency to the node and
//! the node's online fraction, plus its own latency to the validator; each node reports the bytes it exchanged
//! through its router. A node's validated bandwidth is the smallest of the two claims (an unconfirmed claim
//! counts zero) and of what the engine's evidence supports: bytes of task outputs it revealed and inputs
//! it prepared, `router_bytes_per_request` per completed request, plus `router_bytes_allowance`. Latencies
//! below `router_latency_floor_ms` count as the floor. At the epoch's end each reporting router earns
//!
//! `R = kB · B · clamp01(1 − kL·(Ln + Lv)/Lmax) · S`
//!
//! with B the validated bytes (kB per 1,000,000 bytes), Ln the mean node latency, Lv the validator latency
//! and S the mean reputation of the reported nodes; if the routers' pool holds less than Σ R, every R is
//! scaled down pro rata (largest remainder). A node's online fraction is the smaller of the router's report
//! (unreported nodes count 0) and the engine's heartbeat record (the share of the epoch's
//! `heartbeat_timeout`-block windows since it joined the roster in which it reported its status). A router
//! whose roster's mean online fraction over the epoch is not above `router_connectivity_min` loses
//! `router_slash` of the collateral it had bonded in that epoch (bonded stake plus stake unbonded since the
//! epoch began) to the treasury. All arithmetic is integer: ppb factors, floors at each step.

use crate::engine::{overlay_maps, Ctx, EngineKey};
use crate::epoch::{epoch_of, ROUTERS_POOL_NAME};
use crate::market::{MarketState, Role};
use crate::{Event, Ledger, Params, Rejection};
use borsh::{BorshDeserialize, BorshSerialize};
use ledger::{distribute, SlashDestination};
use std::collections::{BTreeMap, BTreeSet};
use types::overlay::OverlayMap;
use types::{AccountId, Amount, Height, Ppb};

pub use protocol::routers::{compute_router_reward, latency_factor, NodeTraffic, RouterReport, RouterScore};

/// The routers' state. Private: the engine and other modules use the functions below.
#[derive(Debug, Clone, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub(crate) struct RouterState {
    /// node → the router it is attached to.
    attachments: OverlayMap<AccountId, AccountId>,
    /// This epoch's router reports, by router.
    reports: OverlayMap<AccountId, RouterReport>,
    /// This epoch's node-side claims: node → (router, bytes exchanged through it).
    claims: OverlayMap<AccountId, (AccountId, u64)>,
    /// router → the nodes it accepted that have not attached yet.
    accepted: OverlayMap<AccountId, BTreeSet<AccountId>>,
    /// router → every node attached to it at some time this epoch: the roster its connectivity is judged
    /// on, so that detaching (or deregistering) before the epoch's end does not escape the slash.
    /// (node → the heartbeat window of the epoch it joined in; 0 for nodes carried over from the last epoch)
    rosters: OverlayMap<AccountId, BTreeMap<AccountId, u64>>,
    /// node → the work the engine saw it do this epoch (the evidence that caps its validated bytes).
    evidence: OverlayMap<AccountId, NodeEvidence>,
}

/// What the engine saw a node do in an epoch: requests it completed, bytes of task outputs it revealed
/// and task inputs it prepared.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub(crate) struct NodeEvidence {
    pub requests: u64,
    pub bytes: u64,
    /// Heartbeat windows of the epoch (`heartbeat_timeout` blocks each) in which the node reported its
    /// status, and the last such window.
    pub heartbeat_windows: u64,
    pub last_window: Option<u64>,
}

/// The heartbeat window of the epoch that `height` falls in: epochs are cut into windows of
/// `heartbeat_timeout` blocks from their first height, the last one taking the remainder (so every window
/// is at least `heartbeat_timeout` long, and a node that heartbeats as often as it must lands in each).
fn window_of(params: &Params, height: Height) -> u64 {
    let start = epoch_start(params, epoch_of(params, height));
    ((height.0 - start.0) / params.heartbeat_timeout.max(1)).min(windows_per_epoch(params) - 1)
}

/// Heartbeat windows in an epoch (at least one).
fn windows_per_epoch(params: &Params) -> u64 {
    (params.epoch_length / params.heartbeat_timeout.max(1)).max(1)
}

overlay_maps!(RouterState { attachments, reports, claims, accepted, rosters, evidence });

/// The routers' entries in the state root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RouterKey {
    Attachment(AccountId),
    RouterReport(AccountId),
    TrafficClaim(AccountId),
    Accepted(AccountId),
    Roster(AccountId),
    Evidence(AccountId),
}

impl From<RouterKey> for EngineKey {
    fn from(key: RouterKey) -> EngineKey {
        match key {
            RouterKey::Attachment(id) => EngineKey::Attachment(id),
            RouterKey::RouterReport(id) => EngineKey::RouterReport(id),
            RouterKey::TrafficClaim(id) => EngineKey::TrafficClaim(id),
            RouterKey::Accepted(id) => EngineKey::RouterAccepted(id),
            RouterKey::Roster(id) => EngineKey::RouterRoster(id),
            RouterKey::Evidence(id) => EngineKey::RouterEvidence(id),
        }
    }
}

impl RouterState {
    pub fn router_of(&self, node: &AccountId) -> Option<AccountId> {
        self.attachments.get(node).copied()
    }
    pub fn report(&self, router: &AccountId) -> Option<&RouterReport> {
        self.reports.get(router)
    }
    fn in_roster(&self, router: &AccountId, node: &AccountId) -> bool {
        self.rosters.get(router).is_some_and(|p| p.contains_key(node))
    }
    /// The nodes attached to `router`, in id order.
    pub fn attached(&self, router: &AccountId) -> Vec<AccountId> {
        self.attachments.iter().filter(|(_, r)| *r == router).map(|(n, _)| *n).collect()
    }
    /// `borsh(current value or None)` of a router entry of the state root.
    pub fn encode_entry(&self, key: RouterKey, out: &mut Vec<u8>) {
        match key {
            RouterKey::Attachment(id) => borsh::to_writer(out, &self.attachments.get(&id)),
            RouterKey::RouterReport(id) => borsh::to_writer(out, &self.reports.get(&id)),
            RouterKey::TrafficClaim(id) => borsh::to_writer(out, &self.claims.get(&id)),
            RouterKey::Accepted(id) => borsh::to_writer(out, &self.accepted.get(&id)),
            RouterKey::Roster(id) => borsh::to_writer(out, &self.rosters.get(&id)),
            RouterKey::Evidence(id) => borsh::to_writer(out, &self.evidence.get(&id)),
        }
        .expect("writing to a Vec cannot fail");
    }

    /// The most bytes a node's evidence supports this epoch: its revealed outputs and prepared inputs, a
    /// governed size per completed request, plus the governed allowance.
    pub fn bytes_supported(&self, params: &Params, node: &AccountId) -> u128 {
        let e = self.evidence.get(node).copied().unwrap_or_default();
        u128::from(e.bytes)
            + u128::from(e.requests) * u128::from(params.router_bytes_per_request)
            + u128::from(params.router_bytes_allowance)
    }

    /// A router's reward terms for this epoch: validated bandwidth, latency factor, reputation, reward.
    pub fn score(
        &self,
        params: &Params,
        market: &MarketState,
        router: &AccountId,
        report: &RouterReport,
    ) -> RouterScore {
        let mut bandwidth = 0u128;
        let mut latency_sum = 0u64;
        let mut rep_sum = 0u128;
        let floor = params.router_latency_floor_ms;
        for n in &report.nodes {
            let claimed_by_router = u128::from(n.bytes_in) + u128::from(n.bytes_out);
            let confirmed = match self.claims.get(&n.node) {
                Some((r, bytes)) if r == router => u128::from(*bytes),
                _ => 0,
            };
            bandwidth += claimed_by_router.min(confirmed).min(self.bytes_supported(params, &n.node));
            latency_sum += u64::from(n.latency_ms.max(floor));
            rep_sum += u128::from(market.reputation_of(params, &n.node).raw());
        }
        let count = report.nodes.len() as u64;
        let (mean_latency, reputation) = if count == 0 {
            (0, Ppb::ZERO)
        } else {
            let rep = u32::try_from(rep_sum / u128::from(count)).expect("a mean of ppb values is a ppb value");
            (latency_sum / count, Ppb::new(rep).expect("a mean of ppb values is at most one"))
        };
        let factor = latency_factor(
            params.router_latency_weight_milli,
            mean_latency,
            u64::from(report.validator_latency_ms.max(floor)),
            params.router_latency_max_ms,
        );
        let reward = compute_router_reward(params.router_reward_per_mb, bandwidth, factor, reputation);
        RouterScore { bandwidth, latency_factor: factor, reputation, reward }
    }

    /// The share of the heartbeat windows since `node` joined a roster (`joined`) in which the engine saw
    /// it report its status: the engine's own record of whether the node was online.
    pub fn online_by_heartbeats(&self, params: &Params, node: &AccountId, joined: u64) -> Ppb {
        let due = windows_per_epoch(params).saturating_sub(joined).max(1);
        let seen = self.evidence.get(node).map_or(0, |e| e.heartbeat_windows).min(due);
        Ppb::from_ratio_floor(u128::from(seen), u128::from(due)).expect("seen <= due")
    }

    /// The mean online fraction of `router`'s roster this epoch (every node attached to it at some time):
    /// per node the smaller of the router's report (unreported nodes count 0; the router's word can only
    /// lower it) and the engine's heartbeat record. `None` without such nodes.
    pub fn connectivity(&self, params: &Params, router: &AccountId) -> Option<Ppb> {
        let roster = self.rosters.get(router).filter(|r| !r.is_empty())?;
        let reported: BTreeMap<AccountId, Ppb> =
            self.reports.get(router).map(|r| r.nodes.iter().map(|n| (n.node, n.online)).collect()).unwrap_or_default();
        let sum: u128 = roster
            .iter()
            .map(|(n, joined)| {
                let claim = reported.get(n).copied().unwrap_or(Ppb::ZERO);
                u128::from(claim.min(self.online_by_heartbeats(params, n, *joined)).raw())
            })
            .sum();
        let mean = u32::try_from(sum / roster.len() as u128).expect("a mean of ppb values is a ppb value");
        Some(Ppb::new(mean).expect("at most one"))
    }
}

/// A router accepts a node (its "initial checks on each node", seed 003): the node may then attach, once.
pub(crate) fn accept_node(
    ctx: &mut Ctx,
    r: &mut RouterState,
    market: &MarketState,
    router: AccountId,
    node: AccountId,
) -> Result<Event, Rejection> {
    if !market.has_role(&router, Role::Router) {
        return Err(Rejection::NotAuthorized);
    }
    if node == router {
        return Err(Rejection::InvalidRouterReport("a router cannot accept itself".into()));
    }
    let pending = r.accepted.get(&router).map_or(0, BTreeSet::len);
    if pending >= ctx.params.list_len_max as usize {
        return Err(Rejection::InvalidRouterReport("too many accepted nodes waiting to attach".into()));
    }
    // After this point the command must succeed.
    r.accepted.get_or_insert_with(router, BTreeSet::new).insert(node);
    ctx.touch(RouterKey::Accepted(router));
    Ok(Event::RouterAcceptedNode { router, node })
}

pub(crate) fn attach(
    ctx: &mut Ctx,
    r: &mut RouterState,
    market: &MarketState,
    node: AccountId,
    router: AccountId,
) -> Result<Event, Rejection> {
    if !market.is_registered(&node) {
        return Err(Rejection::NotRegistered);
    }
    if !market.has_role(&router, Role::Router) || router == node {
        return Err(Rejection::InvalidRouterReport(format!("{router} is not a registered router")));
    }
    if !r.accepted.get(&router).is_some_and(|a| a.contains(&node)) {
        return Err(Rejection::RouterNotAccepted { router });
    }
    // After this point the command must succeed.
    let accepted = r.accepted.get_mut(&router).expect("checked above");
    accepted.remove(&node);
    if accepted.is_empty() {
        r.accepted.remove(&router);
    }
    ctx.touch(RouterKey::Accepted(router));
    if let Some(old) = r.attachments.insert(node, router).filter(|old| *old != router) {
        // Moving to another router leaves the old one (which keeps the node on its roster this epoch).
        ctx.emit(Event::RouterDetached { node, router: old });
    }
    ctx.touch(RouterKey::Attachment(node));
    let window = window_of(ctx.params, ctx.height);
    r.rosters.get_or_insert_with(router, BTreeMap::new).entry(node).or_insert(window);
    ctx.touch(RouterKey::Roster(router));
    Ok(Event::RouterAttached { node, router })
}

/// A node leaves its router, or the router drops it. The node stays in the router's roster until the epoch
/// ends.
pub(crate) fn detach(
    ctx: &mut Ctx,
    r: &mut RouterState,
    signer: AccountId,
    node: AccountId,
) -> Result<Event, Rejection> {
    let router = *r.attachments.get(&node).ok_or(Rejection::NotAttached(node))?;
    if signer != node && signer != router {
        return Err(Rejection::NotAuthorized);
    }
    // After this point the command must succeed.
    r.attachments.remove(&node);
    ctx.touch(RouterKey::Attachment(node));
    Ok(Event::RouterDetached { node, router })
}

/// Book work the engine saw `node` do (a completed request, or the bytes of a revealed output or prepared
/// inputs) as evidence for its router's validated bandwidth.
pub(crate) fn record_work(ctx: &mut Ctx, r: &mut RouterState, node: AccountId, requests: u64, bytes: u64) {
    let e = r.evidence.get_or_insert_with(node, NodeEvidence::default);
    e.requests = e.requests.saturating_add(requests);
    e.bytes = e.bytes.saturating_add(bytes);
    ctx.touch(RouterKey::Evidence(node));
}

/// A status report is a heartbeat: book its window as evidence that the node was online.
pub(crate) fn record_heartbeat(ctx: &mut Ctx, r: &mut RouterState, node: AccountId) {
    let window = window_of(ctx.params, ctx.height);
    let e = r.evidence.get_or_insert_with(node, NodeEvidence::default);
    if e.last_window != Some(window) {
        e.heartbeat_windows += 1;
        e.last_window = Some(window);
        ctx.touch(RouterKey::Evidence(node));
    }
}

/// A deregistered account leaves routing: as a node it detaches from its router; as a router its nodes
/// are detached and its acceptances dropped. Rosters keep them until the epoch's end.
pub(crate) fn on_deregistered(ctx: &mut Ctx, r: &mut RouterState, account: AccountId) {
    let mut nodes = r.attached(&account);
    if r.attachments.contains_key(&account) {
        nodes.insert(0, account);
    }
    for node in nodes {
        let event = detach(ctx, r, node, node).expect("an attached node may always detach itself");
        ctx.emit(event);
    }
    if r.accepted.remove(&account).is_some() {
        ctx.touch(RouterKey::Accepted(account));
    }
}

pub(crate) fn report_epoch(
    ctx: &mut Ctx,
    r: &mut RouterState,
    market: &MarketState,
    router: AccountId,
    (epoch, validator_latency_ms): (u64, u32),
    nodes: &[NodeTraffic],
) -> Result<Event, Rejection> {
    if !market.has_role(&router, Role::Router) {
        return Err(Rejection::NotAuthorized);
    }
    let current = epoch_of(ctx.params, ctx.height);
    if epoch != current {
        return Err(Rejection::WrongEpoch { current, got: epoch });
    }
    if r.reports.contains_key(&router) {
        return Err(Rejection::AlreadyReported { epoch });
    }
    if nodes.len() > ctx.params.list_len_max as usize {
        return Err(Rejection::InvalidRouterReport("too many nodes in one report".into()));
    }
    let unique: BTreeSet<AccountId> = nodes.iter().map(|n| n.node).collect();
    if unique.len() != nodes.len() {
        return Err(Rejection::InvalidRouterReport("a node appears twice".into()));
    }
    if let Some(n) = nodes.iter().find(|n| !r.in_roster(&router, &n.node)) {
        return Err(Rejection::InvalidRouterReport(format!("{} was not attached to this router", n.node)));
    }
    // After this point the command must succeed.
    let report = RouterReport { epoch, validator_latency_ms, nodes: nodes.to_vec(), reported_at: ctx.height };
    r.reports.insert(router, report);
    ctx.touch(RouterKey::RouterReport(router));
    Ok(Event::RouterReported { router, epoch, nodes: nodes.len() as u32 })
}

pub(crate) fn report_traffic(
    ctx: &mut Ctx,
    r: &mut RouterState,
    node: AccountId,
    (epoch, router): (u64, AccountId),
    bytes: u64,
) -> Result<Event, Rejection> {
    if !r.in_roster(&router, &node) {
        return Err(Rejection::NotAuthorized);
    }
    let current = epoch_of(ctx.params, ctx.height);
    if epoch != current {
        return Err(Rejection::WrongEpoch { current, got: epoch });
    }
    if r.claims.contains_key(&node) {
        return Err(Rejection::AlreadyReported { epoch });
    }
    // After this point the command must succeed.
    r.claims.insert(node, (router, bytes));
    ctx.touch(RouterKey::TrafficClaim(node));
    Ok(Event::NodeTrafficReported { node, router, epoch, bytes })
}

/// The epoch's end: pay each reporting router its reward from the routers' pool (scaled down pro rata
/// when the pool is short), slash routers not above the connectivity minimum, and clear the epoch's reports
/// and claims. Returns the slashed routers, whose stake changed.
pub(crate) fn settle(ctx: &mut Ctx, r: &mut RouterState, market: &mut MarketState, epoch: u64) -> Vec<AccountId> {
    pay(ctx, r, market, epoch);
    let slashed = slash(ctx, r, market, epoch);
    for router in std::mem::take(&mut r.reports).into_keys() {
        ctx.touch(RouterKey::RouterReport(router));
    }
    for node in std::mem::take(&mut r.claims).into_keys() {
        ctx.touch(RouterKey::TrafficClaim(node));
    }
    for node in std::mem::take(&mut r.evidence).into_keys() {
        ctx.touch(RouterKey::Evidence(node));
    }
    // The next epoch's rosters start from the nodes attached now.
    for router in std::mem::take(&mut r.rosters).into_keys() {
        ctx.touch(RouterKey::Roster(router));
    }
    let attached: Vec<(AccountId, AccountId)> = r.attachments.iter().map(|(n, r)| (*n, *r)).collect();
    for (node, router) in attached {
        r.rosters.get_or_insert_with(router, BTreeMap::new).insert(node, 0);
        ctx.touch(RouterKey::Roster(router));
    }
    slashed
}

fn pay(ctx: &mut Ctx, r: &RouterState, market: &MarketState, epoch: u64) {
    let pool = AccountId::system(ROUTERS_POOL_NAME);
    let scores: Vec<(AccountId, RouterScore)> =
        r.reports.iter().map(|(id, rep)| (*id, r.score(ctx.params, market, id, rep))).collect();
    let owed: u128 = scores.iter().map(|(_, s)| s.reward.0).sum();
    let available = ctx.ledger.free(&pool);
    let paid: Vec<(AccountId, Amount)> = if owed <= available.0 {
        scores.iter().map(|(id, s)| (*id, s.reward)).collect()
    } else {
        let weights: Vec<(AccountId, u128)> =
            scores.iter().filter(|(_, s)| !s.reward.is_zero()).map(|(id, s)| (*id, s.reward.0)).collect();
        distribute(available, &weights).expect("routers are distinct, rewards positive")
    };
    let paid: BTreeMap<AccountId, Amount> = paid.into_iter().collect();
    for (router, score) in &scores {
        let amount = paid.get(router).copied().unwrap_or(Amount::ZERO);
        if !amount.is_zero() {
            let kind = (epoch, protocol::event::RewardKind::Router);
            crate::nominate::pay_reward(ctx, &market.noms, (pool, *router), amount, kind);
        }
        ctx.emit(Event::RouterRewarded {
            epoch,
            router: *router,
            bandwidth: score.bandwidth,
            latency_factor: score.latency_factor,
            reputation: score.reputation,
            owed: score.reward,
            amount,
        });
    }
}

fn slash(ctx: &mut Ctx, r: &RouterState, market: &mut MarketState, epoch: u64) -> Vec<AccountId> {
    let routers: Vec<AccountId> = r.rosters.keys().copied().collect();
    let offence_height = epoch_start(ctx.params, epoch);
    let mut slashed = Vec::new();
    for router in routers {
        let Some(connectivity) = r.connectivity(ctx.params, &router) else { continue };
        // Seed 003: connectivity must be *greater than* the minimum; exactly the minimum is a breach.
        if connectivity > ctx.params.router_connectivity_min {
            continue;
        }
        // Its own collateral and its nominators' stake at the offence, pro rata (issue 21).
        let to = SlashDestination::Account(ctx.treasury);
        let rate = (ctx.params.router_slash, offence_height);
        let (taken, parts) = crate::nominate::slash_node(ctx, market, router, rate, to);
        slashed.push(router);
        ctx.emit(Event::RouterSlashed { epoch, router, connectivity, amount: taken });
        if let Some(parts) = parts {
            ctx.emit(Event::SlashSplit { node: router, epoch, parts });
        }
    }
    slashed
}

/// The first height of `epoch`: a router's offence is the epoch, so this is its offence height.
fn epoch_start(params: &Params, epoch: u64) -> Height {
    Height(epoch.saturating_sub(1).saturating_mul(params.epoch_length).saturating_add(1))
}

/// What `router` had bonded during the epoch that starts at `offence_height`: its bonded stake plus the
/// unbonding chunks it unbonded at or after that height (deregistering or unbonding during the epoch does
/// not take stake out of that epoch's slash).
pub(crate) fn compute_epoch_collateral(ledger: &Ledger, router: &AccountId, offence_height: Height) -> Amount {
    let Some(account) = ledger.account(router) else { return Amount::ZERO };
    let leaving = account.unbonding_chunks.iter().filter(|c| c.unbonded_at >= offence_height).map(|c| c.amount);
    Amount::checked_sum(std::iter::once(account.bonded).chain(leaving))
        .expect("an account's stake is at most the supply")
}

/// When stake that `account` unbonds at `height` becomes free: after `unbonding_period`, and for a router
/// never before the end of the epoch it unbonds in, so that the epoch's slash can still reach it.
pub(crate) fn unbond_matures_at(
    params: &Params,
    market: &MarketState,
    account: &AccountId,
    height: Height,
) -> Option<Height> {
    let matures_at = height.checked_add(params.unbonding_period)?;
    if !market.has_role(account, Role::Router) {
        return Some(matures_at);
    }
    let after_epoch = epoch_of(params, height).checked_mul(params.epoch_length)?.checked_add(1)?;
    Some(Height(matures_at.0.max(after_epoch)))
}
