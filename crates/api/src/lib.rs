//! The node's HTTP contract as Rust types: a request and response type for every route, serde both ways,
//! the route table, and the OpenAPI document generated from both (never written by hand).
//!
//! Invariants:
//! - pure: no IO; it depends on `types` and `protocol` only, never on the engine or the ledger;
//! - the node serializes exactly these types and every client deserializes them, so a renamed field is a
//!   compile error on both sides instead of a surprise at run time;
//! - `/openapi.json` is [`openapi`]: the route table plus the schema derives of these types.

pub mod path;
mod routes;
mod views;

pub use routes::{openapi, Answer, Body, In, Param, Route, ROUTES};

/// Most blocks one `/v1/events` page or one event-stream backlog holds (the default `limit`).
pub const EVENT_BLOCKS_MAX: u64 = 1_000;
pub use views::*;
