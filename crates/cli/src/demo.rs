//! `stakework demo`: starts a real node (a child process of this binary) on a fresh temporary data
//! directory, drives it over HTTP with signed transactions from four people, waits for an unbond to
//! mature and an escrow hold to expire, then stops the node and replays its block log from genesis.
//!
//! Everything printed comes from the node's answers (receipts, events, balances, the supply audit) and
//! from the replay: nothing is scripted output. Later issues grow this into a whole network of agents.

use crate::keys::{account_of, derived_key};
use crate::local_node::LocalNode;
use anyhow::{bail, Context};
use api::{SubmitResult, SupplyView};
use clap::Args;
use client::Client;
use ed25519_dalek::SigningKey;
use engine::{
    output_commitment, Call, Genesis, GenesisAccount, GenesisService, Params, Rating, Role, SignedTx, Task, TxBody,
};
use protocol::{Event, EventRecord};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use types::{AccountId, Amount, Hash, Height};

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Block interval of the demo node, in milliseconds.
    #[arg(long, default_value_t = 100)]
    pub block_ms: u64,
    /// Instead of the network of agents, walk through the ledger and market step by step with scripted
    /// transactions (payments, escrow, a replay, an unbond, a request, a task with a lazy miner).
    #[arg(long)]
    pub walkthrough: bool,
}

/// Replay the data directory's block log from genesis (every root checked) and compare with the head seen.
pub fn replay_matches(dir: &std::path::Path, head_height: u64, head_root: &Hash) -> anyhow::Result<bool> {
    Ok(replay(dir, head_height, head_root)?.0)
}

/// Replay the block log from genesis; whether it reaches the head seen with the same root, and how many
/// blocks it replayed.
fn replay(dir: &std::path::Path, head_height: u64, head_root: &Hash) -> anyhow::Result<(bool, u64)> {
    let store = store::Store::open(&dir.join("data")).map_err(|e| anyhow::anyhow!("[{}] {e}", e.code()))?;
    let stored_genesis = store.bind_genesis(None).map_err(|e| anyhow::anyhow!("[{}] {e}", e.code()))?;
    let (replayed, rec) =
        store.replay_from_genesis(&stored_genesis).map_err(|e| anyhow::anyhow!("[{}] {e}", e.code()))?;
    let block =
        store.block(head_height).map_err(|e| anyhow::anyhow!("[{}] {e}", e.code()))?.context("head block missing")?;
    Ok((replayed.height().0 >= head_height && block.state_root == *head_root, rec.replayed))
}

/// The name a value has on the wire (`good`, `precommitted`, `data_owner`): its serde form.
pub(crate) fn wire_name<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(Value::String(s)) => s,
        _ => "?".into(),
    }
}

/// The events of a transaction's receipt (none unless it was committed).
fn receipt_events(r: &SubmitResult) -> impl Iterator<Item = &Event> {
    r.receipt.iter().flat_map(|x| &x.events).map(|e| &e.event)
}

#[derive(Debug, Serialize)]
struct Report {
    chain_id: String,
    node_url: String,
    steps: Vec<StepReport>,
    events: Vec<String>,
    balances: Vec<BalanceRow>,
    supply: SupplyView,
    head_height: u64,
    head_state_root: Hash,
    replayed_blocks: u64,
    replay_matches_head: bool,
}

#[derive(Debug, Serialize)]
struct StepReport {
    title: String,
    txs: Vec<TxReport>,
}

#[derive(Debug, Serialize)]
struct TxReport {
    what: String,
    status: String,
    height: Option<u64>,
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

fn swk(n: u128) -> Amount {
    Amount::swk(n).expect("demo amounts are small")
}

struct Demo {
    client: Client,
    chain_id: String,
    fee: Amount,
    keys: BTreeMap<&'static str, SigningKey>,
    names: BTreeMap<AccountId, String>,
    nonces: BTreeMap<&'static str, u64>,
}

impl Demo {
    fn id(&self, who: &str) -> AccountId {
        account_of(&self.keys[who])
    }
    fn name(&self, a: &AccountId) -> String {
        self.names.get(a).cloned().unwrap_or_else(|| a.short())
    }
    /// The demo participant with this account, by its fixed name.
    fn static_name(&self, a: &AccountId) -> anyhow::Result<&'static str> {
        self.keys.iter().find(|(_, k)| account_of(k) == *a).map(|(n, _)| *n).context("an account outside the demo")
    }
    fn tx(&mut self, who: &'static str, call: Call) -> (String, SignedTx) {
        let nonce = self.nonces.entry(who).or_insert(0);
        let body = TxBody { signer: account_of(&self.keys[who]), nonce: *nonce, fee: self.fee, call };
        *nonce += 1;
        let what = format!("{who}: {}", self.describe(&body.call));
        (what, body.sign(&self.keys[who], &self.chain_id))
    }
    fn describe(&self, call: &Call) -> String {
        match call {
            Call::Transfer { to, amount } => format!("transfer {} to {}", amount.to_swk_string(), self.name(to)),
            Call::Bond { amount } => format!("bond {}", amount.to_swk_string()),
            Call::Unbond { amount } => format!("unbond {}", amount.to_swk_string()),
            Call::HoldCreate { amount, expires_at } => {
                format!(
                    "hold {} until height {}",
                    amount.to_swk_string(),
                    expires_at.map_or("-".into(), |h| h.to_string())
                )
            }
            Call::HoldPost { hold, payouts } => {
                let p: Vec<String> =
                    payouts.iter().map(|(a, v)| format!("{} to {}", v.to_swk_string(), self.name(a))).collect();
                format!("post hold {hold}: {}", p.join(", "))
            }
            Call::HoldVoid { hold } => format!("void hold {hold}"),
            Call::RegisterNode { roles, .. } => {
                format!("register as {}", if roles.contains(&Role::Oracle) { "oracle" } else { "miner" })
            }
            Call::SubmitRequest { service, .. } => format!("request inference from service {service}"),
            Call::CompleteRequest { request, .. } => format!("complete request #{request}"),
            Call::RateRequest { request, rating } => format!("rate request #{request} {rating:?}"),
            Call::SubmitTask { redundancy, .. } => format!("order a task (k = {redundancy})"),
            Call::PublishTaskSpec { task, .. } => format!("publish the spec of task #{task}"),
            Call::PrepareTask { task, .. } => format!("prepare the inputs of task #{task}"),
            Call::PrecommitOutput { task, .. } => format!("precommit an output for task #{task}"),
            Call::RevealOutput { task, output, .. } => {
                format!("reveal task #{task}: \"{}…\"", output.chars().take(24).collect::<String>())
            }
            Call::AdvanceTask { task } => format!("advance task #{task}"),
            other => format!("{other:?}"),
        }
    }

    /// Submit a batch with `?wait=commit`; returns one row per transaction and the node's results.
    fn submit(&mut self, title: &str, txs: Vec<(String, SignedTx)>) -> anyhow::Result<(StepReport, Vec<SubmitResult>)> {
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

    fn height(&self) -> anyhow::Result<u64> {
        Ok(self.client.height()?)
    }

    /// Every event from block 1, one line each (epoch ends and the task's intermediate steps left out).
    fn event_lines(&self) -> anyhow::Result<Vec<String>> {
        let page = self.client.events(1, api::EVENT_BLOCKS_MAX)?;
        let mut lines = Vec::new();
        for b in &page.blocks {
            for e in &b.events {
                let line = self.event_line(e);
                if !matches!(e.event, Event::EpochEnded { .. }) && !line.is_empty() {
                    lines.push(format!("height {:>3}  {line}", b.height));
                }
            }
        }
        Ok(lines)
    }

    /// A sentence for a ledger event; market and task events go to `market_line`.
    fn event_line(&self, e: &EventRecord) -> String {
        let who = |a: &AccountId| self.name(a);
        match &e.event {
            Event::TransferPosted { from, to, amount } => {
                format!("TransferPosted {} -> {} {}", who(from), who(to), amount.to_swk_string())
            }
            Event::Bonded { account, amount } => format!("Bonded {} {}", who(account), amount.to_swk_string()),
            Event::UnbondStarted { account, amount, matures_at } => {
                format!("UnbondStarted {} {} (free at height {matures_at})", who(account), amount.to_swk_string())
            }
            Event::UnbondMatured { account, amount } => {
                format!("UnbondMatured {} {}", who(account), amount.to_swk_string())
            }
            Event::HoldCreated { hold, payer, amount, .. } => {
                format!("HoldCreated #{} {} from {}", hold.0, amount.to_swk_string(), who(payer))
            }
            Event::HoldPosted { hold, payouts, remaining } => format!(
                "HoldPosted #{} to {} recipients, {} still held",
                hold.0,
                payouts.len(),
                remaining.to_swk_string()
            ),
            Event::HoldVoided { hold, payer, amount } => {
                format!("HoldVoided #{} {} back to {}", hold.0, amount.to_swk_string(), who(payer))
            }
            Event::HoldExpired { hold, payer, amount } => {
                format!("HoldExpired #{} {} back to {}", hold.0, amount.to_swk_string(), who(payer))
            }
            Event::EpochEnded { epoch, .. } => format!("EpochEnded epoch {epoch}"),
            _ => self.market_line(e),
        }
    }

    /// A sentence for a market or task event; the steps a task goes through are left out (empty).
    fn market_line(&self, e: &EventRecord) -> String {
        let who = |a: &AccountId| self.name(a);
        let names = |list: &[AccountId]| list.iter().map(|a| self.name(a)).collect::<Vec<_>>().join(" ");
        match &e.event {
            Event::NodeRegistered { account, roles, .. } => {
                format!("NodeRegistered {} as {}", who(account), roles.first().map_or("?".into(), wire_name))
            }
            Event::RequestSubmitted { request, client, miner, price, .. } => format!(
                "RequestSubmitted #{request} by {} to {} for {}",
                who(client),
                who(miner),
                price.to_swk_string()
            ),
            Event::RequestCompleted { request, miner, paid, fee, .. } => format!(
                "RequestCompleted #{request} by {}: paid {}, fee {}",
                who(miner),
                paid.to_swk_string(),
                fee.to_swk_string()
            ),
            Event::RequestRated { request, miner, rating, reputation } => format!(
                "RequestRated #{request} {}: {} reputation {:.3}",
                wire_name(rating),
                who(miner),
                f64::from(reputation.raw()) / 1e9
            ),
            Event::TaskSubmitted { task, creator, .. } => format!("TaskSubmitted #{task} creator {}", who(creator)),
            Event::TaskMinersSelected { task, miners } => format!("TaskMinersSelected #{task} {}", names(miners)),
            Event::TaskAdvanced { task, from, to, oracle, .. } => format!(
                "TaskAdvanced #{task} {} -> {} by {}",
                wire_name(from),
                wire_name(to),
                oracle.as_ref().map_or("the engine".into(), who)
            ),
            Event::TaskEnded { task, passed, failed, paid, .. } => format!(
                "TaskEnded #{task}: Proof of Inference passed [{}], failed [{}]; paid {}",
                names(passed),
                names(failed),
                paid.to_swk_string()
            ),
            Event::TaskFailed { task, reason, .. } => format!("TaskFailed #{task}: {reason}"),
            Event::TaskSpecPublished { .. }
            | Event::TaskInputsPrepared { .. }
            | Event::OutputPrecommitted { .. }
            | Event::OutputRevealed { .. }
            | Event::StatusReported { .. } => String::new(),
            _ => raw_line(e),
        }
    }
}

/// An event the walkthrough has no sentence for: its name and the record as the node sends it.
fn raw_line(e: &EventRecord) -> String {
    match serde_json::to_value(e) {
        Ok(v) => format!("{} {v}", v.get("event").and_then(Value::as_str).unwrap_or("?")),
        Err(_) => format!("{:?}", e.event),
    }
}

const MINERS: [&str; 5] = ["m1", "m2", "m3", "m4", "m5"];
const ANSWER: &str =
    "Photosynthesis turns light, water and carbon dioxide into glucose and oxygen in the chloroplasts.";

/// Step 4: miners and an oracle join the registry; a paid request is completed and rated.
fn market_steps(d: &mut Demo, steps: &mut Vec<StepReport>) -> anyhow::Result<()> {
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
        .context("the request was not assigned")?;
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
fn task_steps(d: &mut Demo, steps: &mut Vec<StepReport>) -> anyhow::Result<()> {
    eprintln!("demo: [5/5] a Proof-of-Useful-Work task with three miners, one of them lazy");
    let order = d.tx("alice", Call::SubmitTask { service: 1, redundancy: 3, max_price: swk(2), avoid: vec![] });
    let (step, _) = d.submit("alice orders a task run by 3 miners", vec![order])?;
    steps.push(step);
    let task = |d: &Demo| -> anyhow::Result<Task> { Ok(d.client.task(1)?) };
    let creator = d.static_name(&task(d)?.creator)?;
    let batch = vec![
        d.tx(creator, Call::PublishTaskSpec { task: 1, spec: "Explain photosynthesis.".into() }),
        d.tx("o1", Call::AdvanceTask { task: 1 }),
    ];
    let (step, _) = d.submit("the creator publishes the spec; the oracle advances", batch)?;
    steps.push(step);
    let preparer = d.static_name(&task(d)?.preparer.context("no preparer")?)?;
    let batch = vec![
        d.tx(preparer, Call::PrepareTask { task: 1, inputs: "Explain photosynthesis in one sentence.".into() }),
        d.tx("o1", Call::AdvanceTask { task: 1 }),
    ];
    let (step, _) = d.submit("the preparer publishes the inputs; the oracle advances and 3 miners are drawn", batch)?;
    steps.push(step);
    let miners: Vec<&'static str> = task(d)?.miners.iter().map(|m| d.static_name(m)).collect::<anyhow::Result<_>>()?;
    let outputs = [ANSWER, ANSWER, "Sorry, I did not run the model; here is some filler about football results."];
    let salt = |i: usize| Hash([i as u8 + 1; 32]);
    let mut batch: Vec<_> = miners
        .iter()
        .enumerate()
        .map(|(i, m)| d.tx(m, Call::PrecommitOutput { task: 1, commitment: output_commitment(outputs[i], &salt(i)) }))
        .collect();
    batch.push(d.tx("o1", Call::AdvanceTask { task: 1 }));
    let (step, _) = d.submit("each miner precommits blake3(output ‖ salt); the oracle advances", batch)?;
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
        services: vec![GenesisService {
            name: "text-generation".into(),
            weight: 1,
            price: Amount(500_000_000),
            poi_threshold: engine::POI_THRESHOLD_DEFAULT,
        }],
        params: Params {
            chain_id: "stakework-demo".into(),
            epoch_length: 10,
            unbonding_period: 5,
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

/// Steps 1 to 3: payments, stake and an escrow hold; an unbond, a partial payout and a replay; then, once
/// the unbond matured and the hold expired, small transfers.
fn ledger_steps(d: &mut Demo, block_ms: u64, steps: &mut Vec<StepReport>) -> anyhow::Result<()> {
    let (alice, bob, carol, dave) = (d.id("alice"), d.id("bob"), d.id("carol"), d.id("dave"));
    let expires = Height(d.height()? + 8);
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
    *d.nonces.get_mut("dave").context("dave signed")? = 0; // dave's overdraft was rejected: its nonce is unused
    let hold = results
        .get(2)
        .into_iter()
        .flat_map(receipt_events)
        .find_map(|e| match e {
            Event::HoldCreated { hold, .. } => Some(*hold),
            _ => None,
        })
        .context("carol's hold was not created")?;

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
        .context("bob's unbond did not start")?;
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
fn wait_for_height(d: &Demo, due: u64, block_ms: u64) -> anyhow::Result<()> {
    let t0 = Instant::now();
    loop {
        let h = d.height()?;
        eprint!("\rdemo: waiting for height {due} (the unbond matures, the hold expires): at {h}   ");
        if h >= due {
            eprintln!();
            return Ok(());
        }
        if t0.elapsed() > Duration::from_secs(60) {
            bail!("the node stopped making blocks (height {h}, waiting for {due})");
        }
        std::thread::sleep(Duration::from_millis(block_ms.min(200)));
    }
}

/// Every demo account's balances, by name.
fn balances(d: &Demo) -> anyhow::Result<Vec<BalanceRow>> {
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

pub fn run(args: &DemoArgs, json: bool) -> anyhow::Result<()> {
    let people = ["alice", "bob", "carol", "dave", "m1", "m2", "m3", "m4", "m5", "o1"];
    let keys: BTreeMap<&'static str, SigningKey> =
        people.into_iter().map(|n| (n, derived_key(&format!("demo/{n}")))).collect();
    let genesis = walkthrough_genesis(&keys);
    let dir = tempfile::tempdir().context("temporary directory")?;
    let genesis_path = dir.path().join("genesis.toml");
    std::fs::write(&genesis_path, genesis.to_toml())?;
    let block_ms = args.block_ms.to_string();
    let extra = ["--block-ms", block_ms.as_str(), "--snapshot-every", "10"];
    let mut node = LocalNode::start(&dir.path().join("data"), &genesis_path, &extra)?;
    let url = node.url.clone();
    eprintln!("demo: node started at {url} on {}", dir.path().display());
    let mut names: BTreeMap<AccountId, String> = keys.iter().map(|(n, k)| (account_of(k), n.to_string())).collect();
    names.insert(AccountId::system(engine::TREASURY_NAME), "treasury".into());
    let mut d = Demo {
        client: Client::new(&url),
        chain_id: genesis.params.chain_id.clone(),
        fee: genesis.params.min_fee,
        keys,
        names,
        nonces: BTreeMap::new(),
    };
    let mut steps = Vec::new();
    ledger_steps(&mut d, args.block_ms, &mut steps)?;
    market_steps(&mut d, &mut steps)?;
    task_steps(&mut d, &mut steps)?;

    let events = d.event_lines()?;
    let balances = balances(&d)?;
    let supply = d.client.supply()?;
    let head = d.client.health()?;
    node.stop()?;
    // Replay the whole log from genesis (every block's root checked) and compare with the head we saw.
    let (replay_matches_head, replayed_blocks) = replay(dir.path(), head.height.0, &head.state_root)?;
    let report = Report {
        chain_id: d.chain_id.clone(),
        node_url: url,
        steps,
        events,
        balances,
        supply,
        head_height: head.height.0,
        head_state_root: head.state_root,
        replayed_blocks,
        replay_matches_head,
    };
    if json {
        outln!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_text(&report);
    }
    if !report.supply.conserved || !report.replay_matches_head {
        bail!(
            "the demo failed its own checks (conserved {}, replay matches {})",
            report.supply.conserved,
            report.replay_matches_head
        );
    }
    Ok(())
}

fn print_text(r: &Report) {
    outln!("stakework demo — a real node process at {} on a fresh data directory, chain {}\n", r.node_url, r.chain_id);
    for (i, s) in r.steps.iter().enumerate() {
        outln!("step {}: {}", i + 1, s.title);
        for t in &s.txs {
            let at = t.height.map_or_else(|| "at the door".to_string(), |h| format!("block {h}"));
            outln!("  {:<58} {:<10} {:<20} {}", t.what, t.status, at, t.result);
        }
    }
    outln!("\nevents (from /v1/events)");
    for e in &r.events {
        outln!("  {e}");
    }
    outln!("\nbalances (SWK, from /v1/accounts)");
    outln!("  {:<10} {:>14} {:>10} {:>10} {:>10}", "account", "free", "held", "bonded", "unbonding");
    let f = |a: &Amount| a.to_swk_string().trim_end_matches(" SWK").to_string();
    for b in &r.balances {
        outln!("  {:<10} {:>14} {:>10} {:>10} {:>10}", b.name, f(&b.free), f(&b.held), f(&b.bonded), f(&b.unbonding));
    }
    outln!(
        "\nconservation (/v1/supply): accounts sum to {} = total supply {} (genesis {} + minted {} - burned {}) -> {}",
        r.supply.accounts_total.map_or("?".into(), Amount::to_swk_string),
        r.supply.total_supply.to_swk_string(),
        r.supply.genesis.to_swk_string(),
        r.supply.minted.to_swk_string(),
        r.supply.burned.to_swk_string(),
        if r.supply.conserved { "OK" } else { "BROKEN" }
    );
    outln!("head:   height {}  state root {}", r.head_height, r.head_state_root);
    outln!(
        "replay: node stopped; {} blocks replayed from genesis with every root checked; head root {}",
        r.replayed_blocks,
        if r.replay_matches_head { "matches, OK" } else { "MISMATCH" }
    );
}
