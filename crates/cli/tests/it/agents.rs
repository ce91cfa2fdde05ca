//! Agents as real processes: five miners (one lazy) and an oracle act on a real node over loopback. A
//! client's task runs to its end with nobody driving it by hand, a request is served through the miner's
//! queue, and every agent stops cleanly on SIGTERM.

use crate::support::{cli, key_of, Agent, Node};
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
    let mut agents: Vec<(String, Agent)> = MINERS
        .iter()
        .map(|m| {
            let mut args = vec!["miner", "--from", m, "--service", "1", "--poll-ms", "50"];
            if *m == "lazy" {
                args.push("--lazy");
            }
            (m.to_string(), Agent::start(&home, &url, &args))
        })
        .collect();
    agents.push(("o1".into(), Agent::start(&home, &url, &["oracle", "--from", "o1", "--poll-ms", "50"])));
    let deadline = Instant::now() + Duration::from_secs(60);
    while node.get("/v1/nodes").expect("nodes")["nodes"].as_array().map_or(0, Vec::len) < 6 {
        if Instant::now() > deadline {
            let logs: Vec<String> = agents.into_iter().map(|(n, a)| format!("{n}: {}", a.stop().1)).collect();
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
    for (name, agent) in agents {
        let (status, log) = agent.stop();
        assert!(status.success(), "{name} exited with {status}: {log}");
        assert!(log.contains("stopped;"), "{name} did not report stopping: {log}");
    }
}
