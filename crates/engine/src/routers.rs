//! Routers (seed 003, Grass; DESIGN §7): relays that meter traffic between nodes and validators, paid for
//! validated bandwidth and slashed for poor connectivity.
//!
//! A router registers with the Router role and collateral (bonded stake) ≥ `router_stake_min`; nodes attach to
//! one router. Each epoch the router reports, per attached node, bytes in and out, its latency to the node and
//! the node's online fraction, plus its own latency to the validator; each node reports the bytes it exchanged
//! through its router. A node's validated bandwidth is the smaller of the two claims (an unconfirmed claim
//! counts zero). At the epoch's end each reporting router earns
//!
//! `R = kB · B · clamp01(1 − kL·(Ln + Lv)/Lmax) · S`
//!
//! with B the validated bytes (kB per 1,000,000 bytes), Ln the mean node latency, Lv the validator latency
//! and S the mean reputation of the reported nodes; if the routers' pool holds less than Σ R, every R is
//! scaled down pro rata (largest remainder). A router whose attached nodes' mean online fraction over the
//! epoch (unreported nodes count 0) is below `router_connectivity_min` loses `router_slash` of its collateral
//! to the treasury. All arithmetic is integer: ppb factors, floors at each step.

use crate::engine::EngineKey;
use crate::epoch::ROUTERS_POOL_NAME;
use crate::market::Role;
use crate::{Engine, Event, EventRecord, Rejection};
use borsh::{BorshDeserialize, BorshSerialize};
use ledger::{distribute, SlashDestination};
use std::collections::{BTreeMap, BTreeSet};
use types::overlay::OverlayMap;
use types::{AccountId, Amount, Height, Ppb};

pub use protocol::routers::{compute_router_reward, latency_factor, NodeTraffic, RouterReport, RouterScore};

#[derive(Debug, Clone, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub(crate) struct RouterState {
    /// node → the router it is attached to.
    pub attachments: OverlayMap<AccountId, AccountId>,
    /// This epoch's router reports, by router.
    pub reports: OverlayMap<AccountId, RouterReport>,
    /// This epoch's node-side claims: node → (router, bytes exchanged through it).
    pub claims: OverlayMap<AccountId, (AccountId, u64)>,
}

impl Engine {
    pub fn router_of(&self, node: &AccountId) -> Option<AccountId> {
        self.r.attachments.get(node).copied()
    }
    pub fn router_report(&self, router: &AccountId) -> Option<&RouterReport> {
        self.r.reports.get(router)
    }
    /// Nodes attached to `router`.
    pub fn attached(&self, router: &AccountId) -> Vec<AccountId> {
        self.r.attachments.iter().filter(|(_, r)| *r == router).map(|(n, _)| *n).collect()
    }

    pub(crate) fn attach_router(&mut self, node: AccountId, router: AccountId) -> Result<Event, Rejection> {
        if !self.m.nodes.contains_key(&node) {
            return Err(Rejection::NotRegistered);
        }
        if !self.has_role(&router, Role::Router) || router == node {
            return Err(Rejection::InvalidRouterReport(format!("{router} is not a registered router")));
        }
        // After this point the command must succeed.
        self.r.attachments.insert(node, router);
        self.dirty.insert(EngineKey::Attachment(node));
        Ok(Event::RouterAttached { node, router })
    }

    pub(crate) fn report_router_epoch(
        &mut self,
        router: AccountId,
        epoch: u64,
        validator_latency_ms: u32,
        nodes: &[NodeTraffic],
    ) -> Result<Event, Rejection> {
        if !self.has_role(&router, Role::Router) {
            return Err(Rejection::NotAuthorized);
        }
        let current = self.epoch_of(self.height);
        if epoch != current {
            return Err(Rejection::WrongEpoch { current, got: epoch });
        }
        if self.r.reports.contains_key(&router) {
            return Err(Rejection::AlreadyReported { epoch });
        }
        if nodes.len() > self.params.list_len_max as usize {
            return Err(Rejection::InvalidRouterReport("too many nodes in one report".into()));
        }
        let unique: BTreeSet<AccountId> = nodes.iter().map(|n| n.node).collect();
        if unique.len() != nodes.len() {
            return Err(Rejection::InvalidRouterReport("a node appears twice".into()));
        }
        if let Some(n) = nodes.iter().find(|n| self.r.attachments.get(&n.node) != Some(&router)) {
            return Err(Rejection::InvalidRouterReport(format!("{} is not attached to this router", n.node)));
        }
        // After this point the command must succeed.
        let report = RouterReport { epoch, validator_latency_ms, nodes: nodes.to_vec(), reported_at: self.height };
        self.r.reports.insert(router, report);
        self.dirty.insert(EngineKey::RouterReport(router));
        Ok(Event::RouterReported { router, epoch, nodes: nodes.len() as u32 })
    }

    pub(crate) fn report_node_traffic(
        &mut self,
        node: AccountId,
        epoch: u64,
        router: AccountId,
        bytes: u64,
    ) -> Result<Event, Rejection> {
        if self.r.attachments.get(&node) != Some(&router) {
            return Err(Rejection::NotAuthorized);
        }
        let current = self.epoch_of(self.height);
        if epoch != current {
            return Err(Rejection::WrongEpoch { current, got: epoch });
        }
        if self.r.claims.contains_key(&node) {
            return Err(Rejection::AlreadyReported { epoch });
        }
        // After this point the command must succeed.
        self.r.claims.insert(node, (router, bytes));
        self.dirty.insert(EngineKey::TrafficClaim(node));
        Ok(Event::NodeTrafficReported { node, router, epoch, bytes })
    }

    /// One router's score from its report and the nodes' claims.
    pub fn router_score(&self, router: &AccountId, report: &RouterReport) -> RouterScore {
        let p = &self.params;
        let mut bandwidth = 0u128;
        let mut latency_sum = 0u64;
        let mut rep_sum = 0u128;
        for n in &report.nodes {
            let claimed_by_router = u128::from(n.bytes_in) + u128::from(n.bytes_out);
            let confirmed = match self.r.claims.get(&n.node) {
                Some((r, bytes)) if r == router => u128::from(*bytes),
                _ => 0,
            };
            bandwidth += claimed_by_router.min(confirmed);
            latency_sum += u64::from(n.latency_ms);
            rep_sum += u128::from(self.reputation(&n.node).raw());
        }
        let count = report.nodes.len() as u64;
        let (mean_latency, reputation) = if count == 0 {
            (0, Ppb::ZERO)
        } else {
            let rep = u32::try_from(rep_sum / u128::from(count)).expect("a mean of ppb values is a ppb value");
            (latency_sum / count, Ppb::new(rep).expect("a mean of ppb values is at most one"))
        };
        let factor = latency_factor(
            p.router_latency_weight_milli,
            mean_latency,
            u64::from(report.validator_latency_ms),
            p.router_latency_max_ms,
        );
        let reward = compute_router_reward(p.router_reward_per_mb, bandwidth, factor, reputation);
        RouterScore { bandwidth, latency_factor: factor, reputation, reward }
    }

    /// Mean online fraction of the router's attached nodes over the epoch (unreported nodes count 0);
    /// `None` without attached nodes.
    pub fn router_connectivity(&self, router: &AccountId) -> Option<Ppb> {
        let attached = self.attached(router);
        if attached.is_empty() {
            return None;
        }
        let online: BTreeMap<AccountId, Ppb> = self
            .r
            .reports
            .get(router)
            .map(|r| r.nodes.iter().map(|n| (n.node, n.online)).collect())
            .unwrap_or_default();
        let sum: u128 = attached.iter().map(|n| u128::from(online.get(n).map_or(0, |p| p.raw()))).sum();
        let mean = u32::try_from(sum / attached.len() as u128).expect("a mean of ppb values is a ppb value");
        Some(Ppb::new(mean).expect("at most one"))
    }

    /// The epoch's router rewards (scaled down pro rata if the pool is short) and connectivity slashes.
    pub(crate) fn settle_routers(&mut self, epoch: u64, height: Height, events: &mut Vec<EventRecord>) {
        let pool = AccountId::system(ROUTERS_POOL_NAME);
        let scores: Vec<(AccountId, RouterScore)> =
            self.r.reports.iter().map(|(r, rep)| (*r, self.router_score(r, rep))).collect();
        let owed: u128 = scores.iter().map(|(_, s)| s.reward.0).sum();
        let available = self.ledger.free(&pool);
        let paid: Vec<(AccountId, Amount)> = if owed <= available.0 {
            scores.iter().map(|(r, s)| (*r, s.reward)).collect()
        } else {
            let weights: Vec<(AccountId, u128)> =
                scores.iter().filter(|(_, s)| !s.reward.is_zero()).map(|(r, s)| (*r, s.reward.0)).collect();
            distribute(available, &weights).expect("routers are distinct, rewards positive")
        };
        let paid: BTreeMap<AccountId, Amount> = paid.into_iter().collect();
        for (router, score) in &scores {
            let amount = paid.get(router).copied().unwrap_or(Amount::ZERO);
            if !amount.is_zero() {
                self.ledger.transfer(pool, *router, amount).expect("the payouts sum to at most the pool");
            }
            events.push(EventRecord {
                tx: None,
                event: Event::RouterRewarded {
                    epoch,
                    router: *router,
                    bandwidth: score.bandwidth,
                    latency_factor: score.latency_factor,
                    reputation: score.reputation,
                    owed: score.reward,
                    amount,
                },
            });
        }
        let routers: BTreeSet<AccountId> = self.r.attachments.values().copied().collect();
        for router in routers {
            let Some(connectivity) = self.router_connectivity(&router) else { continue };
            if connectivity >= self.params.router_connectivity_min {
                continue;
            }
            let collateral = self.ledger.bonded(&router);
            let amount = self.params.router_slash.mul_floor(collateral);
            let taken = self.ledger.slash(router, amount, height, SlashDestination::Account(self.treasury)).total();
            self.reweigh(router);
            events.push(EventRecord {
                tx: None,
                event: Event::RouterSlashed { epoch, router, connectivity, amount: taken },
            });
        }
        for r in std::mem::take(&mut self.r.reports).into_keys() {
            self.dirty.insert(EngineKey::RouterReport(r));
        }
        for n in std::mem::take(&mut self.r.claims).into_keys() {
            self.dirty.insert(EngineKey::TrafficClaim(n));
        }
    }
}
