//! `stakework miner|oracle|client|coordinator|trainer|router run`: agents that run until SIGINT or SIGTERM.
//! Their flags are the agent crate's settings (`agent::args`); here keys are loaded and named accounts
//! resolved, and what the agent returns is printed.

pub use agent::args::{ClientArgs, CoordinatorArgs, MinerArgs, OracleArgs, TrainerArgs};
use agent::Log;
use anyhow::{bail, Context};
use client::{Client as NodeApi, Signer};
use std::path::Path;

/// Load key `from` and connect to the node (chain id and minimum fee read once).
fn connect(from: &str, node_url: &str, keys: &Path) -> anyhow::Result<(NodeApi, Signer)> {
    let key = crate::keys::load(keys, from)?;
    let api = NodeApi::from_list(node_url);
    let signer = Signer::connect(&api, key).with_context(|| format!("cannot reach the node at {node_url}"))?;
    Ok((api, signer))
}

/// An agent's error as the CLI reports it.
fn failed(e: agent::AgentError) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

pub fn miner(args: MinerArgs, node_url: &str, keys: &Path) -> anyhow::Result<()> {
    let backend = args.backend().map_err(failed)?;
    let (api, signer) = connect(&args.from, node_url, keys)?;
    let router = args.router.as_deref().map(|r| crate::keys::resolve_account(keys, r)).transpose()?;
    let log = Log { name: format!("miner {}", args.from), quiet: false };
    let listen = (args.listen.as_str(), args.endpoint.clone());
    let stats = agent::launch::run_miner(api, signer, backend, args.config(router), listen, log).map_err(failed)?;
    eprintln!("miner {}: stopped; {stats}", args.from);
    Ok(())
}

pub fn oracle(args: OracleArgs, node_url: &str, keys: &Path) -> anyhow::Result<()> {
    let (api, signer) = connect(&args.from, node_url, keys)?;
    let me = signer.account;
    if !api.node(&me)?.roles.contains(&protocol::Role::Oracle) {
        bail!("{me} is not registered as an oracle (stakework node register --role oracle)");
    }
    let semantic = args.semantic().map_err(failed)?;
    let poll = std::time::Duration::from_millis(args.poll_ms);
    let stats = agent::launch::run_oracle(api, signer, poll, semantic, &args.from).map_err(failed)?;
    eprintln!("oracle {}: stopped; {stats}", args.from);
    Ok(())
}

/// `stakework router run`: the relay and the epoch reporter.
pub fn router_run(from: &str, listen: &str, node_url: &str, keys: &Path) -> anyhow::Result<()> {
    let (api, signer) = connect(from, node_url, keys)?;
    let log = Log { name: format!("router {from}"), quiet: false };
    // A line on stdout for scripts and tests that start the router on port 0.
    let listening = |addr| outln!("router relaying on http://{addr}");
    let reports = agent::launch::run_router(api, signer, listen, log, listening).map_err(failed)?;
    eprintln!("router {from}: stopped; {reports} epoch reports");
    Ok(())
}

/// `stakework client`: requests through a router, then tasks; prints what happened.
pub fn client(args: ClientArgs, node_url: &str, keys: &Path, json: bool) -> anyhow::Result<()> {
    let (api, signer) = connect(&args.from, node_url, keys)?;
    let log = Log { name: format!("client {}", args.from), quiet: false };
    let ctx = agent::client::ClientCtx { api: &api, signer: &signer, router: &args.router, log: &log };
    let (stats, mean_wait) = agent::launch::run_client(&ctx, &args.plan, &args.from).map_err(failed)?;
    let report = agent::client::ClientReport::new(&stats, mean_wait);
    crate::print(&report, json, |_| format!("client {}: {stats}", args.from))
}

/// `stakework coordinator`: the GDS of one job, until it settles (or SIGINT/SIGTERM).
pub fn coordinator(args: CoordinatorArgs, node_url: &str, keys: &Path, json: bool) -> anyhow::Result<()> {
    let (api, signer) = connect(&args.from, node_url, keys)?;
    let qc = crate::keys::resolve_account(keys, &args.order.qc)?;
    let order = args.order.order(args.id, qc, crate::keys::resolve_accounts(keys, &args.order.dos)?);
    let mpcs = crate::keys::resolve_accounts(keys, &args.mpcs)?;
    let view = agent::launch::run_coordinator(api, signer, order, mpcs, &args.from).map_err(failed)?;
    let outcome = view.job.outcome.as_ref().map_or("none".to_string(), |o| format!("{o:?}"));
    crate::print(&view, json, |v| format!("job {}: {:?} {outcome}", args.id, v.job.phase))
}

/// `stakework trainer`: a data owner or MPC node working on one job.
pub fn trainer(args: TrainerArgs, node_url: &str, keys: &Path) -> anyhow::Result<()> {
    let (api, signer) = connect(&args.from, node_url, keys)?;
    agent::launch::run_trainer(api, signer, args.job, args.blocks_per_epoch, &args.from).map_err(failed)
}
