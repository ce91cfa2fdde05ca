//! `stakework node` and `stakework replay`.

use anyhow::{bail, Context};
use clap::Args;
use std::net::SocketAddr;
use std::path::PathBuf;

/// `stakework node --data DIR …` runs a node; `stakework node register|deregister|status …` acts on the
/// registry through a running one.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct NodeCmd {
    #[command(subcommand)]
    pub action: Option<crate::market_cmd::NodeAction>,
    #[command(flatten)]
    pub run: NodeArgs,
}

#[derive(Debug, Args)]
pub struct NodeArgs {
    /// Data directory (the block log lives in DIR/stakework.redb). Required to run a node.
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Address to listen on; loopback unless you mean to expose the node. Port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:7650")]
    pub listen: SocketAddr,
    /// Genesis TOML file: required the first time a data directory is used, then it must match.
    #[arg(long, value_name = "FILE")]
    pub genesis: Option<PathBuf>,
    /// Milliseconds between blocks (a block is sealed sooner when the mempool holds a full block).
    #[arg(long, default_value_t = 500)]
    pub block_ms: u64,
    /// Store a state snapshot every N blocks (recovery replays at most N-1 blocks).
    #[arg(long, default_value_t = 1000)]
    pub snapshot_every: u64,
    /// Most transactions waiting in the mempool.
    #[arg(long, default_value_t = 100_000)]
    pub mempool_max: usize,
    /// Check every stored block and index entry at start, not only the newest ones, and rewrite damaged
    /// index entries from the blocks (takes time proportional to the whole log).
    #[arg(long)]
    pub check_all: bool,
    /// Run as this validator of the genesis validator set: a key file (`stakework keys new NAME` writes
    /// ~/.stakework/keys/NAME.json). Blocks are then agreed with the other validators (docs/CONSENSUS.md).
    #[arg(long, value_name = "FILE")]
    pub validator_key: Option<PathBuf>,
    /// Simulate an older binary for upgrade rehearsals: run protocol versions up to N only (default: all this
    /// binary knows), so the node stops with exit code 76 at the height a later version is scheduled for.
    #[arg(long, value_name = "N", default_value_t = engine::PROTOCOL_VERSION_MAX)]
    pub max_protocol_version: u32,
    /// Do not run: check the data directory read-only (every block, outcome, snapshot and index entry,
    /// the head record, and a replay from genesis), name the first damage and exit non-zero, or print a
    /// summary.
    #[arg(long)]
    pub verify: bool,
    /// With --verify: print the summary as JSON.
    #[arg(long, requires = "verify")]
    pub json: bool,
}

pub fn run(args: &NodeArgs) -> anyhow::Result<()> {
    let read =
        |p: &PathBuf| std::fs::read_to_string(p).with_context(|| format!("cannot read genesis file {}", p.display()));
    let genesis_toml = args.genesis.as_ref().map(read).transpose()?;
    let Some(data) = &args.data else {
        anyhow::bail!("running a node needs --data DIR (see `stakework node --help`)");
    };
    if args.verify {
        return verify(data, args.json);
    }
    let mut cfg = node::NodeConfig::new(data.clone(), args.listen);
    cfg.genesis_toml = genesis_toml;
    cfg.block_ms = args.block_ms;
    cfg.snapshot_every = args.snapshot_every;
    cfg.mempool_max = args.mempool_max;
    cfg.check_all_at_start = args.check_all;
    cfg.validator_key = args.validator_key.as_deref().map(validator_key).transpose()?;
    cfg.max_protocol_version = args.max_protocol_version;
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")?;
    rt.block_on(node::run(cfg, |n| {
        if n.index_repaired > 0 {
            eprintln!("warning: rewrote {} damaged index entries from the blocks", n.index_repaired);
        }
        outln!("stakework node listening on http://{} (recovered at height {})", n.addr, n.recovered_height);
    }))
    .map_err(|e| anyhow::anyhow!("[{}] {e}", e.code()))?;
    eprintln!("stakework node stopped");
    Ok(())
}

/// `stakework node --verify --data DIR`: the whole directory checked, read-only.
fn verify(data: &std::path::Path, json: bool) -> anyhow::Result<()> {
    let code = |e: store::StoreError| anyhow::anyhow!("[{}] {e}", e.code());
    let v = store::Store::open_read_only(data).map_err(code)?.verify().map_err(code)?;
    if json {
        outln!(
            "{}",
            serde_json::json!({
                "height": v.height, "state_root": v.state_root, "blocks": v.blocks, "txs": v.txs,
                "snapshots": v.snapshots, "index_entries": v.index_entries,
                "head": v.head.map(|h| serde_json::json!({"height": h.height, "hash": h.hash})),
            })
        );
    } else {
        outln!(
            "verified {} blocks ({} txs, {} snapshots, {} index entries): height {}, state root {}",
            v.blocks,
            v.txs,
            v.snapshots,
            v.index_entries,
            v.height,
            v.state_root
        );
    }
    Ok(())
}

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// Data directory of a node (stopped, or the copy of one).
    #[arg(long, value_name = "DIR")]
    pub data: PathBuf,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
    /// Also print the state root of the block at this height (checked by the replay), to compare with
    /// the head a running node served.
    #[arg(long, value_name = "HEIGHT")]
    pub at: Option<u64>,
}

/// Replay the whole block log from genesis, ignoring snapshots, checking every state root. Read-only: the
/// data directory is not changed, not even by redb's own bookkeeping.
pub fn replay(args: &ReplayArgs) -> anyhow::Result<()> {
    let store = store::Store::open_read_only(&args.data).map_err(|e| anyhow::anyhow!("[{}] {e}", e.code()))?;
    let at = args.at;
    // A database rolled back behind its head record would replay "fine" to the wrong height. Every read is
    // guarded: redb's panic on a damaged file is a `store_damaged` error.
    let (engine, rec, root_at) = store
        .guard(|| {
            store.check_head()?;
            let (engine, rec) = store.replay_from_genesis(&store.bind_genesis(None)?)?;
            let root_at = match at.filter(|h| *h <= engine.height().0) {
                Some(h) => store.block(h)?.map(|b| b.state_root),
                None => None,
            };
            Ok((engine, rec, root_at))
        })
        .map_err(|e| anyhow::anyhow!("[{}] {e}", e.code()))?;
    match at {
        Some(h) if h > engine.height().0 => bail!("the log ends at height {} before height {h}", engine.height()),
        Some(h) if root_at.is_none() => bail!("no block at height {h}"),
        _ => {}
    }
    if args.json {
        let mut v =
            serde_json::json!({"height": engine.height(), "state_root": engine.state_root(), "replayed": rec.replayed});
        if let Some(root) = root_at {
            v["root_at"] = serde_json::json!(root);
        }
        outln!("{v}");
    } else {
        outln!(
            "replayed {} blocks from genesis: height {}, state root {}",
            rec.replayed,
            engine.height(),
            engine.state_root()
        );
        if let (Some(h), Some(root)) = (args.at, root_at) {
            outln!("state root at height {h}: {root}");
        }
    }
    Ok(())
}

/// The secret of a key file given by path (`DIR/NAME.json`).
fn validator_key(path: &std::path::Path) -> anyhow::Result<[u8; 32]> {
    let named = path.extension().is_some_and(|e| e == "json").then(|| path.file_stem()).flatten();
    let name = named.and_then(|n| n.to_str()).context("--validator-key names a key file NAME.json")?;
    let dir = path.parent().unwrap_or(std::path::Path::new("."));
    Ok(client::keys::load(dir, name)?.to_bytes())
}
