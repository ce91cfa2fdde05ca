//! A person's first session: keys, transfer, bond, queries, a restart, the same answers.

use crate::support::{cli, key_of, write_genesis, Node};

#[test]
fn keys_transfer_bond_query_restart_query() {
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path().join("home");
    cli(&home, None, &["keys", "new", "alice"]);
    cli(&home, None, &["keys", "new", "bob"]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(home.join("keys/alice.json")).expect("key file").permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "key files must be private");
    }
    let listed = cli(&home, None, &["keys", "list"]);
    assert!(listed.contains("alice") && listed.contains("bob"), "{listed}");
    let (alice, bob) = (key_of(&home, "alice"), key_of(&home, "bob"));
    let genesis = write_genesis(dir.path(), std::slice::from_ref(&alice));
    let data = dir.path().join("data");
    let node = Node::start(&data, Some(&genesis), 50, &["--snapshot-every", "3"]);
    let url = Some(node.url.as_str());

    let out = cli(&home, url, &["tx", "transfer", "--from", "alice", "--to", "bob", "--amount", "12.5 SWK", "--wait"]);
    assert!(out.contains("committed") && out.contains("result ok"), "{out}");
    let out = cli(&home, url, &["tx", "bond", "--from", "alice", "--amount", "100 SWK", "--wait", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["status"], "committed");
    assert_eq!(v["receipt"]["code"], "ok");
    let tx_hash = v["hash"].as_str().expect("hash").to_string();
    let refused = crate::support::cli_raw(
        &home,
        url,
        &["tx", "transfer", "--from", "bob", "--to", "alice", "--amount", "13 SWK", "--wait"],
    );
    assert!(!refused.status.success());
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("[insufficient_funds]"), "bob has 12.5 SWK; refused at the door: {err}");

    let account = |node: &Node, who: &str| node.get(&format!("/v1/accounts/{who}")).expect("account");
    let a = account(&node, &alice);
    assert_eq!(a["free"], "887499998000", "1000 - 12.5 - 100 - two fees of 1000 base units");
    assert_eq!(a["bonded"], "100000000000");
    assert_eq!(a["nonce"], 2);
    assert_eq!(account(&node, &bob)["free"], "12500000000");
    let human = cli(&home, url, &["query", "account", "alice"]);
    assert!(human.contains("887.499998 SWK") && human.contains("nonce      2"), "{human}");
    let receipt = cli(&home, url, &["query", "tx", &tx_hash, "--json"]);
    assert!(receipt.contains("\"bonded\""), "{receipt}");
    let params = cli(&home, url, &["query", "params"]);
    assert!(params.contains("e2e"), "{params}");
    let events = cli(&home, url, &["query", "events", "--since", "1", "--json"]);
    assert!(events.contains("transfer_posted") && events.contains("bonded"), "{events}");
    // The event stream replays the backlog from `since` as `block` events, then goes live.
    let stream = ureq::get(&format!("{}/v1/events/stream?since=1", node.url))
        .timeout(std::time::Duration::from_secs(10))
        .call()
        .expect("stream");
    assert_eq!(stream.content_type(), "text/event-stream");
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stream.into_reader()));
    let first_event = lines.by_ref().map_while(Result::ok).find(|l| l.starts_with("event:")).expect("an event");
    assert_eq!(first_event, "event: block");
    let data_line = lines.map_while(Result::ok).find(|l| l.starts_with("data:")).expect("its data");
    let first: serde_json::Value = serde_json::from_str(data_line.trim_start_matches("data:").trim()).expect("json");
    assert_eq!(first["height"], 1, "the backlog starts at `since`");
    let before = node.health();
    let height = before["height"].as_u64().expect("height");
    let block = cli(&home, url, &["query", "block", &height.to_string(), "--json"]);
    assert!(block.contains(before["state_root"].as_str().expect("root")), "{block}");
    node.sigterm();

    // Restart on the same data directory: no genesis flag needed, same answers, same chain.
    let node = Node::start(&data, None, 60_000, &[]);
    let after = node.health();
    // The node may seal an empty block between the health read and SIGTERM: compare the same height.
    assert!(after["height"].as_u64() >= before["height"].as_u64(), "{after} vs {before}");
    let same = node.get(&format!("/v1/blocks/{height}")).expect("the earlier head is still there");
    assert_eq!(same["state_root"], before["state_root"]);
    assert_eq!(account(&node, &alice)["free"], "887499998000");
    assert_eq!(account(&node, &bob)["free"], "12500000000");
    // The log is locked while a node uses it; replay works on a stopped node's directory.
    let locked = crate::support::cli_raw(&home, None, &["replay", "--data", data.to_str().expect("utf8")]);
    assert!(String::from_utf8_lossy(&locked.stderr).contains("store_io"), "{locked:?}");
    node.sigterm();
    let replay = cli(&home, None, &["replay", "--data", data.to_str().expect("utf8"), "--json"]);
    let r: serde_json::Value = serde_json::from_str(&replay).expect("json");
    assert_eq!(r["state_root"], after["state_root"]);
}

#[test]
fn a_clear_error_when_the_node_is_unreachable_or_the_key_is_missing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path().join("home");
    cli(&home, None, &["keys", "new", "carol"]);
    let out = crate::support::cli_raw(&home, Some("http://127.0.0.1:9"), &["query", "account", "carol"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot reach the node"), "{out:?}");
    let out = crate::support::cli_raw(
        &home,
        Some("http://127.0.0.1:9"),
        &["tx", "bond", "--from", "nobody", "--amount", "1"],
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("no key \"nobody\""), "{out:?}");
    let out = crate::support::cli_raw(&home, None, &["node", "--data", dir.path().join("d").to_str().expect("utf8")]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("store_no_genesis"), "{out:?}");
}

/// `demo --keep`: after its checks the network runs on; the printed explorer and metrics URLs answer
/// (blocks still being finalized), and SIGTERM stops it cleanly. Returns the report (stdout).
fn demo_kept(home: &std::path::Path) -> String {
    use std::io::{BufRead, Read};
    let mut child = std::process::Command::new(crate::support::BIN)
        .env("STAKEWORK_HOME", home)
        .args(["demo", "--json", "--block-ms", "50", "--keep"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run stakework demo");
    let mut stdout = child.stdout.take().expect("stdout");
    let report = std::thread::spawn(move || {
        let mut text = String::new();
        stdout.read_to_string(&mut text).expect("read the report");
        text
    });
    let (tx, rx) = std::sync::mpsc::channel();
    let stderr = std::io::BufReader::new(child.stderr.take().expect("stderr"));
    std::thread::spawn(move || stderr.lines().map_while(Result::ok).for_each(|l| drop(tx.send(l))));
    let mut seen = Vec::new();
    let (explorer, metrics) = loop {
        let line = rx.recv_timeout(std::time::Duration::from_secs(600)).unwrap_or_else(|_| {
            let _ = child.kill();
            panic!("demo --keep printed no URLs: {seen:#?}")
        });
        if let Some(url) = line.strip_prefix("demo: explorer  ") {
            let line = rx.recv_timeout(std::time::Duration::from_secs(5)).expect("the metrics line");
            break (url.to_string(), line.strip_prefix("demo: metrics   ").expect("metrics URL").to_string());
        }
        seen.push(line);
    };
    assert!(explorer.starts_with("http://127.0.0.1:") && explorer.ends_with('/'), "{explorer}");
    let health = format!("{explorer}health");
    let height = || {
        ureq::get(&health).call().expect("health").into_json::<serde_json::Value>().expect("json")["height"].as_u64()
    };
    let first = height().expect("a height");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while height() <= Some(first) {
        assert!(std::time::Instant::now() < deadline, "the kept network finalizes no block after {first}");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let text = ureq::get(&metrics).call().expect("metrics").into_string().expect("text");
    assert!(text.contains("stakework_proposals_total{validator="), "{text}");
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), nix::sys::signal::Signal::SIGTERM)
        .expect("signal the demo");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(std::time::Instant::now() < deadline, "demo --keep did not stop on SIGTERM");
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert!(status.success(), "demo --keep exited with {status}");
    assert!(ureq::get(&health).call().is_err(), "its validators stopped with it");
    report.join().expect("the report")
}

/// The README's main job: a whole network of real processes (four validators, one of them crashed and
/// restarted mid-run), checks that pass and a report that adds up; with `--keep` the network then runs
/// until a signal stops it.
#[test]
fn the_demo_runs_a_network_of_real_processes_and_its_checks_pass() {
    let _alone = crate::support::validators_lock();
    let dir = tempfile::tempdir().expect("tempdir");
    let out = demo_kept(dir.path());
    let r: serde_json::Value = serde_json::from_str(&out).expect("demo --json");
    assert_eq!(r["supply"]["conserved"], true, "{r}");
    assert_eq!(r["replay_matches_head"], true, "{r}");
    assert_eq!(r["agents_stopped_cleanly"], true, "{r}");
    assert_eq!(r["job"]["outcome"]["outcome"], "completed", "{r}");
    assert_eq!(r["job"]["escrow"], "0", "{r}");
    for c in r["clients"].as_array().expect("clients") {
        assert_eq!(c["requests"], 12, "every client's burst was placed: {c}");
        assert!(c["rated_good"].as_u64().unwrap_or(0) >= 6, "answers matched the miners' result hashes: {c}");
        assert_eq!(c["rated_bad"], 0, "no answer differed from its on-chain hash: {c}");
    }
    // The three bursts met in the busy miner's queue, which served them by stake: 60% first, 10% last.
    let queue = &r["queue"];
    assert_eq!(queue["stake_priority_visible"], true, "{queue}");
    let period = &queue["periods"][0];
    assert_eq!(period["requests"], 36, "all three bursts in one busy period: {queue}");
    let position = |c: &str| {
        let row = period["clients"].as_array().expect("clients").iter().find(|x| x["name"] == c).expect("row");
        row["mean_queue_position"].as_f64().expect("position")
    };
    assert!(position("c3") < position("c2") && position("c2") < position("c1"), "{queue}");
    assert!(r["tasks"]["ended"].as_u64().unwrap_or(0) >= 1, "{r}");
    assert_eq!(r["dishonest_miner"]["passed"], 0, "the lazy miner never passes Proof of Inference: {r}");
    assert!(!r["router"].is_null(), "the router was rewarded: {r}");
    assert_ne!(r["router"]["bandwidth"], "0", "the router's relayed traffic was validated: {r}");
    // Four validators; one killed in the middle of the traffic and restarted: finality went on, it caught
    // up, the agents that called it first failed over, and all four serve and replay one root at the end.
    let v = &r["validators"];
    assert_eq!(v["count"], 4, "{v}");
    let crash = &v["crash"];
    assert!(crash["finalized_while_down"].as_u64().unwrap_or(0) > 0, "finality went on: {crash}");
    assert!(crash["catch_up_ms"].is_u64(), "the restarted validator caught up: {crash}");
    assert!(!crash["agents_failed_over"].as_array().expect("agents").is_empty(), "{crash}");
    let finals = v["finals"].as_array().expect("finals");
    assert_eq!(finals.len(), 4, "{v}");
    for f in finals {
        assert_eq!(f["root_served"], finals[0]["root_served"], "{v}");
        assert_eq!(f["replayed_root"], finals[0]["root_served"], "{v}");
    }
    assert_eq!(v["stopped_cleanly"], true, "{v}");
    eprintln!(
        "demo: {} validators; {} blocks finalized while {} was down; caught up in {} ms",
        v["count"], crash["finalized_while_down"], crash["validator"], crash["catch_up_ms"]
    );
}

/// `demo --walkthrough`: a real node, driven over HTTP step by step, checks that pass and numbers that add up.
#[test]
fn the_walkthrough_drives_a_real_node_and_its_checks_pass() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = cli(dir.path(), None, &["demo", "--walkthrough", "--json", "--block-ms", "50"]);
    let r: serde_json::Value = serde_json::from_str(&out).expect("demo --json");
    assert_eq!(r["supply"]["conserved"], true, "{r}");
    assert_eq!(r["replay_matches_head"], true, "{r}");
    let results: Vec<&str> = r["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .flat_map(|s| s["txs"].as_array().expect("txs").iter().map(|t| t["result"].as_str().expect("result")))
        .collect();
    assert_eq!(
        &results[..11],
        ["ok", "ok", "ok", "insufficient_funds", "ok", "ok", "ok", "bad_nonce", "ok", "ok", "ok"]
    );
    assert!(results[11..].iter().all(|r| *r == "ok"), "every market and task step succeeds: {results:?}");
    let replay = &r["steps"][1]["txs"][2];
    assert_eq!(
        (replay["status"].as_str(), replay["height"].as_u64()),
        (Some("committed"), Some(1)),
        "the replay is answered from block 1: {replay}"
    );
    let free = |name: &str| {
        r["balances"].as_array().expect("balances").iter().find(|b| b["name"] == name).expect("row")["free"].clone()
    };
    // alice: 1000 - 250 + 20 (escrow payout) - 1 - 1, a 0.5 SWK request, a 1.5 SWK task, six fees of 0.001.
    assert_eq!(free("alice"), "765994000000");
    let held =
        r["balances"].as_array().expect("balances").iter().find(|b| b["name"] == "alice").expect("row")["held"].clone();
    assert_eq!(held, "0", "the task's price is no longer held: the task ended");
    let ended = r["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e.as_str())
        .find(|e| e.contains("TaskEnded"))
        .expect("the task ended");
    assert!(ended.contains("failed [m") && ended.contains("paid 1.425 SWK"), "the lazy miner is caught: {ended}");
    let events = r["events"].to_string();
    assert!(
        events.contains("UnbondMatured bob 120 SWK") && events.contains("HoldExpired #1 30 SWK back to carol"),
        "{events}"
    );
}
