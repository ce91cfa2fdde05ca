//! Store: durable append, recovery from snapshots and replay, corruption and truncation detection.

use ed25519_dalek::SigningKey;
use engine::{Call, Engine, Genesis, GenesisAccount, Params, SignedTx, TxBody};
use store::Store;
use types::{AccountId, Amount};

pub(crate) fn key() -> SigningKey {
    SigningKey::from_bytes(&[7; 32])
}

/// Leave the database file as a SIGKILL would: its bytes copied while `store` is open (redb's header
/// then says "recovery required"), put back after the store is closed.
pub(crate) fn as_if_killed(dir: &std::path::Path, store: Store) {
    let path = dir.join("stakework.redb");
    let bytes = std::fs::read(&path).expect("read the open database");
    assert_ne!(bytes[9] & 2, 0, "redb's header of an open database says recovery required");
    drop(store);
    std::fs::write(&path, bytes).expect("put the crash-time bytes back");
}

mod faults;
mod readonly;
mod rollback;
mod verify;

fn genesis_text() -> String {
    let g = Genesis {
        services: Vec::new(),
        validators: Vec::new(),
        params: Params { min_fee: Amount(1), ..Params::default() },
        accounts: vec![GenesisAccount {
            id: AccountId(key().verifying_key().to_bytes()),
            name: None,
            free: Amount(1_000_000),
            bonded: Amount::ZERO,
        }],
    };
    g.to_toml()
}

/// Run `blocks` blocks of 3 transfers each into `store`, snapshotting every `every` blocks.
pub(crate) fn run(store: &Store, genesis: &Genesis, blocks: u64, every: u64) -> Engine {
    let mut engine = Engine::from_genesis(genesis).expect("genesis");
    let signer = AccountId(key().verifying_key().to_bytes());
    let mut nonce = 0;
    for h in 1..=blocks {
        let txs: Vec<SignedTx> = (0..3)
            .map(|i| {
                let body = TxBody {
                    signer,
                    nonce,
                    fee: Amount(1),
                    call: Call::Transfer { to: AccountId([i as u8 + 1; 32]), amount: Amount(h as u128 * 10 + i) },
                };
                nonce += 1;
                body.sign(&key(), &genesis.params.chain_id)
            })
            .collect();
        let hashes: Vec<_> = txs.iter().map(SignedTx::hash).collect();
        let sigs = engine::verify_signatures(&txs, &genesis.params.chain_id);
        let (block, _) = engine.produce_block(txs, &sigs).expect("block");
        let snap = (h % every == 0).then(|| engine.snapshot());
        store.append(&block, &hashes, b"outcome", snap.as_deref()).expect("append");
    }
    engine
}

#[test]
fn recovery_replays_the_log_from_genesis_and_from_the_newest_snapshot() {
    for every in [u64::MAX, 4] {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open");
        let genesis = store.bind_genesis(Some(&genesis_text())).expect("genesis");
        let live = run(&store, &genesis, 10, every);
        drop(store);
        let store = Store::open(dir.path()).expect("reopen");
        let genesis = store.bind_genesis(None).expect("stored genesis");
        let (engine, rec) = store.recover(&genesis).expect("recover");
        assert_eq!(engine.state_root(), live.state_root());
        assert_eq!(engine.height(), live.height());
        let expected_start = if every == 4 { 8 } else { 0 };
        assert_eq!((rec.snapshot_height, rec.replayed), (expected_start, 10 - expected_start));
        assert!(rec.skipped_snapshots.is_empty());
        assert_eq!(store.last_height().expect("height"), 10);
        let b3 = store.block(3).expect("read").expect("present");
        assert_eq!(store.height_of_block(&b3.hash()).expect("read"), Some(3));
        assert_eq!(store.tx_location(&b3.txs[2].hash()).expect("read"), Some((3, 2)));
    }
}

#[test]
fn a_gap_or_a_foreign_genesis_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).expect("open");
    let genesis = store.bind_genesis(Some(&genesis_text())).expect("genesis");
    run(&store, &genesis, 2, u64::MAX);
    let other = genesis_text().replace("stakework-local", "other-chain");
    assert_eq!(store.bind_genesis(Some(&other)).expect_err("mismatch").code(), "store_genesis_mismatch");
    let mut engine = store.recover(&genesis).expect("recover").0;
    let (mut block, _) = engine.produce_block(vec![], &engine::SignatureCheck::trusted_all_valid(0)).expect("b");
    block.height = types::Height(5);
    assert_eq!(store.append(&block, &[], b"", None).expect_err("gap").code(), "store_not_next");
    let empty = tempfile::tempdir().expect("tempdir");
    assert_eq!(
        Store::open(empty.path()).expect("open").bind_genesis(None).expect_err("none").code(),
        "store_no_genesis"
    );
}

/// Flip one byte of a stored transaction inside the database file: recovery must report an error, never
/// come back with a different state.
#[test]
fn a_corrupted_block_in_the_file_is_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).expect("open");
    let genesis = store.bind_genesis(Some(&genesis_text())).expect("genesis");
    let live = run(&store, &genesis, 6, u64::MAX);
    let sig = store.block(5).expect("read").expect("present").txs[1].signature.0;
    drop(store);
    let path = dir.path().join("stakework.redb");
    let mut bytes = std::fs::read(&path).expect("read file");
    let at = bytes.windows(64).position(|w| w == sig).expect("signature bytes are in the file");
    bytes[at + 10] ^= 0x55;
    std::fs::write(&path, &bytes).expect("write file");
    let outcome = Store::open(dir.path()).and_then(|s| {
        let g = s.bind_genesis(None)?;
        s.recover(&g)
    });
    match outcome {
        Err(e) => assert!(["store_corrupt_block", "store_io", "store_replay_failed"].contains(&e.code()), "{e}"),
        Ok((engine, _)) => panic!(
            "corruption accepted silently: recovered height {} (live root {})",
            engine.height(),
            live.state_root()
        ),
    }
}

/// Cut the file short: the store must refuse to open or recover, or recover exactly a prefix it can prove;
/// it must never present a different history as complete.
#[test]
fn a_truncated_file_is_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).expect("open");
    let genesis = store.bind_genesis(Some(&genesis_text())).expect("genesis");
    run(&store, &genesis, 6, u64::MAX);
    drop(store);
    let path = dir.path().join("stakework.redb");
    let len = std::fs::metadata(&path).expect("meta").len();
    let f = std::fs::OpenOptions::new().write(true).open(&path).expect("open file");
    f.set_len(len / 2).expect("truncate");
    drop(f);
    let outcome = Store::open(dir.path()).and_then(|s| {
        let g = s.bind_genesis(None)?;
        s.recover(&g).map(|(e, _)| (e, s.last_height()))
    });
    match outcome {
        Err(e) => assert_eq!(e.code(), "store_damaged", "{e}"),
        Ok((engine, last)) => {
            panic!("truncated file accepted: recovered height {}, log says {:?}", engine.height(), last.ok())
        }
    }
}

#[test]
fn a_corrupt_snapshot_is_skipped_and_the_log_replayed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).expect("open");
    let genesis = store.bind_genesis(Some(&genesis_text())).expect("genesis");
    let live = run(&store, &genesis, 5, 5);
    assert_eq!(store.snapshot_count().expect("count"), 1);
    drop(store);
    // The snapshot starts with its magic; find it after the checksum and damage a byte of the body.
    let path = dir.path().join("stakework.redb");
    let mut bytes = std::fs::read(&path).expect("read file");
    let at = bytes.windows(8).position(|w| w == b"SWKSNAP1").expect("snapshot in file");
    bytes[at + 60] ^= 0xff;
    std::fs::write(&path, &bytes).expect("write file");
    let store = Store::open(dir.path()).expect("reopen");
    let genesis = store.bind_genesis(None).expect("genesis");
    let (engine, rec) = store.recover(&genesis).expect("recover from genesis instead");
    assert_eq!(rec.snapshot_height, 0);
    assert_eq!(rec.skipped_snapshots.len(), 1, "{:?}", rec.skipped_snapshots);
    assert_eq!(engine.state_root(), live.state_root());
}

#[test]
fn finality_evidence_is_written_with_its_block_and_survives_a_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).expect("open");
    let genesis = store.bind_genesis(Some(&genesis_text())).expect("genesis");
    let mut engine = Engine::from_genesis(&genesis).expect("genesis");
    let (block, _) = engine.produce_block(Vec::new(), &engine::SignatureCheck::trusted_all_valid(0)).expect("block");
    store.append_finalized(&block, &[], b"outcome", None, Some(b"evidence of 1")).expect("append");
    let (block, _) = engine.produce_block(Vec::new(), &engine::SignatureCheck::trusted_all_valid(0)).expect("block");
    store.append(&block, &[], b"outcome", None).expect("append without evidence");
    let root = engine.state_root();
    drop(store);
    let store = Store::open(dir.path()).expect("reopen");
    assert_eq!(store.finality(1).expect("read").as_deref(), Some(&b"evidence of 1"[..]));
    assert_eq!(store.finality(2).expect("read"), None, "a block appended without evidence has none");
    assert_eq!(store.finality(3).expect("read"), None);
    let (recovered, _) = store.recover(&genesis).expect("recover");
    assert_eq!(recovered.state_root(), root, "the evidence is not state");
    drop(store);
    let ro = Store::open_read_only(dir.path()).expect("read-only open");
    assert_eq!(ro.finality(1).expect("read").as_deref(), Some(&b"evidence of 1"[..]));
}

#[test]
fn a_database_from_before_finality_evidence_reads_as_having_none() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).expect("open");
    let genesis = store.bind_genesis(Some(&genesis_text())).expect("genesis");
    run(&store, &genesis, 2, 10);
    drop(store);
    // Drop the table, as a database made by an older node lacks it.
    let db = redb::Database::open(dir.path().join("stakework.redb")).expect("redb");
    let w = db.begin_write().expect("write");
    w.delete_table(redb::TableDefinition::<u64, &[u8]>::new("finality")).expect("delete");
    w.commit().expect("commit");
    drop(db);
    let ro = Store::open_read_only(dir.path()).expect("an older database still opens");
    assert_eq!(ro.finality(1).expect("read"), None);
    drop(ro);
    let store = Store::open(dir.path()).expect("an older database still opens for appending");
    assert_eq!(store.finality(2).expect("read"), None);
}
