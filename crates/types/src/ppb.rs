//! `Ppb`: a ratio in parts per billion; every operation names its rounding direction.

use crate::{math::mul_div_floor, Amount};
use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A ratio in parts per billion, `0 ..= 1_000_000_000`. Every operation names its rounding direction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct Ppb(u32);

impl Ppb {
    pub const ONE_RAW: u32 = 1_000_000_000;
    pub const ZERO: Ppb = Ppb(0);
    pub const ONE: Ppb = Ppb(Self::ONE_RAW);

    /// `raw` parts per billion, `None` above one.
    pub const fn new(raw: u32) -> Option<Ppb> {
        if raw <= Self::ONE_RAW {
            Some(Ppb(raw))
        } else {
            None
        }
    }
    pub const fn raw(self) -> u32 {
        self.0
    }
    /// `num / den` rounded down; `None` if `den == 0` or the ratio exceeds one.
    pub fn from_ratio_floor(num: u128, den: u128) -> Option<Ppb> {
        if den == 0 || num > den {
            return None;
        }
        let (q, _) = mul_div_floor(num, u128::from(Self::ONE_RAW), den)?;
        Some(Ppb(u32::try_from(q).expect("q <= 1e9 because num <= den")))
    }
    /// `1 - self`.
    pub const fn complement(self) -> Ppb {
        Ppb(Self::ONE_RAW - self.0)
    }
    /// `amount × self`, rounded down. Never exceeds `amount`.
    pub fn mul_floor(self, amount: Amount) -> Amount {
        let (q, _) = mul_div_floor(amount.0, u128::from(self.0), u128::from(Self::ONE_RAW))
            .expect("divisor is non-zero and the quotient is at most the amount");
        Amount(q)
    }
    /// `amount × self`, rounded up. Never exceeds `amount`.
    pub fn mul_ceil(self, amount: Amount) -> Amount {
        let (q, r) = mul_div_floor(amount.0, u128::from(self.0), u128::from(Self::ONE_RAW))
            .expect("divisor is non-zero and the quotient is at most the amount");
        Amount(if r == 0 { q } else { q + 1 })
    }
}

impl BorshDeserialize for Ppb {
    /// Decoding checks the range too: a ratio above one never enters the program.
    fn deserialize_reader<R: std::io::Read>(reader: &mut R) -> std::io::Result<Self> {
        let raw = u32::deserialize_reader(reader)?;
        Ppb::new(raw).ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidData, "ratio above 1"))
    }
}

impl TryFrom<u32> for Ppb {
    type Error = String;
    fn try_from(v: u32) -> Result<Self, Self::Error> {
        Ppb::new(v).ok_or_else(|| format!("ratio {v} ppb is above 1 (1000000000 ppb)"))
    }
}

impl From<Ppb> for u32 {
    fn from(p: Ppb) -> u32 {
        p.0
    }
}

impl fmt::Display for Ppb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pct = u64::from(self.0) / 100_000; // hundredths of a percent (1% = 10^7 ppb)
        write!(f, "{}.{:02}%", pct / 100, pct % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rounding_directions() {
        let third = Ppb::from_ratio_floor(1, 3).expect("valid");
        assert_eq!(third.raw(), 333_333_333);
        assert_eq!(third.mul_floor(Amount(10)), Amount(3));
        assert_eq!(third.mul_ceil(Amount(10)), Amount(4));
        assert_eq!(Ppb::ONE.mul_floor(Amount::MAX), Amount::MAX);
        assert_eq!(Ppb::ONE.mul_ceil(Amount::MAX), Amount::MAX);
        assert_eq!(Ppb::new(1_000_000_001), None);
        assert_eq!(Ppb::from_ratio_floor(2, 1), None);
        assert_eq!(Ppb::from_ratio_floor(0, 0), None);
        assert_eq!(third.complement().raw(), 666_666_667);
        assert_eq!(Ppb::new(750_000_000).expect("valid").to_string(), "75.00%");
        assert!(borsh::from_slice::<Ppb>(&1_000_000_001u32.to_le_bytes()).is_err());
        assert_eq!(borsh::from_slice::<Ppb>(&5u32.to_le_bytes()).ok(), Ppb::new(5));
    }

    proptest! {
        #[test]
        fn floor_le_ceil_le_amount(raw in 0u32..=1_000_000_000, a in any::<u128>()) {
            let p = Ppb::new(raw).expect("in range");
            let f = p.mul_floor(Amount(a));
            let c = p.mul_ceil(Amount(a));
            prop_assert!(f <= c && c <= Amount(a));
            prop_assert!(c.0 - f.0 <= 1);
        }
    }
}
