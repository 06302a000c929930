//! Who may call the endpoint: SigV4 (and SigV2) signatures checked by s3s
//! against the configured access keys.
//!
//! - With keys ([`Keys`]): every request must be signed (header or presigned
//!   URL) with one of them; an unsigned request is `AccessDenied`, an unknown
//!   key id `InvalidAccessKeyId`, a wrong signature `SignatureDoesNotMatch`.
//! - Without keys ([`NoKeys`] + [`Anonymous`]), which the configuration
//!   allows on loopback only: unsigned requests are served; a signed one is
//!   `AccessDenied` with a message saying how to send it unsigned, since a
//!   signature the endpoint cannot check would otherwise pass as valid.
//!
//! Secrets stay in [`Secret`](crate::config::s3_api::Secret) and s3s's
//! `SecretKey`, neither of which prints its value.

use std::collections::HashMap;

use s3s::access::{S3Access, S3AccessContext};
use s3s::auth::{S3Auth, SecretKey};
use s3s::{S3Error, S3ErrorCode, S3Result};

use crate::config::s3_api::AccessKey;

/// The configured key pairs.
pub struct Keys {
    secrets: HashMap<String, SecretKey>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys").field("ids", &self.secrets.keys().collect::<Vec<_>>()).finish()
    }
}

impl Keys {
    pub fn new(keys: &[AccessKey]) -> Keys {
        Keys { secrets: keys.iter().map(|k| (k.id.clone(), SecretKey::from(k.secret.expose()))).collect() }
    }
}

#[async_trait::async_trait]
impl S3Auth for Keys {
    async fn get_secret_key(&self, access_key: &str) -> S3Result<SecretKey> {
        match self.secrets.get(access_key) {
            Some(secret) => Ok(secret.clone()),
            None => {
                tracing::debug!(access_key, "S3 API: unknown access key id");
                Err(S3Error::with_message(
                    S3ErrorCode::InvalidAccessKeyId,
                    "The AWS access key Id you provided does not exist in our records.",
                ))
            }
        }
    }
}

/// No keys configured: any signature is refused, with the way out.
#[derive(Debug, Clone, Copy)]
pub struct NoKeys;

#[async_trait::async_trait]
impl S3Auth for NoKeys {
    async fn get_secret_key(&self, _access_key: &str) -> S3Result<SecretKey> {
        Err(S3Error::with_message(
            S3ErrorCode::AccessDenied,
            "This endpoint has no access keys configured and cannot check signatures: send the request unsigned \
             (aws --no-sign-request, botocore UNSIGNED, an rclone remote without keys), or configure \
             [[s3_api.access_keys]] on the server.",
        ))
    }
}

/// No keys configured: unsigned requests are allowed.
#[derive(Debug, Clone, Copy)]
pub struct Anonymous;

#[async_trait::async_trait]
impl S3Access for Anonymous {
    async fn check(&self, _cx: &mut S3AccessContext<'_>) -> S3Result<()> {
        Ok(())
    }
}
