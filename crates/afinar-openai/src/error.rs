use std::fmt;
use std::path::PathBuf;

/// Everything that can go wrong talking to the service.
///
/// [`Error::is_remote`] tells a remote failure (the CLI exits 3) from a local one (bad
/// configuration or an unreadable file; the CLI exits 2). No variant ever holds the key:
/// the service's own messages are scrubbed of it before they are stored.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No key (or endpoint) in the environment.
    #[error("No credentials for {provider}: set {hint}")]
    MissingCredentials {
        provider: &'static str,
        hint: &'static str,
    },

    /// A configuration value that cannot work (an unknown provider, an empty endpoint).
    #[error("{message}")]
    Config { message: String },

    /// A base URL that is not http(s), or plain http to somewhere other than loopback.
    #[error(
        "Refusing `{url}`: the key would travel unencrypted; use https (plain http is \
         allowed only to 127.0.0.1, ::1 and localhost)"
    )]
    InsecureUrl { url: String },

    /// Not an http(s) URL at all.
    #[error("`{url}` is not an http(s) URL; set it like `https://api.openai.com/v1`")]
    BadUrl { url: String },

    /// The service answered with a status outside 2xx (after any retries).
    #[error("{0}")]
    Api(Box<ApiError>),

    /// The request never got an answer: connection refused, DNS, TLS, timeout.
    #[error("{what}: could not reach the service after {attempts} {}", tries(*attempts))]
    Transport {
        what: String,
        attempts: u32,
        #[source]
        source: Box<ureq::Error>,
    },

    /// The service answered 2xx with a body that is not what the endpoint returns.
    #[error("{what}: the service's answer is not the JSON expected")]
    Decode {
        what: String,
        #[source]
        source: serde_json::Error,
    },

    /// Something this provider's API has no way to do (e.g. cancelling a Fireworks job),
    /// or a file afinar will not send it (over Together's 5 GiB single upload).
    #[error("{provider} {message}")]
    Unsupported {
        provider: &'static str,
        message: String,
    },

    /// A provider's dataset never became ready, or ended in a state that is not ready.
    #[error("{what}: {message}")]
    NotReady { what: String, message: String },

    /// Writing progress (events, metrics) failed.
    #[error("Could not write the job's progress")]
    Output {
        #[source]
        source: std::io::Error,
    },

    /// A local file could not be read.
    #[error("Could not read `{}`", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

fn tries(n: u32) -> &'static str {
    if n == 1 { "attempt" } else { "attempts" }
}

impl Error {
    /// True when the service (or the way to it) failed, as opposed to local configuration
    /// or files: the CLI's exit code 3.
    pub fn is_remote(&self) -> bool {
        matches!(
            self,
            Error::Api(_) | Error::Transport { .. } | Error::Decode { .. } | Error::NotReady { .. }
        )
    }

    /// A failure that may pass if tried again later (after the client's own retries):
    /// no connection, a timeout, 408, 409, 429 or 5xx.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Transport { .. } => true,
            Error::Api(e) => matches!(e.status, 408 | 409 | 429) || e.status >= 500,
            _ => false,
        }
    }

    /// The service's answer, when there was one.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Error::Api(e) => Some(e),
            _ => None,
        }
    }
}

/// A non-2xx answer, with the service's `error` object taken apart.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ApiError {
    /// What was being done, e.g. ``Uploading `train.jsonl` ``.
    pub what: String,
    pub status: u16,
    /// The service's message (scrubbed of the key), or the start of the body.
    pub message: String,
    pub code: Option<String>,
    pub param: Option<String>,
    /// The service's `error.type`.
    pub kind: Option<String>,
    /// `x-request-id` / `apim-request-id`, worth quoting to support.
    pub request_id: Option<String>,
    pub attempts: u32,
    /// What to do about it, when we know.
    pub hint: Option<&'static str>,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: the service answered {}", self.what, self.status)?;
        if let Some(reason) = reason(self.status) {
            write!(f, " {reason}")?;
        }
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        let mut details = Vec::new();
        if let Some(code) = &self.code {
            details.push(format!("code `{code}`"));
        }
        if let Some(param) = &self.param {
            details.push(format!("param `{param}`"));
        }
        if let Some(id) = &self.request_id {
            details.push(format!("request `{id}`"));
        }
        if self.attempts > 1 {
            details.push(format!("after {} attempts", self.attempts));
        }
        if !details.is_empty() {
            write!(f, " ({})", details.join(", "))?;
        }
        if let Some(hint) = self.hint {
            write!(f, "; {hint}")?;
        }
        Ok(())
    }
}

fn reason(status: u16) -> Option<&'static str> {
    Some(match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        408 => "Request Timeout",
        409 => "Conflict",
        413 => "Payload Too Large",
        415 => "Unsupported Media Type",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => return None,
    })
}
