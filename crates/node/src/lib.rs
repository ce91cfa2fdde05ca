//! The stakework node: mempool, sequencer, durable block log and the HTTP/JSON API.
//!
//! One sequencer thread is the only writer. It seals a block every `block_ms` (or sooner when the mempool
//! holds a full block), appends it to the store with fsync while still holding the engine's write lock,
//! and only then announces the commit. So a client never sees, and is never told about, a block that is
//! not on disk, and an acknowledged transaction (`?wait=commit`) survives any crash.
//!
//! Errors are JSON `{code, message}` with stable codes; the caller's mistakes are 4xx, an overloaded
//! node is 503, and nothing is 500.

mod consensus;
mod explorer;
mod http;
mod mempool;
mod metrics;
mod sequencer;

use engine::Engine;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, RwLock};
use store::{Start, Store};

/// Validated node settings.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    /// Genesis TOML text; required the first time a data directory is used, then must match.
    pub genesis_toml: Option<String>,
    pub block_ms: u64,
    /// Most transactions waiting in the mempool; beyond this submissions get 503 `mempool_full`.
    pub mempool_max: usize,
    /// Store a snapshot every this many blocks.
    pub snapshot_every: u64,
    /// Largest request body accepted, in bytes.
    pub body_limit: usize,
    /// Longest a `?wait=commit` request waits, in milliseconds.
    pub wait_ms_max: u64,
    /// Check every stored block and index entry at start, not only the newest (repairs index damage
    /// anywhere; takes time proportional to the whole log).
    pub check_all_at_start: bool,
    /// The validator's ed25519 secret (the seed of its key file) when the genesis names validators: the
    /// node then agrees on blocks with the others (docs/CONSENSUS.md) instead of sealing them itself.
    pub validator_key: Option<[u8; 32]>,
    /// The newest protocol version this node executes (`--max-protocol-version`): below
    /// [`engine::PROTOCOL_VERSION_MAX`] it simulates an older binary, for upgrade rehearsals.
    pub max_protocol_version: u32,
}

impl NodeConfig {
    pub fn new(data_dir: PathBuf, listen: SocketAddr) -> NodeConfig {
        NodeConfig {
            data_dir,
            listen,
            genesis_toml: None,
            block_ms: 500,
            mempool_max: 100_000,
            snapshot_every: 1_000,
            body_limit: 8 * 1024 * 1024,
            wait_ms_max: 30_000,
            check_all_at_start: false,
            validator_key: None,
            max_protocol_version: engine::PROTOCOL_VERSION_MAX,
        }
    }
}

/// Why a node could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error("cannot listen on {addr}: {message}")]
    Listen { addr: SocketAddr, message: String },
    #[error("invalid setting {field}: {message}")]
    Config { field: &'static str, message: String },
}

impl StartError {
    /// Stable code: the store's own code for a store error.
    pub fn code(&self) -> &'static str {
        match self {
            StartError::Store(e) => e.code(),
            StartError::Listen { .. } => "listen_failed",
            StartError::Config { .. } => "config_invalid",
        }
    }
}

pub(crate) struct Shared {
    /// The committed state; in consensus mode shared with the validator, which advances it.
    pub engine: Arc<RwLock<Engine>>,
    /// In consensus mode, where admitted transactions are sent to the other validators.
    pub gossip: std::sync::OnceLock<bft::Gossip>,
    pub store: Store,
    pub mempool: Mutex<mempool::Mempool>,
    pub wake: std::sync::Condvar,
    pub commits: tokio::sync::broadcast::Sender<Arc<api::StoredOutcome>>,
    pub metrics: metrics::Metrics,
    pub cfg: NodeConfig,
    pub stopping: AtomicBool,
    /// Admission slots: one per core, so signature checking never oversubscribes the CPU.
    pub admission: tokio::sync::Semaphore,
    /// Flips to true when the node begins to stop; event streams end on it.
    pub shutdown: tokio::sync::watch::Receiver<bool>,
    /// The genesis accounts' names (the explorer shows and searches them; they are not chain state).
    pub names: std::collections::BTreeMap<types::AccountId, String>,
}

/// A running node: its address and the means to stop it.
#[derive(Debug)]
pub struct RunningNode {
    pub addr: SocketAddr,
    pub recovered_height: u64,
    /// Damaged index entries the start found and rewrote from the blocks.
    pub index_repaired: u64,
}

/// Check the data directory and recover from it read-only, bind, then open it for writing and serve until
/// SIGINT/SIGTERM; a start refused before that point leaves the directory unchanged. `on_ready` is called
/// once the socket is bound (with the real address, useful with port 0).
pub async fn run(cfg: NodeConfig, on_ready: impl FnOnce(&RunningNode)) -> Result<(), StartError> {
    run_until(cfg, on_ready, shutdown_signal()).await
}

/// [`run`], stopping gracefully when `stop` resolves instead of on a signal (in-process tests).
pub async fn run_until(
    cfg: NodeConfig,
    on_ready: impl FnOnce(&RunningNode),
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), StartError> {
    check_settings(&cfg)?;
    // Read-only until ready: every check that can refuse the start runs before the first write, so a
    // refused start (bad genesis, busy port, another chain's directory) leaves the directory unchanged.
    let start = Start::prepare_checking(&cfg.data_dir, cfg.genesis_toml.as_deref(), cfg.check_all_at_start)?;
    consensus::check_key(start.genesis(), cfg.validator_key.as_ref(), cfg.block_ms)?;
    let genesis = start.genesis().clone();
    let names = genesis.accounts.iter().filter_map(|a| a.name.clone().map(|n| (a.id, n))).collect();
    let listener = tokio::net::TcpListener::bind(cfg.listen)
        .await
        .map_err(|e| StartError::Listen { addr: cfg.listen, message: e.to_string() })?;
    let addr = listener.local_addr().map_err(|e| StartError::Listen { addr: cfg.listen, message: e.to_string() })?;
    let (store, mut engine, recovery): (Store, _, _) = start.commit()?;
    engine
        .set_max_protocol_version(cfg.max_protocol_version)
        .map_err(|message| StartError::Config { field: "--max-protocol-version", message })?;
    let (commits, _) = tokio::sync::broadcast::channel(1024);
    let recovered_height = engine.height().0;
    let (stop_tx, shutdown) = tokio::sync::watch::channel(false);
    let shared = Arc::new(Shared {
        mempool: Mutex::new(mempool::Mempool::new(cfg.mempool_max)),
        engine: Arc::new(RwLock::new(engine)),
        gossip: std::sync::OnceLock::new(),
        store,
        wake: std::sync::Condvar::new(),
        commits,
        metrics: metrics::Metrics::new(),
        cfg,
        stopping: AtomicBool::new(false),
        admission: tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get())),
        shutdown,
        names,
    });
    let (stop_consensus, consensus_stop) = tokio::sync::oneshot::channel();
    let writer = match shared.cfg.validator_key {
        None => sequencer::spawn(shared.clone()),
        Some(key_seed) => {
            let storage = shared.cfg.data_dir.join("consensus");
            let block_interval = std::time::Duration::from_millis(shared.cfg.block_ms);
            let reporter = bft::Reporter::new(&genesis.params.chain_id, &key_seed);
            let telemetry = bft::TelemetryHandle(Arc::new(metrics::Telemetry(shared.clone(), reporter)));
            let net = bft::NetConfig { genesis, key_seed, storage, block_interval, telemetry };
            consensus::spawn(shared.clone(), net, consensus_stop)
        }
    };
    on_ready(&RunningNode { addr, recovered_height, index_repaired: recovery.index_repaired });
    let app = http::router(shared.clone());
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            stop.await;
            let _ = stop_tx.send(true);
        })
        .await;
    shared.stopping.store(true, std::sync::atomic::Ordering::SeqCst);
    shared.wake.notify_all();
    let _ = stop_consensus.send(());
    let _ = writer.join();
    served.map_err(|e| StartError::Listen { addr, message: e.to_string() })
}

/// The exit code of a node that stops because governance scheduled a protocol version its binary does not
/// implement (distinct from 70, a panic, and 74, a block it cannot make durable).
pub const EXIT_UNSUPPORTED_PROTOCOL: i32 = 76;

/// Stop the process at a block that runs a protocol version this binary does not implement, naming it.
pub(crate) fn stop_unsupported(error: &engine::BlockError) -> ! {
    eprintln!("fatal: [{}] {error}", error.code());
    std::process::exit(EXIT_UNSUPPORTED_PROTOCOL);
}

/// The settings' own ranges, checked before anything else.
fn check_settings(cfg: &NodeConfig) -> Result<(), StartError> {
    if cfg.block_ms == 0 || cfg.block_ms > 60_000 {
        return Err(StartError::Config { field: "--block-ms", message: "must be between 1 and 60000".into() });
    }
    if cfg.max_protocol_version == 0 || cfg.max_protocol_version > engine::PROTOCOL_VERSION_MAX {
        let message = format!("this binary implements protocol versions 1 to {}", engine::PROTOCOL_VERSION_MAX);
        return Err(StartError::Config { field: "--max-protocol-version", message });
    }
    if cfg.snapshot_every == 0 {
        return Err(StartError::Config { field: "--snapshot-every", message: "must be at least 1".into() });
    }
    Ok(())
}

/// Resolves on SIGINT or SIGTERM (agents use it too).
pub async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => {
                let _ = ctrl_c.await;
                return;
            }
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
