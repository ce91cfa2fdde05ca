//! Path parameters, parsed exactly as the OpenAPI document describes them: what matches the pattern is
//! accepted, nothing else (no `0x` prefix, no surrounding spaces, no stray dashes).

use types::{AccountId, Hash, JobId};

/// An account id or hash in a path: 64 hex digits, either case.
pub const HEX64_PATH_PATTERN: &str = "^[0-9a-fA-F]{64}$";
/// A job id in a path: a UUID with its four dashes, or the same 32 hex digits without them.
pub const JOB_ID_PATH_PATTERN: &str =
    "^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32})$";

fn hex64(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// An account id, or `None` if `s` does not match [`HEX64_PATH_PATTERN`].
pub fn account_id(s: &str) -> Option<AccountId> {
    hex64(s).then(|| s.parse().ok()).flatten()
}

/// A hash, or `None` if `s` does not match [`HEX64_PATH_PATTERN`].
pub fn hash(s: &str) -> Option<Hash> {
    hex64(s).then(|| s.parse().ok()).flatten()
}

/// A job id, or `None` if `s` does not match [`JOB_ID_PATH_PATTERN`].
pub fn job_id(s: &str) -> Option<JobId> {
    let b = s.as_bytes();
    let dashed = b.len() == 36
        && b.iter()
            .enumerate()
            .all(|(i, c)| if [8, 13, 18, 23].contains(&i) { *c == b'-' } else { c.is_ascii_hexdigit() });
    let plain = b.len() == 32 && b.iter().all(u8::is_ascii_hexdigit);
    (dashed || plain).then(|| s.parse().ok()).flatten()
}

/// A non-negative integer as JSON Schema's `integer` allows it in a path (digits only), or `None`.
pub fn number(s: &str) -> Option<u64> {
    (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok()).flatten()
}

/// A block id: a hash (64 hex digits) or a height.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockId {
    Height(u64),
    Hash(Hash),
}

/// A block id, or `None` if `s` is neither a height nor a hash.
pub fn block_id(s: &str) -> Option<BlockId> {
    hash(s).map(BlockId::Hash).or_else(|| number(s).map(BlockId::Height))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_accept_exactly_their_patterns() {
        let hex = "ab".repeat(32);
        assert!(account_id(&hex).is_some());
        assert!(account_id(&hex.to_uppercase()).is_some());
        assert!(account_id(&format!("0x{hex}")).is_none());
        assert!(account_id(&format!(" {hex}")).is_none());
        assert!(account_id("0").is_none());
        assert!(job_id("0123456789abcdef0123456789abcdef").is_some());
        assert!(job_id("01234567-89ab-cdef-0123-456789abcdef").is_some());
        assert!(job_id("0123456789ab-cdef-0123-4567-89abcdef").is_none());
        assert_eq!(number("42"), Some(42));
        assert_eq!(number("-1"), None);
        assert_eq!(number("+1"), None);
        assert_eq!(number("18446744073709551616"), None);
        assert_eq!(block_id("7"), Some(BlockId::Height(7)));
        assert!(matches!(block_id(&"1".repeat(64)), Some(BlockId::Hash(_))));
    }
}
