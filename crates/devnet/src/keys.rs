//! The well-known derived keys of demos, and key files in the format `stakework keys` reads, so that
//! agent processes started with `--keys-dir` find them.

use crate::{DevnetError, Result};
use ed25519_dalek::SigningKey;
use std::path::Path;
use types::AccountId;

/// The well-known key of `label`. Never use these for real money: anyone can derive them.
pub fn derived_key(label: &str) -> SigningKey {
    let seed = blake3::hash(format!("stakework/insecure-derived-key/{label}").as_bytes());
    SigningKey::from_bytes(seed.as_bytes())
}

pub fn account_of(key: &SigningKey) -> AccountId {
    AccountId(key.verifying_key().to_bytes())
}

/// Write `key` as key file `NAME.json` in `dir` (created 0700; the file 0600), as `stakework keys new`
/// writes one: `{ name, account, secret_hex }`.
pub fn write_key(dir: &Path, name: &str, key: &SigningKey) -> Result<()> {
    use std::io::Write;
    std::fs::create_dir_all(dir).map_err(DevnetError::io(format!("creating {}", dir.display())))?;
    let text = serde_json::json!({
        "name": name,
        "account": account_of(key),
        "secret_hex": hex::encode(key.to_bytes()),
    })
    .to_string();
    let path = dir.join(format!("{name}.json"));
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        opts.mode(0o600);
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .map_err(DevnetError::io(format!("making {} private", dir.display())))?;
    }
    let mut f = opts.open(&path).map_err(DevnetError::io(format!("creating {}", path.display())))?;
    f.write_all(text.as_bytes()).map_err(DevnetError::io(format!("writing {}", path.display())))
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
}
