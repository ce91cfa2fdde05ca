//! Federated training jobs (seed 002, a federated-learning payment spec; DESIGN §6): orders, escrow,
//! status heartbeats, and the fixed rules that pay, fine and refund when a job ends.
//!
//! Roles: the query client (QC) pays, the coordinator (GDS) orders and reports, data owners (DOs) train and
//! MPC nodes aggregate. The GDS orders a job (id, Horizontal or Vertical, DOs, price per DO, model
//! complexity factor MCF, the vertical MPC factor, epochs, quote); the QC stakes its query (StakeIn, held);
//! the GDS selects the MPCs (their number is fixed by the first selection), which fixes the reward schema:
//!
//! - each DO `price × MCF`; each MPC `price` (Horizontal) or `price × N_DO × factor` (Vertical);
//! - the GDS an extra `job_gds_share` (10%) of those payouts, floored; the final price is the sum.
//!
//! Each DO and MPC holds a deposit equal to the total DO payout `T = N_DO × price × MCF` (10 DOs promised
//! 1,000 each ⇒ 10,000 each), so any single offender can make everyone whole. `JobDispatched` fires once
//! StakeIn covers the final price, the MPCs are selected and every deposit is in, whichever comes last; a
//! StakeIn above the final price is refunded then, and a shortfall must be topped up by the QC first.
//!
//! Outcomes (the escrow, StakeIn plus deposits, always ends at exactly zero):
//! 1. every member posts `Completed` for the whole training: the schema is paid from StakeIn, deposits return;
//! 2. (and 4., 6.) the GDS reports offenders (no heartbeat for `job_heartbeat_timeout` blocks, which the engine
//!    checks, and never against a member that posted Completed for the whole training: `member_completed`;
//!    or, 6., one member's non-compliant result, named by the hash the member posted — DOs of a horizontal
//!    job, MPCs of a vertical one — which settles only when its dispute window closes, see below): the QC is refunded;
//!    the penalty `T` is taken from the offenders' deposits in equal shares; each good DO gets its promised
//!    reward from it and the rest goes to the treasury (never to the GDS that reported); the rest of each
//!    deposit returns;
//! 3. (and 5.) a member posts `Failed`: its x is the progress it had already posted (epochs shown completed,
//!    of E; a failure shows none of its own); the QC is refunded; each good DO d gets `⌊promised × p_d / E⌋`
//!    from the offender's deposit, p_d being the epochs d has posted as completed (its computation cost, by
//!    its own record); the rest returns to the offender — at most `(N_DO − 1) / N_DO` of the penalty, so
//!    reporting honestly costs less than being caught. A member past its heartbeat timeout cannot post at
//!    all (`heartbeat_expired`): it is reportable for silence instead;
//! 7. the QC cancels a dispatched job: `job_cancel_fine` (60%) of StakeIn is split among the DOs, MPCs and
//!    GDS by their schema payouts (largest remainder), the rest is refunded; before dispatch, cancelling
//!    returns everything;
//! 8. the GDS nominates a replacement for an MPC that stalled (its heartbeat `job_heartbeat_timeout` blocks
//!    old, which the engine checks; at most `max_mpc_replacements` times); when the nominee
//!    deposits, it takes the MPC's place and the replaced MPC's deposit is fined as in 4 (every DO gets its
//!    promised reward for the batches it redoes, the rest goes to the treasury); the job continues.
//!
//! Disputes (issue 18; DESIGN §12, no profit from one's own judgement): with the order the GDS holds a bond,
//! `job_report_bond` of `T`, in the escrow. A non-compliance report opens a window of `job_dispute_window`
//! blocks (closing before the job expires) in which nothing else ends the job (`job_disputed`). The accused
//! may appeal to governance — not to the job's other members, who may be the GDS's coalition — while the
//! vote (`voting_period`) can end inside the window; a passed appeal, applied when its vote ends, voids the
//! report and pays the bond to the accused, and the job runs on. Otherwise the report stands when the
//! window closes. At every settlement a bond still held returns to the GDS.
//!
//! A vertical job first runs its PSI stage (issue 18): the DOs intersect their row ids pairwise in
//! `⌈log₂ N_DO⌉` levels (`Job::psi_pairs`; seed 002's "level 0: A-B ⇒ A1, C-D ⇒ C1; level 1: A1-B1 ⇒ A2").
//! A PSI status names the open level; only its parties complete it, each once, and the next level opens
//! when all have; training and aggregation statuses are refused until the last level completed
//! (`psi_incomplete`). Nobody is paid for PSI: while it is open, a fine pays the good DOs nothing (the rest
//! goes to the treasury as always), an expiry pays no GDS share and blames only the open level's parties
//! that did not complete it. Statuses name a batch below the order's `batches` per epoch, or the whole.
//!
//! An order that is not dispatched within `job_dispatch_timeout` blocks lapses and returns everything. A
//! dispatched job not settled `duration_max` blocks (the order's, at most `job_duration_max`) after dispatch
//! expires: StakeIn pays each member that completed the whole training its schema payout and the GDS its
//! share and refunds the QC the rest; the members that did not complete are treated as silent: the penalty
//! `T` from their deposits in equal shares makes the QC whole for what StakeIn paid out, any rest to the
//! treasury.
//! Only these calls move money into or out of a job's holds (`HoldOwner::Job`); `HoldPost`/`HoldVoid` refuse
//! them.

use crate::engine::{overlay_maps, Ctx, Deadline, EngineKey};
use crate::market::{MarketState, Role};
use crate::{Event, Ledger, Rejection};
use borsh::{BorshDeserialize, BorshSerialize};
use ledger::{distribute, HoldId, LedgerError};
use protocol::{HoldOwner, HoldReason, HoldTag};
use std::collections::{BTreeMap, BTreeSet};
use types::overlay::OverlayMap;
use types::{mul_div_floor, AccountId, Amount, Height, JobId};

pub use protocol::jobs::{
    compute_schema, Job, JobDispute, JobEntry, JobFault, JobKind, JobMember, JobOrder, JobOutcome, JobPhase,
    JobProgress, JobRecord, JobRole, JobStage, JobStatus, RewardSchema, WHOLE,
};

/// The jobs module's state. Private: the engine and other modules use the functions below.
#[derive(Debug, Clone, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub(crate) struct JobsState {
    jobs: OverlayMap<JobId, Job>,
}

overlay_maps!(JobsState { jobs });

/// The jobs module's entries in the state root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JobsKey {
    Job(JobId),
}

impl From<JobsKey> for EngineKey {
    fn from(key: JobsKey) -> EngineKey {
        match key {
            JobsKey::Job(id) => EngineKey::Job(id),
        }
    }
}

/// The jobs module's deadlines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JobsDeadline {
    /// An order not dispatched by now lapses (everything returned).
    Lapse(JobId),
    /// A settled job is forgotten.
    Close(JobId),
    /// A dispatched job not settled by now settles by its recorded progress.
    Expire(JobId),
    /// A non-compliance report's dispute window closes: unless overturned, the report settles the job.
    DisputeEnd(JobId),
}

impl From<JobsDeadline> for Deadline {
    fn from(deadline: JobsDeadline) -> Deadline {
        match deadline {
            JobsDeadline::Lapse(id) => Deadline::JobLapse(id),
            JobsDeadline::Close(id) => Deadline::JobClose(id),
            JobsDeadline::Expire(id) => Deadline::JobExpiry(id),
            JobsDeadline::DisputeEnd(id) => Deadline::JobDisputeEnd(id),
        }
    }
}

impl JobsState {
    pub fn job(&self, id: &JobId) -> Option<&Job> {
        self.jobs.get(id)
    }
    pub fn jobs(&self) -> impl Iterator<Item = &Job> {
        self.jobs.values()
    }
    /// `borsh(current value or None)` of a job entry of the state root (the job in its root form).
    pub fn encode_entry(&self, key: JobsKey, out: &mut Vec<u8>) {
        let JobsKey::Job(id) = key;
        match self.jobs.get(&id) {
            Some(job) => borsh::to_writer(&mut *out, &1u8).and_then(|()| job.encode_for_root(out)),
            None => borsh::to_writer(out, &0u8),
        }
        .expect("writing to a Vec cannot fail");
    }
    /// The deadlines this state implies (ordered jobs' lapses, dispatched jobs' expiries, open disputes'
    /// ends), for checking a restored snapshot.
    pub fn implied_deadlines(&self) -> impl Iterator<Item = (Height, Deadline)> + '_ {
        let phases = self.jobs.values().filter_map(|j| match (j.phase, j.expires_at) {
            (JobPhase::Ordered, _) => Some((j.dispatch_by, JobsDeadline::Lapse(j.id).into())),
            (JobPhase::Dispatched, Some(at)) => Some((at, JobsDeadline::Expire(j.id).into())),
            _ => None,
        });
        let disputes =
            self.jobs.values().filter_map(|j| j.dispute.map(|d| (d.closes_at, JobsDeadline::DisputeEnd(j.id).into())));
        phases.chain(disputes)
    }
}

/// A settlement plan: money leaving each hold of the escrow, to whom. Built by the `compute_*` functions,
/// applied by [`apply_settlement`]; each hold's lines sum to exactly what it holds.
type Plan = Vec<(HoldId, AccountId, Amount)>;

/// What a job's escrow holds now: its StakeIn and deposits still open.
pub(crate) fn escrow(ledger: &Ledger, job: &Job) -> Amount {
    Amount::checked_sum(job.holds().iter().filter_map(|h| ledger.hold(*h)).map(|h| h.amount))
        .expect("escrow is part of the supply")
}

// ----- calls -------------------------------------------------------------------------------------

fn open_job<'a>(j: &'a JobsState, id: &JobId) -> Result<&'a Job, Rejection> {
    j.jobs.get(id).ok_or(Rejection::UnknownJob(*id))
}

/// The job, if `signer` is the party `party` names (its GDS or QC) and the job is in `phase`: the
/// checks every GDS and QC call starts with, in this order.
fn job_for<'a>(
    j: &'a JobsState,
    id: &JobId,
    signer: AccountId,
    party: fn(&Job) -> AccountId,
    phase: JobPhase,
) -> Result<&'a Job, Rejection> {
    let job = open_job(j, id)?;
    if party(job) != signer {
        return Err(Rejection::NotAuthorized);
    }
    job_phase_is(job, phase)?;
    Ok(job)
}

fn job_phase_is(job: &Job, phase: JobPhase) -> Result<(), Rejection> {
    if job.phase != phase {
        return Err(Rejection::WrongJobPhase { job: job.id, phase: format!("{:?}", job.phase).to_lowercase() });
    }
    Ok(())
}

/// The order's checks, in order; on success the deposit each member owes and the dispatch deadline.
fn check_job_order(
    ctx: &Ctx,
    j: &JobsState,
    market: &MarketState,
    gds: AccountId,
    o: &JobOrder,
) -> Result<(Amount, Height), Rejection> {
    let bad = |m: String| Err(Rejection::InvalidJob(m));
    if !market.has_role(&gds, Role::Coordinator) {
        return Err(Rejection::NotAuthorized);
    }
    if j.jobs.contains_key(&o.id) {
        return Err(Rejection::JobExists(o.id));
    }
    let max = ctx.params.job_members_max as usize;
    if o.dos.is_empty() || o.dos.len() > max {
        return bad(format!("a job needs 1 to {max} data owners"));
    }
    let unique: BTreeSet<AccountId> = o.dos.iter().copied().collect();
    if unique.len() != o.dos.len() || unique.contains(&gds) || unique.contains(&o.qc) || gds == o.qc {
        return bad("data owners, the QC and the GDS must be distinct accounts".into());
    }
    if let Some(d) = o.dos.iter().find(|d| !market.has_role(d, Role::DataOwner)) {
        return bad(format!("{d} is not a registered data owner"));
    }
    if o.price_per_do.is_zero() || o.quote.is_zero() || [o.complexity, o.epochs, o.mpc_factor, o.batches].contains(&0) {
        return bad("price, quote, complexity, MPC factor, epochs and batches must be positive".into());
    }
    let longest = ctx.params.job_duration_max;
    if o.duration_max == 0 || o.duration_max > longest {
        return bad(format!("the maximum duration is 1 to {longest} blocks"));
    }
    if o.kind == JobKind::Horizontal && o.mpc_factor != 1 {
        return bad("the MPC factor applies to vertical jobs only; use 1".into());
    }
    let per_do = o.price_per_do.checked_mul(u128::from(o.complexity)).ok_or(LedgerError::AmountOverflow)?;
    let deposit = per_do.checked_mul(o.dos.len() as u128).ok_or(LedgerError::AmountOverflow)?;
    let dispatch_by = ctx.height.checked_add(ctx.params.job_dispatch_timeout).ok_or(LedgerError::AmountOverflow)?;
    Ok((deposit, dispatch_by))
}

/// The report bond the GDS holds with an order: `job_report_bond` of the deposit `T`, floored.
fn report_bond(params: &crate::Params, deposit: Amount) -> Amount {
    params.job_report_bond.mul_floor(deposit)
}

/// Free balance a job call spends beyond `Call::free_needed` (which cannot see the parameters): the
/// GDS's report bond for an order (zero when the order's amounts overflow; the order check refuses it).
pub(crate) fn free_needed(params: &crate::Params, call: &protocol::Call) -> Amount {
    match call {
        protocol::Call::OrderJob { order } => order
            .price_per_do
            .checked_mul(u128::from(order.complexity))
            .and_then(|d| d.checked_mul(order.dos.len() as u128))
            .map_or(Amount::ZERO, |deposit| report_bond(params, deposit)),
        _ => Amount::ZERO,
    }
}

pub(crate) fn order_job(
    ctx: &mut Ctx,
    j: &mut JobsState,
    market: &MarketState,
    gds: AccountId,
    o: &JobOrder,
) -> Result<(), Rejection> {
    let (deposit, dispatch_by) = check_job_order(ctx, j, market, gds, o)?;
    // After this point the command must succeed (free ≥ bond + fee was checked by `apply_tx`).
    let mut job = Job::ordered(gds, o, deposit, ctx.height, dispatch_by);
    let dos = u32::try_from(o.dos.len()).expect("the order check bounds the DOs");
    job.record(ctx.height, JobEntry::Ordered { gds, dos, quote: o.quote, deposit });
    let bond = report_bond(ctx.params, deposit);
    if !bond.is_zero() {
        let tag = HoldTag::new(HoldOwner::Job(o.id), HoldReason::JobBond);
        let hold = ctx.ledger.hold_create(gds, bond, tag, ctx.height, None).expect("apply_tx checked the bond");
        job.bond = Some((hold, bond));
        job.record(ctx.height, JobEntry::BondPosted { bond });
    }
    j.jobs.insert(o.id, job);
    ctx.schedule(dispatch_by, JobsDeadline::Lapse(o.id));
    ctx.touch(JobsKey::Job(o.id));
    let event =
        Event::JobOrdered { job: o.id, gds, qc: o.qc, kind: o.kind, dos: o.dos.clone(), quote: o.quote, deposit };
    ctx.emit(event);
    if !bond.is_zero() {
        ctx.emit(Event::JobBondPosted { job: o.id, gds, bond });
    }
    Ok(())
}

/// The QC stakes what is due: the quote, or the rest of the final price once the MPCs are selected.
pub(crate) fn submit_job_query(
    ctx: &mut Ctx,
    j: &mut JobsState,
    qc: AccountId,
    id: JobId,
    amount: Amount,
) -> Result<(), Rejection> {
    let job = job_for(j, &id, qc, |x| x.qc, JobPhase::Ordered)?;
    let due = job.due();
    if due.is_zero() || amount != due {
        return Err(Rejection::WrongAmount { expected: due, got: amount });
    }
    let staked = job.staked.checked_add(amount).ok_or(LedgerError::AmountOverflow)?;
    let previous = job.stake_in;
    // After this point the command must succeed (free ≥ amount + fee was checked by `apply_tx`).
    if let Some(h) = previous {
        ctx.ledger.hold_void(h).expect("the StakeIn hold is open while the job is ordered");
    }
    let hold = ctx
        .ledger
        .hold_create(qc, staked, HoldTag::new(HoldOwner::Job(id), HoldReason::JobStake), ctx.height, None)
        .expect("the QC's free balance covers the old stake plus the amount due");
    let height = ctx.height;
    let job = j.jobs.get_mut(&id).expect("checked above");
    job.stake_in = Some(hold);
    job.staked = staked;
    job.record(height, JobEntry::Staked { amount, staked });
    ctx.touch(JobsKey::Job(id));
    ctx.emit(Event::JobQuerySubmitted { job: id, qc, amount, staked });
    try_dispatch(ctx, j, id);
    Ok(())
}

pub(crate) fn select_mpcs(
    ctx: &mut Ctx,
    j: &mut JobsState,
    market: &MarketState,
    gds: AccountId,
    id: JobId,
    mpcs: &[AccountId],
) -> Result<(), Rejection> {
    let job = job_for(j, &id, gds, |x| x.gds, JobPhase::Ordered)?;
    let max = ctx.params.job_members_max as usize;
    if mpcs.is_empty() || mpcs.len() > max {
        return Err(Rejection::InvalidJob(format!("a job needs 1 to {max} MPC nodes")));
    }
    if !job.mpcs.is_empty() && job.mpcs.len() != mpcs.len() {
        return Err(Rejection::InvalidJob(format!(
            "the job has {} MPC nodes; the GDS may change them, never their number",
            job.mpcs.len()
        )));
    }
    let unique: BTreeSet<AccountId> = mpcs.iter().copied().collect();
    if unique.len() != mpcs.len() || unique.iter().any(|m| *m == job.gds || *m == job.qc || job.dos.contains(m)) {
        return Err(Rejection::InvalidJob("MPC nodes must be distinct from each other and the job's roles".into()));
    }
    if let Some(m) = mpcs.iter().find(|m| !market.has_role(m, Role::Mpc)) {
        return Err(Rejection::InvalidJob(format!("{m} is not a registered MPC node")));
    }
    let schema = compute_schema(job, mpcs.len(), ctx.params.job_gds_share).ok_or(LedgerError::AmountOverflow)?;
    // After this point the command must succeed.
    let dropped: Vec<(AccountId, Option<HoldId>)> = job
        .mpcs
        .iter()
        .filter(|m| !unique.contains(m))
        .map(|m| (*m, job.members.get(m).and_then(|x| x.deposit)))
        .collect();
    let mut refunds = Vec::new();
    for (m, hold) in &dropped {
        if let Some(h) = hold {
            refunds.push((*m, ctx.ledger.hold_void(*h).expect("a deposit is open until the job settles")));
        }
    }
    let height = ctx.height;
    let job = j.jobs.get_mut(&id).expect("checked above");
    for (m, _) in &dropped {
        job.members.remove(m);
    }
    for m in mpcs {
        job.members.entry(*m).or_insert(JobMember::joining(JobRole::Mpc, height));
    }
    job.mpcs = mpcs.to_vec();
    job.schema = Some(schema);
    let count = u32::try_from(mpcs.len()).expect("the selection check bounds the MPCs");
    job.record(height, JobEntry::MpcsSelected { mpcs: count, price: schema.total });
    ctx.touch(JobsKey::Job(id));
    ctx.emit(Event::MpcsSelected { job: id, mpcs: mpcs.to_vec(), schema });
    if !refunds.is_empty() {
        ctx.emit(Event::Refund { job: id, refunds });
    }
    try_dispatch(ctx, j, id);
    Ok(())
}

/// A DO or MPC (or a nominated replacement MPC) holds its deposit.
pub(crate) fn accept_job(
    ctx: &mut Ctx,
    j: &mut JobsState,
    who: AccountId,
    id: JobId,
    amount: Amount,
) -> Result<(), Rejection> {
    let job = open_job(j, &id)?;
    let nominee = job.replacement.filter(|(_, n)| *n == who);
    match (job.phase, nominee) {
        (JobPhase::Dispatched, Some(_)) => {
            // A swap would fine (and remove) a member while a report may still settle the job.
            if job.dispute.is_some() {
                return Err(Rejection::JobDisputed(id));
            }
            if job.replacements >= ctx.params.max_mpc_replacements {
                return Err(Rejection::ReplacementLimit { max: ctx.params.max_mpc_replacements });
            }
        }
        (JobPhase::Ordered, _) => {
            let member = job.members.get(&who).ok_or(Rejection::NotAuthorized)?;
            if member.deposit.is_some() {
                return Err(Rejection::AlreadyAccepted(id));
            }
        }
        _ => job_phase_is(job, JobPhase::Ordered)?,
    }
    if amount != job.deposit {
        return Err(Rejection::WrongAmount { expected: job.deposit, got: amount });
    }
    // After this point the command must succeed (free ≥ amount + fee was checked by `apply_tx`).
    let hold = ctx
        .ledger
        .hold_create(who, amount, HoldTag::new(HoldOwner::Job(id), HoldReason::JobDeposit), ctx.height, None)
        .expect("free balance was checked");
    let height = ctx.height;
    if let Some((old, new)) = nominee {
        swap_mpc(ctx, j, id, (old, new), hold);
        return Ok(());
    }
    let job = j.jobs.get_mut(&id).expect("checked above");
    job.members.get_mut(&who).expect("checked above").deposit = Some(hold);
    job.record(height, JobEntry::Deposited { member: who, amount });
    ctx.touch(JobsKey::Job(id));
    ctx.emit(Event::JobAccepted { job: id, member: who, deposit: amount });
    try_dispatch(ctx, j, id);
    Ok(())
}

/// Dispatch once StakeIn covers the price, the MPCs are selected and every deposit is in.
fn try_dispatch(ctx: &mut Ctx, j: &mut JobsState, id: JobId) {
    let job = j.jobs.get(&id).expect("the caller found the job");
    let Some(schema) = job.schema else { return };
    if job.phase != JobPhase::Ordered || job.staked < schema.total || job.members.values().any(|m| m.deposit.is_none())
    {
        return;
    }
    let surplus = Amount(job.staked.0 - schema.total.0);
    let (qc, stake, dispatch_by) = (job.qc, job.stake_in.expect("staked > 0 means a hold"), job.dispatch_by);
    if !surplus.is_zero() {
        ctx.ledger.hold_post(stake, &[(qc, surplus)]).expect("the StakeIn hold holds the surplus");
    }
    let height = ctx.height;
    // The order check bounds the duration by `job_duration_max` (at most 2^32 blocks).
    let expires_at = Height(height.0.saturating_add(job.duration_max));
    ctx.unschedule(dispatch_by, JobsDeadline::Lapse(id));
    ctx.schedule(expires_at, JobsDeadline::Expire(id));
    let job = j.jobs.get_mut(&id).expect("checked above");
    job.staked = schema.total;
    job.phase = JobPhase::Dispatched;
    job.dispatched_at = Some(height);
    job.expires_at = Some(expires_at);
    for m in job.members.values_mut() {
        m.heartbeat = height;
    }
    job.record(height, JobEntry::Dispatched { refunded: surplus });
    ctx.touch(JobsKey::Job(id));
    let event = Event::JobDispatched { job: id, dos: job.dos.clone(), mpcs: job.mpcs.clone() };
    ctx.emit(event);
    if !surplus.is_zero() {
        ctx.emit(Event::Refund { job: id, refunds: vec![(qc, surplus)] });
    }
}

pub(crate) fn post_job_status(
    ctx: &mut Ctx,
    j: &mut JobsState,
    who: AccountId,
    id: JobId,
    status: JobStatus,
) -> Result<(), Rejection> {
    let job = open_job(j, &id)?;
    let role = job.role_of(&who).ok_or(Rejection::NotAuthorized)?;
    job_phase_is(job, JobPhase::Dispatched)?;
    let member = &job.members[&who];
    // A silent member is reportable; letting it post now would let it race the report with a cheaper
    // self-reported failure (or revive, then fail).
    if member.silent_at(ctx.height, ctx.params) {
        return Err(Rejection::HeartbeatExpired { member: who, due: member.heartbeat_due(ctx.params) });
    }
    check_status(job, &who, role, &status)?;
    // A failure would settle the job under the open report; the report decides first.
    if status.status == JobProgress::Failed && job.dispute.is_some() {
        return Err(Rejection::JobDisputed(id));
    }
    // After this point the command must succeed.
    let height = ctx.height;
    let job = j.jobs.get_mut(&id).expect("checked above");
    let epochs = job.epochs;
    let member = job.members.get_mut(&who).expect("checked above");
    member.heartbeat = height;
    member.last_status = Some(status);
    member.updates = member.updates.saturating_add(1);
    // A failure shows no progress of its own: x is what the member had posted before it.
    if status.status != JobProgress::Failed {
        member.progress = member.progress.max(status.completed_epochs(epochs));
    }
    let progress = member.progress;
    if status.stage == JobStage::Psi && status.status == JobProgress::Completed {
        advance_psi(ctx, job, who);
    }
    ctx.touch(JobsKey::Job(id));
    ctx.emit(Event::JobStatusUpdated { job: id, member: who, status });
    if status.status == JobProgress::Failed {
        let plan = compute_self_reported(&j.jobs[&id], who);
        settle(ctx, j, id, JobOutcome::SelfReported { member: who, epoch: progress, epochs }, plan);
    } else if job.dispute.is_none() && job.members.values().all(JobMember::done) {
        // Under an open report the job settles when the dispute ends (`end_dispute`, `overturn_report`).
        let plan = compute_completed(&j.jobs[&id]);
        settle(ctx, j, id, JobOutcome::Completed, plan);
    }
    Ok(())
}

/// A DO or MPC of a dispatched job posts (or replaces) the hash of its result. Not a heartbeat: a result
/// is evidence, not progress. The accused cannot change the result under dispute.
pub(crate) fn post_job_result(
    ctx: &mut Ctx,
    j: &mut JobsState,
    who: AccountId,
    id: JobId,
    result: types::Hash,
) -> Result<(), Rejection> {
    let job = open_job(j, &id)?;
    job.role_of(&who).ok_or(Rejection::NotAuthorized)?;
    job_phase_is(job, JobPhase::Dispatched)?;
    if job.dispute.is_some_and(|d| d.member == who) {
        return Err(Rejection::JobDisputed(id));
    }
    // After this point the command must succeed.
    let job = j.jobs.get_mut(&id).expect("checked above");
    job.members.get_mut(&who).expect("checked above").result = Some(result);
    ctx.touch(JobsKey::Job(id));
    ctx.emit(Event::JobResultPosted { job: id, member: who, result });
    Ok(())
}

/// The GDS rejects `member`'s posted `result` as non-compliant (outcome 6). Nothing settles yet: a
/// dispute window of `job_dispute_window` blocks opens, in which the member may appeal to governance; the
/// window must close before the job expires. A GDS whose report was overturned cannot report again.
pub(crate) fn report_non_compliance(
    ctx: &mut Ctx,
    j: &mut JobsState,
    gds: AccountId,
    id: JobId,
    (member, result): (AccountId, types::Hash),
) -> Result<(), Rejection> {
    let job = job_for(j, &id, gds, |x| x.gds, JobPhase::Dispatched)?;
    if job.dispute.is_some() {
        return Err(Rejection::JobDisputed(id));
    }
    let m = job.members.get(&member).ok_or_else(|| Rejection::InvalidJobReport(format!("{member} is not a member")))?;
    check_non_compliant_role(job, m.role)?;
    if job.overturned() {
        return Err(Rejection::InvalidJobReport("a report of this GDS was overturned; its bond is gone".into()));
    }
    match m.result {
        None => return Err(Rejection::ResultNotPosted { member }),
        Some(posted) if posted != result => return Err(Rejection::ResultMismatch { member }),
        Some(_) => {}
    }
    let closes_at = ctx.height.checked_add(ctx.params.job_dispute_window).ok_or(LedgerError::AmountOverflow)?;
    if job.expires_at.is_some_and(|at| closes_at >= at) {
        return Err(Rejection::InvalidJobReport("the dispute window would outlast the job's maximum duration".into()));
    }
    // After this point the command must succeed.
    let height = ctx.height;
    let job = j.jobs.get_mut(&id).expect("checked above");
    job.dispute = Some(JobDispute { member, result, reported_at: height, closes_at, appeal: None });
    job.record(height, JobEntry::NonComplianceReported { member, closes_at });
    ctx.schedule(closes_at, JobsDeadline::DisputeEnd(id));
    ctx.touch(JobsKey::Job(id));
    ctx.emit(Event::NonComplianceReported { job: id, member, result, closes_at });
    Ok(())
}

/// Non-compliant results are reported against the DOs of a horizontal job, the MPCs of a vertical one.
fn check_non_compliant_role(job: &Job, role: JobRole) -> Result<(), Rejection> {
    let expected = match job.kind {
        JobKind::Horizontal => JobRole::DataOwner,
        JobKind::Vertical => JobRole::Mpc,
    };
    if role != expected {
        return Err(Rejection::InvalidJobReport(format!(
            "non-compliant results are reported against the {expected:?} nodes of a {:?} job",
            job.kind
        )));
    }
    Ok(())
}

/// The accused may appeal an open report while governance's vote (`voting_period` blocks) can still end
/// before the dispute window closes. Read-only: the engine then opens the proposal and calls
/// [`record_appeal`].
pub(crate) fn check_appeal(ctx: &Ctx, j: &JobsState, who: AccountId, id: JobId) -> Result<(), Rejection> {
    let job = open_job(j, &id)?;
    let Some(d) = job.dispute else { return Err(Rejection::InvalidAppeal("no report of this job is open".into())) };
    if d.member != who {
        return Err(Rejection::NotAuthorized);
    }
    if d.appeal.is_some() {
        return Err(Rejection::InvalidAppeal("already appealed".into()));
    }
    let vote_ends = ctx.height.checked_add(ctx.params.voting_period).ok_or(LedgerError::AmountOverflow)?;
    if vote_ends >= d.closes_at {
        return Err(Rejection::InvalidAppeal(format!("too late: the window closes at {}", d.closes_at)));
    }
    Ok(())
}

pub(crate) fn record_appeal(ctx: &mut Ctx, j: &mut JobsState, id: JobId, proposal: u64) {
    let height = ctx.height;
    let job = j.jobs.get_mut(&id).expect("check_appeal found the job");
    let d = job.dispute.as_mut().expect("check_appeal found the dispute");
    d.appeal = Some(proposal);
    let member = d.member;
    job.record(height, JobEntry::ReportAppealed { member, proposal });
    ctx.touch(JobsKey::Job(id));
    ctx.emit(Event::JobReportAppealed { job: id, member, proposal });
}

/// Governance passed the appeal `proposal`: the report is void, the GDS's bond goes to the member, and
/// the job runs on (settling now if every member has completed). Refused if the dispute is no longer the
/// one appealed.
pub(crate) fn overturn_report(ctx: &mut Ctx, j: &mut JobsState, id: JobId, proposal: u64) -> Result<(), Rejection> {
    let job = open_job(j, &id)?;
    let Some(d) = job.dispute.filter(|d| d.appeal == Some(proposal)) else {
        return Err(Rejection::InvalidAppeal("the appealed report is no longer open".into()));
    };
    // After this point the command must succeed.
    let (member, closes_at) = (d.member, d.closes_at);
    let bond = job.bond.map_or(Amount::ZERO, |(_, amount)| amount);
    if let Some((h, amount)) = job.bond {
        apply_settlement(ctx, id, &vec![(h, member, amount)]);
    }
    ctx.unschedule(closes_at, JobsDeadline::DisputeEnd(id));
    let height = ctx.height;
    let job = j.jobs.get_mut(&id).expect("checked above");
    job.bond = None;
    job.dispute = None;
    job.record(height, JobEntry::ReportOverturned { member, bond });
    ctx.touch(JobsKey::Job(id));
    ctx.emit(Event::JobReportOverturned { job: id, member, bond });
    if job.members.values().all(JobMember::done) {
        let plan = compute_completed(&j.jobs[&id]);
        settle(ctx, j, id, JobOutcome::Completed, plan);
    }
    Ok(())
}

/// End-of-block: the dispute window closed and the report was not overturned: it stands (outcome 6, as
/// 2 for the accused), and the GDS's bond returns.
pub(crate) fn end_dispute(ctx: &mut Ctx, j: &mut JobsState, id: JobId) {
    let job = j.jobs.get(&id).expect("a dispute deadline is removed when its report is overturned");
    let d = job.dispute.expect("a dispute deadline is only pending for an open report");
    assert_eq!(job.phase, JobPhase::Dispatched, "a disputed job cannot settle before its dispute ends");
    let offenders = vec![d.member];
    let plan = compute_reported(job, &offenders, ctx.treasury);
    settle(ctx, j, id, JobOutcome::Reported { fault: JobFault::NonCompliant, offenders }, plan);
}

pub(crate) fn report_job_failure(
    ctx: &mut Ctx,
    j: &mut JobsState,
    gds: AccountId,
    id: JobId,
    offenders: &[AccountId],
    fault: JobFault,
) -> Result<(), Rejection> {
    let job = job_for(j, &id, gds, |x| x.gds, JobPhase::Dispatched)?;
    if job.dispute.is_some() {
        return Err(Rejection::JobDisputed(id));
    }
    let unique: BTreeSet<AccountId> = offenders.iter().copied().collect();
    if unique.is_empty() || unique.len() != offenders.len() {
        return Err(Rejection::InvalidJobReport("name each offender once, at least one".into()));
    }
    for o in &unique {
        let member = job.members.get(o).ok_or_else(|| Rejection::InvalidJobReport(format!("{o} is not a member")))?;
        match fault {
            JobFault::NoHeartbeat => {
                if member.done() {
                    return Err(Rejection::MemberCompleted { member: *o });
                }
                if !member.silent_at(ctx.height, ctx.params) {
                    return Err(Rejection::HeartbeatNotExpired { member: *o, due: member.heartbeat_due(ctx.params) });
                }
            }
            // A non-compliance report names the result it rejects and opens a dispute window:
            // `ReportNonCompliance`. This call never fines on the GDS's word alone.
            JobFault::NonCompliant => {
                check_non_compliant_role(job, member.role)?;
                if member.result.is_none() {
                    return Err(Rejection::ResultNotPosted { member: *o });
                }
                return Err(Rejection::InvalidJobReport("name the rejected result: report_non_compliance".into()));
            }
        }
    }
    // After this point the command must succeed.
    let offenders: Vec<AccountId> = unique.into_iter().collect();
    let plan = compute_reported(&j.jobs[&id], &offenders, ctx.treasury);
    settle(ctx, j, id, JobOutcome::Reported { fault, offenders }, plan);
    Ok(())
}

pub(crate) fn cancel_job(ctx: &mut Ctx, j: &mut JobsState, qc: AccountId, id: JobId) -> Result<(), Rejection> {
    let job = open_job(j, &id)?;
    if job.qc != qc {
        return Err(Rejection::NotAuthorized);
    }
    if job.dispute.is_some() {
        return Err(Rejection::JobDisputed(id));
    }
    match job.phase {
        JobPhase::Ordered => {
            let plan = compute_returned(ctx.ledger, &j.jobs[&id]);
            settle(ctx, j, id, JobOutcome::Withdrawn, plan);
        }
        JobPhase::Dispatched => {
            let (plan, fined, refunded) = compute_cancelled(ctx.params.job_cancel_fine, &j.jobs[&id]);
            settle(ctx, j, id, JobOutcome::Cancelled { fined, refunded }, plan);
        }
        JobPhase::Settled => job_phase_is(job, JobPhase::Dispatched)?,
    }
    Ok(())
}

pub(crate) fn replace_mpc(
    ctx: &mut Ctx,
    j: &mut JobsState,
    market: &MarketState,
    gds: AccountId,
    id: JobId,
    (mpc, nominee): (AccountId, AccountId),
) -> Result<(), Rejection> {
    let job = job_for(j, &id, gds, |x| x.gds, JobPhase::Dispatched)?;
    if job.dispute.is_some() {
        return Err(Rejection::JobDisputed(id));
    }
    if job.role_of(&mpc) != Some(JobRole::Mpc) {
        return Err(Rejection::InvalidJobReport(format!("{mpc} is not an MPC node of the job")));
    }
    if job.replacements >= ctx.params.max_mpc_replacements {
        return Err(Rejection::ReplacementLimit { max: ctx.params.max_mpc_replacements });
    }
    if nominee == job.gds || nominee == job.qc || job.members.contains_key(&nominee) {
        return Err(Rejection::InvalidJobReport("the replacement must not already have a role in the job".into()));
    }
    if !market.has_role(&nominee, Role::Mpc) {
        return Err(Rejection::InvalidJobReport(format!("{nominee} is not a registered MPC node")));
    }
    // The replaced MPC's deposit is fined: only on the engine's evidence of a stall, as in outcome 4.
    let old = &job.members[&mpc];
    if old.done() {
        return Err(Rejection::MemberCompleted { member: mpc });
    }
    if !old.silent_at(ctx.height, ctx.params) {
        return Err(Rejection::HeartbeatNotExpired { member: mpc, due: old.heartbeat_due(ctx.params) });
    }
    // After this point the command must succeed.
    let height = ctx.height;
    let job = j.jobs.get_mut(&id).expect("checked above");
    job.replacement = Some((mpc, nominee));
    job.record(height, JobEntry::ReplacementNominated { nominee, mpc });
    ctx.touch(JobsKey::Job(id));
    ctx.emit(Event::MpcReplacementNominated { job: id, mpc, replacement: nominee });
    Ok(())
}

/// The nominee deposited: it takes the old MPC's place and the old MPC's deposit is fined as in 4.
fn swap_mpc(ctx: &mut Ctx, j: &mut JobsState, id: JobId, (old, new): (AccountId, AccountId), hold: HoldId) {
    let plan = compute_fine(&j.jobs[&id], &[old], false, ctx.treasury);
    ctx.emit(Event::JobAccepted { job: id, member: new, deposit: j.jobs[&id].deposit });
    apply_settlement(ctx, id, &plan);
    let height = ctx.height;
    let job = j.jobs.get_mut(&id).expect("the caller found the job");
    job.members.remove(&old);
    job.members.insert(new, JobMember { deposit: Some(hold), ..JobMember::joining(JobRole::Mpc, height) });
    for m in job.mpcs.iter_mut().filter(|m| **m == old) {
        *m = new;
    }
    job.replacement = None;
    job.replacements += 1;
    job.record(height, JobEntry::MpcReplaced { new, old, replacements: job.replacements });
    ctx.touch(JobsKey::Job(id));
    let event = Event::MpcReplaced { job: id, old, new, replacements: job.replacements };
    ctx.emit(event);
}

/// End-of-block: an order not dispatched in time returns everything.
pub(crate) fn lapse_job(ctx: &mut Ctx, j: &mut JobsState, id: JobId) {
    let job = j.jobs.get(&id).expect("a lapse deadline is removed when its job dispatches or settles");
    assert_eq!(job.phase, JobPhase::Ordered, "a lapse deadline is only pending for ordered jobs");
    let plan = compute_returned(ctx.ledger, &j.jobs[&id]);
    settle(ctx, j, id, JobOutcome::Lapsed, plan);
}

/// End-of-block: a dispatched job whose maximum duration passed settles by its recorded progress.
pub(crate) fn expire_job(ctx: &mut Ctx, j: &mut JobsState, id: JobId) {
    let job = j.jobs.get(&id).expect("an expiry deadline is removed when its job settles");
    assert_eq!(job.phase, JobPhase::Dispatched, "an expiry deadline is only pending for dispatched jobs");
    assert!(job.dispute.is_none(), "a dispute window closes before its job expires (report_non_compliance)");
    let offenders = expiry_offenders(job);
    let plan = compute_expired(job, &offenders, ctx.treasury);
    settle(ctx, j, id, JobOutcome::Expired { offenders }, plan);
}

/// Who an expiry treats as silent: in training, every member that did not complete the whole training;
/// in PSI, the parties of the open level that did not complete it (they held the stage up; the others
/// could not go on without them). Never empty: a job whose members all completed, or whose open level's
/// parties all did, would have settled or moved on.
fn expiry_offenders(job: &Job) -> Vec<AccountId> {
    if job.in_psi() {
        let open = job.psi_level();
        let parties = job.psi_pairs(open).into_iter().flat_map(|(a, b)| [a, b]);
        return parties.filter(|p| job.members[p].psi <= open).collect::<BTreeSet<_>>().into_iter().collect();
    }
    job.members.iter().filter(|(_, m)| !m.done()).map(|(a, _)| *a).collect()
}

/// End-of-block: a settled job is forgotten after `job_retention` blocks.
pub(crate) fn close_job(ctx: &mut Ctx, j: &mut JobsState, id: JobId) {
    j.jobs.remove(&id);
    ctx.touch(JobsKey::Job(id));
}

// ----- settlement --------------------------------------------------------------------------------

/// Returns everything: StakeIn to the QC, each deposit to its member.
fn compute_returned(ledger: &Ledger, job: &Job) -> Plan {
    job_holds(ledger, job)
}

/// Outcome 1: the schema from StakeIn; deposits return.
fn compute_completed(job: &Job) -> Plan {
    let schema = job.schema.expect("a dispatched job has a schema");
    let stake = job.stake_in.expect("a dispatched job has StakeIn");
    let mut plan: Plan = job.dos.iter().map(|d| (stake, *d, schema.per_do)).collect();
    plan.extend(job.mpcs.iter().map(|m| (stake, *m, schema.per_mpc)));
    plan.push((stake, job.gds, schema.gds));
    plan.extend(deposit_returns(job, &[]));
    plan.extend(bond_return(job));
    plan
}

/// Outcomes 2, 4 and 6: QC refunded, the penalty from the offenders' deposits.
fn compute_reported(job: &Job, offenders: &[AccountId], treasury: AccountId) -> Plan {
    let stake = job.stake_in.expect("a dispatched job has StakeIn");
    let mut plan: Plan = vec![(stake, job.qc, job.staked)];
    plan.extend(compute_fine(job, offenders, true, treasury));
    plan.extend(bond_return(job));
    plan
}

/// The penalty `T` from `offenders`' deposits in equal shares (largest remainder); each good DO gets its
/// promised reward and the treasury the rest (never the GDS, who reported: no profit from one's own
/// judgement); the rest of the offenders' deposits returns. With `release_others`, every other deposit
/// returns too (the job ends).
fn compute_fine(job: &Job, offenders: &[AccountId], release_others: bool, treasury: AccountId) -> Plan {
    let schema = job.schema.expect("a dispatched job has a schema");
    let equal: Vec<(AccountId, u128)> = offenders.iter().map(|o| (*o, 1)).collect();
    let shares = distribute(job.deposit, &equal).expect("offenders are distinct and non-empty");
    let mut sources: Vec<(HoldId, Amount)> = Vec::new();
    let mut plan: Plan = Vec::new();
    for (o, share) in &shares {
        let hold = job.members[o].deposit.expect("a dispatched member has a deposit");
        sources.push((hold, *share));
        plan.push((hold, *o, Amount(job.deposit.0 - share.0)));
    }
    // Nobody is paid for PSI (seed 002): while it is open the good DOs' share is nothing.
    let per_good_do = if job.in_psi() { Amount::ZERO } else { schema.per_do };
    let good: Vec<(AccountId, Amount)> =
        job.dos.iter().filter(|d| !offenders.contains(d)).map(|d| (*d, per_good_do)).collect();
    let paid = Amount::checked_sum(good.iter().map(|(_, a)| *a)).expect("at most T");
    let mut sinks = good;
    sinks.push((treasury, Amount(job.deposit.0 - paid.0)));
    plan.extend(route(&sources, &sinks));
    if release_others {
        plan.extend(deposit_returns(job, offenders));
    }
    plan
}

/// Outcomes 3 and 5: QC refunded; each good DO d gets `⌊promised × p_d / E⌋` from the offender's deposit,
/// p_d being the epochs d has posted as completed (its computation cost, by its own evidence).
fn compute_self_reported(job: &Job, member: AccountId) -> Plan {
    let schema = job.schema.expect("a dispatched job has a schema");
    let stake = job.stake_in.expect("a dispatched job has StakeIn");
    let hold = job.members[&member].deposit.expect("a dispatched member has a deposit");
    let mut plan: Plan = vec![(stake, job.qc, job.staked)];
    let mut paid = 0u128;
    for d in job.dos.iter().filter(|d| **d != member) {
        let done = job.members[d].progress.min(job.epochs);
        let cost = mul_div_floor(schema.per_do.0, u128::from(done), u128::from(job.epochs))
            .expect("epochs > 0 and the result is at most per_do")
            .0;
        plan.push((hold, *d, Amount(cost)));
        paid += cost;
    }
    plan.push((hold, member, Amount(job.deposit.0 - paid)));
    plan.extend(deposit_returns(job, &[member]));
    plan.extend(bond_return(job));
    plan
}

/// Expiry: StakeIn pays each member that completed its schema payout and the GDS its share, and refunds
/// the QC the rest; the members that did not complete (never empty: a job whose members all completed has
/// settled) are treated as silent: the penalty `T` from their deposits in equal shares makes the QC whole
/// for what StakeIn paid out, and any rest goes to the treasury (nobody judged, so nobody profits).
fn compute_expired(job: &Job, offenders: &[AccountId], treasury: AccountId) -> Plan {
    let schema = job.schema.expect("a dispatched job has a schema");
    let stake = job.stake_in.expect("a dispatched job has StakeIn");
    let mut plan = Plan::new();
    let mut paid = Amount::ZERO;
    for (who, m) in job.members.iter().filter(|(_, m)| m.done()) {
        let pay = match m.role {
            JobRole::DataOwner => schema.per_do,
            JobRole::Mpc => schema.per_mpc,
        };
        plan.push((stake, *who, pay));
        paid = paid.checked_add(pay).expect("at most the schema's total");
    }
    // Nobody is paid for PSI, the GDS included: a job that expires in PSI pays no share.
    let gds = if job.in_psi() { Amount::ZERO } else { schema.gds };
    plan.push((stake, job.gds, gds));
    let paid = paid.checked_add(gds).expect("at most the schema's total");
    plan.push((stake, job.qc, Amount(job.staked.0 - paid.0)));
    let equal: Vec<(AccountId, u128)> = offenders.iter().map(|o| (*o, 1)).collect();
    let shares = distribute(job.deposit, &equal).expect("offenders are distinct and non-empty");
    let mut sources: Vec<(HoldId, Amount)> = Vec::new();
    for (o, share) in &shares {
        let hold = job.members[o].deposit.expect("a dispatched member has a deposit");
        sources.push((hold, *share));
        plan.push((hold, *o, Amount(job.deposit.0 - share.0)));
    }
    let to_qc = job.deposit.min(paid);
    plan.extend(route(&sources, &[(job.qc, to_qc), (treasury, Amount(job.deposit.0 - to_qc.0))]));
    plan.extend(deposit_returns(job, offenders));
    plan.extend(bond_return(job));
    plan
}

/// Outcome 7: `job_cancel_fine` of StakeIn split by schema payouts, the rest refunded; deposits return.
fn compute_cancelled(cancel_fine: types::Ppb, job: &Job) -> (Plan, Amount, Amount) {
    let schema = job.schema.expect("a dispatched job has a schema");
    let stake = job.stake_in.expect("a dispatched job has StakeIn");
    let fined = cancel_fine.mul_floor(job.staked);
    let refunded = Amount(job.staked.0 - fined.0);
    let mut weights: Vec<(AccountId, u128)> = job.dos.iter().map(|d| (*d, schema.per_do.0)).collect();
    weights.extend(job.mpcs.iter().map(|m| (*m, schema.per_mpc.0)));
    weights.push((job.gds, schema.gds.0));
    let weights: Vec<(AccountId, u128)> = weights.into_iter().filter(|(_, w)| *w > 0).collect();
    let mut plan: Plan = vec![(stake, job.qc, refunded)];
    let split = distribute(fined, &weights).expect("roles are distinct and the DOs' weight is positive");
    plan.extend(split.into_iter().map(|(a, x)| (stake, a, x)));
    plan.extend(deposit_returns(job, &[]));
    plan.extend(bond_return(job));
    (plan, fined, refunded)
}

/// The GDS's bond, still held (no report of it was overturned), returns to it when the job settles.
fn bond_return(job: &Job) -> Plan {
    job.bond.map(|(h, amount)| (h, job.gds, amount)).into_iter().collect()
}

fn deposit_returns(job: &Job, except: &[AccountId]) -> Plan {
    let mut plan = Plan::new();
    for (who, m) in job.members.iter().filter(|(who, _)| !except.contains(who)) {
        if let Some(h) = m.deposit {
            plan.push((h, *who, job.deposit));
        }
    }
    plan
}

/// (hold, payer, amount) for every open hold of the job.
fn job_holds(ledger: &Ledger, job: &Job) -> Vec<(HoldId, AccountId, Amount)> {
    job.holds()
        .into_iter()
        .map(|h| {
            let hold = ledger.hold(h).expect("a job's holds are open until it settles");
            (h, hold.payer, hold.amount)
        })
        .collect()
}

/// Post `plan` out of the job's holds and emit `RewardDistributed` (to others) and `Refund` (back to
/// payers). Panics if a hold's lines do not add up to its amount: that is a bug in a `compute_*`.
fn apply_settlement(ctx: &mut Ctx, id: JobId, plan: &Plan) {
    let mut by_hold: BTreeMap<HoldId, BTreeMap<AccountId, Amount>> = BTreeMap::new();
    for (h, to, amount) in plan.iter().filter(|(_, _, a)| !a.is_zero()) {
        let e = by_hold.entry(*h).or_default().entry(*to).or_insert(Amount::ZERO);
        *e = e.checked_add(*amount).expect("bounded by the hold");
    }
    let mut rewards: BTreeMap<AccountId, Amount> = BTreeMap::new();
    let mut refunds: BTreeMap<AccountId, Amount> = BTreeMap::new();
    for (h, payouts) in &by_hold {
        let hold = ctx.ledger.hold(*h).expect("a planned hold is open").clone();
        let lines: Vec<(AccountId, Amount)> = payouts.iter().map(|(a, x)| (*a, *x)).collect();
        let total = Amount::checked_sum(lines.iter().map(|(_, x)| *x)).expect("bounded by the hold");
        assert!(total <= hold.amount, "job {id}: plan overdraws hold {h} ({total} > {})", hold.amount);
        ctx.ledger.hold_post(*h, &lines).expect("the plan fits the hold");
        for (a, x) in lines {
            let book = if a == hold.payer { &mut refunds } else { &mut rewards };
            let e = book.entry(a).or_insert(Amount::ZERO);
            *e = e.checked_add(x).expect("bounded by the supply");
        }
    }
    if !rewards.is_empty() {
        let payouts = rewards.into_iter().collect();
        ctx.emit(Event::RewardDistributed { job: id, payouts });
    }
    if !refunds.is_empty() {
        let refunds = refunds.into_iter().collect();
        ctx.emit(Event::Refund { job: id, refunds });
    }
}

/// Apply the final plan, check the escrow is empty, and mark the job settled.
fn settle(ctx: &mut Ctx, j: &mut JobsState, id: JobId, outcome: JobOutcome, plan: Plan) {
    apply_settlement(ctx, id, &plan);
    assert!(escrow(ctx.ledger, &j.jobs[&id]).is_zero(), "job {id}: escrow not empty after settlement ({outcome:?})");
    let height = ctx.height;
    let retention = ctx.params.job_retention;
    let job = j.jobs.get_mut(&id).expect("the caller found the job");
    match (job.phase, job.expires_at) {
        (JobPhase::Ordered, _) => ctx.unschedule(job.dispatch_by, JobsDeadline::Lapse(id)),
        (JobPhase::Dispatched, Some(at)) => ctx.unschedule(at, JobsDeadline::Expire(id)),
        _ => {}
    }
    job.phase = JobPhase::Settled;
    job.stake_in = None;
    job.staked = Amount::ZERO;
    job.replacement = None;
    job.bond = None;
    job.dispute = None;
    for m in job.members.values_mut() {
        m.deposit = None;
    }
    job.settled_at = Some(height);
    job.outcome = Some(outcome.clone());
    job.record(height, JobEntry::Settled { outcome: outcome.clone() });
    let close_at = Height(height.0.saturating_add(retention));
    ctx.schedule(close_at, JobsDeadline::Close(id));
    ctx.touch(JobsKey::Job(id));
    ctx.emit(Event::JobSettled { job: id, outcome });
}

/// Check a status update against the job and the member's previous update (read-only).
fn check_status(job: &Job, who: &AccountId, role: JobRole, s: &JobStatus) -> Result<(), Rejection> {
    let bad = |m: &str| Err(Rejection::InvalidJobStatus(m.to_string()));
    let member = &job.members[who];
    match (s.stage, job.kind, role) {
        (JobStage::Psi, JobKind::Horizontal, _) => return bad("a horizontal job has no PSI stage"),
        (JobStage::Aggregation, _, JobRole::DataOwner) => return bad("aggregation is an MPC node's stage"),
        (JobStage::Training, JobKind::Horizontal, JobRole::Mpc) => {
            return bad("the MPC nodes of a horizontal job aggregate; post aggregation")
        }
        _ => {}
    }
    if s.batch != WHOLE && s.batch >= job.batches {
        return bad("batch beyond the job's batches per epoch");
    }
    if s.stage == JobStage::Psi {
        return check_psi_status(job, who, s);
    }
    if job.in_psi() {
        return Err(Rejection::PsiIncomplete { level: job.psi_level(), levels: job.psi_levels() });
    }
    if s.epoch != WHOLE && s.epoch >= job.epochs {
        return bad("epoch beyond the job's epochs");
    }
    if s.status == JobProgress::Failed && s.epoch == WHOLE {
        return bad("a failure names the epoch that failed");
    }
    if member.done() {
        return bad("the member already completed the whole training");
    }
    if let Some(last) = member.last_status {
        // PSI comes before training; within a stage, epochs never go back.
        let rank = |st: &JobStatus| (u8::from(st.stage != JobStage::Psi), st.epoch);
        if rank(s) < rank(&last) {
            return Err(Rejection::EpochWentBack { last: last.epoch, got: s.epoch });
        }
    }
    Ok(())
}

/// A PSI status of a vertical job names the open level (its `epoch`): levels complete one at a time, in
/// the order of [`Job::psi_pairs`]. Any member may post progress or its failure at the open level (a
/// heartbeat while it waits); only a party of the level that has not completed it may post `Completed`.
fn check_psi_status(job: &Job, who: &AccountId, s: &JobStatus) -> Result<(), Rejection> {
    let bad = |m: String| Err(Rejection::InvalidJobStatus(m));
    let (open, levels) = (job.psi_level(), job.psi_levels());
    if open >= levels {
        return bad(format!("the PSI stage is complete ({levels} levels); post training"));
    }
    if s.epoch == WHOLE {
        return bad(format!("a PSI status names its level (the open one is {open})"));
    }
    if s.epoch < open {
        return Err(Rejection::EpochWentBack { last: open, got: s.epoch });
    }
    if s.epoch > open {
        return bad(format!("PSI level {} has not started: level {open} of {levels} is open", s.epoch));
    }
    if s.status == JobProgress::Completed {
        if !job.psi_party(who, open) {
            return bad(format!("{who} is not a party of PSI level {open}; it may post progress while it waits"));
        }
        if job.members[who].psi > open {
            return bad(format!("{who} already completed PSI level {open}"));
        }
    }
    Ok(())
}

/// After `who` completed the open PSI level: when every party of the level has, the next one opens.
fn advance_psi(ctx: &mut Ctx, job: &mut Job, who: AccountId) {
    let open = job.psi_level();
    job.members.get_mut(&who).expect("a member").psi = open + 1;
    if job.psi_level() > open {
        job.record(ctx.height, JobEntry::PsiLevelCompleted { level: open, levels: job.psi_levels() });
    }
}

/// Pay `sinks` in order out of `sources` in order (both sum to the same total), splitting where a sink
/// straddles two sources. Deterministic: the order of both lists decides.
fn route(sources: &[(HoldId, Amount)], sinks: &[(AccountId, Amount)]) -> Plan {
    let mut plan = Plan::new();
    let mut src = sources.iter().map(|(h, a)| (*h, a.0));
    let mut current = src.next();
    for (to, amount) in sinks {
        let mut need = amount.0;
        while need > 0 {
            let (h, left) = current.as_mut().expect("sources cover the sinks");
            let take = need.min(*left);
            if take > 0 {
                plan.push((*h, *to, Amount(take)));
            }
            need -= take;
            *left -= take;
            if *left == 0 {
                current = src.next();
            }
        }
    }
    let unused = current.map_or(0, |(_, left)| left) + src.map(|(_, a)| a).sum::<u128>();
    assert_eq!(unused, 0, "sinks use every source unit");
    plan
}
