//! `stakework tx …`: sign locally, submit, optionally wait for the receipt.

use crate::keys::{load, resolve_account};
use clap::{Args, Subcommand};
use client::Client;
use protocol::Call;
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
    /// Bond AMOUNT as a nomination of NODE (an account id or key name); `--undo` starts unbonding it.
    Nominate {
        #[command(flatten)]
        common: TxArgs,
        /// The node nominated (not `--node`: that global option names the node to talk to).
        #[arg(id = "nominee", long = "to", value_name = "NODE")]
        node: String,
        #[arg(long)]
        amount: Amount,
        #[arg(long)]
        undo: bool,
    },
    /// Set your node's commission in ppb (applies from the first epoch boundary `commission_delay` later).
    Commission {
        #[command(flatten)]
        common: TxArgs,
        #[arg(long, value_parser = |s: &str| s.parse().ok().and_then(types::Ppb::new).ok_or("0..=1000000000 ppb"))]
        commission: types::Ppb,
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
        TxCommand::Nominate { common, node, amount, undo } => {
            let (node, amount) = (resolve_account(keys, node)?, *amount);
            (common, if *undo { Call::Unnominate { node, amount } } else { Call::Nominate { node, amount } })
        }
        TxCommand::Commission { common, commission } => (common, Call::SetCommission { commission: *commission }),
    };
    submit_call(client, keys, common, call, json)
}

/// Sign `call` with key `common.from` (nonce and chain id from the node), submit it, and print the result.
pub fn submit_call(client: &Client, keys: &Path, common: &TxArgs, call: Call, json: bool) -> anyhow::Result<()> {
    let key = load(keys, &common.from)?;
    let result = client.sign_and_submit(&key, common.fee, call, common.wait)?;
    if json {
        outln!("{}", serde_json::to_string_pretty(&result)?);
    } else {
        outln!("{}", client::text::submit_result(&result));
    }
    // Text and JSON alike: a transaction refused at the door or rejected in its block is a failed command.
    match result.refusal() {
        Some(why) => anyhow::bail!("{why}"),
        None => Ok(()),
    }
}
