//! Request bodies of `PutObject` and `UploadPart`: received as they arrive,
//! held in memory while small, spooled to a file once large, and checked
//! against the digests the client declared.
//!
//! Memory per upload is bounded by `stream_above_bytes` (default 8 MiB, as
//! for `/v1` PUTs): the body is buffered up to that size, and the moment it
//! goes past it the buffered bytes and the rest go to a
//! [`SpoolWriter`](tiered::store::SpoolWriter) under the spool directory.
//! Past `max_object_bytes` the upload stops with `EntityTooLarge`. A spool
//! file is removed when dropped: after the write, on error, or when the
//! client disconnects.
//!
//! Digests: `Content-MD5` and `x-amz-checksum-crc32` (as a header, or as
//! the trailer of an `aws-chunked` body, which SDKs send by default) are
//! computed over the bytes received and compared: a mismatch is `BadDigest`
//! and nothing is stored. Other `x-amz-checksum-*` algorithms are accepted
//! and not checked. s3s itself checks a signed `x-amz-content-sha256` and the
//! chunk signatures of a signed `aws-chunked` body.

use base64::Engine as _;
use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use md5::Digest as _;
use s3s::dto::StreamingBlob;
use s3s::{S3Error, S3ErrorCode, S3Result, TrailingHeaders};

use super::error;
use crate::http::AppState;
use tiered::store::{SpoolWriter, Spooled};

/// A received body.
#[derive(Debug)]
pub enum Received {
    /// At most `stream_above_bytes`.
    Buffered(Bytes),
    Spooled(Spooled),
}

impl Received {
    pub fn size(&self) -> u64 {
        match self {
            Received::Buffered(bytes) => bytes.len() as u64,
            Received::Spooled(file) => file.size,
        }
    }
}

/// What the client declared about the body.
#[derive(Debug, Default)]
pub struct Declared<'a> {
    /// `Content-MD5`: base64 of the MD5.
    pub content_md5: Option<&'a str>,
    /// `x-amz-checksum-crc32`: base64 of the big-endian CRC32.
    pub crc32: Option<&'a str>,
    /// Where an `aws-chunked` body's trailing checksum arrives.
    pub trailers: Option<&'a TrailingHeaders>,
    /// Whether the part ETag (an MD5) is wanted.
    pub want_md5: bool,
}

/// Digests computed while the body arrives.
#[derive(Debug)]
pub struct Digests {
    md5: Option<md5::Md5>,
    crc32: Option<crc32fast::Hasher>,
}

/// The received body and its MD5 (when it was computed).
#[derive(Debug)]
pub struct Body {
    pub data: Received,
    /// Hex MD5 of the bytes, when `want_md5` or `Content-MD5` asked for it.
    pub md5_hex: Option<String>,
}

/// Receive `body` within `state`'s `max_object_bytes`, in memory up to
/// `buffer_max` bytes and spooled beyond, checking `declared`.
pub async fn receive(
    state: &AppState,
    buffer_max: u64,
    body: Option<StreamingBlob>,
    declared: Declared<'_>,
) -> S3Result<Body> {
    let trailer_crc = declared.trailers.is_some();
    let mut digests = Digests {
        md5: (declared.want_md5 || declared.content_md5.is_some()).then(md5::Md5::new),
        crc32: (declared.crc32.is_some() || trailer_crc).then(crc32fast::Hasher::new),
    };
    let mut buffered = BytesMut::new();
    let mut spool: Option<SpoolWriter> = None;
    let mut size: u64 = 0;
    if let Some(mut body) = body {
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(error::body)?;
            size += chunk.len() as u64;
            if size > state.max_object_bytes {
                return Err(error::too_large(state.max_object_bytes));
            }
            if let Some(md5) = &mut digests.md5 {
                md5.update(&chunk);
            }
            if let Some(crc) = &mut digests.crc32 {
                crc.update(&chunk);
            }
            match &mut spool {
                Some(writer) => writer.write(&chunk).await.map_err(|e| error::io("cannot spool a body", e))?,
                None if size > buffer_max => {
                    let mut writer = SpoolWriter::create(&state.spool_dir)
                        .await
                        .map_err(|e| error::io("cannot create a spool file", e))?;
                    writer.write(&buffered).await.map_err(|e| error::io("cannot spool a body", e))?;
                    writer.write(&chunk).await.map_err(|e| error::io("cannot spool a body", e))?;
                    buffered = BytesMut::new();
                    spool = Some(writer);
                }
                None => buffered.extend_from_slice(&chunk),
            }
        }
    }
    let md5 = digests.md5.map(|m| m.finalize());
    if let (Some(expected), Some(md5)) = (declared.content_md5, &md5) {
        let given = base64::engine::general_purpose::STANDARD.decode(expected.trim()).map_err(|_| {
            S3Error::with_message(S3ErrorCode::InvalidDigest, "The Content-MD5 you specified is not valid base64.")
        })?;
        if given[..] != md5[..] {
            return Err(S3Error::with_message(
                S3ErrorCode::BadDigest,
                "The Content-MD5 you specified did not match what we received.",
            ));
        }
    }
    if let Some(crc) = digests.crc32 {
        let computed = base64::engine::general_purpose::STANDARD.encode(crc.finalize().to_be_bytes());
        let trailer = declared
            .trailers
            .and_then(|t| t.read(|h| h.get("x-amz-checksum-crc32").and_then(|v| v.to_str().ok()).map(str::to_string)))
            .flatten();
        for expected in declared.crc32.map(str::to_string).into_iter().chain(trailer) {
            if expected.trim() != computed {
                return Err(S3Error::with_message(
                    S3ErrorCode::BadDigest,
                    "The x-amz-checksum-crc32 you specified did not match the calculated checksum.",
                ));
            }
        }
    }
    let data = match spool {
        Some(writer) => Received::Spooled(writer.finish().await.map_err(|e| error::io("cannot spool a body", e))?),
        None => Received::Buffered(buffered.freeze()),
    };
    Ok(Body { data, md5_hex: md5.map(|m| hex::encode(&m[..])) })
}
