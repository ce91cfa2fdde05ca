//! The well-known derived keys of demos, and key files in the format `stakework keys` reads (both from
//! `client::keys`), so that agent processes started with `--keys-dir` find them.

use crate::{DevnetError, Result};
use ed25519_dalek::SigningKey;
use std::path::Path;

/// The well-known key of a label, and the account it signs for: `client::keys`' own (never use these for
/// real money: anyone can derive them).
pub use client::keys::{account_of, derived_key};

/// Write `key` as key file `NAME.json` in `dir`, through `client::keys` (the one writer of the format
/// `stakework keys` reads).
pub fn write_key(dir: &Path, name: &str, key: &SigningKey) -> Result<()> {
    client::keys::write_key(dir, name, key).map_err(|e| DevnetError::Process(format!("key file {name}: {e}")))
}

/// The genesis `stakework genesis example` prints: default parameters, a text and an image service, and
/// the well-known key `example` with 1,000 SWK free and 100 bonded.
pub fn example_genesis() -> protocol::Genesis {
    let service = |name: &str, weight, price| protocol::GenesisService {
        name: name.into(),
        weight,
        price: types::Amount(price),
        poi_threshold: protocol::POI_THRESHOLD_DEFAULT,
        semantic_poi: false,
    };
    let swk = |n| types::Amount::swk(n).expect("small constant");
    protocol::Genesis {
        validators: Vec::new(),
        services: vec![service("text-generation", 1, 10_000_000), service("image-generation", 4, 50_000_000)],
        params: protocol::Params::default(),
        accounts: vec![protocol::GenesisAccount {
            id: account_of(&derived_key("example")),
            name: Some("example".to_string()),
            free: swk(1_000),
            bonded: swk(100),
        }],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_derived_key_is_the_same_for_the_same_label_and_differs_between_labels() {
        assert_eq!(account_of(&derived_key("demo/a")), account_of(&derived_key("demo/a")));
        assert_ne!(account_of(&derived_key("demo/a")), account_of(&derived_key("demo/b")));
    }

    #[test]
    fn a_key_file_names_the_account_of_its_secret() {
        let dir = tempfile::tempdir().expect("tempdir");
        let key = derived_key("demo/a");
        write_key(dir.path(), "a", &key).expect("write");
        let text = std::fs::read_to_string(dir.path().join("a.json")).expect("read");
        let v: serde_json::Value = serde_json::from_str(&text).expect("json");
        assert_eq!(v["name"], "a");
        assert_eq!(v["account"], account_of(&key).to_string());
        assert_eq!(v["secret_hex"], hex::encode(key.to_bytes()));
        assert!(write_key(dir.path(), "a", &key).is_err(), "an existing key file is never replaced");
    }

    #[test]
    fn the_example_genesis_reads_back_from_its_toml() {
        let genesis = example_genesis();
        let back = protocol::Genesis::from_toml(&genesis.to_toml()).expect("the example is valid");
        assert_eq!(back.to_toml(), genesis.to_toml());
        assert_eq!(back.accounts[0].id, account_of(&derived_key("example")));
    }
}
