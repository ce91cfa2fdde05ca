//! Why a transaction was rejected: one enum with a stable snake_case code per variant, never renamed,
//! removed or reused (a test pins the list).

use types::LedgerError;
use types::{AccountId, Amount};

/// Why a transaction was rejected. A rejected transaction changes nothing. Codes are stable: never
/// renumbered, renamed or reused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// The signature does not verify (strict ed25519) for the signer's key and this chain.
    #[error("signature does not verify")]
    BadSignature,
    /// The nonce is not the signer's next nonce (replayed, or out of order).
    #[error("nonce {got} is not the next nonce {expected}")]
    BadNonce { expected: u64, got: u64 },
    /// The fee is below the chain's minimum.
    #[error("fee {got} is below the minimum {min}")]
    FeeTooLow { min: Amount, got: Amount },
    /// The signer may not act on this object (e.g. posting someone else's hold).
    #[error("signer is not authorized for this call")]
    NotAuthorized,
    /// A hold post lists more payouts than `max_payouts`.
    #[error("{got} payouts exceed the limit of {max}")]
    TooManyPayouts { max: u32, got: usize },
    /// The account is already in the registry.
    #[error("already registered")]
    AlreadyRegistered,
    /// The account is not in the registry.
    #[error("not registered")]
    NotRegistered,
    /// Roles, services, capacity or endpoint of a registration are not acceptable.
    #[error("invalid registration: {0}")]
    InvalidRegistration(String),
    /// Bonded stake is below what the roles need.
    #[error("bonded stake {bonded} is below the {needed} the roles need")]
    InsufficientStake { needed: Amount, bonded: Amount },
    /// An unbond would leave a registered node below its roles' minimum stake.
    #[error("unbonding would leave {remaining} bonded, below the {needed} the node's roles need; deregister first")]
    StakeBelowMinimum { needed: Amount, remaining: Amount },
    /// No service has this id.
    #[error("no service {0}")]
    UnknownService(u32),
    /// A service weight of zero.
    #[error("a service weight must be at least 1")]
    ZeroWeight,
    /// A service name that is empty, too long or taken.
    #[error("invalid service: {0}")]
    InvalidService(String),
    /// The service costs more than the client allowed.
    #[error("the service costs {price}, more than the {max_price} allowed")]
    PriceAboveMax { price: Amount, max_price: Amount },
    /// No Ready miner serves the service.
    #[error("no Ready miner serves service {0}")]
    NoMinerAvailable(u32),
    /// No request has this id (it never existed, expired, or was forgotten after its rating window).
    #[error("no request {0}")]
    UnknownRequest(u64),
    /// The request is no longer waiting for its miner.
    #[error("request {0} is not open")]
    RequestNotOpen(u64),
    /// Only completed requests can be rated.
    #[error("request {0} has not been completed")]
    RequestNotCompleted(u64),
    /// The request's rating window has closed.
    #[error("the rating window of request {0} has closed")]
    RatingWindowClosed(u64),
    /// Proposing and voting need bonded stake.
    #[error("the signer has no bonded stake")]
    NoStake,
    /// No proposal has this id.
    #[error("no proposal {0}")]
    UnknownProposal(u64),
    /// Voting on this proposal has ended.
    #[error("voting on proposal {0} has ended")]
    ProposalClosed(u64),
    /// The signer already voted on this proposal.
    #[error("already voted on proposal {0}")]
    AlreadyVoted(u64),
    /// The proposed change is not valid (unknown or fixed parameter, a value out of range).
    #[error("invalid proposal: {0}")]
    InvalidProposal(String),
    /// A task order that is not acceptable (redundancy, text length).
    #[error("invalid task: {0}")]
    InvalidTask(String),
    /// No open task has this id.
    #[error("no open task {0}")]
    UnknownTask(u64),
    /// The task is not in the state this call needs.
    #[error("task {task} is {state}")]
    WrongTaskState { task: u64, state: String },
    /// The signer already did its part for this state of the task.
    #[error("already acted on task {0}")]
    AlreadyActed(u64),
    /// A reveal from a miner that did not precommit.
    #[error("no precommit for this miner on task {0}")]
    NoPrecommit(u64),
    /// The revealed output and salt do not hash to the precommitment.
    #[error("the reveal does not match the precommit on task {0}")]
    RevealMismatch(u64),
    /// Only registered oracles advance tasks.
    #[error("the signer is not a registered oracle")]
    NotAnOracle,
    /// Neither has everyone acted nor has the deadline passed.
    #[error("task {task} cannot advance before height {deadline} unless everyone has acted")]
    PrematureAdvance { task: u64, deadline: types::Height },
    /// No training job has this id (never ordered, or forgotten after `job_retention`).
    #[error("no job {0}")]
    UnknownJob(types::JobId),
    /// A job with this id already exists.
    #[error("job {0} already exists")]
    JobExists(types::JobId),
    /// A job order or MPC selection that is not acceptable.
    #[error("invalid job: {0}")]
    InvalidJob(String),
    /// The job is not in the phase this call needs (e.g. a second cancel of a settled job).
    #[error("job {job} is {phase}")]
    WrongJobPhase { job: types::JobId, phase: String },
    /// A StakeIn or deposit that is not exactly what is due.
    #[error("the amount due is {expected}, not {got}")]
    WrongAmount { expected: Amount, got: Amount },
    /// The member already holds its deposit for this job.
    #[error("already accepted job {0}")]
    AlreadyAccepted(types::JobId),
    /// A precommit equal to another miner's commitment for the same task (a copy).
    #[error("task {0} already has this commitment from another miner")]
    DuplicateCommitment(u64),
    /// A status update that does not fit the job (Psi on a horizontal job, an epoch beyond the job's, …).
    #[error("invalid job status: {0}")]
    InvalidJobStatus(String),
    /// A training or aggregation status of a vertical job whose PSI stage is still open: every PSI level
    /// completes first, level by level.
    #[error("PSI level {level} of {levels} is still open; training starts when every level completed")]
    PsiIncomplete { level: u32, levels: u32 },
    /// A status update whose epoch (or stage) goes back.
    #[error("epoch {got} goes back from {last}")]
    EpochWentBack { last: u32, got: u32 },
    /// A missing-heartbeat report before the member's heartbeat is `job_heartbeat_timeout` blocks old.
    #[error("{member} sent a heartbeat recently; it can be reported from height {due}")]
    HeartbeatNotExpired { member: types::AccountId, due: types::Height },
    /// A missing-heartbeat report against a member that already posted Completed for the whole training.
    #[error("{member} completed the whole training; it has nothing left to report")]
    MemberCompleted { member: types::AccountId },
    /// A status from a member whose heartbeat is already `job_heartbeat_timeout` blocks old: it is
    /// reportable for silence and may no longer post (not even its own failure).
    #[error("{member} has been silent since height {due} minus the timeout; it can be reported, not post")]
    HeartbeatExpired { member: types::AccountId, due: types::Height },
    /// A failure report or replacement that names the wrong accounts.
    #[error("invalid job report: {0}")]
    InvalidJobReport(String),
    /// A non-compliance report against a member that has posted no result: there is nothing to reject.
    #[error("{member} has posted no result to reject")]
    ResultNotPosted { member: types::AccountId },
    /// A non-compliance report naming a result other than the one the member posted.
    #[error("{member} posted a different result")]
    ResultMismatch { member: types::AccountId },
    /// The call would settle or change a job while a non-compliance report against it is in its dispute
    /// window.
    #[error("job {0} has a report in dispute")]
    JobDisputed(types::JobId),
    /// An appeal by someone other than the accused, of no open report, a second appeal, or one too late
    /// for governance's vote to end before the dispute window closes.
    #[error("invalid appeal: {0}")]
    InvalidAppeal(String),
    /// An unbond (or a deregistration) that would take bonded stake below what the account voted with on a
    /// proposal not yet tallied: the stake that voted stays bonded until the tally (issue 19).
    #[error("{locked} of the bonded stake voted on a proposal tallied at height {until}; it stays bonded until then")]
    VoteLocked { locked: types::Amount, until: types::Height },
    /// An upgrade proposal names a version other than the one after the current (or pending) version.
    #[error("an upgrade goes to version {expected} (the current version + 1), not {got}")]
    UpgradeVersionNotNext { expected: u32, got: u32 },
    /// An upgrade proposal's height leaves less than an epoch between its vote's end and the switch.
    #[error("an upgrade proposed now takes effect at height {earliest} at the earliest, not {got}")]
    UpgradeTooSoon { earliest: types::Height, got: types::Height },
    /// Another upgrade is already scheduled: one at a time.
    #[error("protocol version {version} is already scheduled at height {height}")]
    UpgradePending { version: u32, height: types::Height },
    /// The job's MPC nodes were already replaced `max_mpc_replacements` times.
    #[error("the job's MPC nodes were already replaced {max} times")]
    ReplacementLimit { max: u32 },
    /// A list name, size or avoid-list that is not acceptable.
    #[error("invalid list: {0}")]
    InvalidList(String),
    /// A router attachment or report that names the wrong nodes.
    #[error("invalid router report: {0}")]
    InvalidRouterReport(String),
    /// A report for an epoch other than the current one.
    #[error("the current epoch is {current}, not {got}")]
    WrongEpoch { current: u64, got: u64 },
    /// The signer already reported for this epoch.
    #[error("already reported for epoch {epoch}")]
    AlreadyReported { epoch: u64 },
    /// A node attaches to a router that has not accepted it (`accept_node`).
    #[error("router {router} has not accepted this node")]
    RouterNotAccepted { router: AccountId },
    /// A detach for a node that is not attached to a router.
    #[error("{0} is not attached to a router")]
    NotAttached(AccountId),
    /// A nomination of an account that is not a registered node.
    #[error("{0} is not a registered node")]
    UnknownNode(AccountId),
    /// A nomination below `nomination_min`.
    #[error("a nomination must be at least {min}, not {got}")]
    BelowNominationMin { min: Amount, got: Amount },
    /// The node already has `nominators_per_node_max` nominators.
    #[error("the node already has the maximum of {max} nominators")]
    TooManyNominators { max: u32 },
    /// A commission above `commission_max`.
    #[error("commission {got} is above the maximum {max}")]
    CommissionTooHigh { max: types::Ppb, got: types::Ppb },
    /// An unnomination beyond the signer's active nomination of the node.
    #[error("the active nomination is {active}, less than {requested}")]
    NoNomination { active: Amount, requested: Amount },
    /// A node cannot nominate itself (its own bonded stake already counts).
    #[error("a node cannot nominate itself; bond instead")]
    SelfNomination,
    /// An unbond or deregistration that would take bonded stake below the signer's active nominations.
    #[error("{nominated} of the bonded stake is nominated; unnominate it instead")]
    StakeNominated { nominated: Amount },
    /// Equivocation evidence whose votes are not two conflicting votes the offender signed for this chain.
    #[error("the equivocation evidence proves nothing: {0}")]
    InvalidEvidence(crate::evidence::EvidenceError),
    /// The evidence's offender was not in the validator set elected for that era.
    #[error("{key} was not a validator in era {era}")]
    NotAValidator { key: AccountId, era: u64 },
    /// The offender was already slashed for an equivocation in that era.
    #[error("{key} was already slashed for an equivocation in era {era}")]
    EvidenceAlreadyReported { key: AccountId, era: u64 },
    /// Evidence of an era whose validator set the engine no longer (or not yet) keeps: only the current era
    /// and the one before it can be proven.
    #[error("evidence of era {era} cannot be checked in era {current}: report an equivocation within an era of it")]
    EvidenceEraUnknown { era: u64, current: u64 },
    /// The reporter is the offender (its consensus key or its stake account).
    #[error("a validator cannot report its own equivocation")]
    EvidenceSelfReport,
    /// A ledger rule refused the call (insufficient funds, unknown hold, …); the code is the ledger's.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

impl Rejection {
    /// The stable snake_case code shown to API clients.
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::BadSignature => "bad_signature",
            Rejection::BadNonce { .. } => "bad_nonce",
            Rejection::FeeTooLow { .. } => "fee_too_low",
            Rejection::NotAuthorized => "not_authorized",
            Rejection::TooManyPayouts { .. } => "too_many_payouts",
            Rejection::AlreadyRegistered => "already_registered",
            Rejection::NotRegistered => "not_registered",
            Rejection::InvalidRegistration(_) => "invalid_registration",
            Rejection::InsufficientStake { .. } => "insufficient_stake",
            Rejection::StakeBelowMinimum { .. } => "stake_below_minimum",
            Rejection::UnknownService(_) => "unknown_service",
            Rejection::ZeroWeight => "zero_weight",
            Rejection::InvalidService(_) => "invalid_service",
            Rejection::PriceAboveMax { .. } => "price_above_max",
            Rejection::NoMinerAvailable(_) => "no_miner_available",
            Rejection::UnknownRequest(_) => "unknown_request",
            Rejection::RequestNotOpen(_) => "request_not_open",
            Rejection::RequestNotCompleted(_) => "request_not_completed",
            Rejection::RatingWindowClosed(_) => "rating_window_closed",
            Rejection::NoStake => "no_stake",
            Rejection::UnknownProposal(_) => "unknown_proposal",
            Rejection::ProposalClosed(_) => "proposal_closed",
            Rejection::AlreadyVoted(_) => "already_voted",
            Rejection::InvalidProposal(_) => "invalid_proposal",
            Rejection::InvalidTask(_) => "invalid_task",
            Rejection::UnknownTask(_) => "unknown_task",
            Rejection::WrongTaskState { .. } => "wrong_task_state",
            Rejection::AlreadyActed(_) => "already_acted",
            Rejection::NoPrecommit(_) => "no_precommit",
            Rejection::RevealMismatch(_) => "reveal_mismatch",
            Rejection::NotAnOracle => "not_an_oracle",
            Rejection::PrematureAdvance { .. } => "premature_advance",
            Rejection::UnknownJob(_) => "unknown_job",
            Rejection::JobExists(_) => "job_exists",
            Rejection::InvalidJob(_) => "invalid_job",
            Rejection::WrongJobPhase { .. } => "wrong_job_phase",
            Rejection::WrongAmount { .. } => "wrong_amount",
            Rejection::AlreadyAccepted(_) => "already_accepted",
            Rejection::InvalidJobStatus(_) => "invalid_job_status",
            Rejection::DuplicateCommitment(_) => "duplicate_commitment",
            Rejection::PsiIncomplete { .. } => "psi_incomplete",
            Rejection::EpochWentBack { .. } => "epoch_went_back",
            Rejection::HeartbeatNotExpired { .. } => "heartbeat_not_expired",
            Rejection::MemberCompleted { .. } => "member_completed",
            Rejection::HeartbeatExpired { .. } => "heartbeat_expired",
            Rejection::InvalidJobReport(_) => "invalid_job_report",
            Rejection::ReplacementLimit { .. } => "replacement_limit",
            Rejection::InvalidList(_) => "invalid_list",
            Rejection::InvalidRouterReport(_) => "invalid_router_report",
            Rejection::WrongEpoch { .. } => "wrong_epoch",
            Rejection::AlreadyReported { .. } => "already_reported",
            Rejection::RouterNotAccepted { .. } => "router_not_accepted",
            Rejection::NotAttached(_) => "not_attached",
            Rejection::ResultNotPosted { .. } => "result_not_posted",
            Rejection::ResultMismatch { .. } => "result_mismatch",
            Rejection::JobDisputed(_) => "job_disputed",
            Rejection::InvalidAppeal(_) => "invalid_appeal",
            Rejection::VoteLocked { .. } => "vote_locked",
            Rejection::Ledger(e) => e.code(),
            _ => self.staking_code(),
        }
    }

    /// The codes of the staking economy's refusals (issue 21): nominations, commission, upgrades.
    fn staking_code(&self) -> &'static str {
        match self {
            Rejection::UnknownNode(_) => "unknown_node",
            Rejection::BelowNominationMin { .. } => "below_nomination_min",
            Rejection::TooManyNominators { .. } => "too_many_nominators",
            Rejection::CommissionTooHigh { .. } => "commission_too_high",
            Rejection::NoNomination { .. } => "no_nomination",
            Rejection::SelfNomination => "self_nomination",
            Rejection::StakeNominated { .. } => "stake_nominated",
            Rejection::UpgradeVersionNotNext { .. } => "upgrade_version_not_next",
            Rejection::UpgradeTooSoon { .. } => "upgrade_too_soon",
            Rejection::UpgradePending { .. } => "upgrade_pending",
            Rejection::InvalidEvidence(_) => "invalid_evidence",
            Rejection::NotAValidator { .. } => "not_a_validator",
            Rejection::EvidenceAlreadyReported { .. } => "evidence_already_reported",
            Rejection::EvidenceEraUnknown { .. } => "evidence_era_unknown",
            Rejection::EvidenceSelfReport => "evidence_self_report",
            other => unreachable!("Rejection::code answers {other:?} itself"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use types::{AccountId, HoldId};

    /// One rejection of every kind. The match below does not compile when a variant is added, so the list
    /// (and the pinned codes) cannot silently miss one.
    fn every_kind() -> Vec<Rejection> {
        let ledger = [
            LedgerError::InsufficientFunds {
                account: AccountId::default(),
                needed: Amount::ZERO,
                available: Amount::ZERO,
            },
            LedgerError::InsufficientBonded {
                account: AccountId::default(),
                needed: Amount::ZERO,
                available: Amount::ZERO,
            },
            LedgerError::AmountOverflow,
            LedgerError::ZeroAmount,
            LedgerError::UnknownHold(HoldId(1)),
            LedgerError::HoldOverdrawn { hold: HoldId(1), remaining: Amount::ZERO, requested: Amount::ZERO },
            LedgerError::NoPayouts,
            LedgerError::HoldNotExpired(HoldId(1)),
            LedgerError::ExpiryInPast,
            LedgerError::TooManyUnbondingChunks(AccountId::default()),
        ];
        let mut all = vec![
            Rejection::BadSignature,
            Rejection::BadNonce { expected: Default::default(), got: Default::default() },
            Rejection::FeeTooLow { min: Default::default(), got: Default::default() },
            Rejection::NotAuthorized,
            Rejection::TooManyPayouts { max: Default::default(), got: Default::default() },
            Rejection::AlreadyRegistered,
            Rejection::NotRegistered,
            Rejection::InvalidRegistration(Default::default()),
            Rejection::InsufficientStake { needed: Default::default(), bonded: Default::default() },
            Rejection::StakeBelowMinimum { needed: Default::default(), remaining: Default::default() },
            Rejection::UnknownService(Default::default()),
            Rejection::ZeroWeight,
            Rejection::InvalidService(Default::default()),
            Rejection::PriceAboveMax { price: Default::default(), max_price: Default::default() },
            Rejection::NoMinerAvailable(Default::default()),
            Rejection::UnknownRequest(Default::default()),
            Rejection::RequestNotOpen(Default::default()),
            Rejection::RequestNotCompleted(Default::default()),
            Rejection::RatingWindowClosed(Default::default()),
            Rejection::NoStake,
            Rejection::UnknownProposal(Default::default()),
            Rejection::ProposalClosed(Default::default()),
            Rejection::AlreadyVoted(Default::default()),
            Rejection::InvalidProposal(Default::default()),
            Rejection::InvalidTask(Default::default()),
            Rejection::UnknownTask(Default::default()),
            Rejection::WrongTaskState { task: Default::default(), state: Default::default() },
            Rejection::AlreadyActed(Default::default()),
            Rejection::NoPrecommit(Default::default()),
            Rejection::RevealMismatch(Default::default()),
            Rejection::NotAnOracle,
            Rejection::PrematureAdvance { task: Default::default(), deadline: Default::default() },
            Rejection::UnknownJob(Default::default()),
            Rejection::JobExists(Default::default()),
            Rejection::InvalidJob(Default::default()),
            Rejection::WrongJobPhase { job: Default::default(), phase: Default::default() },
            Rejection::WrongAmount { expected: Default::default(), got: Default::default() },
            Rejection::AlreadyAccepted(Default::default()),
            Rejection::InvalidJobStatus(Default::default()),
            Rejection::DuplicateCommitment(Default::default()),
            Rejection::PsiIncomplete { level: Default::default(), levels: Default::default() },
            Rejection::EpochWentBack { last: Default::default(), got: Default::default() },
            Rejection::HeartbeatNotExpired { member: Default::default(), due: Default::default() },
            Rejection::MemberCompleted { member: Default::default() },
            Rejection::HeartbeatExpired { member: Default::default(), due: Default::default() },
            Rejection::InvalidJobReport(Default::default()),
            Rejection::ReplacementLimit { max: Default::default() },
            Rejection::InvalidList(Default::default()),
            Rejection::InvalidRouterReport(Default::default()),
            Rejection::WrongEpoch { current: Default::default(), got: Default::default() },
            Rejection::AlreadyReported { epoch: Default::default() },
            Rejection::RouterNotAccepted { router: Default::default() },
            Rejection::NotAttached(Default::default()),
            Rejection::ResultNotPosted { member: Default::default() },
            Rejection::ResultMismatch { member: Default::default() },
            Rejection::JobDisputed(Default::default()),
            Rejection::InvalidAppeal(Default::default()),
            Rejection::VoteLocked { locked: Default::default(), until: Default::default() },
            Rejection::UnknownNode(Default::default()),
            Rejection::BelowNominationMin { min: Default::default(), got: Default::default() },
            Rejection::TooManyNominators { max: Default::default() },
            Rejection::CommissionTooHigh { max: Default::default(), got: Default::default() },
            Rejection::NoNomination { active: Default::default(), requested: Default::default() },
            Rejection::SelfNomination,
            Rejection::StakeNominated { nominated: Default::default() },
            Rejection::UpgradeVersionNotNext { expected: Default::default(), got: Default::default() },
            Rejection::UpgradeTooSoon { earliest: Default::default(), got: Default::default() },
            Rejection::UpgradePending { version: Default::default(), height: Default::default() },
            Rejection::InvalidEvidence(crate::evidence::EvidenceError::SameProposal),
            Rejection::NotAValidator { key: Default::default(), era: Default::default() },
            Rejection::EvidenceAlreadyReported { key: Default::default(), era: Default::default() },
            Rejection::EvidenceEraUnknown { era: Default::default(), current: Default::default() },
            Rejection::EvidenceSelfReport,
        ];
        for r in &all {
            match r {
                Rejection::BadSignature
                | Rejection::BadNonce { .. }
                | Rejection::FeeTooLow { .. }
                | Rejection::NotAuthorized
                | Rejection::TooManyPayouts { .. }
                | Rejection::AlreadyRegistered
                | Rejection::NotRegistered
                | Rejection::InvalidRegistration(_)
                | Rejection::InsufficientStake { .. }
                | Rejection::StakeBelowMinimum { .. }
                | Rejection::UnknownService(_)
                | Rejection::ZeroWeight
                | Rejection::InvalidService(_)
                | Rejection::PriceAboveMax { .. }
                | Rejection::NoMinerAvailable(_)
                | Rejection::UnknownRequest(_)
                | Rejection::RequestNotOpen(_)
                | Rejection::RequestNotCompleted(_)
                | Rejection::RatingWindowClosed(_)
                | Rejection::NoStake
                | Rejection::UnknownProposal(_)
                | Rejection::ProposalClosed(_)
                | Rejection::AlreadyVoted(_)
                | Rejection::InvalidProposal(_)
                | Rejection::InvalidTask(_)
                | Rejection::UnknownTask(_)
                | Rejection::WrongTaskState { .. }
                | Rejection::AlreadyActed(_)
                | Rejection::NoPrecommit(_)
                | Rejection::RevealMismatch(_)
                | Rejection::NotAnOracle
                | Rejection::PrematureAdvance { .. }
                | Rejection::UnknownJob(_)
                | Rejection::JobExists(_)
                | Rejection::InvalidJob(_)
                | Rejection::WrongJobPhase { .. }
                | Rejection::WrongAmount { .. }
                | Rejection::AlreadyAccepted(_)
                | Rejection::InvalidJobStatus(_)
                | Rejection::DuplicateCommitment(_)
                | Rejection::PsiIncomplete { .. }
                | Rejection::EpochWentBack { .. }
                | Rejection::HeartbeatNotExpired { .. }
                | Rejection::MemberCompleted { .. }
                | Rejection::HeartbeatExpired { .. }
                | Rejection::InvalidJobReport(_)
                | Rejection::ReplacementLimit { .. }
                | Rejection::InvalidList(_)
                | Rejection::InvalidRouterReport(_)
                | Rejection::WrongEpoch { .. }
                | Rejection::AlreadyReported { .. }
                | Rejection::RouterNotAccepted { .. }
                | Rejection::NotAttached(_)
                | Rejection::ResultNotPosted { .. }
                | Rejection::ResultMismatch { .. }
                | Rejection::JobDisputed(_)
                | Rejection::InvalidAppeal(_)
                | Rejection::VoteLocked { .. }
                | Rejection::UnknownNode(_)
                | Rejection::BelowNominationMin { .. }
                | Rejection::TooManyNominators { .. }
                | Rejection::CommissionTooHigh { .. }
                | Rejection::NoNomination { .. }
                | Rejection::SelfNomination
                | Rejection::StakeNominated { .. }
                | Rejection::UpgradeVersionNotNext { .. }
                | Rejection::UpgradeTooSoon { .. }
                | Rejection::UpgradePending { .. }
                | Rejection::InvalidEvidence(_)
                | Rejection::NotAValidator { .. }
                | Rejection::EvidenceAlreadyReported { .. }
                | Rejection::EvidenceEraUnknown { .. }
                | Rejection::EvidenceSelfReport
                | Rejection::Ledger(_) => {}
            }
        }
        for e in &ledger {
            match e {
                LedgerError::InsufficientFunds { .. }
                | LedgerError::InsufficientBonded { .. }
                | LedgerError::AmountOverflow
                | LedgerError::ZeroAmount
                | LedgerError::UnknownHold(_)
                | LedgerError::HoldOverdrawn { .. }
                | LedgerError::NoPayouts
                | LedgerError::HoldNotExpired(_)
                | LedgerError::ExpiryInPast
                | LedgerError::TooManyUnbondingChunks(_) => {}
            }
        }
        all.extend(ledger.into_iter().map(Rejection::Ledger));
        all
    }

    /// The stable codes, pinned: a code may be added, never renamed, removed or reused.
    #[test]
    fn the_codes_are_pinned_and_unique() {
        let codes: Vec<&str> = every_kind().iter().map(Rejection::code).collect();
        let unique: std::collections::BTreeSet<&str> = codes.iter().copied().collect();
        assert_eq!(unique.len(), codes.len(), "a code is used twice: {codes:?}");
        expect_test::expect![[r#"
            bad_signature
            bad_nonce
            fee_too_low
            not_authorized
            too_many_payouts
            already_registered
            not_registered
            invalid_registration
            insufficient_stake
            stake_below_minimum
            unknown_service
            zero_weight
            invalid_service
            price_above_max
            no_miner_available
            unknown_request
            request_not_open
            request_not_completed
            rating_window_closed
            no_stake
            unknown_proposal
            proposal_closed
            already_voted
            invalid_proposal
            invalid_task
            unknown_task
            wrong_task_state
            already_acted
            no_precommit
            reveal_mismatch
            not_an_oracle
            premature_advance
            unknown_job
            job_exists
            invalid_job
            wrong_job_phase
            wrong_amount
            already_accepted
            invalid_job_status
            duplicate_commitment
            psi_incomplete
            epoch_went_back
            heartbeat_not_expired
            member_completed
            heartbeat_expired
            invalid_job_report
            replacement_limit
            invalid_list
            invalid_router_report
            wrong_epoch
            already_reported
            router_not_accepted
            not_attached
            result_not_posted
            result_mismatch
            job_disputed
            invalid_appeal
            vote_locked
            unknown_node
            below_nomination_min
            too_many_nominators
            commission_too_high
            no_nomination
            self_nomination
            stake_nominated
            upgrade_version_not_next
            upgrade_too_soon
            upgrade_pending
            invalid_evidence
            not_a_validator
            evidence_already_reported
            evidence_era_unknown
            evidence_self_report
            insufficient_funds
            insufficient_bonded
            amount_overflow
            zero_amount
            unknown_hold
            hold_overdrawn
            no_payouts
            hold_not_expired
            expiry_in_past
            too_many_unbonding_chunks"#]]
        .assert_eq(&codes.join("\n"));
    }
}
