//! The engine's public queries: each reads the module that owns the state (modules add no `impl Engine`).

use super::*;
use crate::epoch::{self, CuratedList, ListRef, NETWORK_LISTS_NAME};
use crate::governance::Proposal;
use crate::jobs::{self, Job};
use crate::market::{self, MinerStatus, NodeRecord, ReputationRecord, Request, Role, Service};
use crate::points::EpochPoints;
use crate::pouw::{self, Task};
use crate::routers::{RouterReport, RouterScore};
use types::Ppb;

// ----- jobs --------------------------------------------------------------------------------------

impl Engine {
    // ----- queries -----------------------------------------------------------------------------------

    pub fn job(&self, id: &JobId) -> Option<&Job> {
        self.j.job(id)
    }
    pub fn jobs(&self) -> impl Iterator<Item = &Job> {
        self.j.jobs()
    }
    /// What a job's escrow holds now (StakeIn plus deposits); zero once it settled.
    pub fn job_escrow(&self, id: &JobId) -> Amount {
        self.j.job(id).map_or(Amount::ZERO, |job| jobs::escrow(&self.ledger, job))
    }
}

// ----- pouw --------------------------------------------------------------------------------------

impl Engine {
    pub fn task(&self, id: u64) -> Option<&Task> {
        self.p.task(id)
    }
    pub fn tasks(&self) -> impl Iterator<Item = &Task> {
        self.p.tasks()
    }
    /// The bonded stake of every registered oracle: what the semantic-PoI attestation quorum is a share of.
    pub fn oracle_stake(&self) -> Amount {
        pouw::oracle_stake(&self.m, &self.ledger)
    }
}

// ----- routers -----------------------------------------------------------------------------------

impl Engine {
    pub fn router_of(&self, node: &AccountId) -> Option<AccountId> {
        self.r.router_of(node)
    }
    pub fn router_report(&self, router: &AccountId) -> Option<&RouterReport> {
        self.r.report(router)
    }
    pub fn attached(&self, router: &AccountId) -> Vec<AccountId> {
        self.r.attached(router)
    }
    pub fn router_score(&self, router: &AccountId, report: &RouterReport) -> RouterScore {
        self.r.score(&self.params, &self.m, router, report)
    }
    pub fn router_connectivity(&self, router: &AccountId) -> Option<Ppb> {
        self.r.connectivity(&self.params, router)
    }
}

// ----- draw --------------------------------------------------------------------------------------

impl Engine {
    /// `id`'s stake or standing may have changed: update its draw weight.
    pub(crate) fn reweigh(&mut self, id: AccountId) {
        self.draw.reweigh(&self.m, &self.ledger, &self.params, id);
    }
}

// ----- epoch -------------------------------------------------------------------------------------

impl Engine {
    // ----- queries -----------------------------------------------------------------------------------

    /// Points of the epoch in progress.
    pub fn epoch_points(&self) -> &EpochPoints {
        self.e.points()
    }
    /// Points of the last finished epoch, and its number (0 before the first ends).
    pub fn last_epoch_points(&self) -> (u64, &EpochPoints) {
        self.e.last_points()
    }
    /// The epoch a height belongs to: blocks `(e − 1)·L + 1 ..= e·L` are epoch `e`.
    pub fn epoch_of(&self, height: Height) -> u64 {
        epoch::epoch_of(&self.params, height)
    }
    /// The era a height belongs to: heights `e·era_blocks ..= (e+1)·era_blocks − 1` are era `e` (the
    /// consensus epoch).
    pub fn era_of(&self, height: Height) -> u64 {
        protocol::validators::era_of(height, self.params.era_blocks)
    }
    /// The consensus set elected for `era` (sorted by key), kept for the era in force and, once its
    /// predecessor's last block ran, the next one.
    pub fn validator_set(&self, era: u64) -> Option<&[protocol::validators::Elected]> {
        self.m.vals.set(era)
    }
    /// Every validator candidate, in key order.
    pub fn validator_candidates(&self) -> Vec<protocol::validators::Candidate> {
        self.m.vals.candidates.values().cloned().collect()
    }
    pub fn list(&self, list: &ListRef) -> Option<&CuratedList> {
        self.e.list(list)
    }
    /// Every list: (owner, `None` for the network), name, list.
    pub fn lists(&self) -> Vec<(Option<AccountId>, &str, &CuratedList)> {
        let network = AccountId::system(NETWORK_LISTS_NAME);
        let mut out = Vec::new();
        for (owner, lists) in self.e.lists_by_owner() {
            for (name, l) in lists {
                out.push(((*owner != network).then_some(*owner), name.as_str(), l));
            }
        }
        out
    }
}

// ----- governance --------------------------------------------------------------------------------

impl Engine {
    pub fn proposal(&self, id: u64) -> Option<&Proposal> {
        self.g.proposal(id)
    }
    pub fn proposals(&self) -> impl Iterator<Item = &Proposal> {
        self.g.proposals()
    }
    /// The stake `account` voted with on proposals not yet tallied, which it cannot unbond until then.
    pub fn vote_lock(&self, account: &AccountId) -> Option<&crate::governance::VoteLock> {
        self.g.vote_lock(account)
    }
    /// The protocol upgrade that passed and waits for its height, if any.
    pub fn scheduled_upgrade(&self) -> Option<crate::governance::ScheduledUpgrade> {
        self.g.upgrade()
    }
    /// The balance the treasury may not be paid below in the current epoch (`treasury_epoch_cap`).
    pub fn treasury_floor(&self) -> Amount {
        self.e.treasury_floor()
    }
}

// ----- market ------------------------------------------------------------------------------------

impl Engine {
    // ----- queries -----------------------------------------------------------------------------------

    pub fn node(&self, id: &AccountId) -> Option<&NodeRecord> {
        self.m.node(id)
    }
    pub fn nodes(&self) -> impl Iterator<Item = (&AccountId, &NodeRecord)> {
        self.m.nodes()
    }
    pub fn service(&self, id: u32) -> Option<&Service> {
        self.m.service(id)
    }
    pub fn services(&self) -> impl Iterator<Item = &Service> {
        self.m.services()
    }
    pub fn request(&self, id: u64) -> Option<&Request> {
        self.m.request(id)
    }
    /// A miner's reputation (neutral, 0.5 with the default prior, before any rating).
    pub fn reputation(&self, id: &AccountId) -> Ppb {
        self.m.reputation_of(&self.params, id)
    }
    pub fn reputation_record(&self, id: &AccountId) -> Option<&ReputationRecord> {
        self.m.reputation_record(id)
    }
    /// A miner's status at `height`: Stale after `heartbeat_timeout` blocks without a report.
    pub fn miner_status_at(&self, id: &AccountId, height: Height) -> Option<MinerStatus> {
        self.m.miner_status_at(&self.params, id, height)
    }
    /// Whether `who` is registered with `role`.
    pub fn has_role(&self, who: &AccountId, role: Role) -> bool {
        self.m.has_role(who, role)
    }
    /// The least bonded stake a node with these roles needs.
    pub fn stake_required(&self, roles: &BTreeSet<Role>) -> Amount {
        market::stake_required(&self.params, roles)
    }
}

// ----- nominations (issue 21) --------------------------------------------------------------------

impl Engine {
    /// Every nomination of `node` (active, or unbonding and still slashable), by nominator.
    pub fn nominations(&self, node: &AccountId) -> Vec<(AccountId, crate::Nomination)> {
        let Some(noms) = self.m.noms.of(node) else { return Vec::new() };
        let mut out = Vec::with_capacity(noms.len());
        for (a, n) in noms {
            let mut n = n.clone();
            n.unbonding.retain(|c| c.matures_at > self.height);
            if !n.active.is_zero() || !n.unbonding.is_empty() {
                out.push((*a, n));
            }
        }
        out
    }
    /// Σ active nominations of `node`.
    pub fn nominated_to(&self, node: &AccountId) -> Amount {
        self.m.noms.nominated_to(node)
    }
    /// The bonded stake of `account` that is nominated to nodes (not its own stake).
    pub fn nominated_by(&self, account: &AccountId) -> Amount {
        self.m.noms.out(account)
    }
    /// `node`'s commission: in force now, and a pending change with the height it applies from.
    pub fn commission(&self, node: &AccountId) -> crate::Commission {
        let c = self.m.noms.commission(node);
        let current = c.at(self.height);
        crate::Commission { current, pending: c.pending.filter(|(_, at)| *at > self.height) }
    }
}
