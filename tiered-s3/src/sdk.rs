//! [`SdkClient`]: the [`ObjectClient`] seam on `aws-sdk-s3`. Each method is
//! one SDK call; what the answers mean is the tier's business. SDK errors
//! become [`ClientError`]s keeping S3's status, code and message (the SDK
//! has already retried throttling and 5xx with backoff).

use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart, Delete, MetadataDirective, ObjectIdentifier};
use bytes::Bytes;
use futures::StreamExt;

use crate::client::{
    ClientError, DeleteFailure, DeleteReply, GetReply, ListPage, ListRequest, ObjectClient, ObjectHead, PutHead,
    RangeReply, parse_content_range,
};

/// The SDK client, on one bucket.
#[derive(Clone, Debug)]
pub struct SdkClient {
    client: Client,
    bucket: String,
}

impl SdkClient {
    pub fn new(client: Client, bucket: String) -> Self {
        SdkClient { client, bucket }
    }
}

/// An SDK error as a [`ClientError`].
fn client_error<E>(err: SdkError<E, HttpResponse>) -> ClientError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let status = err.raw_response().map(|r| r.status().as_u16());
    let (code, message) = match &err {
        SdkError::ServiceError(service) => (
            service.err().code().unwrap_or("Unknown").to_string(),
            service.err().message().unwrap_or("no message").to_string(),
        ),
        SdkError::TimeoutError(_) => ("Timeout".to_string(), "request timed out".to_string()),
        SdkError::DispatchFailure(d) => ("DispatchFailure".to_string(), format!("{d:?}")),
        other => ("ClientError".to_string(), other.to_string()),
    };
    ClientError { status, code, message, source: Some(std::sync::Arc::new(err)) }
}

fn millis(time: Option<&aws_sdk_s3::primitives::DateTime>) -> Option<u64> {
    time.and_then(|t| t.to_millis().ok()).and_then(|ms| u64::try_from(ms).ok())
}

fn length(length: Option<i64>) -> Option<u64> {
    length.and_then(|l| u64::try_from(l).ok())
}

/// What a GetObject's reply says about the object.
fn head_of_get(r: &aws_sdk_s3::operation::get_object::GetObjectOutput) -> ObjectHead {
    ObjectHead {
        content_type: r.content_type().map(str::to_string),
        metadata: r.metadata().map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default(),
        etag: r.e_tag().map(str::to_string),
        content_length: length(r.content_length()),
        last_modified_ms: millis(r.last_modified()),
    }
}

/// A GetObject's body, chunk by chunk as the network delivers it.
fn body_of_get(body: ByteStream) -> crate::client::BodyStream {
    futures::stream::unfold(Some(body), |body| async move {
        let mut body = body?;
        match body.next().await? {
            Ok(chunk) => Some((Ok(chunk), Some(body))),
            Err(e) => Some((Err(ClientError::dispatch(format!("body: {e}"))), None)),
        }
    })
    .boxed()
}

#[async_trait]
impl ObjectClient for SdkClient {
    async fn head_bucket(&self) -> Result<(), ClientError> {
        self.client.head_bucket().bucket(&self.bucket).send().await.map(|_| ()).map_err(client_error)
    }

    async fn head_object(&self, key: &str) -> Result<ObjectHead, ClientError> {
        let r = self.client.head_object().bucket(&self.bucket).key(key).send().await.map_err(client_error)?;
        Ok(ObjectHead {
            content_type: r.content_type().map(str::to_string),
            metadata: r.metadata().map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default(),
            etag: r.e_tag().map(str::to_string),
            content_length: length(r.content_length()),
            last_modified_ms: millis(r.last_modified()),
        })
    }

    async fn get_object(&self, key: &str, if_none_match: Option<&str>) -> Result<GetReply, ClientError> {
        let request = self.client.get_object().bucket(&self.bucket).key(key);
        let request = match if_none_match {
            Some(etag) => request.if_none_match(etag),
            None => request,
        };
        let r = request.send().await.map_err(client_error)?;
        Ok(GetReply { head: head_of_get(&r), body: body_of_get(r.body) })
    }

    async fn get_object_range(&self, key: &str, range: &str) -> Result<RangeReply, ClientError> {
        let request = self.client.get_object().bucket(&self.bucket).key(key).range(range);
        let r = request.send().await.map_err(client_error)?;
        let mut head = head_of_get(&r);
        let (range, complete) = match r.content_range() {
            Some(value) => parse_content_range(value).ok_or_else(|| {
                ClientError::dispatch(format!("GetObject {key:?} ({range}): unusable Content-Range {value:?}"))
            })?,
            // A server that ignores Range answers 200 with all of it.
            None => {
                let len = head.content_length.unwrap_or(0);
                (0..len, len)
            }
        };
        head.content_length = Some(complete);
        Ok(RangeReply { head, range, body: body_of_get(r.body) })
    }

    async fn put_object(&self, key: &str, head: PutHead, body: Bytes) -> Result<Option<String>, ClientError> {
        let r = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .set_content_type(head.content_type)
            .set_content_encoding(head.content_encoding)
            .set_metadata(Some(head.metadata.into_iter().collect()))
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(client_error)?;
        Ok(r.e_tag().map(str::to_string))
    }

    async fn create_multipart_upload(&self, key: &str, head: PutHead) -> Result<String, ClientError> {
        let r = self
            .client
            .create_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .set_content_type(head.content_type)
            .set_content_encoding(head.content_encoding)
            .set_metadata(Some(head.metadata.into_iter().collect()))
            .send()
            .await
            .map_err(client_error)?;
        r.upload_id()
            .map(str::to_string)
            .ok_or_else(|| ClientError::status(200, "InvalidResponse", "no upload id returned"))
    }

    async fn upload_part(
        &self,
        key: &str,
        upload_id: &str,
        number: i32,
        body: Bytes,
    ) -> Result<Option<String>, ClientError> {
        let r = self
            .client
            .upload_part()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(upload_id)
            .part_number(number)
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(client_error)?;
        Ok(r.e_tag().map(str::to_string))
    }

    async fn complete_multipart_upload(
        &self,
        key: &str,
        upload_id: &str,
        parts: Vec<(i32, Option<String>)>,
    ) -> Result<Option<String>, ClientError> {
        let parts = parts
            .into_iter()
            .map(|(n, etag)| CompletedPart::builder().part_number(n).set_e_tag(etag).build())
            .collect();
        let r = self
            .client
            .complete_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(upload_id)
            .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(parts)).build())
            .send()
            .await
            .map_err(client_error)?;
        Ok(r.e_tag().map(str::to_string))
    }

    async fn abort_multipart_upload(&self, key: &str, upload_id: &str) -> Result<(), ClientError> {
        let request = self.client.abort_multipart_upload().bucket(&self.bucket).key(key).upload_id(upload_id);
        request.send().await.map(|_| ()).map_err(client_error)
    }

    async fn replace_metadata(
        &self,
        key: &str,
        head: PutHead,
        if_match: Option<&str>,
    ) -> Result<Option<String>, ClientError> {
        let source = format!("{}/{}", self.bucket, percent_encode_path(key));
        let request = self
            .client
            .copy_object()
            .bucket(&self.bucket)
            .key(key)
            .copy_source(source)
            .metadata_directive(MetadataDirective::Replace)
            .set_content_type(head.content_type)
            .set_content_encoding(head.content_encoding)
            .set_metadata(Some(head.metadata.into_iter().collect()))
            .set_copy_source_if_match(if_match.map(str::to_string));
        let r = request.send().await.map_err(client_error)?;
        Ok(r.copy_object_result().and_then(|c| c.e_tag()).map(str::to_string))
    }

    async fn delete_object(&self, key: &str) -> Result<(), ClientError> {
        self.client.delete_object().bucket(&self.bucket).key(key).send().await.map(|_| ()).map_err(client_error)
    }

    async fn list_page(&self, request: ListRequest<'_>) -> Result<ListPage, ClientError> {
        let r = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(request.prefix)
            .set_delimiter(request.delimiter.map(str::to_string))
            .set_start_after(request.start_after.map(str::to_string))
            .set_continuation_token(request.token)
            .set_max_keys(request.max_keys)
            .send()
            .await
            .map_err(client_error)?;
        let keys = r.contents().iter().filter_map(|o| o.key()).map(str::to_string).collect();
        let prefixes = r.common_prefixes().iter().filter_map(|p| p.prefix()).map(str::to_string).collect();
        let next_token =
            if r.is_truncated() == Some(true) { r.next_continuation_token().map(str::to_string) } else { None };
        Ok(ListPage { keys, prefixes, next_token })
    }

    async fn delete_objects(&self, keys: &[String]) -> Result<DeleteReply, ClientError> {
        let invalid = |e: aws_sdk_s3::error::BuildError| ClientError::status(400, "InvalidRequest", e.to_string());
        let objects = keys
            .iter()
            .map(|k| ObjectIdentifier::builder().key(k).build())
            .collect::<Result<Vec<_>, _>>()
            .map_err(invalid)?;
        let delete = Delete::builder().set_objects(Some(objects)).quiet(false).build().map_err(invalid)?;
        let r = self.client.delete_objects().bucket(&self.bucket).delete(delete).send().await.map_err(client_error)?;
        let failed = r
            .errors()
            .iter()
            .map(|e| DeleteFailure {
                key: e.key().unwrap_or_default().to_string(),
                code: e.code().unwrap_or("Unknown").to_string(),
                message: e.message().unwrap_or_default().to_string(),
            })
            .collect();
        Ok(DeleteReply { deleted: r.deleted().len() as u64, failed })
    }
}

/// Percent-encode a key for `x-amz-copy-source` (unreserved characters and `/` kept).
fn percent_encode_path(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
