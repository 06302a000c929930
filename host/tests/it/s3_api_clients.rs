//! Real S3 clients against the S3 endpoint of the real `tiered serve`:
//! boto3 (its transfer manager doing a multipart upload and a ranged
//! parallel download: tests/s3-clients/boto3_check.py), the AWS CLI
//! (`aws s3 cp/sync/ls`, a server-side `cp` between keys, `aws s3api
//! head-object`) and rclone (`rclone copy`
//! and `rclone check` of a tree with nested keys and a 100 MiB file).
//!
//! The tests are `#[ignore]`d (a plain `cargo test` reports them as
//! ignored); `tests/run-all` installs the clients (tests/s3-clients/install.sh)
//! and runs them. Asked for without the clients, they fail, naming the script.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::s3_api::{ACCESS_KEY, Auth, BUCKET, Endpoint, SECRET_KEY};
use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};

/// The client named by `var` (set by tests/s3-clients/install.sh).
fn client(var: &str) -> Result<PathBuf> {
    let path = std::env::var_os(var).map(PathBuf::from).filter(|p| p.exists());
    path.with_context(|| {
        format!("{var} is not set to an installed client: run `eval \"$(tests/s3-clients/install.sh)\"` first")
    })
}

/// The repository's root (the tests run from `host/`).
fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Run `cmd` to its end (bounded), failing with its output unless it succeeds.
async fn run(mut cmd: Command, what: &str) -> Result<String> {
    let output = tokio::time::timeout(
        std::time::Duration::from_secs(600),
        tokio::task::spawn_blocking(move || cmd.stdin(std::process::Stdio::null()).output()),
    )
    .await
    .with_context(|| format!("{what}: still running after 10 minutes"))???;
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    if !output.status.success() {
        bail!("{what} failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}", output.status);
    }
    Ok(format!("{stdout}{stderr}"))
}

/// A file of `len` deterministic bytes.
fn write_file(path: &Path, len: usize, seed: u64) -> Result<()> {
    std::fs::create_dir_all(path.parent().context("a parent")?)?;
    std::fs::write(path, crate::support::large::bytes(len, seed))?;
    Ok(())
}

fn sha(path: &Path) -> Result<Vec<u8>> {
    Ok(Sha256::digest(std::fs::read(path)?).to_vec())
}

/// The AWS CLI, isolated from the machine's own configuration.
fn aws(api: &Endpoint, home: &Path, args: &[&str]) -> Result<Command> {
    let mut cmd = Command::new(client("TIERED_S3_CLIENTS_AWS")?);
    cmd.env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", home.join("aws-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("aws-credentials"))
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .args(["--endpoint-url", &api.url()])
        .args(args);
    Ok(cmd)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs boto3: run by tests/run-all (tests/s3-clients/install.sh)"]
async fn boto3_transfer_manager_and_api_calls() -> Result<()> {
    let python = client("TIERED_S3_CLIENTS_PYTHON")?;
    let dir = tempfile::tempdir()?;
    let api = Endpoint::start(&dir.path().join("data"), "", Auth::Keys).await?;
    let work = dir.path().join("work");
    std::fs::create_dir_all(&work)?;
    let mut cmd = Command::new(python);
    cmd.arg(repo().join("tests/s3-clients/boto3_check.py"))
        .env("TIERED_S3_API_URL", api.url())
        .env("TIERED_S3_API_BUCKET", BUCKET)
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        .env("AWS_CONFIG_FILE", work.join("aws-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", work.join("aws-credentials"))
        .env("WORK_DIR", &work);
    let out = run(cmd, "boto3_check.py").await?;
    assert!(out.contains("boto3: all checks passed"), "{out}");
    // What boto3 wrote is the store's: readable through /v1 with its metadata.
    let v1 = api.server.http.get("/v1/objects/boto3%2Fbig%20file%20%C3%A9.bin").await?;
    assert_eq!(v1.body.len(), 40 << 20);
    assert_eq!(v1.header("x-tiered-meta-owner"), Some("boto3"));
    api.server.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the AWS CLI: run by tests/run-all (tests/s3-clients/install.sh)"]
async fn aws_cli_cp_sync_and_ls() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let api = Endpoint::start(&dir.path().join("data"), "", Auth::Keys).await?;
    let home = dir.path().join("home");
    let tree = dir.path().join("tree");
    write_file(&tree.join("big.bin"), 20 << 20, 1)?; // above the CLI's 8 MiB multipart threshold
    write_file(&tree.join("a/b/c.txt"), 1000, 2)?;
    write_file(&tree.join("a/with space.txt"), 10, 3)?;
    write_file(&tree.join("ünïcode/ключ.txt"), 20, 4)?;
    let bucket = format!("s3://{BUCKET}");

    let cp = tree.join("big.bin");
    let cp = cp.to_str().context("utf-8")?;
    let dest = format!("{bucket}/cli/big.bin");
    run(
        aws(&api, &home, &["s3", "cp", cp, &dest, "--metadata", "owner=cli", "--content-type", "application/x-cli"])?,
        "aws s3 cp (up)",
    )
    .await?;
    let head =
        run(aws(&api, &home, &["s3api", "head-object", "--bucket", BUCKET, "--key", "cli/big.bin"])?, "head-object")
            .await?;
    assert!(head.contains("\"owner\": \"cli\"") && head.contains("application/x-cli"), "{head}");
    assert!(head.contains(&format!("\"ContentLength\": {}", 20 << 20)), "{head}");
    let back = dir.path().join("back.bin");
    run(aws(&api, &home, &["s3", "cp", &dest, back.to_str().context("utf-8")?])?, "aws s3 cp (down)").await?;
    assert_eq!(sha(&back)?, sha(&tree.join("big.bin"))?);
    // Bucket to bucket: above 8 MiB the CLI copies with UploadPartCopy.
    let copy = format!("{bucket}/cli/copy of big.bin");
    run(aws(&api, &home, &["s3", "cp", &dest, &copy])?, "aws s3 cp (server-side copy)").await?;
    let again = dir.path().join("copy.bin");
    run(aws(&api, &home, &["s3", "cp", &copy, again.to_str().context("utf-8")?])?, "aws s3 cp (copy down)").await?;
    assert_eq!(sha(&again)?, sha(&tree.join("big.bin"))?);

    let synced = format!("{bucket}/cli/tree/");
    run(aws(&api, &home, &["s3", "sync", tree.to_str().context("utf-8")?, &synced])?, "aws s3 sync (up)").await?;
    let listed = run(aws(&api, &home, &["s3", "ls", "--recursive", &synced])?, "aws s3 ls").await?;
    for key in ["cli/tree/big.bin", "cli/tree/a/b/c.txt", "cli/tree/a/with space.txt", "cli/tree/ünïcode/ключ.txt"]
    {
        assert!(listed.contains(key), "{key} in:\n{listed}");
    }
    let top = run(aws(&api, &home, &["s3", "ls", &format!("{bucket}/cli/tree/")])?, "aws s3 ls (one level)").await?;
    assert!(top.contains("PRE a/") && top.contains("PRE ünïcode/") && top.contains("big.bin"), "{top}");
    let buckets = run(aws(&api, &home, &["s3", "ls"])?, "aws s3 ls (buckets)").await?;
    assert!(buckets.contains(BUCKET), "{buckets}");
    // A second sync has nothing to do; a sync down brings the same tree back.
    let again =
        run(aws(&api, &home, &["s3", "sync", tree.to_str().context("utf-8")?, &synced])?, "aws s3 sync (again)")
            .await?;
    assert!(!again.contains("upload:"), "nothing changed: {again}");
    let down = dir.path().join("down");
    run(aws(&api, &home, &["s3", "sync", &synced, down.to_str().context("utf-8")?])?, "aws s3 sync (down)").await?;
    for file in ["big.bin", "a/b/c.txt", "a/with space.txt", "ünïcode/ключ.txt"] {
        assert_eq!(sha(&down.join(file))?, sha(&tree.join(file))?, "{file}");
    }
    let missing = aws(&api, &home, &["s3", "cp", &format!("{bucket}/cli/absent"), "-"])?;
    let err = run(missing, "aws s3 cp (absent)").await.expect_err("absent");
    assert!(format!("{err:#}").contains("404"), "{err:#}");
    api.server.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs rclone: run by tests/run-all (tests/s3-clients/install.sh)"]
async fn rclone_copy_and_check_a_tree_with_a_100_mib_file() -> Result<()> {
    let rclone = client("TIERED_S3_CLIENTS_RCLONE")?;
    let dir = tempfile::tempdir()?;
    let api = Endpoint::start(&dir.path().join("data"), "", Auth::Keys).await?;
    let tree = dir.path().join("tree");
    write_file(&tree.join("huge.bin"), 100 << 20, 9)?;
    for (i, path) in ["x.txt", "n1/y.txt", "n1/n2/z.txt", "n1/n2/n3/deep file.txt", "ü/ключ.bin"].iter().enumerate()
    {
        write_file(&tree.join(path), 1000 * (i + 1), i as u64)?;
    }
    let config = dir.path().join("rclone.conf");
    std::fs::write(&config, "")?;
    let remote = format!("tiered:{BUCKET}/rclone/tree");
    let rclone_cmd = |args: &[&str]| {
        let mut cmd = Command::new(&rclone);
        cmd.env("RCLONE_CONFIG_TIERED_TYPE", "s3")
            .env("RCLONE_CONFIG_TIERED_PROVIDER", "Other")
            .env("RCLONE_CONFIG_TIERED_ENV_AUTH", "false")
            .env("RCLONE_CONFIG_TIERED_ACCESS_KEY_ID", ACCESS_KEY)
            .env("RCLONE_CONFIG_TIERED_SECRET_ACCESS_KEY", SECRET_KEY)
            .env("RCLONE_CONFIG_TIERED_ENDPOINT", api.url())
            .env("RCLONE_CONFIG_TIERED_REGION", "us-east-1")
            // A custom CA bundle for AWS (set on some machines) makes rclone's S3
            // backend fail to start over plain HTTP.
            .env_remove("AWS_CA_BUNDLE")
            .arg("--config")
            .arg(&config)
            .args(args);
        cmd
    };
    let source = tree.to_str().context("utf-8")?;
    // Multipart for the 100 MiB file: parts of 16 MiB above 32 MiB.
    let copy = ["copy", source, &remote, "--s3-upload-cutoff", "32M", "--s3-chunk-size", "16M"];
    run(rclone_cmd(&copy), "rclone copy").await?;
    let checked = run(rclone_cmd(&["check", source, &remote]), "rclone check").await?;
    assert!(checked.contains("0 differences found"), "{checked}");
    let downloaded = run(rclone_cmd(&["check", "--download", source, &remote]), "rclone check --download").await?;
    assert!(downloaded.contains("0 differences found"), "{downloaded}");
    let listed = run(rclone_cmd(&["lsf", "-R", &remote]), "rclone lsf").await?;
    for path in ["huge.bin", "n1/n2/n3/deep file.txt", "ü/ключ.bin"] {
        assert!(listed.lines().any(|l| l == path), "{path} in:\n{listed}");
    }
    api.server.stop().await?;
    Ok(())
}
