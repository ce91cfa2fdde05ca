//! A validator's block view carries the simplex certificate that finalized the block, stored with the
//! block, served after a restart, and checkable against the genesis validator set; a single node's says
//! it sealed the block alone.

use crate::{genesis, TestNode};
use api::FinalityView;
use ed25519_dalek::SigningKey;
use protocol::GenesisValidator;
use std::time::{Duration, Instant};
use types::AccountId;

/// The block at `height`, waiting for the node to finalize it.
fn block_at(c: &client::Client, height: u64) -> api::BlockView {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if c.height().is_ok_and(|h| h >= height) {
            return c.block(&height.to_string()).expect("a durable block");
        }
        assert!(Instant::now() < deadline, "block {height} was not finalized within 60 s");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_validators_blocks_carry_their_certificate_across_a_restart() {
    let seed = [42u8; 32];
    let key = AccountId(SigningKey::from_bytes(&seed).verifying_key().to_bytes());
    let mut g = genesis();
    let staker = g.accounts[0].id;
    g.validators = vec![GenesisValidator { key, p2p: "127.0.0.1:0".into(), account: staker }];
    let dir = tempfile::tempdir().expect("tempdir");
    let config = |genesis: Option<String>| {
        let mut cfg = node::NodeConfig::new(dir.path().to_path_buf(), "127.0.0.1:0".parse().expect("addr"));
        cfg.genesis_toml = genesis;
        cfg.block_ms = 20;
        cfg.validator_key = Some(seed);
        cfg
    };
    let node = TestNode::with(config(Some(g.to_toml())));
    let c = client::Client::new(&node.url);
    let first = block_at(&c, 2);
    let FinalityView::Certificate(cert) = &first.finality else { panic!("block 2: {:?}", first.finality) };
    assert_eq!((cert.proposer, first.proposer), (key, Some(key)), "the only validator leads every view");
    assert_eq!((cert.signers.clone(), cert.signer_count, cert.quorum, cert.validators), (vec![key], 1, 1, 1));
    let namespace = bft::net::namespace(&g.params.chain_id);
    let encoded = hex_decode(&cert.certificate);
    let verified = bft::finality::verify(&namespace, &[key], first.hash, &encoded).expect("the certificate verifies");
    assert_eq!((verified.view, verified.parent_view, verified.proposer), (cert.view, cert.parent_view, key));
    let err = bft::finality::verify(b"another chain", &[key], first.hash, &encoded).expect_err("namespace");
    assert_eq!(err.code(), "certificate_signatures_invalid");
    drop(node);
    // In one process the stopped node's store stays open (its shared state outlives the node), so the
    // restart runs on a copy of the data directory, as a process killed after the copy would leave it.
    let copy = tempfile::tempdir().expect("tempdir");
    copy_dir(dir.path(), copy.path());
    let mut cfg = config(None);
    cfg.data_dir = copy.path().to_path_buf();
    let node = TestNode::with(cfg);
    let c = client::Client::new(&node.url);
    let again = c.block("2").expect("block 2 after the restart");
    assert_eq!(again, first, "the evidence survives the restart unchanged");
    let later = block_at(&c, c.height().expect("height") + 1);
    assert!(matches!(later.finality, FinalityView::Certificate(_)), "{:?}", later.finality);
}

#[test]
fn a_single_nodes_blocks_are_sealed_by_it_alone() {
    let node = TestNode::start(&genesis());
    let c = client::Client::new(&node.url);
    let b = block_at(&c, 1);
    assert_eq!((b.finality, b.proposer), (FinalityView::SingleNode, None), "a single node's blocks name no proposer");
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}

fn hex_decode(text: &str) -> Vec<u8> {
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex")).collect()
}
