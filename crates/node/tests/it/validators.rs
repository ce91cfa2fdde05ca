//! The validator set on a live single-validator node, through the JSON API and the explorer: a nominator
//! stakes on the validator's stash, the next era's election counts it, and each block's validator reward is
//! split between the stash and its nominator. Pages are checked against the engine's events.

use crate::explorer::page;
use crate::{account, genesis, key, TestNode};
use client::{Client, Signer};
use ed25519_dalek::SigningKey;
use protocol::event::RewardKind;
use protocol::{Call, Event, GenesisValidator, Role};
use std::time::{Duration, Instant};
use types::{AccountId, Amount};

fn must(client: &Client, n: u8, call: Call) -> u64 {
    let signer = Signer::new(key(n), "api-test", Amount(1));
    let o = signer.submit(client, call.clone(), Duration::from_secs(30)).expect("submitted");
    assert!(o.ok(), "{call:?}: {o:?}");
    client.height().expect("height")
}

fn wait_for_height(client: &Client, height: u64) {
    let deadline = Instant::now() + Duration::from_secs(90);
    while client.height().expect("height") < height {
        assert!(Instant::now() < deadline, "the node did not reach height {height}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Every stored event so far, with its height.
fn all_events(client: &Client) -> Vec<(u64, Event)> {
    let last = client.height().expect("height");
    let mut out = Vec::new();
    let mut since = 1;
    while since <= last {
        let page = client.events(since, 1_000).expect("events");
        out.extend(page.blocks.into_iter().flat_map(|b| b.events.into_iter().map(move |e| (b.height, e.event))));
        since = page.next.max(since + 1);
    }
    out
}

fn table<'a>(html: &'a str, id: &str) -> &'a str {
    let at = html.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("no table {id} in {html}"));
    let rest = &html[at..];
    &rest[..rest.find("</table>").expect("the table ends")]
}

#[test]
fn the_explorer_shows_the_validator_set_a_candidates_rewards_and_their_split() {
    let seed = [43u8; 32];
    let validator = AccountId(SigningKey::from_bytes(&seed).verifying_key().to_bytes());
    let mut g = genesis();
    g.params.era_blocks = 5;
    g.params.epoch_length = 10;
    g.params.nomination_min = Amount(1);
    let (stash, nominator) = (account(1), account(2));
    g.validators = vec![GenesisValidator { key: validator, p2p: "127.0.0.1:0".into(), account: stash }];
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cfg = node::NodeConfig::new(dir.path().to_path_buf(), "127.0.0.1:0".parse().expect("addr"));
    cfg.genesis_toml = Some(g.to_toml());
    cfg.block_ms = 20;
    cfg.validator_key = Some(seed);
    let node = TestNode::with(cfg);
    let client = Client::new(&node.url);
    let register =
        Call::RegisterNode { roles: vec![Role::Miner], services: vec![1], capacity: 1, endpoint: "http://v".into() };
    must(&client, 1, register);
    let nominated_at = must(&client, 2, Call::Nominate { node: stash, amount: Amount(500) });
    // The era after the one the nomination landed in is elected with it: own 100 + nominated 500.
    let era_end = (nominated_at / 5 + 1) * 5 - 1;
    wait_for_height(&client, (era_end + 2).max(11));

    let view = client.get::<api::ValidatorsView>("/v1/validators").expect("validators");
    assert_eq!(view.era_blocks, 5);
    assert!(view.era > era_end / 5, "{view:?}");
    assert_eq!(view.current.len(), 1);
    assert_eq!((view.current[0].key, view.current[0].account, view.current[0].weight), (validator, stash, Amount(600)));
    assert_eq!(view.candidates.len(), 1);
    let c = &view.candidates[0];
    assert_eq!((c.key, c.account, c.chilled, c.weight), (validator, stash, false, Amount(600)));

    let events = all_events(&client);
    let elections: Vec<(u64, u64, Amount)> = events
        .iter()
        .filter_map(|(h, e)| match e {
            Event::ValidatorSetElected { era, validators } => Some((*h, *era, validators[0].weight)),
            _ => None,
        })
        .collect();
    assert!(elections.iter().any(|(h, _, w)| *h == era_end && *w == Amount(600)), "{elections:?}");
    assert!(elections.iter().all(|(h, era, _)| (h + 1) % 5 == 0 && *era == (h + 1) / 5), "{elections:?}");
    // Each block of the set's proposer pays 1 SWK: whole to the stash before the nomination, then split
    // 100 : 500 by largest remainder: 166666666.67 → 166666667, 833333333.33 → 833333333.
    let rewards: Vec<u64> = events
        .iter()
        .filter_map(|(h, e)| matches!(e, Event::ValidatorRewarded { account, .. } if *account == stash).then_some(*h))
        .collect();
    assert!(!rewards.is_empty(), "no validator reward in {events:?}");
    let splits: Vec<Vec<(AccountId, Amount)>> = events
        .iter()
        .filter_map(|(_, e)| match e {
            Event::RewardSplit { node, kind: RewardKind::Validator, commission, parts, .. } if *node == stash => {
                assert_eq!(*commission, Amount(0));
                Some(parts.clone())
            }
            _ => None,
        })
        .collect();
    assert!(!splits.is_empty(), "no split validator reward");
    let mut want = vec![(stash, Amount(166_666_667)), (nominator, Amount(833_333_333))];
    want.sort();
    for parts in &splits {
        let mut got = parts.clone();
        got.sort();
        assert_eq!(got, want);
    }

    let http = ureq::AgentBuilder::new().redirects(0).timeout(Duration::from_secs(10)).build();
    let url = node.url.as_str();
    let home = page(&http, url, "/", 200);
    assert!(home.contains("href=\"/validators\""), "the navigation links the validators page");
    let html = page(&http, url, "/validators", 200);
    let set = table(&html, "validators");
    assert!(set.contains(&format!("<tr data-key=\"{validator}\">")), "{set}");
    assert!(set.contains("data-amount=\"600\"") && set.contains("data-ppb=\"1000000000\">100.0000%"), "{set}");
    assert!(set.contains(&format!("href=\"/accounts/{stash}\"")), "{set}");
    assert!(table(&html, "candidates").contains(&format!("<tr data-key=\"{validator}\">")), "{html}");
    let history = table(&html, "validator-elections");
    for (h, _, _) in &elections {
        assert!(history.contains(&format!("<tr data-height=\"{h}\">")), "election at {h}: {history}");
    }

    // The stash's node page: a validator candidate with its rewards, and its nominator.
    let html = page(&http, url, &format!("/nodes/{stash}"), 200);
    assert!(html.contains("id=\"validator-candidate\""), "{html}");
    let paid = table(&html, "validator-rewards");
    for h in &rewards {
        assert!(paid.contains(&format!("<tr data-height=\"{h}\">")), "reward at {h}: {paid}");
    }
    assert!(paid.contains("data-amount=\"1000000000\""), "{paid}");
    let noms = table(&html, "nominators");
    assert!(noms.contains(&format!("<tr data-nominator=\"{nominator}\">")), "{noms}");
    assert!(noms.contains("data-amount=\"500\"") && noms.contains("data-ppb=\"833333333\">83.3333%"), "{noms}");
    // Epoch 1's reward page (blocks 1 to 10): one validator term, the sum of its blocks' rewards.
    let epoch_one: u128 = events
        .iter()
        .filter_map(|(h, e)| match e {
            Event::ValidatorRewarded { account, amount, .. } if *account == stash && *h <= 10 => Some(amount.0),
            _ => None,
        })
        .sum();
    assert!(epoch_one > 0, "the validator proposed blocks in epoch 1");
    let html = page(&http, url, &format!("/nodes/{stash}/rewards/1"), 200);
    assert!(html.contains("data-term=\"validator\""), "{html}");
    assert!(html.contains(&format!("id=\"reward-total\" data-amount=\"{epoch_one}\"")), "{html}");
    assert!(html.contains(&format!("id=\"ledger-payout\" data-amount=\"{epoch_one}\"")), "{html}");
    // The nominator's account page: its nomination and a share of each split validator reward.
    let html = page(&http, url, &format!("/accounts/{nominator}"), 200);
    assert!(table(&html, "account-nominations").contains(&format!("<tr data-node=\"{stash}\">")), "{html}");
    let shares = table(&html, "nominator-rewards");
    assert!(shares.matches("<tr data-node=").count() >= splits.len(), "{shares}");
    assert_eq!(
        shares.matches("validator reward").count(),
        shares.matches("data-amount=\"833333333\"").count(),
        "every share is 833333333: {shares}"
    );
}
