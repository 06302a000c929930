//! The live S3 suite's connection to a real S3-compatible server.
//!
//! Settings come from the environment, so the same tests run against the
//! project's Garage (`tests/s3/garage.sh start` prints them), MinIO or AWS:
//!
//! - `TIERED_S3_BUCKET` (required), `TIERED_S3_ENDPOINT` (absent for AWS),
//!   `TIERED_S3_REGION`, `TIERED_S3_PATH_STYLE` (default: on when an
//!   endpoint is set), credentials from the standard AWS chain
//!   (`AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`, profile, role).
//! - The live tests are `#[ignore]`d: `cargo test` reports them as ignored,
//!   and `tests/run-all` runs them (`--include-ignored`) against the Garage
//!   server it starts. Asked for without settings, they fail.
//!
//! Every test works under its own random key prefix, so tests run in parallel
//! and leave each other alone.

#![allow(dead_code)]

use tiered_s3::{S3Config, S3Tier};

/// The settings. Live tests are `#[ignore]`d, so a run without a server
/// reports them as ignored; one asked for without settings fails, naming them.
pub fn config(test: &str) -> S3Config {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let config = S3Config::from_env(var).unwrap_or_else(|| {
        panic!(
            "{test}: the live S3 tests need TIERED_S3_BUCKET (and TIERED_S3_ENDPOINT, credentials): \
             run them through tests/run-all, which starts a server, or see tests/s3/garage.sh"
        )
    });
    S3Config {
        prefix: format!("{}tiered-tests/{test}-{:016x}/", config.prefix, unique()),
        // Short timeouts: the outage test must not wait a minute per request.
        operation_timeout_ms: 20_000,
        ..config
    }
}

/// The `[cold]` table of a service using `config`'s bucket.
pub fn cold_table(config: &S3Config) -> String {
    let mut toml = format!(
        "[cold]\nkind = \"s3\"\nbucket = {:?}\nprefix = {:?}\npath_style = {}\n",
        config.bucket, config.prefix, config.path_style
    );
    if let Some(endpoint) = &config.endpoint {
        toml += &format!("endpoint = {endpoint:?}\n");
    }
    if let Some(region) = &config.region {
        toml += &format!("region = {region:?}\n");
    }
    toml
}

/// A connected tier under a fresh prefix.
pub async fn tier(test: &str) -> anyhow::Result<S3Tier> {
    let tier = S3Tier::connect(config(test)).await?;
    tier.check().await?;
    Ok(tier)
}

/// The same prefix and bucket through a second, independent client.
pub async fn twin(tier: &S3Tier) -> anyhow::Result<S3Tier> {
    Ok(S3Tier::connect(tier.config().clone()).await?)
}

/// A value unlikely to repeat across runs and tests.
pub fn unique() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos());
    h.write_u32(std::process::id());
    h.finish()
}
