//! The route table: every route's method, path, parameters, request body and responses. The node mounts
//! its handlers from it and `/openapi.json` is generated from it and the view types' schema derives, so the
//! document cannot drift from what the node serves.

use crate::views::*;
use protocol::{Proposal, Request, Service, SignedTx, Task};
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};

type SchemaFn = fn(&mut SchemaGenerator) -> Schema;

fn of<T: JsonSchema>(g: &mut SchemaGenerator) -> Schema {
    g.subschema_for::<T>()
}

/// Where a parameter goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum In {
    Path,
    Query,
}

/// One parameter of a route.
#[derive(Debug, Clone, Copy)]
pub struct Param {
    pub name: &'static str,
    pub location: In,
    pub description: &'static str,
    pub schema: fn() -> serde_json::Value,
}

/// A response body.
#[derive(Debug, Clone, Copy)]
pub enum Body {
    /// `application/json` with this schema.
    Json(SchemaFn),
    /// Text of this content type (Prometheus metrics).
    Text(&'static str),
    /// `text/event-stream` of `block` events whose `data` is JSON with this schema.
    EventStream(SchemaFn),
}

/// One status a route can answer with.
#[derive(Debug, Clone, Copy)]
pub struct Answer {
    pub status: u16,
    pub description: &'static str,
    pub body: Body,
}

/// One route.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub summary: &'static str,
    pub params: &'static [Param],
    /// The JSON request body, if the route takes one.
    pub request: Option<SchemaFn>,
    pub answers: &'static [Answer],
}

/// The most any `u64` query or path number may be.
const U64_MAX: u64 = u64::MAX;

fn hex64() -> serde_json::Value {
    serde_json::json!({"type": "string", "pattern": crate::path::HEX64_PATH_PATTERN})
}
fn job_id() -> serde_json::Value {
    serde_json::json!({"type": "string", "pattern": crate::path::JOB_ID_PATH_PATTERN})
}
fn number() -> serde_json::Value {
    serde_json::json!({"type": "integer", "minimum": 0, "maximum": U64_MAX})
}
fn service_number() -> serde_json::Value {
    serde_json::json!({"type": "integer", "minimum": 0, "maximum": u32::MAX})
}
fn block_id() -> serde_json::Value {
    serde_json::json!({"anyOf": [
        {"type": "integer", "minimum": 0, "maximum": U64_MAX},
        {"type": "string", "pattern": crate::path::HEX64_PATH_PATTERN},
    ]})
}
fn wait_mode() -> serde_json::Value {
    serde_json::json!({"type": "string", "enum": ["commit"]})
}
fn error_schema(g: &mut SchemaGenerator) -> Schema {
    of::<ApiError>(g)
}
/// The request body, as the node reads it: described by its own generator with the deserialize contract
/// (inlined, so its looser forms never share a name with what the node writes).
fn submit_body(_: &mut SchemaGenerator) -> Schema {
    let mut reading = schemars::generate::SchemaSettings::draft2020_12()
        .with(|s| {
            s.inline_subschemas = true;
            s.contract = schemars::generate::Contract::Deserialize;
            s.meta_schema = None;
        })
        .into_generator();
    let one = reading.subschema_for::<SignedTx>();
    json_schema!({"anyOf": [one.clone(), {"type": "array", "items": one, "minItems": 1}]})
}
fn submit_answer(g: &mut SchemaGenerator) -> Schema {
    let one = of::<SubmitResult>(g);
    let batch = of::<SubmitBatch>(g);
    json_schema!({"anyOf": [one, batch]})
}

const fn err(status: u16, description: &'static str) -> Answer {
    Answer { status, description, body: Body::Json(error_schema) }
}
const fn ok(description: &'static str, schema: SchemaFn) -> Answer {
    Answer { status: 200, description, body: Body::Json(schema) }
}
const BAD_ID: Answer = err(400, "the id is malformed: bad_account_id, bad_block_id, bad_tx_hash, bad_*_id");
const NOT_FOUND: Answer = err(404, "not_found");
const STORE: Answer = err(503, "store_unavailable: the node cannot read its block log");
const ACCOUNT_ID: Param =
    Param { name: "id", location: In::Path, description: "an account id: 64 hex digits", schema: hex64 };

/// Every route the node serves.
pub static ROUTES: &[Route] = &[
    Route {
        method: "post",
        path: "/v1/txs",
        summary: "Submit one signed transaction (a JSON object) or a batch (a JSON array). With ?wait=commit, answer once each is in a durable block, with receipts.",
        params: &[
            Param { name: "wait", location: In::Query, description: "`commit` to wait for inclusion", schema: wait_mode },
            Param { name: "timeout_ms", location: In::Query, description: "longest wait in milliseconds (default and maximum: the node's wait limit)", schema: number },
        ],
        request: Some(submit_body),
        answers: &[
            ok("committed (wait=commit, or already committed earlier), or a batch's results", submit_answer),
            Answer { status: 202, description: "accepted into the mempool (or still pending after the wait)", body: Body::Json(of::<SubmitResult>) },
            err(400, "malformed_json, bad_query, body_unreadable"),
            err(401, "bad_signature"),
            err(409, "nonce_in_use"),
            err(413, "body_too_large"),
            err(415, "unsupported_media_type"),
            err(422, "invalid_tx, fee_too_low, bad_nonce, nonce_gap, insufficient_funds"),
            err(429, "too_many_pending"),
            err(503, "mempool_full, store_unavailable, admission_failed"),
        ],
    },
    Route {
        method: "get",
        path: "/v1/accounts/{id}",
        summary: "An account's balances, nonce, unbonding chunks and the open holds it pays.",
        params: &[ACCOUNT_ID],
        request: None,
        answers: &[ok("the account (all zero if it never received anything)", of::<AccountView>), BAD_ID],
    },
    Route {
        method: "get",
        path: "/v1/blocks/{id}",
        summary: "A durable block by height or hash, with each transaction's receipt code and the block's events.",
        params: &[Param { name: "id", location: In::Path, description: "a height, or a block hash (64 hex digits)", schema: block_id }],
        request: None,
        answers: &[ok("the block", of::<BlockView>), BAD_ID, NOT_FOUND, STORE],
    },
    Route {
        method: "get",
        path: "/v1/txs/{hash}",
        summary: "A transaction's receipt: committed (height, index, code, events) or pending.",
        params: &[Param { name: "hash", location: In::Path, description: "64 hex digits", schema: hex64 }],
        request: None,
        answers: &[ok("the receipt", of::<TxReceipt>), BAD_ID, NOT_FOUND, STORE],
    },
    Route {
        method: "get",
        path: "/v1/params",
        summary: "The protocol parameters in force, the treasury, the oracles' stake and the current height.",
        params: &[],
        request: None,
        answers: &[ok("parameters", of::<ParamsView>)],
    },
    Route {
        method: "get",
        path: "/v1/nodes",
        summary: "Registered nodes with their roles, services, capacity, endpoint, status (Stale/Ready/Busy) and reputation.",
        params: &[],
        request: None,
        answers: &[ok("the nodes", of::<NodesView>)],
    },
    Route {
        method: "get",
        path: "/v1/nodes/{id}",
        summary: "One registered node.",
        params: &[ACCOUNT_ID],
        request: None,
        answers: &[ok("the node", of::<NodeView>), BAD_ID, NOT_FOUND],
    },
    Route {
        method: "get",
        path: "/v1/services",
        summary: "Services with their weights and prices.",
        params: &[],
        request: None,
        answers: &[ok("the services", of::<Vec<Service>>)],
    },
    Route {
        method: "get",
        path: "/v1/services/{id}",
        summary: "One service.",
        params: &[Param { name: "id", location: In::Path, description: "service id", schema: service_number }],
        request: None,
        answers: &[ok("the service", of::<Service>), BAD_ID, NOT_FOUND],
    },
    Route {
        method: "get",
        path: "/v1/reputation/{id}",
        summary: "A miner's reputation (ppb) and the ratings behind it.",
        params: &[ACCOUNT_ID],
        request: None,
        answers: &[ok("the reputation", of::<ReputationView>), BAD_ID],
    },
    Route {
        method: "get",
        path: "/v1/requests/{id}",
        summary: "An inference request: client, service, assigned miner, price, status, rating.",
        params: &[Param { name: "id", location: In::Path, description: "request id", schema: number }],
        request: None,
        answers: &[ok("the request", of::<Request>), BAD_ID, err(404, "not_found (never existed, expired, or forgotten after its rating window)")],
    },
    Route {
        method: "get",
        path: "/v1/tasks",
        summary: "Proof-of-Useful-Work tasks the engine still holds (open ones, and finished ones for a rating window).",
        params: &[],
        request: None,
        answers: &[ok("the tasks", of::<Vec<Task>>)],
    },
    Route {
        method: "get",
        path: "/v1/tasks/{id}",
        summary: "One task: state, deadline, creator, preparer, miners, precommits, revealed outputs, attestations.",
        params: &[Param { name: "id", location: In::Path, description: "task id", schema: number }],
        request: None,
        answers: &[ok("the task", of::<Task>), BAD_ID, NOT_FOUND],
    },
    Route {
        method: "get",
        path: "/v1/jobs",
        summary: "Federated training jobs the engine holds (open ones, and settled ones for job_retention blocks).",
        params: &[],
        request: None,
        answers: &[ok("the jobs", of::<Vec<JobView>>)],
    },
    Route {
        method: "get",
        path: "/v1/jobs/{id}",
        summary: "One training job: roles, reward schema, phase, members with deposits and heartbeats, escrow, amount due, outcome, history.",
        params: &[Param { name: "id", location: In::Path, description: "job id: a UUID, with or without its dashes", schema: job_id }],
        request: None,
        answers: &[ok("the job", of::<JobView>), BAD_ID, NOT_FOUND],
    },
    Route {
        method: "get",
        path: "/v1/epoch",
        summary: "The current epoch: number, first and last height, emission and pool balances.",
        params: &[],
        request: None,
        answers: &[ok("the epoch", of::<EpochView>)],
    },
    Route {
        method: "get",
        path: "/v1/points",
        summary: "Epoch points per node: the epoch in progress and the last finished one (earned, deducted, net, rounds, failures).",
        params: &[],
        request: None,
        answers: &[ok("points", of::<PointsView>)],
    },
    Route {
        method: "get",
        path: "/v1/lists",
        summary: "Curated lists of nodes to avoid: the network's underperformers and lists staked accounts published.",
        params: &[],
        request: None,
        answers: &[ok("the lists", of::<Vec<ListView>>)],
    },
    Route {
        method: "get",
        path: "/v1/routers",
        summary: "Routers: attached nodes, this epoch's report, its score so far and the nodes' connectivity.",
        params: &[],
        request: None,
        answers: &[ok("the routers", of::<Vec<RouterView>>)],
    },
    Route {
        method: "get",
        path: "/v1/validators",
        summary: "The validator set: the era in progress and its elected set (key, stash account, weight), the next era's set once elected, and every candidate with its weight now and whether it is chilled.",
        params: &[],
        request: None,
        answers: &[ok("the validator set", of::<ValidatorsView>)],
    },
    Route {
        method: "get",
        path: "/v1/proposals",
        summary: "Governance proposals with their votes and status.",
        params: &[],
        request: None,
        answers: &[ok("the proposals", of::<Vec<Proposal>>)],
    },
    Route {
        method: "get",
        path: "/v1/proposals/{id}",
        summary: "One governance proposal.",
        params: &[Param { name: "id", location: In::Path, description: "proposal id", schema: number }],
        request: None,
        answers: &[ok("the proposal", of::<Proposal>), BAD_ID, NOT_FOUND],
    },
    Route {
        method: "get",
        path: "/v1/supply",
        summary: "The conservation audit: genesis, minted, burned, total supply, the sum of every account's balances (O(accounts)) and whether the ledger invariants hold.",
        params: &[],
        request: None,
        answers: &[ok("the audit", of::<SupplyView>)],
    },
    Route {
        method: "get",
        path: "/v1/events",
        summary: "Events of durable blocks from height `since` (at most 1000 blocks per call).",
        params: &[
            Param { name: "since", location: In::Query, description: "first height (default 1)", schema: number },
            Param { name: "limit", location: In::Query, description: "most blocks to read (default and maximum 1000)", schema: number },
        ],
        request: None,
        answers: &[ok("a page of events", of::<EventsPage>), err(400, "bad_query"), STORE],
    },
    Route {
        method: "get",
        path: "/v1/events/stream",
        summary: "Server-Sent Events: one `block` event per durable block (its data: the block's stored outcome), from `since` (backlog of at most 1000 blocks) and then live.",
        params: &[Param { name: "since", location: In::Query, description: "first height of the backlog (default: live only)", schema: number }],
        request: None,
        answers: &[
            Answer { status: 200, description: "an endless text/event-stream of `block` events", body: Body::EventStream(of::<StoredOutcome>) },
            err(400, "bad_query"),
            STORE,
        ],
    },
    Route {
        method: "get",
        path: "/health",
        summary: "Liveness and the head of the chain.",
        params: &[],
        request: None,
        answers: &[ok("the head", of::<Health>)],
    },
    Route {
        method: "get",
        path: "/metrics",
        summary: "Prometheus metrics.",
        params: &[],
        request: None,
        answers: &[Answer { status: 200, description: "OpenMetrics text format", body: Body::Text("application/openmetrics-text; version=1.0.0; charset=utf-8") }],
    },
    Route {
        method: "get",
        path: "/openapi.json",
        summary: "This API's OpenAPI 3.1 description, generated from the route table and the response types.",
        params: &[],
        request: None,
        answers: &[ok("an OpenAPI document", any_object)],
    },
];

fn any_object(_: &mut SchemaGenerator) -> Schema {
    json_schema!({"type": "object"})
}

/// The OpenAPI 3.1 document of [`ROUTES`].
pub fn openapi() -> serde_json::Value {
    use serde_json::{json, Map, Value};
    // Answers are described as the node writes them (the serialize contract).
    let settings = schemars::generate::SchemaSettings::draft2020_12().with(|s| {
        s.definitions_path = "#/components/schemas/".into();
        s.meta_schema = None;
        s.contract = schemars::generate::Contract::Serialize;
    });
    let mut g = settings.into_generator();
    let mut paths = Map::new();
    for r in ROUTES {
        let params: Vec<Value> = r
            .params
            .iter()
            .map(|p| {
                json!({
                    "name": p.name,
                    "in": if p.location == In::Path { "path" } else { "query" },
                    "required": p.location == In::Path,
                    "description": p.description,
                    "schema": (p.schema)(),
                })
            })
            .collect();
        let mut responses = Map::new();
        for a in r.answers {
            let content = match a.body {
                Body::Json(schema) => json!({"application/json": {"schema": schema(&mut g)}}),
                Body::Text(kind) => json!({ kind: {"schema": {"type": "string"}} }),
                // OpenAPI 3.1 describes one server-sent event: its `event`, `id` and JSON `data`.
                Body::EventStream(data) => json!({"text/event-stream": {"schema": {
                    "type": "object",
                    "required": ["event", "id", "data"],
                    "properties": {
                        "event": {"const": "block"},
                        "id": {"type": "string", "pattern": "^[0-9]+$", "description": "the block's height"},
                        "data": {"type": "string", "contentMediaType": "application/json", "contentSchema": data(&mut g)},
                    },
                }}}),
            };
            responses.insert(a.status.to_string(), json!({"description": a.description, "content": content}));
        }
        let mut op = json!({"summary": r.summary, "parameters": params, "responses": responses});
        if let Some(body) = r.request {
            op["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": body(&mut g)}}});
        }
        let entry = paths.entry(r.path.to_string()).or_insert_with(|| json!({}));
        entry[r.method] = op;
    }
    let schemas: Map<String, Value> = g.take_definitions(true).into_iter().collect();
    json!({
        "openapi": "3.1.0",
        "info": {"title": "stakework node API", "version": env!("CARGO_PKG_VERSION")},
        "paths": paths,
        "components": {"schemas": schemas},
    })
}
