//! `stakework genesis check|example`: validate a genesis file with the engine, or print a commented example.

use anyhow::Context;
use clap::Subcommand;
use engine::{Engine, Genesis};

#[derive(Debug, Subcommand)]
pub enum GenesisCommand {
    /// Validate a genesis file and print its chain id, accounts, total supply and genesis state root.
    Check {
        /// Path to the genesis TOML file.
        file: std::path::PathBuf,
    },
    /// Print an example genesis file with every parameter at its default.
    Example,
}

pub fn run(cmd: &GenesisCommand, json: bool) -> anyhow::Result<()> {
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
                    "total_supply": supply,
                    "state_root": engine.state_root(),
                    "params": genesis.params,
                });
                outln!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                outln!("genesis ok: chain {}", genesis.params.chain_id);
                outln!("  accounts:     {}", genesis.accounts.len());
                outln!("  total supply: {} ({} base units)", supply.to_swk_string(), supply);
                outln!("  state root:   {}", engine.state_root());
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
