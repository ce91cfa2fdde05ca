//! Governance (DESIGN §8): any bonded account may propose adding a service, setting a service's weight,
//! or setting a parameter. Bonded accounts vote yes or no with the stake they have bonded when they vote.
//! At the proposal's deadline it passes with a majority of the voting stake (yes > no) and a turnout of at
//! least `quorum` of all bonded stake; a passed proposal takes effect at the next epoch boundary, so a
//! rule never changes in the middle of an epoch.

use crate::engine::{Deadline, EngineKey};
use crate::{Engine, Event, EventRecord, Rejection};
use borsh::{BorshDeserialize, BorshSerialize};
use std::collections::BTreeMap;
use types::overlay::OverlayMap;
use types::{AccountId, Amount};

pub use protocol::governance::{Proposal, ProposalAction, ProposalStatus};

#[derive(Debug, Clone, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub(crate) struct GovernanceState {
    pub proposals: OverlayMap<u64, Proposal>,
    pub next_proposal: u64,
    /// Passed proposals in the order they passed, applied at the next epoch boundary.
    pub pending: Vec<u64>,
}

impl GovernanceState {
    pub fn new() -> GovernanceState {
        GovernanceState { next_proposal: 1, ..GovernanceState::default() }
    }
}

impl Engine {
    pub fn proposal(&self, id: u64) -> Option<&Proposal> {
        self.g.proposals.get(&id)
    }
    pub fn proposals(&self) -> impl Iterator<Item = &Proposal> {
        self.g.proposals.values()
    }

    /// Would `action` be valid now? The same check runs again when it is applied.
    fn check_action(&self, action: &ProposalAction) -> Result<(), Rejection> {
        match action {
            ProposalAction::AddService { name, weight, .. } => {
                if *weight == 0 {
                    return Err(Rejection::ZeroWeight);
                }
                if name.is_empty() || name.len() > 64 || self.services().any(|s| &s.name == name) {
                    return Err(Rejection::InvalidService(format!("{name:?} is empty, too long or taken")));
                }
            }
            ProposalAction::SetServiceWeight { service, weight } => {
                if *weight == 0 {
                    return Err(Rejection::ZeroWeight);
                }
                if self.service(*service).is_none() {
                    return Err(Rejection::UnknownService(*service));
                }
            }
            ProposalAction::SetParam { name, value } => {
                self.params.with_set(name, value).map_err(Rejection::InvalidProposal)?;
            }
        }
        Ok(())
    }

    pub(crate) fn propose(&mut self, signer: AccountId, action: &ProposalAction) -> Result<Event, Rejection> {
        if self.ledger.bonded(&signer).is_zero() {
            return Err(Rejection::NoStake);
        }
        self.check_action(action)?;
        // After this point the command must succeed.
        let id = self.g.next_proposal;
        self.g.next_proposal += 1;
        let voting_ends =
            self.height.checked_add(self.params.voting_period).expect("periods are capped at 2^32 blocks");
        let proposal = Proposal {
            id,
            proposer: signer,
            action: action.clone(),
            created_at: self.height,
            voting_ends,
            yes: Amount::ZERO,
            no: Amount::ZERO,
            votes: BTreeMap::new(),
            status: ProposalStatus::Open,
        };
        self.g.proposals.insert(id, proposal);
        self.deadlines.insert((voting_ends, Deadline::ProposalEnd(id)));
        self.dirty.extend([EngineKey::Proposal(id), EngineKey::Counters]);
        Ok(Event::ProposalCreated { proposal: id, proposer: signer, action: action.clone(), voting_ends })
    }

    pub(crate) fn vote(&mut self, signer: AccountId, id: u64, approve: bool) -> Result<Event, Rejection> {
        let p = self.g.proposals.get(&id).ok_or(Rejection::UnknownProposal(id))?;
        if p.status != ProposalStatus::Open {
            return Err(Rejection::ProposalClosed(id));
        }
        if p.votes.contains_key(&signer) {
            return Err(Rejection::AlreadyVoted(id));
        }
        let stake = self.ledger.bonded(&signer);
        if stake.is_zero() {
            return Err(Rejection::NoStake);
        }
        // After this point the command must succeed.
        let p = self.g.proposals.get_mut(&id).expect("looked up above");
        let side = if approve { &mut p.yes } else { &mut p.no };
        *side = side.checked_add(stake).expect("votes sum to at most the bonded supply");
        p.votes.insert(signer, (approve, stake));
        self.dirty.insert(EngineKey::Proposal(id));
        Ok(Event::VoteCast { proposal: id, voter: signer, approve, stake })
    }

    /// End-of-block at the voting deadline: count, and queue a passed proposal for the epoch boundary.
    pub(crate) fn tally(&mut self, id: u64, events: &mut Vec<EventRecord>) {
        let bonded_total = self.ledger.bonded_total();
        let quorum = self.params.quorum.mul_ceil(bonded_total);
        let p = self.g.proposals.get_mut(&id).expect("a proposal's deadline exists while it is open");
        let turnout = p.yes.checked_add(p.no).expect("votes sum to at most the bonded supply");
        let passed = p.yes > p.no && turnout >= quorum && !turnout.is_zero();
        p.status = if passed { ProposalStatus::Passed } else { ProposalStatus::Rejected };
        if passed {
            self.g.pending.push(id);
        }
        self.dirty.extend([EngineKey::Proposal(id), EngineKey::Counters]);
        events.push(EventRecord {
            tx: None,
            event: Event::ProposalTallied { proposal: id, yes: p.yes, no: p.no, quorum, passed },
        });
    }

    /// At the epoch boundary: apply passed proposals in the order they passed.
    pub(crate) fn apply_passed_proposals(&mut self, events: &mut Vec<EventRecord>) {
        for id in std::mem::take(&mut self.g.pending) {
            let action = self.g.proposals[&id].action.clone();
            let outcome = self.check_action(&action).and_then(|()| self.apply_action(&action));
            let status = if outcome.is_ok() { ProposalStatus::Applied } else { ProposalStatus::Failed };
            self.g.proposals.get_mut(&id).expect("pending proposals exist").status = status;
            self.dirty.extend([EngineKey::Proposal(id), EngineKey::Counters]);
            let reason = outcome.err().map(|e| e.code().to_string());
            events.push(EventRecord {
                tx: None,
                event: Event::ProposalApplied { proposal: id, action, applied: reason.is_none(), reason },
            });
        }
    }

    fn apply_action(&mut self, action: &ProposalAction) -> Result<(), Rejection> {
        match action {
            ProposalAction::AddService { name, weight, price } => {
                self.add_service(name, *weight, *price, crate::market::POI_THRESHOLD_DEFAULT).map(|_| ())
            }
            ProposalAction::SetServiceWeight { service, weight } => {
                let s = self.m.services.get_mut(service).ok_or(Rejection::UnknownService(*service))?;
                s.weight = *weight;
                self.dirty.insert(EngineKey::Service(*service));
                Ok(())
            }
            ProposalAction::SetParam { name, value } => {
                self.params = self.params.with_set(name, value).map_err(Rejection::InvalidProposal)?;
                self.draw.clear();
                self.dirty.insert(EngineKey::Params);
                Ok(())
            }
        }
    }
}
