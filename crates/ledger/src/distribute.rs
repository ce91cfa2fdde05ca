//! Exact pro-rata distribution by largest remainder.
//!
//! Each part is `floor(pot × w_i / Σw)`; the `pot − Σ floors` leftover units (fewer than the number of
//! parts) go one each to the largest remainders, ties broken by ascending account id. The parts always
//! sum to exactly `pot`: a split never pays more than the pot, and never strands a unit.

use types::{mul_div_floor, AccountId, Amount};

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
