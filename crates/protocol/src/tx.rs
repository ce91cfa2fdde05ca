//! Transactions: the `Call` a transaction asks for, the signed body, and the signing message with the
//! chain tag.

use crate::epoch::ListRef;
use crate::governance::ProposalAction;
use crate::jobs::{JobFault, JobOrder, JobStatus};
use crate::market::{ReportedStatus, Role};
use crate::reputation::Rating;
use crate::routers::NodeTraffic;
use borsh::{BorshDeserialize, BorshSerialize};
use ed25519_dalek::{Signer, SigningKey};
use serde::{Deserialize, Serialize};
use types::HoldId;
use types::{AccountId, Amount, Hash, Height, JobId, Signature};

/// What a transaction asks the engine to do.
///
/// The borsh encoding tags variants by position: new calls (registry, market, tasks, jobs, routers,
/// governance) are appended at the end so existing signed transactions keep their meaning.
#[derive(
    Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(tag = "call", rename_all = "snake_case", deny_unknown_fields)]
pub enum Call {
    /// Move free balance to another account.
    Transfer { to: AccountId, amount: Amount },
    /// Bond free balance as stake.
    Bond { amount: Amount },
    /// Start unbonding stake; it becomes free after `unbonding_period` blocks.
    Unbond { amount: Amount },
    /// Reserve free balance in a hold (a two-phase payment), optionally expiring at a height.
    HoldCreate { amount: Amount, expires_at: Option<Height> },
    /// Pay out (part of) a hold the signer created.
    HoldPost { hold: HoldId, payouts: Vec<(AccountId, Amount)> },
    /// Return what a hold the signer created still holds.
    HoldVoid { hold: HoldId },
    /// Join the registry with roles, the services served (miners), a capacity and an endpoint URL.
    RegisterNode { roles: Vec<Role>, services: Vec<u32>, capacity: u32, endpoint: String },
    /// Leave the registry; all bonded stake starts unbonding.
    DeregisterNode,
    /// Report Ready or Busy; every report is also a heartbeat.
    ReportStatus { status: ReportedStatus },
    /// Ask for inference from `service`, paying at most `max_price` (the service's price is held); no node
    /// on the `avoid` lists is assigned.
    SubmitRequest {
        service: u32,
        max_price: Amount,
        #[serde(default)]
        avoid: Vec<ListRef>,
    },
    /// The assigned miner marks a request done, with the hash of its result.
    CompleteRequest { request: u64, result_hash: Hash },
    /// The client rates a completed request.
    RateRequest { request: u64, rating: Rating },
    /// Propose a governance change (bonded accounts only).
    Propose { action: ProposalAction },
    /// Vote on an open proposal with one's bonded stake.
    Vote { proposal: u64, approve: bool },
    /// Order a Proof-of-Useful-Work task from `service` run by `redundancy` miners; price × k is held.
    SubmitTask {
        service: u32,
        redundancy: u32,
        max_price: Amount,
        #[serde(default)]
        avoid: Vec<ListRef>,
    },
    /// The task's creator publishes its spec (e.g. the prompt).
    PublishTaskSpec { task: u64, spec: String },
    /// The task's preparer publishes the inputs the miners run.
    PrepareTask { task: u64, inputs: String },
    /// A selected miner binds itself to `blake3(output ‖ salt)`.
    PrecommitOutput { task: u64, commitment: Hash },
    /// A selected miner reveals the output and salt it precommitted.
    RevealOutput { task: u64, output: String, salt: Hash },
    /// An oracle moves a task on (valid once everyone acted or the state's deadline passed).
    AdvanceTask { task: u64 },
    /// An oracle's semantic similarity scores (ppb) for a committed task's miners.
    AttestPoi { task: u64, scores: Vec<(AccountId, i64)> },
    /// A coordinator (GDS) orders a federated training job.
    OrderJob { order: JobOrder },
    /// The job's query client stakes exactly what is due (the quote, or the rest of the final price).
    SubmitJobQuery { job: JobId, amount: Amount },
    /// The job's GDS selects (or, before dispatch, changes) its MPC nodes; their number is fixed once chosen.
    SelectMpcs { job: JobId, mpcs: Vec<AccountId> },
    /// A DO or MPC of the job (or a nominated replacement MPC) holds its deposit.
    AcceptJob { job: JobId, deposit: Amount },
    /// A DO or MPC of a dispatched job posts its status; `Failed` reports its own failure.
    PostJobStatus { job: JobId, status: JobStatus },
    /// The job's GDS reports offenders (missing heartbeat or non-compliant results).
    ReportJobFailure { job: JobId, offenders: Vec<AccountId>, fault: JobFault },
    /// The job's query client cancels it.
    CancelJob { job: JobId },
    /// The job's GDS nominates `replacement` for MPC `mpc`; it takes over when it deposits.
    ReplaceMpc { job: JobId, mpc: AccountId, replacement: AccountId },
    /// A registered node attaches to a router that accepted it (replacing any earlier attachment).
    AttachRouter { router: AccountId },
    /// A router's report for the current epoch: per attached node, traffic, latency and online fraction.
    ReportRouterEpoch { epoch: u64, validator_latency_ms: u32, nodes: Vec<NodeTraffic> },
    /// A node's own count of the bytes it exchanged through its router this epoch.
    ReportNodeTraffic { epoch: u64, router: AccountId, bytes: u64 },
    /// A staked account publishes (or replaces) its own list of nodes for clients to avoid.
    PublishList { name: String, nodes: Vec<AccountId> },
    /// A router accepts `node` (its initial checks passed): the node may then attach to it, once.
    AcceptNode { node: AccountId },
    /// A node leaves its router, or a router drops `node`.
    DetachRouter { node: AccountId },
    /// A DO or MPC of a dispatched job posts (or replaces) the hash of its result, the evidence a
    /// non-compliance report must name.
    PostJobResult { job: JobId, result: Hash },
    /// The job's GDS rejects `member`'s posted `result` as non-compliant: a dispute window opens.
    ReportNonCompliance { job: JobId, member: AccountId, result: Hash },
    /// The accused member appeals the open non-compliance report to governance.
    AppealJobReport { job: JobId },
    /// Bond `amount` of free balance as a nomination of the registered node `node` (issue 21).
    Nominate { node: AccountId, amount: Amount },
    /// Start unbonding `amount` of the signer's nomination of `node` (slashing can still reach it).
    Unnominate { node: AccountId, amount: Amount },
    /// A registered node sets its commission; it takes effect at the first epoch boundary at least
    /// `commission_delay` blocks later.
    SetCommission { commission: types::Ppb },
    /// Prove that a validator's consensus key signed two conflicting votes in one round: the offender's
    /// stake and its nominators' are slashed, the signer earns a share (issue 21, `engine::equivocation`).
    ReportEquivocation { evidence: crate::evidence::Equivocation },
}

impl Call {
    /// How much free balance the call itself spends, on top of the fee.
    pub fn free_needed(&self) -> Amount {
        match self {
            Call::Transfer { amount, .. } | Call::Bond { amount } | Call::HoldCreate { amount, .. } => *amount,
            Call::Nominate { amount, .. } => *amount,
            Call::SubmitRequest { max_price, .. } | Call::SubmitTask { max_price, .. } => *max_price,
            Call::SubmitJobQuery { amount, .. } | Call::AcceptJob { deposit: amount, .. } => *amount,
            _ => Amount::ZERO,
        }
    }
}

/// The signed part of a transaction.
#[derive(
    Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(deny_unknown_fields)]
pub struct TxBody {
    pub signer: AccountId,
    pub nonce: u64,
    pub fee: Amount,
    pub call: Call,
}

/// A transaction: body plus the signer's ed25519 signature over the chain's signing message.
#[derive(
    Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(deny_unknown_fields)]
pub struct SignedTx {
    pub body: TxBody,
    pub signature: Signature,
}

const TX_DOMAIN: &[u8] = b"stakework/tx/v1";

/// The chain tag mixed into every signed message: blake3 of the chain id.
pub fn chain_tag(chain_id: &str) -> Hash {
    types::hash_bytes(chain_id.as_bytes())
}

impl TxBody {
    /// The exact bytes that are signed: domain ‖ chain tag ‖ borsh(body).
    pub fn signing_message(&self, chain: &Hash) -> Vec<u8> {
        let mut m = Vec::with_capacity(160);
        m.extend_from_slice(TX_DOMAIN);
        m.extend_from_slice(&chain.0);
        borsh::to_writer(&mut m, self).expect("writing to a Vec cannot fail");
        m
    }

    /// Sign this body with `key` for the chain `chain_id`.
    pub fn sign(self, key: &SigningKey, chain_id: &str) -> SignedTx {
        let sig = key.sign(&self.signing_message(&chain_tag(chain_id)));
        SignedTx { body: self, signature: Signature(sig.to_bytes()) }
    }
}

impl SignedTx {
    /// The transaction's id: blake3 of its canonical encoding.
    pub fn hash(&self) -> Hash {
        let mut h = blake3::Hasher::new();
        borsh::to_writer(&mut h, self).expect("hashing cannot fail");
        Hash(*h.finalize().as_bytes())
    }
}
