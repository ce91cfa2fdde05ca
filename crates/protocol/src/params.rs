//! Every protocol parameter with its default and its validation rule; governance may change all but the
//! fixed ones.

use serde::{Deserialize, Serialize};
use types::{Amount, Ppb};

/// The newest protocol version this build implements (see docs/PROTOCOL.md "Protocol versions"):
/// 1, the original rules; 2, transaction fees are burned instead of credited to the treasury.
pub const PROTOCOL_VERSION_MAX: u32 = 2;

/// Parameters governance may not change: they define which chain and which rules this is.
const FIXED_PARAMS: &[&str] = &["chain_id", "protocol_version", "era_blocks"];

/// Every protocol parameter. Loaded from the genesis TOML `[params]` table; unknown keys are errors.
/// Later protocol modules add their parameters here, each with a default and a validation rule.
#[derive(
    Debug,
    Clone,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    borsh::BorshSerialize,
    borsh::BorshDeserialize,
    schemars::JsonSchema,
)]
#[serde(default, deny_unknown_fields)]
pub struct Params {
    /// Name of the network; part of every signed message, so a transaction cannot be replayed on another chain.
    pub chain_id: String,
    /// Version of the rules; bumped when a rule changes meaning, only by a governance upgrade
    /// (`ProposalAction::ScheduleUpgrade`), never by `SetParam`.
    pub protocol_version: u32,
    /// Blocks per epoch; the epoch hook runs after every `epoch_length`-th block.
    pub epoch_length: u64,
    /// Blocks between an unbond and the moment its stake becomes free.
    pub unbonding_period: u64,
    /// Smallest fee a transaction may pay, in base units; fees go to the treasury.
    pub min_fee: Amount,
    /// Most transactions one block may carry.
    pub max_block_txs: u32,
    /// Most unbonding chunks one account may have in flight.
    pub max_unbonding_chunks: u32,
    /// Most recipients of one hold post.
    pub max_payouts: u32,
    /// Blocks without a status report after which a miner counts as Stale.
    pub heartbeat_timeout: u64,
    /// Bonded stake a node needs for each role it registers.
    pub miner_stake_min: Amount,
    pub oracle_stake_min: Amount,
    pub router_stake_min: Amount,
    pub data_owner_stake_min: Amount,
    pub mpc_stake_min: Amount,
    pub coordinator_stake_min: Amount,
    /// Blocks a miner has to complete a request before it expires and the client is refunded.
    pub request_timeout: u64,
    /// Blocks after completion during which the client may rate a request.
    pub rating_window: u64,
    /// What a client must have paid a miner, over the requests it rated (each within its rating window),
    /// for its rating to weigh one full rating (as much as a network rating or one prior rating); less
    /// weighs pro rata, more no more (default 1 SWK; at least 1 base unit).
    pub rating_weight_cap: Amount,
    /// Share of each request's price that goes to the treasury.
    pub protocol_fee: Ppb,
    /// Reputation steepness k, in thousandths (10000 = 10).
    pub reputation_k_milli: u32,
    /// Reputation midpoint x0.
    pub reputation_x0: Ppb,
    /// Neutral prior ratings n0.
    pub reputation_prior: u32,
    /// Blocks a proposal is open for votes.
    pub voting_period: u64,
    /// Turnout a proposal needs, as a share of all bonded stake at the tally (default 50%; 50% to 90%).
    pub quorum: Ppb,
    /// Yes stake a proposal needs, as a share of all bonded stake at the tally: it passes only with strictly
    /// more (default 50%, an absolute majority; 50% to 90%). No coalition of less than half the bonded stake
    /// passes anything, however few others vote.
    pub pass_threshold: Ppb,
    /// Most the treasury may pay out in one epoch, as a share of its balance when the epoch began (default
    /// 10%; 1 ppb to 50%): the treasury never falls below the rest within an epoch.
    pub treasury_epoch_cap: Ppb,
    /// Most the miners' pool pays out per epoch (less if the pool holds less).
    pub miner_reward_per_epoch: Amount,
    /// Blocks allowed in each task state before an oracle may advance it (PoUW, DESIGN §5).
    pub task_deadline_requested: u64,
    pub task_deadline_created: u64,
    pub task_deadline_started: u64,
    pub task_deadline_precommitted: u64,
    /// Times the miners who missed a deadline may be replaced before the task fails.
    pub max_reassignments: u32,
    /// Blocks after a task becomes advanceable before the end-of-block step advances it itself.
    pub oracle_grace: u64,
    /// Paid from the treasury to the oracle whose advance is valid (if the treasury holds it); at most
    /// `oracle_stake_min`.
    pub oracle_fee: Amount,
    /// Blocks before a miner selected for a task can be selected again.
    pub selection_cooldown: u64,
    /// Largest redundancy k of a task.
    pub task_redundancy_max: u32,
    /// Longest task spec, inputs or output, in bytes.
    pub task_text_len_max: u32,
    /// Paid from the background pool to the agreeing miners of one background task.
    pub background_task_reward: Amount,
    /// Redundancy of background tasks.
    pub background_redundancy: u32,
    /// Weight of background work relative to user work in epoch miner rewards.
    pub background_weight: Ppb,
    /// Most background tasks the network creates in one block, among idle miners (default 2; 0 to 64, 0
    /// turns background work off).
    pub background_tasks_per_block: u32,
    /// Blocks a task of a semantic-PoI service waits at Committed for attestations.
    pub task_deadline_committed: u64,
    /// Share of all oracles' bonded stake that must attest for their scores to decide PoI.
    pub poi_attestation_quorum: Ppb,
    /// Blocks without a status update after which a training job's coordinator may report a member (DESIGN §6).
    pub job_heartbeat_timeout: u64,
    /// Blocks an ordered job may wait for its StakeIn, MPCs and deposits before the order lapses.
    pub job_dispatch_timeout: u64,
    /// The coordinator's extra share of a job's DO and MPC payouts (10%).
    pub job_gds_share: Ppb,
    /// Share of StakeIn fined when the query client cancels a dispatched job (60%); the rest is refunded.
    pub job_cancel_fine: Ppb,
    /// Times the MPC nodes of one job may be replaced.
    pub max_mpc_replacements: u32,
    /// Most data owners, and most MPC nodes, in one job.
    pub job_members_max: u32,
    /// Blocks a settled job stays queryable before the engine forgets it.
    pub job_retention: u64,
    /// Largest maximum duration a job's order may name, in blocks from dispatch (default 1,000,000; 1 to
    /// 2^32): when an order's duration passes, the job settles by its recorded progress.
    pub job_duration_max: u64,
    /// Blocks a non-compliance report waits before it settles the job (default 3,600; 1 to 2^32, and more
    /// than `voting_period`): the accused may appeal to governance while the vote can end inside it.
    pub job_dispute_window: u64,
    /// Share of the deposit `T` the coordinator holds as a bond with each order (default 10%, at most
    /// 100%); a member whose non-compliance report governance overturns is paid the bond.
    pub job_report_bond: Ppb,
    /// Points each member of a successful task round earns (xx network: 10).
    pub points_success: u64,
    /// Target failure rate f; a realtime failure costs `points_success · (1 − f) / f` (default 5%, the
    /// seed's proposal: 190; xx network's old 1/3 gives 20). Above 0.
    pub points_target_failure_rate: Ppb,
    /// Deduct only the known culprits of a failed round, nobody when none is known (else the whole team,
    /// as xx network does).
    pub points_blame_culprits: bool,
    /// The team multiplier, in thousandths (1000 = 1×): the net points of a node whose failure rate over
    /// the epoch is below `list_failure_rate` weigh this much in the points payout (default 1000; 1000 to
    /// 10000). It changes shares only when `list_failure_rate` is below the target failure rate.
    pub points_team_multiplier_milli: u32,
    /// Points the block producer earns per block.
    pub points_block: u64,
    /// The account that produces blocks (the sequencer's operator), if it earns block points.
    pub block_producer: Option<types::AccountId>,
    /// Tokens minted at each epoch boundary, split by the shares below (the rest to the treasury).
    pub emission_per_epoch: Amount,
    pub emission_share_miners: Ppb,
    pub emission_share_points: Ppb,
    pub emission_share_routers: Ppb,
    pub emission_share_background: Ppb,
    /// A node whose failure rate over an epoch is above this is on the network's `underperformers` list.
    pub list_failure_rate: Ppb,
    /// Longest curated list, and most lists a client may name to avoid.
    pub list_len_max: u32,
    /// kB: router reward per 1,000,000 validated bytes, before latency and reputation.
    pub router_reward_per_mb: Amount,
    /// kL in thousandths (1000 = 1): how strongly latency discounts a router's reward.
    pub router_latency_weight_milli: u32,
    /// Lmax: the latency (node mean + validator) at which, with kL = 1, the reward reaches zero.
    pub router_latency_max_ms: u32,
    /// A router whose nodes' mean online fraction over the epoch is not above this is slashed (75%: exactly
    /// 75% is a breach).
    pub router_connectivity_min: Ppb,
    /// Share of a slashed router's collateral taken (to the treasury).
    pub router_slash: Ppb,
    /// Bytes per node and epoch a router may be paid for beyond the work the engine saw the node do
    /// (probes, heartbeats, traffic the chain does not record). At most 10^15.
    pub router_bytes_allowance: u64,
    /// Bytes credited to a node per request it completed in the epoch (the engine records no request sizes;
    /// revealed task outputs and prepared inputs count their own length). At most 10^12.
    pub router_bytes_per_request: u64,
    /// Reported latencies (node and validator) below this count as this. At most `router_latency_max_ms`.
    pub router_latency_floor_ms: u32,
    // ----- nominators and commission (issue 21): a node's limits --------------------------------------
    /// Highest commission a node may set (≤ 100%).
    pub commission_max: Ppb,
    /// Blocks (≥ 1) before a commission change may take effect; it takes effect at the first epoch
    /// boundary at least this many blocks after the change.
    pub commission_delay: u64,
    /// Smallest amount one `Nominate` bonds (≥ 1 base unit).
    pub nomination_min: Amount,
    /// Most nominators with an active nomination a node may have (1..=1024).
    pub nominators_per_node_max: u32,
    // ----- the validator set (issue 21, docs/CONSENSUS.md "Eras") ------------------------------------
    /// Blocks per era (2..=100,000; fixed at genesis: it is the consensus epoch length). Era e is heights
    /// `[e·era_blocks, (e+1)·era_blocks − 1]`; the set of era e+1 is elected at the end of era e's last block.
    pub era_blocks: u64,
    /// Size N of the consensus set: the top N candidates by own plus nominated stake (1..=100).
    pub validators_max: u32,
    /// Minted per block to the elected validator that proposed it (at most 10^27 base units; 0 turns the
    /// reward off); split with its nominators like every reward.
    pub validator_block_reward: Amount,
    /// Share of an equivocating validator's own and nominated stake slashed when evidence lands (≤ 100%).
    pub equivocation_slash: Ppb,
}

impl Default for Params {
    fn default() -> Self {
        Params { chain_id: "stakework-local".to_string(), ..DEFAULT_PARAMS }
    }
}

/// Every parameter's default but the chain id (a `String`, which a constant cannot hold): a table, read
/// by [`Params::default`].
const DEFAULT_PARAMS: Params = Params {
    chain_id: String::new(),
    protocol_version: 1,
    epoch_length: 100,
    unbonding_period: 50,
    min_fee: Amount(1_000),
    max_block_txs: 10_000,
    max_unbonding_chunks: 32,
    max_payouts: 64,
    heartbeat_timeout: 20,
    miner_stake_min: Amount(100_000_000_000),
    oracle_stake_min: Amount(100_000_000_000),
    router_stake_min: Amount(100_000_000_000),
    data_owner_stake_min: Amount(100_000_000_000),
    mpc_stake_min: Amount(100_000_000_000),
    coordinator_stake_min: Amount(100_000_000_000),
    request_timeout: 50,
    rating_window: 100,
    rating_weight_cap: Amount(1_000_000_000),
    protocol_fee: Ppb::new(50_000_000).expect("5%"),
    reputation_k_milli: 10_000,
    reputation_x0: Ppb::new(500_000_000).expect("0.5"),
    reputation_prior: 5,
    voting_period: 20,
    quorum: Ppb::new(500_000_000).expect("one half"),
    pass_threshold: Ppb::new(500_000_000).expect("one half"),
    treasury_epoch_cap: Ppb::new(100_000_000).expect("10%"),
    miner_reward_per_epoch: Amount(1_000_000_000_000),
    task_deadline_requested: 5,
    task_deadline_created: 5,
    task_deadline_started: 10,
    task_deadline_precommitted: 10,
    max_reassignments: 2,
    oracle_grace: 3,
    oracle_fee: Amount(1_000_000),
    selection_cooldown: 2,
    task_redundancy_max: 9,
    task_text_len_max: 4_096,
    background_task_reward: Amount(1_000_000_000),
    background_redundancy: 3,
    background_weight: Ppb::new(500_000_000).expect("one half"),
    background_tasks_per_block: 2,
    task_deadline_committed: 3,
    poi_attestation_quorum: Ppb::new(500_000_000).expect("one half"),
    job_heartbeat_timeout: 3_600,
    job_dispatch_timeout: 3_600,
    job_gds_share: Ppb::new(100_000_000).expect("10%"),
    job_cancel_fine: Ppb::new(600_000_000).expect("60%"),
    max_mpc_replacements: 2,
    job_members_max: 64,
    job_retention: 1_000,
    job_duration_max: 1_000_000,
    job_dispute_window: 3_600,
    job_report_bond: Ppb::new(100_000_000).expect("10%"),
    points_success: 10,
    points_target_failure_rate: Ppb::new(50_000_000).expect("5%"),
    points_blame_culprits: false,
    points_team_multiplier_milli: 1_000,
    points_block: 10,
    block_producer: None,
    emission_per_epoch: Amount(1_000_000_000_000),
    emission_share_miners: Ppb::new(400_000_000).expect("40%"),
    emission_share_points: Ppb::new(300_000_000).expect("30%"),
    emission_share_routers: Ppb::new(150_000_000).expect("15%"),
    emission_share_background: Ppb::new(100_000_000).expect("10%"),
    list_failure_rate: Ppb::new(333_333_333).expect("one third"),
    list_len_max: 1_000,
    router_reward_per_mb: Amount(1_000_000),
    router_latency_weight_milli: 1_000,
    router_latency_max_ms: 1_000,
    router_connectivity_min: Ppb::new(750_000_000).expect("75%"),
    router_slash: Ppb::new(100_000_000).expect("10%"),
    router_bytes_allowance: 1_000_000,
    router_bytes_per_request: 1_000_000,
    router_latency_floor_ms: 5,
    commission_max: Ppb::new(200_000_000).expect("20%"),
    commission_delay: 100,
    nomination_min: Amount(1_000_000_000),
    nominators_per_node_max: 64,
    era_blocks: 50,
    validators_max: 4,
    validator_block_reward: Amount(1_000_000_000),
    equivocation_slash: Ppb::new(100_000_000).expect("10%"),
};

impl Params {
    /// How many blocks a task may stay in `state` before an oracle may advance it late (0 for states
    /// nobody acts in).
    pub fn task_deadline(&self, state: crate::TaskState) -> u64 {
        match state {
            crate::TaskState::Requested => self.task_deadline_requested,
            crate::TaskState::Created => self.task_deadline_created,
            crate::TaskState::Started => self.task_deadline_started,
            crate::TaskState::Precommitted => self.task_deadline_precommitted,
            crate::TaskState::Committed => self.task_deadline_committed,
            _ => 0,
        }
    }

    /// A copy with parameter `name` set to `value` (an integer, or text for amounts and names), validated.
    pub fn with_set(&self, name: &str, value: &str) -> Result<Params, String> {
        if FIXED_PARAMS.contains(&name) {
            return Err(format!("parameter `{name}` cannot be changed by governance"));
        }
        let mut table = match toml::Value::try_from(self) {
            Ok(toml::Value::Table(t)) => t,
            _ => return Err("parameters do not serialize".into()),
        };
        if !table.contains_key(name) {
            return Err(format!("unknown parameter `{name}`"));
        }
        let parsed =
            value.trim().parse::<i64>().map(toml::Value::Integer).unwrap_or_else(|_| toml::Value::String(value.into()));
        table.insert(name.to_string(), parsed);
        let next: Params = toml::Value::Table(table).try_into().map_err(|e| format!("`{name}` = {value:?}: {e}"))?;
        next.validate().map_err(|(field, msg)| format!("{field}: {msg}"))?;
        Ok(next)
    }
}

/// Longest period a parameter may name (2^32 blocks): keeps `height + period` far from overflow.
const MAX_PERIOD_BLOCKS: u64 = 1 << 32;

/// Largest amount a parameter may name (10^27 base units, 10^18 SWK): sums and products of a few stay far
/// from overflowing 128 bits.
pub const AMOUNT_PARAM_MAX: Amount = Amount(1_000_000_000_000_000_000_000_000_000);

/// Largest minimum fee (10^12 base units, 1,000 SWK): a fee nobody can pay would freeze the chain, and with
/// it the governance that could lower the fee again.
pub const MIN_FEE_MAX: Amount = Amount(1_000_000_000_000);

/// Largest weight of a service (genesis and governance): one service may count at most 1,000 times another
/// in the miners' epoch rewards.
pub const SERVICE_WEIGHT_MAX: u32 = 1_000;

/// A share in ppb, for the bounds below.
const fn share(raw: u32) -> Ppb {
    match Ppb::new(raw) {
        Some(p) => p,
        None => panic!("a share is at most 10^9 ppb"),
    }
}
const HALF: Ppb = share(500_000_000);
const NINETY_PERCENT: Ppb = share(900_000_000);
const NINETY_NINE_PERCENT: Ppb = share(990_000_000);

impl Params {
    /// Check every rule a parameter must obey; the error names the field.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        let bad = |field, msg: &str| Err((field, msg.to_string()));
        if self.chain_id.is_empty() || self.chain_id.len() > 64 {
            return bad("params.chain_id", "must be 1 to 64 bytes of UTF-8");
        }
        if self.protocol_version == 0 || self.protocol_version > PROTOCOL_VERSION_MAX {
            return bad("params.protocol_version", "this build implements protocol versions 1 to 2");
        }
        if self.epoch_length == 0 || self.epoch_length > MAX_PERIOD_BLOCKS {
            return bad("params.epoch_length", "must be between 1 and 4294967296 blocks");
        }
        if self.unbonding_period == 0 || self.unbonding_period > MAX_PERIOD_BLOCKS {
            return bad("params.unbonding_period", "must be between 1 and 4294967296 blocks");
        }
        if self.max_block_txs == 0 {
            return bad("params.max_block_txs", "must be at least 1");
        }
        if self.max_unbonding_chunks == 0 {
            return bad("params.max_unbonding_chunks", "must be at least 1");
        }
        if self.max_payouts == 0 {
            return bad("params.max_payouts", "must be at least 1");
        }
        if self.max_block_txs > 10_000_000 || self.max_unbonding_chunks > 1_024 || self.max_payouts > 1_024 {
            return bad(
                "params.max_block_txs",
                "max_block_txs at most 10000000, max_unbonding_chunks and max_payouts at most 1024",
            );
        }
        self.validate_periods()?;
        self.validate_governance()?;
        self.validate_amounts()?;
        self.validate_shares()?;
        if self.selection_cooldown > MAX_PERIOD_BLOCKS || self.max_reassignments > 100 {
            return bad("params.selection_cooldown", "cooldown at most 2^32 blocks and at most 100 reassignments");
        }
        let k_min = crate::pouw::TASK_REDUNDANCY_MIN;
        if !(k_min..=64).contains(&self.task_redundancy_max)
            || !(k_min..=self.task_redundancy_max).contains(&self.background_redundancy)
        {
            return bad(
                "params.task_redundancy_max",
                "task_redundancy_max is 3..64 and background_redundancy 3..task_redundancy_max",
            );
        }
        if self.background_tasks_per_block > 64 {
            return bad("params.background_tasks_per_block", "must be at most 64 (0 turns background work off)");
        }
        self.validate_limits()?;
        self.validate_nominations()
    }

    /// The nominators' limits (issue 21).
    fn validate_nominations(&self) -> Result<(), (&'static str, String)> {
        let bad = |field, msg: &str| Err((field, msg.to_string()));
        if self.commission_delay == 0 || self.commission_delay > MAX_PERIOD_BLOCKS {
            return bad("params.commission_delay", "must be between 1 and 4294967296 blocks");
        }
        if self.nomination_min.is_zero() || self.nomination_min > AMOUNT_PARAM_MAX {
            return bad("params.nomination_min", "must be between 1 and 10^27 base units");
        }
        if !(1..=1_024).contains(&self.nominators_per_node_max) {
            return bad("params.nominators_per_node_max", "must be between 1 and 1024");
        }
        if !(2..=100_000).contains(&self.era_blocks) {
            return bad("params.era_blocks", "must be between 2 and 100000 blocks");
        }
        if !(1..=100).contains(&self.validators_max) {
            return bad("params.validators_max", "must be between 1 and 100");
        }
        if self.validator_block_reward > AMOUNT_PARAM_MAX {
            return bad("params.validator_block_reward", "must be at most 10^27 base units");
        }
        Ok(())
    }

    /// The periods in blocks: each between 1 and 2^32.
    fn validate_periods(&self) -> Result<(), (&'static str, String)> {
        let bad = |field, msg: &str| Err((field, msg.to_string()));
        for (field, v) in [
            ("params.heartbeat_timeout", self.heartbeat_timeout),
            ("params.request_timeout", self.request_timeout),
            ("params.rating_window", self.rating_window),
            ("params.voting_period", self.voting_period),
        ] {
            if v == 0 || v > MAX_PERIOD_BLOCKS {
                return bad(field, "must be between 1 and 4294967296 blocks");
            }
        }
        for (field, v) in [
            ("params.task_deadline_requested", self.task_deadline_requested),
            ("params.task_deadline_created", self.task_deadline_created),
            ("params.task_deadline_started", self.task_deadline_started),
            ("params.task_deadline_precommitted", self.task_deadline_precommitted),
            ("params.task_deadline_committed", self.task_deadline_committed),
            ("params.oracle_grace", self.oracle_grace),
            ("params.job_heartbeat_timeout", self.job_heartbeat_timeout),
            ("params.job_dispatch_timeout", self.job_dispatch_timeout),
            ("params.job_retention", self.job_retention),
            ("params.job_duration_max", self.job_duration_max),
            ("params.job_dispute_window", self.job_dispute_window),
        ] {
            if v == 0 || v > MAX_PERIOD_BLOCKS {
                return bad(field, "must be between 1 and 4294967296 blocks");
            }
        }
        if self.job_dispute_window <= self.voting_period {
            return bad("params.job_dispute_window", "must be longer than voting_period (an appeal's vote)");
        }
        Ok(())
    }

    /// Governance and the treasury (issue 19): no coalition under half the bonded stake passes anything, no
    /// stake that voted can leave and vote again before the tally, and no epoch empties the treasury.
    fn validate_governance(&self) -> Result<(), (&'static str, String)> {
        let bad = |field, msg: &str| Err((field, msg.to_string()));
        if !(HALF..=NINETY_PERCENT).contains(&self.quorum) {
            return bad(
                "params.quorum",
                "must be between 50% and 90% of the bonded stake (500000000 to 900000000 ppb)",
            );
        }
        if !(HALF..=NINETY_PERCENT).contains(&self.pass_threshold) {
            return bad(
                "params.pass_threshold",
                "must be between 50% and 90% of the bonded stake (500000000 to 900000000 ppb)",
            );
        }
        if self.voting_period >= self.unbonding_period {
            return bad(
                "params.voting_period",
                "must be shorter than unbonding_period (stake that voted must not be free again before the tally)",
            );
        }
        if self.treasury_epoch_cap == Ppb::ZERO || self.treasury_epoch_cap > HALF {
            return bad("params.treasury_epoch_cap", "must be above 0 and at most 50% (500000000 ppb)");
        }
        if self.oracle_fee > self.oracle_stake_min {
            return bad(
                "params.oracle_fee",
                "must be at most oracle_stake_min (one advance is worth less than the stake)",
            );
        }
        Ok(())
    }

    /// Amounts: each at most [`AMOUNT_PARAM_MAX`], the minimum fee at most [`MIN_FEE_MAX`].
    fn validate_amounts(&self) -> Result<(), (&'static str, String)> {
        if self.min_fee > MIN_FEE_MAX {
            return Err(("params.min_fee", "must be at most 1000000000000 base units (1000 SWK)".to_string()));
        }
        for (field, v) in [
            ("params.miner_stake_min", self.miner_stake_min),
            ("params.oracle_stake_min", self.oracle_stake_min),
            ("params.router_stake_min", self.router_stake_min),
            ("params.data_owner_stake_min", self.data_owner_stake_min),
            ("params.mpc_stake_min", self.mpc_stake_min),
            ("params.coordinator_stake_min", self.coordinator_stake_min),
            ("params.miner_reward_per_epoch", self.miner_reward_per_epoch),
            ("params.background_task_reward", self.background_task_reward),
            ("params.emission_per_epoch", self.emission_per_epoch),
            ("params.router_reward_per_mb", self.router_reward_per_mb),
        ] {
            if v > AMOUNT_PARAM_MAX {
                return Err((field, "must be at most 10^27 base units".to_string()));
            }
        }
        Ok(())
    }

    /// Shares that move one party's money to another: each bounded so that governance cannot take all of it.
    fn validate_shares(&self) -> Result<(), (&'static str, String)> {
        let bad = |field, msg: &str| Err((field, msg.to_string()));
        if self.protocol_fee > HALF {
            return bad("params.protocol_fee", "must be at most 50% of a request's price");
        }
        if self.job_gds_share > HALF {
            return bad("params.job_gds_share", "must be at most 50%");
        }
        if self.poi_attestation_quorum < HALF {
            return bad("params.poi_attestation_quorum", "must be at least 50% of the oracles' stake");
        }
        if !(HALF..=NINETY_NINE_PERCENT).contains(&self.router_connectivity_min) {
            return bad(
                "params.router_connectivity_min",
                "must be between 50% and 99% (at 100% even a router always online would be slashed)",
            );
        }
        if self.router_slash > HALF {
            return bad("params.router_slash", "must be at most 50% of a router's collateral");
        }
        if self.router_latency_weight_milli > 1_000_000 || self.router_latency_max_ms > 3_600_000 {
            return bad(
                "params.router_latency_weight_milli",
                "router_latency_weight_milli at most 1000000 (kL = 1000), router_latency_max_ms at most 3600000",
            );
        }
        Ok(())
    }

    /// Sizes, factors and shares.
    fn validate_limits(&self) -> Result<(), (&'static str, String)> {
        let bad = |field, msg: &str| Err((field, msg.to_string()));
        if self.task_text_len_max == 0 || self.task_text_len_max > 1 << 20 {
            return bad("params.task_text_len_max", "must be between 1 and 1048576 bytes");
        }
        if self.reputation_k_milli == 0 || self.reputation_k_milli > 1_000_000 {
            return bad("params.reputation_k_milli", "must be between 1 and 1000000 (k from 0.001 to 1000)");
        }
        if self.job_members_max == 0 || self.job_members_max > 1_000 || self.max_mpc_replacements > 100 {
            return bad("params.job_members_max", "job_members_max is 1..1000 and max_mpc_replacements at most 100");
        }
        let shares = [
            self.emission_share_miners,
            self.emission_share_points,
            self.emission_share_routers,
            self.emission_share_background,
        ];
        if shares.iter().map(|s| u64::from(s.raw())).sum::<u64>() > u64::from(Ppb::ONE_RAW) {
            return bad("params.emission_share_miners", "the emission shares add up to more than 100%");
        }
        if self.points_target_failure_rate.raw() == 0
            || self.points_success > 1_000_000
            || self.points_block > 1_000_000
        {
            return bad(
                "params.points_target_failure_rate",
                "f is above 0; points_success and points_block at most 1000000",
            );
        }
        if self.router_latency_max_ms == 0 || self.list_len_max == 0 || self.list_len_max > 100_000 {
            return bad("params.router_latency_max_ms", "router_latency_max_ms ≥ 1 and list_len_max 1..100000");
        }
        if self.router_bytes_allowance > 1_000_000_000_000_000
            || self.router_bytes_per_request > 1_000_000_000_000
            || self.router_latency_floor_ms > self.router_latency_max_ms
        {
            return bad(
                "params.router_bytes_allowance",
                "router_bytes_allowance at most 10^15, router_bytes_per_request at most 10^12, \
                 router_latency_floor_ms at most router_latency_max_ms",
            );
        }
        if self.reputation_prior > 1_000_000 {
            return bad("params.reputation_prior", "must be at most 1000000");
        }
        self.validate_weights()
    }

    /// Rating weights and the team multiplier (issue 19).
    fn validate_weights(&self) -> Result<(), (&'static str, String)> {
        let bad = |field, msg: &str| Err((field, msg.to_string()));
        if self.rating_weight_cap.is_zero() {
            return bad("params.rating_weight_cap", "must be at least 1 base unit");
        }
        if !(1_000..=10_000).contains(&self.points_team_multiplier_milli) {
            return bad("params.points_team_multiplier_milli", "must be between 1000 and 10000 (1× to 10×)");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(p: &Params) -> Option<&'static str> {
        p.validate().err().map(|(field, _)| field)
    }

    #[test]
    fn the_defaults_validate() {
        assert_eq!(Params::default().validate(), Ok(()));
    }

    #[test]
    fn quorum_and_pass_threshold_are_half_to_ninety_percent() {
        let d = Params::default();
        for (raw, ok) in
            [(0, false), (499_999_999, false), (500_000_000, true), (900_000_000, true), (900_000_001, false)]
        {
            let share = Ppb::new(raw).expect("ppb");
            assert_eq!(field(&Params { quorum: share, ..d.clone() }).is_none(), ok, "quorum {raw}");
            assert_eq!(field(&Params { pass_threshold: share, ..d.clone() }).is_none(), ok, "threshold {raw}");
        }
        assert_eq!(d.with_set("quorum", "0").err().map(|e| e.starts_with("params.quorum")), Some(true));
    }

    #[test]
    fn a_vote_ends_before_its_stake_could_be_free() {
        let d = Params::default();
        let p = Params { voting_period: 50, unbonding_period: 50, ..d.clone() };
        assert_eq!(field(&p), Some("params.voting_period"));
        assert_eq!(field(&Params { voting_period: 49, ..p }), None);
        assert!(d.with_set("unbonding_period", "20").is_err(), "a change may not break the relation either");
    }

    #[test]
    fn oracle_fee_is_at_most_an_oracles_stake_and_the_treasury_cap_at_most_half() {
        let d = Params::default();
        let fee = Params { oracle_fee: Amount(d.oracle_stake_min.0 + 1), ..d.clone() };
        assert_eq!(field(&fee), Some("params.oracle_fee"));
        assert_eq!(field(&Params { oracle_fee: d.oracle_stake_min, ..d.clone() }), None);
        for (raw, ok) in [(0, false), (1, true), (500_000_000, true), (500_000_001, false)] {
            let cap = Ppb::new(raw).expect("ppb");
            assert_eq!(field(&Params { treasury_epoch_cap: cap, ..d.clone() }).is_none(), ok, "cap {raw}");
        }
    }

    #[test]
    fn shares_that_move_money_and_amounts_are_bounded() {
        let d = Params::default();
        let over_half = Ppb::new(500_000_001).expect("ppb");
        assert_eq!(field(&Params { protocol_fee: over_half, ..d.clone() }), Some("params.protocol_fee"));
        assert_eq!(field(&Params { router_slash: over_half, ..d.clone() }), Some("params.router_slash"));
        assert_eq!(field(&Params { job_gds_share: over_half, ..d.clone() }), Some("params.job_gds_share"));
        assert_eq!(
            field(&Params { router_connectivity_min: Ppb::ONE, ..d.clone() }),
            Some("params.router_connectivity_min")
        );
        let huge = Amount(AMOUNT_PARAM_MAX.0 + 1);
        assert_eq!(field(&Params { emission_per_epoch: huge, ..d.clone() }), Some("params.emission_per_epoch"));
        assert_eq!(field(&Params { min_fee: Amount(MIN_FEE_MAX.0 + 1), ..d.clone() }), Some("params.min_fee"));
        assert_eq!(field(&Params { max_block_txs: 10_000_001, ..d }), Some("params.max_block_txs"));
    }
}
