//! The demo network: four validators (fresh temporary data directories, [`crate::cluster`]), six miners for tasks (one dishonest, one
//! slow), a seventh, busy miner that alone serves the `chat` service with capacity 1, two oracles, a router,
//! three clients with different stakes and a small training job (a coordinator, two data owners, an MPC
//! node). Every agent is a child process of the `stakework` binary talking to the validators over HTTP:
//! each is given all four (`--node URL,…`), the list rotated so that agent k calls validator k mod 4 first
//! and fails over to the next.
//!
//! The clients' bursts meet in the busy miner's queue: the demo signs all three (12 requests each, for the
//! `chat` service) and submits them as one batch, so they land in one block and are queued together; the
//! clients, started with `--placed-since`, find their requests, relay the prompts through the router,
//! check the answers and rate them. The demo places the job's StakeIn, waits (with progress), stops everyone
//! with SIGTERM, gathers what the chain says happened ([`crate::report`]) and replays the block log.
//!
//! In the middle of the traffic one validator is killed (SIGKILL) and later restarted from its data
//! directory ([`crate::crash`]); the others must finalize meanwhile, it must catch up, and at the end all
//! four must serve, and replay from their data directories, the same root at a common height.

use crate::cluster::Cluster;
use crate::crash::{self, Schedule};
use crate::keys::{account_of, derived_key, write_key};
use crate::process::{replay, stop_all, Process, Supervisor};
use crate::report::{
    self, ClientReport, CrashRow, DishonestRow, JobRow, NetReport, NodeRow, ValidatorFinal, ValidatorsReport,
};
use crate::{wire_name, DevnetError, Result};
use client::{Client, Signer};
use ed25519_dalek::SigningKey;
use protocol::{Call, Event, Genesis, GenesisAccount, GenesisService, JobPhase, Params, Role, TaskState};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
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
/// The validators; the demo's own calls go to the first one first.
pub const VALIDATORS: usize = 4;
/// The validator killed in the middle of the traffic: not the one the demo calls first.
pub const VICTIM: usize = 1;
/// How long the restarted validator may take to reach the others' height.
const CATCH_UP_BOUND: Duration = Duration::from_secs(30);

/// The crash: 10 blocks after the bursts' block (the busy miner is serving them, the clients relaying
/// and rating), for at least 3 s and 10 blocks of the others.
fn schedule() -> Schedule {
    Schedule {
        victim: VICTIM,
        after_blocks: 10,
        down_for: Duration::from_secs(3),
        down_blocks_min: 10,
        down_max: Duration::from_secs(30),
        catch_up_bound: CATCH_UP_BOUND,
    }
}

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
        semantic_poi: false,
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

/// Starts the agents on the validators in turn: agent k (from 1; the demo itself is 0) calls validator
/// k mod n first and fails over to the ones after it, so the load spreads and some agents start on the
/// validator that will be killed.
struct Agents {
    sup: Supervisor,
    n: usize,
    /// Each agent started and the validator it calls first.
    first: Vec<(String, usize)>,
}

impl Agents {
    fn spawn(&mut self, name: &str, args: &[&str], stdout: bool) -> Result<Process> {
        let k = self.first.len() + 1;
        self.first.push((name.to_string(), k % self.n));
        self.sup.rotated(k).spawn(name, args, stdout)
    }

    fn spawn_with_url(&mut self, name: &str, args: &[&str]) -> Result<(Process, String)> {
        let mut p = self.spawn(name, args, true)?;
        let url = p.read_url()?;
        Ok((p, url))
    }

    /// The agents that call validator `i` first.
    fn on(&self, i: usize) -> Vec<String> {
        self.first.iter().filter(|(_, v)| *v == i).map(|(name, _)| name.clone()).collect()
    }
}

/// Run the whole demo network with the `stakework` binary at `exe` and blocks of `block_ms`; the report.
pub fn run(exe: &Path, block_ms: u64) -> Result<NetReport> {
    run_keeping(exe, block_ms, false).map(|(report, _)| report)
}

/// The demo network left running after the demo (`stakework demo --keep`): its validators, restarted
/// from their data directories once the demo's checks replayed them, and the temporary directory that
/// holds them (removed when this is dropped).
#[derive(Debug)]
pub struct Kept {
    pub cluster: Cluster,
    dir: tempfile::TempDir,
}

impl Kept {
    /// The first validator's base URL (`http://127.0.0.1:PORT`).
    pub fn url(&self) -> &str {
        self.cluster.validators.first().map(|v| v.url.as_str()).unwrap_or_default()
    }

    /// Where the validators' data directories and the agents' logs are.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Stop every validator with SIGTERM, then remove the directory.
    pub fn stop(mut self) -> Result<()> {
        self.cluster.stop_all()
    }
}

/// [`run`]; with `keep`, the validators are started again after the demo's checks and handed back.
pub fn run_keeping(exe: &Path, block_ms: u64, keep: bool) -> Result<(NetReport, Option<Kept>)> {
    let dir = tempfile::tempdir().map_err(DevnetError::io("creating a temporary directory"))?;
    let keys_dir = dir.path().join("keys");
    let keys = make_keys(&keys_dir)?;
    let names = report::Names(keys.iter().map(|(n, k)| (account_of(k), n.clone())).collect());
    let genesis = Cluster::genesis(&genesis(&keys), VALIDATORS, "demo-net", &keys_dir)?;
    let bms = block_ms.to_string();
    let mut cluster =
        Cluster::start(exe, dir.path(), &genesis, &keys_dir, &["--block-ms", &bms, "--snapshot-every", "50"])?;
    let nodes = cluster.url_list();
    let sup = Supervisor::new(exe, &dir.path().join("logs"), &nodes, &keys_dir)?;
    eprintln!("demo: {VALIDATORS} validators at {nodes}; agent logs in {}", sup.logs.display());
    let mut agents = Agents { sup, n: VALIDATORS, first: Vec::new() };
    let api = Client::from_list(&nodes);
    // The first block needs the validators to have found each other: wait for it before any transaction.
    cluster.wait_height(1, Duration::from_secs(60))?;
    register_members(&api, &keys)?;
    let t0 = Instant::now();
    let (mut procs, relay) = start_network(&api, &mut agents, t0)?;
    let coordinator = start_job(&mut agents, &mut procs)?;
    let since = api.height()?;
    let mut clients = start_clients(&mut agents, &relay, since)?;
    let block = place_bursts(&api, &genesis.params, &keys)?;
    eprintln!("demo: the three clients' bursts ({} requests) are in block {block}", 3 * BURST);
    let abort = AtomicBool::new(false);
    let (driven, crashed) = std::thread::scope(|s| {
        let crash = s.spawn(|| crash::run(&mut cluster, &schedule(), block, &abort));
        let driven = drive(&api, &keys, &agents.sup, &mut clients, t0);
        abort.store(driven.is_err(), Ordering::Relaxed);
        (driven, crash.join())
    });
    driven?;
    let crash = crashed.map_err(|_| DevnetError::Process("the crash of a validator panicked".into()))??;
    let crash = CrashRow { agents_failed_over: agents.on(VICTIM), ..crash };
    let count = procs.len() + clients.len() + 1;
    let stopped = stop_all(procs);
    for s in stopped.iter().filter(|s| !s.clean()) {
        eprintln!("demo: {} did not stop cleanly: {}", s.name, s.log.lines().last().unwrap_or_default());
    }
    let outputs = client_outputs(clients)?;
    let _ = coordinator.output(Duration::from_secs(15));
    let clean = stopped.iter().all(|s| s.clean());
    let report = gather(&api, &names, &outputs, clean, count)?;
    let validators = finish_validators(exe, &mut cluster, crash)?;
    let root = validators.finals.first().map(|v| v.root_served);
    let replayed = root.is_some() && validators.finals.iter().all(|v| v.replayed_root == root);
    let report =
        NetReport { head_height: validators.common_height, replay_matches_head: replayed, validators, ..report };
    if !keep {
        return Ok((report, None));
    }
    cluster.restart_all()?;
    cluster.wait_height(report.head_height + 1, Duration::from_secs(60))?;
    Ok((report, Some(Kept { cluster, dir })))
}

/// Read every validator's root at their common height (the lowest head), stop them all (SIGTERM), and
/// replay each one's data directory from genesis to that height.
fn finish_validators(exe: &Path, cluster: &mut Cluster, crash: CrashRow) -> Result<ValidatorsReport> {
    let heights = cluster.heights();
    let common = heights.iter().map(|(_, h)| *h).min().flatten();
    let common = common.ok_or_else(|| network_error(format!("a validator did not answer: {heights:?}")))?;
    let mut served = Vec::new();
    for v in &cluster.validators {
        let root = Client::new(&v.url).block(&common.to_string())?.state_root;
        served.push((v.name.clone(), v.data.clone(), root));
    }
    let count = cluster.validators.len();
    let stopped_cleanly = match cluster.stop_all() {
        Ok(()) => true,
        Err(e) => {
            eprintln!("demo: a validator did not stop cleanly: {e}");
            false
        }
    };
    let finals = served
        .into_iter()
        .map(|(name, data, root_served)| {
            let r = replay(exe, &data, common)?;
            Ok(ValidatorFinal { name, root_served, replayed_height: r.height, replayed_root: r.root_at })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(ValidatorsReport { count, crash, common_height: common, finals, stopped_cleanly })
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
    // The router's operator accepts the demo's miners (its "initial checks"), so that their `--router r1`
    // attachment is allowed.
    let router = Signer::connect(api, keys["r1"].clone())?;
    for m in MINERS {
        let node = account_of(&keys[m]);
        let o = router.submit(api, Call::AcceptNode { node }, Duration::from_secs(30))?;
        if !o.ok() {
            return Err(network_error(format!("r1 accepting {m}: {o:?}")));
        }
    }
    Ok(())
}

/// Start the router, the miners and the oracles and wait until all of them are registered; returns the
/// processes and the router's relay address.
fn start_network(api: &Client, sup: &mut Agents, t0: Instant) -> Result<(Vec<Process>, String)> {
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
            return Err(network_error(format!("the miners did not register (see {})", sup.sup.logs.display())));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    eprintln!("demo: {} miners, 2 oracles and a router are up", MINERS.len());
    Ok((procs, relay))
}

/// Start the training job's coordinator (returned) and its trainers (added to `procs`).
fn start_job(sup: &mut Agents, procs: &mut Vec<Process>) -> Result<Process> {
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
fn start_clients(sup: &mut Agents, relay: &str, since: u64) -> Result<Vec<Process>> {
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
    for mut c in clients {
        let name = c.name.trim_start_matches("client-").to_string();
        c.wait(Duration::from_secs(15));
        let log = c.log();
        let (_, out) = c.output(Duration::from_secs(15))?;
        let report = serde_json::from_str::<ClientReport>(out.trim()).map_err(|e| {
            let tail: Vec<&str> = log.lines().rev().take(15).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            DevnetError::Process(format!(
                "client {name} printed no report ({e}): {:?}; the end of its log:\n{}",
                out.trim(),
                tail.join("\n")
            ))
        })?;
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
        processes: format!("{VALIDATORS} validators and {agents} agent processes"),
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
        // Filled in once the validators are stopped; the default fails every validator check.
        validators: ValidatorsReport::default(),
    })
}
