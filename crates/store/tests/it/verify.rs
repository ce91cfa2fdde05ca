//! Every byte checked: index hits are checked against the blocks, a start walks the newest blocks and
//! repairs index damage from them, damage to a block or an outcome is a refusal naming its height, and a
//! full verify names the first damage anywhere.

use crate::genesis_text;
use redb::{Database, TableDefinition};
use std::path::Path;
use store::{Start, Store};
use types::Hash;

const OUTCOMES: TableDefinition<u64, &[u8]> = TableDefinition::new("outcomes");
const TX_BY_HASH: TableDefinition<&[u8; 32], (u64, u32)> = TableDefinition::new("tx_by_hash");
const BLOCK_BY_HASH: TableDefinition<&[u8; 32], u64> = TableDefinition::new("block_by_hash");

/// A stopped directory with `blocks` blocks of 3 transfers; returns the tx hashes per block.
fn chain(dir: &Path, blocks: u64) -> Vec<Vec<Hash>> {
    let (store, _, _) = Start::prepare(dir, Some(&genesis_text())).expect("prepare").commit().expect("commit");
    let genesis = store.bind_genesis(None).expect("stored");
    crate::run(&store, &genesis, blocks, 4);
    (1..=blocks).map(|h| store.block(h).expect("read").expect("block").txs.iter().map(|t| t.hash()).collect()).collect()
}

/// Change the database behind the store's back, as a damaged page would.
fn tamper(dir: &Path, f: impl FnOnce(&redb::WriteTransaction)) {
    let db = Database::open(dir.join("stakework.redb")).expect("open");
    let w = db.begin_write().expect("write");
    f(&w);
    w.commit().expect("commit");
}

#[test]
fn damaged_tx_and_block_index_entries_are_caught_on_read_and_repaired_at_start() {
    let dir = tempfile::tempdir().expect("tempdir");
    let txs = chain(dir.path(), 6);
    let (moved, lost) = (txs[4][0], txs[5][2]);
    let store = Store::open(dir.path()).expect("open");
    let b3 = store.block(3).expect("read").expect("block 3").hash();
    drop(store);
    let mut flipped = lost;
    flipped.0[0] ^= 1;
    tamper(dir.path(), |w| {
        let mut t = w.open_table(TX_BY_HASH).expect("table");
        t.insert(&moved.0, (5, 1)).expect("a value pointing at another tx");
        t.remove(&lost.0).expect("remove");
        t.insert(&flipped.0, (6, 2)).expect("the entry under a damaged key");
        w.open_table(BLOCK_BY_HASH).expect("table").insert(&b3.0, 2).expect("a block entry pointing elsewhere");
    });
    let ro = Store::open_read_only(dir.path()).expect("ro");
    assert_eq!(ro.tx_location(&moved).expect_err("a wrong hit is an error").code(), "store_corrupt_index");
    assert_eq!(ro.tx_location(&flipped).expect_err("a stray hit is an error").code(), "store_corrupt_index");
    assert_eq!(ro.height_of_block(&b3).expect_err("wrong block hit").code(), "store_corrupt_index");
    assert_eq!(ro.tx_location(&lost).expect("a miss"), None, "a miss cannot be checked on read");
    let err = ro.verify().expect_err("verify names index damage");
    assert_eq!(err.code(), "store_corrupt_index", "{err}");
    drop(ro);

    // A normal start repairs what its walk of the newest blocks finds; the stray key needs --check-all.
    let (store, _, rec) = Start::prepare(dir.path(), None).expect("prepare").commit().expect("commit");
    assert_eq!(rec.index_repaired, 3);
    assert_eq!(store.tx_location(&moved).expect("repaired"), Some((5, 0)));
    assert_eq!(store.tx_location(&lost).expect("repaired"), Some((6, 2)));
    assert_eq!(store.height_of_block(&b3).expect("repaired"), Some(3));
    drop(store);
    let (store, _, rec) = Start::prepare_checking(dir.path(), None, true).expect("prepare").commit().expect("commit");
    assert_eq!(rec.index_repaired, 1, "the stray key");
    assert_eq!(store.tx_location(&flipped).expect("gone"), None);
    drop(store);
    let v = Store::open_read_only(dir.path()).expect("ro").verify().expect("sound again");
    assert_eq!((v.height, v.blocks, v.txs), (6, 6, 18));
}

#[test]
fn a_damaged_outcome_is_a_refusal_naming_its_height() {
    let dir = tempfile::tempdir().expect("tempdir");
    chain(dir.path(), 6);
    // Block 2 is older than the snapshot at 4: recovery never reads it, the start's walk does.
    tamper(dir.path(), |w| {
        w.open_table(OUTCOMES)
            .expect("table")
            .insert(2, b"not a sealed outcome, 32 bytes or more long".as_slice())
            .expect("insert");
    });
    let err = Start::prepare(dir.path(), None).expect_err("refused");
    assert_eq!(err.code(), "store_corrupt_block", "{err}");
    assert!(err.to_string().contains("block 2 "), "{err}");
    let err = Store::open_read_only(dir.path()).expect("ro").verify().expect_err("verify");
    assert!(err.to_string().contains("block 2 "), "{err}");
    tamper(dir.path(), |w| {
        w.open_table(OUTCOMES).expect("table").remove(2).expect("remove");
    });
    assert!(Start::prepare(dir.path(), None)
        .expect_err("refused")
        .to_string()
        .contains("block 2 is corrupt: outcome missing"));
}

#[test]
fn a_sound_directory_verifies() {
    let dir = tempfile::tempdir().expect("tempdir");
    chain(dir.path(), 9);
    let v = Store::open_read_only(dir.path()).expect("ro").verify().expect("sound");
    assert_eq!((v.height, v.blocks, v.txs, v.snapshots, v.index_entries), (9, 9, 27, 2, 36));
    assert_eq!(v.head.map(|h| h.height), Some(9));
}
