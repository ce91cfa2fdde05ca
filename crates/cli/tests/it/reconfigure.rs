//! A validator set that changes on a live network (issue 21 item 3): five `stakework node --validator-key`
//! processes on loopback, five genesis candidates for four seats, eras of `ERA` blocks. Candidate E (v4)
//! has the least own stake and is out of era 0's set; a user nominates E's stash during era 0 with
//! `stakework tx nominate`, lifting it above A (v0), the weakest elected. Era 0's last block elects era 1's
//! set without A and with E; consensus moves to it at the boundary: era 1's blocks are certified by its
//! members only (E signs some, A none), pay their proposers (E's stash for E's blocks), and A, now a
//! follower, finalizes the same chain as the four others. The supply stays conserved on every node.

use crate::support::{self, cli, height, key_of, Node};
use serde_json::Value;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

const N: usize = 5;
const ERA: u64 = 20;
const A: usize = 0;
const E: usize = 4;
/// Own stakes: A 200, B 300, C 400, D 500, E 100 SWK; the nomination lifts E to 250.
const BONDS: [&str; N] = ["200 SWK", "300 SWK", "400 SWK", "500 SWK", "100 SWK"];
const NOMINATION: &str = "150 SWK";
const PATIENCE: Duration = Duration::from_secs(60);

fn keys_of(v: &Value) -> BTreeSet<String> {
    v.as_array().expect("a list of validators").iter().map(|x| x["key"].as_str().expect("key").to_string()).collect()
}

/// Every node serves the same block at `h` (all but its own finality evidence); the blocks.
fn same_block(nodes: &[Node], h: u64) -> Vec<Value> {
    let blocks: Vec<Value> = nodes.iter().map(|n| n.get(&format!("/v1/blocks/{h}")).expect("a block")).collect();
    let without = |b: &Value| {
        let mut b = b.clone();
        b.as_object_mut().expect("a block object").remove("finality");
        b
    };
    assert!(blocks.iter().all(|b| without(b) == without(&blocks[0])), "validators disagree at height {h}: {blocks:?}");
    blocks
}

fn events<'a>(block: &'a Value, kind: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
    block["events"].as_array().expect("events").iter().filter(move |e| e["event"] == kind)
}

/// Five validators of one genesis on loopback, and the user's nomination of E finalized in era 0.
struct Net {
    dir: tempfile::TempDir,
    home: std::path::PathBuf,
    keys: Vec<String>,
    user: String,
    /// Era 0's set (all but E) and era 1's (all but A).
    era0: BTreeSet<String>,
    era1: BTreeSet<String>,
    nodes: Vec<Node>,
    started: Instant,
}

impl Net {
    fn start() -> Net {
        let dir = tempfile::tempdir().expect("tempdir");
        let home = dir.path().join("home");
        for name in ["v0", "v1", "v2", "v3", "v4", "user"] {
            cli(&home, None, &["keys", "new", name]);
        }
        let keys: Vec<String> = (0..N).map(|i| key_of(&home, &format!("v{i}"))).collect();
        let without = |i: usize| keys.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, k)| k.clone()).collect();
        let (era0, era1) = (without(E), without(A));
        let user = key_of(&home, "user");
        let ports = devnet::cluster::free_p2p_ports(N).expect("free loopback ports");
        let head = format!(
            "[params]\nchain_id = \"reconfigure\"\nmin_fee = 1000\nera_blocks = {ERA}\nvalidators_max = 4\n\
             [[accounts]]\nid = \"{user}\"\nfree = \"1000 SWK\"\n"
        );
        let genesis = support::write_validator_genesis(&home, dir.path(), &head, &ports, &BONDS);
        let started = Instant::now();
        let nodes: Vec<Node> =
            (0..N).map(|i| support::start_validator(&home, dir.path(), i, Some(&genesis), 200)).collect();

        // Era 0: four seats, E out.
        for n in &nodes {
            let v = n.get("/v1/validators").expect("validators");
            assert_eq!((v["era_blocks"].as_u64(), v["validators_max"].as_u64()), (Some(ERA), Some(4)), "{v}");
            assert_eq!(v["candidates"].as_array().map(Vec::len), Some(N), "{v}");
            if v["era"] == 0 {
                assert_eq!(keys_of(&v["current"]), era0, "era 0's set: {v}");
            }
        }

        // The nomination, sent to D (in era 0's set) and waited for: it must land before era 0's last block.
        let args = ["--json", "tx", "nominate", "--from", "user", "--to", &keys[E], "--amount", NOMINATION, "--wait"];
        let out = cli(&home, Some(&nodes[3].url), &args);
        let receipt: Value = serde_json::from_str(&out).expect("json receipt");
        assert_eq!(receipt["receipt"]["code"], "ok", "{receipt}");
        let at = receipt["receipt"]["height"].as_u64().expect("height");
        eprintln!("nomination finalized at height {at} after {:?}", started.elapsed());
        assert!(
            at < ERA,
            "the nomination landed at height {at}, after era 0 (heights < {ERA}): the network is too slow"
        );
        Net { dir, home, keys, user, era0, era1, nodes, started }
    }
}

#[test]
fn a_nominated_candidate_enters_the_set_at_the_era_boundary_and_the_weakest_leaves() {
    let _alone = support::validators_lock();
    let Net { dir: _dir, home, keys, user, era0, era1, nodes, started } = Net::start();
    // Era 0's last block elects era 1's set: E in, A out, on every node.
    support::wait_all(&nodes, ERA - 1, PATIENCE);
    for b in same_block(&nodes, ERA - 1) {
        let elected: Vec<&Value> = events(&b, "validator_set_elected").collect();
        assert_eq!(elected.len(), 1, "block {}: {:?}", ERA - 1, b["events"]);
        assert_eq!(elected[0]["era"], 1, "{}", elected[0]);
        assert_eq!(keys_of(&elected[0]["validators"]), era1, "era 1's set: {}", elected[0]);
        let e = elected[0]["validators"].as_array().and_then(|v| v.iter().find(|x| x["key"] == keys[E].as_str()));
        assert_eq!(e.map(|x| &x["weight"]), Some(&Value::from("250000000000")), "E's own 100 + 150 SWK nominated");
    }
    let crossed = started.elapsed();

    // In era 1 every node serves era 1's set as the set in force.
    support::wait_all(&nodes, ERA, PATIENCE);
    for n in &nodes {
        let v = n.get("/v1/validators").expect("validators");
        assert!(v["era"].as_u64().is_some_and(|e| e >= 1), "{v}");
        assert_eq!(keys_of(&v["current"]), era1, "era 1's set in force: {v}");
    }

    // Well past the boundary, all five (A following) serve the same chain.
    let end = 2 * ERA + 5;
    support::wait_all(&nodes, end, PATIENCE);
    eprintln!("5 validators at height {end} after {:?} (era 1 elected after {crossed:?})", started.elapsed());
    for n in &nodes {
        let v = n.get("/v1/validators").expect("validators");
        assert!(v["era"].as_u64().is_some_and(|e| e >= 1), "{v}");
        assert_eq!(keys_of(&v["current"]), era1, "era 2 keeps era 1's set (no stake moved): {v}");
    }

    // Era 0's certificates: its set only. Era 1 and after: era 1's set only, E signing some, A none; every
    // block pays its proposer, the leader of the view that certified it (but an era's last block, which
    // later views re-propose), and E's blocks pay E's stash.
    let (mut signed_by_e, mut proposed_by_e, mut certified, mut reproposed) = (0, 0, 0, 0);
    let mut e_block = None;
    for h in 1..=end {
        let blocks = same_block(&nodes, h);
        let set = if h < ERA { &era0 } else { &era1 };
        let rewarded: Vec<&Value> = events(&blocks[0], "validator_rewarded").collect();
        assert_eq!(rewarded.len(), 1, "block {h} pays one proposer: {:?}", blocks[0]["events"]);
        let proposer = rewarded[0]["key"].as_str().expect("key");
        assert!(set.contains(proposer), "block {h} proposed by {proposer}, outside its era's set");
        assert_eq!(blocks[0]["proposer"].as_str(), Some(proposer), "block {h} names the proposer it pays");
        assert_eq!(rewarded[0]["account"].as_str(), Some(proposer), "each stash is its key's account: block {h}");
        if h >= ERA && proposer == keys[E] {
            proposed_by_e += 1;
            e_block.get_or_insert(h);
            // E has a nominator: its reward is split with the user.
            let split: Vec<&Value> = events(&blocks[0], "reward_split").collect();
            assert!(
                split.len() == 1 && split[0]["node"] == keys[E] && split[0]["kind"] == "validator",
                "block {h}: {:?}",
                blocks[0]["events"]
            );
            assert!(split[0]["parts"].to_string().contains(&user), "block {h}: the user's share: {}", split[0]);
        }
        for (i, b) in blocks.iter().enumerate() {
            let f = &b["finality"];
            match f["kind"].as_str() {
                Some("certificate") => {
                    certified += 1;
                    let signers: BTreeSet<String> = f["signers"]
                        .as_array()
                        .expect("signers")
                        .iter()
                        .map(|s| s.as_str().expect("hex").into())
                        .collect();
                    assert!(signers.is_subset(set), "node {i}: block {h} signed outside its era's set: {f}");
                    assert!(signers.len() >= 3 && f["quorum"] == 3 && f["validators"] == 4, "node {i}: block {h}: {f}");
                    if h % ERA != ERA - 1 {
                        assert_eq!(f["proposer"].as_str(), Some(proposer), "node {i}: block {h}'s proposer: {f}");
                    } else if f["proposer"].as_str() != Some(proposer) {
                        reproposed += 1;
                    }
                    if h >= ERA {
                        assert!(!signers.contains(&keys[A]), "node {i}: A signed block {h} of era {}", h / ERA);
                        signed_by_e += usize::from(signers.contains(&keys[E]));
                    }
                }
                Some("ancestor") => {
                    assert!(f["certified_height"].as_u64().is_some_and(|c| c > h), "node {i}: block {h}: {f}");
                }
                _ => panic!("node {i}: block {h} has no finality evidence: {f}"),
            }
        }
    }
    eprintln!(
        "{certified} certificates served for {end} blocks on {N} nodes; E signed {signed_by_e} of era 1 and after, \
         proposed {proposed_by_e} blocks; {reproposed} certificates of an era's last block name a re-proposing leader"
    );
    assert!(signed_by_e > 0, "E signed no certificate of era 1 or after");
    assert!(proposed_by_e > 0, "E proposed no block of era 1 or after");
    // `stakework query block`, asked of A (a follower now), names E as the proposer of E's block.
    let h = e_block.expect("a block of E").to_string();
    let text = cli(&home, Some(&nodes[A].url), &["query", "block", &h]);
    assert!(text.contains(&format!("proposer   {}", keys[E])), "{text}");

    // Conservation, with the proposer rewards minted.
    for n in &nodes {
        let s = n.get("/v1/supply").expect("supply");
        assert_eq!((s["conserved"].as_bool(), s["violation"].is_null()), (Some(true), true), "{s}");
        let amount = |v: &Value| v.as_str().and_then(|x| x.parse::<u128>().ok()).or(v.as_u64().map(u128::from));
        let (genesis, minted, burned, total) =
            (amount(&s["genesis"]), amount(&s["minted"]), amount(&s["burned"]), amount(&s["total_supply"]));
        assert!(minted.is_some_and(|m| m > 0), "no block reward minted: {s}");
        assert_eq!(total, Some(genesis.expect("genesis") + minted.expect("minted") - burned.expect("burned")), "{s}");
    }
    for n in nodes {
        n.sigterm();
    }
}

/// E, killed in era 0 (a follower then) and restarted from its data directory once the others are in era
/// 1 (B, C, D: a quorum of its set), catches up through the boundary and joins the set it was elected to:
/// it signs certificates of blocks after its restart, and all five agree.
#[test]
fn a_candidate_down_across_the_boundary_joins_its_set_after_a_restart() {
    let _alone = support::validators_lock();
    let Net { dir, home, keys, era1, mut nodes, started, .. } = Net::start();
    nodes.pop().expect("E").sigkill();
    support::wait_all(&nodes, ERA + 3, PATIENCE);
    let down = nodes.iter().map(height).max().expect("heights");
    eprintln!("era 1 finalized without E up to height {down} after {:?}", started.elapsed());
    let restarted = Instant::now();
    nodes.push(support::start_validator(&home, dir.path(), E, None, 200));
    support::wait_all(&nodes[E..], down, PATIENCE);
    let caught_up = restarted.elapsed();
    let end = down + ERA;
    support::wait_all(&nodes, end, PATIENCE);
    eprintln!("E caught up from its store to height {down}, across the boundary, in {caught_up:?}");
    eprintln!("E restarted at height {down} and all five reached {end} in {:?}", restarted.elapsed());

    let v = nodes[E].get("/v1/validators").expect("validators");
    assert_eq!(keys_of(&v["current"]), era1, "E serves the set in force: {v}");
    let mut signed_by_e = 0;
    for h in down + 1..=end {
        for (i, b) in same_block(&nodes, h).iter().enumerate() {
            let f = &b["finality"];
            if f["kind"] == "certificate" {
                let signers = f["signers"].as_array().expect("signers");
                assert!(signers.iter().all(|s| era1.contains(s.as_str().expect("hex"))), "node {i}: block {h}: {f}");
                signed_by_e += usize::from(signers.iter().any(|s| *s == keys[E].as_str()));
            }
        }
    }
    eprintln!("E signed {signed_by_e} certificates of heights {} to {end} (5 nodes)", down + 1);
    assert!(signed_by_e > 0, "E never signed after its restart (heights {} to {end})", down + 1);
    let s = nodes[E].get("/v1/supply").expect("supply");
    assert_eq!(s["conserved"], true, "{s}");
    for n in nodes {
        n.sigterm();
    }
}
