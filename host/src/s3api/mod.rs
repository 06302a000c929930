//! The S3-compatible endpoint: `tiered serve` speaking S3's REST protocol on
//! a listener of its own (`[s3_api] listen`, off by default), so programs
//! written for S3 (the AWS SDKs and CLI, boto3, rclone...) use the store
//! unchanged. The protocol (routing, SigV4, XML, `aws-chunked` bodies) is
//! the `s3s` crate's; this module maps its operations onto
//! [`TieredStore`](tiered::TieredStore) calls, as `/v1` does.
//!
//! - this file: [`TieredS3`], the `s3s::S3` implementation dispatching each
//!   operation, and [`Endpoint`], binding and serving it (a request without
//!   a body goes straight to s3s; one with a body through the layer that
//!   times out a stalled body);
//! - [`direct`]: plain `GetObject` and `HeadObject` requests, recognised
//!   and answered without s3s's preparation, as s3s would answer them;
//! - [`addressing`]: virtual-host (`<bucket>.<domain>`) and path-style
//!   addressing;
//! - [`bucket`]: the one configured bucket and the bucket operations;
//! - [`auth`]: SigV4 against the configured access keys, or unsigned
//!   requests only when there are none;
//! - [`sigv4`]: the header signatures of the reads [`direct`] answers,
//!   checked without s3s;
//! - [`objects`]: `GetObject`, `HeadObject`, `PutObject`, `DeleteObject`,
//!   `DeleteObjects`, and the metadata shared with `/v1`;
//! - [`listing`]: `ListObjectsV2` and `ListObjects`;
//! - [`copy`]: `CopyObject` and the source of `UploadPartCopy`, a read and
//!   a write through the store;
//! - [`multipart`]: multipart uploads, parts on disk, and their listings;
//! - [`upload`]: request bodies, buffered when small, spooled when large,
//!   checked against `Content-MD5` and `x-amz-checksum-crc32`;
//! - [`error`]: store failures as S3 error codes.
//!
//! Every other S3 operation (tagging, ACLs, versioning, bucket
//! configuration...) gets s3s's `NotImplemented` (501) answer. The
//! operations and headers are listed in docs/s3-api.md.

pub mod addressing;
pub mod auth;
pub mod bucket;
pub mod copy;
pub mod direct;
pub mod error;
pub mod listing;
pub mod multipart;
pub mod objects;
pub mod sigv4;
pub mod upload;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use axum::Router;
use axum::error_handling::HandleError;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use s3s::dto::*;
use s3s::service::S3ServiceBuilder;
use s3s::{S3, S3Request, S3Response, S3Result};
use tokio::net::TcpListener;

use crate::config::s3_api::ValidS3Api;
use crate::http::AppState;
use crate::http::metrics::{STATUSES, status_class};

/// The S3 operations over the service's store.
#[derive(Debug, Clone)]
pub struct TieredS3 {
    /// The store, limits and spool directory shared with `/v1`.
    pub state: Arc<AppState>,
    pub bucket: bucket::OneBucket,
    pub uploads: multipart::Uploads,
}

#[async_trait::async_trait]
impl S3 for TieredS3 {
    async fn get_object(&self, req: S3Request<GetObjectInput>) -> S3Result<S3Response<GetObjectOutput>> {
        objects::get(self, req).await
    }

    async fn head_object(&self, req: S3Request<HeadObjectInput>) -> S3Result<S3Response<HeadObjectOutput>> {
        objects::head(self, req).await
    }

    async fn put_object(&self, req: S3Request<PutObjectInput>) -> S3Result<S3Response<PutObjectOutput>> {
        objects::put(self, req).await
    }

    async fn delete_object(&self, req: S3Request<DeleteObjectInput>) -> S3Result<S3Response<DeleteObjectOutput>> {
        objects::delete(self, req).await
    }

    async fn delete_objects(&self, req: S3Request<DeleteObjectsInput>) -> S3Result<S3Response<DeleteObjectsOutput>> {
        objects::delete_many(self, req).await
    }

    async fn list_objects_v2(&self, req: S3Request<ListObjectsV2Input>) -> S3Result<S3Response<ListObjectsV2Output>> {
        listing::list_v2(self, req).await
    }

    async fn list_objects(&self, req: S3Request<ListObjectsInput>) -> S3Result<S3Response<ListObjectsOutput>> {
        listing::list_v1(self, req).await
    }

    async fn create_multipart_upload(
        &self,
        req: S3Request<CreateMultipartUploadInput>,
    ) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
        multipart::create(self, req).await
    }

    async fn upload_part(&self, req: S3Request<UploadPartInput>) -> S3Result<S3Response<UploadPartOutput>> {
        multipart::upload_part(self, req).await
    }

    async fn complete_multipart_upload(
        &self,
        req: S3Request<CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
        multipart::complete(self, req).await
    }

    async fn abort_multipart_upload(
        &self,
        req: S3Request<AbortMultipartUploadInput>,
    ) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
        multipart::abort(self, req).await
    }

    async fn copy_object(&self, req: S3Request<CopyObjectInput>) -> S3Result<S3Response<CopyObjectOutput>> {
        copy::copy(self, req).await
    }

    async fn upload_part_copy(
        &self,
        req: S3Request<UploadPartCopyInput>,
    ) -> S3Result<S3Response<UploadPartCopyOutput>> {
        multipart::upload_part_copy(self, req).await
    }

    async fn list_parts(&self, req: S3Request<ListPartsInput>) -> S3Result<S3Response<ListPartsOutput>> {
        multipart::list_parts(self, req).await
    }

    async fn list_multipart_uploads(
        &self,
        req: S3Request<ListMultipartUploadsInput>,
    ) -> S3Result<S3Response<ListMultipartUploadsOutput>> {
        multipart::list_uploads(self, req).await
    }

    async fn list_buckets(&self, _req: S3Request<ListBucketsInput>) -> S3Result<S3Response<ListBucketsOutput>> {
        Ok(self.bucket.list())
    }

    async fn head_bucket(&self, req: S3Request<HeadBucketInput>) -> S3Result<S3Response<HeadBucketOutput>> {
        self.bucket.head(&req)
    }

    async fn get_bucket_location(
        &self,
        req: S3Request<GetBucketLocationInput>,
    ) -> S3Result<S3Response<GetBucketLocationOutput>> {
        self.bucket.location(&req)
    }

    async fn create_bucket(&self, req: S3Request<CreateBucketInput>) -> S3Result<S3Response<CreateBucketOutput>> {
        self.bucket.create(&req)
    }
}

/// A bound S3 endpoint.
#[derive(Debug)]
pub struct Endpoint {
    listener: TcpListener,
    addr: SocketAddr,
    front: Front,
    bucket: String,
    signed: bool,
    uploads: multipart::Uploads,
    /// Uploads untouched this long are aborted; `None`: never.
    abandon_after: Option<Duration>,
}

impl Endpoint {
    /// The service on `listener` (bound to `config.listen`) over `state`'s
    /// store; multipart uploads live under `data_dir`.
    pub fn new(listener: TcpListener, config: &ValidS3Api, state: Arc<AppState>, data_dir: &std::path::Path) -> Self {
        let addr = listener.local_addr().unwrap_or(config.listen);
        let idle_timeout = middleware::from_fn_with_state(state.clone(), crate::http::timeout::body_idle_timeout);
        let s3 = TieredS3 {
            state,
            bucket: bucket::OneBucket {
                name: config.config.bucket.clone(),
                region: config.config.region.clone(),
                since: SystemTime::now(),
            },
            uploads: multipart::Uploads::new(data_dir.join("s3-uploads")),
        };
        let uploads = s3.uploads.clone();
        let abandon_after = match config.config.abort_incomplete_uploads_after_secs {
            0 => None,
            secs => Some(Duration::from_secs(secs)),
        };
        let signed = !config.config.access_keys.is_empty();
        let hosts = addressing::VirtualHosts::new(&config.config.domains);
        let direct = Arc::new(direct::Direct::new(&config.config.bucket, hosts.clone(), &config.config.access_keys));
        let mut builder = S3ServiceBuilder::new(s3.clone());
        builder.set_host(hosts);
        if signed {
            builder.set_auth(auth::Keys::new(&config.config.access_keys));
        } else {
            builder.set_auth(auth::NoKeys);
            builder.set_access(auth::Anonymous);
        }
        let s3s = builder.build();
        // A stalled upload ends with `RequestTimeout`, as on `/v1` (408 there).
        let router = Router::new()
            .fallback_service(HandleError::new(s3s.clone(), unhandled))
            .layer(idle_timeout)
            .layer(middleware::from_fn(log_request));
        let front = Front { router, s3s, direct, api: Arc::new(s3) };
        Endpoint { listener, addr, front, bucket: config.config.bucket.clone(), signed, uploads, abandon_after }
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serve until `shutdown` completes, then finish the requests in flight.
    pub async fn serve(self, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        tracing::info!(
            s3_api = %self.addr,
            bucket = %self.bucket,
            auth = if self.signed { "sigv4" } else { "none (unsigned requests only)" },
            "S3 API serving"
        );
        let sweeper = self.abandon_after.map(|idle| self.uploads.sweeper(idle));
        let front = axum::ServiceExt::<Request>::into_make_service(self.front);
        let served = axum::serve(self.listener, front).with_graceful_shutdown(shutdown).await;
        if let Some(sweeper) = sweeper {
            sweeper.abort();
        }
        served
    }
}

/// A failure s3s could not turn into an S3 error (a broken connection).
async fn unhandled(err: s3s::HttpError) -> Response {
    tracing::warn!(?err, "S3 API: request failed");
    StatusCode::INTERNAL_SERVER_ERROR.into_response()
}

/// The endpoint's service: a request without a body goes straight to s3s,
/// or is answered by [`direct`] when it is a plain object read, logged as
/// [`log_request`] logs; one with a body takes the router, whose layer puts
/// the idle timeout on its body. A layer costs a boxed future and a clone of
/// the inner service per request, a noticeable share of a small `GetObject`
/// (as on `/v1`: [`crate::http::front`]).
#[derive(Clone, Debug)]
struct Front {
    router: Router,
    s3s: s3s::service::S3Service,
    direct: Arc<direct::Direct>,
    /// Shared, not cloned, per request: it holds the bucket's names.
    api: Arc<TieredS3>,
}

impl tower_service::Service<Request> for Front {
    type Response = Response;
    type Error = std::convert::Infallible;
    type Future = futures::future::Either<
        futures::future::BoxFuture<'static, Result<Response, Self::Error>>,
        <Router as tower_service::Service<Request>>::Future,
    >;

    fn poll_ready(&mut self, _cx: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request) -> Self::Future {
        use futures::future::Either;
        if crate::http::front::carries_body(request.headers()) {
            return Either::Right(self.router.call(request));
        }
        let asked = Asked::of(&request);
        if let Some(read) = self.direct.recognise(&request) {
            let api = self.api.clone();
            return Either::Left(Box::pin(async move { Ok(asked.log(direct::answer(&api, read).await, Via::Direct)) }));
        }
        let call = tower_service::Service::call(&mut self.s3s, request);
        Either::Left(Box::pin(async move {
            let response = match call.await {
                Ok(response) => response.map(axum::body::Body::new),
                Err(err) => unhandled(err).await,
            };
            Ok(asked.log(response, Via::S3s))
        }))
    }
}

/// One debug line per request (s3s's own logs are off by default: it logs
/// every refused request, a `NoSuchKey` too, as an error), and the count of
/// responses.
async fn log_request(request: Request, next: Next) -> Response {
    let asked = Asked::of(&request);
    let response = next.run(request).await;
    asked.log(response, Via::S3s)
}

/// Which way the endpoint answered a request: the label `path` of
/// `tiered_s3_api_responses_total`.
#[derive(Debug, Clone, Copy)]
enum Via {
    /// A plain read answered by [`direct`].
    Direct,
    /// Everything else, answered by s3s.
    S3s,
}

/// `tiered_s3_api_responses_total`, by way (`Via`) and status class.
static RESPONSES: [[std::sync::OnceLock<metrics::Counter>; STATUSES.len()]; 2] =
    [const { [const { std::sync::OnceLock::new() }; STATUSES.len()] }; 2];

fn count(via: Via, status: StatusCode) {
    let class = status_class(status);
    let path = match via {
        Via::Direct => "direct",
        Via::S3s => "s3s",
    };
    RESPONSES[via as usize][class]
        .get_or_init(|| metrics::counter!("tiered_s3_api_responses_total", "class" => STATUSES[class], "path" => path))
        .increment(1);
}

/// `tiered_s3_api_requests_abandoned_total`.
static ABANDONED: std::sync::OnceLock<metrics::Counter> = std::sync::OnceLock::new();

/// What [`log_request`] needs of a request to log its answer. Dropped
/// without logging one (the client hung up and the request's future was
/// dropped), it counts the request as abandoned.
struct Asked {
    method: axum::http::Method,
    uri: axum::http::Uri,
    started: Instant,
    logged: bool,
}

impl Asked {
    fn of<B>(request: &axum::http::Request<B>) -> Asked {
        Asked { method: request.method().clone(), uri: request.uri().clone(), started: Instant::now(), logged: false }
    }

    fn log(mut self, response: Response, via: Via) -> Response {
        count(via, response.status());
        self.logged = true;
        let (method, started) = (&self.method, self.started);
        let (path, status) = (self.uri.path(), response.status().as_u16());
        let micros = started.elapsed().as_micros() as u64;
        if response.status().is_server_error() {
            tracing::warn!(%method, path, status, micros, "S3 API request");
        } else {
            tracing::debug!(%method, path, status, micros, "S3 API request");
        }
        response
    }
}

impl Drop for Asked {
    fn drop(&mut self) {
        // A handler that panicked did not lose its client.
        if self.logged || std::thread::panicking() {
            return;
        }
        ABANDONED.get_or_init(|| metrics::counter!("tiered_s3_api_requests_abandoned_total")).increment(1);
        let micros = self.started.elapsed().as_micros() as u64;
        tracing::debug!(method = %self.method, path = self.uri.path(), micros, "S3 API request abandoned by its client");
    }
}
