//! A scripted HTTP/1.1 server on 127.0.0.1, for tests of this crate and of the CLI.
//!
//! Each connection carries one request; the handler decides the answer and every request
//! is recorded, so a test can assert on the method, path, headers and body afterwards (and
//! that no request came at all). Not for production use.
//!
//! ```
//! use afinar_openai::testing::{MockServer, Reply};
//! use afinar_openai::{Client, Config};
//!
//! let server = MockServer::start(|req| match req.path() {
//!     "/v1/fine_tuning/jobs/ftjob-1" => Reply::json(200, &serde_json::json!({"id": "ftjob-1", "status": "running"})),
//!     _ => Reply::json(404, &serde_json::json!({"error": {"message": "No such path"}})),
//! })
//! .unwrap();
//! let mut config = Config::openai("sk-test");
//! config.base_url = format!("{}/v1", server.url());
//! let job = Client::new(config).unwrap().retrieve_job("ftjob-1").unwrap();
//! assert_eq!(job.status.as_str(), "running");
//! assert_eq!(server.requests()[0].header("authorization"), Some("Bearer sk-test"));
//! ```

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::Value;

mod services;
pub use services::{Outcome, Service, ServiceLog, Uploaded};

/// A request as the server saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
    /// Names lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }

    /// A query parameter's raw (still percent-encoded) value.
    pub fn query(&self, name: &str) -> Option<&str> {
        let (_, query) = self.target.split_once('?')?;
        query.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (k == name).then_some(v)
        })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The parts of a `multipart/form-data` body.
    pub fn multipart(&self) -> Option<Vec<Part>> {
        let ct = self.header("content-type")?;
        let boundary = ct.split("boundary=").nth(1)?.trim_matches('"');
        let delimiter = format!("--{boundary}");
        let mut parts = Vec::new();
        let body = &self.body;
        let positions: Vec<usize> = find_all(body, delimiter.as_bytes());
        for pair in positions.windows(2) {
            let chunk = &body[pair[0] + delimiter.len()..pair[1]];
            let chunk = chunk.strip_prefix(b"\r\n")?;
            let split = find_all(chunk, b"\r\n\r\n").first().copied()?;
            let head = String::from_utf8_lossy(&chunk[..split]).into_owned();
            let content = chunk[split + 4..].strip_suffix(b"\r\n")?.to_vec();
            let attr = |key: &str| {
                let pat = format!("{key}=\"");
                let start = head.find(&pat)? + pat.len();
                let end = head[start..].find('"')? + start;
                Some(head[start..end].to_owned())
            };
            parts.push(Part {
                name: attr("name")?,
                filename: attr("filename"),
                content,
            });
        }
        Some(parts)
    }
}

/// One part of a multipart body.
#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    pub name: String,
    pub filename: Option<String>,
    pub content: Vec<u8>,
}

fn find_all(hay: &[u8], needle: &[u8]) -> Vec<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return Vec::new();
    }
    (0..=hay.len() - needle.len())
        .filter(|&i| &hay[i..i + needle.len()] == needle)
        .collect()
}

/// The server's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(status: u16, value: &Value) -> Reply {
        Reply {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: value.to_string().into_bytes(),
        }
    }

    pub fn text(status: u16, text: &str) -> Reply {
        Reply {
            status,
            headers: vec![("Content-Type".into(), "text/plain".into())],
            body: text.as_bytes().to_vec(),
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// The server; it stops when dropped.
#[derive(Debug)]
pub struct MockServer {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<Request>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl MockServer {
    /// Starts on a free port of 127.0.0.1; `handler` answers each request in turn.
    pub fn start<F>(handler: F) -> io::Result<MockServer>
    where
        F: FnMut(&Request) -> Reply + Send + 'static,
    {
        MockServer::serve(TcpListener::bind("127.0.0.1:0")?, handler)
    }

    fn serve<F>(listener: TcpListener, mut handler: F) -> io::Result<MockServer>
    where
        F: FnMut(&Request) -> Reply + Send + 'static,
    {
        let addr = listener.local_addr()?;
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (log, flag) = (Arc::clone(&requests), Arc::clone(&stop));
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if flag.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(mut stream) = stream else { continue };
                let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                let Ok(Some(request)) = read_request(&mut stream) else {
                    continue;
                };
                let reply = handler(&request);
                log.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(request);
                let _ = write_reply(&mut stream, &reply);
            }
        });
        Ok(MockServer {
            addr,
            requests,
            stop,
            thread: Some(thread),
        })
    }

    /// [`MockServer::start`] with a handler made knowing the server's own URL (for
    /// answers that point back at it: a redirect, a signed upload URL).
    pub fn start_with<F>(make: impl FnOnce(String) -> F) -> io::Result<MockServer>
    where
        F: FnMut(&Request) -> Reply + Send + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let url = format!("http://{}", listener.local_addr()?);
        MockServer::serve(listener, make(url))
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<Request> {
        self.requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn read_request(stream: &mut TcpStream) -> io::Result<Option<Request>> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let mut words = line.split_whitespace();
    let (Some(method), Some(target)) = (words.next(), words.next()) else {
        return Ok(None);
    };
    let (method, target) = (method.to_owned(), target.to_owned());
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 {
            break;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
        }
    }
    let get = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let mut body = Vec::new();
    if get("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size)?;
            let n = usize::from_str_radix(size.trim().split(';').next().unwrap_or("0"), 16)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            let mut chunk = vec![0; n + 2];
            reader.read_exact(&mut chunk)?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
    } else if let Some(n) = get("content-length").and_then(|v| v.parse::<usize>().ok()) {
        body.resize(n, 0);
        reader.read_exact(&mut body)?;
    }
    Ok(Some(Request {
        method,
        target,
        headers,
        body,
    }))
}

fn write_reply(stream: &mut TcpStream, reply: &Reply) -> io::Result<()> {
    let mut head = format!("HTTP/1.1 {} Mock\r\n", reply.status);
    for (k, v) in &reply.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        reply.body.len()
    ));
    stream.write_all(head.as_bytes())?;
    stream.write_all(&reply.body)?;
    stream.flush()
}

/// A Chat Completions answer as OpenAI sends it, with token counts of about one per four
/// characters (`prompt_chars` for the prompt).
pub fn chat_reply(model: &str, content: &str, prompt_chars: usize) -> Reply {
    Reply::json(
        200,
        &serde_json::json!({
            "id": "chatcmpl-mock", "object": "chat.completion", "created": 1_764_547_200,
            "model": model,
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": prompt_chars.div_ceil(4),
                      "completion_tokens": content.chars().count().div_ceil(4),
                      "total_tokens": prompt_chars.div_ceil(4) + content.chars().count().div_ceil(4)}
        }),
    )
}

/// A handler for [`MockServer::start`] that plays chat models: `POST …/chat/completions`
/// is answered by `answer(model, messages)`, a model it returns `None` for gets OpenAI's
/// 404 `model_not_found`, and any other request a 404.
///
/// ```
/// use afinar_openai::testing::{MockServer, chat_route};
/// use afinar_openai::{Client, Config};
///
/// let server = MockServer::start(chat_route(|model, _messages| {
///     (model == "eco").then(|| "Sim.".to_owned())
/// }))
/// .unwrap();
/// let mut config = Config::openai("sk-test");
/// config.base_url = format!("{}/v1", server.url());
/// let client = Client::new(config).unwrap();
/// let messages = serde_json::json!([{"role": "user", "content": "Pode?"}]);
/// let answer = client.chat_completion("eco", &messages, &Default::default()).unwrap();
/// assert_eq!(answer.content, "Sim.");
/// assert!(client.chat_completion("outro", &messages, &Default::default()).is_err());
/// ```
pub fn chat_route<F>(mut answer: F) -> impl FnMut(&Request) -> Reply + Send + 'static
where
    F: FnMut(&str, &Value) -> Option<String> + Send + 'static,
{
    move |req: &Request| {
        if req.method != "POST" || !req.path().ends_with("/chat/completions") {
            return Reply::json(
                404,
                &serde_json::json!({"error": {"message": "Unexpected request"}}),
            );
        }
        let body = req.json().unwrap_or(Value::Null);
        let model = body["model"].as_str().unwrap_or_default().to_owned();
        let messages = body["messages"].clone();
        let prompt_chars = messages
            .as_array()
            .map(|m| {
                m.iter()
                    .filter_map(|m| m["content"].as_str())
                    .map(|c| c.chars().count())
                    .sum()
            })
            .unwrap_or(0);
        match answer(&model, &messages) {
            Some(content) => chat_reply(&model, &content, prompt_chars),
            None => Reply::json(
                404,
                &serde_json::json!({"error": {
                    "message": format!("The model `{model}` does not exist or you do not have access to it."),
                    "type": "invalid_request_error", "code": "model_not_found"}}),
            ),
        }
    }
}
