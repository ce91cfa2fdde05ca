//! Where a miner's answers come from.

use crate::AgentError;
use serde_json::{json, Value};
use std::time::Duration;

/// An inference backend: a prompt in, a text out.
pub trait Backend: Send + Sync + std::fmt::Debug {
    fn complete(&self, prompt: &str) -> Result<String, AgentError>;
    /// One line for logs and reports, saying what the backend really is.
    fn describe(&self) -> String;
}

/// Not a model: a fixed function of the prompt, so honest miners agree byte for byte. For demos and tests;
/// it says so in every answer. The `lazy` variant returns filler without reading the prompt (a dishonest
/// miner that Proof of Inference should catch).
#[derive(Debug, Clone, Copy)]
pub struct BuiltinBackend {
    pub lazy: bool,
}

impl Backend for BuiltinBackend {
    fn complete(&self, prompt: &str) -> Result<String, AgentError> {
        if self.lazy {
            return Ok("Sorry, I did not run the model; here is some filler about football results.".into());
        }
        Ok(format!(
            "[stakework built-in deterministic backend, not a language model] The answer to \"{}\" is this \
             fixed text, which every honest miner running the built-in backend returns for the same prompt.",
            prompt.trim()
        ))
    }
    fn describe(&self) -> String {
        if self.lazy {
            "built-in deterministic backend, LAZY (returns filler; not a model)".into()
        } else {
            "built-in deterministic backend (not a model)".into()
        }
    }
}

/// An OpenAI-compatible server (`POST {url}/v1/chat/completions`): llama.cpp server, vLLM, Ollama.
#[derive(Debug, Clone)]
pub struct OpenAiBackend {
    url: String,
    model: String,
    http: ureq::Agent,
    attempts: u32,
}

impl OpenAiBackend {
    pub fn new(url: &str, model: &str, timeout: Duration) -> OpenAiBackend {
        let http = ureq::AgentBuilder::new().timeout_connect(Duration::from_secs(3)).timeout(timeout).build();
        OpenAiBackend { url: url.trim_end_matches('/').to_string(), model: model.to_string(), http, attempts: 3 }
    }

    fn once(&self, prompt: &str) -> Result<String, AgentError> {
        let url = format!("{}/v1/chat/completions", self.url);
        let body = json!({
            "model": self.model,
            "messages": [{"role": "user", "content": prompt}],
            "temperature": 0,
            "max_tokens": 256,
        });
        let resp = self
            .http
            .post(&url)
            .set("Content-Type", "application/json")
            .send_string(&body.to_string())
            .map_err(|e| AgentError::Backend(format!("{url}: {e}")))?;
        let v: Value = resp.into_json().map_err(|e| AgentError::Backend(format!("{url} answered non-JSON: {e}")))?;
        match v["choices"][0]["message"]["content"].as_str() {
            Some(text) if !text.trim().is_empty() => Ok(text.to_string()),
            _ => Err(AgentError::Backend(format!("{url} answered without choices[0].message.content: {v}"))),
        }
    }
}

impl Backend for OpenAiBackend {
    /// Up to three attempts with backoff: a busy or restarting server is worth retrying.
    fn complete(&self, prompt: &str) -> Result<String, AgentError> {
        let mut last = None;
        for attempt in 0..self.attempts {
            match self.once(prompt) {
                Ok(text) => return Ok(text),
                Err(e) => last = Some(e),
            }
            std::thread::sleep(Duration::from_millis(200 << attempt));
        }
        Err(last.unwrap_or_else(|| AgentError::Backend("no attempt made".into())))
    }
    fn describe(&self) -> String {
        format!("OpenAI-compatible server at {} (model {})", self.url, self.model)
    }
}
