//! A node start in two steps: every check without writing ([`Start::prepare`]), then, once the node is
//! ready to serve (its port bound), the first write ([`Start::commit`]).
//!
//! A start can fail for reasons that have nothing to do with the data (a busy port, a bad flag, a typo in
//! the genesis file). If such a start had already created the database or recorded the genesis, the
//! corrected start would find a directory changed by a failure, e.g. bound to the wrong genesis. So the
//! data directory is only read until [`Start::commit`].

use crate::{db_path, validate_genesis, Head, IndexDamage, Recovery, Store, StoreError};
use engine::{Engine, Genesis};
use std::path::{Path, PathBuf};

/// A start whose checks passed: the recovered engine, and what to write once the node is ready.
#[derive(Debug)]
pub struct Start {
    dir: PathBuf,
    /// The genesis text to record at commit: a fresh directory, or a database created without one.
    unrecorded_genesis: Option<String>,
    /// The chain's genesis (the stored one, or the one given to a fresh directory).
    genesis: Genesis,
    engine: Engine,
    recovery: Recovery,
    /// Index entries to rewrite from the blocks at commit.
    index_damage: Vec<IndexDamage>,
    /// Heights of snapshots that failed their checks, dropped at commit.
    bad_snapshots: Vec<u64>,
}

/// A start checks at least this many of the newest blocks (and every block it replays): checksums,
/// parent links, outcomes and index entries. `stakework node --verify` checks them all.
pub const START_CHECK_BLOCKS: u64 = 1_000;

impl Start {
    /// Check everything a start needs without writing `dir`: the genesis `given` (parsed and built), the
    /// stored one (present, valid, equal to the given one), the head record (no rollback, see
    /// [`Store::check_head`]), and recovery of the engine from the log.
    pub fn prepare(dir: &Path, given: Option<&str>) -> Result<Start, StoreError> {
        Start::prepare_checking(dir, given, false)
    }

    /// [`Start::prepare`], checking every block and every index entry instead of the newest ones when
    /// `all` (so index damage anywhere is repaired at commit).
    pub fn prepare_checking(dir: &Path, given: Option<&str>, all: bool) -> Result<Start, StoreError> {
        crate::catch_damage(&db_path(dir), || Start::prepare_inner(dir, given, all))
    }

    fn prepare_inner(dir: &Path, given: Option<&str>, all: bool) -> Result<Start, StoreError> {
        let genesis = given.map(validate_genesis).transpose()?;
        if !db_path(dir).exists() {
            crate::head_without_database(dir)?;
            let (Some(text), Some(genesis)) = (given, genesis) else { return Err(StoreError::NoGenesis) };
            let engine = Engine::from_genesis(&genesis).map_err(|e| StoreError::GivenGenesisInvalid(e.to_string()))?;
            let recovery = Recovery::default();
            let unrecorded_genesis = Some(text.into());
            return Ok(Start {
                dir: dir.to_path_buf(),
                unrecorded_genesis,
                genesis,
                engine,
                recovery,
                index_damage: Vec::new(),
                bad_snapshots: Vec::new(),
            });
        }
        let store = Store::open_read_only(dir)?;
        let (genesis, unrecorded): (Genesis, bool) = store.check_genesis(given)?;
        store.check_head()?;
        let (engine, mut recovery) = store.recover(&genesis)?;
        let newest = engine.height().0.saturating_sub(START_CHECK_BLOCKS - 1);
        let first = if all { 1 } else { newest.min(recovery.snapshot_height + 1) };
        let walk = store.walk(&genesis, first, all)?;
        recovery.index_repaired = walk.index_damage.len() as u64;
        let mut bad_snapshots: Vec<u64> = recovery.skipped_snapshots.iter().map(|(h, _)| *h).collect();
        if all {
            bad_snapshots.extend(store.damaged_snapshots()?.1.into_iter().map(|(h, _)| h));
            bad_snapshots.sort_unstable();
            bad_snapshots.dedup();
        }
        let unrecorded_genesis = given.filter(|_| unrecorded).map(str::to_string);
        let index_damage = walk.index_damage;
        let dir = dir.to_path_buf();
        Ok(Start { dir, unrecorded_genesis, genesis, engine, recovery, index_damage, bad_snapshots })
    }

    /// The chain's genesis.
    pub fn genesis(&self) -> &Genesis {
        &self.genesis
    }

    /// Height the node will serve from.
    pub fn height(&self) -> u64 {
        self.engine.height().0
    }

    /// Open the store for appending (creating it in a fresh directory) and record what `prepare` found
    /// missing. The database must still end where `prepare` found it.
    pub fn commit(self) -> Result<(Store, Engine, Recovery), StoreError> {
        let path = db_path(&self.dir);
        crate::catch_damage(&path, || self.commit_inner())
    }

    fn commit_inner(self) -> Result<(Store, Engine, Recovery), StoreError> {
        let store = Store::open(&self.dir)?;
        if let Some(text) = &self.unrecorded_genesis {
            store.bind_genesis(Some(text))?;
        }
        let last = store.last_height()?;
        if last != self.engine.height().0 {
            return Err(StoreError::Db {
                path: db_path(&self.dir),
                message: format!(
                    "the log changed while the node started (checked at height {}, now {last}); is another \
                     process writing this data directory?",
                    self.engine.height()
                ),
            });
        }
        store.repair_index(&self.index_damage)?;
        store.drop_snapshots(&self.bad_snapshots)?;
        // Directories from before the head record get one here; others move it to where recovery ended
        // (past it when a crash came between a commit and the head's update).
        store.write_head(&Head { height: last, hash: self.engine.last_block_hash() })?;
        Ok((store, self.engine, self.recovery))
    }
}
