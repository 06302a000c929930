//! [`MockClient`]: an in-memory bucket behind the [`ObjectClient`] seam
//! (feature `mock`), answering as S3 does where the tier depends on it:
//! quoted ETags, 404 `NoSuchKey`, 304 on a matching `If-None-Match`, 412 on a
//! failed copy precondition, parts below 5 MiB refused at completion
//! (`EntityTooSmall`), listings in key order and in pages with continuation
//! tokens, at most 1000 keys per DeleteObjects. It counts the requests it
//! answers, by operation, and the multipart uploads left open.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;
use parking_lot::Mutex;
use sha2::{Digest, Sha256};

use crate::client::{
    ClientError, DeleteReply, GetReply, ListPage, ListRequest, ObjectClient, ObjectHead, PutHead, RangeReply,
};

/// S3's smallest part, for every part but the last.
const MIN_PART_BYTES: usize = 5 << 20;
/// The chunk size of a GET body.
const BODY_CHUNK: usize = 64 << 10;

#[derive(Clone, Debug)]
struct Stored {
    data: Bytes,
    head: PutHead,
    etag: String,
    modified_ms: u64,
}

#[derive(Debug)]
struct Upload {
    key: String,
    head: PutHead,
    parts: BTreeMap<i32, (Bytes, String)>,
}

#[derive(Debug, Default)]
struct Bucket {
    objects: BTreeMap<String, Stored>,
    uploads: HashMap<String, Upload>,
    next_upload: u64,
    clock_ms: u64,
}

/// An in-memory bucket.
#[derive(Debug)]
pub struct MockClient {
    bucket: Mutex<Bucket>,
    page_size: usize,
    requests: Mutex<BTreeMap<&'static str, u64>>,
    bytes_read: Arc<AtomicU64>,
}

impl Default for MockClient {
    fn default() -> Self {
        MockClient::new()
    }
}

fn etag_of(data: &[u8]) -> String {
    let digest = Sha256::digest(data);
    format!("\"{}\"", hex::encode(&digest[..16]))
}

fn no_such_key() -> ClientError {
    ClientError::status(404, "NoSuchKey", "The specified key does not exist.")
}

impl MockClient {
    /// An empty bucket listing 1000 keys per page, as S3 does.
    pub fn new() -> Self {
        MockClient::with_page_size(1000)
    }

    /// An empty bucket listing `page_size` keys per page.
    pub fn with_page_size(page_size: usize) -> Self {
        MockClient {
            bucket: Mutex::default(),
            page_size: page_size.max(1),
            requests: Mutex::default(),
            bytes_read: Arc::default(),
        }
    }

    /// Stores `data` as another tool would: no `tiered` metadata.
    pub fn put_foreign(&self, key: &str, data: impl Into<Bytes>, content_type: Option<&str>) {
        let head = PutHead { content_type: content_type.map(str::to_string), ..PutHead::default() };
        self.store(key, data.into(), head);
    }

    /// Flips the first byte stored under a bucket key, keeping its metadata
    /// and ETag: bytes that rotted, or a body altered on the way.
    pub fn damage(&self, key: &str) {
        if let Some(stored) = self.bucket.lock().objects.get_mut(key) {
            let mut data = stored.data.to_vec();
            if let Some(b) = data.first_mut() {
                *b ^= 0xff;
            }
            stored.data = Bytes::from(data);
        }
    }

    /// The bytes stored under a bucket key.
    pub fn object(&self, key: &str) -> Option<Bytes> {
        self.bucket.lock().objects.get(key).map(|o| o.data.clone())
    }

    /// The bucket keys, in order.
    pub fn keys(&self) -> Vec<String> {
        self.bucket.lock().objects.keys().cloned().collect()
    }

    /// Multipart uploads created and neither completed nor aborted.
    pub fn open_uploads(&self) -> usize {
        self.bucket.lock().uploads.len()
    }

    /// Requests answered for `op` (the [`ObjectClient`] method name).
    pub fn requests(&self, op: &str) -> u64 {
        self.requests.lock().get(op).copied().unwrap_or(0)
    }

    /// Body bytes of GetObject answers consumed by the reader.
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read.load(Ordering::Relaxed)
    }

    fn count(&self, op: &'static str) {
        *self.requests.lock().entry(op).or_default() += 1;
    }

    fn store(&self, key: &str, data: Bytes, head: PutHead) -> String {
        let mut bucket = self.bucket.lock();
        bucket.clock_ms += 1;
        let etag = etag_of(&data);
        let stored = Stored { data, head, etag: etag.clone(), modified_ms: 1_700_000_000_000 + bucket.clock_ms };
        bucket.objects.insert(key.to_string(), stored);
        etag
    }

    fn head_of(stored: &Stored) -> ObjectHead {
        ObjectHead {
            content_type: stored.head.content_type.clone(),
            metadata: stored.head.metadata.clone(),
            etag: Some(stored.etag.clone()),
            content_length: Some(stored.data.len() as u64),
            last_modified_ms: Some(stored.modified_ms),
        }
    }
}

#[async_trait]
impl ObjectClient for MockClient {
    async fn head_bucket(&self) -> Result<(), ClientError> {
        self.count("head_bucket");
        Ok(())
    }

    async fn head_object(&self, key: &str) -> Result<ObjectHead, ClientError> {
        self.count("head_object");
        let bucket = self.bucket.lock();
        bucket
            .objects
            .get(key)
            .map(MockClient::head_of)
            .ok_or_else(|| ClientError::status(404, "NotFound", "Not Found"))
    }

    async fn get_object(&self, key: &str, if_none_match: Option<&str>) -> Result<GetReply, ClientError> {
        self.count("get_object");
        let stored = self.bucket.lock().objects.get(key).cloned().ok_or_else(no_such_key)?;
        if if_none_match == Some(stored.etag.as_str()) {
            return Err(ClientError::status(304, "NotModified", "Not Modified"));
        }
        let data = stored.data.clone();
        let read = self.bytes_read.clone();
        let chunks: Vec<Result<Bytes, ClientError>> = (0..data.len())
            .step_by(BODY_CHUNK)
            .map(|start| Ok(data.slice(start..data.len().min(start + BODY_CHUNK))))
            .collect();
        let body = futures::stream::iter(chunks).inspect(move |chunk| {
            if let Ok(chunk) = chunk {
                read.fetch_add(chunk.len() as u64, Ordering::Relaxed);
            }
        });
        Ok(GetReply { head: MockClient::head_of(&stored), body: body.boxed() })
    }

    async fn get_object_range(&self, key: &str, range: &str) -> Result<RangeReply, ClientError> {
        // Counted as a `get_object` too.
        self.count("get_object_range");
        let reply = self.get_object(key, None).await?;
        let size = reply.head.content_length.unwrap_or(0);
        let invalid = || ClientError::status(416, "InvalidRange", "The requested range is not satisfiable");
        // Like S3: a Range it does not serve is ignored, and the whole object sent.
        let span = match tiered::range::ByteRange::parse(range) {
            Ok(Some(asked)) => asked.resolve(size).ok_or_else(invalid)?,
            Ok(None) | Err(_) => 0..size,
        };
        let (start, end) = (span.start, span.end);
        let mut at = 0u64;
        let body = reply
            .body
            .filter_map(move |chunk| {
                let piece = chunk.map(|chunk| {
                    let (from, to) = (at, at + chunk.len() as u64);
                    at = to;
                    let (lo, hi) = (from.max(start), to.min(end));
                    (lo < hi).then(|| chunk.slice((lo - from) as usize..(hi - from) as usize))
                });
                futures::future::ready(piece.transpose())
            })
            .boxed();
        Ok(RangeReply { head: reply.head, range: span, body })
    }

    async fn put_object(&self, key: &str, head: PutHead, body: Bytes) -> Result<Option<String>, ClientError> {
        self.count("put_object");
        Ok(Some(self.store(key, body, head)))
    }

    async fn create_multipart_upload(&self, key: &str, head: PutHead) -> Result<String, ClientError> {
        self.count("create_multipart_upload");
        let mut bucket = self.bucket.lock();
        bucket.next_upload += 1;
        let id = format!("upload-{}", bucket.next_upload);
        bucket.uploads.insert(id.clone(), Upload { key: key.to_string(), head, parts: BTreeMap::new() });
        Ok(id)
    }

    async fn upload_part(
        &self,
        key: &str,
        upload_id: &str,
        number: i32,
        body: Bytes,
    ) -> Result<Option<String>, ClientError> {
        self.count("upload_part");
        let mut bucket = self.bucket.lock();
        let upload = bucket
            .uploads
            .get_mut(upload_id)
            .filter(|u| u.key == key)
            .ok_or_else(|| ClientError::status(404, "NoSuchUpload", "The specified upload does not exist."))?;
        let etag = etag_of(&body);
        upload.parts.insert(number, (body, etag.clone()));
        Ok(Some(etag))
    }

    async fn complete_multipart_upload(
        &self,
        key: &str,
        upload_id: &str,
        parts: Vec<(i32, Option<String>)>,
    ) -> Result<Option<String>, ClientError> {
        self.count("complete_multipart_upload");
        let upload = {
            let mut bucket = self.bucket.lock();
            match bucket.uploads.get(upload_id) {
                Some(u) if u.key == key => {}
                _ => return Err(ClientError::status(404, "NoSuchUpload", "The specified upload does not exist.")),
            }
            bucket.uploads.remove(upload_id).expect("checked above")
        };
        let mut data = Vec::new();
        for (i, (number, etag)) in parts.iter().enumerate() {
            let Some((bytes, stored_etag)) = upload.parts.get(number) else {
                return Err(ClientError::status(400, "InvalidPart", format!("part {number} was not uploaded")));
            };
            if etag.as_deref() != Some(stored_etag.as_str()) {
                return Err(ClientError::status(400, "InvalidPart", format!("part {number}: ETag mismatch")));
            }
            if i + 1 < parts.len() && bytes.len() < MIN_PART_BYTES {
                let message = format!("part {number} is {} bytes, below the 5 MiB minimum", bytes.len());
                return Err(ClientError::status(400, "EntityTooSmall", message));
            }
            data.extend_from_slice(bytes);
        }
        let etag = format!("\"{}-{}\"", etag_of(&data).trim_matches('"'), parts.len());
        let mut bucket = self.bucket.lock();
        bucket.clock_ms += 1;
        let modified_ms = 1_700_000_000_000 + bucket.clock_ms;
        let stored = Stored { data: Bytes::from(data), head: upload.head, etag: etag.clone(), modified_ms };
        bucket.objects.insert(key.to_string(), stored);
        Ok(Some(etag))
    }

    async fn abort_multipart_upload(&self, _key: &str, upload_id: &str) -> Result<(), ClientError> {
        self.count("abort_multipart_upload");
        match self.bucket.lock().uploads.remove(upload_id) {
            Some(_) => Ok(()),
            None => Err(ClientError::status(404, "NoSuchUpload", "The specified upload does not exist.")),
        }
    }

    async fn replace_metadata(
        &self,
        key: &str,
        head: PutHead,
        if_match: Option<&str>,
    ) -> Result<Option<String>, ClientError> {
        self.count("replace_metadata");
        let mut bucket = self.bucket.lock();
        bucket.clock_ms += 1;
        let now = 1_700_000_000_000 + bucket.clock_ms;
        let stored = bucket.objects.get_mut(key).ok_or_else(no_such_key)?;
        if if_match.is_some_and(|etag| etag != stored.etag) {
            return Err(ClientError::status(412, "PreconditionFailed", "At least one of the pre-conditions failed."));
        }
        // A copy with new metadata: same bytes, same (single-part) ETag.
        stored.head = head;
        stored.modified_ms = now;
        Ok(Some(stored.etag.clone()))
    }

    async fn delete_object(&self, key: &str) -> Result<(), ClientError> {
        self.count("delete_object");
        self.bucket.lock().objects.remove(key);
        Ok(())
    }

    async fn list_page(&self, request: ListRequest<'_>) -> Result<ListPage, ClientError> {
        self.count("list_page");
        let bucket = self.bucket.lock();
        // As S3: a continuation token (here the last entry) wins over
        // start-after; keys and common prefixes count together against the
        // page size, and a common prefix is listed once.
        let after = request.token.as_deref().or(request.start_after).unwrap_or_default().to_string();
        let max = request.max_keys.map_or(self.page_size, |m| (m.max(0) as usize).min(self.page_size));
        let mut page = ListPage::default();
        let mut entries = 0;
        let mut last: Option<String> = None;
        let keys = bucket.objects.range::<String, _>((std::ops::Bound::Excluded(&after), std::ops::Bound::Unbounded));
        for (key, _) in keys.filter(|(k, _)| k.starts_with(request.prefix)) {
            let rest = &key[request.prefix.len()..];
            let folded =
                request.delimiter.and_then(|d| rest.find(d).map(|at| &key[..request.prefix.len() + at + d.len()]));
            let name = folded.unwrap_or(key);
            if last.as_deref() == Some(name) || name <= after.as_str() {
                continue;
            }
            if entries == max {
                page.next_token = last.clone();
                break;
            }
            match folded {
                Some(prefix) => page.prefixes.push(prefix.to_string()),
                None => page.keys.push(key.clone()),
            }
            entries += 1;
            last = Some(name.to_string());
        }
        Ok(page)
    }

    async fn delete_objects(&self, keys: &[String]) -> Result<DeleteReply, ClientError> {
        self.count("delete_objects");
        if keys.len() > 1000 {
            return Err(ClientError::status(400, "MalformedXML", "more than 1000 keys in one request"));
        }
        let mut bucket = self.bucket.lock();
        for key in keys {
            bucket.objects.remove(key);
        }
        Ok(DeleteReply { deleted: keys.len() as u64, failed: Vec::new() })
    }
}
