//! A command that submits a transaction fails (non-zero exit) when the node refuses it at the door or its
//! block rejects it, in text and `--json` mode alike; `--json` still prints the node's typed answer.

use crate::support::{cli, cli_raw, key_of, write_genesis, Node};

fn run(home: &std::path::Path, url: &str, args: &[&str]) -> (bool, String, String) {
    let out = cli_raw(home, Some(url), args);
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn refused_and_rejected_transactions_fail_the_command_in_text_and_json_mode() {
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path().join("home");
    cli(&home, None, &["keys", "new", "alice"]);
    cli(&home, None, &["keys", "new", "bob"]);
    let genesis = write_genesis(dir.path(), &[key_of(&home, "alice")]);
    let node = Node::start(&dir.path().join("data"), Some(&genesis), 50, &[]);
    let url = node.url.clone();

    // Refused at the door: alice cannot pay 5,000 SWK out of 1,000.
    let too_much = ["tx", "transfer", "--from", "alice", "--to", "bob", "--amount", "5000 SWK", "--wait"];
    let (ok, stdout, stderr) = run(&home, &url, &too_much);
    assert!(!ok, "text mode must fail: {stdout}");
    assert!(stderr.contains("insufficient_funds"), "{stderr}");
    let (ok, stdout, _) = run(&home, &url, &[&too_much[..], &["--json"]].concat());
    assert!(!ok, "--json mode must fail too: {stdout}");
    let answer: api::SubmitResult = serde_json::from_str(&stdout).expect("--json prints the node's answer");
    assert_eq!((answer.status, answer.code.as_deref()), (api::SubmitStatus::Refused, Some("insufficient_funds")));

    // Committed but rejected in its block: cancelling a job that does not exist.
    let job = "01234567-89ab-cdef-0123-456789abcdef";
    let cancel = ["job", "cancel", job, "--from", "alice", "--wait"];
    let (ok, stdout, stderr) = run(&home, &url, &cancel);
    assert!(!ok, "text mode must fail: {stdout}");
    assert!(stderr.contains("unknown_job"), "{stderr}");
    let (ok, stdout, _) = run(&home, &url, &[&cancel[..], &["--json"]].concat());
    assert!(!ok, "--json mode must fail too (it used to exit 0): {stdout}");
    let answer: api::SubmitResult = serde_json::from_str(&stdout).expect("--json prints the node's answer");
    let receipt = answer.receipt.expect("committed with a receipt");
    assert_eq!((answer.status, receipt.code.as_deref()), (api::SubmitStatus::Committed, Some("unknown_job")));

    // And a transaction that applies succeeds in both modes.
    let fine = ["tx", "transfer", "--from", "alice", "--to", "bob", "--amount", "1 SWK", "--wait"];
    assert!(run(&home, &url, &fine).0);
    assert!(run(&home, &url, &[&fine[..], &["--json"]].concat()).0);
    node.sigterm();
}
