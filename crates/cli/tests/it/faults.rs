//! Fault injection on the store, through real node processes: after a clean stop and after a SIGKILL, the
//! data file is truncated, zeroed or has a byte flipped at seeded positions (`FAULT_SEED`), or is cut to
//! 0 bytes or removed. Every case must end one of two ways, never a third:
//! - **refused**: the node exits with status 1 and an error naming the damage (`[store_…]`), having served
//!   nothing, and `stakework replay` and `stakework node --verify` refuse the directory too; or
//! - **served exactly**: the node serves the last durable head (height, state root, block hash), every block
//!   up to it, and every acknowledged transaction's receipt.
//!
//! A node that starts at another height, serves a different history, answers 503 on a read, panics or
//! hangs fails the case. The matrix of cases and outcomes is printed, and docs/SAFETY.md records one run.
//! `RUN_SLOW_TESTS=1` runs four times as many positions.

use crate::support::{write_genesis, Node, BIN};
use ed25519_dalek::SigningKey;
use engine::{Call, TxBody};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use types::{AccountId, Amount, Hash};

const DB: &str = "stakework.redb";

fn key(i: u8) -> SigningKey {
    SigningKey::from_bytes(&[140 + i; 32])
}

fn id(i: u8) -> AccountId {
    AccountId(key(i).verifying_key().to_bytes())
}

/// What the damaged directory should have served: the head before the damage and what was acknowledged.
#[derive(Debug, Clone)]
struct Durable {
    height: u64,
    state_root: String,
    last_block_hash: String,
    acked: Vec<Hash>,
    /// The highest block holding an acknowledged transaction, or named by the head record if higher: a
    /// start may never serve less.
    acked_height: u64,
    /// (hash, state root) of every block from 1 to `height`.
    chain: Vec<(String, String)>,
}

/// One kind of damage to the data file.
#[derive(Debug, Clone)]
enum Damage {
    Flip(u64),
    Zero { at: u64, len: u64 },
    Truncate(u64),
    Empty,
    Removed,
}

impl std::fmt::Display for Damage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Damage::Flip(at) => write!(f, "flip a byte at {at}"),
            Damage::Zero { at, len } => write!(f, "zero {len} bytes at {at}"),
            Damage::Truncate(at) => write!(f, "truncate to {at} bytes"),
            Damage::Empty => write!(f, "cut to 0 bytes"),
            Damage::Removed => write!(f, "remove the file"),
        }
    }
}

impl Damage {
    fn apply(&self, file: &Path) {
        let open = || std::fs::OpenOptions::new().read(true).write(true).open(file).expect("open the data file");
        match *self {
            Damage::Flip(at) => {
                let mut f = open();
                let mut b = [0u8; 1];
                f.seek(SeekFrom::Start(at)).expect("seek");
                f.read_exact(&mut b).expect("read");
                b[0] ^= 0x5a;
                f.seek(SeekFrom::Start(at)).expect("seek");
                f.write_all(&b).expect("write");
            }
            Damage::Zero { at, len } => {
                let mut f = open();
                f.seek(SeekFrom::Start(at)).expect("seek");
                f.write_all(&vec![0u8; len as usize]).expect("write");
            }
            Damage::Truncate(at) => open().set_len(at).expect("truncate"),
            Damage::Empty => open().set_len(0).expect("truncate"),
            Damage::Removed => std::fs::remove_file(file).expect("remove"),
        }
    }
}

/// How a damaged directory's start ended.
#[derive(Debug)]
enum Outcome {
    Refused(String),
    Served,
}

/// A small SplitMix64, so the positions depend on the seed alone.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        (z ^ (z >> 31)) % n.max(1)
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read dir") {
        let e = e.expect("entry");
        if e.file_type().expect("type").is_file() {
            std::fs::copy(e.path(), to.join(e.file_name())).expect("copy");
        }
    }
}

/// Commit `n` transfers with `wait=commit` and return their hashes.
fn commit_transfers(node: &Node, n: u64) -> Vec<Hash> {
    (0..n)
        .map(|nonce| {
            let call = Call::Transfer { to: id(1), amount: Amount(1 + u128::from(nonce)) };
            let tx = TxBody { signer: id(0), nonce, fee: Amount(1_000), call }.sign(&key(0), "e2e");
            let (status, v) =
                node.post_raw("/v1/txs?wait=commit", "application/json", &serde_json::to_vec(&tx).expect("json"));
            assert_eq!((status, v["receipt"]["code"].as_str()), (200, Some("ok")), "{v}");
            tx.hash()
        })
        .collect()
}

/// A directory with `txs` transactions acknowledged, left by a clean stop or a SIGKILL, and the durable head
/// it holds (read by starting a node on a copy of it).
fn prepare(root: &Path, genesis: &Path, kill: bool, txs: u64) -> (PathBuf, Durable) {
    let data = root.join(if kill { "pristine-killed" } else { "pristine-clean" });
    let node = Node::start(&data, Some(genesis), 5, &["--snapshot-every", "4"]);
    let acked = commit_transfers(&node, txs);
    if kill {
        node.sigkill();
    } else {
        node.sigterm();
    }
    let probe = root.join("probe");
    let _ = std::fs::remove_dir_all(&probe);
    copy_dir(&data, &probe);
    let node = Node::start(&probe, None, 60_000, &[]);
    let h = node.health();
    let height = h["height"].as_u64().expect("height");
    let field = |v: &serde_json::Value, k: &str| v[k].as_str().expect("a hex field").to_string();
    let chain = (1..=height)
        .map(|i| {
            let b = node.get(&format!("/v1/blocks/{i}")).expect("a durable block");
            (field(&b, "hash"), field(&b, "state_root"))
        })
        .collect();
    let acked_height = acked
        .iter()
        .map(|t| node.get(&format!("/v1/txs/{t}")).expect("an acknowledged tx")["height"].as_u64().expect("height"))
        .max()
        .unwrap_or(0);
    let recorded = store::read_head(&data).expect("a readable head record").map_or(0, |h| h.height);
    let acked_height = acked_height.max(recorded);
    node.sigterm();
    let durable = Durable {
        height,
        state_root: field(&h, "state_root"),
        last_block_hash: field(&h, "last_block_hash"),
        acked,
        acked_height,
        chain,
    };
    (data, durable)
}

/// Start a node on `data` (with `--genesis` too, as the README's first start does) and wait until it
/// listens or exits.
fn start(data: &Path, genesis: &Path) -> Result<(std::process::Child, String), String> {
    let mut child = Command::new(BIN)
        .args(["node", "--listen", "127.0.0.1:0", "--block-ms", "60000", "--data"])
        .arg(data)
        .arg("--genesis")
        .arg(genesis)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the node");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(line) = rx.try_recv() {
            if let Some(url) = line.split_whitespace().find(|w| w.starts_with("http://")) {
                return Ok((child, url.to_string()));
            }
        }
        if let Some(status) = child.try_wait().expect("wait") {
            let mut err = String::new();
            child.stderr.take().expect("stderr").read_to_string(&mut err).expect("stderr");
            return Err(format!("exit {status}: {}", err.trim()));
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            return Err("did not listen nor exit within 30 s".into());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn get(url: &str, path: &str) -> Result<serde_json::Value, String> {
    match ureq::get(&format!("{url}{path}")).timeout(Duration::from_secs(10)).call() {
        Ok(r) => r.into_json().map_err(|e| e.to_string()),
        Err(ureq::Error::Status(code, r)) => Err(format!("{code} {}", r.into_string().unwrap_or_default())),
        Err(e) => Err(e.to_string()),
    }
}

/// Everything a node that starts must serve, or the first thing it got wrong.
fn serves_exactly(url: &str, d: &Durable) -> Result<(), String> {
    let h = get(url, "/health")?;
    let head = (h["height"].as_u64(), h["state_root"].as_str(), h["last_block_hash"].as_str());
    let want = (Some(d.height), Some(d.state_root.as_str()), Some(d.last_block_hash.as_str()));
    // A SIGKILL can land after redb committed a block but before the head record named it: that block was
    // never acknowledged, and a damaged newest commit slot may lose it. Serving the block before it is
    // then the truth, as long as it is on the chain and nothing acknowledged is missing (checked below).
    let served = head.0.unwrap_or(0);
    let earlier = served >= d.acked_height
        && served < d.height
        && served > 0
        && d.chain
            .get(served as usize - 1)
            .is_some_and(|(hash, root)| (head.1, head.2) == (Some(root.as_str()), Some(hash.as_str())));
    if head != want && !earlier {
        return Err(format!("serves head {head:?}, the durable head is {want:?}"));
    }
    for height in 1..=served {
        get(url, &format!("/v1/blocks/{height}")).map_err(|e| format!("block {height}: {e}"))?;
    }
    for hash in &d.acked {
        let r = get(url, &format!("/v1/txs/{hash}")).map_err(|e| format!("acknowledged tx {hash}: {e}"))?;
        if r["code"] != "ok" {
            return Err(format!("acknowledged tx {hash}: {r}"));
        }
    }
    Ok(())
}

/// Run one case on a fresh copy of `pristine`.
fn run_case(root: &Path, pristine: &Path, genesis: &Path, damage: &Damage, d: &Durable) -> Result<Outcome, String> {
    let data = root.join("case");
    let _ = std::fs::remove_dir_all(&data);
    copy_dir(pristine, &data);
    damage.apply(&data.join(DB));
    match start(&data, genesis) {
        Err(message) if message.starts_with("exit exit status: 1:") && message.contains("[store_") => {
            // What refuses a start is named by a verify too; a replay (which reads only the blocks) either
            // refuses or reaches exactly the durable head.
            let run = |args: &[&str]| Command::new(BIN).args(args).arg(&data).output().expect("run stakework");
            let verify = run(&["node", "--verify", "--data"]);
            let err = String::from_utf8_lossy(&verify.stderr);
            if verify.status.code() != Some(1) || !err.contains("[store_") {
                return Err(format!(
                    "the start was refused ({message}) but --verify answered {:?}: {err}",
                    verify.status
                ));
            }
            let replay = run(&["replay", "--json", "--data"]);
            let (out, err) = (String::from_utf8_lossy(&replay.stdout), String::from_utf8_lossy(&replay.stderr));
            let reached = serde_json::from_str::<serde_json::Value>(&out).ok().map(|v| {
                (v["height"].as_u64() == Some(d.height)) && v["state_root"].as_str() == Some(d.state_root.as_str())
            });
            let refused = replay.status.code() == Some(1) && err.contains("[store_");
            if !(refused || replay.status.success() && reached == Some(true)) {
                return Err(format!("replay after a refused start answered {:?}: {out} {err}", replay.status));
            }
            Ok(Outcome::Refused(message))
        }
        Err(message) => Err(format!("neither refused with a store error nor served: {message}")),
        Ok((mut child, url)) => {
            let checked = serves_exactly(&url, d);
            devnet::process::sigterm(&child);
            let _ = child.wait();
            checked.map(|()| Outcome::Served)
        }
    }
}

/// The 4 KiB pages of the file that hold anything but zeros: where a flip or a zeroed page hits data (redb
/// preallocates, so most of the file is free space a uniform position would mostly hit).
fn live_pages(file: &Path) -> Vec<u64> {
    let bytes = std::fs::read(file).expect("read the data file");
    bytes.chunks(4096).enumerate().filter(|(_, c)| c.iter().any(|b| *b != 0)).map(|(i, _)| i as u64).collect()
}

fn damages(rng: &mut Rng, file: &Path, per_kind: usize) -> Vec<Damage> {
    let len = std::fs::metadata(file).expect("data file").len();
    let live = live_pages(file);
    let in_live = |rng: &mut Rng| live[rng.below(live.len() as u64) as usize] * 4096;
    let mut out = vec![Damage::Empty, Damage::Removed];
    for _ in 0..per_kind {
        // The header's commit slots: a damaged newest slot makes redb fall back to the commit before it.
        out.push(Damage::Flip(rng.below(512)));
        let at = in_live(rng) + rng.below(4096);
        out.push(Damage::Flip(at.min(len - 1)));
        out.push(Damage::Zero { at: in_live(rng), len: 4096 });
        out.push(Damage::Truncate(rng.below(len)));
    }
    out
}

#[test]
fn every_damage_to_the_store_is_refused_or_the_durable_head_is_served_exactly() {
    let seed = std::env::var("FAULT_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0xfa17_u64);
    let per_kind = if std::env::var_os("RUN_SLOW_TESTS").is_some() { 24 } else { 6 };
    eprintln!("fault-injection seed {seed} (rerun with FAULT_SEED={seed}), {per_kind} positions per kind");
    let mut rng = Rng(seed);
    let root = tempfile::tempdir().expect("tempdir");
    let genesis = write_genesis(root.path(), &[id(0).to_hex(), id(1).to_hex()]);
    let mut failures = Vec::new();
    let mut matrix = Vec::new();
    for kill in [false, true] {
        let (pristine, durable) = prepare(root.path(), &genesis, kill, 24);
        for damage in damages(&mut rng, &pristine.join(DB), per_kind) {
            let after = if kill { "SIGKILL" } else { "clean stop" };
            match run_case(root.path(), &pristine, &genesis, &damage, &durable) {
                Ok(Outcome::Served) => matrix.push(format!("{after} | {damage} | served height {}", durable.height)),
                Ok(Outcome::Refused(m)) => matrix.push(format!("{after} | {damage} | refused: {m}")),
                Err(e) => failures.push(format!("{after} | {damage} | {e}")),
            }
        }
    }
    eprintln!("{}", matrix.join("\n"));
    assert!(failures.is_empty(), "{} case(s) failed (seed {seed}):\n{}", failures.len(), failures.join("\n"));
}
