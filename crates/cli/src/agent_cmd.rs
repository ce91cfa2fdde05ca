//! `stakework miner` and `stakework oracle`: agents that run until SIGINT or SIGTERM.

use agent::backend::{Backend, BuiltinBackend, OpenAiBackend};
use agent::chain::{NodeApi, Signer};
use agent::miner::{Miner, MinerConfig};
use agent::Log;
use anyhow::{bail, Context};
use clap::Args;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
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
    /// The endpoint it registers (where a router reaches it).
    #[arg(long, default_value = "http://127.0.0.1:9000")]
    pub endpoint: String,
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
    #[arg(long, default_value_t = 100)]
    pub poll_ms: u64,
}

/// Run `work` on a thread until SIGINT/SIGTERM sets the stop flag, then wait for it to finish its step.
fn until_signal<T: Send + 'static>(work: impl FnOnce(Arc<AtomicBool>) -> T + Send + 'static) -> anyhow::Result<T> {
    let stop = Arc::new(AtomicBool::new(false));
    let worker = {
        let stop = stop.clone();
        std::thread::spawn(move || work(stop))
    };
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().context("signal runtime")?;
    let watcher = stop.clone();
    rt.block_on(async move {
        tokio::select! {
            _ = node::shutdown_signal() => {},
            _ = async { while !watcher.load(Ordering::Relaxed) { tokio::time::sleep(Duration::from_millis(100)).await } } => {},
        }
    });
    stop.store(true, Ordering::Relaxed);
    worker.join().map_err(|_| anyhow::anyhow!("the agent thread panicked"))
}

pub fn miner(args: MinerArgs, node_url: &str, keys: &Path) -> anyhow::Result<()> {
    let key = crate::keys::load(keys, &args.from)?;
    let backend: Box<dyn Backend> = match args.backend.as_str() {
        "builtin" => Box::new(BuiltinBackend { lazy: args.lazy }),
        "openai" => {
            let url = args.backend_url.as_deref().context("--backend openai needs --backend-url")?;
            Box::new(OpenAiBackend::new(url, &args.model, Duration::from_secs(args.backend_timeout_s)))
        }
        other => bail!("unknown backend {other:?}: use builtin or openai"),
    };
    let api = NodeApi::new(node_url);
    let signer = Signer::connect(&api, key).with_context(|| format!("cannot reach the node at {node_url}"))?;
    let cfg = MinerConfig {
        service: args.service,
        capacity: args.capacity,
        endpoint: args.endpoint.clone(),
        poll: Duration::from_millis(args.poll_ms),
        delay: Duration::from_millis(args.delay_ms),
    };
    let log = Log { name: format!("miner {}", args.from), quiet: false };
    let stats = until_signal(move |stop| -> anyhow::Result<agent::miner::MinerStats> {
        let mut miner = Miner::start(&api, signer, backend.as_ref(), cfg, &log)?;
        Ok(miner.run(&stop))
    })??;
    eprintln!(
        "miner {}: stopped; {} requests served, {} task steps, {} heartbeats, {} rejected",
        args.from, stats.requests_served, stats.task_actions, stats.heartbeats, stats.rejected
    );
    Ok(())
}

pub fn oracle(args: OracleArgs, node_url: &str, keys: &Path) -> anyhow::Result<()> {
    let key = crate::keys::load(keys, &args.from)?;
    let api = NodeApi::new(node_url);
    let signer = Signer::connect(&api, key).with_context(|| format!("cannot reach the node at {node_url}"))?;
    let me = signer.account;
    let node: serde_json::Value = api.get(&format!("/v1/nodes/{me}")).map_err(|e| anyhow::anyhow!("{e}"))?;
    if !node["roles"].as_array().is_some_and(|r| r.iter().any(|x| x == "oracle")) {
        bail!("{me} is not registered as an oracle (stakework node register --role oracle)");
    }
    let name = args.from.clone();
    let stats = until_signal(move |stop| {
        let log = Log { name: format!("oracle {name}"), quiet: false };
        log.line("watching tasks");
        agent::oracle::run_oracle(&api, &signer, Duration::from_millis(args.poll_ms), &stop, &log)
    })?;
    eprintln!("oracle {}: stopped; {} advances, {} refused", args.from, stats.advanced, stats.refused);
    Ok(())
}
