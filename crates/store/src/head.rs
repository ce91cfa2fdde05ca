//! The head record: `DIR/HEAD`, the height and hash of the newest block made durable, kept outside redb.
//!
//! redb survives a damaged newest commit by falling back to the one before it, and a file cut to 0 bytes
//! looks like a new database to it. Either would silently forget blocks whose transactions were already
//! acknowledged. The head record is the witness that cannot be rolled back with the database: it is
//! written after every append, so it never names a block the database did not hold when it was written,
//! and a start whose database is behind it or disagrees with it is refused.
//!
//! It is on the sequencer's path (under the engine's write lock), so it must cost little. The file has
//! two slots of 512 bytes; block `h` overwrites slot `h % 2` in place and syncs its data (no rename, no
//! directory sync: about 0.1 ms here, against 7.7 ms for write-temp + rename + directory sync). A crash
//! mid-write can tear only the slot being written; the other still holds the previous head, one block
//! behind a database that a start then accepts (one block ahead is a crash between the two writes). A
//! read takes the highest valid slot; with no valid slot the record is damaged. The file is created
//! (both slots) by write-temp + rename + directory sync, once.
//!
//! Each slot is a few lines of text, zero-padded, so an operator can read it:
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

/// Bytes per slot; a record is far shorter (about 170 bytes).
const SLOT: usize = 512;

/// The head record in `dir`, `Ok(None)` if there is none, `Err(reason)` if it is there but unreadable:
/// the highest of its valid slots.
pub(crate) fn read(dir: &Path) -> Result<Option<Head>, String> {
    let bytes = match std::fs::read(path(dir)) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.to_string()),
    };
    if bytes.len() != 2 * SLOT {
        // The first form of the record: one record, the whole file (rewritten as two slots at the next
        // block).
        let text = std::str::from_utf8(&bytes).map_err(|_| "it is not text".to_string())?;
        return decode(text)
            .map(Some)
            .map_err(|e| format!("it is {} bytes long, not {}, and {e}", bytes.len(), 2 * SLOT));
    }
    let slot = |b: &[u8]| -> Result<Head, String> {
        let end = b.iter().position(|x| *x == 0).unwrap_or(b.len());
        if b[end..].iter().any(|x| *x != 0) {
            return Err("bytes after its record".into());
        }
        decode(std::str::from_utf8(&b[..end]).map_err(|_| "it is not text".to_string())?)
    };
    match (slot(&bytes[..SLOT]), slot(&bytes[SLOT..])) {
        (Ok(a), Ok(b)) => Ok(Some(if b.height > a.height { b } else { a })),
        (Ok(one), Err(_)) | (Err(_), Ok(one)) => Ok(Some(one)),
        (Err(a), Err(b)) => Err(format!("both slots are damaged: {a}; {b}")),
    }
}

fn padded(head: &Head) -> Vec<u8> {
    let mut bytes = encode(head).into_bytes();
    bytes.resize(SLOT, 0);
    bytes
}

/// Record `head` durably: overwrite its slot (`height % 2`) in place and sync the data. A missing or
/// misshapen file is first created whole, atomically (write-temp, rename, directory sync).
pub(crate) fn write(dir: &Path, head: &Head) -> std::io::Result<()> {
    use std::os::unix::fs::FileExt;
    let file = std::fs::OpenOptions::new().write(true).open(path(dir));
    match file {
        Ok(f) if f.metadata()?.len() == 2 * SLOT as u64 => {
            f.write_all_at(&padded(head), (head.height % 2) * SLOT as u64)?;
            f.sync_data()
        }
        _ => create(dir, head),
    }
}

fn create(dir: &Path, head: &Head) -> std::io::Result<()> {
    let tmp = dir.join(TMP);
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(&[padded(head), padded(head)].concat())?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, path(dir))?;
    crate::sync_dir(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_valid_slot_wins_and_a_torn_slot_falls_back_to_the_other() {
        let dir = tempfile::tempdir().expect("tempdir");
        let head = |h: u64| Head { height: h, hash: types::hash_bytes(&h.to_le_bytes()) };
        for h in 1..=5 {
            write(dir.path(), &head(h)).expect("write");
            assert_eq!(read(dir.path()), Ok(Some(head(h))));
        }
        // Height 5 sits in slot 1; tear it: height 4 in slot 0 answers.
        let mut bytes = std::fs::read(path(dir.path())).expect("read");
        bytes[SLOT + 30] ^= 0x01;
        std::fs::write(path(dir.path()), &bytes).expect("write");
        assert_eq!(read(dir.path()), Ok(Some(head(4))));
        bytes[30] ^= 0x01;
        std::fs::write(path(dir.path()), &bytes).expect("write");
        assert!(read(dir.path()).expect_err("both slots torn").starts_with("both slots are damaged"));
    }

    #[test]
    fn a_record_of_the_first_form_reads_and_is_rewritten_as_two_slots() {
        let dir = tempfile::tempdir().expect("tempdir");
        let head = |h: u64| Head { height: h, hash: types::hash_bytes(&h.to_le_bytes()) };
        std::fs::write(path(dir.path()), encode(&head(7))).expect("write");
        assert_eq!(read(dir.path()), Ok(Some(head(7))));
        write(dir.path(), &head(8)).expect("write");
        assert_eq!(std::fs::metadata(path(dir.path())).expect("meta").len(), 2 * SLOT as u64);
        assert_eq!(read(dir.path()), Ok(Some(head(8))));
    }

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
