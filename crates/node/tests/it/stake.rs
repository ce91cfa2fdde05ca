//! Nominations on a live node, through the JSON API and the explorer: a nominator stakes on a miner and
//! takes part of it back, the miner sets a commission, serves a paid request, and the epoch's miner reward
//! is split. Every figure the pages show is checked against the engine's events and hand-checked numbers.

use crate::explorer::page;
use crate::{account, genesis, key, TestNode};
use client::{Client, Signer};
use protocol::event::RewardKind;
use protocol::{Call, Event, EventRecord, Role};
use std::time::{Duration, Instant};
use types::{AccountId, Amount, Hash, Ppb};

fn must(client: &Client, n: u8, call: Call) -> Vec<EventRecord> {
    let signer = Signer::new(key(n), "api-test", Amount(1));
    let o = signer.submit(client, call.clone(), Duration::from_secs(30)).expect("submitted");
    assert!(o.ok(), "{call:?}: {o:?}");
    o.events().to_vec()
}

fn wait_for_height(client: &Client, height: u64) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while client.health().expect("health").height.0 < height {
        assert!(Instant::now() < deadline, "the node did not reach height {height}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Every stored event so far, with its height.
fn all_events(client: &Client) -> Vec<(u64, Event)> {
    let mut out = Vec::new();
    let mut since = 1;
    loop {
        let page = client.events(since, 1_000).expect("events");
        out.extend(page.blocks.into_iter().flat_map(|b| b.events.into_iter().map(move |e| (b.height, e.event))));
        if page.next == since || page.next > client.height().expect("height") {
            return out;
        }
        since = page.next;
    }
}

/// The `<tr …>` row of `page` that opens with `open`, up to its end.
fn row<'a>(page: &'a str, open: &str) -> &'a str {
    let at = page.find(open).unwrap_or_else(|| panic!("no {open} in {page}"));
    let rest = &page[at..];
    &rest[..rest.find("</tr>").expect("the row ends")]
}

#[test]
fn the_explorer_shows_nominations_commission_history_and_a_nominators_share() {
    let mut g = genesis();
    g.params.epoch_length = 10;
    g.params.emission_per_epoch = Amount(0);
    g.params.miner_reward_per_epoch = Amount(1_000);
    g.params.commission_delay = 1;
    g.params.nomination_min = Amount(1);
    g.params.unbonding_period = 100_000;
    g.params.heartbeat_timeout = 100_000;
    g.params.request_timeout = 100_000;
    // Without emission the miners' pool pays what it holds: exactly one epoch's reward.
    let pool = AccountId::system(engine::MINERS_POOL_NAME);
    g.accounts.push(protocol::GenesisAccount { id: pool, name: None, free: Amount(1_000), bonded: Amount(0) });
    let node = TestNode::start(&g);
    let client = Client::new(&node.url);
    let (alice, miner) = (account(1), account(3));
    let register =
        Call::RegisterNode { roles: vec![Role::Miner], services: vec![1], capacity: 4, endpoint: "http://m".into() };
    must(&client, 3, register);
    must(&client, 1, Call::Nominate { node: miner, amount: Amount(300) });
    let set = must(&client, 3, Call::SetCommission { commission: Ppb::new(100_000_000).expect("10%") });
    let Some(Event::CommissionSet { effective_at, .. }) = set.first().map(|e| e.event.clone()) else {
        panic!("no CommissionSet: {set:?}")
    };
    let out = must(&client, 1, Call::Unnominate { node: miner, amount: Amount(100) });
    let Some(Event::Unnominated { matures_at, active, .. }) = out.first().map(|e| e.event.clone()) else {
        panic!("no Unnominated: {out:?}")
    };
    assert_eq!(active, Amount(200));
    // Before the change is in force: 0% now, 10% pending from its boundary.
    let view = client.node(&miner).expect("node view");
    assert_eq!(
        (view.commission.current, view.commission.pending.map(|p| p.effective_at)),
        (Ppb::ZERO, Some(effective_at))
    );
    // Serve a request after the change is in force, so the epoch's reward pays the new commission.
    wait_for_height(&client, effective_at.0);
    let sent = must(&client, 2, Call::SubmitRequest { service: 1, max_price: Amount(10), avoid: vec![] });
    let request = sent
        .iter()
        .find_map(|e| match e.event {
            Event::RequestSubmitted { request, miner: m, .. } if m == miner => Some(request),
            _ => None,
        })
        .expect("the request went to the only miner");
    must(&client, 3, Call::CompleteRequest { request, result_hash: Hash([9; 32]) });
    let served_at = client.height().expect("height");
    let epoch_end = served_at.div_ceil(10) * 10;
    wait_for_height(&client, epoch_end + 1);

    // The engine's record, as the JSON API shows it: own 100, nominated 200 (300 − 100 unbonding).
    let view = client.node(&miner).expect("node view");
    assert_eq!((view.own_stake, view.nominated_total), (Amount(100), Amount(200)));
    assert_eq!(view.nominations.len(), 1);
    let n = &view.nominations[0];
    assert_eq!((n.nominator, n.active, n.unbonding.len()), (alice, Amount(200), 1));
    assert_eq!((n.unbonding[0].amount, n.unbonding[0].matures_at), (Amount(100), matures_at));
    assert_eq!((view.commission.current.raw(), view.commission.pending), (100_000_000, None));
    // (own + nominated) × reputation: 300 × reputation / 10⁹.
    assert_eq!(view.selection_weight.0, 300 * u128::from(view.reputation.raw()) / 1_000_000_000);
    let mine = client.account(&alice).expect("account").nominated;
    assert_eq!(mine.len(), 1);
    assert_eq!((mine[0].node, mine[0].active, mine[0].unbonding[0].amount), (miner, Amount(200), Amount(100)));

    // The split of the epoch's miner reward of 1000: commission 10% = 100, then 900 by stake 100 : 200.
    let events = all_events(&client);
    let (epoch, parts, commission) = events
        .iter()
        .find_map(|(_, e)| match e {
            Event::RewardSplit { node, epoch, kind: RewardKind::Miner, commission, parts } if *node == miner => {
                Some((*epoch, parts.clone(), *commission))
            }
            _ => None,
        })
        .expect("the miner's reward was split");
    assert_eq!(commission, Amount(100));
    let mut want = vec![(miner, Amount(300)), (alice, Amount(600))];
    want.sort();
    let mut got = parts.clone();
    got.sort();
    assert_eq!(got, want);
    let set_height = events
        .iter()
        .find_map(|(h, e)| matches!(e, Event::CommissionSet { node, .. } if *node == miner).then_some(*h))
        .expect("the CommissionSet event");

    // The node page.
    let http = ureq::AgentBuilder::new().redirects(0).timeout(Duration::from_secs(10)).build();
    let url = node.url.as_str();
    let html = page(&http, url, &format!("/nodes/{miner}"), 200);
    let nominator = row(&html, &format!("<tr data-nominator=\"{alice}\">"));
    assert!(nominator.contains(&format!("href=\"/accounts/{alice}\"")), "{nominator}");
    assert!(nominator.contains("data-amount=\"200\"") && nominator.contains("data-amount=\"100\""), "{nominator}");
    assert!(nominator.contains(&format!("data-matures=\"{}\"", matures_at.0)), "{nominator}");
    // 200 of 300: 66.6666% (floored ppb).
    assert!(nominator.contains("data-ppb=\"666666666\">66.6666%"), "{nominator}");
    assert_eq!(html.matches("<tr data-nominator=").count(), 1, "{html}");
    assert!(html.contains("id=\"own-stake\"><span class=\"amount\" data-amount=\"100\""), "{html}");
    assert!(html.contains("id=\"commission-current\" data-ppb=\"100000000\">10.0000%"), "{html}");
    assert!(!html.contains("id=\"commission-pending\""), "nothing is pending: {html}");
    let change = row(&html, &format!("<tr data-height=\"{set_height}\">"));
    assert!(change.contains(&format!("href=\"/blocks/{set_height}\"")), "{change}");
    assert!(change.contains("data-ppb=\"0\">0.0000%") && change.contains("→ 10.0000%"), "{change}");
    assert!(change.contains(&format!("data-effective=\"{}\"", effective_at.0)), "{change}");
    assert_eq!(html.matches("<tr data-height=").count(), 1, "one change: {html}");
    let weight = format!("id=\"selection-weight\" data-weight=\"{}\"", view.selection_weight.0);
    assert!(html.contains(&weight), "{html}");

    // The nominator's account page: its nomination, and its share of the reward.
    let html = page(&http, url, &format!("/accounts/{alice}"), 200);
    let nomination = row(&html, &format!("<tr data-node=\"{miner}\">"));
    assert!(nomination.contains(&format!("href=\"/nodes/{miner}\"")), "{nomination}");
    assert!(nomination.contains("data-amount=\"200\"") && nomination.contains("data-amount=\"100\""), "{nomination}");
    let rewards = &html[html.find("id=\"nominator-rewards\"").expect("the shares table")..];
    let rewards = &rewards[..rewards.find("</table>").expect("the table ends")];
    let share = row(rewards, &format!("<tr data-node=\"{miner}\" data-epoch=\"{epoch}\">"));
    assert!(share.contains("miner reward") && share.contains("data-amount=\"600\""), "{share}");
    assert_eq!(rewards.matches("<tr data-node=").count(), 1, "one share, the miner reward's: {rewards}");
    // The miner's reward page shows the same split.
    let reward = page(&http, url, &format!("/nodes/{miner}/rewards/{epoch}"), 200);
    assert!(reward.contains("Shared with nominators") && reward.contains("data-amount=\"600\""), "{reward}");
}
