//! Starting agents as processes: the backend a miner's flags name, the HTTP endpoints (a miner's
//! `/infer`, a router's relay) on their own runtime, and an agent's loop on a thread until SIGINT or
//! SIGTERM. `stakework miner|oracle|router run|client|coordinator|trainer` parse their flags, call these
//! and print what comes back.

use crate::backend::{Backend, BuiltinBackend, OpenAiBackend};
use crate::client::{ClientCtx, ClientStats};
use crate::miner::{Miner, MinerConfig, MinerStats};
use crate::oracle::{OracleStats, Similarity};
use crate::{AgentError, Log};
use ::client::{Client, Signer};
use api::JobView;
use protocol::JobOrder;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use types::{AccountId, Amount, JobId};

/// A miner's backend: `builtin` (deterministic, not a model; `lazy` answers filler) or `openai` (an
/// OpenAI-compatible server at `url`).
pub fn backend(
    kind: &str,
    url: Option<&str>,
    model: &str,
    timeout: Duration,
    lazy: bool,
) -> Result<Box<dyn Backend>, AgentError> {
    match kind {
        "builtin" => Ok(Box::new(BuiltinBackend { lazy })),
        "openai" => {
            let url = url.ok_or_else(|| AgentError::Config("--backend openai needs --backend-url".into()))?;
            Ok(Box::new(OpenAiBackend::new(url, model, timeout)))
        }
        other => Err(AgentError::Config(format!("unknown backend {other:?}: use builtin or openai"))),
    }
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) else {
            let _ = ctrl_c.await;
            return;
        };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

fn runtime(threads: Option<usize>) -> Result<tokio::runtime::Runtime, AgentError> {
    let mut b = match threads {
        Some(n) => {
            let mut b = tokio::runtime::Builder::new_multi_thread();
            b.worker_threads(n);
            b
        }
        None => tokio::runtime::Builder::new_current_thread(),
    };
    b.enable_all().build().map_err(|e| AgentError::Config(format!("runtime: {e}")))
}

/// Run `work` on a thread until SIGINT/SIGTERM sets the stop flag (or the work ends), then wait for it.
pub fn until_signal<T: Send + 'static>(
    work: impl FnOnce(Arc<AtomicBool>) -> T + Send + 'static,
) -> Result<T, AgentError> {
    until_signal_on(&runtime(None)?, work)
}

fn until_signal_on<T: Send + 'static>(
    rt: &tokio::runtime::Runtime,
    work: impl FnOnce(Arc<AtomicBool>) -> T + Send + 'static,
) -> Result<T, AgentError> {
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicBool::new(false));
    let worker = {
        let (stop, done) = (stop.clone(), done.clone());
        std::thread::spawn(move || {
            let out = work(stop);
            done.store(true, Ordering::Relaxed);
            out
        })
    };
    let watcher = done.clone();
    rt.block_on(async move {
        tokio::select! {
            _ = shutdown_signal() => {},
            _ = async { while !watcher.load(Ordering::Relaxed) { tokio::time::sleep(Duration::from_millis(100)).await } } => {},
        }
    });
    stop.store(true, Ordering::Relaxed);
    worker.join().map_err(|_| AgentError::Config("the agent thread panicked".into()))
}

/// A two-thread runtime and a listener bound on it.
fn bind(listen: &str) -> Result<(tokio::runtime::Runtime, tokio::net::TcpListener, SocketAddr), AgentError> {
    let rt = runtime(Some(2))?;
    let listener = rt
        .block_on(tokio::net::TcpListener::bind(listen))
        .map_err(|e| AgentError::Config(format!("listen on {listen}: {e}")))?;
    let addr = listener.local_addr().map_err(|e| AgentError::Config(format!("local address: {e}")))?;
    Ok((rt, listener, addr))
}

/// Serve a miner's endpoint on `listen` and run the miner until a signal. It registers `endpoint`, by
/// default http:// and the address it listens on (`cfg.endpoint` is set to it).
pub fn run_miner(
    api: Client,
    signer: Signer,
    backend: Box<dyn Backend>,
    mut cfg: MinerConfig,
    (listen, endpoint): (&str, Option<String>),
    log: Log,
) -> Result<MinerStats, AgentError> {
    let (rt, listener, addr) = bind(listen)?;
    let inbox = Arc::new(crate::serve::Inbox::default());
    let identity = Arc::new(crate::seal::Identity::new(signer.key()));
    let (halt, mut halted) = tokio::sync::watch::channel(false);
    rt.spawn(crate::serve::serve(listener, inbox.clone(), identity, async move {
        let _ = halted.changed().await;
    }));
    cfg.endpoint = endpoint.unwrap_or_else(|| format!("http://{addr}"));
    log.line(&format!("endpoint {} (listening on {addr})", cfg.endpoint));
    let stats = until_signal_on(&rt, move |stop| -> Result<MinerStats, AgentError> {
        let mut miner = Miner::start(&api, signer, backend.as_ref(), cfg, &log, inbox)?;
        Ok(miner.run(&stop))
    })??;
    let _ = halt.send(true);
    Ok(stats)
}

/// Serve a router's relay on `listen` (`listening` is told its address) and report each epoch until a
/// signal. Returns the number of epoch reports.
pub fn run_router(
    api: Client,
    signer: Signer,
    listen: &str,
    log: Log,
    listening: impl FnOnce(SocketAddr),
) -> Result<u64, AgentError> {
    let (rt, listener, addr) = bind(listen)?;
    let meter = Arc::new(crate::router::Meter::default());
    let (halt, mut halted) = tokio::sync::watch::channel(false);
    rt.spawn(crate::router::serve(listener, api.clone(), meter.clone(), async move {
        let _ = halted.changed().await;
    }));
    log.line(&format!("relaying on http://{addr}"));
    listening(addr);
    let reports = until_signal_on(&rt, move |stop| crate::router::run_reporter(&api, &signer, &meter, &stop, &log))?;
    let _ = halt.send(true);
    Ok(reports)
}

/// What a client process does: requests (one after another, or one burst), then tasks. Also the flags
/// of `stakework client` after `--from` and `--router`.
#[derive(Debug, Clone, clap::Args)]
pub struct ClientPlan {
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
    pub max_price: Amount,
}

/// Run `plan`; its statistics and, for a burst, the mean wait in blocks (else 0).
pub fn run_client(ctx: &ClientCtx, plan: &ClientPlan, name: &str) -> Result<(ClientStats, f64), AgentError> {
    if let Some(h) = plan.at_height {
        wait_for_height(ctx.api, h, Duration::from_secs(120))?;
    }
    let mut stats = ClientStats::default();
    let mut waits = Vec::new();
    if let Some(since) = plan.placed_since {
        let placed = crate::client::placed_requests(ctx, since, plan.requests, Duration::from_secs(120))?;
        waits = crate::client::relay_burst(ctx, &placed, &mut stats)?;
    } else if plan.burst {
        waits = crate::client::burst(ctx, plan.service, plan.max_price, plan.requests, &mut stats)?;
    } else {
        for i in 0..plan.requests {
            let prompt = format!("Question {i} from {name}: what is proof of useful work?");
            crate::client::request_once(ctx, plan.service, plan.max_price, &prompt, &mut stats)?;
        }
    }
    let mean_wait = if waits.is_empty() { 0.0 } else { waits.iter().sum::<u64>() as f64 / waits.len() as f64 };
    for _ in 0..plan.tasks {
        let price = plan.max_price.checked_mul(3).ok_or_else(|| AgentError::Config("price overflow".into()))?;
        match crate::client::task_once(ctx.api, ctx.signer, plan.service, 3, price)? {
            Some(true) => stats.tasks_ended += 1,
            Some(false) => stats.tasks_failed += 1,
            None => {}
        }
    }
    Ok((stats, mean_wait))
}

/// Run an oracle (`semantic`: also attest similarity scores) until a signal, logging as `oracle NAME`.
pub fn run_oracle(
    api: Client,
    signer: Signer,
    poll: Duration,
    semantic: Option<Box<dyn Similarity>>,
    name: &str,
) -> Result<OracleStats, AgentError> {
    let log = Log { name: format!("oracle {name}"), quiet: false };
    until_signal(move |stop| {
        log.line(if semantic.is_some() { "watching tasks; attesting MiniLM scores" } else { "watching tasks" });
        crate::oracle::run_oracle(&api, &signer, poll, semantic.as_deref(), &stop, &log)
    })
}

/// Run the coordinator of the job `order` orders (with `mpcs` for its MPC nodes) until it settles or a
/// signal comes; the job as it ended.
pub fn run_coordinator(
    api: Client,
    signer: Signer,
    order: JobOrder,
    mpcs: Vec<AccountId>,
    name: &str,
) -> Result<JobView, AgentError> {
    let log = Log { name: format!("coordinator {name}"), quiet: false };
    until_signal(move |stop| crate::training::run_coordinator(&api, &signer, order, mpcs, &stop, &log))?
}

/// Run a data owner or MPC node of job `job` until a signal.
pub fn run_trainer(
    api: Client,
    signer: Signer,
    job: JobId,
    blocks_per_epoch: u64,
    name: &str,
) -> Result<(), AgentError> {
    let log = Log { name: format!("trainer {name}"), quiet: false };
    until_signal(move |stop| crate::training::run_member(&api, &signer, job, blocks_per_epoch, &stop, &log))?
}

/// Wait until the chain reaches height `h`, for at most `timeout`.
pub fn wait_for_height(api: &Client, h: u64, timeout: Duration) -> Result<(), AgentError> {
    let t0 = Instant::now();
    while api.height().map_err(|e| AgentError::Config(e.to_string()))? < h {
        if t0.elapsed() > timeout {
            return Err(AgentError::Config(format!("the chain did not reach height {h}")));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exit_lines_name_every_count() {
        let miner = MinerStats { requests_served: 1, task_actions: 2, heartbeats: 3, rejected: 4 };
        assert_eq!(miner.to_string(), "1 requests served, 2 task steps, 3 heartbeats, 4 rejected");
        let oracle = OracleStats { advanced: 1, refused: 2, attested: 3 };
        assert_eq!(oracle.to_string(), "1 advances, 2 refused, 3 attestations");
        let client = ClientStats {
            requests: 5,
            answered: 4,
            rated_good: 3,
            rated_bad: 1,
            unserved: 1,
            tasks_ended: 2,
            tasks_failed: 0,
        };
        assert_eq!(
            client.to_string(),
            "5 requests, 4 answered through the router, 3 rated good, 1 bad, 1 unserved; tasks 2 ended, 0 failed"
        );
    }

    #[test]
    fn backends_are_named_and_openai_needs_a_url() {
        let timeout = Duration::from_secs(1);
        let b = backend("builtin", None, "m", timeout, false).expect("builtin");
        assert!(!b.describe().is_empty());
        let e = backend("openai", None, "m", timeout, false).err().map(|e| e.to_string());
        assert_eq!(e.as_deref(), Some("--backend openai needs --backend-url"));
        assert!(backend("openai", Some("http://127.0.0.1:1"), "m", timeout, false).is_ok());
        let e = backend("gpt", None, "m", timeout, false).err().map(|e| e.to_string());
        assert_eq!(e.as_deref(), Some("unknown backend \"gpt\": use builtin or openai"));
    }

    #[test]
    fn the_work_ends_the_wait_when_no_signal_comes() {
        let out = until_signal(|stop| !stop.load(Ordering::Relaxed)).expect("joined");
        assert!(out, "the stop flag is set only after the work ends");
    }

    #[test]
    fn a_listener_reports_its_port() {
        let (_rt, _listener, addr) = bind("127.0.0.1:0").expect("bound");
        assert!(addr.ip().is_loopback() && addr.port() != 0);
        let e = bind("not an address").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e.starts_with("listen on not an address: "), "{e}");
    }
}
