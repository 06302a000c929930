//! Reading a [`Config`]: the TOML file, the environment overrides, and the
//! checks that need several keys at once ([`Config::validate`]).
//!
//! Every error is one line naming the file and key, or the variable, at fault:
//! `tiered.toml: hot.max_bytes: invalid size "12XB": unknown unit; ... (line 5)`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer};

use super::{ByteSize, ColdKind, Config};

/// Why the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    #[error("cannot read config file {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML or a key has the wrong name, type or value.
    #[error("config file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    /// An environment override has a value that cannot be used.
    #[error("environment variable {var}: {message}")]
    Env { var: &'static str, message: String },
    /// A key (possibly set by a flag or variable) has an unusable value.
    #[error("{key}: {message}")]
    Invalid { key: &'static str, message: String },
    #[error(
        "listen = {addr} is not a loopback address and no admin_token is set; set admin_token \
         (or TIERED_ADMIN_TOKEN) or listen on 127.0.0.1"
    )]
    OpenAdmin { addr: SocketAddr },
    #[error(
        "s3_api.listen = {addr} is not a loopback address and no access key is set; add [[s3_api.access_keys]] \
         (or TIERED_S3_API_ACCESS_KEY_ID and TIERED_S3_API_SECRET_ACCESS_KEY) or listen on 127.0.0.1"
    )]
    OpenS3Api { addr: SocketAddr },
}

/// A configuration that passed [`Config::validate`].
#[derive(Clone, Debug)]
pub struct ValidConfig {
    pub config: Config,
    /// `config.listen`, parsed.
    pub listen: SocketAddr,
    /// The S3-compatible endpoint, when `s3_api.listen` is set.
    pub s3_api: Option<super::s3_api::ValidS3Api>,
}

impl Config {
    /// The defaults overlaid with the file at `path`.
    pub fn from_file(path: &Path) -> Result<Config, ConfigError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_path_buf(), source })?;
        Config::from_toml(&text).map_err(|message| ConfigError::Parse { path: path.to_path_buf(), message })
    }

    /// Parse TOML text; the error names the key path and the line.
    pub fn from_toml(text: &str) -> Result<Config, String> {
        let located = |err: &toml::de::Error| match err.span() {
            Some(span) => format!(" (line {})", text[..span.start.min(text.len())].lines().count().max(1)),
            None => String::new(),
        };
        let de = toml::Deserializer::parse(text).map_err(|e| format!("{}{}", e.message().trim(), located(&e)))?;
        serde_path_to_error::deserialize(de).map_err(|e| {
            let (path, inner) = (e.path().to_string(), e.inner());
            let at = if path == "." { String::new() } else { format!("{path}: ") };
            format!("{at}{}{}", inner.message().trim(), located(inner))
        })
    }

    /// Apply the `TIERED_*` overrides found by `var` (`std::env::var` in the
    /// binary; a map in tests).
    pub fn apply_env(&mut self, var: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        let size = |name: &'static str, v: String| {
            v.parse::<ByteSize>().map_err(|e| ConfigError::Env { var: name, message: e.to_string() })
        };
        let get = |name: &'static str| var(name).map(|v| (name, v));
        if let Some((_, v)) = get("TIERED_LISTEN") {
            self.listen = v;
        }
        if let Some((_, v)) = get("TIERED_DATA_DIR") {
            self.data_dir = v.into();
        }
        if let Some((_, v)) = get("TIERED_POLICY") {
            self.policy = (!v.is_empty()).then(|| v.into());
        }
        if let Some((_, v)) = get("TIERED_ADMIN_TOKEN") {
            self.admin_token = (!v.is_empty()).then_some(v);
        }
        if let Some((name, v)) = get("TIERED_COLD") {
            self.cold.kind = match v.as_str() {
                "local" => ColdKind::Local,
                "s3" => ColdKind::S3,
                _ => return Err(ConfigError::Env { var: name, message: format!("expected local or s3, got {v:?}") }),
            };
        }
        let s3 = &mut self.cold;
        for (name, slot) in [
            ("TIERED_S3_BUCKET", &mut s3.bucket),
            ("TIERED_S3_PREFIX", &mut s3.prefix),
            ("TIERED_S3_ENDPOINT", &mut s3.endpoint),
            ("TIERED_S3_REGION", &mut s3.region),
        ] {
            if let Some(v) = var(name) {
                *slot = Some(v);
            }
        }
        if let Some((name, v)) = get("TIERED_S3_PATH_STYLE") {
            s3.path_style = matches!(v.as_str(), "1" | "true" | "yes");
            if !matches!(v.as_str(), "0" | "1" | "true" | "false" | "yes" | "no") {
                return Err(ConfigError::Env { var: name, message: format!("expected true or false, got {v:?}") });
            }
        }
        if let Some((name, v)) = get("TIERED_HOT_MAX_BYTES") {
            self.hot.max_bytes = size(name, v)?;
        }
        if let Some((name, v)) = get("TIERED_WARM_MAX_BYTES") {
            self.warm.max_bytes = size(name, v)?;
        }
        if let Some((name, v)) = get("TIERED_MAX_BODY_BYTES") {
            self.max_body_bytes = size(name, v)?;
        }
        if let Some((name, v)) = get("TIERED_STREAM_ABOVE_BYTES") {
            self.stream_above_bytes = size(name, v)?;
        }
        if let Some((name, v)) = get("TIERED_MAX_OBJECT_BYTES") {
            self.max_object_bytes = size(name, v)?;
        }
        self.s3_api.apply_env(&var)?;
        Ok(())
    }

    /// The checks that need more than one key; parses `listen`.
    pub fn validate(self) -> Result<ValidConfig, ConfigError> {
        let listen: SocketAddr = self.listen.parse().map_err(|_| ConfigError::Invalid {
            key: "listen",
            message: format!("{:?} is not an IP:port address (e.g. \"127.0.0.1:7070\")", self.listen),
        })?;
        if self.cold.kind == ColdKind::S3 && self.cold.bucket.as_deref().is_none_or(|b| b.trim().is_empty()) {
            return Err(ConfigError::Invalid {
                key: "cold.bucket",
                message: "cold.kind = \"s3\" needs a bucket (cold.bucket or TIERED_S3_BUCKET)".into(),
            });
        }
        if !listen.ip().is_loopback() && self.admin_token.is_none() {
            return Err(ConfigError::OpenAdmin { addr: listen });
        }
        if self.admin_token.as_deref().is_some_and(|t| t.trim().is_empty() || t.contains(char::is_whitespace)) {
            return Err(ConfigError::Invalid {
                key: "admin_token",
                message: "must be non-empty, without spaces".into(),
            });
        }
        if self.body_idle_timeout_ms == 0 {
            return Err(ConfigError::Invalid { key: "body_idle_timeout_ms", message: "must be at least 1 ms".into() });
        }
        if self.max_body_bytes.0 == 0 || usize::try_from(self.max_body_bytes.0).is_err() {
            return Err(ConfigError::Invalid { key: "max_body_bytes", message: "must be at least 1 byte".into() });
        }
        if self.stream_above_bytes.0 == 0 {
            return Err(ConfigError::Invalid { key: "stream_above_bytes", message: "must be at least 1 byte".into() });
        }
        if self.max_object_bytes.0 == 0 {
            return Err(ConfigError::Invalid { key: "max_object_bytes", message: "must be at least 1 byte".into() });
        }
        self.trace.validate()?;
        let s3_api = self.s3_api.validate()?;
        Ok(ValidConfig { config: self, listen, s3_api })
    }
}

/// `[policy_config]`: string values; numbers and booleans are accepted and
/// handed to the policy as their TOML text.
pub(super) fn string_table<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Scalar {
        Text(String),
        Int(i64),
        Float(f64),
        Bool(bool),
    }
    let table = BTreeMap::<String, Scalar>::deserialize(d)?;
    Ok(table
        .into_iter()
        .map(|(k, v)| {
            let v = match v {
                Scalar::Text(s) => s,
                Scalar::Int(n) => n.to_string(),
                Scalar::Float(x) => x.to_string(),
                Scalar::Bool(b) => b.to_string(),
            };
            (k, v)
        })
        .collect())
}

#[cfg(test)]
#[path = "load_tests.rs"]
mod tests;
