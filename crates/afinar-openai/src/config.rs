//! Where to send requests and how: provider, base URL, key, headers, retries.

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use crate::Error;

/// The OpenAI API's default base URL.
pub const OPENAI_BASE_URL: &str = "https://api.openai.com/v1";

/// Files larger than this go through the Uploads API in parts (the Files API takes up to
/// 512 MB).
pub const UPLOAD_THRESHOLD: u64 = 512 * 1024 * 1024;

/// The Uploads API's part size: 64 MB, its maximum.
pub const PART_SIZE: usize = 64 * 1024 * 1024;

/// Together AI's default base URL.
pub const TOGETHER_BASE_URL: &str = "https://api.together.xyz/v1";

/// Fireworks AI's default base URL.
pub const FIREWORKS_BASE_URL: &str = "https://api.fireworks.ai";

/// Together takes one `PUT` up to 5 GiB; above, its client switches to a multipart flow
/// afinar does not implement (the file is refused before anything is sent).
pub const TOGETHER_SINGLE_MAX: u64 = 5 * 1024 * 1024 * 1024;

/// Fireworks' `:upload` takes files under 150 MB; larger ones go to a signed URL.
pub const FIREWORKS_DIRECT_MAX: u64 = 150 * 1024 * 1024;

/// An API key. It prints as `[redacted]` in `Debug`, and has no `Display`: the only way
/// out is [`ApiKey::expose`], used when setting the request header.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn new(key: impl Into<String>) -> ApiKey {
        ApiKey(key.into())
    }

    /// The key itself: for the request header, and for scrubbing it out of messages.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey([redacted])")
    }
}

/// Which service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Provider {
    OpenAi,
    Azure,
    /// Together AI: its own files and fine-tunes API (`/files` with a signed `PUT`,
    /// `/fine-tunes`).
    Together,
    /// Fireworks AI: datasets and supervised fine-tuning jobs under
    /// `/v1/accounts/{account}/…`.
    Fireworks,
}

impl Provider {
    pub fn name(self) -> &'static str {
        match self {
            Provider::OpenAi => "OpenAI",
            Provider::Azure => "Azure OpenAI",
            Provider::Together => "Together AI",
            Provider::Fireworks => "Fireworks AI",
        }
    }

    /// The name on the command line and in pipeline files (`--provider together`).
    pub fn flag(self) -> &'static str {
        match self {
            Provider::OpenAi => "openai",
            Provider::Azure => "azure",
            Provider::Together => "together",
            Provider::Fireworks => "fireworks",
        }
    }

    /// The environment variable holding this provider's key.
    pub fn key_var(self) -> &'static str {
        match self {
            Provider::OpenAi => "OPENAI_API_KEY",
            Provider::Azure => "AZURE_OPENAI_API_KEY",
            Provider::Together => "TOGETHER_API_KEY",
            Provider::Fireworks => "FIREWORKS_API_KEY",
        }
    }

    /// True for the services that speak OpenAI's files and fine-tuning API.
    pub fn is_openai_compatible(self) -> bool {
        matches!(self, Provider::OpenAi | Provider::Azure)
    }
}

/// Retry policy, after the official SDKs: 2 retries, 0.5 s doubling to 8 s with up to
/// 25 % jitter, a server's `Retry-After`/`retry-after-ms` honoured when 0 < wait ≤ 60 s.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Retries after the first try (so `max_retries + 1` tries in all).
    pub max_retries: u32,
    /// The first backoff delay.
    pub base_delay: Duration,
    /// The longest backoff delay.
    pub max_delay: Duration,
    /// The longest wait a server may ask for; longer asks fall back to backoff.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 2,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

/// Everything the client needs. `Debug` never shows the key.
#[derive(Debug, Clone)]
pub struct Config {
    pub provider: Provider,
    /// For OpenAI the API root (`https://api.openai.com/v1`); for Azure the resource
    /// endpoint (`https://NAME.openai.azure.com`).
    pub base_url: String,
    pub key: ApiKey,
    /// Azure only: `Some` uses the dated path `{endpoint}/openai/…?api-version=…`,
    /// `None` the v1 path `{endpoint}/openai/v1/…`.
    pub api_version: Option<String>,
    /// `OpenAI-Organization` header.
    pub organization: Option<String>,
    /// `OpenAI-Project` header.
    pub project: Option<String>,
    /// Fireworks only: the account every path is under (`FIREWORKS_ACCOUNT_ID`).
    pub account: Option<String>,
    pub retry: RetryPolicy,
    /// Time allowed to connect.
    pub connect_timeout: Duration,
    /// Time allowed for the answer to come, and again to read it (sending a body has
    /// no overall limit, only a stall limit).
    pub request_timeout: Duration,
    /// Files above this size use the Uploads API.
    pub upload_threshold: u64,
    /// Part size for the Uploads API.
    pub part_size: usize,
    /// Between polls of a dataset that is not ready yet (Fireworks).
    pub poll_interval: Duration,
}

impl Config {
    pub fn openai(key: impl Into<String>) -> Config {
        Config::new(
            Provider::OpenAi,
            OPENAI_BASE_URL.to_owned(),
            ApiKey::new(key),
        )
    }

    /// Azure OpenAI at `endpoint` (`https://NAME.openai.azure.com`); the v1 path unless
    /// `api_version` is set.
    pub fn azure(endpoint: &str, key: impl Into<String>, api_version: Option<String>) -> Config {
        let mut config = Config::new(Provider::Azure, azure_root(endpoint), ApiKey::new(key));
        config.api_version = api_version;
        config
    }

    /// Together AI at its default base URL.
    pub fn together(key: impl Into<String>) -> Config {
        let mut config = Config::new(
            Provider::Together,
            TOGETHER_BASE_URL.to_owned(),
            ApiKey::new(key),
        );
        config.upload_threshold = TOGETHER_SINGLE_MAX;
        config
    }

    /// Fireworks AI at its default base URL, for `account`.
    pub fn fireworks(key: impl Into<String>, account: impl Into<String>) -> Config {
        let mut config = Config::new(
            Provider::Fireworks,
            FIREWORKS_BASE_URL.to_owned(),
            ApiKey::new(key),
        );
        config.account = Some(account.into());
        config.upload_threshold = FIREWORKS_DIRECT_MAX;
        config
    }

    fn new(provider: Provider, base_url: String, key: ApiKey) -> Config {
        Config {
            provider,
            base_url,
            key,
            api_version: None,
            organization: None,
            project: None,
            account: None,
            retry: RetryPolicy::default(),
            connect_timeout: Duration::from_secs(30),
            request_timeout: Duration::from_secs(600),
            upload_threshold: UPLOAD_THRESHOLD,
            part_size: PART_SIZE,
            poll_interval: Duration::from_secs(2),
        }
    }

    /// Reads the environment. With `provider` `None`, OpenAI when `OPENAI_API_KEY` is set,
    /// else Azure when `AZURE_OPENAI_ENDPOINT` is.
    ///
    /// OpenAI: `OPENAI_API_KEY`, `OPENAI_BASE_URL`, `OPENAI_ORG_ID` (or
    /// `OPENAI_ORGANIZATION`), `OPENAI_PROJECT_ID`. Azure: `AZURE_OPENAI_ENDPOINT`,
    /// `AZURE_OPENAI_API_KEY`, `AZURE_OPENAI_API_VERSION` (or `OPENAI_API_VERSION`) for the
    /// dated path. Together: `TOGETHER_API_KEY`, `TOGETHER_BASE_URL`. Fireworks:
    /// `FIREWORKS_API_KEY`, `FIREWORKS_ACCOUNT_ID`, `FIREWORKS_BASE_URL`. All:
    /// `AFINAR_MAX_RETRIES`, `AFINAR_RETRY_BASE_MS`.
    pub fn from_env(provider: Option<Provider>) -> Result<Config, Error> {
        Config::from_vars(provider, |name| std::env::var(name).ok())
    }

    /// The environment's settings for `provider` when they are complete, else its
    /// defaults with no key: for showing requests (`--dry-run`), never for sending them.
    pub fn for_display(provider: Provider) -> Config {
        if let Ok(config) = Config::from_env(Some(provider)) {
            return config;
        }
        let var = |name: &str| {
            std::env::var(name)
                .ok()
                .map(|v| v.trim().trim_end_matches('/').to_owned())
                .filter(|v| !v.is_empty())
        };
        let mut config = match provider {
            Provider::OpenAi => Config::openai(""),
            Provider::Azure => Config::azure(
                &var("AZURE_OPENAI_ENDPOINT")
                    .unwrap_or_else(|| "https://NAME.openai.azure.com".into()),
                "",
                var("AZURE_OPENAI_API_VERSION"),
            ),
            Provider::Together => Config::together(""),
            Provider::Fireworks => Config::fireworks(
                "",
                var("FIREWORKS_ACCOUNT_ID").unwrap_or_else(|| "ACCOUNT_ID".into()),
            ),
        };
        let base = match provider {
            Provider::OpenAi => var("OPENAI_BASE_URL"),
            Provider::Together => var("TOGETHER_BASE_URL"),
            Provider::Fireworks => var("FIREWORKS_BASE_URL"),
            Provider::Azure => None,
        };
        if let Some(base) = base {
            config.base_url = base;
        }
        config
    }

    /// [`Config::from_env`] with the variables from `var` (for tests).
    pub fn from_vars(
        provider: Option<Provider>,
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, Error> {
        let get = |name: &str| {
            var(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let provider = match provider {
            Some(p) => p,
            None if get("OPENAI_API_KEY").is_some() => Provider::OpenAi,
            None if get("AZURE_OPENAI_ENDPOINT").is_some() => Provider::Azure,
            None => {
                return Err(Error::MissingCredentials {
                    provider: "OpenAI or Azure OpenAI",
                    hint: "`OPENAI_API_KEY` (OpenAI) or `AZURE_OPENAI_ENDPOINT` and \
                           `AZURE_OPENAI_API_KEY` (Azure OpenAI)",
                });
            }
        };
        let mut config = match provider {
            Provider::OpenAi => {
                let key = get("OPENAI_API_KEY").ok_or(Error::MissingCredentials {
                    provider: "OpenAI",
                    hint: "`OPENAI_API_KEY`",
                })?;
                let mut config = Config::openai(key);
                if let Some(url) = get("OPENAI_BASE_URL") {
                    config.base_url = url.trim_end_matches('/').to_owned();
                }
                config.organization = get("OPENAI_ORG_ID").or_else(|| get("OPENAI_ORGANIZATION"));
                config.project = get("OPENAI_PROJECT_ID");
                config
            }
            Provider::Azure => {
                let endpoint = get("AZURE_OPENAI_ENDPOINT").ok_or(Error::MissingCredentials {
                    provider: "Azure OpenAI",
                    hint: "`AZURE_OPENAI_ENDPOINT` (like `https://NAME.openai.azure.com`)",
                })?;
                let key = get("AZURE_OPENAI_API_KEY").ok_or(Error::MissingCredentials {
                    provider: "Azure OpenAI",
                    hint: "`AZURE_OPENAI_API_KEY`",
                })?;
                let version = get("AZURE_OPENAI_API_VERSION").or_else(|| get("OPENAI_API_VERSION"));
                Config::azure(&endpoint, key, version)
            }
            Provider::Together => {
                let key = get("TOGETHER_API_KEY").ok_or(Error::MissingCredentials {
                    provider: "Together AI",
                    hint: "`TOGETHER_API_KEY`",
                })?;
                let mut config = Config::together(key);
                if let Some(url) = get("TOGETHER_BASE_URL") {
                    config.base_url = url.trim_end_matches('/').to_owned();
                }
                config
            }
            Provider::Fireworks => {
                let key = get("FIREWORKS_API_KEY").ok_or(Error::MissingCredentials {
                    provider: "Fireworks AI",
                    hint: "`FIREWORKS_API_KEY`",
                })?;
                let account = get("FIREWORKS_ACCOUNT_ID").ok_or(Error::MissingCredentials {
                    provider: "Fireworks AI",
                    hint: "`FIREWORKS_ACCOUNT_ID` (your account id, as in `accounts/ID` on fireworks.ai)",
                })?;
                let mut config = Config::fireworks(key, account);
                if let Some(url) = get("FIREWORKS_BASE_URL") {
                    config.base_url = url.trim_end_matches('/').to_owned();
                }
                config
            }
        };
        if let Some(n) = get("AFINAR_MAX_RETRIES") {
            config.retry.max_retries = n.parse().map_err(|_| Error::Config {
                message: format!("`AFINAR_MAX_RETRIES` is `{n}`, not a whole number"),
            })?;
        }
        if let Some(ms) = get("AFINAR_RETRY_BASE_MS") {
            let ms: u64 = ms.parse().map_err(|_| Error::Config {
                message: format!("`AFINAR_RETRY_BASE_MS` is `{ms}`, not a whole number"),
            })?;
            config.retry.base_delay = Duration::from_millis(ms);
            config.retry.max_delay = config.retry.max_delay.max(config.retry.base_delay);
        }
        Ok(config)
    }

    /// The full URL of `path` (`/files`, `/fine_tuning/jobs/…`) with `query`.
    pub fn url(&self, path: &str, query: &[(&str, &str)]) -> String {
        let mut url = match (self.provider, &self.api_version) {
            (Provider::OpenAi | Provider::Together | Provider::Fireworks, _) => {
                format!("{}{path}", self.base_url)
            }
            (Provider::Azure, None) => format!("{}/openai/v1{path}", self.base_url),
            (Provider::Azure, Some(_)) => format!("{}/openai{path}", self.base_url),
        };
        let mut pairs: Vec<(&str, &str)> = query.to_vec();
        if let (Provider::Azure, Some(version)) = (self.provider, &self.api_version) {
            pairs.push(("api-version", version));
        }
        for (i, (k, v)) in pairs.iter().enumerate() {
            url.push(if i == 0 { '?' } else { '&' });
            url.push_str(&encode_segment(k));
            url.push('=');
            url.push_str(&encode_segment(v));
        }
        url
    }

    /// Fireworks: `/v1/accounts/{account}{tail}` (the account percent-encoded).
    pub fn account_path(&self, tail: &str) -> String {
        let account = self.account.as_deref().unwrap_or("ACCOUNT_ID");
        format!("/v1/accounts/{}{tail}", encode_segment(account))
    }

    /// Refuses a base URL that would send the key in clear text to another machine.
    pub fn check_transport(&self) -> Result<(), Error> {
        check_url(&self.base_url)
    }
}

/// `https://NAME.openai.azure.com/openai/v1/` → `https://NAME.openai.azure.com`: people
/// paste the endpoint with or without the API path.
fn azure_root(endpoint: &str) -> String {
    let mut root = endpoint.trim().trim_end_matches('/');
    for tail in ["/openai/v1", "/openai"] {
        if let Some(stripped) = root.strip_suffix(tail) {
            root = stripped;
            break;
        }
    }
    root.to_owned()
}

/// https anywhere; http only to loopback.
pub fn check_url(url: &str) -> Result<(), Error> {
    let lower = url.to_ascii_lowercase();
    if lower.starts_with("https://") {
        return Ok(());
    }
    let Some(rest) = lower.strip_prefix("http://") else {
        return Err(Error::BadUrl {
            url: url.to_owned(),
        });
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    let host = if let Some(v6) = host_port.strip_prefix('[') {
        v6.split(']').next().unwrap_or_default()
    } else {
        host_port.split(':').next().unwrap_or_default()
    };
    let loopback = host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    if loopback {
        Ok(())
    } else {
        Err(Error::InsecureUrl {
            url: url.to_owned(),
        })
    }
}

/// Percent-encodes a query component (RFC 3986 unreserved characters pass).
pub(crate) fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        }
    }

    #[test]
    fn debug_never_shows_the_key() {
        let config = Config::openai("sk-proj-SECRET123");
        let text = format!("{config:?} {:?}", config.key);
        assert!(!text.contains("SECRET123"), "{text}");
        assert!(text.contains("[redacted]"));
    }

    #[test]
    fn openai_from_env() {
        let config = Config::from_vars(
            None,
            vars(&[
                ("OPENAI_API_KEY", "sk-1"),
                ("OPENAI_BASE_URL", "http://127.0.0.1:9/v1/"),
                ("OPENAI_ORGANIZATION", "org-9"),
                ("OPENAI_PROJECT_ID", "proj_7"),
                ("AFINAR_RETRY_BASE_MS", "1"),
            ]),
        )
        .unwrap();
        assert_eq!(config.provider, Provider::OpenAi);
        assert_eq!(config.url("/files", &[]), "http://127.0.0.1:9/v1/files");
        assert_eq!(config.organization.as_deref(), Some("org-9"));
        assert_eq!(config.project.as_deref(), Some("proj_7"));
        assert_eq!(config.retry.base_delay, Duration::from_millis(1));
    }

    #[test]
    fn azure_paths() {
        let v1 = Config::azure("https://x.openai.azure.com/openai/v1/", "k", None);
        assert_eq!(
            v1.url("/fine_tuning/jobs", &[("limit", "5")]),
            "https://x.openai.azure.com/openai/v1/fine_tuning/jobs?limit=5"
        );
        let dated = Config::azure(
            "https://x.openai.azure.com/",
            "k",
            Some("2024-10-21".into()),
        );
        assert_eq!(
            dated.url("/fine_tuning/jobs", &[("after", "ftjob 1")]),
            "https://x.openai.azure.com/openai/fine_tuning/jobs?after=ftjob%201&api-version=2024-10-21"
        );
        let picked = Config::from_vars(
            None,
            vars(&[
                ("AZURE_OPENAI_ENDPOINT", "https://y.openai.azure.com"),
                ("AZURE_OPENAI_API_KEY", "k"),
            ]),
        )
        .unwrap();
        assert_eq!(picked.provider, Provider::Azure);
    }

    #[test]
    fn together_and_fireworks_from_env() {
        let together = Config::from_vars(
            Some(Provider::Together),
            vars(&[
                ("TOGETHER_API_KEY", "tk"),
                ("TOGETHER_BASE_URL", "http://127.0.0.1:9/v1/"),
            ]),
        )
        .unwrap();
        assert_eq!(together.url("/files", &[]), "http://127.0.0.1:9/v1/files");
        let default = Config::from_vars(
            Some(Provider::Together),
            vars(&[("TOGETHER_API_KEY", "tk")]),
        )
        .unwrap();
        assert_eq!(
            default.url("/fine-tunes", &[]),
            "https://api.together.xyz/v1/fine-tunes"
        );
        let fireworks = Config::from_vars(
            Some(Provider::Fireworks),
            vars(&[
                ("FIREWORKS_API_KEY", "fk"),
                ("FIREWORKS_ACCOUNT_ID", "contabil"),
            ]),
        )
        .unwrap();
        assert_eq!(
            fireworks.url(&fireworks.account_path("/datasets"), &[]),
            "https://api.fireworks.ai/v1/accounts/contabil/datasets"
        );
        let err = Config::from_vars(
            Some(Provider::Fireworks),
            vars(&[("FIREWORKS_API_KEY", "fk")]),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("`FIREWORKS_ACCOUNT_ID`"), "{err}");
        let err = Config::from_vars(Some(Provider::Together), vars(&[]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("`TOGETHER_API_KEY`"), "{err}");
    }

    #[test]
    fn missing_credentials_name_the_variables() {
        let err = Config::from_vars(None, vars(&[])).unwrap_err().to_string();
        assert!(
            err.contains("`OPENAI_API_KEY`") && err.contains("`AZURE_OPENAI_ENDPOINT`"),
            "{err}"
        );
        let err = Config::from_vars(
            Some(Provider::Azure),
            vars(&[("AZURE_OPENAI_ENDPOINT", "https://y.openai.azure.com")]),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("`AZURE_OPENAI_API_KEY`"), "{err}");
    }

    #[test]
    fn plain_http_only_to_loopback() {
        for ok in [
            "https://api.openai.com/v1",
            "http://127.0.0.1:8080/v1",
            "http://localhost/v1",
            "http://[::1]:99/v1",
            "http://127.0.0.2",
            "HTTP://LOCALHOST:1",
        ] {
            assert!(check_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://api.openai.com/v1",
            "http://10.0.0.1/v1",
            "http://localhost.evil.com/",
        ] {
            assert!(
                matches!(check_url(bad), Err(Error::InsecureUrl { .. })),
                "{bad}"
            );
        }
        assert!(matches!(check_url("ftp://x"), Err(Error::BadUrl { .. })));
        assert!(matches!(
            check_url("http://user@evil.com:1"),
            Err(Error::InsecureUrl { .. })
        ));
    }
}
