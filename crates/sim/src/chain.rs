//! A real chain for scenarios: the engine built from a genesis, fed transactions block by block through
//! `Engine::produce_block` (the sequencer's path). Signatures are not made: the simulator is the only
//! producer, so every transaction is marked valid, exactly as a node marks the ones it already verified.

use engine::{BlockOutcome, Call, Engine, Genesis, GenesisAccount, Params, SignatureCheck, SignedTx, TxBody};
use std::collections::{BTreeMap, HashMap};
use types::{AccountId, Amount, Signature};

/// A deterministic account id for simulated participant `i` of kind `tag` (no keys are needed).
pub fn sim_account(tag: u8, i: u32) -> AccountId {
    let mut id = [0u8; 32];
    id[0] = tag;
    id[1..5].copy_from_slice(&i.to_be_bytes());
    AccountId(id)
}

/// The engine plus the transactions queued for the next block.
#[derive(Debug)]
pub struct SimChain {
    pub engine: Engine,
    pending: Vec<SignedTx>,
    nonces: HashMap<AccountId, u64, ahash::RandomState>,
    fee: Amount,
    /// Refused transactions, counted by `call: code` (a scenario that sends only what it expects to be
    /// accepted keeps this empty).
    pub refused: BTreeMap<String, u64>,
}

impl SimChain {
    /// A chain from `params`, `accounts` (id, free, bonded) and the genesis services.
    pub fn new(
        params: Params,
        accounts: Vec<(AccountId, Amount, Amount)>,
        services: Vec<engine::GenesisService>,
    ) -> Result<SimChain, engine::GenesisError> {
        let fee = params.min_fee;
        let genesis = Genesis {
            params,
            accounts: accounts
                .into_iter()
                .map(|(id, free, bonded)| GenesisAccount { id, name: None, free, bonded })
                .collect(),
            services,
        };
        Ok(SimChain {
            engine: Engine::from_genesis(&genesis)?,
            pending: Vec::new(),
            nonces: HashMap::default(),
            fee,
            refused: BTreeMap::new(),
        })
    }

    /// Queue `call` from `signer` for the next block (the nonce is tracked here; the fee is the minimum).
    pub fn submit(&mut self, signer: AccountId, call: Call) {
        let nonce = self.nonces.entry(signer).or_insert_with(|| self.engine.ledger().nonce(&signer));
        let body = TxBody { signer, nonce: *nonce, fee: self.fee, call };
        *nonce += 1;
        self.pending.push(SignedTx { body, signature: Signature([0; 64]) });
    }

    /// How many transactions wait for the next block.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Seal the next block with everything queued (split over several blocks if above `max_block_txs`,
    /// each returned in order). A rejected transaction does not bump its signer's nonce, so the nonces
    /// tracked here are re-read from the ledger for the signers of rejected transactions.
    pub fn block(&mut self) -> Vec<BlockOutcome> {
        let max = self.engine.params().max_block_txs.max(1) as usize;
        let mut txs = std::mem::take(&mut self.pending);
        let mut outcomes = Vec::new();
        loop {
            let rest = if txs.len() > max { txs.split_off(max) } else { Vec::new() };
            let sigs = SignatureCheck::trusted_all_valid(txs.len());
            let (mut block, outcome) =
                self.engine.produce_block(txs, &sigs).expect("the simulator builds well-formed blocks");
            for (tx, r) in block.txs.iter().zip(&outcome.receipts) {
                if r.result.is_err() {
                    let signer = tx.body.signer;
                    self.nonces.insert(signer, self.engine.ledger().nonce(&signer));
                    let debug = format!("{:?}", tx.body.call);
                    let call = debug.split([' ', '{', '(']).next().unwrap_or("");
                    *self.refused.entry(format!("{call}: {}", r.code())).or_default() += 1;
                }
            }
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
}
