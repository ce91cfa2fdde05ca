//! `stakework demo`: a whole network of real processes on loopback. One node (embedded store, fresh
//! temporary data directory), six miners (one dishonest, one slow), two oracles, a router, three clients
//! with different stakes and a small training job (a coordinator, two data owners, an MPC node). Every
//! agent is a child process of this binary talking to the node over HTTP; the demo only starts them,
//! places the job's StakeIn, waits (with progress), stops everyone with SIGTERM and reports what the
//! chain says happened, then replays the block log from genesis.

use crate::demo::wire_name;
use crate::keys::{account_of, derived_key, write_key};
use crate::local_node::LocalNode;
use anyhow::{bail, Context};
use api::SupplyView;
use client::{Client, Signer};
use ed25519_dalek::SigningKey;
use engine::{Call, Genesis, GenesisAccount, GenesisService, Params, Role};
use protocol::{Event, JobOutcome, JobPhase, TaskState};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use types::{AccountId, Amount, JobId, Ppb};

const MINERS: [&str; 6] = ["m1", "m2", "m3", "m4", "m5-lazy", "m6-slow"];
const CLIENTS: [(&str, u128); 3] = [("c1", 10), ("c2", 30), ("c3", 60)];
const JOB: &str = "5e5e0000-0000-4000-8000-00000000de00";

fn swk(n: u128) -> Amount {
    Amount::swk(n).expect("demo amounts are small")
}

#[derive(Debug, Serialize)]
pub struct NetReport {
    chain_id: String,
    processes: Vec<String>,
    clients: Vec<ClientRow>,
    tasks: TaskSummary,
    dishonest_miner: DishonestRow,
    nodes: Vec<NodeRow>,
    router: Option<RouterRow>,
    job: JobRow,
    supply: SupplyView,
    agents_stopped_cleanly: bool,
    head_height: u64,
    replay_matches_head: bool,
}

#[derive(Debug, Serialize)]
struct ClientRow {
    name: String,
    stake_share_pct: f64,
    requests: u64,
    served_share_pct: f64,
    mean_wait_blocks: f64,
    /// Mean position of this client's requests in the order each miner served its queue (0 = first,
    /// 1 = last), over miners that served more than one request: the stake-weighted queue at work.
    mean_queue_position: f64,
    rated_good: u64,
    rated_bad: u64,
}

#[derive(Debug, Serialize, Default)]
struct TaskSummary {
    ended: u64,
    failed: u64,
    failure_reasons: BTreeMap<String, u64>,
}

#[derive(Debug, Serialize)]
struct DishonestRow {
    name: String,
    caught_as_outlier: u64,
    passed: u64,
    reputation_ppb: u32,
}

#[derive(Debug, Serialize)]
struct NodeRow {
    name: String,
    points_net: String,
    miner_rewards: Amount,
    points_rewards: Amount,
    reputation_ppb: u32,
}

/// The router's reward in the epoch it carried the most validated bytes, with its pay over the whole run.
#[derive(Debug, Serialize)]
struct RouterRow {
    router: String,
    epoch: u64,
    #[serde(with = "protocol::points::u128_text")]
    bandwidth: u128,
    latency_factor: Ppb,
    reputation: Ppb,
    /// What the formula owed it in that epoch.
    owed: Amount,
    /// What it was paid over the run.
    amount: Amount,
}

#[derive(Debug, Serialize)]
struct JobRow {
    phase: JobPhase,
    outcome: Option<JobOutcome>,
    escrow: Amount,
    /// The job's payouts and refunds, one line per event.
    movements: Vec<String>,
}

/// What a client agent prints with `--json` once its burst is done (its own figures, not the node's).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
struct ClientOutput {
    requests: u64,
    rated_good: u64,
    rated_bad: u64,
    mean_wait_blocks: f64,
}

/// A child agent; killed if dropped while running.
struct Proc {
    name: String,
    child: Child,
}

impl Drop for Proc {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Starts agents: this binary with the node's URL and the keys directory, its log in `logs`.
struct Launcher {
    logs: PathBuf,
    url: String,
    keys: PathBuf,
}

impl Launcher {
    fn spawn(&self, name: &str, args: &[&str], stdout: bool) -> anyhow::Result<Proc> {
        let exe = std::env::current_exe().context("finding the stakework binary")?;
        let log = std::fs::File::create(self.logs.join(format!("{name}.log"))).context("agent log file")?;
        let child = Command::new(exe)
            .arg("--node")
            .arg(&self.url)
            .arg("--keys-dir")
            .arg(&self.keys)
            .args(args)
            .stdout(if stdout { Stdio::piped() } else { Stdio::null() })
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {name}"))?;
        Ok(Proc { name: name.to_string(), child })
    }
}

fn sigterm(p: &mut Proc) -> bool {
    crate::local_node::sigterm(&p.child);
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        if let Ok(Some(status)) = p.child.try_wait() {
            return status.success();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

fn genesis(keys: &BTreeMap<String, ed25519_dalek::SigningKey>) -> Genesis {
    let stake = swk(10);
    let mut accounts = Vec::new();
    for (name, key) in keys {
        let (free, bonded) = match name.as_str() {
            "c1" | "c2" | "c3" => (100, CLIENTS.iter().find(|(n, _)| n == name).map_or(0, |(_, s)| *s)),
            "qc" => (100, 0),
            _ => (50, 20),
        };
        accounts.push(GenesisAccount {
            id: account_of(key),
            name: Some(name.clone()),
            free: swk(free),
            bonded: swk(bonded),
        });
    }
    Genesis {
        services: vec![GenesisService {
            name: "text-generation".into(),
            weight: 1,
            price: Amount(100_000_000),
            poi_threshold: engine::POI_THRESHOLD_DEFAULT,
        }],
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

pub fn run(block_ms: u64, json: bool) -> anyhow::Result<()> {
    let dir = tempfile::tempdir().context("temporary directory")?;
    let (keys_dir, logs) = (dir.path().join("keys"), dir.path().join("logs"));
    std::fs::create_dir_all(&logs)?;
    let mut names: Vec<String> = MINERS.iter().map(|s| s.to_string()).collect();
    names.extend(["o1", "o2", "r1", "gds", "qc", "d1", "d2", "p1"].map(String::from));
    names.extend(CLIENTS.iter().map(|(c, _)| c.to_string()));
    let keys: BTreeMap<String, _> = names.iter().map(|n| (n.clone(), derived_key(&format!("demo-net/{n}")))).collect();
    for (n, k) in &keys {
        write_key(&keys_dir, n, k)?;
    }
    let who: BTreeMap<AccountId, String> = keys.iter().map(|(n, k)| (account_of(k), n.clone())).collect();
    let genesis = genesis(&keys);
    let genesis_path = dir.path().join("genesis.toml");
    std::fs::write(&genesis_path, genesis.to_toml())?;
    let bms = block_ms.to_string();
    let mut node =
        LocalNode::start(&dir.path().join("data"), &genesis_path, &["--block-ms", &bms, "--snapshot-every", "50"])?;
    let url = node.url.clone();
    eprintln!("demo: node at {url}; agent logs in {}", logs.display());
    let api = Client::new(&url);
    register_members(&api, &keys)?;
    let launcher = Launcher { logs, url, keys: keys_dir };
    let t0 = Instant::now();
    let (mut procs, relay) = start_network(&api, &launcher, t0)?;
    let coordinator = start_job(&launcher, &mut procs)?;
    let mut clients = start_clients(&api, &launcher, &relay)?;
    drive(&api, &keys, &launcher, &mut clients, t0)?;
    let clean = stop_all(&mut procs);
    let client_stats = client_outputs(clients)?;
    let mut coordinator = coordinator;
    let _ = coordinator.child.wait();
    let report = gather(&api, &who, &client_stats, clean, procs.len() + 4)?;
    let head_root = api.health()?.state_root;
    node.stop()?;
    let replay_matches_head = crate::demo::replay_matches(dir.path(), report.head_height, &head_root)?;
    let report = NetReport { replay_matches_head, ..report };
    if json {
        outln!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_report(&report);
    }
    if !report.supply.conserved || !report.replay_matches_head || !report.agents_stopped_cleanly {
        bail!("the demo failed its own checks");
    }
    Ok(())
}

/// Register the oracles, the router and the training job's members (the miners register themselves).
fn register_members(api: &Client, keys: &BTreeMap<String, SigningKey>) -> anyhow::Result<()> {
    let register = |n: &str, role: Role| -> anyhow::Result<()> {
        let call = Call::RegisterNode {
            roles: vec![role],
            services: vec![],
            capacity: 1,
            endpoint: "http://127.0.0.1:1".into(),
        };
        let o = Signer::connect(api, keys[n].clone())?.submit(api, call, Duration::from_secs(30))?;
        if !o.ok() {
            bail!("registering {n}: {o:?}");
        }
        Ok(())
    };
    for (n, role) in [("o1", Role::Oracle), ("o2", Role::Oracle), ("r1", Role::Router), ("gds", Role::Coordinator)] {
        register(n, role)?;
    }
    for (n, role) in [("d1", Role::DataOwner), ("d2", Role::DataOwner), ("p1", Role::Mpc)] {
        register(n, role)?;
    }
    Ok(())
}

/// Start the router, the miners and the oracles and wait until all of them are registered; returns the
/// processes and the router's relay address.
fn start_network(api: &Client, launcher: &Launcher, t0: Instant) -> anyhow::Result<(Vec<Proc>, String)> {
    let mut procs: Vec<Proc> = Vec::new();
    let mut router =
        launcher.spawn("router-r1", &["router", "run", "--from", "r1", "--listen", "127.0.0.1:0"], true)?;
    let mut line = String::new();
    BufReader::new(router.child.stdout.take().context("router stdout")?).read_line(&mut line)?;
    let relay =
        line.split_whitespace().find(|w| w.starts_with("http://")).context("the router did not start")?.to_string();
    procs.push(router);
    for m in MINERS {
        let mut args = vec!["miner", "--from", m, "--router", "r1", "--capacity", "2", "--poll-ms", "50"];
        if m.ends_with("lazy") {
            args.push("--lazy");
        }
        if m.ends_with("slow") {
            args.extend(["--delay-ms", "400"]);
        }
        procs.push(launcher.spawn(m, &args, false)?);
    }
    for o in ["o1", "o2"] {
        procs.push(launcher.spawn(o, &["oracle", "--from", o, "--poll-ms", "50"], false)?);
    }
    while api.nodes().map(|v| v.nodes.len()).unwrap_or(0) < 13 {
        if t0.elapsed() > LIMIT {
            bail!("the miners did not register (see {})", launcher.logs.display());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    eprintln!("demo: 6 miners, 2 oracles and a router are up");
    Ok((procs, relay))
}

/// How long the network may take to serve its traffic and settle the job.
const LIMIT: Duration = Duration::from_secs(150);

/// Start the training job's coordinator (returned) and its trainers (added to `procs`).
fn start_job(launcher: &Launcher, procs: &mut Vec<Proc>) -> anyhow::Result<Proc> {
    let coordinator = launcher.spawn(
        "coordinator-gds",
        &[
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
        ],
        true,
    )?;
    for t in ["d1", "d2", "p1"] {
        let args = ["trainer", "--from", t, "--job", JOB, "--blocks-per-epoch", "3"];
        procs.push(launcher.spawn(&format!("trainer-{t}"), &args, false)?);
    }
    Ok(coordinator)
}

/// Start the three clients; their bursts land in the same block, so their requests meet in the miners'
/// queues.
fn start_clients(api: &Client, launcher: &Launcher, relay: &str) -> anyhow::Result<Vec<Proc>> {
    let at = (api.height()? + 10).to_string();
    let mut clients = Vec::new();
    for (c, _) in CLIENTS {
        let args = [
            "--json",
            "client",
            "--from",
            c,
            "--router",
            relay,
            "--requests",
            "12",
            "--burst",
            "--at-height",
            &at,
            "--tasks",
            "1",
        ];
        clients.push(launcher.spawn(&format!("client-{c}"), &args, true)?);
    }
    Ok(clients)
}

/// Wait (with progress) until the clients are done and the job settled, staking the job for the QC once
/// the GDS has ordered it and selected its MPC node; then wait for the epoch to end so points, rewards and
/// the router's report are booked.
fn drive(
    api: &Client,
    keys: &BTreeMap<String, SigningKey>,
    launcher: &Launcher,
    clients: &mut [Proc],
    t0: Instant,
) -> anyhow::Result<()> {
    let job: JobId = JOB.parse()?;
    let mut staked = false;
    let mut last_progress = Instant::now();
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
        let clients_done = clients.iter_mut().all(|c| matches!(c.child.try_wait(), Ok(Some(_))));
        let job_done = api.job(&job).is_ok_and(|j| j.job.phase == JobPhase::Settled);
        if clients_done && job_done {
            break;
        }
        if last_progress.elapsed() > Duration::from_secs(2) {
            progress(api, &job, clients, t0);
            last_progress = Instant::now();
        }
        if t0.elapsed() > LIMIT {
            bail!("the network did not finish in {} s (see {})", LIMIT.as_secs(), launcher.logs.display());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let end = api.epoch()?.last_height;
    eprintln!("demo: traffic done; waiting for the epoch to end at height {end}");
    while api.height().unwrap_or(0) <= end + 1 {
        if t0.elapsed() > LIMIT + Duration::from_secs(30) {
            bail!("the epoch did not end");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(())
}

fn progress(api: &Client, job: &JobId, clients: &mut [Proc], t0: Instant) {
    let h = api.height().unwrap_or(0);
    let tasks = api.tasks().unwrap_or_default();
    let done = tasks.iter().filter(|t| matches!(t.state, TaskState::Ended | TaskState::Failed)).count();
    eprintln!(
        "demo: {:>3}s height {h}: clients {}/3 done, tasks {done}/{} finished, job {}",
        t0.elapsed().as_secs(),
        clients.iter_mut().map(|c| matches!(c.child.try_wait(), Ok(Some(_)))).filter(|done| *done).count(),
        tasks.len(),
        api.job(job).map_or_else(|_| "not ordered".into(), |j| wire_name(&j.job.phase))
    );
}

/// Stop every agent with SIGTERM; whether all of them exited cleanly.
fn stop_all(procs: &mut [Proc]) -> bool {
    let mut clean = true;
    for p in procs.iter_mut() {
        let ok = sigterm(p);
        if !ok {
            eprintln!("demo: {} did not stop cleanly", p.name);
        }
        clean &= ok;
    }
    clean
}

/// Each client's `--json` summary, by client name (zeros for a client that printed none).
fn client_outputs(clients: Vec<Proc>) -> anyhow::Result<BTreeMap<String, ClientOutput>> {
    let mut stats = BTreeMap::new();
    for mut c in clients {
        let mut out = String::new();
        if let Some(mut o) = c.child.stdout.take() {
            std::io::Read::read_to_string(&mut o, &mut out)?;
        }
        stats.insert(
            c.name.trim_start_matches("client-").to_string(),
            serde_json::from_str::<ClientOutput>(out.trim()).unwrap_or_default(),
        );
    }
    Ok(stats)
}

/// Every event from block 1 to the head, page by page.
fn all_events(api: &Client) -> anyhow::Result<Vec<Event>> {
    let mut out = Vec::new();
    let mut since = 1;
    loop {
        let page = api.events(since, api::EVENT_BLOCKS_MAX)?;
        for b in page.blocks {
            out.extend(b.events.into_iter().map(|e| e.event));
        }
        if page.next <= since || page.next > api.height()? {
            return Ok(out);
        }
        since = page.next;
    }
}

/// What the events say about tasks, the dishonest miner, rewards and the router.
#[derive(Default)]
struct Tally {
    tasks: TaskSummary,
    /// Times the lazy miner failed and passed Proof of Inference.
    caught: u64,
    passed: u64,
    /// Miner rewards and points rewards per node name, in base units.
    rewards: BTreeMap<String, (u128, u128)>,
    router: Option<RouterRow>,
}

fn tally(events: &[Event], name: &dyn Fn(&AccountId) -> String) -> Tally {
    let mut t = Tally::default();
    let lazy = |list: &[AccountId]| list.iter().filter(|a| name(a) == "m5-lazy").count() as u64;
    for e in events {
        match e {
            Event::TaskEnded { passed, failed, .. } => {
                t.tasks.ended += 1;
                t.caught += lazy(failed);
                t.passed += lazy(passed);
            }
            Event::TaskFailed { reason, .. } => {
                t.tasks.failed += 1;
                *t.tasks.failure_reasons.entry(reason.clone()).or_default() += 1;
            }
            Event::MinerRewarded { miner, amount, .. } => t.rewards.entry(name(miner)).or_default().0 += amount.0,
            Event::PointsRewarded { node, amount, .. } => t.rewards.entry(name(node)).or_default().1 += amount.0,
            // Keep the epoch in which the router carried the traffic (the most validated bytes), paid in
            // total over the run.
            Event::RouterRewarded { epoch, router, bandwidth, latency_factor, reputation, owed, amount } => {
                let total = t.router.as_ref().map_or(0, |r| r.amount.0) + amount.0;
                if t.router.as_ref().is_none_or(|r| *bandwidth > r.bandwidth) {
                    t.router = Some(RouterRow {
                        router: name(router),
                        epoch: *epoch,
                        bandwidth: *bandwidth,
                        latency_factor: *latency_factor,
                        reputation: *reputation,
                        owed: *owed,
                        amount: *amount,
                    });
                }
                if let Some(r) = t.router.as_mut() {
                    r.amount = Amount(total);
                }
            }
            _ => {}
        }
    }
    t
}

/// Each client's share of stake and of the served requests, its waits, ratings and mean queue position.
fn client_rows(
    client_stats: &BTreeMap<String, ClientOutput>,
    events: &[Event],
    name: &dyn Fn(&AccountId) -> String,
) -> Vec<ClientRow> {
    let total_stake: u128 = CLIENTS.iter().map(|(_, s)| s).sum();
    let total_served: u64 = client_stats.values().map(|s| s.requests).sum();
    let positions = queue_positions(events, name);
    CLIENTS
        .iter()
        .map(|(c, stake)| {
            let s = client_stats.get(*c).cloned().unwrap_or_default();
            ClientRow {
                name: c.to_string(),
                stake_share_pct: 100.0 * *stake as f64 / total_stake as f64,
                requests: s.requests,
                served_share_pct: if total_served == 0 { 0.0 } else { 100.0 * s.requests as f64 / total_served as f64 },
                mean_wait_blocks: s.mean_wait_blocks,
                mean_queue_position: positions.get(*c).map_or(0.0, |v| v.iter().sum::<f64>() / v.len().max(1) as f64),
                rated_good: s.rated_good,
                rated_bad: s.rated_bad,
            }
        })
        .collect()
}

/// Per client, the places of its requests in each busy miner's serving order (completions in (height,
/// event) order; 0 first, 1 last), over miners that served more than one request.
fn queue_positions(events: &[Event], name: &dyn Fn(&AccountId) -> String) -> BTreeMap<String, Vec<f64>> {
    let mut client_of: BTreeMap<u64, String> = BTreeMap::new();
    let mut order: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for e in events {
        match e {
            Event::RequestSubmitted { request, client, .. } => {
                client_of.insert(*request, name(client));
            }
            Event::RequestCompleted { request, miner, .. } => order.entry(name(miner)).or_default().push(*request),
            _ => {}
        }
    }
    let mut positions: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for served in order.values().filter(|v| v.len() > 1) {
        for (i, id) in served.iter().enumerate() {
            let c = client_of.get(id).cloned().unwrap_or_default();
            positions.entry(c).or_default().push(i as f64 / (served.len() - 1) as f64);
        }
    }
    positions
}

/// The training job's phase, outcome and escrow, with its payouts and refunds.
fn job_row(api: &Client, events: &[Event], name: &dyn Fn(&AccountId) -> String) -> anyhow::Result<JobRow> {
    let id: JobId = JOB.parse()?;
    let job = api.job(&id)?;
    let line = |kind: &str, list: &[(AccountId, Amount)]| {
        let parts: Vec<String> = list.iter().map(|(a, v)| format!("{} {}", name(a), v.to_swk_string())).collect();
        format!("{kind}: {}", parts.join(", "))
    };
    let movements = events
        .iter()
        .filter_map(|e| match e {
            Event::RewardDistributed { job, payouts } if *job == id => Some(line("reward_distributed", payouts)),
            Event::Refund { job, refunds } if *job == id => Some(line("refund", refunds)),
            _ => None,
        })
        .collect();
    Ok(JobRow { phase: job.job.phase, outcome: job.job.outcome, escrow: job.escrow, movements })
}

fn gather(
    api: &Client,
    who: &BTreeMap<AccountId, String>,
    client_stats: &BTreeMap<String, ClientOutput>,
    clean: bool,
    processes: usize,
) -> anyhow::Result<NetReport> {
    let events = all_events(api)?;
    let name = |a: &AccountId| who.get(a).cloned().unwrap_or("?".into());
    let clients = client_rows(client_stats, &events, &name);
    let t = tally(&events, &name);
    let rep = |n: &str| -> u32 {
        let id = who.iter().find(|(_, x)| *x == n).map(|(a, _)| *a);
        id.and_then(|a| api.reputation(&a).ok()).map_or(0, |v| v.reputation.raw())
    };
    let points = api.points()?;
    let mut nodes = Vec::new();
    for m in MINERS {
        let net = points.last.iter().find(|r| name(&r.node) == m).map_or_else(|| "0".into(), |r| r.net.to_string());
        let (mr, pr) = t.rewards.get(m).copied().unwrap_or_default();
        nodes.push(NodeRow {
            name: m.to_string(),
            points_net: net,
            miner_rewards: Amount(mr),
            points_rewards: Amount(pr),
            reputation_ppb: rep(m),
        });
    }
    let job = job_row(api, &events, &name)?;
    let supply = api.supply()?;
    Ok(NetReport {
        chain_id: "stakework-demo".into(),
        processes: vec![format!("1 node and {processes} agent processes")],
        clients,
        tasks: t.tasks,
        dishonest_miner: DishonestRow {
            name: "m5-lazy".into(),
            caught_as_outlier: t.caught,
            passed: t.passed,
            reputation_ppb: rep("m5-lazy"),
        },
        nodes,
        router: t.router,
        job,
        supply,
        agents_stopped_cleanly: clean,
        head_height: api.height()?,
        replay_matches_head: false,
    })
}

/// The outcome's name as the node writes it.
fn outcome_name(o: &JobOutcome) -> &'static str {
    match o {
        JobOutcome::Completed => "completed",
        JobOutcome::Reported { .. } => "reported",
        JobOutcome::SelfReported { .. } => "self_reported",
        JobOutcome::Cancelled { .. } => "cancelled",
        JobOutcome::Withdrawn => "withdrawn",
        JobOutcome::Lapsed => "lapsed",
    }
}

fn print_report(r: &NetReport) {
    let pct = |p: u32| format!("{:.3}", f64::from(p) / 1e9);
    outln!("stakework demo: a whole network of real processes on loopback ({})\n", r.processes.join(", "));
    print_clients(&r.clients);
    outln!(
        "tasks: {} ended (passed Proof of Inference), {} failed {:?}",
        r.tasks.ended,
        r.tasks.failed,
        r.tasks.failure_reasons
    );
    let d = &r.dishonest_miner;
    outln!(
        "dishonest miner {}: caught as the outlier {} times, passed {} times, reputation {}\n",
        d.name,
        d.caught_as_outlier,
        d.passed,
        pct(d.reputation_ppb)
    );
    outln!("miners (last finished epoch's points; rewards over the run)");
    outln!(
        "  {:<8} {:>10} {:>16} {:>16} {:>10}",
        "miner",
        "net points",
        "miner rewards",
        "points rewards",
        "reputation"
    );
    for n in &r.nodes {
        outln!(
            "  {:<8} {:>10} {:>16} {:>16} {:>10}",
            n.name,
            n.points_net,
            n.miner_rewards.to_swk_string(),
            n.points_rewards.to_swk_string(),
            pct(n.reputation_ppb)
        );
    }
    match &r.router {
        None => outln!("\nrouter: no reward event yet"),
        Some(router) => outln!(
            "\nrouter {}: {} bytes validated in its busiest epoch (router and nodes agree), latency factor {}, owed {} \
             for that epoch; paid {} over the run",
            router.router,
            router.bandwidth,
            pct(router.latency_factor.raw()),
            router.owed.to_swk_string(),
            router.amount.to_swk_string()
        ),
    }
    outln!(
        "training job (coordinator, 2 data owners, 1 MPC node): {}, outcome {}, escrow now {}",
        wire_name(&r.job.phase),
        r.job.outcome.as_ref().map_or("?", outcome_name),
        r.job.escrow
    );
    for m in &r.job.movements {
        outln!("  {m}");
    }
    outln!(
        "\nconservation (/v1/supply): {} ; agents stopped cleanly: {} ; replay from genesis matches head {}: {}",
        if r.supply.conserved { "OK" } else { "BROKEN" },
        r.agents_stopped_cleanly,
        r.head_height,
        r.replay_matches_head
    );
}

fn print_clients(clients: &[ClientRow]) {
    outln!("clients: each placed a burst of 12 requests in one block; prompts went through the router, and answers");
    outln!("were checked against the miners' on-chain result hashes. Busy miners serve their queues by client stake:");
    outln!(
        "  {:<6} {:>12} {:>9} {:>12} {:>16} {:>15} {:>6} {:>5}",
        "client",
        "stake share",
        "requests",
        "served share",
        "mean wait",
        "queue position",
        "good",
        "bad"
    );
    for c in clients {
        outln!(
            "  {:<6} {:>11.1}% {:>9} {:>11.1}% {:>9.2} blocks {:>15.2} {:>6} {:>5}",
            c.name,
            c.stake_share_pct,
            c.requests,
            c.served_share_pct,
            c.mean_wait_blocks,
            c.mean_queue_position,
            c.rated_good,
            c.rated_bad
        );
    }
    outln!(
        "  (everyone is served in the end; stake buys an earlier place in each busy miner's queue: queue position is"
    );
    outln!("   the mean place of the client's requests in the order each miner served them, 0 first and 1 last. Waits");
    outln!("   also depend on which miner the draw picked: the slow miner takes 4 blocks per answer)\n");
}
