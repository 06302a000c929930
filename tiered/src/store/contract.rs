//! The tier contract as rules (feature `test-util`): what every [`Tier`]
//! promises, and what each role adds ([`CacheTier`]: usage, residents, the
//! eviction sample; [`SourceTier`]: conditional reads, what it holds). Each
//! [`Rule`] runs on a fresh, empty tier, so a test harness can make one named
//! trial of each rule for each tier (`tests/contract.rs` of this crate and
//! of `tiered-s3`), and an implementation outside this workspace can run the
//! same rules.
//!
//! A rule that does not apply to a tier's role is not a trial at all; a tier
//! that cannot be reached (a live bucket without settings) is the harness's
//! to report as ignored.

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use futures::TryStreamExt;
use futures::future::BoxFuture;

use super::listing::{Entry, PageRequest};
use super::{CacheTier, Conditional, Fetched, SourceTier, SpoolWriter, Tier};
use crate::object::{Object, ObjectMeta, checksum};
use crate::range::ByteRange;

/// The tier under test, in the role it plays.
#[derive(Clone, Debug)]
pub enum Role {
    Cache(Arc<dyn CacheTier>),
    Source(Arc<dyn SourceTier>),
}

impl Role {
    /// The tier, whatever its role.
    pub fn tier(&self) -> Arc<dyn Tier> {
        match self {
            Role::Cache(cache) => cache.clone(),
            Role::Source(source) => source.clone(),
        }
    }
}

/// Which tiers a rule applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applies {
    Every,
    Cache,
    Source,
}

impl Applies {
    /// Whether a tier in `role` is held to the rule.
    pub fn to(self, role: &Role) -> bool {
        matches!(
            (self, role),
            (Applies::Every, _) | (Applies::Cache, Role::Cache(_)) | (Applies::Source, Role::Source(_))
        )
    }
}

/// Why a rule failed.
pub type Failure = String;

/// One rule of the contract.
#[derive(Clone, Copy, Debug)]
pub struct Rule {
    pub name: &'static str,
    pub applies: Applies,
    run: fn(Role) -> BoxFuture<'static, Result<(), Failure>>,
}

impl Rule {
    /// Checks the rule on `role`'s tier, which must be empty.
    pub fn check(&self, role: Role) -> BoxFuture<'static, Result<(), Failure>> {
        (self.run)(role)
    }
}

macro_rules! rule {
    ($name:ident, $applies:ident) => {
        Rule { name: stringify!($name), applies: Applies::$applies, run: |role| Box::pin($name(role)) }
    };
}

/// Every rule, in a stable order.
pub fn rules() -> Vec<Rule> {
    vec![
        rule!(a_miss_is_none_not_an_error, Every),
        rule!(put_then_get_returns_the_bytes_and_metadata, Every),
        rule!(a_put_replaces, Every),
        rule!(set_expiry_rewrites_only_the_expiry, Every),
        rule!(path_like_keys_are_ordinary_keys, Every),
        rule!(list_finds_keys_by_prefix, Every),
        rule!(delete_delete_prefix_and_clear_remove, Every),
        rule!(a_large_object_stores_from_a_file_and_streams_back, Every),
        rule!(a_range_is_the_bytes_it_names, Every),
        rule!(usage_counts_what_the_cache_holds, Cache),
        rule!(residents_are_what_is_stored, Cache),
        rule!(a_conditional_read_answers_by_etag, Source),
        rule!(what_the_source_says_it_holds_is_true, Source),
        rule!(a_page_lists_in_order_from_its_position, Source),
    ]
}

macro_rules! ensure {
    ($cond:expr, $($message:tt)+) => {
        if !$cond {
            return Err(format!($($message)+));
        }
    };
}

fn failed(name: &str, what: &str) -> impl FnOnce(crate::error::TierError) -> Failure {
    let context = format!("{name}: {what}");
    move |err| format!("{context}: {err}")
}

/// An object as the engine hands it to a tier.
pub fn object(key: &str, data: &[u8], created_ms: u64) -> Object {
    let data = Bytes::copy_from_slice(data);
    let meta = ObjectMeta {
        key: key.to_string(),
        size: data.len() as u64,
        original_size: data.len() as u64,
        created_ms,
        expires_ms: None,
        checksum: checksum(&data),
        codec: Default::default(),
        content_type: Some("application/octet-stream".into()),
        metadata: BTreeMap::from([("owner".to_string(), "tests".to_string())]),
        etag: None,
        validated_ms: None,
    };
    Object::new(meta, data)
}

async fn a_miss_is_none_not_an_error(role: Role) -> Result<(), Failure> {
    let tier = role.tier();
    let name = tier.name();
    ensure!(tier.get("absent").await.map_err(failed(name, "get"))?.is_none(), "{name}: get of an absent key");
    ensure!(tier.head("absent").await.map_err(failed(name, "head"))?.is_none(), "{name}: head of an absent key");
    ensure!(!tier.delete("absent").await.map_err(failed(name, "delete"))?, "{name}: delete of an absent key is false");
    let expiry = tier.set_expiry("absent", Some(5)).await.map_err(failed(name, "set_expiry"))?;
    ensure!(expiry.is_none(), "{name}: set_expiry of an absent key");
    ensure!(tier.get_stream("absent", 0).await.map_err(failed(name, "get_stream"))?.is_none(), "{name}: get_stream");
    Ok(())
}

async fn put_then_get_returns_the_bytes_and_metadata(role: Role) -> Result<(), Failure> {
    let tier = role.tier();
    let name = tier.name();
    let first = object("docs/a", b"first version", 1_000);
    let stored = tier.put(first.clone()).await.map_err(failed(name, "put"))?;
    let got = tier.get("docs/a").await.map_err(failed(name, "get"))?;
    let got = got.ok_or_else(|| format!("{name}: stored object missing"))?;
    ensure!(got.data == first.data, "{name}: bytes differ");
    ensure!(got.verify(), "{name}: stored copy fails its checksum");
    let mut expected = (*first.meta).clone();
    expected.etag = stored.etag.clone();
    ensure!(*got.meta == expected, "{name}: metadata differs: {:?} vs {:?}", got.meta, expected);
    let head = tier.head("docs/a").await.map_err(failed(name, "head"))?;
    let head = head.ok_or_else(|| format!("{name}: head missing"))?;
    ensure!(head.size == 13 && head.content_type.as_deref() == Some("application/octet-stream"), "{name}: {head:?}");
    ensure!(head.metadata.get("owner").map(String::as_str) == Some("tests"), "{name}: custom metadata lost");
    Ok(())
}

async fn a_put_replaces(role: Role) -> Result<(), Failure> {
    let tier = role.tier();
    let name = tier.name();
    tier.put(object("docs/a", b"first version", 1_000)).await.map_err(failed(name, "put"))?;
    tier.put(object("docs/a", b"second", 2_000)).await.map_err(failed(name, "put"))?;
    let got = tier.get("docs/a").await.map_err(failed(name, "get"))?;
    ensure!(got.is_some_and(|o| &o.data[..] == b"second"), "{name}: replace did not replace");
    let keys: Vec<String> = tier.list("").try_collect().await.map_err(failed(name, "list"))?;
    ensure!(keys == ["docs/a"], "{name}: one object after a replace: {keys:?}");
    Ok(())
}

async fn set_expiry_rewrites_only_the_expiry(role: Role) -> Result<(), Failure> {
    let tier = role.tier();
    let name = tier.name();
    tier.put(object("docs/a", b"second", 2_000)).await.map_err(failed(name, "put"))?;
    let meta = tier.set_expiry("docs/a", Some(99_000)).await.map_err(failed(name, "set_expiry"))?;
    ensure!(meta.is_some_and(|m| m.expires_ms == Some(99_000)), "{name}: set_expiry answers the new metadata");
    let got = tier.get("docs/a").await.map_err(failed(name, "get"))?;
    let got = got.ok_or_else(|| format!("{name}: gone after set_expiry"))?;
    ensure!(got.meta.expires_ms == Some(99_000) && &got.data[..] == b"second", "{name}: set_expiry");
    ensure!(got.meta.metadata.get("owner").map(String::as_str) == Some("tests"), "{name}: metadata kept");
    Ok(())
}

async fn path_like_keys_are_ordinary_keys(role: Role) -> Result<(), Failure> {
    let tier = role.tier();
    let name = tier.name();
    for key in ["../../etc/passwd", "/abs", "a/../../b", "docs/b", "other"] {
        tier.put(object(key, key.as_bytes(), 3_000)).await.map_err(failed(name, "put"))?;
    }
    for key in ["../../etc/passwd", "/abs", "a/../../b"] {
        let got = tier.get(key).await.map_err(failed(name, "get"))?;
        ensure!(got.is_some_and(|o| o.data == key.as_bytes()), "{name}: {key}");
    }
    Ok(())
}

async fn list_finds_keys_by_prefix(role: Role) -> Result<(), Failure> {
    let tier = role.tier();
    let name = tier.name();
    for key in ["docs/a", "docs/b", "other", "doc"] {
        tier.put(object(key, key.as_bytes(), 3_000)).await.map_err(failed(name, "put"))?;
    }
    let mut docs: Vec<String> = tier.list("docs/").try_collect().await.map_err(failed(name, "list"))?;
    docs.sort();
    ensure!(docs == ["docs/a", "docs/b"], "{name}: list docs/: {docs:?}");
    let all: Vec<String> = tier.list("").try_collect().await.map_err(failed(name, "list"))?;
    ensure!(all.len() == 4, "{name}: list all: {all:?}");
    Ok(())
}

async fn delete_delete_prefix_and_clear_remove(role: Role) -> Result<(), Failure> {
    let tier = role.tier();
    let name = tier.name();
    for key in ["docs/a", "docs/b", "other", "last"] {
        tier.put(object(key, key.as_bytes(), 3_000)).await.map_err(failed(name, "put"))?;
    }
    ensure!(tier.delete("other").await.map_err(failed(name, "delete"))?, "{name}: delete of a present key is true");
    ensure!(tier.get("other").await.map_err(failed(name, "get"))?.is_none(), "{name}: a deleted object is served");
    let removed = tier.delete_prefix("docs/").await.map_err(failed(name, "delete_prefix"))?;
    ensure!(removed == 2, "{name}: delete_prefix removed {removed}, not 2");
    ensure!(tier.get("docs/b").await.map_err(failed(name, "get"))?.is_none(), "{name}: docs/b survived");
    tier.clear().await.map_err(failed(name, "clear"))?;
    let left: Vec<String> = tier.list("").try_collect().await.map_err(failed(name, "list"))?;
    ensure!(left.is_empty(), "{name}: clear left {left:?}");
    Ok(())
}

async fn a_large_object_stores_from_a_file_and_streams_back(role: Role) -> Result<(), Failure> {
    let tier = role.tier();
    let name = tier.name();
    let io = |e: std::io::Error| format!("{name}: {e}");
    let spool_dir = std::env::temp_dir().join(format!("tiered-contract-{}-{}", std::process::id(), unique()));
    std::fs::create_dir_all(&spool_dir).map_err(io)?;
    let outcome = async {
        let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        let mut writer = SpoolWriter::create(&spool_dir).await.map_err(failed(name, "spool"))?;
        for chunk in data.chunks(70_000) {
            writer.write(chunk).await.map_err(failed(name, "spool"))?;
        }
        let file = writer.finish().await.map_err(failed(name, "spool"))?;
        ensure!(file.size == data.len() as u64 && file.checksum == checksum(&data), "{name}: spool sums");
        let mut meta = (*object("large/one", b"", 5_000).meta).clone();
        (meta.size, meta.original_size, meta.checksum) = (file.size, file.size, file.checksum.clone());
        tier.put_file(Arc::new(meta), &file).await.map_err(failed(name, "put_file"))?;

        let whole = tier.get_stream("large/one", 1 << 20).await.map_err(failed(name, "get_stream"))?;
        let Some(Fetched::Whole(object)) = whole else { return Err(format!("{name}: a small read must be whole")) };
        ensure!(object.data == data && object.verify(), "{name}: whole read after put_file differs");

        let bytes = match tier.get_stream("large/one", 1024).await.map_err(failed(name, "get_stream"))? {
            Some(Fetched::Whole(object)) => object.data.to_vec(),
            Some(Fetched::Stream(stream)) => {
                ensure!(stream.meta.checksum == file.checksum, "{name}: streamed metadata");
                let chunks: Vec<_> = stream.chunks.try_collect().await.map_err(failed(name, "stream"))?;
                chunks.concat()
            }
            None => return Err(format!("{name}: stored from a file, then missing")),
        };
        ensure!(bytes == data, "{name}: streamed bytes differ");
        drop(file);
        let left = std::fs::read_dir(&spool_dir).map_err(io)?.count();
        ensure!(left == 0, "{name}: the spool file outlived its owner");
        ensure!(tier.delete("large/one").await.map_err(failed(name, "delete"))?, "{name}: delete after put_file");
        Ok(())
    }
    .await;
    let _ = std::fs::remove_dir_all(&spool_dir);
    outcome
}

async fn a_range_is_the_bytes_it_names(role: Role) -> Result<(), Failure> {
    let tier = role.tier();
    let name = tier.name();
    // Several of the file tiers' 64 KiB chunks, the last one short.
    let data: Vec<u8> = (0..200_000u32).map(|i| (i % 253) as u8).collect();
    tier.put(object("ranged", &data, 1_000)).await.map_err(failed(name, "put"))?;
    let len = data.len() as u64;
    let cases = [
        (ByteRange::FromTo { first: 0, last: 9 }, 0..10),
        (ByteRange::FromTo { first: 65_530, last: 131_080 }, 65_530..131_081),
        (ByteRange::FromTo { first: 199_990, last: 1 << 40 }, 199_990..len),
        (ByteRange::From { first: 131_072 }, 131_072..len),
        (ByteRange::Suffix { len: 70_000 }, len - 70_000..len),
        (ByteRange::Suffix { len: 1 << 40 }, 0..len),
    ];
    for (asked, expected) in cases {
        let read = tier.get_range("ranged", asked).await.map_err(failed(name, "get_range"))?;
        let read = read.ok_or_else(|| format!("{name}: {asked:?} of a stored object is missing"))?;
        ensure!(read.range == Some(expected.clone()), "{name}: {asked:?} resolved to {:?}", read.range);
        ensure!(read.meta.size == len && read.meta.key == "ranged", "{name}: {asked:?}: metadata {:?}", read.meta);
        let chunks: Vec<_> = read.chunks.try_collect().await.map_err(failed(name, "range stream"))?;
        let bytes = chunks.concat();
        ensure!(
            bytes[..] == data[expected.start as usize..expected.end as usize],
            "{name}: {asked:?}: {} bytes, not the {} asked for",
            bytes.len(),
            expected.end - expected.start
        );
    }
    let past = tier.get_range("ranged", ByteRange::From { first: len }).await.map_err(failed(name, "get_range"))?;
    let past = past.ok_or_else(|| format!("{name}: a range past the end of a stored object: missing"))?;
    ensure!(past.range.is_none() && past.meta.size == len, "{name}: a range past the end names nothing: {past:?}");
    let inverted = ByteRange::FromTo { first: 10, last: 5 };
    let inverted = tier.get_range("ranged", inverted).await.map_err(failed(name, "get_range"))?;
    ensure!(inverted.is_some_and(|r| r.range.is_none()), "{name}: an inverted range names nothing");
    let absent = tier.get_range("absent", ByteRange::From { first: 0 }).await.map_err(failed(name, "get_range"))?;
    ensure!(absent.is_none(), "{name}: a range of an absent object");
    Ok(())
}

async fn usage_counts_what_the_cache_holds(role: Role) -> Result<(), Failure> {
    let Role::Cache(cache) = role else { return Ok(()) };
    let name = cache.name();
    let usage = cache.usage();
    ensure!(usage.objects == 0 && usage.bytes == 0, "{name}: an empty cache: {usage:?}");
    cache.put(object("docs/a", b"first version", 1_000)).await.map_err(failed(name, "put"))?;
    cache.put(object("docs/a", b"second", 2_000)).await.map_err(failed(name, "put"))?;
    let usage = cache.usage();
    ensure!(usage.objects == 1 && usage.bytes >= 6, "{name}: usage after a replace: {usage:?}");
    cache.clear().await.map_err(failed(name, "clear"))?;
    let usage = cache.usage();
    ensure!(usage.objects == 0 && usage.bytes == 0, "{name}: usage after clear: {usage:?}");
    Ok(())
}

async fn residents_are_what_is_stored(role: Role) -> Result<(), Failure> {
    let Role::Cache(cache) = role else { return Ok(()) };
    let name = cache.name();
    ensure!(cache.residents().is_empty(), "{name}: nothing resident yet");
    for key in ["a", "b", "c"] {
        cache.put(object(key, b"value", 1_000)).await.map_err(failed(name, "put"))?;
    }
    let mut residents: Vec<String> = cache.residents().into_iter().map(|r| r.key).collect();
    residents.sort();
    ensure!(residents == ["a", "b", "c"], "{name}: residents {residents:?}");
    ensure!(cache.residents().iter().all(|r| r.footprint >= 5), "{name}: a footprint counts the bytes");
    cache.delete("b").await.map_err(failed(name, "delete"))?;
    ensure!(cache.residents().iter().all(|r| r.key != "b"), "{name}: a deleted object is resident");
    Ok(())
}

async fn a_conditional_read_answers_by_etag(role: Role) -> Result<(), Failure> {
    let Role::Source(source) = role else { return Ok(()) };
    let name = source.name();
    let stored = source.put(object("docs/a", b"first", 1_000)).await.map_err(failed(name, "put"))?;
    let etag = stored.etag.clone().ok_or_else(|| format!("{name}: the source of truth gives a version an ETag"))?;
    let answer = source.get_if_changed("docs/a", &etag, 1 << 20).await.map_err(failed(name, "get_if_changed"))?;
    ensure!(matches!(answer, Conditional::NotModified), "{name}: an unchanged ETag is not modified: {answer:?}");
    source.put(object("docs/a", b"second", 2_000)).await.map_err(failed(name, "put"))?;
    match source.get_if_changed("docs/a", &etag, 1 << 20).await.map_err(failed(name, "get_if_changed"))? {
        Conditional::Changed(Some(Fetched::Whole(o))) => ensure!(&o.data[..] == b"second", "{name}: the new version"),
        other => return Err(format!("{name}: a changed object returns it whole, not {other:?}")),
    }
    // Above the caller's buffer, a tier that streams sends the new version
    // as a verified stream (one that holds objects in memory, whole).
    let bytes = match source.get_if_changed("docs/a", &etag, 3).await.map_err(failed(name, "get_if_changed"))? {
        Conditional::Changed(Some(Fetched::Whole(o))) => o.data.to_vec(),
        Conditional::Changed(Some(Fetched::Stream(stream))) => {
            let chunks: Vec<_> = stream.chunks.try_collect().await.map_err(failed(name, "stream"))?;
            chunks.concat()
        }
        other => return Err(format!("{name}: a changed object above the buffer is returned, not {other:?}")),
    };
    ensure!(bytes == b"second", "{name}: the new version above the buffer: {bytes:?}");
    let absent = source.get_if_changed("absent", &etag, 1 << 20).await.map_err(failed(name, "get_if_changed"))?;
    ensure!(matches!(absent, Conditional::Changed(None)), "{name}: an absent object is a change to nothing");
    Ok(())
}

async fn what_the_source_says_it_holds_is_true(role: Role) -> Result<(), Failure> {
    let Role::Source(source) = role else { return Ok(()) };
    let name = source.name();
    source.put(object("docs/a", b"first version", 1_000)).await.map_err(failed(name, "put"))?;
    source.put(object("docs/a", b"second", 2_000)).await.map_err(failed(name, "put"))?;
    if let Some(stored) = source.stored() {
        ensure!(stored.objects == 1 && stored.bytes >= 6, "{name}: stored after a replace: {stored:?}");
    }
    source.clear().await.map_err(failed(name, "clear"))?;
    if let Some(stored) = source.stored() {
        ensure!(stored.objects == 0 && stored.bytes == 0, "{name}: stored after clear: {stored:?}");
    }
    Ok(())
}

async fn a_page_lists_in_order_from_its_position(role: Role) -> Result<(), Failure> {
    let Role::Source(source) = role else { return Ok(()) };
    let name = source.name();
    for key in ["ls/d", "ls/a/2", "ls/c/x/1", "ls/b", "ls/a/1", "ls/c/y", "other"] {
        source.put(object(key, key.as_bytes(), 1_000)).await.map_err(failed(name, "put"))?;
    }
    let (key, prefix) = (|k: &str| Entry::Key(k.into()), |p: &str| Entry::Prefix(p.into()));
    // Pages of two, each after the last entry of the one before: a common
    // prefix is one entry and is not listed again.
    let mut pages = Vec::new();
    let mut after = None;
    loop {
        let request = PageRequest { prefix: "ls/".into(), delimiter: Some("/".into()), after, max: 2 };
        let page = source.list_page(&request).await.map_err(failed(name, "list_page"))?;
        after = page.next().map(str::to_string);
        pages.push(page.entries);
        if after.is_none() || pages.len() > 4 {
            break;
        }
    }
    let expected = vec![vec![prefix("ls/a/"), key("ls/b")], vec![prefix("ls/c/"), key("ls/d")]];
    ensure!(pages == expected, "{name}: pages of two with a delimiter: {pages:?}");
    let request = PageRequest { prefix: "ls/".into(), delimiter: None, after: Some("ls/a/2".into()), max: 10 };
    let page = source.list_page(&request).await.map_err(failed(name, "list_page"))?;
    let expected = ["ls/b", "ls/c/x/1", "ls/c/y", "ls/d"].map(key);
    ensure!(page.entries == expected && !page.truncated, "{name}: keys after ls/a/2: {page:?}");
    Ok(())
}

/// A value unlikely to repeat within a process.
fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}
