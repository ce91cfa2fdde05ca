//! `Amount`: money in base units (1 SWK = 10^9), checked arithmetic only; JSON as a decimal string.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// Base units in one SWK.
pub const BASE_UNITS_PER_SWK: u128 = 1_000_000_000;

/// An amount of tokens in base units (1 SWK = 10^9 base units). Only checked arithmetic is offered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize)]
pub struct Amount(pub u128);

impl Amount {
    pub const ZERO: Amount = Amount(0);
    pub const MAX: Amount = Amount(u128::MAX);

    /// `n` whole SWK, or `None` if that overflows.
    pub const fn swk(n: u128) -> Option<Amount> {
        match n.checked_mul(BASE_UNITS_PER_SWK) {
            Some(v) => Some(Amount(v)),
            None => None,
        }
    }
    pub const fn base(self) -> u128 {
        self.0
    }
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }
    pub fn checked_add(self, rhs: Amount) -> Option<Amount> {
        self.0.checked_add(rhs.0).map(Amount)
    }
    pub fn checked_sub(self, rhs: Amount) -> Option<Amount> {
        self.0.checked_sub(rhs.0).map(Amount)
    }
    pub fn checked_mul(self, rhs: u128) -> Option<Amount> {
        self.0.checked_mul(rhs).map(Amount)
    }
    /// Sum of many amounts, `None` on overflow.
    pub fn checked_sum<I: IntoIterator<Item = Amount>>(items: I) -> Option<Amount> {
        items.into_iter().try_fold(Amount::ZERO, Amount::checked_add)
    }
    /// Human form: `1.5 SWK`, trailing zeros trimmed.
    pub fn to_swk_string(self) -> String {
        let whole = self.0 / BASE_UNITS_PER_SWK;
        let frac = self.0 % BASE_UNITS_PER_SWK;
        if frac == 0 {
            format!("{whole} SWK")
        } else {
            let digits = format!("{frac:09}");
            format!("{whole}.{} SWK", digits.trim_end_matches('0'))
        }
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Why a text could not be read as an amount.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseAmountError {
    #[error("amount is empty")]
    Empty,
    #[error("amount {0:?} is not a number of base units or of SWK (e.g. \"1500\" or \"1.5 SWK\")")]
    Invalid(String),
    #[error("amount {0:?} has more than 9 decimal places (1 SWK = 10^9 base units)")]
    TooPrecise(String),
    #[error("amount {0:?} does not fit in 128 bits")]
    Overflow(String),
}

impl FromStr for Amount {
    type Err = ParseAmountError;

    /// Accepts base units (`"1500"`) or SWK with an explicit unit (`"1.5 SWK"`, `"2swk"`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        if t.is_empty() {
            return Err(ParseAmountError::Empty);
        }
        let invalid = || ParseAmountError::Invalid(s.to_string());
        let overflow = || ParseAmountError::Overflow(s.to_string());
        let lower = t.to_ascii_lowercase();
        let Some(num) = lower.strip_suffix("swk") else {
            if !t.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid());
            }
            return t.parse::<u128>().map(Amount).map_err(|_| overflow());
        };
        let num = num.trim();
        let (whole, frac) = num.split_once('.').unwrap_or((num, ""));
        let digits_ok = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || !digits_ok(whole) || !digits_ok(frac) {
            return Err(invalid());
        }
        if frac.len() > 9 {
            return Err(ParseAmountError::TooPrecise(s.to_string()));
        }
        let whole: u128 = whole.parse().map_err(|_| overflow())?;
        let frac_units: u128 =
            if frac.is_empty() { 0 } else { format!("{frac:0<9}").parse().map_err(|_| invalid())? };
        whole.checked_mul(BASE_UNITS_PER_SWK).and_then(|v| v.checked_add(frac_units)).map(Amount).ok_or_else(overflow)
    }
}

impl Serialize for Amount {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.to_string())
    }
}

impl<'de> Deserialize<'de> for Amount {
    /// JSON and TOML: a string (`"1500"`, `"1.5 SWK"`) or a non-negative integer of base units.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Amount;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an amount: base units as a string or integer, or a string like \"1.5 SWK\"")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Amount, E> {
                v.parse().map_err(E::custom)
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Amount, E> {
                Ok(Amount(u128::from(v)))
            }
            fn visit_u128<E: serde::de::Error>(self, v: u128) -> Result<Amount, E> {
                Ok(Amount(v))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Amount, E> {
                u128::try_from(v).map(Amount).map_err(|_| E::custom(format!("amount {v} is negative")))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_base_units_and_swk() {
        assert_eq!("1500".parse::<Amount>(), Ok(Amount(1500)));
        assert_eq!("1.5 SWK".parse::<Amount>(), Ok(Amount(1_500_000_000)));
        assert_eq!("2swk".parse::<Amount>(), Ok(Amount(2_000_000_000)));
        assert_eq!("0.000000001 SWK".parse::<Amount>(), Ok(Amount(1)));
        assert!(matches!("0.0000000001 SWK".parse::<Amount>(), Err(ParseAmountError::TooPrecise(_))));
        assert!(matches!("-5".parse::<Amount>(), Err(ParseAmountError::Invalid(_))));
        assert!(matches!("1e9".parse::<Amount>(), Err(ParseAmountError::Invalid(_))));
        let too_big = format!("{}0", u128::MAX);
        assert!(matches!(too_big.parse::<Amount>(), Err(ParseAmountError::Overflow(_))));
        assert!(matches!(format!("{} SWK", u128::MAX).parse::<Amount>(), Err(ParseAmountError::Overflow(_))));
    }

    #[test]
    fn json_round_trip_keeps_all_128_bits() {
        let a = Amount(u128::MAX);
        let j = serde_json::to_string(&a).expect("serialize");
        assert_eq!(j, format!("\"{}\"", u128::MAX));
        assert_eq!(serde_json::from_str::<Amount>(&j).expect("parse"), a);
        assert_eq!(serde_json::from_str::<Amount>("42").expect("int"), Amount(42));
        assert!(serde_json::from_str::<Amount>("-1").is_err());
    }

    #[test]
    fn swk_display() {
        assert_eq!(Amount(1_500_000_000).to_swk_string(), "1.5 SWK");
        assert_eq!(Amount(3_000_000_000).to_swk_string(), "3 SWK");
        assert_eq!(Amount(1).to_swk_string(), "0.000000001 SWK");
    }

    #[test]
    fn checked_ops_refuse_overflow() {
        assert_eq!(Amount::MAX.checked_add(Amount(1)), None);
        assert_eq!(Amount(1).checked_sub(Amount(2)), None);
        assert_eq!(Amount::checked_sum([Amount::MAX, Amount(1)]), None);
    }
}
