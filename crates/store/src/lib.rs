//! Durable block log and state snapshots in one redb file, and recovery from them.
//!
//! Invariants:
//! - a block is on disk (redb commits with fsync) before `append` returns, so nothing the node
//!   acknowledges after `append` can be lost;
//! - every byte served is checked: blocks, outcomes and snapshots carry a blake3 checksum; a value that
//!   fails it is reported as corrupt with its height, never used. The indexes (`block_by_hash`,
//!   `tx_by_hash`) are checked against the blocks they point to on every hit (see [`verify`]), so a
//!   damaged entry is `store_corrupt_index`, never a wrong answer; misses are covered by the walk a start
//!   makes over the newest blocks (damaged entries rewritten from the blocks, a damaged block or outcome a
//!   refusal naming its height) and by `stakework node --verify`, which walks everything;
//! - recovery = newest snapshot that restores and whose root equals its block's root, then replay of every
//!   later block through the real engine, checking each block's state root; any failure stops recovery
//!   with the height and the reason;
//! - no silent rollback: after every append the height and hash of the new block are written to a head
//!   record beside the database (`DIR/HEAD`, see [`head`]); a database that ends below the head, holds a
//!   different block at its height, is missing or is 0 bytes long is refused (`store_rolled_back`,
//!   `store_damaged`), so blocks acknowledged to clients are never forgotten and never sealed again with
//!   other contents;
//! - nothing but an append (or a node start that is ready to serve) writes the data directory: a
//!   read-only open ([`Store::open_read_only`], used by replay, verify and the checks before a start)
//!   reads the file through a handle that cannot write, and [`Start::prepare`] does every check of a
//!   start without writing, so a refused start leaves the directory byte-for-byte as it was.

mod head;
mod readonly;
mod start;
mod verify;

pub use head::Head;

pub use start::{Start, START_CHECK_BLOCKS};
pub use verify::{IndexDamage, Verified, Walk};

use borsh::BorshDeserialize;
use engine::{Block, Engine, Genesis};
use redb::{Database, ReadableTable, ReadableTableMetadata, TableDefinition};
use std::path::{Path, PathBuf};
use types::{Hash, Height};

pub(crate) const BLOCKS: TableDefinition<u64, &[u8]> = TableDefinition::new("blocks");
pub(crate) const OUTCOMES: TableDefinition<u64, &[u8]> = TableDefinition::new("outcomes");
pub(crate) const SNAPSHOTS: TableDefinition<u64, &[u8]> = TableDefinition::new("snapshots");
pub(crate) const BLOCK_BY_HASH: TableDefinition<&[u8; 32], u64> = TableDefinition::new("block_by_hash");
pub(crate) const TX_BY_HASH: TableDefinition<&[u8; 32], (u64, u32)> = TableDefinition::new("tx_by_hash");
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
/// A finalized block's evidence (the node's encoding), by height; validators only, and not part of any
/// state root. Databases made before it was kept lack the table: reads then find nothing.
pub(crate) const FINALITY: TableDefinition<u64, &[u8]> = TableDefinition::new("finality");

/// Why the store refused or failed. `code()` is stable.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error at {path}: {message}")]
    Db { path: PathBuf, message: String },
    #[error("database file {path} is damaged ({reason}); restore it from a copy or start a new data directory")]
    Damaged { path: PathBuf, reason: String },
    #[error("block {height} is corrupt: {reason}")]
    CorruptBlock { height: u64, reason: String },
    #[error("the log ends at height {last} but block {height} was appended")]
    NotNext { last: u64, height: u64 },
    #[error("this data directory belongs to another genesis (stored genesis differs from the one given)")]
    GenesisMismatch,
    #[error("the data directory has no genesis; start the node with --genesis FILE once")]
    NoGenesis,
    #[error("the genesis stored in the data directory is invalid: {0}")]
    BadGenesis(String),
    #[error("the genesis given is invalid: {0}")]
    GivenGenesisInvalid(String),
    #[error("the store at {path} is open read-only; nothing can be appended")]
    ReadOnly { path: PathBuf },
    #[error(
        "the database was rolled back: the head record {head_path} says block {expected_height} (hash \
         {expected_hash}) was made durable, but the database {found}. Refusing to serve or re-seal a \
         different history: restore the database from a copy, or move the data directory aside"
    )]
    RolledBack { head_path: PathBuf, expected_height: u64, expected_hash: Hash, found: String },
    #[error(
        "the head record {path} is damaged ({reason}); check the database with `stakework node --verify`, \
         then remove the record to accept the database as it is"
    )]
    HeadDamaged { path: PathBuf, reason: String },
    #[error("snapshot at height {height} is corrupt: {reason}")]
    CorruptSnapshot { height: u64, reason: String },
    #[error("index entry damaged: {0}")]
    CorruptIndex(String),
    #[error("recovery failed at block {height}: {reason}")]
    Replay { height: u64, reason: String },
}

impl StoreError {
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::Db { .. } => "store_io",
            StoreError::Damaged { .. } => "store_damaged",
            StoreError::CorruptBlock { .. } => "store_corrupt_block",
            StoreError::NotNext { .. } => "store_not_next",
            StoreError::GenesisMismatch => "store_genesis_mismatch",
            StoreError::NoGenesis => "store_no_genesis",
            StoreError::BadGenesis(_) => "store_bad_genesis",
            StoreError::GivenGenesisInvalid(_) => "genesis_invalid",
            StoreError::ReadOnly { .. } => "store_read_only",
            StoreError::Replay { .. } => "store_replay_failed",
            StoreError::RolledBack { .. } => "store_rolled_back",
            StoreError::CorruptSnapshot { .. } => "store_corrupt_snapshot",
            StoreError::CorruptIndex(_) => "store_corrupt_index",
            StoreError::HeadDamaged { .. } => "store_head_damaged",
        }
    }
}

/// The block log of one node.
#[derive(Debug)]
pub struct Store {
    db: Db,
    path: PathBuf,
    dir: PathBuf,
    writable: bool,
}

/// The redb database, closed inside [`catch_damage`]'s guard: redb frees its pages when the database is
/// dropped, and on a damaged file that can panic too (found by the fault test: a zeroed page made
/// `node --verify` crash after it had reported the damage).
#[derive(Debug)]
struct Db(Option<Database>);

impl std::ops::Deref for Db {
    type Target = Database;
    fn deref(&self) -> &Database {
        self.0.as_ref().expect("the database is open until the store is dropped")
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        if let Some(db) = self.0.take() {
            let _ = catch_damage(Path::new(""), move || {
                drop(db);
                Ok::<(), StoreError>(())
            });
        }
    }
}

/// The database file in a data directory.
pub(crate) fn db_path(dir: &Path) -> PathBuf {
    dir.join("stakework.redb")
}

/// What recovery did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recovery {
    /// Height of the snapshot recovery started from (0 = genesis).
    pub snapshot_height: u64,
    /// Snapshots skipped because they were corrupt or disagreed with the log, with the reason.
    pub skipped_snapshots: Vec<(u64, String)>,
    /// Blocks replayed after the snapshot.
    pub replayed: u64,
    /// Index entries found damaged by the start's checks and rewritten from the blocks.
    pub index_repaired: u64,
}

pub(crate) fn seal(bytes: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(bytes.len() + 32);
    v.extend_from_slice(&types::hash_bytes(bytes).0);
    v.extend_from_slice(bytes);
    v
}

pub(crate) fn unseal(stored: &[u8]) -> Option<&[u8]> {
    if stored.len() < 32 || types::hash_bytes(&stored[32..]).0[..] != stored[..32] {
        return None;
    }
    Some(&stored[32..])
}

impl Store {
    /// Open `dir/stakework.redb` for appending, creating the directory and the database if there is none.
    ///
    /// A new database is built under a temporary name with its tables, then renamed into place, so a
    /// `stakework.redb` of 0 bytes is never one we made: it is damage, and opening it is refused instead of
    /// starting a new chain in it. Opening an existing database writes nothing of ours.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        let path = db_path(dir);
        if !path.exists() {
            return Store::create(dir);
        }
        refuse_empty(&path)?;
        let db = catch_damage(&path, || Database::open(&path))?;
        let store = Store { db: Db(Some(db)), path, dir: dir.to_path_buf(), writable: true };
        store.tables_exist()?;
        Ok(store)
    }

    /// Open an existing `dir/stakework.redb` without ever writing the directory (see [`readonly`]).
    pub fn open_read_only(dir: &Path) -> Result<Store, StoreError> {
        let path = db_path(dir);
        if !path.exists() {
            head_without_database(dir)?;
            return Err(StoreError::NoGenesis);
        }
        refuse_empty(&path)?;
        let db_err = |e: &dyn std::fmt::Display| StoreError::Db { path: path.clone(), message: e.to_string() };
        let file = std::fs::File::open(&path).map_err(|e| db_err(&e))?;
        let backend = readonly::ReadOnlyFile::new(file).map_err(|e| db_err(&e))?;
        let db = catch_damage(&path, || redb::Builder::new().create_with_backend(backend))?;
        let store = Store { db: Db(Some(db)), path: path.clone(), dir: dir.to_path_buf(), writable: false };
        store.tables_exist()?;
        Ok(store)
    }

    fn create(dir: &Path) -> Result<Store, StoreError> {
        head_without_database(dir)?;
        let path = db_path(dir);
        let tmp = dir.join("stakework.redb.new");
        let db_err = |e: &dyn std::fmt::Display| StoreError::Db { path: path.clone(), message: e.to_string() };
        std::fs::create_dir_all(dir).map_err(|e| db_err(&e))?;
        // A leftover from a start that crashed while creating: it never held anything acknowledged.
        let _ = std::fs::remove_file(&tmp);
        let db = Database::create(&tmp).map_err(|e| db_err(&e))?;
        let w = db.begin_write().map_err(|e| db_err(&e))?;
        for t in [BLOCKS, OUTCOMES, SNAPSHOTS, FINALITY] {
            w.open_table(t).map_err(|e| db_err(&e))?;
        }
        w.open_table(BLOCK_BY_HASH).map_err(|e| db_err(&e))?;
        w.open_table(TX_BY_HASH).map_err(|e| db_err(&e))?;
        w.open_table(META).map_err(|e| db_err(&e))?;
        w.commit().map_err(|e| db_err(&e))?;
        std::fs::rename(&tmp, &path).map_err(|e| db_err(&e))?;
        sync_dir(dir).map_err(|e| db_err(&e))?;
        Ok(Store { db: Db(Some(db)), path, dir: dir.to_path_buf(), writable: true })
    }

    /// Every table is there: a database that lost one is damaged, not empty.
    fn tables_exist(&self) -> Result<(), StoreError> {
        let r = self.db.begin_read().map_err(|e| self.err(e))?;
        r.open_table(BLOCKS).map_err(|e| self.err(e))?;
        r.open_table(OUTCOMES).map_err(|e| self.err(e))?;
        r.open_table(SNAPSHOTS).map_err(|e| self.err(e))?;
        r.open_table(BLOCK_BY_HASH).map_err(|e| self.err(e))?;
        r.open_table(TX_BY_HASH).map_err(|e| self.err(e))?;
        r.open_table(META).map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Whether appends are allowed (false for [`Store::open_read_only`]).
    pub fn is_writable(&self) -> bool {
        self.writable
    }

    fn err(&self, e: impl std::fmt::Display) -> StoreError {
        StoreError::Db { path: self.path.clone(), message: e.to_string() }
    }

    /// Record the genesis text on first start; afterwards require the same text (or none).
    pub fn bind_genesis(&self, given: Option<&str>) -> Result<Genesis, StoreError> {
        let (genesis, unrecorded) = self.check_genesis(given)?;
        if let (Some(g), true) = (given, unrecorded) {
            self.writable_or_refuse()?;
            let w = self.db.begin_write().map_err(|e| self.err(e))?;
            w.open_table(META).map_err(|e| self.err(e))?.insert("genesis", g.as_bytes()).map_err(|e| self.err(e))?;
            w.commit().map_err(|e| self.err(e))?;
        }
        Ok(genesis)
    }

    /// The genesis this directory runs, checked against the one `given` without writing anything; the
    /// flag says it is not recorded yet (then it is the given one).
    pub fn check_genesis(&self, given: Option<&str>) -> Result<(Genesis, bool), StoreError> {
        let stored = self.meta("genesis")?.map(|b| String::from_utf8_lossy(&b).into_owned());
        match (stored, given) {
            (Some(s), Some(g)) if s != g => Err(StoreError::GenesisMismatch),
            (Some(s), _) => Ok((Genesis::from_toml(&s).map_err(|e| StoreError::BadGenesis(e.to_string()))?, false)),
            (None, Some(g)) => Ok((validate_genesis(g)?, true)),
            (None, None) => Err(StoreError::NoGenesis),
        }
    }

    fn writable_or_refuse(&self) -> Result<(), StoreError> {
        if self.writable {
            Ok(())
        } else {
            Err(StoreError::ReadOnly { path: self.path.clone() })
        }
    }

    fn meta(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let r = self.db.begin_read().map_err(|e| self.err(e))?;
        let t = r.open_table(META).map_err(|e| self.err(e))?;
        Ok(t.get(key).map_err(|e| self.err(e))?.map(|v| v.value().to_vec()))
    }

    /// Height of the last stored block (0 when only genesis exists).
    pub fn last_height(&self) -> Result<u64, StoreError> {
        let r = self.db.begin_read().map_err(|e| self.err(e))?;
        let t = r.open_table(BLOCKS).map_err(|e| self.err(e))?;
        let last = t.last().map_err(|e| self.err(e))?.map_or(0, |(k, _)| k.value());
        Ok(last)
    }

    /// Durably append `block` (fsync before returning) with the node's encoded outcome for it and,
    /// optionally, a snapshot of the state after it. `tx_hashes` index the block's transactions.
    pub fn append(
        &self,
        block: &Block,
        tx_hashes: &[Hash],
        outcome: &[u8],
        snapshot: Option<&[u8]>,
    ) -> Result<(), StoreError> {
        self.append_finalized(block, tx_hashes, outcome, snapshot, None)
    }

    /// [`Store::append`] with the block's finality evidence (a validator's), written in the same
    /// transaction: a block is never durable without the evidence it was finalized with.
    pub fn append_finalized(
        &self,
        block: &Block,
        tx_hashes: &[Hash],
        outcome: &[u8],
        snapshot: Option<&[u8]>,
        finality: Option<&[u8]>,
    ) -> Result<(), StoreError> {
        self.writable_or_refuse()?;
        let height = block.height.0;
        let last = self.last_height()?;
        if height != last + 1 {
            return Err(StoreError::NotNext { last, height });
        }
        let w = self.db.begin_write().map_err(|e| self.err(e))?;
        {
            let mut blocks = w.open_table(BLOCKS).map_err(|e| self.err(e))?;
            blocks.insert(height, seal(&types::encode(block)).as_slice()).map_err(|e| self.err(e))?;
            let mut outs = w.open_table(OUTCOMES).map_err(|e| self.err(e))?;
            outs.insert(height, seal(outcome).as_slice()).map_err(|e| self.err(e))?;
            let mut by_hash = w.open_table(BLOCK_BY_HASH).map_err(|e| self.err(e))?;
            by_hash.insert(&block.hash().0, height).map_err(|e| self.err(e))?;
            let mut txs = w.open_table(TX_BY_HASH).map_err(|e| self.err(e))?;
            for (i, h) in tx_hashes.iter().enumerate() {
                // A transaction rejected in one block may be included again later; the newest wins.
                txs.insert(&h.0, (height, i as u32)).map_err(|e| self.err(e))?;
            }
            if let Some(snap) = snapshot {
                let mut snaps = w.open_table(SNAPSHOTS).map_err(|e| self.err(e))?;
                snaps.insert(height, seal(snap).as_slice()).map_err(|e| self.err(e))?;
            }
            if let Some(evidence) = finality {
                let mut table = w.open_table(FINALITY).map_err(|e| self.err(e))?;
                table.insert(height, seal(evidence).as_slice()).map_err(|e| self.err(e))?;
            }
        }
        w.commit().map_err(|e| self.err(e))?;
        // Only now is the block acknowledged (the sequencer announces after `append`): a crash before this
        // line leaves the database one block ahead of the head record, which a start accepts.
        self.write_head(&Head { height, hash: block.hash() })
    }

    /// The head record of this directory, if there is one.
    pub fn head(&self) -> Result<Option<Head>, StoreError> {
        read_head(&self.dir)
    }

    /// Replace the head record (after a start that found the database at or past it).
    pub(crate) fn write_head(&self, head: &Head) -> Result<(), StoreError> {
        self.writable_or_refuse()?;
        head::write(&self.dir, head).map_err(|e| StoreError::Db { path: head::path(&self.dir), message: e.to_string() })
    }

    /// Refuse a database that lost blocks the head record says were made durable: it ends below the
    /// head, or holds another block at the head's height. A database ahead of the head is fine (a crash
    /// between the commit and the head's update; that block was never acknowledged).
    pub fn check_head(&self) -> Result<(), StoreError> {
        let Some(head) = self.head()? else { return Ok(()) };
        let rolled_back = |found: String| StoreError::RolledBack {
            head_path: head::path(&self.dir),
            expected_height: head.height,
            expected_hash: head.hash,
            found,
        };
        let last = self.last_height()?;
        if last < head.height {
            let hash = match self.block(last) {
                Ok(Some(b)) => b.hash().to_hex(),
                _ => "unreadable".into(),
            };
            let at = if last == 0 { "genesis".to_string() } else { format!("block {last} (hash {hash})") };
            return Err(rolled_back(format!("ends at {at}")));
        }
        if head.height > 0 {
            let found = self.block(head.height)?.map(|b| b.hash());
            if found != Some(head.hash) {
                let found = found.map_or("nothing".into(), |h| h.to_hex());
                return Err(rolled_back(format!("holds block {} with hash {found}", head.height)));
            }
        }
        Ok(())
    }

    /// The block at `height`, checksum verified.
    pub fn block(&self, height: u64) -> Result<Option<Block>, StoreError> {
        let r = self.db.begin_read().map_err(|e| self.err(e))?;
        let t = r.open_table(BLOCKS).map_err(|e| self.err(e))?;
        let Some(v) = t.get(height).map_err(|e| self.err(e))? else { return Ok(None) };
        decode_block(height, v.value()).map(Some)
    }

    /// The node's outcome bytes for the block at `height`, checksum verified.
    pub fn outcome(&self, height: u64) -> Result<Option<Vec<u8>>, StoreError> {
        let r = self.db.begin_read().map_err(|e| self.err(e))?;
        let t = r.open_table(OUTCOMES).map_err(|e| self.err(e))?;
        let Some(v) = t.get(height).map_err(|e| self.err(e))? else { return Ok(None) };
        let corrupt = || StoreError::CorruptBlock { height, reason: "outcome checksum mismatch".into() };
        unseal(v.value()).map(<[u8]>::to_vec).map(Some).ok_or_else(corrupt)
    }

    /// The finality evidence stored with the block at `height`, checksum verified; `None` for a block
    /// sealed by a single node or stored before evidence was kept.
    pub fn finality(&self, height: u64) -> Result<Option<Vec<u8>>, StoreError> {
        let r = self.db.begin_read().map_err(|e| self.err(e))?;
        let t = match r.open_table(FINALITY) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
            Err(e) => return Err(self.err(e)),
        };
        let Some(v) = t.get(height).map_err(|e| self.err(e))? else { return Ok(None) };
        let corrupt = || StoreError::CorruptBlock { height, reason: "finality evidence checksum mismatch".into() };
        unseal(v.value()).map(<[u8]>::to_vec).map(Some).ok_or_else(corrupt)
    }

    /// Height of the block with this hash. A hit is checked against the block it points to.
    pub fn height_of_block(&self, hash: &Hash) -> Result<Option<u64>, StoreError> {
        let r = self.db.begin_read().map_err(|e| self.err(e))?;
        let t = r.open_table(BLOCK_BY_HASH).map_err(|e| self.err(e))?;
        let Some(height) = t.get(&hash.0).map_err(|e| self.err(e))?.map(|v| v.value()) else { return Ok(None) };
        let blocks = r.open_table(BLOCKS).map_err(|e| self.err(e))?;
        let found = match blocks.get(height).map_err(|e| self.err(e))? {
            Some(v) => Some(decode_block(height, v.value())?.hash()),
            None => None,
        };
        if found != Some(*hash) {
            return Err(StoreError::CorruptIndex(format!(
                "block_by_hash says block {hash} is at height {height}, but that block has another hash"
            )));
        }
        Ok(Some(height))
    }

    /// Where the transaction with this hash was last included: (height, index in block). A hit is checked
    /// against the block it points to, so a damaged entry is an error, never a wrong receipt.
    pub fn tx_location(&self, hash: &Hash) -> Result<Option<(u64, u32)>, StoreError> {
        Ok(self.tx_locations(std::slice::from_ref(hash))?.pop().flatten())
    }

    /// Where each of these transactions was last included, in one read transaction, each hit checked.
    pub fn tx_locations(&self, hashes: &[Hash]) -> Result<Vec<Option<(u64, u32)>>, StoreError> {
        let r = self.db.begin_read().map_err(|e| self.err(e))?;
        let t = r.open_table(TX_BY_HASH).map_err(|e| self.err(e))?;
        let blocks = r.open_table(BLOCKS).map_err(|e| self.err(e))?;
        let mut out = Vec::with_capacity(hashes.len());
        for hash in hashes {
            let Some((height, index)) = t.get(&hash.0).map_err(|e| self.err(e))?.map(|v| v.value()) else {
                out.push(None);
                continue;
            };
            let found = match blocks.get(height).map_err(|e| self.err(e))? {
                Some(v) => decode_block(height, v.value())?.txs.get(index as usize).map(engine::SignedTx::hash),
                None => None,
            };
            if found != Some(*hash) {
                return Err(StoreError::CorruptIndex(format!(
                    "tx_by_hash says tx {hash} is at block {height} index {index}, but that is not it"
                )));
            }
            out.push(Some((height, index)));
        }
        Ok(out)
    }

    pub fn snapshot_count(&self) -> Result<u64, StoreError> {
        let r = self.db.begin_read().map_err(|e| self.err(e))?;
        r.open_table(SNAPSHOTS).map_err(|e| self.err(e))?.len().map_err(|e| self.err(e))
    }

    /// Rebuild the engine: newest usable snapshot, then replay with root checks. See the crate docs.
    pub fn recover(&self, genesis: &Genesis) -> Result<(Engine, Recovery), StoreError> {
        self.recover_with(genesis, true)
    }

    /// Replay every block from genesis, ignoring snapshots: the audit that the log alone gives the state.
    pub fn replay_from_genesis(&self, genesis: &Genesis) -> Result<(Engine, Recovery), StoreError> {
        self.guard(|| self.recover_with(genesis, false))
    }

    /// Run `work` on this store with redb's panics on a damaged file caught and reported as
    /// `store_damaged` (reads that walk the whole file: replay, verify).
    pub fn guard<T>(&self, work: impl FnOnce() -> Result<T, StoreError>) -> Result<T, StoreError> {
        catch_damage(&self.path, work)
    }

    fn recover_with(&self, genesis: &Genesis, use_snapshots: bool) -> Result<(Engine, Recovery), StoreError> {
        let r = self.db.begin_read().map_err(|e| self.err(e))?;
        let snaps = r.open_table(SNAPSHOTS).map_err(|e| self.err(e))?;
        let blocks = r.open_table(BLOCKS).map_err(|e| self.err(e))?;
        let mut skipped = Vec::new();
        let mut start: Option<Engine> = None;
        for entry in snaps.iter().map_err(|e| self.err(e))?.rev().take_while(|_| use_snapshots) {
            let (k, v) = entry.map_err(|e| self.err(e))?;
            let height = k.value();
            match self.usable_snapshot(&blocks, height, v.value()) {
                Ok(engine) => {
                    start = Some(engine);
                    break;
                }
                Err(reason) => skipped.push((height, reason)),
            }
        }
        let mut engine = match start {
            Some(e) => e,
            None => Engine::from_genesis(genesis).map_err(|e| StoreError::BadGenesis(e.to_string()))?,
        };
        let snapshot_height = engine.height().0;
        let mut replayed = 0;
        for entry in blocks.range(snapshot_height + 1..).map_err(|e| self.err(e))? {
            let (k, v) = entry.map_err(|e| self.err(e))?;
            let height = k.value();
            let block = decode_block(height, v.value())?;
            engine.apply_block(&block).map_err(|e| StoreError::Replay { height, reason: e.to_string() })?;
            replayed += 1;
        }
        Ok((engine, Recovery { snapshot_height, skipped_snapshots: skipped, replayed, index_repaired: 0 }))
    }

    fn usable_snapshot(
        &self,
        blocks: &redb::ReadOnlyTable<u64, &[u8]>,
        height: u64,
        stored: &[u8],
    ) -> Result<Engine, String> {
        let bytes = unseal(stored).ok_or("checksum mismatch")?;
        let engine = Engine::restore(bytes).map_err(|e| e.to_string())?;
        let block = blocks.get(height).map_err(|e| e.to_string())?.ok_or("no block at the snapshot's height")?;
        let block = decode_block(height, block.value()).map_err(|e| e.to_string())?;
        if engine.height() != Height(height)
            || engine.state_root() != block.state_root
            || engine.last_block_hash() != block.hash()
        {
            return Err("snapshot disagrees with the block log".into());
        }
        Ok(engine)
    }
}

/// fsync a directory, so a rename or a new file in it is durable.
pub(crate) fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    std::fs::File::open(dir)?.sync_all()?;
    Ok(())
}

/// The head record of the data directory `dir` (the newest block a store there made durable and
/// acknowledged), `Ok(None)` without one; for tools and tests as well as the start.
pub fn read_head(dir: &Path) -> Result<Option<Head>, StoreError> {
    head::read(dir).map_err(|reason| StoreError::HeadDamaged { path: head::path(dir), reason })
}

/// A head record without a database: the database was deleted or moved, not a fresh directory.
fn head_without_database(dir: &Path) -> Result<(), StoreError> {
    match read_head(dir)? {
        Some(head) => Err(StoreError::RolledBack {
            head_path: head::path(dir),
            expected_height: head.height,
            expected_hash: head.hash,
            found: format!("file {} is missing", db_path(dir).display()),
        }),
        None => Ok(()),
    }
}

/// Parse a genesis given by the operator and build its engine, so a genesis that cannot start a chain is
/// refused before anything is written.
pub fn validate_genesis(text: &str) -> Result<Genesis, StoreError> {
    let genesis = Genesis::from_toml(text).map_err(|e| StoreError::GivenGenesisInvalid(e.to_string()))?;
    Engine::from_genesis(&genesis).map_err(|e| StoreError::GivenGenesisInvalid(e.to_string()))?;
    Ok(genesis)
}

thread_local! {
    /// Set while [`catch_damage`] runs on this thread: a panic then is redb refusing a damaged file, which
    /// becomes a `store_damaged` error, so [`quiet_damage_panics`] keeps its message off stderr.
    static EXPECTING_DAMAGE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Install a panic hook that stays silent about redb's panics on a damaged file (they are reported as
/// `store_damaged` errors, with what to do) and passes every other panic to the hook that was there.
/// The binary calls it once at start; a panic anywhere else still prints as before.
pub fn quiet_damage_panics() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !EXPECTING_DAMAGE.with(std::cell::Cell::get) {
            previous(info);
        }
    }));
}

/// redb asserts (panics) on some damaged files, e.g. one cut shorter than its header says, when it opens
/// or reads them; turn that into a reported error instead of a crash.
pub(crate) fn catch_damage<T, E>(path: &Path, work: impl FnOnce() -> Result<T, E>) -> Result<T, StoreError>
where
    StoreError: From<(PathBuf, E)>,
{
    // Nested calls: only the outermost one clears the flag.
    let outer = EXPECTING_DAMAGE.with(|d| d.replace(true));
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work));
    EXPECTING_DAMAGE.with(|d| d.set(outer));
    match caught {
        Ok(r) => r.map_err(|e| StoreError::from((path.to_path_buf(), e))),
        Err(_) => Err(StoreError::Damaged {
            path: path.to_path_buf(),
            reason: "redb cannot read it: shorter than its header says, or its structure is broken".into(),
        }),
    }
}

impl From<(PathBuf, redb::DatabaseError)> for StoreError {
    fn from((path, e): (PathBuf, redb::DatabaseError)) -> StoreError {
        StoreError::Db { path, message: e.to_string() }
    }
}

impl From<(PathBuf, StoreError)> for StoreError {
    fn from((_, e): (PathBuf, StoreError)) -> StoreError {
        e
    }
}

/// A database file of 0 bytes is damage (we never create one, see [`Store::open`]); redb would take it for
/// a new database.
fn refuse_empty(path: &Path) -> Result<(), StoreError> {
    let len =
        std::fs::metadata(path).map_err(|e| StoreError::Db { path: path.to_path_buf(), message: e.to_string() })?;
    if len.len() == 0 {
        return Err(StoreError::Damaged { path: path.to_path_buf(), reason: "it is 0 bytes long".into() });
    }
    Ok(())
}

pub(crate) fn decode_block(height: u64, stored: &[u8]) -> Result<Block, StoreError> {
    let corrupt = |reason: &str| StoreError::CorruptBlock { height, reason: reason.to_string() };
    let bytes = unseal(stored).ok_or_else(|| corrupt("checksum mismatch"))?;
    let block = Block::try_from_slice(bytes).map_err(|e| corrupt(&format!("does not decode: {e}")))?;
    if block.height.0 != height {
        return Err(corrupt("stored under the wrong height"));
    }
    Ok(block)
}
