//! Many validators, end to end: four `stakework node --validator-key` processes on loopback, named in one
//! genesis, agree on every block through commonware (docs/CONSENSUS.md). A transaction sent to any one of
//! them is gossiped, finalized and answered with its receipt; every node serves the same blocks; with one
//! validator killed the other three (a quorum of 2f + 1) go on; with two killed nothing is finalized; the
//! two restarted from their data directories catch up, and all four agree again.

use crate::support::{self, cli, height, Node};
use ed25519_dalek::SigningKey;
use engine::{Call, TxBody};
use std::path::Path;
use std::time::{Duration, Instant};
use types::Amount;

const N: usize = 4;

/// The genesis: a funded user, and the validator set added with `stakework genesis add-validator` (each
/// validator's own account bonded 100 SWK), as docs/CONSENSUS.md tells an operator to build it.
fn write_genesis(home: &Path, dir: &Path, ports: &[u16], user: &str) -> std::path::PathBuf {
    let head = format!(
        "[params]\nchain_id = \"validators\"\nmin_fee = 1000\n[[accounts]]\nid = \"{user}\"\nfree = \"1000 SWK\"\n"
    );
    let path = support::write_validator_genesis(home, dir, &head, ports, &["100 SWK"; N]);
    let check = cli(home, None, &["genesis", "check", path.to_str().expect("utf8")]);
    assert!(check.contains("validators:   4 (tolerates 1 faulty)"), "{check}");
    path
}

/// A validator that cannot be added leaves the genesis file as it was, and says why with a code.
#[test]
fn adding_a_validator_twice_or_without_its_account_changes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path().join("home");
    cli(&home, None, &["keys", "new", "v0"]);
    let path = dir.path().join("genesis.toml");
    std::fs::write(&path, "[params]\nchain_id = \"g\"\n").expect("write");
    let file = path.to_str().expect("utf8");
    let add = |extra: &[&str]| {
        let mut args = vec!["genesis", "add-validator", file, "--key", "v0", "--p2p", "127.0.0.1:7700"];
        args.extend(extra);
        crate::support::cli_raw(&home, None, &args)
    };
    let out = add(&[]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("[genesis_invalid]"), "{out:?}");
    assert_eq!(std::fs::read_to_string(&path).expect("read"), "[params]\nchain_id = \"g\"\n", "unchanged");
    assert!(add(&["--bond", "10 SWK"]).status.success());
    let once = std::fs::read_to_string(&path).expect("read");
    let out = crate::support::cli_raw(
        &home,
        None,
        &["genesis", "add-validator", file, "--key", "v0", "--p2p", "127.0.0.1:7701", "--account", "v0"],
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("[genesis_invalid]"), "{out:?}");
    assert_eq!(std::fs::read_to_string(&path).expect("read"), once, "unchanged");
}

/// Send one transfer from the user to `node` and wait for its receipt (finalized).
fn transfer(node: &Node, user: &SigningKey, nonce: u64) -> serde_json::Value {
    let to = types::AccountId([7; 32]);
    let tx = TxBody {
        signer: types::AccountId(user.verifying_key().to_bytes()),
        nonce,
        fee: Amount(1_000),
        call: Call::Transfer { to, amount: Amount(5) },
    }
    .sign(user, "validators");
    let body = serde_json::to_vec(&tx).expect("json");
    let (status, v) = node.post_raw("/v1/txs?wait=commit&timeout_ms=30000", "application/json", &body);
    assert_eq!((status, v["receipt"]["code"].as_str()), (200, Some("ok")), "{v}");
    v
}

/// Wait until every node is at `h` or above.
fn wait_all(nodes: &[&Node], h: u64) {
    support::wait_all(nodes.iter().copied(), h, Duration::from_secs(60));
}

#[test]
fn four_validators_agree_through_one_crash_stall_at_two_and_catch_up_after_restarts() {
    let _alone = crate::support::validators_lock();
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path().join("home");
    for i in 0..N {
        cli(&home, None, &["keys", "new", &format!("v{i}")]);
    }
    let ports = devnet::cluster::free_p2p_ports(N).expect("free loopback ports");
    let user = SigningKey::from_bytes(&[77; 32]);
    let user_id = types::AccountId(user.verifying_key().to_bytes()).to_hex();
    let genesis = write_genesis(&home, dir.path(), &ports, &user_id);
    let started = Instant::now();
    let mut nodes: Vec<Node> =
        (0..N).map(|i| support::start_validator(&home, dir.path(), i, Some(&genesis), 200)).collect();

    // Sent to validator 2, committed (finalized) everywhere with the same receipt.
    let receipt = transfer(&nodes[2], &user, 0);
    let h = receipt["receipt"]["height"].as_u64().expect("a height");
    let refs: Vec<&Node> = nodes.iter().collect();
    wait_all(&refs, h + 2);
    let hash = receipt["hash"].as_str().expect("hash");
    for n in &nodes {
        let r = n.get(&format!("/v1/txs/{hash}")).expect("the transaction is known everywhere");
        assert_eq!((r["code"].as_str(), r["height"].as_u64()), (Some("ok"), Some(h)), "{r}");
    }
    let mut certified = 0;
    for height in 1..=h + 2 {
        let refs: Vec<&Node> = nodes.iter().collect();
        for b in same_block(&refs, height) {
            certified += usize::from(finality_checked(&b, height));
        }
    }
    eprintln!("{certified} of {} blocks served (4 nodes) with their own certificate", 4 * (h + 2));
    assert!(certified > 0, "no block carries its own certificate");
    eprintln!("4 validators finalized {} blocks in {:?}", h + 2, started.elapsed());

    // One crash (f = 1 of 4): the other three still finalize.
    let dead = nodes.pop().expect("validator 3");
    let dead_url = dead.url.clone();
    dead.sigkill();
    // The CLI given several validators (`--node URL,URL`) fails over from the dead one.
    let list = format!("{dead_url},{}", nodes[0].url);
    let account = cli(&home, Some(&list), &["query", "account", &user_id, "--json"]);
    assert!(account.contains("\"nonce\": 1"), "{account}");
    let mut acked = vec![hash.to_string()];
    let receipt = transfer(&nodes[0], &user, 1);
    acked.push(receipt["hash"].as_str().expect("hash").to_string());
    let h = receipt["receipt"]["height"].as_u64().expect("a height");
    let refs: Vec<&Node> = nodes.iter().collect();
    wait_all(&refs, h);
    same_block(&refs, h);

    // A second crash: no quorum (2 of 4), so nothing more is finalized anywhere.
    nodes.pop().expect("validator 2").sigkill();
    // Votes sent before the kill may still complete a finalization in flight: let them land first.
    std::thread::sleep(Duration::from_secs(1));
    let stalled: Vec<u64> = nodes.iter().map(height).collect();
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(nodes.iter().map(height).collect::<Vec<_>>(), stalled, "finalized without a quorum");

    // Both restart from their data directories: they catch up, and all four agree again.
    let restarted = Instant::now();
    for i in [2, 3] {
        nodes.push(support::start_validator(&home, dir.path(), i, None, 200));
    }
    let receipt = transfer(&nodes[1], &user, 2);
    acked.push(receipt["hash"].as_str().expect("hash").to_string());
    let h = receipt["receipt"]["height"].as_u64().expect("a height");
    let refs: Vec<&Node> = nodes.iter().collect();
    wait_all(&refs, h);
    same_block(&refs, h);
    eprintln!("two restarted validators caught up to height {h} in {:?}", restarted.elapsed());
    for n in &nodes {
        for hash in &acked {
            let r = n.get(&format!("/v1/txs/{hash}")).expect("every acknowledged transaction is everywhere");
            assert_eq!(r["code"], "ok", "{r}");
        }
    }
    for n in nodes {
        n.sigterm();
    }
}

/// Every node serves the same block at height `h` (hash, state root, transactions, events); each node's
/// finality evidence is its own (another set of signers may have reached it), so it is left out of the
/// comparison. The blocks, finality included.
fn same_block(nodes: &[&Node], h: u64) -> Vec<serde_json::Value> {
    let blocks: Vec<serde_json::Value> =
        nodes.iter().map(|n| n.get(&format!("/v1/blocks/{h}")).expect("a block")).collect();
    let without = |b: &serde_json::Value| {
        let mut b = b.clone();
        b.as_object_mut().expect("a block object").remove("finality");
        b
    };
    assert!(blocks.iter().all(|b| without(b) == without(&blocks[0])), "validators disagree at height {h}: {blocks:?}");
    blocks
}

/// The block's finality is a certificate of at least 3 of the 4 validators (then true), or says it was
/// finalized as an ancestor of a later certified block.
fn finality_checked(block: &serde_json::Value, h: u64) -> bool {
    let f = &block["finality"];
    match f["kind"].as_str() {
        Some("certificate") => {
            let signers = f["signers"].as_array().map_or(0, Vec::len) as u64;
            assert_eq!(f["signer_count"].as_u64(), Some(signers), "{f}");
            assert!(signers >= 3 && f["quorum"] == 3 && f["validators"] == 4, "block {h}: {f}");
            assert!(f["proposer"].as_str().is_some_and(|p| p.len() == 64), "{f}");
            assert!(f["certificate"].as_str().is_some_and(|c| !c.is_empty()), "{f}");
            true
        }
        Some("ancestor") => {
            assert!(f["certified_height"].as_u64().is_some_and(|c| c > h), "block {h}: {f}");
            false
        }
        _ => panic!("block {h} has no finality evidence: {f}"),
    }
}
