//! `stakework router …`, `stakework list …` and the epoch queries (`query points|epoch|lists`): routers,
//! epoch points and curated lists (DESIGN §7).

use crate::keys::resolve_account;
use crate::tx::{submit_call, TxArgs};
use clap::Subcommand;
use client::Client;
use protocol::{Call, ListRef, NodeTraffic, Role};
use std::path::Path;

#[derive(Debug, Subcommand)]
pub enum RouterCommand {
    /// Register as a router (bonded stake ≥ router_stake_min is the collateral).
    Register {
        #[command(flatten)]
        common: TxArgs,
        #[arg(long)]
        endpoint: String,
    },
    /// As a router, accept a node (after your checks on it); the node may then attach to you, once.
    Accept {
        #[command(flatten)]
        common: TxArgs,
        /// The node (an account id or key name); `--node` is the API's URL.
        #[arg(long)]
        member: String,
    },
    /// As a registered node, attach to a router that accepted you.
    Attach {
        #[command(flatten)]
        common: TxArgs,
        #[arg(long)]
        router: String,
    },
    /// As a node, leave your router; as a router, drop one of your nodes.
    Detach {
        #[command(flatten)]
        common: TxArgs,
        /// The node that leaves (an account id or key name).
        #[arg(long)]
        member: String,
    },
    /// As a router, report this epoch's traffic: `--traffic ACCOUNT,BYTES_IN,BYTES_OUT,LATENCY_MS,ONLINE_PERCENT`.
    Report {
        #[command(flatten)]
        common: TxArgs,
        /// Epoch (default: the current one).
        #[arg(long)]
        epoch: Option<u64>,
        /// Your latency to the validator, in milliseconds.
        #[arg(long)]
        validator_latency_ms: u32,
        /// One attached node's figures (repeat for each).
        #[arg(long = "traffic")]
        nodes: Vec<String>,
    },
    /// As a node, report the bytes you exchanged through your router this epoch.
    Traffic {
        #[command(flatten)]
        common: TxArgs,
        #[arg(long)]
        router: String,
        #[arg(long)]
        bytes: u64,
        #[arg(long)]
        epoch: Option<u64>,
    },
    /// Routers with their attached nodes, this epoch's report, score and connectivity.
    List,
    /// Run the router agent: relay client requests to miners (`POST /relay/{miner}`), meter bytes and
    /// latency per node, probe attached nodes, and report each epoch. Runs until SIGINT/SIGTERM.
    Run {
        /// Name of the router's key; it must be registered as a router.
        #[arg(long)]
        from: String,
        #[arg(long, default_value = "127.0.0.1:7660")]
        listen: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ListCommand {
    /// Publish (or replace) your own list of nodes for clients to avoid (needs bonded stake).
    Publish {
        #[command(flatten)]
        common: TxArgs,
        name: String,
        /// A node on the list (repeat for each).
        #[arg(long = "member")]
        nodes: Vec<String>,
    },
}

/// Each `NAME` (the network's list) or `OWNER/NAME` (an account id or key name, then the list's name).
pub fn parse_list_refs(keys: &Path, texts: &[String]) -> anyhow::Result<Vec<ListRef>> {
    let owner = |o: &str| resolve_account(keys, o).map_err(anyhow::Error::from);
    texts.iter().map(|text| client::words::list_ref(text, owner)).collect()
}

/// A `--traffic` line (`client::words::traffic`), its account an account id or key name.
fn parse_traffic(keys: &Path, text: &str) -> anyhow::Result<NodeTraffic> {
    let node = |n: &str| resolve_account(keys, n).map_err(|e| format!("{:#}", anyhow::Error::from(e)));
    client::words::traffic(text, node).map_err(anyhow::Error::msg)
}

pub fn router(cmd: &RouterCommand, client: &Client, keys: &Path, json: bool) -> anyhow::Result<()> {
    let (common, call) = match cmd {
        RouterCommand::Register { common, endpoint } => (
            common,
            Call::RegisterNode { roles: vec![Role::Router], services: vec![], capacity: 1, endpoint: endpoint.clone() },
        ),
        RouterCommand::Accept { common, member } => (common, Call::AcceptNode { node: resolve_account(keys, member)? }),
        RouterCommand::Attach { common, router } => {
            (common, Call::AttachRouter { router: resolve_account(keys, router)? })
        }
        RouterCommand::Detach { common, member } => {
            (common, Call::DetachRouter { node: resolve_account(keys, member)? })
        }
        RouterCommand::Report { common, epoch, validator_latency_ms, nodes } => {
            let epoch = match epoch {
                Some(e) => *e,
                None => client.epoch()?.epoch,
            };
            let nodes = nodes.iter().map(|n| parse_traffic(keys, n)).collect::<anyhow::Result<Vec<_>>>()?;
            (common, Call::ReportRouterEpoch { epoch, validator_latency_ms: *validator_latency_ms, nodes })
        }
        RouterCommand::Traffic { common, router, bytes, epoch } => {
            let epoch = match epoch {
                Some(e) => *e,
                None => client.epoch()?.epoch,
            };
            (common, Call::ReportNodeTraffic { epoch, router: resolve_account(keys, router)?, bytes: *bytes })
        }
        RouterCommand::Run { .. } => unreachable!("run is dispatched by main"),
        RouterCommand::List => {
            return crate::show(&client.routers()?);
        }
    };
    submit_call(client, keys, common, call, json)
}

pub fn list(cmd: &ListCommand, client: &Client, keys: &Path, json: bool) -> anyhow::Result<()> {
    match cmd {
        ListCommand::Publish { common, name, nodes } => {
            let nodes = crate::keys::resolve_accounts(keys, nodes)?;
            submit_call(client, keys, common, Call::PublishList { name: name.clone(), nodes }, json)
        }
    }
}
