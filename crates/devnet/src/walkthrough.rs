//! The walkthrough (`stakework demo --walkthrough`): a real node (a child process of the `stakework`
//! binary) on a fresh temporary data directory, driven over HTTP with signed transactions from four people
//! step by step (payments, escrow, a replay, an unbond, a paid request, a task with a lazy miner), then
//! stopped and its block log replayed from genesis.
//!
//! Everything reported comes from the node's answers (receipts, events, balances, the supply audit) and
//! from the replay: nothing is scripted output.

use crate::keys::{account_of, derived_key};
use crate::process::{replay, Node};
use crate::{DevnetError, Result};
use api::{SubmitResult, SupplyView};
use client::Client;
use ed25519_dalek::SigningKey;
use protocol::{
    output_commitment, Call, Event, Genesis, GenesisAccount, GenesisService, Params, Rating, Role, SignedTx, Task,
    TxBody,
};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};
use types::{AccountId, Amount, Hash, Height};

#[derive(Debug, Serialize)]
pub struct WalkReport {
    pub chain_id: String,
    pub node_url: String,
    pub steps: Vec<StepReport>,
    pub events: Vec<String>,
    pub balances: Vec<BalanceRow>,
    pub supply: SupplyView,
    pub head_height: u64,
    pub head_state_root: Hash,
    pub replayed_blocks: u64,
    pub replay_matches_head: bool,
}

#[derive(Debug, Serialize)]
pub struct StepReport {
    pub title: String,
    pub txs: Vec<TxReport>,
}

#[derive(Debug, Serialize)]
pub struct TxReport {
    pub what: String,
    pub status: String,
    pub height: Option<u64>,
    pub result: String,
}

#[derive(Debug, Serialize)]
pub struct BalanceRow {
    pub name: String,
    pub account: AccountId,
    pub free: Amount,
    pub held: Amount,
    pub bonded: Amount,
    pub unbonding: Amount,
}

fn swk(n: u128) -> Amount {
    Amount::swk(n).expect("demo amounts are a few thousand SWK at most")
}

fn missing(what: &str) -> DevnetError {
    DevnetError::Network(what.to_string())
}

/// The events of a transaction's receipt (none unless it was committed).
fn receipt_events(r: &SubmitResult) -> impl Iterator<Item = &Event> {
    r.receipt.iter().flat_map(|x| &x.events).map(|e| &e.event)
}

/// The walkthrough's state: the node, everyone's keys and names, the nonces used so far.
pub(crate) struct Demo {
    pub(crate) client: Client,
    chain_id: String,
    fee: Amount,
    keys: BTreeMap<&'static str, SigningKey>,
    pub(crate) names: BTreeMap<AccountId, String>,
    nonces: BTreeMap<&'static str, u64>,
}

impl Demo {
    fn id(&self, who: &str) -> AccountId {
        account_of(&self.keys[who])
    }
    pub(crate) fn name(&self, a: &AccountId) -> String {
        self.names.get(a).cloned().unwrap_or_else(|| a.short())
    }
    /// The demo participant with this account, by its fixed name.
    fn static_name(&self, a: &AccountId) -> Result<&'static str> {
        let found = self.keys.iter().find(|(_, k)| account_of(k) == *a).map(|(n, _)| *n);
        found.ok_or_else(|| missing("an account outside the demo"))
    }
    fn tx(&mut self, who: &'static str, call: Call) -> (String, SignedTx) {
        let nonce = self.nonces.entry(who).or_insert(0);
        let body = TxBody { signer: account_of(&self.keys[who]), nonce: *nonce, fee: self.fee, call };
        *nonce += 1;
        let what = format!("{who}: {}", self.describe(&body.call));
        (what, body.sign(&self.keys[who], &self.chain_id))
    }

    /// Submit a batch with `?wait=commit`; returns one row per transaction and the node's results.
    fn submit(&mut self, title: &str, txs: Vec<(String, SignedTx)>) -> Result<(StepReport, Vec<SubmitResult>)> {
        let (whats, txs): (Vec<String>, Vec<SignedTx>) = txs.into_iter().unzip();
        let results = self.client.submit_batch(&txs, true)?.results;
        let rows = whats
            .into_iter()
            .zip(&results)
            .map(|(what, r)| TxReport {
                what,
                status: r.status.to_string(),
                height: r.receipt.as_ref().and_then(|x| x.height),
                result: r
                    .receipt
                    .as_ref()
                    .and_then(|x| x.code.clone())
                    .or_else(|| r.code.clone())
                    .unwrap_or_else(|| "?".into()),
            })
            .collect();
        Ok((StepReport { title: title.to_string(), txs: rows }, results))
    }

    fn height(&self) -> Result<u64> {
        Ok(self.client.height()?)
    }
}

const MINERS: [&str; 5] = ["m1", "m2", "m3", "m4", "m5"];
const ANSWER: &str =
    "Photosynthesis turns light, water and carbon dioxide into glucose and oxygen in the chloroplasts.";

/// Step 4: miners and an oracle join the registry; a paid request is completed and rated.
fn market_steps(d: &mut Demo, steps: &mut Vec<StepReport>) -> Result<()> {
    eprintln!("demo: [4/5] miners and an oracle register; a paid request is completed and rated");
    let mut batch: Vec<_> = MINERS
        .iter()
        .map(|m| {
            let endpoint = format!("http://127.0.0.1/{m}");
            d.tx(m, Call::RegisterNode { roles: vec![Role::Miner], services: vec![1], capacity: 4, endpoint })
        })
        .collect();
    let oracle = Call::RegisterNode {
        roles: vec![Role::Oracle],
        services: vec![],
        capacity: 1,
        endpoint: "http://127.0.0.1/o1".into(),
    };
    batch.push(d.tx("o1", oracle));
    batch.push(d.tx("alice", Call::SubmitRequest { service: 1, max_price: swk(1), avoid: vec![] }));
    let (step, results) = d.submit("miners and an oracle register; alice pays for an inference request", batch)?;
    steps.push(step);
    let miner = results
        .get(MINERS.len() + 1)
        .into_iter()
        .flat_map(receipt_events)
        .find_map(|e| match e {
            Event::RequestSubmitted { miner, .. } => Some(*miner),
            _ => None,
        })
        .ok_or_else(|| missing("the request was not assigned"))?;
    let miner = d.static_name(&miner)?;
    let batch = vec![
        d.tx(
            miner,
            Call::CompleteRequest { request: 1, result_hash: Hash(*blake3::hash(ANSWER.as_bytes()).as_bytes()) },
        ),
        d.tx("alice", Call::RateRequest { request: 1, rating: Rating::Good }),
    ];
    let (step, _) = d.submit("the assigned miner completes it and alice rates it Good", batch)?;
    steps.push(step);
    Ok(())
}

/// Step 5: a Proof of Useful Work task runs through every state with the oracle advancing it, and one lazy
/// miner is caught by Proof of Inference.
fn task_steps(d: &mut Demo, steps: &mut Vec<StepReport>) -> Result<()> {
    eprintln!("demo: [5/5] a Proof-of-Useful-Work task with three miners, one of them lazy");
    let order = d.tx("alice", Call::SubmitTask { service: 1, redundancy: 3, max_price: swk(2), avoid: vec![] });
    let (step, _) = d.submit("alice orders a task run by 3 miners", vec![order])?;
    steps.push(step);
    let task = |d: &Demo| -> Result<Task> { Ok(d.client.task(1)?) };
    let creator = d.static_name(&task(d)?.creator)?;
    let batch = vec![
        d.tx(creator, Call::PublishTaskSpec { task: 1, spec: "Explain photosynthesis.".into() }),
        d.tx("o1", Call::AdvanceTask { task: 1 }),
    ];
    let (step, _) = d.submit("the creator publishes the spec; the oracle advances", batch)?;
    steps.push(step);
    let preparer = d.static_name(&task(d)?.preparer.ok_or_else(|| missing("no preparer"))?)?;
    let batch = vec![
        d.tx(preparer, Call::PrepareTask { task: 1, inputs: "Explain photosynthesis in one sentence.".into() }),
        d.tx("o1", Call::AdvanceTask { task: 1 }),
    ];
    let (step, _) = d.submit("the preparer publishes the inputs; the oracle advances and 3 miners are drawn", batch)?;
    steps.push(step);
    let miners: Vec<&'static str> = task(d)?.miners.iter().map(|m| d.static_name(m)).collect::<Result<_>>()?;
    let outputs = [ANSWER, ANSWER, "Sorry, I did not run the model; here is some filler about football results."];
    let salt = |i: usize| Hash([i as u8 + 1; 32]);
    let mut batch: Vec<_> = miners
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let commitment = output_commitment(1, &d.id(m), outputs[i], &salt(i));
            d.tx(m, Call::PrecommitOutput { task: 1, commitment })
        })
        .collect();
    batch.push(d.tx("o1", Call::AdvanceTask { task: 1 }));
    let (step, _) = d.submit("each miner precommits H(task ‖ miner ‖ salt ‖ output); the oracle advances", batch)?;
    steps.push(step);
    let mut batch: Vec<_> = miners
        .iter()
        .enumerate()
        .map(|(i, m)| d.tx(m, Call::RevealOutput { task: 1, output: outputs[i].into(), salt: salt(i) }))
        .collect();
    batch.push(d.tx("o1", Call::AdvanceTask { task: 1 }));
    let (step, _) = d.submit("each miner reveals; the oracle advances and Proof of Inference decides", batch)?;
    steps.push(step);
    Ok(())
}

/// The walkthrough's chain: four people, five miners and an oracle, one service, short epochs and unbonding.
fn walkthrough_genesis(keys: &BTreeMap<&'static str, SigningKey>) -> Genesis {
    let mut start = vec![("alice", 1_000, 0), ("bob", 400, 100), ("carol", 200, 0), ("dave", 0, 0)];
    start.extend(MINERS.iter().map(|m| (*m, 1, 150)));
    start.push(("o1", 1, 150));
    Genesis {
        validators: Vec::new(),
        services: vec![GenesisService {
            name: "text-generation".into(),
            weight: 1,
            price: Amount(500_000_000),
            poi_threshold: protocol::POI_THRESHOLD_DEFAULT,
            semantic_poi: false,
        }],
        params: Params {
            chain_id: "stakework-demo".into(),
            epoch_length: 10,
            unbonding_period: 5,
            voting_period: 4,
            min_fee: Amount(1_000_000),
            miner_stake_min: swk(100),
            oracle_stake_min: swk(100),
            // Emission runs (1,000 SWK per 10-block epoch), but funds no background tasks: those would take
            // the idle miners the demo's user task is about to use.
            emission_share_background: types::Ppb::ZERO,
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

/// Step 1: payments, stake and an escrow hold (dave's overdraft is rejected); the hold's id.
fn payment_step(d: &mut Demo, expires: Height, steps: &mut Vec<StepReport>) -> Result<(types::HoldId, SignedTx)> {
    let (alice, bob) = (d.id("alice"), d.id("bob"));
    let first = d.tx("alice", Call::Transfer { to: bob, amount: swk(250) });
    let replay = first.1.clone();
    let batch = vec![
        first,
        d.tx("bob", Call::Bond { amount: swk(50) }),
        d.tx("carol", Call::HoldCreate { amount: swk(80), expires_at: Some(expires) }),
        d.tx("dave", Call::Transfer { to: alice, amount: swk(10) }),
    ];
    eprintln!("demo: [1/3] payments, stake and an escrow hold");
    let (step, results) = d.submit("payments, stake and an escrow hold", batch)?;
    steps.push(step);
    d.nonces.insert("dave", 0); // dave's overdraft was rejected: its nonce is unused
    let hold = results
        .get(2)
        .into_iter()
        .flat_map(receipt_events)
        .find_map(|e| match e {
            Event::HoldCreated { hold, .. } => Some(*hold),
            _ => None,
        })
        .ok_or_else(|| missing("carol's hold was not created"))?;
    Ok((hold, replay))
}

/// Steps 1 to 3: payments, stake and an escrow hold; an unbond, a partial payout and a replay; then, once
/// the unbond matured and the hold expired, small transfers.
fn ledger_steps(d: &mut Demo, block_ms: u64, steps: &mut Vec<StepReport>) -> Result<()> {
    let (alice, bob, carol, dave) = (d.id("alice"), d.id("bob"), d.id("carol"), d.id("dave"));
    let expires = Height(d.height()? + 8);
    let (hold, replay) = payment_step(d, expires, steps)?;
    eprintln!("demo: [2/3] unbond, partial escrow payout, a replayed transaction");
    let reuse = TxBody { signer: alice, nonce: 0, fee: d.fee, call: Call::Transfer { to: dave, amount: swk(5) } }
        .sign(&d.keys["alice"], &d.chain_id);
    let batch = vec![
        d.tx("bob", Call::Unbond { amount: swk(120) }),
        d.tx("carol", Call::HoldPost { hold, payouts: vec![(dave, swk(30)), (alice, swk(20))] }),
        ("alice: her first transfer again (a replay: not run twice)".to_string(), replay),
        ("alice: a new transfer that reuses nonce 0".to_string(), reuse),
    ];
    let (step, results) = d.submit("unbond, partial escrow payout, a replayed transaction", batch)?;
    steps.push(step);
    let matures = results
        .first()
        .and_then(|r| receipt_events(r).next())
        .and_then(|e| match e {
            Event::UnbondStarted { matures_at, .. } => Some(matures_at.0),
            _ => None,
        })
        .ok_or_else(|| missing("bob's unbond did not start"))?;
    wait_for_height(d, matures.max(expires.0), block_ms)?;
    eprintln!("demo: [3/3] small transfers after the deadlines");
    let batch = vec![
        d.tx("alice", Call::Transfer { to: bob, amount: swk(1) }),
        d.tx("alice", Call::Transfer { to: carol, amount: swk(1) }),
        d.tx("dave", Call::Transfer { to: carol, amount: swk(5) }),
    ];
    let (step, _) = d.submit("small transfers after the deadlines", batch)?;
    steps.push(step);
    Ok(())
}

/// Wait (with progress) until the node has made block `due`: the unbond matures, the hold expires.
fn wait_for_height(d: &Demo, due: u64, block_ms: u64) -> Result<()> {
    let t0 = Instant::now();
    loop {
        let h = d.height()?;
        eprint!("\rdemo: waiting for height {due} (the unbond matures, the hold expires): at {h}   ");
        if h >= due {
            eprintln!();
            return Ok(());
        }
        if t0.elapsed() > Duration::from_secs(60) {
            return Err(missing(&format!("the node stopped making blocks (height {h}, waiting for {due})")));
        }
        std::thread::sleep(Duration::from_millis(block_ms.min(200)));
    }
}

/// Every demo account's balances, by name.
fn balances(d: &Demo) -> Result<Vec<BalanceRow>> {
    let mut balances = Vec::new();
    for (id, name) in &d.names {
        let a = d.client.account(id)?;
        balances.push(BalanceRow {
            name: name.clone(),
            account: *id,
            free: a.free,
            held: a.held,
            bonded: a.bonded,
            unbonding: a.unbonding,
        });
    }
    balances.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(balances)
}

/// Run the walkthrough with the `stakework` binary at `exe` and blocks of `block_ms`; the report.
pub fn run(exe: &Path, block_ms: u64) -> Result<WalkReport> {
    let people = ["alice", "bob", "carol", "dave", "m1", "m2", "m3", "m4", "m5", "o1"];
    let keys: BTreeMap<&'static str, SigningKey> =
        people.into_iter().map(|n| (n, derived_key(&format!("demo/{n}")))).collect();
    let genesis = walkthrough_genesis(&keys);
    let dir = tempfile::tempdir().map_err(DevnetError::io("creating a temporary directory"))?;
    let genesis_path = dir.path().join("genesis.toml");
    std::fs::write(&genesis_path, genesis.to_toml()).map_err(DevnetError::io("writing the genesis file"))?;
    let (bms, data) = (block_ms.to_string(), dir.path().join("data"));
    let node =
        Node::start(exe, "127.0.0.1:0", &data, Some(&genesis_path), &["--block-ms", &bms, "--snapshot-every", "10"])?;
    let url = node.url.clone();
    eprintln!("demo: node started at {url} on {}", dir.path().display());
    let mut names: BTreeMap<AccountId, String> = keys.iter().map(|(n, k)| (account_of(k), n.to_string())).collect();
    names.insert(AccountId::system("treasury"), "treasury".into());
    let mut d = Demo {
        client: Client::new(&url),
        chain_id: genesis.params.chain_id.clone(),
        fee: genesis.params.min_fee,
        keys,
        names,
        nonces: BTreeMap::new(),
    };
    let mut steps = Vec::new();
    ledger_steps(&mut d, block_ms, &mut steps)?;
    market_steps(&mut d, &mut steps)?;
    task_steps(&mut d, &mut steps)?;
    let (events, balances, supply) = (d.event_lines()?, balances(&d)?, d.client.supply()?);
    let head = d.client.health()?;
    node.stop()?;
    // Replay the whole log from genesis (every block's root checked) and compare with the head we saw.
    let replayed = replay(exe, &data, head.height.0)?;
    Ok(WalkReport {
        chain_id: d.chain_id.clone(),
        node_url: url,
        steps,
        events,
        balances,
        supply,
        head_height: head.height.0,
        head_state_root: head.state_root,
        replayed_blocks: replayed.replayed,
        replay_matches_head: replayed.root_at == Some(head.state_root),
    })
}
