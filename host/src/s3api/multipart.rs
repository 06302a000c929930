//! Multipart uploads: `CreateMultipartUpload`, `UploadPart`,
//! `CompleteMultipartUpload`, `AbortMultipartUpload`, with nothing held
//! whole in memory.
//!
//! An upload is a directory `<data_dir>/s3-uploads/<upload id>/` holding
//! `upload.json` (key, content type, custom metadata) and one file per
//! part, `part-NNNNN`, with its MD5 (the part's ETag) in `part-NNNNN.md5`.
//! A part body is spooled as any large body ([`super::upload`]) and renamed
//! into place once whole and checked, so a part is either absent or
//! complete; uploading a part number again replaces it.
//!
//! Completing concatenates the listed parts, in order, into one spool file
//! (read and written a chunk at a time) and stores it as `PutObject` does
//! (`set_file`, or `set` when small): the object appears whole or not at
//! all, once cold has it, and the upload's directory is removed. Aborting
//! removes the directory: no part is visible, nothing stays on disk.
//!
//! Uploads survive a restart (as on S3) until completed or aborted. Parts
//! may be of any size (S3's 5 MiB minimum is not enforced); part numbers
//! are 1 to 10000. The completed object's ETag is the store's, as every
//! read reports it, not S3's `<md5>-<parts>` form.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use s3s::dto::{
    AbortMultipartUploadInput, AbortMultipartUploadOutput, CompleteMultipartUploadInput, CompleteMultipartUploadOutput,
    CreateMultipartUploadInput, CreateMultipartUploadOutput, ETag, UploadPartInput, UploadPartOutput,
};
use s3s::{S3Error, S3ErrorCode, S3Request, S3Response, S3Result};
use serde::{Deserialize, Serialize};
use tokio::io::AsyncReadExt;

use super::upload::{self, Declared, Received};
use super::{TieredS3, error, objects};
use tiered::engine::SetOptions;
use tiered::store::SpoolWriter;

/// The highest part number S3 allows.
pub const MAX_PART_NUMBER: i32 = 10_000;
/// Bytes read from a part file at a time while completing.
const COPY_CHUNK: usize = 1 << 20;

/// Distinguishes upload ids of one process.
static SEQ: AtomicU64 = AtomicU64::new(0);

/// Where uploads in progress live.
#[derive(Debug, Clone)]
pub struct Uploads {
    dir: PathBuf,
}

/// What `CreateMultipartUpload` said about the object to be.
#[derive(Debug, Serialize, Deserialize)]
struct Pending {
    key: String,
    content_type: Option<String>,
    metadata: std::collections::BTreeMap<String, String>,
    ttl_secs: Option<u64>,
}

impl Uploads {
    pub fn new(dir: PathBuf) -> Uploads {
        Uploads { dir }
    }

    /// The directory of upload `id`, if `id` is one this endpoint could
    /// have made (hex only: an id never names another path).
    fn upload_dir(&self, id: &str) -> S3Result<PathBuf> {
        if id.is_empty() || id.len() > 64 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(no_such_upload());
        }
        Ok(self.dir.join(id))
    }

    /// The upload `id` of `key`, as created.
    async fn pending(&self, id: &str, key: &str) -> S3Result<(PathBuf, Pending)> {
        let dir = self.upload_dir(id)?;
        let text = match tokio::fs::read(dir.join("upload.json")).await {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Err(no_such_upload()),
            Err(err) => return Err(error::io("cannot read an upload", err)),
        };
        let pending: Pending =
            serde_json::from_slice(&text).map_err(|e| error::io("an upload record is damaged", e))?;
        if pending.key != key {
            return Err(no_such_upload());
        }
        Ok((dir, pending))
    }
}

/// `CreateMultipartUpload`.
pub async fn create(
    api: &TieredS3,
    mut req: S3Request<CreateMultipartUploadInput>,
) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
    let input = &mut req.input;
    api.bucket.check(&input.bucket)?;
    tiered::key::validate(&input.key).map_err(|e| error::from_store(&input.key, e.into()))?;
    let options = objects::write_options(&req.headers, input.content_type.take(), input.metadata.take())?;
    let pending = Pending {
        key: input.key.clone(),
        content_type: options.content_type,
        metadata: options.metadata,
        ttl_secs: options.ttl.map(|t| t.as_secs()),
    };
    let id = new_id();
    let dir = api.uploads.dir.join(&id);
    tokio::fs::create_dir_all(&dir).await.map_err(|e| error::io("cannot create an upload", e))?;
    let record = serde_json::to_vec(&pending).map_err(|e| error::io("cannot record an upload", e))?;
    tokio::fs::write(dir.join("upload.json"), record).await.map_err(|e| error::io("cannot record an upload", e))?;
    tracing::debug!(key = %pending.key, upload = %id, "S3 API: multipart upload created");
    Ok(S3Response::new(CreateMultipartUploadOutput {
        bucket: Some(api.bucket.name.clone()),
        key: Some(pending.key),
        upload_id: Some(id),
        ..Default::default()
    }))
}

/// `UploadPart`: the body spooled, checked, and renamed into place.
pub async fn upload_part(
    api: &TieredS3,
    mut req: S3Request<UploadPartInput>,
) -> S3Result<S3Response<UploadPartOutput>> {
    let input = &mut req.input;
    api.bucket.check(&input.bucket)?;
    let number = input.part_number;
    if !(1..=MAX_PART_NUMBER).contains(&number) {
        return Err(S3Error::with_message(
            S3ErrorCode::InvalidArgument,
            format!("Part number must be an integer between 1 and {MAX_PART_NUMBER}, inclusive."),
        ));
    }
    let (dir, _) = api.uploads.pending(&input.upload_id, &input.key).await?;
    // Every part goes to a file (a buffer of 0): parts stay on disk until completed.
    let body = upload::receive(
        &api.state,
        0,
        input.body.take(),
        Declared {
            content_md5: input.content_md5.as_deref(),
            crc32: input.checksum_crc32.as_deref(),
            trailers: req.trailing_headers.as_ref(),
            want_md5: true,
        },
    )
    .await?;
    let md5 = body.md5_hex.clone().unwrap_or_default();
    let part = part_path(&dir, number);
    let moved = match body.data {
        Received::Spooled(file) => tokio::fs::rename(file.path(), &part).await,
        Received::Buffered(bytes) => tokio::fs::write(&part, &bytes).await,
    };
    // Written after the part: a part file without its .md5 is not yet whole.
    let recorded = match moved {
        Ok(()) => tokio::fs::write(md5_path(&dir, number), &md5).await,
        Err(err) => Err(err),
    };
    if let Err(err) = recorded {
        if !dir.exists() {
            return Err(no_such_upload()); // aborted while the part arrived
        }
        return Err(error::io("cannot store a part", err));
    }
    Ok(S3Response::new(UploadPartOutput {
        e_tag: Some(ETag::Strong(md5)),
        checksum_crc32: input.checksum_crc32.take(),
        ..Default::default()
    }))
}

/// `CompleteMultipartUpload`: the listed parts, in ascending order, each
/// with the ETag its upload answered, become the object.
pub async fn complete(
    api: &TieredS3,
    req: S3Request<CompleteMultipartUploadInput>,
) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
    let input = &req.input;
    api.bucket.check(&input.bucket)?;
    let (dir, pending) = api.uploads.pending(&input.upload_id, &input.key).await?;
    let parts = input
        .multipart_upload
        .as_ref()
        .and_then(|u| u.parts.as_ref())
        .filter(|p| !p.is_empty())
        .ok_or_else(|| S3Error::with_message(S3ErrorCode::MalformedXML, "You must specify at least one part."))?;
    let mut previous = 0;
    for part in parts {
        let number = part.part_number.unwrap_or(0);
        if number <= previous {
            return Err(S3Error::with_message(
                S3ErrorCode::InvalidPartOrder,
                "The list of parts was not in ascending order.",
            ));
        }
        previous = number;
        let recorded = tokio::fs::read_to_string(md5_path(&dir, number)).await.ok();
        let given = part.e_tag.as_ref().map(|e| e.value().trim_matches('"').to_string());
        if recorded.is_none() || given.is_some_and(|g| Some(&g) != recorded.as_ref()) {
            return Err(S3Error::with_message(
                S3ErrorCode::InvalidPart,
                format!("Part {number} was not uploaded, or its ETag does not match."),
            ));
        }
    }
    let mut spool =
        SpoolWriter::create(&api.state.spool_dir).await.map_err(|e| error::io("cannot create a spool file", e))?;
    let mut buffer = vec![0u8; COPY_CHUNK];
    for part in parts {
        let path = part_path(&dir, part.part_number.unwrap_or(0));
        let mut file = tokio::fs::File::open(&path).await.map_err(|e| error::io("cannot read a part", e))?;
        loop {
            let n = file.read(&mut buffer).await.map_err(|e| error::io("cannot read a part", e))?;
            if n == 0 {
                break;
            }
            if spool.size() + n as u64 > api.state.max_object_bytes {
                return Err(error::too_large(api.state.max_object_bytes));
            }
            spool.write(&buffer[..n]).await.map_err(|e| error::io("cannot spool an upload", e))?;
        }
    }
    let file = spool.finish().await.map_err(|e| error::io("cannot spool an upload", e))?;
    let data = if file.size <= api.state.stream_above_bytes {
        let bytes = tokio::fs::read(file.path()).await.map_err(|e| error::io("cannot read back an upload", e))?;
        Received::Buffered(bytes.into())
    } else {
        Received::Spooled(file)
    };
    let options = SetOptions {
        content_type: pending.content_type,
        metadata: pending.metadata,
        ttl: pending.ttl_secs.map(std::time::Duration::from_secs),
        ..Default::default()
    };
    let outcome = objects::store(api, &pending.key, data, options).await?;
    remove_upload(&dir).await;
    tracing::debug!(key = %pending.key, parts = parts.len(), size = outcome.size, "S3 API: multipart upload completed");
    Ok(S3Response::new(CompleteMultipartUploadOutput {
        bucket: Some(api.bucket.name.clone()),
        key: Some(pending.key),
        e_tag: Some(ETag::Strong(outcome.etag)),
        ..Default::default()
    }))
}

/// `AbortMultipartUpload`: the upload and its parts are gone.
pub async fn abort(
    api: &TieredS3,
    req: S3Request<AbortMultipartUploadInput>,
) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
    let input = &req.input;
    api.bucket.check(&input.bucket)?;
    let (dir, _) = api.uploads.pending(&input.upload_id, &input.key).await?;
    remove_upload(&dir).await;
    tracing::debug!(key = %input.key, upload = %input.upload_id, "S3 API: multipart upload aborted");
    Ok(S3Response::new(AbortMultipartUploadOutput::default()))
}

async fn remove_upload(dir: &Path) {
    if let Err(err) = tokio::fs::remove_dir_all(dir).await
        && err.kind() != std::io::ErrorKind::NotFound
    {
        tracing::warn!(dir = %dir.display(), %err, "S3 API: could not remove an upload's directory");
    }
}

fn part_path(dir: &Path, number: i32) -> PathBuf {
    dir.join(format!("part-{number:05}"))
}

fn md5_path(dir: &Path, number: i32) -> PathBuf {
    dir.join(format!("part-{number:05}.md5"))
}

fn no_such_upload() -> S3Error {
    S3Error::with_message(
        S3ErrorCode::NoSuchUpload,
        "The specified multipart upload does not exist. The upload ID might be invalid, or the multipart upload \
         might have been aborted or completed.",
    )
}

/// A new upload id: 128 bits from the process's random hasher keys, the
/// time and a counter, as hex.
fn new_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    let seq = SEQ.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    let half = |salt: u64| {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(salt);
        h.write_u64(seq);
        h.write_u128(nanos);
        h.write_u32(std::process::id());
        h.finish()
    };
    format!("{:016x}{:016x}", half(1), half(2))
}
