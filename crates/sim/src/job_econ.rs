//! Training-job failure economics (seed 002; DESIGN §6), through the real engine.
//!
//! One federated job per outcome the engine implements (`crates/engine/src/jobs.rs`: 1 completed; 2 a DO
//! without heartbeat; 3 a DO's self-reported failure; 4 a stalled MPC; 5 an MPC's self-reported failure;
//! 6 non-compliant results; 7 the QC cancels; 8 an MPC replaced; plus the order withdrawn before dispatch
//! and the order that lapses), each on a fresh [`TestChain`] with the seed's worked numbers (10 DOs promised
//! 1,000 each, so every DO and MPC deposits 10,000; two MPCs for horizontal jobs, one for the vertical one).
//! The jobs are driven by transactions only (`OrderJob`, `SubmitJobQuery`, `SelectMpcs`, `AcceptJob`,
//! `PostJobStatus`, `ReportJobFailure`, `CancelJob`, `ReplaceMpc`) and by blocks, for heartbeat and
//! dispatch timeouts.
//!
//! What every party gained or lost is read from the ledger: its whole balance (free + held + bonded +
//! unbonding) after the job settled minus before it was ordered, so returned deposits and refunds count.
//! Transaction fees (to the treasury) are tracked from the receipts and reported beside the delta; the
//! "job net" is the delta without them. After each job the scenario asserts that the engine's
//! `job_escrow` is zero, that the deltas of all accounts sum to zero and that the supply did not change.
//! Nothing here computes a payout.
//!
//! The seed picks the job id and which DOs are the offenders; the numbers do not depend on it.

use crate::figures::span;
use crate::report::{Report, Table};
use crate::rng::Rng;
use crate::{Plot, PlotKind, Progress, Series, SimError};
use engine::testkit::{self, account, TestChain};
use engine::{
    Call, Event, Job, JobFault, JobKind, JobOrder, JobOutcome, JobPhase, JobProgress, JobStage, JobStatus, Params,
    Role, WHOLE,
};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use types::{AccountId, Amount, JobId};

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub data_owners: u32,
    /// MPC nodes of the horizontal jobs (the vertical job has one); one more is registered as the spare
    /// that replaces a failing MPC in outcome 8.
    pub mpcs: u32,
    pub price_per_do: u64,
    /// Model complexity factor.
    pub complexity: u32,
    pub epochs: u32,
    /// Blocks without a status update before the GDS may report a member (the seed's 3,600).
    pub heartbeat_timeout: u64,
    /// Blocks an order may wait for dispatch before it lapses.
    pub dispatch_timeout: u64,
    /// Fee of every transaction (to the treasury).
    pub fee: u64,
    /// Epochs at which a DO reports its own failure (outcome 3), one job each.
    pub do_failure_epochs: Vec<u32>,
    /// Epoch at which an MPC reports its own failure (outcome 5).
    pub mpc_failure_epoch: u32,
    /// DOs reported for non-compliant results in the horizontal job of outcome 6: 1, as a report names
    /// one member's posted result and opens a dispute window that ends the job.
    pub non_compliant_dos: u32,
    pub seed: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_owners: 10,
            mpcs: 2,
            price_per_do: 1_000,
            complexity: 1,
            epochs: 10,
            heartbeat_timeout: 3_600,
            dispatch_timeout: 3_600,
            fee: 1,
            do_failure_epochs: vec![1, 4, 9],
            mpc_failure_epoch: 5,
            non_compliant_dos: 1,
            seed: 1,
        }
    }
}

impl Config {
    fn validate(&self) -> Result<(), SimError> {
        if !(2..=64).contains(&self.data_owners) {
            return Err(SimError::Setting(
                "data_owners: a job needs 2 to 64 data owners (one fails, the others are honest)".into(),
            ));
        }
        if !(1..=63).contains(&self.mpcs) {
            return Err(SimError::Setting("mpcs: 1 to 63 MPC nodes (one more is registered as the spare)".into()));
        }
        if self.price_per_do == 0 || self.price_per_do > 1_000_000_000_000_000 || self.complexity == 0 {
            return Err(SimError::Setting("price_per_do is 1 to 10^18 base units and complexity at least 1".into()));
        }
        if u64::from(self.complexity) * self.price_per_do > 1_000_000_000_000_000 {
            return Err(SimError::Setting("price_per_do × complexity is at most 10^18 base units".into()));
        }
        if !(2..=1_000).contains(&self.epochs) {
            return Err(SimError::Setting("epochs: 2 to 1000 training epochs".into()));
        }
        if !(1..=100_000).contains(&self.heartbeat_timeout) || !(1..=100_000).contains(&self.dispatch_timeout) {
            return Err(SimError::Setting("heartbeat_timeout and dispatch_timeout: 1 to 100000 blocks".into()));
        }
        if self.fee > 1_000_000_000 {
            return Err(SimError::Setting("fee: at most 10^9 base units".into()));
        }
        if let Some(e) = self.do_failure_epochs.iter().chain([&self.mpc_failure_epoch]).find(|e| **e >= self.epochs) {
            return Err(SimError::Setting(format!(
                "failure epoch {e}: training epochs are 0 to {} (epochs − 1)",
                self.epochs - 1
            )));
        }
        if self.non_compliant_dos != 1 || self.data_owners < 2 {
            return Err(SimError::Setting(
                "non_compliant_dos: exactly 1 (a report names one member's result), with at least 2 data owners".into(),
            ));
        }
        Ok(())
    }
}

/// One job, ending in one outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// 1: every member completes the whole training.
    Completed,
    /// 2: a DO posts nothing for `heartbeat_timeout` blocks and the GDS reports it.
    DoNoHeartbeat,
    /// 3: a DO reports its own failure at `epoch`, after everyone posted progress up to that epoch.
    DoFailed { epoch: u32 },
    /// 3: a DO that never posted progress reports a failure at epoch 0 while the others are near the end.
    DoSilentQuit,
    /// 4: an MPC posts nothing for `heartbeat_timeout` blocks and the GDS reports it.
    MpcNoHeartbeat,
    /// 5: an MPC reports its own failure at `epoch`.
    MpcFailed { epoch: u32 },
    /// 6: the GDS reports DOs of a horizontal job for non-compliant results.
    NonCompliantDos,
    /// 6: the GDS reports the MPC of a vertical job for non-compliant results.
    NonCompliantMpc,
    /// 7: the QC cancels the dispatched job.
    Cancelled,
    /// 7: the QC cancels before dispatch (some deposits are in).
    Withdrawn,
    /// Not dispatched within `dispatch_timeout` blocks (only half the DOs deposit).
    Lapsed,
    /// 8: the GDS replaces a failing MPC with the spare, and the job completes.
    MpcReplaced,
}

impl Scenario {
    /// Whether the job was dispatched and then failed (outcomes 2 to 6).
    pub fn failed(self) -> bool {
        matches!(
            self,
            Scenario::DoNoHeartbeat
                | Scenario::DoFailed { .. }
                | Scenario::DoSilentQuit
                | Scenario::MpcNoHeartbeat
                | Scenario::MpcFailed { .. }
                | Scenario::NonCompliantDos
                | Scenario::NonCompliantMpc
        )
    }

    /// The outcome's number in the engine's list (jobs.rs), or "–" for the lapse.
    pub fn number(self) -> &'static str {
        match self {
            Scenario::Completed => "1",
            Scenario::DoNoHeartbeat => "2",
            Scenario::DoFailed { .. } | Scenario::DoSilentQuit => "3",
            Scenario::MpcNoHeartbeat => "4",
            Scenario::MpcFailed { .. } => "5",
            Scenario::NonCompliantDos | Scenario::NonCompliantMpc => "6",
            Scenario::Cancelled | Scenario::Withdrawn => "7",
            Scenario::Lapsed => "–",
            Scenario::MpcReplaced => "8",
        }
    }

    /// A short name, used in the CSV's `outcome` column.
    pub fn label(self, epochs: u32) -> String {
        match self {
            Scenario::Completed => "1-completed".into(),
            Scenario::DoNoHeartbeat => "2-do-no-heartbeat".into(),
            Scenario::DoFailed { epoch } => format!("3-do-failed-at-{epoch}-of-{epochs}"),
            Scenario::DoSilentQuit => format!("3-silent-do-failed-at-0-of-{epochs}"),
            Scenario::MpcNoHeartbeat => "4-mpc-no-heartbeat".into(),
            Scenario::MpcFailed { epoch } => format!("5-mpc-failed-at-{epoch}-of-{epochs}"),
            Scenario::NonCompliantDos => "6-non-compliant-dos".into(),
            Scenario::NonCompliantMpc => "6-non-compliant-vertical-mpc".into(),
            Scenario::Cancelled => "7-qc-cancels-after-dispatch".into(),
            Scenario::Withdrawn => "7-qc-cancels-before-dispatch".into(),
            Scenario::Lapsed => "order-lapsed".into(),
            Scenario::MpcReplaced => "8-mpc-replaced".into(),
        }
    }

    fn describe(self, c: &Config) -> String {
        let last = c.epochs.saturating_sub(2);
        match self {
            Scenario::Completed => "every DO and MPC completes the whole training".into(),
            Scenario::DoNoHeartbeat => {
                format!("a DO posts nothing for {} blocks; the GDS reports it", c.heartbeat_timeout)
            }
            Scenario::DoFailed { epoch } => format!("a DO reports its own failure at epoch {epoch} of {}", c.epochs),
            Scenario::DoSilentQuit => format!(
                "a DO that never posted progress reports a failure at epoch 0 while the others are at epoch {last}"
            ),
            Scenario::MpcNoHeartbeat => {
                format!("an MPC posts nothing for {} blocks; the GDS reports it", c.heartbeat_timeout)
            }
            Scenario::MpcFailed { epoch } => format!("an MPC reports its own failure at epoch {epoch} of {}", c.epochs),
            Scenario::NonCompliantDos => {
                format!("the GDS reports {} DOs' results as non-compliant", c.non_compliant_dos)
            }
            Scenario::NonCompliantMpc => "vertical job: the GDS reports the MPC's results as non-compliant".into(),
            Scenario::Cancelled => "the QC cancels the dispatched job".into(),
            Scenario::Withdrawn => "the QC cancels before dispatch (half the DOs had deposited)".into(),
            Scenario::Lapsed => {
                format!("only half the DOs deposit; the order lapses after {} blocks", c.dispatch_timeout)
            }
            Scenario::MpcReplaced => "the GDS replaces a failing MPC with the spare; the job completes".into(),
        }
    }
}

/// What one account gained or lost in one job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Party {
    pub name: String,
    /// qc, gds, do, do_offender, mpc, mpc_offender, mpc_replaced, mpc_replacement, idle_mpc, treasury.
    pub class: &'static str,
    /// Whole balance after the job minus before it (fees included).
    pub delta: i128,
    /// Fees the account paid during the job.
    pub fees: u128,
}

impl Party {
    /// The delta without the fees: what the job's rules paid or took.
    pub fn job_net(&self) -> i128 {
        self.delta + self.fees as i128
    }
    pub fn honest(&self) -> bool {
        matches!(self.class, "do" | "mpc" | "mpc_replacement")
    }
}

/// One job's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutcomeRun {
    pub scenario: Scenario,
    /// How the engine's `JobSettled` named the outcome.
    pub settled: String,
    /// QC, GDS, DOs, MPCs (the spare last), treasury.
    pub parties: Vec<Party>,
    /// Σ of every ledger account's delta (zero: nothing created or destroyed).
    pub delta_sum: i128,
    pub escrow_after: u128,
    pub supply_before: u128,
    pub supply_after: u128,
}

impl OutcomeRun {
    pub fn party(&self, name: &str) -> Option<&Party> {
        self.parties.iter().find(|p| p.name == name)
    }
    /// Job nets of the parties of `class`.
    pub fn nets(&self, class: &str) -> Vec<i128> {
        self.parties.iter().filter(|p| p.class == class).map(Party::job_net).collect()
    }
}

/// The cast: ids, names, and who misbehaves.
#[derive(Debug, Clone)]
struct Cast {
    job: JobId,
    gds: AccountId,
    qc: AccountId,
    dos: Vec<AccountId>,
    /// Registered MPC nodes: the job's, then the spare.
    mpcs: Vec<AccountId>,
    /// DOs in a seeded order: the first fails or is reported.
    offenders: Vec<AccountId>,
}

impl Cast {
    fn new(c: &Config) -> Cast {
        let mut rng = Rng::new(c.seed);
        let mut job = [0u8; 16];
        for chunk in job.chunks_mut(8) {
            chunk.copy_from_slice(&rng.next_u64().to_be_bytes()[..chunk.len()]);
        }
        let dos: Vec<AccountId> = (0..c.data_owners).map(|i| account(12, i)).collect();
        let mut offenders = dos.clone();
        for k in (1..offenders.len()).rev() {
            let j = rng.below(k as u32 + 1) as usize;
            offenders.swap(k, j);
        }
        Cast {
            job: JobId(job),
            gds: account(10, 0),
            qc: account(11, 0),
            dos,
            mpcs: (0..=c.mpcs).map(|i| account(13, i)).collect(),
            offenders,
        }
    }

    fn name(&self, a: &AccountId, treasury: &AccountId) -> String {
        if a == &self.gds {
            "gds".into()
        } else if a == &self.qc {
            "qc".into()
        } else if a == treasury {
            "treasury".into()
        } else if let Some(i) = self.dos.iter().position(|d| d == a) {
            format!("do{i}")
        } else if let Some(i) = self.mpcs.iter().position(|m| m == a) {
            format!("mpc{i}")
        } else {
            a.short()
        }
    }
}

/// A chain with the cast registered, tracking fees from the receipts.
#[derive(Debug)]
struct JobNet {
    chain: TestChain,
    cast: Cast,
    fee: u128,
    signers: Vec<AccountId>,
    fees: BTreeMap<AccountId, u128>,
    settled: Option<JobOutcome>,
}

fn status(job: JobId, stage: JobStage, epoch: u32, progress: JobProgress) -> Call {
    Call::PostJobStatus { job, status: JobStatus { stage, epoch, batch: WHOLE, status: progress } }
}

impl JobNet {
    fn new(c: &Config, cast: &Cast) -> Result<JobNet, SimError> {
        let stake = Amount(100);
        let params = Params {
            min_fee: Amount(u128::from(c.fee)),
            epoch_length: 1_000_000,
            emission_per_epoch: Amount::ZERO,
            data_owner_stake_min: stake,
            mpc_stake_min: stake,
            coordinator_stake_min: stake,
            job_heartbeat_timeout: c.heartbeat_timeout,
            job_dispatch_timeout: c.dispatch_timeout,
            ..Params::default()
        };
        let deposit = u128::from(c.data_owners) * u128::from(c.price_per_do) * u128::from(c.complexity);
        let fees = 1_000 * u128::from(c.fee);
        let mut accounts =
            // The GDS holds a report bond (at most the deposit) with each order.
            vec![(cast.gds, Amount(deposit + fees), stake), (cast.qc, Amount(3 * deposit * 2 + fees), Amount::ZERO)];
        for m in cast.dos.iter().chain(&cast.mpcs) {
            accounts.push((*m, Amount(2 * deposit + fees), stake));
        }
        let chain = TestChain::new(&testkit::genesis(params, accounts, Vec::new()))
            .map_err(|e| SimError::Setting(format!("genesis: {e}")))?;
        let mut net = JobNet {
            chain,
            cast: cast.clone(),
            fee: u128::from(c.fee),
            signers: Vec::new(),
            fees: BTreeMap::new(),
            settled: None,
        };
        let reg = |role| Call::RegisterNode {
            roles: vec![role],
            services: vec![],
            capacity: 1,
            endpoint: "http://sim".into(),
        };
        net.submit(cast.gds, reg(Role::Coordinator));
        for d in &cast.dos {
            net.submit(*d, reg(Role::DataOwner));
        }
        for m in &cast.mpcs {
            net.submit(*m, reg(Role::Mpc));
        }
        net.seal("registration")?;
        net.fees.clear();
        Ok(net)
    }

    fn submit(&mut self, who: AccountId, call: Call) {
        self.signers.push(who);
        self.chain.submit(who, call);
    }

    /// Seal the queued transactions: every one must be accepted, or the scenario is wrong.
    fn seal(&mut self, what: &str) -> Result<(), SimError> {
        let signers = std::mem::take(&mut self.signers);
        let outcomes = self.chain.seal().map_err(|r| {
            let who = signers.get(r.queued).copied().unwrap_or(AccountId([0; 32]));
            let name = self.cast.name(&who, &self.chain.engine.treasury());
            SimError::Unexpected(format!("{what}: {name}'s transaction in block {} was rejected: {}", r.height, r.code))
        })?;
        for who in signers {
            *self.fees.entry(who).or_insert(0) += self.fee;
        }
        for e in outcomes.into_iter().flat_map(|o| o.events) {
            if let Event::JobSettled { job, outcome } = e.event {
                if job == self.cast.job {
                    self.settled = Some(outcome);
                }
            }
        }
        Ok(())
    }

    /// Seal one queued transaction that the engine must refuse with `code`.
    fn seal_refused(&mut self, what: &str, code: &str) -> Result<(), SimError> {
        self.signers.clear();
        let outcomes = self.chain.block();
        let got: Vec<&str> = outcomes.iter().flat_map(|o| o.receipts.iter().map(|r| r.code())).collect();
        if got != [code] {
            return Err(SimError::Unexpected(format!(
                "{what}: expected the engine to refuse with {code}, got {got:?}"
            )));
        }
        Ok(())
    }

    fn wait_until(&mut self, height: u64) -> Result<(), SimError> {
        while self.chain.engine.height().0 < height {
            self.seal("waiting")?;
        }
        Ok(())
    }

    /// Outcome 6: `member` posts its result, the GDS rejects it as non-compliant, and nobody appeals: the
    /// report stands when its dispute window closes.
    fn report_result(&mut self, member: AccountId) -> Result<(), SimError> {
        let (job, gds) = (self.cast.job, self.cast.gds);
        let result = types::Hash([0x6e; 32]);
        self.submit(member, Call::PostJobResult { job, result });
        self.seal("result")?;
        self.submit(gds, Call::ReportNonCompliance { job, member, result });
        self.seal("report")?;
        let closes_at = self
            .job()?
            .dispute
            .map(|d| d.closes_at.0)
            .ok_or_else(|| SimError::Unexpected("the report opened no dispute window".into()))?;
        self.wait_until(closes_at)
    }

    fn job(&self) -> Result<&Job, SimError> {
        self.chain.engine.job(&self.cast.job).ok_or_else(|| SimError::Unexpected("the job is not in the engine".into()))
    }

    /// The job's MPC nodes for a job of `kind`.
    fn job_mpcs(&self, c: &Config, kind: JobKind) -> Vec<AccountId> {
        let n = if kind == JobKind::Horizontal { c.mpcs as usize } else { 1 };
        self.cast.mpcs[..n].to_vec()
    }

    /// The GDS orders with a quote of the DOs' payout, the QC stakes it, the GDS selects the MPCs; the QC
    /// tops up to the final price (the schema adds the MPCs and the GDS's share).
    fn order(&mut self, c: &Config, kind: JobKind) -> Result<(), SimError> {
        let quote = Amount(u128::from(c.data_owners) * u128::from(c.price_per_do) * u128::from(c.complexity));
        let order = JobOrder {
            id: self.cast.job,
            kind,
            qc: self.cast.qc,
            dos: self.cast.dos.clone(),
            price_per_do: Amount(u128::from(c.price_per_do)),
            complexity: c.complexity,
            mpc_factor: 1,
            epochs: c.epochs,
            quote,
            batches: protocol::jobs::JOB_BATCHES_DEFAULT,
            duration_max: protocol::jobs::JOB_DURATION_DEFAULT,
        };
        let (gds, qc, job) = (self.cast.gds, self.cast.qc, self.cast.job);
        self.submit(gds, Call::OrderJob { order });
        self.submit(qc, Call::SubmitJobQuery { job, amount: quote });
        let mpcs = self.job_mpcs(c, kind);
        self.submit(gds, Call::SelectMpcs { job, mpcs });
        self.seal("order")?;
        let due = self.job()?.due();
        if !due.is_zero() {
            self.submit(qc, Call::SubmitJobQuery { job, amount: due });
        }
        Ok(())
    }

    fn accept(&mut self, members: &[AccountId]) -> Result<(), SimError> {
        let (job, deposit) = (self.cast.job, self.job()?.deposit);
        for m in members {
            self.submit(*m, Call::AcceptJob { job, deposit });
        }
        Ok(())
    }

    /// Order, stake, select and deposit: the job is dispatched; returns the dispatch height.
    fn dispatch(&mut self, c: &Config, kind: JobKind) -> Result<u64, SimError> {
        self.order(c, kind)?;
        let mut members = self.cast.dos.clone();
        members.extend(self.job_mpcs(c, kind));
        self.accept(&members)?;
        self.seal("deposits")?;
        let job = self.job()?;
        match (job.phase, job.dispatched_at) {
            (JobPhase::Dispatched, Some(h)) => Ok(h.0),
            _ => Err(SimError::Unexpected("the job was not dispatched after every deposit".into())),
        }
    }

    /// `members` post InProgress at `epoch` (DOs: training; MPCs: aggregation or, vertical, training).
    fn progress(&mut self, kind: JobKind, members: &[AccountId], epoch: u32) {
        let job = self.cast.job;
        for m in members {
            let stage = if self.cast.dos.contains(m) || kind == JobKind::Vertical {
                JobStage::Training
            } else {
                JobStage::Aggregation
            };
            self.submit(*m, status(job, stage, epoch, JobProgress::InProgress));
        }
    }

    fn complete(&mut self, members: &[AccountId]) {
        let job = self.cast.job;
        for m in members {
            let stage = if self.cast.dos.contains(m) { JobStage::Training } else { JobStage::Aggregation };
            self.submit(*m, status(job, stage, WHOLE, JobProgress::Completed));
        }
    }

    fn members_except(&self, c: &Config, kind: JobKind, except: &[AccountId]) -> Vec<AccountId> {
        let mut v: Vec<AccountId> = self.cast.dos.clone();
        v.extend(self.job_mpcs(c, kind));
        v.retain(|m| !except.contains(m));
        v
    }
}

/// Whole balances of every ledger account.
fn balances(engine: &engine::Engine) -> BTreeMap<AccountId, i128> {
    engine
        .ledger()
        .accounts_sorted()
        .into_iter()
        .map(|(id, a)| (id, (a.free.0 + a.held.0 + a.bonded.0 + a.unbonding.0) as i128))
        .collect()
}

/// Drive one job to its outcome on a fresh chain.
fn drive(c: &Config, net: &mut JobNet, s: Scenario) -> Result<(), SimError> {
    if s.failed() && s != Scenario::NonCompliantMpc {
        return drive_failure(c, net, s);
    }
    let cast = net.cast.clone();
    let (job, gds, qc, mpc) = (cast.job, cast.gds, cast.qc, cast.mpcs[0]);
    let h = JobKind::Horizontal;
    match s {
        Scenario::NonCompliantMpc => non_compliant_vertical(c, net)?,
        Scenario::Cancelled => {
            net.dispatch(c, h)?;
            net.submit(qc, Call::CancelJob { job });
            net.seal("cancel")?;
        }
        Scenario::Withdrawn | Scenario::Lapsed => {
            net.order(c, h)?;
            let half: Vec<AccountId> = cast.dos[..cast.dos.len() / 2].to_vec();
            net.accept(&half)?;
            net.seal("some deposits")?;
            if s == Scenario::Withdrawn {
                net.submit(qc, Call::CancelJob { job });
                net.seal("cancel")?;
            } else {
                let by = net.job()?.dispatch_by.0;
                net.wait_until(by)?;
            }
        }
        Scenario::MpcReplaced => {
            // The MPC stalls from dispatch while the others post progress; a replacement needs the stall to
            // be verifiable (its heartbeat `heartbeat_timeout` blocks old), so the GDS nominates then.
            let dispatched = net.dispatch(c, h)?;
            net.wait_until(dispatched + c.heartbeat_timeout / 2)?;
            let others = net.members_except(c, h, &[mpc]);
            net.progress(h, &others, c.epochs / 2);
            net.seal("progress")?;
            net.wait_until(dispatched + c.heartbeat_timeout - 1)?;
            let spare = cast.mpcs[c.mpcs as usize];
            net.submit(gds, Call::ReplaceMpc { job, mpc, replacement: spare });
            net.seal("nomination")?;
            let deposit = net.job()?.deposit;
            net.submit(spare, Call::AcceptJob { job, deposit });
            net.seal("replacement deposit")?;
            let mut all = net.members_except(c, h, &[mpc]);
            all.push(spare);
            net.complete(&all);
            net.seal("completion")?;
        }
        _ => {
            net.dispatch(c, h)?;
            let all = net.members_except(c, h, &[]);
            net.progress(h, &all, c.epochs / 2);
            net.seal("progress")?;
            net.complete(&all);
            net.seal("completion")?;
        }
    }
    Ok(())
}

/// Outcomes 2 to 6 of a horizontal job: the others post progress, then the offence and its report.
fn drive_failure(c: &Config, net: &mut JobNet, s: Scenario) -> Result<(), SimError> {
    let cast = net.cast.clone();
    let (job, gds, culprit, mpc) = (cast.job, cast.gds, cast.offenders[0], cast.mpcs[0]);
    let h = JobKind::Horizontal;
    let dispatched = net.dispatch(c, h)?;
    let (silent, epoch) = match s {
        Scenario::DoNoHeartbeat => (Some(culprit), c.epochs / 2),
        Scenario::MpcNoHeartbeat => (Some(mpc), c.epochs / 2),
        Scenario::DoSilentQuit => (Some(culprit), c.epochs.saturating_sub(2)),
        Scenario::DoFailed { epoch } | Scenario::MpcFailed { epoch } => (None, epoch),
        _ => (None, c.epochs - 1),
    };
    if matches!(s, Scenario::DoNoHeartbeat | Scenario::MpcNoHeartbeat) {
        net.wait_until(dispatched + c.heartbeat_timeout / 2)?;
    }
    let others = net.members_except(c, h, &silent.into_iter().collect::<Vec<_>>());
    net.progress(h, &others, epoch);
    net.seal("progress")?;
    match s {
        Scenario::DoNoHeartbeat | Scenario::MpcNoHeartbeat => {
            net.wait_until(dispatched + c.heartbeat_timeout - 1)?;
            let offenders = silent.into_iter().collect();
            net.submit(gds, Call::ReportJobFailure { job, offenders, fault: JobFault::NoHeartbeat });
            net.seal("report")
        }
        Scenario::NonCompliantDos => net.report_result(culprit),
        Scenario::MpcFailed { epoch } => {
            net.submit(mpc, status(job, JobStage::Aggregation, epoch, JobProgress::Failed));
            net.seal("self-reported failure")
        }
        _ => {
            if epoch + 1 == c.epochs {
                // A failure at epoch E itself is not a training epoch: refused, and nothing changes.
                net.submit(culprit, status(job, JobStage::Training, c.epochs, JobProgress::Failed));
                net.seal_refused("failure at epoch E", "invalid_job_status")?;
            }
            let epoch = if s == Scenario::DoSilentQuit { 0 } else { epoch };
            net.submit(culprit, status(job, JobStage::Training, epoch, JobProgress::Failed));
            net.seal("self-reported failure")
        }
    }
}

/// Outcome 6, vertical: PSI, then training; the GDS reports the MPC.
fn non_compliant_vertical(c: &Config, net: &mut JobNet) -> Result<(), SimError> {
    let v = JobKind::Vertical;
    let (job, mpc) = (net.cast.job, net.cast.mpcs[0]);
    net.dispatch(c, v)?;
    let all = net.members_except(c, v, &[]);
    // PSI level by level (seed 002's tree): the parties of each level complete it in one block; the MPC
    // waits (its progress at level 0 is its heartbeat).
    net.submit(mpc, status(job, JobStage::Psi, 0, JobProgress::InProgress));
    while let Some(j) = net.chain.engine.job(&job).filter(|j| j.in_psi()).cloned() {
        for (a, b) in j.psi_pairs(j.psi_level()) {
            net.submit(a, status(job, JobStage::Psi, j.psi_level(), JobProgress::Completed));
            net.submit(b, status(job, JobStage::Psi, j.psi_level(), JobProgress::Completed));
        }
        net.seal("PSI")?;
    }
    net.progress(v, &all, c.epochs - 1);
    net.seal("progress")?;
    net.report_result(mpc)
}

/// Whether the engine settled the job as `s` should.
fn settled_as_expected(s: Scenario, o: &JobOutcome) -> bool {
    matches!(
        (s, o),
        (Scenario::Completed | Scenario::MpcReplaced, JobOutcome::Completed)
            | (
                Scenario::DoNoHeartbeat | Scenario::MpcNoHeartbeat,
                JobOutcome::Reported { fault: JobFault::NoHeartbeat, .. }
            )
            | (
                Scenario::NonCompliantDos | Scenario::NonCompliantMpc,
                JobOutcome::Reported { fault: JobFault::NonCompliant, .. }
            )
            | (
                Scenario::DoFailed { .. } | Scenario::DoSilentQuit | Scenario::MpcFailed { .. },
                JobOutcome::SelfReported { .. }
            )
            | (Scenario::Cancelled, JobOutcome::Cancelled { .. })
            | (Scenario::Withdrawn, JobOutcome::Withdrawn)
            | (Scenario::Lapsed, JobOutcome::Lapsed)
    )
}

fn settled_text(o: &JobOutcome) -> String {
    match o {
        JobOutcome::Completed => "completed".into(),
        JobOutcome::Reported { fault, offenders } => format!("reported {fault:?} against {}", offenders.len()),
        JobOutcome::SelfReported { epoch, epochs, .. } => format!("self-reported at {epoch}/{epochs}"),
        JobOutcome::Cancelled { fined, refunded } => format!("cancelled: {fined} fined and {refunded} refunded"),
        JobOutcome::Withdrawn => "withdrawn".into(),
        JobOutcome::Lapsed => "lapsed".into(),
        JobOutcome::Expired { offenders } => format!("expired with {} not completed", offenders.len()),
    }
}

/// The class of `a` in a job that ended as `s`.
fn class_of(c: &Config, cast: &Cast, s: Scenario, a: &AccountId) -> &'static str {
    let vertical = s == Scenario::NonCompliantMpc;
    let in_job = if vertical { 1 } else { c.mpcs as usize };
    if a == &cast.qc {
        return "qc";
    }
    if a == &cast.gds {
        return "gds";
    }
    if cast.dos.contains(a) {
        let offenders = match s {
            Scenario::DoNoHeartbeat | Scenario::DoFailed { .. } | Scenario::DoSilentQuit => 1,
            Scenario::NonCompliantDos => c.non_compliant_dos as usize,
            _ => 0,
        };
        return if cast.offenders[..offenders].contains(a) { "do_offender" } else { "do" };
    }
    match cast.mpcs.iter().position(|m| m == a) {
        Some(0) if matches!(s, Scenario::MpcNoHeartbeat | Scenario::MpcFailed { .. } | Scenario::NonCompliantMpc) => {
            "mpc_offender"
        }
        Some(0) if s == Scenario::MpcReplaced => "mpc_replaced",
        Some(i) if i == c.mpcs as usize && s == Scenario::MpcReplaced => "mpc_replacement",
        Some(i) if i < in_job => "mpc",
        Some(_) => "idle_mpc",
        None => "treasury",
    }
}

/// Run one job from a fresh chain to its settlement and read every party's delta.
pub fn run_outcome(c: &Config, s: Scenario) -> Result<OutcomeRun, SimError> {
    c.validate()?;
    let cast = Cast::new(c);
    let mut net = JobNet::new(c, &cast)?;
    let before = balances(&net.chain.engine);
    let supply_before = net.chain.engine.ledger().total_supply().0;
    drive(c, &mut net, s)?;
    let engine = &net.chain.engine;
    let settled = net
        .settled
        .clone()
        .ok_or_else(|| SimError::Unexpected(format!("{}: the job did not settle", s.label(c.epochs))))?;
    if !settled_as_expected(s, &settled) {
        return Err(SimError::Unexpected(format!("{}: the engine settled the job as {settled:?}", s.label(c.epochs))));
    }
    let escrow_after = engine.job_escrow(&cast.job).0;
    assert_eq!(escrow_after, 0, "{}: the job's escrow must end at exactly zero", s.label(c.epochs));
    let after = balances(engine);
    let supply_after = engine.ledger().total_supply().0;
    assert_eq!(supply_before, supply_after, "{}: a job neither mints nor burns", s.label(c.epochs));
    let ids: BTreeSet<AccountId> = before.keys().chain(after.keys()).copied().collect();
    let delta = |a: &AccountId| after.get(a).copied().unwrap_or(0) - before.get(a).copied().unwrap_or(0);
    let delta_sum: i128 = ids.iter().map(delta).sum();
    assert_eq!(delta_sum, 0, "{}: the deltas of all accounts must sum to zero", s.label(c.epochs));
    let treasury = engine.treasury();
    let mut order = vec![cast.qc, cast.gds];
    order.extend(cast.dos.iter().chain(&cast.mpcs).copied());
    order.push(treasury);
    let parties = order
        .iter()
        .map(|a| Party {
            name: cast.name(a, &treasury),
            class: class_of(c, &cast, s, a),
            delta: delta(a),
            fees: net.fees.get(a).copied().unwrap_or(0),
        })
        .collect();
    Ok(OutcomeRun {
        scenario: s,
        settled: settled_text(&settled),
        parties,
        delta_sum,
        escrow_after,
        supply_before,
        supply_after,
    })
}

/// Every outcome the engine implements, in the engine's order.
pub fn scenarios(c: &Config) -> Vec<Scenario> {
    let mut v = vec![Scenario::Completed, Scenario::DoNoHeartbeat];
    v.extend(c.do_failure_epochs.iter().map(|e| Scenario::DoFailed { epoch: *e }));
    v.push(Scenario::DoSilentQuit);
    v.push(Scenario::MpcNoHeartbeat);
    v.push(Scenario::MpcFailed { epoch: c.mpc_failure_epoch });
    v.extend([
        Scenario::NonCompliantDos,
        Scenario::NonCompliantMpc,
        Scenario::Cancelled,
        Scenario::Withdrawn,
        Scenario::MpcReplaced,
        Scenario::Lapsed,
    ]);
    v
}

/// One row of the failure-epoch sweep: a DO reports its own failure at `epoch`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SweepRow {
    pub epoch: u32,
    pub failing_do: i128,
    pub qc: i128,
    /// Each honest DO (they are all paid alike).
    pub honest_do: i128,
    pub honest_mpc: i128,
    pub gds: i128,
}

fn sweep_row(run: &OutcomeRun, epoch: u32) -> SweepRow {
    let one = |class: &str| run.nets(class).first().copied().unwrap_or(0);
    SweepRow {
        epoch,
        failing_do: one("do_offender"),
        qc: one("qc"),
        honest_do: one("do"),
        honest_mpc: one("mpc"),
        gds: one("gds"),
    }
}

/// Every outcome, then the sweep of the DO's failure epoch over 0..epochs.
pub fn simulate(c: &Config, progress: &mut dyn Progress) -> Result<(Vec<OutcomeRun>, Vec<SweepRow>), SimError> {
    c.validate()?;
    let list = scenarios(c);
    progress.start((list.len() + c.epochs as usize) as u64, "jobs");
    let mut runs = Vec::new();
    for s in list {
        runs.push(run_outcome(c, s)?);
        progress.advance(1);
    }
    let mut sweep = Vec::new();
    for e in 0..c.epochs {
        let r = run_outcome(c, Scenario::DoFailed { epoch: e })?;
        sweep.push(sweep_row(&r, e));
        progress.advance(1);
    }
    Ok((runs, sweep))
}

/// The scenario: `outcomes.csv`, `failure-epoch.csv`, the failure-epoch plot and the summary.
/// The jobs scenario in the registry.
#[derive(Debug, Clone, Copy)]
pub struct Jobs;

impl crate::Scenario for Jobs {
    type Settings = Config;
    fn name(&self) -> &'static str {
        "jobs"
    }
    fn description(&self) -> &'static str {
        "training-job failure economics: what each party gains or loses in every outcome"
    }
    fn defaults(&self) -> Config {
        Config::default()
    }
    fn run(&self, c: &Config, progress: &mut dyn Progress) -> Result<Report, SimError> {
        run(c, progress)
    }
}

pub fn run(c: &Config, progress: &mut dyn Progress) -> Result<Report, SimError> {
    let (runs, sweep) = simulate(c, progress)?;
    let mut outcomes = Table::with_header("outcomes.csv", "outcome,engine_outcome,party,class,delta,fees,job_net");
    for r in &runs {
        for p in &r.parties {
            outcomes.row(&[
                &r.scenario.label(c.epochs),
                &r.settled.replace(',', ";"),
                &p.name,
                &p.class,
                &p.delta,
                &p.fees,
                &p.job_net(),
            ]);
        }
    }
    let mut sw = Table::with_header("failure-epoch.csv", "failure_epoch,x,failing_do,qc,honest_do,honest_mpc,gds");
    for r in &sweep {
        sw.row(&[
            &r.epoch,
            &format!("{:.4}", f64::from(r.epoch) / f64::from(c.epochs)),
            &r.failing_do,
            &r.qc,
            &r.honest_do,
            &r.honest_mpc,
            &r.gds,
        ]);
    }
    let plots = vec![plot(c, &runs, &sweep)];
    Ok(Report {
        tables: vec![outcomes, sw],
        plots,
        summary: summary(c, &runs, &sweep),
        headline: headline(&runs, &sweep),
    })
}

fn find(runs: &[OutcomeRun], s: Scenario) -> Option<&OutcomeRun> {
    runs.iter().find(|r| r.scenario == s)
}

fn plot(c: &Config, runs: &[OutcomeRun], sweep: &[SweepRow]) -> Plot {
    let line = |name: &str, f: fn(&SweepRow) -> i128| Series {
        name: name.into(),
        points: sweep.iter().map(|r| (f64::from(r.epoch), f(r) as f64)).collect(),
    };
    let mut series = vec![
        line("failing DO", |r| r.failing_do),
        line("QC", |r| r.qc),
        line("each honest DO", |r| r.honest_do),
        line("each honest MPC", |r| r.honest_mpc),
        line("GDS", |r| r.gds),
    ];
    let flat = |name: &str, y: Option<i128>| {
        y.map(|y| Series {
            name: name.into(),
            points: vec![(0.0, y as f64), (f64::from(c.epochs.saturating_sub(1)), y as f64)],
        })
    };
    let caught = find(runs, Scenario::DoNoHeartbeat).and_then(|r| r.nets("do_offender").first().copied());
    let finished = find(runs, Scenario::Completed).and_then(|r| r.nets("do").first().copied());
    series.extend(flat("DO caught without heartbeat (outcome 2)", caught));
    series.extend(flat("DO that finishes (outcome 1)", finished));
    Plot {
        file: "job-failure-epoch.png".into(),
        title: format!("A DO reports its own failure at epoch e of {}: who gains, who pays", c.epochs),
        x_label: "failure epoch e".into(),
        y_label: "job net (base units, fees excluded)".into(),
        kind: PlotKind::Line,
        series,
    }
}

fn headline(runs: &[OutcomeRun], sweep: &[SweepRow]) -> Vec<(String, String)> {
    let all = |class: &'static str| runs.iter().flat_map(move |r| r.nets(class));
    let honest_min =
        runs.iter().flat_map(|r| r.parties.iter().filter(|p| p.honest()).map(Party::job_net)).min().unwrap_or(0);
    let caught = find(runs, Scenario::DoNoHeartbeat).and_then(|r| r.nets("do_offender").first().copied());
    let qc_failed = runs.iter().filter(|r| r.scenario.failed()).flat_map(|r| r.nets("qc")).min().unwrap_or(0);
    let qc = |s: Scenario| find(runs, s).and_then(|r| r.nets("qc").first().copied()).unwrap_or(0);
    vec![
        ("outcomes".into(), runs.len().to_string()),
        ("escrow_left".into(), runs.iter().map(|r| r.escrow_after).sum::<u128>().to_string()),
        ("qc_completed_net".into(), qc(Scenario::Completed).to_string()),
        ("qc_cancel_net".into(), qc(Scenario::Cancelled).to_string()),
        ("qc_worst_failure_net".into(), qc_failed.to_string()),
        ("gds_best_net".into(), all("gds").max().unwrap_or(0).to_string()),
        ("honest_member_worst_net".into(), honest_min.to_string()),
        ("do_caught_net".into(), caught.unwrap_or(0).to_string()),
        ("do_quit_worst_net".into(), sweep.iter().map(|r| r.failing_do).min().unwrap_or(0).to_string()),
    ]
}

/// "v" if every value is v, else "lo … hi"; "–" if none.
fn summary(c: &Config, runs: &[OutcomeRun], sweep: &[SweepRow]) -> String {
    let mut s = String::new();
    let deposit = u128::from(c.data_owners) * u128::from(c.price_per_do) * u128::from(c.complexity);
    let _ = writeln!(s, "# Training-job failure economics\n");
    let _ = writeln!(
        s,
        "Each row is one federated job run through the real engine on a fresh chain: {} DOs promised {} each \
         (complexity {}), {} MPC nodes (the vertical job: one), {} training epochs, heartbeat timeout {} \
         blocks. Every DO and MPC deposits {deposit}. Figures are job nets in base units: whole balance after \
         the job minus before, plus the transaction fees the party paid (fee {} per transaction, to the \
         treasury; `outcomes.csv` has both). In every job the escrow ended at exactly 0, the deltas of all \
         accounts (treasury included) summed to 0 and the supply did not change.\n",
        c.data_owners, c.price_per_do, c.complexity, c.mpcs, c.epochs, c.heartbeat_timeout, c.fee
    );
    let mut t = Table::new(
        "",
        &["#", "what happened", "engine", "QC", "GDS", "each honest DO", "each honest MPC", "offender(s)", "fees"],
    );
    for r in runs {
        let mut mpc = r.nets("mpc");
        mpc.extend(r.nets("mpc_replacement"));
        let mut bad = r.nets("do_offender");
        bad.extend(r.nets("mpc_offender"));
        bad.extend(r.nets("mpc_replaced"));
        let fees: u128 = r.parties.iter().map(|p| p.fees).sum();
        t.row(&[
            &r.scenario.number(),
            &r.scenario.describe(c),
            &r.settled,
            &span(&r.nets("qc")),
            &span(&r.nets("gds")),
            &span(&r.nets("do")),
            &span(&mpc),
            &span(&bad),
            &fees,
        ]);
    }
    s.push_str(&t.markdown());
    reading(&mut s, c, runs, sweep);
    s
}

fn reading(s: &mut String, c: &Config, runs: &[OutcomeRun], sweep: &[SweepRow]) {
    let _ = writeln!(s, "\n## Reading\n");
    let net = |sc: Scenario, class: &str| find(runs, sc).and_then(|r| r.nets(class).first().copied());
    let finish = net(Scenario::Completed, "do").unwrap_or(0);
    let caught = net(Scenario::DoNoHeartbeat, "do_offender").unwrap_or(0);
    let worst_quit = sweep.iter().map(|r| r.failing_do).min().unwrap_or(0);
    let step = sweep.first().map_or(0, |r| r.failing_do) - sweep.get(1).map_or(0, |r| r.failing_do);
    let _ = writeln!(
        s,
        "- **Quit, finish or be caught (a DO).** Finishing pays {finish:+}. A DO that reports its own failure at \
         epoch e pays every honest DO e/{} of its promised reward: each epoch of delay costs it {step} more, up \
         to {worst_quit:+} at epoch {} (a failure at epoch {} is refused: epochs run 0 to {}). Being caught \
         without heartbeat costs {caught:+}. So quitting is never better than finishing, always cheaper than \
         being caught, and cheapest early: a DO that knows it will fail should say so at once.",
        c.epochs,
        c.epochs - 1,
        c.epochs,
        c.epochs - 1
    );
    if let Some(q) = find(runs, Scenario::DoSilentQuit) {
        let _ = writeln!(
            s,
            "- **Each honest DO is paid by its own posted progress.** A DO that never posted progress reported a \
             failure at epoch 0 while the others were at epoch {}: its net was {} and each honest DO got {} for \
             {} epochs of work. What a quitter pays follows the others' posted progress, never its own word.",
            c.epochs.saturating_sub(2),
            span(&q.nets("do_offender")),
            span(&q.nets("do")),
            c.epochs.saturating_sub(2)
        );
    }
    reading_parties(s, c, runs);
}

/// The reading's paragraphs on the QC, the honest members and the GDS.
fn reading_parties(s: &mut String, c: &Config, runs: &[OutcomeRun]) {
    let net = |sc: Scenario, class: &str| find(runs, sc).and_then(|r| r.nets(class).first().copied());
    let cancel = net(Scenario::Cancelled, "qc").unwrap_or(0);
    let price = net(Scenario::Completed, "qc").unwrap_or(0);
    let qc_loses = runs.iter().filter(|r| r.scenario.failed() && r.nets("qc").iter().any(|n| *n < 0)).count();
    let _ = writeln!(
        s,
        "- **The QC.** Its net is {price:+} (the final price) when the job completes, also after an MPC \
         replacement, and {cancel:+} when it cancels a dispatched job (the fine); {}.",
        if qc_loses == 0 {
            "in every failure it is refunded in full and loses nothing, though it gets no model".to_string()
        } else {
            format!("it loses in {qc_loses} failure outcomes")
        }
    );
    let honest: Vec<(Scenario, i128)> = runs
        .iter()
        .flat_map(|r| r.parties.iter().filter(|p| p.honest()).map(move |p| (r.scenario, p.job_net())))
        .collect();
    let negative = honest.iter().filter(|(_, n)| *n < 0).count();
    let failures: Vec<&OutcomeRun> = runs.iter().filter(|r| r.scenario.failed() && !r.nets("mpc").is_empty()).collect();
    let unpaid_mpc = failures.iter().filter(|r| r.nets("mpc").iter().all(|n| *n == 0)).count();
    let _ = writeln!(
        s,
        "- **Honest members.** {} An honest MPC is paid nothing in {unpaid_mpc} of the {} failed jobs that have \
         one: a fine pays only DOs and the GDS, so its aggregation work is never compensated. After an MPC \
         replacement the DOs are paid twice ({}): once from the replaced MPC's deposit, once by the schema.",
        if negative == 0 {
            "No honest DO or MPC ever ends below zero (before fees).".to_string()
        } else {
            format!("{negative} honest member(s) end below zero.")
        },
        failures.len(),
        span(&find(runs, Scenario::MpcReplaced).map(|r| r.nets("do")).unwrap_or_default())
    );
    let gds_success = net(Scenario::Completed, "gds").unwrap_or(0);
    let gds_nc = net(Scenario::NonCompliantDos, "gds").unwrap_or(0);
    let gds_mpc = net(Scenario::MpcNoHeartbeat, "gds").unwrap_or(0);
    let _ = writeln!(
        s,
        "- **The GDS.** It earns {gds_success:+} when the job completes, {:+} for reporting one silent DO, \
         {gds_nc:+} for reporting {} non-compliant DOs and {gds_mpc:+} for reporting an MPC: what the honest DOs do \
         not take of the fine goes to the treasury, never to the reporter. Non-compliance is still its own \
         judgement (the engine cannot check it). It gets nothing from self-reported failures.",
        net(Scenario::DoNoHeartbeat, "gds").unwrap_or(0),
        c.non_compliant_dos
    );
}
