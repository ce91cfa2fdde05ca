//! A federated training job through the CLI and a real node: order, StakeIn with a top-up, MPC selection,
//! deposits, status heartbeats, completion and settlement, `query job`, and the bad inputs the issue names.

use crate::support::{cli, cli_raw, key_of, Node};

const JOB: &str = "5e5e5e5e-0000-4000-8000-000000000001";
const ROLES: [(&str, &str); 5] =
    [("gds", "coordinator"), ("do1", "data-owner"), ("do2", "data-owner"), ("mpc1", "mpc"), ("eve", "data-owner")];

fn refused(home: &std::path::Path, url: &str, args: &[&str], code: &str) {
    let out = cli_raw(home, Some(url), args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains(code), "stakework {args:?} should fail with {code}: {err}");
}

#[test]
fn a_job_from_order_to_settlement_through_the_cli() {
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path().join("home");
    let mut genesis = String::from(
        "[params]\nchain_id = \"e2e\"\nmin_fee = 1000\ndata_owner_stake_min = \"1 SWK\"\nmpc_stake_min = \"1 SWK\"\n\
         coordinator_stake_min = \"1 SWK\"\njob_heartbeat_timeout = 3600\n",
    );
    for k in ["gds", "qc", "do1", "do2", "mpc1", "eve"] {
        cli(&home, None, &["keys", "new", k]);
        genesis.push_str(&format!(
            "[[accounts]]\nid = \"{}\"\nfree = \"100 SWK\"\nbonded = \"10 SWK\"\n",
            key_of(&home, k)
        ));
    }
    let path = dir.path().join("genesis.toml");
    std::fs::write(&path, genesis).expect("genesis");
    let node = Node::start(&dir.path().join("data"), Some(&path), 50, &[]);
    let url = node.url.as_str();
    let run = |args: &[&str]| cli(&home, Some(url), args);
    for (k, role) in ROLES {
        run(&["node", "register", "--from", k, "--role", role, "--endpoint", "http://127.0.0.1:1", "--wait"]);
    }

    // GDS orders 2 DOs at 1 SWK; the quote (2 SWK) is below the final price with one MPC (3.3 SWK).
    let order = [
        "job", "order", "--from", "gds", "--id", JOB, "--qc", "qc", "--do", "do1", "--do", "do2", "--price", "1 SWK",
        "--epochs", "4", "--quote", "2 SWK", "--wait",
    ];
    run(&order);
    run(&["job", "query", JOB, "--from", "qc", "--wait"]);
    run(&["job", "select-mpcs", JOB, "--from", "gds", "--mpc", "mpc1", "--wait"]);
    let view = node.get(&format!("/v1/jobs/{JOB}")).expect("job");
    assert_eq!(view["due"], "1300000000", "the QC owes the rest of the final price: {view}");
    run(&["job", "query", JOB, "--from", "qc", "--wait"]);
    refused(&home, url, &["job", "accept", JOB, "--from", "eve", "--wait"], "not_authorized");
    for k in ["do1", "do2", "mpc1"] {
        run(&["job", "accept", JOB, "--from", k, "--wait"]);
    }
    let view = node.get(&format!("/v1/jobs/{JOB}")).expect("job");
    assert_eq!(view["phase"], "dispatched", "{view}");
    assert_eq!(view["escrow"], "9500000000", "3.3 SWK StakeIn + 3 deposits of 2 SWK + the GDS's 0.2 SWK bond: {view}");

    // Bad input: each refused with its code.
    let status = |who: &'static str, t: &'static str, epoch: &'static str, s: &'static str| {
        ["job", "status", JOB, "--from", who, "--type", t, "--epoch", epoch, "--status", s, "--wait"]
    };
    refused(&home, url, &status("eve", "training", "1", "in-progress"), "not_authorized");
    refused(&home, url, &status("do1", "psi", "0", "started"), "invalid_job_status");
    run(&status("do1", "training", "2", "in-progress"));
    refused(&home, url, &status("do1", "training", "1", "in-progress"), "epoch_went_back");
    let report = ["job", "report", JOB, "--from", "gds", "--offender", "do2", "--fault", "no-heartbeat", "--wait"];
    refused(&home, url, &report, "heartbeat_not_expired");
    refused(&home, url, &["job", "cancel", JOB, "--from", "eve", "--wait"], "not_authorized");
    // A non-compliance report names the result the member posted; only an accused member appeals.
    let result = "07".repeat(32);
    let report_result =
        ["job", "report-result", JOB, "--from", "gds", "--member", "do2", "--result", &result, "--wait"];
    refused(&home, url, &report_result, "result_not_posted");
    run(&["job", "post-result", JOB, "--from", "do2", "--result", &result, "--wait"]);
    refused(&home, url, &["job", "appeal", JOB, "--from", "do2", "--wait"], "invalid_appeal");

    run(&status("do1", "training", "whole", "completed"));
    run(&status("do2", "training", "whole", "completed"));
    run(&status("mpc1", "aggregation", "whole", "completed"));
    refused(&home, url, &["job", "cancel", JOB, "--from", "qc", "--wait"], "wrong_job_phase");

    let shown = run(&["query", "job", JOB]);
    assert!(shown.contains("Settled") && shown.contains("escrow 0") && shown.contains("history:"), "{shown}");
    let json: serde_json::Value = serde_json::from_str(&run(&["query", "job", JOB, "--json"])).expect("json");
    assert_eq!(json["escrow"], "0");
    assert_eq!(json["outcome"]["outcome"], "completed");
    // do1: 100 SWK, plus 1 SWK promised, less 5 fees of 1000 base units (register, accept, 3 statuses;
    // refused transactions cost nothing).
    let do1: serde_json::Value = node.get(&format!("/v1/accounts/{}", key_of(&home, "do1"))).expect("account");
    assert_eq!(do1["free"], (101_000_000_000u128 - 4 * 1_000).to_string(), "{do1}");
    let events = node.get("/v1/events?since=1&limit=1000").expect("events").to_string();
    for e in ["job_dispatched", "reward_distributed", "refund", "job_settled"] {
        assert!(events.contains(e), "no {e} event");
    }
}
