//! Federated training jobs' public records (seed 002, DESIGN §6): orders, members, phases, outcomes and
//! the reward schema.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use types::{AccountId, Amount, Hash, Height, HoldId, JobId};

/// The maximum duration an order names when its author does not (the JSON field's default, and what the
/// agents and the CLI order): 100,000 blocks from dispatch. It must not exceed `Params::job_duration_max`.
pub const JOB_DURATION_DEFAULT: u64 = 100_000;

/// The batches per epoch an order names when its author does not (the JSON field's default, and what
/// the agents and the CLI order): one, so a status names batch 0 or the whole epoch.
pub const JOB_BATCHES_DEFAULT: u32 = 1;

/// `epoch` or `batch` value meaning "the whole training" or "the whole epoch" (seed 002's 0xffffffff).
pub const WHOLE: u32 = u32::MAX;

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    BorshSerialize,
    BorshDeserialize,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    /// DOs train on their own rows, MPC nodes aggregate.
    Horizontal,
    /// A private set intersection (PSI) stage, then training on joined columns.
    Vertical,
}

/// The stage a status update is about (the seed's `Type`).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    BorshSerialize,
    BorshDeserialize,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum JobStage {
    Training,
    Psi,
    Aggregation,
}

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    BorshSerialize,
    BorshDeserialize,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum JobProgress {
    Started,
    InProgress,
    Completed,
    Failed,
}

/// A member's status update (seed 002's `JobStatus`); every update is also a heartbeat.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(deny_unknown_fields)]
pub struct JobStatus {
    #[serde(rename = "type")]
    pub stage: JobStage,
    /// Training epoch (or PSI level); [`WHOLE`] = the whole training.
    pub epoch: u32,
    /// Batch within the epoch; [`WHOLE`] = the whole epoch.
    pub batch: u32,
    pub status: JobProgress,
}

impl JobStatus {
    /// Epochs of `epochs` this status shows as already completed: `completed` at epoch e shows e + 1 (the
    /// whole training: all), `started`/`in_progress`/`failed` at epoch e shows the e before it, PSI and
    /// "whole training, in progress" show none.
    pub fn completed_epochs(&self, epochs: u32) -> u32 {
        match (self.stage, self.status, self.epoch) {
            (JobStage::Psi, _, _) => 0,
            (_, JobProgress::Completed, WHOLE) => epochs,
            (_, _, WHOLE) => 0,
            (_, JobProgress::Completed, e) => e.saturating_add(1).min(epochs),
            (_, _, e) => e.min(epochs),
        }
    }
}

/// What the GDS reports about offenders.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum JobFault {
    /// No status update for `job_heartbeat_timeout` blocks (the engine checks the age).
    NoHeartbeat,
    /// Results that do not meet the modelling requirements (horizontal: DOs; vertical: MPCs).
    NonCompliant,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum JobPhase {
    /// Waiting for StakeIn, the MPC selection and the deposits.
    Ordered,
    Dispatched,
    Settled,
}

/// How a job ended.
#[derive(
    Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum JobOutcome {
    Completed,
    Reported {
        fault: JobFault,
        offenders: Vec<AccountId>,
    },
    SelfReported {
        member: AccountId,
        epoch: u32,
        epochs: u32,
    },
    Cancelled {
        fined: Amount,
        refunded: Amount,
    },
    /// Cancelled by the QC before dispatch: everything returned.
    Withdrawn,
    /// Not dispatched within `job_dispatch_timeout` blocks: everything returned.
    Lapsed,
    /// Not completed within the order's maximum duration: settled by recorded progress, the members that
    /// had not completed (`offenders`) treated as silent.
    Expired {
        offenders: Vec<AccountId>,
    },
}

/// The payouts the reward schema promises, fixed when the MPCs are first selected.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct RewardSchema {
    pub per_do: Amount,
    pub per_mpc: Amount,
    pub gds: Amount,
    /// The final price: every DO, every MPC and the GDS.
    pub total: Amount,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum JobRole {
    DataOwner,
    Mpc,
}

/// A DO or MPC of a job.
#[derive(
    Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct JobMember {
    pub role: JobRole,
    /// The member's deposit hold, once it accepted the job.
    pub deposit: Option<HoldId>,
    /// Height of the last status update (or of dispatch, or of joining as a replacement).
    pub heartbeat: Height,
    pub last_status: Option<JobStatus>,
    pub updates: u32,
    /// Epochs the member's statuses have shown as completed so far (never decreases; see
    /// [`JobStatus::completed_epochs`]): the `x` of its own failure and its share when another fails.
    pub progress: u32,
    /// The hash of the result the member last posted: what a non-compliance report must name.
    pub result: Option<Hash>,
    /// PSI levels the member completed as a party (vertical jobs; see [`Job::psi_parties`]).
    pub psi: u32,
}

impl JobMember {
    /// A member joining at `height` (ordered, selected or replacing): no deposit, status or result yet;
    /// the height counts as its heartbeat.
    pub fn joining(role: JobRole, height: Height) -> JobMember {
        JobMember {
            role,
            deposit: None,
            heartbeat: height,
            last_status: None,
            updates: 0,
            progress: 0,
            result: None,
            psi: 0,
        }
    }

    /// The first height at which the member may be reported for silence: its last heartbeat plus
    /// `job_heartbeat_timeout`.
    pub fn heartbeat_due(&self, params: &crate::Params) -> Height {
        Height(self.heartbeat.0.saturating_add(params.job_heartbeat_timeout))
    }

    /// Whether a `NoHeartbeat` report against this member in the block at `height` passes the engine's
    /// heartbeat check: its heartbeat is `job_heartbeat_timeout` blocks old and it has not completed the
    /// whole training (a done member has nothing left to post, so its silence is not a fault; issue 18).
    pub fn silent_at(&self, height: Height, params: &crate::Params) -> bool {
        !self.done() && height >= self.heartbeat_due(params)
    }

    pub fn done(&self) -> bool {
        self.last_status
            .is_some_and(|s| s.status == JobProgress::Completed && s.epoch == WHOLE && s.stage != JobStage::Psi)
    }
}

/// An open non-compliance report: the GDS rejected `member`'s `result` at `reported_at`; unless
/// governance overturns it on the member's appeal, it settles the job at `closes_at`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct JobDispute {
    pub member: AccountId,
    pub result: Hash,
    pub reported_at: Height,
    pub closes_at: Height,
    /// The governance proposal deciding the member's appeal, once it appealed.
    pub appeal: Option<u64>,
}

/// One entry of a job's history: when, and what happened (typed; [`JobEntry`]'s `Display` is the line
/// `stakework query job` prints).
#[derive(
    Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct JobRecord {
    pub height: Height,
    pub what: JobEntry,
}

/// What happened to a job.
#[derive(
    Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case", tag = "entry")]
pub enum JobEntry {
    /// The GDS ordered the job for `dos` data owners, each to deposit `deposit`.
    Ordered { gds: AccountId, dos: u32, quote: Amount, deposit: Amount },
    /// The QC staked `amount`; its StakeIn holds `staked`.
    Staked { amount: Amount, staked: Amount },
    /// The GDS selected `mpcs` MPC nodes; the final price is `price`.
    MpcsSelected { mpcs: u32, price: Amount },
    /// A member deposited `amount`.
    Deposited { member: AccountId, amount: Amount },
    /// Everyone staked and deposited: training started; `refunded` above the final price went back.
    Dispatched { refunded: Amount },
    /// The GDS nominated `nominee` to replace `mpc`.
    ReplacementNominated { nominee: AccountId, mpc: AccountId },
    /// `new` replaced MPC `old` (the job's `replacements`-th), and the old deposit was fined.
    MpcReplaced { new: AccountId, old: AccountId, replacements: u32 },
    /// The job settled.
    Settled { outcome: JobOutcome },
    /// The GDS held `bond` as its report bond.
    BondPosted { bond: Amount },
    /// The GDS rejected `member`'s result as non-compliant; the dispute window closes at `closes_at`.
    NonComplianceReported { member: AccountId, closes_at: Height },
    /// `member` appealed the report to governance (`proposal`).
    ReportAppealed { member: AccountId, proposal: u64 },
    /// Governance overturned the report against `member`, who was paid the bond.
    ReportOverturned { member: AccountId, bond: Amount },
    /// Every party of PSI level `level` (of `levels`) posted its completion; the next level (or, after
    /// the last, training) is open.
    PsiLevelCompleted { level: u32, levels: u32 },
}

impl std::fmt::Display for JobEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JobEntry::Ordered { gds, dos, quote, deposit } => {
                write!(f, "ordered by GDS {gds}: {dos} DOs, quote {quote}, deposit {deposit} each")
            }
            JobEntry::Staked { amount, staked } => write!(f, "QC staked {amount} (StakeIn now {staked})"),
            JobEntry::MpcsSelected { mpcs, price } => write!(f, "GDS selected {mpcs} MPC nodes; final price {price}"),
            JobEntry::Deposited { member, amount } => write!(f, "{member} deposited {amount}"),
            JobEntry::Dispatched { refunded } if refunded.is_zero() => f.write_str("dispatched"),
            JobEntry::Dispatched { refunded } => write!(f, "dispatched; {refunded} above the final price refunded"),
            JobEntry::ReplacementNominated { nominee, mpc } => {
                write!(f, "GDS nominated {nominee} to replace MPC {mpc}")
            }
            JobEntry::MpcReplaced { new, old, replacements } => {
                write!(f, "{new} replaced MPC {old} (replacement {replacements}), old deposit fined")
            }
            JobEntry::Settled { outcome } => write!(f, "settled: {outcome:?}"),
            JobEntry::BondPosted { bond } => write!(f, "GDS held a report bond of {bond}"),
            JobEntry::NonComplianceReported { member, closes_at } => {
                write!(f, "GDS reported {member}'s result non-compliant; the dispute closes at {closes_at}")
            }
            JobEntry::ReportAppealed { member, proposal } => write!(f, "{member} appealed (proposal {proposal})"),
            JobEntry::ReportOverturned { member, bond } => {
                write!(f, "governance overturned the report against {member}, who was paid the bond {bond}")
            }
            JobEntry::PsiLevelCompleted { level, levels } if level.saturating_add(1) == *levels => {
                write!(f, "PSI level {level} complete, the last of {levels}: training is open")
            }
            JobEntry::PsiLevelCompleted { level, levels } => write!(f, "PSI level {level} of {levels} complete"),
        }
    }
}

/// What a GDS orders (the `OrderJob` call's fields).
#[derive(
    Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(deny_unknown_fields)]
pub struct JobOrder {
    pub id: JobId,
    pub kind: JobKind,
    pub qc: AccountId,
    pub dos: Vec<AccountId>,
    pub price_per_do: Amount,
    /// Model complexity factor (seed: default 1).
    pub complexity: u32,
    /// Vertical jobs' MPC factor (the MPC is paid `price × N_DO × factor`); 1 for horizontal jobs.
    pub mpc_factor: u32,
    /// Training epochs, for status validation and self-reported failure fractions.
    pub epochs: u32,
    /// Batches per epoch (at least 1; JSON default [`JOB_BATCHES_DEFAULT`]): a status names a batch below
    /// this, or the whole epoch.
    #[serde(default = "JobOrder::batches_default")]
    pub batches: u32,
    /// What the GDS quoted the QC before the MPCs were chosen.
    pub quote: Amount,
    /// Blocks from dispatch after which the job settles by its recorded progress (1 to
    /// `Params::job_duration_max`; JSON default [`JOB_DURATION_DEFAULT`]).
    #[serde(default = "JobOrder::duration_default")]
    pub duration_max: u64,
}

impl JobOrder {
    fn duration_default() -> u64 {
        JOB_DURATION_DEFAULT
    }
    fn batches_default() -> u32 {
        JOB_BATCHES_DEFAULT
    }
}

#[derive(
    Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct Job {
    pub id: JobId,
    pub kind: JobKind,
    pub gds: AccountId,
    pub qc: AccountId,
    pub dos: Vec<AccountId>,
    pub mpcs: Vec<AccountId>,
    pub price_per_do: Amount,
    pub complexity: u32,
    pub mpc_factor: u32,
    pub epochs: u32,
    /// Batches per epoch (the order's).
    pub batches: u32,
    pub quote: Amount,
    /// Blocks from dispatch to settlement by recorded progress (the order's `duration_max`).
    pub duration_max: u64,
    /// Every member's deposit: the total DO payout.
    pub deposit: Amount,
    pub schema: Option<RewardSchema>,
    /// The QC's StakeIn hold and how much it holds.
    pub stake_in: Option<HoldId>,
    pub staked: Amount,
    pub members: BTreeMap<AccountId, JobMember>,
    /// A nominated replacement (MPC, nominee), effective when the nominee deposits.
    pub replacement: Option<(AccountId, AccountId)>,
    pub replacements: u32,
    /// The GDS's report bond (its hold, and the amount: `job_report_bond` of the deposit at the order),
    /// while it is held.
    pub bond: Option<(HoldId, Amount)>,
    /// The open non-compliance report, during its dispute window.
    pub dispute: Option<JobDispute>,
    pub phase: JobPhase,
    pub outcome: Option<JobOutcome>,
    pub ordered_at: Height,
    pub dispatch_by: Height,
    pub dispatched_at: Option<Height>,
    /// When a dispatched job settles by recorded progress: dispatch plus `duration_max`.
    pub expires_at: Option<Height>,
    pub settled_at: Option<Height>,
    pub history: Vec<JobRecord>,
}

impl Job {
    /// A job as `gds` ordered it at `height`: every DO a member with no deposit yet, nothing staked.
    pub fn ordered(gds: AccountId, o: &JobOrder, deposit: Amount, height: Height, dispatch_by: Height) -> Job {
        let member = JobMember::joining(JobRole::DataOwner, height);
        Job {
            id: o.id,
            kind: o.kind,
            gds,
            qc: o.qc,
            dos: o.dos.clone(),
            mpcs: Vec::new(),
            price_per_do: o.price_per_do,
            complexity: o.complexity,
            mpc_factor: o.mpc_factor,
            epochs: o.epochs,
            batches: o.batches,
            quote: o.quote,
            duration_max: o.duration_max,
            deposit,
            schema: None,
            stake_in: None,
            staked: Amount::ZERO,
            members: o.dos.iter().map(|d| (*d, member.clone())).collect(),
            replacement: None,
            replacements: 0,
            bond: None,
            dispute: None,
            phase: JobPhase::Ordered,
            outcome: None,
            ordered_at: height,
            dispatch_by,
            dispatched_at: None,
            expires_at: None,
            settled_at: None,
            history: Vec::new(),
        }
    }

    /// What the QC must stake now: the rest of the final price once it is known, else the quote.
    pub fn due(&self) -> Amount {
        match (self.phase, self.schema) {
            (JobPhase::Ordered, Some(s)) => Amount(s.total.0.saturating_sub(self.staked.0)),
            (JobPhase::Ordered, None) if self.staked.is_zero() => self.quote,
            _ => Amount::ZERO,
        }
    }

    /// Every hold of the job's escrow (StakeIn, then deposits by member id, then the GDS's bond).
    pub fn holds(&self) -> Vec<HoldId> {
        self.stake_in
            .into_iter()
            .chain(self.members.values().filter_map(|m| m.deposit))
            .chain(self.bond.map(|(h, _)| h))
            .collect()
    }

    /// Whether governance overturned a non-compliance report of this job (the GDS's bond is gone, and it
    /// may not report non-compliance again).
    pub fn overturned(&self) -> bool {
        self.history.iter().any(|r| matches!(r.what, JobEntry::ReportOverturned { .. }))
    }

    /// PSI levels of the job: `⌈log₂ N_DO⌉` for a vertical job (seed 002: "level 0: A-B ⇒ A1, C-D ⇒ C1;
    /// level 1: A1-B1 ⇒ A2"), none for a horizontal one.
    pub fn psi_levels(&self) -> u32 {
        match (self.kind, self.dos.len()) {
            (JobKind::Horizontal, _) | (_, 0 | 1) => 0,
            (JobKind::Vertical, n) => usize::BITS - (n - 1).leading_zeros(),
        }
    }

    /// PSI levels completed so far, derived from the members' own records: the first level some party of
    /// which has not completed it (levels complete in order, so the members' `psi` counts say it all).
    pub fn psi_level(&self) -> u32 {
        let done = |p: &AccountId, l: u32| self.members.get(p).is_some_and(|m| m.psi > l);
        (0..self.psi_levels())
            .find(|l| !self.psi_pairs(*l).iter().all(|(a, b)| done(a, *l) && done(b, *l)))
            .unwrap_or(self.psi_levels())
    }

    /// Whether the job is in its PSI stage: vertical, and a PSI level is still open.
    pub fn in_psi(&self) -> bool {
        self.psi_level() < self.psi_levels()
    }

    /// The pairs that intersect at PSI `level`, in the order's DO order: at level l the DO at index i
    /// (a multiple of 2^(l+1)) joins with the one at i + 2^l, which hands it its intersection; a DO with
    /// no partner at a level carries its set to the next. Level 0 of A, B, C, D: A-B, C-D; level 1: A-C.
    pub fn psi_pairs(&self, level: u32) -> Vec<(AccountId, AccountId)> {
        if level >= self.psi_levels() {
            return Vec::new();
        }
        // level < ⌈log₂ n⌉ ≤ 32, so the step is below n and twice it does not overflow.
        let step = 1usize << level;
        (0..self.dos.len())
            .step_by(2 * step)
            .filter_map(|i| self.dos.get(i + step).map(|partner| (self.dos[i], *partner)))
            .collect()
    }

    /// Whether `who` is one of the pairs of PSI `level`.
    pub fn psi_party(&self, who: &AccountId, level: u32) -> bool {
        self.psi_pairs(level).iter().any(|(a, b)| a == who || b == who)
    }

    pub fn role_of(&self, who: &AccountId) -> Option<JobRole> {
        self.members.get(who).map(|m| m.role)
    }

    pub fn record(&mut self, height: Height, what: JobEntry) {
        self.history.push(JobRecord { height, what });
    }

    /// The job's encoding in the state root (root format v1): its borsh encoding, except that each history
    /// entry is the line its `Display` prints, as the history was kept as text before it was typed. A new
    /// root format (a protocol version, DESIGN §14) may encode the typed entries instead.
    pub fn encode_for_root(&self, out: &mut impl std::io::Write) -> std::io::Result<()> {
        let Job { history, .. } = self;
        self.encode_fields(out)?;
        let len = u32::try_from(history.len()).map_err(|_| std::io::Error::other("history longer than u32::MAX"))?;
        BorshSerialize::serialize(&len, out)?;
        for r in history {
            BorshSerialize::serialize(&r.height, out)?;
            BorshSerialize::serialize(&r.what.to_string(), out)?;
        }
        Ok(())
    }

    /// Every field but the history, in declaration order (borsh's order). The destructuring names every
    /// field, so a new one does not compile until it is placed here.
    fn encode_fields(&self, out: &mut impl std::io::Write) -> std::io::Result<()> {
        let Job {
            id,
            kind,
            gds,
            qc,
            dos,
            mpcs,
            price_per_do,
            complexity,
            mpc_factor,
            epochs,
            batches,
            quote,
            duration_max,
            deposit,
            schema,
            stake_in,
            staked,
            members,
            replacement,
            replacements,
            bond,
            dispute,
            phase,
            outcome,
            ordered_at,
            dispatch_by,
            dispatched_at,
            expires_at,
            settled_at,
            history: _,
        } = self;
        BorshSerialize::serialize(&(id, kind, gds, qc, dos, mpcs, price_per_do, complexity, mpc_factor, epochs), out)?;
        BorshSerialize::serialize(&(batches, quote, duration_max, deposit), out)?;
        BorshSerialize::serialize(
            &(schema, stake_in, staked, members, replacement, replacements, bond, dispute, phase, outcome),
            out,
        )?;
        BorshSerialize::serialize(&(ordered_at, dispatch_by, dispatched_at, expires_at, settled_at), out)
    }
}

/// The schema for `n_do` DOs and `n_mpc` MPCs; `None` on overflow.
pub fn compute_schema(order: &Job, n_mpc: usize, gds_share: types::Ppb) -> Option<RewardSchema> {
    let n_do = order.dos.len() as u128;
    let per_do = order.price_per_do.checked_mul(u128::from(order.complexity))?;
    let per_mpc = match order.kind {
        JobKind::Horizontal => order.price_per_do,
        JobKind::Vertical => order.price_per_do.checked_mul(n_do)?.checked_mul(u128::from(order.mpc_factor))?,
    };
    let work = per_do.checked_mul(n_do)?.checked_add(per_mpc.checked_mul(n_mpc as u128)?)?;
    let gds = gds_share.mul_floor(work);
    Some(RewardSchema { per_do, per_mpc, gds, total: work.checked_add(gds)? })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job() -> Job {
        let order = JobOrder {
            id: JobId([3; 16]),
            kind: JobKind::Horizontal,
            qc: AccountId([1; 32]),
            dos: vec![AccountId([2; 32])],
            price_per_do: Amount(50),
            complexity: 1,
            mpc_factor: 1,
            epochs: 2,
            batches: 1,
            quote: Amount(120),
            duration_max: 50,
        };
        Job::ordered(AccountId([4; 32]), &order, Amount(7), Height(5), Height(9))
    }

    /// A member that completed the whole training is never silent, however old its heartbeat: the
    /// coordinator agent, which asks `silent_at`, never reports it (issue 18).
    #[test]
    fn a_member_that_completed_the_whole_training_is_never_silent() {
        let params = crate::Params::default();
        let mut m = job().members.into_values().next().expect("one DO");
        let late = Height(m.heartbeat.0 + params.job_heartbeat_timeout);
        assert!(m.silent_at(late, &params));
        let training = |epoch, status| JobStatus { stage: JobStage::Training, epoch, batch: WHOLE, status };
        m.last_status = Some(training(3, JobProgress::Completed));
        assert!(m.silent_at(late, &params), "an epoch's completion is not the whole training's");
        m.last_status = Some(training(WHOLE, JobProgress::Completed));
        assert!(!m.silent_at(late, &params));
        assert!(!m.silent_at(Height(u64::MAX), &params));
    }

    /// The seed's PSI tree: level 0 joins A-B and C-D, level 1 the two results; a DO without a partner
    /// carries its set up a level; ⌈log₂ N⌉ levels, none for one DO or a horizontal job.
    #[test]
    fn psi_pairs_follow_the_seeds_tree() {
        let d = |i: u8| AccountId([10 + i; 32]);
        let vertical = |n: u8| Job { kind: JobKind::Vertical, dos: (0..n).map(d).collect(), ..job() };
        let four = vertical(4);
        assert_eq!(four.psi_levels(), 2);
        assert_eq!(four.psi_pairs(0), vec![(d(0), d(1)), (d(2), d(3))]);
        assert_eq!(four.psi_pairs(1), vec![(d(0), d(2))]);
        assert!(four.psi_pairs(2).is_empty());
        let ten = vertical(10);
        assert_eq!(ten.psi_levels(), 4);
        assert_eq!(ten.psi_pairs(1), vec![(d(0), d(2)), (d(4), d(6))], "d8 has no partner at level 1");
        assert_eq!(ten.psi_pairs(3), vec![(d(0), d(8))]);
        assert!(!ten.psi_party(&d(8), 1) && ten.psi_party(&d(8), 3));
        assert_eq!([1, 2, 3, 5, 8, 9, 16, 17].map(|n| vertical(n).psi_levels()), [0, 1, 2, 3, 3, 4, 4, 5]);
        assert_eq!(Job { dos: (0..4).map(d).collect(), ..job() }.psi_levels(), 0, "horizontal");
        let mut psi = vertical(3);
        assert!(psi.in_psi());
        let member = |done| JobMember { psi: done, ..JobMember::joining(JobRole::DataOwner, Height(0)) };
        psi.members = (0..3).map(|i| (d(i), member(u32::from(i < 2)))).collect();
        assert_eq!(psi.psi_level(), 1, "d0 and d1 joined at level 0; d2 has not started level 1");
        psi.members.insert(d(0), member(2));
        assert_eq!(psi.psi_level(), 1, "level 1 needs d2 too");
        psi.members.insert(d(2), member(2));
        assert_eq!(psi.psi_level(), 2);
        assert!(!psi.in_psi());
    }

    /// Without history the root form is exactly borsh: every field, in order.
    #[test]
    fn the_root_form_of_a_job_is_its_borsh_encoding_with_history_as_text() {
        let mut j = job();
        let mut root = Vec::new();
        j.encode_for_root(&mut root).expect("encode");
        assert_eq!(root, borsh::to_vec(&j).expect("encode"));
        j.record(Height(6), JobEntry::Staked { amount: Amount(120), staked: Amount(120) });
        j.record(Height(8), JobEntry::Dispatched { refunded: Amount::ZERO });
        let mut root = Vec::new();
        j.encode_for_root(&mut root).expect("encode");
        let without = borsh::to_vec(&Job { history: Vec::new(), ..j.clone() }).expect("encode");
        let mut text = without[..without.len() - 4].to_vec();
        let lines: Vec<(Height, String)> = j.history.iter().map(|r| (r.height, r.what.to_string())).collect();
        text.extend(borsh::to_vec(&lines).expect("encode"));
        assert_eq!(root, text);
        assert_eq!(lines[0].1, format!("QC staked {} (StakeIn now {})", Amount(120), Amount(120)));
        assert_eq!(lines[1].1, "dispatched");
    }
}
