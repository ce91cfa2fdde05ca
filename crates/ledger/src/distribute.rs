//! Exact pro-rata distribution by largest remainder.
//!
//! Each part is `floor(pot × w_i / Σw)`; the `pot − Σ floors` leftover units (fewer than the number of
//! parts) go one each to the largest remainders, ties broken by ascending account id. The parts always
//! sum to exactly `pot`: a split never pays more than the pot, and never strands a unit.

use types::{mul_div_floor, AccountId, Amount, Ppb};

/// Why a split could not be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DistributeError {
    #[error("weights sum to zero: nothing to split by")]
    ZeroTotalWeight,
    #[error("weights overflow 128 bits")]
    WeightOverflow,
    #[error("account {0} appears twice in the weights")]
    DuplicateAccount(AccountId),
}

/// Split `pot` by `weights`. Returns one part per input, in ascending account-id order, summing to `pot`.
pub fn distribute(pot: Amount, weights: &[(AccountId, u128)]) -> Result<Vec<(AccountId, Amount)>, DistributeError> {
    let mut sorted: Vec<(AccountId, u128)> = weights.to_vec();
    sorted.sort_unstable_by_key(|(id, _)| *id);
    if let Some(w) = sorted.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(DistributeError::DuplicateAccount(w[0].0));
    }
    let total =
        sorted.iter().try_fold(0u128, |acc, (_, w)| acc.checked_add(*w)).ok_or(DistributeError::WeightOverflow)?;
    if total == 0 {
        return Err(DistributeError::ZeroTotalWeight);
    }
    let mut parts = Vec::with_capacity(sorted.len());
    let mut remainders = Vec::with_capacity(sorted.len());
    let mut assigned: u128 = 0;
    for (i, (id, w)) in sorted.iter().enumerate() {
        let (q, r) = mul_div_floor(pot.0, *w, total).expect("w <= total, so the quotient fits");
        assigned += q; // Σ floor(pot·w/total) <= pot, so this cannot overflow.
        parts.push((*id, Amount(q)));
        remainders.push((r, i));
    }
    let leftover = pot.0 - assigned;
    debug_assert!(leftover < sorted.len() as u128, "largest remainder leftover must be < n");
    // Largest remainder first; equal remainders go to the smaller account id (smaller index).
    remainders.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for &(_, i) in remainders.iter().take(leftover as usize) {
        parts[i].1 .0 += 1;
    }
    Ok(parts)
}

/// A reward split between a node and its nominators (see [`split_reward`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RewardSplit {
    /// floor(reward × commission), to the node.
    pub commission: Amount,
    /// The rest, pro rata to stake, in ascending account-id order (the node's own part included).
    pub parts: Vec<(AccountId, Amount)>,
}

/// Split `reward` earned by `node`: the commission (`floor(reward × commission)`) to the node, the rest
/// pro rata between the node's own stake `own` and each nomination in `nominations`, by largest remainder
/// ([`distribute`]). Zero stakes take part with weight zero (and get nothing); if every stake is zero the
/// rest goes to the node. The commission and the parts sum to exactly `reward`.
pub fn split_reward(
    reward: Amount,
    commission: Ppb,
    node: AccountId,
    own: Amount,
    nominations: &[(AccountId, Amount)],
) -> Result<RewardSplit, DistributeError> {
    let fee = commission.mul_floor(reward);
    let rest = Amount(reward.0 - fee.0);
    let mut weights: Vec<(AccountId, u128)> = Vec::with_capacity(nominations.len() + 1);
    weights.push((node, own.0));
    weights.extend(nominations.iter().map(|(id, a)| (*id, a.0)));
    let parts = match distribute(rest, &weights) {
        Err(DistributeError::ZeroTotalWeight) => vec![(node, rest)],
        other => other?,
    };
    Ok(RewardSplit { commission: fee, parts })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn id(n: u8) -> AccountId {
        AccountId([n; 32])
    }

    #[test]
    fn thirds_give_the_leftover_unit_to_the_smallest_id() {
        let parts = distribute(Amount(100), &[(id(3), 1), (id(1), 1), (id(2), 1)]).expect("split");
        assert_eq!(parts, vec![(id(1), Amount(34)), (id(2), Amount(33)), (id(3), Amount(33))]);
    }

    #[test]
    fn largest_remainder_wins_before_id() {
        // 10 split 1:2 -> 3.33 / 6.67: the second has the larger remainder and gets the unit.
        let parts = distribute(Amount(10), &[(id(1), 1), (id(2), 2)]).expect("split");
        assert_eq!(parts, vec![(id(1), Amount(3)), (id(2), Amount(7))]);
    }

    #[test]
    fn errors() {
        assert_eq!(distribute(Amount(5), &[(id(1), 0)]), Err(DistributeError::ZeroTotalWeight));
        assert_eq!(distribute(Amount(5), &[]), Err(DistributeError::ZeroTotalWeight));
        assert_eq!(distribute(Amount(5), &[(id(1), u128::MAX), (id(2), 1)]), Err(DistributeError::WeightOverflow));
        assert_eq!(distribute(Amount(5), &[(id(1), 1), (id(1), 2)]), Err(DistributeError::DuplicateAccount(id(1))));
    }

    #[test]
    fn a_thousand_with_ten_percent_commission_and_stakes_300_500_200() {
        let split = split_reward(
            Amount(1_000),
            Ppb::new(100_000_000).expect("10%"),
            id(1),
            Amount(300),
            &[(id(2), Amount(500)), (id(3), Amount(200))],
        )
        .expect("split");
        assert_eq!(split.commission, Amount(100));
        assert_eq!(split.parts, vec![(id(1), Amount(270)), (id(2), Amount(450)), (id(3), Amount(180))]);
        // 997 with 10%: commission 99, rest 898 -> 269.4 / 449 / 179.6: the unit goes to the 0.6 remainder.
        let split = split_reward(
            Amount(997),
            Ppb::new(100_000_000).expect("10%"),
            id(1),
            Amount(300),
            &[(id(2), Amount(500)), (id(3), Amount(200))],
        )
        .expect("split");
        assert_eq!(split.commission, Amount(99));
        assert_eq!(split.parts, vec![(id(1), Amount(269)), (id(2), Amount(449)), (id(3), Amount(180))]);
    }

    #[test]
    fn no_stake_at_all_leaves_the_rest_to_the_node() {
        let split = split_reward(Amount(10), Ppb::ZERO, id(1), Amount::ZERO, &[]).expect("split");
        assert_eq!(split, RewardSplit { commission: Amount::ZERO, parts: vec![(id(1), Amount(10))] });
        let dup = split_reward(Amount(10), Ppb::ZERO, id(1), Amount(1), &[(id(1), Amount(1))]);
        assert_eq!(dup, Err(DistributeError::DuplicateAccount(id(1))));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]
        #[test]
        fn reward_splits_are_exact_and_each_part_at_least_its_floor(
            reward in 0u128..=1_000_000_000_000_000_000_000_000_000,
            commission in 0u32..=1_000_000_000,
            own in 0u128..=u64::MAX as u128,
            noms in proptest::collection::btree_map(2u8.., 0u128..=u64::MAX as u128, 0..20),
        ) {
            let nominations: Vec<_> = noms.iter().map(|(k, a)| (id(*k), Amount(*a))).collect();
            let c = Ppb::new(commission).expect("at most one");
            let split = split_reward(Amount(reward), c, id(1), Amount(own), &nominations).expect("split");
            let sum = split.parts.iter().try_fold(split.commission.0, |a, (_, p)| a.checked_add(p.0));
            prop_assert_eq!(sum, Some(reward));
            prop_assert_eq!(split.commission, c.mul_floor(Amount(reward)));
            let rest = reward - split.commission.0;
            let total: u128 = own + nominations.iter().map(|(_, a)| a.0).sum::<u128>();
            if total > 0 {
                let stake = |who: &AccountId| if *who == id(1) { own } else { noms[&who.0[0]] };
                for (who, part) in &split.parts {
                    let (floor, _) = mul_div_floor(rest, stake(who), total).expect("fits");
                    prop_assert!(part.0 == floor || part.0 == floor + 1);
                }
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn parts_sum_to_pot_and_stay_within_one_unit(
            pot in any::<u128>(),
            ws in proptest::collection::btree_map(any::<u8>(), 0u128..=u64::MAX as u128, 1..40),
        ) {
            let weights: Vec<_> = ws.iter().map(|(k, w)| (id(*k), *w)).collect();
            let total: u128 = weights.iter().map(|(_, w)| *w).sum();
            prop_assume!(total > 0);
            let parts = distribute(Amount(pot), &weights).expect("split");
            let sum = parts.iter().try_fold(0u128, |a, (_, p)| a.checked_add(p.0)).expect("no overflow");
            prop_assert_eq!(sum, pot);
            for ((pid, part), (wid, w)) in parts.iter().zip(weights.iter()) {
                prop_assert_eq!(pid, wid);
                let (floor, _) = mul_div_floor(pot, *w, total).expect("fits");
                prop_assert!(part.0 == floor || part.0 == floor + 1);
            }
        }
    }
}
