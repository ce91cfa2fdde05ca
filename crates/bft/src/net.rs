//! One validator as a node process runs it: commonware's tokio runtime on the calling thread (it builds
//! and blocks on its own runtime, so it cannot run inside the node's), the authenticated `lookup` network
//! at the validator's p2p address with every other genesis validator (every candidate, elected or not:
//! all of them stay connected, and a candidate out of the era's set follows its certificates) as a known
//! peer, the six
//! channels, [`start_validator`] and transaction gossip; until `stop` resolves or the validator stops on a
//! finalized block it cannot take.

use crate::{
    start_gossip, start_validator, App, AppConfig, AppError, FinalizeError, Gossip, Sink, TxSource, CHANNEL_TXS,
};
use commonware_codec::{DecodeExt, Encode};
use commonware_cryptography::{ed25519, Signer};
use commonware_p2p::{authenticated::lookup, Address, AddressableManager};
use commonware_runtime::{tokio as cw_tokio, Clock, Metrics, Quota, Runner as _};
use commonware_utils::{
    ordered::{Map, Set},
    NZU32,
};
use engine::{Engine, Genesis};
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// Largest p2p message: a block of `max_block_txs` transfers fits with room to spare.
const MESSAGE_BYTES_MAX: u32 = 16 * 1024 * 1024;
/// Messages per second per peer and channel before the network pushes back.
const RATE: Quota = Quota::per_second(NZU32!(100_000));
/// Messages waiting per channel.
const BACKLOG: usize = 4096;

/// What a validator process needs beyond the state it shares with the node.
#[derive(Debug, Clone)]
pub struct NetConfig {
    /// The genesis, whose `validators` are the candidates each era's consensus set is elected from.
    pub genesis: Genesis,
    /// The validator's ed25519 secret (the 32-byte seed of its key file).
    pub key_seed: [u8; 32],
    /// Where commonware keeps its journals and archives (the node's `DIR/consensus`).
    pub storage: PathBuf,
    /// How long a leader waits before building a block.
    pub block_interval: Duration,
    /// Where the validator reports what it observes for metrics (`TelemetryHandle::default()`: nowhere).
    pub telemetry: crate::TelemetryHandle,
}

/// Why a validator could not start, or stopped.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    #[error("the genesis names no validators")]
    NoValidators,
    #[error("validator key {key} is not in the genesis validator set")]
    NotAValidator { key: String },
    #[error("genesis validator {index}: {message}")]
    BadValidator { index: usize, message: String },
    #[error(transparent)]
    App(#[from] AppError),
    #[error("cannot start the validator: {0}")]
    Start(String),
    #[error(transparent)]
    Validator(#[from] crate::ValidatorError),
    #[error(transparent)]
    Fatal(#[from] FinalizeError),
}

impl NetError {
    /// A stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            NetError::NoValidators => "no_validators",
            NetError::NotAValidator { .. } => "not_a_validator",
            NetError::BadValidator { .. } => "validator_invalid",
            NetError::App(e) => e.code(),
            NetError::Start(_) => "validator_start_failed",
            NetError::Validator(e) => e.code(),
            NetError::Fatal(e) => e.code(),
        }
    }
}

/// The consensus set of `genesis`: each validator's public key and p2p address, checked.
fn validator_set(genesis: &Genesis) -> Result<Vec<(ed25519::PublicKey, SocketAddr)>, NetError> {
    if genesis.validators.is_empty() {
        return Err(NetError::NoValidators);
    }
    let bad = |index: usize, message: String| NetError::BadValidator { index, message };
    genesis
        .validators
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let key = ed25519::PublicKey::decode(&v.key.0[..]).map_err(|e| bad(i, format!("key: {e}")))?;
            let addr = v.p2p.parse().map_err(|_| bad(i, format!("p2p address {:?}", v.p2p)))?;
            Ok((key, addr))
        })
        .collect()
}

/// The simplex namespace of a chain: votes of one chain never count on another. The engine checks
/// equivocation evidence against the same bytes (`protocol::evidence::consensus_namespace`).
pub fn namespace(chain_id: &str) -> Vec<u8> {
    engine::protocol::evidence::consensus_namespace(chain_id)
}

/// Run the validator until `stop` resolves (`Ok`) or it stops on a finalized block it cannot take
/// (`Err(Fatal)`). `on_gossip` receives the handle that spreads transactions the node admitted.
pub fn run(
    cfg: NetConfig,
    committed: Arc<RwLock<Engine>>,
    txs: Arc<dyn TxSource>,
    sink: Arc<dyn Sink>,
    on_gossip: impl FnOnce(Gossip) + Send + 'static,
    stop: impl Future<Output = ()> + Send + 'static,
) -> Result<(), NetError> {
    let set = validator_set(&cfg.genesis)?;
    let secret = ed25519::PrivateKey::decode(&cfg.key_seed[..]).map_err(|e| NetError::Start(format!("key: {e}")))?;
    let me = secret.public_key();
    let Some((_, listen)) = set.iter().find(|(k, _)| *k == me) else {
        return Err(NetError::NotAValidator { key: key_hex(&me) });
    };
    let listen = *listen;
    let chain_id = cfg.genesis.params.chain_id.clone();
    let namespace = namespace(&chain_id);
    // Every genesis validator is a candidate: each epoch's set is elected among them (the app tells the
    // orchestrator), and this set is the one of every epoch only for a genesis that elects none.
    let participants = Set::from_iter_dedup(set.iter().map(|(k, _)| k.clone()));
    let app = App::new(&cfg.genesis, committed, txs.clone(), sink, AppConfig { block_interval: cfg.block_interval })?
        .with_telemetry(cfg.telemetry.clone());
    let telemetry = cfg.telemetry.clone();
    let runtime = cw_tokio::Config::new().with_worker_threads(2).with_storage_directory(cfg.storage.clone());
    cw_tokio::Runner::new(runtime).start(|context| async move {
        let p2p_namespace = [namespace.as_slice(), b"/p2p"].concat();
        let private = set.iter().any(|(_, a)| !is_global(a));
        let p2p = if private {
            lookup::Config::local(secret.clone(), &p2p_namespace, listen, MESSAGE_BYTES_MAX)
        } else {
            lookup::Config::recommended(secret.clone(), &p2p_namespace, listen, MESSAGE_BYTES_MAX)
        };
        let (mut network, mut oracle) = lookup::Network::new(context.with_label("network"), p2p);
        let peers: Map<ed25519::PublicKey, Address> =
            Map::from_iter_dedup(set.iter().map(|(k, a)| (k.clone(), Address::from(*a))));
        oracle.track(0, peers).await;
        let mut channel = |c: u64| network.register(c, RATE, BACKLOG);
        let chans = (channel(0), channel(1), channel(2), channel(3), channel(4));
        let gossip_channel = channel(CHANNEL_TXS);
        network.start();
        let gossip = start_gossip(context.with_label("gossip"), &chain_id, txs, gossip_channel);
        on_gossip(gossip);
        let partitions = me.to_string();
        start_validator(
            context.with_label("validator"),
            app.clone(),
            secret,
            &namespace,
            participants,
            &partitions,
            oracle.clone(),
            oracle,
            chans,
        )
        .await?;
        watch(context, app, telemetry, stop).await
    })
}

/// Wait for `stop`, checking every 100 ms whether the validator stopped on a fatal block, and reporting
/// the connected peers every second.
async fn watch(
    context: cw_tokio::Context,
    app: App,
    telemetry: crate::TelemetryHandle,
    stop: impl Future<Output = ()>,
) -> Result<(), NetError> {
    let mut stop = std::pin::pin!(stop);
    for tick in 0u64.. {
        if let Some(fatal) = app.fatal() {
            return Err(NetError::Fatal(fatal));
        }
        if tick % 10 == 0 {
            telemetry.peers(crate::telemetry::connected_peers(&context.encode()));
        }
        let tick = context.sleep(Duration::from_millis(100));
        if let futures::future::Either::Left(_) = futures::future::select(stop.as_mut(), std::pin::pin!(tick)).await {
            return Ok(());
        }
    }
    Ok(())
}

/// Whether `addr` is reachable from the public Internet (not loopback, private or link-local).
fn is_global(addr: &SocketAddr) -> bool {
    match addr.ip() {
        std::net::IpAddr::V4(ip) => !(ip.is_loopback() || ip.is_private() || ip.is_link_local() || ip.is_unspecified()),
        std::net::IpAddr::V6(ip) => !(ip.is_loopback() || ip.is_unspecified()),
    }
}

/// The key as 64 hex digits, as the genesis writes it (the types crate's `AccountId::to_hex`).
fn key_hex(key: &ed25519::PublicKey) -> String {
    let mut bytes = [0u8; 32];
    bytes.copy_from_slice(&key.encode()[..32]);
    types::AccountId(bytes).to_hex()
}
