//! The single writer: seals blocks from the mempool, makes them durable, then announces them.

use crate::Shared;
use api::StoredOutcome;
use engine::{SignatureCheck, SignedTx};
use std::sync::atomic::Ordering::SeqCst;
use std::sync::Arc;
use std::time::{Duration, Instant};
use types::Hash;

pub fn spawn(shared: Arc<Shared>) -> std::thread::JoinHandle<()> {
    std::thread::Builder::new()
        .name("sequencer".into())
        .spawn(move || {
            // Crash-only: a panic here (a broken invariant, a poisoned lock) stops the process rather than
            // leaving a node that accepts transactions and never commits them. Nothing acknowledged is lost.
            if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(&shared))).is_err() {
                eprintln!("fatal: the sequencer panicked; stopping the node");
                std::process::exit(70);
            }
        })
        .expect("the OS can start one thread")
}

fn run(s: &Shared) {
    let interval = Duration::from_millis(s.cfg.block_ms);
    let mut next = Instant::now() + interval;
    loop {
        let full = s.engine.read().map(|e| e.params().max_block_txs as usize).unwrap_or(1);
        {
            let mut mp = s.mempool.lock().expect("mempool lock poisoned: a thread panicked while holding it");
            loop {
                if s.stopping.load(SeqCst) {
                    return;
                }
                let now = Instant::now();
                if now >= next || mp.len() >= full {
                    break;
                }
                mp = s.wake.wait_timeout(mp, next - now).expect("mempool lock poisoned").0;
            }
        }
        next = Instant::now() + interval;
        if let Err(e) = seal(s) {
            // The engine has moved past a block the disk does not hold: stop before acknowledging anything.
            eprintln!("fatal: cannot make block durable: [{}] {e}", e.code());
            std::process::exit(74);
        }
    }
}

fn seal(s: &Shared) -> Result<(), store::StoreError> {
    let t0 = Instant::now();
    let mut engine = s.engine.write().expect("engine lock poisoned: a thread panicked while holding it");
    let max = engine.params().max_block_txs as usize;
    let (txs, admitted): (Vec<SignedTx>, Vec<Instant>) = {
        let mut mp = s.mempool.lock().expect("mempool lock poisoned");
        mp.take_block(max, engine.height().0 + 1, |a| engine.ledger().nonce(a)).into_iter().unzip()
    };
    let hashes: Vec<Hash> = txs.iter().map(SignedTx::hash).collect();
    let n = txs.len();
    // Every transaction was checked with verify_strict at admission.
    let executing = Instant::now();
    let (block, out) = match engine.produce_block(txs, &SignatureCheck::trusted_all_valid(n)) {
        Ok(built) => built,
        // Governance scheduled a version this binary does not implement: stop before block H.
        Err(e @ engine::BlockError::UnsupportedProtocolVersion { .. }) => crate::stop_unsupported(&e),
        Err(e) => panic!("the sequencer builds well-formed blocks: {e}"),
    };
    let execution = executing.elapsed();
    let stored = StoredOutcome::new(&out, &hashes);
    let bytes = serde_json::to_vec(&stored).expect("outcomes always serialize");
    let snapshot = (block.height.0 % s.cfg.snapshot_every == 0).then(|| engine.snapshot());
    let writing = Instant::now();
    s.store.append(&block, &hashes, &bytes, snapshot.as_deref())?;
    let fsync = writing.elapsed();
    drop(engine);
    s.metrics.block_durable(stored.txs.iter().map(|t| t.code.as_str()), fsync, &admitted, block.height.0);
    s.metrics.sealed(execution, t0.elapsed(), block.height.0);
    let _ = s.commits.send(Arc::new(stored));
    Ok(())
}
