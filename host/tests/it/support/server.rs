//! The real `tiered` binary as a test fixture: [`Server::start`] runs
//! `tiered serve --listen 127.0.0.1:0` on a data directory, learns the port
//! from the `listening addr=...` log line, waits for `/healthz`, and sends
//! requests with a plain HTTP/1.1 client. [`run_to_exit`] runs a command that
//! is expected to end (start-up failures, `policy check`).
//!
//! Compiled policies are cached in one directory for the whole test run, so
//! only the first server of a run pays for compiling the default component.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, Request, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// How long a server may take to log its address (the first start of a run
/// compiles the default policy).
const START_TIMEOUT: Duration = Duration::from_secs(180);

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn json(&self) -> Result<serde_json::Value> {
        serde_json::from_slice(&self.body)
            .with_context(|| format!("not JSON: {:?}", String::from_utf8_lossy(&self.body)))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `code` of a JSON error body.
    pub fn error_code(&self) -> Result<String> {
        Ok(self.json()?["error"]["code"].as_str().unwrap_or_default().to_string())
    }

    pub fn error_message(&self) -> Result<String> {
        Ok(self.json()?["error"]["message"].as_str().unwrap_or_default().to_string())
    }
}

/// Asserts that `a` and `b` are the same answer (`named` in the failure):
/// status, body and headers, but `date`, and the whole seconds of
/// `x-tiered-expires-in`, which may tick between the two.
pub fn assert_alike(a: &Reply, b: &Reply, named: &str) -> Result<()> {
    assert_eq!(a.status, b.status, "{named}");
    assert_eq!(a.body, b.body, "{named}");
    let (mut a, mut b) = (a.headers.clone(), b.headers.clone());
    for headers in [&mut a, &mut b] {
        headers.remove("date");
    }
    let ttl = |h: &HeaderMap| h.get("x-tiered-expires-in").map(|v| v.to_str().unwrap_or("").to_string());
    if let (Some(x), Some(y)) = (ttl(&a), ttl(&b)) {
        let (x, y): (u64, u64) = (x.parse()?, y.parse()?);
        assert!(x.abs_diff(y) <= 1, "{named}: x-tiered-expires-in {x} vs {y}");
        a.remove("x-tiered-expires-in");
        b.remove("x-tiered-expires-in");
    }
    assert_eq!(a, b, "{named}");
    Ok(())
}

/// A plain HTTP client for one server.
#[derive(Clone, Debug)]
pub struct Http {
    addr: SocketAddr,
    client: Client<HttpConnector, Body>,
}

impl Http {
    pub fn new(addr: SocketAddr) -> Self {
        Http { addr, client: Client::builder(TokioExecutor::new()).build_http() }
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> Result<Reply> {
        let mut request = Request::builder().method(method).uri(format!("http://{}{path}", self.addr));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request.body(Body::from(body.into()))?;
        let response = self.client.request(request).await?;
        let (parts, body) = response.into_parts();
        let body = axum::body::to_bytes(Body::new(body), usize::MAX).await?;
        Ok(Reply { status: parts.status, headers: parts.headers, body })
    }

    /// `method` of `path` sent twice: with no body, then with a 1-byte body
    /// (a read takes the service's front without one, the router with one).
    pub async fn with_and_without_body(
        &self,
        method: &Method,
        path: &str,
        headers: &[(&str, &str)],
    ) -> Result<(Reply, Reply)> {
        let without = self.send(method.clone(), path, headers, "").await?;
        let with = self.send(method.clone(), path, headers, "x").await?;
        Ok((without, with))
    }

    pub async fn get(&self, path: &str) -> Result<Reply> {
        self.send(Method::GET, path, &[], Bytes::new()).await
    }

    pub async fn put(&self, path: &str, body: impl Into<Bytes>) -> Result<Reply> {
        self.send(Method::PUT, path, &[], body).await
    }

    /// The server's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

/// A running `tiered serve`.
#[derive(Debug)]
pub struct Server {
    child: Option<Child>,
    pub addr: SocketAddr,
    pub http: Http,
    pub data_dir: PathBuf,
    /// Everything the server logged so far.
    pub log: Arc<Mutex<Vec<String>>>,
}

/// `[policy_limits]` no busy machine reaches: a 2 s call deadline and no
/// throttle. For tests of what a policy decides, where a call past the
/// service's 20 ms (or one the throttle refuses) would be answered by the
/// fallback instead.
pub const PATIENT_POLICY: &str = "[policy_limits]\ndeadline_ms = 2000\nbusy_share = 1.0\n";

/// The compile cache shared by every server of the run.
pub fn policy_cache() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("service-policy-cache")
}

/// `tiered` with the test's environment cleared of `TIERED_*` variables.
pub fn tiered() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tiered"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("TIERED_") {
            cmd.env_remove(name);
        }
    }
    cmd.env("RUST_LOG", "info");
    cmd
}

impl Server {
    /// Serve `data_dir` with `config` (TOML appended after `policy_cache_dir`;
    /// its top-level keys must precede its tables).
    pub async fn start(data_dir: &Path, config: &str) -> Result<Server> {
        Server::start_with_args(data_dir, config, &[]).await
    }

    /// [`Server::start`] with more `tiered serve` arguments (e.g. `--policy X.wasm`).
    pub async fn start_with_args(data_dir: &Path, config: &str, args: &[&std::ffi::OsStr]) -> Result<Server> {
        Server::start_with(data_dir, config, args, "info").await
    }

    /// [`Server::start`] logging at `log_filter` (`RUST_LOG`).
    pub async fn start_logging(data_dir: &Path, config: &str, log_filter: &str) -> Result<Server> {
        Server::start_with(data_dir, config, &[], log_filter).await
    }

    async fn start_with(data_dir: &Path, config: &str, args: &[&std::ffi::OsStr], log_filter: &str) -> Result<Server> {
        let file = data_dir.join("tiered.toml");
        std::fs::create_dir_all(data_dir)?;
        std::fs::write(&file, format!("policy_cache_dir = {:?}\n{config}", policy_cache()))?;
        let mut cmd = tiered();
        cmd.env("RUST_LOG", log_filter);
        cmd.arg("serve").arg("--config").arg(&file).args(["--listen", "127.0.0.1:0"]).arg("--data-dir").arg(data_dir);
        cmd.args(args);
        let mut child = cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped()).spawn()?;
        let stderr = child.stderr.take().context("stderr is piped")?;
        let log = Arc::new(Mutex::new(Vec::new()));
        let (found, addr_rx) = mpsc::channel();
        let lines = log.clone();
        // Drains stderr for the server's whole life (a full pipe would block it).
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(addr) = line.split("listening addr=").nth(1).and_then(|r| r.split_whitespace().next()) {
                    let _ = found.send(addr.to_string());
                }
                lines.lock().unwrap().push(line);
            }
        });
        let addr = tokio::task::spawn_blocking(move || addr_rx.recv_timeout(START_TIMEOUT)).await?;
        let addr: SocketAddr = match addr {
            Ok(addr) => addr.parse()?,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                bail!("the server did not start:\n{}", log.lock().unwrap().join("\n"));
            }
        };
        let server = Server { child: Some(child), addr, http: Http::new(addr), data_dir: data_dir.to_path_buf(), log };
        server.wait_healthy().await?;
        Ok(server)
    }

    /// Polls `/healthz` (bounded) until it answers 200.
    async fn wait_healthy(&self) -> Result<()> {
        for _ in 0..600 {
            if let Ok(Ok(reply)) = tokio::time::timeout(Duration::from_secs(5), self.http.get("/healthz")).await
                && reply.status == StatusCode::OK
            {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        bail!("/healthz never answered 200")
    }

    /// SIGTERM, then wait for the exit (graceful shutdown).
    pub async fn stop(mut self) -> Result<ExitStatus> {
        let mut child = self.child.take().context("running")?;
        let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status()?;
        anyhow::ensure!(status.success(), "kill -TERM failed");
        let waited = tokio::time::timeout(Duration::from_secs(30), tokio::task::spawn_blocking(move || child.wait()));
        Ok(waited.await.context("the server did not stop within 30 s of SIGTERM")???)
    }

    /// The server's process id (for `/proc/PID/status`).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    pub fn log_text(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Runs `cmd` to its end (killed after 180 s): exit status, stdout, stderr.
pub async fn run_to_exit(mut cmd: Command) -> Result<(ExitStatus, String, String)> {
    let child = cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn()?;
    let id = child.id();
    let output =
        tokio::time::timeout(Duration::from_secs(180), tokio::task::spawn_blocking(move || child.wait_with_output()));
    match output.await {
        Ok(output) => {
            let output = output??;
            let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
            Ok((output.status, text(&output.stdout), text(&output.stderr)))
        }
        Err(_) => {
            let _ = Command::new("kill").args(["-KILL", &id.to_string()]).status();
            bail!("the command was still running after 180 s")
        }
    }
}
