//! Consensus mode: when the genesis names validators, blocks are agreed by the `bft` crate instead of
//! sealed by the sequencer. The node lends it the committed engine, its mempool as the transaction source
//! (selected without removal, settled on finalization) and its store as the sink (a finalized block is
//! appended with fsync and its head record, then announced, so `?wait=commit` answers on finalization).

use crate::Shared;
use api::{CertificateView, FinalityView, StoredOutcome};
use engine::{Block, BlockOutcome, Engine, SignedTx};
use std::sync::Arc;
use types::{AccountId, Hash};

/// The node's mempool as the proposer's source of transactions.
pub(crate) struct NodeTxs(pub Arc<Shared>);

impl bft::TxSource for NodeTxs {
    fn signatures_verified(&self) -> bool {
        // Every transaction in the mempool passed `verify_strict` at the door or at gossip.
        true
    }

    fn select(&self, max: usize, nonce_of: &dyn Fn(&AccountId) -> u64) -> Vec<SignedTx> {
        self.0.mempool.lock().expect("mempool lock poisoned").select(max, nonce_of)
    }

    fn checked(&self, txs: &[SignedTx]) -> Vec<bool> {
        // The mempool admits a transaction only after `verify_strict` (door or gossip), keyed by its hash.
        let hashes: Vec<Hash> = txs.iter().map(SignedTx::hash).collect();
        let mp = self.0.mempool.lock().expect("mempool lock poisoned");
        hashes.iter().map(|h| mp.contains(h)).collect()
    }

    fn admit(&self, tx: SignedTx) {
        self.admit_all(vec![tx]);
    }

    fn admit_all(&self, txs: Vec<SignedTx>) {
        let s = &self.0;
        let e = s.engine.read().expect("engine lock poisoned");
        // Store lookups first, outside the mempool lock; then the whole batch under one lock.
        let fresh: Vec<(Hash, SignedTx)> = txs
            .into_iter()
            .map(|tx| (tx.hash(), tx))
            .filter(|(hash, tx)| {
                tx.body.nonce >= e.ledger().nonce(&tx.body.signer) && s.store.tx_location(hash).ok().flatten().is_none()
            })
            .collect();
        let mut mp = s.mempool.lock().expect("mempool lock poisoned");
        for (hash, tx) in fresh {
            let (nonce, free) = (e.ledger().nonce(&tx.body.signer), e.ledger().free(&tx.body.signer));
            if let Ok(true) = mp.admit(hash, tx, e.height().0, nonce, free) {
                s.metrics.admitted();
            }
        }
    }

    fn finalized(&self, txs: &[SignedTx]) {
        let s = &self.0;
        let e = s.engine.read().expect("engine lock poisoned");
        let hashes: Vec<Hash> = txs.iter().map(SignedTx::hash).collect();
        let height = e.height().0;
        s.mempool.lock().expect("mempool lock poisoned").settle(&hashes, height, |a| e.ledger().nonce(a));
    }
}

/// Report an equivocation simplex observed: `reporter` checks the evidence against the chain's namespace,
/// signs a `ReportEquivocation` with the validator key (once per offender and era), admits it to the
/// mempool as a gossiped transaction would be, and gossips it.
pub(crate) fn report_equivocation(
    shared: &Arc<Shared>,
    reporter: &bft::Reporter,
    evidence: &engine::protocol::Equivocation,
) {
    let source = NodeTxs(shared.clone());
    reporter.report(evidence, &source, &shared.engine, shared.gossip.get());
}

/// The node's store as the sink of finalized blocks.
pub(crate) struct NodeStore(pub Arc<Shared>);

impl bft::Sink for NodeStore {
    fn finalized(
        &self,
        block: &Block,
        outcome: &BlockOutcome,
        state: &Engine,
        finality: &bft::Finality,
    ) -> Result<(), bft::SinkError> {
        self.append(block, outcome, state, Some(&finality_view(finality)))
    }
}

/// What the block view shows of a validator's finality evidence; stored as JSON beside the block.
pub(crate) fn finality_view(finality: &bft::Finality) -> FinalityView {
    match finality {
        bft::Finality::Certified(c) => FinalityView::Certificate(CertificateView {
            proposer: c.proposer,
            view: c.view,
            parent_view: c.parent_view,
            signers: c.signers.clone(),
            signer_count: c.signers.len() as u32,
            quorum: c.quorum,
            validators: c.validators,
            certificate: hex::encode(&c.encoded),
        }),
        bft::Finality::Ancestor { certified_height } => {
            FinalityView::Ancestor { certified_height: certified_height.map(|h| h.0) }
        }
    }
}

impl NodeStore {
    /// Append the block, its outcome and its finality evidence in one durable write, then announce it.
    fn append(
        &self,
        block: &Block,
        outcome: &BlockOutcome,
        state: &Engine,
        finality: Option<&FinalityView>,
    ) -> Result<(), bft::SinkError> {
        let s = &self.0;
        let hashes: Vec<Hash> = block.txs.iter().map(SignedTx::hash).collect();
        let stored = StoredOutcome::new(outcome, &hashes);
        let bytes = serde_json::to_vec(&stored).expect("outcomes always serialize");
        let snapshot = (block.height.0 % s.cfg.snapshot_every == 0).then(|| state.snapshot());
        let evidence = finality.map(|f| serde_json::to_vec(f).expect("finality views always serialize"));
        // The block's transactions are still in the mempool (settled after this): when each was admitted.
        let admitted: Vec<std::time::Instant> = {
            let mp = s.mempool.lock().expect("mempool lock poisoned");
            hashes.iter().filter_map(|h| mp.admitted_since(h)).collect()
        };
        let writing = std::time::Instant::now();
        s.store
            .append_finalized(block, &hashes, &bytes, snapshot.as_deref(), evidence.as_deref())
            .map_err(|e| bft::SinkError { code: e.code(), message: e.to_string() })?;
        let fsync = writing.elapsed();
        s.metrics.block_durable(stored.txs.iter().map(|t| t.code.as_str()), fsync, &admitted, block.height.0);
        let _ = s.commits.send(Arc::new(stored));
        Ok(())
    }
}

/// The validator's thread: runs until the node stops (`stop` fires) or the validator stops on a
/// finalized block it cannot take, which ends the process as a failed append ends the sequencer's.
pub(crate) fn spawn(
    shared: Arc<Shared>,
    cfg: bft::NetConfig,
    stop: tokio::sync::oneshot::Receiver<()>,
) -> std::thread::JoinHandle<()> {
    std::thread::Builder::new()
        .name("consensus".into())
        .spawn(move || {
            let txs = Arc::new(NodeTxs(shared.clone()));
            let sink = Arc::new(NodeStore(shared.clone()));
            let gossip_slot = shared.clone();
            let on_gossip = move |g| {
                let _ = gossip_slot.gossip.set(g);
            };
            let stopped = async move {
                let _ = stop.await;
            };
            if let Err(e) = bft::net::run(cfg, shared.engine.clone(), txs, sink, on_gossip, stopped) {
                if let bft::NetError::Fatal(bft::FinalizeError::DoesNotApply {
                    error: error @ engine::BlockError::UnsupportedProtocolVersion { .. },
                    ..
                }) = &e
                {
                    crate::stop_unsupported(error);
                }
                eprintln!("fatal: the validator stopped: [{}] {e}", e.code());
                std::process::exit(74);
            }
        })
        .expect("the OS can start one thread")
}

/// The validator key's public half must be one of the genesis validators; checked before the node binds.
pub(crate) fn check_key(
    genesis: &engine::Genesis,
    seed: Option<&[u8; 32]>,
    block_ms: u64,
) -> Result<(), crate::StartError> {
    let config = |message: String| crate::StartError::Config { field: "--validator-key", message };
    let interval = std::time::Duration::from_millis(block_ms);
    if seed.is_some() && interval * 2 > bft::LEADER_TIMEOUT {
        let message =
            format!("a validator's block interval is at most half the leader timeout ({:?})", bft::LEADER_TIMEOUT);
        return Err(crate::StartError::Config { field: "--block-ms", message });
    }
    match (genesis.validators.is_empty(), seed) {
        (true, None) => Ok(()),
        (true, Some(_)) => Err(config("the genesis names no validators; a single node runs without a key".into())),
        (false, None) => Err(config(format!(
            "the genesis names {} validators: run one of them with --validator-key FILE",
            genesis.validators.len()
        ))),
        (false, Some(seed)) => {
            let public = AccountId(ed25519_dalek::SigningKey::from_bytes(seed).verifying_key().to_bytes());
            if genesis.validators.iter().any(|v| v.key == public) {
                Ok(())
            } else {
                Err(config(format!("key {public} is not one of the genesis validators")))
            }
        }
    }
}
