//! The public contract of a stakework network: what a transaction says (`Call`, `TxBody`, `SignedTx` and
//! the signing message), what a block reports (`Event`, `Rejection` with its stable codes, receipts), the
//! rules' numbers (`Params`, `Genesis`), and the public records the engine keeps (nodes, services,
//! requests, tasks, jobs, routers, points, lists, proposals) with their pure queries.
//!
//! Invariants:
//! - pure: no IO, no clock, no threads, no floating point;
//! - one implementation of each rule's read side: the engine, the agents and the simulator call the same
//!   query (for example [`Task::advanceable_at`]), so an agent cannot drift from the engine;
//! - it knows nothing about the ledger's or the engine's internal state: it depends on `types` only.

pub mod block;
pub mod epoch;
pub mod event;
pub mod evidence;
pub mod genesis;
pub mod governance;
pub mod hold;
pub mod jobs;
pub mod market;
pub mod params;
pub mod points;
pub mod pouw;
pub mod rejection;
pub mod reputation;
pub mod routers;
pub mod tx;
pub mod validators;

pub use block::{Block, BlockError, BlockOutcome, EventRecord, Receipt};
pub use epoch::{CuratedList, ListRef, NETWORK_LISTS_NAME, POINTS_POOL_NAME, ROUTERS_POOL_NAME, UNDERPERFORMERS};
pub use event::{Event, ServiceWork};
pub use evidence::{consensus_namespace, Conflict, Equivocation, EvidenceError, SignedProposal};
pub use genesis::{Genesis, GenesisAccount, GenesisError, GenesisService, GenesisValidator};
pub use governance::{Proposal, ProposalAction, ProposalStatus};
pub use hold::{HoldOwner, HoldReason, HoldTag};
pub use jobs::{
    compute_schema, Job, JobEntry, JobFault, JobKind, JobMember, JobOrder, JobOutcome, JobPhase, JobProgress,
    JobRecord, JobRole, JobStage, JobStatus, RewardSchema, WHOLE,
};
pub use market::{
    ClientRating, MinerStatus, NodeRecord, ReportedStatus, ReputationRecord, Request, RequestStatus, Role, Service,
    MINERS_POOL_NAME, POI_THRESHOLD_DEFAULT,
};
pub use params::Params;
pub use points::{points_failure, EpochPoints, NodePoints, PointsRules};
pub use pouw::{
    output_commitment, transition, Step, Task, TaskOrigin, TaskState, BACKGROUND_POOL_NAME, TASK_REDUNDANCY_MIN,
};
pub use rejection::Rejection;
pub use reputation::{logistic_ppb, mean_ppb, Rating};
pub use routers::{compute_router_reward, latency_factor, NodeTraffic, RouterReport, RouterScore};
pub use tx::{Call, SignedTx, TxBody};
