//! Governance (DESIGN §8): any bonded account may propose adding a service, setting a service's weight,
//! or setting a parameter. Bonded accounts vote yes or no with the stake they have bonded when they vote.
//! At the proposal's deadline each vote counts at most the voter's bonded stake then, and the proposal
//! passes when yes > no, yes is strictly more than `pass_threshold` of all bonded stake (at least half),
//! and the turnout is at least `quorum` of it (at least half); a passed proposal takes effect at the next
//! epoch boundary, so a rule never changes in the middle of an epoch.
//!
//! The stake that voted stays bonded until the tally (issue 19): each voter has a [`VoteLock`] of the
//! largest stake it voted with on a proposal still open, until the last such proposal's tally; an unbond or
//! a deregistration that would take its bonded stake below that is refused (`vote_locked`). So stake cannot
//! vote, leave and vote again from another account, nor leave to shrink the bonded total its vote is
//! measured against.

use crate::engine::{overlay_maps, Ctx, Deadline, EngineKey};
use crate::market::MarketState;
use crate::{Event, Params, Rejection};
use borsh::{BorshDeserialize, BorshSerialize};
use std::collections::BTreeMap;
use types::overlay::OverlayMap;
use types::{AccountId, Amount, Height};

pub use protocol::governance::{Proposal, ProposalAction, ProposalStatus, ScheduledUpgrade, VoteLock};

/// Governance's state. Private: the engine and other modules use the functions below.
#[derive(Debug, Clone, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub(crate) struct GovernanceState {
    proposals: OverlayMap<u64, Proposal>,
    next_proposal: u64,
    /// Passed proposals in the order they passed, applied at the next epoch boundary.
    pending: Vec<u64>,
    /// Each voter's lock on the stake it voted with, until its last open proposal's tally.
    locks: OverlayMap<AccountId, VoteLock>,
    /// The protocol upgrade that passed and waits for its height (one at a time).
    upgrade: Option<ScheduledUpgrade>,
}

overlay_maps!(GovernanceState { proposals, locks });

/// Governance's entries in the state root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GovernanceKey {
    Proposal(u64),
    VoteLock(AccountId),
    Upgrade,
}

impl From<GovernanceKey> for EngineKey {
    fn from(key: GovernanceKey) -> EngineKey {
        match key {
            GovernanceKey::Proposal(id) => EngineKey::Proposal(id),
            GovernanceKey::VoteLock(id) => EngineKey::VoteLock(id),
            GovernanceKey::Upgrade => EngineKey::Upgrade,
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
    /// The lock on `account`'s bonded stake from its votes on proposals not yet tallied, if any.
    pub fn vote_lock(&self, account: &AccountId) -> Option<&VoteLock> {
        self.locks.get(account)
    }
    /// The protocol upgrade waiting for its height, if any.
    pub fn upgrade(&self) -> Option<ScheduledUpgrade> {
        self.upgrade
    }
    /// `borsh(current value or None)` of a governance entry of the state root.
    pub fn encode_entry(&self, key: GovernanceKey, out: &mut Vec<u8>) {
        match key {
            GovernanceKey::Proposal(id) => borsh::to_writer(out, &self.proposals.get(&id)),
            GovernanceKey::VoteLock(id) => borsh::to_writer(out, &self.locks.get(&id)),
            GovernanceKey::Upgrade => borsh::to_writer(out, &self.upgrade),
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
        ProposalAction::AddService { name, weight, price } => {
            crate::market::check_weight(*weight)?;
            if *price > protocol::params::AMOUNT_PARAM_MAX {
                return Err(Rejection::InvalidService("a price is at most 10^27 base units".into()));
            }
            if name.is_empty() || name.len() > 64 || market.has_service_named(name) {
                return Err(Rejection::InvalidService(format!("{name:?} is empty, too long or taken")));
            }
        }
        ProposalAction::SetServiceWeight { service, weight } => {
            crate::market::check_weight(*weight)?;
            if market.service(*service).is_none() {
                return Err(Rejection::UnknownService(*service));
            }
        }
        ProposalAction::SetServicePoi { service, poi_threshold, .. } => {
            crate::market::check_poi_threshold(*poi_threshold)?;
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
        // Checked with the governance state and the height by `check_upgrade`.
        ProposalAction::ScheduleUpgrade { .. } => {}
    }
    Ok(())
}

/// May an upgrade to `version` at `height` be scheduled by a vote that ends at `vote_ends`? The version
/// is the current one + 1 (never a skip, never a downgrade; a version this binary does not implement is
/// allowed: the binary stops at its height), no other upgrade is pending, and at least `epoch_length`
/// blocks separate the vote's end from the switch, so operators have an epoch to install a binary.
pub(crate) fn check_upgrade(
    params: &Params,
    g: &GovernanceState,
    vote_ends: Height,
    (version, height): (u32, Height),
) -> Result<(), Rejection> {
    if let Some(ScheduledUpgrade { version, height }) = g.upgrade {
        return Err(Rejection::UpgradePending { version, height });
    }
    let expected = params.protocol_version.saturating_add(1);
    if version != expected {
        return Err(Rejection::UpgradeVersionNotNext { expected, got: version });
    }
    let earliest = Height(vote_ends.0.saturating_add(params.epoch_length));
    if height < earliest {
        return Err(Rejection::UpgradeTooSoon { earliest, got: height });
    }
    Ok(())
}

/// A passed upgrade proposal: record it as the pending upgrade (checked again: another may have passed
/// first). The switch itself happens at the start of block `height` ([`switch_version`]).
pub(crate) fn schedule_upgrade(
    ctx: &mut Ctx,
    g: &mut GovernanceState,
    (version, height): (u32, Height),
) -> Result<(), Rejection> {
    check_upgrade(ctx.params, g, ctx.height, (version, height))?;
    g.upgrade = Some(ScheduledUpgrade { version, height });
    ctx.touch(GovernanceKey::Upgrade);
    Ok(())
}

/// The start of block `height`: take the upgrade scheduled for it, if any (the engine switches its
/// `params.protocol_version`).
pub(crate) fn take_due_upgrade(ctx: &mut Ctx, g: &mut GovernanceState, height: Height) -> Option<u32> {
    let due = g.upgrade.filter(|u| u.height == height)?;
    g.upgrade = None;
    ctx.touch(GovernanceKey::Upgrade);
    Some(due.version)
}

/// Would `account` keep at least the stake it voted with (on proposals not yet tallied) bonded if its
/// bonded stake became `remaining`? Checked before every unbond and deregistration.
pub(crate) fn check_unlocked(g: &GovernanceState, account: &AccountId, remaining: Amount) -> Result<(), Rejection> {
    match g.locks.get(account) {
        Some(lock) if remaining < lock.stake => Err(Rejection::VoteLocked { locked: lock.stake, until: lock.until }),
        _ => Ok(()),
    }
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
    if let ProposalAction::ScheduleUpgrade { version, height } = action {
        let vote_ends = Height(ctx.height.0.saturating_add(ctx.params.voting_period));
        check_upgrade(ctx.params, g, vote_ends, (*version, *height))?;
    }
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
    let until = p.voting_ends;
    let lock = g.locks.get_or_insert_with(signer, || VoteLock { stake, until });
    *lock = VoteLock { stake: lock.stake.max(stake), until: lock.until.max(until) };
    ctx.touch(GovernanceKey::Proposal(id));
    ctx.touch(GovernanceKey::VoteLock(signer));
    Ok(Event::VoteCast { proposal: id, voter: signer, approve, stake })
}

/// End-of-block at the voting deadline: count, and queue a passed proposal for the epoch boundary; a
/// passed appeal (a judgement, not a rule change) and a passed upgrade (which names its own height) are
/// returned for the engine to apply now.
pub(crate) fn tally(ctx: &mut Ctx, g: &mut GovernanceState, id: u64) -> Option<ProposalAction> {
    let bonded_total = ctx.ledger.bonded_total();
    let quorum = ctx.params.quorum.mul_ceil(bonded_total);
    let threshold = ctx.params.pass_threshold.mul_floor(bonded_total);
    let p = g.proposals.get_mut(&id).expect("a proposal's deadline exists while it is open");
    let (yes, no) = count(ctx, p);
    let turnout = yes.checked_add(no).expect("votes sum to at most the bonded supply");
    let passed = yes > no && yes > threshold && turnout >= quorum && !turnout.is_zero();
    (p.yes, p.no) = (yes, no);
    p.status = if passed { ProposalStatus::Passed } else { ProposalStatus::Rejected };
    let now = match &p.action {
        ProposalAction::OverturnJobReport { .. } | ProposalAction::ScheduleUpgrade { .. } if passed => {
            Some(p.action.clone())
        }
        _ => None,
    };
    if passed && now.is_none() {
        g.pending.push(id);
    }
    let ends = p.voting_ends;
    let voters: Vec<AccountId> = p.votes.keys().copied().collect();
    release_locks(ctx, g, &voters, ends);
    ctx.touch(GovernanceKey::Proposal(id));
    ctx.touch(EngineKey::Counters);
    ctx.emit(Event::ProposalTallied { proposal: id, yes, no, quorum, passed });
    now
}

/// Yes and no stake at the tally: each vote counts the stake it was cast with, but at most what the voter
/// has bonded now (a slash after the vote lowers it; the vote lock keeps it from being unbonded).
fn count(ctx: &Ctx, p: &Proposal) -> (Amount, Amount) {
    let (mut yes, mut no) = (Amount::ZERO, Amount::ZERO);
    for (voter, (approve, stake)) in &p.votes {
        let weight = (*stake).min(ctx.ledger.bonded(voter));
        let side = if *approve { &mut yes } else { &mut no };
        *side = side.checked_add(weight).expect("votes sum to at most the bonded supply");
    }
    (yes, no)
}

/// The tally at `ends` ran: a voter whose last open proposal it was is free to unbond again.
fn release_locks(ctx: &mut Ctx, g: &mut GovernanceState, voters: &[AccountId], ends: Height) {
    for voter in voters {
        if g.locks.get(voter).is_some_and(|l| l.until <= ends) {
            g.locks.remove(voter);
            ctx.touch(GovernanceKey::VoteLock(*voter));
        }
    }
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
