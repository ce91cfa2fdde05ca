//! A chain driver for tests and the simulator (feature `test-utils`): an [`Engine`] from a genesis, fed
//! blocks through [`Engine::produce_block`], the sequencer's own path, with the signers' next nonces
//! tracked, so a caller only says who calls what.
//!
//! Two ways to build a block: [`TestChain::produce`] seals the transactions a caller made itself (signed
//! with [`TestChain::body`]'s nonces, signatures checked or trusted as the caller decides), and
//! [`TestChain::submit`] + [`TestChain::block`] queue unsigned calls at the minimum fee and seal them as
//! trusted (every signature marked valid, as a node marks those it already verified; the simulator is the
//! only producer there). Uses only the engine's public API, and no engine path calls it.

use crate::{
    Block, BlockOutcome, Call, Engine, Genesis, GenesisAccount, GenesisError, GenesisService, Params, SignatureCheck,
    SignedTx, TxBody,
};
use std::collections::BTreeMap;
use types::{AccountId, Amount, Signature};

/// A deterministic account id for participant `i` of kind `tag` (byte 0 is the tag, bytes 1..5 are `i`
/// big-endian, so ids sort by tag, then index; no keys are needed).
pub fn account(tag: u8, i: u32) -> AccountId {
    let mut id = [0u8; 32];
    id[0] = tag;
    id[1..5].copy_from_slice(&i.to_be_bytes());
    AccountId(id)
}

/// A genesis from `params`, `accounts` (id, free, bonded; no names) and `services`.
pub fn genesis(params: Params, accounts: Vec<(AccountId, Amount, Amount)>, services: Vec<GenesisService>) -> Genesis {
    Genesis {
        params,
        accounts: accounts
            .into_iter()
            .map(|(id, free, bonded)| GenesisAccount { id, name: None, free, bonded })
            .collect(),
        services,
        validators: Vec::new(),
    }
}

/// The engine, the signers' next nonces and the calls queued for the next block.
#[derive(Debug)]
pub struct TestChain {
    pub engine: Engine,
    nonces: BTreeMap<AccountId, u64>,
    pending: Vec<SignedTx>,
    /// Rejected transactions, counted by `call: code` (the call's variant name and the rejection's code).
    pub refused: BTreeMap<String, u64>,
}

impl TestChain {
    /// A chain at height 0 from `genesis`.
    pub fn new(genesis: &Genesis) -> Result<TestChain, GenesisError> {
        Ok(TestChain::from_engine(Engine::from_genesis(genesis)?))
    }

    /// A chain continuing `engine` from its current height.
    pub fn from_engine(engine: Engine) -> TestChain {
        TestChain { engine, nonces: BTreeMap::new(), pending: Vec::new(), refused: BTreeMap::new() }
    }

    /// `signer`'s next nonce: the ledger's, plus one per transaction made here since it was last read.
    pub fn next_nonce(&mut self, signer: AccountId) -> u64 {
        let next = self.nonces.entry(signer).or_insert_with(|| self.engine.ledger().nonce(&signer));
        let nonce = *next;
        *next += 1;
        nonce
    }

    /// A transaction body from `signer` with its next nonce (the caller signs it, or sends it unsigned).
    pub fn body(&mut self, signer: AccountId, fee: Amount, call: Call) -> TxBody {
        TxBody { signer, nonce: self.next_nonce(signer), fee, call }
    }

    /// Forget the tracked nonces: the next transaction of every signer reads its nonce from the ledger
    /// again (after a block in which transactions made here were left out).
    pub fn forget_nonces(&mut self) {
        self.nonces.clear();
    }

    /// Produce the next block from `txs` with the signature check `sigs`. A rejected transaction does not
    /// use its nonce, so its signer's nonce is read from the ledger again, and it is counted in
    /// [`TestChain::refused`]. Panics on a malformed block (a bug in the caller, not an outcome).
    pub fn produce(&mut self, txs: Vec<SignedTx>, sigs: &SignatureCheck) -> (Block, BlockOutcome) {
        self.produce_by(None, txs, sigs)
    }

    /// As [`TestChain::produce`], the block proposed by `proposer` (a validator's consensus key).
    pub fn produce_by(
        &mut self,
        proposer: Option<AccountId>,
        txs: Vec<SignedTx>,
        sigs: &SignatureCheck,
    ) -> (Block, BlockOutcome) {
        let built = self.engine.produce_block_by(proposer, txs, sigs);
        let (block, outcome) = built.expect("the test chain builds well-formed blocks");
        for (tx, r) in block.txs.iter().zip(&outcome.receipts) {
            if r.result.is_err() {
                let signer = tx.body.signer;
                self.nonces.insert(signer, self.engine.ledger().nonce(&signer));
                let debug = format!("{:?}", tx.body.call);
                let call = debug.split([' ', '{', '(']).next().unwrap_or("");
                *self.refused.entry(format!("{call}: {}", r.code())).or_default() += 1;
            }
        }
        (block, outcome)
    }

    /// Queue `call` from `signer` for [`TestChain::block`], unsigned, at the minimum fee.
    pub fn submit(&mut self, signer: AccountId, call: Call) {
        let body = self.body(signer, self.engine.params().min_fee, call);
        self.pending.push(SignedTx { body, signature: Signature([0; 64]) });
    }

    /// How many calls wait for the next block.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Seal everything queued as trusted blocks (split over several blocks above `max_block_txs`), and
    /// return their outcomes in order.
    pub fn block(&mut self) -> Vec<BlockOutcome> {
        let max = self.engine.params().max_block_txs.max(1) as usize;
        let mut txs = std::mem::take(&mut self.pending);
        let mut outcomes = Vec::new();
        loop {
            let rest = if txs.len() > max { txs.split_off(max) } else { Vec::new() };
            let sigs = SignatureCheck::trusted_all_valid(txs.len());
            let (mut block, outcome) = self.produce(txs, &sigs);
            outcomes.push(outcome);
            if rest.is_empty() {
                // Keep the block's allocation for the next one: a fresh multi-megabyte buffer every block
                // costs more in page faults than the block's execution saves.
                block.txs.clear();
                if self.pending.is_empty() {
                    self.pending = block.txs;
                }
                return outcomes;
            }
            txs = rest;
        }
    }

    /// Seal everything queued; every transaction must be accepted. `Err` names the first rejected one (the
    /// blocks are sealed all the same).
    pub fn seal(&mut self) -> Result<Vec<BlockOutcome>, Rejected> {
        let outcomes = self.block();
        let mut queued = 0;
        for o in &outcomes {
            if let Some((index, r)) = o.receipts.iter().enumerate().find(|(_, r)| r.result.is_err()) {
                return Err(Rejected { height: o.height.0, index, queued: queued + index, code: r.code() });
            }
            queued += o.receipts.len();
        }
        Ok(outcomes)
    }
}

/// A transaction [`TestChain::seal`] expected to be accepted was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rejected {
    pub height: u64,
    /// Its index in the block.
    pub index: usize,
    /// Its position among the calls that were queued.
    pub queued: usize,
    pub code: &'static str,
}
