//! A small W3C WebDriver client: enough to drive the real app through
//! `tauri-driver` (which hands the session to Debian's WebKitWebDriver).
//! Clicks and typing go through WebDriver; where WebKitWebDriver is known
//! to stumble (Tauri #6541: clicks on some elements), `click` falls back
//! to a script click and says so in the test's output.

use std::time::Duration;

use serde_json::{json, Value};

/// The key W3C uses for an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

pub struct Session {
    http: reqwest::Client,
    base: String,
}

#[derive(Debug, Clone)]
pub struct Element(String);

impl Session {
    /// A session on `driver` (`http://127.0.0.1:4444`) running `application`.
    pub async fn start(driver: &str, application: &std::path::Path) -> Session {
        Self::start_with(driver, application, &[]).await
    }

    /// [`Session::start`], the application started with `args`.
    pub async fn start_with(driver: &str, application: &std::path::Path, args: &[&str]) -> Session {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .build()
            .unwrap();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        let answer = loop {
            let sent = http
                .post(format!("{driver}/session"))
                .json(&json!({"capabilities": {"alwaysMatch": {
                    "browserName": "wry",
                    "tauri:options": {"application": application, "args": args},
                }}}))
                .send()
                .await;
            match sent {
                Ok(r) => break r.json::<Value>().await.unwrap(),
                Err(e) if tokio::time::Instant::now() < deadline => {
                    eprintln!("waiting for tauri-driver: {e}");
                    tokio::time::sleep(Duration::from_millis(300)).await;
                }
                Err(e) => panic!("tauri-driver does not answer at {driver}: {e}"),
            }
        };
        let id = answer["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {answer}"))
            .to_string();
        Session {
            http,
            base: format!("{driver}/session/{id}"),
        }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let answer: Value = request.send().await.unwrap().json().await.unwrap();
        answer["value"].clone()
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    /// Runs `script` in the page (`arguments` as given, elements included).
    pub async fn execute(&self, script: &str, args: Vec<Value>) -> Value {
        let value = self
            .post("/execute/sync", json!({"script": script, "args": args}))
            .await;
        assert!(
            value.get("error").is_none(),
            "script failed: {value}\n{script}"
        );
        value
    }

    /// Runs an async `script` whose last argument is the callback.
    pub async fn execute_async(&self, script: &str, args: Vec<Value>) -> Value {
        let value = self
            .post("/execute/async", json!({"script": script, "args": args}))
            .await;
        assert!(
            value.get("error").is_none(),
            "script failed: {value}\n{script}"
        );
        value
    }

    /// The first element matching `css`, if any right now.
    pub async fn find(&self, css: &str) -> Option<Element> {
        let value = self
            .post("/element", json!({"using": "css selector", "value": css}))
            .await;
        value[ELEMENT].as_str().map(|id| Element(id.to_string()))
    }

    /// Waits (up to `secs`) for an element matching `css` that is displayed.
    pub async fn wait(&self, css: &str, secs: u64) -> Element {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(el) = self.find(css).await {
                if self.displayed(&el).await {
                    return el;
                }
            }
            if tokio::time::Instant::now() > deadline {
                let body = self.execute("return document.body.innerText", vec![]).await;
                panic!("no {css} after {secs} s; the window shows:\n{body}");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    pub async fn displayed(&self, el: &Element) -> bool {
        self.execute(
            "const e = arguments[0]; return !!(e.offsetWidth || e.offsetHeight || e.getClientRects().length);",
            vec![el.arg()],
        )
        .await
        .as_bool()
        .unwrap_or(false)
    }

    pub async fn click(&self, el: &Element) {
        let value = self
            .post(&format!("/element/{}/click", el.0), json!({}))
            .await;
        if value.get("error").is_some() {
            eprintln!("WebDriver click refused ({value}); clicking from a script");
            self.execute("arguments[0].click()", vec![el.arg()]).await;
        }
    }

    /// Types `text` into an input (after clearing it).
    pub async fn type_into(&self, el: &Element, text: &str) {
        self.post(&format!("/element/{}/clear", el.0), json!({}))
            .await;
        let value = self
            .post(&format!("/element/{}/value", el.0), json!({"text": text}))
            .await;
        assert!(value.get("error").is_none(), "cannot type: {value}");
    }

    /// Chooses the option whose text contains `label` in a `<select>`.
    pub async fn choose(&self, select: &Element, label: &str) {
        let chosen = self
            .execute(
                "const [s, label] = arguments; const o = [...s.options].find(o => o.text.includes(label));\
                 if (!o) return [...s.options].map(o => o.text).join(' | ');\
                 s.value = o.value; s.dispatchEvent(new Event('change', {bubbles: true})); return true;",
                vec![select.arg(), json!(label)],
            )
            .await;
        assert_eq!(chosen, json!(true), "no option {label:?} among: {chosen}");
    }

    pub async fn text(&self, el: &Element) -> String {
        self.call(
            reqwest::Method::GET,
            &format!("/element/{}/text", el.0),
            None,
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_string()
    }

    /// The window as a PNG.
    pub async fn screenshot(&self) -> Vec<u8> {
        use base64::Engine;
        let value = self.call(reqwest::Method::GET, "/screenshot", None).await;
        base64::engine::general_purpose::STANDARD
            .decode(value.as_str().expect("a base64 screenshot"))
            .unwrap()
    }

    /// Ends the session (WebKitWebDriver closes the app).
    pub async fn end(self) {
        let _ = self.http.delete(&self.base).send().await;
    }
}

impl Element {
    pub fn arg(&self) -> Value {
        json!({ ELEMENT: self.0 })
    }
}
