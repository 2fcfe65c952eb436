//! One request with retries, the way the official SDKs do it.

use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::time::{Duration, SystemTime};

use serde_json::Value;

use crate::config::{Config, Provider, RetryPolicy};
use crate::error::{ApiError, Error};

/// Answers larger than this are cut (every answer of this API is a small JSON object).
const MAX_ANSWER: u64 = 32 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Get,
    Post,
    Put,
}

#[derive(Debug)]
pub(crate) enum Body<'a> {
    Empty,
    Json(Vec<u8>),
    /// (content type with boundary, bytes)
    Multipart(String, &'a [u8]),
    /// `application/x-www-form-urlencoded`
    Form(Vec<u8>),
    /// A file streamed as the whole body (re-opened for each attempt), with its length.
    File(&'a Path, u64),
}

/// Who a request goes to: the service (with the key), or a signed storage URL the
/// service handed out (never with the key: the URL itself is the permission).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Auth {
    Service,
    Signed,
}

/// A 2xx (or, when asked for, 3xx) answer.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) headers: Headers,
    pub(crate) body: Vec<u8>,
}

#[derive(Debug)]
pub(crate) struct Transport {
    agent: ureq::Agent,
    pub(crate) config: Config,
}

impl Transport {
    pub(crate) fn new(config: Config) -> Result<Transport, Error> {
        config.check_transport()?;
        let mut builder = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .user_agent(concat!("afinar/", env!("CARGO_PKG_VERSION")))
            .timeout_connect(Some(config.connect_timeout))
            // No overall limit: a 512 MB upload on a slow line takes long. A stalled
            // write, or an answer that never comes, is a timeout (and retried).
            .timeout_per_write(Some(Duration::from_secs(120)))
            .timeout_recv_response(Some(config.request_timeout))
            .timeout_recv_body(Some(config.request_timeout))
            // The SDKs don't follow redirects for POST bodies either; a redirect here means
            // a wrong base URL, better reported than followed with the key.
            .max_redirects(0)
            .max_redirects_will_error(false);
        // `check_transport` allows plain http only to loopback.
        if is_loopback(&config.base_url) {
            // A test server or local gateway: never through a proxy from the environment.
            builder = builder.proxy(None);
        }
        let agent = builder.build().new_agent();
        Ok(Transport { agent, config })
    }

    /// Sends with retries; returns the body of a 2xx answer.
    pub(crate) fn send(
        &self,
        method: Method,
        url: &str,
        body: &Body<'_>,
        what: &dyn Fn() -> String,
    ) -> Result<Vec<u8>, Error> {
        Ok(self
            .exchange(method, url, body, Auth::Service, &[], false, what)?
            .body)
    }

    /// [`Transport::send`] with every knob: to a signed URL without the key, extra
    /// headers, and (for Together's upload) a 3xx taken as the answer, not followed.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn exchange(
        &self,
        method: Method,
        url: &str,
        body: &Body<'_>,
        auth: Auth,
        extra: &[(&str, String)],
        redirect_ok: bool,
        what: &dyn Fn() -> String,
    ) -> Result<Answer, Error> {
        if auth == Auth::Signed {
            // No key travels there, but the training data does.
            check_url_for_data(url)?;
        }
        let policy = &self.config.retry;
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            let last = attempt > policy.max_retries;
            match self.once(method, url, body, auth, extra) {
                Ok((status, headers, bytes)) => {
                    if (200..300).contains(&status) || (redirect_ok && (300..400).contains(&status))
                    {
                        return Ok(Answer {
                            status,
                            headers,
                            body: bytes,
                        });
                    }
                    if !last && should_retry(status, &headers) {
                        std::thread::sleep(delay(policy, attempt, &headers));
                        continue;
                    }
                    return Err(self.api_error(status, &headers, &bytes, attempt, what()));
                }
                Err(Failure::Local(source)) => return Err(source),
                Err(Failure::Http(source)) => {
                    if !last && transient(&source) {
                        std::thread::sleep(delay(policy, attempt, &Headers::default()));
                        continue;
                    }
                    return Err(Error::Transport {
                        what: what(),
                        attempts: attempt,
                        source: Box::new(source),
                    });
                }
            }
        }
    }

    fn once(
        &self,
        method: Method,
        url: &str,
        body: &Body<'_>,
        auth: Auth,
        extra: &[(&str, String)],
    ) -> Result<(u16, Headers, Vec<u8>), Failure> {
        let add = |mut req: ureq::RequestBuilder<ureq::typestate::WithBody>| {
            if auth == Auth::Service {
                req = self.headers(req);
            }
            for (k, v) in extra {
                req = req.header(*k, v.as_str());
            }
            req
        };
        let result = match method {
            Method::Get => {
                let mut req = self.agent.get(url);
                if auth == Auth::Service {
                    req = self.headers(req);
                }
                for (k, v) in extra {
                    req = req.header(*k, v.as_str());
                }
                req.call()
            }
            Method::Post | Method::Put => {
                let req = add(if method == Method::Put {
                    self.agent.put(url)
                } else {
                    self.agent.post(url)
                });
                match body {
                    Body::Empty => req.send_empty(),
                    Body::Json(bytes) => req
                        .header("Content-Type", "application/json")
                        .send(&bytes[..]),
                    Body::Multipart(content_type, bytes) => req
                        .header("Content-Type", content_type.as_str())
                        .send(*bytes),
                    Body::Form(bytes) => req
                        .header("Content-Type", "application/x-www-form-urlencoded")
                        .send(&bytes[..]),
                    Body::File(path, len) => {
                        let mut file = File::open(path).map_err(|source| {
                            Failure::Local(Error::Io {
                                path: path.to_path_buf(),
                                source,
                            })
                        })?;
                        // A length, not chunks: signed storage URLs want it.
                        req.header("Content-Length", len.to_string())
                            .send(ureq::SendBody::from_reader(&mut file))
                    }
                }
            }
        };
        let mut response = result.map_err(Failure::Http)?;
        let status = response.status().as_u16();
        let headers = Headers::from(response.headers());
        let mut bytes = Vec::new();
        response
            .body_mut()
            .as_reader()
            .take(MAX_ANSWER)
            .read_to_end(&mut bytes)
            .map_err(|e| Failure::Http(e.into()))?;
        Ok((status, headers, bytes))
    }

    fn headers<B>(&self, req: ureq::RequestBuilder<B>) -> ureq::RequestBuilder<B> {
        let c = &self.config;
        let mut req = req.header("Accept", "application/json");
        match c.provider {
            Provider::OpenAi => {
                // No key at all for a local OpenAI-compatible server (Ollama, vLLM).
                if !c.key.expose().is_empty() {
                    req = req.header("Authorization", format!("Bearer {}", c.key.expose()));
                }
                if let Some(org) = &c.organization {
                    req = req.header("OpenAI-Organization", org.as_str());
                }
                if let Some(project) = &c.project {
                    req = req.header("OpenAI-Project", project.as_str());
                }
            }
            Provider::Azure => req = req.header("api-key", c.key.expose()),
            Provider::Together | Provider::Fireworks => {
                req = req.header("Authorization", format!("Bearer {}", c.key.expose()));
            }
        }
        req
    }

    fn api_error(
        &self,
        status: u16,
        headers: &Headers,
        body: &[u8],
        attempts: u32,
        what: String,
    ) -> Error {
        let (message, code, param, kind) = parse_error_body(body);
        let scrub = |s: String| scrub(&s, self.config.key.expose());
        let hint = match status {
            401 => Some(match self.config.provider {
                Provider::OpenAi => "check the key in `OPENAI_API_KEY` (and `OPENAI_BASE_URL`)",
                Provider::Azure => "check `AZURE_OPENAI_API_KEY` and `AZURE_OPENAI_ENDPOINT`",
                Provider::Together => {
                    "check the key in `TOGETHER_API_KEY` (and `TOGETHER_BASE_URL`)"
                }
                Provider::Fireworks => "check `FIREWORKS_API_KEY` and `FIREWORKS_ACCOUNT_ID`",
            }),
            404 if self.config.provider == Provider::Azure => Some(
                "check `AZURE_OPENAI_ENDPOINT`; for the dated API set `AZURE_OPENAI_API_VERSION`",
            ),
            404 if self.config.provider == Provider::Fireworks => Some(
                "check `FIREWORKS_ACCOUNT_ID` and the model's name (`accounts/fireworks/models/…`)",
            ),
            429 => Some("the rate limit or quota was hit; wait and try again"),
            _ => None,
        };
        Error::Api(Box::new(ApiError {
            what,
            status,
            message: scrub(message),
            code: code.map(scrub),
            param: param.map(scrub),
            kind: kind.map(scrub),
            request_id: headers
                .get("x-request-id")
                .or_else(|| headers.get("apim-request-id")),
            attempts,
            hint,
        }))
    }
}

/// Why one try failed: no answer (maybe transient), or a local file (never retried).
#[derive(Debug)]
enum Failure {
    Http(ureq::Error),
    Local(Error),
}

/// Signed upload URLs: https, or plain http to loopback (a test server).
fn check_url_for_data(url: &str) -> Result<(), Error> {
    crate::config::check_url(url)
}

/// Removes the key from text the service sends back (some gateways echo it).
fn scrub(text: &str, key: &str) -> String {
    if key.len() < 4 {
        text.to_owned()
    } else {
        text.replace(key, "[redacted]")
    }
}

fn is_loopback(url: &str) -> bool {
    url.to_ascii_lowercase().starts_with("http://")
}

/// `{"error": {"message", "code", "param", "type"}}`, or whatever else came.
fn parse_error_body(body: &[u8]) -> (String, Option<String>, Option<String>, Option<String>) {
    let text = String::from_utf8_lossy(body);
    let as_string = |v: Option<&Value>| match v {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.is_empty() => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => Some(other.to_string()),
    };
    if let Ok(value) = serde_json::from_str::<Value>(&text) {
        let err = value
            .get("error")
            .filter(|e| e.is_object())
            .unwrap_or(&value);
        let message = as_string(err.get("message"))
            .or_else(|| as_string(value.get("error")))
            .unwrap_or_default();
        return (
            message,
            as_string(err.get("code")),
            as_string(err.get("param")),
            as_string(err.get("type")),
        );
    }
    let trimmed = text.trim();
    let mut message: String = trimmed.chars().take(300).collect();
    if message.len() < trimmed.len() {
        message.push('…');
    }
    (message, None, None, None)
}

/// Lower-cased response headers.
#[derive(Debug, Default)]
pub(crate) struct Headers(Vec<(String, String)>);

impl Headers {
    pub(crate) fn get(&self, name: &str) -> Option<String> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }
}

impl From<&ureq::http::HeaderMap> for Headers {
    fn from(map: &ureq::http::HeaderMap) -> Headers {
        Headers(
            map.iter()
                .filter_map(|(k, v)| {
                    Some((k.as_str().to_ascii_lowercase(), v.to_str().ok()?.to_owned()))
                })
                .collect(),
        )
    }
}

/// 408, 409, 429 and 5xx, unless the server says `x-should-retry: false` (or says `true`).
fn should_retry(status: u16, headers: &Headers) -> bool {
    match headers.get("x-should-retry").as_deref() {
        Some("true") => return true,
        Some("false") => return false,
        _ => {}
    }
    matches!(status, 408 | 409 | 429) || status >= 500
}

/// Timeouts and connection failures; not TLS, bad URLs or protocol misuse by us.
fn transient(err: &ureq::Error) -> bool {
    matches!(
        err,
        ureq::Error::Io(_)
            | ureq::Error::Timeout(_)
            | ureq::Error::ConnectionFailed
            | ureq::Error::HostNotFound
            | ureq::Error::Protocol(_)
    )
}

/// The server's `retry-after-ms` / `Retry-After` when 0 < wait ≤ the cap, else
/// exponential backoff with up to 25 % jitter off.
fn delay(policy: &RetryPolicy, attempt: u32, headers: &Headers) -> Duration {
    if let Some(wait) = retry_after(headers, SystemTime::now())
        && !wait.is_zero()
        && wait <= policy.max_retry_after
    {
        return wait;
    }
    let exp = 2f64.powi(attempt.saturating_sub(1).min(30) as i32);
    let backoff = policy.base_delay.mul_f64(exp).min(policy.max_delay);
    backoff.mul_f64(1.0 - 0.25 * fastrand::f64())
}

fn retry_after(headers: &Headers, now: SystemTime) -> Option<Duration> {
    if let Some(ms) = headers
        .get("retry-after-ms")
        .and_then(|v| v.trim().parse::<f64>().ok())
        && ms.is_finite()
        && ms >= 0.0
    {
        return Some(Duration::from_secs_f64(ms / 1000.0));
    }
    let value = headers.get("retry-after")?;
    let value = value.trim();
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&str, &str)]) -> Headers {
        Headers(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn retry_after_forms() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_480);
        assert_eq!(
            retry_after(&h(&[("retry-after-ms", "250")]), now),
            Some(Duration::from_millis(250))
        );
        assert_eq!(
            retry_after(&h(&[("retry-after", "2")]), now),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            retry_after(&h(&[("retry-after", "Wed, 21 Oct 2015 07:28:10 GMT")]), now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(retry_after(&h(&[("retry-after", "soon")]), now), None);
        assert_eq!(retry_after(&h(&[]), now), None);
    }

    #[test]
    fn delays() {
        let policy = RetryPolicy::default();
        // A server's ask within the cap is honoured exactly.
        assert_eq!(
            delay(&policy, 1, &h(&[("retry-after", "3")])),
            Duration::from_secs(3)
        );
        // Over the cap (or zero): backoff instead, 0.5 s · 2^(n-1) less up to 25 %.
        for (attempt, full) in [(1, 500), (2, 1000), (3, 2000), (10, 8000)] {
            let d = delay(&policy, attempt, &h(&[("retry-after", "120")])).as_millis();
            assert!(d <= full && d >= full * 3 / 4, "attempt {attempt}: {d} ms");
        }
        let d = delay(&policy, 1, &h(&[("retry-after", "0")])).as_millis();
        assert!((375..=500).contains(&d), "{d}");
    }

    #[test]
    fn what_is_retried() {
        for s in [408, 409, 429, 500, 502, 503, 504] {
            assert!(should_retry(s, &h(&[])), "{s}");
        }
        for s in [400, 401, 403, 404, 422] {
            assert!(!should_retry(s, &h(&[])), "{s}");
        }
        assert!(!should_retry(503, &h(&[("x-should-retry", "false")])));
        assert!(should_retry(400, &h(&[("x-should-retry", "true")])));
    }

    #[test]
    fn error_bodies() {
        let (m, c, p, t) = parse_error_body(
            br#"{"error":{"message":"Invalid file","type":"invalid_request_error","param":"training_file","code":"invalid_file"}}"#,
        );
        assert_eq!(m, "Invalid file");
        assert_eq!(c.as_deref(), Some("invalid_file"));
        assert_eq!(p.as_deref(), Some("training_file"));
        assert_eq!(t.as_deref(), Some("invalid_request_error"));
        // Azure sometimes sends numeric codes; proxies send HTML.
        let (m, c, _, _) = parse_error_body(br#"{"error":{"code":429,"message":"Slow down"}}"#);
        assert_eq!((m.as_str(), c.as_deref()), ("Slow down", Some("429")));
        let (m, c, _, _) = parse_error_body(b"<html>Bad gateway</html>");
        assert_eq!((m.as_str(), c), ("<html>Bad gateway</html>", None));
        let (m, _, _, _) = parse_error_body(br#"{"error":"quota exceeded"}"#);
        assert_eq!(m, "quota exceeded");
    }
}
