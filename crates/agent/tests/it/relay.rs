//! The router's relay carries sealed prompts and answers: the real relay server and the real miner
//! endpoint on loopback, with a recording tap on each side of the router (client → router and router →
//! miner), so everything the router received and forwarded is captured.

use agent::client::relay;
use agent::router::Meter;
use agent::seal::{seal_request, Identity, SealedRequest};
use agent::serve::Inbox;
use ed25519_dalek::SigningKey;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const PROMPT: &str = "Summarise the purple-elephant merger memo for the board";
const ANSWER: &str = "The merger memo says: purple elephants, confidential";

type Capture = Arc<Mutex<Vec<u8>>>;

/// Copy `from` to `to` until either closes, recording every byte.
fn pipe(mut from: TcpStream, mut to: TcpStream, capture: Capture) {
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        loop {
            let n = match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            capture.lock().expect("capture").extend_from_slice(&buf[..n]);
            if to.write_all(&buf[..n]).is_err() {
                break;
            }
        }
        let _ = to.shutdown(Shutdown::Write);
    });
}

/// A TCP forwarder to `target` that records both directions of at most 16 connections; its URL.
fn tap(target: SocketAddr, capture: Capture) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind tap");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        for _ in 0..16 {
            let Ok((inbound, _)) = listener.accept() else { return };
            let Ok(outbound) = TcpStream::connect(target) else { return };
            let (Ok(i), Ok(o)) = (inbound.try_clone(), outbound.try_clone()) else { return };
            pipe(i, o, capture.clone());
            pipe(outbound, inbound, capture.clone());
        }
    });
    url
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

struct Net {
    rt: tokio::runtime::Runtime,
    halt: tokio::sync::watch::Sender<bool>,
    inbox: Arc<Inbox>,
    meter: Arc<Meter>,
    /// The router's relay, behind the client-side tap.
    router_url: String,
    client_side: Capture,
    miner_side: Capture,
}

/// A miner endpoint for `miner` and a router relaying to it, each behind a tap.
fn start(miner: &SigningKey) -> Net {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let (halt, halted) = tokio::sync::watch::channel(false);
    let stop = |mut h: tokio::sync::watch::Receiver<bool>| async move {
        let _ = h.changed().await;
    };
    let (client_side, miner_side) = (Capture::default(), Capture::default());
    let inbox = Arc::new(Inbox::default());
    let miner_listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).expect("bind miner");
    let miner_addr = miner_listener.local_addr().expect("addr");
    let identity = Arc::new(Identity::new(miner));
    rt.spawn(agent::serve::serve(miner_listener, inbox.clone(), identity, stop(halted.clone())));
    let meter = Arc::new(Meter::default());
    meter.learn_endpoint(account(miner), tap(miner_addr, miner_side.clone()));
    let router_listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).expect("bind router");
    let router_addr = router_listener.local_addr().expect("addr");
    // No node: the router already knows the miner's endpoint.
    let api = ::client::Client::new("http://127.0.0.1:9");
    rt.spawn(agent::router::serve(router_listener, api, meter.clone(), stop(halted)));
    let router_url = tap(router_addr, client_side.clone());
    Net { rt, halt, inbox, meter, router_url, client_side, miner_side }
}

fn account(key: &SigningKey) -> types::AccountId {
    types::AccountId(key.verifying_key().to_bytes())
}

/// Answer `request` from `client` once its prompt is in the inbox (checked at most 200 times).
fn answer_when_prompted(inbox: Arc<Inbox>, request: u64, client: types::AccountId) -> std::thread::JoinHandle<bool> {
    std::thread::spawn(move || {
        for _ in 0..200 {
            if let Some(prompt) = inbox.prompt(request, client) {
                assert_eq!(prompt, PROMPT, "the miner reads the prompt the client sealed");
                inbox.answer(request, client, ANSWER.to_string());
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    })
}

#[test]
fn the_router_relays_and_meters_a_prompt_it_cannot_read() {
    let (client_key, miner_key) = (SigningKey::from_bytes(&[11; 32]), SigningKey::from_bytes(&[12; 32]));
    let (client, miner) = (Identity::new(&client_key), account(&miner_key));
    let net = start(&miner_key);
    let answerer = answer_when_prompted(net.inbox.clone(), 7, client.account);
    let answer = relay(&net.router_url, &client, &miner, 7, PROMPT);
    assert!(answerer.join().expect("answerer"), "the prompt reached the miner");
    assert_eq!(answer.as_deref(), Some(ANSWER), "the client opens the miner's answer");

    let (to_router, to_miner) =
        (net.client_side.lock().expect("capture").clone(), net.miner_side.lock().expect("capture").clone());
    for (side, seen) in [("client ↔ router", &to_router), ("router ↔ miner", &to_miner)] {
        assert!(contains(seen, b"\"sealed\""), "{side}: the tap saw the relayed messages");
        for secret in [PROMPT, ANSWER, "purple-elephant", "merger memo"] {
            assert!(!contains(seen, secret.as_bytes()), "{side}: {secret:?} crossed the router in plaintext");
        }
    }
    // The router meters the ciphertext it carried, and the miner counts the same bytes (so the smaller of
    // the two claims, the validated bandwidth, is all of it).
    let metered = net.meter.take().get(&miner).copied().expect("the miner's traffic was metered");
    assert!(metered.bytes_in > PROMPT.len() as u64 && metered.bytes_out > ANSWER.len() as u64, "{metered:?}");
    assert_eq!(metered.bytes_in + metered.bytes_out, net.inbox.take_bytes());
    let _ = net.halt.send(true);
    net.rt.shutdown_timeout(Duration::from_secs(1));
}

#[test]
fn a_tampered_or_misaddressed_prompt_is_refused_by_the_miner() {
    let (client_key, miner_key) = (SigningKey::from_bytes(&[21; 32]), SigningKey::from_bytes(&[22; 32]));
    let (client, miner) = (Identity::new(&client_key), account(&miner_key));
    let net = start(&miner_key);
    let post = |body: &SealedRequest| -> (u16, String) {
        let url = format!("{}/relay/{miner}", net.router_url);
        let body = serde_json::to_string(body).expect("json");
        match ureq::post(&url).timeout(Duration::from_secs(10)).send_string(&body) {
            Ok(r) => (r.status(), r.into_string().unwrap_or_default()),
            Err(ureq::Error::Status(s, r)) => (s, r.into_string().unwrap_or_default()),
            Err(e) => (0, e.to_string()),
        }
    };
    let (sealed, _) = seal_request(&client, &miner, 7, PROMPT).expect("sealed");
    // One bit of the ciphertext flipped on the way.
    let mut bytes = hex::decode(&sealed.sealed).expect("hex");
    bytes[3] ^= 0x20;
    let flipped = SealedRequest { sealed: hex::encode(bytes), ..sealed.clone() };
    let (status, body) = post(&flipped);
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("seal_tampered"), "{body}");
    // The same ciphertext moved to another request id.
    let (status, body) = post(&SealedRequest { request: 8, ..sealed.clone() });
    assert_eq!((status, body.contains("seal_tampered")), (400, true), "{body}");
    // Sealed to another miner but routed to this one.
    let elsewhere = account(&SigningKey::from_bytes(&[23; 32]));
    let (misaddressed, _) = seal_request(&client, &elsewhere, 7, PROMPT).expect("sealed");
    let (status, body) = post(&misaddressed);
    assert_eq!((status, body.contains("wrong_miner")), (400, true), "{body}");
    assert_eq!(net.inbox.prompt(7, client.account), None, "nothing refused reached the inbox");
    assert_eq!(net.inbox.prompt(8, client.account), None);
    assert_eq!(net.inbox.take_bytes(), 0, "the miner confirms no traffic for refused messages");
    let _ = net.halt.send(true);
    net.rt.shutdown_timeout(Duration::from_secs(1));
}
