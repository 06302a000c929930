//! HTTP/1.1 over a bare TCP socket, for requests a well-behaved client will
//! not send: invalid UTF-8 in the path, a `content-length` that lies,
//! thousands of headers, bytes that are not allowed in a header.
//!
//! [`exchange`] writes the bytes and reads the answer's status line;
//! [`exchange_then_close`] half-closes the socket after writing, as a client
//! that promised more body than it sends. Both are bounded by a timeout.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, Result};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The status code and the raw answer (headers and body as text).
#[derive(Debug)]
pub struct RawReply {
    pub status: u16,
    pub text: String,
}

/// Send `request` as is and read the answer.
pub async fn exchange(addr: SocketAddr, request: &[u8]) -> Result<RawReply> {
    send(addr, request, false).await?.context("the server closed the connection without answering")
}

/// Send `request`, half-close, and read the answer if there is one (`None`:
/// the server closed the connection without answering).
pub async fn exchange_then_close(addr: SocketAddr, request: &[u8]) -> Result<Option<RawReply>> {
    send(addr, request, true).await
}

async fn send(addr: SocketAddr, request: &[u8], half_close: bool) -> Result<Option<RawReply>> {
    let work = async {
        let mut stream = TcpStream::connect(addr).await?;
        // The server may answer (and close) before reading everything: a
        // failed write is not an error, the answer is what counts.
        let _ = stream.write_all(request).await;
        if half_close {
            let _ = stream.shutdown().await;
        }
        let mut answer = Vec::new();
        let mut buf = [0u8; 8192];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
            }
            if complete(&answer) {
                break;
            }
        }
        if answer.is_empty() {
            return Ok(None);
        }
        let text = String::from_utf8_lossy(&answer).into_owned();
        let status = text
            .strip_prefix("HTTP/1.1 ")
            .and_then(|rest| rest.get(..3))
            .and_then(|code| code.parse().ok())
            .with_context(|| format!("no HTTP status in the answer {text:?}"))?;
        anyhow::Ok(Some(RawReply { status, text }))
    };
    tokio::time::timeout(Duration::from_secs(20), work).await.context("no answer within 20 s")?
}

/// Whether `answer` holds the head and the whole `content-length` body.
fn complete(answer: &[u8]) -> bool {
    let Some(end) = answer.windows(4).position(|w| w == b"\r\n\r\n") else { return false };
    let head = String::from_utf8_lossy(&answer[..end]).to_ascii_lowercase();
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    answer.len() >= end + 4 + length
}

/// A request with `head_lines` (each without CRLF) and `body`.
pub fn request(method: &str, target: &[u8], head_lines: &[Vec<u8>], body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(method.as_bytes());
    out.push(b' ');
    out.extend_from_slice(target);
    out.extend_from_slice(b" HTTP/1.1\r\nhost: test\r\nconnection: close\r\n");
    for line in head_lines {
        out.extend_from_slice(line);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    out
}
