//! The `stakework` binary. Thin: it parses flags, calls the library crates and prints results.

/// `println!` for command output: a closed pipe (`stakework demo | head`) ends the program quietly
/// instead of panicking, and any other write error is reported.
macro_rules! outln {
    ($($t:tt)*) => { $crate::write_stdout(format_args!($($t)*)) };
}

/// mimalloc: about 30% faster than the system allocator on the simulator's and the engine's many small
/// allocations (measured in docs/BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod agent_cmd;
mod bench;
mod demo;
mod genesis_cmd;
mod job_cmd;
mod keys;
mod market_cmd;
mod node_cmd;
mod query;
mod router_cmd;
mod sim_cmd;
mod tx;

use clap::{Parser, Subcommand};

/// stakework: the coordination and settlement layer of a decentralized compute network.
///
/// One deterministic ledger (block height is time) settles the network: accounts, transfers, stake,
/// holds (escrow), fees and epochs. Start with `stakework demo`.
#[derive(Debug, Parser)]
#[command(name = "stakework", version, propagate_version = true)]
struct Cli {
    /// Node API address for tx, query and agent commands (default: $STAKEWORK_NODE, else
    /// http://127.0.0.1:7650); several as URL,URL,… (validators of one network): calls fail over between them.
    #[arg(long, global = true, value_name = "URL")]
    node: Option<String>,
    /// Directory of key files (default: $STAKEWORK_HOME/keys, else ~/.stakework/keys).
    #[arg(long, global = true, value_name = "DIR")]
    keys_dir: Option<std::path::PathBuf>,
    /// Print results as JSON (queries, keys, tx).
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The main job: a whole network of real processes on loopback (a node on a fresh temporary data
    /// directory, six miners, two oracles, a router, three clients, a training job); prints what the chain
    /// says happened, the conservation audit and a replay check. `--keep` leaves the validators running and
    /// prints the explorer's URL; `--walkthrough` for the scripted ledger tour.
    Demo(demo::DemoArgs),
    /// Measure performance and print figures with ratios against a baseline measured in the same run.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
    /// The network simulator: seeded scenarios through the engine's own rules, written as CSV and summary.md.
    #[command(subcommand)]
    Sim(sim_cmd::SimCommand),
    /// Check or print genesis files (parameters and initial balances, one TOML document).
    #[command(subcommand)]
    Genesis(genesis_cmd::GenesisCommand),
    /// Run a node (mempool, sequencer, durable block log, HTTP API), or register, deregister or report
    /// status in the node registry.
    Node(node_cmd::NodeCmd),
    /// List or show services (inference kinds with weights and prices).
    #[command(subcommand)]
    Service(market_cmd::ServiceCommand),
    /// Governance: propose changes and vote with bonded stake.
    #[command(subcommand)]
    Gov(market_cmd::GovCommand),
    /// Proof-of-Useful-Work tasks: submit (client), advance (oracle), list, show.
    #[command(subcommand)]
    Task(market_cmd::TaskCommand),
    /// Federated training jobs: order, select-mpcs, report, replace-mpc (coordinator); query, cancel
    /// (query client); accept, status (data owners and MPC nodes); list.
    #[command(subcommand)]
    Job(job_cmd::JobCommand),
    /// Run a miner agent: registers, heartbeats, serves requests through the stake-weighted queue and does
    /// its part of Proof-of-Useful-Work tasks, with an OpenAI-compatible backend or the built-in one.
    Miner(agent_cmd::MinerArgs),
    /// Run an oracle agent: advances tasks once everyone acted or a deadline passed.
    Oracle(agent_cmd::OracleArgs),
    /// Run a client: requests through a router (prompts relayed to miners, answers checked against the
    /// miners' on-chain result hashes, then rated), then tasks.
    Client(agent_cmd::ClientArgs),
    /// Run a coordinator (GDS) for one training job: order it, select its MPC nodes, report members that
    /// fall silent, until it settles.
    Coordinator(agent_cmd::CoordinatorArgs),
    /// Run a data owner or MPC node of a training job: deposit, post progress each epoch, complete.
    Trainer(agent_cmd::TrainerArgs),
    /// Routers: register, attach a node, report an epoch's traffic (router) or a node's own count, list.
    #[command(subcommand)]
    Router(router_cmd::RouterCommand),
    /// Curated lists of nodes clients may avoid: publish your own (needs bonded stake).
    #[command(subcommand)]
    List(router_cmd::ListCommand),
    /// Inference requests: submit (client), complete (miner), rate (client), show.
    #[command(subcommand)]
    Request(market_cmd::RequestCommand),
    /// Replay a data directory's whole block log from genesis and print the state root.
    Replay(node_cmd::ReplayArgs),
    /// Create, list and show signing keys (files of mode 0600).
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// Sign a transaction locally and submit it to the node.
    #[command(subcommand)]
    Tx(tx::TxCommand),
    /// Read accounts, blocks, receipts, parameters and events from the node.
    #[command(subcommand)]
    Query(query::QueryCommand),
    /// Follow the node's finalized blocks into PostgreSQL (docs/INDEXER.md): blocks, transactions, events.
    Index(indexer::IndexArgs),
}

pub(crate) fn write_stdout(args: std::fmt::Arguments) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_fmt(args).and_then(|()| out.write_all(b"\n")) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: cannot write to stdout: {e}");
        std::process::exit(1);
    }
}

/// Print `v` as pretty JSON.
fn show<T: serde::Serialize>(v: &T) -> anyhow::Result<()> {
    outln!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

/// Print `v` as pretty JSON with `--json`, else its text (`client::text`); an empty text (an empty list)
/// prints nothing.
fn print<T: serde::Serialize>(v: &T, json: bool, text: impl FnOnce(&T) -> String) -> anyhow::Result<()> {
    if json {
        return show(v);
    }
    let text = text(v);
    if !text.is_empty() {
        outln!("{text}");
    }
    Ok(())
}

/// What the network commands share: where the node is, where the keys are, and the output form.
struct Ctx {
    node: Option<String>,
    keys_dir: Option<std::path::PathBuf>,
    json: bool,
}

impl Ctx {
    /// `--node`, else `$STAKEWORK_NODE`, else the default address.
    fn url(&self) -> String {
        let env = std::env::var("STAKEWORK_NODE").ok();
        self.node.as_deref().or(env.as_deref()).unwrap_or(client::DEFAULT_NODE).to_string()
    }

    fn client(&self) -> client::Client {
        client::Client::from_list(&self.url())
    }

    fn keys(&self) -> std::path::PathBuf {
        keys::keys_dir(self.keys_dir.as_deref())
    }
}

fn main() {
    store::quiet_damage_panics();
    let cli = Cli::parse();
    let ctx = Ctx { node: cli.node, keys_dir: cli.keys_dir, json: cli.json };
    if let Err(e) = run(cli.command, &ctx) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn run(command: Command, ctx: &Ctx) -> anyhow::Result<()> {
    let (url, keys, json) = (ctx.url(), ctx.keys(), ctx.json);
    match command {
        Command::Demo(args) => demo::run(&args, json),
        Command::Bench(cmd) => bench::run(&cmd, json),
        Command::Genesis(cmd) => genesis_cmd::run(&cmd, &keys, json),
        Command::Sim(cmd) => sim_cmd::run(&cmd, json),
        Command::Replay(args) => node_cmd::replay(&args),
        Command::Node(node_cmd::NodeCmd { action: None, run }) => node_cmd::run(&run),
        Command::Node(node_cmd::NodeCmd { action: Some(a), .. }) => {
            market_cmd::node_action(&a, &ctx.client(), &keys, json)
        }
        Command::Service(cmd) => market_cmd::service(&cmd, &ctx.client(), json),
        Command::Gov(cmd) => market_cmd::gov(&cmd, &ctx.client(), &keys, json),
        Command::Task(cmd) => market_cmd::task(&cmd, &ctx.client(), &keys, json),
        Command::Request(cmd) => market_cmd::request(&cmd, &ctx.client(), &keys, json),
        Command::Job(cmd) => job_cmd::run(&cmd, &ctx.client(), &keys, json),
        Command::Router(router_cmd::RouterCommand::Run { from, listen }) => {
            agent_cmd::router_run(&from, &listen, &url, &keys)
        }
        Command::Router(cmd) => router_cmd::router(&cmd, &ctx.client(), &keys, json),
        Command::List(cmd) => router_cmd::list(&cmd, &ctx.client(), &keys, json),
        Command::Coordinator(args) => agent_cmd::coordinator(args, &url, &keys, json),
        Command::Trainer(args) => agent_cmd::trainer(args, &url, &keys),
        Command::Client(args) => agent_cmd::client(args, &url, &keys, json),
        Command::Miner(args) => agent_cmd::miner(args, &url, &keys),
        Command::Oracle(args) => agent_cmd::oracle(args, &url, &keys),
        Command::Keys(cmd) => keys::run(&cmd, &keys, json),
        Command::Tx(cmd) => tx::run(&cmd, &ctx.client(), &keys, json),
        Command::Query(cmd) => query::run(&cmd, &ctx.client(), &keys, json),
        Command::Index(args) => {
            let summary = indexer::run(&args.settings(&url), &mut |s| eprintln!("index: {}", s.text()))?;
            print(&summary, json, indexer::Summary::text)
        }
    }
}

#[cfg(test)]
mod tests {
    /// Every subcommand's flags are consistent (clap checks this lazily, at run time, otherwise).
    #[test]
    fn the_command_line_definition_is_valid() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
