//! Events: what happened, in the past tense, with named fields; the API shows them as JSON objects
//! tagged by `event`.

use crate::governance::ProposalAction;
use crate::jobs::{JobKind, JobOutcome, JobStatus, RewardSchema};
use crate::market::{ReportedStatus, Role};
use crate::pouw::{TaskOrigin, TaskState};
use crate::reputation::Rating;
use serde::{Deserialize, Serialize};
use types::HoldId;
use types::{AccountId, Amount, Hash, Height, JobId, Ppb};

/// One service's share of a miner's epoch work (`MinerRewarded`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ServiceWork {
    pub service: u32,
    /// The service's weight when the epoch was settled.
    pub weight: u32,
    /// User requests and task rounds completed for clients.
    pub user: u64,
    /// Background task rounds, each counting `background_weight`.
    pub background: u64,
    /// `weight × (user × 10^9 + background × background_weight)`.
    #[serde(with = "crate::points::u128_text")]
    #[schemars(with = "crate::points::U128Text")]
    pub volume: u128,
}

/// Something that happened, in the past tense. Emitted by transactions and by the end-of-block step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    TransferPosted {
        from: AccountId,
        to: AccountId,
        amount: Amount,
    },
    Bonded {
        account: AccountId,
        amount: Amount,
    },
    UnbondStarted {
        account: AccountId,
        amount: Amount,
        matures_at: Height,
    },
    UnbondMatured {
        account: AccountId,
        amount: Amount,
    },
    HoldCreated {
        hold: HoldId,
        payer: AccountId,
        amount: Amount,
        expires_at: Option<Height>,
    },
    HoldPosted {
        hold: HoldId,
        payouts: Vec<(AccountId, Amount)>,
        remaining: Amount,
    },
    HoldVoided {
        hold: HoldId,
        payer: AccountId,
        amount: Amount,
    },
    HoldExpired {
        hold: HoldId,
        payer: AccountId,
        amount: Amount,
    },
    EpochEnded {
        epoch: u64,
        height: Height,
    },
    NodeRegistered {
        account: AccountId,
        roles: Vec<Role>,
        services: Vec<u32>,
        capacity: u32,
    },
    NodeDeregistered {
        account: AccountId,
        unbonding: Amount,
        matures_at: Height,
    },
    StatusReported {
        account: AccountId,
        status: ReportedStatus,
    },
    RequestSubmitted {
        request: u64,
        client: AccountId,
        service: u32,
        miner: AccountId,
        price: Amount,
        expires_at: Height,
    },
    RequestCompleted {
        request: u64,
        miner: AccountId,
        result_hash: Hash,
        paid: Amount,
        fee: Amount,
    },
    RequestRated {
        request: u64,
        miner: AccountId,
        rating: Rating,
        reputation: Ppb,
    },
    /// The network rated `miner` for its part in `task` (Good: it passed Proof of Inference; Bad: an
    /// outlier, an echo or a missed deadline); `reputation` is its reputation after the rating.
    NetworkRated {
        task: u64,
        miner: AccountId,
        good: bool,
        reputation: Ppb,
    },
    RequestExpired {
        request: u64,
        client: AccountId,
        miner: AccountId,
        refunded: Amount,
        reputation: Ppb,
    },
    /// `amount` is the miner's largest-remainder share of `pot` by `score / total_score`; `score` is
    /// `reputation × volume`, and `volume` the sum of `work`'s terms.
    MinerRewarded {
        epoch: u64,
        miner: AccountId,
        amount: Amount,
        /// Reputation (ppb) × weighted volume (ppb units): easily above 2^64, so a decimal string in JSON.
        #[serde(with = "crate::points::u128_text")]
        #[schemars(with = "crate::points::U128Text")]
        score: u128,
        /// The miner's reputation when the epoch was settled.
        reputation: Ppb,
        /// Σ over services of weight × (user requests × 10^9 + background requests × background weight).
        #[serde(with = "crate::points::u128_text")]
        #[schemars(with = "crate::points::U128Text")]
        volume: u128,
        /// The work behind `volume`, one entry per service.
        work: Vec<ServiceWork>,
        /// What the miners' pool paid out this epoch, split by score.
        pot: Amount,
        /// The sum of every rewarded miner's score.
        #[serde(with = "crate::points::u128_text")]
        #[schemars(with = "crate::points::U128Text")]
        total_score: u128,
    },
    ProposalCreated {
        proposal: u64,
        proposer: AccountId,
        action: ProposalAction,
        voting_ends: Height,
    },
    VoteCast {
        proposal: u64,
        voter: AccountId,
        approve: bool,
        stake: Amount,
    },
    ProposalTallied {
        proposal: u64,
        yes: Amount,
        no: Amount,
        quorum: Amount,
        passed: bool,
    },
    ProposalApplied {
        proposal: u64,
        action: ProposalAction,
        applied: bool,
        reason: Option<String>,
    },
    TaskSubmitted {
        task: u64,
        origin: TaskOrigin,
        service: u32,
        redundancy: u32,
        creator: AccountId,
    },
    BackgroundTaskCreated {
        task: u64,
        service: u32,
        creator: AccountId,
        prompt: String,
    },
    TaskSpecPublished {
        task: u64,
        creator: AccountId,
    },
    TaskInputsPrepared {
        task: u64,
        preparer: AccountId,
    },
    TaskMinersSelected {
        task: u64,
        miners: Vec<AccountId>,
    },
    OutputPrecommitted {
        task: u64,
        miner: AccountId,
    },
    OutputRevealed {
        task: u64,
        miner: AccountId,
    },
    TaskAdvanced {
        task: u64,
        from: TaskState,
        to: TaskState,
        oracle: Option<AccountId>,
        fee: Amount,
    },
    TaskParticipantReplaced {
        task: u64,
        old: AccountId,
        new: AccountId,
    },
    PoiAttested {
        task: u64,
        oracle: AccountId,
        stake: Amount,
    },
    TaskParticipantsDropped {
        task: u64,
        miners: Vec<AccountId>,
    },
    /// Proof of Inference passed for `passed` (each with its median similarity in `scores`, ppb).
    TaskEnded {
        task: u64,
        passed: Vec<AccountId>,
        failed: Vec<AccountId>,
        scores: Vec<(AccountId, i64)>,
        paid: Amount,
    },
    /// `realtime`: it failed after its miners had started; `culprits`: who missed a deadline, if known.
    TaskFailed {
        task: u64,
        reason: String,
        culprits: Vec<AccountId>,
        team: Vec<AccountId>,
        realtime: bool,
    },
    JobOrdered {
        job: JobId,
        gds: AccountId,
        qc: AccountId,
        kind: JobKind,
        dos: Vec<AccountId>,
        quote: Amount,
        deposit: Amount,
    },
    /// The QC staked `amount`; StakeIn now holds `staked`.
    JobQuerySubmitted {
        job: JobId,
        qc: AccountId,
        amount: Amount,
        staked: Amount,
    },
    MpcsSelected {
        job: JobId,
        mpcs: Vec<AccountId>,
        schema: RewardSchema,
    },
    /// A DO or MPC held its deposit.
    JobAccepted {
        job: JobId,
        member: AccountId,
        deposit: Amount,
    },
    JobDispatched {
        job: JobId,
        dos: Vec<AccountId>,
        mpcs: Vec<AccountId>,
    },
    JobStatusUpdated {
        job: JobId,
        member: AccountId,
        status: JobStatus,
    },
    MpcReplacementNominated {
        job: JobId,
        mpc: AccountId,
        replacement: AccountId,
    },
    MpcReplaced {
        job: JobId,
        old: AccountId,
        new: AccountId,
        replacements: u32,
    },
    /// Money paid out of a job's escrow to someone other than who put it in.
    RewardDistributed {
        job: JobId,
        payouts: Vec<(AccountId, Amount)>,
    },
    /// Money returned from a job's escrow to who put it in (StakeIn to the QC, deposits to members).
    Refund {
        job: JobId,
        refunds: Vec<(AccountId, Amount)>,
    },
    JobSettled {
        job: JobId,
        outcome: JobOutcome,
    },
    /// The epoch's emission: minted, and where it went (pool name, amount).
    EmissionMinted {
        epoch: u64,
        total: Amount,
        parts: Vec<(String, Amount)>,
    },
    /// A node's share of the points pool, by its floored net points.
    PointsRewarded {
        epoch: u64,
        node: AccountId,
        #[serde(with = "crate::points::u128_text")]
        #[schemars(with = "crate::points::U128Text")]
        earned: u128,
        #[serde(with = "crate::points::u128_text")]
        #[schemars(with = "crate::points::U128Text")]
        deducted: u128,
        amount: Amount,
        /// The node's weight in the split: its floored net, times the team multiplier where it applies.
        #[serde(with = "crate::points::u128_text")]
        #[schemars(with = "crate::points::U128Text")]
        weight: u128,
        /// The sum of every node's weight.
        #[serde(with = "crate::points::u128_text")]
        #[schemars(with = "crate::points::U128Text")]
        total_weight: u128,
        /// The points pool's balance that was split.
        pool: Amount,
    },
    /// The epoch points one task round gave (`earned`) or cost (`deducted`) one of its nodes.
    PointsBooked {
        task: u64,
        node: AccountId,
        #[serde(with = "crate::points::u128_text")]
        #[schemars(with = "crate::points::U128Text")]
        earned: u128,
        #[serde(with = "crate::points::u128_text")]
        #[schemars(with = "crate::points::U128Text")]
        deducted: u128,
    },
    /// What a pool could not pay, back to the treasury.
    PoolSwept {
        pool: String,
        amount: Amount,
    },
    /// A curated list published: by `owner`, or by the network (`None`).
    ListPublished {
        owner: Option<AccountId>,
        name: String,
        nodes: u32,
    },
    RouterAttached {
        node: AccountId,
        router: AccountId,
    },
    RouterReported {
        router: AccountId,
        epoch: u64,
        nodes: u32,
    },
    NodeTrafficReported {
        node: AccountId,
        router: AccountId,
        epoch: u64,
        bytes: u64,
    },
    /// `owed` is R by the formula; `amount` what the routers' pool paid (less when it was short).
    RouterRewarded {
        epoch: u64,
        router: AccountId,
        #[serde(with = "crate::points::u128_text")]
        #[schemars(with = "crate::points::U128Text")]
        bandwidth: u128,
        latency_factor: Ppb,
        reputation: Ppb,
        owed: Amount,
        amount: Amount,
    },
    RouterSlashed {
        epoch: u64,
        router: AccountId,
        connectivity: Ppb,
        amount: Amount,
    },
    /// A router accepted a node, which may now attach to it.
    RouterAcceptedNode {
        router: AccountId,
        node: AccountId,
    },
    /// A node left its router: by its own call, the router's, or a deregistration of either.
    RouterDetached {
        node: AccountId,
        router: AccountId,
    },
    /// The GDS held its report bond with the order.
    JobBondPosted {
        job: JobId,
        gds: AccountId,
        bond: Amount,
    },
    /// A member posted the hash of its result.
    JobResultPosted {
        job: JobId,
        member: AccountId,
        result: Hash,
    },
    /// The GDS rejected `member`'s `result`; the report settles the job at `closes_at` unless overturned.
    NonComplianceReported {
        job: JobId,
        member: AccountId,
        result: Hash,
        closes_at: Height,
    },
    /// The accused appealed; governance's `proposal` decides.
    JobReportAppealed {
        job: JobId,
        member: AccountId,
        proposal: u64,
    },
    /// Governance overturned the report: the GDS's bond went to the member and the job runs on.
    JobReportOverturned {
        job: JobId,
        member: AccountId,
        bond: Amount,
    },
    /// `nominator` bonded `amount` more as a nomination of `node` (now `active` in all).
    Nominated {
        nominator: AccountId,
        node: AccountId,
        amount: Amount,
        active: Amount,
    },
    /// `nominator` started unbonding `amount` of its nomination of `node`, free at `matures_at`.
    Unnominated {
        nominator: AccountId,
        node: AccountId,
        amount: Amount,
        active: Amount,
        matures_at: Height,
    },
    /// `node` set its commission; it takes effect at `effective_at` (an epoch boundary).
    CommissionSet {
        node: AccountId,
        commission: Ppb,
        effective_at: Height,
    },
    /// A reward `node` earned, split between its commission, its own stake and its nominators (emitted
    /// for nodes with active nominations, after the reward's own event; `parts` includes the node's own
    /// part, `commission` excluded).
    RewardSplit {
        node: AccountId,
        epoch: u64,
        kind: RewardKind,
        commission: Amount,
        parts: Vec<(AccountId, Amount)>,
    },
    /// A slash of `node` taken pro rata from its own stake and its nominators' (after the slash's own
    /// event, whose amount is the total).
    SlashSplit {
        node: AccountId,
        epoch: u64,
        parts: Vec<(AccountId, Amount)>,
    },
    /// The consensus set of `era`, elected at the end of the previous era's last block (era 0's at
    /// genesis is not an event): the top `validators_max` candidates by own plus nominated stake.
    ValidatorSetElected {
        era: u64,
        validators: Vec<crate::validators::Elected>,
    },
    /// The elected validator `key` proposed this block: `amount` minted to its stash `account` (then
    /// split with its nominators: a `RewardSplit` of kind `validator` follows when it has any).
    ValidatorRewarded {
        key: AccountId,
        account: AccountId,
        amount: Amount,
    },
    /// The validator with consensus key `offender` (staking through `account`) was proven to have signed
    /// two conflicting votes in `era`, view `view`: `amount` was slashed from its own and nominated stake
    /// (a `SlashSplit` follows when it has nominators), `reporter_reward` of it paid to `reporter`, the
    /// rest burned; the candidate is chilled (never elected again).
    EquivocationSlashed {
        offender: AccountId,
        account: AccountId,
        era: u64,
        view: u64,
        amount: Amount,
        reporter: AccountId,
        reporter_reward: Amount,
        burned: Amount,
    },
}

/// Which reward a [`Event::RewardSplit`] splits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RewardKind {
    Miner,
    Points,
    Router,
    Validator,
}
