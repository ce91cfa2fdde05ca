//! Plain value types shared by every stakework crate: money (`Amount`), ratios (`Ppb`), time (`Height`),
//! identities (`AccountId`, an ed25519 public key), hashes (blake3) and signatures.
//!
//! Invariants: no floating point, no IO, no clock. Every arithmetic operation on money is checked and
//! returns `Option`; nothing here can silently wrap or saturate. Everything that is hashed or signed has a
//! canonical binary form (borsh); everything the API shows has a JSON form (serde) in which 128-bit
//! amounts travel as decimal strings so no JSON parser rounds them.

mod account;
mod amount;
mod hash;
mod height;
mod hold;
mod job_id;
mod ledger_error;
mod math;
pub mod overlay;
mod ppb;
mod schema;
mod signature;

pub use account::{AccountId, ParseIdError};
pub use amount::{Amount, ParseAmountError, BASE_UNITS_PER_SWK};
pub use hash::{hash_bytes, Hash};
pub use height::Height;
pub use hold::HoldId;
pub use job_id::{JobId, ParseJobIdError};
pub use ledger_error::LedgerError;
pub use math::mul_div_floor;
pub use ppb::Ppb;
pub use schema::{HEX64_PATTERN, UUID_PATTERN};
pub use signature::Signature;

/// Canonical binary encoding of a value (borsh). Used for every hash and every signature.
pub fn encode<T: borsh::BorshSerialize>(value: &T) -> Vec<u8> {
    borsh::to_vec(value).expect("borsh encoding into a Vec cannot fail")
}
