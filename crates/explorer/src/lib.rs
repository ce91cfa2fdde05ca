//! The explorer every node serves at `/` (DESIGN §13): server-rendered HTML pages, readable without
//! JavaScript, with charts as inline SVG.
//!
//! Every page is a pure function from data to HTML ([`Markup`]): the node reads its state and stored
//! events, fills the inputs, and serves what comes out, so pages are tested without a server. The explorer
//! shows what the engine recorded and never re-derives a rule: a reward explanation's terms come from the
//! reward events' own fields (`MinerRewarded`, `PointsRewarded`, `PointsBooked`, `RouterRewarded`,
//! `RouterSlashed`), and the page checks them against the amounts the ledger paid ([`reward`]).

pub mod chart;
pub mod events;
pub mod pages;
pub mod reward;
pub mod stake;
pub mod validators;

pub use maud::Markup;
use maud::{html, PreEscaped, DOCTYPE};
use types::{AccountId, Amount};

/// The stylesheet, served at [`CSS_PATH`].
pub const CSS: &str = include_str!("style.css");
/// Where the node serves [`CSS`].
pub const CSS_PATH: &str = "/static/explorer.css";

/// A whole page: the header with the search form, then `body`.
pub fn layout(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · stakework explorer" }
                link rel="stylesheet" href=(CSS_PATH);
            }
            body {
                header {
                    a.brand href="/" { "stakework explorer" }
                    nav {
                        a href="/epochs/current" { "epoch" } " "
                        a href="/points" { "points" } " "
                        a href="/routers" { "routers" } " "
                        a href="/lists" { "lists" } " "
                        a href="/governance" { "governance" } " "
                        a href="/validators" { "validators" }
                    }
                    (search_form(""))
                }
                main { h1 { (title) } (body) }
            }
        }
    }
}

/// The search box: an account, a transaction hash, a block height, `task N` or `job N`.
pub fn search_form(q: &str) -> Markup {
    html! {
        form.search action="/search" method="get" {
            input type="search" name="q" value=(q) placeholder="account, tx hash, height, task N, job N";
            button type="submit" { "search" }
        }
    }
}

/// The page for an unknown id (served with HTTP 404).
pub fn not_found(message: &str) -> Markup {
    layout("Not found", html! { p.error { (message) } p { a href="/" { "back to the chain" } } })
}

/// The page for bad input, such as a non-numeric height (served with HTTP 400).
pub fn bad_request(message: &str) -> Markup {
    layout("Bad request", html! { p.error { (message) } p { a href="/" { "back to the chain" } } })
}

/// A link to an account's page.
pub fn account_link(id: &AccountId) -> Markup {
    let text = id.to_string();
    html! { a.id href={ "/accounts/" (text) } title=(text) { (short(&text)) } }
}

/// A link to a node's page.
pub fn node_link(id: &AccountId) -> Markup {
    let text = id.to_string();
    html! { a.id href={ "/nodes/" (text) } title=(text) { (short(&text)) } }
}

/// A rendered page with each named account's id links showing its name instead of its shortened id (the
/// full id stays in the link's title). Names are the genesis accounts' labels, not chain state, so pages are
/// rendered without them and named here, by the one link shape this crate renders.
pub fn with_names(page: String, names: &std::collections::BTreeMap<AccountId, String>) -> String {
    names.iter().fold(page, |page, (id, name)| {
        let hex = id.to_string();
        let shown = html! { (name) }.into_string();
        page.replace(&format!("title=\"{hex}\">{}</a>", short(&hex)), &format!("title=\"{hex}\">{shown}</a>"))
    })
}

/// The first 8 and last 4 hex digits of an id or hash.
pub fn short(hex: &str) -> String {
    if hex.len() <= 14 {
        return hex.to_string();
    }
    format!("{}…{}", &hex[..8], &hex[hex.len() - 4..])
}

/// An amount in SWK with its base units, and the exact base units in `data-amount`.
pub fn amount(a: Amount) -> Markup {
    html! { span.amount data-amount=(a.0) title={ (a.0) " base units" } { (swk(a.0)) } }
}

/// A signed amount (a slash is negative), base units in `data-amount`.
pub fn signed_amount(units: i128) -> Markup {
    let sign = if units < 0 { "−" } else { "" };
    html! { span.amount data-amount=(units) title={ (units) " base units" } { (sign) (swk(units.unsigned_abs())) } }
}

/// Base units as SWK with nine decimals (trailing zeros trimmed).
pub fn swk(units: u128) -> String {
    let (whole, frac) = (units / 1_000_000_000, units % 1_000_000_000);
    if frac == 0 {
        return format!("{whole} SWK");
    }
    let frac = format!("{frac:09}");
    format!("{whole}.{} SWK", frac.trim_end_matches('0'))
}

/// A ppb ratio as a percentage with four decimals.
pub fn percent(ppb: u32) -> String {
    format!("{}.{:04}%", ppb / 10_000_000, (ppb % 10_000_000) / 1_000)
}

/// Text that must not be escaped (an SVG we built ourselves).
pub(crate) fn raw(s: String) -> Markup {
    PreEscaped(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_show_swk_and_keep_the_exact_units() {
        assert_eq!(swk(1_500_000_000), "1.5 SWK");
        assert_eq!(swk(7), "0.000000007 SWK");
        assert_eq!(swk(3_000_000_000), "3 SWK");
        let m = signed_amount(-12).into_string();
        assert!(m.contains("data-amount=\"-12\""), "{m}");
        assert_eq!(percent(750_000_000), "75.0000%");
    }

    #[test]
    fn named_accounts_show_their_names_in_every_id_link() {
        let (named, other) = (AccountId([1; 32]), AccountId([2; 32]));
        let page = html! { (account_link(&named)) (node_link(&named)) (account_link(&other)) }.into_string();
        let names = [(named, "m5-lazy<".to_string())].into_iter().collect();
        let out = with_names(page, &names);
        assert_eq!(out.matches(">m5-lazy&lt;</a>").count(), 2, "{out}");
        assert!(out.contains(&short(&other.to_string())), "{out}");
    }

    #[test]
    fn error_pages_say_what_went_wrong_and_escape_it() {
        let m = not_found("no block at height 99 <script>").into_string();
        assert!(m.contains("no block at height 99 &lt;script&gt;"), "{m}");
        assert!(m.starts_with("<!DOCTYPE html>"));
    }
}
