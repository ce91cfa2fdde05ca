//! A redb storage backend over a file opened read-only.
//!
//! redb 2 has no read-only mode: opening a database marks it "recovery required" in its header, and
//! opening one that was not closed cleanly repairs its allocator state, both by writing the file. A
//! replay, a `--verify` or a node start that is later refused must leave the data directory exactly as it
//! was, so this backend reads the file through a handle that cannot write and keeps every write redb makes
//! in memory, where later reads see it. The file on disk never changes, whatever redb does.
//!
//! The reads go through redb's own `FileBackend`, which takes the file's lock: a read-only open of a
//! database a running node holds is refused (`Database already open`), as a writable one is, instead of
//! reading pages while they change.

use redb::backends::FileBackend;
use redb::StorageBackend;
use std::collections::BTreeMap;
use std::fs::File;
use std::io;
use std::sync::Mutex;

/// Writes are kept in chunks of this many bytes (redb's pages are a multiple of 4 KiB).
const CHUNK: u64 = 4096;

#[derive(Debug)]
pub(crate) struct ReadOnlyFile {
    state: Mutex<Overlay>,
}

#[derive(Debug)]
struct Overlay {
    /// Opened read-only: redb's backend is used for its lock and its reads, never its writes.
    file: FileBackend,
    /// Bytes of the file still visible: a `set_len` below the file's length hides the rest for good.
    file_visible: u64,
    /// Length as redb sees it.
    len: u64,
    /// Chunk number → its current bytes, for every chunk redb wrote to.
    written: BTreeMap<u64, Vec<u8>>,
}

impl ReadOnlyFile {
    /// Wrap `file`, opened read-only; fails with `DatabaseAlreadyOpen` while another handle holds it.
    pub(crate) fn new(file: File) -> Result<ReadOnlyFile, redb::DatabaseError> {
        let file = FileBackend::new(file)?;
        let len = file.len()?;
        Ok(ReadOnlyFile { state: Mutex::new(Overlay { file, file_visible: len, len, written: BTreeMap::new() }) })
    }

    fn lock(&self) -> io::Result<std::sync::MutexGuard<'_, Overlay>> {
        self.state.lock().map_err(|_| io::Error::other("read-only backend lock poisoned"))
    }
}

impl Overlay {
    /// The bytes of `chunk` as the file holds them (zeros past its visible end).
    fn file_chunk(&self, chunk: u64) -> io::Result<Vec<u8>> {
        let mut buf = vec![0; CHUNK as usize];
        let start = chunk * CHUNK;
        if start < self.file_visible {
            let n = (self.file_visible - start).min(CHUNK) as usize;
            buf[..n].copy_from_slice(&self.file.read(start, n)?);
        }
        Ok(buf)
    }
}

impl StorageBackend for ReadOnlyFile {
    fn len(&self) -> io::Result<u64> {
        Ok(self.lock()?.len)
    }

    fn read(&self, offset: u64, len: usize) -> io::Result<Vec<u8>> {
        let s = self.lock()?;
        let end = offset.checked_add(len as u64).filter(|&e| e <= s.len);
        let Some(end) = end else {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "read past the end of the database file"));
        };
        let mut out = Vec::with_capacity(len);
        let mut at = offset;
        while at < end {
            let chunk = at / CHUNK;
            let from = (at % CHUNK) as usize;
            let to = ((end - chunk * CHUNK).min(CHUNK)) as usize;
            match s.written.get(&chunk) {
                Some(bytes) => out.extend_from_slice(&bytes[from..to]),
                None => out.extend_from_slice(&s.file_chunk(chunk)?[from..to]),
            }
            at = chunk * CHUNK + to as u64;
        }
        Ok(out)
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        let mut s = self.lock()?;
        s.file_visible = s.file_visible.min(len);
        let first_gone = len.div_ceil(CHUNK);
        s.written.retain(|&c, _| c < first_gone);
        if len % CHUNK != 0 {
            if let Some(last) = s.written.get_mut(&(len / CHUNK)) {
                last[(len % CHUNK) as usize..].fill(0);
            }
        }
        s.len = len;
        Ok(())
    }

    fn sync_data(&self, _eventual: bool) -> io::Result<()> {
        Ok(())
    }

    fn write(&self, offset: u64, data: &[u8]) -> io::Result<()> {
        let mut s = self.lock()?;
        let mut at = offset;
        let end = offset + data.len() as u64;
        while at < end {
            let chunk = at / CHUNK;
            if !s.written.contains_key(&chunk) {
                let bytes = s.file_chunk(chunk)?;
                s.written.insert(chunk, bytes);
            }
            let from = (at % CHUNK) as usize;
            let to = ((end - chunk * CHUNK).min(CHUNK)) as usize;
            let src = (at - offset) as usize;
            let bytes = s.written.get_mut(&chunk).expect("inserted just above");
            bytes[from..to].copy_from_slice(&data[src..src + (to - from)]);
            at = chunk * CHUNK + to as u64;
        }
        s.len = s.len.max(end);
        Ok(())
    }
}
