//! Bad genesis files get a clear error naming the field; good ones load.

use engine::{Engine, Genesis};

fn err(text: &str) -> String {
    Genesis::from_toml(text).expect_err("must be refused").to_string()
}

#[test]
fn a_good_genesis_loads_with_swk_and_base_unit_amounts() {
    let g = Genesis::from_toml(
        r#"
        [params]
        chain_id = "testnet"
        epoch_length = 10

        [[accounts]]
        id = "0101010101010101010101010101010101010101010101010101010101010101"
        name = "alice"
        free = "1.5 SWK"
        bonded = 7
        "#,
    )
    .expect("valid");
    let e = Engine::from_genesis(&g).expect("engine");
    let a = e.ledger().account(&g.accounts[0].id).expect("account");
    assert_eq!((a.free.0, a.bonded.0), (1_500_000_000, 7));
    assert_eq!(e.params().epoch_length, 10);
    assert_eq!(e.params().min_fee, engine::Params::default().min_fee);
    let again = Genesis::from_toml(&g.to_toml()).expect("round trip");
    assert_eq!(Engine::from_genesis(&again).expect("engine").state_root(), e.state_root());
}

#[test]
fn bad_genesis_files_name_what_is_wrong() {
    let id = "0101010101010101010101010101010101010101010101010101010101010101";
    assert!(err("[params]\nepoch_lenght = 5").contains("unknown field `epoch_lenght`"));
    assert!(err("[params]\nepoch_length = 0").contains("params.epoch_length"));
    assert!(err("[params]\nunbonding_period = 9223372036854775807").contains("params.unbonding_period"));
    assert!(err("[params]\nepoch_length = -3").contains("epoch_length"));
    assert!(err("[params\n").contains("malformed"));
    assert!(err(&format!("[[accounts]]\nid = \"{id}\"\nfree = \"-5\"")).contains("free"));
    assert!(err("[[accounts]]\nid = \"xyz\"").contains("64 hex digits"));
    let dup = format!("[[accounts]]\nid = \"{id}\"\n[[accounts]]\nid = \"{id}\"");
    assert!(err(&dup).contains("accounts[1].id"));
    let max = u128::MAX;
    let overflow = format!("[[accounts]]\nid = \"{id}\"\nfree = \"{max}\"\nbonded = \"1\"");
    assert!(err(&overflow).contains("overflows"));
    let too_big = format!("[[accounts]]\nid = \"{id}\"\nfree = \"{max}0\"");
    assert!(err(&too_big).contains("does not fit in 128 bits"));
}

/// Regression: genesis balances were once left out of the genesis write set, so two networks with
/// different starting balances had the same genesis root.
#[test]
fn genesis_root_commits_to_every_balance() {
    let id = "0101010101010101010101010101010101010101010101010101010101010101";
    let root = |free: u32| {
        let g = Genesis::from_toml(&format!("[[accounts]]\nid = \"{id}\"\nfree = {free}")).expect("valid");
        Engine::from_genesis(&g).expect("engine").state_root()
    };
    assert_ne!(root(1), root(2));
    assert_eq!(root(1), root(1));
}

/// The validator set: named in genesis, checked, round-tripped; its entries are the validator candidates,
/// part of the state (issue 21), with era 0's set elected at genesis.
#[test]
fn a_validator_set_is_checked_and_its_candidates_are_state() {
    let id = "0101010101010101010101010101010101010101010101010101010101010101";
    let key = |n: u8| format!("{n:02x}").repeat(32);
    let base = format!("[[accounts]]\nid = \"{id}\"\nbonded = 100\n");
    let validator = |k: &str, p2p: &str, account: &str| {
        format!("[[validators]]\nkey = \"{k}\"\np2p = \"{p2p}\"\naccount = \"{account}\"\n")
    };
    let two = format!("{base}{}{}", validator(&key(2), "127.0.0.1:7000", id), validator(&key(3), "127.0.0.1:7001", id));
    let g = Genesis::from_toml(&two).expect("valid");
    assert_eq!(g.validators.len(), 2);
    assert_eq!(Genesis::from_toml(&g.to_toml()).expect("round trip"), g);
    let single = Genesis::from_toml(&base).expect("valid");
    assert!(!single.to_toml().contains("[[validators]]"), "an empty set is not written");
    let root = |g: &Genesis| Engine::from_genesis(g).expect("engine").state_root();
    assert_ne!(root(&g), root(&single));
    let engine = Engine::from_genesis(&g).expect("engine");
    assert_eq!(engine.validator_candidates().len(), 2);
    let era0: Vec<String> = engine.validator_set(0).expect("elected").iter().map(|e| e.key.to_hex()).collect();
    assert_eq!(era0, [key(2), key(3)], "both stashes are the one account with 100 bonded");

    let dup_key =
        format!("{base}{}{}", validator(&key(2), "127.0.0.1:7000", id), validator(&key(2), "127.0.0.1:7001", id));
    assert!(err(&dup_key).contains("validators[1].key"));
    let dup_addr =
        format!("{base}{}{}", validator(&key(2), "127.0.0.1:7000", id), validator(&key(3), "127.0.0.1:7000", id));
    assert!(err(&dup_addr).contains("validators[1].p2p"));
    assert!(err(&format!("{base}{}", validator(&key(2), "localhost", id))).contains("validators[0].p2p"));
    let stranger = key(9);
    assert!(
        err(&format!("{base}{}", validator(&key(2), "127.0.0.1:7000", &stranger))).contains("validators[0].account")
    );
}
