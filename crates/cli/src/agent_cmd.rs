//! `stakework miner` and `stakework oracle`: agents that run until SIGINT or SIGTERM.

use agent::launch::ClientPlan;
use agent::miner::MinerConfig;
use agent::Log;
use anyhow::{bail, Context};
use clap::Args;
use client::{Client as NodeApi, Signer};
use std::path::Path;
use std::time::Duration;

#[derive(Debug, Args)]
pub struct MinerArgs {
    /// Name of the miner's key (see `stakework keys`).
    #[arg(long)]
    pub from: String,
    /// The service it serves.
    #[arg(long, default_value_t = 1)]
    pub service: u32,
    /// Requests it serves at once; more are queued by client stake.
    #[arg(long, default_value_t = 4)]
    pub capacity: u32,
    /// Address of its HTTP endpoint (`/infer`, `/health`), where routers reach it.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: String,
    /// The endpoint URL it registers (default: http:// and the address it listens on).
    #[arg(long)]
    pub endpoint: Option<String>,
    /// Attach to this router (an account id or key name) and report traffic through it.
    #[arg(long)]
    pub router: Option<String>,
    /// `builtin` (deterministic, not a model) or `openai` (an OpenAI-compatible server).
    #[arg(long, default_value = "builtin")]
    pub backend: String,
    /// The OpenAI-compatible server's base URL (llama.cpp server, vLLM, Ollama).
    #[arg(long)]
    pub backend_url: Option<String>,
    #[arg(long, default_value = "default")]
    pub model: String,
    /// Seconds the backend may take per answer.
    #[arg(long, default_value_t = 60)]
    pub backend_timeout_s: u64,
    /// Return filler instead of answers (a dishonest miner, for demos: Proof of Inference catches it).
    #[arg(long)]
    pub lazy: bool,
    /// Extra milliseconds per answer (a slow miner, for demos).
    #[arg(long, default_value_t = 0)]
    pub delay_ms: u64,
    /// Milliseconds between looks at the chain.
    #[arg(long, default_value_t = 100)]
    pub poll_ms: u64,
}

#[derive(Debug, Args)]
pub struct OracleArgs {
    /// Name of the oracle's key; it must be registered with the oracle role.
    #[arg(long)]
    pub from: String,
    /// `minilm`: also attest semantic Proof-of-Inference scores with the MiniLM sentence embedder (needs a
    /// build with `--features minilm` and `--model-dir`).
    #[arg(long)]
    pub embedder: Option<String>,
    /// The MiniLM model directory (config.json, tokenizer.json, model.safetensors; scripts/fetch-minilm.sh).
    #[arg(long)]
    pub model_dir: Option<std::path::PathBuf>,
    #[arg(long, default_value_t = 100)]
    pub poll_ms: u64,
}

#[derive(Debug, Args)]
pub struct ClientArgs {
    /// Name of the client's key.
    #[arg(long)]
    pub from: String,
    /// The router's relay URL (`stakework router run`).
    #[arg(long)]
    pub router: String,
    #[arg(long, default_value_t = 1)]
    pub service: u32,
    /// Requests to send, one after another.
    #[arg(long, default_value_t = 5)]
    pub requests: u32,
    /// Place the requests as one burst in a single block, relaying prompts in parallel (a busy client:
    /// miners' queues fill and serve by stake); reports the mean wait in blocks.
    #[arg(long)]
    pub burst: bool,
    /// Wait for this block height before starting (so several clients' bursts meet in the same queues).
    #[arg(long)]
    pub at_height: Option<u64>,
    /// With `--burst`: the burst's requests are placed on chain by someone else at or after this height
    /// (the demo places every client's burst in one batch, so they meet in one block); wait for them, then
    /// relay, check and rate them.
    #[arg(long, value_name = "HEIGHT", requires = "burst")]
    pub placed_since: Option<u64>,
    /// Tasks to order after the requests (redundancy 3).
    #[arg(long, default_value_t = 0)]
    pub tasks: u32,
    /// Most to pay per request (default: 1 SWK).
    #[arg(long, default_value = "1 SWK")]
    pub max_price: types::Amount,
}

/// Load key `from` and connect to the node (chain id and minimum fee read once).
fn connect(from: &str, node_url: &str, keys: &Path) -> anyhow::Result<(NodeApi, Signer)> {
    let key = crate::keys::load(keys, from)?;
    let api = NodeApi::new(node_url);
    let signer = Signer::connect(&api, key).with_context(|| format!("cannot reach the node at {node_url}"))?;
    Ok((api, signer))
}

/// An agent's error as the CLI reports it.
fn failed(e: agent::AgentError) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

pub fn miner(args: MinerArgs, node_url: &str, keys: &Path) -> anyhow::Result<()> {
    let timeout = Duration::from_secs(args.backend_timeout_s);
    let backend = agent::launch::backend(&args.backend, args.backend_url.as_deref(), &args.model, timeout, args.lazy)
        .map_err(failed)?;
    let (api, signer) = connect(&args.from, node_url, keys)?;
    let router = args.router.as_deref().map(|r| crate::keys::resolve_account(keys, r)).transpose()?;
    let cfg = MinerConfig {
        service: args.service,
        capacity: args.capacity,
        endpoint: String::new(),
        poll: Duration::from_millis(args.poll_ms),
        delay: Duration::from_millis(args.delay_ms),
        router,
        prompt_wait_blocks: 5,
    };
    let log = Log { name: format!("miner {}", args.from), quiet: false };
    let listen = (args.listen.as_str(), args.endpoint.clone());
    let stats = agent::launch::run_miner(api, signer, backend, cfg, listen, log).map_err(failed)?;
    eprintln!("miner {}: stopped; {stats}", args.from);
    Ok(())
}

pub fn oracle(args: OracleArgs, node_url: &str, keys: &Path) -> anyhow::Result<()> {
    let (api, signer) = connect(&args.from, node_url, keys)?;
    let me = signer.account;
    if !api.node(&me)?.roles.contains(&protocol::Role::Oracle) {
        bail!("{me} is not registered as an oracle (stakework node register --role oracle)");
    }
    let semantic = semantic_embedder(args.embedder.as_deref(), args.model_dir.as_deref())?;
    let poll = Duration::from_millis(args.poll_ms);
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
    let plan = ClientPlan {
        service: args.service,
        requests: args.requests,
        burst: args.burst,
        at_height: args.at_height,
        placed_since: args.placed_since,
        tasks: args.tasks,
        max_price: args.max_price,
    };
    let (stats, mean_wait) = agent::launch::run_client(&ctx, &plan, &args.from).map_err(failed)?;
    if json {
        outln!("{}", serde_json::to_string(&agent::client::ClientReport::new(&stats, mean_wait))?);
    } else {
        outln!("client {}: {stats}", args.from);
    }
    Ok(())
}

#[derive(Debug, Args)]
pub struct CoordinatorArgs {
    /// Name of the coordinator's key (registered with the coordinator role).
    #[arg(long)]
    pub from: String,
    /// The job's UUID.
    #[arg(long)]
    pub id: types::JobId,
    /// horizontal or vertical.
    #[arg(long, default_value = "horizontal")]
    pub kind: String,
    #[arg(long)]
    pub qc: String,
    #[arg(long = "do", required = true)]
    pub dos: Vec<String>,
    #[arg(long = "mpc", required = true)]
    pub mpcs: Vec<String>,
    #[arg(long)]
    pub price: types::Amount,
    #[arg(long, default_value_t = 3)]
    pub epochs: u32,
    #[arg(long)]
    pub quote: types::Amount,
}

#[derive(Debug, Args)]
pub struct TrainerArgs {
    /// Name of the member's key (a data owner or MPC node of the job).
    #[arg(long)]
    pub from: String,
    #[arg(long)]
    pub job: types::JobId,
    /// Blocks between status updates (one per training epoch).
    #[arg(long, default_value_t = 2)]
    pub blocks_per_epoch: u64,
}

/// `stakework coordinator`: the GDS of one job, until it settles (or SIGINT/SIGTERM).
pub fn coordinator(args: CoordinatorArgs, node_url: &str, keys: &Path, json: bool) -> anyhow::Result<()> {
    let (api, signer) = connect(&args.from, node_url, keys)?;
    let kind = client::words::job_kind(&args.kind)
        .map_err(|_| anyhow::anyhow!("unknown kind {:?}: horizontal or vertical", args.kind))?;
    let order = protocol::JobOrder {
        id: args.id,
        kind,
        qc: crate::keys::resolve_account(keys, &args.qc)?,
        dos: crate::keys::resolve_accounts(keys, &args.dos)?,
        price_per_do: args.price,
        complexity: 1,
        mpc_factor: 1,
        epochs: args.epochs,
        quote: args.quote,
    };
    let mpcs = crate::keys::resolve_accounts(keys, &args.mpcs)?;
    let view = agent::launch::run_coordinator(api, signer, order, mpcs, &args.from).map_err(failed)?;
    if json {
        outln!("{}", serde_json::to_string_pretty(&view)?);
    } else {
        let outcome = view.job.outcome.as_ref().map_or("none".to_string(), |o| format!("{o:?}"));
        outln!("job {}: {:?} {outcome}", args.id, view.job.phase);
    }
    Ok(())
}

/// `stakework trainer`: a data owner or MPC node working on one job.
pub fn trainer(args: TrainerArgs, node_url: &str, keys: &Path) -> anyhow::Result<()> {
    let (api, signer) = connect(&args.from, node_url, keys)?;
    agent::launch::run_trainer(api, signer, args.job, args.blocks_per_epoch, &args.from).map_err(failed)
}

#[cfg(feature = "minilm")]
struct MiniLmSimilarity(embed::minilm::MiniLm);

#[cfg(feature = "minilm")]
impl agent::oracle::Similarity for MiniLmSimilarity {
    fn similarity_ppb(&self, a: &str, b: &str) -> Result<i64, agent::AgentError> {
        self.0.similarity_ppb(a, b).map_err(|e| agent::AgentError::Config(format!("MiniLM: {e}")))
    }
}

type Semantic = Option<Box<dyn agent::oracle::Similarity>>;

/// The oracle's semantic embedder, if one was asked for.
fn semantic_embedder(embedder: Option<&str>, model_dir: Option<&Path>) -> anyhow::Result<Semantic> {
    match embedder {
        None => Ok(None),
        Some("minilm") => {
            let dir = model_dir.context("--embedder minilm needs --model-dir (see scripts/fetch-minilm.sh)")?;
            load_minilm(dir)
        }
        Some(other) => bail!("unknown embedder {other:?}: the only one is minilm"),
    }
}

#[cfg(feature = "minilm")]
fn load_minilm(dir: &Path) -> anyhow::Result<Semantic> {
    let model =
        embed::minilm::MiniLm::load(dir).map_err(|e| anyhow::anyhow!("loading MiniLM from {}: {e}", dir.display()))?;
    Ok(Some(Box::new(MiniLmSimilarity(model))))
}

#[cfg(not(feature = "minilm"))]
fn load_minilm(_dir: &Path) -> anyhow::Result<Semantic> {
    bail!("this stakework was built without MiniLM: build it with `cargo build --release -p cli --features minilm`")
}
