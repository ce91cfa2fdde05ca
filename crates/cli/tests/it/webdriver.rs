//! A small W3C WebDriver client for the browser tests: Debian's `chromedriver` drives headless Debian
//! `chromium` on loopback, JSON over HTTP (ureq). Only what the tests use: open a page, find elements by CSS,
//! read attributes and text, click, and save a screenshot.

use serde_json::{json, Value};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where Debian puts the browser and its driver (`apt-get install chromium chromium-driver`).
const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// The W3C key of an element reference in a WebDriver answer.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

#[derive(Debug)]
pub struct Browser {
    driver: Child,
    base: String,
    session: String,
    _profile: tempfile::TempDir,
}

/// Whether this machine has the browser and its driver; under CI they are required (`.ci/run` installs
/// them), elsewhere a test without them says it was skipped.
pub fn available(test: &str) -> bool {
    let there = Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists();
    if !there {
        assert!(
            std::env::var_os("CI").is_none(),
            "{test}: CI needs {CHROMIUM} and {CHROMEDRIVER} (apt-get install chromium chromium-driver)"
        );
        eprintln!("skipped {test}: no {CHROMIUM} / {CHROMEDRIVER} (apt-get install chromium chromium-driver)");
    }
    there
}

impl Browser {
    /// Start chromedriver on a free loopback port and open a headless Chromium session with JavaScript off
    /// (every page must be readable without it).
    pub fn start() -> Browser {
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port").local_addr().expect("addr").port();
        let driver = Command::new(CHROMEDRIVER)
            .args([format!("--port={port}"), "--allowed-ips=127.0.0.1".into()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        while ureq::get(&format!("{base}/status")).call().is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not answer within 30 s");
            std::thread::sleep(Duration::from_millis(100));
        }
        let profile = tempfile::tempdir().expect("profile dir");
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--window-size=1280,1024",
        ]
        .iter()
        .map(|a| a.to_string())
        .chain([format!("--user-data-dir={}", profile.path().display())])
        .collect::<Vec<_>>();
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": args,
                "prefs": {"profile.managed_default_content_settings.javascript": 2},
            },
        }}});
        let answer = post(&format!("{base}/session"), &caps);
        let session = answer["sessionId"].as_str().expect("a session id").to_string();
        Browser { driver, base, session, _profile: profile }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/session/{}{path}", self.base, self.session)
    }

    pub fn goto(&self, url: &str) {
        post(&self.url("/url"), &json!({ "url": url }));
    }

    pub fn current_url(&self) -> String {
        get(&self.url("/url")).as_str().expect("a url").to_string()
    }

    /// The page's whole text as a reader sees it.
    pub fn text(&self) -> String {
        let body = self.find("body").expect("a body");
        self.element_text(&body)
    }

    /// Every element matching `css`, in document order.
    pub fn find_all(&self, css: &str) -> Vec<String> {
        let v = post(&self.url("/elements"), &json!({"using": "css selector", "value": css}));
        let list = v.as_array().unwrap_or_else(|| panic!("elements: {v}"));
        list.iter().map(|e| e[ELEMENT].as_str().unwrap_or_else(|| panic!("an element: {e}")).to_string()).collect()
    }

    /// Every element matching `css` inside `element`, in document order.
    pub fn find_all_in(&self, element: &str, css: &str) -> Vec<String> {
        let v =
            post(&self.url(&format!("/element/{element}/elements")), &json!({"using": "css selector", "value": css}));
        let list = v.as_array().unwrap_or_else(|| panic!("elements: {v}"));
        list.iter().map(|e| e[ELEMENT].as_str().unwrap_or_else(|| panic!("an element: {e}")).to_string()).collect()
    }

    pub fn find(&self, css: &str) -> Option<String> {
        self.find_all(css).into_iter().next()
    }

    pub fn attr(&self, element: &str, name: &str) -> Option<String> {
        get(&self.url(&format!("/element/{element}/attribute/{name}"))).as_str().map(str::to_string)
    }

    pub fn element_text(&self, element: &str) -> String {
        get(&self.url(&format!("/element/{element}/text"))).as_str().unwrap_or_default().to_string()
    }

    /// Click the element, as a user does, and wait for the next page.
    pub fn click(&self, element: &str) {
        post(&self.url(&format!("/element/{element}/click")), &json!({}));
    }

    /// Find the first link whose `href` matches `css` (e.g. `a[href^="/tasks/"]`) and click it; the link's
    /// href.
    pub fn click_link(&self, css: &str) -> String {
        let link =
            self.find(css).unwrap_or_else(|| panic!("no link {css} on {}:\n{}", self.current_url(), self.text()));
        let href = self.attr(&link, "href").expect("a link has an href");
        self.click(&link);
        href
    }

    /// Save a PNG of the window.
    pub fn screenshot(&self, path: &Path) {
        use base64::Engine as _;
        let b64 = get(&self.url("/screenshot"));
        let png =
            base64::engine::general_purpose::STANDARD.decode(b64.as_str().expect("base64")).expect("valid base64");
        std::fs::create_dir_all(path.parent().expect("a folder")).expect("screenshot folder");
        std::fs::write(path, png).expect("screenshot written");
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = ureq::delete(&self.url("")).call();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn post(url: &str, body: &Value) -> Value {
    answer(ureq::post(url).timeout(Duration::from_secs(60)).send_json(body.clone()), url)
}

fn get(url: &str) -> Value {
    answer(ureq::get(url).timeout(Duration::from_secs(60)).call(), url)
}

fn answer(r: Result<ureq::Response, ureq::Error>, url: &str) -> Value {
    match r {
        Ok(resp) => resp.into_json::<Value>().expect("WebDriver answers JSON")["value"].clone(),
        Err(ureq::Error::Status(code, resp)) => {
            panic!("WebDriver {url}: {code} {}", resp.into_string().unwrap_or_default())
        }
        Err(e) => panic!("WebDriver {url}: {e}"),
    }
}
