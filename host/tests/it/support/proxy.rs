//! A loopback TCP proxy with faults, placed between a client and a server
//! (here: the S3 tier and the S3 server). Its [`Mode`] can be changed while it
//! runs and applies to every new chunk of traffic:
//!
//! - `Pass`: forward bytes both ways.
//! - `Delay(ms)`: forward, but hold each chunk `ms` milliseconds first.
//! - `Drop`: accept connections and close them at once; cut live ones.
//!
//! Apart from the mode, [`Proxy::stall_requests`] makes the next requests
//! (the next chunks a client sends) hang: never forwarded, their connection
//! held open without an answer, as a server that stopped answering does; and
//! [`Proxy::cut_next_answer`] closes the connection of the next answer after
//! a number of its bytes, as a connection reset half-way through a body.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use parking_lot::Mutex;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the proxy does to traffic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Pass,
    Delay(u64),
    Drop,
}

/// A running proxy; stops when dropped.
#[derive(Debug)]
pub struct Proxy {
    pub addr: SocketAddr,
    mode: Arc<Mutex<Mode>>,
    stalls: Arc<AtomicU32>,
    /// Bytes of the next answer to forward before its connection is closed
    /// (`u64::MAX`: none is cut).
    cut: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

/// The faults of one direction of a connection.
#[derive(Clone)]
enum Side {
    /// Client to server: requests to swallow.
    Requests(Arc<AtomicU32>),
    /// Server to client: an answer to cut.
    Answers(Arc<AtomicU64>),
}

impl Proxy {
    /// Listen on a loopback port and forward to `target`.
    pub async fn start(target: SocketAddr) -> std::io::Result<Proxy> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let mode = Arc::new(Mutex::new(Mode::Pass));
        let stalls = Arc::new(AtomicU32::new(0));
        let cut = Arc::new(AtomicU64::new(u64::MAX));
        let (shared, stalling, cutting) = (mode.clone(), stalls.clone(), cut.clone());
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                if *shared.lock() == Mode::Drop {
                    drop(client);
                    continue;
                }
                let (mode, stalls, cut) = (shared.clone(), stalling.clone(), cutting.clone());
                tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(target).await else { return };
                    let (cr, cw) = client.into_split();
                    let (sr, sw) = server.into_split();
                    tokio::select! {
                        _ = pipe(cr, sw, mode.clone(), Side::Requests(stalls)) => {}
                        _ = pipe(sr, cw, mode, Side::Answers(cut)) => {}
                    }
                });
            }
        });
        Ok(Proxy { addr, mode, stalls, cut, task })
    }

    /// The next `count` chunks clients send are never forwarded, and their
    /// connections hang without an answer until the client hangs up.
    pub fn stall_requests(&self, count: u32) {
        self.stalls.store(count, Ordering::SeqCst);
    }

    /// The next answer a server sends is forwarded for `bytes` bytes, and
    /// then its connection is closed (both ways).
    pub fn cut_next_answer(&self, bytes: u64) {
        self.cut.store(bytes, Ordering::SeqCst);
    }

    pub fn set(&self, mode: Mode) {
        *self.mode.lock() = mode;
    }

    /// The live S3 settings of `test` (see `support::s3::config`), with this
    /// proxy's endpoint in front of the server's.
    pub async fn before_s3(test: &str) -> anyhow::Result<(tiered_s3::S3Config, Proxy)> {
        let mut config = super::s3::config(test);
        let endpoint = config.endpoint.clone().ok_or_else(|| anyhow::anyhow!("the proxy needs an S3 endpoint URL"))?;
        let target: SocketAddr = tokio::net::lookup_host(endpoint.trim_start_matches("http://").trim_end_matches('/'))
            .await?
            .next()
            .ok_or_else(|| anyhow::anyhow!("cannot resolve {endpoint}"))?;
        let proxy = Proxy::start(target).await?;
        config.endpoint = Some(proxy.url());
        Ok((config, proxy))
    }

    /// `http://addr`, for an S3 endpoint setting.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Forward `from` to `to` under `mode`, with the faults of its `side`: a
/// request chunk read while a stall is due is never forwarded, nor is
/// anything after it (the connection hangs until the client closes it); an
/// answer chunk read while a cut is due begins the answer that is cut.
async fn pipe(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mode: Arc<Mutex<Mode>>,
    side: Side,
) {
    let mut buf = vec![0u8; 64 * 1024];
    // Bytes of this answer still to forward before the cut.
    let mut cut_in: Option<u64> = None;
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        match &side {
            Side::Requests(stalls) => {
                if stalls.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| left.checked_sub(1)).is_ok() {
                    // Swallowed, as is all the client sends after, until it hangs up.
                    while let Ok(1..) = from.read(&mut buf).await {}
                    return;
                }
            }
            Side::Answers(cut) => {
                if cut_in.is_none() {
                    cut_in = Some(cut.swap(u64::MAX, Ordering::SeqCst)).filter(|&b| b != u64::MAX);
                }
            }
        }
        let current = *mode.lock();
        match current {
            Mode::Drop => return,
            Mode::Delay(ms) => tokio::time::sleep(Duration::from_millis(ms)).await,
            Mode::Pass => {}
        }
        let send = cut_in.map_or(n, |left| n.min(left as usize));
        if to.write_all(&buf[..send]).await.is_err() {
            return;
        }
        if let Some(left) = cut_in.as_mut() {
            *left -= send as u64;
            if *left == 0 {
                return;
            }
        }
    }
}
