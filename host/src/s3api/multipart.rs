//! Multipart uploads: `CreateMultipartUpload`, `UploadPart`,
//! `CompleteMultipartUpload`, `AbortMultipartUpload`, with nothing held
//! whole in memory; `UploadPartCopy`, a part read from an object of the
//! bucket ([`super::copy`]); `ListParts` and `ListMultipartUploads`, which
//! read what is on disk.
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
//! `ListParts` lists the parts whose `.md5` is written (whole ones), by
//! number, with their sizes and ETags. `ListMultipartUploads` lists the
//! uploads in progress by key, then by id (the order S3 gives), with
//! `prefix`, `delimiter` (keys past it rolled up into common prefixes) and
//! the `key-marker` / `upload-id-marker` pages; an upload's `Initiated` is
//! when its record was written.
//!
//! Uploads survive a restart (as on S3) until completed or aborted, or
//! until abandoned: [`Uploads::sweep`] removes an upload none of whose files
//! changed for `[s3_api] abort_incomplete_uploads_after_secs` (7 days by
//! default; S3's `AbortIncompleteMultipartUpload` rule counts from the
//! upload's start, this from its last part, so a slow upload still being
//! written is never cut off). Parts
//! may be of any size (S3's 5 MiB minimum is not enforced); part numbers
//! are 1 to 10000. The completed object's ETag is the store's, as every
//! read reports it, not S3's `<md5>-<parts>` form.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use s3s::dto::{
    AbortMultipartUploadInput, AbortMultipartUploadOutput, CommonPrefix, CompleteMultipartUploadInput,
    CompleteMultipartUploadOutput, CopyPartResult, CreateMultipartUploadInput, CreateMultipartUploadOutput, ETag,
    ListMultipartUploadsInput, ListMultipartUploadsOutput, ListPartsInput, ListPartsOutput, MultipartUpload, Part,
    Timestamp, UploadPartCopyInput, UploadPartCopyOutput, UploadPartInput, UploadPartOutput,
};
use s3s::{S3Error, S3ErrorCode, S3Request, S3Response, S3Result};
use serde::{Deserialize, Serialize};
use tokio::io::AsyncReadExt;

use super::objects::Conditions;
use super::upload::{self, Declared, Received};
use super::{TieredS3, copy, error, objects};
use tiered::engine::SetOptions;
use tiered::store::SpoolWriter;

/// The highest part number S3 allows.
pub const MAX_PART_NUMBER: i32 = 10_000;
/// The most parts or uploads one listing answers, as on S3.
const MAX_LISTED: i32 = 1000;
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

    /// Removes every upload whose newest file (its record, a part) was
    /// written more than `idle` ago; how many were removed. An upload being
    /// completed meanwhile wins or loses as against `AbortMultipartUpload`.
    pub async fn sweep(&self, idle: std::time::Duration) -> usize {
        let Ok(mut entries) = tokio::fs::read_dir(&self.dir).await else { return 0 };
        let now = std::time::SystemTime::now();
        let mut removed = 0;
        while let Ok(Some(entry)) = entries.next_entry().await {
            let dir = entry.path();
            let Some(newest) = newest_write(&dir).await else { continue };
            if now.duration_since(newest).is_ok_and(|age| age > idle) {
                remove_upload(&dir).await;
                removed += 1;
            }
        }
        if removed > 0 {
            tracing::info!(removed, idle_secs = idle.as_secs(), "S3 API: abandoned multipart uploads removed");
        }
        removed
    }

    /// Sweeps every quarter of `idle` (at least every second, at most
    /// hourly) until dropped.
    pub fn sweeper(self, idle: std::time::Duration) -> tokio::task::JoinHandle<()> {
        let every = (idle / 4).clamp(std::time::Duration::from_secs(1), std::time::Duration::from_secs(3600));
        tokio::spawn(async move {
            loop {
                self.sweep(idle).await;
                tokio::time::sleep(every).await;
            }
        })
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
    let number = check_part_number(input.part_number)?;
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
    place_part(&dir, number, body.data, &md5).await?;
    Ok(S3Response::new(UploadPartOutput {
        e_tag: Some(ETag::Strong(md5)),
        checksum_crc32: input.checksum_crc32.take(),
        ..Default::default()
    }))
}

/// Puts part `number`'s bytes into place, then its MD5: a part file without
/// its `.md5` is not yet whole.
async fn place_part(dir: &Path, number: i32, data: Received, md5: &str) -> S3Result<()> {
    let part = part_path(dir, number);
    let moved = match data {
        Received::Spooled(file) => tokio::fs::rename(file.path(), &part).await,
        Received::Buffered(bytes) => tokio::fs::write(&part, &bytes).await,
    };
    let recorded = match moved {
        Ok(()) => tokio::fs::write(md5_path(dir, number), md5).await,
        Err(err) => Err(err),
    };
    match recorded {
        Ok(()) => Ok(()),
        Err(_) if !dir.exists() => Err(no_such_upload()), // aborted while the part arrived
        Err(err) => Err(error::io("cannot store a part", err)),
    }
}

/// `UploadPartCopy`: a part read from an object of the bucket (a range of
/// it with `x-amz-copy-source-range`), its ETag its MD5 as for `UploadPart`.
pub async fn upload_part_copy(
    api: &TieredS3,
    req: S3Request<UploadPartCopyInput>,
) -> S3Result<S3Response<UploadPartCopyOutput>> {
    let input = &req.input;
    api.bucket.check(&input.bucket)?;
    let number = check_part_number(input.part_number)?;
    let (dir, _) = api.uploads.pending(&input.upload_id, &input.key).await?;
    let source = copy::source_key(api, &input.copy_source)?;
    let range = input.copy_source_range.as_deref().map(copy::parse_range).transpose()?;
    let conditions = Conditions {
        if_match: input.copy_source_if_match.as_ref(),
        if_none_match: input.copy_source_if_none_match.as_ref(),
        if_modified_since: input.copy_source_if_modified_since.as_ref(),
        if_unmodified_since: input.copy_source_if_unmodified_since.as_ref(),
    };
    let read = copy::read_source(api, &source, conditions, range, true).await?;
    let md5 = read.md5_hex.unwrap_or_default();
    place_part(&dir, number, read.data, &md5).await?;
    tracing::debug!(%source, key = %input.key, part = number, "S3 API: part copied");
    Ok(S3Response::new(UploadPartCopyOutput {
        copy_part_result: Some(CopyPartResult {
            e_tag: Some(ETag::Strong(md5)),
            last_modified: Some(Timestamp::from(std::time::SystemTime::now())),
            ..Default::default()
        }),
        ..Default::default()
    }))
}

/// A part number S3 allows (1 to 10000).
fn check_part_number(number: i32) -> S3Result<i32> {
    if (1..=MAX_PART_NUMBER).contains(&number) {
        return Ok(number);
    }
    Err(S3Error::with_message(
        S3ErrorCode::InvalidArgument,
        format!("Part number must be an integer between 1 and {MAX_PART_NUMBER}, inclusive."),
    ))
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

/// `ListParts`: the whole parts of an upload, by number, a page at a time.
pub async fn list_parts(api: &TieredS3, req: S3Request<ListPartsInput>) -> S3Result<S3Response<ListPartsOutput>> {
    let input = &req.input;
    api.bucket.check(&input.bucket)?;
    let (dir, _) = api.uploads.pending(&input.upload_id, &input.key).await?;
    let max = page_size(input.max_parts)?;
    let after = input.part_number_marker.unwrap_or(0);
    let mut numbers = Vec::new();
    let mut entries = tokio::fs::read_dir(&dir).await.map_err(|e| error::io("cannot list an upload's parts", e))?;
    while let Some(entry) = entries.next_entry().await.map_err(|e| error::io("cannot list an upload's parts", e))? {
        let name = entry.file_name();
        let number = name
            .to_str()
            .and_then(|n| n.strip_prefix("part-"))
            .and_then(|n| n.strip_suffix(".md5"))
            .and_then(|n| n.parse::<i32>().ok());
        if let Some(number) = number.filter(|&n| n > after) {
            numbers.push(number);
        }
    }
    numbers.sort_unstable();
    let truncated = numbers.len() > max;
    numbers.truncate(max);
    let mut parts = Vec::with_capacity(numbers.len());
    for &number in &numbers {
        let (Ok(md5), Ok(stat)) = (
            tokio::fs::read_to_string(md5_path(&dir, number)).await,
            tokio::fs::metadata(part_path(&dir, number)).await,
        ) else {
            continue; // replaced or aborted meanwhile
        };
        parts.push(Part {
            part_number: Some(number),
            e_tag: Some(ETag::Strong(md5)),
            size: Some(stat.len() as i64),
            last_modified: stat.modified().ok().map(Timestamp::from),
            ..Default::default()
        });
    }
    Ok(S3Response::new(ListPartsOutput {
        bucket: Some(api.bucket.name.clone()),
        key: Some(input.key.clone()),
        upload_id: Some(input.upload_id.clone()),
        max_parts: Some(max as i32),
        part_number_marker: input.part_number_marker,
        next_part_number_marker: numbers.last().copied().filter(|_| truncated),
        is_truncated: Some(truncated),
        parts: Some(parts),
        ..Default::default()
    }))
}

/// `ListMultipartUploads`: the uploads in progress, by key then id.
pub async fn list_uploads(
    api: &TieredS3,
    req: S3Request<ListMultipartUploadsInput>,
) -> S3Result<S3Response<ListMultipartUploadsOutput>> {
    let input = &req.input;
    api.bucket.check(&input.bucket)?;
    let max = page_size(input.max_uploads)?;
    let prefix = input.prefix.as_deref().unwrap_or("");
    let delimiter = input.delimiter.as_deref().filter(|d| !d.is_empty());
    let key_marker = input.key_marker.as_deref().unwrap_or("");
    let id_marker = input.upload_id_marker.as_deref().unwrap_or("");
    // (key, id, initiated), every upload of the bucket under `prefix`.
    let mut found = Vec::new();
    match tokio::fs::read_dir(&api.uploads.dir).await {
        Ok(mut entries) => {
            while let Some(entry) =
                entries.next_entry().await.map_err(|e| error::io("cannot list multipart uploads", e))?
            {
                let Some(id) = entry.file_name().to_str().map(str::to_owned) else { continue };
                let record = entry.path().join("upload.json");
                let (Ok(text), Ok(stat)) = (tokio::fs::read(&record).await, tokio::fs::metadata(&record).await) else {
                    continue; // completed or aborted meanwhile, or not an upload
                };
                let Ok(pending) = serde_json::from_slice::<Pending>(&text) else { continue };
                if pending.key.starts_with(prefix) {
                    found.push((pending.key, id, stat.modified().ok()));
                }
            }
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => return Err(error::io("cannot list multipart uploads", err)),
    }
    found.sort();
    // After the markers: keys past `key-marker`, or its own uploads past
    // `upload-id-marker`.
    found.retain(|(key, id, _)| {
        key.as_str() > key_marker || (!id_marker.is_empty() && key == key_marker && id.as_str() > id_marker)
    });
    let mut uploads = Vec::new();
    let mut prefixes: Vec<String> = Vec::new();
    // Where the next page starts: a key and id, or a common prefix (its
    // keys all listed as it).
    let mut last: Option<(String, Option<String>)> = None;
    let mut truncated = false;
    for (key, id, initiated) in found {
        let rolled =
            delimiter.and_then(|d| key[prefix.len()..].find(d).map(|at| key[..prefix.len() + at + d.len()].to_owned()));
        if let Some(common) = &rolled
            && (prefixes.last() == Some(common) || common == key_marker)
        {
            continue; // rolled up already, on this page or the one before
        }
        if uploads.len() + prefixes.len() == max {
            truncated = true;
            break;
        }
        match rolled {
            Some(common) => {
                last = Some((common.clone(), None));
                prefixes.push(common);
            }
            None => {
                last = Some((key.clone(), Some(id.clone())));
                uploads.push(MultipartUpload {
                    key: Some(key),
                    upload_id: Some(id),
                    initiated: initiated.map(Timestamp::from),
                    ..Default::default()
                });
            }
        }
    }
    let (next_key, next_id) = match (truncated, last) {
        (true, Some((key, id))) => (Some(key), id),
        _ => (None, None),
    };
    Ok(S3Response::new(ListMultipartUploadsOutput {
        bucket: Some(api.bucket.name.clone()),
        prefix: input.prefix.clone(),
        delimiter: input.delimiter.clone(),
        key_marker: input.key_marker.clone(),
        upload_id_marker: input.upload_id_marker.clone(),
        max_uploads: Some(max as i32),
        is_truncated: Some(truncated),
        next_key_marker: next_key,
        next_upload_id_marker: next_id,
        uploads: Some(uploads),
        common_prefixes: Some(prefixes.into_iter().map(|p| CommonPrefix { prefix: Some(p) }).collect()),
        ..Default::default()
    }))
}

/// A listing's page size: `max` when given (0 to 1000), else 1000.
fn page_size(max: Option<i32>) -> S3Result<usize> {
    match max {
        None => Ok(MAX_LISTED as usize),
        Some(n) if n < 0 => {
            Err(S3Error::with_message(S3ErrorCode::InvalidArgument, "The page size must not be negative."))
        }
        Some(n) => Ok(n.min(MAX_LISTED) as usize),
    }
}

/// When the newest file of upload directory `dir` (or the directory itself)
/// was written; `None` for what is not a readable directory.
async fn newest_write(dir: &Path) -> Option<std::time::SystemTime> {
    let meta = tokio::fs::metadata(dir).await.ok().filter(|m| m.is_dir())?;
    let mut newest = meta.modified().ok()?;
    let mut files = tokio::fs::read_dir(dir).await.ok()?;
    while let Ok(Some(file)) = files.next_entry().await {
        if let Some(written) = file.metadata().await.ok().and_then(|m| m.modified().ok()) {
            newest = newest.max(written);
        }
    }
    Some(newest)
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
