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
            let a: api::AccountView = client.get(&format!("/v1/accounts/{}", resolve_account(keys, account)?))?;
            print(&a, json, account_text)
        }
        QueryCommand::Block { id } => {
            print(&client.get::<api::BlockView>(&format!("/v1/blocks/{id}"))?, json, block_text)
        }
        QueryCommand::Tx { hash } => print(&client.get::<api::TxReceipt>(&format!("/v1/txs/{hash}"))?, json, tx_text),
        QueryCommand::Params => print(&client.params()?, json, params_text),
        QueryCommand::Node { account } => crate::market_cmd::query_node(client, keys, account, json),
        QueryCommand::Reputation { account } => crate::market_cmd::query_reputation(client, keys, account, json),
        QueryCommand::Service { id } => {
            crate::market_cmd::service(&crate::market_cmd::ServiceCommand::Show { id: *id }, client, json)
        }
        QueryCommand::Request { id } => crate::market_cmd::show(&client.request(*id)?),
        QueryCommand::Job { id } => crate::job_cmd::query(client, id, json),
        QueryCommand::Points => crate::router_cmd::query_points(client, json),
        QueryCommand::Epoch => crate::market_cmd::show(&client.epoch()?),
        QueryCommand::Lists => crate::market_cmd::show(&client.lists()?),
        QueryCommand::Task { id } => crate::market_cmd::show(&client.task(*id)?),
        QueryCommand::Proposal { id } => crate::market_cmd::show(&client.proposal(*id)?),
        QueryCommand::Events { since, limit } => print(&client.events(*since, *limit)?, json, events_text),
    }
}

/// `v` as pretty JSON, or as `text` prints it.
fn print<T: serde::Serialize>(v: &T, json: bool, text: fn(&T) -> anyhow::Result<()>) -> anyhow::Result<()> {
    if json {
        outln!("{}", serde_json::to_string_pretty(v)?);
        Ok(())
    } else {
        text(v)
    }
}

fn account_text(a: &api::AccountView) -> anyhow::Result<()> {
    outln!("account {} at height {}", a.id, a.height);
    outln!("  free       {}", a.free.to_swk_string());
    outln!("  held       {}", a.held.to_swk_string());
    outln!("  bonded     {}", a.bonded.to_swk_string());
    outln!("  unbonding  {}", a.unbonding.to_swk_string());
    outln!("  nonce      {}", a.nonce);
    for c in &a.unbonding_chunks {
        outln!("  unbonding chunk {} free at height {}", c.amount.to_swk_string(), c.matures_at);
    }
    for h in &a.holds {
        outln!("  hold {} {} ({:?})", h.id, h.amount.to_swk_string(), h.reason);
    }
    Ok(())
}

fn block_text(b: &api::BlockView) -> anyhow::Result<()> {
    outln!("block {}  hash {}", b.height, b.hash);
    outln!("  parent     {}", b.parent_hash);
    outln!("  state root {}", b.state_root);
    for t in &b.txs {
        outln!("  tx {} from {} nonce {} -> {}", t.hash, t.tx.body.signer.short(), t.tx.body.nonce, t.code);
    }
    for e in &b.events {
        outln!("  event {}", serde_json::to_string(&e.event)?);
    }
    Ok(())
}

fn tx_text(r: &api::TxReceipt) -> anyhow::Result<()> {
    outln!("tx {} {}", r.hash, r.status);
    if let (Some(h), Some(i), Some(c)) = (r.height, r.index, &r.code) {
        outln!("  block {h} index {i} result {c}");
    }
    if let Some(m) = &r.message {
        outln!("  {m}");
    }
    for e in &r.events {
        outln!("  event {}", serde_json::to_string(&e.event)?);
    }
    Ok(())
}

fn params_text(v: &api::ParamsView) -> anyhow::Result<()> {
    outln!("height {}", v.height.0);
    // The parameters in their JSON form: one line per field, in the struct's order.
    if let serde_json::Value::Object(p) = serde_json::to_value(&v.params)? {
        for (k, val) in p {
            outln!("  {k:<22} {}", val.as_str().map_or_else(|| val.to_string(), str::to_string));
        }
    }
    Ok(())
}

fn events_text(v: &api::EventsPage) -> anyhow::Result<()> {
    for b in &v.blocks {
        for e in &b.events {
            outln!("block {:>6}  {}", b.height, serde_json::to_string(e)?);
        }
    }
    outln!("next: --since {}", v.next);
    Ok(())
}
