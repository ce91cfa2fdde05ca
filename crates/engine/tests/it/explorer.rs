//! The explorer's "why this reward" on a real engine run: for every node paid in an epoch with tasks,
//! requests, points and emission, the terms the page shows add up to the payout the events record.

use crate::harness::{id, Net};
use crate::pouw::{params, setup, ANSWER};
use engine::{Call, Event};
use types::{AccountId, Amount};

/// The `data-amount` of the element with `id="{name}"`.
fn amount_of(html: &str, name: &str) -> i128 {
    let at = html.find(&format!("id=\"{name}\"")).unwrap_or_else(|| panic!("no #{name} in the page"));
    let rest = &html[at..];
    let start = rest.find("data-amount=\"").expect("an amount") + "data-amount=\"".len();
    rest[start..start + rest[start..].find('"').expect("closed")].parse().expect("an integer")
}

/// The number of `<tr data-term=…>` rows and the sum of their amounts.
fn terms_sum(html: &str) -> (usize, i128) {
    let mut rows = 0;
    let mut sum = 0;
    for part in html.split("<tr data-term=").skip(1) {
        // A row runs to the next term row or the total row; its amount cell is its last `data-amount`.
        let row = &part[..part.find("<tr class=\"total\"").unwrap_or(part.len())];
        let start = row.rfind("data-amount=\"").expect("a row's amount") + "data-amount=\"".len();
        sum += row[start..start + row[start..].find('"').expect("closed")].parse::<i128>().expect("an integer");
        rows += 1;
    }
    (rows, sum)
}

/// One k = 4 task with a lazy fourth miner, requests served by m1, emission and block points, to the
/// epoch's end.
fn run_epoch() -> (Net, AccountId) {
    let mut p = params();
    p.task_redundancy_max = 9;
    p.epoch_length = 20;
    p.emission_per_epoch = Amount(1_000_003);
    p.block_producer = Some(id("m1"));
    p.points_block = 3;
    let mut net = setup(p, 0);
    let t = net.tx("client", Call::SubmitTask { service: 1, redundancy: 4, max_price: Amount(1_000), avoid: vec![] });
    net.block(vec![t]);
    let outs = [ANSWER, ANSWER, ANSWER, "completely different words about nothing at all"];
    let ms = crate::pouw::run_by_fallback(&mut net, &outs);
    // A paid request, completed by whoever it was assigned to.
    let r = net.tx("client", Call::SubmitRequest { service: 1, max_price: Amount(30), avoid: vec![] });
    net.block(vec![r]);
    let request = net.chain.engine.request(1).expect("request 1").clone();
    let who = net.name(&request.miner);
    let done = net.tx(&who, Call::CompleteRequest { request: 1, result_hash: types::Hash([9; 32]) });
    net.block(vec![done]);
    let to_end = 20 - net.chain.engine.height().0 as usize;
    net.empty_blocks(to_end + 1);
    (net, id(&ms[3]))
}

/// Check one node's reward page: the rows sum to the total, the total equals the ledger's payout, and the
/// page says so. Returns the page and the payout.
fn check_page(net: &Net, node: AccountId, epoch_last: u64) -> (String, i128) {
    let x = explorer::reward::explain(node, 1, 1..=epoch_last, &net.records);
    let html = explorer::reward::page(&x, Some(&net.name(&node)), net.chain.engine.params().router_reward_per_mb)
        .into_string();
    if let Some(dir) = std::env::var_os("EXPLORER_DUMP") {
        // For a look at the pages: EXPLORER_DUMP=dir writes each one there.
        std::fs::write(std::path::Path::new(&dir).join(format!("{}.html", net.name(&node))), &html).expect("write");
    }
    let (total, ledger) = (amount_of(&html, "reward-total"), amount_of(&html, "ledger-payout"));
    assert_eq!(total, ledger, "{}: the terms must add up to the payout\n{html}", net.name(&node));
    let (rows, sum) = terms_sum(&html);
    assert!(rows >= 2, "a miner row and a points row at least");
    assert_eq!(sum, total, "{}: the rows sum to the total", net.name(&node));
    assert!(x.miner.as_ref().is_none_or(|m| m.consistent && m.share.unit.is_some()));
    assert!(x.points.as_ref().is_none_or(|p| p.share.unit.is_some()));
    // The rounds listed explain the points: every deduction, and every point not earned by producing blocks.
    if let Some(p) = &x.points {
        assert_eq!(x.rounds.iter().map(|r| r.deducted).sum::<u128>(), p.deducted, "{}", net.name(&node));
        let block_points = if net.chain.engine.params().block_producer == Some(node) {
            u128::from(net.chain.engine.params().points_block) * u128::from(epoch_last)
        } else {
            0
        };
        assert_eq!(x.rounds.iter().map(|r| r.earned).sum::<u128>() + block_points, p.earned, "{}", net.name(&node));
    }
    assert!(html.contains("The terms add up to the payout"), "{html}");
    (html, ledger)
}

#[test]
fn a_routers_reward_and_slash_add_up_to_its_payout() {
    use crate::routers::{heartbeat, network, traffic};
    let mut net = network(1_000_000);
    heartbeat(&mut net, &["n1", "n2", "n3"]);
    // As in the routers scenario: r1 owes 1,050 and is slashed for 74% connectivity; r2 earns nothing.
    let r1 = net.tx(
        "r1",
        Call::ReportRouterEpoch {
            epoch: 1,
            validator_latency_ms: 200,
            nodes: vec![
                traffic("n1", 3_000_000, 1_000_000, 100, 740_000_000),
                traffic("n2", 2_000_000, 0, 300, 740_000_000),
            ],
        },
    );
    let r2 = net.tx(
        "r2",
        Call::ReportRouterEpoch {
            epoch: 1,
            validator_latency_ms: 200,
            nodes: vec![traffic("n3", 5_000_000, 5_000_000, 900, 760_000_000)],
        },
    );
    let n1 = net.tx("n1", Call::ReportNodeTraffic { epoch: 1, router: id("r1"), bytes: 3_500_000 });
    net.block(vec![r1, r2, n1]);
    let to_end = 10 - net.chain.engine.height().0 as usize;
    net.empty_blocks(to_end + 1);
    let (html, ledger) = check_page(&net, id("r1"), 10);
    assert!(html.contains("data-term=\"router\"") && html.contains("data-term=\"slash\""), "{html}");
    assert!(html.contains("node_traffic_reported"), "the evidence is listed: {html}");
    let slashed: u128 = net
        .events
        .iter()
        .filter_map(|e| match e {
            Event::RouterSlashed { amount, .. } => Some(amount.0),
            _ => None,
        })
        .sum();
    assert!(slashed > 0);
    assert_eq!(ledger, 1_050 - slashed as i128);
    check_page(&net, id("r2"), 10);
}

#[test]
fn every_paid_nodes_reward_terms_add_up_to_its_payout_on_the_ledger() {
    let (net, lazy) = run_epoch();
    let paid: std::collections::BTreeSet<AccountId> = net
        .events
        .iter()
        .filter_map(|e| match e {
            Event::MinerRewarded { epoch: 1, miner, .. } => Some(*miner),
            Event::PointsRewarded { epoch: 1, node, .. } => Some(*node),
            _ => None,
        })
        .collect();
    assert!(paid.len() >= 3, "the honest miners were paid: {paid:?}");
    let kinds = net.events.iter().filter(|e| matches!(e, Event::MinerRewarded { .. })).count();
    assert!(kinds >= 3, "miner rewards were paid");
    for node in paid.iter().copied().chain([lazy]) {
        let (html, ledger) = check_page(&net, node, 20);
        if node == lazy {
            assert_eq!(ledger, 0, "the lazy miner earned nothing");
            assert!(html.contains("failed round") && html.contains("href=\"/tasks/1\""), "{html}");
            assert!(html.contains("No miner reward") && html.contains("No points reward"), "{html}");
        } else {
            assert!(ledger > 0);
        }
    }
}
