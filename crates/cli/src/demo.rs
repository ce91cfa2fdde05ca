//! `stakework demo`: a small network of four people driven through the real engine, block by block.
//!
//! Everything printed comes from the engine's receipts, events and state: nothing is scripted output.
//! Later issues grow this into a whole network of processes on loopback.

use crate::keys::{account_of, derived_key};
use anyhow::{bail, Context};
use clap::Args;
use ed25519_dalek::SigningKey;
use engine::{Block, Call, Engine, Event, Genesis, GenesisAccount, Params, SignedTx, TxBody};
use ledger::HoldId;
use serde::Serialize;
use std::collections::BTreeMap;
use types::{AccountId, Amount, Height};

#[derive(Debug, Args)]
pub struct DemoArgs {}

#[derive(Debug, Serialize)]
struct Report {
    chain_id: String,
    blocks: Vec<BlockReport>,
    balances: Vec<BalanceRow>,
    total_supply: Amount,
    accounts_sum: Amount,
    conservation_ok: bool,
    state_root: String,
    replay_state_root: String,
    replay_matches: bool,
}

#[derive(Debug, Serialize)]
struct BlockReport {
    height: u64,
    hash: String,
    state_root: String,
    txs: Vec<TxReport>,
    events: Vec<String>,
}

#[derive(Debug, Serialize)]
struct TxReport {
    what: String,
    result: String,
}

#[derive(Debug, Serialize)]
struct BalanceRow {
    name: String,
    account: AccountId,
    free: Amount,
    held: Amount,
    bonded: Amount,
    unbonding: Amount,
}

struct Demo {
    engine: Engine,
    keys: BTreeMap<&'static str, SigningKey>,
    names: BTreeMap<AccountId, String>,
    nonces: BTreeMap<AccountId, u64>,
    blocks: Vec<Block>,
    reports: Vec<BlockReport>,
}

fn swk(n: u128) -> Amount {
    Amount::swk(n).expect("demo amounts are small")
}

impl Demo {
    fn id(&self, who: &str) -> AccountId {
        account_of(&self.keys[who])
    }
    fn name(&self, a: &AccountId) -> String {
        self.names.get(a).cloned().unwrap_or_else(|| a.short())
    }
    fn tx(&mut self, who: &'static str, call: Call) -> (String, SignedTx) {
        let signer = self.id(who);
        let nonce = self.nonces.entry(signer).or_insert_with(|| self.engine.ledger().nonce(&signer));
        let body = TxBody { signer, nonce: *nonce, fee: self.engine.params().min_fee, call };
        *nonce += 1;
        let what = format!("{who}: {}", self.describe(&body.call));
        (what, body.sign(&self.keys[who], &self.engine.params().chain_id))
    }
    fn describe(&self, call: &Call) -> String {
        match call {
            Call::Transfer { to, amount } => format!("transfer {} to {}", amount.to_swk_string(), self.name(to)),
            Call::Bond { amount } => format!("bond {}", amount.to_swk_string()),
            Call::Unbond { amount } => format!("unbond {}", amount.to_swk_string()),
            Call::HoldCreate { amount, expires_at } => {
                format!(
                    "hold {} (expires at height {})",
                    amount.to_swk_string(),
                    expires_at.map_or("never".into(), |h| h.to_string())
                )
            }
            Call::HoldPost { hold, payouts } => {
                let p: Vec<String> =
                    payouts.iter().map(|(a, v)| format!("{} to {}", v.to_swk_string(), self.name(a))).collect();
                format!("post hold {hold}: {}", p.join(", "))
            }
            Call::HoldVoid { hold } => format!("void hold {hold}"),
        }
    }
    fn event(&self, e: &Event) -> String {
        let s = |a: &Amount| a.to_swk_string();
        match e {
            Event::TransferPosted { from, to, amount } => {
                format!("TransferPosted {} -> {} {}", self.name(from), self.name(to), s(amount))
            }
            Event::Bonded { account, amount } => format!("Bonded {} {}", self.name(account), s(amount)),
            Event::UnbondStarted { account, amount, matures_at } => {
                format!("UnbondStarted {} {} (free at height {matures_at})", self.name(account), s(amount))
            }
            Event::UnbondMatured { account, amount } => format!("UnbondMatured {} {}", self.name(account), s(amount)),
            Event::HoldCreated { hold, payer, amount, .. } => {
                format!("HoldCreated {hold} {} from {}", s(amount), self.name(payer))
            }
            Event::HoldPosted { hold, payouts, remaining } => {
                format!("HoldPosted {hold} to {} recipients, {} still held", payouts.len(), s(remaining))
            }
            Event::HoldVoided { hold, payer, amount } => {
                format!("HoldVoided {hold} {} back to {}", s(amount), self.name(payer))
            }
            Event::HoldExpired { hold, payer, amount } => {
                format!("HoldExpired {hold} {} back to {}", s(amount), self.name(payer))
            }
            Event::EpochEnded { epoch, height } => format!("EpochEnded epoch {epoch} at height {height}"),
        }
    }
    fn seal(&mut self, txs: Vec<(String, SignedTx)>) -> anyhow::Result<()> {
        let (whats, txs): (Vec<String>, Vec<SignedTx>) = txs.into_iter().unzip();
        let sigs = engine::verify_signatures(&txs, &self.engine.params().chain_id);
        let (block, out) = self.engine.produce_block(txs, &sigs).context("sealing a block")?;
        self.nonces.clear();
        let txs = whats
            .into_iter()
            .zip(&out.receipts)
            .map(|(what, r)| TxReport { what, result: r.code().to_string() })
            .collect();
        let events = out.events.iter().map(|e| self.event(&e.event)).collect();
        self.reports.push(BlockReport {
            height: out.height.0,
            hash: out.block_hash.to_hex(),
            state_root: out.state_root.to_hex(),
            txs,
            events,
        });
        self.blocks.push(block);
        self.engine.check_invariants().context("ledger invariant broken")?;
        Ok(())
    }
}

fn genesis(keys: &BTreeMap<&'static str, SigningKey>) -> Genesis {
    let start = [("alice", 1_000, 0), ("bob", 400, 100), ("carol", 200, 0), ("dave", 0, 0)];
    Genesis {
        params: Params {
            chain_id: "stakework-demo".into(),
            epoch_length: 3,
            unbonding_period: 2,
            min_fee: Amount(1_000_000), // 0.001 SWK
            ..Params::default()
        },
        accounts: start
            .iter()
            .map(|(n, free, bonded)| GenesisAccount {
                id: account_of(&keys[n]),
                name: Some(n.to_string()),
                free: swk(*free),
                bonded: swk(*bonded),
            })
            .collect(),
    }
}

pub fn run(_args: &DemoArgs, json: bool) -> anyhow::Result<()> {
    let keys: BTreeMap<&'static str, SigningKey> =
        ["alice", "bob", "carol", "dave"].into_iter().map(|n| (n, derived_key(&format!("demo/{n}")))).collect();
    let genesis = genesis(&keys);
    let engine = Engine::from_genesis(&genesis).context("demo genesis")?;
    let mut names: BTreeMap<AccountId, String> = keys.iter().map(|(n, k)| (account_of(k), n.to_string())).collect();
    names.insert(engine.treasury(), "treasury".into());
    let mut d = Demo { engine, keys, names, nonces: BTreeMap::new(), blocks: Vec::new(), reports: Vec::new() };
    let (alice, bob, carol, dave) = (d.id("alice"), d.id("bob"), d.id("carol"), d.id("dave"));

    let first = d.tx("alice", Call::Transfer { to: bob, amount: swk(250) });
    let replay = first.1.clone();
    let block1 = vec![
        first,
        d.tx("bob", Call::Bond { amount: swk(50) }),
        d.tx("carol", Call::HoldCreate { amount: swk(80), expires_at: Some(Height(4)) }),
        d.tx("dave", Call::Transfer { to: alice, amount: swk(10) }),
    ];
    d.seal(block1)?;
    let block2 = vec![
        d.tx("bob", Call::Unbond { amount: swk(120) }),
        d.tx("carol", Call::HoldPost { hold: HoldId(1), payouts: vec![(dave, swk(30)), (alice, swk(20))] }),
        ("alice: the same signed transfer again (a replay)".to_string(), replay),
    ];
    d.seal(block2)?;
    let block3 = vec![d.tx("dave", Call::Transfer { to: carol, amount: swk(5) })];
    d.seal(block3)?;
    d.seal(Vec::new())?;
    let block5 = vec![
        d.tx("alice", Call::Transfer { to: bob, amount: swk(1) }),
        d.tx("alice", Call::Transfer { to: carol, amount: swk(1) }),
        d.tx("alice", Call::Transfer { to: dave, amount: swk(1) }),
    ];
    d.seal(block5)?;
    d.seal(Vec::new())?;

    // Replay every block on a fresh engine from the same genesis: signatures are checked again and each
    // block's state root must come out the same.
    let mut replica = Engine::from_genesis(&genesis).context("replay genesis")?;
    for b in &d.blocks {
        replica.apply_block(b).with_context(|| format!("replaying block {}", b.height))?;
    }
    let ledger = d.engine.ledger();
    let accounts_sum =
        Amount::checked_sum(ledger.accounts_sorted().iter().map(|(_, a)| a.total().unwrap_or(Amount::MAX)))
            .context("balances overflow")?;
    let mut balances: Vec<BalanceRow> = ledger
        .accounts_sorted()
        .into_iter()
        .map(|(id, a)| BalanceRow {
            name: d.name(&id),
            account: id,
            free: a.free,
            held: a.held,
            bonded: a.bonded,
            unbonding: a.unbonding,
        })
        .collect();
    balances.sort_by(|a, b| a.name.cmp(&b.name));
    let report = Report {
        chain_id: d.engine.params().chain_id.clone(),
        blocks: std::mem::take(&mut d.reports),
        balances,
        total_supply: ledger.total_supply(),
        accounts_sum,
        conservation_ok: d.engine.check_invariants().is_ok() && accounts_sum == ledger.total_supply(),
        state_root: d.engine.state_root().to_hex(),
        replay_state_root: replica.state_root().to_hex(),
        replay_matches: replica.state_root() == d.engine.state_root(),
    };
    if json {
        outln!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_text(&report);
    }
    if !report.conservation_ok || !report.replay_matches {
        bail!("demo failed its own checks (conservation {}, replay {})", report.conservation_ok, report.replay_matches);
    }
    Ok(())
}

fn print_text(r: &Report) {
    outln!("stakework demo — chain {} (engine only; one process, in memory)\n", r.chain_id);
    for b in &r.blocks {
        outln!("block {}  hash {}…  state root {}…", b.height, &b.hash[..16], &b.state_root[..16]);
        for t in &b.txs {
            outln!("  tx  {:<58} -> {}", t.what, t.result);
        }
        for e in &b.events {
            outln!("  ev  {e}");
        }
    }
    outln!("\nbalances (SWK)");
    outln!("  {:<10} {:>14} {:>10} {:>10} {:>10}", "account", "free", "held", "bonded", "unbonding");
    let f = |a: &Amount| a.to_swk_string().trim_end_matches(" SWK").to_string();
    for b in &r.balances {
        outln!("  {:<10} {:>14} {:>10} {:>10} {:>10}", b.name, f(&b.free), f(&b.held), f(&b.bonded), f(&b.unbonding));
    }
    outln!(
        "\nconservation: accounts sum to {} = total supply {} -> {}",
        r.accounts_sum.to_swk_string(),
        r.total_supply.to_swk_string(),
        if r.conservation_ok { "OK" } else { "BROKEN" }
    );
    outln!("state root:   {}", r.state_root);
    outln!("replay:       {} -> {}", r.replay_state_root, if r.replay_matches { "same root, OK" } else { "MISMATCH" });
}
