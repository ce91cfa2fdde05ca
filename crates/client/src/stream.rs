//! The node's Server-Sent Events stream of durable blocks, read as an iterator.

use crate::ClientError;
use api::StoredOutcome;
use std::io::{BufRead, BufReader, Read};

/// Each item is one durable block's outcome, in height order; the iterator ends when the node closes the
/// stream (it is stopping).
pub struct EventStream {
    reader: BufReader<Box<dyn Read + Send + Sync>>,
}

impl std::fmt::Debug for EventStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EventStream")
    }
}

impl EventStream {
    pub(crate) fn new(resp: ureq::Response) -> EventStream {
        EventStream { reader: BufReader::new(resp.into_reader()) }
    }
}

impl Iterator for EventStream {
    type Item = Result<StoredOutcome, ClientError>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut event = String::new();
        let mut data = String::new();
        loop {
            let mut line = String::new();
            match self.reader.read_line(&mut line) {
                Ok(0) => return None,
                Ok(_) => {}
                Err(e) => return Some(Err(ClientError::Unreachable(format!("event stream: {e}")))),
            }
            let line = line.trim_end_matches(['\r', '\n']);
            if line.is_empty() {
                if event == "block" && !data.is_empty() {
                    let parsed = serde_json::from_str(&data)
                        .map_err(|e| ClientError::Unreachable(format!("event stream: bad block event: {e}")));
                    return Some(parsed);
                }
                event.clear();
                data.clear();
            } else if let Some(v) = line.strip_prefix("event:") {
                event = v.trim().to_string();
            } else if let Some(v) = line.strip_prefix("data:") {
                if !data.is_empty() {
                    data.push('\n');
                }
                data.push_str(v.strip_prefix(' ').unwrap_or(v));
            }
            // Comments (keep-alives) and `id:` lines need nothing.
        }
    }
}
