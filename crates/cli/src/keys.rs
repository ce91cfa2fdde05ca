//! Deterministic keys for demos and benchmarks. Never use these for real money: anyone can derive them.

use ed25519_dalek::SigningKey;
use types::AccountId;

/// The well-known key of `label` (blake3 of a fixed prefix and the label).
pub fn derived_key(label: &str) -> SigningKey {
    let seed = blake3::hash(format!("stakework/insecure-derived-key/{label}").as_bytes());
    SigningKey::from_bytes(seed.as_bytes())
}

pub fn account_of(key: &SigningKey) -> AccountId {
    AccountId(key.verifying_key().to_bytes())
}
