//! Listing and bulk deletion: ListObjectsV2 pages fetched lazily as the
//! stream is consumed; one page of the store's listing read from the
//! bucket's own ordered listing, starting at the position; DeleteObjects in
//! batches of at most 1000 keys.

use futures::StreamExt;

use crate::backoff::backoff;
use crate::client::ListRequest;
use crate::{S3Tier, errors};
use tiered::error::{TierError, TierErrorKind};
use tiered::store::KeyStream;
use tiered::store::listing::{Page, PageBuilder, PageRequest};

/// Where a listing stands between pages.
enum Cursor {
    First,
    Next(String),
    Done,
}

/// Keys under `prefix` (store keys: the tier's own prefix removed), page by
/// page: a page is requested only when the previous one is consumed, and a
/// failed page ends the stream with its error.
pub fn keys(tier: S3Tier, prefix: String) -> KeyStream {
    let full = tier.object_key(&prefix);
    let strip = tier.config.prefix.len();
    let pages = futures::stream::unfold(Cursor::First, move |cursor| {
        let (tier, full, prefix) = (tier.clone(), full.clone(), prefix.clone());
        async move {
            let token = match cursor {
                Cursor::First => None,
                Cursor::Next(token) => Some(token),
                Cursor::Done => return None,
            };
            match tier.client.list_page(ListRequest { prefix: &full, token, ..Default::default() }).await {
                Ok(page) => {
                    let next = page.next_token.map_or(Cursor::Done, Cursor::Next);
                    let keys = page.keys.into_iter().map(move |k| Ok(k[strip.min(k.len())..].to_string()));
                    Some((futures::stream::iter(keys.collect::<Vec<_>>()), next))
                }
                Err(err) => Some((
                    futures::stream::iter(vec![Err(errors::convert("ListObjectsV2", &prefix, err))]),
                    Cursor::Done,
                )),
            }
        }
    });
    Box::pin(pages.flatten())
}

/// One page of the store's listing: ListObjectsV2 from the position, with
/// the delimiter, for the page and one entry more (S3 may list the
/// position's own common prefix again after `start-after`; the page leaves
/// it out). One request, usually, whatever the bucket holds: a second only
/// when S3 answers with less than a page and says more follow.
pub async fn page(tier: &S3Tier, request: &PageRequest) -> Result<Page, TierError> {
    let mut builder = PageBuilder::new(request);
    if request.max == 0 {
        return Ok(builder.finish());
    }
    let strip = tier.config.prefix.len();
    let full = tier.object_key(&request.prefix);
    // A position before the prefix starts at the prefix: S3 would too.
    let start_after =
        request.after.as_deref().filter(|after| *after > request.prefix.as_str()).map(|a| tier.object_key(a));
    let max_keys = (request.max + 1).min(1000) as i32;
    let mut token = None;
    loop {
        let list = ListRequest {
            prefix: &full,
            delimiter: request.delimiter.as_deref(),
            start_after: start_after.as_deref(),
            token,
            max_keys: Some(max_keys),
        };
        let listed =
            tier.client.list_page(list).await.map_err(|e| errors::convert("ListObjectsV2", &request.prefix, e))?;
        for key in &listed.keys {
            builder.offer_key(&key[strip.min(key.len())..]);
        }
        for prefix in &listed.prefixes {
            builder.offer_prefix(&prefix[strip.min(prefix.len())..]);
        }
        match listed.next_token {
            None => return Ok(builder.finish()),
            // S3 continues after its last entry, itself after the position.
            Some(_) if builder.len() >= request.max => {
                builder.more_follow();
                return Ok(builder.finish());
            }
            Some(next) => token = Some(next),
        }
    }
}

/// Delete every object under `prefix`; the count S3 confirmed.
pub async fn delete_prefix(tier: &S3Tier, prefix: &str) -> Result<u64, TierError> {
    let mut stream = keys(tier.clone(), prefix.to_string());
    let mut batch = Vec::with_capacity(1000);
    let mut deleted = 0;
    while let Some(key) = stream.next().await {
        batch.push(key?);
        if batch.len() == 1000 {
            deleted += delete_batch(tier, &std::mem::take(&mut batch)).await?;
        }
    }
    if !batch.is_empty() {
        deleted += delete_batch(tier, &batch).await?;
    }
    Ok(deleted)
}

/// One DeleteObjects of at most 1000 keys; the keys S3 answers with a
/// transient error (a busy or briefly failing server) are asked again, with
/// backoff, up to [`S3Config::max_attempts`](crate::S3Config::max_attempts)
/// requests in all. A key refused for good (`AccessDenied`: `Rejected`), or
/// still failing after the last attempt (`Unavailable`), fails the batch,
/// naming it; the keys deleted before stay deleted, and the error says how
/// many of the batch failed.
async fn delete_batch(tier: &S3Tier, keys: &[String]) -> Result<u64, TierError> {
    let attempts = tier.config.max_attempts.max(1);
    let store_key = |bucket_key: &str| bucket_key[tier.config.prefix.len().min(bucket_key.len())..].to_string();
    let mut pending: Vec<String> = keys.iter().map(|k| tier.object_key(k)).collect();
    let mut deleted = 0;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let reply = tier
            .client
            .delete_objects(&pending)
            .await
            .map_err(|e| errors::convert("DeleteObjects", &store_key(&pending[0]), e))?;
        deleted += reply.deleted;
        let Some(first) = reply.failed.first() else {
            return Ok(deleted);
        };
        let refused = reply.failed.iter().find(|f| !f.is_transient());
        if let Some(first) = refused.or((attempt == attempts).then_some(first)) {
            let kind = if first.is_transient() { TierErrorKind::Unavailable } else { TierErrorKind::Rejected };
            return Err(TierError::new(
                kind,
                "s3",
                format!(
                    "DeleteObjects: {} of {} keys failed after {attempt} attempt{}, first {:?}: {}: {}",
                    reply.failed.len(),
                    keys.len(),
                    if attempt == 1 { "" } else { "s" },
                    store_key(&first.key),
                    first.code,
                    first.message
                ),
            ));
        }
        tracing::debug!(
            failed = reply.failed.len(),
            keys = keys.len(),
            attempt,
            code = %first.code,
            "DeleteObjects: keys failed with a transient error, asking again"
        );
        pending = reply.failed.into_iter().map(|f| f.key).collect();
        tokio::time::sleep(backoff(attempt)).await;
    }
}
