//! A protocol upgrade on a live network (issue 21, item 4): four `stakework node --validator-key`
//! processes, one of them started with `--max-protocol-version 1` as an operator who did not upgrade its
//! binary. A bonded account proposes protocol version 2 at height H and votes it through with real
//! transactions (`stakework gov propose … upgrade`, `gov vote`). Before H a transaction's fee goes to the
//! treasury; from H on the three upgraded validators burn it (version 2's rule), observed over HTTP, and go
//! on finalizing (3 of 4 is a quorum); the fourth stops at H, naming the version, with exit code 76.

use crate::support::{self, cli, height, key_of, Node};
use std::path::Path;
use std::time::{Duration, Instant};

const N: usize = 4;
const FEE: u128 = 1_000;

/// Ten-block epochs and a four-block vote; no emission, so only fees move the treasury and the burned total.
fn write_genesis(home: &Path, dir: &Path, ports: &[u16], user: &str) -> std::path::PathBuf {
    let head = format!(
        "[params]\nchain_id = \"upgrade\"\nmin_fee = {FEE}\nepoch_length = 10\nvoting_period = 4\n\
         unbonding_period = 8\nemission_per_epoch = 0\n[[accounts]]\nid = \"{user}\"\nfree = \"1000 SWK\"\n\
         bonded = \"1000 SWK\"\n"
    );
    support::write_validator_genesis(home, dir, &head, ports, &vec!["100 SWK"; ports.len()])
}

fn wait_all(nodes: &[Node], h: u64) {
    support::wait_all(nodes, h, Duration::from_secs(90));
}

/// (treasury's free balance, tokens burned) as `node` serves them.
fn fee_sinks(node: &Node, treasury: &str) -> (u128, u128) {
    let amount = |v: &serde_json::Value| v.as_str().and_then(|s| s.parse().ok()).or(v.as_u64().map(u128::from));
    let t = node.get(&format!("/v1/accounts/{treasury}")).map_or(0, |a| amount(&a["free"]).expect("free"));
    let b = amount(&node.get("/v1/supply").expect("supply")["burned"]).expect("burned");
    (t, b)
}

/// A transfer from `user` through the CLI, waited for: the height it was finalized at.
fn transfer(home: &Path, node: &Node) -> u64 {
    let to = types::AccountId([7; 32]).to_hex();
    let args = ["--json", "tx", "transfer", "--from", "user", "--to", &to, "--amount", "5", "--fee", "1000", "--wait"];
    let out = cli(home, Some(&node.url), &args);
    let v: serde_json::Value = serde_json::from_str(&out).expect("json receipt");
    assert_eq!(v["receipt"]["code"], "ok", "{v}");
    v["receipt"]["height"].as_u64().expect("height")
}

#[test]
fn three_upgraded_validators_switch_rules_at_h_and_the_old_binary_stops_there() {
    let _alone = crate::support::validators_lock();
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path().join("home");
    for i in 0..N {
        cli(&home, None, &["keys", "new", &format!("v{i}")]);
    }
    cli(&home, None, &["keys", "new", "user"]);
    let ports = devnet::cluster::free_p2p_ports(N).expect("free loopback ports");
    let genesis = write_genesis(&home, dir.path(), &ports, &key_of(&home, "user"));
    let mut nodes: Vec<Node> =
        (0..N - 1).map(|i| support::start_validator(&home, dir.path(), i, Some(&genesis), 200)).collect();
    let old_log = dir.path().join("old.log");
    let old_key = home.join("keys").join("v3.json");
    let old_args = ["--validator-key", old_key.to_str().expect("utf8"), "--max-protocol-version", "1"];
    let mut old = Node::start_logged(&dir.path().join("data3"), Some(&genesis), 200, &old_args, &old_log);
    let params: serde_json::Value = old.get("/v1/params").expect("params");
    assert_eq!(
        (params["params"]["protocol_version"].as_u64(), params["max_protocol_version"].as_u64()),
        (Some(1), Some(1))
    );
    let treasury = params["treasury"].as_str().expect("treasury").to_string();
    let url = nodes[0].url.clone();

    // Too soon (less than voting_period + epoch_length ahead) and a skipped version: refused with codes.
    let h0 = height(&nodes[0]);
    let refused = crate::support::cli_raw(
        &home,
        Some(&url),
        &["gov", "propose", "--from", "user", "--wait", "upgrade", "--version", "2", "--height", &(h0 + 5).to_string()],
    );
    assert!(String::from_utf8_lossy(&refused.stderr).contains("upgrade_too_soon"), "{refused:?}");
    let refused = crate::support::cli_raw(
        &home,
        Some(&url),
        &[
            "gov",
            "propose",
            "--from",
            "user",
            "--wait",
            "upgrade",
            "--version",
            "3",
            "--height",
            &(h0 + 40).to_string(),
        ],
    );
    assert!(String::from_utf8_lossy(&refused.stderr).contains("upgrade_version_not_next"), "{refused:?}");

    // The upgrade: proposed, voted by the user's bonded majority, recorded when the vote ends.
    let h = height(&nodes[0]) + 30;
    cli(
        &home,
        Some(&url),
        &["gov", "propose", "--from", "user", "--wait", "upgrade", "--version", "2", "--height", &h.to_string()],
    );
    cli(&home, Some(&url), &["gov", "vote", "--from", "user", "--proposal", "1", "yes", "--wait"]);
    let deadline = Instant::now() + Duration::from_secs(60);
    while nodes[0].get("/v1/params").expect("params")["scheduled_upgrade"].is_null() {
        assert!(Instant::now() < deadline, "the upgrade was never scheduled");
        std::thread::sleep(Duration::from_millis(200));
    }
    for n in nodes.iter().chain([&old]) {
        let p = n.get("/v1/params").expect("params");
        assert_eq!(p["scheduled_upgrade"], serde_json::json!({"version": 2, "height": h}), "{p}");
    }

    // Before H (version 1): the fee goes to the treasury.
    let before = fee_sinks(&nodes[1], &treasury);
    let at = transfer(&home, &nodes[1]);
    assert!(at < h, "the version 1 transfer landed at {at}, not before {h}");
    wait_all(&nodes, at);
    assert_eq!(fee_sinks(&nodes[1], &treasury), (before.0 + FEE, before.1), "version 1 credits the treasury");

    // The old binary stops at H: it never executes block H, and says why.
    let (code, log) = old.wait_exit(Duration::from_secs(90));
    let message = format!(
        "protocol version 2 scheduled at height {h} is not supported by this binary (supports up to 1); upgrade \
         stakework"
    );
    assert!(log.contains(&message), "{log}");
    assert_eq!(code, Some(node::EXIT_UNSUPPORTED_PROTOCOL), "{log}");
    let replayed =
        devnet::process::replay(Path::new(crate::support::BIN), &dir.path().join("data3"), 1).expect("replay");
    assert_eq!(replayed.height, h - 1, "the old binary's log ends before H");

    // The three upgraded validators go on past H under version 2: the fee is burned.
    wait_all(&nodes, h + 2);
    for n in &nodes {
        let p = n.get("/v1/params").expect("params");
        assert_eq!(
            (p["params"]["protocol_version"].as_u64(), p["scheduled_upgrade"].is_null()),
            (Some(2), true),
            "{p}"
        );
    }
    let before = fee_sinks(&nodes[2], &treasury);
    let at = transfer(&home, &nodes[2]);
    assert!(at >= h);
    wait_all(&nodes, at);
    for n in &nodes {
        assert_eq!(fee_sinks(n, &treasury), (before.0, before.1 + FEE), "version 2 burns the fee");
    }
    eprintln!("upgraded to version 2 at height {h}; the old binary stopped with exit code 76");
    drop(old);
    for n in nodes.drain(..) {
        n.sigterm();
    }
}

/// A single node (the sequencer) behind the version stops the same way; a limit above what the binary
/// implements is refused at start.
#[test]
fn a_single_node_behind_the_version_stops_at_h_and_an_impossible_limit_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path().join("home");
    cli(&home, None, &["keys", "new", "user"]);
    let genesis = write_genesis(&home, dir.path(), &[], &key_of(&home, "user"));
    let data = dir.path().join("data");
    let out = std::process::Command::new(crate::support::BIN)
        .args(["node", "--listen", "127.0.0.1:0", "--max-protocol-version", "3", "--data"])
        .arg(&data)
        .arg("--genesis")
        .arg(&genesis)
        .output()
        .expect("run stakework node");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("[config_invalid]") && err.contains("--max-protocol-version"),
        "{err}"
    );

    let log = dir.path().join("node.log");
    let mut node = Node::start_logged(&data, Some(&genesis), 100, &["--max-protocol-version", "1"], &log);
    let h = height(&node) + 25;
    let url = node.url.clone();
    cli(
        &home,
        Some(&url),
        &["gov", "propose", "--from", "user", "--wait", "upgrade", "--version", "2", "--height", &h.to_string()],
    );
    cli(&home, Some(&url), &["gov", "vote", "--from", "user", "--proposal", "1", "yes", "--wait"]);
    let (code, log) = node.wait_exit(Duration::from_secs(60));
    assert!(
        log.contains(&format!(
            "protocol version 2 scheduled at height {h} is not supported by this binary (supports up to 1)"
        )),
        "{log}"
    );
    assert_eq!(code, Some(node::EXIT_UNSUPPORTED_PROTOCOL), "{log}");
    let replayed = devnet::process::replay(Path::new(crate::support::BIN), &data, 1).expect("replay");
    assert_eq!(replayed.height, h - 1, "the log ends before H");
    // Restarted with the binary's own limit, it runs block H under version 2.
    let node = Node::start(&data, None, 100, &[]);
    let deadline = Instant::now() + Duration::from_secs(30);
    while height(&node) < h {
        assert!(Instant::now() < deadline, "the upgraded node did not pass H");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(node.get("/v1/params").expect("params")["params"]["protocol_version"], 2);
    node.sigterm();
}
