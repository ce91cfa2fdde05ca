//! Attacks on ratings and reputation (seed 000, DESIGN §4): throwaway accounts bombing a miner.
//!
//! The victim is the only miner of a service priced 10 (fee 10%: the miner gets 9, the treasury 1). Ten
//! honest clients each pay it 100 (ten requests) and rate every request Good; fee 1 per transaction.

use crate::harness::{id, small_params, Net};
use engine::{Call, Event, GenesisService, Params, Rating, Role};
use protocol::reputation::{logistic_ppb, mean_ppb};
use types::{Amount, Hash, Ppb};

const PRICE: u128 = 10;
/// What a rater must have paid a miner for its rating to weigh as one full rating.
const RATING_WEIGHT_CAP: u128 = 100;
const HONEST: usize = 10;
const THROWAWAYS: usize = 20;
const START: u128 = 1_000;

fn params() -> Params {
    Params {
        miner_stake_min: Amount(100),
        request_timeout: 10,
        rating_window: 10,
        heartbeat_timeout: 1_000,
        protocol_fee: Ppb::new(100_000_000).expect("10%"),
        rating_weight_cap: Amount(RATING_WEIGHT_CAP),
        ..small_params()
    }
}

fn honest(i: usize) -> String {
    format!("honest{i}")
}

fn throwaway(i: usize) -> String {
    format!("throwaway{i}")
}

/// Every token, free, held, bonded or unbonding.
fn supply(net: &Net) -> u128 {
    net.chain.engine.ledger().total_supply().0
}

fn free(net: &Net, who: &str) -> u128 {
    net.chain.engine.ledger().free(&id(who)).0
}

fn reputation(net: &Net) -> u32 {
    net.chain.engine.reputation(&id("victim")).raw()
}

/// Each client submits `n` requests (one block), the victim completes them (one block), each client rates
/// its own `rating` (one block).
fn buy_and_rate(net: &mut Net, clients: &[String], n: usize, rating: Rating) {
    let mut submit = Vec::new();
    let mut owners = Vec::new();
    for c in clients {
        for _ in 0..n {
            submit.push(net.tx(c, Call::SubmitRequest { service: 1, max_price: Amount(PRICE), avoid: vec![] }));
            owners.push(c.clone());
        }
    }
    let seen = net.events.len();
    net.block(submit);
    let ids: Vec<u64> = net.events[seen..]
        .iter()
        .filter_map(|e| match e {
            Event::RequestSubmitted { request, .. } => Some(*request),
            _ => None,
        })
        .collect();
    assert_eq!(ids.len(), owners.len(), "every request was assigned");
    let done: Vec<_> = ids
        .iter()
        .map(|r| net.tx("victim", Call::CompleteRequest { request: *r, result_hash: Hash([7; 32]) }))
        .collect();
    net.block(done);
    let rates: Vec<_> =
        ids.iter().zip(&owners).map(|(r, c)| net.tx(c, Call::RateRequest { request: *r, rating })).collect();
    net.block(rates);
    let refused = net.log.lines().any(|l| !l.contains(" * ") && l.contains(" -> ") && !l.ends_with(" -> ok"));
    assert!(!refused, "a refusal:\n{}", net.log);
}

/// The victim, registered, with its honest reputation: ten clients who each paid 100 rate it Good.
fn victim_with_honest_volume() -> Net {
    let mut accounts = vec![("victim", 1_000, 100), ("mallory", 10_000, 0)];
    let names: Vec<String> = (0..HONEST).map(honest).collect();
    accounts.extend(names.iter().map(|n| (n.as_str(), START, 0)));
    let services = vec![GenesisService {
        name: "text".into(),
        weight: 1,
        price: Amount(PRICE),
        poi_threshold: engine::POI_THRESHOLD_DEFAULT,
        semantic_poi: false,
    }];
    let mut net = Net::with_services(&accounts, params(), services, 0);
    let reg = net.tx(
        "victim",
        Call::RegisterNode {
            roles: vec![Role::Miner],
            services: vec![1],
            capacity: 1_000,
            endpoint: "http://v".into(),
        },
    );
    net.block(vec![reg]);
    buy_and_rate(&mut net, &names, (RATING_WEIGHT_CAP / PRICE) as usize, Rating::Good);
    net
}

/// The least reputation the rule allows after an attacker paid the victim `spent` for Bad ratings: each
/// honest rater weighs min(paid, cap)/cap full ratings, the prior n0 full ratings, and the attacker's
/// ratings at most `spent / cap`. With honest weight W and mean x, the mean can fall at most to
/// `x·W/(W + a) ≥ x − a/(W + a)`, that is by `spent / (spent + cap·W)`: what the attacker spent over
/// itself plus the miner's honest volume (its capped honest payments and the prior's worth).
fn reputation_floor(p: &Params, x_before: u32, spent: u128) -> u32 {
    let honest_volume = RATING_WEIGHT_CAP * (HONEST as u128 + u128::from(p.reputation_prior));
    let drop = (1_000_000_000 * spent).div_ceil(spent + honest_volume);
    let x_min = u32::try_from(u128::from(x_before).saturating_sub(drop)).expect("a ppb");
    logistic_ppb(x_min, p.reputation_k_milli, p.reputation_x0).raw()
}

/// Issue 19, item 4. One completed request per (client, miner) pair used to be enough to rate, each
/// rating weighing the same: twenty throwaway accounts funded by mallory, each buying one request (price
/// 10), rated the victim Bad and took its reputation from 0.966 to 0.193 for 200 (plus 60 in fees). Now a
/// rating weighs what its rater paid the miner for the requests it rated, capped at `rating_weight_cap`
/// (100 here, one full rating): the same 200 moves the victim to 0.913, within the bound
/// `reputation_floor`; taking it to 0.193 now costs 2,000 (20 full ratings), twice the victim's honest
/// volume of 1,000.
#[test]
fn throwaway_accounts_bomb_a_miners_reputation() {
    let mut net = victim_with_honest_volume();
    let p = net.chain.engine.params().clone();
    let x_before = mean_ppb(2 * HONEST as u128, HONEST as u128, p.reputation_prior, p.reputation_x0);
    assert_eq!(reputation(&net), 965_554_804, "ten full Good ratings and the prior of 5: x = 12.5/15");
    let total = supply(&net);
    let (mallory_start, victim_start, treasury_start) =
        (free(&net, "mallory"), free(&net, "victim"), net.chain.engine.ledger().free(&net.chain.engine.treasury()).0);

    // Mallory funds the throwaways with what one request and its rating cost, then they rate Bad.
    let throwaways: Vec<String> = (0..THROWAWAYS).map(throwaway).collect();
    let fund: Vec<_> =
        throwaways.iter().map(|t| net.tx("mallory", Call::Transfer { to: id(t), amount: Amount(PRICE + 2) })).collect();
    net.block(fund);
    buy_and_rate(&mut net, &throwaways, 1, Rating::Bad);
    let spent = PRICE * THROWAWAYS as u128;
    let after_cheap = reputation(&net);
    let floor = reputation_floor(&p, x_before, spent);
    eprintln!("20 cheap requests (spent {spent}): reputation 965554804 -> {after_cheap} (floor {floor})");
    assert!(after_cheap >= floor, "20 requests costing {spent} took the victim to {after_cheap}, below {floor}");
    assert_eq!(after_cheap, 913_167_724, "x = (10 + 2.5) / (10 + 5 + 20·10/100) = 12.5/17");

    // To do what 200 used to do, the throwaways must each pay the cap: 2,000 in all.
    let more: Vec<String> = throwaways.clone();
    let fund: Vec<_> =
        more.iter().map(|t| net.tx("mallory", Call::Transfer { to: id(t), amount: Amount(9 * (PRICE + 2)) })).collect();
    net.block(fund);
    buy_and_rate(&mut net, &more, 9, Rating::Bad);
    let spent = RATING_WEIGHT_CAP * THROWAWAYS as u128;
    let after_full = reputation(&net);
    eprintln!(
        "200 requests (spent {spent}): reputation -> {after_full} (floor {})",
        reputation_floor(&p, x_before, spent)
    );
    assert!(after_full >= reputation_floor(&p, x_before, spent));
    assert_eq!(after_full, 193_321_370, "x = 12.5 / (10 + 5 + 20): the old figure, at ten times the cost");

    // Money: mallory's only outlay is the throwaways' requests and fees; nobody else lost anything.
    let fees = THROWAWAYS as u128 * (1 + 1) + 2 * THROWAWAYS as u128 * 10; // transfers; requests and ratings
    let mallory_gain = free(&net, "mallory") as i128 - mallory_start as i128;
    assert_eq!(mallory_gain, -((spent + fees) as i128), "the attack cost mallory every request and fee");
    assert!(mallory_gain <= 0);
    assert!(throwaways.iter().all(|t| free(&net, t) == 0), "the throwaways spent all they were given");
    // The victim was paid 9 for each of the 200 requests it completed, less its fee of 1 for each completion.
    assert_eq!(free(&net, "victim"), victim_start + 200 * (9 - 1));
    for i in 0..HONEST {
        // Fees: ten requests and ten ratings.
        assert_eq!(free(&net, &honest(i)), START - RATING_WEIGHT_CAP - 20, "honest client {i}");
    }
    let treasury = net.chain.engine.ledger().free(&net.chain.engine.treasury()).0;
    assert_eq!(treasury, treasury_start + 200 + fees + 200, "protocol fees, the attackers' and the victim's tx fees");
    assert_eq!(supply(&net), total, "conservation");
}
