use serde::{Deserialize, Serialize};
use types::Amount;

/// Every protocol parameter. Loaded from the genesis TOML `[params]` table; unknown keys are errors.
/// Later protocol modules add their parameters here, each with a default and a validation rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, borsh::BorshSerialize, borsh::BorshDeserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Params {
    /// Name of the network; part of every signed message, so a transaction cannot be replayed on another chain.
    pub chain_id: String,
    /// Version of the rules; bumped when a rule changes meaning.
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
}

impl Default for Params {
    fn default() -> Self {
        Params {
            chain_id: "stakework-local".to_string(),
            protocol_version: 1,
            epoch_length: 100,
            unbonding_period: 50,
            min_fee: Amount(1_000),
            max_block_txs: 10_000,
            max_unbonding_chunks: 32,
            max_payouts: 64,
        }
    }
}

/// Longest period a parameter may name (2^32 blocks): keeps `height + period` far from overflow.
const MAX_PERIOD_BLOCKS: u64 = 1 << 32;

impl Params {
    /// Check every rule a parameter must obey; the error names the field.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        let bad = |field, msg: &str| Err((field, msg.to_string()));
        if self.chain_id.is_empty() || self.chain_id.len() > 64 {
            return bad("params.chain_id", "must be 1 to 64 bytes of UTF-8");
        }
        if self.protocol_version != 1 {
            return bad("params.protocol_version", "this build implements protocol version 1 only");
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
        Ok(())
    }
}
