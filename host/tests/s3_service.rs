//! `tiered serve` with S3 as cold: the binary, configured by its TOML file,
//! stores through HTTP into the bucket and serves it back after a restart
//! with empty caches. Skipped (with a message) without live S3 settings.

#[path = "support/s3.rs"]
mod s3;
#[path = "support/server.rs"]
mod server;

use anyhow::Result;
use axum::http::StatusCode;
use server::Server;
use tiered::store::{S3Tier, Tier};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_stores_into_the_bucket() -> Result<()> {
    let Some(config) = s3::config("service") else { return Ok(()) };
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
    let dir = tempfile::tempdir()?;
    let server = Server::start(&dir.path().join("a"), &toml).await?;
    let put = server.http.put("/v1/objects/reports%2F2026.csv", "a,b\n1,2\n").await?;
    assert_eq!(put.status, StatusCode::CREATED, "{put:?}");
    let got = server.http.get("/v1/objects/reports%2F2026.csv").await?;
    assert_eq!((got.status, got.header("x-tiered-source")), (StatusCode::OK, Some("hot")));
    server.stop().await?;

    // In the bucket, under the prefix, as written.
    let tier = S3Tier::connect(config).await?;
    let object = tier.get("reports/2026.csv").await?.expect("the object is in the bucket");
    assert_eq!(&object.data[..], b"a,b\n1,2\n");

    // A second host with empty caches serves it from the bucket.
    let other = Server::start(&dir.path().join("b"), &toml).await?;
    let got = other.http.get("/v1/objects/reports%2F2026.csv").await?;
    assert_eq!((got.status, got.header("x-tiered-source")), (StatusCode::OK, Some("cold")));
    assert_eq!(&got.body[..], b"a,b\n1,2\n");
    other.stop().await?;
    Ok(())
}
