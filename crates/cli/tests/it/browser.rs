//! The explorer in a real browser (issue 20): `stakework demo --keep` runs the demo network and leaves it
//! up; headless Chromium (JavaScript off), driven by chromedriver, opens the printed URL and follows links
//! from a block to a task to a miner's reward explanation, whose terms must add up to the payout the
//! ledger's events record (read independently through the JSON API). Screenshots go to
//! `target/tmp/browser/`.

use crate::support::BIN;
use crate::webdriver::{self, Browser};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// `stakework demo --keep`, running until dropped (SIGINT, then a bounded wait).
struct KeptDemo {
    child: Child,
    url: String,
    _home: tempfile::TempDir,
}

impl KeptDemo {
    /// Start the demo and wait (at most 10 minutes) for the explorer's URL on its output.
    fn start() -> KeptDemo {
        let home = tempfile::tempdir().expect("home");
        let mut child = Command::new(BIN)
            .env("STAKEWORK_HOME", home.path())
            .args(["demo", "--keep"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("demo starts");
        let out = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(600);
        let mut seen = String::new();
        let url = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = rx.recv_timeout(left).unwrap_or_else(|_| panic!("no explorer URL from demo --keep:\n{seen}"));
            seen.push_str(&line);
            seen.push('\n');
            if line.to_lowercase().contains("explorer") {
                if let Some(url) = url_in(&line) {
                    break url;
                }
            }
        };
        // Keep draining the demo's output so it never blocks on a full pipe.
        std::thread::spawn(move || while rx.recv().is_ok() {});
        KeptDemo { child, url: url.trim_end_matches('/').to_string(), _home: home }
    }
}

impl Drop for KeptDemo {
    fn drop(&mut self) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT);
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn url_in(line: &str) -> Option<String> {
    let start = line.find("http://127.0.0.1:")?;
    Some(line[start..].split_whitespace().next()?.to_string())
}

/// Every event of the chain so far, with its block height, read through `/v1/events`.
fn all_events(api: &str) -> Vec<(u64, Value)> {
    let mut out = Vec::new();
    let mut since = 1u64;
    loop {
        let page: Value = ureq::get(&format!("{api}/v1/events?since={since}&limit=1000"))
            .call()
            .expect("events")
            .into_json()
            .expect("json");
        let blocks = page["blocks"].as_array().expect("blocks");
        if blocks.is_empty() {
            return out;
        }
        for b in blocks {
            let h = b["height"].as_u64().expect("height");
            out.extend(b["events"].as_array().expect("events").iter().map(|e| (h, e.clone())));
        }
        since = page["next"].as_u64().expect("next");
    }
}

fn amount(v: &Value) -> i128 {
    v.as_str().and_then(|s| s.parse().ok()).or_else(|| v.as_i64().map(i128::from)).expect("an amount")
}

/// What the ledger paid each (node, epoch), from the reward and slash events alone.
fn payouts(events: &[(u64, Value)]) -> BTreeMap<(String, u64), i128> {
    let mut paid = BTreeMap::new();
    for (_, e) in events {
        let (who, sign) = match e["event"].as_str().unwrap_or_default() {
            "miner_rewarded" => ("miner", 1),
            "points_rewarded" => ("node", 1),
            "router_rewarded" => ("router", 1),
            "router_slashed" => ("router", -1),
            _ => continue,
        };
        let key = (e[who].as_str().expect("an account").to_string(), e["epoch"].as_u64().expect("an epoch"));
        *paid.entry(key).or_insert(0) += sign * amount(&e["amount"]);
    }
    paid
}

/// The reward page's terms (docs/EXPLORER.md's markup contract), its total and its ledger figure, which must
/// all agree with `expected`.
fn check_reward_page(b: &Browser, expected: i128) {
    let read = |el: &str| -> i128 {
        b.attr(el, "data-amount").and_then(|a| a.parse().ok()).unwrap_or_else(|| panic!("data-amount on {el}"))
    };
    // Each term row's amount is its last `data-amount` (the cells before it are the formula's inputs).
    let rows = b.find_all("tr[data-term]");
    let terms: i128 = rows
        .iter()
        .map(|row| read(b.find_all_in(row, "[data-amount]").last().expect("a term row has an amount")))
        .sum();
    let total = read(&b.find("#reward-total").expect("#reward-total"));
    let ledger = read(&b.find("#ledger-payout").expect("#ledger-payout"));
    assert_eq!((terms, total, ledger), (expected, expected, expected), "on {}:\n{}", b.current_url(), b.text());
}

#[test]
fn the_explorer_explains_a_reward_in_a_real_browser() {
    if !webdriver::available("the_explorer_explains_a_reward_in_a_real_browser") {
        return;
    }
    let _alone = crate::support::validators_lock();
    let demo = KeptDemo::start();
    let api = demo.url.clone();
    // The kept network goes on producing blocks: wait (at most 2 minutes) until an epoch has ended after
    // the demo's last task round, so every round's points are in a paid epoch.
    let deadline = Instant::now() + Duration::from_secs(120);
    let events = loop {
        let events = all_events(&api);
        let last_round = events.iter().filter(|(_, e)| e["event"] == "task_ended").map(|(h, _)| *h).max();
        let last_epoch = events.iter().filter(|(_, e)| e["event"] == "epoch_ended").map(|(h, _)| *h).max();
        if matches!((last_round, last_epoch), (Some(r), Some(e)) if e > r) {
            break events;
        }
        assert!(Instant::now() < deadline, "no epoch ended after the last task round ({last_round:?}, {last_epoch:?})");
        std::thread::sleep(Duration::from_millis(500));
    };
    let paid = payouts(&events);
    // A task whose passing miner the ledger paid in some epoch: the walk's target.
    let (height, task, miner, epoch) = events
        .iter()
        .filter(|(_, e)| e["event"] == "task_ended")
        .find_map(|(h, e)| {
            e["passed"].as_array()?.iter().filter_map(Value::as_str).find_map(|m| {
                let epoch = paid.iter().find(|((who, _), a)| who == m && **a > 0).map(|((_, ep), _)| *ep)?;
                Some((*h, e["task"].as_u64()?, m.to_string(), epoch))
            })
        })
        .expect("the demo ends a task whose miner is paid");
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("browser");
    let b = Browser::start();

    b.goto(&format!("{api}/"));
    b.screenshot(&shots.join("1-home.png"));
    assert!(b.find("a[href^=\"/blocks/\"]").is_some(), "the home page links blocks:\n{}", b.text());
    assert!(b.find("form[action=\"/search\"]").is_some(), "the home page has a search form");

    b.goto(&format!("{api}/blocks/{height}"));
    b.screenshot(&shots.join("2-block.png"));
    b.click_link(&format!("a[href=\"/tasks/{task}\"]"));
    assert!(b.current_url().ends_with(&format!("/tasks/{task}")), "{}", b.current_url());
    b.screenshot(&shots.join("3-task.png"));
    b.click_link(&format!("a[href=\"/nodes/{miner}\"]"));
    b.screenshot(&shots.join("4-node.png"));
    b.click_link(&format!("a[href=\"/nodes/{miner}/rewards/{epoch}\"]"));
    b.screenshot(&shots.join("5-reward.png"));
    check_reward_page(&b, paid[&(miner.clone(), epoch)]);

    // A miner that failed rounds (the demo's lazy one): every reward page of its node adds up to what the
    // ledger paid it, and one of them shows the failed rounds that cost it.
    let failed = events
        .iter()
        .filter(|(_, e)| e["event"] == "task_ended")
        .find_map(|(_, e)| e["failed"].as_array()?.first()?.as_str().map(str::to_string))
        .expect("the demo's lazy miner fails a round");
    b.goto(&format!("{api}/nodes/{failed}"));
    b.screenshot(&shots.join("6-lazy-node.png"));
    let links: Vec<String> = b
        .find_all(&format!("a[href^=\"/nodes/{failed}/rewards/\"]"))
        .iter()
        .filter_map(|l| b.attr(l, "href"))
        .collect();
    assert!(!links.is_empty(), "the lazy miner's node page links its epochs:\n{}", b.text());
    let mut shows_failures = false;
    for href in links {
        let epoch: u64 = href.rsplit('/').next().and_then(|e| e.parse().ok()).expect("an epoch");
        b.goto(&format!("{api}{href}"));
        check_reward_page(&b, paid.get(&(failed.clone(), epoch)).copied().unwrap_or(0));
        if b.text().to_lowercase().contains("failed") && b.find("a[href^=\"/tasks/\"]").is_some() {
            shows_failures = true;
            b.screenshot(&shots.join("7-lazy-reward.png"));
        }
    }
    assert!(shows_failures, "a reward page of the lazy miner shows its failed rounds, linked to their tasks");
}
