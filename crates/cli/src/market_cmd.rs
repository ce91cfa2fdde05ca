//! CLI for the inference market: `node register|deregister|status`, `service`, `gov`, `request`.

use crate::tx::{submit_call, TxArgs};
use anyhow::Context;
use clap::Subcommand;
use client::Client;
use protocol::{Call, ProposalAction, Rating, ReportedStatus, Role};
use std::path::Path;
use types::{Amount, Hash};

#[derive(Debug, Subcommand)]
pub enum NodeAction {
    /// Join the registry (needs bonded stake ≥ every role's minimum; see `query params`).
    Register {
        #[command(flatten)]
        common: TxArgs,
        /// A role: miner, oracle, router, data-owner, mpc, coordinator (repeat for several).
        #[arg(long = "role", value_parser = client::words::role, required = true)]
        roles: Vec<Role>,
        /// A service id this node serves (repeat for several; miners need at least one).
        #[arg(long = "service")]
        services: Vec<u32>,
        /// Concurrent requests the node can serve.
        #[arg(long, default_value_t = 4)]
        capacity: u32,
        /// Where clients and routers reach the node (http:// or https://).
        #[arg(long)]
        endpoint: String,
    },
    /// Leave the registry; all bonded stake starts unbonding.
    Deregister {
        #[command(flatten)]
        common: TxArgs,
    },
    /// Report ready or busy (also the node's heartbeat).
    Status {
        #[command(flatten)]
        common: TxArgs,
        #[arg(value_parser = client::words::status)]
        status: ReportedStatus,
    },
}

#[derive(Debug, Subcommand)]
pub enum ServiceCommand {
    /// All services with their weights and prices.
    List,
    /// One service.
    Show { id: u32 },
}

#[derive(Debug, Subcommand)]
pub enum GovCommand {
    /// Propose a change (bonded accounts only); it takes effect at the epoch boundary after it passes.
    Propose {
        #[command(flatten)]
        common: TxArgs,
        #[command(subcommand)]
        change: Change,
    },
    /// Vote yes or no on an open proposal with your bonded stake.
    Vote {
        #[command(flatten)]
        common: TxArgs,
        #[arg(long)]
        proposal: u64,
        /// yes or no.
        #[arg(value_parser = client::words::vote, action = clap::ArgAction::Set)]
        vote: bool,
    },
    /// All proposals.
    List,
    /// One proposal with its votes.
    Show { id: u64 },
}

#[derive(Debug, Subcommand)]
pub enum Change {
    /// Add a service.
    AddService {
        #[arg(long)]
        name: String,
        #[arg(long)]
        weight: u32,
        #[arg(long)]
        price: Amount,
    },
    /// Set a service's weight.
    SetWeight {
        #[arg(long)]
        service: u32,
        #[arg(long)]
        weight: u32,
    },
    /// Set a service's Proof-of-Inference rule: its threshold, and whether oracles' semantic attestations
    /// decide it (tasks submitted after the change follow it).
    SetPoi {
        #[arg(long)]
        service: u32,
        /// Median similarity an output needs, in ppb (500000000 to 1000000000).
        #[arg(long, value_parser = parse_ppb)]
        threshold: types::Ppb,
        /// Wait for oracles' semantic attestations, which then decide (`true` or `false`).
        #[arg(long, action = clap::ArgAction::Set)]
        semantic: bool,
    },
    /// Set a protocol parameter (see `query params` for the names).
    SetParam {
        #[arg(long)]
        name: String,
        #[arg(long)]
        value: String,
    },
    /// Switch to protocol version V (the current + 1) from block H (≥ voting_period + epoch_length blocks
    /// from now); see docs/PROTOCOL.md "Protocol versions".
    #[command(disable_version_flag = true)]
    Upgrade {
        #[arg(long)]
        version: u32,
        #[arg(long)]
        height: u64,
    },
}

#[derive(Debug, Subcommand)]
pub enum TaskCommand {
    /// Order a Proof-of-Useful-Work task: `redundancy` miners run it; price × redundancy is held.
    Submit {
        #[command(flatten)]
        common: TxArgs,
        #[arg(long)]
        service: u32,
        #[arg(long, default_value_t = 3)]
        redundancy: u32,
        /// Most you will pay in all (default: the service's price × redundancy).
        #[arg(long)]
        max_price: Option<Amount>,
        /// A list whose nodes must not work on the task: NAME (the network's, e.g. underperformers) or
        /// OWNER/NAME (repeat for several).
        #[arg(long)]
        avoid: Vec<String>,
    },
    /// As an oracle, move a task on (once everyone acted or its deadline passed).
    Advance {
        #[command(flatten)]
        common: TxArgs,
        #[arg(long)]
        task: u64,
    },
    /// Open tasks and recently finished ones.
    List,
    /// One task.
    Show { id: u64 },
}

pub fn task(cmd: &TaskCommand, client: &Client, keys: &Path, json: bool) -> anyhow::Result<()> {
    let (common, call) = match cmd {
        TaskCommand::Submit { common, service, redundancy, max_price, avoid } => {
            let avoid = crate::router_cmd::parse_list_refs(keys, avoid)?;
            let max_price = match max_price {
                Some(p) => *p,
                None => {
                    let price = client.service(*service)?.price;
                    price.checked_mul(u128::from(*redundancy)).context("price × redundancy overflows")?
                }
            };
            (common, Call::SubmitTask { service: *service, redundancy: *redundancy, max_price, avoid })
        }
        TaskCommand::Advance { common, task } => (common, Call::AdvanceTask { task: *task }),
        TaskCommand::List => return crate::show(&client.tasks()?),
        TaskCommand::Show { id } => return crate::show(&client.task(*id)?),
    };
    submit_call(client, keys, common, call, json)
}

#[derive(Debug, Subcommand)]
pub enum RequestCommand {
    /// Ask for inference from a service; its price is held until the miner completes it or it expires.
    Submit {
        #[command(flatten)]
        common: TxArgs,
        #[arg(long)]
        service: u32,
        /// Most you will pay (default: the service's current price).
        #[arg(long)]
        max_price: Option<Amount>,
        /// A list whose nodes must not serve the request: NAME (the network's) or OWNER/NAME (repeatable).
        #[arg(long)]
        avoid: Vec<String>,
    },
    /// As the assigned miner, mark a request done with (the hash of) its result.
    Complete {
        #[command(flatten)]
        common: TxArgs,
        #[arg(long)]
        request: u64,
        /// The result text; its blake3 hash is recorded.
        #[arg(long)]
        result: String,
    },
    /// As the client, rate a completed request: good, fair or bad.
    Rate {
        #[command(flatten)]
        common: TxArgs,
        #[arg(long)]
        request: u64,
        #[arg(value_parser = client::words::rating)]
        rating: Rating,
    },
    /// One request.
    Show { id: u64 },
}

pub fn node_action(a: &NodeAction, client: &Client, keys: &Path, json: bool) -> anyhow::Result<()> {
    let (common, call) = match a {
        NodeAction::Register { common, roles, services, capacity, endpoint } => {
            let (roles, services, endpoint) = (roles.clone(), services.clone(), endpoint.clone());
            (common, Call::RegisterNode { roles, services, capacity: *capacity, endpoint })
        }
        NodeAction::Deregister { common } => (common, Call::DeregisterNode),
        NodeAction::Status { common, status } => (common, Call::ReportStatus { status: *status }),
    };
    submit_call(client, keys, common, call, json)
}

pub fn service(cmd: &ServiceCommand, client: &Client, json: bool) -> anyhow::Result<()> {
    match cmd {
        ServiceCommand::List => crate::print(&client.services()?, json, |s| client::text::services(s)),
        ServiceCommand::Show { id } => crate::show(&client.service(*id)?),
    }
}

pub fn gov(cmd: &GovCommand, client: &Client, keys: &Path, json: bool) -> anyhow::Result<()> {
    let (common, call) = match cmd {
        GovCommand::Propose { common, change } => (common, Call::Propose { action: change.action() }),
        GovCommand::Vote { common, proposal, vote } => (common, Call::Vote { proposal: *proposal, approve: *vote }),
        GovCommand::List => return crate::print(&client.proposals()?, json, |p| client::text::proposals(p)),
        GovCommand::Show { id } => return crate::show(&client.proposal(*id)?),
    };
    submit_call(client, keys, common, call, json)
}

/// A ratio in parts per billion: 0 to 1000000000.
fn parse_ppb(s: &str) -> Result<types::Ppb, String> {
    let raw: u32 = s.parse().map_err(|_| format!("{s:?} is not a whole number of ppb"))?;
    types::Ppb::new(raw).ok_or_else(|| format!("{raw} is above 1000000000 ppb (100%)"))
}

impl Change {
    fn action(&self) -> ProposalAction {
        match self {
            Change::AddService { name, weight, price } => {
                ProposalAction::AddService { name: name.clone(), weight: *weight, price: *price }
            }
            Change::SetWeight { service, weight } => {
                ProposalAction::SetServiceWeight { service: *service, weight: *weight }
            }
            Change::SetPoi { service, threshold, semantic } => {
                ProposalAction::SetServicePoi { service: *service, poi_threshold: *threshold, semantic_poi: *semantic }
            }
            Change::SetParam { name, value } => ProposalAction::SetParam { name: name.clone(), value: value.clone() },
            Change::Upgrade { version, height } => {
                ProposalAction::ScheduleUpgrade { version: *version, height: types::Height(*height) }
            }
        }
    }
}

pub fn request(cmd: &RequestCommand, client: &Client, keys: &Path, json: bool) -> anyhow::Result<()> {
    let (common, call) = match cmd {
        RequestCommand::Submit { common, service, max_price, avoid } => {
            let avoid = crate::router_cmd::parse_list_refs(keys, avoid)?;
            let max_price = match max_price {
                Some(p) => *p,
                None => client.service(*service)?.price,
            };
            (common, Call::SubmitRequest { service: *service, max_price, avoid })
        }
        RequestCommand::Complete { common, request, result } => {
            let result_hash = Hash(*blake3::hash(result.as_bytes()).as_bytes());
            (common, Call::CompleteRequest { request: *request, result_hash })
        }
        RequestCommand::Rate { common, request, rating } => {
            (common, Call::RateRequest { request: *request, rating: *rating })
        }
        RequestCommand::Show { id } => return crate::show(&client.request(*id)?),
    };
    submit_call(client, keys, common, call, json)
}
