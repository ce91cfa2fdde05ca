//! Agents as real processes: five miners (one lazy) and an oracle act on a real node over loopback. A
//! client's task runs to its end with nobody driving it by hand, a request is served through the miner's
//! queue, and every agent stops cleanly on SIGTERM.

use crate::support::{cli, key_of, stop_clean, supervisor, Node};
use devnet::process::Process;
use std::time::{Duration, Instant};

const MINERS: [&str; 5] = ["m1", "m2", "m3", "m4", "lazy"];

#[test]
fn miners_and_an_oracle_run_a_task_and_a_request_to_the_end() {
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path().join("home");
    let mut genesis = String::from(
        "[params]\nchain_id = \"e2e\"\nmin_fee = 1000\nminer_stake_min = \"10 SWK\"\noracle_stake_min = \"10 SWK\"\n\
         selection_cooldown = 0\nemission_per_epoch = \"0\"\n\
         [[services]]\nname = \"text\"\nweight = 1\nprice = \"0.1 SWK\"\n",
    );
    for k in MINERS.iter().chain(&["o1", "client"]) {
        cli(&home, None, &["keys", "new", k]);
        genesis.push_str(&format!(
            "[[accounts]]\nid = \"{}\"\nfree = \"10 SWK\"\nbonded = \"20 SWK\"\n",
            key_of(&home, k)
        ));
    }
    let path = dir.path().join("genesis.toml");
    std::fs::write(&path, genesis).expect("genesis");
    let node = Node::start(&dir.path().join("data"), Some(&path), 50, &[]);
    let url = node.url.clone();
    cli(
        &home,
        Some(&url),
        &["node", "register", "--from", "o1", "--role", "oracle", "--endpoint", "http://127.0.0.1:1", "--wait"],
    );
    let sup = supervisor(dir.path(), &home, &url);
    let mut agents: Vec<Process> = MINERS
        .iter()
        .map(|m| {
            let mut args = vec!["miner", "--from", m, "--service", "1", "--poll-ms", "50"];
            if *m == "lazy" {
                args.push("--lazy");
            }
            sup.spawn(m, &args, false).expect("miner")
        })
        .collect();
    agents.push(sup.spawn("o1", &["oracle", "--from", "o1", "--poll-ms", "50"], false).expect("oracle"));
    let deadline = Instant::now() + Duration::from_secs(60);
    while node.get("/v1/nodes").expect("nodes")["nodes"].as_array().map_or(0, Vec::len) < 6 {
        if Instant::now() > deadline {
            let logs: Vec<String> =
                devnet::process::stop_all(agents).into_iter().map(|s| format!("{}: {}", s.name, s.log)).collect();
            panic!("the miners did not register: {logs:#?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }

    cli(&home, Some(&url), &["task", "submit", "--from", "client", "--service", "1", "--redundancy", "3", "--wait"]);
    cli(&home, Some(&url), &["request", "submit", "--from", "client", "--service", "1", "--wait"]);
    let ended = loop {
        let t = node.get("/v1/tasks/1").expect("task");
        if t["state"] == "ended" || t["state"] == "failed" {
            break t;
        }
        assert!(Instant::now() < deadline, "the task did not end: {t}");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(ended["state"], "ended", "{ended}");
    let lazy = key_of(&home, "lazy");
    let events = node.get("/v1/events?since=1&limit=1000").expect("events").to_string();
    assert!(events.contains("task_ended"), "{events}");
    if ended["miners"].as_array().expect("miners").iter().any(|m| m == lazy.as_str()) {
        let task_ended = node.get("/v1/events?since=1&limit=1000").expect("events");
        let failed = task_ended["blocks"]
            .as_array()
            .expect("blocks")
            .iter()
            .flat_map(|b| b["events"].as_array().cloned().unwrap_or_default())
            .find(|e| e["event"] == "task_ended")
            .expect("task_ended")["failed"]
            .clone();
        assert_eq!(failed, serde_json::json!([lazy]), "the lazy miner is the outlier");
    }
    loop {
        let r = node.get("/v1/requests/1").expect("request");
        if r["status"]["state"] == "completed" {
            break;
        }
        assert!(Instant::now() < deadline, "the request was not served: {r}");
        std::thread::sleep(Duration::from_millis(100));
    }
    for agent in agents {
        let name = agent.name.clone();
        let log = stop_clean(agent);
        assert!(log.contains("stopped;"), "{name} did not report stopping: {log}");
    }
}

fn wait_task(node: &Node, id: u64, deadline: Instant) -> serde_json::Value {
    loop {
        if let Ok(t) = node.get(&format!("/v1/tasks/{id}")) {
            if t["state"] == "ended" || t["state"] == "failed" {
                return t;
            }
        }
        assert!(Instant::now() < deadline, "task {id} did not end");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A miner killed mid-task is replaced (the oracle advances past its deadline and the engine draws a
/// spare) and the task still ends; then the node restarts at the same address and the agents carry on.
#[test]
fn a_dead_miner_is_replaced_and_agents_survive_a_node_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path().join("home");
    let names = ["a1", "a2", "a3", "a4", "a5", "a6", "a7"];
    let mut genesis = String::from(
        "[params]\nchain_id = \"e2e\"\nmin_fee = 1000\nminer_stake_min = \"10 SWK\"\noracle_stake_min = \"10 SWK\"\n\
         selection_cooldown = 0\nemission_per_epoch = \"0\"\ntask_deadline_started = 20\n\
         [[services]]\nname = \"text\"\nweight = 1\nprice = \"0.1 SWK\"\n",
    );
    for k in names.iter().chain(&["o1", "client"]) {
        cli(&home, None, &["keys", "new", k]);
        genesis.push_str(&format!(
            "[[accounts]]\nid = \"{}\"\nfree = \"10 SWK\"\nbonded = \"20 SWK\"\n",
            key_of(&home, k)
        ));
    }
    let path = dir.path().join("genesis.toml");
    std::fs::write(&path, genesis).expect("genesis");
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
    let listen = format!("127.0.0.1:{port}");
    let data = dir.path().join("data");
    let node = Node::start_on(&listen, &data, Some(&path), 50, &[]);
    let url = node.url.clone();
    cli(
        &home,
        Some(&url),
        &["node", "register", "--from", "o1", "--role", "oracle", "--endpoint", "http://127.0.0.1:1", "--wait"],
    );
    let sup = supervisor(dir.path(), &home, &url);
    let spawn = |name: &str, args: &[&str]| (name.to_string(), sup.spawn(name, args, false).expect("agent"));
    let mut agents: std::collections::BTreeMap<String, Process> =
        names.iter().map(|m| spawn(m, &["miner", "--from", m, "--poll-ms", "50"])).collect();
    agents.extend([spawn("o1", &["oracle", "--from", "o1", "--poll-ms", "50"])]);
    let deadline = Instant::now() + Duration::from_secs(90);
    while node.get("/v1/nodes").expect("nodes")["nodes"].as_array().map_or(0, Vec::len) < 8 {
        assert!(Instant::now() < deadline, "the miners did not register");
        std::thread::sleep(Duration::from_millis(100));
    }
    let by_account: std::collections::BTreeMap<String, String> =
        names.iter().map(|n| (key_of(&home, n), n.to_string())).collect();

    cli(&home, Some(&url), &["task", "submit", "--from", "client", "--service", "1", "--redundancy", "3", "--wait"]);
    // Kill one selected miner as soon as the miners are drawn, before it can precommit.
    let victim = loop {
        let t = node.get("/v1/tasks/1").expect("task");
        if let Some(m) = t["miners"].as_array().and_then(|m| m.first()).and_then(|m| m.as_str()) {
            let name = by_account[m].clone();
            if let Some(mut a) = agents.remove(&name) {
                a.kill();
            }
            break m.to_string();
        }
        assert!(Instant::now() < deadline, "no miners were drawn: {t}");
        std::thread::sleep(Duration::from_millis(10));
    };
    let t = wait_task(&node, 1, deadline);
    let events = node.get("/v1/events?since=1&limit=1000").expect("events").to_string();
    if t["precommits"].get(&victim).is_none() {
        assert!(events.contains("task_participant_replaced"), "the dead miner was replaced: {events}");
        assert!(!t["miners"].as_array().expect("miners").iter().any(|m| m == victim.as_str()), "{t}");
    }
    assert_eq!(t["state"], "ended", "the task still ends: {t}");

    // Restart the node at the same address; the agents retry, reconnect and serve the next task.
    node.sigterm();
    std::thread::sleep(Duration::from_millis(500));
    let node = Node::start_on(&listen, &data, None, 50, &[]);
    cli(&home, Some(&url), &["task", "submit", "--from", "client", "--service", "1", "--redundancy", "3", "--wait"]);
    let t = wait_task(&node, 2, deadline);
    assert_eq!(t["state"], "ended", "{t}");
    for (name, agent) in agents {
        let log = stop_clean(agent);
        assert!(log.contains("stopped;"), "{name}: {log}");
    }
}

/// A client's requests go through a real router process to real miner processes: prompts relayed,
/// answers checked against the miners' on-chain result hashes and rated Good; at the epoch's end the
/// router is paid for the validated traffic.
#[test]
fn a_client_is_served_through_a_router_that_is_paid_for_the_traffic() {
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path().join("home");
    let mut genesis = String::from(
        "[params]\nchain_id = \"e2e\"\nmin_fee = 1000\nminer_stake_min = \"10 SWK\"\nrouter_stake_min = \"10 SWK\"\n\
         epoch_length = 60\nemission_per_epoch = \"100 SWK\"\nrouter_reward_per_mb = \"100000 SWK\"\n\
         [[services]]\nname = \"text\"\nweight = 1\nprice = \"0.1 SWK\"\n",
    );
    for k in ["b1", "b2", "b3", "r1", "c1"] {
        cli(&home, None, &["keys", "new", k]);
        genesis.push_str(&format!(
            "[[accounts]]\nid = \"{}\"\nfree = \"10 SWK\"\nbonded = \"20 SWK\"\n",
            key_of(&home, k)
        ));
    }
    let path = dir.path().join("genesis.toml");
    std::fs::write(&path, genesis).expect("genesis");
    let node = Node::start(&dir.path().join("data"), Some(&path), 50, &[]);
    let url = node.url.clone();
    cli(&home, Some(&url), &["router", "register", "--from", "r1", "--endpoint", "http://127.0.0.1:1", "--wait"]);
    // The router's operator accepts its miners first (attaching needs its consent).
    for m in ["b1", "b2", "b3"] {
        cli(&home, Some(&url), &["router", "accept", "--from", "r1", "--member", m, "--wait"]);
    }
    let sup = supervisor(dir.path(), &home, &url);
    let (router, relay) =
        sup.spawn_with_url("r1", &["router", "run", "--from", "r1", "--listen", "127.0.0.1:0"]).expect("router");
    let miners: Vec<Process> = ["b1", "b2", "b3"]
        .iter()
        .map(|m| sup.spawn(m, &["miner", "--from", m, "--router", "r1", "--poll-ms", "50"], false).expect("miner"))
        .collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    while node.get("/v1/nodes").expect("nodes")["nodes"].as_array().map_or(0, Vec::len) < 4 {
        assert!(Instant::now() < deadline, "the miners did not register");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(500)); // let the attachments land
    let out = cli(&home, Some(&url), &["client", "--from", "c1", "--router", &relay, "--requests", "3", "--json"]);
    let stats: serde_json::Value = serde_json::from_str(out.trim()).expect("client json");
    assert_eq!(
        (stats["requests"].as_u64(), stats["answered"].as_u64(), stats["rated_good"].as_u64()),
        (Some(3), Some(3), Some(3)),
        "{stats}"
    );
    // Wait for the epoch's end: the router reports, the miners confirm, and the router is paid.
    let rewarded = loop {
        let events = node.get("/v1/events?since=1&limit=1000").expect("events");
        let found = events["blocks"]
            .as_array()
            .expect("blocks")
            .iter()
            .flat_map(|b| b["events"].as_array().cloned().unwrap_or_default())
            .find(|e| e["event"] == "router_rewarded");
        if let Some(e) = found {
            break e;
        }
        assert!(Instant::now() < deadline, "the router was not rewarded: {events}");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_ne!(rewarded["bandwidth"], "0", "validated traffic: {rewarded}");
    assert_ne!(rewarded["amount"], "0", "{rewarded}");
    for agent in miners.into_iter().chain([router]) {
        stop_clean(agent);
    }
}

fn wait_output(agent: Process, deadline: Instant) -> String {
    let patience = deadline.saturating_duration_since(Instant::now());
    let (_, out) = agent.output(patience).expect("the coordinator finished");
    out
}

/// A coordinator agent runs two jobs: one (vertical: PSI, then training) whose members all work completes
/// and pays the schema; in the other a data owner never shows up after depositing, and the coordinator
/// reports it once its heartbeat is `job_heartbeat_timeout` blocks old.
#[test]
fn a_coordinator_runs_a_job_to_completion_and_reports_a_silent_data_owner() {
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path().join("home");
    let mut genesis = String::from(
        "[params]\nchain_id = \"e2e\"\nmin_fee = 1000\ndata_owner_stake_min = \"1 SWK\"\nmpc_stake_min = \"1 SWK\"\n\
         coordinator_stake_min = \"1 SWK\"\njob_heartbeat_timeout = 30\nemission_per_epoch = \"0\"\n",
    );
    let names = ["gds", "qc", "d1", "d2", "p1"];
    for k in names {
        cli(&home, None, &["keys", "new", k]);
        genesis.push_str(&format!(
            "[[accounts]]\nid = \"{}\"\nfree = \"100 SWK\"\nbonded = \"10 SWK\"\n",
            key_of(&home, k)
        ));
    }
    let path = dir.path().join("genesis.toml");
    std::fs::write(&path, genesis).expect("genesis");
    let node = Node::start(&dir.path().join("data"), Some(&path), 50, &[]);
    let url = node.url.clone();
    for (k, role) in [("gds", "coordinator"), ("d1", "data-owner"), ("d2", "data-owner"), ("p1", "mpc")] {
        cli(
            &home,
            Some(&url),
            &["node", "register", "--from", k, "--role", role, "--endpoint", "http://127.0.0.1:1", "--wait"],
        );
    }
    let deadline = Instant::now() + Duration::from_secs(90);
    let sup = supervisor(dir.path(), &home, &url);
    let start_gds = |id: &str, kind: &str, quote: &str| {
        let args = [
            "coordinator",
            "--kind",
            kind,
            "--from",
            "gds",
            "--id",
            id,
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
            "2",
            "--quote",
            quote,
        ];
        sup.spawn(&format!("gds-{id}"), &args, true).expect("coordinator")
    };
    for (id, silent) in
        [("00000000-0000-4000-8000-00000000000a", false), ("00000000-0000-4000-8000-00000000000b", true)]
    {
        // The job that completes is vertical: its members pass the PSI stage first.
        // (Vertical: the MPC is paid price × 2 DOs, so the price is 2 + 2 + 10% = 4.4 SWK.)
        let gds = if silent { start_gds(id, "horizontal", "3.3 SWK") } else { start_gds(id, "vertical", "4.4 SWK") };
        let trainers: Vec<Process> = ["d1", "d2", "p1"]
            .iter()
            .map(|m| {
                let args = ["trainer", "--from", m, "--job", id, "--blocks-per-epoch", "2"];
                sup.spawn(&format!("{m}-{id}"), &args, false).expect("trainer")
            })
            .collect();
        while node.get(&format!("/v1/jobs/{id}")).map(|j| j["due"] == "0").unwrap_or(true) {
            assert!(Instant::now() < deadline, "the job was not ordered");
            std::thread::sleep(Duration::from_millis(100));
        }
        cli(&home, Some(&url), &["job", "query", id, "--from", "qc", "--wait"]);
        let mut trainers = trainers;
        if silent {
            // d2 deposits, then dies before posting any status.
            while node.get(&format!("/v1/jobs/{id}")).expect("job")["phase"] != "dispatched" {
                assert!(Instant::now() < deadline, "the job was not dispatched");
                std::thread::sleep(Duration::from_millis(20));
            }
            trainers.remove(1).kill();
        }
        let out = wait_output(gds, deadline);
        let job = node.get(&format!("/v1/jobs/{id}")).expect("job");
        assert_eq!(job["escrow"], "0", "{job}");
        if silent {
            assert_eq!(job["outcome"]["outcome"], "reported", "{out} {job}");
            assert_eq!(job["outcome"]["fault"], "no_heartbeat");
        } else {
            assert_eq!(job["outcome"]["outcome"], "completed", "{out} {job}");
            let psi = job["history"]
                .as_array()
                .expect("history")
                .iter()
                .filter(|r| r["what"]["entry"] == "psi_level_completed");
            assert_eq!(psi.count(), 1, "two DOs intersect in one PSI level: {job}");
        }
        for t in trainers {
            stop_clean(t);
        }
    }
}

/// Agents refuse bad settings with clear errors: an unreachable node, a missing key, an unknown backend,
/// an OpenAI backend without its URL.
#[test]
fn agents_explain_bad_settings() {
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path().join("home");
    cli(&home, None, &["keys", "new", "k"]);
    let run = |args: &[&str]| {
        let out = crate::support::cli_raw(&home, Some("http://127.0.0.1:9"), args);
        assert!(!out.status.success(), "{args:?} should fail");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    assert!(run(&["miner", "--from", "k"]).contains("cannot reach the node at http://127.0.0.1:9"));
    assert!(run(&["oracle", "--from", "k"]).contains("cannot reach the node"));
    assert!(run(&["miner", "--from", "nobody"]).contains("nobody"));
    assert!(run(&["miner", "--from", "k", "--backend", "gpt"]).contains("unknown backend"));
    assert!(run(&["miner", "--from", "k", "--backend", "openai"]).contains("--backend-url"));
}

/// Semantic Proof of Inference with the real MiniLM model: an oracle agent attests each miner's median
/// similarity, the task waits at Committed for the quorum of oracle stake, and the lazy miner fails on
/// meaning. Needs a build with `--features minilm` and the model in `STAKEWORK_MINILM_DIR` (CI runs it).
#[cfg(feature = "minilm")]
#[test]
fn a_minilm_oracle_attests_and_the_lazy_miner_fails_on_meaning() {
    let Some(model) = std::env::var_os("STAKEWORK_MINILM_DIR") else {
        eprintln!("skipped: STAKEWORK_MINILM_DIR is not set (bash scripts/fetch-minilm.sh DIR)");
        return;
    };
    let model = model.to_string_lossy().into_owned();
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path().join("home");
    let mut genesis = String::from(
        "[params]\nchain_id = \"e2e\"\nmin_fee = 1000\nminer_stake_min = \"10 SWK\"\noracle_stake_min = \"10 SWK\"\n\
         selection_cooldown = 0\nemission_per_epoch = \"0\"\ntask_deadline_committed = 400\n\
         [[services]]\nname = \"text\"\nweight = 1\nprice = \"0.1 SWK\"\nsemantic_poi = true\n",
    );
    let miners = ["s1", "s2", "s3", "s4", "s5"];
    for k in miners.iter().chain(&["o1", "client"]) {
        cli(&home, None, &["keys", "new", k]);
        genesis.push_str(&format!(
            "[[accounts]]\nid = \"{}\"\nfree = \"10 SWK\"\nbonded = \"20 SWK\"\n",
            key_of(&home, k)
        ));
    }
    let path = dir.path().join("genesis.toml");
    std::fs::write(&path, genesis).expect("genesis");
    let node = Node::start(&dir.path().join("data"), Some(&path), 50, &[]);
    let url = node.url.clone();
    cli(
        &home,
        Some(&url),
        &["node", "register", "--from", "o1", "--role", "oracle", "--endpoint", "http://127.0.0.1:1", "--wait"],
    );
    // s5 is lazy; the service has semantic_poi, so the oracle's MiniLM scores decide the verdict. The task waits at Committed
    // for the oracle (up to 400 blocks), which may still be loading the model when the task is submitted.
    let sup = supervisor(dir.path(), &home, &url);
    let mut agents: Vec<Process> = miners
        .iter()
        .map(|m| {
            let mut args = vec!["miner", "--from", m, "--poll-ms", "50"];
            if *m == "s5" {
                args.push("--lazy");
            }
            sup.spawn(m, &args, false).expect("miner")
        })
        .collect();
    let oracle = ["oracle", "--from", "o1", "--poll-ms", "50", "--embedder", "minilm", "--model-dir", &model];
    agents.push(sup.spawn("o1", &oracle, false).expect("oracle"));
    let deadline = Instant::now() + Duration::from_secs(120);
    while node.get("/v1/nodes").expect("nodes")["nodes"].as_array().map_or(0, Vec::len) < 6 {
        assert!(Instant::now() < deadline, "the miners did not register");
        std::thread::sleep(Duration::from_millis(100));
    }
    cli(&home, Some(&url), &["task", "submit", "--from", "client", "--service", "1", "--redundancy", "3", "--wait"]);
    let t = wait_task(&node, 1, deadline);
    let events = node.get("/v1/events?since=1&limit=1000").expect("events").to_string();
    if !events.contains("poi_attested") {
        let oracle = agents.pop().expect("oracle").stop(devnet::process::STOP_PATIENCE).log;
        panic!("the oracle did not attest: {oracle}");
    }
    assert_eq!(t["state"], "ended", "{t}");
    let lazy = key_of(&home, "s5");
    if t["miners"].as_array().expect("miners").iter().any(|m| m == lazy.as_str()) {
        assert!(events.contains(&format!("\"failed\":[\"{lazy}\"]")), "the lazy miner failed on meaning: {events}");
    }
    for a in agents {
        stop_clean(a);
    }
}
