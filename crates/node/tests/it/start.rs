//! Read-only until ready: a start that is refused (bad flags, a bad genesis, a busy port, another chain's
//! directory) leaves the data directory byte-for-byte as it was, in a fresh directory and in a used one.

use std::collections::BTreeMap;
use std::path::Path;

/// Every file under `dir` (relative path → blake3 of its bytes); missing directory = empty map.
fn fingerprint(dir: &Path) -> BTreeMap<String, types::Hash> {
    let mut out = BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries {
            let p = e.expect("dir entry").path();
            if p.is_dir() {
                todo.push(p);
            } else {
                let rel = p.strip_prefix(dir).expect("under dir").display().to_string();
                out.insert(rel, types::hash_bytes(&std::fs::read(&p).expect("read file")));
            }
        }
    }
    out
}

/// Start a node and stop it as soon as it is ready; `Ok(height)` if it started.
fn start(
    data: &Path,
    listen: &str,
    genesis: Option<String>,
    tweak: impl FnOnce(&mut node::NodeConfig),
) -> Result<u64, String> {
    let mut cfg = node::NodeConfig::new(data.to_path_buf(), listen.parse().expect("addr"));
    cfg.genesis_toml = genesis;
    cfg.block_ms = 20;
    tweak(&mut cfg);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("rt");
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let tx = std::sync::Mutex::new(Some(tx));
    let mut height = 0;
    let run = node::run_until(
        cfg,
        |n| {
            height = n.recovered_height;
            let _ = tx.lock().expect("lock").take().map(|t| t.send(()));
        },
        async move {
            let _ = rx.await;
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        },
    );
    rt.block_on(run).map_err(|e| format!("[{}] {e}", e.code()))?;
    Ok(height)
}

fn twice() -> String {
    let mut g = crate::genesis();
    g.accounts.push(g.accounts[0].clone());
    g.to_toml()
}

/// A refused start: name, listen address, genesis given, a change to the settings, the code expected.
type Case<'a> = (&'a str, &'a str, Option<String>, fn(&mut node::NodeConfig), &'a str);

/// Every way a start can be refused, each checked against an unchanged fingerprint of `data`.
fn refused_starts_change_nothing(data: &Path, good: &str) {
    let busy = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let busy_addr = busy.local_addr().expect("addr").to_string();
    let other = good.replace("api-test", "other-chain");
    let cases: Vec<Case> = vec![
        ("unparsable genesis", "127.0.0.1:0", Some("this is = not [ toml".into()), |_| {}, "genesis_invalid"),
        ("genesis listing an account twice", "127.0.0.1:0", Some(twice()), |_| {}, "genesis_invalid"),
        ("busy port", &busy_addr, Some(good.to_string()), |_| {}, "listen_failed"),
        ("bad block interval", "127.0.0.1:0", Some(good.to_string()), |c| c.block_ms = 0, "config_invalid"),
        ("bad snapshot interval", "127.0.0.1:0", Some(good.to_string()), |c| c.snapshot_every = 0, "config_invalid"),
    ];
    let mut cases = cases;
    if data.join("stakework.redb").exists() {
        cases.push(("another chain's genesis", "127.0.0.1:0", Some(other), |_| {}, "store_genesis_mismatch"));
    } else {
        cases.push(("no genesis at all", "127.0.0.1:0", None, |_| {}, "store_no_genesis"));
    }
    for (name, listen, genesis, tweak, code) in cases {
        let before = fingerprint(data);
        let err = start(data, listen, genesis, tweak).expect_err(name);
        assert!(err.starts_with(&format!("[{code}]")), "{name}: {err}");
        assert_eq!(fingerprint(data), before, "{name} changed the data directory");
    }
    drop(busy);
}

#[test]
fn a_refused_start_leaves_the_data_directory_unchanged() {
    let good = crate::genesis().to_toml();
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    refused_starts_change_nothing(&data, &good);
    assert!(!data.exists(), "a refused start in a fresh directory created it");
    // The corrected start works (it was not bound to anything by the failures), and blocks get sealed.
    start(&data, "127.0.0.1:0", Some(good.clone()), |_| {}).expect("the corrected start");
    let height = start(&data, "127.0.0.1:0", None, |_| {}).expect("a restart");
    assert!(height > 0, "the first run sealed blocks");
    refused_starts_change_nothing(&data, &good);
    assert!(start(&data, "127.0.0.1:0", Some(good), |_| {}).expect("start again") >= height);
}

/// A node serving `data` until `body` returns (then stopped gracefully).
fn serving(data: &Path, genesis: Option<String>, body: impl FnOnce(&client::Client)) {
    let node = crate::TestNode::on(data, genesis, 20);
    body(&client::Client::new(&node.url));
}

/// The tester's case (A) through a real node: transactions acknowledged with `wait=commit`, then the
/// database put back from a copy taken before them. The node must refuse to start, naming the height
/// and hash of the newest block it had made durable, instead of answering 404 for them and sealing a
/// different block at that height.
#[test]
fn a_rolled_back_database_is_refused_instead_of_resealing_acknowledged_heights() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    serving(&data, Some(crate::genesis().to_toml()), |c| {
        let r = c.submit(&crate::transfer(c, 1, crate::account(2), 5), true).expect("submit");
        assert_eq!(r.receipt.and_then(|r| r.code).as_deref(), Some("ok"));
    });
    let db = data.join("stakework.redb");
    let old = std::fs::read(&db).expect("copy of the database");
    let mut acknowledged = None;
    serving(&data, None, |c| {
        let r = c.submit(&crate::transfer(c, 1, crate::account(2), 7), true).expect("submit");
        let receipt = r.receipt.expect("committed");
        assert_eq!(receipt.code.as_deref(), Some("ok"));
        acknowledged = Some((r.hash, receipt.height.expect("height")));
    });
    let (hash, height) = acknowledged.expect("acknowledged");
    // The record's two slots hold the newest head and the one before it.
    let head = std::fs::read_to_string(data.join("HEAD")).expect("head record");
    let heights = head.lines().filter_map(|l| l.strip_prefix("height ")?.parse::<u64>().ok());
    let head_height = heights.max().expect("a height");
    assert!(head_height >= height);
    let current = std::fs::read(&db).expect("the current database");
    std::fs::write(&db, &old).expect("put the old copy back");
    let before = fingerprint(&data);
    let err = start(&data, "127.0.0.1:0", None, |_| {}).expect_err("a rolled-back database must be refused");
    assert!(err.starts_with("[store_rolled_back]"), "{err}");
    assert!(err.contains(&format!("block {head_height} ")), "the refusal names the head: {err}");
    assert_eq!(fingerprint(&data), before);
    // Given its current database back, the node answers the acknowledged transaction with its receipt.
    std::fs::write(&db, &current).expect("restore");
    serving(&data, None, |c| {
        let receipt = c.tx(&hash).expect("the acknowledged transaction");
        assert_eq!((receipt.height, receipt.code.as_deref()), (Some(height), Some("ok")));
    });
}

/// Case (B) through a real node: the index entry of an acknowledged transaction damaged on disk (it
/// points at another place in its block). The start's walk finds it and rewrites it from the block, and
/// the transaction answers with its receipt, not a 404 or another transaction's receipt.
#[test]
fn a_damaged_tx_index_entry_is_repaired_at_start_and_the_receipt_served() {
    const TX_BY_HASH: redb::TableDefinition<&[u8; 32], (u64, u32)> = redb::TableDefinition::new("tx_by_hash");
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let mut acknowledged = None;
    serving(&data, Some(crate::genesis().to_toml()), |c| {
        let r = c.submit(&crate::transfer(c, 1, crate::account(2), 5), true).expect("submit");
        acknowledged = Some((r.hash, r.receipt.and_then(|r| r.height).expect("committed")));
    });
    let (hash, height) = acknowledged.expect("acknowledged");
    {
        let db = redb::Database::open(data.join("stakework.redb")).expect("open");
        let w = db.begin_write().expect("write");
        w.open_table(TX_BY_HASH).expect("table").insert(&hash.0, (height, 7)).expect("damage the entry");
        w.commit().expect("commit");
    }
    serving(&data, None, |c| {
        let receipt = c.tx(&hash).expect("the acknowledged transaction");
        assert_eq!((receipt.height, receipt.index, receipt.code.as_deref()), (Some(height), Some(0), Some("ok")));
    });
}
