//! The tier contract: one suite every [`Tier`] implementation must pass.

use std::sync::Arc;

use futures::TryStreamExt;
use tiered::store::{CacheTier, Conditional, SourceTier, Tier};

use super::object;

/// The tier under test, in the role it plays: the rules of [`Tier`] apply to
/// both, those of the role to it alone.
pub enum Role {
    Cache(Arc<dyn CacheTier>),
    Source(Arc<dyn SourceTier>),
}

/// Run the whole contract against `role`'s tier, which must start empty.
pub async fn run(role: Role) -> anyhow::Result<()> {
    let tier: Arc<dyn Tier> = match &role {
        Role::Cache(cache) => cache.clone(),
        Role::Source(source) => source.clone(),
    };
    let cache = match &role {
        Role::Cache(cache) => Some(cache.clone()),
        Role::Source(_) => None,
    };
    let name = tier.name();
    // A miss is a value, not an error.
    anyhow::ensure!(tier.get("absent").await?.is_none(), "{name}: get of an absent key");
    anyhow::ensure!(tier.head("absent").await?.is_none(), "{name}: head of an absent key");
    anyhow::ensure!(!tier.delete("absent").await?, "{name}: delete of an absent key reports false");
    anyhow::ensure!(tier.set_expiry("absent", Some(5)).await?.is_none(), "{name}: set_expiry of an absent key");

    // Put, then get returns the same bytes and metadata.
    let first = object("docs/a", b"first version", 1_000);
    let stored = tier.put(first.clone()).await?;
    let got = tier.get("docs/a").await?.ok_or_else(|| anyhow::anyhow!("{name}: stored object missing"))?;
    anyhow::ensure!(got.data == first.data, "{name}: bytes differ");
    anyhow::ensure!(got.verify(), "{name}: stored copy fails its checksum");
    let mut expected = (*first.meta).clone();
    expected.etag = stored.etag.clone();
    anyhow::ensure!(*got.meta == expected, "{name}: metadata differs: {:?} vs {:?}", got.meta, expected);
    let head = tier.head("docs/a").await?.ok_or_else(|| anyhow::anyhow!("{name}: head missing"))?;
    anyhow::ensure!(head.size == 13 && head.content_type.as_deref() == Some("application/octet-stream"));
    anyhow::ensure!(head.metadata.get("owner").map(String::as_str) == Some("tests"), "{name}: custom metadata lost");

    // A put replaces; usage counts one object.
    tier.put(object("docs/a", b"second", 2_000)).await?;
    let got = tier.get("docs/a").await?.expect("replaced object");
    anyhow::ensure!(&got.data[..] == b"second", "{name}: replace did not replace");
    if let Some(cache) = &cache {
        let usage = cache.usage();
        anyhow::ensure!(usage.objects == 1 && usage.bytes >= 6, "{name}: usage after replace: {usage:?}");
        // Eviction and bootstrap see what is resident.
        let residents = cache.residents();
        anyhow::ensure!(residents.len() == 1 && residents[0].key == "docs/a", "{name}: residents {residents:?}");
        anyhow::ensure!(residents[0].footprint >= 6, "{name}: a resident's footprint counts its bytes");
        let sample = cache.eviction_sample(4);
        anyhow::ensure!(sample.len() == 1 && sample[0].key == "docs/a", "{name}: eviction sample {sample:?}");
    }
    if let Role::Source(source) = &role {
        // A conditional read: not modified while the ETag holds, the new
        // version once it changed, a miss once it is gone.
        let etag = tier.head("docs/a").await?.and_then(|m| m.etag.clone());
        let etag = etag.ok_or_else(|| anyhow::anyhow!("{name}: the source of truth gives each version an ETag"))?;
        anyhow::ensure!(
            source.get_if_changed("docs/a", &etag).await? == Conditional::NotModified,
            "{name}: an unchanged ETag is not modified"
        );
        match source.get_if_changed("docs/a", "an-older-etag").await? {
            Conditional::Changed(Some(o)) => {
                anyhow::ensure!(&o.data[..] == b"second", "{name}: changed returns the object")
            }
            other => anyhow::bail!("{name}: another ETag returns the object, not {other:?}"),
        }
        anyhow::ensure!(
            source.get_if_changed("absent", &etag).await? == Conditional::Changed(None),
            "{name}: an absent object is a change to nothing"
        );
        if let Some(stored) = source.stored() {
            anyhow::ensure!(stored.objects == 1 && stored.bytes >= 6, "{name}: stored after replace: {stored:?}");
        }
    }

    // Expiry can be rewritten without touching the bytes.
    let meta = tier.set_expiry("docs/a", Some(99_000)).await?.expect("present");
    anyhow::ensure!(meta.expires_ms == Some(99_000));
    let got = tier.get("docs/a").await?.expect("present");
    anyhow::ensure!(got.meta.expires_ms == Some(99_000) && &got.data[..] == b"second", "{name}: set_expiry");

    // Path-like keys are ordinary keys.
    for key in ["../../etc/passwd", "/abs", "a/../../b", "docs/b", "other"] {
        tier.put(object(key, key.as_bytes(), 3_000)).await?;
    }
    for key in ["../../etc/passwd", "/abs", "a/../../b"] {
        let got = tier.get(key).await?.expect("path-like key");
        anyhow::ensure!(got.data == key.as_bytes(), "{name}: {key}");
    }

    // Listing by prefix, lazily.
    let mut docs: Vec<String> = tier.list("docs/").try_collect().await?;
    docs.sort();
    anyhow::ensure!(docs == ["docs/a", "docs/b"], "{name}: list docs/: {docs:?}");
    let all: Vec<String> = tier.list("").try_collect().await?;
    anyhow::ensure!(all.len() == 6, "{name}: list all: {all:?}");

    // Delete, prefix delete, clear.
    anyhow::ensure!(tier.delete("other").await?, "{name}: delete present");
    anyhow::ensure!(tier.get("other").await?.is_none(), "{name}: deleted object still served");
    anyhow::ensure!(tier.delete_prefix("docs/").await? == 2, "{name}: delete_prefix count");
    anyhow::ensure!(tier.get("docs/b").await?.is_none());
    tier.clear().await?;
    let left: Vec<String> = tier.list("").try_collect().await?;
    anyhow::ensure!(left.is_empty(), "{name}: clear left {left:?}");
    if let Some(cache) = &cache {
        let usage = cache.usage();
        anyhow::ensure!(usage.objects == 0 && usage.bytes == 0, "{name}: usage after clear: {usage:?}");
        anyhow::ensure!(
            cache.residents().is_empty() && cache.eviction_sample(4).is_empty(),
            "{name}: nothing resident"
        );
    }
    if let Role::Source(source) = &role
        && let Some(stored) = source.stored()
    {
        anyhow::ensure!(stored.objects == 0 && stored.bytes == 0, "{name}: stored after clear: {stored:?}");
    }
    super::contract_stream::run(&tier).await
}
