//! The inference market through the CLI and a real node: register, request, complete, rate, reputation,
//! governance, and the bad inputs the issue names, each refused with its code.

use crate::support::{cli, cli_raw, key_of, Node};

fn refused(home: &std::path::Path, url: &str, args: &[&str]) -> String {
    let out = cli_raw(home, Some(url), args);
    assert!(!out.status.success(), "stakework {args:?} should fail");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_request_from_submission_to_rating_and_a_governance_vote() {
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path().join("home");
    for k in ["miner", "client", "poor"] {
        cli(&home, None, &["keys", "new", k]);
    }
    let (miner, client, poor) = (key_of(&home, "miner"), key_of(&home, "client"), key_of(&home, "poor"));
    let genesis = format!(
        r#"[params]
chain_id = "e2e"
min_fee = 1000
miner_stake_min = "100 SWK"
rating_window = 200
voting_period = 40

[[accounts]]
id = "{miner}"
free = "10 SWK"
bonded = "200 SWK"

[[accounts]]
id = "{client}"
free = "100 SWK"
bonded = "10 SWK"

[[accounts]]
id = "{poor}"
free = "10 SWK"

[[services]]
name = "text"
weight = 1
price = "0.5 SWK"
"#
    );
    let path = dir.path().join("genesis.toml");
    std::fs::write(&path, genesis).expect("genesis");
    let node = Node::start(&dir.path().join("data"), Some(&path), 50, &[]);
    let url = node.url.as_str();
    let run = |args: &[&str]| cli(&home, Some(url), args);

    let err = refused(
        &home,
        url,
        &[
            "node",
            "register",
            "--from",
            "poor",
            "--role",
            "miner",
            "--service",
            "1",
            "--endpoint",
            "http://p",
            "--wait",
        ],
    );
    assert!(err.contains("insufficient_stake"), "{err}");
    run(&[
        "node",
        "register",
        "--from",
        "miner",
        "--role",
        "miner",
        "--service",
        "1",
        "--endpoint",
        "http://127.0.0.1:9",
        "--wait",
    ]);
    let listed = run(&["service", "list"]);
    assert!(listed.contains("text") && listed.contains("0.5 SWK"), "{listed}");
    let out = run(&["request", "submit", "--from", "client", "--service", "1", "--wait", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["receipt"]["events"][0]["miner"], miner.as_str(), "the only Ready miner gets it");
    let err = refused(&home, url, &["request", "rate", "--from", "client", "--request", "1", "good", "--wait"]);
    assert!(err.contains("request_not_completed"), "{err}");
    run(&["request", "complete", "--from", "miner", "--request", "1", "--result", "hello", "--wait"]);
    let err = refused(&home, url, &["request", "rate", "--from", "poor", "--request", "1", "bad", "--wait"]);
    assert!(err.contains("not_authorized"), "{err}");
    run(&["request", "rate", "--from", "client", "--request", "1", "good", "--wait"]);
    let rep = run(&["query", "reputation", "miner", "--json"]);
    let r: serde_json::Value = serde_json::from_str(&rep).expect("json");
    // The client paid 0.5 SWK of the 1 SWK `rating_weight_cap`: its Good weighs half a rating, x = 3/5.5.
    assert_eq!(r["reputation"], 611_719_410, "one half-weight Good rating over the neutral prior");
    let m = node.get(&format!("/v1/accounts/{miner}")).expect("miner");
    assert_eq!(m["free"], "10474998000", "10 SWK - 2 fees + 0.5 SWK less the 5% protocol fee");
    let shown = run(&["query", "node", "miner"]);
    assert!(shown.contains("\"ready\"") && shown.contains("611719410"), "{shown}");

    // A PoUW task: the only Ready miner other than the client becomes its creator; price × k is held.
    let err =
        refused(&home, url, &["task", "submit", "--from", "client", "--service", "1", "--redundancy", "2", "--wait"]);
    assert!(err.contains("invalid_task"), "k = 2 is too few to outvote a colluding pair: {err}");
    run(&["task", "submit", "--from", "client", "--service", "1", "--redundancy", "3", "--wait"]);
    let t: serde_json::Value = serde_json::from_str(&run(&["query", "task", "1"])).expect("task json");
    assert_eq!((t["state"].as_str(), t["creator"].as_str()), (Some("requested"), Some(miner.as_str())), "{t}");
    assert_eq!(t["origin"]["price"], "1500000000", "0.5 SWK × 3");
    let err = refused(&home, url, &["task", "advance", "--from", "client", "--task", "1", "--wait"]);
    assert!(err.contains("not_an_oracle"), "{err}");
    let err = refused(
        &home,
        url,
        &["gov", "propose", "--from", "poor", "--wait", "set-weight", "--service", "1", "--weight", "2"],
    );
    assert!(err.contains("no_stake"), "{err}");
    let err = refused(
        &home,
        url,
        &["gov", "propose", "--from", "client", "--wait", "set-weight", "--service", "1", "--weight", "0"],
    );
    assert!(err.contains("zero_weight"), "{err}");
    run(&["gov", "propose", "--from", "client", "--wait", "set-weight", "--service", "1", "--weight", "2"]);
    let err = refused(&home, url, &["gov", "vote", "--from", "poor", "--proposal", "1", "yes", "--wait"]);
    assert!(err.contains("no_stake"), "{err}");
    run(&["gov", "vote", "--from", "miner", "--proposal", "1", "yes", "--wait"]);
    let list = run(&["gov", "list"]);
    assert!(list.contains("set_service_weight"), "{list}");
    let p = node.get("/v1/proposals/1").expect("proposal");
    assert_eq!(p["yes"], "200000000000");
    node.sigterm();
}
