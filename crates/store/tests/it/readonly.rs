//! Read-only opens and refused starts write nothing: not a file in a fresh directory, not a byte of an
//! existing one (redb's own header bookkeeping and crash repair included).

use crate::{genesis_text, run};
use std::collections::BTreeMap;
use std::path::Path;
use store::{Start, Store};

/// Every file under `dir` (relative path → its bytes' blake3).
pub fn fingerprint(dir: &Path) -> BTreeMap<String, types::Hash> {
    let mut out = BTreeMap::new();
    for e in std::fs::read_dir(dir).into_iter().flatten() {
        let p = e.expect("entry").path();
        let name = p.file_name().expect("name").to_string_lossy().into_owned();
        out.insert(name, types::hash_bytes(&std::fs::read(&p).expect("read")));
    }
    out
}

#[test]
fn a_read_only_open_changes_no_byte_even_of_a_database_left_open() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).expect("open");
    let genesis = store.bind_genesis(Some(&genesis_text())).expect("genesis");
    let live = run(&store, &genesis, 5, 2);
    // The file as a SIGKILL would leave it: copied while open, so redb's header says "recovery required".
    crate::as_if_killed(dir.path(), store);
    let before = fingerprint(dir.path());
    for _ in 0..2 {
        let ro = Store::open_read_only(dir.path()).expect("read-only open");
        let g = ro.bind_genesis(None).expect("stored genesis");
        let (engine, _) = ro.replay_from_genesis(&g).expect("replay");
        assert_eq!(engine.state_root(), live.state_root());
        assert_eq!(
            ro.append(&ro.block(5).expect("read").expect("block 5"), &[], b"", None).expect_err("ro").code(),
            "store_read_only"
        );
        // The lock is redb's: a second open of a database in use is refused, read-only or not.
        assert_eq!(Store::open(dir.path()).expect_err("in use").code(), "store_io");
        drop(ro);
        assert_eq!(fingerprint(dir.path()), before, "a read-only open wrote the directory");
    }
}

#[test]
fn a_refused_prepare_writes_nothing() {
    let fresh = tempfile::tempdir().expect("tempdir");
    let data = fresh.path().join("data");
    let bad = ["not = [ toml", "[params]\nmin_fee = \"many\"\n"];
    for text in bad {
        assert_eq!(Start::prepare(&data, Some(text)).expect_err(text).code(), "genesis_invalid", "{text:?}");
    }
    assert_eq!(Start::prepare(&data, None).expect_err("none").code(), "store_no_genesis");
    assert!(!data.exists(), "a refused start created the data directory");

    let (store, _, _) = Start::prepare(&data, Some(&genesis_text())).expect("prepare").commit().expect("commit");
    let genesis = store.bind_genesis(None).expect("stored");
    run(&store, &genesis, 3, u64::MAX);
    drop(store);
    let before = fingerprint(&data);
    let other = genesis_text().replace("stakework-local", "other-chain");
    assert_eq!(Start::prepare(&data, Some(&other)).expect_err("other").code(), "store_genesis_mismatch");
    assert_eq!(Start::prepare(&data, Some("x = [")).expect_err("bad").code(), "genesis_invalid");
    let ready = Start::prepare(&data, Some(&genesis_text())).expect("the same genesis");
    assert_eq!(ready.height(), 3);
    drop(ready);
    assert_eq!(fingerprint(&data), before, "prepare wrote the directory");
}

/// The tester's case (C): the database cut to 0 bytes and a start with `--genesis` must not begin a new
/// chain in it.
#[test]
fn a_zero_byte_database_is_damage_not_a_new_chain() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, _, _) = Start::prepare(dir.path(), Some(&genesis_text())).expect("prepare").commit().expect("commit");
    let genesis = store.bind_genesis(None).expect("stored");
    run(&store, &genesis, 3, u64::MAX);
    drop(store);
    std::fs::File::create(dir.path().join("stakework.redb")).expect("truncate to 0");
    let before = fingerprint(dir.path());
    let err = Start::prepare(dir.path(), Some(&genesis_text())).expect_err("a 0-byte database");
    assert_eq!(err.code(), "store_damaged", "{err}");
    assert_eq!(Store::open(dir.path()).expect_err("open").code(), "store_damaged");
    assert_eq!(Store::open_read_only(dir.path()).expect_err("open").code(), "store_damaged");
    assert_eq!(fingerprint(dir.path()), before);
}
