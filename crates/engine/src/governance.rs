//! Governance (DESIGN §8): any bonded account may propose adding a service, setting a service's weight,
//! or setting a parameter. Bonded accounts vote yes or no with the stake they have bonded when they vote.
//! At the proposal's deadline it passes with a majority of the voting stake (yes > no) and a turnout of at
//! least `quorum` of all bonded stake; a passed proposal takes effect at the next epoch boundary, so a
//! rule never changes in the middle of an epoch.

use crate::engine::{overlay_maps, Ctx, Deadline, EngineKey};
use crate::market::MarketState;
use crate::{Event, Params, Rejection};
use borsh::{BorshDeserialize, BorshSerialize};
use std::collections::BTreeMap;
use types::overlay::OverlayMap;
use types::{AccountId, Amount, Height};

pub use protocol::governance::{Proposal, ProposalAction, ProposalStatus};

/// Governance's state. Private: the engine and other modules use the functions below.
#[derive(Debug, Clone, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub(crate) struct GovernanceState {
    proposals: OverlayMap<u64, Proposal>,
    next_proposal: u64,
    /// Passed proposals in the order they passed, applied at the next epoch boundary.
    pending: Vec<u64>,
}

overlay_maps!(GovernanceState { proposals });

/// Governance's entries in the state root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GovernanceKey {
    Proposal(u64),
}

impl From<GovernanceKey> for EngineKey {
    fn from(key: GovernanceKey) -> EngineKey {
        match key {
            GovernanceKey::Proposal(id) => EngineKey::Proposal(id),
        }
    }
}

/// Governance's deadlines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GovernanceDeadline {
    /// Voting ends: tally.
    ProposalEnd(u64),
}

impl From<GovernanceDeadline> for Deadline {
    fn from(deadline: GovernanceDeadline) -> Deadline {
        match deadline {
            GovernanceDeadline::ProposalEnd(id) => Deadline::ProposalEnd(id),
        }
    }
}

impl GovernanceState {
    pub fn new() -> GovernanceState {
        GovernanceState { next_proposal: 1, ..GovernanceState::default() }
    }
    pub fn proposal(&self, id: u64) -> Option<&Proposal> {
        self.proposals.get(&id)
    }
    pub fn proposals(&self) -> impl Iterator<Item = &Proposal> {
        self.proposals.values()
    }
    /// The id the next proposal gets.
    pub fn next_proposal(&self) -> u64 {
        self.next_proposal
    }
    /// Passed proposals waiting for the epoch boundary, in the order they passed.
    pub fn pending(&self) -> &[u64] {
        &self.pending
    }
    /// `borsh(current value or None)` of a governance entry of the state root.
    pub fn encode_entry(&self, key: GovernanceKey, out: &mut Vec<u8>) {
        match key {
            GovernanceKey::Proposal(id) => borsh::to_writer(out, &self.proposals.get(&id)),
        }
        .expect("writing to a Vec cannot fail");
    }
    /// The deadlines this state implies (open proposals' tallies), for checking a restored snapshot.
    pub fn implied_deadlines(&self) -> impl Iterator<Item = (Height, Deadline)> + '_ {
        self.proposals
            .values()
            .filter(|p| p.status == ProposalStatus::Open)
            .map(|p| (p.voting_ends, GovernanceDeadline::ProposalEnd(p.id).into()))
    }
}

/// Would `action` be valid now? The same check runs again when it is applied.
pub(crate) fn check_action(params: &Params, market: &MarketState, action: &ProposalAction) -> Result<(), Rejection> {
    match action {
        ProposalAction::AddService { name, weight, .. } => {
            if *weight == 0 {
                return Err(Rejection::ZeroWeight);
            }
            if name.is_empty() || name.len() > 64 || market.has_service_named(name) {
                return Err(Rejection::InvalidService(format!("{name:?} is empty, too long or taken")));
            }
        }
        ProposalAction::SetServiceWeight { service, weight } => {
            if *weight == 0 {
                return Err(Rejection::ZeroWeight);
            }
            if market.service(*service).is_none() {
                return Err(Rejection::UnknownService(*service));
            }
        }
        ProposalAction::SetParam { name, value } => {
            params.with_set(name, value).map_err(Rejection::InvalidProposal)?;
        }
        ProposalAction::OverturnJobReport { .. } => {
            return Err(Rejection::InvalidProposal("an appeal is filed by the accused with appeal_job_report".into()))
        }
    }
    Ok(())
}

pub(crate) fn propose(
    ctx: &mut Ctx,
    g: &mut GovernanceState,
    market: &MarketState,
    signer: AccountId,
    action: &ProposalAction,
) -> Result<Event, Rejection> {
    if ctx.ledger.bonded(&signer).is_zero() {
        return Err(Rejection::NoStake);
    }
    check_action(ctx.params, market, action)?;
    // After this point the command must succeed.
    Ok(open(ctx, g, signer, action))
}

/// The accused's appeal of a job's non-compliance report becomes a proposal to overturn it, voted on by
/// bonded stake like any other; the accused need not be bonded (the jobs module checked the appeal).
/// Returns the proposal's id.
pub(crate) fn open_appeal(ctx: &mut Ctx, g: &mut GovernanceState, signer: AccountId, job: types::JobId) -> u64 {
    let id = g.next_proposal;
    let event = open(ctx, g, signer, &ProposalAction::OverturnJobReport { job });
    ctx.emit(event);
    id
}

fn open(ctx: &mut Ctx, g: &mut GovernanceState, signer: AccountId, action: &ProposalAction) -> Event {
    let id = g.next_proposal;
    g.next_proposal += 1;
    let voting_ends = ctx.height.checked_add(ctx.params.voting_period).expect("periods are capped at 2^32 blocks");
    let proposal = Proposal {
        id,
        proposer: signer,
        action: action.clone(),
        created_at: ctx.height,
        voting_ends,
        yes: Amount::ZERO,
        no: Amount::ZERO,
        votes: BTreeMap::new(),
        status: ProposalStatus::Open,
    };
    g.proposals.insert(id, proposal);
    ctx.schedule(voting_ends, GovernanceDeadline::ProposalEnd(id));
    ctx.touch(GovernanceKey::Proposal(id));
    ctx.touch(EngineKey::Counters);
    Event::ProposalCreated { proposal: id, proposer: signer, action: action.clone(), voting_ends }
}

pub(crate) fn vote(
    ctx: &mut Ctx,
    g: &mut GovernanceState,
    signer: AccountId,
    id: u64,
    approve: bool,
) -> Result<Event, Rejection> {
    let p = g.proposals.get(&id).ok_or(Rejection::UnknownProposal(id))?;
    if p.status != ProposalStatus::Open {
        return Err(Rejection::ProposalClosed(id));
    }
    if p.votes.contains_key(&signer) {
        return Err(Rejection::AlreadyVoted(id));
    }
    let stake = ctx.ledger.bonded(&signer);
    if stake.is_zero() {
        return Err(Rejection::NoStake);
    }
    // After this point the command must succeed.
    let p = g.proposals.get_mut(&id).expect("looked up above");
    let side = if approve { &mut p.yes } else { &mut p.no };
    *side = side.checked_add(stake).expect("votes sum to at most the bonded supply");
    p.votes.insert(signer, (approve, stake));
    ctx.touch(GovernanceKey::Proposal(id));
    Ok(Event::VoteCast { proposal: id, voter: signer, approve, stake })
}

/// End-of-block at the voting deadline: count, and queue a passed proposal for the epoch boundary; a
/// passed appeal (a judgement, not a rule change) is returned for the engine to apply now.
pub(crate) fn tally(ctx: &mut Ctx, g: &mut GovernanceState, id: u64) -> Option<ProposalAction> {
    let bonded_total = ctx.ledger.bonded_total();
    let quorum = ctx.params.quorum.mul_ceil(bonded_total);
    let p = g.proposals.get_mut(&id).expect("a proposal's deadline exists while it is open");
    let turnout = p.yes.checked_add(p.no).expect("votes sum to at most the bonded supply");
    let passed = p.yes > p.no && turnout >= quorum && !turnout.is_zero();
    p.status = if passed { ProposalStatus::Passed } else { ProposalStatus::Rejected };
    let (yes, no) = (p.yes, p.no);
    let now = match &p.action {
        ProposalAction::OverturnJobReport { .. } if passed => Some(p.action.clone()),
        _ => None,
    };
    if passed && now.is_none() {
        g.pending.push(id);
    }
    ctx.touch(GovernanceKey::Proposal(id));
    ctx.touch(EngineKey::Counters);
    ctx.emit(Event::ProposalTallied { proposal: id, yes, no, quorum, passed });
    now
}

/// The passed proposals to apply at this epoch boundary, in the order they passed, with their actions;
/// the queue is emptied. The engine applies each action and reports back with [`record_applied`].
pub(crate) fn take_passed(g: &mut GovernanceState) -> Vec<(u64, ProposalAction)> {
    let ids = std::mem::take(&mut g.pending);
    ids.into_iter().map(|id| (id, g.proposals[&id].action.clone())).collect()
}

/// Record how applying a passed proposal went.
pub(crate) fn record_applied(
    ctx: &mut Ctx,
    g: &mut GovernanceState,
    id: u64,
    action: ProposalAction,
    outcome: Result<(), Rejection>,
) {
    let status = if outcome.is_ok() { ProposalStatus::Applied } else { ProposalStatus::Failed };
    g.proposals.get_mut(&id).expect("pending proposals exist").status = status;
    ctx.touch(GovernanceKey::Proposal(id));
    ctx.touch(EngineKey::Counters);
    let reason = outcome.err().map(|e| e.code().to_string());
    ctx.emit(Event::ProposalApplied { proposal: id, action, applied: reason.is_none(), reason });
}
