//! Fault injection: damage the database file (truncate, zero a range, flip a byte at seeded positions),
//! after a clean stop and after a SIGKILL of a process appending blocks, and start from it. Each case
//! must either be refused with a stable code, or serve exactly the last durable head: every block up to
//! it with its hash, every acknowledged transaction at its place with its outcome, the reference state
//! root, and a store that keeps appending and then verifies.
//!
//! The seed is printed; rerun one with `FAULT_SEED=…`. `RUN_SLOW_TESTS=1` runs ten times the positions
//! (200 of each kind after each kind of stop instead of 20).

use crate::{genesis_text, key};
use engine::{Block, Call, Engine, Genesis, SignedTx, TxBody};
use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::Path;
use store::{Start, Store};
use types::{AccountId, Amount, Hash};

/// Blocks written before a clean stop, and acknowledged before a SIGKILL.
const BLOCKS: u64 = 12;
/// The writer in the child process stops here (the kill comes long before).
const CHAIN_MAX: u64 = 60;
const SNAPSHOT_EVERY: u64 = 4;
const CHILD_ENV: &str = "STORE_FAULT_CHILD_DIR";

/// The one chain every case is checked against: deterministic, so the killed child writes it too.
struct Reference {
    blocks: Vec<Block>,
    txs: Vec<Vec<Hash>>,
    snapshots: Vec<Option<Vec<u8>>>,
    /// State root after each height, genesis at 0.
    roots: Vec<Hash>,
}

fn outcome(height: u64, txs: &[Hash]) -> Vec<u8> {
    let list: Vec<String> = txs.iter().map(Hash::to_hex).collect();
    format!("outcome of block {height}: {}", list.join(",")).into_bytes()
}

fn reference() -> Reference {
    let genesis = Genesis::from_toml(&genesis_text()).expect("genesis");
    let mut engine = Engine::from_genesis(&genesis).expect("engine");
    let signer = AccountId(key().verifying_key().to_bytes());
    let mut r = Reference { blocks: vec![], txs: vec![], snapshots: vec![], roots: vec![engine.state_root()] };
    for h in 1..=CHAIN_MAX {
        let txs: Vec<SignedTx> = (0..3u64)
            .map(|i| {
                let call = Call::Transfer { to: AccountId([i as u8 + 1; 32]), amount: Amount(u128::from(h * 10 + i)) };
                TxBody { signer, nonce: (h - 1) * 3 + i, fee: Amount(1), call }.sign(&key(), &genesis.params.chain_id)
            })
            .collect();
        let sigs = engine::verify_signatures(&txs, &genesis.params.chain_id);
        r.txs.push(txs.iter().map(SignedTx::hash).collect());
        let (block, _) = engine.produce_block(txs, &sigs).expect("block");
        r.snapshots.push((h % SNAPSHOT_EVERY == 0).then(|| engine.snapshot()));
        r.roots.push(engine.state_root());
        r.blocks.push(block);
    }
    r
}

/// Start `dir` like a node and append reference blocks up to `upto`, calling `acked` after each.
fn write(dir: &Path, r: &Reference, upto: u64, mut acked: impl FnMut(u64)) {
    let (store, _, _) = Start::prepare(dir, Some(&genesis_text())).expect("prepare").commit().expect("commit");
    for h in 1..=upto {
        append(&store, r, h).expect("append");
        acked(h);
    }
}

fn append(store: &Store, r: &Reference, h: u64) -> Result<(), store::StoreError> {
    let i = (h - 1) as usize;
    store.append(&r.blocks[i], &r.txs[i], &outcome(h, &r.txs[i]), r.snapshots[i].as_deref())
}

/// Not a test of its own: the child process the SIGKILL cases kill (does nothing without its variable).
#[test]
fn fault_writer_child() {
    let Ok(dir) = std::env::var(CHILD_ENV) else { return };
    write(Path::new(&dir), &reference(), CHAIN_MAX, |h| println!("acked {h}"));
    loop {
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
}

/// A directory written by a child process SIGKILLed after `BLOCKS` acknowledgements and `delay_us`;
/// returns the last height it acknowledged.
fn killed(dir: &Path, delay_us: u64) -> u64 {
    let exe = std::env::current_exe().expect("test binary");
    let mut child = std::process::Command::new(exe)
        .args(["--exact", "faults::fault_writer_child", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn the writer");
    let mut lines = std::io::BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut head = 0;
    let acked = |line: &str| line.strip_prefix("acked ").and_then(|h| h.parse::<u64>().ok());
    while head < BLOCKS {
        let line = lines.next().expect("the writer died before acknowledging enough").expect("line");
        head = acked(&line).unwrap_or(head);
    }
    std::thread::sleep(std::time::Duration::from_micros(delay_us));
    child.kill().expect("SIGKILL");
    child.wait().expect("reap");
    // Whatever it printed before dying was acknowledged.
    lines.map_while(Result::ok).filter_map(|l| acked(&l)).fold(head, u64::max)
}

#[derive(Debug, Clone, Copy)]
enum Damage {
    Truncate(u64),
    Zero(u64),
    Flip(u64),
}

impl Damage {
    fn apply(self, file: &Path) {
        let mut bytes = std::fs::read(file).expect("read");
        match self {
            Damage::Truncate(at) => bytes.truncate(at as usize),
            Damage::Zero(at) => {
                let end = (at as usize + 64).min(bytes.len());
                bytes[at as usize..end].fill(0);
            }
            Damage::Flip(at) => bytes[at as usize] ^= 0x10,
        }
        std::fs::write(file, &bytes).expect("write");
    }
}

/// What a start made of a damaged directory.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Outcome {
    Refused(&'static str),
    Served,
    /// Served; an old snapshot or an index key was damaged, which `--verify` named (with this code) and a
    /// `--check-all` start repaired.
    ServedVerifyNamedDamageCheckAllRepaired(&'static str),
}

/// Start from `dir` and hold the result to the rule in the module docs; `Err` is a broken rule.
fn check(dir: &Path, r: &Reference, head: u64) -> Result<Outcome, String> {
    let (store, engine, _) = match Start::prepare(dir, None).and_then(Start::commit) {
        Ok(started) => started,
        Err(e) => return Ok(Outcome::Refused(e.code())),
    };
    let h = engine.height().0;
    if h < head {
        return Err(format!("started at height {h}, below the durable head {head}"));
    }
    if engine.state_root() != r.roots[h as usize] {
        return Err(format!("started at height {h} with another state root"));
    }
    for b in 1..=head {
        let i = (b - 1) as usize;
        let block = store.block(b).map_err(|e| format!("block {b}: {e}"))?;
        if block.map(|x| x.hash()) != Some(r.blocks[i].hash()) {
            return Err(format!("block {b} differs"));
        }
        if store.outcome(b).map_err(|e| format!("outcome {b}: {e}"))? != Some(outcome(b, &r.txs[i])) {
            return Err(format!("outcome {b} differs"));
        }
        for (n, tx) in r.txs[i].iter().enumerate() {
            let at = store.tx_location(tx).map_err(|e| format!("tx {tx}: {e}"))?;
            if at != Some((b, n as u32)) {
                return Err(format!("acknowledged tx {n} of block {b} answers {at:?}"));
            }
        }
        if store.height_of_block(&r.blocks[i].hash()).map_err(|e| format!("block hash {b}: {e}"))? != Some(b) {
            return Err(format!("block {b} is not found by its hash"));
        }
    }
    // The store must go on working: one more block, then a full verify of the file.
    append(&store, r, h + 1).map_err(|e| format!("append after the start: {e}"))?;
    drop(store);
    let mut outcome = Outcome::Served;
    let verified = match Store::open_read_only(dir).and_then(|s| s.verify()) {
        // A start checks the snapshot it uses and the ones newer, and the index entries of the newest
        // blocks; older snapshots and entries under a damaged key only a verify or --check-all reads. The
        // latter drops the snapshot and the stray entry.
        Err(e) if ["store_corrupt_snapshot", "store_corrupt_index"].contains(&e.code()) => {
            outcome = Outcome::ServedVerifyNamedDamageCheckAllRepaired(e.code());
            let started = Start::prepare_checking(dir, None, true).and_then(Start::commit);
            drop(started.map_err(|e| format!("--check-all start: {e}"))?);
            Store::open_read_only(dir).and_then(|s| s.verify())
        }
        v => v,
    };
    let v = verified.map_err(|e| format!("verify after append: {e}"))?;
    if v.height != h + 1 || v.state_root != r.roots[h as usize + 1] {
        return Err(format!("verify after append found height {}", v.height));
    }
    Ok(outcome)
}

/// redb asserts on some damaged files; the store turns that into `store_damaged`, so its panic messages
/// (hundreds of backtraces) are noise here. Other panics still print.
fn quiet_redb_panics() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !info.location().is_some_and(|l| l.file().contains("redb")) {
            previous(info);
        }
    }));
}

/// splitmix64: a small seeded generator, so a failing case replays from its seed.
fn next(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Positions to damage: half anywhere in the file, half on non-zero bytes (where redb keeps something).
fn positions(file: &[u8], n: usize, rng: &mut u64) -> Vec<u64> {
    let used: Vec<u64> = (0..file.len() as u64).filter(|&i| file[i as usize] != 0).collect();
    (0..n)
        .map(|k| match k % 2 {
            0 => next(rng) % file.len() as u64,
            _ => used[(next(rng) % used.len() as u64) as usize],
        })
        .collect()
}

/// Every position where `needle` occurs in `file` (redb copies on write, so a value may be there twice).
fn occurrences(file: &[u8], needle: &[u8]) -> Vec<u64> {
    file.windows(needle.len()).enumerate().filter(|(_, w)| *w == needle).map(|(i, _)| i as u64).collect()
}

/// Damage aimed at what matters: redb's header and commit slots, and every stored copy of the newest
/// block, the first block, the newest outcome and the genesis text.
fn targeted(file: &[u8], r: &Reference, head: u64) -> Vec<(&'static str, Damage)> {
    let primary = u64::from(file[9] & 1);
    let mut cases = vec![
        ("header: magic", Damage::Flip(0)),
        ("header: flags", Damage::Flip(9)),
        ("header: newest commit slot", Damage::Flip(64 + primary * 128 + 20)),
        ("header: older commit slot", Damage::Flip(64 + (1 - primary) * 128 + 20)),
        ("header: zeroed", Damage::Zero(0)),
        ("cut to 0 bytes", Damage::Truncate(0)),
    ];
    let newest = &r.blocks[head as usize - 1].txs[2].signature.0;
    let first = &r.blocks[0].txs[0].signature.0;
    let out = format!("outcome of block {head}: ");
    let values: [(&str, &[u8]); 4] = [
        ("newest block", newest),
        ("block 1", first),
        ("newest outcome", out.as_bytes()),
        ("genesis text", b"stakework-local"),
    ];
    for (name, needle) in values {
        cases.extend(occurrences(file, needle).into_iter().map(|at| (name, Damage::Flip(at + 5))));
    }
    cases
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read dir") {
        let p = e.expect("entry").path();
        std::fs::copy(&p, to.join(p.file_name().expect("name"))).expect("copy");
    }
}

#[test]
fn damaged_files_are_refused_or_serve_exactly_the_durable_head() {
    let seed = std::env::var("FAULT_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x0f_a017_u64);
    eprintln!("fault injection seed {seed} (rerun with FAULT_SEED={seed})");
    let per_kind = if std::env::var("RUN_SLOW_TESTS").is_ok() { 200 } else { 20 };
    quiet_redb_panics();
    let mut rng = seed;
    let r = reference();
    let work = tempfile::tempdir().expect("tempdir");
    let clean = work.path().join("clean");
    write(&clean, &r, BLOCKS, |_| {});
    let sigkilled = work.path().join("sigkilled");
    let killed_head = killed(&sigkilled, next(&mut rng) % 3_000);
    let mut matrix: BTreeMap<(&str, &str, Outcome), usize> = BTreeMap::new();
    let mut broken = Vec::new();
    for (stop, base, head) in [("clean stop", &clean, BLOCKS), ("SIGKILL", &sigkilled, killed_head)] {
        let file = std::fs::read(base.join("stakework.redb")).expect("read");
        let seeded = positions(&file, per_kind * 3, &mut rng).into_iter().enumerate().map(|(k, at)| match k % 3 {
            0 => ("truncate", Damage::Truncate(at)),
            1 => ("zero 64 bytes", Damage::Zero(at)),
            _ => ("flip a byte", Damage::Flip(at)),
        });
        for (k, (kind, damage)) in targeted(&file, &r, head).into_iter().chain(seeded).enumerate() {
            let case = work.path().join(format!("case-{stop}-{k}"));
            copy_dir(base, &case);
            damage.apply(&case.join("stakework.redb"));
            match check(&case, &r, head) {
                Ok(outcome) => *matrix.entry((stop, kind, outcome)).or_default() += 1,
                Err(why) => broken.push(format!("{stop}, {kind}, {damage:?} (file of {} bytes): {why}", file.len())),
            }
            std::fs::remove_dir_all(&case).expect("clean up");
        }
    }
    for ((stop, kind, outcome), n) in &matrix {
        eprintln!("| {stop} | {kind} | {outcome:?} | {n} |");
    }
    assert!(broken.is_empty(), "seed {seed}: {} cases broke the rule:\n{}", broken.len(), broken.join("\n"));
}
