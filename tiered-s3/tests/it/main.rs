//! The S3 tier's logic without a server: the tier over the in-memory bucket
//! (`mock::MockClient`), with failures injected (`failure::FailureClient`).
//! The live suite against a real server is in the host's tests (`s3_live`).
//!
//! - `answers`: what 404 and 304 mean, objects written by other tools,
//!   truncated bodies, the size limit.
//! - `errors`: S3's errors as tier errors (throttling, access denied,
//!   timeouts), with S3's code in the message.
//! - `multipart`: uploads in parts, aborted when a step fails.
//! - `listing`: pages, continuation tokens, batched deletes.

mod answers;
mod errors;
mod listing;
mod multipart;

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use tiered::object::{Object, ObjectMeta, checksum};
use tiered_s3::failure::FailureClient;
use tiered_s3::mock::MockClient;
use tiered_s3::{S3Config, S3Tier};

/// A tier over an in-memory bucket, failures on command; returns both.
pub fn rig(config: S3Config) -> (S3Tier, Arc<FailureClient<MockClient>>) {
    rig_with(config, MockClient::new())
}

pub fn rig_with(config: S3Config, bucket: MockClient) -> (S3Tier, Arc<FailureClient<MockClient>>) {
    let client = Arc::new(FailureClient::new(bucket));
    let config = S3Config { bucket: "mock".into(), ..config };
    (S3Tier::with_client(config, client.clone()), client)
}

pub fn config() -> S3Config {
    S3Config { prefix: "store/".into(), ..S3Config::default() }
}

/// An object as the engine hands it to a tier.
pub fn object(key: &str, data: impl Into<Bytes>) -> Object {
    let data = data.into();
    let meta = ObjectMeta {
        key: key.to_string(),
        size: data.len() as u64,
        original_size: data.len() as u64,
        created_ms: 1_000,
        expires_ms: None,
        checksum: checksum(&data),
        codec: Default::default(),
        content_type: Some("text/plain".into()),
        metadata: BTreeMap::from([("owner".to_string(), "tests".to_string())]),
        etag: None,
        validated_ms: None,
    };
    Object::new(meta, data)
}
