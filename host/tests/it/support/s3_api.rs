//! The S3-compatible endpoint of a real `tiered serve` as a test fixture:
//! [`Endpoint::start`] runs the binary with `[s3_api]` on a free port (and,
//! unless asked otherwise, one access key pair), learns the endpoint's
//! address from its `s3_api=...` log line, and hands out an `aws-sdk-s3`
//! client for it.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use aws_sdk_s3::Client;
use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};

use super::server::{Http, Server};

/// The key pair the endpoint is configured with.
pub const ACCESS_KEY: &str = "TIEREDTESTKEY";
pub const SECRET_KEY: &str = "tiered-test-secret-key/0123456789";
/// The bucket it serves.
pub const BUCKET: &str = "tiered-test";

/// A running `tiered serve` with its S3 endpoint.
#[derive(Debug)]
pub struct Endpoint {
    pub server: Server,
    /// The S3 endpoint's address.
    pub addr: SocketAddr,
    /// A raw HTTP client for the S3 endpoint.
    pub raw: Http,
    /// An `aws-sdk-s3` client signing with [`ACCESS_KEY`], path-style.
    pub s3: Client,
}

/// How the endpoint is configured.
#[derive(Debug, Clone, Copy)]
pub enum Auth {
    /// One key pair, [`ACCESS_KEY`] / [`SECRET_KEY`].
    Keys,
    /// No keys: unsigned requests only.
    Open,
}

impl Endpoint {
    /// Serve `data_dir` with `[s3_api]` and `config` (top-level keys only).
    pub async fn start(data_dir: &Path, config: &str, auth: Auth) -> Result<Endpoint> {
        Endpoint::start_with(data_dir, config, auth, "").await
    }

    /// [`Endpoint::start`] with more `[s3_api]` settings (`key = value` lines).
    pub async fn start_with(data_dir: &Path, config: &str, auth: Auth, s3_api: &str) -> Result<Endpoint> {
        let keys = match auth {
            Auth::Keys => format!("[[s3_api.access_keys]]\nid = {ACCESS_KEY:?}\nsecret = {SECRET_KEY:?}\n"),
            Auth::Open => String::new(),
        };
        let config = format!("{config}\n[s3_api]\nlisten = \"127.0.0.1:0\"\nbucket = {BUCKET:?}\n{s3_api}\n{keys}");
        let server = Server::start(data_dir, &config).await?;
        let addr = s3_addr(&server).await?;
        Ok(Endpoint { addr, raw: Http::new(addr), s3: client(addr, Some((ACCESS_KEY, SECRET_KEY))), server })
    }

    /// `http://IP:port`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// An `aws-sdk-s3` client for `addr`, path-style, signing with `keys`.
pub fn client(addr: SocketAddr, keys: Option<(&str, &str)>) -> Client {
    let (id, secret) = keys.unwrap_or(("", ""));
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(format!("http://{addr}"))
        .credentials_provider(Credentials::new(id, secret, None, None, "tiered-tests"))
        .force_path_style(true)
        .build();
    Client::from_conf(config)
}

/// The address in the server's `s3_api=...` log line (logged as the
/// endpoint starts serving, around the HTTP API's own line).
async fn s3_addr(server: &Server) -> Result<SocketAddr> {
    for _ in 0..600 {
        let log = server.log_text();
        if let Some(addr) = log.split("s3_api=").nth(1).and_then(|r| r.split_whitespace().next()) {
            return addr.parse().context("the s3_api= address");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("the server never logged its S3 endpoint:\n{}", server.log_text())
}

/// The `<Code>` of an S3 XML error body.
pub fn error_code(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    text.split("<Code>").nth(1).and_then(|r| r.split("</Code>").next()).unwrap_or_default().to_string()
}

/// The headers that sign `method` of `path` (and `headers`) sent to `host`
/// with [`ACCESS_KEY`] and `secret`, as the AWS SDKs sign a request: an
/// unsigned payload, every given header signed. `host` itself is left out
/// (the client sends it) unless `headers` names it.
pub fn signed(
    method: &str,
    host: &str,
    path: &str,
    headers: &[(&str, &str)],
    secret: &str,
) -> Result<Vec<(String, String)>> {
    signed_at(method, host, path, headers, secret, std::time::SystemTime::now())
}

/// [`signed`] as if at `at`.
pub fn signed_at(
    method: &str,
    host: &str,
    path: &str,
    headers: &[(&str, &str)],
    secret: &str,
    at: std::time::SystemTime,
) -> Result<Vec<(String, String)>> {
    use aws_sigv4::http_request::{
        PercentEncodingMode, SignableBody, SignableRequest, SigningSettings, UriPathNormalizationMode, sign,
    };
    let named = headers.iter().find(|(name, _)| name.eq_ignore_ascii_case("host")).map(|(_, value)| *value);
    let host = named.unwrap_or(host);
    let mut all: Vec<(&str, &str)> = vec![("x-amz-content-sha256", "UNSIGNED-PAYLOAD"), ("host", host)];
    all.extend(headers.iter().filter(|(name, _)| !name.eq_ignore_ascii_case("host")));
    let identity = aws_credential_types::Credentials::new(ACCESS_KEY, secret, None, None, "tiered-tests").into();
    let mut settings = SigningSettings::default();
    settings.percent_encoding_mode = PercentEncodingMode::Single;
    settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("s3")
        .time(at)
        .settings(settings)
        .build()?
        .into();
    let uri = format!("http://{host}{path}");
    let signable = SignableRequest::new(method, &uri, all.iter().copied(), SignableBody::UnsignedPayload)?;
    let (instructions, _) = sign(signable, &params)?.into_parts();
    let sent = all.iter().filter(|(name, _)| *name != "host" || named.is_some());
    let mut out: Vec<(String, String)> = sent.map(|(n, v)| (n.to_string(), v.to_string())).collect();
    out.extend(instructions.headers().map(|(n, v)| (n.to_string(), v.to_string())));
    Ok(out)
}

/// The endpoint's responses counted so far that took `path` (`direct` or
/// `s3s`), from `/metrics` on the HTTP API.
pub async fn responses(endpoint: &Endpoint, path: &str) -> Result<u64> {
    let metrics = endpoint.server.http.get("/metrics").await?;
    let text = String::from_utf8_lossy(&metrics.body);
    let label = format!("path=\"{path}\"");
    let series = text.lines().filter(|l| l.starts_with("tiered_s3_api_responses_total{") && l.contains(&label));
    Ok(series.filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok()).sum::<f64>() as u64)
}
