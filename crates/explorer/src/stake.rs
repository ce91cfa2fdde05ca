//! Stake on the node and account pages (issue 21): who nominated a node and how much of its stake each
//! holds, its commission and the history of its changes, what an account nominated and the shares of
//! rewards (and the parts of slashes) it received as a nominator.
//!
//! Every figure is the engine's (the node and account views) or an event's field; the one thing derived
//! here is the commission in force when each change was made, replayed from the `CommissionSet` events
//! with the engine's rule (a change applies from its `effective_at`; until then the previous one does).

use crate::{account_link, amount, node_link, percent};
use api::{AccountView, NodeView, UnbondingView};
use maud::{html, Markup};
use protocol::event::RewardKind;
use protocol::{Event, EventRecord};
use types::{AccountId, Amount, Ppb};

/// `part` as a share of `whole` in ppb, floored (0 of an empty whole).
pub fn share_ppb(part: Amount, whole: Amount) -> u32 {
    if whole.is_zero() {
        return 0;
    }
    types::mul_div_floor(part.0, u128::from(Ppb::ONE_RAW), whole.0)
        .map_or(0, |(q, _)| u32::try_from(q).unwrap_or(Ppb::ONE_RAW))
}

/// Unbonding chunks as "amount (free at block H)", one per line.
fn chunks(cs: &[UnbondingView]) -> Markup {
    html! {
        @if cs.is_empty() { "—" }
        @for (i, c) in cs.iter().enumerate() {
            @if i > 0 { br; }
            (amount(c.amount)) " (free at block " span data-matures=(c.matures_at.0) { (c.matures_at.0) } ")"
        }
    }
}

/// A node's stake, its nominators (`table#nominators`, one `tr[data-nominator]` each) and its weight.
pub fn nominators(n: &NodeView) -> Markup {
    let total = n.own_stake.checked_add(n.nominated_total).unwrap_or(Amount::MAX);
    html! {
        h2 { "Stake and nominators" }
        dl {
            dt { "own stake" } dd #own-stake { (amount(n.own_stake)) " (bonded less what it nominated to others)" }
            dt { "nominated to it" } dd #nominated-total { (amount(n.nominated_total)) }
            dt { "stake in all" } dd #stake-total { (amount(total)) }
            dt { "selection weight" } dd #selection-weight data-weight=(n.selection_weight.0) {
                (n.selection_weight.0) " (stake in all × reputation, in base units; 0 unless a miner reporting Ready)"
            }
        }
        @if n.nominations.is_empty() { p.note { "Nobody nominates this node." } } @else {
            table #nominators {
                tr { th { "nominator" } th { "active" } th { "unbonding" } th { "share of its stake" } }
                @for x in &n.nominations {
                    tr data-nominator=(x.nominator) {
                        td { (account_link(&x.nominator)) }
                        td { (amount(x.active)) }
                        td { (chunks(&x.unbonding)) }
                        td data-ppb=(share_ppb(x.active, total)) { (percent(share_ppb(x.active, total))) }
                    }
                }
                tr.total {
                    td { "own stake" } td { (amount(n.own_stake)) } td { "" }
                    td data-ppb=(share_ppb(n.own_stake, total)) { (percent(share_ppb(n.own_stake, total))) }
                }
                tr.total { td { "in all" } td { (amount(total)) } td { "" } td { "" } }
            }
        }
    }
}

/// One `CommissionSet` of a node, with the commission in force when it was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommissionChange {
    pub height: u64,
    /// In force at `height` (`None` when an earlier change fell outside the scanned blocks).
    pub old: Option<Ppb>,
    pub new: Ppb,
    pub effective_at: u64,
}

/// The `CommissionSet` events of `node` in `events` (any order of heights; same-height events keep their
/// order), oldest first. `from_genesis`: the events start at block 1, so the commission before the first
/// change is the default 0.
pub fn commission_history(
    node: &AccountId,
    events: &[(u64, EventRecord)],
    from_genesis: bool,
) -> Vec<CommissionChange> {
    let mut sets: Vec<(u64, Ppb, u64)> = events
        .iter()
        .filter_map(|(h, r)| match &r.event {
            Event::CommissionSet { node: n, commission, effective_at } if n == node => {
                Some((*h, *commission, effective_at.0))
            }
            _ => None,
        })
        .collect();
    sets.sort_by_key(|(h, _, _)| *h);
    // (in force, pending change and its height) as the engine keeps them.
    let mut current = from_genesis.then_some(Ppb::ZERO);
    let mut pending: Option<(Ppb, u64)> = None;
    let mut out = Vec::with_capacity(sets.len());
    for (height, new, effective_at) in sets {
        let old = match pending {
            Some((c, from)) if from <= height => Some(c),
            _ => current,
        };
        out.push(CommissionChange { height, old, new, effective_at });
        current = old;
        pending = Some((new, effective_at));
    }
    out
}

/// A node's commission now (`#commission-current`, `#commission-pending`) and its history
/// (`table#commission-history`, one `tr[data-height]` per change, newest first).
pub fn commission(n: &NodeView, history: &[CommissionChange]) -> Markup {
    let c = &n.commission;
    html! {
        h2 { "Commission" }
        dl {
            dt { "in force" } dd #commission-current data-ppb=(c.current.raw()) { (percent(c.current.raw())) }
            dt { "pending" }
            @if let Some(p) = &c.pending {
                dd #commission-pending data-ppb=(p.commission.raw()) data-height=(p.effective_at.0) {
                    (percent(p.commission.raw())) " from block " (p.effective_at.0)
                }
            } @else { dd { "no change waiting" } }
        }
        h3 { "Changes in the recent blocks" }
        @if history.is_empty() { p.note { "No commission change in the recent blocks." } } @else {
            table #commission-history {
                tr { th { "block" } th { "old" } th { "new" } th { "in force from block" } }
                @for ch in history.iter().rev() {
                    tr data-height=(ch.height) {
                        td.num { a href={ "/blocks/" (ch.height) } { (ch.height) } }
                        td { @if let Some(o) = ch.old { span data-ppb=(o.raw()) { (percent(o.raw())) } } @else { "? (set before the scanned blocks)" } }
                        td data-ppb=(ch.new.raw()) { "→ " (percent(ch.new.raw())) }
                        td.num data-effective=(ch.effective_at) { (ch.effective_at) }
                    }
                }
            }
        }
    }
}

/// A share of a node's reward or slash that reached `account` as a nominator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NominatorShare {
    pub height: u64,
    pub epoch: u64,
    pub node: AccountId,
    /// The reward's kind; `None` for a slash.
    pub kind: Option<RewardKind>,
    pub amount: Amount,
}

/// The non-zero `RewardSplit` and `SlashSplit` parts of `events` that went to (or were taken from)
/// `account` as a nominator of another node, in the order of `events`.
pub fn nominator_shares(account: &AccountId, events: &[(u64, EventRecord)]) -> Vec<NominatorShare> {
    let part = |parts: &[(AccountId, Amount)]| parts.iter().find(|(a, _)| a == account).map(|(_, x)| *x);
    events
        .iter()
        .filter_map(|(h, r)| {
            let (node, epoch, kind, parts) = match &r.event {
                Event::RewardSplit { node, epoch, kind, parts, .. } => (node, epoch, Some(*kind), parts),
                Event::SlashSplit { node, epoch, parts } => (node, epoch, None, parts),
                _ => return None,
            };
            let amount = part(parts).filter(|a| node != account && !a.is_zero())?;
            Some(NominatorShare { height: *h, epoch: *epoch, node: *node, kind, amount })
        })
        .collect()
}

fn kind_text(kind: Option<RewardKind>) -> &'static str {
    match kind {
        Some(RewardKind::Miner) => "miner reward",
        Some(RewardKind::Points) => "points reward",
        Some(RewardKind::Router) => "router reward",
        Some(RewardKind::Validator) => "validator reward",
        None => "slash",
    }
}

/// What an account nominated (`table#account-nominations`, one `tr[data-node]` each) and the shares it
/// received or lost as a nominator (`table#nominator-rewards`, `table#nominator-slashes`).
pub fn account_nominations(a: &AccountView, shares: &[NominatorShare]) -> Markup {
    let (slashes, rewards): (Vec<&NominatorShare>, Vec<&NominatorShare>) =
        shares.iter().partition(|s| s.kind.is_none());
    html! {
        h2 { "Nominations" }
        @if a.nominated.is_empty() { p.note { "It nominates no node." } } @else {
            table #account-nominations {
                tr { th { "node" } th { "active" } th { "unbonding" } }
                @for x in &a.nominated {
                    tr data-node=(x.node) { td { (node_link(&x.node)) } td { (amount(x.active)) } td { (chunks(&x.unbonding)) } }
                }
            }
        }
        h3 { "Shares of rewards received as a nominator (recent blocks)" }
        (shares_table("nominator-rewards", &rewards, "No reward share in the recent blocks."))
        h3 { "Parts of slashes taken as a nominator (recent blocks)" }
        (shares_table("nominator-slashes", &slashes, "No slash reached it in the recent blocks."))
    }
}

fn shares_table(id: &str, rows: &[&NominatorShare], none: &str) -> Markup {
    html! {
        @if rows.is_empty() { p.note { (none) } } @else {
            table id=(id) {
                tr { th { "block" } th { "epoch" } th { "node" } th { "of" } th { "amount" } }
                @for s in rows {
                    tr data-node=(s.node) data-epoch=(s.epoch) {
                        td.num { a href={ "/blocks/" (s.height) } { (s.height) } }
                        td.num { (s.epoch) }
                        td { (node_link(&s.node)) " " a href={ "/nodes/" (s.node) "/rewards/" (s.epoch) } { "why" } }
                        td { (kind_text(s.kind)) }
                        td { (amount(s.amount)) }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pages::{self, NodePage};
    use api::{CommissionView, NominatedView, NominationView, PendingCommission, ReputationView};
    use types::Height;

    fn ppb(x: u32) -> Ppb {
        Ppb::new(x).expect("a ratio")
    }

    fn set(h: u64, node: AccountId, c: u32, at: u64) -> (u64, EventRecord) {
        let event = Event::CommissionSet { node, commission: ppb(c), effective_at: Height(at) };
        (h, EventRecord { tx: Some(0), event })
    }

    #[test]
    fn a_commission_change_replaces_the_rate_in_force_at_its_height() {
        let (node, other) = (AccountId([1; 32]), AccountId([2; 32]));
        // 5% from 10; at 12 a change to 8% from 20, replaced at 15 (before 20) by 6% from 20.
        let events = vec![
            set(15, node, 60_000_000, 20),
            set(12, node, 80_000_000, 20),
            set(4, other, 1, 10),
            set(3, node, 50_000_000, 10),
        ];
        let got = commission_history(&node, &events, true);
        let olds: Vec<_> = got.iter().map(|c| (c.height, c.old.map(Ppb::raw), c.new.raw(), c.effective_at)).collect();
        assert_eq!(
            olds,
            vec![
                (3, Some(0), 50_000_000, 10),
                (12, Some(50_000_000), 80_000_000, 20),
                (15, Some(50_000_000), 60_000_000, 20)
            ]
        );
        let partial = commission_history(&node, &events, false);
        assert_eq!(partial[0].old, None, "set before the scanned blocks: unknown");
        assert_eq!(partial[1].old, Some(ppb(50_000_000)), "but the next one is known");
    }

    fn node_view(id: AccountId, nominator: AccountId) -> api::NodeView {
        api::NodeView {
            account: id,
            roles: [protocol::Role::Miner].into_iter().collect(),
            services: Default::default(),
            capacity: 1,
            endpoint: "http://m".into(),
            status: None,
            last_heartbeat: Height(1),
            registered_at: Height(1),
            bonded: Amount(150),
            reputation: ppb(500_000_000),
            own_stake: Amount(100),
            nominated_total: Amount(300),
            selection_weight: Amount(200),
            nominations: vec![NominationView {
                nominator,
                active: Amount(300),
                unbonding: vec![UnbondingView { amount: Amount(40), unbonded_at: Height(8), matures_at: Height(18) }],
            }],
            commission: CommissionView {
                current: ppb(50_000_000),
                pending: Some(PendingCommission { commission: ppb(100_000_000), effective_at: Height(20) }),
            },
        }
    }

    #[test]
    fn a_node_page_lists_its_nominators_with_their_share_and_its_commission_history() {
        let (id, nominator) = (AccountId([1; 32]), AccountId([2; 32]));
        let view = node_view(id, nominator);
        let reputation = ReputationView {
            account: id,
            reputation: view.reputation,
            client_ratings: None,
            network_good: 0,
            network_bad: 0,
        };
        let history = vec![set(12, id, 100_000_000, 20), set(3, id, 50_000_000, 10)];
        let page = NodePage {
            view,
            name: None,
            reputation,
            series: vec![],
            epochs: vec![],
            points: None,
            history,
            scanned_from: 1,
            candidate: None,
        };
        let html = pages::node(&page).into_string();
        let row = format!("<tr data-nominator=\"{nominator}\">");
        assert!(html.contains(&row), "{html}");
        let after = &html[html.find(&row).expect("row")..];
        // 300 of 100 + 300: 75%; the chunk of 40 matures at 18.
        assert!(after.contains("data-amount=\"300\"") && after.contains("data-ppb=\"750000000\">75.0000%"), "{after}");
        assert!(after.contains("data-matures=\"18\""), "{after}");
        assert!(html.contains("data-ppb=\"250000000\">25.0000%"), "own stake's share: {html}");
        assert!(html.contains("id=\"commission-current\" data-ppb=\"50000000\">5.0000%"), "{html}");
        assert!(html.contains("id=\"commission-pending\" data-ppb=\"100000000\" data-height=\"20\""), "{html}");
        // Newest first: 5% → 10% at 12, then 0% → 5% at 3.
        let (a, b) =
            (html.find("<tr data-height=\"12\">").expect("12"), html.find("<tr data-height=\"3\">").expect("3"));
        assert!(a < b, "{html}");
        let row12 = &html[a..b];
        assert!(
            row12.contains("href=\"/blocks/12\"") && row12.contains("5.0000%") && row12.contains("→ 10.0000%"),
            "{row12}"
        );
        assert!(html.contains("id=\"selection-weight\" data-weight=\"200\""), "{html}");
    }

    #[test]
    fn an_account_page_lists_what_it_nominated_and_its_shares_as_a_nominator() {
        let (me, node, other) = (AccountId([2; 32]), AccountId([1; 32]), AccountId([3; 32]));
        let mut a = AccountView {
            id: me,
            free: Amount(0),
            held: Amount(0),
            bonded: Amount(300),
            unbonding: Amount(0),
            nonce: 1,
            unbonding_chunks: vec![],
            holds: vec![],
            nominated: vec![NominatedView { node, active: Amount(300), unbonding: vec![] }],
            height: 30,
        };
        let rec = |h, event| (h, EventRecord { tx: None, event });
        let history = vec![
            rec(
                20,
                Event::RewardSplit {
                    node,
                    epoch: 2,
                    kind: RewardKind::Miner,
                    commission: Amount(5),
                    parts: vec![(node, Amount(24)), (me, Amount(71))],
                },
            ),
            rec(18, Event::SlashSplit { node: other, epoch: 2, parts: vec![(other, Amount(1)), (me, Amount(9))] }),
            // Its own node's split is not a nominator's share.
            rec(
                10,
                Event::RewardSplit {
                    node: me,
                    epoch: 1,
                    kind: RewardKind::Points,
                    commission: Amount(0),
                    parts: vec![(me, Amount(4))],
                },
            ),
        ];
        let html = pages::account(&a, &Default::default(), &history).into_string();
        assert!(html.contains(&format!("<tr data-node=\"{node}\">")), "{html}");
        let rewards = &html[html.find("id=\"nominator-rewards\"").expect("rewards")..];
        assert!(rewards.contains("data-amount=\"71\"") && rewards.contains("miner reward"), "{rewards}");
        assert!(!rewards[..rewards.find("</table>").expect("end")].contains("data-amount=\"4\""), "{rewards}");
        let slashes = &html[html.find("id=\"nominator-slashes\"").expect("slashes")..];
        assert!(
            slashes.contains("data-amount=\"9\"") && slashes.contains(&format!("/nodes/{other}/rewards/2")),
            "{slashes}"
        );
        a.nominated.clear();
        let html = pages::account(&a, &Default::default(), &[]).into_string();
        assert!(html.contains("It nominates no node.") && !html.contains("account-nominations"), "{html}");
    }
}
