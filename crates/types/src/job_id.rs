//! `JobId`: a training job's 16-byte id, written as a UUID.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// A training job's id: a 16-byte UUID chosen by the coordinator that orders it (seed 002), shown in the
/// usual 8-4-4-4-12 form. Parsing accepts that form or 32 plain hex digits.
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize)]
pub struct JobId(pub [u8; 16]);

/// Why a text is not a job id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected a UUID (32 hex digits, dashes allowed), got {0:?}")]
pub struct ParseJobIdError(pub String);

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let h = hex::encode(self.0);
        write!(f, "{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
    }
}

impl fmt::Debug for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "JobId({self})")
    }
}

impl FromStr for JobId {
    type Err = ParseJobIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let digits: String = s.trim().chars().filter(|c| *c != '-').collect();
        let mut out = [0u8; 16];
        if digits.len() != 32 || hex::decode_to_slice(&digits, &mut out).is_err() {
            return Err(ParseJobIdError(s.to_string()));
        }
        Ok(JobId(out))
    }
}

impl Serialize for JobId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for JobId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <String as Deserialize>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_form_round_trips_and_bad_text_is_refused() {
        let id = JobId([0x1f; 16]);
        let text = id.to_string();
        assert_eq!(text, "1f1f1f1f-1f1f-1f1f-1f1f-1f1f1f1f1f1f");
        assert_eq!(text.parse::<JobId>(), Ok(id));
        assert_eq!("1f".repeat(16).parse::<JobId>(), Ok(id));
        assert!("1f1f".parse::<JobId>().is_err());
        assert!("zz".repeat(16).parse::<JobId>().is_err());
    }
}
