//! The live S3 suite's connection to a real S3-compatible server.
//!
//! Settings come from the environment, so the same tests run against the
//! project's Garage (`tests/s3/garage.sh start` prints them), MinIO or AWS:
//!
//! - `TIERED_S3_BUCKET` (required), `TIERED_S3_ENDPOINT` (absent for AWS),
//!   `TIERED_S3_REGION`, `TIERED_S3_PATH_STYLE` (default: on when an
//!   endpoint is set), credentials from the standard AWS chain
//!   (`AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`, profile, role).
//! - `TIERED_S3_REQUIRED=1` (set by `tests/run-all`): missing settings fail
//!   the test instead of skipping it.
//!
//! Every test works under its own random key prefix, so tests run in parallel
//! and leave each other alone.

#![allow(dead_code)]

use std::io::Write;

use tiered_s3::{S3Config, S3Tier};

/// The settings, or `None` (with a message on the terminal) to skip.
pub fn config(test: &str) -> Option<S3Config> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    if var("TIERED_S3_BUCKET").is_none() {
        assert!(
            var("TIERED_S3_REQUIRED").is_none(),
            "TIERED_S3_REQUIRED is set but TIERED_S3_BUCKET is not: start a server with tests/s3/garage.sh start"
        );
        // Straight to stderr: libtest captures the print macros, not this.
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED {test}: live S3 test needs TIERED_S3_BUCKET (see tests/s3/garage.sh or the README)"
        );
        return None;
    }
    let config = S3Config::from_env(var).expect("TIERED_S3_BUCKET is set");
    Some(S3Config {
        prefix: format!("{}tiered-tests/{test}-{:016x}/", config.prefix, unique()),
        // Short timeouts: the outage test must not wait a minute per request.
        operation_timeout_ms: 20_000,
        ..config
    })
}

/// A connected tier under a fresh prefix, or `None` to skip.
pub async fn tier(test: &str) -> anyhow::Result<Option<S3Tier>> {
    let Some(config) = config(test) else { return Ok(None) };
    let tier = S3Tier::connect(config).await?;
    tier.check().await?;
    Ok(Some(tier))
}

/// The same prefix and bucket through a second, independent client.
pub async fn twin(tier: &S3Tier) -> anyhow::Result<S3Tier> {
    Ok(S3Tier::connect(tier.config().clone()).await?)
}

/// A value unlikely to repeat across runs and tests.
fn unique() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos());
    h.write_u32(std::process::id());
    h.finish()
}
