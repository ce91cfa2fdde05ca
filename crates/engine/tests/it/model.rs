//! Random sequences of valid and invalid transactions against a naive reference model.
//!
//! Checked for every case: each receipt's code equals the model's; every balance equals the model's after
//! every block; the ledger invariants hold after every block; a block without its rejected transactions
//! gives the same state root (rejected ⇒ nothing changed); replaying the produced blocks from genesis
//! through `apply_block` (signatures verified again) reproduces every root.

use ed25519_dalek::SigningKey;
use engine::{Call, Engine, Genesis, GenesisAccount, Params, SignedTx, TxBody};
use ledger::HoldId;
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::sync::OnceLock;
use types::{AccountId, Amount, Height, Signature};

const USERS: usize = 4;
const MIN_FEE: u128 = 2;
const MAX_CHUNKS: usize = 2;
const MAX_PAYOUTS: usize = 3;
const PERIOD: u64 = 2;

fn keys() -> &'static Vec<SigningKey> {
    static K: OnceLock<Vec<SigningKey>> = OnceLock::new();
    K.get_or_init(|| (0..USERS).map(|i| SigningKey::from_bytes(&[i as u8 + 1; 32])).collect())
}
fn user(i: usize) -> AccountId {
    AccountId(keys()[i].verifying_key().to_bytes())
}
/// Recipients: the users plus one account nobody holds a key for.
fn recipient(i: usize) -> AccountId {
    if i < USERS {
        user(i)
    } else {
        AccountId([0xee; 32])
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct MAcct {
    free: u128,
    held: u128,
    bonded: u128,
    chunks: Vec<(u128, u64)>, // (amount, matures_at)
    nonce: u64,
}

#[derive(Debug, Clone)]
struct MHold {
    payer: AccountId,
    amount: u128,
    expires_at: Option<u64>,
}

/// The naive model: plain maps, no write sets, no hashing, rules written out longhand.
#[derive(Debug, Clone, Default)]
struct Model {
    accts: BTreeMap<AccountId, MAcct>,
    holds: BTreeMap<u64, MHold>,
    next_hold: u64,
    height: u64,
}

#[derive(Debug, Clone)]
enum CallSpec {
    Transfer { to: usize, amount: u128 },
    Bond(u128),
    Unbond(u128),
    HoldCreate { amount: u128, expires_in: Option<u64> },
    HoldPost { pick: usize, payouts: Vec<(usize, u128)> },
    HoldVoid { pick: usize },
}

#[derive(Debug, Clone)]
struct TxSpec {
    signer: usize,
    nonce_mode: u8,
    fee: u128,
    call: CallSpec,
    forge: bool,
}

fn amount() -> impl Strategy<Value = u128> {
    prop_oneof![4 => 0u128..400, 1 => Just(0u128), 1 => Just(u128::MAX - 1), 1 => 900u128..1100]
}

fn call_spec() -> impl Strategy<Value = CallSpec> {
    prop_oneof![
        4 => (0..=USERS, amount()).prop_map(|(to, amount)| CallSpec::Transfer { to, amount }),
        2 => amount().prop_map(CallSpec::Bond),
        2 => amount().prop_map(CallSpec::Unbond),
        2 => (amount(), proptest::option::of(0u64..4)).prop_map(|(amount, expires_in)| CallSpec::HoldCreate { amount, expires_in }),
        2 => (0usize..8, proptest::collection::vec((0..=USERS, amount()), 0..5)).prop_map(|(pick, payouts)| CallSpec::HoldPost { pick, payouts }),
        1 => (0usize..8).prop_map(|pick| CallSpec::HoldVoid { pick }),
    ]
}

fn tx_spec() -> impl Strategy<Value = TxSpec> {
    (
        0..USERS,
        0u8..12,
        prop_oneof![6 => Just(MIN_FEE), 1 => Just(0u128), 1 => 3u128..50, 1 => Just(u128::MAX)],
        call_spec(),
        proptest::bool::weighted(0.05),
    )
        .prop_map(|(signer, nonce_mode, fee, call, forge)| TxSpec { signer, nonce_mode, fee, call, forge })
}

impl Model {
    fn new(genesis: &[(u128, u128)]) -> Model {
        let mut m = Model { next_hold: 1, ..Model::default() };
        for (i, (free, bonded)) in genesis.iter().enumerate() {
            m.accts.insert(user(i), MAcct { free: *free, bonded: *bonded, ..MAcct::default() });
        }
        m
    }
    fn acct(&mut self, a: AccountId) -> &mut MAcct {
        self.accts.entry(a).or_default()
    }
    fn get(&self, a: &AccountId) -> MAcct {
        self.accts.get(a).cloned().unwrap_or_default()
    }
    /// The hold id a spec refers to: an open hold picked by index, or an id that does not exist.
    fn pick_hold(&self, pick: usize) -> u64 {
        let open: Vec<u64> = self.holds.keys().copied().collect();
        if pick < open.len() {
            open[pick]
        } else {
            1_000 + pick as u64
        }
    }

    /// The model's verdict on `tx`; applies it when it is accepted.
    fn apply(&mut self, tx: &SignedTx, forged: bool) -> &'static str {
        if forged {
            return "bad_signature";
        }
        let b = &tx.body;
        let s = b.signer;
        if b.fee.0 < MIN_FEE {
            return "fee_too_low";
        }
        if b.nonce != self.get(&s).nonce {
            return "bad_nonce";
        }
        let need = match &b.call {
            Call::Transfer { amount, .. } | Call::Bond { amount } | Call::HoldCreate { amount, .. } => amount.0,
            _ => 0,
        };
        let Some(need) = b.fee.0.checked_add(need) else {
            return "amount_overflow";
        };
        if self.get(&s).free < need {
            return "insufficient_funds";
        }
        let code = self.call(s, &b.call);
        if code == "ok" {
            self.acct(s).free -= b.fee.0;
            self.acct(AccountId::system("treasury")).free += b.fee.0;
            self.acct(s).nonce += 1;
        }
        code
    }

    fn call(&mut self, s: AccountId, call: &Call) -> &'static str {
        match call {
            Call::Transfer { to, amount } => {
                if amount.0 == 0 {
                    return "zero_amount";
                }
                self.acct(s).free -= amount.0;
                self.acct(*to).free += amount.0;
            }
            Call::Bond { amount } => {
                if amount.0 == 0 {
                    return "zero_amount";
                }
                let a = self.acct(s);
                a.free -= amount.0;
                a.bonded += amount.0;
            }
            Call::Unbond { amount } => {
                let h = self.height;
                let a = self.acct(s);
                if amount.0 == 0 {
                    return "zero_amount";
                }
                if a.bonded < amount.0 {
                    return "insufficient_bonded";
                }
                if a.chunks.len() >= MAX_CHUNKS {
                    return "too_many_unbonding_chunks";
                }
                a.bonded -= amount.0;
                a.chunks.push((amount.0, h + PERIOD));
            }
            Call::HoldCreate { amount, expires_at } => {
                if amount.0 == 0 {
                    return "zero_amount";
                }
                if expires_at.is_some_and(|e| e.0 <= self.height) {
                    return "expiry_in_past";
                }
                let a = self.acct(s);
                a.free -= amount.0;
                a.held += amount.0;
                self.holds
                    .insert(self.next_hold, MHold { payer: s, amount: amount.0, expires_at: expires_at.map(|h| h.0) });
                self.next_hold += 1;
            }
            Call::HoldPost { hold, payouts } => {
                if payouts.len() > MAX_PAYOUTS {
                    return "too_many_payouts";
                }
                let Some(h) = self.holds.get(&hold.0).cloned() else {
                    return "unknown_hold";
                };
                if h.payer != s {
                    return "not_authorized";
                }
                if payouts.is_empty() {
                    return "no_payouts";
                }
                if payouts.iter().any(|(_, a)| a.0 == 0) {
                    return "zero_amount";
                }
                let Some(sum) = payouts.iter().try_fold(0u128, |acc, (_, a)| acc.checked_add(a.0)) else {
                    return "amount_overflow";
                };
                if sum > h.amount {
                    return "hold_overdrawn";
                }
                self.acct(s).held -= sum;
                for (to, a) in payouts {
                    self.acct(*to).free += a.0;
                }
                if sum == h.amount {
                    self.holds.remove(&hold.0);
                } else if let Some(x) = self.holds.get_mut(&hold.0) {
                    x.amount -= sum;
                }
            }
            Call::HoldVoid { hold } => {
                let Some(h) = self.holds.get(&hold.0).cloned() else {
                    return "unknown_hold";
                };
                if h.payer != s {
                    return "not_authorized";
                }
                self.holds.remove(&hold.0);
                let a = self.acct(s);
                a.held -= h.amount;
                a.free += h.amount;
            }
            other => unreachable!("this model generates ledger calls only, not {other:?}"),
        }
        "ok"
    }

    fn end_block(&mut self) {
        let h = self.height;
        for a in self.accts.values_mut() {
            let matured: u128 = a.chunks.iter().filter(|c| c.1 <= h).map(|c| c.0).sum();
            a.chunks.retain(|c| c.1 > h);
            a.free += matured;
        }
        let due: Vec<u64> =
            self.holds.iter().filter(|(_, x)| x.expires_at.is_some_and(|e| e <= h)).map(|(k, _)| *k).collect();
        for k in due {
            let x = self.holds.remove(&k).expect("listed above");
            let a = self.acct(x.payer);
            a.held -= x.amount;
            a.free += x.amount;
        }
    }
}

fn build_tx(model: &Model, spec: &TxSpec) -> SignedTx {
    let signer = user(spec.signer);
    let current = model.get(&signer).nonce;
    let nonce = match spec.nonce_mode {
        0 => current.wrapping_sub(1),
        1 => current + 1,
        _ => current,
    };
    let call = match &spec.call {
        CallSpec::Transfer { to, amount } => Call::Transfer { to: recipient(*to), amount: Amount(*amount) },
        CallSpec::Bond(a) => Call::Bond { amount: Amount(*a) },
        CallSpec::Unbond(a) => Call::Unbond { amount: Amount(*a) },
        CallSpec::HoldCreate { amount, expires_in } => {
            Call::HoldCreate { amount: Amount(*amount), expires_at: expires_in.map(|d| Height(model.height + d)) }
        }
        CallSpec::HoldPost { pick, payouts } => Call::HoldPost {
            hold: HoldId(model.pick_hold(*pick)),
            payouts: payouts.iter().map(|(to, a)| (recipient(*to), Amount(*a))).collect(),
        },
        CallSpec::HoldVoid { pick } => Call::HoldVoid { hold: HoldId(model.pick_hold(*pick)) },
    };
    let mut tx = TxBody { signer, nonce, fee: Amount(spec.fee), call }.sign(&keys()[spec.signer], "model");
    if spec.forge {
        tx.signature = Signature([9; 64]);
    }
    tx
}

fn params() -> Params {
    Params {
        chain_id: "model".into(),
        min_fee: Amount(MIN_FEE),
        unbonding_period: PERIOD,
        voting_period: PERIOD - 1,
        max_unbonding_chunks: MAX_CHUNKS as u32,
        max_payouts: MAX_PAYOUTS as u32,
        epoch_length: 3,
        // The reference model covers transactions and the ledger; emission has its own tests.
        emission_per_epoch: Amount::ZERO,
        ..Params::default()
    }
}

fn run_case(genesis_balances: Vec<(u128, u128)>, blocks: Vec<Vec<TxSpec>>) -> Result<(), TestCaseError> {
    let genesis = Genesis {
        services: Vec::new(),
        validators: Vec::new(),
        params: params(),
        accounts: genesis_balances
            .iter()
            .enumerate()
            .map(|(i, (f, b))| GenesisAccount { id: user(i), name: None, free: Amount(*f), bonded: Amount(*b) })
            .collect(),
    };
    let mut engine = Engine::from_genesis(&genesis).expect("genesis");
    let start = engine.clone();
    let mut model = Model::new(&genesis_balances);
    let mut produced = Vec::new();
    for specs in blocks {
        model.height += 1;
        let mut txs = Vec::new();
        let mut expected = Vec::new();
        for spec in &specs {
            let tx = build_tx(&model, spec);
            expected.push(model.apply(&tx, spec.forge));
            txs.push(tx);
        }
        model.end_block();

        let mut idle = engine.clone();
        let accepted: Vec<SignedTx> =
            txs.iter().zip(&expected).filter(|(_, c)| **c == "ok").map(|(t, _)| t.clone()).collect();
        let mut without_rejected = engine.clone();
        let sigs = engine::verify_signatures(&txs, "model");
        let (block, out) = engine.produce_block(txs, &sigs).expect("block");
        let codes: Vec<&str> = out.receipts.iter().map(|r| r.code()).collect();
        prop_assert_eq!(&codes, &expected);
        prop_assert!(engine.check_invariants().is_ok(), "{:?}", engine.check_invariants());
        for (a, m) in &model.accts {
            let e = engine.ledger().account(a).cloned().unwrap_or_default();
            let unbonding: u128 = m.chunks.iter().map(|c| c.0).sum();
            prop_assert_eq!(
                (e.free.0, e.held.0, e.bonded.0, e.unbonding.0, e.nonce),
                (m.free, m.held, m.bonded, unbonding, m.nonce),
                "account {:?}",
                a
            );
        }
        let sigs = engine::verify_signatures(&accepted, "model");
        let (_, out2) = without_rejected.produce_block(accepted, &sigs).expect("block");
        prop_assert_eq!(out2.state_root, out.state_root, "rejected transactions must not change the state root");
        let (_, idle_out) =
            idle.produce_block(Vec::new(), &engine::SignatureCheck::trusted_all_valid(0)).expect("block");
        if expected.contains(&"ok") {
            prop_assert_ne!(idle_out.state_root, out.state_root, "accepted transactions must change the state root");
        }
        produced.push(block);
        let restored = Engine::restore(&engine.snapshot()).expect("a snapshot restores");
        prop_assert_eq!(restored.snapshot(), engine.snapshot(), "snapshot round trip");
        engine = restored; // continue on the restored engine: recovery must be indistinguishable from live
    }
    let mut replica = start;
    for b in &produced {
        prop_assert!(replica.apply_block(b).is_ok(), "replay must reproduce the root of block {}", b.height);
    }
    prop_assert_eq!(replica.state_root(), engine.state_root());
    Ok(())
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), max_shrink_iters: 2_000, ..ProptestConfig::default() })]
    #[test]
    fn engine_matches_the_reference_model(
        genesis in proptest::collection::vec((0u128..2_000, 0u128..500), USERS),
        blocks in proptest::collection::vec(proptest::collection::vec(tx_spec(), 0..8), 1..6),
    ) {
        run_case(genesis, blocks)?;
    }
}
