//! The consensus validator set (issue 21; docs/CONSENSUS.md "Eras"): candidates, the set elected for each
//! era, and the era arithmetic every part of the network shares.
//!
//! Era e is heights `[e·era_blocks, (e+1)·era_blocks − 1]` (commonware's `FixedEpocher`: a consensus epoch
//! is an era). The set of era e+1 is elected at the end of era e's last block, so whoever has finalized that
//! block knows the next set.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};
use types::{AccountId, Amount, Height};

/// A validator candidate: every genesis `[[validators]]` entry.
#[derive(
    Debug, Clone, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize, schemars::JsonSchema,
)]
pub struct Candidate {
    /// Its consensus and p2p ed25519 key.
    pub key: AccountId,
    /// The stash account whose own and nominated stake counts for it, and which its rewards are paid to.
    pub account: AccountId,
    /// Where the other validators reach it (`ip:port`).
    pub p2p: String,
    /// Set when equivocation evidence against it landed: it is never elected again.
    pub chilled: bool,
}

/// One member of an era's consensus set.
#[derive(
    Debug, Clone, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize, schemars::JsonSchema,
)]
pub struct Elected {
    pub key: AccountId,
    pub account: AccountId,
    /// Own plus nominated stake of `account` at the election.
    pub weight: Amount,
}

/// The era `height` belongs to.
pub fn era_of(height: Height, era_blocks: u64) -> u64 {
    height.0 / era_blocks.max(1)
}

/// Whether `height` is the last block of its era (its end elects the next era's set).
pub fn is_era_end(height: Height, era_blocks: u64) -> bool {
    (height.0 + 1) % era_blocks.max(1) == 0
}

/// Elect the top `max` of `weighed` (candidate, weight) by weight, ties to the smaller key; chilled and
/// zero-weight candidates are skipped. The result is sorted by key (commonware's participant order).
pub fn elect(weighed: &[(Candidate, Amount)], max: u32) -> Vec<Elected> {
    let mut ranked: Vec<&(Candidate, Amount)> = weighed.iter().filter(|(c, w)| !c.chilled && !w.is_zero()).collect();
    ranked.sort_by(|(a, wa), (b, wb)| wb.cmp(wa).then(a.key.cmp(&b.key)));
    let mut set: Vec<Elected> = ranked
        .into_iter()
        .take(max as usize)
        .map(|(c, w)| Elected { key: c.key, account: c.account, weight: *w })
        .collect();
    set.sort_by_key(|e| e.key);
    set
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cand(n: u8, chilled: bool) -> Candidate {
        Candidate { key: AccountId([n; 32]), account: AccountId([n + 100; 32]), p2p: String::new(), chilled }
    }

    #[test]
    fn the_top_n_by_weight_are_elected_ties_to_the_smaller_key_and_sorted_by_key() {
        let weighed = vec![
            (cand(5, false), Amount(300)),
            (cand(1, false), Amount(100)),
            (cand(2, false), Amount(500)),
            (cand(3, false), Amount(100)),
            (cand(4, true), Amount(900)),
            (cand(6, false), Amount(0)),
        ];
        let set = elect(&weighed, 3);
        let keys: Vec<u8> = set.iter().map(|e| e.key.0[0]).collect();
        // 2 (500) and 5 (300), then the tie at 100 goes to key 1; 4 is chilled, 6 weighs nothing.
        assert_eq!(keys, vec![1, 2, 5]);
        assert_eq!(set[1].weight, Amount(500));
        assert_eq!(set[1].account, AccountId([102; 32]));
        assert_eq!(elect(&weighed, 10).len(), 4);
    }

    #[test]
    fn eras_split_heights_as_fixed_epochs_do() {
        assert_eq!(era_of(Height(0), 10), 0);
        assert_eq!(era_of(Height(9), 10), 0);
        assert_eq!(era_of(Height(10), 10), 1);
        assert!(is_era_end(Height(9), 10));
        assert!(!is_era_end(Height(10), 10));
        assert!(is_era_end(Height(19), 10));
    }
}
