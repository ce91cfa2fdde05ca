//! Routers, epoch points, emission and lists through the CLI and a real node: a router and a node report
//! an epoch's traffic, the epoch ends, the router is paid from the routers' pool, the block producer's
//! points take the points pool, and a published list shows up.

use crate::support::{cli, cli_raw, key_of, Node};
use std::time::{Duration, Instant};

#[test]
fn a_router_is_paid_for_validated_traffic_and_points_split_the_pool() {
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path().join("home");
    for k in ["router", "n1", "producer", "curator"] {
        cli(&home, None, &["keys", "new", k]);
    }
    let producer = key_of(&home, "producer");
    let mut genesis = format!(
        "[params]\nchain_id = \"e2e\"\nmin_fee = 1000\nepoch_length = 40\nrouter_stake_min = \"10 SWK\"\n\
         data_owner_stake_min = \"1 SWK\"\nemission_per_epoch = \"100 SWK\"\nblock_producer = \"{producer}\"\n\
         router_reward_per_mb = \"1 SWK\"\nrouter_bytes_allowance = 4000000\n"
    );
    for k in ["router", "n1", "producer", "curator"] {
        genesis.push_str(&format!(
            "[[accounts]]\nid = \"{}\"\nfree = \"10 SWK\"\nbonded = \"20 SWK\"\n",
            key_of(&home, k)
        ));
    }
    let path = dir.path().join("genesis.toml");
    std::fs::write(&path, genesis).expect("genesis");
    let node = Node::start(&dir.path().join("data"), Some(&path), 50, &[]);
    let url = node.url.as_str();
    let run = |args: &[&str]| cli(&home, Some(url), args);

    run(&["router", "register", "--from", "router", "--endpoint", "http://127.0.0.1:1", "--wait"]);
    run(&["node", "register", "--from", "n1", "--role", "data-owner", "--endpoint", "http://127.0.0.1:2", "--wait"]);
    run(&["router", "accept", "--from", "router", "--member", "n1", "--wait"]);
    run(&["router", "attach", "--from", "n1", "--router", "router", "--wait"]);
    let epoch: serde_json::Value = serde_json::from_str(&run(&["query", "epoch", "--json"])).expect("epoch json");
    let e = epoch["epoch"].as_u64().expect("epoch").to_string();
    run(&[
        "router",
        "report",
        "--from",
        "router",
        "--epoch",
        &e,
        "--validator-latency-ms",
        "100",
        "--traffic",
        "n1,3000000,1000000,100,90",
        "--wait",
    ]);
    run(&["router", "traffic", "--from", "n1", "--router", "router", "--epoch", &e, "--bytes", "4000000", "--wait"]);
    let twice = cli_raw(
        &home,
        Some(url),
        &["router", "traffic", "--from", "n1", "--router", "router", "--epoch", &e, "--bytes", "1", "--wait"],
    );
    assert!(String::from_utf8_lossy(&twice.stderr).contains("already_reported"));
    let bad = cli_raw(&home, Some(url), &["router", "report", "--from", "n1", "--validator-latency-ms", "1", "--wait"]);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("not_authorized"));
    run(&["list", "publish", "slow", "--from", "curator", "--member", "n1", "--wait"]);

    // Wait for the epoch to end (40 blocks of 50 ms).
    let end = epoch["last_height"].as_u64().expect("last height");
    let deadline = Instant::now() + Duration::from_secs(30);
    while node.health()["height"].as_u64().unwrap_or(0) <= end {
        assert!(Instant::now() < deadline, "the epoch did not end");
        std::thread::sleep(Duration::from_millis(100));
    }
    let events = node.get("/v1/events?since=1&limit=1000").expect("events").to_string();
    for e in ["emission_minted", "router_rewarded", "points_rewarded", "list_published"] {
        assert!(events.contains(e), "no {e} event");
    }
    // R = 1 SWK per MB × 4 MB × (1 − 200/1000) × 0.5 = 1.6 SWK, paid from the routers' pool (15 SWK).
    let router: serde_json::Value = node.get(&format!("/v1/accounts/{}", key_of(&home, "router"))).expect("router");
    // Three fees of 1,000: register, accept, report.
    assert_eq!(router["free"], (10_000_000_000u128 + 1_600_000_000 - 3_000).to_string(), "{router}");
    let points = run(&["query", "points"]);
    assert!(points.contains(&producer[..16]), "the producer earned block points: {points}");
    let lists = run(&["query", "lists"]);
    assert!(lists.contains("slow") && lists.contains("underperformers"), "{lists}");
    assert!(run(&["router", "list"]).contains(&key_of(&home, "n1")));
}
