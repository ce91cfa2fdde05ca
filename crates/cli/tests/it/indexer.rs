//! The PostgreSQL indexer (`stakework index`) against a real node and a real PostgreSQL: SIGKILLed
//! repeatedly mid-stream and restarted, its tables must equal the node's blocks and events exactly; it
//! refuses a gap, a different chain, and a bad `--postgres`.
//!
//! PostgreSQL: `STAKEWORK_TEST_POSTGRES` (a server URL; each test makes its own database on it), else a
//! throwaway cluster through `scripts/postgres.sh`, else the test prints "skipped: no PostgreSQL" — except
//! under `CI=true`, where a missing PostgreSQL fails the test.

use crate::support::{cli, cli_raw, key_of, Node, BIN};
use api::BlockView;
use ed25519_dalek::SigningKey;
use protocol::{Call, EventRecord, SignedTx};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use types::{AccountId, Amount};

const KILLS: usize = 8;
/// Blocks the node is ahead of the cursor when the indexer is restarted.
const BACKLOG: u64 = 40;

/// A database of its own for one test, on a shared server or on a cluster this test started.
struct Pg {
    url: String,
    /// The cluster this test started (stopped on drop), with its directory.
    own: Option<tempfile::TempDir>,
}

impl Drop for Pg {
    fn drop(&mut self) {
        if let Some(dir) = &self.own {
            let _ = Command::new("bash").arg(script()).arg("stop").arg(dir.path()).status();
        }
    }
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/postgres.sh")
}

/// `url` with its database name replaced by `db`.
fn with_database(url: &str, db: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let after_scheme = base.find("://").map_or(0, |i| i + 3);
    let base = match base[after_scheme..].find('/') {
        Some(i) => &base[..after_scheme + i],
        None => base,
    };
    query.map_or_else(|| format!("{base}/{db}"), |q| format!("{base}/{db}?{q}"))
}

/// PostgreSQL for the test `name`, or `None` (printed) when there is none outside CI.
fn postgres(name: &str) -> Option<Pg> {
    let (server, own) = match std::env::var("STAKEWORK_TEST_POSTGRES") {
        Ok(url) if !url.is_empty() => (url, None),
        _ => {
            // Under /tmp: PostgreSQL's unprivileged user must reach it when the tests run as root.
            let dir = tempfile::Builder::new().prefix("stakework-pg").tempdir_in("/tmp").expect("tempdir");
            let ci = std::env::var("CI").is_ok_and(|v| v == "true");
            let mut start = Command::new("bash");
            start.arg(script()).arg("start").arg(dir.path());
            if !ci {
                // Outside CI a test never installs PostgreSQL: it skips.
                start.env("STAKEWORK_PG_NO_INSTALL", "1");
            }
            let out = start.output().expect("run bash");
            if !out.status.success() {
                let why = String::from_utf8_lossy(&out.stderr).into_owned();
                assert!(!ci, "CI=true but PostgreSQL could not be started: {why}");
                eprintln!("skipped: no PostgreSQL ({})", why.trim());
                return None;
            }
            let url = String::from_utf8_lossy(&out.stdout).lines().last().unwrap_or_default().trim().to_string();
            (url, Some(dir))
        }
    };
    let db = format!("idx_{name}_{}", std::process::id());
    let mut admin = postgres::Client::connect(&server, postgres::NoTls).expect("connect to the test PostgreSQL");
    admin.batch_execute(&format!("DROP DATABASE IF EXISTS {db}")).expect("drop database");
    admin.batch_execute(&format!("CREATE DATABASE {db}")).expect("create database");
    Some(Pg { url: with_database(&server, &db), own })
}

fn key(i: u8) -> SigningKey {
    SigningKey::from_bytes(&[60 + i; 32])
}

fn id(i: u8) -> AccountId {
    AccountId(key(i).verifying_key().to_bytes())
}

/// A genesis with a miner, a client, two transfer accounts, a service, short epochs and short deadlines.
fn genesis(dir: &Path, chain: &str, miner: &str, client: &str) -> PathBuf {
    let mut text = format!(
        "[params]\nchain_id = \"{chain}\"\nmin_fee = 1000\nminer_stake_min = \"100 SWK\"\nepoch_length = 15\n\
         request_timeout = 8\nrating_window = 200\n\n\
         [[accounts]]\nid = \"{miner}\"\nfree = \"10 SWK\"\nbonded = \"200 SWK\"\n\n\
         [[accounts]]\nid = \"{client}\"\nfree = \"100 SWK\"\nbonded = \"10 SWK\"\n\n\
         [[services]]\nname = \"text\"\nweight = 1\nprice = \"0.5 SWK\"\n"
    );
    for i in 0..2 {
        text.push_str(&format!("\n[[accounts]]\nid = \"{}\"\nfree = \"1000 SWK\"\n", id(i).to_hex()));
    }
    let path = dir.join(format!("genesis-{chain}.toml"));
    std::fs::write(&path, text).expect("genesis");
    path
}

/// Transfers back and forth, each waited for, until `stop`.
fn traffic(url: String, i: u8, stop: Arc<AtomicBool>) {
    let api = client::Client::new(&url);
    while !stop.load(Ordering::SeqCst) {
        let call = Call::Transfer { to: id(1 - i), amount: Amount(1 + u128::from(i)) };
        let _ = api.sign_and_submit(&key(i), None, call, true);
    }
}

/// `stakework index` as a child process, its output in `log`.
fn spawn_index(node: &str, pg: &str, log: &Path, extra: &[&str]) -> Child {
    let out = std::fs::OpenOptions::new().create(true).append(true).open(log).expect("log");
    Command::new(BIN)
        .args(["--node", node, "index", "--postgres", pg, "--poll-ms", "20"])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(out)
        .spawn()
        .expect("spawn stakework index")
}

fn index_once(node: &str, pg: &str) -> std::process::Output {
    Command::new(BIN)
        .args(["--json", "--node", node, "index", "--postgres", pg, "--once"])
        .output()
        .expect("run stakework index")
}

/// The cursor; `None` before the indexer made its tables.
fn cursor(db: &mut postgres::Client) -> Option<(i64, String)> {
    let row = db.query_opt("SELECT height, block_hash FROM indexer_cursor", &[]).ok().flatten();
    row.map(|r| (r.get(0), r.get(1)))
}

fn next(rng: &mut u64, n: u64) -> u64 {
    *rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    (*rng >> 33) % n
}

/// Let the node get `BACKLOG` blocks ahead of the cursor, start the indexer, and SIGKILL it once it has
/// written a random number of them (and a random few milliseconds more): while it is catching up. True if
/// it was still behind the node's head when killed.
fn kill_mid_stream(k: usize, node: &str, pg: &str, log: &Path, db: &mut postgres::Client, rng: &mut u64) -> bool {
    let api = client::Client::new(node);
    let before = cursor(db).map_or(0, |c| c.0.unsigned_abs());
    while api.height().expect("height") < before + BACKLOG {
        std::thread::sleep(Duration::from_millis(10));
    }
    let target = before + 1 + next(rng, BACKLOG / 2);
    let mut child = spawn_index(node, pg, log, &[]);
    let deadline = Instant::now() + Duration::from_secs(60);
    while cursor(db).map_or(0, |c| c.0.unsigned_abs()) < target {
        assert!(Instant::now() < deadline, "the indexer did not reach block {target}");
        assert!(
            child.try_wait().expect("try_wait").is_none(),
            "the indexer exited: {}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    std::thread::sleep(Duration::from_millis(next(rng, 6)));
    child.kill().expect("SIGKILL the indexer");
    let _ = child.wait();
    let after = cursor(db).map_or(0, |c| c.0.unsigned_abs());
    let head = api.height().expect("height");
    eprintln!("kill {k}: cursor {before} -> {after} (target {target}), node head {head}");
    assert!(after >= target, "the cursor never moves back");
    after < head
}

/// A request served and rated, one left to expire (a refund), and a task nobody works on (it fails).
fn market(home: &Path, url: &str) {
    let run = |args: &[&str]| cli(home, Some(url), args);
    run(&[
        "node",
        "register",
        "--from",
        "miner",
        "--role",
        "miner",
        "--service",
        "1",
        "--endpoint",
        "http://127.0.0.1:9",
        "--wait",
    ]);
    run(&["request", "submit", "--from", "client", "--service", "1", "--wait"]);
    run(&["request", "complete", "--from", "miner", "--request", "1", "--result", "hello", "--wait"]);
    run(&["request", "rate", "--from", "client", "--request", "1", "good", "--wait"]);
    run(&["request", "submit", "--from", "client", "--service", "1", "--wait"]);
    let _ = cli_raw(home, Some(url), &["task", "submit", "--from", "client", "--service", "1", "--wait"]);
}

#[test]
fn sigkilled_indexer_resumes_and_its_tables_equal_the_nodes_events() {
    let Some(pg) = postgres("crash") else { return };
    let seed = std::env::var("CRASH_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x1dec_u64);
    eprintln!("indexer crash test seed {seed} (rerun with CRASH_SEED={seed})");
    let mut rng = seed;
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path().join("home");
    for k in ["miner", "client"] {
        cli(&home, None, &["keys", "new", k]);
    }
    let path = genesis(dir.path(), "idx", &key_of(&home, "miner"), &key_of(&home, "client"));
    let node = Node::start(&dir.path().join("data"), Some(&path), 30, &[]);
    let stop = Arc::new(AtomicBool::new(false));
    let threads: Vec<_> = (0..2)
        .map(|i| {
            let (url, stop) = (node.url.clone(), stop.clone());
            std::thread::spawn(move || traffic(url, i, stop))
        })
        .collect();
    market(&home, &node.url);
    let mut db = postgres::Client::connect(&pg.url, postgres::NoTls).expect("connect");
    let log = dir.path().join("index.log");
    let mid_stream = (0..KILLS).filter(|&k| kill_mid_stream(k, &node.url, &pg.url, &log, &mut db, &mut rng)).count();
    stop.store(true, Ordering::SeqCst);
    for t in threads {
        t.join().expect("traffic thread");
    }
    let api = client::Client::new(&node.url);
    // Past the next epoch's end, so that the miner's epoch reward is in the chain.
    let head = api.height().expect("height") + 16;
    while api.height().expect("height") < head {
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = Command::new(BIN)
        .args(["--json", "--node", &node.url, "index", "--postgres", &pg.url, "--until-height", &head.to_string()])
        .output()
        .expect("run stakework index");
    let log_text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(out.status.success(), "{}\n{log_text}", String::from_utf8_lossy(&out.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).expect("index --json");
    assert_eq!(summary["height"], head, "{summary}");
    assert!(mid_stream >= KILLS - 1, "only {mid_stream} of {KILLS} kills landed while the indexer was behind the node");
    assert_tables_equal_the_chain(&mut db, &api, head);
    check_example_queries(&mut db, &api, head);
    node.sigterm();
}

/// Every block once, every transaction and event once, in order and equal to the node's; the cursor at the
/// last block.
fn assert_tables_equal_the_chain(db: &mut postgres::Client, api: &client::Client, head: u64) {
    let blocks: Vec<BlockView> = (1..=head).map(|h| api.block(&h.to_string()).expect("block")).collect();
    let stored = db
        .query("SELECT height, hash, parent_hash, state_root, tx_count, event_count FROM blocks ORDER BY height", &[])
        .expect("blocks");
    assert_eq!(stored.len() as u64, head, "every block once");
    for (row, b) in stored.iter().zip(&blocks) {
        let got: (i64, String, String, String, i32, i32) =
            (row.get(0), row.get(1), row.get(2), row.get(3), row.get(4), row.get(5));
        let want = (
            b.height as i64,
            b.hash.to_string(),
            b.parent_hash.to_string(),
            b.state_root.to_string(),
            b.txs.len() as i32,
            b.events.len() as i32,
        );
        assert_eq!(got, want);
    }
    let events = db.query("SELECT height, seq, data::text FROM events ORDER BY height, seq", &[]).expect("events");
    let want: Vec<(i64, i32, EventRecord)> = blocks
        .iter()
        .flat_map(|b| b.events.iter().enumerate().map(|(i, e)| (b.height as i64, i as i32, e.clone())))
        .collect();
    let got: Vec<(i64, i32, EventRecord)> = events
        .iter()
        .map(|r| (r.get(0), r.get(1), serde_json::from_str(r.get::<_, &str>(2)).expect("an event record")))
        .collect();
    assert_eq!(got.len(), want.len(), "every event once");
    assert_eq!(got, want, "the same events, in the same order");
    let txs = db.query("SELECT height, position, hash, code, tx::text FROM txs ORDER BY height, position", &[]);
    let got: Vec<(i64, i32, String, String, SignedTx)> = txs
        .expect("txs")
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), serde_json::from_str(r.get::<_, &str>(4)).expect("a tx")))
        .collect();
    let want: Vec<(i64, i32, String, String, SignedTx)> = blocks
        .iter()
        .flat_map(|b| {
            b.txs
                .iter()
                .enumerate()
                .map(|(i, t)| (b.height as i64, i as i32, t.hash.to_string(), t.code.clone(), t.tx.clone()))
        })
        .collect();
    assert_eq!(got, want, "every transaction once");
    let last = blocks.last().expect("a block");
    assert_eq!(cursor(db), Some((head as i64, last.hash.to_string())), "the cursor is the last block");
    // The typed tables hold exactly the rows the events give.
    let mut typed =
        |table: &str| -> i64 { db.query_one(&format!("SELECT count(*) FROM {table}"), &[]).expect("count").get(0) };
    let all: Vec<::indexer::rows::Rows> =
        blocks.iter().flat_map(|b| &b.events).map(|e| ::indexer::rows::rows(&e.event)).collect();
    let sum = |f: fn(&::indexer::rows::Rows) -> usize| all.iter().map(f).sum::<usize>() as i64;
    assert_eq!(typed("payouts"), sum(|r| r.payouts.len()));
    assert_eq!(typed("fines"), sum(|r| r.fines.len()));
    assert_eq!(typed("refunds"), sum(|r| r.refunds.len()));
    assert_eq!(typed("ratings"), sum(|r| r.ratings.len()));
    assert_eq!(typed("task_results"), sum(|r| r.task_results.len()));
    assert_eq!(typed("ratings"), 1, "the one rated request");
}

/// docs/INDEXER.md's example queries run and give what the chain says.
fn check_example_queries(db: &mut postgres::Client, api: &client::Client, head: u64) {
    let mut rewarded = std::collections::BTreeMap::new();
    for h in 1..=head {
        for e in api.block(&h.to_string()).expect("block").events {
            for p in ::indexer::rows::rows(&e.event).payouts.iter().filter(|p| p.epoch.is_some()) {
                let amount: u128 = p.amount.parse().expect("amount");
                *rewarded.entry((p.epoch, p.account.clone())).or_insert(0u128) += amount;
            }
        }
    }
    assert!(!rewarded.is_empty(), "the miner earned an epoch reward");
    for (name, sql) in ::indexer::EXAMPLES {
        let rows = db.query(*sql, &[]).unwrap_or_else(|e| panic!("example query {name}: {e}"));
        eprintln!("example {name}: {} rows", rows.len());
        assert!(!rows.is_empty(), "example {name}: no rows");
        if *name == "fines_by_reason" {
            let reason: String = rows[0].get("reason");
            assert!(reason.starts_with("task_"), "the failed task's culprit was fined: {reason}");
        }
        if *name == "reward_per_node_per_epoch" {
            let got: std::collections::BTreeMap<(Option<u64>, String), u128> = rows
                .iter()
                .map(|r| {
                    let total: String = r.get("total");
                    ((Some(r.get::<_, i64>("epoch").unsigned_abs()), r.get("account")), total.parse().expect("total"))
                })
                .collect();
            assert_eq!(got, rewarded, "{name}");
        }
    }
}

#[test]
fn a_different_chain_and_a_gap_are_refused_and_nothing_is_written() {
    let Some(pg) = postgres("refuse") else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let (a, b) = (AccountId([1; 32]).to_hex(), AccountId([2; 32]).to_hex());
    let node = Node::start(&dir.path().join("a"), Some(&genesis(dir.path(), "chain-a", &a, &b)), 20, &[]);
    let other = Node::start(&dir.path().join("b"), Some(&genesis(dir.path(), "chain-b", &a, &b)), 20, &[]);
    let api = client::Client::new(&node.url);
    while api.height().expect("height") < 5 {
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = index_once(&node.url, &pg.url);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut db = postgres::Client::connect(&pg.url, postgres::NoTls).expect("connect");
    let before = cursor(&mut db).expect("a cursor");
    let count =
        |db: &mut postgres::Client| -> i64 { db.query_one("SELECT count(*) FROM events", &[]).expect("n").get(0) };
    let events = count(&mut db);
    let other_api = client::Client::new(&other.url);
    let deadline = Instant::now() + Duration::from_secs(30);
    while other_api.height().expect("height") < before.0.unsigned_abs() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = index_once(&other.url, &pg.url);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("[chain_mismatch]"), "{err}");
    assert_eq!((cursor(&mut db), count(&mut db)), (Some(before.clone()), events), "nothing written");

    let out = index_once("http://127.0.0.1:9", &pg.url);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("[node_unreachable]"), "{err}");

    // A cursor beyond the stored blocks: a gap, refused.
    db.execute("UPDATE indexer_cursor SET height = height + 3", &[]).expect("move the cursor");
    let out = index_once(&node.url, &pg.url);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("[gap]"), "{err}");
    assert_eq!(count(&mut db), events, "nothing written");
    node.sigterm();
    other.sigterm();
}

#[test]
fn a_bad_postgres_url_is_a_clear_error() {
    // PostgreSQL is checked before the node is called: no node is needed.
    let node = "http://127.0.0.1:9";
    let out = index_once(node, "not a url at all");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("[bad_postgres_url]"), "{err}");
    let out = index_once(node, "postgresql://nobody@%2Fnonexistent%2Fsocket/db");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("[postgres_unreachable]"), "{err}");
}

#[test]
fn urls_get_their_database_replaced() {
    assert_eq!(with_database("postgresql://u@%2Ftmp%2Fs/postgres", "x"), "postgresql://u@%2Ftmp%2Fs/x");
    assert_eq!(
        with_database("postgres://u:p@h:5432/d?sslmode=disable", "x"),
        "postgres://u:p@h:5432/x?sslmode=disable"
    );
    assert_eq!(with_database("postgres://h", "x"), "postgres://h/x");
}
