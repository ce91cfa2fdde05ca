//! Proof of Useful Work's public records (seed 001, DESIGN §5): tasks, their states and the one table of
//! legal moves, and the pure queries agents, the simulator and the engine share.

use crate::Params;
use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use types::{AccountId, Amount, Hash, Height, HoldId};

/// Name of the system account background tasks are paid from.
pub const BACKGROUND_POOL_NAME: &str = "background-pool";

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
pub enum TaskState {
    Requested,
    Created,
    Prepared,
    Started,
    Precommitted,
    Committed,
    Ended,
    Failed,
}

/// What moves a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    SpecPublished,
    InputsPrepared,
    MinersSelected,
    AllPrecommitted,
    RevealsClosed,
    Evaluated,
    Abandoned,
}

/// Every legal move of a task. `None`: the move is illegal from that state.
pub fn transition(from: TaskState, step: Step) -> Option<TaskState> {
    use Step::*;
    use TaskState::*;
    match (from, step) {
        (Requested, SpecPublished) => Some(Created),
        (Created, InputsPrepared) => Some(Prepared),
        (Prepared, MinersSelected) => Some(Started),
        (Started, AllPrecommitted) => Some(Precommitted),
        (Precommitted, RevealsClosed) => Some(Committed),
        (Committed, Evaluated) => Some(Ended),
        (Requested | Created | Prepared | Started | Precommitted | Committed, Abandoned) => Some(Failed),
        _ => None,
    }
}

#[derive(
    Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum TaskOrigin {
    /// Paid by `client`: `price` (the service price × k) held in `hold` (none when free).
    User { client: AccountId, hold: Option<HoldId>, price: Amount },
    /// Created by the network while miners were idle; paid from the background pool.
    Background,
}

#[derive(
    Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct Task {
    pub id: u64,
    pub origin: TaskOrigin,
    pub service: u32,
    pub redundancy: u32,
    pub state: TaskState,
    /// Counts transitions and reassignments, so a scheduled automatic advance of an earlier stage is ignored.
    pub stage: u32,
    pub deadline: Height,
    pub reassignments: u32,
    pub creator: AccountId,
    pub preparer: Option<AccountId>,
    pub spec: Option<String>,
    pub inputs: Option<String>,
    pub miners: Vec<AccountId>,
    pub precommits: BTreeMap<AccountId, Hash>,
    pub outputs: BTreeMap<AccountId, String>,
    /// Everyone who was replaced after missing a deadline: never selected again for this task.
    pub replaced: BTreeSet<AccountId>,
    pub created_at: Height,
    /// Oracles' semantic scores per miner (ppb), with the oracle's bonded stake when it attested.
    pub attestations: BTreeMap<AccountId, (Amount, Vec<(AccountId, i64)>)>,
    /// Nodes on the lists the client named to avoid (resolved at submission), or for a background task the
    /// miners busy when it was created; never selected.
    pub avoided: BTreeSet<AccountId>,
    /// Oracle fees paid so far out of the task's own fee (a user task's `protocol_fee` of its price).
    pub oracle_paid: Amount,
    /// Whether oracles' semantic attestations decide this task's Proof of Inference: its service's
    /// `semantic_poi` when it was submitted (a later change of the service does not reach it).
    pub semantic_poi: bool,
}

impl Task {
    /// The task's own fee, which its oracle fees come out of: `protocol_fee` of a held user task's price;
    /// nothing for a free or background task.
    pub fn fee(&self, params: &crate::Params) -> Amount {
        match self.origin {
            TaskOrigin::User { hold: Some(_), price, .. } => params.protocol_fee.mul_floor(price),
            _ => Amount::ZERO,
        }
    }

    /// What the next valid oracle advance is paid: `oracle_fee`, up to what is left of the task's fee.
    pub fn next_oracle_fee(&self, params: &crate::Params) -> Amount {
        Amount(params.oracle_fee.0.min(self.fee(params).0.saturating_sub(self.oracle_paid.0)))
    }
}

impl Task {
    pub fn participants(&self) -> BTreeSet<AccountId> {
        let mut s: BTreeSet<AccountId> = self.miners.iter().copied().collect();
        s.insert(self.creator);
        s.extend(self.preparer);
        s.extend(self.replaced.iter().copied());
        s
    }

    /// Whether everyone the current state waits for has acted, from the task's own record alone (at
    /// Committed that is always true: see [`Task::ready`] for the semantic-PoI quorum).
    pub fn all_acted(&self) -> bool {
        match self.state {
            TaskState::Requested => self.spec.is_some(),
            TaskState::Created => self.inputs.is_some(),
            TaskState::Prepared | TaskState::Committed => true,
            TaskState::Started => self.miners.iter().all(|m| self.precommits.contains_key(m)),
            TaskState::Precommitted => self.miners.iter().all(|m| self.outputs.contains_key(m)),
            TaskState::Ended | TaskState::Failed => false,
        }
    }

    /// Whether oracles holding at least `poi_attestation_quorum` of `oracle_stake` (the bonded stake of
    /// every registered oracle) have attested semantic scores.
    pub fn attestation_quorum_reached(&self, params: &Params, oracle_stake: Amount) -> bool {
        let attested: u128 = self.attestations.values().map(|(s, _)| s.0).sum();
        !oracle_stake.is_zero() && attested >= params.poi_attestation_quorum.mul_ceil(oracle_stake).0
    }

    /// Whether everyone the current state waits for has acted. At Committed of a semantic-PoI task, that is
    /// a quorum of oracle stake having attested; `oracle_stake` is read only then.
    pub fn ready(&self, params: &Params, oracle_stake: Amount) -> bool {
        if self.state == TaskState::Committed && self.semantic_poi {
            return self.attestation_quorum_reached(params, oracle_stake);
        }
        self.all_acted()
    }

    /// Whether an oracle's `AdvanceTask` in the block at `height` is accepted: the task is open, and
    /// everyone it waits for has acted or its deadline has passed (`height > deadline`). The engine
    /// refuses an advance exactly when this is false; agents and the simulator ask the same question.
    pub fn advanceable_at(&self, height: Height, params: &Params, oracle_stake: Amount) -> bool {
        !matches!(self.state, TaskState::Ended | TaskState::Failed)
            && (self.ready(params, oracle_stake) || height > self.deadline)
    }
}

/// The least redundancy k of a task (user or background): with two miners, two colluders agree with each
/// other and nobody can tell them from an honest pair; with three, an honest majority outvotes one.
pub const TASK_REDUNDANCY_MIN: u32 = 3;

/// `blake3("stakework/precommit/v1" ‖ task ‖ miner ‖ salt ‖ output)`: what `miner` precommits for `task`
/// (task id little-endian; issue 19). Bound to the task and the miner, so a copy of another miner's
/// commitment can never be revealed by the copier, and the fixed-size fields come first so the
/// variable-length output cannot shift them.
pub fn output_commitment(task: u64, miner: &AccountId, output: &str, salt: &Hash) -> Hash {
    let mut h = blake3::Hasher::new();
    h.update(b"stakework/precommit/v1");
    h.update(&task.to_le_bytes());
    h.update(&miner.0);
    h.update(&salt.0);
    h.update(output.as_bytes());
    Hash(*h.finalize().as_bytes())
}
