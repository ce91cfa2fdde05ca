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
//!    checks, or non-compliant results: DOs of a horizontal job, MPCs of a vertical one): the QC is refunded;
//!    the penalty `T` is taken from the offenders' deposits in equal shares; each good DO gets its promised
//!    reward from it and the rest goes to the GDS; the rest of each deposit returns;
//! 3. (and 5.) a member posts `Failed` at epoch e of E (x = e/E; Psi counts as 0): the QC is refunded; each good
//!    DO gets `⌊x × promised⌋` from the offender's deposit (its computation cost); the rest returns to the
//!    offender — reporting honestly costs less than being caught;
//! 7. the QC cancels a dispatched job: `job_cancel_fine` (60%) of StakeIn is split among the DOs, MPCs and
//!    GDS by their schema payouts (largest remainder), the rest is refunded; before dispatch, cancelling
//!    returns everything;
//! 8. the GDS nominates a replacement for an MPC (at most `max_mpc_replacements` times); when the nominee
//!    deposits, it takes the MPC's place and the replaced MPC's deposit is fined as in 4 (every DO gets its
//!    promised reward for the batches it redoes, the rest goes to the GDS); the job continues.
//!
//! An order that is not dispatched within `job_dispatch_timeout` blocks lapses and returns everything.
//! Only these calls move money into or out of a job's holds (`HoldOwner::Job`); `HoldPost`/`HoldVoid` refuse
//! them.

use crate::engine::{Deadline, EngineKey};
use crate::market::Role;
use crate::{Engine, Event, EventRecord, Rejection};
use borsh::{BorshDeserialize, BorshSerialize};
use ledger::{distribute, HoldId, LedgerError};
use protocol::{HoldOwner, HoldReason, HoldTag};
use std::collections::{BTreeMap, BTreeSet};
use types::overlay::OverlayMap;
use types::{mul_div_floor, AccountId, Amount, Height, JobId};

pub use protocol::jobs::{
    compute_schema, Job, JobEntry, JobFault, JobKind, JobMember, JobOrder, JobOutcome, JobPhase, JobProgress,
    JobRecord, JobRole, JobStage, JobStatus, RewardSchema, WHOLE,
};

#[derive(Debug, Clone, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub(crate) struct JobsState {
    pub jobs: OverlayMap<JobId, Job>,
}

/// A settlement plan: money leaving each hold of the escrow, to whom. Built by the `compute_*` functions,
/// applied by [`Engine::apply_settlement`]; each hold's lines sum to exactly what it holds.
type Plan = Vec<(HoldId, AccountId, Amount)>;

impl Engine {
    // ----- queries -----------------------------------------------------------------------------------

    pub fn job(&self, id: &JobId) -> Option<&Job> {
        self.j.jobs.get(id)
    }
    pub fn jobs(&self) -> impl Iterator<Item = &Job> {
        self.j.jobs.values()
    }
    /// What a job's escrow holds now (StakeIn plus deposits); zero once it settled.
    pub fn job_escrow(&self, id: &JobId) -> Amount {
        let holds = self.j.jobs.get(id).map(Job::holds).unwrap_or_default();
        Amount::checked_sum(holds.iter().filter_map(|h| self.ledger.hold(*h)).map(|h| h.amount))
            .expect("escrow is part of the supply")
    }

    // ----- calls -------------------------------------------------------------------------------------

    fn open_job(&self, id: &JobId) -> Result<&Job, Rejection> {
        self.j.jobs.get(id).ok_or(Rejection::UnknownJob(*id))
    }

    /// The job, if `signer` is the party `party` names (its GDS or QC) and the job is in `phase`: the
    /// checks every GDS and QC call starts with, in this order.
    fn job_for(
        &self,
        id: &JobId,
        signer: AccountId,
        party: fn(&Job) -> AccountId,
        phase: JobPhase,
    ) -> Result<&Job, Rejection> {
        let job = self.open_job(id)?;
        if party(job) != signer {
            return Err(Rejection::NotAuthorized);
        }
        Self::job_phase_is(job, phase)?;
        Ok(job)
    }

    fn job_phase_is(job: &Job, phase: JobPhase) -> Result<(), Rejection> {
        if job.phase != phase {
            return Err(Rejection::WrongJobPhase { job: job.id, phase: format!("{:?}", job.phase).to_lowercase() });
        }
        Ok(())
    }

    /// The order's checks, in order; on success the deposit each member owes and the dispatch deadline.
    fn check_job_order(&self, gds: AccountId, o: &JobOrder) -> Result<(Amount, Height), Rejection> {
        let bad = |m: String| Err(Rejection::InvalidJob(m));
        if !self.has_role(&gds, Role::Coordinator) {
            return Err(Rejection::NotAuthorized);
        }
        if self.j.jobs.contains_key(&o.id) {
            return Err(Rejection::JobExists(o.id));
        }
        let max = self.params.job_members_max as usize;
        if o.dos.is_empty() || o.dos.len() > max {
            return bad(format!("a job needs 1 to {max} data owners"));
        }
        let unique: BTreeSet<AccountId> = o.dos.iter().copied().collect();
        if unique.len() != o.dos.len() || unique.contains(&gds) || unique.contains(&o.qc) || gds == o.qc {
            return bad("data owners, the QC and the GDS must be distinct accounts".into());
        }
        if let Some(d) = o.dos.iter().find(|d| !self.has_role(d, Role::DataOwner)) {
            return bad(format!("{d} is not a registered data owner"));
        }
        if o.price_per_do.is_zero() || o.quote.is_zero() || o.complexity == 0 || o.epochs == 0 || o.mpc_factor == 0 {
            return bad("price, quote, complexity, MPC factor and epochs must be positive".into());
        }
        if o.kind == JobKind::Horizontal && o.mpc_factor != 1 {
            return bad("the MPC factor applies to vertical jobs only; use 1".into());
        }
        let per_do = o.price_per_do.checked_mul(u128::from(o.complexity)).ok_or(LedgerError::AmountOverflow)?;
        let deposit = per_do.checked_mul(o.dos.len() as u128).ok_or(LedgerError::AmountOverflow)?;
        let dispatch_by =
            self.height.checked_add(self.params.job_dispatch_timeout).ok_or(LedgerError::AmountOverflow)?;
        Ok((deposit, dispatch_by))
    }

    pub(crate) fn order_job(
        &mut self,
        gds: AccountId,
        o: &JobOrder,
        ev: &mut Vec<EventRecord>,
        tx: u32,
    ) -> Result<(), Rejection> {
        let (deposit, dispatch_by) = self.check_job_order(gds, o)?;
        // After this point the command must succeed.
        let mut job = Job::ordered(gds, o, deposit, self.height, dispatch_by);
        let dos = u32::try_from(o.dos.len()).expect("the order check bounds the DOs");
        job.record(self.height, JobEntry::Ordered { gds, dos, quote: o.quote, deposit });
        self.j.jobs.insert(o.id, job);
        self.deadlines.insert((dispatch_by, Deadline::JobLapse(o.id)));
        self.dirty.insert(EngineKey::Job(o.id));
        let event =
            Event::JobOrdered { job: o.id, gds, qc: o.qc, kind: o.kind, dos: o.dos.clone(), quote: o.quote, deposit };
        ev.push(EventRecord { tx: Some(tx), event });
        Ok(())
    }

    /// The QC stakes what is due: the quote, or the rest of the final price once the MPCs are selected.
    pub(crate) fn submit_job_query(
        &mut self,
        qc: AccountId,
        id: JobId,
        amount: Amount,
        ev: &mut Vec<EventRecord>,
        tx: u32,
    ) -> Result<(), Rejection> {
        let job = self.job_for(&id, qc, |j| j.qc, JobPhase::Ordered)?;
        let due = job.due();
        if due.is_zero() || amount != due {
            return Err(Rejection::WrongAmount { expected: due, got: amount });
        }
        let staked = job.staked.checked_add(amount).ok_or(LedgerError::AmountOverflow)?;
        let previous = job.stake_in;
        // After this point the command must succeed (free ≥ amount + fee was checked by `apply_tx`).
        if let Some(h) = previous {
            self.ledger.hold_void(h).expect("the StakeIn hold is open while the job is ordered");
        }
        let hold = self
            .ledger
            .hold_create(qc, staked, HoldTag::new(HoldOwner::Job(id), HoldReason::JobStake), self.height, None)
            .expect("the QC's free balance covers the old stake plus the amount due");
        let height = self.height;
        let job = self.j.jobs.get_mut(&id).expect("checked above");
        job.stake_in = Some(hold);
        job.staked = staked;
        job.record(height, JobEntry::Staked { amount, staked });
        self.dirty.insert(EngineKey::Job(id));
        ev.push(EventRecord { tx: Some(tx), event: Event::JobQuerySubmitted { job: id, qc, amount, staked } });
        self.try_dispatch(id, ev, tx);
        Ok(())
    }

    pub(crate) fn select_mpcs(
        &mut self,
        gds: AccountId,
        id: JobId,
        mpcs: &[AccountId],
        ev: &mut Vec<EventRecord>,
        tx: u32,
    ) -> Result<(), Rejection> {
        let job = self.job_for(&id, gds, |j| j.gds, JobPhase::Ordered)?;
        let max = self.params.job_members_max as usize;
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
        if let Some(m) = mpcs.iter().find(|m| !self.has_role(m, Role::Mpc)) {
            return Err(Rejection::InvalidJob(format!("{m} is not a registered MPC node")));
        }
        let schema = compute_schema(job, mpcs.len(), self.params.job_gds_share).ok_or(LedgerError::AmountOverflow)?;
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
                refunds.push((*m, self.ledger.hold_void(*h).expect("a deposit is open until the job settles")));
            }
        }
        let height = self.height;
        let job = self.j.jobs.get_mut(&id).expect("checked above");
        for (m, _) in &dropped {
            job.members.remove(m);
        }
        for m in mpcs {
            job.members.entry(*m).or_insert(JobMember {
                role: JobRole::Mpc,
                deposit: None,
                heartbeat: height,
                last_status: None,
                updates: 0,
            });
        }
        job.mpcs = mpcs.to_vec();
        job.schema = Some(schema);
        let count = u32::try_from(mpcs.len()).expect("the selection check bounds the MPCs");
        job.record(height, JobEntry::MpcsSelected { mpcs: count, price: schema.total });
        self.dirty.insert(EngineKey::Job(id));
        ev.push(EventRecord { tx: Some(tx), event: Event::MpcsSelected { job: id, mpcs: mpcs.to_vec(), schema } });
        if !refunds.is_empty() {
            ev.push(EventRecord { tx: Some(tx), event: Event::Refund { job: id, refunds } });
        }
        self.try_dispatch(id, ev, tx);
        Ok(())
    }

    /// A DO or MPC (or a nominated replacement MPC) holds its deposit.
    pub(crate) fn accept_job(
        &mut self,
        who: AccountId,
        id: JobId,
        amount: Amount,
        ev: &mut Vec<EventRecord>,
        tx: u32,
    ) -> Result<(), Rejection> {
        let job = self.open_job(&id)?;
        let nominee = job.replacement.filter(|(_, n)| *n == who);
        match (job.phase, nominee) {
            (JobPhase::Dispatched, Some(_)) => {
                if job.replacements >= self.params.max_mpc_replacements {
                    return Err(Rejection::ReplacementLimit { max: self.params.max_mpc_replacements });
                }
            }
            (JobPhase::Ordered, _) => {
                let member = job.members.get(&who).ok_or(Rejection::NotAuthorized)?;
                if member.deposit.is_some() {
                    return Err(Rejection::AlreadyAccepted(id));
                }
            }
            _ => Self::job_phase_is(job, JobPhase::Ordered)?,
        }
        if amount != job.deposit {
            return Err(Rejection::WrongAmount { expected: job.deposit, got: amount });
        }
        // After this point the command must succeed (free ≥ amount + fee was checked by `apply_tx`).
        let hold = self
            .ledger
            .hold_create(who, amount, HoldTag::new(HoldOwner::Job(id), HoldReason::JobDeposit), self.height, None)
            .expect("free balance was checked");
        let height = self.height;
        if let Some((old, new)) = nominee {
            self.swap_mpc(id, old, new, hold, ev, tx);
            return Ok(());
        }
        let job = self.j.jobs.get_mut(&id).expect("checked above");
        job.members.get_mut(&who).expect("checked above").deposit = Some(hold);
        job.record(height, JobEntry::Deposited { member: who, amount });
        self.dirty.insert(EngineKey::Job(id));
        ev.push(EventRecord { tx: Some(tx), event: Event::JobAccepted { job: id, member: who, deposit: amount } });
        self.try_dispatch(id, ev, tx);
        Ok(())
    }

    /// Dispatch once StakeIn covers the price, the MPCs are selected and every deposit is in.
    fn try_dispatch(&mut self, id: JobId, ev: &mut Vec<EventRecord>, tx: u32) {
        let job = self.j.jobs.get(&id).expect("the caller found the job");
        let Some(schema) = job.schema else { return };
        if job.phase != JobPhase::Ordered
            || job.staked < schema.total
            || job.members.values().any(|m| m.deposit.is_none())
        {
            return;
        }
        let surplus = Amount(job.staked.0 - schema.total.0);
        let (qc, stake, dispatch_by) = (job.qc, job.stake_in.expect("staked > 0 means a hold"), job.dispatch_by);
        if !surplus.is_zero() {
            self.ledger.hold_post(stake, &[(qc, surplus)]).expect("the StakeIn hold holds the surplus");
        }
        let height = self.height;
        self.deadlines.remove(&(dispatch_by, Deadline::JobLapse(id)));
        let job = self.j.jobs.get_mut(&id).expect("checked above");
        job.staked = schema.total;
        job.phase = JobPhase::Dispatched;
        job.dispatched_at = Some(height);
        for m in job.members.values_mut() {
            m.heartbeat = height;
        }
        job.record(height, JobEntry::Dispatched { refunded: surplus });
        self.dirty.insert(EngineKey::Job(id));
        let event = Event::JobDispatched { job: id, dos: job.dos.clone(), mpcs: job.mpcs.clone() };
        ev.push(EventRecord { tx: Some(tx), event });
        if !surplus.is_zero() {
            ev.push(EventRecord { tx: Some(tx), event: Event::Refund { job: id, refunds: vec![(qc, surplus)] } });
        }
    }

    pub(crate) fn post_job_status(
        &mut self,
        who: AccountId,
        id: JobId,
        status: JobStatus,
        ev: &mut Vec<EventRecord>,
        tx: u32,
    ) -> Result<(), Rejection> {
        let job = self.open_job(&id)?;
        let role = job.role_of(&who).ok_or(Rejection::NotAuthorized)?;
        Self::job_phase_is(job, JobPhase::Dispatched)?;
        let member = &job.members[&who];
        check_status(job.kind, role, job.epochs, member, &status)?;
        // After this point the command must succeed.
        let height = self.height;
        let job = self.j.jobs.get_mut(&id).expect("checked above");
        let member = job.members.get_mut(&who).expect("checked above");
        member.heartbeat = height;
        member.last_status = Some(status);
        member.updates = member.updates.saturating_add(1);
        self.dirty.insert(EngineKey::Job(id));
        ev.push(EventRecord { tx: Some(tx), event: Event::JobStatusUpdated { job: id, member: who, status } });
        if status.status == JobProgress::Failed {
            let epoch = if status.stage == JobStage::Psi { 0 } else { status.epoch };
            let epochs = job.epochs;
            let plan = self.compute_self_reported(id, who, epoch);
            self.settle(id, JobOutcome::SelfReported { member: who, epoch, epochs }, plan, ev, Some(tx));
        } else if job.members.values().all(JobMember::done) {
            let plan = self.compute_completed(id);
            self.settle(id, JobOutcome::Completed, plan, ev, Some(tx));
        }
        Ok(())
    }

    pub(crate) fn report_job_failure(
        &mut self,
        gds: AccountId,
        id: JobId,
        offenders: &[AccountId],
        fault: JobFault,
        ev: &mut Vec<EventRecord>,
        tx: u32,
    ) -> Result<(), Rejection> {
        let job = self.job_for(&id, gds, |j| j.gds, JobPhase::Dispatched)?;
        let unique: BTreeSet<AccountId> = offenders.iter().copied().collect();
        if unique.is_empty() || unique.len() != offenders.len() {
            return Err(Rejection::InvalidJobReport("name each offender once, at least one".into()));
        }
        for o in &unique {
            let member =
                job.members.get(o).ok_or_else(|| Rejection::InvalidJobReport(format!("{o} is not a member")))?;
            match fault {
                JobFault::NoHeartbeat => {
                    if !member.silent_at(self.height, &self.params) {
                        return Err(Rejection::HeartbeatNotExpired {
                            member: *o,
                            due: member.heartbeat_due(&self.params),
                        });
                    }
                }
                JobFault::NonCompliant => {
                    let expected = match job.kind {
                        JobKind::Horizontal => JobRole::DataOwner,
                        JobKind::Vertical => JobRole::Mpc,
                    };
                    if member.role != expected {
                        return Err(Rejection::InvalidJobReport(format!(
                            "non-compliant results are reported against the {expected:?} nodes of a {:?} job",
                            job.kind
                        )));
                    }
                }
            }
        }
        // After this point the command must succeed.
        let offenders: Vec<AccountId> = unique.into_iter().collect();
        let plan = self.compute_reported(id, &offenders);
        self.settle(id, JobOutcome::Reported { fault, offenders }, plan, ev, Some(tx));
        Ok(())
    }

    pub(crate) fn cancel_job(
        &mut self,
        qc: AccountId,
        id: JobId,
        ev: &mut Vec<EventRecord>,
        tx: u32,
    ) -> Result<(), Rejection> {
        let job = self.open_job(&id)?;
        if job.qc != qc {
            return Err(Rejection::NotAuthorized);
        }
        match job.phase {
            JobPhase::Ordered => {
                let plan = self.compute_returned(id);
                self.settle(id, JobOutcome::Withdrawn, plan, ev, Some(tx));
            }
            JobPhase::Dispatched => {
                let (plan, fined, refunded) = self.compute_cancelled(id);
                self.settle(id, JobOutcome::Cancelled { fined, refunded }, plan, ev, Some(tx));
            }
            JobPhase::Settled => Self::job_phase_is(job, JobPhase::Dispatched)?,
        }
        Ok(())
    }

    pub(crate) fn replace_mpc(
        &mut self,
        gds: AccountId,
        id: JobId,
        mpc: AccountId,
        nominee: AccountId,
        ev: &mut Vec<EventRecord>,
        tx: u32,
    ) -> Result<(), Rejection> {
        let job = self.job_for(&id, gds, |j| j.gds, JobPhase::Dispatched)?;
        if job.role_of(&mpc) != Some(JobRole::Mpc) {
            return Err(Rejection::InvalidJobReport(format!("{mpc} is not an MPC node of the job")));
        }
        if job.replacements >= self.params.max_mpc_replacements {
            return Err(Rejection::ReplacementLimit { max: self.params.max_mpc_replacements });
        }
        if nominee == job.gds || nominee == job.qc || job.members.contains_key(&nominee) {
            return Err(Rejection::InvalidJobReport("the replacement must not already have a role in the job".into()));
        }
        if !self.has_role(&nominee, Role::Mpc) {
            return Err(Rejection::InvalidJobReport(format!("{nominee} is not a registered MPC node")));
        }
        // After this point the command must succeed.
        let height = self.height;
        let job = self.j.jobs.get_mut(&id).expect("checked above");
        job.replacement = Some((mpc, nominee));
        job.record(height, JobEntry::ReplacementNominated { nominee, mpc });
        self.dirty.insert(EngineKey::Job(id));
        ev.push(EventRecord {
            tx: Some(tx),
            event: Event::MpcReplacementNominated { job: id, mpc, replacement: nominee },
        });
        Ok(())
    }

    /// The nominee deposited: it takes the old MPC's place and the old MPC's deposit is fined as in 4.
    fn swap_mpc(
        &mut self,
        id: JobId,
        old: AccountId,
        new: AccountId,
        hold: HoldId,
        ev: &mut Vec<EventRecord>,
        tx: u32,
    ) {
        let plan = self.compute_fine(id, &[old], false);
        ev.push(EventRecord {
            tx: Some(tx),
            event: Event::JobAccepted { job: id, member: new, deposit: self.j.jobs[&id].deposit },
        });
        self.apply_settlement(id, &plan, ev, Some(tx));
        let height = self.height;
        let job = self.j.jobs.get_mut(&id).expect("the caller found the job");
        job.members.remove(&old);
        job.members.insert(
            new,
            JobMember { role: JobRole::Mpc, deposit: Some(hold), heartbeat: height, last_status: None, updates: 0 },
        );
        for m in job.mpcs.iter_mut().filter(|m| **m == old) {
            *m = new;
        }
        job.replacement = None;
        job.replacements += 1;
        job.record(height, JobEntry::MpcReplaced { new, old, replacements: job.replacements });
        self.dirty.insert(EngineKey::Job(id));
        let event = Event::MpcReplaced { job: id, old, new, replacements: job.replacements };
        ev.push(EventRecord { tx: Some(tx), event });
    }

    /// End-of-block: an order not dispatched in time returns everything.
    pub(crate) fn lapse_job(&mut self, id: JobId, events: &mut Vec<EventRecord>) {
        let job = self.j.jobs.get(&id).expect("a lapse deadline is removed when its job dispatches or settles");
        assert_eq!(job.phase, JobPhase::Ordered, "a lapse deadline is only pending for ordered jobs");
        let plan = self.compute_returned(id);
        self.settle(id, JobOutcome::Lapsed, plan, events, None);
    }

    /// End-of-block: a settled job is forgotten after `job_retention` blocks.
    pub(crate) fn close_job(&mut self, id: JobId) {
        self.j.jobs.remove(&id);
        self.dirty.insert(EngineKey::Job(id));
    }

    // ----- settlement --------------------------------------------------------------------------------

    /// Returns everything: StakeIn to the QC, each deposit to its member.
    fn compute_returned(&self, id: JobId) -> Plan {
        self.job_holds(id)
    }

    /// Outcome 1: the schema from StakeIn; deposits return.
    fn compute_completed(&self, id: JobId) -> Plan {
        let job = &self.j.jobs[&id];
        let schema = job.schema.expect("a dispatched job has a schema");
        let stake = job.stake_in.expect("a dispatched job has StakeIn");
        let mut plan: Plan = job.dos.iter().map(|d| (stake, *d, schema.per_do)).collect();
        plan.extend(job.mpcs.iter().map(|m| (stake, *m, schema.per_mpc)));
        plan.push((stake, job.gds, schema.gds));
        plan.extend(self.deposit_returns(job, &[]));
        plan
    }

    /// Outcomes 2, 4 and 6: QC refunded, the penalty from the offenders' deposits.
    fn compute_reported(&self, id: JobId, offenders: &[AccountId]) -> Plan {
        let job = &self.j.jobs[&id];
        let stake = job.stake_in.expect("a dispatched job has StakeIn");
        let mut plan: Plan = vec![(stake, job.qc, job.staked)];
        plan.extend(self.compute_fine(id, offenders, true));
        plan
    }

    /// The penalty `T` from `offenders`' deposits in equal shares (largest remainder); each good DO gets its
    /// promised reward and the GDS the rest; the rest of the offenders' deposits returns. With
    /// `release_others`, every other deposit returns too (the job ends).
    fn compute_fine(&self, id: JobId, offenders: &[AccountId], release_others: bool) -> Plan {
        let job = &self.j.jobs[&id];
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
        let good: Vec<(AccountId, Amount)> =
            job.dos.iter().filter(|d| !offenders.contains(d)).map(|d| (*d, schema.per_do)).collect();
        let paid = Amount::checked_sum(good.iter().map(|(_, a)| *a)).expect("at most T");
        let mut sinks = good;
        sinks.push((job.gds, Amount(job.deposit.0 - paid.0)));
        plan.extend(route(&sources, &sinks));
        if release_others {
            plan.extend(self.deposit_returns(job, offenders));
        }
        plan
    }

    /// Outcomes 3 and 5: QC refunded; each good DO gets `⌊promised × e / E⌋` from the offender's deposit.
    fn compute_self_reported(&self, id: JobId, member: AccountId, epoch: u32) -> Plan {
        let job = &self.j.jobs[&id];
        let schema = job.schema.expect("a dispatched job has a schema");
        let stake = job.stake_in.expect("a dispatched job has StakeIn");
        let hold = job.members[&member].deposit.expect("a dispatched member has a deposit");
        let cost = mul_div_floor(schema.per_do.0, u128::from(epoch.min(job.epochs)), u128::from(job.epochs))
            .expect("epochs > 0 and the result is at most per_do")
            .0;
        let mut plan: Plan = vec![(stake, job.qc, job.staked)];
        let mut paid = 0u128;
        for d in job.dos.iter().filter(|d| **d != member) {
            plan.push((hold, *d, Amount(cost)));
            paid += cost;
        }
        plan.push((hold, member, Amount(job.deposit.0 - paid)));
        plan.extend(self.deposit_returns(job, &[member]));
        plan
    }

    /// Outcome 7: `job_cancel_fine` of StakeIn split by schema payouts, the rest refunded; deposits return.
    fn compute_cancelled(&self, id: JobId) -> (Plan, Amount, Amount) {
        let job = &self.j.jobs[&id];
        let schema = job.schema.expect("a dispatched job has a schema");
        let stake = job.stake_in.expect("a dispatched job has StakeIn");
        let fined = self.params.job_cancel_fine.mul_floor(job.staked);
        let refunded = Amount(job.staked.0 - fined.0);
        let mut weights: Vec<(AccountId, u128)> = job.dos.iter().map(|d| (*d, schema.per_do.0)).collect();
        weights.extend(job.mpcs.iter().map(|m| (*m, schema.per_mpc.0)));
        weights.push((job.gds, schema.gds.0));
        let weights: Vec<(AccountId, u128)> = weights.into_iter().filter(|(_, w)| *w > 0).collect();
        let mut plan: Plan = vec![(stake, job.qc, refunded)];
        let split = distribute(fined, &weights).expect("roles are distinct and the DOs' weight is positive");
        plan.extend(split.into_iter().map(|(a, x)| (stake, a, x)));
        plan.extend(self.deposit_returns(job, &[]));
        (plan, fined, refunded)
    }

    fn deposit_returns(&self, job: &Job, except: &[AccountId]) -> Plan {
        let mut plan = Plan::new();
        for (who, m) in job.members.iter().filter(|(who, _)| !except.contains(who)) {
            if let Some(h) = m.deposit {
                plan.push((h, *who, job.deposit));
            }
        }
        plan
    }

    /// (hold, payer, amount) for every open hold of the job.
    fn job_holds(&self, id: JobId) -> Vec<(HoldId, AccountId, Amount)> {
        let job = &self.j.jobs[&id];
        job.holds()
            .into_iter()
            .map(|h| {
                let hold = self.ledger.hold(h).expect("a job's holds are open until it settles");
                (h, hold.payer, hold.amount)
            })
            .collect()
    }

    /// Post `plan` out of the job's holds and emit `RewardDistributed` (to others) and `Refund` (back to
    /// payers). Panics if a hold's lines do not add up to its amount: that is a bug in a `compute_*`.
    fn apply_settlement(&mut self, id: JobId, plan: &Plan, events: &mut Vec<EventRecord>, tx: Option<u32>) {
        let mut by_hold: BTreeMap<HoldId, BTreeMap<AccountId, Amount>> = BTreeMap::new();
        for (h, to, amount) in plan.iter().filter(|(_, _, a)| !a.is_zero()) {
            let e = by_hold.entry(*h).or_default().entry(*to).or_insert(Amount::ZERO);
            *e = e.checked_add(*amount).expect("bounded by the hold");
        }
        let mut rewards: BTreeMap<AccountId, Amount> = BTreeMap::new();
        let mut refunds: BTreeMap<AccountId, Amount> = BTreeMap::new();
        for (h, payouts) in &by_hold {
            let hold = self.ledger.hold(*h).expect("a planned hold is open").clone();
            let lines: Vec<(AccountId, Amount)> = payouts.iter().map(|(a, x)| (*a, *x)).collect();
            let total = Amount::checked_sum(lines.iter().map(|(_, x)| *x)).expect("bounded by the hold");
            assert!(total <= hold.amount, "job {id}: plan overdraws hold {h} ({total} > {})", hold.amount);
            self.ledger.hold_post(*h, &lines).expect("the plan fits the hold");
            for (a, x) in lines {
                let book = if a == hold.payer { &mut refunds } else { &mut rewards };
                let e = book.entry(a).or_insert(Amount::ZERO);
                *e = e.checked_add(x).expect("bounded by the supply");
            }
        }
        if !rewards.is_empty() {
            let payouts = rewards.into_iter().collect();
            events.push(EventRecord { tx, event: Event::RewardDistributed { job: id, payouts } });
        }
        if !refunds.is_empty() {
            let refunds = refunds.into_iter().collect();
            events.push(EventRecord { tx, event: Event::Refund { job: id, refunds } });
        }
    }

    /// Apply the final plan, check the escrow is empty, and mark the job settled.
    fn settle(&mut self, id: JobId, outcome: JobOutcome, plan: Plan, events: &mut Vec<EventRecord>, tx: Option<u32>) {
        self.apply_settlement(id, &plan, events, tx);
        assert!(self.job_escrow(&id).is_zero(), "job {id}: escrow not empty after settlement ({outcome:?})");
        let height = self.height;
        let retention = self.params.job_retention;
        let job = self.j.jobs.get_mut(&id).expect("the caller found the job");
        if job.phase == JobPhase::Ordered {
            self.deadlines.remove(&(job.dispatch_by, Deadline::JobLapse(id)));
        }
        job.phase = JobPhase::Settled;
        job.stake_in = None;
        job.staked = Amount::ZERO;
        job.replacement = None;
        for m in job.members.values_mut() {
            m.deposit = None;
        }
        job.settled_at = Some(height);
        job.outcome = Some(outcome.clone());
        job.record(height, JobEntry::Settled { outcome: outcome.clone() });
        let close_at = Height(height.0.saturating_add(retention));
        self.deadlines.insert((close_at, Deadline::JobClose(id)));
        self.dirty.insert(EngineKey::Job(id));
        events.push(EventRecord { tx, event: Event::JobSettled { job: id, outcome } });
    }
}

/// Check a status update against the job and the member's previous update (read-only).
fn check_status(kind: JobKind, role: JobRole, epochs: u32, member: &JobMember, s: &JobStatus) -> Result<(), Rejection> {
    let bad = |m: &str| Err(Rejection::InvalidJobStatus(m.to_string()));
    match (s.stage, kind, role) {
        (JobStage::Psi, JobKind::Horizontal, _) => return bad("a horizontal job has no PSI stage"),
        (JobStage::Aggregation, _, JobRole::DataOwner) => return bad("aggregation is an MPC node's stage"),
        (JobStage::Training, JobKind::Horizontal, JobRole::Mpc) => {
            return bad("the MPC nodes of a horizontal job aggregate; post aggregation")
        }
        _ => {}
    }
    if s.stage != JobStage::Psi && s.epoch != WHOLE && s.epoch >= epochs {
        return bad("epoch beyond the job's epochs");
    }
    if s.status == JobProgress::Failed && s.stage != JobStage::Psi && s.epoch == WHOLE {
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
