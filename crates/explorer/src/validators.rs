//! The validator set (issue 21): `/validators` shows the era in progress, its elected set with each
//! validator's weight and share, the next era's set once elected, every candidate, and the recent
//! elections (`ValidatorSetElected`); a candidate's node and account pages say so and list its validator
//! rewards (`ValidatorRewarded`). Every figure is the engine's or an event's.

use crate::{account_link, amount, layout, percent, short};
use api::{ElectedView, ValidatorsView};
use maud::{html, Markup};
use types::{AccountId, Amount};

/// One recorded election: the block it was made in, the era it elected, the set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Election {
    pub height: u64,
    pub era: u64,
    pub set: Vec<ElectedView>,
}

/// Everything `/validators` shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidatorsPage {
    pub view: ValidatorsView,
    /// Elections in the scanned blocks, newest first.
    pub elections: Vec<Election>,
}

fn key_text(key: &AccountId) -> Markup {
    let hex = key.to_string();
    html! { code title=(hex) { (short(&hex)) } }
}

/// An elected set (`table#<id> tr[data-key]`): key, stash, weight, share of the set's weight.
fn set_table(id: &str, set: &[ElectedView]) -> Markup {
    let total = Amount(set.iter().map(|v| v.weight.0).sum());
    html! {
        @if set.is_empty() { p.note { "No validator." } } @else {
            table id=(id) {
                tr { th { "key" } th { "stash account" } th { "weight" } th { "share of the set" } }
                @for v in set {
                    @let share = crate::stake::share_ppb(v.weight, total);
                    tr data-key=(v.key) {
                        td { (key_text(&v.key)) }
                        td { (account_link(&v.account)) }
                        td { (amount(v.weight)) }
                        td data-ppb=(share) { (percent(share)) }
                    }
                }
                tr.total { td { "in all" } td { (set.len()) " validators" } td { (amount(total)) } td { "" } }
            }
        }
    }
}

pub fn page(p: &ValidatorsPage) -> Markup {
    let v = &p.view;
    let elected_now: std::collections::BTreeSet<AccountId> = v.current.iter().map(|e| e.key).collect();
    let body = html! {
        dl {
            dt { "era in progress" } dd #era data-era=(v.era) { (v.era) " (blocks " (v.era * v.era_blocks) " to " ((v.era + 1) * v.era_blocks - 1) ")" }
            dt { "blocks per era" } dd { (v.era_blocks) }
            dt { "set size at most" } dd { (v.validators_max) }
        }
        h2 { "Era " (v.era) ": the elected set" }
        p.note { "Weight: the stash's own bonded stake plus the active nominations to it, at the election." }
        (set_table("validators", &v.current))
        h2 { "Era " (v.era + 1) }
        @if let Some(next) = &v.next { (set_table("validators-next", next)) }
        @else { p.note { "Not elected yet: the set of era " (v.era + 1) " is elected at the end of block " ((v.era + 1) * v.era_blocks - 1) "." } }
        h2 { "Candidates" }
        @if v.candidates.is_empty() { p.note { "No validator candidate: this chain is sealed by a single node." } } @else {
            table #candidates {
                tr { th { "key" } th { "stash account" } th { "p2p address" } th { "weight now" } th { "status" } }
                @for c in &v.candidates {
                    tr data-key=(c.key) {
                        td { (key_text(&c.key)) }
                        td { (account_link(&c.account)) }
                        td { code { (c.p2p) } }
                        td { (amount(c.weight)) }
                        td {
                            @if c.chilled { span.bad data-chilled="true" { "chilled (equivocated)" } }
                            @else if elected_now.contains(&c.key) { "in the set of era " (v.era) }
                            @else { "not in the set" }
                        }
                    }
                }
            }
        }
        h2 { "Recent elections" }
        @if p.elections.is_empty() { p.note { "No election in the recent blocks." } } @else {
            table #validator-elections {
                tr { th { "block" } th { "era" } th { "elected (weight)" } }
                @for e in &p.elections {
                    tr data-height=(e.height) {
                        td.num { a href={ "/blocks/" (e.height) } { (e.height) } }
                        td.num { (e.era) }
                        td { @for (i, x) in e.set.iter().enumerate() { @if i > 0 { ", " } (key_text(&x.key)) " " (account_link(&x.account)) " (" (amount(x.weight)) ")" } }
                    }
                }
            }
        }
    };
    layout("Validators", body)
}

/// A validator candidate's role, for its node and account pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CandidateRole {
    pub key: AccountId,
    pub chilled: bool,
    /// In the era in progress's set.
    pub elected: bool,
    /// Its `ValidatorRewarded` events in the scanned blocks, newest first: (height, amount).
    pub rewards: Vec<(u64, Amount)>,
}

/// "Validator candidate" and its validator rewards (`table#validator-rewards tr[data-height]`).
pub fn candidate_section(c: &CandidateRole) -> Markup {
    let total = Amount(c.rewards.iter().map(|(_, a)| a.0).sum());
    html! {
        h2 #validator-candidate { "Validator candidate" }
        p { "Consensus key " (key_text(&c.key)) "; "
            @if c.chilled { span.bad { "chilled (equivocated): skipped at elections" } }
            @else if c.elected { "in the era's validator set" } @else { "not in the era's validator set" }
            " (" a href="/validators" { "validators" } ")." }
        h3 { "Validator rewards (recent blocks)" }
        @if c.rewards.is_empty() { p.note { "No validator reward in the recent blocks." } } @else {
            table #validator-rewards {
                tr { th { "block" } th { "amount" } }
                @for (h, a) in &c.rewards { tr data-height=(h) { td.num { a href={ "/blocks/" (h) } { (h) } } td { (amount(*a)) } } }
                tr.total { td { "in all" } td { (amount(total)) } }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use api::CandidateView;

    fn elected(n: u8, weight: u128) -> ElectedView {
        ElectedView { key: AccountId([n; 32]), account: AccountId([n + 100; 32]), weight: Amount(weight) }
    }

    #[test]
    fn the_validators_page_shows_the_set_with_shares_the_candidates_and_the_elections() {
        let current = vec![elected(1, 300), elected(2, 100)];
        let candidate = |n: u8, chilled| CandidateView {
            key: AccountId([n; 32]),
            account: AccountId([n + 100; 32]),
            p2p: format!("127.0.0.1:{n}"),
            chilled,
            weight: Amount(u128::from(n) * 100),
        };
        let view = ValidatorsView {
            height: 12,
            era: 1,
            era_blocks: 10,
            validators_max: 2,
            current: current.clone(),
            next: None,
            candidates: vec![candidate(1, false), candidate(2, false), candidate(3, true)],
        };
        let elections = vec![Election { height: 9, era: 1, set: current }];
        let mut with_next = view.clone();
        let html = page(&ValidatorsPage { view, elections }).into_string();
        let first = format!("<tr data-key=\"{}\">", AccountId([1; 32]));
        let at = html.find(&first).expect("the first validator");
        let row = &html[at..at + html[at..].find("</tr>").expect("end")];
        assert!(row.contains("data-amount=\"300\"") && row.contains("data-ppb=\"750000000\">75.0000%"), "{row}");
        assert!(row.contains(&format!("href=\"/accounts/{}\"", AccountId([101; 32]))), "{row}");
        assert!(html.contains("blocks 10 to 19") && html.contains("elected at the end of block 19"), "{html}");
        assert!(html.contains("data-chilled=\"true\""), "{html}");
        assert!(html.contains("<tr data-height=\"9\">") && html.contains("href=\"/blocks/9\""), "{html}");
        let validators = &html[html.find("id=\"validators\"").expect("table")..];
        let validators = &validators[..validators.find("</table>").expect("end")];
        assert_eq!(validators.matches("<tr data-key=").count(), 2, "{validators}");
        assert!(!html.contains("id=\"validators-next\""), "{html}");
        // At an era's last block the next set is known: 100 of 100 + 300 is 25%.
        with_next.next = Some(vec![elected(2, 100), elected(3, 300)]);
        let html = page(&ValidatorsPage { view: with_next, elections: vec![] }).into_string();
        let next = &html[html.find("id=\"validators-next\"").expect("the next set")..];
        let row = &next[next.find(&format!("<tr data-key=\"{}\">", AccountId([2; 32]))).expect("validator 2")..];
        assert!(row.contains("data-ppb=\"250000000\">25.0000%"), "{row}");
        assert!(html.contains("No election in the recent blocks."), "{html}");
    }

    #[test]
    fn a_candidates_section_lists_its_validator_rewards() {
        let c = CandidateRole {
            key: AccountId([1; 32]),
            chilled: false,
            elected: true,
            rewards: vec![(8, Amount(5)), (7, Amount(5))],
        };
        let html = candidate_section(&c).into_string();
        assert!(html.contains("Validator candidate") && html.contains("<tr data-height=\"8\">"), "{html}");
        assert!(html.contains("data-amount=\"10\""), "the total: {html}");
    }
}
