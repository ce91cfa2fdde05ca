//! The explorer over real HTTP: a node on loopback, its HTML pages fetched with their statuses and
//! content types, an epoch's reward page included, and the HTML error pages for unknown ids and bad input.

use crate::{account, genesis, TestNode};
use std::time::{Duration, Instant};
use types::Amount;

/// GET `path` without following redirects: (status, content type, body, location).
pub(crate) fn get(http: &ureq::Agent, url: &str, path: &str) -> (u16, String, String, String) {
    let answer = match http.get(&format!("{url}{path}")).call() {
        Ok(r) | Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{path}: {e}"),
    };
    let status = answer.status();
    let kind = answer.header("content-type").unwrap_or("").to_string();
    let location = answer.header("location").unwrap_or("").to_string();
    (status, kind, answer.into_string().expect("body"), location)
}

pub(crate) fn page(http: &ureq::Agent, url: &str, path: &str, status: u16) -> String {
    let (got, kind, body, _) = get(http, url, path);
    assert_eq!(got, status, "GET {path}: {body}");
    assert!(kind.starts_with("text/html"), "GET {path}: content type {kind}");
    assert!(body.starts_with("<!DOCTYPE html>"), "GET {path}: {body}");
    body
}

#[test]
fn the_explorer_serves_html_pages_a_reward_explanation_and_html_errors() {
    let mut g = genesis();
    g.params.epoch_length = 5;
    g.params.emission_per_epoch = Amount(1_000);
    let node = TestNode::start(&g);
    let client = client::Client::new(&node.url);
    crate::world::populate(&client);
    // Wait (bounded) until the first epoch has ended.
    let deadline = Instant::now() + Duration::from_secs(30);
    while client.health().expect("health").height.0 < 7 {
        assert!(Instant::now() < deadline, "the node did not reach height 7");
        std::thread::sleep(Duration::from_millis(20));
    }
    let http = ureq::AgentBuilder::new().redirects(0).timeout(Duration::from_secs(10)).build();
    let url = node.url.as_str();
    let home = page(&http, url, "/", 200);
    assert!(home.contains("Latest blocks") && home.contains("href=\"/blocks/1\""), "{home}");
    // The first block with a transaction (populate's first one lands in block 1 or, on a loaded machine, later).
    let (h, block) = (1..=7)
        .map(|h| (h, page(&http, url, &format!("/blocks/{h}"), 200)))
        .find(|(_, b)| b.contains("href=\"/txs/"))
        .expect("a block of the first seven holds a transaction");
    assert!(block.contains(&format!("Block {h}")), "{block}");
    let at = block.find("href=\"/txs/").expect("a transaction link") + "href=\"".len();
    let tx_path = &block[at..at + block[at..].find('"').expect("closed")];
    let tx = page(&http, url, tx_path, 200);
    assert!(tx.contains(&format!("href=\"/blocks/{h}\"")) && tx.contains(">ok<"), "{tx}");
    let job = page(&http, url, &format!("/jobs/{}", crate::world::JOB), 200);
    assert!(job.contains("Status history"), "{job}");
    page(&http, url, "/jobs/not-a-uuid", 400);
    page(&http, url, "/txs/00", 400);
    let miner = account(4);
    let node_page = page(&http, url, &format!("/nodes/{miner}"), 200);
    assert!(node_page.contains("<svg") && node_page.contains(&format!("/nodes/{miner}/rewards/1")), "{node_page}");
    let reward = page(&http, url, &format!("/nodes/{miner}/rewards/1"), 200);
    assert!(reward.contains("id=\"reward-total\"") && reward.contains("id=\"ledger-payout\""), "{reward}");
    assert!(reward.contains("data-term=\"miner\"") && reward.contains("data-term=\"points\""), "{reward}");
    let missing = page(&http, url, "/blocks/999999", 404);
    assert!(missing.contains("No block at height 999999"), "{missing}");
    page(&http, url, "/blocks/abc", 400);
    page(&http, url, &format!("/nodes/{}", account(2)), 404);
    page(&http, url, "/tasks/1", 200);
    page(&http, url, "/epochs/1", 200);
    let alice = format!("/accounts/{}", account(1));
    for path in ["/points", "/routers", "/lists", "/governance", "/epochs/current"] {
        page(&http, url, path, 200);
    }
    // Genesis names stand in for ids in links (the id stays in the title).
    let alice_page = page(&http, url, &alice, 200);
    assert!(alice_page.contains(&format!("title=\"{}\">alice</a>", account(1))), "{alice_page}");
    let (status, _, _, location) = get(&http, url, "/search?q=1");
    assert_eq!((status, location.as_str()), (303, "/blocks/1"));
    let (status, _, _, location) = get(&http, url, "/search?q=task+1");
    assert_eq!((status, location.as_str()), (303, "/tasks/1"));
    let (status, _, _, location) = get(&http, url, "/search?q=Alice");
    assert_eq!((status, location), (303, format!("/accounts/{}", account(1))), "a genesis name is found");
    let nothing = page(&http, url, "/search?q=nothing+here", 404);
    assert!(nothing.contains("Nothing found"), "{nothing}");
    let (status, kind, css, _) = get(&http, url, "/static/explorer.css");
    assert_eq!(status, 200);
    assert!(kind.starts_with("text/css") && css.contains("body"), "{kind}");
}
