//! The OpenAI-compatible backend against a local HTTP server that speaks the API (as llama.cpp server,
//! vLLM and Ollama do), and against servers that answer garbage or too slowly.

use agent::backend::{Backend, BuiltinBackend, OpenAiBackend};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use std::time::Duration;

/// Serve `answers.len()` requests on loopback, each answered with the next (status, body) after `delay`;
/// the request bodies are sent back on the channel.
fn server(answers: Vec<(u16, String)>, delay: Duration) -> (String, mpsc::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for (status, body) in answers {
            let Ok((stream, _)) = listener.accept() else { return };
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut len = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                }
            }
            let mut req = vec![0u8; len];
            let _ = reader.read_exact(&mut req);
            let _ = tx.send(String::from_utf8_lossy(&req).into_owned());
            std::thread::sleep(delay);
            let mut stream = stream;
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (url, rx)
}

#[test]
fn a_chat_completion_is_requested_and_its_text_returned() {
    let answer = r#"{"id":"x","choices":[{"index":0,"message":{"role":"assistant","content":"Plants make sugar from light."}}]}"#;
    let (url, requests) = server(vec![(200, answer.into())], Duration::ZERO);
    let backend = OpenAiBackend::new(&url, "llama-3", Duration::from_secs(5));
    assert_eq!(backend.complete("Explain photosynthesis.").expect("answer"), "Plants make sugar from light.");
    let req: serde_json::Value = serde_json::from_str(&requests.recv().expect("request")).expect("json body");
    assert_eq!(req["model"], "llama-3");
    assert_eq!(req["messages"][0]["content"], "Explain photosynthesis.");
    assert_eq!(req["temperature"], 0, "deterministic decoding, so honest miners can agree");
}

#[test]
fn a_server_error_is_retried_then_the_answer_is_used() {
    let ok = r#"{"choices":[{"message":{"content":"fine"}}]}"#;
    let (url, _) = server(vec![(503, "busy".into()), (200, ok.into())], Duration::ZERO);
    let backend = OpenAiBackend::new(&url, "m", Duration::from_secs(5));
    assert_eq!(backend.complete("p").expect("second attempt"), "fine");
}

#[test]
fn garbage_and_timeouts_are_clear_errors_after_retries() {
    let (url, _) = server(vec![(200, "not json".into()); 3], Duration::ZERO);
    let err = OpenAiBackend::new(&url, "m", Duration::from_secs(5)).complete("p").expect_err("garbage");
    assert!(err.to_string().contains("non-JSON"), "{err}");
    let (url, _) = server(vec![(200, r#"{"choices":[]}"#.into()); 3], Duration::ZERO);
    let err = OpenAiBackend::new(&url, "m", Duration::from_secs(5)).complete("p").expect_err("no choices");
    assert!(err.to_string().contains("choices[0]"), "{err}");
    let (url, _) = server(vec![(200, "{}".into()); 3], Duration::from_millis(800));
    let err = OpenAiBackend::new(&url, "m", Duration::from_millis(200)).complete("p").expect_err("slow");
    assert!(err.to_string().starts_with("backend:"), "{err}");
    let err = OpenAiBackend::new("http://127.0.0.1:9", "m", Duration::from_secs(1)).complete("p").expect_err("down");
    assert!(err.to_string().contains("127.0.0.1:9"), "{err}");
}

#[test]
fn the_builtin_backend_says_it_is_not_a_model_and_honest_miners_agree() {
    let honest = BuiltinBackend { lazy: false };
    let a = honest.complete("Explain.").expect("answer");
    assert_eq!(a, honest.complete("Explain.").expect("answer"));
    assert!(a.contains("not a language model"));
    assert!(honest.describe().contains("not a model"));
    assert_ne!(BuiltinBackend { lazy: true }.complete("Explain.").expect("filler"), a);
}
