//! Key files (a JSON file of mode 0600 per key, in a private directory) and the well-known derived keys
//! that demos and benchmarks use.

use ed25519_dalek::SigningKey;
use serde::{Deserialize, Serialize};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use types::AccountId;

/// Why a key could not be read, written or named.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("key name {0:?} must be 1-64 letters, digits, '-' or '_'")]
    BadName(String),
    #[error("no key {name:?} in {} (create it with `stakework keys new {name}`)", dir.display())]
    Missing { name: String, dir: PathBuf, source: std::io::Error },
    #[error("{} is not a stakework key file", path.display())]
    NotAKeyFile { path: PathBuf, source: serde_json::Error },
    #[error("{}: secret_hex is not 64 hex digits", path.display())]
    BadSecret { path: PathBuf, source: hex::FromHexError },
    #[error("{}: the secret does not match the account it names", path.display())]
    Mismatch { path: PathBuf },
    #[error("key {name:?} already exists at {}", path.display())]
    Exists { name: String, path: PathBuf },
    #[error("{text:?} is neither a 64-hex-digit account id nor a key name")]
    Unresolved { text: String, source: Box<KeyError> },
    /// A file operation, with what was being done.
    #[error("{what}")]
    Io { what: String, source: std::io::Error },
    #[error(transparent)]
    Plain(#[from] std::io::Error),
    #[error(transparent)]
    Json(#[from] serde_json::Error),
}

/// The well-known key of `label`. Never use these for real money: anyone can derive them.
pub fn derived_key(label: &str) -> SigningKey {
    let seed = blake3::hash(format!("stakework/insecure-derived-key/{label}").as_bytes());
    SigningKey::from_bytes(seed.as_bytes())
}

/// The account a key signs for (its public key).
pub fn account_of(key: &SigningKey) -> AccountId {
    AccountId(key.verifying_key().to_bytes())
}

/// The keys directory: `flag`, else `$STAKEWORK_HOME/keys`, else `~/.stakework/keys`.
pub fn keys_dir(flag: Option<&Path>) -> PathBuf {
    if let Some(p) = flag {
        return p.to_path_buf();
    }
    if let Ok(home) = std::env::var("STAKEWORK_HOME") {
        return PathBuf::from(home).join("keys");
    }
    let home = std::env::var("HOME").unwrap_or_else(|_| ".".into());
    PathBuf::from(home).join(".stakework").join("keys")
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFile {
    name: String,
    account: AccountId,
    secret_hex: String,
}

fn valid_name(name: &str) -> Result<(), KeyError> {
    if name.is_empty() || name.len() > 64 || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(KeyError::BadName(name.to_string()));
    }
    Ok(())
}

/// The path of key file NAME in `dir`.
pub fn key_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}.json"))
}

/// Load key NAME from `dir`.
pub fn load(dir: &Path, name: &str) -> Result<SigningKey, KeyError> {
    valid_name(name)?;
    let path = key_path(dir, name);
    let text = std::fs::read_to_string(&path).map_err(|source| KeyError::Missing {
        name: name.to_string(),
        dir: dir.to_path_buf(),
        source,
    })?;
    let file: KeyFile =
        serde_json::from_str(&text).map_err(|source| KeyError::NotAKeyFile { path: path.clone(), source })?;
    let mut secret = [0u8; 32];
    hex::decode_to_slice(file.secret_hex.trim(), &mut secret)
        .map_err(|source| KeyError::BadSecret { path: path.clone(), source })?;
    let key = SigningKey::from_bytes(&secret);
    if account_of(&key) != file.account {
        return Err(KeyError::Mismatch { path });
    }
    Ok(key)
}

/// An account from a hex id or the name of a key in `dir`.
pub fn resolve_account(dir: &Path, text: &str) -> Result<AccountId, KeyError> {
    if let Ok(id) = text.parse::<AccountId>() {
        return Ok(id);
    }
    load(dir, text)
        .map(|k| account_of(&k))
        .map_err(|e| KeyError::Unresolved { text: text.to_string(), source: Box::new(e) })
}

/// Accounts from hex ids or key names, in order.
pub fn resolve_accounts(dir: &Path, texts: &[String]) -> Result<Vec<AccountId>, KeyError> {
    texts.iter().map(|t| resolve_account(dir, t)).collect()
}

/// Write `key` as key file NAME in `dir` (mode 0600), for keys made elsewhere (the demo's derived keys).
pub fn write_key(dir: &Path, name: &str, key: &SigningKey) -> Result<(), KeyError> {
    valid_name(name)?;
    create_dir_private(dir)?;
    let file = KeyFile { name: name.to_string(), account: account_of(key), secret_hex: hex::encode(key.to_bytes()) };
    write_private(&key_path(dir, name), &serde_json::to_string_pretty(&file)?)
}

/// Create a new random key NAME in `dir` (refusing to replace one); returns its account and file.
pub fn create(dir: &Path, name: &str) -> Result<(AccountId, PathBuf), KeyError> {
    valid_name(name)?;
    create_dir_private(dir)?;
    let path = key_path(dir, name);
    if path.exists() {
        return Err(KeyError::Exists { name: name.to_string(), path });
    }
    let mut secret = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut secret))
        .map_err(|source| KeyError::Io { what: "reading /dev/urandom".into(), source })?;
    let key = SigningKey::from_bytes(&secret);
    let file = KeyFile { name: name.to_string(), account: account_of(&key), secret_hex: hex::encode(secret) };
    write_private(&path, &serde_json::to_string_pretty(&file)?)?;
    Ok((file.account, path))
}

/// The keys in `dir` as (name, account), sorted by name; a file that is not a valid key is reported to
/// `skipped` with why, and left out.
pub fn list(dir: &Path, mut skipped: impl FnMut(&Path, KeyError)) -> Result<Vec<(String, AccountId)>, KeyError> {
    let mut rows = Vec::new();
    if !dir.exists() {
        return Ok(rows);
    }
    let entries =
        std::fs::read_dir(dir).map_err(|source| KeyError::Io { what: format!("reading {}", dir.display()), source })?;
    for entry in entries {
        let path = entry?.path();
        if let Some(name) = path.file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_suffix(".json")) {
            match load(dir, name) {
                Ok(k) => rows.push((name.to_string(), account_of(&k))),
                Err(e) => skipped(&path, e),
            }
        }
    }
    rows.sort();
    Ok(rows)
}

/// Create the keys directory private (0700) if it does not exist; an existing directory is left as it is.
fn create_dir_private(dir: &Path) -> Result<(), KeyError> {
    if dir.exists() {
        return Ok(());
    }
    std::fs::create_dir_all(dir)
        .map_err(|source| KeyError::Io { what: format!("creating {}", dir.display()), source })?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Write a private (0600) file completely or not at all: into a temporary file, then a rename that
/// refuses to replace an existing key.
fn write_private(path: &Path, text: &str) -> Result<(), KeyError> {
    let tmp = path.with_extension("json.partial");
    let _ = std::fs::remove_file(&tmp);
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f =
        opts.open(&tmp).map_err(|source| KeyError::Io { what: format!("creating {}", tmp.display()), source })?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    std::fs::hard_link(&tmp, path)
        .map_err(|source| KeyError::Io { what: format!("creating {}", path.display()), source })?;
    std::fs::remove_file(&tmp)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_written_key_loads_back_and_resolves_by_name() {
        let dir = tempfile::tempdir().expect("temp dir");
        let keys = dir.path().join("keys");
        let key = derived_key("keys-test");
        write_key(&keys, "alice", &key).expect("write");
        assert_eq!(load(&keys, "alice").expect("load").to_bytes(), key.to_bytes());
        assert_eq!(resolve_account(&keys, "alice").expect("by name"), account_of(&key));
        let hex_id = account_of(&key).to_string();
        assert_eq!(resolve_account(&keys, &hex_id).expect("by id"), account_of(&key));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(key_path(&keys, "alice")).expect("file").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(matches!(write_key(&keys, "alice", &key), Err(KeyError::Io { .. })), "never replaces a key");
    }

    #[test]
    fn bad_names_missing_keys_and_foreign_files_are_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        assert!(matches!(load(dir.path(), "../etc"), Err(KeyError::BadName(_))));
        assert!(matches!(load(dir.path(), "nobody"), Err(KeyError::Missing { .. })));
        assert!(matches!(resolve_account(dir.path(), "nobody"), Err(KeyError::Unresolved { .. })));
        std::fs::write(key_path(dir.path(), "junk"), "{}").expect("write");
        assert!(matches!(load(dir.path(), "junk"), Err(KeyError::NotAKeyFile { .. })));
        let other = account_of(&derived_key("other"));
        let forged = serde_json::json!({"name": "x", "account": other, "secret_hex": hex::encode([7u8; 32])});
        std::fs::write(key_path(dir.path(), "x"), forged.to_string()).expect("write");
        assert!(matches!(load(dir.path(), "x"), Err(KeyError::Mismatch { .. })));
    }

    #[test]
    fn created_keys_are_listed_sorted_and_bad_files_skipped() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (bob, _) = create(dir.path(), "bob").expect("create");
        let (alice, _) = create(dir.path(), "alice").expect("create");
        assert!(matches!(create(dir.path(), "bob"), Err(KeyError::Exists { .. })));
        std::fs::write(key_path(dir.path(), "broken"), "not json").expect("write");
        let mut skipped = Vec::new();
        let rows = list(dir.path(), |p, _| skipped.push(p.to_path_buf())).expect("list");
        assert_eq!(rows, vec![("alice".to_string(), alice), ("bob".to_string(), bob)]);
        assert_eq!(skipped, vec![key_path(dir.path(), "broken")]);
    }
}
