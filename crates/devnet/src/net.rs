//! The demo network: one node (fresh temporary data directory), six miners for tasks (one dishonest, one
//! slow), a seventh, busy miner that alone serves the `chat` service with capacity 1, two oracles, a router,
//! three clients with different stakes and a small training job (a coordinator, two data owners, an MPC
//! node). Every agent is a child process of the `stakework` binary talking to the node over HTTP.
//!
//! The clients' bursts meet in the busy miner's queue: the demo signs all three (12 requests each, for the
//! `chat` service) and submits them as one batch, so they land in one block and are queued together; the
//! clients, started with `--placed-since`, find their requests, relay the prompts through the router,
//! check the answers and rate them. The demo places the job's StakeIn, waits (with progress), stops everyone
//! with SIGTERM, gathers what the chain says happened ([`crate::report`]) and replays the block log.

use crate::keys::{account_of, derived_key, write_key};
use crate::process::{replay, stop_all, Node, Process, Supervisor};
use crate::report::{self, ClientReport, DishonestRow, JobRow, NetReport, NodeRow};
use crate::{wire_name, DevnetError, Result};
use client::{Client, Signer};
use ed25519_dalek::SigningKey;
use protocol::{Call, Event, Genesis, GenesisAccount, GenesisService, JobPhase, Params, Role, TaskState};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};
use types::{Amount, JobId, Ppb};

/// The miners drawn for tasks (service 1), and the busy miner, alone on the `chat` service (2).
pub const MINERS: [&str; 7] = ["m1", "m2", "m3", "m4", "m5-lazy", "m6-slow", BUSY_MINER];
pub const BUSY_MINER: &str = "m7-busy";
pub const DISHONEST_MINER: &str = "m5-lazy";
/// The clients and their bonded stakes (SWK).
pub const CLIENTS: [(&str, u128); 3] = [("c1", 10), ("c2", 30), ("c3", 60)];
/// Requests in each client's burst.
pub const BURST: u32 = 12;
/// Tasks each client orders after its burst (k = 3 of the six task miners, drawn by stake × reputation
/// from the block hash): nine in all, so the dishonest miner is almost surely drawn into some of them.
const TASKS: &str = "3";
const CHAT: u32 = 2;
const JOB: &str = "5e5e0000-0000-4000-8000-00000000de00";
/// How long the network may take to serve its traffic and settle the job.
const LIMIT: Duration = Duration::from_secs(150);

fn swk(n: u128) -> Amount {
    Amount::swk(n).expect("demo amounts are a few thousand SWK at most")
}

fn network_error(what: String) -> DevnetError {
    DevnetError::Network(what)
}

/// The demo's chain: two services, short epochs, every member funded and staked.
pub fn genesis(keys: &BTreeMap<String, SigningKey>) -> Genesis {
    let stake = swk(10);
    let accounts = keys
        .iter()
        .map(|(name, key)| {
            let (free, bonded) = match CLIENTS.iter().find(|(c, _)| c == name) {
                Some((_, s)) => (100, *s),
                None if name == "qc" => (100, 0),
                None => (50, 20),
            };
            GenesisAccount { id: account_of(key), name: Some(name.clone()), free: swk(free), bonded: swk(bonded) }
        })
        .collect();
    let service = |name: &str| GenesisService {
        name: name.into(),
        weight: 1,
        price: Amount(100_000_000),
        poi_threshold: protocol::POI_THRESHOLD_DEFAULT,
    };
    Genesis {
        validators: Vec::new(),
        services: vec![service("text-generation"), service("chat")],
        params: Params {
            chain_id: "stakework-demo".into(),
            epoch_length: 60,
            min_fee: Amount(1_000_000),
            miner_stake_min: stake,
            oracle_stake_min: stake,
            router_stake_min: stake,
            data_owner_stake_min: stake,
            mpc_stake_min: stake,
            coordinator_stake_min: stake,
            heartbeat_timeout: 40,
            // Clients rate after checking every answer of their burst: keep completed requests rateable.
            rating_window: 2_000,
            request_timeout: 300,
            selection_cooldown: 0,
            job_heartbeat_timeout: 60,
            router_reward_per_mb: swk(1_000),
            emission_share_background: Ppb::ZERO,
            ..Params::default()
        },
        accounts,
    }
}

/// Everyone's derived key, written to `keys_dir` as key files for the agents.
fn make_keys(keys_dir: &Path) -> Result<BTreeMap<String, SigningKey>> {
    let mut names: Vec<String> = MINERS.iter().map(|s| s.to_string()).collect();
    names.extend(["o1", "o2", "r1", "gds", "qc", "d1", "d2", "p1"].map(String::from));
    names.extend(CLIENTS.iter().map(|(c, _)| c.to_string()));
    let keys: BTreeMap<String, SigningKey> =
        names.iter().map(|n| (n.clone(), derived_key(&format!("demo-net/{n}")))).collect();
    for (n, k) in &keys {
        write_key(keys_dir, n, k)?;
    }
    Ok(keys)
}

/// Run the whole demo network with the `stakework` binary at `exe` and blocks of `block_ms`; the report.
pub fn run(exe: &Path, block_ms: u64) -> Result<NetReport> {
    let dir = tempfile::tempdir().map_err(DevnetError::io("creating a temporary directory"))?;
    let keys = make_keys(&dir.path().join("keys"))?;
    let names = report::Names(keys.iter().map(|(n, k)| (account_of(k), n.clone())).collect());
    let genesis = genesis(&keys);
    let genesis_path = dir.path().join("genesis.toml");
    std::fs::write(&genesis_path, genesis.to_toml()).map_err(DevnetError::io("writing the genesis file"))?;
    let (bms, data) = (block_ms.to_string(), dir.path().join("data"));
    let node =
        Node::start(exe, "127.0.0.1:0", &data, Some(&genesis_path), &["--block-ms", &bms, "--snapshot-every", "50"])?;
    let sup = Supervisor::new(exe, &dir.path().join("logs"), &node.url, &dir.path().join("keys"))?;
    eprintln!("demo: node at {}; agent logs in {}", node.url, sup.logs.display());
    let api = Client::new(&node.url);
    register_members(&api, &keys)?;
    let t0 = Instant::now();
    let (mut procs, relay) = start_network(&api, &sup, t0)?;
    let coordinator = start_job(&sup, &mut procs)?;
    let since = api.height()?;
    let mut clients = start_clients(&sup, &relay, since)?;
    let block = place_bursts(&api, &genesis.params, &keys)?;
    eprintln!("demo: the three clients' bursts ({} requests) are in block {block}", 3 * BURST);
    drive(&api, &keys, &sup, &mut clients, t0)?;
    let agents = procs.len() + clients.len() + 1;
    let stopped = stop_all(procs);
    for s in stopped.iter().filter(|s| !s.clean()) {
        eprintln!("demo: {} did not stop cleanly: {}", s.name, s.log.lines().last().unwrap_or_default());
    }
    let outputs = client_outputs(clients)?;
    let _ = coordinator.output(Duration::from_secs(15));
    let clean = stopped.iter().all(|s| s.clean());
    let report = gather(&api, &names, &outputs, clean, agents)?;
    let head = api.health()?;
    node.stop()?;
    let replayed = replay(exe, &data, head.height.0)?;
    Ok(NetReport { replay_matches_head: replayed.root_at == Some(head.state_root), ..report })
}

/// Register the oracles, the router and the training job's members (the miners register themselves).
fn register_members(api: &Client, keys: &BTreeMap<String, SigningKey>) -> Result<()> {
    let members = [
        ("o1", Role::Oracle),
        ("o2", Role::Oracle),
        ("r1", Role::Router),
        ("gds", Role::Coordinator),
        ("d1", Role::DataOwner),
        ("d2", Role::DataOwner),
        ("p1", Role::Mpc),
    ];
    for (n, role) in members {
        let call = Call::RegisterNode {
            roles: vec![role],
            services: vec![],
            capacity: 1,
            endpoint: "http://127.0.0.1:1".into(),
        };
        let o = Signer::connect(api, keys[n].clone())?.submit(api, call, Duration::from_secs(30))?;
        if !o.ok() {
            return Err(network_error(format!("registering {n}: {o:?}")));
        }
    }
    Ok(())
}

/// Start the router, the miners and the oracles and wait until all of them are registered; returns the
/// processes and the router's relay address.
fn start_network(api: &Client, sup: &Supervisor, t0: Instant) -> Result<(Vec<Process>, String)> {
    let (router, relay) =
        sup.spawn_with_url("router-r1", &["router", "run", "--from", "r1", "--listen", "127.0.0.1:0"])?;
    let mut procs = vec![router];
    for m in MINERS {
        let capacity = if m == BUSY_MINER { "1" } else { "2" };
        let mut args = vec!["miner", "--from", m, "--router", "r1", "--capacity", capacity, "--poll-ms", "50"];
        match m {
            BUSY_MINER => args.extend(["--service", "2"]),
            DISHONEST_MINER => args.push("--lazy"),
            "m6-slow" => args.extend(["--delay-ms", "400"]),
            _ => {}
        }
        procs.push(sup.spawn(m, &args, false)?);
    }
    for o in ["o1", "o2"] {
        procs.push(sup.spawn(o, &["oracle", "--from", o, "--poll-ms", "50"], false)?);
    }
    while api.nodes().map(|v| v.nodes.len()).unwrap_or(0) < 7 + MINERS.len() {
        if t0.elapsed() > LIMIT {
            return Err(network_error(format!("the miners did not register (see {})", sup.logs.display())));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    eprintln!("demo: {} miners, 2 oracles and a router are up", MINERS.len());
    Ok((procs, relay))
}

/// Start the training job's coordinator (returned) and its trainers (added to `procs`).
fn start_job(sup: &Supervisor, procs: &mut Vec<Process>) -> Result<Process> {
    let args = [
        "--json",
        "coordinator",
        "--from",
        "gds",
        "--id",
        JOB,
        "--qc",
        "qc",
        "--do",
        "d1",
        "--do",
        "d2",
        "--mpc",
        "p1",
        "--price",
        "1 SWK",
        "--epochs",
        "3",
        "--quote",
        "3.3 SWK",
    ];
    let coordinator = sup.spawn("coordinator-gds", &args, true)?;
    for t in ["d1", "d2", "p1"] {
        let args = ["trainer", "--from", t, "--job", JOB, "--blocks-per-epoch", "3"];
        procs.push(sup.spawn(&format!("trainer-{t}"), &args, false)?);
    }
    Ok(coordinator)
}

/// Start the three clients, waiting for the bursts the demo places for them from height `since` on; each
/// orders its tasks afterwards.
fn start_clients(sup: &Supervisor, relay: &str, since: u64) -> Result<Vec<Process>> {
    let (since, burst) = (since.to_string(), BURST.to_string());
    CLIENTS
        .iter()
        .map(|(c, _)| {
            let args = [
                "--json",
                "client",
                "--from",
                c,
                "--router",
                relay,
                "--requests",
                &burst,
                "--burst",
                "--placed-since",
                &since,
                "--tasks",
                TASKS,
            ];
            sup.spawn(&format!("client-{c}"), &args, true)
        })
        .collect()
}

/// Sign every client's burst of `chat` requests and submit them as one batch (the client with the least
/// stake first), so they land in one block; the block's height.
fn place_bursts(api: &Client, params: &Params, keys: &BTreeMap<String, SigningKey>) -> Result<u64> {
    let mut txs = Vec::new();
    for (c, _) in CLIENTS {
        let signer = Signer::new(keys[c].clone(), &params.chain_id, params.min_fee);
        let nonce = api.account(&signer.account)?.nonce;
        let call = || Call::SubmitRequest { service: CHAT, max_price: swk(1), avoid: vec![] };
        txs.extend((nonce..nonce + u64::from(BURST)).map(|n| signer.sign(call(), n)));
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let results = api.submit_batch(&txs, true)?.results;
        if let Some(r) = results.iter().find(|r| r.status == api::SubmitStatus::Refused) {
            return Err(network_error(format!("a burst request was refused: {:?} {:?}", r.code, r.message)));
        }
        let receipts: Vec<&api::TxReceipt> = results.iter().filter_map(|r| r.receipt.as_ref()).collect();
        if receipts.len() == results.len() && receipts.iter().all(|r| r.height.is_some()) {
            if let Some(r) = receipts.iter().find(|r| r.code.as_deref() != Some("ok")) {
                return Err(network_error(format!("a burst request was rejected: {:?}", r.code)));
            }
            let first = receipts.first().and_then(|r| r.height).unwrap_or(0);
            if receipts.iter().any(|r| r.height != Some(first)) {
                return Err(network_error("the bursts did not land in one block".into()));
            }
            return Ok(first);
        }
        if Instant::now() > deadline {
            return Err(network_error("the bursts were not committed in time".into()));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Wait (with progress) until the clients are done and the job settled, staking the job for the QC once
/// the GDS has ordered it and selected its MPC node; then wait for the epoch to end so points, rewards and
/// the router's report are booked.
fn drive(
    api: &Client,
    keys: &BTreeMap<String, SigningKey>,
    sup: &Supervisor,
    clients: &mut [Process],
    t0: Instant,
) -> Result<()> {
    let job: JobId = JOB.parse().map_err(|_| network_error("the job id".into()))?;
    let (mut staked, mut last_progress) = (false, Instant::now());
    loop {
        if !staked {
            if let Ok(j) = api.job(&job) {
                if j.job.schema.is_some() && j.due != Amount::ZERO {
                    let call = Call::SubmitJobQuery { job, amount: j.due };
                    let o = Signer::connect(api, keys["qc"].clone())?.submit(api, call, Duration::from_secs(30));
                    staked = o.map(|o| o.ok()).unwrap_or(false);
                }
            }
        }
        let clients_done = clients.iter_mut().all(|c| c.exited().is_some());
        let job_done = api.job(&job).is_ok_and(|j| j.job.phase == JobPhase::Settled);
        if clients_done && job_done {
            break;
        }
        if last_progress.elapsed() > Duration::from_secs(2) {
            progress(api, &job, clients, t0);
            last_progress = Instant::now();
        }
        if t0.elapsed() > LIMIT {
            let logs = sup.logs.display();
            return Err(network_error(format!("the network did not finish in {} s (see {logs})", LIMIT.as_secs())));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let end = api.epoch()?.last_height;
    eprintln!("demo: traffic done; waiting for the epoch to end at height {end}");
    while api.height().unwrap_or(0) <= end + 1 {
        if t0.elapsed() > LIMIT + Duration::from_secs(30) {
            return Err(network_error("the epoch did not end".into()));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(())
}

fn progress(api: &Client, job: &JobId, clients: &mut [Process], t0: Instant) {
    let h = api.height().unwrap_or(0);
    let tasks = api.tasks().unwrap_or_default();
    let done = tasks.iter().filter(|t| matches!(t.state, TaskState::Ended | TaskState::Failed)).count();
    eprintln!(
        "demo: {:>3}s height {h}: clients {}/3 done, tasks {done}/{} finished, job {}",
        t0.elapsed().as_secs(),
        clients.iter_mut().filter_map(|c| c.exited()).count(),
        tasks.len(),
        api.job(job).map_or_else(|_| "not ordered".into(), |j| wire_name(&j.job.phase))
    );
}

/// Each client's `--json` summary, by client name; a client that printed none is an error, not zeros.
fn client_outputs(clients: Vec<Process>) -> Result<BTreeMap<String, ClientReport>> {
    let mut stats = BTreeMap::new();
    for c in clients {
        let name = c.name.trim_start_matches("client-").to_string();
        let (_, out) = c.output(Duration::from_secs(15))?;
        let report = serde_json::from_str::<ClientReport>(out.trim())
            .map_err(|e| DevnetError::Process(format!("client {name} printed no report ({e}): {:?}", out.trim())))?;
        stats.insert(name, report);
    }
    Ok(stats)
}

/// Every event from block 1 to the head, page by page.
pub fn all_events(api: &Client) -> Result<Vec<Event>> {
    let (mut out, mut since) = (Vec::new(), 1);
    loop {
        let page = api.events(since, api::EVENT_BLOCKS_MAX)?;
        out.extend(page.blocks.into_iter().flat_map(|b| b.events).map(|e| e.event));
        if page.next <= since || page.next > api.height()? {
            return Ok(out);
        }
        since = page.next;
    }
}

/// The report, from the chain's events and records and the clients' outputs (the replay check comes later).
fn gather(
    api: &Client,
    names: &report::Names,
    outputs: &BTreeMap<String, ClientReport>,
    clean: bool,
    agents: usize,
) -> Result<NetReport> {
    let events = all_events(api)?;
    let t = report::tally(&events, names, DISHONEST_MINER);
    // A miner's reputation as the node reports it; a failed query is an error, not a reputation of 0.
    let rep = |n: &str| -> Result<u32> {
        let a = names.id(n).ok_or_else(|| network_error(format!("no account named {n}")))?;
        Ok(api.reputation(&a)?.reputation.raw())
    };
    let nodes = MINERS
        .iter()
        .map(|m| {
            let (mr, pr, points) = t.rewards.get(*m).copied().unwrap_or_default();
            Ok(NodeRow {
                name: m.to_string(),
                points_net: points,
                miner_rewards: Amount(mr),
                points_rewards: Amount(pr),
                reputation_ppb: rep(m)?,
            })
        })
        .collect::<Result<Vec<NodeRow>>>()?;
    let id: JobId = JOB.parse().map_err(|_| network_error("the job id".into()))?;
    let job = api.job(&id)?;
    Ok(NetReport {
        chain_id: "stakework-demo".into(),
        processes: format!("1 node and {agents} agent processes"),
        clients: report::client_rows(&CLIENTS, outputs),
        queue: report::queue_finding(&events, names, BUSY_MINER, &CLIENTS),
        tasks: t.tasks,
        dishonest_miner: DishonestRow {
            name: DISHONEST_MINER.into(),
            caught_as_outlier: t.caught,
            passed: t.passed,
            reputation_ppb: rep(DISHONEST_MINER)?,
        },
        nodes,
        router: t.router,
        job: JobRow {
            phase: job.job.phase,
            outcome: job.job.outcome,
            escrow: job.escrow,
            movements: report::job_movements(&events, &id, names),
        },
        supply: api.supply()?,
        agents_stopped_cleanly: clean,
        head_height: api.height()?,
        replay_matches_head: false,
    })
}
