//! `stakework demo`: a whole network of real processes on loopback. One node (embedded store, fresh
//! temporary data directory), six miners (one dishonest, one slow), two oracles, a router, three clients
//! with different stakes and a small training job (a coordinator, two data owners, an MPC node). Every
//! agent is a child process of this binary talking to the node over HTTP; the demo only starts them,
//! places the job's StakeIn, waits (with progress), stops everyone with SIGTERM and reports what the
//! chain says happened, then replays the block log from genesis.

use crate::keys::{account_of, derived_key, write_key};
use crate::local_node::LocalNode;
use agent::chain::{NodeApi, Signer};
use anyhow::{bail, Context};
use engine::{Call, Genesis, GenesisAccount, GenesisService, Params, Role};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use types::{AccountId, Amount, Ppb};

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
    router: Value,
    job: Value,
    supply: Value,
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

fn spawn(name: &str, logs: &Path, url: &str, keys: &Path, args: &[&str], stdout: bool) -> anyhow::Result<Proc> {
    let exe = std::env::current_exe().context("finding the stakework binary")?;
    let log = std::fs::File::create(logs.join(format!("{name}.log"))).context("agent log file")?;
    let child = Command::new(exe)
        .arg("--node")
        .arg(url)
        .arg("--keys-dir")
        .arg(keys)
        .args(args)
        .stdout(if stdout { Stdio::piped() } else { Stdio::null() })
        .stderr(log)
        .spawn()
        .with_context(|| format!("starting {name}"))?;
    Ok(Proc { name: name.to_string(), child })
}

fn sigterm(p: &mut Proc) -> bool {
    let _ = Command::new("kill").args(["-TERM", &p.child.id().to_string()]).status();
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
    let api = NodeApi::new(&url);
    let signer = |n: &str| Signer::connect(&api, keys[n].clone()).map_err(|e| anyhow::anyhow!("{e}"));
    let register = |n: &str, role: Role| -> anyhow::Result<()> {
        let call = Call::RegisterNode {
            roles: vec![role],
            services: vec![],
            capacity: 1,
            endpoint: "http://127.0.0.1:1".into(),
        };
        let o = signer(n)?.submit(&api, call, Duration::from_secs(30)).map_err(|e| anyhow::anyhow!("{e}"))?;
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

    let mut procs: Vec<Proc> = Vec::new();
    let mut router = spawn(
        "router-r1",
        &logs,
        &url,
        &keys_dir,
        &["router", "run", "--from", "r1", "--listen", "127.0.0.1:0"],
        true,
    )?;
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
        procs.push(spawn(m, &logs, &url, &keys_dir, &args, false)?);
    }
    for o in ["o1", "o2"] {
        procs.push(spawn(o, &logs, &url, &keys_dir, &["oracle", "--from", o, "--poll-ms", "50"], false)?);
    }
    let t0 = Instant::now();
    let limit = Duration::from_secs(150);
    while api.get::<Value>("/v1/nodes").map(|v| v["nodes"].as_array().map_or(0, Vec::len)).unwrap_or(0) < 13 {
        if t0.elapsed() > limit {
            bail!("the miners did not register (see {})", logs.display());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    eprintln!("demo: 6 miners, 2 oracles and a router are up");
    let coordinator = spawn(
        "coordinator-gds",
        &logs,
        &url,
        &keys_dir,
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
        procs.push(spawn(
            &format!("trainer-{t}"),
            &logs,
            &url,
            &keys_dir,
            &["trainer", "--from", t, "--job", JOB, "--blocks-per-epoch", "3"],
            false,
        )?);
    }
    let mut clients = Vec::new();
    // The three bursts land in the same block, so their requests meet in the miners' queues.
    let at = (api.height().map_err(|e| anyhow::anyhow!("{e}"))? + 10).to_string();
    for (c, _) in CLIENTS {
        let args = [
            "--json",
            "client",
            "--from",
            c,
            "--router",
            &relay,
            "--requests",
            "12",
            "--burst",
            "--at-height",
            &at,
            "--tasks",
            "1",
        ];
        clients.push(spawn(&format!("client-{c}"), &logs, &url, &keys_dir, &args, true)?);
    }
    // The QC stakes the job once the GDS has ordered it and selected its MPC node.
    let mut staked = false;
    let mut last_progress = Instant::now();
    let job_path = format!("/v1/jobs/{JOB}");
    loop {
        if !staked {
            if let Ok(j) = api.get::<Value>(&job_path) {
                if !j["schema"].is_null() && j["due"] != "0" {
                    let amount: Amount = serde_json::from_value(j["due"].clone())?;
                    let o = signer("qc")?.submit(
                        &api,
                        Call::SubmitJobQuery { job: JOB.parse()?, amount },
                        Duration::from_secs(30),
                    );
                    staked = o.map(|o| o.ok()).unwrap_or(false);
                }
            }
        }
        let clients_done = clients.iter_mut().all(|c| matches!(c.child.try_wait(), Ok(Some(_))));
        let job_done = api.get::<Value>(&job_path).is_ok_and(|j| j["phase"] == "settled");
        if clients_done && job_done {
            break;
        }
        if last_progress.elapsed() > Duration::from_secs(2) {
            let h = api.height().unwrap_or(0);
            let tasks: Vec<Value> = api.get("/v1/tasks").unwrap_or_default();
            let done = tasks.iter().filter(|t| t["state"] == "ended" || t["state"] == "failed").count();
            eprintln!(
                "demo: {:>3}s height {h}: clients {}/3 done, tasks {done}/{} finished, job {}",
                t0.elapsed().as_secs(),
                clients.iter_mut().map(|c| matches!(c.child.try_wait(), Ok(Some(_)))).filter(|done| *done).count(),
                tasks.len(),
                api.get::<Value>(&job_path)
                    .map(|j| j["phase"].as_str().unwrap_or("?").to_string())
                    .unwrap_or("not ordered".into())
            );
            last_progress = Instant::now();
        }
        if t0.elapsed() > limit {
            bail!("the network did not finish in {} s (see {})", limit.as_secs(), logs.display());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    // Let the current epoch end so points, rewards and the router's report are booked.
    let epoch: Value = api.get("/v1/epoch").map_err(|e| anyhow::anyhow!("{e}"))?;
    let end = epoch["last_height"].as_u64().context("epoch end")?;
    eprintln!("demo: traffic done; waiting for the epoch to end at height {end}");
    while api.height().unwrap_or(0) <= end + 1 {
        if t0.elapsed() > limit + Duration::from_secs(30) {
            bail!("the epoch did not end");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut clean = true;
    for p in procs.iter_mut() {
        let ok = sigterm(p);
        if !ok {
            eprintln!("demo: {} did not stop cleanly", p.name);
        }
        clean &= ok;
    }
    let mut client_stats = BTreeMap::new();
    for mut c in clients {
        let mut out = String::new();
        if let Some(mut o) = c.child.stdout.take() {
            std::io::Read::read_to_string(&mut o, &mut out)?;
        }
        client_stats.insert(
            c.name.trim_start_matches("client-").to_string(),
            serde_json::from_str::<Value>(out.trim()).unwrap_or_default(),
        );
    }
    let mut coordinator = coordinator;
    let _ = coordinator.child.wait();
    let report = gather(&api, &who, &client_stats, clean, procs.len() + 4)?;
    let head_root = api.get::<Value>("/health").map_err(|e| anyhow::anyhow!("{e}"))?["state_root"]
        .as_str()
        .unwrap_or("")
        .to_string();
    node.stop()?;
    let replay_matches_head = crate::demo::replay_matches(dir.path(), report.head_height, &head_root)?;
    let report = NetReport { replay_matches_head, ..report };
    if json {
        outln!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_report(&report);
    }
    if report.supply["conserved"] != true || !report.replay_matches_head || !report.agents_stopped_cleanly {
        bail!("the demo failed its own checks");
    }
    Ok(())
}

fn all_events(api: &NodeApi) -> anyhow::Result<Vec<Value>> {
    let mut out = Vec::new();
    let mut since = 1;
    loop {
        let v: Value = api.get(&format!("/v1/events?since={since}")).map_err(|e| anyhow::anyhow!("{e}"))?;
        for b in v["blocks"].as_array().into_iter().flatten() {
            out.extend(b["events"].as_array().cloned().unwrap_or_default());
        }
        let next = v["next"].as_u64().unwrap_or(since);
        if next <= since || next > api.height().map_err(|e| anyhow::anyhow!("{e}"))? {
            return Ok(out);
        }
        since = next;
    }
}

fn gather(
    api: &NodeApi,
    who: &BTreeMap<AccountId, String>,
    client_stats: &BTreeMap<String, Value>,
    clean: bool,
    processes: usize,
) -> anyhow::Result<NetReport> {
    let err = |e: agent::AgentError| anyhow::anyhow!("{e}");
    let events = all_events(api)?;
    let name = |a: &Value| {
        a.as_str().and_then(|s| s.parse::<AccountId>().ok()).and_then(|a| who.get(&a).cloned()).unwrap_or("?".into())
    };
    let total_stake: u128 = CLIENTS.iter().map(|(_, s)| s).sum();
    let total_served: u64 = client_stats.values().map(|s| s["requests"].as_u64().unwrap_or(0)).sum();
    let clients: Vec<ClientRow> = CLIENTS
        .iter()
        .map(|(c, stake)| {
            let s = &client_stats[*c];
            let requests = s["requests"].as_u64().unwrap_or(0);
            ClientRow {
                name: c.to_string(),
                stake_share_pct: 100.0 * *stake as f64 / total_stake as f64,
                requests,
                served_share_pct: if total_served == 0 { 0.0 } else { 100.0 * requests as f64 / total_served as f64 },
                mean_wait_blocks: s["mean_wait_blocks"].as_f64().unwrap_or(0.0),
                mean_queue_position: 0.0,
                rated_good: s["rated_good"].as_u64().unwrap_or(0),
                rated_bad: s["rated_bad"].as_u64().unwrap_or(0),
            }
        })
        .collect();
    // Each miner's serving order: completions in (height, event) order, per miner.
    let mut client_of: BTreeMap<u64, String> = BTreeMap::new();
    let mut order: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for e in &events {
        if e["event"] == "request_submitted" {
            if let Some(id) = e["request"].as_u64() {
                client_of.insert(id, name(&e["client"]));
            }
        }
        if e["event"] == "request_completed" {
            if let Some(id) = e["request"].as_u64() {
                order.entry(name(&e["miner"])).or_default().push(id);
            }
        }
    }
    let mut positions: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for served in order.values().filter(|v| v.len() > 1) {
        for (i, id) in served.iter().enumerate() {
            let c = client_of.get(id).cloned().unwrap_or_default();
            positions.entry(c).or_default().push(i as f64 / (served.len() - 1) as f64);
        }
    }
    let mean_position = |c: &str| positions.get(c).map_or(0.0, |v| v.iter().sum::<f64>() / v.len().max(1) as f64);
    let clients: Vec<ClientRow> = clients
        .into_iter()
        .map(|mut row: ClientRow| {
            row.mean_queue_position = mean_position(&row.name);
            row
        })
        .collect();
    let mut tasks = TaskSummary::default();
    let (mut caught, mut passed) = (0, 0);
    let mut rewards: BTreeMap<String, (u128, u128)> = BTreeMap::new();
    let mut router = Value::Null;
    for e in &events {
        match e["event"].as_str() {
            Some("task_ended") => {
                tasks.ended += 1;
                caught += e["failed"].as_array().into_iter().flatten().filter(|a| name(a) == "m5-lazy").count() as u64;
                passed += e["passed"].as_array().into_iter().flatten().filter(|a| name(a) == "m5-lazy").count() as u64;
            }
            Some("task_failed") => {
                tasks.failed += 1;
                *tasks.failure_reasons.entry(e["reason"].as_str().unwrap_or("?").to_string()).or_default() += 1;
            }
            Some("miner_rewarded") => {
                rewards.entry(name(&e["miner"])).or_default().0 +=
                    e["amount"].as_str().and_then(|s| s.parse::<u128>().ok()).unwrap_or(0)
            }
            Some("points_rewarded") => {
                rewards.entry(name(&e["node"])).or_default().1 +=
                    e["amount"].as_str().and_then(|s| s.parse::<u128>().ok()).unwrap_or(0)
            }
            // Keep the epoch in which the router carried the traffic (the most validated bytes), paid in
            // total over the run.
            Some("router_rewarded") => {
                let bytes = |v: &Value| v["bandwidth"].as_str().and_then(|b| b.parse::<u128>().ok()).unwrap_or(0);
                let paid = |v: &Value| v["amount"].as_str().and_then(|b| b.parse::<u128>().ok()).unwrap_or(0);
                let total = paid(&router) + paid(e);
                if router.is_null() || bytes(e) > bytes(&router) {
                    router = e.clone();
                }
                router["amount"] = Value::String(total.to_string());
            }
            _ => {}
        }
    }
    let rep = |n: &str| -> u32 {
        let id = who.iter().find(|(_, x)| *x == n).map(|(a, _)| *a);
        id.and_then(|a| api.get::<Value>(&format!("/v1/reputation/{a}")).ok())
            .and_then(|v| v["reputation"].as_u64())
            .unwrap_or(0) as u32
    };
    let points: Value = api.get("/v1/points").map_err(err)?;
    let mut nodes = Vec::new();
    for m in MINERS {
        let net = points["last"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|r| name(&r["node"]) == m)
            .and_then(|r| r["net"].as_str().map(str::to_string))
            .unwrap_or_else(|| "0".into());
        let (mr, pr) = rewards.get(m).copied().unwrap_or_default();
        nodes.push(NodeRow {
            name: m.to_string(),
            points_net: net,
            miner_rewards: Amount(mr),
            points_rewards: Amount(pr),
            reputation_ppb: rep(m),
        });
    }
    if !router.is_null() {
        router["router"] = Value::String(name(&router["router"]));
    }
    let job: Value = api.get(&format!("/v1/jobs/{JOB}")).map_err(err)?;
    let amount =
        |v: &Value| v.as_str().and_then(|s| s.parse::<Amount>().ok()).map_or("?".into(), Amount::to_swk_string);
    let job_flows: Vec<Value> = events
        .iter()
        .filter(|e| e["job"] == JOB && (e["event"] == "reward_distributed" || e["event"] == "refund"))
        .map(|e| {
            let list = if e["event"] == "refund" { &e["refunds"] } else { &e["payouts"] };
            let parts: Vec<String> =
                list.as_array().into_iter().flatten().map(|p| format!("{} {}", name(&p[0]), amount(&p[1]))).collect();
            Value::String(format!("{}: {}", e["event"].as_str().unwrap_or("?"), parts.join(", ")))
        })
        .collect();
    let supply: Value = api.get("/v1/supply").map_err(err)?;
    Ok(NetReport {
        chain_id: "stakework-demo".into(),
        processes: vec![format!("1 node and {processes} agent processes")],
        clients,
        tasks,
        dishonest_miner: DishonestRow {
            name: "m5-lazy".into(),
            caught_as_outlier: caught,
            passed,
            reputation_ppb: rep("m5-lazy"),
        },
        nodes,
        router,
        job: serde_json::json!({"phase": job["phase"], "outcome": job["outcome"], "escrow": job["escrow"], "movements": job_flows}),
        supply,
        agents_stopped_cleanly: clean,
        head_height: api.height().map_err(err)?,
        replay_matches_head: false,
    })
}

fn print_report(r: &NetReport) {
    let pct = |p: u32| format!("{:.3}", f64::from(p) / 1e9);
    outln!("stakework demo: a whole network of real processes on loopback ({})\n", r.processes.join(", "));
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
    for c in &r.clients {
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
    if r.router.is_null() {
        outln!("\nrouter: no reward event yet");
    } else {
        let amt =
            |v: &Value| v.as_str().and_then(|s| s.parse::<Amount>().ok()).map_or("?".into(), Amount::to_swk_string);
        outln!(
            "\nrouter {}: {} bytes validated in its busiest epoch (router and nodes agree), latency factor {}, owed {} \
             for that epoch; paid {} over the run",
            r.router["router"].as_str().unwrap_or("?"),
            r.router["bandwidth"].as_str().unwrap_or("?"),
            r.router["latency_factor"].as_u64().map_or("?".into(), |p| pct(p as u32)),
            amt(&r.router["owed"]),
            amt(&r.router["amount"])
        );
    }
    outln!(
        "training job (coordinator, 2 data owners, 1 MPC node): {}, outcome {}, escrow now {}",
        r.job["phase"].as_str().unwrap_or("?"),
        r.job["outcome"]["outcome"].as_str().unwrap_or("?"),
        r.job["escrow"].as_str().unwrap_or("?")
    );
    for m in r.job["movements"].as_array().into_iter().flatten() {
        outln!("  {}", m.as_str().unwrap_or("?"));
    }
    outln!(
        "\nconservation (/v1/supply): {} ; agents stopped cleanly: {} ; replay from genesis matches head {}: {}",
        if r.supply["conserved"] == true { "OK" } else { "BROKEN" },
        r.agents_stopped_cleanly,
        r.head_height,
        r.replay_matches_head
    );
}
