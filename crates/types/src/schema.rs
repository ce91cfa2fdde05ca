//! JSON Schemas of the values whose JSON form is text (hex ids, decimal amounts): what the node's OpenAPI
//! document says about them.
//!
//! Two contracts: what the node writes (serialize), with the exact pattern of the form it writes, and what
//! it reads (deserialize), which is looser where the parsers are (`"1.5 SWK"` and JSON integers for
//! amounts; `0x` prefixes, either case and surrounding spaces for ids). A reading schema must admit
//! everything the parser admits, or a fuzzer's "schema-violating" input would be accepted.

use crate::{AccountId, Amount, Hash, JobId, Ppb, Signature};
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use std::borrow::Cow;

/// An account id or hash as the node writes it: 64 lowercase hex digits.
pub const HEX64_PATTERN: &str = "^[0-9a-f]{64}$";
/// A job id as the node writes it: a UUID in lowercase hex with dashes.
pub const UUID_PATTERN: &str = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$";

fn text(g: &SchemaGenerator, pattern: &str, description: &str) -> Schema {
    if g.contract().is_deserialize() {
        json_schema!({"type": "string", "description": description})
    } else {
        json_schema!({"type": "string", "pattern": pattern, "description": description})
    }
}

macro_rules! text_schema {
    ($ty:ty, $name:literal, $pattern:expr, $description:literal) => {
        impl JsonSchema for $ty {
            fn schema_name() -> Cow<'static, str> {
                $name.into()
            }
            fn json_schema(g: &mut SchemaGenerator) -> Schema {
                text(g, $pattern, $description)
            }
        }
    };
}

impl JsonSchema for Amount {
    fn schema_name() -> Cow<'static, str> {
        "Amount".into()
    }
    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        let description = "an amount in base units (1 SWK = 10^9) as a decimal string";
        if g.contract().is_deserialize() {
            json_schema!({
                "anyOf": [
                    {"type": "string", "description": "base units (\"1500\"), or SWK with its unit (\"1.5 SWK\")"},
                    {"type": "integer", "minimum": 0, "maximum": u64::MAX},
                ],
                "description": description,
            })
        } else {
            text(g, "^[0-9]{1,39}$", description)
        }
    }
}
text_schema!(AccountId, "AccountId", HEX64_PATTERN, "an account id: an ed25519 public key, 64 hex digits");
text_schema!(Hash, "Hash", HEX64_PATTERN, "a blake3 hash, 64 hex digits");
text_schema!(JobId, "JobId", UUID_PATTERN, "a training job id (a UUID)");
text_schema!(Signature, "Signature", "^[0-9a-f]{128}$", "an ed25519 signature, 128 hex digits");

impl JsonSchema for Ppb {
    fn schema_name() -> Cow<'static, str> {
        "Ppb".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "integer",
            "minimum": 0,
            "maximum": Ppb::ONE_RAW,
            "description": "a ratio in parts per billion (1,000,000,000 is one)"
        })
    }
}
