//! # tiered-s3
//!
//! The S3 cold tier of [`tiered`], on `aws-sdk-s3`: the source of truth in
//! production. A crate of its own so that an embedder who keeps objects in a
//! local directory ([`tiered::store::LocalColdTier`]) never builds the AWS SDK.
//!
//! - [`S3Config`]: bucket, optional key prefix (several stores can share a
//!   bucket), region, endpoint override and path-style addressing for MinIO,
//!   Garage and other S3-compatible servers, timeouts (per operation, and
//!   per attempt so that a hung connection is retried) and retries (the
//!   SDK's own standard retry with backoff for throttling, 5xx and
//!   timeouts). Credentials come from the standard AWS chain (environment,
//!   profile, instance role).
//! - [`client`]: the seam between the tier and the network, [`ObjectClient`]:
//!   the S3 operations the tier uses, in its own types. `sdk` implements it on
//!   `aws-sdk-s3`; with feature `mock`, [`mock::MockClient`] is an in-memory
//!   bucket and [`failure::FailureClient`] injects a real server's failures,
//!   so everything below runs in plain `cargo test` (the live suite against
//!   Garage covers the SDK side).
//! - [`meta`]: object metadata as one S3 user-metadata entry; a HEAD returns it
//!   without the body, a GET returns both in one request.
//! - `errors`: client errors keep S3's code and message.
//! - `upload`: single PUT, or multipart above [`S3Config::multipart_threshold`],
//!   aborted on failure or when dropped half-way, so no upload is left
//!   behind.
//! - `download`: GetObject, read whole (conditionally, for revalidation)
//!   or, for objects larger than the caller buffers, forwarded as a
//!   verified stream; a range with one ranged GetObject; a body that
//!   breaks off is asked for again (a stream or a range goes on from where
//!   it broke, if the object is unchanged).
//! - `listing`: lazy ListObjectsV2 paging, one page of the store's listing from the
//!   bucket's ordered listing, and DeleteObjects batches of ≤ 1000.
//! - `requests`: the HTTP requests sent, counted by kind.
//! - `backoff`: the pause before the tier asks again on its own (per-key
//!   delete errors, broken bodies), outside the SDK's retry.
//!
//! Memory: through `get`/`put` a value is held whole in memory once
//! (`Bytes`); multipart parts are zero-copy slices of it, and a download is
//! written into one buffer sized from `Content-Length`. Through `put_file` an
//! upload holds one part at a time; through `get_stream` a large download
//! holds one network chunk at a time.
//!
//! Access statistics are never written to S3: reads only read.

mod backoff;
pub mod client;
mod download;
mod errors;
#[cfg(feature = "mock")]
pub mod failure;
mod listing;
pub mod meta;
#[cfg(feature = "mock")]
pub mod mock;
mod requests;
mod sdk;
mod upload;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::config::{BehaviorVersion, Region, retry::RetryConfig};
use serde::{Deserialize, Serialize};

use tiered::error::TierError;
use tiered::object::{Object, ObjectMeta};
use tiered::range::ByteRange;
use tiered::store::{Conditional, Fetched, KeyStream, Page, PageRequest, RangeRead, SourceTier, Spooled, Tier};

pub use client::{ClientError, ObjectClient};
pub use requests::RequestCounts;

/// Histogram of S3 requests (each attempt), in seconds, by `operation` and
/// `outcome` (see `requests.rs`).
pub const REQUEST_SECONDS: &str = "tiered_s3_request_duration_seconds";

use sdk::SdkClient;

/// Where and how to reach the bucket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct S3Config {
    pub bucket: String,
    /// Prepended to every key (e.g. `"service-a/"`).
    pub prefix: String,
    /// `None`: the standard chain (`AWS_REGION`, profile), else `us-east-1`.
    pub region: Option<String>,
    /// e.g. `http://127.0.0.1:9000` for MinIO; `None` for AWS.
    pub endpoint: Option<String>,
    /// Path-style addressing (`endpoint/bucket/key`), needed by most
    /// S3-compatible servers.
    pub path_style: bool,
    /// Objects larger than this are uploaded in parts of this size.
    pub multipart_threshold: u64,
    /// Objects are read whole into memory: a GET of a larger one (written by
    /// another tool) is refused with an error naming both sizes instead of
    /// exhausting memory. The service sets it to its `max_body_bytes`.
    pub max_object_bytes: u64,
    pub connect_timeout_ms: u64,
    /// Bound on a whole operation, retries included.
    pub operation_timeout_ms: u64,
    /// Bound on one attempt: a request until its answer's headers (an
    /// upload's body included, so at most [`multipart_threshold`] bytes; a
    /// server-side copy, as `touch` makes, included too).
    /// An attempt past it (a connection that stopped answering) is cut and
    /// retried like a 5xx, while `max_attempts` and the operation's bound
    /// allow; 0: attempts have no bound of their own.
    ///
    /// [`multipart_threshold`]: S3Config::multipart_threshold
    pub attempt_timeout_ms: u64,
    /// Attempts per request (the SDK's retry of throttling, 5xx and no
    /// answer); per DeleteObjects batch for the keys S3 answers with a
    /// transient error of their own; and GetObject operations per read whose
    /// body breaks off (asked for again whole, or the rest of a streamed one
    /// or a range from where it broke). Those are operations, each with the
    /// SDK's retry: up to `max_attempts²` requests in the worst case.
    pub max_attempts: u32,
}

impl S3Config {
    /// The settings in `TIERED_S3_*` variables (read through `var`), as the
    /// test suites, `tiered policy test` and the live trials take them:
    /// `TIERED_S3_BUCKET` (required: `None` when unset or empty),
    /// `TIERED_S3_PREFIX`, `TIERED_S3_REGION`, `TIERED_S3_ENDPOINT`, and
    /// `TIERED_S3_PATH_STYLE` (default: on when an endpoint is set). The
    /// whole operation is bounded at 20 s. Credentials come from the standard
    /// AWS chain.
    pub fn from_env(var: impl Fn(&str) -> Option<String>) -> Option<S3Config> {
        let var = |name: &str| var(name).filter(|v| !v.is_empty());
        let bucket = var("TIERED_S3_BUCKET")?;
        let endpoint = var("TIERED_S3_ENDPOINT");
        let path_style = var("TIERED_S3_PATH_STYLE").map_or(endpoint.is_some(), |v| matches!(v.as_str(), "1" | "true"));
        Some(S3Config {
            bucket,
            prefix: var("TIERED_S3_PREFIX").unwrap_or_default(),
            region: var("TIERED_S3_REGION"),
            endpoint,
            path_style,
            operation_timeout_ms: 20_000,
            ..S3Config::default()
        })
    }
}

impl Default for S3Config {
    fn default() -> Self {
        S3Config {
            bucket: String::new(),
            prefix: String::new(),
            region: None,
            endpoint: None,
            path_style: false,
            multipart_threshold: 8 << 20,
            max_object_bytes: 1 << 30,
            connect_timeout_ms: 3_000,
            operation_timeout_ms: 60_000,
            // Half the operation's bound: a hung first attempt leaves time
            // for a second. An 8 MiB part needs 2.2 Mbit/s to fit.
            attempt_timeout_ms: 30_000,
            max_attempts: 3,
        }
    }
}

/// The S3 cold tier.
#[derive(Clone, Debug)]
pub struct S3Tier {
    client: Arc<dyn ObjectClient>,
    /// The SDK client when the tier talks to a real server.
    sdk: Option<Client>,
    config: Arc<S3Config>,
    requests: requests::RequestCounter,
}

/// The SDK's timeouts for `config`.
fn timeouts(config: &S3Config) -> TimeoutConfig {
    let mut timeouts = TimeoutConfig::builder()
        .connect_timeout(Duration::from_millis(config.connect_timeout_ms))
        .operation_timeout(Duration::from_millis(config.operation_timeout_ms));
    if config.attempt_timeout_ms > 0 {
        timeouts = timeouts.operation_attempt_timeout(Duration::from_millis(config.attempt_timeout_ms));
    }
    timeouts.build()
}

impl S3Tier {
    /// Build a client from the standard AWS configuration chain plus `config`.
    pub async fn connect(config: S3Config) -> Result<S3Tier, TierError> {
        if config.bucket.is_empty() {
            return Err(TierError::new(tiered::TierErrorKind::Rejected, "s3", "no bucket configured"));
        }
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(region) = &config.region {
            loader = loader.region(Region::new(region.clone()));
        }
        let shared = loader.load().await;
        let counter = requests::RequestCounter::default();
        let mut builder = aws_sdk_s3::config::Builder::from(&shared)
            .interceptor(counter.clone())
            .force_path_style(config.path_style)
            .retry_config(RetryConfig::standard().with_max_attempts(config.max_attempts.max(1)))
            .timeout_config(timeouts(&config));
        if shared.region().is_none() {
            builder = builder.region(Region::new("us-east-1"));
        }
        if let Some(endpoint) = &config.endpoint {
            builder = builder.endpoint_url(endpoint);
        }
        let sdk = Client::from_conf(builder.build());
        let client = Arc::new(SdkClient::new(sdk.clone(), config.bucket.clone()));
        Ok(S3Tier { client, sdk: Some(sdk), config: Arc::new(config), requests: counter })
    }

    /// A tier on another [`ObjectClient`] (an in-memory bucket in tests, a
    /// client wrapped to inject failures, ...). `config.bucket` only names the
    /// bucket in messages; timeouts and retries are the client's.
    pub fn with_client(config: S3Config, client: Arc<dyn ObjectClient>) -> S3Tier {
        S3Tier { client, sdk: None, config: Arc::new(config), requests: requests::RequestCounter::default() }
    }

    /// Check that the bucket exists and the credentials may use it.
    pub async fn check(&self) -> Result<(), TierError> {
        self.client.head_bucket().await.map_err(|e| errors::convert("HeadBucket", &self.config.bucket, e))
    }

    /// HTTP requests sent so far, by kind (retries included), as the SDK sent
    /// them; all zero on a tier built [`with_client`](Self::with_client).
    pub fn requests(&self) -> RequestCounts {
        self.requests.snapshot()
    }

    /// The SDK client (for tests and tools that inspect the bucket directly);
    /// `None` on a tier built [`with_client`](Self::with_client).
    pub fn sdk_client(&self) -> Option<&Client> {
        self.sdk.as_ref()
    }

    pub fn config(&self) -> &S3Config {
        &self.config
    }

    /// The S3 key of a store key.
    pub fn object_key(&self, key: &str) -> String {
        format!("{}{}", self.config.prefix, key)
    }
}

#[async_trait]
impl Tier for S3Tier {
    fn name(&self) -> &'static str {
        "s3"
    }

    async fn get(&self, key: &str) -> Result<Option<Object>, TierError> {
        download::get(self, key).await
    }

    async fn head(&self, key: &str) -> Result<Option<Arc<ObjectMeta>>, TierError> {
        match self.client.head_object(&self.object_key(key)).await {
            Ok(head) => meta::describe(key, &head)
                .map(|m| Some(Arc::new(m)))
                .map_err(|m| TierError::corrupt("s3", format!("object {key:?}: {m}"))),
            Err(err) if err.is_not_found() => Ok(None),
            Err(err) => Err(errors::convert("HeadObject", key, err)),
        }
    }

    async fn put(&self, object: Object) -> Result<Arc<ObjectMeta>, TierError> {
        upload::put(self, object).await
    }

    async fn put_file(&self, meta: Arc<ObjectMeta>, file: &Spooled) -> Result<Arc<ObjectMeta>, TierError> {
        upload::put_file(self, meta, file).await
    }

    async fn get_stream(&self, key: &str, buffer_max: u64) -> Result<Option<Fetched>, TierError> {
        download::get_stream(self, key, buffer_max).await
    }

    async fn get_range(&self, key: &str, range: ByteRange) -> Result<Option<RangeRead>, TierError> {
        download::get_range(self, key, range).await
    }

    async fn delete(&self, key: &str) -> Result<bool, TierError> {
        let existed = self.head(key).await?.is_some();
        let deleted = self.client.delete_object(&self.object_key(key)).await;
        deleted.map_err(|e| errors::convert("DeleteObject", key, e))?;
        Ok(existed)
    }

    async fn set_expiry(&self, key: &str, expires_ms: Option<u64>) -> Result<Option<Arc<ObjectMeta>>, TierError> {
        upload::rewrite_expiry(self, key, expires_ms).await
    }

    fn list(&self, prefix: &str) -> KeyStream {
        listing::keys(self.clone(), prefix.to_string())
    }

    async fn delete_prefix(&self, prefix: &str) -> Result<u64, TierError> {
        listing::delete_prefix(self, prefix).await
    }
}

#[async_trait]
impl SourceTier for S3Tier {
    async fn get_if_changed(&self, key: &str, etag: &str, buffer_max: u64) -> Result<Conditional, TierError> {
        download::get_if_changed(self, key, etag, buffer_max).await
    }

    async fn list_page(&self, request: &PageRequest) -> Result<Page, TierError> {
        listing::page(self, request).await
    }
}
