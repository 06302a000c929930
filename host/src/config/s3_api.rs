//! `[s3_api]`: the S3-compatible endpoint (off unless `listen` is set).
//!
//! - [`S3ApiConfig`]: its own listener, the one bucket name it serves, the
//!   base domains of virtual-host addressing, the access keys;
//! - [`AccessKey`] / [`Secret`]: a key pair whose secret never appears in a
//!   `Debug` rendering (so never in a log line);
//! - [`S3ApiConfig::apply_env`] and [`S3ApiConfig::validate`]: the
//!   `TIERED_S3_API_*` overrides and the checks, called by
//!   [`Config::apply_env`](super::Config::apply_env) and
//!   [`Config::validate`](super::Config::validate).
//!
//! Like the admin routes, an endpoint without access keys answers anyone, so
//! it may only listen on a loopback address.

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

use super::ConfigError;

/// The S3-compatible endpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct S3ApiConfig {
    /// `IP:port` of the endpoint's own listener; `None` (the default): off.
    pub listen: Option<String>,
    /// The one bucket name the endpoint serves; every key of the store is
    /// an object of it. Other names are `NoSuchBucket`.
    pub bucket: String,
    /// The region the endpoint reports (`GetBucketLocation`); signatures
    /// are accepted for any region.
    pub region: String,
    /// Base domains of virtual-host addressing: `Host: <bucket>.<domain>`
    /// names the bucket; any other host (an IP address, another name) is
    /// path-style (`/<bucket>/<key>`).
    pub domains: Vec<String>,
    /// Access keys for SigV4. Empty: requests are not authenticated, only
    /// unsigned requests are answered, and `listen` must be loopback.
    pub access_keys: Vec<AccessKey>,
    /// A multipart upload none of whose files changed for this many seconds
    /// is aborted (its parts removed), as S3's lifecycle rule
    /// `AbortIncompleteMultipartUpload` does; 0 keeps uploads until a
    /// client completes or aborts them.
    pub abort_incomplete_uploads_after_secs: u64,
}

impl Default for S3ApiConfig {
    fn default() -> Self {
        S3ApiConfig {
            listen: None,
            bucket: "tiered".into(),
            region: "us-east-1".into(),
            domains: vec!["localhost".into()],
            access_keys: Vec::new(),
            abort_incomplete_uploads_after_secs: 7 * 24 * 3600,
        }
    }
}

/// One SigV4 key pair.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessKey {
    /// The access key id clients send (`AWS_ACCESS_KEY_ID`).
    pub id: String,
    /// The secret they sign with (`AWS_SECRET_ACCESS_KEY`).
    pub secret: Secret,
}

/// A secret value: compared and used, never shown (`Debug` prints `"***"`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value, for the signature check alone.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("\"***\"")
    }
}

/// The endpoint's settings once checked.
#[derive(Clone, Debug)]
pub struct ValidS3Api {
    pub config: S3ApiConfig,
    /// `listen`, parsed.
    pub listen: SocketAddr,
}

impl S3ApiConfig {
    /// `TIERED_S3_API_LISTEN`, `TIERED_S3_API_BUCKET`, and one key pair from
    /// `TIERED_S3_API_ACCESS_KEY_ID` + `TIERED_S3_API_SECRET_ACCESS_KEY`
    /// (added to the file's).
    pub fn apply_env(&mut self, var: &impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        if let Some(v) = var("TIERED_S3_API_LISTEN") {
            self.listen = (!v.is_empty()).then_some(v);
        }
        if let Some(v) = var("TIERED_S3_API_BUCKET") {
            self.bucket = v;
        }
        match (var("TIERED_S3_API_ACCESS_KEY_ID"), var("TIERED_S3_API_SECRET_ACCESS_KEY")) {
            (Some(id), Some(secret)) => self.access_keys.push(AccessKey { id, secret: Secret(secret) }),
            (None, None) => {}
            (Some(_), None) => {
                return Err(ConfigError::Env {
                    var: "TIERED_S3_API_SECRET_ACCESS_KEY",
                    message: "TIERED_S3_API_ACCESS_KEY_ID is set; its secret must be set too".into(),
                });
            }
            (None, Some(_)) => {
                return Err(ConfigError::Env {
                    var: "TIERED_S3_API_ACCESS_KEY_ID",
                    message: "TIERED_S3_API_SECRET_ACCESS_KEY is set; the key id must be set too".into(),
                });
            }
        }
        Ok(())
    }

    /// `None` when the endpoint is off; else its parsed address, once the
    /// bucket name, domains and keys are usable and an endpoint without keys
    /// listens on loopback only.
    pub fn validate(&self) -> Result<Option<ValidS3Api>, ConfigError> {
        let Some(listen) = &self.listen else { return Ok(None) };
        let addr: SocketAddr = listen.parse().map_err(|_| ConfigError::Invalid {
            key: "s3_api.listen",
            message: format!("{listen:?} is not an IP:port address (e.g. \"127.0.0.1:7071\")"),
        })?;
        if let Err(why) = check_bucket_name(&self.bucket) {
            return Err(ConfigError::Invalid {
                key: "s3_api.bucket",
                message: format!("{:?} is not an S3 bucket name: {why}", self.bucket),
            });
        }
        for domain in &self.domains {
            let valid = !domain.is_empty()
                && domain
                    .split('.')
                    .all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
            if !valid {
                return Err(ConfigError::Invalid {
                    key: "s3_api.domains",
                    message: format!("{domain:?} is not a domain name (e.g. \"s3.example.com\", without a port)"),
                });
            }
        }
        for key in &self.access_keys {
            if key.id.is_empty() || key.id.contains(char::is_whitespace) || key.secret.0.is_empty() {
                return Err(ConfigError::Invalid {
                    key: "s3_api.access_keys",
                    message: "every key needs a non-empty id without spaces and a non-empty secret".into(),
                });
            }
        }
        if !addr.ip().is_loopback() && self.access_keys.is_empty() {
            return Err(ConfigError::OpenS3Api { addr });
        }
        Ok(Some(ValidS3Api { config: self.clone(), listen: addr }))
    }
}

/// S3's bucket naming rules: 3 to 63 characters, lowercase letters, digits,
/// `-` and `.`, starting and ending with a letter or digit, not an IP address.
pub fn check_bucket_name(name: &str) -> Result<(), &'static str> {
    if !(3..=63).contains(&name.len()) {
        return Err("3 to 63 characters");
    }
    if !name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.') {
        return Err("lowercase letters, digits, '-' and '.' only");
    }
    let edge = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if !edge(name.as_bytes()[0]) || !edge(name.as_bytes()[name.len() - 1]) {
        return Err("must start and end with a letter or a digit");
    }
    if name.contains("..") || name.parse::<std::net::Ipv4Addr>().is_ok() {
        return Err("no '..' and not an IP address");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_by_default_and_on_with_a_listen_address() -> Result<(), ConfigError> {
        assert!(S3ApiConfig::default().validate()?.is_none());
        let on = S3ApiConfig { listen: Some("127.0.0.1:7071".into()), ..Default::default() };
        let valid = on.validate()?.expect("on");
        assert_eq!(valid.listen.port(), 7071);
        Ok(())
    }

    #[test]
    fn without_keys_only_loopback() {
        let open = S3ApiConfig { listen: Some("0.0.0.0:7071".into()), ..Default::default() };
        assert!(matches!(open.validate(), Err(ConfigError::OpenS3Api { .. })));
        let keyed = S3ApiConfig { access_keys: vec![AccessKey { id: "AK".into(), secret: Secret::new("SK") }], ..open };
        assert!(keyed.validate().is_ok());
    }

    #[test]
    fn secrets_never_show_in_debug() {
        let key = AccessKey { id: "AKID".into(), secret: Secret::new("very-secret") };
        let shown = format!("{key:?}");
        assert!(shown.contains("AKID") && !shown.contains("very-secret"), "{shown}");
    }

    #[test]
    fn bucket_names_follow_s3_rules() {
        for good in ["tiered", "my-bucket.data", "abc"] {
            assert!(check_bucket_name(good).is_ok(), "{good}");
        }
        for bad in ["ab", "Upper", "-dash", "dot.", "a..b", "192.168.1.1", "under_score"] {
            assert!(check_bucket_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_key_pair_from_the_environment() -> Result<(), ConfigError> {
        let mut config = S3ApiConfig::default();
        let env = |name: &str| match name {
            "TIERED_S3_API_LISTEN" => Some("127.0.0.1:9000".to_string()),
            "TIERED_S3_API_ACCESS_KEY_ID" => Some("AK".to_string()),
            "TIERED_S3_API_SECRET_ACCESS_KEY" => Some("SK".to_string()),
            _ => None,
        };
        config.apply_env(&env)?;
        assert_eq!(config.listen.as_deref(), Some("127.0.0.1:9000"));
        assert_eq!(config.access_keys, vec![AccessKey { id: "AK".into(), secret: Secret::new("SK") }]);
        let half = |name: &str| (name == "TIERED_S3_API_ACCESS_KEY_ID").then(|| "AK".to_string());
        assert!(S3ApiConfig::default().apply_env(&half).is_err());
        Ok(())
    }
}
