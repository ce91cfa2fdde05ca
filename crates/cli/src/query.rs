//! `stakework query …`: read the node's state.

use crate::keys::resolve_account;
use clap::Subcommand;
use client::Client;
use std::path::Path;

#[derive(Debug, Subcommand)]
pub enum QueryCommand {
    /// An account's balances and nonce (a 64-hex-digit id or one of your key names).
    Account { account: String },
    /// A block by height or hash.
    Block { id: String },
    /// A transaction's receipt by hash.
    Tx { hash: String },
    /// The protocol parameters in force.
    Params,
    /// A registered node (an account id or one of your key names).
    Node { account: String },
    /// A service by id.
    Service { id: u32 },
    /// A miner's reputation and the ratings behind it.
    Reputation { account: String },
    /// An inference request by id.
    Request { id: u64 },
    /// A governance proposal by id.
    Proposal { id: u64 },
    /// A Proof-of-Useful-Work task by id.
    Task { id: u64 },
    /// Epoch points per node: the epoch in progress and the last finished one.
    Points,
    /// The current epoch, emission and pool balances.
    Epoch,
    /// Curated lists (the network's underperformers and published lists).
    Lists,
    /// A training job by UUID: roles, schema, members, escrow and history.
    Job { id: types::JobId },
    /// Events of durable blocks from a height.
    Events {
        #[arg(long, default_value_t = 1)]
        since: u64,
        #[arg(long, default_value_t = 100)]
        limit: u64,
    },
}

pub fn run(cmd: &QueryCommand, client: &Client, keys: &Path, json: bool) -> anyhow::Result<()> {
    match cmd {
        QueryCommand::Account { account } => {
            crate::print(&client.account(&resolve_account(keys, account)?)?, json, client::text::account)
        }
        QueryCommand::Block { id } => crate::print(&client.block(id)?, json, client::text::block),
        QueryCommand::Tx { hash } => {
            crate::print(&client.get::<api::TxReceipt>(&format!("/v1/txs/{hash}"))?, json, client::text::receipt)
        }
        QueryCommand::Params => crate::print(&client.params()?, json, client::text::params),
        QueryCommand::Node { account } => {
            let id = resolve_account(keys, account)?;
            crate::print(&client.node(&id)?, json, |n| client::text::node(&id, n))
        }
        QueryCommand::Reputation { account } => {
            let id = resolve_account(keys, account)?;
            crate::print(&client.reputation(&id)?, json, |r| client::text::reputation(&id, r))
        }
        QueryCommand::Service { id } => crate::show(&client.service(*id)?),
        QueryCommand::Request { id } => crate::show(&client.request(*id)?),
        QueryCommand::Job { id } => crate::print(&client.job(id)?, json, client::text::job),
        QueryCommand::Points => crate::print(&client.points()?, json, client::text::points),
        QueryCommand::Epoch => crate::show(&client.epoch()?),
        QueryCommand::Lists => crate::show(&client.lists()?),
        QueryCommand::Task { id } => crate::show(&client.task(*id)?),
        QueryCommand::Proposal { id } => crate::show(&client.proposal(*id)?),
        QueryCommand::Events { since, limit } => {
            crate::print(&client.events(*since, *limit)?, json, client::text::events)
        }
    }
}
