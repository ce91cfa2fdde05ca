//! `stakework keys …`: key files live in `client::keys`; this prints them.

pub use client::keys::{account_of, keys_dir, load, resolve_account, resolve_accounts};

use clap::Subcommand;
use std::path::Path;
use types::AccountId;

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a new random key NAME (file mode 0600 in the keys directory).
    New { name: String },
    /// List the keys in the keys directory.
    List,
    /// Show the account id of key NAME.
    Show { name: String },
}

pub fn run(cmd: &KeysCommand, dir: &Path, json: bool) -> anyhow::Result<()> {
    match cmd {
        KeysCommand::New { name } => {
            let (account, path) = client::keys::create(dir, name)?;
            print_key(name, &account, &path, json);
        }
        KeysCommand::Show { name } => {
            let key = load(dir, name)?;
            print_key(name, &account_of(&key), &client::keys::key_path(dir, name), json);
        }
        KeysCommand::List => {
            let rows = client::keys::list(dir, |path, e| {
                eprintln!("warning: skipping {}: {:#}", path.display(), anyhow::Error::from(e));
            })?;
            if json {
                let v: Vec<_> = rows.iter().map(|(n, a)| serde_json::json!({"name": n, "account": a})).collect();
                outln!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                outln!("{}", client::text::keys(&rows, dir));
            }
        }
    }
    Ok(())
}

fn print_key(name: &str, account: &AccountId, path: &Path, json: bool) {
    if json {
        outln!("{}", serde_json::json!({"name": name, "account": account, "file": path}));
    } else {
        outln!("{}", client::text::key(name, account, path));
    }
}
