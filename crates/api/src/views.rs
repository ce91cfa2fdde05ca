//! One type per resource the node shows, serialized by the node and read by every client.

use protocol::{EventRecord, MinerStatus, Params, Rating, RouterReport, RouterScore, SignedTx};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use types::{AccountId, Amount, Hash, Height, HoldId, Ppb};

/// Every error body: a stable code and a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiError {
    pub code: String,
    pub message: String,
}

/// What became of one submitted transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SubmitStatus {
    /// New in the mempool.
    Accepted,
    /// Already waiting in the mempool.
    Duplicate,
    /// Refused at the door (never in a block); `code` says why.
    Refused,
    /// In a durable block (with `?wait=commit`, or committed earlier); the receipt says whether it applied.
    Committed,
    /// With `?wait=commit`: not in a block before the wait ended; ask again.
    Pending,
}

impl std::fmt::Display for SubmitStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SubmitStatus::Accepted => "accepted",
            SubmitStatus::Duplicate => "duplicate",
            SubmitStatus::Refused => "refused",
            SubmitStatus::Committed => "committed",
            SubmitStatus::Pending => "pending",
        })
    }
}

/// The answer for one submitted transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SubmitResult {
    pub hash: Hash,
    pub status: SubmitStatus,
    /// Why it was refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Its receipt, once committed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt: Option<TxReceipt>,
}

impl SubmitResult {
    /// Why the submission failed, if it did: refused at the door, or committed with a rejection code.
    pub fn refusal(&self) -> Option<String> {
        match (self.status, &self.receipt) {
            (SubmitStatus::Refused, _) => Some(format!(
                "the node refused the transaction: [{}] {}",
                self.code.as_deref().unwrap_or("?"),
                self.message.as_deref().unwrap_or("")
            )),
            (SubmitStatus::Committed, Some(r)) if !r.ok() => {
                Some(format!("the transaction was rejected in its block: {}", r.code.as_deref().unwrap_or("?")))
            }
            _ => None,
        }
    }
}

/// The answer for a batch: one result per transaction, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SubmitBatch {
    pub results: Vec<SubmitResult>,
}

/// Where a transaction is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TxStatus {
    Committed,
    Pending,
}

impl std::fmt::Display for TxStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TxStatus::Committed => "committed",
            TxStatus::Pending => "pending",
        })
    }
}

/// A transaction's status: `committed` (with its receipt) or `pending` (in the mempool).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TxReceipt {
    pub hash: Hash,
    pub status: TxStatus,
    pub height: Option<u64>,
    pub index: Option<u32>,
    /// `ok`, or the stable code of the rejection (then the transaction changed nothing).
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default)]
    pub events: Vec<EventRecord>,
}

impl TxReceipt {
    /// Committed and applied.
    pub fn ok(&self) -> bool {
        self.status == TxStatus::Committed && self.code.as_deref() == Some("ok")
    }
}

/// One transaction of a durable block and its receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CommittedTx {
    pub hash: Hash,
    pub index: u32,
    /// `ok` or the rejection code.
    pub code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// What the node stores and announces for each durable block (the data of an event-stream `block` event).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct StoredOutcome {
    pub height: u64,
    pub block_hash: Hash,
    pub state_root: Hash,
    pub txs: Vec<CommittedTx>,
    pub events: Vec<EventRecord>,
}

impl StoredOutcome {
    pub fn new(out: &protocol::BlockOutcome, hashes: &[Hash]) -> StoredOutcome {
        let txs = out
            .receipts
            .iter()
            .zip(hashes)
            .enumerate()
            .map(|(i, (r, h))| CommittedTx {
                hash: *h,
                index: u32::try_from(i).expect("a block holds fewer than 2^32 transactions"),
                code: r.code().to_string(),
                message: r.result.as_ref().err().map(|e| e.to_string()),
            })
            .collect();
        StoredOutcome {
            height: out.height.0,
            block_hash: out.block_hash,
            state_root: out.state_root,
            txs,
            events: out.events.clone(),
        }
    }

    /// The receipt of transaction `index`, with its events.
    pub fn receipt(&self, index: u32) -> Option<TxReceipt> {
        let tx = self.txs.get(index as usize)?;
        Some(TxReceipt {
            hash: tx.hash,
            status: TxStatus::Committed,
            height: Some(self.height),
            index: Some(tx.index),
            code: Some(tx.code.clone()),
            message: tx.message.clone(),
            events: self.events.iter().filter(|e| e.tx == Some(index)).cloned().collect(),
        })
    }
}

/// Stake on its way from bonded to free.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct UnbondingView {
    pub amount: Amount,
    pub unbonded_at: Height,
    pub matures_at: Height,
}

/// An open hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct HoldView {
    pub id: HoldId,
    pub payer: AccountId,
    pub owner: protocol::HoldOwner,
    pub reason: protocol::HoldReason,
    /// What is still held.
    pub amount: Amount,
    pub created_at: Height,
    pub expires_at: Option<Height>,
}

/// An account's balances, nonce, unbonding chunks and the open holds it pays.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AccountView {
    pub id: AccountId,
    pub free: Amount,
    pub held: Amount,
    pub bonded: Amount,
    pub unbonding: Amount,
    /// The next nonce this account may sign with.
    pub nonce: u64,
    /// Oldest first; each becomes free at `matures_at`.
    pub unbonding_chunks: Vec<UnbondingView>,
    pub holds: Vec<HoldView>,
    /// What it nominated, by node (part of `bonded` while active, of `unbonding` after).
    #[serde(default)]
    pub nominated: Vec<NominatedView>,
    /// The height these figures are at.
    pub height: u64,
}

/// A durable block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct BlockView {
    pub height: u64,
    pub hash: Hash,
    pub parent_hash: Hash,
    pub state_root: Hash,
    /// The consensus key of the validator that built the block (hashed with it; the block's proposer reward
    /// goes to its stash), `null` for a single node's blocks. An era's last block, which later views of its
    /// epoch re-propose, may be certified in a view another validator leads: `finality.proposer` names that
    /// view's leader, this the block's builder.
    #[serde(default)]
    pub proposer: Option<AccountId>,
    pub txs: Vec<BlockTxView>,
    pub events: Vec<EventRecord>,
    /// How the block was finalized: by a single node, or by the validators' certificate.
    pub finality: FinalityView,
}

/// How a block was finalized (`kind`). A validator stores this with the block, in the same write; it is
/// not part of any state root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FinalityView {
    /// Sealed by the node alone (a genesis without validators): there is no certificate.
    SingleNode,
    /// The block's own simplex finalization certificate.
    Certificate(CertificateView),
    /// Finalized as an ancestor of the block at `certified_height`, whose certificate this node holds; the
    /// block's own certificate never reached it (its view was only notarized, or the node caught up
    /// from peers). `null` if no certified height was known.
    Ancestor { certified_height: Option<u64> },
    /// A validator's block stored before finality evidence was kept.
    Unrecorded,
}

/// A simplex finalization certificate (ed25519) of a block, as the validators signed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CertificateView {
    /// The leader of `view`, which proposed the block: a validator's public key.
    pub proposer: AccountId,
    /// The consensus view the block was proposed and finalized in.
    pub view: u64,
    /// The view of the parent block's proposal.
    pub parent_view: u64,
    /// The validators whose finalize votes the certificate holds.
    pub signers: Vec<AccountId>,
    pub signer_count: u32,
    /// Votes a certificate needs: n − f of the `validators`.
    pub quorum: u32,
    /// The size of the genesis validator set.
    pub validators: u32,
    /// commonware's canonical encoding of the finalization (proposal, signer bitmap, signatures), hex: check
    /// it against the genesis validator set and the chain's consensus namespace.
    pub certificate: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct BlockTxView {
    pub hash: Hash,
    pub code: String,
    pub tx: SignedTx,
}

/// The parameters in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ParamsView {
    pub params: Params,
    pub height: Height,
    pub treasury: AccountId,
    /// The bonded stake of every registered oracle: what the semantic-PoI attestation quorum is a share of
    /// (`Task::advanceable_at` takes it).
    pub oracle_stake: Amount,
    /// The protocol upgrade governance passed, waiting for its height: from block `height` on the chain
    /// runs `version`'s rules (`params.protocol_version` is the version in force).
    #[serde(default)]
    pub scheduled_upgrade: Option<protocol::governance::ScheduledUpgrade>,
    /// The newest protocol version this node executes (its binary's, or `--max-protocol-version`).
    #[serde(default)]
    pub max_protocol_version: u32,
}

/// A registered node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct NodeView {
    pub account: AccountId,
    pub roles: BTreeSet<protocol::Role>,
    pub services: BTreeSet<u32>,
    pub capacity: u32,
    pub endpoint: String,
    /// A miner's status now (`None` for a node without the miner role).
    pub status: Option<MinerStatus>,
    pub last_heartbeat: Height,
    pub registered_at: Height,
    pub bonded: Amount,
    pub reputation: Ppb,
    /// Its own stake: `bonded` less what it nominated to other nodes.
    #[serde(default)]
    pub own_stake: Amount,
    /// Σ the active nominations of it.
    #[serde(default)]
    pub nominated_total: Amount,
    /// Its weight in miner draws now: (own + nominated stake) × reputation, floored; 0 unless it is a miner
    /// reporting Ready.
    #[serde(default)]
    pub selection_weight: Amount,
    /// Who nominated it, in nominator order: active stake and stake still unbonding (slashable for an
    /// offence before it was unnominated).
    #[serde(default)]
    pub nominations: Vec<NominationView>,
    #[serde(default)]
    pub commission: CommissionView,
}

/// One nominator's stake on a node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct NominationView {
    pub nominator: AccountId,
    /// Bonded now: counted in the node's weight and shares of its rewards.
    pub active: Amount,
    /// Unnominated stake on its way to free, oldest first.
    pub unbonding: Vec<UnbondingView>,
}

/// One node an account nominated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct NominatedView {
    pub node: AccountId,
    pub active: Amount,
    /// Unnominated stake on its way to free, oldest first.
    pub unbonding: Vec<UnbondingView>,
}

/// A node's commission: in force now, and a change waiting for its epoch boundary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CommissionView {
    pub current: Ppb,
    #[serde(default)]
    pub pending: Option<PendingCommission>,
}

/// A commission change and the height it applies from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PendingCommission {
    pub commission: Ppb,
    pub effective_at: Height,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct NodesView {
    pub height: Height,
    pub nodes: Vec<NodeView>,
}

/// A miner's reputation and the ratings behind it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ReputationView {
    pub account: AccountId,
    pub reputation: Ppb,
    /// The latest rating per client (`None` when nobody rated it yet).
    pub client_ratings: Option<BTreeMap<AccountId, Rating>>,
    pub network_good: u64,
    pub network_bad: u64,
}

/// A training job: the engine's record plus what its escrow holds now and what the query client still has
/// to stake.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct JobView {
    #[serde(flatten)]
    pub job: protocol::Job,
    /// StakeIn plus deposits still held; zero once the job settled.
    pub escrow: Amount,
    /// What `job query` must stake now (zero once dispatched).
    pub due: Amount,
    pub height: u64,
}

/// The balances of the system pools.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PoolsView {
    pub miners: Amount,
    pub points: Amount,
    pub routers: Amount,
    pub background: Amount,
    pub treasury: Amount,
}

/// The epoch in progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct EpochView {
    pub height: u64,
    pub epoch: u64,
    pub epoch_length: u64,
    pub first_height: u64,
    pub last_height: u64,
    pub emission_per_epoch: Amount,
    pub pools: PoolsView,
    pub minted: Amount,
}

/// One node's points in an epoch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PointsRow {
    pub node: AccountId,
    #[serde(with = "protocol::points::u128_text")]
    #[schemars(with = "protocol::points::U128Text")]
    pub earned: u128,
    #[serde(with = "protocol::points::u128_text")]
    #[schemars(with = "protocol::points::U128Text")]
    pub deducted: u128,
    /// `max(0, earned − deducted)`.
    #[serde(with = "protocol::points::u128_text")]
    #[schemars(with = "protocol::points::U128Text")]
    pub net: u128,
    pub rounds: u64,
    pub failures: u64,
    pub blocks: u64,
    pub failure_rate_ppb: u32,
}

impl PointsRow {
    pub fn rows(points: &protocol::EpochPoints) -> Vec<PointsRow> {
        let row = |(node, p): (&AccountId, &protocol::NodePoints)| PointsRow {
            node: *node,
            earned: p.earned,
            deducted: p.deducted,
            net: p.net(),
            rounds: p.rounds,
            failures: p.failures,
            blocks: p.blocks,
            failure_rate_ppb: p.failure_rate().raw(),
        };
        points.nodes.iter().map(row).collect()
    }
}

/// Epoch points: the epoch in progress and the last finished one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PointsView {
    pub epoch: u64,
    pub current: Vec<PointsRow>,
    pub last_epoch: u64,
    pub last: Vec<PointsRow>,
}

/// A curated list of nodes to avoid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ListView {
    /// `None`: the network's own list.
    pub owner: Option<AccountId>,
    pub name: String,
    pub nodes: BTreeSet<AccountId>,
    pub published_at: Height,
}

/// A router with its attached nodes, this epoch's report and its score so far.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RouterView {
    pub router: AccountId,
    pub collateral: Amount,
    pub attached: Vec<AccountId>,
    pub report: Option<RouterReport>,
    pub score: Option<RouterScore>,
    pub connectivity_ppb: Option<u32>,
}

/// One validator of an era's elected set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ElectedView {
    /// Its consensus (and p2p) ed25519 key.
    pub key: AccountId,
    /// The stash account whose stake counts.
    pub account: AccountId,
    /// Its weight at the election: the stash's own bonded stake plus the active nominations to it.
    pub weight: Amount,
}

/// A validator candidate (a genesis `[[validators]]` entry).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CandidateView {
    pub key: AccountId,
    pub account: AccountId,
    pub p2p: String,
    /// Skipped at elections after an equivocation.
    pub chilled: bool,
    /// Its weight now (what the next election would read): own bonded stake plus active nominations.
    pub weight: Amount,
}

/// The validator set: the era in progress, its elected set, the next era's if already elected, and every
/// candidate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ValidatorsView {
    pub height: u64,
    /// The era of the block at `height`.
    pub era: u64,
    pub era_blocks: u64,
    pub validators_max: u32,
    /// The set of `era`, sorted by key.
    pub current: Vec<ElectedView>,
    /// The set of `era + 1`, once elected (at the end of the era's last block).
    pub next: Option<Vec<ElectedView>>,
    pub candidates: Vec<CandidateView>,
}

/// The conservation audit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SupplyView {
    pub height: Height,
    pub genesis: Amount,
    pub minted: Amount,
    pub burned: Amount,
    pub total_supply: Amount,
    /// The sum of every account's balances (`None` if it overflowed, which breaks conservation).
    pub accounts_total: Option<Amount>,
    pub conserved: bool,
    pub violation: Option<String>,
}

/// The events of one durable block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct BlockEvents {
    pub height: u64,
    pub events: Vec<EventRecord>,
}

/// A page of events: read on from `next`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct EventsPage {
    pub next: u64,
    pub blocks: Vec<BlockEvents>,
}

/// Liveness and the head of the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Health {
    /// Always `ok` when the node answers.
    pub status: String,
    pub height: Height,
    pub state_root: Hash,
    pub last_block_hash: Hash,
    /// Transactions waiting in the mempool.
    pub mempool: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(status: SubmitStatus, code: Option<&str>) -> SubmitResult {
        let receipt = code.map(|c| TxReceipt {
            hash: Hash([0; 32]),
            status: TxStatus::Committed,
            height: Some(3),
            index: Some(0),
            code: Some(c.to_string()),
            message: None,
            events: Vec::new(),
        });
        SubmitResult { hash: Hash([0; 32]), status, code: None, message: None, receipt }
    }

    #[test]
    fn a_submission_failed_when_refused_or_rejected_in_its_block() {
        let mut refused = result(SubmitStatus::Refused, None);
        refused.code = Some("bad_nonce".into());
        refused.message = Some("nonce 3, expected 2".into());
        let why = refused.refusal().expect("refused");
        assert_eq!(why, "the node refused the transaction: [bad_nonce] nonce 3, expected 2");
        let rejected = result(SubmitStatus::Committed, Some("insufficient_funds"));
        assert_eq!(
            rejected.refusal().expect("rejected"),
            "the transaction was rejected in its block: insufficient_funds"
        );
        assert_eq!(result(SubmitStatus::Committed, Some("ok")).refusal(), None);
        assert_eq!(result(SubmitStatus::Accepted, None).refusal(), None);
    }
}
