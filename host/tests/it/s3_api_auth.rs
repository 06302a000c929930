//! Who may use the S3 endpoint, and how requests name the bucket: SigV4 with
//! the configured keys (bad signatures, unknown keys and unsigned requests
//! refused with S3's codes), an endpoint without keys serving unsigned
//! requests on loopback only (and refusing to start elsewhere), path-style
//! and virtual-host addressing, and secrets kept out of the logs.

use crate::s3_api_objects::failure;
use crate::support::s3_api::{self, ACCESS_KEY, Auth, BUCKET, Endpoint, SECRET_KEY, error_code};
use crate::support::server::{policy_cache, run_to_exit, tiered};
use anyhow::Result;
use aws_sdk_s3::primitives::ByteStream;
use axum::http::{Method, StatusCode};
use bytes::Bytes;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signatures_are_checked_against_the_configured_keys() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let api = Endpoint::start(&dir.path().join("data"), "", Auth::Keys).await?;
    api.s3.put_object().bucket(BUCKET).key("k").body(ByteStream::from_static(b"v")).send().await?;

    let wrong_secret = s3_api::client(api.addr, Some((ACCESS_KEY, "not-the-secret")));
    let err = wrong_secret.get_object().bucket(BUCKET).key("k").send().await.expect_err("bad signature");
    assert_eq!(failure(&err), (403, "SignatureDoesNotMatch".to_string()));
    let err = wrong_secret.put_object().bucket(BUCKET).key("k2").body(ByteStream::from_static(b"v")).send().await;
    assert_eq!(failure(&err.expect_err("bad signature")), (403, "SignatureDoesNotMatch".to_string()));

    let unknown = s3_api::client(api.addr, Some(("NOSUCHKEY", SECRET_KEY)));
    let err = unknown.list_objects_v2().bucket(BUCKET).send().await.expect_err("unknown key id");
    assert_eq!(failure(&err), (403, "InvalidAccessKeyId".to_string()));

    // Unsigned requests are refused, reads and writes alike.
    for (method, body) in [(Method::GET, Bytes::new()), (Method::PUT, Bytes::from_static(b"anonymous"))] {
        let reply = api.raw.send(method.clone(), &format!("/{BUCKET}/k"), &[], body).await?;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{method}: {reply:?}");
        assert_eq!(error_code(&reply.body), "AccessDenied");
        assert!(reply.header("content-type").is_some_and(|t| t.contains("xml")), "an S3 XML error");
    }
    let still = api.s3.get_object().bucket(BUCKET).key("k").send().await?;
    assert_eq!(&still.body.collect().await?.into_bytes()[..], b"v", "nothing was overwritten");
    assert!(!api.server.log_text().contains(SECRET_KEY), "the secret is never logged");
    api.server.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_keys_unsigned_requests_are_served_path_style_and_virtual_host() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let api = Endpoint::start(&dir.path().join("data"), "", Auth::Open).await?;
    let put = api.raw.send(Method::PUT, &format!("/{BUCKET}/dir/a%20b"), &[], Bytes::from_static(b"open")).await?;
    assert_eq!(put.status, StatusCode::OK, "{put:?}");
    let get = api.raw.get(&format!("/{BUCKET}/dir/a%20b")).await?;
    assert_eq!((get.status, &get.body[..]), (StatusCode::OK, &b"open"[..]));

    // Virtual-host addressing: the bucket in Host, the key in the path.
    let host = format!("{BUCKET}.localhost:{}", api.addr.port());
    let virtual_get = api.raw.send(Method::GET, "/dir/a%20b", &[("host", &host)], Bytes::new()).await?;
    assert_eq!((virtual_get.status, &virtual_get.body[..]), (StatusCode::OK, &b"open"[..]), "{virtual_get:?}");
    let listed = api.raw.send(Method::GET, "/?list-type=2&prefix=dir%2F", &[("host", &host)], Bytes::new()).await?;
    assert!(String::from_utf8_lossy(&listed.body).contains("<Key>dir/a b</Key>"), "{listed:?}");
    let other = format!("other.localhost:{}", api.addr.port());
    let wrong = api.raw.send(Method::GET, "/dir/a%20b", &[("host", &other)], Bytes::new()).await?;
    assert_eq!((wrong.status, error_code(&wrong.body)), (StatusCode::NOT_FOUND, "NoSuchBucket".to_string()));

    // A signature cannot be checked without keys: refused, saying why.
    let err = api.s3.get_object().bucket(BUCKET).key("dir/a b").send().await.expect_err("signed");
    assert_eq!(failure(&err), (403, "AccessDenied".to_string()));
    assert!(format!("{err:?}").contains("no-sign-request"), "{err:?}");
    api.server.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_without_keys_refuses_to_listen_beyond_loopback() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let config = dir.path().join("tiered.toml");
    std::fs::write(&config, format!("policy_cache_dir = {:?}\n[s3_api]\nlisten = \"0.0.0.0:0\"\n", policy_cache()))?;
    let mut cmd = tiered();
    cmd.arg("serve").arg("--config").arg(&config).arg("--data-dir").arg(dir.path().join("data"));
    let (status, _, stderr) = run_to_exit(cmd).await?;
    assert!(!status.success());
    assert!(stderr.contains("s3_api.listen = 0.0.0.0:0 is not a loopback address"), "{stderr}");
    assert!(stderr.contains("TIERED_S3_API_ACCESS_KEY_ID"), "says how to fix it: {stderr}");

    // Keys from the environment open it.
    let mut cmd = tiered();
    cmd.env("TIERED_S3_API_ACCESS_KEY_ID", "AK").env("TIERED_S3_API_SECRET_ACCESS_KEY", "SK");
    cmd.arg("serve").arg("--config").arg(&config).arg("--data-dir").arg(dir.path().join("data"));
    cmd.args(["--listen", "127.0.0.1:0"]);
    let mut child = cmd.stdin(std::process::Stdio::null()).stderr(std::process::Stdio::piped()).spawn()?;
    let stderr = child.stderr.take().expect("piped");
    let line = tokio::task::spawn_blocking(move || {
        use std::io::BufRead;
        std::io::BufReader::new(stderr).lines().map_while(Result::ok).find(|l| l.contains("s3_api="))
    });
    let line = tokio::time::timeout(std::time::Duration::from_secs(120), line).await??;
    let _ = child.kill();
    let _ = child.wait();
    let line = line.expect("the endpoint started");
    assert!(line.contains("auth=\"sigv4\"") && !line.contains("SK"), "{line}");
    Ok(())
}
