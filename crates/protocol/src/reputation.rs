//! Reputation (seed 000, DESIGN §4): a bounded, smooth logistic function of a miner's weighted rating mean.
//!
//! `x = (Σ wᵢ·valueᵢ + n0·x0) / (Σ wᵢ + n0)` with Good = 1, Fair = 0.5, Bad = 0 and a prior of `n0`
//! neutral ratings; `rep = 1 / (1 + e^(−k·(x − x0)))`, stored in parts per billion. A network rating
//! weighs 1; a client's rating weighs `min(paid, cap) / cap`, what it paid the miner for the requests it
//! rated over `rating_weight_cap` (issue 19: a rating costs what it weighs, so throwaway accounts buying
//! one cheap request each can move a reputation only as far as their spending against the miner's honest
//! volume). Defaults k = 10, x0 = 0.5, n0 = 5, cap 1 SWK, all governed. Everything is integer fixed point: `e^(−z)` is computed in Q64 (64 fraction
//! bits) by range reduction `z = m·ln2 + r` and a Taylor series for `e^(−r)`, so every node computes the
//! same bits on every platform. Accuracy: within 1e-9 of the real function before rounding to ppb.

use types::{Amount, Ppb};

const ONE_Q64: u128 = 1 << 64;
/// ln 2 × 2^64, rounded.
const LN2_Q64: u128 = 12_786_308_645_202_655_660;
const PPB: u128 = 1_000_000_000;

/// A client's verdict on a completed request.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    borsh::BorshSerialize,
    borsh::BorshDeserialize,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Rating {
    Good,
    Fair,
    Bad,
}

impl Rating {
    /// The rating's value in halves: Good = 2 (1.0), Fair = 1 (0.5), Bad = 0.
    pub fn halves(self) -> u64 {
        match self {
            Rating::Good => 2,
            Rating::Fair => 1,
            Rating::Bad => 0,
        }
    }
}

impl Rating {
    /// The rating's value: Good 1, Fair 0.5, Bad 0.
    pub fn value(self) -> Ppb {
        Ppb::new(self.halves() as u32 * (Ppb::ONE_RAW / 2)).expect("at most 1")
    }
}

/// A client's rating weight in ppb of a full rating: `min(paid, cap) / cap`, floored (0 for a zero cap).
pub fn rating_weight_ppb(paid: Amount, cap: Amount) -> u128 {
    if cap.is_zero() {
        return 0;
    }
    let m = paid.0.min(cap.0);
    // m ≤ cap, so the quotient is at most 1e9; past 2^128 / 1e9 (a cap above 3·10^29) divide the cap first.
    match m.checked_mul(PPB) {
        Some(v) => v / cap.0,
        None => (m / (cap.0 / PPB)).min(PPB),
    }
}

/// The weighted rating mean with the prior, in ppb: `(value_sum + n0·1e9·x0) / (weight_sum + n0·1e9)`, where
/// `value_sum = Σ wᵢ·valueᵢ` and `weight_sum = Σ wᵢ`, weights in ppb of a full rating and values in ppb.
pub fn weighted_mean_ppb(value_sum: u128, weight_sum: u128, prior: u32, x0: Ppb) -> u32 {
    let num = value_sum + u128::from(prior) * PPB * u128::from(x0.raw());
    let den = weight_sum + u128::from(prior) * PPB;
    if den == 0 {
        return x0.raw();
    }
    u32::try_from(num / den).expect("a mean of values in [0, 1] is at most 1e9")
}

/// The rating mean with the prior, in ppb: `(Σ halves/2 + n0·x0) / (n + n0)`.
pub fn mean_ppb(sum_halves: u128, n: u128, prior: u32, x0: Ppb) -> u32 {
    let num = sum_halves * (PPB / 2) + u128::from(prior) * u128::from(x0.raw());
    let den = n + u128::from(prior);
    if den == 0 {
        return x0.raw();
    }
    u32::try_from(num / den).expect("a mean of values in [0, 1] is at most 1e9")
}

/// `e^(−z)` for `z ≥ 0`, both in Q64.
fn exp_neg_q64(z: u128) -> u128 {
    let m = z / LN2_Q64;
    if m >= 64 {
        return 0;
    }
    let r = z - m * LN2_Q64; // r in [0, ln 2)
                             // e^(−r) = Σ (−r)^i / i!, alternating; terms shrink fast because r < 0.7.
    let (mut plus, mut minus) = (ONE_Q64, 0u128);
    let mut term = ONE_Q64;
    for i in 1..=30u128 {
        term = term * r / ONE_Q64 / i;
        if term == 0 {
            break;
        }
        if i % 2 == 1 {
            minus += term;
        } else {
            plus += term;
        }
    }
    (plus - minus) >> m
}

/// `1 / (1 + e^(−k·(x − x0)))` in ppb, with `k` in thousandths (`k_milli = 10_000` is k = 10).
pub fn logistic_ppb(x_ppb: u32, k_milli: u32, x0: Ppb) -> Ppb {
    let (x, x0) = (i128::from(x_ppb), i128::from(x0.raw()));
    let d = (x - x0).unsigned_abs(); // ≤ 1e9
                                     // z = k·|x − x0| = k_milli·d / 1e12, in Q64; k_milli·d ≤ 4.3e18, times 2^64 < 2^128.
    let z = u128::from(k_milli) * d * ONE_Q64 / (PPB * 1_000);
    let e = exp_neg_q64(z);
    // 1 / (1 + e) in ppb, rounded to nearest.
    let den = ONE_Q64 + e;
    let up = (PPB * ONE_Q64 + den / 2) / den;
    let up = u32::try_from(up).expect("at most 1e9");
    Ppb::new(if x >= x0 { up } else { Ppb::ONE_RAW - up }).expect("within [0, 1e9]")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(x: f64, k: f64, x0: f64) -> f64 {
        1.0 / (1.0 + libm::exp(-k * (x - x0)))
    }

    #[test]
    fn logistic_matches_libm_within_1e6_over_the_whole_input_range() {
        let mut worst = 0.0f64;
        for k_milli in [1_000u32, 5_000, 10_000, 20_000, 50_000, 100_000] {
            for x0 in [250_000_000u32, 500_000_000, 800_000_000] {
                let x0p = Ppb::new(x0).expect("valid");
                for x in
                    (0..=1_000_000_000u32).step_by(99_991).chain([0, 1, x0 - 1, x0, x0 + 1, 999_999_999, 1_000_000_000])
                {
                    let got = f64::from(logistic_ppb(x, k_milli, x0p).raw()) / 1e9;
                    let want = reference(f64::from(x) / 1e9, f64::from(k_milli) / 1e3, f64::from(x0) / 1e9);
                    let err = (got - want).abs();
                    worst = worst.max(err);
                    assert!(err <= 1e-6, "x={x} k_milli={k_milli} x0={x0}: {got} vs {want}");
                }
            }
        }
        assert!(worst <= 1e-9 + 5e-10, "fixed point should be within rounding of libm, worst {worst}");
    }

    #[test]
    fn a_rating_weighs_what_its_rater_paid_up_to_the_cap() {
        let cap = Amount(100);
        assert_eq!(rating_weight_ppb(Amount(0), cap), 0, "a free request's rating weighs nothing");
        assert_eq!(rating_weight_ppb(Amount(10), cap), 100_000_000);
        assert_eq!(rating_weight_ppb(Amount(100), cap), 1_000_000_000);
        assert_eq!(rating_weight_ppb(Amount(10_000), cap), 1_000_000_000, "capped at one full rating");
        assert_eq!(rating_weight_ppb(Amount(1), Amount(3)), 333_333_333, "floored");
        assert_eq!(rating_weight_ppb(Amount(5), Amount::ZERO), 0);
        // Past 2^128 / 1e9 the cap is divided first; still within one full rating.
        let huge = Amount(u128::MAX);
        assert_eq!(rating_weight_ppb(huge, huge), 1_000_000_000);
        assert_eq!(rating_weight_ppb(Amount(u128::MAX / 2), huge), 500_000_000);
        // Full weights reproduce the unweighted mean: ten Good ratings and the prior of 5.
        let x0 = Ppb::new(500_000_000).expect("valid");
        let full = PPB;
        assert_eq!(weighted_mean_ppb(10 * full * full, 10 * full, 5, x0), mean_ppb(20, 10, 5, x0));
        // Ten full Good and twenty Bad of weight 0.1 each: x = 12.5 / 17.
        assert_eq!(weighted_mean_ppb(10 * full * full, 12 * full, 5, x0), 735_294_117);
        assert_eq!(weighted_mean_ppb(0, 0, 0, x0), 500_000_000, "no ratings and no prior: x0");
    }

    #[test]
    fn defaults_give_a_neutral_start_and_a_bounded_smooth_curve() {
        let x0 = Ppb::new(500_000_000).expect("valid");
        // No ratings: the prior alone gives x = x0 and rep = 0.5.
        assert_eq!(mean_ppb(0, 0, 5, x0), 500_000_000);
        assert_eq!(logistic_ppb(500_000_000, 10_000, x0).raw(), 500_000_000);
        // Ten Good ratings: x = (10 + 2.5) / 15 = 0.8333…; rep = 1/(1+e^(-3.333…)) ≈ 0.96555.
        let x = mean_ppb(20, 10, 5, x0);
        assert_eq!(x, 833_333_333);
        assert_eq!(logistic_ppb(x, 10_000, x0).raw(), 965_554_804);
        let bad = logistic_ppb(mean_ppb(0, 10, 5, x0), 10_000, x0).raw();
        // Symmetric around x0, up to the one unit the floored mean (0.1666…6 vs 0.8333…3) moves it.
        assert!((bad as i64 - (1_000_000_000 - 965_554_804)).abs() <= 1, "{bad}");
        assert!(
            logistic_ppb(0, 1_000_000, x0).raw() < 10 && logistic_ppb(1_000_000_000, 1_000_000, x0).raw() > 999_999_990
        );
    }
}
