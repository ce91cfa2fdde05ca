//! Account ids: ed25519 public keys, written as 64 hex digits, and the ids of named system accounts.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// An account: the 32 bytes of an ed25519 public key, shown as 64 hex digits.
///
/// System accounts (treasury, reward pools) are named, not keyed: their id is blake3 of a fixed label, for
/// which nobody knows a private key, and the engine never accepts a transaction signed by one.
#[derive(Clone, Copy, Default, Eq, BorshSerialize, BorshDeserialize)]
pub struct AccountId(pub [u8; 32]);

impl std::hash::Hash for AccountId {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

impl AccountId {
    /// Word `i` of the id, big-endian: comparing words in order is comparing the bytes
    /// lexicographically, with integer compares instead of a `memcmp` call (ids are compared on every
    /// map lookup, and most comparisons are decided by the first word).
    #[inline]
    fn word(&self, i: usize) -> u64 {
        let mut b = [0u8; 8];
        b.copy_from_slice(&self.0[i * 8..i * 8 + 8]);
        u64::from_be_bytes(b)
    }
}

impl PartialEq for AccountId {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        (0..4).all(|i| self.word(i) == other.word(i))
    }
}

impl PartialOrd for AccountId {
    #[inline]
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for AccountId {
    #[inline]
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        for i in 0..4 {
            let (a, b) = (self.word(i), other.word(i));
            if a != b {
                return a.cmp(&b);
            }
        }
        std::cmp::Ordering::Equal
    }
}

/// Why a text is not a 32-byte hex id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseIdError {
    #[error("expected 64 hex digits, got {0} characters")]
    Length(usize),
    #[error("not hexadecimal: {0:?}")]
    NotHex(String),
}

pub(crate) fn parse_hex32(s: &str) -> Result<[u8; 32], ParseIdError> {
    let s = s.trim();
    let s = s.strip_prefix("0x").unwrap_or(s);
    if s.len() != 64 {
        return Err(ParseIdError::Length(s.len()));
    }
    let mut out = [0u8; 32];
    hex::decode_to_slice(s, &mut out).map_err(|_| ParseIdError::NotHex(s.to_string()))?;
    Ok(out)
}

impl AccountId {
    /// The id of the named system account `name` (e.g. `"treasury"`).
    pub fn system(name: &str) -> AccountId {
        let mut h = blake3::Hasher::new();
        h.update(b"stakework/system-account/");
        h.update(name.as_bytes());
        AccountId(*h.finalize().as_bytes())
    }
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
    /// The first 8 hex digits, for tables meant for people.
    pub fn short(&self) -> String {
        hex::encode(&self.0[..4])
    }
}

impl fmt::Debug for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccountId({})", self.short())
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl FromStr for AccountId {
    type Err = ParseIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_hex32(s).map(AccountId)
    }
}

impl Serialize for AccountId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for AccountId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <String as Deserialize>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip_and_errors() {
        let id = AccountId([0xab; 32]);
        assert_eq!(id.to_hex().parse::<AccountId>(), Ok(id));
        assert_eq!(format!("0x{}", id.to_hex()).parse::<AccountId>(), Ok(id));
        assert_eq!("abc".parse::<AccountId>(), Err(ParseIdError::Length(3)));
        assert!(matches!("zz".repeat(32).parse::<AccountId>(), Err(ParseIdError::NotHex(_))));
        assert_ne!(AccountId::system("treasury"), AccountId::system("points-pool"));
    }
}
