//! The head record: `DIR/HEAD`, the height and hash of the newest block made durable, kept outside redb.
//!
//! redb survives a damaged newest commit by falling back to the one before it, and a file cut to 0 bytes
//! looks like a new database to it. Either would silently forget blocks whose transactions were already
//! acknowledged. The head record is the witness that cannot be rolled back with the database: it is
//! written after every append (write a temporary file, fsync it, rename it over `HEAD`, fsync the
//! directory), so it never names a block the database did not hold when it was written, and a start
//! whose database is behind it or disagrees with it is refused.
//!
//! The format is a few lines of text, so an operator can read it:
//!
//! ```text
//! stakework head v1
//! height 199
//! hash 5f…(64 hex digits)
//! check 9a…(blake3 of the lines above, 64 hex digits)
//! ```

use std::io::Write;
use std::path::{Path, PathBuf};
use types::Hash;

pub(crate) const FILE: &str = "HEAD";
const TMP: &str = "HEAD.tmp";
const MAGIC: &str = "stakework head v1";

/// The newest block the store made durable: what a start must find again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    pub height: u64,
    /// The block's hash; at height 0, the genesis engine's `last_block_hash()`.
    pub hash: Hash,
}

fn body(head: &Head) -> String {
    format!("{MAGIC}\nheight {}\nhash {}\n", head.height, head.hash.to_hex())
}

fn encode(head: &Head) -> String {
    let body = body(head);
    let check = types::hash_bytes(body.as_bytes());
    format!("{body}check {}\n", check.to_hex())
}

fn decode(text: &str) -> Result<Head, String> {
    let mut lines = text.lines();
    let mut field = |name: &str| -> Result<String, String> {
        let line = lines.next().ok_or_else(|| format!("the line `{name}` is missing"))?;
        if name == MAGIC {
            return (line == MAGIC).then(String::new).ok_or_else(|| "it does not start with its magic line".into());
        }
        let value = line.strip_prefix(name).and_then(|v| v.strip_prefix(' '));
        value.map(str::to_string).ok_or_else(|| format!("the line `{name}` is missing"))
    };
    field(MAGIC)?;
    let height = field("height")?.parse::<u64>().map_err(|_| "its height is not a number".to_string())?;
    let hash = field("hash")?.parse::<Hash>().map_err(|_| "its hash is not 64 hex digits".to_string())?;
    let check = field("check")?;
    let head = Head { height, hash };
    if types::hash_bytes(body(&head).as_bytes()).to_hex() != check || encode(&head) != text {
        return Err("its checksum does not match its contents".into());
    }
    Ok(head)
}

pub(crate) fn path(dir: &Path) -> PathBuf {
    dir.join(FILE)
}

/// The head record in `dir`, `Ok(None)` if there is none, `Err(reason)` if it is there but unreadable.
pub(crate) fn read(dir: &Path) -> Result<Option<Head>, String> {
    match std::fs::read(path(dir)) {
        Ok(bytes) => {
            let text = String::from_utf8(bytes).map_err(|_| "it is not text".to_string())?;
            decode(&text).map(Some)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.to_string()),
    }
}

/// Replace the head record atomically and durably: after this returns, a crash leaves either the old
/// record or this one, never a mix, and the new one survives power loss.
pub(crate) fn write(dir: &Path, head: &Head) -> std::io::Result<()> {
    let tmp = dir.join(TMP);
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(encode(head).as_bytes())?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, path(dir))?;
    crate::sync_dir(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_head_reads_back_and_any_flipped_byte_is_caught() {
        let head = Head { height: 199, hash: types::hash_bytes(b"block 199") };
        let text = encode(&head);
        assert_eq!(decode(&text), Ok(head));
        for i in 0..text.len() {
            let mut bytes = text.clone().into_bytes();
            bytes[i] ^= 0x01;
            if let Ok(t) = String::from_utf8(bytes) {
                assert!(decode(&t).is_err(), "flip at {i} accepted: {t}");
            }
        }
    }
}
