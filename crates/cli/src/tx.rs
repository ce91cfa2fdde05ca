//! `stakework tx …`: sign locally, submit, optionally wait for the receipt.

use crate::client::Client;
use crate::keys::{account_of, load, resolve_account};
use anyhow::Context;
use clap::{Args, Subcommand};
use engine::{Call, TxBody};
use serde_json::Value;
use std::path::Path;
use types::Amount;

#[derive(Debug, Subcommand)]
pub enum TxCommand {
    /// Send AMOUNT of free balance to another account.
    Transfer {
        #[command(flatten)]
        common: TxArgs,
        /// Recipient: a 64-hex-digit account id or the name of one of your keys.
        #[arg(long)]
        to: String,
        /// Amount: base units ("1500") or SWK ("1.5 SWK").
        #[arg(long)]
        amount: Amount,
    },
    /// Bond AMOUNT of free balance as stake.
    Bond {
        #[command(flatten)]
        common: TxArgs,
        #[arg(long)]
        amount: Amount,
    },
    /// Start unbonding AMOUNT of stake (free after the unbonding period).
    Unbond {
        #[command(flatten)]
        common: TxArgs,
        #[arg(long)]
        amount: Amount,
    },
}

#[derive(Debug, Args)]
pub struct TxArgs {
    /// Name of the signing key (see `stakework keys`).
    #[arg(long)]
    pub from: String,
    /// Fee in base units or SWK; default: the chain's minimum fee.
    #[arg(long)]
    pub fee: Option<Amount>,
    /// Wait until the transaction is in a durable block and print its receipt.
    #[arg(long)]
    pub wait: bool,
}

pub fn run(cmd: &TxCommand, client: &Client, keys: &Path, json: bool) -> anyhow::Result<()> {
    let (common, call) = match cmd {
        TxCommand::Transfer { common, to, amount } => {
            (common, Call::Transfer { to: resolve_account(keys, to)?, amount: *amount })
        }
        TxCommand::Bond { common, amount } => (common, Call::Bond { amount: *amount }),
        TxCommand::Unbond { common, amount } => (common, Call::Unbond { amount: *amount }),
    };
    submit_call(client, keys, common, call, json)
}

/// Sign `call` with key `common.from` (nonce and chain id from the node), submit it, and print the result.
pub fn submit_call(client: &Client, keys: &Path, common: &TxArgs, call: Call, json: bool) -> anyhow::Result<()> {
    let key = load(keys, &common.from)?;
    let signer = account_of(&key);
    let params: Value = client.get("/v1/params")?;
    let chain_id = params["params"]["chain_id"].as_str().context("node sent no chain id")?.to_string();
    let fee = match common.fee {
        Some(f) => f,
        None => serde_json::from_value(params["params"]["min_fee"].clone()).context("node sent no min_fee")?,
    };
    let account: node::AccountView = client.get(&format!("/v1/accounts/{signer}"))?;
    let tx = TxBody { signer, nonce: account.account.nonce, fee, call }.sign(&key, &chain_id);
    let path = if common.wait { "/v1/txs?wait=commit" } else { "/v1/txs" };
    let result: node::SubmitResult = client.post(path, &serde_json::to_value(&tx)?)?;
    if json {
        outln!("{}", serde_json::to_string_pretty(&result)?);
        return Ok(());
    }
    outln!("tx {} {}", result.hash, result.status);
    if let Some(r) = &result.receipt {
        outln!("  block {}  result {}", r.height.unwrap_or_default(), r.code.as_deref().unwrap_or("?"));
        if let Some(m) = &r.message {
            outln!("  {m}");
        }
        for e in &r.events {
            outln!("  event {}", serde_json::to_string(&e.event)?);
        }
        if r.code.as_deref() != Some("ok") {
            anyhow::bail!("the transaction was rejected in its block: {}", r.code.as_deref().unwrap_or("?"));
        }
    }
    Ok(())
}
