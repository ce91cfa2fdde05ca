//! Every query route: its 2xx answer as its documented type, and its documented errors.

use crate::{account, Probe};
use api::*;
use protocol::{Proposal, Request, Service, Task};

const ZERO64: &str = "0000000000000000000000000000000000000000000000000000000000000000";

pub fn queries(p: &mut Probe, client: &client::Client) {
    chain(p, client);
    market(p);
    economy(p);
    text_routes(p, client);
}

fn chain(p: &mut Probe, client: &client::Client) {
    let health: Health = p.ok("/health", "/health");
    assert!(health.height.0 >= 1, "transactions were committed before");
    let params: ParamsView = p.ok("/v1/params", "/v1/params");
    assert_eq!(params.params.chain_id, "api-test");
    let a: AccountView = p.ok("/v1/accounts/{id}", &format!("/v1/accounts/{}", account(2)));
    assert!(a.free.0 > 1_000);
    let upper = account(2).to_string().to_uppercase();
    let _: AccountView = p.ok("/v1/accounts/{id}", &format!("/v1/accounts/{upper}"));
    for bad in ["0", "0x00", "zz"] {
        p.fails("/v1/accounts/{id}", &format!("/v1/accounts/{bad}"), 400, "bad_account_id");
    }
    let b: BlockView = p.ok("/v1/blocks/{id}", "/v1/blocks/1");
    let by_hash: BlockView = p.ok("/v1/blocks/{id}", &format!("/v1/blocks/{}", b.hash));
    assert_eq!(b, by_hash);
    p.fails("/v1/blocks/{id}", "/v1/blocks/999999", 404, "not_found");
    p.fails("/v1/blocks/{id}", &format!("/v1/blocks/{ZERO64}"), 404, "not_found");
    p.fails("/v1/blocks/{id}", "/v1/blocks/-1", 400, "bad_block_id");
    let with_tx = (1..=health.height.0).find_map(|h| client.block(&h.to_string()).ok().filter(|b| !b.txs.is_empty()));
    let hash = with_tx.expect("a block with a transaction").txs[0].hash;
    let r: TxReceipt = p.ok("/v1/txs/{hash}", &format!("/v1/txs/{hash}"));
    assert_eq!(r.status, TxStatus::Committed);
    p.fails("/v1/txs/{hash}", &format!("/v1/txs/{ZERO64}"), 404, "not_found");
    p.fails("/v1/txs/{hash}", "/v1/txs/abc", 400, "bad_tx_hash");
    let page: EventsPage = p.ok("/v1/events", "/v1/events?since=1&limit=5");
    assert!(page.next <= 6);
    p.fails("/v1/events", "/v1/events?since=", 400, "bad_query");
    p.fails("/v1/events", "/v1/events?since=-1", 400, "bad_query");
    let supply: SupplyView = p.ok("/v1/supply", "/v1/supply");
    assert!(supply.conserved, "{supply:?}");
}

fn market(p: &mut Probe) {
    let nodes: NodesView = p.ok("/v1/nodes", "/v1/nodes");
    assert_eq!(nodes.nodes.len(), 6);
    let n: NodeView = p.ok("/v1/nodes/{id}", &format!("/v1/nodes/{}", account(3)));
    assert_eq!(n.status, Some(protocol::MinerStatus::Ready));
    p.fails("/v1/nodes/{id}", &format!("/v1/nodes/{}", account(1)), 404, "not_found");
    p.fails("/v1/nodes/{id}", "/v1/nodes/1", 400, "bad_account_id");
    let services: Vec<Service> = p.ok("/v1/services", "/v1/services");
    assert_eq!(services.len(), 1);
    let s: Service = p.ok("/v1/services/{id}", "/v1/services/1");
    assert_eq!(s.name, "text");
    p.fails("/v1/services/{id}", "/v1/services/7", 404, "not_found");
    p.fails("/v1/services/{id}", "/v1/services/x", 400, "bad_service_id");
    let rep: ReputationView = p.ok("/v1/reputation/{id}", &format!("/v1/reputation/{}", account(1)));
    assert_eq!(rep.client_ratings, None);
    p.fails("/v1/reputation/{id}", "/v1/reputation/1", 400, "bad_account_id");
    let r: Request = p.ok("/v1/requests/{id}", "/v1/requests/1");
    assert_eq!(r.client, account(2));
    p.fails("/v1/requests/{id}", "/v1/requests/99", 404, "not_found");
    p.fails("/v1/requests/{id}", "/v1/requests/one", 400, "bad_request_id");
    let tasks: Vec<Task> = p.ok("/v1/tasks", "/v1/tasks");
    assert_eq!(tasks.len(), 1);
    let t: Task = p.ok("/v1/tasks/{id}", "/v1/tasks/1");
    assert_eq!(t.redundancy, 3);
    p.fails("/v1/tasks/{id}", "/v1/tasks/99", 404, "not_found");
    p.fails("/v1/tasks/{id}", "/v1/tasks/1.5", 400, "bad_task_id");
    let jobs: Vec<JobView> = p.ok("/v1/jobs", "/v1/jobs");
    assert_eq!(jobs.len(), 1);
    let j: JobView = p.ok("/v1/jobs/{id}", &format!("/v1/jobs/{}", crate::world::JOB));
    assert_eq!(j.job.dos, vec![account(3)]);
    p.fails("/v1/jobs/{id}", "/v1/jobs/0123456789abcdef0123456789abcdef", 404, "not_found");
    p.fails("/v1/jobs/{id}", "/v1/jobs/01234567-89ab-cdef-0123-456789abcdef", 404, "not_found");
    p.fails("/v1/jobs/{id}", "/v1/jobs/0123456789ab-cdef-0123-4567-89abcdef", 400, "bad_job_id");
    let proposals: Vec<Proposal> = p.ok("/v1/proposals", "/v1/proposals");
    assert_eq!(proposals.len(), 1);
    let _: Proposal = p.ok("/v1/proposals/{id}", "/v1/proposals/1");
    p.fails("/v1/proposals/{id}", "/v1/proposals/99", 404, "not_found");
    p.fails("/v1/proposals/{id}", "/v1/proposals/+1", 400, "bad_proposal_id");
}

fn economy(p: &mut Probe) {
    let epoch: EpochView = p.ok("/v1/epoch", "/v1/epoch");
    assert!(epoch.first_height <= epoch.last_height);
    let _: PointsView = p.ok("/v1/points", "/v1/points");
    let lists: Vec<ListView> = p.ok("/v1/lists", "/v1/lists");
    assert!(lists.iter().all(|l| l.owner.is_none() || !l.name.is_empty()));
    let routers: Vec<RouterView> = p.ok("/v1/routers", "/v1/routers");
    assert!(routers.is_empty());
    // A sequencer's genesis names no validator: no candidate, no set.
    let vals: api::ValidatorsView = p.ok("/v1/validators", "/v1/validators");
    assert!(vals.candidates.is_empty() && vals.current.is_empty() && vals.next.is_none(), "{vals:?}");
}

/// The routes whose answers are not JSON views: the document, the metrics text, the event stream, and
/// the fallbacks for an unknown route or method.
fn text_routes(p: &mut Probe, client: &client::Client) {
    let doc: serde_json::Value = p.ok("/openapi.json", "/openapi.json");
    assert_eq!(doc, api::openapi(), "the node serves exactly the generated document");
    let (status, metrics) = p.send("get", "/metrics", "/metrics", None);
    assert_eq!(status, 200);
    assert!(metrics.contains("stakework_"), "{metrics}");
    // A single node exports every metric that applies without consensus (docs/METRICS.md): blocks were
    // sealed by now, so each of its histograms has observations.
    for name in [
        "stakework_block_execution_seconds_count",
        "stakework_block_fsync_seconds_count",
        "stakework_finality_seconds_count",
        "stakework_height",
        "stakework_finalized_height",
        "stakework_mempool_txs",
        "stakework_peers",
        "stakework_blocks_sealed_total",
        "stakework_block_seal_seconds_total",
    ] {
        let sample = metrics.lines().find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')).unwrap_or("");
        assert!(!sample.is_empty(), "{name} missing:\n{metrics}");
        if name.ends_with("_count") {
            assert_ne!(sample, "0", "{name}: no observation:\n{metrics}");
        }
    }
    let kind = p.http.get(&format!("{}/metrics", p.url)).call().expect("metrics").content_type().to_string();
    assert_eq!(kind, "application/openmetrics-text");
    let mut stream = client.event_stream(Some(1)).expect("stream");
    let first = stream.next().expect("a block").expect("a block event");
    assert_eq!(first.height, 1);
    p.covered.insert(("get", "/v1/events/stream"));
    p.fails("/v1/events/stream", "/v1/events/stream?since=x", 400, "bad_query");
    let missing = p.http.get(&format!("{}/v2/nothing", p.url)).call();
    assert!(matches!(missing, Err(ureq::Error::Status(404, _))));
    let wrong = p.http.delete(&format!("{}/v1/params", p.url)).call();
    assert!(matches!(wrong, Err(ureq::Error::Status(405, _))));
}
