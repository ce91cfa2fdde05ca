//! `stakework demo`: starts a real node (a child process of this binary) on a fresh temporary data
//! directory, drives it over HTTP with signed transactions from four people, waits for an unbond to
//! mature and an escrow hold to expire, then stops the node and replays its block log from genesis.
//!
//! Everything printed comes from the node's answers (receipts, events, balances, the supply audit) and
//! from the replay: nothing is scripted output. Later issues grow this into a whole network of agents.

use crate::client::Client;
use crate::keys::{account_of, derived_key};
use crate::local_node::LocalNode;
use anyhow::{bail, Context};
use clap::Args;
use ed25519_dalek::SigningKey;
use engine::{Call, Genesis, GenesisAccount, Params, SignedTx, TxBody};
use ledger::HoldId;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use types::{AccountId, Amount, Height};

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Block interval of the demo node, in milliseconds.
    #[arg(long, default_value_t = 200)]
    pub block_ms: u64,
}

#[derive(Debug, Serialize)]
struct Report {
    chain_id: String,
    node_url: String,
    steps: Vec<StepReport>,
    events: Vec<String>,
    balances: Vec<BalanceRow>,
    supply: Value,
    head_height: u64,
    head_state_root: String,
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
            other => format!("{other:?}"),
        }
    }

    /// Submit a batch with `?wait=commit`; returns one row per transaction and the raw results.
    fn submit(&mut self, title: &str, txs: Vec<(String, SignedTx)>) -> anyhow::Result<(StepReport, Vec<Value>)> {
        let (whats, txs): (Vec<String>, Vec<SignedTx>) = txs.into_iter().unzip();
        let v: Value = self.client.post("/v1/txs?wait=commit", &serde_json::to_value(&txs)?)?;
        let results = v["results"].as_array().context("the node sent no results")?.clone();
        let rows = whats
            .into_iter()
            .zip(&results)
            .map(|(what, r)| TxReport {
                what,
                status: r["status"].as_str().unwrap_or("?").to_string(),
                height: r["receipt"]["height"].as_u64(),
                result: r["receipt"]["code"].as_str().or(r["code"].as_str()).unwrap_or("?").to_string(),
            })
            .collect();
        Ok((StepReport { title: title.to_string(), txs: rows }, results))
    }

    fn height(&self) -> anyhow::Result<u64> {
        let h: Value = self.client.get("/health")?;
        h["height"].as_u64().context("health without height")
    }

    fn event_line(&self, e: &Value) -> String {
        let amount =
            |k: &str| e[k].as_str().and_then(|s| s.parse::<Amount>().ok()).map_or("?".into(), Amount::to_swk_string);
        let who =
            |k: &str| e[k].as_str().and_then(|s| s.parse::<AccountId>().ok()).map_or("?".into(), |a| self.name(&a));
        match e["event"].as_str().unwrap_or("") {
            "transfer_posted" => format!("TransferPosted {} -> {} {}", who("from"), who("to"), amount("amount")),
            "bonded" => format!("Bonded {} {}", who("account"), amount("amount")),
            "unbond_started" => {
                format!("UnbondStarted {} {} (free at height {})", who("account"), amount("amount"), e["matures_at"])
            }
            "unbond_matured" => format!("UnbondMatured {} {}", who("account"), amount("amount")),
            "hold_created" => format!("HoldCreated #{} {} from {}", e["hold"], amount("amount"), who("payer")),
            "hold_posted" => format!(
                "HoldPosted #{} to {} recipients, {} still held",
                e["hold"],
                e["payouts"].as_array().map_or(0, Vec::len),
                amount("remaining")
            ),
            "hold_voided" => format!("HoldVoided #{} {} back to {}", e["hold"], amount("amount"), who("payer")),
            "hold_expired" => format!("HoldExpired #{} {} back to {}", e["hold"], amount("amount"), who("payer")),
            "epoch_ended" => format!("EpochEnded epoch {}", e["epoch"]),
            other => format!("{other} {e}"),
        }
    }
}

pub fn run(args: &DemoArgs, json: bool) -> anyhow::Result<()> {
    let keys: BTreeMap<&'static str, SigningKey> =
        ["alice", "bob", "carol", "dave"].into_iter().map(|n| (n, derived_key(&format!("demo/{n}")))).collect();
    let start = [("alice", 1_000, 0), ("bob", 400, 100), ("carol", 200, 0), ("dave", 0, 0)];
    let genesis = Genesis {
        services: Vec::new(),
        params: Params {
            chain_id: "stakework-demo".into(),
            epoch_length: 10,
            unbonding_period: 5,
            min_fee: Amount(1_000_000),
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
    };
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
    let (alice, bob, carol, dave) = (d.id("alice"), d.id("bob"), d.id("carol"), d.id("dave"));
    let mut steps = Vec::new();

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
    let hold = results[2]["receipt"]["events"]
        .as_array()
        .and_then(|evs| evs.iter().find(|e| e["event"] == "hold_created"))
        .and_then(|e| e["hold"].as_u64())
        .context("carol's hold was not created")?;

    eprintln!("demo: [2/3] unbond, partial escrow payout, a replayed transaction");
    let reuse = TxBody { signer: alice, nonce: 0, fee: d.fee, call: Call::Transfer { to: dave, amount: swk(5) } }
        .sign(&d.keys["alice"], &d.chain_id);
    let batch = vec![
        d.tx("bob", Call::Unbond { amount: swk(120) }),
        d.tx("carol", Call::HoldPost { hold: HoldId(hold), payouts: vec![(dave, swk(30)), (alice, swk(20))] }),
        ("alice: her first transfer again (a replay: not run twice)".to_string(), replay),
        ("alice: a new transfer that reuses nonce 0".to_string(), reuse),
    ];
    let (step, results) = d.submit("unbond, partial escrow payout, a replayed transaction", batch)?;
    steps.push(step);
    let matures = results[0]["receipt"]["events"][0]["matures_at"].as_u64().context("bob's unbond did not start")?;

    let due = matures.max(expires.0);
    let t0 = Instant::now();
    loop {
        let h = d.height()?;
        eprint!("\rdemo: waiting for height {due} (the unbond matures, the hold expires): at {h}   ");
        if h >= due {
            eprintln!();
            break;
        }
        if t0.elapsed() > Duration::from_secs(60) {
            bail!("the node stopped making blocks (height {h}, waiting for {due})");
        }
        std::thread::sleep(Duration::from_millis(args.block_ms.min(200)));
    }

    eprintln!("demo: [3/3] small transfers after the deadlines");
    let batch = vec![
        d.tx("alice", Call::Transfer { to: bob, amount: swk(1) }),
        d.tx("alice", Call::Transfer { to: carol, amount: swk(1) }),
        d.tx("dave", Call::Transfer { to: carol, amount: swk(5) }),
    ];
    let (step, _) = d.submit("small transfers after the deadlines", batch)?;
    steps.push(step);

    let ev: Value = d.client.get("/v1/events?since=1")?;
    let mut events = Vec::new();
    for b in ev["blocks"].as_array().into_iter().flatten() {
        for e in b["events"].as_array().into_iter().flatten() {
            if e["event"] != "epoch_ended" {
                events.push(format!("height {:>3}  {}", b["height"], d.event_line(e)));
            }
        }
    }
    let mut balances = Vec::new();
    for (id, name) in d.names.clone() {
        let a: node::AccountView = d.client.get(&format!("/v1/accounts/{id}"))?;
        balances.push(BalanceRow {
            name,
            account: id,
            free: a.free,
            held: a.held,
            bonded: a.bonded,
            unbonding: a.unbonding,
        });
    }
    balances.sort_by(|a, b| a.name.cmp(&b.name));
    let supply: Value = d.client.get("/v1/supply")?;
    let head: Value = d.client.get("/health")?;
    let head_height = head["height"].as_u64().context("head height")?;
    let head_root = head["state_root"].as_str().context("head root")?.to_string();
    node.stop()?;

    // Replay the whole log from genesis (every block's root checked) and compare with the head we saw.
    let store = store::Store::open(&dir.path().join("data")).map_err(|e| anyhow::anyhow!("[{}] {e}", e.code()))?;
    let stored_genesis = store.bind_genesis(None).map_err(|e| anyhow::anyhow!("[{}] {e}", e.code()))?;
    let (replayed, rec) =
        store.replay_from_genesis(&stored_genesis).map_err(|e| anyhow::anyhow!("[{}] {e}", e.code()))?;
    let block =
        store.block(head_height).map_err(|e| anyhow::anyhow!("[{}] {e}", e.code()))?.context("head block missing")?;
    let replay_matches_head = replayed.height().0 >= head_height && block.state_root.to_hex() == head_root;

    let report = Report {
        chain_id: d.chain_id.clone(),
        node_url: url,
        steps,
        events,
        balances,
        supply,
        head_height,
        head_state_root: head_root,
        replayed_blocks: rec.replayed,
        replay_matches_head,
    };
    if json {
        outln!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_text(&report);
    }
    if report.supply["conserved"] != true || !report.replay_matches_head {
        bail!(
            "the demo failed its own checks (conserved {}, replay matches {})",
            report.supply["conserved"],
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
    let amt =
        |k: &str| r.supply[k].as_str().and_then(|s| s.parse::<Amount>().ok()).map_or("?".into(), Amount::to_swk_string);
    outln!(
        "\nconservation (/v1/supply): accounts sum to {} = total supply {} (genesis {} + minted {} - burned {}) -> {}",
        amt("accounts_total"),
        amt("total_supply"),
        amt("genesis"),
        amt("minted"),
        amt("burned"),
        if r.supply["conserved"] == true { "OK" } else { "BROKEN" }
    );
    outln!("head:   height {}  state root {}", r.head_height, r.head_state_root);
    outln!(
        "replay: node stopped; {} blocks replayed from genesis with every root checked; head root {}",
        r.replayed_blocks,
        if r.replay_matches_head { "matches, OK" } else { "MISMATCH" }
    );
}
