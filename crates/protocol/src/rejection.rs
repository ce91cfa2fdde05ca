use types::Amount;
use types::LedgerError;

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
    /// A status update that does not fit the job (Psi on a horizontal job, an epoch beyond the job's, …).
    #[error("invalid job status: {0}")]
    InvalidJobStatus(String),
    /// A status update whose epoch (or stage) goes back.
    #[error("epoch {got} goes back from {last}")]
    EpochWentBack { last: u32, got: u32 },
    /// A missing-heartbeat report before the member's heartbeat is `job_heartbeat_timeout` blocks old.
    #[error("{member} sent a heartbeat recently; it can be reported from height {due}")]
    HeartbeatNotExpired { member: types::AccountId, due: types::Height },
    /// A failure report or replacement that names the wrong accounts.
    #[error("invalid job report: {0}")]
    InvalidJobReport(String),
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
            Rejection::EpochWentBack { .. } => "epoch_went_back",
            Rejection::HeartbeatNotExpired { .. } => "heartbeat_not_expired",
            Rejection::InvalidJobReport(_) => "invalid_job_report",
            Rejection::ReplacementLimit { .. } => "replacement_limit",
            Rejection::InvalidList(_) => "invalid_list",
            Rejection::InvalidRouterReport(_) => "invalid_router_report",
            Rejection::WrongEpoch { .. } => "wrong_epoch",
            Rejection::AlreadyReported { .. } => "already_reported",
            Rejection::Ledger(e) => e.code(),
        }
    }
}
