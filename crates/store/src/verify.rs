//! Walks over the stored bytes: every block, outcome, snapshot and index entry checked, damage named.
//!
//! Blocks, outcomes and snapshots carry their own checksum. The two indexes (block hash → height, tx
//! hash → (height, index)) do not: they are checked against the blocks they index, which are the
//! truth. A hit is checked on every read (the tx at (height, index) must hash to the key); a miss cannot
//! be checked cheaply, so the walk also looks up every block's hash and transactions in the indexes.
//! Damage to a block or an outcome cannot be repaired (it is the history) and is a refusal naming its
//! height; damage to an index is reported as a list of entries to rewrite from the blocks.

use crate::{decode_block, unseal, Store, StoreError, BLOCKS, BLOCK_BY_HASH, OUTCOMES, SNAPSHOTS, TX_BY_HASH};
use engine::{Engine, Genesis};
use redb::ReadableTable;
use std::collections::BTreeMap;
use types::Hash;

/// One index entry that disagrees with the blocks, and what it must be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexDamage {
    /// `block_by_hash[hash]` must be `height` (it is missing or says something else).
    Block { hash: Hash, height: u64 },
    /// `tx_by_hash[hash]` must be `(height, index)` (it is missing or says something else).
    Tx { hash: Hash, height: u64, index: u32 },
    /// An entry in the named index whose key matches no block or transaction it points to (a damaged key).
    Stray { table: &'static str, hash: Hash },
}

impl std::fmt::Display for IndexDamage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IndexDamage::Block { hash, height } => {
                write!(f, "block_by_hash entry for block {height} ({hash}) is missing or wrong")
            }
            IndexDamage::Tx { hash, height, index } => {
                write!(f, "tx_by_hash entry for tx {hash} (block {height}, index {index}) is missing or wrong")
            }
            IndexDamage::Stray { table, hash } => {
                write!(f, "{table} entry under key {hash} points to a block or tx with another hash")
            }
        }
    }
}

/// What a walk saw.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Walk {
    /// Blocks walked: `first..=last` (empty when `first > last`).
    pub first: u64,
    pub last: u64,
    pub txs: u64,
    /// Index entries read in the scan for stray keys (a full walk only).
    pub index_entries: u64,
    /// Index entries to rewrite from the blocks; empty when the indexes are sound.
    pub index_damage: Vec<IndexDamage>,
}

/// What a full verify found: everything sound, and how much of it there was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub height: u64,
    pub state_root: Hash,
    pub blocks: u64,
    pub txs: u64,
    pub snapshots: u64,
    pub index_entries: u64,
    /// The head record, if the directory has one (it agreed with the database).
    pub head: Option<crate::Head>,
}

impl Store {
    /// Check everything, read-only: the stored genesis, the head record, every block, outcome, snapshot
    /// and index entry, then a replay of the whole log from genesis checking every state root. The first
    /// damage found is the error, naming what and where.
    pub fn verify(&self) -> Result<Verified, StoreError> {
        self.guard(|| self.verify_unguarded())
    }

    fn verify_unguarded(&self) -> Result<Verified, StoreError> {
        let (genesis, _) = self.check_genesis(None)?;
        self.check_head()?;
        let walk = self.walk(&genesis, 1, true)?;
        if let Some(first) = walk.index_damage.first() {
            return Err(StoreError::CorruptIndex(format!(
                "{first} ({} damaged entries; a start with --check-all rewrites them from the blocks)",
                walk.index_damage.len()
            )));
        }
        let (snapshots, damaged) = self.damaged_snapshots()?;
        if let Some((height, reason)) = damaged.into_iter().next() {
            return Err(StoreError::CorruptSnapshot { height, reason });
        }
        let (engine, _) = self.replay_from_genesis(&genesis)?;
        Ok(Verified {
            height: engine.height().0,
            state_root: engine.state_root(),
            blocks: walk.last,
            txs: walk.txs,
            snapshots,
            index_entries: walk.index_entries,
            head: self.head()?,
        })
    }

    /// Walk blocks `first..=last height`: checksums, heights, parent links, outcomes, and both indexes for
    /// every block and transaction. With `strays`, also every index entry (damaged keys). Damage to a
    /// block or an outcome is an error naming its height; index damage is listed.
    pub fn walk(&self, genesis: &Genesis, first: u64, strays: bool) -> Result<Walk, StoreError> {
        let last = self.last_height()?;
        let first = first.max(1);
        let mut walk = Walk { first, last, ..Walk::default() };
        let r = self.db.begin_read().map_err(|e| self.err(e))?;
        let blocks = r.open_table(BLOCKS).map_err(|e| self.err(e))?;
        let outcomes = r.open_table(OUTCOMES).map_err(|e| self.err(e))?;
        let by_hash = r.open_table(BLOCK_BY_HASH).map_err(|e| self.err(e))?;
        let txs = r.open_table(TX_BY_HASH).map_err(|e| self.err(e))?;
        let mut parent = self.parent_of(genesis, first)?;
        // Newest location of each tx hash in the walk: a tx rejected in one block may be included later.
        let mut newest: BTreeMap<Hash, (u64, u32)> = BTreeMap::new();
        for height in first..=last {
            let corrupt = |reason: String| StoreError::CorruptBlock { height, reason };
            let stored =
                blocks.get(height).map_err(|e| self.err(e))?.ok_or_else(|| corrupt("missing from the log".into()))?;
            let block = decode_block(height, stored.value())?;
            if block.parent_hash != parent {
                return Err(corrupt(match height {
                    1 => {
                        "its parent hash is not the stored genesis's (block 1 or the stored genesis is damaged)".into()
                    }
                    _ => format!("its parent hash is not the hash of block {}", height - 1),
                }));
            }
            parent = block.hash();
            let outcome =
                outcomes.get(height).map_err(|e| self.err(e))?.ok_or_else(|| corrupt("outcome missing".into()))?;
            unseal(outcome.value()).ok_or_else(|| corrupt("outcome checksum mismatch".into()))?;
            if by_hash.get(&parent.0).map_err(|e| self.err(e))?.map(|v| v.value()) != Some(height) {
                walk.index_damage.push(IndexDamage::Block { hash: parent, height });
            }
            for (i, tx) in block.txs.iter().enumerate() {
                newest.insert(tx.hash(), (height, i as u32));
            }
            walk.txs += block.txs.len() as u64;
        }
        for (hash, (height, index)) in newest {
            if txs.get(&hash.0).map_err(|e| self.err(e))?.map(|v| v.value()) != Some((height, index)) {
                walk.index_damage.push(IndexDamage::Tx { hash, height, index });
            }
        }
        if strays {
            self.scan_strays(&blocks, &by_hash, &txs, &mut walk)?;
        }
        Ok(walk)
    }

    /// The hash block `first` must name as its parent: block `first - 1`'s, or the genesis block's.
    fn parent_of(&self, genesis: &Genesis, first: u64) -> Result<Hash, StoreError> {
        if first <= 1 {
            let engine = Engine::from_genesis(genesis).map_err(|e| StoreError::BadGenesis(e.to_string()))?;
            return Ok(engine.last_block_hash());
        }
        let height = first - 1;
        let block = self.block(height)?;
        block.map(|b| b.hash()).ok_or(StoreError::CorruptBlock { height, reason: "missing from the log".into() })
    }

    /// Check every snapshot (checksum, restore, agreement with its block): how many there are, and the
    /// damaged ones with the reason. Recovery skips a bad snapshot and replays the log instead, a start
    /// drops it, a verify names it.
    pub fn damaged_snapshots(&self) -> Result<(u64, Vec<(u64, String)>), StoreError> {
        let r = self.db.begin_read().map_err(|e| self.err(e))?;
        let snaps = r.open_table(SNAPSHOTS).map_err(|e| self.err(e))?;
        let blocks = r.open_table(BLOCKS).map_err(|e| self.err(e))?;
        let blocks = &blocks;
        let (mut n, mut damaged) = (0, Vec::new());
        for entry in snaps.iter().map_err(|e| self.err(e))? {
            let (k, v) = entry.map_err(|e| self.err(e))?;
            let height = k.value();
            if let Err(reason) = self.usable_snapshot(blocks, height, v.value()) {
                damaged.push((height, reason));
            }
            n += 1;
        }
        Ok((n, damaged))
    }

    /// Remove snapshots that failed their checks: they hold no history (the log does), and a directory
    /// without them verifies again.
    pub fn drop_snapshots(&self, heights: &[u64]) -> Result<(), StoreError> {
        self.writable_or_refuse()?;
        if heights.is_empty() {
            return Ok(());
        }
        let w = self.db.begin_write().map_err(|e| self.err(e))?;
        {
            let mut snaps = w.open_table(SNAPSHOTS).map_err(|e| self.err(e))?;
            for h in heights {
                snaps.remove(*h).map_err(|e| self.err(e))?;
            }
        }
        w.commit().map_err(|e| self.err(e))
    }

    /// Every index entry must point to a block or tx with its key's hash.
    fn scan_strays(
        &self,
        blocks: &redb::ReadOnlyTable<u64, &[u8]>,
        by_hash: &redb::ReadOnlyTable<&'static [u8; 32], u64>,
        txs: &redb::ReadOnlyTable<&'static [u8; 32], (u64, u32)>,
        walk: &mut Walk,
    ) -> Result<(), StoreError> {
        let block_at = |height: u64| -> Result<Option<engine::Block>, StoreError> {
            match blocks.get(height).map_err(|e| self.err(e))? {
                Some(v) => decode_block(height, v.value()).map(Some),
                None => Ok(None),
            }
        };
        for entry in by_hash.iter().map_err(|e| self.err(e))? {
            let (k, v) = entry.map_err(|e| self.err(e))?;
            let hash = Hash(*k.value());
            walk.index_entries += 1;
            if block_at(v.value())?.map(|b| b.hash()) != Some(hash) {
                walk.index_damage.push(IndexDamage::Stray { table: "block_by_hash", hash });
            }
        }
        for entry in txs.iter().map_err(|e| self.err(e))? {
            let (k, v) = entry.map_err(|e| self.err(e))?;
            let (hash, (height, index)) = (Hash(*k.value()), v.value());
            walk.index_entries += 1;
            let found = block_at(height)?.and_then(|b| b.txs.get(index as usize).map(engine::SignedTx::hash));
            if found != Some(hash) {
                walk.index_damage.push(IndexDamage::Stray { table: "tx_by_hash", hash });
            }
        }
        Ok(())
    }

    /// Rewrite damaged index entries from the blocks (see [`Store::walk`]), in one durable commit.
    pub fn repair_index(&self, damage: &[IndexDamage]) -> Result<(), StoreError> {
        self.writable_or_refuse()?;
        if damage.is_empty() {
            return Ok(());
        }
        let w = self.db.begin_write().map_err(|e| self.err(e))?;
        {
            let mut by_hash = w.open_table(BLOCK_BY_HASH).map_err(|e| self.err(e))?;
            let mut txs = w.open_table(TX_BY_HASH).map_err(|e| self.err(e))?;
            // Stray keys go first: a key whose value was damaged is both stray and to be rewritten.
            for d in damage {
                match d {
                    IndexDamage::Stray { table: "block_by_hash", hash } => {
                        by_hash.remove(&hash.0).map(drop).map_err(|e| self.err(e))?
                    }
                    IndexDamage::Stray { hash, .. } => txs.remove(&hash.0).map(drop).map_err(|e| self.err(e))?,
                    _ => {}
                }
            }
            for d in damage {
                match d {
                    IndexDamage::Block { hash, height } => {
                        by_hash.insert(&hash.0, *height).map(drop).map_err(|e| self.err(e))?
                    }
                    IndexDamage::Tx { hash, height, index } => {
                        txs.insert(&hash.0, (*height, *index)).map(drop).map_err(|e| self.err(e))?
                    }
                    IndexDamage::Stray { .. } => {}
                }
            }
        }
        w.commit().map_err(|e| self.err(e))
    }
}
