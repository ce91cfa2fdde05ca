//! "Why this reward": one node's payout for one epoch, term by term, from the reward events' own fields.
//!
//! Each paid component is a row `<tr data-term="…">` whose `data-amount` is derived from the terms the
//! engine recorded (a largest-remainder share is `floor(pot × score / total)` plus the remainder unit, shown
//! as its own figure); the page's total (`#reward-total`) is their sum. The payout on the ledger
//! (`#ledger-payout`) is summed separately from the events' `amount` fields. When a recorded term does not
//! explain its amount (a share off by more than the one remainder unit, a score that is not reputation ×
//! volume), the page says so and the two totals differ.

use crate::events::event_table;
use crate::{account_link, amount, node_link, percent, signed_amount};
use maud::{html, Markup};
use protocol::{Event, EventRecord, ServiceWork};
use types::{mul_div_floor, AccountId, Amount, Ppb};

/// A largest-remainder share: `floor(pot × weight / total)` and the unit it got from the leftover.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Share {
    pub floor: u128,
    /// 0 or 1: the remainder unit. `None` when the recorded amount is not floor or floor + 1.
    pub unit: Option<u128>,
}

impl Share {
    /// The share of `pot` by `weight / total`, checked against what was paid.
    pub fn of(pot: Amount, weight: u128, total: u128, paid: Amount) -> Share {
        let floor = mul_div_floor(pot.0, weight, total).map_or(0, |(q, _)| q);
        let unit = paid.0.checked_sub(floor).filter(|u| *u <= 1);
        Share { floor, unit }
    }
    /// What the terms explain: the floor and at most the one remainder unit.
    pub fn explained(&self) -> u128 {
        self.floor + self.unit.unwrap_or(0)
    }
}

/// The miner reward's terms (`MinerRewarded`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MinerTerm {
    pub work: Vec<ServiceWork>,
    pub volume: u128,
    pub reputation: Ppb,
    pub score: u128,
    pub total_score: u128,
    pub pot: Amount,
    pub paid: Amount,
    pub share: Share,
    /// `score = reputation × volume` and `volume = Σ work`, as recorded.
    pub consistent: bool,
}

/// The points reward's terms (`PointsRewarded`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PointsTerm {
    pub earned: u128,
    pub deducted: u128,
    pub weight: u128,
    pub total_weight: u128,
    pub pool: Amount,
    pub paid: Amount,
    pub share: Share,
}

/// One task round's points for the node (`PointsBooked`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    pub height: u64,
    pub task: u64,
    pub earned: u128,
    pub deducted: u128,
}

/// The router reward's terms (`RouterRewarded`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouterTerm {
    pub bandwidth: u128,
    pub latency_factor: Ppb,
    pub reputation: Ppb,
    pub owed: Amount,
    pub paid: Amount,
}

/// A router slash (`RouterSlashed`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slash {
    pub connectivity: Ppb,
    pub amount: Amount,
}

/// How one reward (or slash) of the node was shared with its nominators (`RewardSplit`, `SlashSplit`): the
/// node's commission, then each staker's pro-rata part (the node's own stake among them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    /// `miner`, `points`, `router`, or `slash`.
    pub kind: &'static str,
    pub commission: Amount,
    pub parts: Vec<(AccountId, Amount)>,
}

impl Split {
    /// Commission plus every part: the whole reward (or slash) it splits.
    pub fn sum(&self) -> u128 {
        self.commission.0 + self.parts.iter().map(|(_, a)| a.0).sum::<u128>()
    }
}

/// Everything behind one node's payout for one epoch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    pub node: AccountId,
    pub epoch: u64,
    pub miner: Option<MinerTerm>,
    pub points: Option<PointsTerm>,
    pub rounds: Vec<Round>,
    pub router: Option<RouterTerm>,
    pub slashes: Vec<Slash>,
    /// The rewards and slashes shared with nominators (none for a node without nominators).
    pub splits: Vec<Split>,
    /// Router reports and traffic claims naming the node in the epoch, its heartbeats and the network's
    /// ratings of it (which move the reputation in its score).
    pub evidence: Vec<(u64, EventRecord)>,
    /// The sum of the node's reward events' amounts for the epoch, slashes negative.
    pub ledger_payout: i128,
}

impl Explanation {
    /// The page total: the sum of the amounts the terms explain.
    pub fn total(&self) -> i128 {
        let miner = self.miner.as_ref().map_or(0, |m| m.share.explained());
        let points = self.points.as_ref().map_or(0, |p| p.share.explained());
        // A router is paid at most what it is owed (less when the pool was short).
        let router = self.router.as_ref().map_or(0, |r| r.paid.0.min(r.owed.0));
        let slashed: u128 = self.slashes.iter().map(|s| s.amount.0).sum();
        to_i128(miner + points + router) - to_i128(slashed)
    }
}

fn to_i128(v: u128) -> i128 {
    i128::try_from(v).unwrap_or(i128::MAX)
}

/// The sum of `node`'s reward events for `epoch`, slashes negative: what the ledger paid, read from the
/// events alone.
pub fn ledger_payout(node: &AccountId, epoch: u64, events: &[(u64, EventRecord)]) -> i128 {
    events
        .iter()
        .map(|(_, r)| match &r.event {
            Event::MinerRewarded { epoch: e, miner, amount, .. } if *e == epoch && miner == node => to_i128(amount.0),
            Event::PointsRewarded { epoch: e, node: n, amount, .. } if *e == epoch && n == node => to_i128(amount.0),
            Event::RouterRewarded { epoch: e, router, amount, .. } if *e == epoch && router == node => {
                to_i128(amount.0)
            }
            Event::RouterSlashed { epoch: e, router, amount, .. } if *e == epoch && router == node => {
                -to_i128(amount.0)
            }
            _ => 0,
        })
        .sum()
}

/// Explain `node`'s payout for `epoch` from `events`: the epoch's blocks and the boundary block that paid it,
/// each with its height. `PointsBooked` events count for the epoch whose blocks hold them (`epoch_heights`).
pub fn explain(
    node: AccountId,
    epoch: u64,
    epoch_heights: std::ops::RangeInclusive<u64>,
    events: &[(u64, EventRecord)],
) -> Explanation {
    let mut x = Explanation {
        node,
        epoch,
        miner: None,
        points: None,
        rounds: Vec::new(),
        router: None,
        slashes: Vec::new(),
        splits: Vec::new(),
        evidence: Vec::new(),
        ledger_payout: ledger_payout(&node, epoch, events),
    };
    for (height, r) in events {
        collect(&mut x, *height, r, &epoch_heights);
    }
    x
}

fn collect(x: &mut Explanation, height: u64, r: &EventRecord, heights: &std::ops::RangeInclusive<u64>) {
    let (node, epoch) = (x.node, x.epoch);
    match &r.event {
        Event::MinerRewarded { epoch: e, miner, amount, score, reputation, volume, work, pot, total_score }
            if *e == epoch && *miner == node =>
        {
            let summed: u128 = work.iter().map(|w| w.volume).sum();
            let consistent = summed == *volume && volume.saturating_mul(u128::from(reputation.raw())) == *score;
            x.miner = Some(MinerTerm {
                work: work.clone(),
                volume: *volume,
                reputation: *reputation,
                score: *score,
                total_score: *total_score,
                pot: *pot,
                paid: *amount,
                share: Share::of(*pot, *score, *total_score, *amount),
                consistent,
            });
        }
        Event::PointsRewarded { epoch: e, node: n, earned, deducted, amount, weight, total_weight, pool }
            if *e == epoch && *n == node =>
        {
            x.points = Some(PointsTerm {
                earned: *earned,
                deducted: *deducted,
                weight: *weight,
                total_weight: *total_weight,
                pool: *pool,
                paid: *amount,
                share: Share::of(*pool, *weight, *total_weight, *amount),
            });
        }
        Event::PointsBooked { task, node: n, earned, deducted } if *n == node && heights.contains(&height) => {
            x.rounds.push(Round { height, task: *task, earned: *earned, deducted: *deducted });
        }
        Event::RouterRewarded { epoch: e, router, bandwidth, latency_factor, reputation, owed, amount }
            if *e == epoch && *router == node =>
        {
            x.router = Some(RouterTerm {
                bandwidth: *bandwidth,
                latency_factor: *latency_factor,
                reputation: *reputation,
                owed: *owed,
                paid: *amount,
            });
        }
        Event::RouterSlashed { epoch: e, router, connectivity, amount } if *e == epoch && *router == node => {
            x.slashes.push(Slash { connectivity: *connectivity, amount: *amount });
        }
        Event::RewardSplit { .. } | Event::SlashSplit { .. } => collect_split(x, &r.event),
        Event::RouterReported { router, epoch: e, .. } if *e == epoch && *router == node => {
            x.evidence.push((height, r.clone()));
        }
        Event::NodeTrafficReported { node: n, router, epoch: e, .. }
            if *e == epoch && (*n == node || *router == node) =>
        {
            x.evidence.push((height, r.clone()));
        }
        Event::StatusReported { account, .. } | Event::NetworkRated { miner: account, .. }
            if *account == node && heights.contains(&height) =>
        {
            x.evidence.push((height, r.clone()));
        }
        _ => {}
    }
}

/// A reward or slash of the node shared with its nominators.
fn collect_split(x: &mut Explanation, event: &Event) {
    match event {
        Event::RewardSplit { node, epoch, kind, commission, parts } if *epoch == x.epoch && *node == x.node => {
            let kind = match kind {
                protocol::event::RewardKind::Miner => "miner",
                protocol::event::RewardKind::Points => "points",
                protocol::event::RewardKind::Router => "router",
                protocol::event::RewardKind::Validator => "validator",
            };
            x.splits.push(Split { kind, commission: *commission, parts: parts.clone() });
        }
        Event::SlashSplit { node, epoch, parts } if *epoch == x.epoch && *node == x.node => {
            x.splits.push(Split { kind: "slash", commission: Amount::ZERO, parts: parts.clone() });
        }
        _ => {}
    }
}

/// The page: one row per paid component, the rounds behind the points, the router's formula and evidence,
/// then the total beside the ledger's payout. `router_per_mb` is the governed `router_reward_per_mb`.
pub fn page(x: &Explanation, name: Option<&str>, router_per_mb: Amount) -> Markup {
    let who = name.map_or(String::new(), |n| format!("{n}, "));
    let title = format!("Why this reward: {who}epoch {}", x.epoch);
    let body = html! {
        p { "Node " (node_link(&x.node)) " (account " (account_link(&x.node)) "), epoch "
            a href={ "/epochs/" (x.epoch) } { (x.epoch) } "." }
        table.reward {
            tr { th { "component" } th { "how it is computed" } th { "amount" } }
            (miner_row(x.miner.as_ref()))
            (points_row(x))
            (router_row(x.router.as_ref(), router_per_mb))
            @for s in &x.slashes {
                tr data-term="slash" {
                    td { "router slash" }
                    td { "offence: connectivity " (percent(s.connectivity.raw())) " was not above the minimum; "
                         "the slash is a governed share of the epoch's collateral" }
                    td { (signed_amount(-to_i128(s.amount.0))) }
                }
            }
            tr.total {
                td { "total" } td { "the sum of the rows above" }
                td { span #reward-total data-amount=(x.total()) { (signed_amount(x.total())) } }
            }
            tr {
                td { "on the ledger" } td { "the node's reward events for this epoch (minus slashes), read from the chain" }
                td { span #ledger-payout data-amount=(x.ledger_payout) { (signed_amount(x.ledger_payout)) } }
            }
        }
        @if x.total() == x.ledger_payout { p.good { "The terms add up to the payout recorded on the ledger." } }
        @else { p.bad { "The terms do not add up to the payout on the ledger: this page cannot explain it." } }
        (splits_table(x))
        (rounds_table(x))
        h2 { "Evidence: network ratings (reputation), router reports, traffic claims, heartbeats" }
        (event_table(&x.evidence, true))
    };
    crate::layout(&title, body)
}

fn share_text(share: &Share) -> Markup {
    html! {
        "floor = " (share.floor) " base units; remainder unit: "
        @match share.unit { Some(u) => (u), None => span.bad { "does not match the amount paid" } }
    }
}

fn miner_row(m: Option<&MinerTerm>) -> Markup {
    let Some(m) = m else {
        return html! {
            tr data-term="miner" {
                td { "miner reward" }
                td { "No miner reward: no work of this node passed Proof of Inference or completed a request this epoch \
                      (score 0), or its share rounded to zero." }
                td { (amount(Amount::ZERO)) }
            }
        };
    };
    html! {
        tr data-term="miner" {
            td { "miner reward" }
            td {
                table {
                    tr { th { "service" } th { "weight" } th { "user rounds" } th { "background rounds" } th { "volume" } }
                    @for w in &m.work {
                        tr { td { (w.service) } td.num { (w.weight) } td.num { (w.user) } td.num { (w.background) } td.num { (w.volume) } }
                    }
                    tr { td colspan="4" { "volume = Σ weight × (user × 10⁹ + background × background weight)" } td.num { (m.volume) } }
                }
                p { "score = reputation " (percent(m.reputation.raw())) " (" (m.reputation.raw()) " ppb) × volume " (m.volume)
                    " = " (m.score) }
                @if !m.consistent { p.bad { "The recorded score is not reputation × volume." } }
                p { "share = pot " (amount(m.pot)) " × score " (m.score) " / total score " (m.total_score) }
                p { (share_text(&m.share)) }
            }
            td { (signed_amount(to_i128(m.share.explained()))) }
        }
    }
}

fn points_row(x: &Explanation) -> Markup {
    let earned: u128 = x.rounds.iter().map(|r| r.earned).sum();
    let deducted: u128 = x.rounds.iter().map(|r| r.deducted).sum();
    let Some(p) = &x.points else {
        let net = earned.saturating_sub(deducted);
        return html! {
            tr data-term="points" {
                td { "points reward" }
                td { "No points reward. Task rounds this epoch: +" (earned) " earned, −" (deducted) " deducted; net max(0, "
                     (earned) " − " (deducted) ") = " (net)
                     @if net == 0 { span.bad { " — a node with no net points takes no share of the points pool." } } }
                td { (amount(Amount::ZERO)) }
            }
        };
    };
    html! {
        tr data-term="points" {
            td { "points reward" }
            td {
                p { "earned " (p.earned) " (task rounds " (earned) ", blocks produced " (p.earned.saturating_sub(earned)) "), deducted "
                    (p.deducted) "; net = max(0, earned − deducted) = " (p.earned.saturating_sub(p.deducted)) }
                p { "weight in the split (net × team multiplier where it applies) = " (p.weight) }
                p { "share = points pool " (amount(p.pool)) " × weight " (p.weight) " / total weight " (p.total_weight) }
                p { (share_text(&p.share)) }
            }
            td { (signed_amount(to_i128(p.share.explained()))) }
        }
    }
}

fn router_row(r: Option<&RouterTerm>, per_mb: Amount) -> Markup {
    let Some(r) = r else { return html! {} };
    let base = mul_div_floor(r.bandwidth, per_mb.0, 1_000_000).map_or(u128::MAX, |(q, _)| q);
    let after_latency = r.latency_factor.mul_floor(Amount(base));
    html! {
        tr data-term="router" {
            td { "router reward" }
            td {
                p { "R = kB · B · clamp01(1 − kL·(Ln + Lv)/Lmax) · S" }
                p { "kB · B = " (amount(per_mb)) " per MB × B " (r.bandwidth) " bytes = " (amount(Amount(base))) }
                p { "× latency factor " (percent(r.latency_factor.raw())) " = " (amount(after_latency)) }
                p { "× S (mean reputation of its nodes) " (percent(r.reputation.raw())) " = owed " (amount(r.owed)) }
                @if r.reputation.mul_floor(after_latency) != r.owed { p.bad { "The recorded owed amount is not this product." } }
                @if r.paid > r.owed { p.bad { "Paid more than owed: not explained." } }
                @if r.paid < r.owed { p.bad { "The routers' pool was short: paid pro rata, " (amount(r.paid)) " of " (amount(r.owed)) "." } }
            }
            td { (signed_amount(to_i128(r.paid.0.min(r.owed.0)))) }
        }
    }
}

/// Who got each reward: the commission, then the stakers' pro-rata parts (largest remainder), which add up
/// to the reward; a slash's parts add up to the slash.
fn splits_table(x: &Explanation) -> Markup {
    html! {
        h2 { "Shared with nominators" }
        @if x.splits.is_empty() { p.note { "No nominator shared this node's rewards in this epoch: the node kept them whole." } } @else {
            table.splits {
                tr { th { "of" } th { "to" } th { "amount" } }
                @for sp in &x.splits {
                    @if sp.kind != "slash" {
                        tr { td { (sp.kind) " reward" } td { "commission to " (node_link(&x.node)) } td { (amount(sp.commission)) } }
                    }
                    @for (who, a) in &sp.parts {
                        tr {
                            td { (sp.kind) @if sp.kind == "slash" { " (taken)" } @else { " reward" } }
                            td { (account_link(who)) @if *who == x.node { " (own stake)" } @else { " (nominator)" } }
                            td { (amount(*a)) }
                        }
                    }
                    tr.total { td { (sp.kind) } td { "in all" } td { (amount(Amount(sp.sum()))) } }
                }
            }
        }
    }
}

fn rounds_table(x: &Explanation) -> Markup {
    html! {
        h2 { "Points by task round" }
        @if x.rounds.is_empty() { p.note { "No task round booked points for this node in this epoch." } } @else {
            table {
                tr { th { "block" } th { "task" } th { "earned" } th { "lost" } th { "outcome" } }
                @for r in &x.rounds {
                    tr {
                        td.num { a href={ "/blocks/" (r.height) } { (r.height) } }
                        td { a href={ "/tasks/" (r.task) } { "task " (r.task) } }
                        td.num { "+" (r.earned) } td.num { "−" (r.deducted) }
                        td { @if r.deducted > 0 { span.bad { "failed round" } } @else { span.good { "passed" } } }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(event: Event) -> (u64, EventRecord) {
        (10, EventRecord { tx: None, event })
    }

    fn miner(node: AccountId, amount: u128, score: u128, total: u128) -> Event {
        let work = vec![ServiceWork { service: 1, weight: 2, user: 3, background: 0, volume: 6_000_000_000 }];
        Event::MinerRewarded {
            epoch: 1,
            miner: node,
            amount: Amount(amount),
            score,
            reputation: Ppb::new(500_000_000).expect("ppb"),
            volume: 6_000_000_000,
            work,
            pot: Amount(100),
            total_score: total,
        }
    }

    #[test]
    fn a_reward_shared_with_nominators_lists_the_commission_and_each_part() {
        let (node, nominator) = (AccountId([1; 32]), AccountId([2; 32]));
        let split = Event::RewardSplit {
            node,
            epoch: 1,
            kind: protocol::event::RewardKind::Miner,
            commission: Amount(10),
            parts: vec![(node, Amount(27)), (nominator, Amount(63))],
        };
        let events = [rec(miner(node, 100, 1, 1)), rec(split)];
        let x = explain(node, 1, 1..=10, &events);
        assert_eq!(x.splits.len(), 1);
        assert_eq!(x.splits[0].sum(), 100, "commission and parts add up to the reward");
        assert_eq!(x.total(), x.ledger_payout, "a split does not change what the node's reward events paid");
        let html = page(&x, None, Amount(1)).into_string();
        assert!(html.contains("Shared with nominators") && html.contains("(nominator)"), "{html}");
        assert!(!html.contains("the node kept them whole"), "{html}");
    }

    #[test]
    fn a_largest_remainder_share_is_its_floor_plus_the_unit_it_got() {
        // 100 × 1/3 = 33.33: 33 or 34 are explained, 35 is not.
        assert_eq!(Share::of(Amount(100), 1, 3, Amount(34)), Share { floor: 33, unit: Some(1) });
        assert_eq!(Share::of(Amount(100), 1, 3, Amount(33)).explained(), 33);
        assert_eq!(Share::of(Amount(100), 1, 3, Amount(35)).unit, None);
    }

    #[test]
    fn the_terms_add_up_to_the_ledger_and_a_slash_counts_against_it() {
        let node = AccountId([4; 32]);
        let score = 6_000_000_000u128 * 500_000_000;
        let events = vec![
            rec(miner(node, 34, score, 3 * score)),
            rec(Event::RouterSlashed { epoch: 1, router: node, connectivity: Ppb::ZERO, amount: Amount(7) }),
            rec(miner(AccountId([5; 32]), 66, 2 * score, 3 * score)),
        ];
        let x = explain(node, 1, 1..=20, &events);
        assert_eq!((x.total(), x.ledger_payout), (34 - 7, 34 - 7));
        let html = page(&x, None, Amount(1)).into_string();
        assert!(html.contains("id=\"reward-total\" data-amount=\"27\""), "{html}");
        assert!(html.contains("data-term=\"slash\"") && html.contains("data-amount=\"-7\""), "{html}");
        assert!(html.contains("The terms add up"), "{html}");
    }

    #[test]
    fn an_amount_the_terms_do_not_explain_is_shown_as_such() {
        let node = AccountId([4; 32]);
        let score = 6_000_000_000u128 * 500_000_000;
        // 100 × 1/3 cannot be 40: the page's total (33) and the ledger (40) differ, and it says so.
        let x = explain(node, 1, 1..=20, &[rec(miner(node, 40, score, 3 * score))]);
        assert_eq!((x.total(), x.ledger_payout), (33, 40));
        assert!(page(&x, None, Amount(1)).into_string().contains("do not add up"));
        // A score that is not reputation × volume is flagged.
        let x = explain(node, 1, 1..=20, &[rec(miner(node, 33, score + 1, 3 * score))]);
        assert!(!x.miner.expect("a miner term").consistent);
    }

    #[test]
    fn rounds_outside_the_epoch_and_other_nodes_events_are_left_out() {
        let node = AccountId([4; 32]);
        let booked = |height, n| {
            (
                height,
                EventRecord { tx: None, event: Event::PointsBooked { task: 3, node: n, earned: 0, deducted: 190 } },
            )
        };
        let x = explain(node, 1, 1..=20, &[booked(5, node), booked(25, node), booked(6, AccountId([5; 32]))]);
        assert_eq!(x.rounds, vec![Round { height: 5, task: 3, earned: 0, deducted: 190 }]);
        let html = page(&x, None, Amount(1)).into_string();
        assert!(html.contains("failed round") && html.contains("href=\"/tasks/3\""), "{html}");
        assert!(html.contains("net max(0, 0 − 190) = 0"), "{html}");
    }
}
