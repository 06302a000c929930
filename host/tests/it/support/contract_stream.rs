//! The large-object part of the tier contract: `put_file` stores what a spool
//! file holds, and `get_stream` returns it whole up to the caller's limit and
//! byte-exact either way above it (a stream on the file tiers and S3; the
//! defaults read whole).

use std::sync::Arc;

use anyhow::{Context, ensure};
use futures::TryStreamExt;
use tiered::object::ObjectMeta;
use tiered::store::{Fetched, SpoolWriter, Tier};

/// Run against `tier`; leaves it as it found it.
pub async fn run(tier: &Arc<dyn Tier>) -> anyhow::Result<()> {
    let name = tier.name();
    let spool_dir = tempfile::tempdir()?;
    let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let mut writer = SpoolWriter::create(spool_dir.path()).await?;
    for chunk in data.chunks(70_000) {
        writer.write(chunk).await?;
    }
    let file = writer.finish().await?;
    ensure!(file.size == data.len() as u64 && file.checksum == tiered::object::checksum(&data), "{name}: spool sums");
    let meta = ObjectMeta {
        key: "large/one".into(),
        size: file.size,
        original_size: file.size,
        created_ms: 5_000,
        expires_ms: None,
        checksum: file.checksum.clone(),
        codec: Default::default(),
        content_type: Some("application/octet-stream".into()),
        metadata: Default::default(),
        etag: None,
        validated_ms: None,
    };
    tier.put_file(Arc::new(meta), &file).await?;
    ensure!(tier.get_stream("absent", 0).await?.is_none(), "{name}: get_stream of an absent key");

    let whole = tier.get_stream("large/one", 1 << 20).await?.context("stored from a file")?;
    let Fetched::Whole(object) = whole else { anyhow::bail!("{name}: a small read must be whole") };
    ensure!(object.data == data && object.verify(), "{name}: whole read after put_file differs");

    let bytes = match tier.get_stream("large/one", 1024).await?.context("present")? {
        Fetched::Whole(object) => object.data.to_vec(),
        Fetched::Stream(stream) => {
            ensure!(stream.meta.checksum == file.checksum, "{name}: streamed metadata");
            let chunks: Vec<_> = stream.chunks.try_collect().await?;
            chunks.concat()
        }
    };
    ensure!(bytes == data, "{name}: streamed bytes differ");
    drop(file);
    ensure!(std::fs::read_dir(spool_dir.path())?.next().is_none(), "{name}: the spool file outlived its owner");
    ensure!(tier.delete("large/one").await?, "{name}: delete after put_file");
    Ok(())
}
