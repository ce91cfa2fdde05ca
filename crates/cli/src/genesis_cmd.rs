//! `stakework genesis check|example|add-validator`: validate a genesis file with the engine, print an
//! example, or add a validator to a genesis file's set (docs/CONSENSUS.md, "Running validators").

use anyhow::Context;
use clap::Subcommand;
use engine::{Engine, Genesis};
use protocol::GenesisValidator;
use std::path::Path;
use types::Amount;

#[derive(Debug, Subcommand)]
pub enum GenesisCommand {
    /// Validate a genesis file and print its chain id, accounts, total supply and genesis state root.
    Check {
        /// Path to the genesis TOML file.
        file: std::path::PathBuf,
    },
    /// Print an example genesis file with every parameter at its default.
    Example,
    /// Add a validator to a genesis file's set: its consensus key, where the other validators reach it, and
    /// its staking account. The file is validated and rewritten in canonical form (comments are not kept);
    /// on any error it is left as it was. Every validator must start from the same file.
    AddValidator {
        /// Path to the genesis TOML file.
        file: std::path::PathBuf,
        /// The validator's key: a key name (as `stakework keys new NAME` made it) or 64 hex digits. Its node
        /// runs with `--validator-key` on this key's file.
        #[arg(long)]
        key: String,
        /// Where the other validators reach its p2p listener, `ip:port`.
        #[arg(long)]
        p2p: String,
        /// Its staking account (a key name or 64 hex digits); the key's own account if not given.
        #[arg(long)]
        account: Option<String>,
        /// Add the staking account to the genesis with this bonded stake ("100 SWK") if it is not there yet.
        #[arg(long)]
        bond: Option<Amount>,
    },
}

pub fn run(cmd: &GenesisCommand, keys: &Path, json: bool) -> anyhow::Result<()> {
    match cmd {
        GenesisCommand::Check { file } => {
            let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
            let genesis = Genesis::from_toml(&text).map_err(|e| anyhow::anyhow!("[{}] {e}", e.code()))?;
            let engine = Engine::from_genesis(&genesis).map_err(|e| anyhow::anyhow!("[{}] {e}", e.code()))?;
            let supply = engine.ledger().total_supply();
            if json {
                let v = serde_json::json!({
                    "chain_id": genesis.params.chain_id,
                    "accounts": genesis.accounts.len(),
                    "validators": genesis.validators,
                    "total_supply": supply,
                    "state_root": engine.state_root(),
                    "params": genesis.params,
                });
                outln!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                outln!("genesis ok: chain {}", genesis.params.chain_id);
                outln!("  accounts:     {}", genesis.accounts.len());
                let n = genesis.validators.len();
                let set = match n {
                    0 => "none (a single node)".into(),
                    n => format!("{n} (tolerates {} faulty)", (n - 1) / 3),
                };
                outln!("  validators:   {set}");
                outln!("  total supply: {} ({} base units)", supply.to_swk_string(), supply);
                outln!("  state root:   {}", engine.state_root());
            }
            Ok(())
        }
        GenesisCommand::AddValidator { file, key, p2p, account, bond } => {
            let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
            let mut genesis = Genesis::from_toml(&text).map_err(|e| anyhow::anyhow!("[{}] {e}", e.code()))?;
            let key = crate::keys::resolve_account(keys, key)?;
            let account = account.as_ref().map_or(Ok(key), |a| crate::keys::resolve_account(keys, a))?;
            let validator = GenesisValidator { key, p2p: p2p.clone(), account };
            genesis.add_validator(validator, *bond).map_err(|e| anyhow::anyhow!("[{}] {e}", e.code()))?;
            Engine::from_genesis(&genesis).map_err(|e| anyhow::anyhow!("[{}] {e}", e.code()))?;
            let tmp = file.with_extension("toml.tmp");
            std::fs::write(&tmp, genesis.to_toml() + "\n")
                .with_context(|| format!("cannot write {}", tmp.display()))?;
            std::fs::rename(&tmp, file).with_context(|| format!("cannot replace {}", file.display()))?;
            if json {
                let v = serde_json::json!({ "validators": genesis.validators.len(), "key": key, "account": account });
                outln!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                outln!("validator {key} added ({} in the set); account {account}", genesis.validators.len());
            }
            Ok(())
        }
        GenesisCommand::Example => {
            let genesis = devnet::keys::example_genesis();
            outln!("{}", genesis.to_toml().trim_end());
            Ok(())
        }
    }
}
