//! No silent rollback: a database that lost blocks the head record says were made durable is refused,
//! by a start and by a replay, naming the height and hash expected and what was found.

use crate::readonly::fingerprint;
use crate::{genesis_text, run};
use std::path::Path;
use store::{Start, Store};

/// A fresh directory started like a node does, with `blocks` blocks appended; returns block hashes.
fn chain(dir: &Path, blocks: u64) -> Vec<types::Hash> {
    let (store, _, _) = Start::prepare(dir, Some(&genesis_text())).expect("prepare").commit().expect("commit");
    let genesis = store.bind_genesis(None).expect("stored");
    run(&store, &genesis, blocks, 3);
    (1..=blocks).map(|h| store.block(h).expect("read").expect("block").hash()).collect()
}

/// Append one more block to a stopped directory, the way a node restart would.
fn one_more(dir: &Path) -> types::Hash {
    let (store, mut engine, _) = Start::prepare(dir, None).expect("prepare").commit().expect("commit");
    let (block, _) = engine.produce_block(vec![], &engine::SignatureCheck::trusted_all_valid(0)).expect("block");
    store.append(&block, &[], b"outcome", None).expect("append");
    block.hash()
}

/// Both a start and a replay's read-only open refuse, with `code`, and write nothing.
fn refused(dir: &Path, code: &str, names: &[String]) {
    let before = fingerprint(dir);
    let err = Start::prepare(dir, Some(&genesis_text())).expect_err("the start must be refused");
    assert_eq!(err.code(), code, "{err}");
    for n in names {
        assert!(err.to_string().contains(n.as_str()), "the refusal does not name {n}: {err}");
    }
    let replay = Store::open_read_only(dir).and_then(|s| s.check_head());
    assert_eq!(replay.expect_err("replay must refuse too").code(), code);
    assert_eq!(fingerprint(dir), before, "a refused start wrote the directory");
}

/// The tester's case (A) by a file copy: the database from height 5 put back after block 6 was acknowledged.
#[test]
fn a_database_put_back_from_an_older_copy_is_refused_naming_the_head() {
    let dir = tempfile::tempdir().expect("tempdir");
    chain(dir.path(), 5);
    let db = dir.path().join("stakework.redb");
    let old = std::fs::read(&db).expect("copy");
    let h6 = one_more(dir.path());
    std::fs::write(&db, &old).expect("put the old copy back");
    refused(dir.path(), "store_rolled_back", &["block 6".into(), h6.to_hex(), "ends at block 5".into()]);
}

/// The tester's case (A) as it happened: an unclean stop, then one flipped byte in the newest commit's
/// slot of redb's header, so redb falls back to the commit before it.
#[test]
fn a_damaged_newest_commit_that_redb_falls_back_from_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    chain(dir.path(), 5);
    let (store, mut engine, _) = Start::prepare(dir.path(), None).expect("prepare").commit().expect("commit");
    let (block, _) = engine.produce_block(vec![], &engine::SignatureCheck::trusted_all_valid(0)).expect("block");
    store.append(&block, &[], b"outcome", None).expect("append");
    crate::as_if_killed(dir.path(), store);
    let db = dir.path().join("stakework.redb");
    let mut bytes = std::fs::read(&db).expect("read");
    let primary = usize::from(bytes[9] & 1);
    bytes[64 + primary * 128 + 20] ^= 0x40;
    std::fs::write(&db, &bytes).expect("write");
    refused(dir.path(), "store_rolled_back", &["block 6".into(), block.hash().to_hex()]);
}

/// The tester's case (C): the database gone or cut to 0 bytes beside a head record is damage, never a new
/// chain, even with `--genesis` given.
#[test]
fn a_missing_or_empty_database_beside_a_head_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let hashes = chain(dir.path(), 4);
    let db = dir.path().join("stakework.redb");
    std::fs::File::create(&db).expect("cut to 0 bytes");
    refused(dir.path(), "store_damaged", &["0 bytes".into()]);
    std::fs::remove_file(&db).expect("remove");
    refused(dir.path(), "store_rolled_back", &["block 4".into(), hashes[3].to_hex(), "missing".into()]);
    assert_eq!(Store::open(dir.path()).expect_err("open").code(), "store_rolled_back");
    assert!(!db.exists());
}

/// A crash between the commit and the head's update leaves the database one block ahead: accepted, and
/// the head moves up to it.
#[test]
fn a_database_ahead_of_its_head_is_accepted() {
    let dir = tempfile::tempdir().expect("tempdir");
    chain(dir.path(), 3);
    let head = dir.path().join("HEAD");
    let old = std::fs::read(&head).expect("head");
    let h4 = one_more(dir.path());
    std::fs::write(&head, &old).expect("the head from before block 4");
    let start = Start::prepare(dir.path(), None).expect("a database ahead of its head starts");
    assert_eq!(start.height(), 4);
    let (store, _, _) = start.commit().expect("commit");
    assert_eq!(store.head().expect("head"), Some(store::Head { height: 4, hash: h4 }));
}

/// The head record's two slots: one damaged slot is what a crash mid-write leaves (the other holds the
/// head before it, and the database is at most one block ahead: accepted, the record rewritten); both
/// damaged is a refusal.
#[test]
fn a_damaged_head_record_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    chain(dir.path(), 2);
    let head = dir.path().join("HEAD");
    let mut bytes = std::fs::read(&head).expect("head");
    bytes[20] ^= 0x01;
    std::fs::write(&head, &bytes).expect("write");
    let start = Start::prepare(dir.path(), None).expect("one torn slot starts from the other");
    assert_eq!(start.height(), 2);
    bytes[512 + 20] ^= 0x01;
    std::fs::write(&head, &bytes).expect("write");
    refused(dir.path(), "store_head_damaged", &["HEAD".into()]);
}
