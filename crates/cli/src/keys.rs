//! Key files, and the well-known derived keys used by demos and benchmarks.

use anyhow::{bail, Context};
use clap::Subcommand;
use ed25519_dalek::SigningKey;
use serde::{Deserialize, Serialize};
use std::io::Read;
use std::path::{Path, PathBuf};
use types::AccountId;

/// The well-known key of a label (`devnet`'s, which the demos use). Never use these for real money: anyone
/// can derive them.
pub use devnet::keys::derived_key;

pub fn account_of(key: &SigningKey) -> AccountId {
    AccountId(key.verifying_key().to_bytes())
}

/// The keys directory: `--keys-dir`, else `$STAKEWORK_HOME/keys`, else `~/.stakework/keys`.
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

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a new random key NAME (file mode 0600 in the keys directory).
    New { name: String },
    /// List the keys in the keys directory.
    List,
    /// Show the account id of key NAME.
    Show { name: String },
}

fn valid_name(name: &str) -> anyhow::Result<()> {
    if name.is_empty() || name.len() > 64 || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        bail!("key name {name:?} must be 1-64 letters, digits, '-' or '_'");
    }
    Ok(())
}

/// Load key NAME from `dir`.
pub fn load(dir: &Path, name: &str) -> anyhow::Result<SigningKey> {
    valid_name(name)?;
    let path = dir.join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!("no key {name:?} in {} (create it with `stakework keys new {name}`)", dir.display())
    })?;
    let file: KeyFile =
        serde_json::from_str(&text).with_context(|| format!("{} is not a stakework key file", path.display()))?;
    let mut secret = [0u8; 32];
    hex::decode_to_slice(file.secret_hex.trim(), &mut secret)
        .with_context(|| format!("{}: secret_hex is not 64 hex digits", path.display()))?;
    let key = SigningKey::from_bytes(&secret);
    if account_of(&key) != file.account {
        bail!("{}: the secret does not match the account it names", path.display());
    }
    Ok(key)
}

/// An account from a hex id or the name of a key in `dir`.
pub fn resolve_account(dir: &Path, text: &str) -> anyhow::Result<AccountId> {
    if let Ok(id) = text.parse::<AccountId>() {
        return Ok(id);
    }
    load(dir, text)
        .map(|k| account_of(&k))
        .with_context(|| format!("{text:?} is neither a 64-hex-digit account id nor a key name"))
}

pub fn run(cmd: &KeysCommand, dir: &Path, json: bool) -> anyhow::Result<()> {
    match cmd {
        KeysCommand::New { name } => {
            valid_name(name)?;
            create_dir_private(dir)?;
            let path = dir.join(format!("{name}.json"));
            if path.exists() {
                bail!("key {name:?} already exists at {}", path.display());
            }
            let mut secret = [0u8; 32];
            std::fs::File::open("/dev/urandom")
                .and_then(|mut f| f.read_exact(&mut secret))
                .context("reading /dev/urandom")?;
            let key = SigningKey::from_bytes(&secret);
            let file = KeyFile { name: name.clone(), account: account_of(&key), secret_hex: hex::encode(secret) };
            write_private(&path, &serde_json::to_string_pretty(&file)?)?;
            print_key(name, &file.account, &path, json);
        }
        KeysCommand::Show { name } => {
            let key = load(dir, name)?;
            print_key(name, &account_of(&key), &dir.join(format!("{name}.json")), json);
        }
        KeysCommand::List => {
            let mut rows = Vec::new();
            if dir.exists() {
                for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
                    let path = entry?.path();
                    if let Some(name) = path.file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_suffix(".json"))
                    {
                        match load(dir, name) {
                            Ok(k) => rows.push((name.to_string(), account_of(&k))),
                            Err(e) => eprintln!("warning: skipping {}: {e:#}", path.display()),
                        }
                    }
                }
            }
            rows.sort();
            if json {
                let v: Vec<_> = rows.iter().map(|(n, a)| serde_json::json!({"name": n, "account": a})).collect();
                outln!("{}", serde_json::to_string_pretty(&v)?);
            } else if rows.is_empty() {
                outln!("no keys in {}", dir.display());
            } else {
                for (n, a) in rows {
                    outln!("{n:<20} {a}");
                }
            }
        }
    }
    Ok(())
}

fn print_key(name: &str, account: &AccountId, path: &Path, json: bool) {
    if json {
        outln!("{}", serde_json::json!({"name": name, "account": account, "file": path}));
    } else {
        outln!("{name}: {account}\n  file: {}", path.display());
    }
}

/// Create the keys directory private (0700) if it does not exist; an existing directory is left as it is.
fn create_dir_private(dir: &Path) -> anyhow::Result<()> {
    if dir.exists() {
        return Ok(());
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Write a private (0600) file completely or not at all: into a temporary file, then a rename that
/// refuses to replace an existing key.
fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("json.partial");
    let _ = std::fs::remove_file(&tmp);
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    std::fs::hard_link(&tmp, path).with_context(|| format!("creating {}", path.display()))?;
    std::fs::remove_file(&tmp)?;
    Ok(())
}
