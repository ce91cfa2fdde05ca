//! The protocol state machine: `Engine::apply_block(block)` turns signed transactions into ledger
//! changes, receipts, events and a new state root.
//!
//! Invariants:
//! - pure and deterministic: no IO, no clock, no threads, no floating point; time is block height, and
//!   the same blocks always give the same state roots;
//! - a rejected transaction changes nothing (no fee, no nonce, no write) and gets a stable code;
//! - the state root costs O(changes) per block: it chains the previous root with the block's sorted
//!   write set;
//! - deadlines (unbond maturity, hold expiry) are processed by the end-of-block step in
//!   (height, id) order; the epoch hook runs every `epoch_length` blocks;
//! - the node, replay/recovery and the simulator all run this engine: there is no second copy of a rule.

mod draw;
mod engine;
mod epoch;
mod equivocation;
mod governance;
mod jobs;
mod market;
mod nominate;
mod points;
mod pouw;
mod routers;
mod sig;
#[cfg(feature = "test-utils")]
pub mod testkit;
mod validators;

/// The engine's ledger: holds tagged with their owner and reason ([`protocol::HoldTag`]).
pub type Ledger = ledger::Ledger<protocol::HoldTag>;
/// A hold of the engine's ledger.
pub type Hold = ledger::Hold<protocol::HoldTag>;
/// A snapshot of the engine's ledger.
pub type LedgerSnapshot = ledger::LedgerSnapshot<protocol::HoldTag>;

/// The public contract the engine implements; `engine::protocol::X` and `engine::X` name the same item.
pub use protocol;

pub use engine::{Deadline, Engine, ForkError, SnapshotError, PROTOCOL_VERSION_MAX, TREASURY_NAME};
pub use epoch::{CuratedList, ListRef, NETWORK_LISTS_NAME, POINTS_POOL_NAME, ROUTERS_POOL_NAME, UNDERPERFORMERS};
pub use equivocation::EQUIVOCATION_REPORTER_SHARE;
pub use governance::{Proposal, ProposalAction, ProposalStatus, ScheduledUpgrade, VoteLock};
pub use jobs::{
    compute_schema, Job, JobFault, JobKind, JobMember, JobOrder, JobOutcome, JobPhase, JobProgress, JobRecord, JobRole,
    JobStage, JobStatus, RewardSchema, WHOLE,
};
pub use market::{
    compute_miner_rewards, ClientRating, MinerReward, MinerStatus, NodeRecord, ReportedStatus, ReputationRecord,
    Request, RequestStatus, Role, Service, MINERS_POOL_NAME, POI_THRESHOLD_DEFAULT,
};
pub use nominate::{Commission, Nomination, NominationChunk};
pub use points::{compute_points_payout, points_failure, EpochPoints, NodePoints, PointsRules, TeamMultiplier};
pub use pouw::{
    output_commitment, transition, Step, Task, TaskOrigin, TaskState, BACKGROUND_POOL_NAME, TASK_REDUNDANCY_MIN,
};
pub use protocol::block::{Block, BlockError, BlockOutcome, EventRecord, Receipt};
pub use protocol::event::Event;
pub use protocol::genesis::{Genesis, GenesisAccount, GenesisError, GenesisService};
pub use protocol::params::Params;
pub use protocol::rejection::Rejection;
pub use protocol::reputation::{logistic_ppb, mean_ppb, Rating};
pub use protocol::tx::{Call, SignedTx, TxBody};
pub use routers::{compute_router_reward, latency_factor, NodeTraffic, RouterReport, RouterScore};
pub use sig::{verify_one, verify_signatures, verify_signatures_except, SignatureCheck};
pub use validators::VALIDATORS_POOL_NAME;
