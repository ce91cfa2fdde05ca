//! The PostgreSQL indexer: follows a node's finalized (durable) blocks in height order and writes their
//! blocks, transactions and events into PostgreSQL, with typed tables for payouts, fines, refunds, slashes,
//! points, ratings and task results beside the generic `events` table (docs/INDEXER.md).
//!
//! Invariants:
//! - one PostgreSQL transaction per block holds the block's rows **and** the cursor (height, block hash):
//!   after a crash the tables hold exactly the blocks 1..=cursor, each once;
//! - the cursor moves only from the block it names to that block's child (compare-and-swap on height and
//!   hash, and the child's `parent_hash` must be the cursor's hash), so a second indexer on the same database
//!   or a different chain fails instead of writing;
//! - on start the tables must hold exactly 1..=cursor (else `gap`), and the node's block at the cursor's
//!   height must have the cursor's hash (else `chain_mismatch`): nothing is written after a refusal;
//! - every wait is bounded: node calls have timeouts (the `client` crate's), the connection has a connect
//!   timeout, and the loop sleeps `poll` between rounds.

mod db;
mod examples;
pub mod rows;
pub mod schema;

pub use db::Cursor;
pub use examples::EXAMPLES;
pub use schema::SCHEMA_VERSION;

use api::BlockView;
use client::{Client, ClientError};
use serde::Serialize;
use std::time::Duration;

/// Why the indexer stopped; `code()` is stable.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// `--postgres` is not a PostgreSQL connection URL.
    #[error("[bad_postgres_url] --postgres is not a PostgreSQL connection URL: {0}")]
    BadPostgresUrl(String),
    /// PostgreSQL could not be reached (or refused the login).
    #[error("[postgres_unreachable] cannot connect to PostgreSQL: {0}")]
    PostgresUnreachable(String),
    /// A statement failed.
    #[error("[postgres] {0}")]
    Postgres(String),
    /// The database holds another schema version.
    #[error(
        "[schema_version] the database is at indexer schema version {found}, this indexer writes version {expected}"
    )]
    SchemaVersion { found: String, expected: i32 },
    /// A block is missing: in the tables, or at the node below its head.
    #[error("[gap] {0}; refusing to skip a block")]
    Gap(String),
    /// The node's chain is not the one the database follows.
    #[error("[chain_mismatch] the node's block {height} has hash {node}, the database's cursor (or parent) says {ours}: a different chain; use another database")]
    ChainMismatch { height: u64, ours: String, node: String },
    /// The node's head is below the cursor: a different (shorter) chain, or a node still catching up.
    #[error("[node_behind] the node's head {head} is below the database's cursor {cursor}: a different chain, or a node still catching up")]
    NodeBehind { head: u64, cursor: u64 },
    /// The cursor was moved by someone else between two blocks (a second indexer on this database).
    #[error(
        "[cursor_moved] the cursor moved while block {0} was written: is another indexer writing to this database?"
    )]
    CursorMoved(u64),
    /// The node refused a call or could not be reached.
    #[error("{}", node_text(.0))]
    Node(#[from] ClientError),
}

/// A node error with a code in front, like every other error here.
fn node_text(e: &ClientError) -> String {
    match e {
        ClientError::Node { .. } => format!("node: {e}"),
        ClientError::Unreachable(m) => format!("[node_unreachable] {m}"),
    }
}

impl IndexError {
    /// The stable code.
    pub fn code(&self) -> &str {
        match self {
            IndexError::BadPostgresUrl(_) => "bad_postgres_url",
            IndexError::PostgresUnreachable(_) => "postgres_unreachable",
            IndexError::Postgres(_) => "postgres",
            IndexError::SchemaVersion { .. } => "schema_version",
            IndexError::Gap(_) => "gap",
            IndexError::ChainMismatch { .. } => "chain_mismatch",
            IndexError::NodeBehind { .. } => "node_behind",
            IndexError::CursorMoved(_) => "cursor_moved",
            IndexError::Node(e) => e.code().unwrap_or("node_unreachable"),
        }
    }
}

/// `stakework index`'s flags (the node is the global `--node`).
#[derive(Debug, Clone, clap::Args)]
pub struct IndexArgs {
    /// PostgreSQL connection URL, e.g. postgresql://user:pw@localhost/db, or a Unix socket directory as
    /// the host: postgresql://user@%2Frun%2Fpostgresql/db.
    #[arg(long, value_name = "URL")]
    pub postgres: String,
    /// Stop once the node's head at start is indexed.
    #[arg(long, conflicts_with = "until_height")]
    pub once: bool,
    /// Stop once block H is indexed (waiting for the node to reach it).
    #[arg(long, value_name = "H")]
    pub until_height: Option<u64>,
    /// Pause between two polls of the node's head, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 500)]
    pub poll_ms: u64,
}

impl IndexArgs {
    /// The resolved settings, for the node at `node`.
    pub fn settings(&self, node: &str) -> Settings {
        let stop = match (self.once, self.until_height) {
            (true, _) => Stop::Head,
            (false, Some(h)) => Stop::Height(h),
            (false, None) => Stop::Never,
        };
        Settings {
            node: node.to_string(),
            postgres: self.postgres.clone(),
            stop,
            poll: Duration::from_millis(self.poll_ms.clamp(10, 60_000)),
            connect_timeout: Duration::from_secs(10),
        }
    }
}

/// When to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// Follow forever.
    Never,
    /// Once the node's head at start is indexed.
    Head,
    /// Once this height is indexed.
    Height(u64),
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub node: String,
    pub postgres: String,
    pub stop: Stop,
    pub poll: Duration,
    pub connect_timeout: Duration,
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// The cursor when the run started (0: an empty database).
    pub resumed_from: u64,
    /// The cursor at the end.
    pub height: u64,
    pub block_hash: Option<String>,
    pub blocks: u64,
    pub txs: u64,
    pub events: u64,
}

impl Summary {
    pub fn text(&self) -> String {
        format!(
            "indexed {} blocks ({} txs, {} events) from height {} to {}; cursor {} {}",
            self.blocks,
            self.txs,
            self.events,
            self.resumed_from + 1,
            self.height,
            self.height,
            self.block_hash.as_deref().unwrap_or("-")
        )
    }
}

/// Connect, create the schema, check the cursor against the node, then follow the node until `stop`;
/// `progress` hears of each round that wrote blocks.
pub fn run(settings: &Settings, progress: &mut dyn FnMut(&Summary)) -> Result<Summary, IndexError> {
    let mut pg = db::connect(&settings.postgres, settings.connect_timeout)?;
    db::ensure_schema(&mut pg)?;
    let mut cursor = db::cursor(&mut pg)?;
    let node = Client::from_list(&settings.node);
    check_chain(&node, cursor.as_ref())?;
    let resumed_from = cursor.as_ref().map_or(0, |c| c.height);
    let mut summary = Summary { resumed_from, height: resumed_from, ..Summary::default() };
    let mut stop_at = match settings.stop {
        Stop::Height(h) => Some(h),
        Stop::Head | Stop::Never => None,
    };
    loop {
        let head = node.height()?;
        if settings.stop == Stop::Head {
            stop_at.get_or_insert(head);
        }
        let target = stop_at.map_or(head, |s| s.min(head));
        let before = summary.blocks;
        while summary.height < target {
            let block = fetch(&node, summary.height + 1)?;
            check_parent(cursor.as_ref(), &block)?;
            let written = db::write_block(&mut pg, cursor.as_ref(), &block)?;
            cursor = Some(Cursor { height: block.height, block_hash: block.hash.to_string() });
            summary.height = block.height;
            summary.block_hash = Some(block.hash.to_string());
            summary.blocks += 1;
            summary.txs += written.txs;
            summary.events += written.events;
        }
        if summary.blocks > before {
            progress(&summary);
        }
        if stop_at.is_some_and(|s| summary.height >= s) {
            summary.block_hash = cursor.map(|c| c.block_hash);
            return Ok(summary);
        }
        std::thread::sleep(settings.poll);
    }
}

/// The node must hold the cursor's block, with the cursor's hash.
fn check_chain(node: &Client, cursor: Option<&Cursor>) -> Result<(), IndexError> {
    let Some(c) = cursor else { return Ok(()) };
    let head = node.height()?;
    if head < c.height {
        return Err(IndexError::NodeBehind { head, cursor: c.height });
    }
    let block = fetch(node, c.height)?;
    if block.hash.to_string() != c.block_hash {
        return Err(IndexError::ChainMismatch {
            height: c.height,
            ours: c.block_hash.clone(),
            node: block.hash.to_string(),
        });
    }
    Ok(())
}

/// The block after the cursor must be its child.
fn check_parent(cursor: Option<&Cursor>, block: &BlockView) -> Result<(), IndexError> {
    match cursor {
        Some(c) if block.parent_hash.to_string() != c.block_hash => Err(IndexError::ChainMismatch {
            height: c.height,
            ours: c.block_hash.clone(),
            node: block.parent_hash.to_string(),
        }),
        _ => Ok(()),
    }
}

/// The block at `height`, which the node's head says it has: a `not_found` is a gap in the node's store.
fn fetch(node: &Client, height: u64) -> Result<BlockView, IndexError> {
    match node.block(&height.to_string()) {
        Ok(b) if b.height == height => Ok(b),
        Ok(b) => Err(IndexError::Gap(format!("asked the node for block {height}, it answered block {}", b.height))),
        Err(e) if e.code() == Some("not_found") => {
            Err(IndexError::Gap(format!("the node has no block {height} although its head is at or above it")))
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_shows_its_code() {
        let errors = [
            IndexError::Gap("x".into()),
            IndexError::NodeBehind { head: 1, cursor: 2 },
            IndexError::Node(ClientError::Unreachable("cannot reach".into())),
            IndexError::Node(ClientError::Node { status: 404, code: "not_found".into(), message: "m".into() }),
        ];
        for e in errors {
            assert!(e.to_string().contains(&format!("[{}]", e.code())), "{e}");
        }
    }

    #[test]
    fn once_and_until_height_resolve_to_a_stop() {
        let args = IndexArgs { postgres: "p".into(), once: true, until_height: None, poll_ms: 0 };
        assert_eq!(args.settings("n").stop, Stop::Head);
        assert_eq!(args.settings("n").poll, Duration::from_millis(10), "the poll is clamped");
        let args = IndexArgs { once: false, until_height: Some(7), ..args };
        assert_eq!(args.settings("n").stop, Stop::Height(7));
    }
}
